/* The settings' labels; see setting-labels.h. */
#include "setting-labels.h"

#include <glib/gi18n.h>
#include <string.h>

struct label {
	const char *key;    /* machine.ini key, choice or group */
	const char *text;   /* untranslated */
};

static const struct label setting_labels[] = {
	{ "name", N_("_Name") },
	{ "memory", N_("_Memory (MiB)") },
	{ "cpus", N_("_Processors") },
	{ "cpu", N_("CPU _model") },
	{ "no-reboot", N_("_End when the guest restarts") },
	{ "kernel", N_("Linux _kernel") },
	{ "initrd", N_("_Initial ramdisk") },
	{ "cmdline", N_("Kernel _command line") },
	{ "firmware", N_("_Firmware") },
	{ "firmware-log", N_("Firmware _log file") },
	{ "menu", N_("Boot _menu (press Esc at start)") },
	{ "menu-wait", N_("Boot menu _wait (seconds)") },
	{ "order", N_("Boot _order") },
	{ "serial", N_("_Serial port") },
	{ "disks", N_("_Disks") },
	{ "cdrom", N_("C_D-ROM") },
	{ "rng", N_("_Random number generator") },
	{ "net", N_("Ne_twork") },
	{ "display", N_("Scr_een") },
	{ "gpu", N_("_Graphics") },
};

static const struct label choice_labels[] = {
	{ "", N_("Automatic") },
	{ "bios", N_("BIOS") },
	{ "uefi", N_("UEFI") },
	{ "std", N_("Standard VGA") },
	{ "virtio", N_("Virtio GPU") },
	{ "none", N_("None") },
};

static const struct label group_titles[] = {
	{ "machine", N_("Machine") },
	{ "boot", N_("Boot") },
	{ "devices", N_("Devices") },
	{ "display", N_("Display") },
};

static const char *lookup(const struct label *labels, size_t count, const char *key)
{
	for (size_t i = 0; i < count; i++)
		if (!strcmp(labels[i].key, key))
			return _(labels[i].text);
	return NULL;
}

const char *setting_label(const struct machine_setting *s)
{
	return lookup(setting_labels, G_N_ELEMENTS(setting_labels), s->key);
}

const char *setting_choice_label(const char *choice)
{
	return lookup(choice_labels, G_N_ELEMENTS(choice_labels), choice);
}

const char *setting_group_title(const char *group)
{
	return lookup(group_titles, G_N_ELEMENTS(group_titles), group);
}
