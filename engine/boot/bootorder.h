/* SeaBIOS's `bootorder` fw_cfg file from a machine's boot order: the
 * OpenFirmware path of each drive it names, one per line, first choice
 * first. SeaBIOS (src/boot.c) gives a drive the priority of the first line
 * its own path glob is a prefix of; drives on no line come after, in its
 * default order. */
#ifndef VIREO_BOOT_BOOTORDER_H
#define VIREO_BOOT_BOOTORDER_H

#include "machine.h"

/* A bootable drive, listed in the order the user gave the drives. */
struct boot_drive {
	enum machine_disk_media media;
	char *path;         /* e.g. /pci@i0cf8/scsi@3/disk@0,0 */
};

/* The file's text, lines separated by '\n' as QEMU writes it ("" for an
 * empty order). A drive named twice is written
 * once, where it is first named; numbers past the last drive name nothing. */
char *bootorder_build(const struct machine_boot_item *items, unsigned item_count,
		      const struct boot_drive *drives, unsigned drive_count);

#endif
