#!/usr/bin/env python3
"""Checks a translation catalog is complete: `msgfmt --check` passes, and
msgfmt --statistics reports no fuzzy and no untranslated messages, against a
template freshly extracted from the sources (so a new string in the code
that the catalog lacks fails too).

    check-po.py PO_FILE POT_FILE"""
import subprocess
import sys


def main(po, pot):
    merged = subprocess.run(["msgmerge", "--quiet", "--no-fuzzy-matching", "--output-file=-", po, pot],
                            capture_output=True, text=True)
    if merged.returncode:
        print("msgmerge failed: " + merged.stderr.strip())
        return 1
    check = subprocess.run(["msgfmt", "--check", "--statistics", "--output-file=/dev/null", "-"],
                           input=merged.stdout, capture_output=True, text=True)
    stats = check.stderr.strip()
    print(po + ": " + stats)
    if check.returncode:
        print("msgfmt --check found errors")
        return 1
    if "fuzzy" in stats or "untranslated" in stats:
        missing = [block for block in merged.stdout.split("\n\n")
                   if "#, fuzzy" in block or block.rstrip().endswith('msgstr ""')]
        for block in missing[1:] if missing and 'msgid ""' in missing[0] else missing:
            print("--\n" + block.strip())
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
