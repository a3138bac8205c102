/* The engine's control interface: io.github.vireo.Engine1
 * (data/io.github.vireo.Engine1.xml) served over D-Bus peer-to-peer on a
 * private UNIX socket (`--control PATH`), for the app, scripts and tests:
 * state, pause and resume, power button, force off, reset, screenshots,
 * changing the CD, key combinations, where the screen is and raising its
 * window.
 *
 * It outlives runs (a guest reboot keeps its connections): each run attaches
 * the operations that act on it while it runs. Everything happens on the
 * engine's main context, the one engine_run iterates, so a method never
 * races a run's teardown. Only the user running the engine may connect
 * (credentials checked, socket mode 0600). */
#ifndef VIREO_ENGINE_CONTROL_H
#define VIREO_ENGINE_CONTROL_H

#include <glib.h>

#include "console.h"
#include "sdl.h"
#include "kvm/vm.h"

struct engine_control;

/* What the running machine does for the control interface. */
struct engine_control_ops {
	void (*pause)(void *opaque);
	void (*resume)(void *opaque);
	void (*stop)(void *opaque, enum vm_stop_reason reason);
	/* False when the guest does not listen (no ACPI): the caller stops it. */
	bool (*power_button)(void *opaque);
	/* Changes the disc in the CD-ROM drive `drive` names ("" or "cdromN",
	 * as the ChangeMedia method takes it; path NULL: ejects it). False with
	 * *error set to one line for a bad name, no such drive or a bad image. */
	bool (*change_media)(void *opaque, const char *drive, const char *path, char **error);
};

/* Listens on `path` (a stale socket left by a dead engine is replaced; a
 * live one is an error). `display` is what the Display property says.
 * NULL with *error set to one line on failure. */
struct engine_control *engine_control_start(const char *path, const char *name, const char *display,
					    struct console *console, struct sdl_window *window, char **error);
/* A run starts (ops set: state "running") or ends (ops NULL). */
void engine_control_attach(struct engine_control *ctl, const struct engine_control_ops *ops, void *opaque);
void engine_control_stop(struct engine_control *ctl);

#endif
