#!/usr/bin/env python3
"""Counts results from meson's testlog.json files (one JSON object per line)
and prints the suite's last line: "N passed, N failed, N skipped", after a
line for each reason tests were skipped for, with how many. Exits 1 when
anything failed or a log is missing (a run that did not happen)."""
import collections
import json
import sys

FAILED = {"FAIL", "ERROR", "TIMEOUT", "UNEXPECTEDPASS"}


def skip_reason(test):
    """The test's "SKIP: reason" line (the unit tests' is in their TAP output)."""
    for line in test.get("stdout", "").splitlines():
        for mark in ("SKIP: ", "# SKIP "):
            if mark in line:
                return line.split(mark, 1)[1].strip()
    return "no reason given"


def main(paths):
    passed = failed = 0
    skips = collections.Counter()
    for path in paths:
        try:
            with open(path) as f:
                tests = [json.loads(line) for line in f if line.strip()]
        except OSError:
            print("summary: no test log at %s" % path)
            failed += 1
            continue
        passed += sum(t["result"] in ("OK", "EXPECTEDFAIL") for t in tests)
        failed += sum(t["result"] in FAILED for t in tests)
        skips.update(skip_reason(t) for t in tests if t["result"] == "SKIP")
    for reason, count in skips.most_common():
        print("skipped %d: %s" % (count, reason))
    print("%d passed, %d failed, %d skipped" % (passed, failed, sum(skips.values())))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
