#!/usr/bin/python3
"""Cold start of the vireo app with a large library. First the issue's
measure: the time from launching it to its main window's first painted
frame (the window lists every machine from its first frame; the app says
when with VIREO_TRACE_STARTUP, and runs without the accessibility bridge,
as on a desktop with no screen reader), with the processor time the app
used until then (from /proc/PID/schedstat: on a busy host far steadier
than the wall clock). Then the time until a client sees every machine over
AT-SPI, an upper bound: each poll of the accessibility tree is served by
the app's main loop while it starts.

    /usr/bin/python3 tests/bench/app-startup.py [--machines 50] [--runs 5] [--filter]

With --filter, each run then types a search that leaves one machine and
clears it again, and selects the last machine (scrolling the list to it),
timing each until the list shows the result.

Each run gets a fresh X server, session bus and XDG folders (see
tests/integration/test_app.py, whose fixture it borrows)."""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "integration"))
import test_app  # noqa: E402  (the fixture: App, find, row, write_machine)


def timed(what, action, check):
    start = time.monotonic()
    action()
    test_app.wait_for(what, check, timeout=30)
    return time.monotonic() - start


def filter_and_scroll(app, count):
    """(filter, unfilter, scroll) times on a long list. Only the first and
    last rows are asked about: walking every row over AT-SPI would cost
    more than what is measured."""
    machines = test_app.find(app.window, "list box")
    first, last = machines.get_child_at_index(0), machines.get_child_at_index(count - 1)
    test_app.press("ctrl+f")
    search = test_app.wait_for("the search entry", lambda: test_app.find(app.window, "text", "Search machines"))
    narrow = timed("only the last machine", lambda: test_app.set_text(search, "%03d" % (count - 1)),
                   lambda: test_app.showing(last) and not test_app.showing(first))
    widen = timed("every machine back", lambda: test_app.set_text(search, ""),
                  lambda: test_app.showing(first) and not test_app.showing(last))  # out of view again
    scroll = timed("the last machine scrolled into view", lambda: select_last(machines, last, count),
                   lambda: test_app.showing(last))   # rows out of view are not "showing"
    return narrow, widen, scroll


def select_last(machines, last, count):
    test_app.Atspi.Selection.select_child(machines, count - 1)
    test_app.Atspi.Component.grab_focus(last)


def write_library(app, count):
    for i in range(count):
        test_app.write_machine(app, "m%03d" % i, "[machine]\nname=Machine %03d\nmemory=1G\ncpus=2\n"
                               "[boot]\nkernel=/boot/vmlinuz\n" % i)


def app_cpu_seconds(pid):
    with open("/proc/%d/schedstat" % pid) as f:
        return int(f.read().split()[0]) / 1e9


def first_frame_run(count):
    """(wall, processor) seconds from launch to the first painted frame."""
    tmp = tempfile.mkdtemp(prefix="vireo-bench-")
    app = test_app.App(tmp)
    try:
        write_library(app, count)
        app.start_x()
        env = dict(app.env, VIREO_TRACE_STARTUP="1", NO_AT_BRIDGE="1")
        start = time.monotonic()
        process = subprocess.Popen([test_app.APP], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            for line in process.stderr:
                if line.startswith(b"vireo: first frame painted"):
                    return time.monotonic() - start, app_cpu_seconds(process.pid)
            raise RuntimeError("the app ended before its first frame")
        finally:
            process.kill()
            process.wait()
    finally:
        app.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def one_run(count, measure_filter):
    tmp = tempfile.mkdtemp(prefix="vireo-bench-")
    app = test_app.App(tmp)
    try:
        write_library(app, count)
        app.start_x()
        last = "Machine %03d" % (count - 1)
        start = time.monotonic()
        app.start()
        # The list is sorted by name: the last machine's row is the last one made.
        test_app.wait_for("the last machine", lambda: test_app.find(app.window, "list item", last, visible=False),
                          timeout=30)
        elapsed = time.monotonic() - start
        on_cpu = app_cpu_seconds(app.process.pid)
        return (elapsed, on_cpu) + (filter_and_scroll(app, count) if measure_filter else ())
    finally:
        app.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--machines", type=int, default=50)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--filter", action="store_true", help="also time a search and scrolling to the end")
    args = parser.parse_args()
    if not os.environ.get("VIREO_APP_TEST_BUS"):
        env = dict(os.environ, VIREO_APP_TEST_BUS="1")
        return subprocess.call(["dbus-run-session", "--", sys.executable] + sys.argv, env=env)
    import gi
    gi.require_version("Atspi", "2.0")
    from gi.repository import Atspi, GLib
    test_app.Atspi, test_app.GLib = Atspi, GLib
    test_app.POLL_SECONDS = 0.005
    runs = [first_frame_run(args.machines) + one_run(args.machines, args.filter) for _ in range(args.runs)]
    names = ["app start to its first frame, %d machines" % args.machines, "processor time the app used until then",
             "app start to %d machines listed over AT-SPI" % args.machines, "processor time the app used until then"]
    if args.filter:
        names += ["a search leaving one machine", "the search cleared", "selecting the last machine"]
    for i, what in enumerate(names):
        times = [r[i] for r in runs]
        print("%s: median %.0f ms, min %.0f, max %.0f (runs: %s)" % (
            what, statistics.median(times) * 1000, min(times) * 1000, max(times) * 1000,
            ", ".join("%.0f" % (t * 1000) for t in times)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
