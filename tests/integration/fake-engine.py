#!/usr/bin/python3
"""A stand-in for vireo-engine that serves only the control interface
(data/io.github.vireo.Engine1.xml) on its --control socket, so the app's
client side is tested against the interface's contract before and apart
from the real engine. It runs until asked to stop:

- State is "running"; SIGUSR1 makes it "paused" (PropertiesChanged);
- PowerButton writes "PowerButton" to fake-engine.log beside machine.ini,
  sets State "stopping" and exits 0 shortly after; SIGTERM exits 0."""
import os
import signal
import sys

from gi.repository import Gio, GLib

PATH = "/io/github/vireo/Engine1"
IFACE = "io.github.vireo.Engine1"

if "--help" in sys.argv:
    print("  --control PATH    serve the control interface on a UNIX socket")
    sys.exit(0)
ini = sys.argv[1]
socket_path = sys.argv[sys.argv.index("--control") + 1]
xml_path = os.path.join(os.environ["VIREO_SOURCE_DIR"], "data", "io.github.vireo.Engine1.xml")
with open(xml_path) as f:
    interface = Gio.DBusNodeInfo.new_for_xml(f.read()).lookup_interface(IFACE)
log = os.path.join(os.path.dirname(os.path.abspath(ini)), "fake-engine.log")
loop = GLib.MainLoop()
state = {"State": "running"}
connections = []


def record(what):
    with open(log, "a") as f:
        f.write(what + "\n")


def set_state(value):
    state["State"] = value
    changed = GLib.Variant("(sa{sv}as)", (IFACE, {"State": GLib.Variant("s", value)}, []))
    for connection in connections:
        connection.emit_signal(None, PATH, "org.freedesktop.DBus.Properties", "PropertiesChanged", changed)


def method_call(connection, sender, path, iface, method, params, invocation):
    record(method)
    invocation.return_value(None)
    if method == "PowerButton":
        set_state("stopping")
        GLib.timeout_add(300, loop.quit)


def get_property(connection, sender, path, iface, name):
    values = {"Name": os.path.basename(os.path.dirname(os.path.abspath(ini))), "Display": "none"}
    return GLib.Variant("s", state.get(name, values.get(name, "")))


def on_connection(server, connection):
    connections.append(connection)
    connection.register_object(PATH, interface, method_call, get_property, None)
    return True


server = Gio.DBusServer.new_sync("unix:path=" + socket_path, Gio.DBusServerFlags.NONE,
                                 Gio.dbus_generate_guid(), None, None)
server.connect("new-connection", on_connection)
server.start()
GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGUSR1, lambda: set_state("paused") or True)
GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGTERM, lambda: loop.quit() or False)
loop.run()
server.stop()  # removes the socket too
