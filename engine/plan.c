/* One machine plan: see plan.h. */
#include "plan.h"

#include <string.h>

#include "firmware_board.h"
#include "hw/ahci.h"
#include "hw/piix_ide.h"

static const char *const media_names[] = { "hard disk", "CD-ROM" };

static bool take_error(GError *bad, char **error)
{
	*error = g_strdup(bad->message);
	g_error_free(bad);
	return false;
}

static enum plan_gpu gpu_of(const char *gpu)
{
	if (!strcmp(gpu, "std"))
		return PLAN_GPU_STD;
	return strcmp(gpu, "virtio") ? PLAN_GPU_NONE : PLAN_GPU_VIRTIO;
}

static bool plan_net(const struct vireo_machine *def, struct machine_plan *plan, char **error)
{
	GError *bad = NULL;
	if (!machine_parse_net(def->net, &plan->net, &bad))
		return take_error(bad, error);
	if (plan->net.tftp && !g_file_test(plan->net.tftp, G_FILE_TEST_IS_DIR)) {
		*error = g_strdup_printf("net tftp=%s: not a folder", plan->net.tftp);
		return false;
	}
	return true;
}

/* Refuses what this machine cannot have: IDE without the firmware board. */
static bool check_disk_bus(const struct machine_plan *plan, const struct machine_disk *spec, char **error)
{
	if (spec->bus == MACHINE_BUS_IDE && !plan->firmware) {
		*error = g_strdup_printf("disk %s,bus=ide: IDE needs firmware boot (the PIIX3 IDE controller is "
					 "part of the firmware board); with --kernel use bus=virtio", spec->path);
		return false;
	}
	return true;
}

/* A bus=ide drive takes the next IDE position (primary master, slave,
 * secondary master, slave); --cdrom owns the secondary master. */
static bool place_ide(const struct vireo_machine *def, struct plan_drive *drive, unsigned *ide_count,
		      char **error)
{
	unsigned at = (*ide_count)++;
	if (at == PLAN_IDE_CDROM_POSITION && def->cdrom) {
		*error = g_strdup_printf("disk %s,bus=ide would be the IDE secondary master, which --cdrom %s takes "
					 "(at most 2 IDE disks with --cdrom)", drive->spec.path, def->cdrom);
		return false;
	}
	if (at >= PIIX_IDE_DRIVES) {
		*error = g_strdup_printf("disk %s: too many IDE drives (at most %d: primary and secondary, "
					 "master and slave)", drive->spec.path, PIIX_IDE_DRIVES);
		return false;
	}
	drive->at = at;
	drive->firmware_path = firmware_path_ide(at);
	return true;
}

static bool place_sata(struct machine_plan *plan, struct plan_drive *drive, unsigned *sata_count, char **error)
{
	if (*sata_count >= AHCI_PORTS) {
		*error = g_strdup_printf("disk %s: the SATA controller has %u ports, all taken", drive->spec.path,
					 AHCI_PORTS);
		return false;
	}
	drive->at = (*sata_count)++;
	drive->firmware_path = firmware_path_ahci(PLAN_AHCI_SLOT, drive->at);
	plan->ahci = true;
	return true;
}

/* The --disk drives on their controllers, virtio ones on PCI slots from
 * *slot on (which it advances). */
static bool plan_disks(const struct vireo_machine *def, struct machine_plan *plan, unsigned *slot, char **error)
{
	unsigned ide_count = 0, sata_count = 0;
	for (unsigned i = 0; def->disks && def->disks[i]; i++) {
		struct plan_drive *drive = &plan->drives[plan->drive_count];
		GError *bad = NULL;
		if (!machine_parse_disk(def->disks[i], &drive->spec, &bad))
			return take_error(bad, error);
		plan->drive_count++;  /* parsed: cleared with the rest */
		drive->place = i;
		drive->number = ++plan->drives_of[drive->spec.media];
		if (!check_disk_bus(plan, &drive->spec, error))
			return false;
		switch (drive->spec.bus) {
		case MACHINE_BUS_VIRTIO:
			drive->at = (*slot)++;
			drive->firmware_path = firmware_path_virtio_blk(drive->at);
			break;
		case MACHINE_BUS_IDE:
			if (!place_ide(def, drive, &ide_count, error))
				return false;
			break;
		case MACHINE_BUS_SATA:
			if (!place_sata(plan, drive, &sata_count, error))
				return false;
			break;
		}
	}
	return true;
}

