/* One machine's engine process, as the app sees it: spawned, watched, and
 * (when the engine serves it) controlled over its peer-to-peer D-Bus
 * socket. Freeing a run forgets the process but never stops it. */
#ifndef VIREO_ENGINE_RUN_H
#define VIREO_ENGINE_RUN_H

#include <glib.h>
#include <stdbool.h>

enum engine_state {
	ENGINE_STARTING,  /* spawned, control socket not answering yet */
	ENGINE_RUNNING,
	ENGINE_PAUSED,
	ENGINE_STOPPING,
	ENGINE_STOPPED,   /* exited with status 0, or on our stop request */
	ENGINE_FAILED,    /* exited otherwise: engine_run_error says why */
};

struct engine_run;

/* Called on every state change; after ENGINE_STOPPED or ENGINE_FAILED the
 * run does nothing more, and the callback may free it. */
typedef void (*engine_run_notify)(struct engine_run *run, void *data);

/* Starts `engine` on machine.ini, with its control socket at socket_path
 * when the engine has --control; its stderr goes to engine.log in the
 * machine's folder. With screen_path (and control), the engine's screen is
 * served there instead of as machine.ini says: --display vnc=unix:PATH. */
struct engine_run *engine_run_start(const char *engine, const char *ini_path, const char *socket_path,
				    const char *screen_path, engine_run_notify notify, void *data, GError **error);
/* Attaches to an engine already running with its control socket at
 * socket_path (started before the app last closed). When nothing answers
 * there, the run ends as ENGINE_STOPPED and the stale socket is removed. */
struct engine_run *engine_run_attach(const char *socket_path, engine_run_notify notify, void *data);
void engine_run_free(struct engine_run *run);

enum engine_state engine_run_state(const struct engine_run *run);
/* Whether the file at `path` was written after this engine started (made
 * its control socket): settings saved while it runs, for its next start. */
bool engine_run_predates(const struct engine_run *run, const char *path);
/* The running engine matches machine.ini as of now (a change it already
 * made, such as a disc change, was just saved there): engine_run_predates
 * is false for files written until now. Kept in the control socket's
 * mtime, so it holds for an app that attaches later. */
void engine_run_matches_settings(struct engine_run *run);
/* After the engine ended: its last line on stderr (its error), or NULL. */
const char *engine_run_error(const struct engine_run *run);
/* -1 when not known (ended by a signal, or an engine we only attached to). */
int engine_run_exit_status(const struct engine_run *run);

/* Asks the machine to shut down: the power button over D-Bus, else SIGTERM. */
void engine_run_stop(struct engine_run *run);
/* Ends the machine at once: ForceOff over D-Bus, else SIGKILL. */
void engine_run_force_off(struct engine_run *run);

/* Pause, resume, reset, show and screenshots need the control socket. */
bool engine_run_has_control(const struct engine_run *run);
void engine_run_pause(struct engine_run *run, bool pause);
/* A hardware reset: the guest reboots. */
void engine_run_reset(struct engine_run *run);
/* Raises the machine's window (display sdl). */
void engine_run_show(struct engine_run *run);
/* Where the screen is: "vnc:ADDR:PORT", "vnc:unix:PATH", "sdl", "none";
 * NULL without control. */
const char *engine_run_display(const struct engine_run *run);

/* Called on the main loop when a screenshot is written (ok) or failed; run
 * is NULL when it was freed meanwhile. Always called, once. */
typedef void (*engine_run_screenshot_done)(struct engine_run *run, bool ok, void *data);
/* Asks the engine for its screen as a PNG at `path`, asynchronously. */
void engine_run_screenshot(struct engine_run *run, const char *path, engine_run_screenshot_done done, void *data);

/* Called on the main loop when the engine has answered a disc change:
 * error is NULL when it took it, else its one-line message; run is NULL
 * when it was freed meanwhile. Always called, once. */
typedef void (*engine_run_media_done)(struct engine_run *run, const char *error, void *data);
/* Puts the ISO image at `path` in the CD-ROM drive `drive` ("cdromN", as
 * machine_cdrom_drives numbers them), or with path NULL takes its disc
 * out, asynchronously. */
void engine_run_change_media(struct engine_run *run, const char *drive, const char *path,
			     engine_run_media_done done, void *data);

/* Does this engine serve the control interface (--control)? Asked once. */
bool engine_has_control(const char *engine);

#endif
