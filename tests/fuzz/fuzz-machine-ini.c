/* libFuzzer target: machine.ini files as a user, another program or a
 * damaged disk may leave them. Each input is a machine.ini in a folder of
 * its own; whatever the bytes, machine_load must answer with a machine or a
 * message, never crash or read past the text (ASan/UBSan).
 *
 * A file it accepts must round-trip: what machine_to_ini writes for the
 * machine loads again, and writes the very same text a second time, so a
 * machine the app saves is the machine it reads back. The specs inside
 * (disks, network, display, boot order, CD-ROM drives) go through their own
 * parsers too, as the engine reads them. */
#include <glib.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>

#include "machine.h"

static char *folder;

static char *ini_path(const char *name)
{
	return g_build_filename(folder, name, NULL);
}

static bool load_text(struct vireo_machine *m, const char *path, const char *text, size_t len)
{
	if (!g_file_set_contents(path, text, (gssize)len, NULL))
		abort();
	machine_init(m);
	g_autoptr(GError) error = NULL;
	bool ok = machine_load(m, path, &error);
	if (!ok && (!error || !error->message[0]))
		abort();  /* a refusal always says why */
	return ok;
}

static void parse_specs(const struct vireo_machine *m)
{
	for (unsigned i = 0; m->disks && m->disks[i]; i++) {
		struct machine_disk disk;
		if (!machine_parse_disk(m->disks[i], &disk, NULL))
			abort();  /* machine_load accepted it */
		machine_disk_clear(&disk);
	}
	struct machine_net net;
	if (machine_parse_net(m->net, &net, NULL))
		machine_net_clear(&net);
	struct machine_display display;
	if (machine_parse_display(m->display, &display, NULL))
		machine_display_clear(&display);
	struct machine_cdrom_drive drives[MACHINE_MAX_CDROM_DRIVES];
	machine_cdrom_drives_clear(drives, machine_cdrom_drives(m, drives));
}

/* Saved and loaded again, the machine is the same: the same text. */
static void check_round_trip(const struct vireo_machine *m)
{
	g_autofree char *path = ini_path("again.ini");
	g_autofree char *first = machine_to_ini(m, folder);
	struct vireo_machine again;
	if (!load_text(&again, path, first, strlen(first))) {
		fprintf(stderr, "what machine_to_ini wrote does not load:\n%s\n", first);
		abort();
	}
	g_autofree char *second = machine_to_ini(&again, folder);
	machine_clear(&again);
	if (strcmp(first, second)) {
		fprintf(stderr, "machine.ini changed in a round trip:\n%s\n---\n%s\n", first, second);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!folder) {
		folder = g_dir_make_tmp("fuzz-machine-ini-XXXXXX", NULL);
		if (!folder)
			abort();
	}
	g_autofree char *path = ini_path("machine.ini");
	struct vireo_machine m;
	if (load_text(&m, path, (const char *)data, size)) {
		parse_specs(&m);
		check_round_trip(&m);
	}
	machine_clear(&m);
	return 0;
}