/* --cdrom FILE: an ATAPI drive on the IDE secondary master, after the
 * --disk drives (--cdrom empty: the drive with no disc). */
static bool plan_cdrom(const struct vireo_machine *def, struct machine_plan *plan, char **error)
{
	if (!def->cdrom)
		return true;
	if (!plan->firmware) {
		*error = g_strdup_printf("--cdrom %s: IDE needs firmware boot (the PIIX3 IDE controller is part of "
					 "the firmware board); drop --kernel", def->cdrom);
		return false;
	}
	struct plan_drive *drive = &plan->drives[plan->drive_count++];
	drive->spec = (struct machine_disk){
		.path = g_strdup(def->cdrom), .read_only = true, .bus = MACHINE_BUS_IDE, .media = MACHINE_MEDIA_CDROM,
	};
	drive->place = PLAN_CDROM_PLACE;
	drive->at = PLAN_IDE_CDROM_POSITION;
	drive->number = ++plan->drives_of[MACHINE_MEDIA_CDROM];
	drive->firmware_path = firmware_path_ide(PLAN_IDE_CDROM_POSITION);
	return true;
}

/* Firmware boot: the boot order names no drive number the machine lacks.
 * A kernel boots without firmware, so its order is not read. */
static bool plan_boot_order(const struct vireo_machine *def, struct machine_plan *plan, char **error)
{
	GError *bad = NULL;
	if (!machine_parse_boot_order(def->boot_order, plan->boot_order, &plan->boot_order_count, &bad))
		return take_error(bad, error);
	for (unsigned i = 0; plan->firmware && i < plan->boot_order_count; i++) {
		const struct machine_boot_item *item = &plan->boot_order[i];
		unsigned have = plan->drives_of[item->media];
		if (item->number > have) {
			*error = g_strdup_printf("boot order %s%u: the machine has %u %s%s",
						 item->media == MACHINE_MEDIA_DISK ? "disk" : "cdrom", item->number, have,
						 media_names[item->media], have == 1 ? "" : "s");
			return false;
		}
	}
	return true;
}

bool machine_plan_build(const struct vireo_machine *def, struct machine_plan *plan, char **error)
{
	GError *bad = NULL;
	unsigned slot = PLAN_VIRTIO_FIRST_SLOT;
	memset(plan, 0, sizeof(*plan));
	plan->def = def;
	plan->firmware = firmware_board_wanted(def);
	plan->gpu = gpu_of(def->gpu);
	if (!machine_parse_display(def->display, &plan->display, &bad) ||
	    !machine_display_check_open(&plan->display, &bad)) {
		take_error(bad, error);
		goto fail;
	}
	if (!plan_disks(def, plan, &slot, error) || !plan_cdrom(def, plan, error) ||
	    !plan_boot_order(def, plan, error) || !plan_net(def, plan, error))
		goto fail;
	plan->rng_slot = def->rng ? slot++ : PLAN_NO_SLOT;
	plan->net_slot = plan->net.kind != MACHINE_NET_NONE ? slot : PLAN_NO_SLOT;
	return true;
fail:
	machine_plan_clear(plan);
	return false;
}

void machine_plan_clear(struct machine_plan *plan)
{
	for (unsigned i = 0; i < plan->drive_count; i++) {
		machine_disk_clear(&plan->drives[i].spec);
		g_clear_pointer(&plan->drives[i].firmware_path, g_free);
	}
	plan->drive_count = 0;
	machine_display_clear(&plan->display);
	machine_net_clear(&plan->net);
}

const struct plan_drive *machine_plan_cdrom(const struct machine_plan *plan, unsigned number)
{
	for (unsigned i = 0; i < plan->drive_count; i++)
		if (plan->drives[i].spec.media == MACHINE_MEDIA_CDROM && plan->drives[i].number == number)
			return &plan->drives[i];
	return NULL;
}
