/* One machine plan: a machine's settings resolved once, before anything is
 * opened or built, into the typed topology the engine builds from. Every
 * settings string (disks, --cdrom, display, network, boot order) is parsed
 * here and nowhere later; every drive has its controller, its place on it,
 * its PCI slot, its number as --boot-order and the control interface count
 * drives (diskN, cdromN) and its OpenFirmware path. A setting that cannot
 * be built (an IDE drive without firmware, a fifth IDE drive, a seventh
 * SATA drive, a boot order naming a drive the machine lacks) is refused
 * here, in one line. */
#ifndef VIREO_PLAN_H
#define VIREO_PLAN_H

#include <stdbool.h>

#include "machine.h"

/* The PCI slots of direct and firmware boot alike: the host bridge is
 * 00:00.0 (and under firmware the PIIX3 functions 00:01.x), the display
 * adapter 00:02.0 (where a PC's firmware and QEMU put the VGA), virtio
 * devices follow from slot 3 (disks in the order given, then the rng, then
 * the network card: at most 18), the AHCI controller is 00:1F.0 (the
 * ICH9's slot; function 0, as nothing else is in it). */
#define PLAN_DISPLAY_SLOT 2
#define PLAN_VIRTIO_FIRST_SLOT 3
#define PLAN_AHCI_SLOT 31
#define PLAN_IDE_CDROM_POSITION 2   /* --cdrom: the secondary master, as QEMU's -cdrom */
#define PLAN_NO_SLOT 0              /* a device the machine does not have */

/* Where the --cdrom drive comes among the machine's drives: after the
 * --disk ones, as boot orders count them. */
#define PLAN_CDROM_PLACE MACHINE_CDROM_SETTING_DRIVE
#define PLAN_MAX_DRIVES (MACHINE_MAX_DISKS + 1)

enum plan_gpu { PLAN_GPU_NONE, PLAN_GPU_STD, PLAN_GPU_VIRTIO };

struct plan_drive {
	struct machine_disk spec;   /* --cdrom's as a disk spec: bus ide, media cdrom */
	unsigned place;             /* its index in def->disks, or PLAN_CDROM_PLACE */
	unsigned at;                /* virtio: its PCI slot; IDE: its position (0-3); SATA: its port */
	unsigned number;            /* N of diskN or cdromN: counted among drives of its media, from 1 */
	char *firmware_path;        /* its OpenFirmware path, for the bootorder file */
};

struct machine_plan {
	const struct vireo_machine *def;
	bool firmware;              /* SeaBIOS boots it (no kernel given) */
	enum plan_gpu gpu;
	struct machine_display display;
	struct machine_net net;
	struct plan_drive drives[PLAN_MAX_DRIVES];  /* the --disk ones in the order given, then --cdrom's */
	unsigned drive_count;
	unsigned drives_of[2];      /* how many drives of each enum machine_disk_media */
	unsigned rng_slot;          /* PLAN_NO_SLOT: no virtio-rng */
	unsigned net_slot;          /* PLAN_NO_SLOT: no network card */
	bool ahci;                  /* some drive is on SATA */
	struct machine_boot_item boot_order[MACHINE_MAX_BOOT_ITEMS];
	unsigned boot_order_count;  /* 0: the firmware's own order */
};

/* Resolves def (which must outlive the plan) into plan. false with *error
 * set to one line; the plan then holds nothing. */
bool machine_plan_build(const struct vireo_machine *def, struct machine_plan *plan, char **error);
void machine_plan_clear(struct machine_plan *plan);

/* The drive cdromN names (N from 1), or NULL when the machine has fewer. */
const struct plan_drive *machine_plan_cdrom(const struct machine_plan *plan, unsigned number);

#endif
