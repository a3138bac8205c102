#!/usr/bin/env python3
"""Checks the Flatpak manifest against the project, since a real build needs
the GNOME runtime download (and is not done by the tests):

- its app id is the id of the desktop file and of the AppStream metainfo;
- its command is `vireo`, the program the desktop file runs;
- every module's sources are pinned: an archive or file with an https URL
  and a sha256, or (only for Vireo itself) this source tree;
- the sandbox gets /dev/kvm (--device=kvm), and not all of /dev;
- every dependency() of the project's meson files is either provided by the
  runtime (the manifest's x-runtime-provides list) or built by a module (its
  x-provides list);
- each module's buildsystem is one flatpak-builder knows (it does not
  check that itself when parsing), and the -D options given to the Vireo
  module exist in meson_options.txt.

usage: check-manifest.py MANIFEST.json SOURCE_ROOT
Prints each problem and exits 1 if there is any.
"""
import json
import os
import re
import sys
import xml.etree.ElementTree as ET

SHA256 = re.compile(r'^[0-9a-f]{64}$')
# The first argument of dependency('name', ...); declare_dependency() does not match.
DEPENDENCY = re.compile(r"(?<![\w.])dependency\(\s*'([^']+)'")
MESON_OPTION = re.compile(r"option\(\s*'([^']+)'")
BUILDSYSTEMS = {'autotools', 'cmake', 'cmake-ninja', 'meson', 'simple', 'qmake'}


def desktop_exec(path):
    with open(path, encoding='utf-8') as f:
        for line in f:
            if line.startswith('Exec='):
                return line[len('Exec='):].split()[0]
    return None


def meson_dependencies(root):
    deps = {}
    for dirpath, dirnames, filenames in os.walk(root):
        # Build folders and VCS data are not the project's sources.
        dirnames[:] = [d for d in dirnames if not d.startswith(('.', 'build'))]
        if 'meson.build' in filenames:
            path = os.path.join(dirpath, 'meson.build')
            with open(path, encoding='utf-8') as f:
                for name in DEPENDENCY.findall(f.read()):
                    deps.setdefault(name, os.path.relpath(path, root))
    return deps


def check_source(module, source, manifest_dir, root, problems):
    kind = source.get('type')
    where = f"module {module['name']}"
    if kind in ('archive', 'file'):
        url = source.get('url', '')
        if not url.startswith('https://'):
            problems.append(f'{where}: {kind} source without an https url: {url!r}')
        if not SHA256.match(source.get('sha256', '')):
            problems.append(f'{where}: {kind} source {url} is not pinned by a sha256')
    elif kind == 'dir':
        path = os.path.realpath(os.path.join(manifest_dir, source.get('path', '')))
        if path != os.path.realpath(root):
            problems.append(f"{where}: dir source {source.get('path')!r} is not this source tree")
        elif module['name'] != 'vireo':
            problems.append(f'{where}: only the vireo module may build from this source tree')
    else:
        # git (a branch moves), patch files of our own and the like: not pinned archives.
        problems.append(f'{where}: source type {kind!r} is not a pinned archive or this tree')


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    manifest_path, root = sys.argv[1], sys.argv[2]
    with open(manifest_path, encoding='utf-8') as f:
        manifest = json.load(f)
    label = os.path.basename(manifest_path)
    # The shapes the checks below rely on; flatpak-builder's own parse
    # (the flatpak-show-manifest test) checks the rest of the format.
    shapes = [('finish-args', str), ('modules', dict), ('x-runtime-provides', str)]
    for key, item in shapes:
        value = manifest.get(key)
        if not isinstance(value, list) or not all(isinstance(v, item) for v in value):
            print(f'{label}: {key} is not a list of {item.__name__}')
            return 1
    problems = []

    app_id = manifest.get('app-id') or manifest.get('id')
    desktop_in = os.path.join(root, 'data', f'{app_id}.desktop.in')
    metainfo_in = os.path.join(root, 'data', f'{app_id}.metainfo.xml.in')
    if not os.path.isfile(desktop_in):
        problems.append(f'app id {app_id!r}: no desktop file data/{app_id}.desktop.in')
    if not os.path.isfile(metainfo_in):
        problems.append(f'app id {app_id!r}: no metainfo data/{app_id}.metainfo.xml.in')
    else:
        component = ET.parse(metainfo_in).getroot()
        if component.findtext('id') != app_id:
            problems.append(f"metainfo id {component.findtext('id')!r} is not the app id {app_id!r}")
        launchable = component.findtext("launchable[@type='desktop-id']")
        if launchable != f'{app_id}.desktop':
            problems.append(f'metainfo launchable {launchable!r} is not {app_id}.desktop')

    command = manifest.get('command')
    if command != 'vireo':
        problems.append(f"command is {command!r}, not 'vireo'")
    if os.path.isfile(desktop_in) and desktop_exec(desktop_in) != command:
        problems.append(f'desktop file runs {desktop_exec(desktop_in)!r}, the manifest {command!r}')

    finish_args = manifest.get('finish-args', [])
    if '--device=kvm' not in finish_args:
        problems.append('finish-args lack --device=kvm')
    if '--device=all' in finish_args:
        problems.append('finish-args give --device=all; --device=kvm is enough')

    modules = manifest.get('modules', [])
    provided = {name: 'the runtime' for name in manifest.get('x-runtime-provides', [])}
    manifest_dir = os.path.dirname(os.path.abspath(manifest_path))
    for module in modules:
        if module.get('buildsystem', 'autotools') not in BUILDSYSTEMS:
            problems.append(f"module {module['name']}: unknown buildsystem {module.get('buildsystem')!r}")
        if not module.get('sources'):
            problems.append(f"module {module['name']}: no sources")
        for source in module.get('sources', []):
            check_source(module, source, manifest_dir, root, problems)
        for name in module.get('x-provides', []):
            provided[name] = f"module {module['name']}"

    for name, where in sorted(meson_dependencies(root).items()):
        if name not in provided:
            problems.append(f"dependency('{name}') of {where} is neither in x-runtime-provides nor built by a module")

    vireo = [m for m in modules if m.get('name') == 'vireo']
    if len(vireo) != 1 or vireo[0] is not modules[-1]:
        problems.append('the vireo module must be the last module, built after its dependencies')
    else:
        with open(os.path.join(root, 'meson_options.txt'), encoding='utf-8') as f:
            options = set(MESON_OPTION.findall(f.read()))
        for opt in vireo[0].get('config-opts', []):
            name = opt[2:].split('=')[0] if opt.startswith('-D') else None
            # Meson's own options (werror, buildtype, ...) are not in meson_options.txt.
            if name and name not in options and name not in ('werror', 'buildtype', 'b_lto'):
                problems.append(f'vireo module: -D{name} is not an option of meson_options.txt')

    for problem in problems:
        print(f'{label}: {problem}')
    if problems:
        return 1
    print(f'{label}: app id, command, pinned sources, --device=kvm and dependencies all check out')
    return 0


if __name__ == '__main__':
    sys.exit(main())
