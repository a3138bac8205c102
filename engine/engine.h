/* One run of a machine: build the PC from its definition, boot it, run the
 * vCPUs until something stops it, tear it all down. */
#ifndef VIREO_ENGINE_H
#define VIREO_ENGINE_H

#include <glib.h>

#include "backend/block.h"
#include "backend/chardev.h"
#include "console.h"
#include "hw/piix_ide.h"
#include "control.h"
#include "sdl.h"
#include "vnc.h"
#include "kvm/vm.h"
#include "machine.h"
#include "plan.h"

struct engine;

/* Host resources that outlive a run (a guest reboot keeps its serial
 * connection and its disks, and their locks). */
struct engine_backends {
	GMainContext *context;      /* the engine's main loop, where the window's close is handled */
	struct engine *run;         /* the run going on (main loop only), or NULL between runs */
	struct chardev serial;
	struct console console;     /* the screen: frontends stay attached across reboots */
	struct vnc_server *vnc;     /* or NULL */
	struct sdl_window *sdl;     /* or NULL */
	struct block_backend disks[MACHINE_MAX_DISKS];  /* the plan's drive i, for each --disk */
	unsigned disk_count;
	/* What each --disk's drive holds: &disks[i], or in a CD-ROM drive the
	 * disc a change put there (or NULL: ejected), which it keeps across reboots. */
	struct block_backend *media[MACHINE_MAX_DISKS];
	struct block_backend *cdrom;  /* the disc in the --cdrom drive, or NULL (none, or ejected) */
	struct piix_ide_drive_config ide[PIIX_IDE_DRIVES];  /* bus=ide disks and --cdrom, by position */
	struct chardev firmware_log;  /* --firmware-log, when firmware_log_fd >= 0 */
	int firmware_log_fd;
	struct engine_control *control; /* or NULL: --control not given */
};

/* Opens the serial backend, every disk (checked and locked) and the
 * display frontend (the VNC server listening). Returns 0,
 * or -1 with *error set to one line; nothing stays open then. */
int engine_open_backends(const struct machine_plan *plan, struct engine_backends *b, GMainContext *context,
			 char **error);
void engine_close_backends(struct engine_backends *b);

/* Where the screen is, for the control interface: "vnc:ADDR:PORT" (the
 * port bound), "vnc:unix:PATH", "sdl" or "none". */
char *engine_display_description(const struct engine_backends *b);

/* Checks what can be checked before KVM is touched (files exist and are
 * readable and non-empty). Returns false with *error set. */
bool engine_check_inputs(const struct machine_plan *plan, char **error);

/* Runs the machine once. Returns why it stopped; on a setup failure returns
 * VM_STOP_ERROR with *error set (a vCPU failure is reported by the vCPU and
 * leaves *error NULL). */
enum vm_stop_reason engine_run(const struct machine_plan *plan, struct engine_backends *backends,
			       GMainContext *context, char **error);

#endif
