#!/usr/bin/env python3
"""Counts results from meson's testlog.json files (one JSON object per line)
and prints the suite's last line: "N passed, N failed, N skipped". Exits 1
when anything failed or a log is missing (a run that did not happen)."""
import json
import sys

FAILED = {"FAIL", "ERROR", "TIMEOUT", "UNEXPECTEDPASS"}


def main(paths):
    passed = failed = skipped = 0
    for path in paths:
        try:
            with open(path) as f:
                results = [json.loads(line)["result"] for line in f if line.strip()]
        except OSError:
            print("summary: no test log at %s" % path)
            failed += 1
            continue
        passed += sum(r in ("OK", "EXPECTEDFAIL") for r in results)
        failed += sum(r in FAILED for r in results)
        skipped += sum(r == "SKIP" for r in results)
    print("%d passed, %d failed, %d skipped" % (passed, failed, skipped))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
