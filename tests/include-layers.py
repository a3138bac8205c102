#!/usr/bin/env python3
"""Checks the direction of includes between the engine's layers (DESIGN.md,
"The shape to grow into"): core/ depends on nothing of ours, kvm/ only on
core/, devices (hw/) on core/, the backends' interfaces and the console,
never on KVM, the boot loaders or the board wiring. Prints each include that
goes the wrong way, file:line, and fails if there is one."""
import os
import re
import sys

# layer -> the layers (folders under engine/, or "display") it may include
ALLOWED = {
    "core": {"core"},
    "kvm": {"core", "kvm"},
    "hw": {"core", "hw", "backend", "display"},
}

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def layer_of(engine, folder, name):
    """The layer an include names: its first path component, or for a bare
    name the folder that holds it (the includer's own first)."""
    if "/" in name:
        return name.split("/", 1)[0]
    if os.path.exists(os.path.join(engine, folder, name)):
        return folder
    for other in sorted(os.listdir(engine)):
        if os.path.exists(os.path.join(engine, other, name)):
            return other
    if os.path.exists(os.path.join(engine, "..", "display", name)):
        return "display"
    return None


def main():
    top = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..")
    engine = os.path.join(top, "engine")
    wrong = 0
    checked = 0
    for folder, allowed in ALLOWED.items():
        if not os.path.isdir(os.path.join(engine, folder)):
            print(f"engine/{folder}/ is missing: the layers are not in place")
            wrong += 1
            continue
        for entry in sorted(os.listdir(os.path.join(engine, folder))):
            if not entry.endswith((".c", ".h")):
                continue
            path = os.path.join(engine, folder, entry)
            with open(path, encoding="utf-8") as f:
                for number, line in enumerate(f, 1):
                    m = INCLUDE.match(line)
                    if not m:
                        continue
                    checked += 1
                    layer = layer_of(engine, folder, m.group(1))
                    if layer not in allowed:
                        print(f"engine/{folder}/{entry}:{number}: includes {m.group(1)} "
                              f"({layer or 'unknown'}), but {folder}/ may include only "
                              f"{', '.join(sorted(allowed))}")
                        wrong += 1
    if not checked:
        print("no includes found: wrong source folder " + engine)
        return 1
    print(f"{checked} includes checked, {wrong} against the layering")
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
