/* The write side of the machine definition: machine_save and the machine
 * library (listing with broken machines, unique names, create, clone,
 * delete). */
#include <glib.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "library.h"

static char *make_temp_dir(void)
{
	GError *error = NULL;
	char *dir = g_dir_make_tmp("vireo-library-XXXXXX", &error);
	g_assert_no_error(error);
	return dir;
}

static void remove_temp_dir(const char *dir)
{
	g_autofree char *command = g_strdup_printf("rm -rf '%s'", dir);
	g_assert_cmpint(system(command), ==, 0);
}

static void write_file(const char *path, const char *text)
{
	GError *error = NULL;
	g_assert_true(g_file_set_contents(path, text, -1, &error));
	g_assert_no_error(error);
}

static gint compare_names(gconstpointer a, gconstpointer b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Names in `dir`, sorted and joined with spaces. */
static char *list_dir(const char *dir)
{
	GDir *d = g_dir_open(dir, 0, NULL);
	GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
	const char *name;
	g_assert_nonnull(d);
	while ((name = g_dir_read_name(d)))
		g_ptr_array_add(names, g_strdup(name));
	g_dir_close(d);
	g_ptr_array_sort(names, compare_names);
	g_ptr_array_add(names, NULL);
	char *joined = g_strjoinv(" ", (char **)names->pdata);
	g_ptr_array_unref(names);
	return joined;
}

/* A machine with every setting away from its default. */
static void fill_machine(struct vireo_machine *m, const char *dir)
{
	static const char *const values[][2] = {
		{ "name", "Debian 12 ; test" }, { "memory", "1536M" }, { "cpus", "3" },
		{ "cpu", "host,-cx16" }, { "no-reboot", "true" }, { "kernel", "vmlinuz" },
		{ "initrd", "/srv/images/initrd.img" }, { "append", "console=ttyS0 quiet" },
		{ "serial", "file:/tmp/com1.log" }, { "disk", "root.img;/data/shared.img,ro,serial=DATA,queues=2;win.img,bus=sata" },
		{ "cdrom", "/srv/iso/debian.iso" },
		{ "rng", "true" }, { "net", "user,hostfwd=tcp:127.0.0.1:2222-:22" },
		{ "display", "vnc=0.0.0.0:5901,insecure" }, { "gpu", "virtio" }, { "firmware", "bios" },
		{ "firmware-log", "firmware.log" }, { "boot-menu", "true" }, { "boot-menu-wait", "10" },
		{ "boot-order", "cdrom,disk2,disk" },
	};
	machine_init(m);
	g_assert_cmpuint(G_N_ELEMENTS(values), ==, machine_settings_count);
	for (size_t i = 0; i < G_N_ELEMENTS(values); i++) {
		const struct machine_setting *s = machine_setting_by_flag(values[i][0]);
		GError *error = NULL;
		g_assert_nonnull(s);
		g_assert_true(machine_set(m, s, values[i][1], dir, &error));
		g_assert_no_error(error);
	}
}

static void test_save_round_trip(void)
{
	g_autofree char *dir = make_temp_dir();
	g_autofree char *path = g_build_filename(dir, "machine.ini", NULL);
	g_autofree char *kernel = g_build_filename(dir, "vmlinuz", NULL);
	g_autofree char *root = g_build_filename(dir, "root.img", NULL);
	struct vireo_machine m, back;
	GError *error = NULL;

	fill_machine(&m, dir);
	g_assert_true(machine_save(&m, path, &error));
	g_assert_no_error(error);

	/* Every setting of the table is written, with the schema version, and
	 * paths inside the folder are relative to it. */
	g_autoptr(GKeyFile) kf = g_key_file_new();
	g_assert_true(g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, NULL));
	g_assert_cmpint(g_key_file_get_integer(kf, "machine", "schema", NULL), ==, MACHINE_SCHEMA_VERSION);
	for (size_t i = 0; i < machine_settings_count; i++)
		g_assert_true(g_key_file_has_key(kf, machine_settings[i].group, machine_settings[i].key, NULL));
	g_autofree char *kernel_text = g_key_file_get_string(kf, "boot", "kernel", NULL);
	g_autofree char *disks_text = g_key_file_get_string(kf, "devices", "disks", NULL);
	g_autofree char *memory_text = g_key_file_get_string(kf, "machine", "memory", NULL);
	g_assert_cmpstr(kernel_text, ==, "vmlinuz");
	g_assert_cmpstr(disks_text, ==, "root.img;/data/shared.img,ro,serial=DATA,queues=2;win.img,bus=sata");
	g_assert_cmpstr(memory_text, ==, "1536M");

	machine_init(&back);
	g_assert_true(machine_load(&back, path, &error));
	g_assert_no_error(error);
	g_assert_cmpstr(back.name, ==, "Debian 12 ; test");
	g_assert_cmpuint(back.memory, ==, 1536ull << 20);
	g_assert_cmpuint(back.cpus, ==, 3);
	g_assert_cmpstr(back.cpu, ==, "host,-cx16");
	g_assert_true(back.no_reboot);
	g_assert_cmpstr(back.kernel, ==, kernel);
	g_assert_cmpstr(back.initrd, ==, "/srv/images/initrd.img");
	g_assert_cmpstr(back.cmdline, ==, "console=ttyS0 quiet");
	g_assert_cmpstr(back.serial, ==, "file:/tmp/com1.log");
	g_assert_cmpuint(g_strv_length(back.disks), ==, 3);
	g_assert_cmpstr(back.disks[0], ==, root);
	g_assert_cmpstr(back.disks[1], ==, "/data/shared.img,ro,serial=DATA,queues=2");
	g_assert_true(g_str_has_suffix(back.disks[2], "/win.img,bus=sata"));
	g_assert_cmpstr(back.cdrom, ==, "/srv/iso/debian.iso");
	g_assert_true(back.rng);
	g_assert_cmpstr(back.net, ==, "user,hostfwd=tcp:127.0.0.1:2222-:22");
	g_assert_cmpstr(back.display, ==, "vnc=0.0.0.0:5901,insecure");
	g_assert_cmpstr(back.gpu, ==, "virtio");
	g_assert_cmpstr(back.firmware, ==, "bios");
	g_autofree char *firmware_log = g_build_filename(dir, "firmware.log", NULL);
	g_assert_cmpstr(back.firmware_log, ==, firmware_log);  /* a path in the folder: saved relative */
	g_assert_true(back.boot_menu);
	g_assert_cmpuint(back.boot_menu_wait, ==, 10);
	g_assert_cmpstr(back.boot_order, ==, "cdrom,disk2,disk");

	/* And the same text again: nothing is lost or reformatted on a second pass. */
	g_autofree char *first = machine_to_ini(&m, dir);
	g_autofree char *second = machine_to_ini(&back, dir);
	g_assert_cmpstr(first, ==, second);
	machine_clear(&m);
	machine_clear(&back);
	remove_temp_dir(dir);
}

static void test_save_sizes(void)
{
	static const struct { uint64_t bytes; const char *text; } sizes[] = {
		{ 512ull << 20, "512M" }, { 4ull << 30, "4G" }, { 2ull << 40, "2T" }, { (32ull << 20) + 1024, "32769K" },
	};
	for (size_t i = 0; i < G_N_ELEMENTS(sizes); i++) {
		struct vireo_machine m;
		machine_init(&m);
		m.memory = sizes[i].bytes;
		g_autofree char *text = machine_to_ini(&m, NULL);
		g_autofree char *line = g_strdup_printf("\nmemory=%s\n", sizes[i].text);
		g_assert_nonnull(strstr(text, line));
		machine_clear(&m);
	}
}

static void test_save_leaves_no_temporary_file(void)
{
	g_autofree char *dir = make_temp_dir();
	g_autofree char *path = g_build_filename(dir, "machine.ini", NULL);
	struct vireo_machine m;
	GError *error = NULL;
	machine_init(&m);
	for (int i = 0; i < 3; i++)
		g_assert_true(machine_save(&m, path, &error));
	g_assert_no_error(error);
	g_autofree char *names = list_dir(dir);
	g_assert_cmpstr(names, ==, "machine.ini");
	machine_clear(&m);
	remove_temp_dir(dir);
}

/* A write that fails halfway (the file size limit, which holds even for
 * root) leaves the old machine.ini as it was and no temporary file. */
static void test_save_failure_keeps_old_file(void)
{
	g_autofree char *dir = make_temp_dir();
	g_autofree char *path = g_build_filename(dir, "machine.ini", NULL);
	struct vireo_machine m;
	struct rlimit old_limit, small = { 64, 64 };
	GError *error = NULL;
	g_autofree char *after = NULL;

	write_file(path, "[machine]\nname=old\n");
	machine_init(&m);
	g_assert_cmpint(getrlimit(RLIMIT_FSIZE, &old_limit), ==, 0);
	small.rlim_max = old_limit.rlim_max;
	signal(SIGXFSZ, SIG_IGN);
	g_assert_cmpint(setrlimit(RLIMIT_FSIZE, &small), ==, 0);
	bool saved = machine_save(&m, path, &error);
	g_assert_cmpint(setrlimit(RLIMIT_FSIZE, &old_limit), ==, 0);
	signal(SIGXFSZ, SIG_DFL);

	g_assert_false(saved);
	g_assert_nonnull(error);
	g_assert_nonnull(strstr(error->message, path));
	g_assert_true(g_file_get_contents(path, &after, NULL, NULL));
	g_assert_cmpstr(after, ==, "[machine]\nname=old\n");
	g_autofree char *names = list_dir(dir);
	g_assert_cmpstr(names, ==, "machine.ini");
	g_clear_error(&error);

	/* A folder in the way of the rename: an error, and again no leftovers. */
	g_autofree char *blocked = g_build_filename(dir, "blocked.ini", NULL);
	g_assert_cmpint(g_mkdir(blocked, 0755), ==, 0);
	g_assert_false(machine_save(&m, blocked, &error));
	g_assert_nonnull(error);
	g_autofree char *names2 = list_dir(dir);
	g_assert_cmpstr(names2, ==, "blocked.ini machine.ini");
	g_clear_error(&error);
	machine_clear(&m);
	remove_temp_dir(dir);
}

static char *create_named(const char *dir, const char *name)
{
	struct vireo_machine m;
	GError *error = NULL;
	machine_init(&m);
	g_free(m.name);
	m.name = g_strdup(name);
	char *folder = library_create(dir, &m, 0, &error);
	g_assert_no_error(error);
	g_assert_nonnull(folder);
	machine_clear(&m);
	return folder;
}

/* A new machine with a disk: a sparse image of the exact size, listed first
 * and relative to the folder, before the disks the machine already had. */
static void test_library_create_with_disk(void)
{
	g_autofree char *dir = make_temp_dir();
	struct vireo_machine m, back;
	GError *error = NULL;
	struct stat st;
	machine_init(&m);
	g_assert_true(machine_set(&m, machine_setting_by_flag("disk"), "/srv/install.iso,ro", NULL, &error));
	g_autofree char *folder = library_create(dir, &m, 3ull << 30, &error);
	g_assert_no_error(error);
	g_autofree char *disk = g_build_filename(folder, LIBRARY_DISK_FILE, NULL);
	g_autofree char *ini = g_build_filename(folder, LIBRARY_MACHINE_FILE, NULL);
	g_assert_cmpint(stat(disk, &st), ==, 0);
	g_assert_cmpint(st.st_size, ==, 3ll << 30);
	g_assert_cmpint(st.st_blocks, <, 2048);   /* sparse: next to nothing allocated */

	g_autoptr(GKeyFile) kf = g_key_file_new();
	g_assert_true(g_key_file_load_from_file(kf, ini, G_KEY_FILE_NONE, NULL));
	g_autofree char *disks = g_key_file_get_string(kf, "devices", "disks", NULL);
	g_assert_cmpstr(disks, ==, "disk.img;/srv/install.iso,ro");
	machine_init(&back);
	g_assert_true(machine_load(&back, ini, &error));
	g_assert_cmpstr(back.disks[0], ==, disk);
	g_assert_cmpstr(m.disks[0], ==, "/srv/install.iso,ro");   /* the caller's machine is unchanged */
	g_assert_null(m.disks[1]);
	g_autofree char *names = list_dir(dir);
	g_assert_cmpstr(names, ==, "vireo");
	machine_clear(&m);
	machine_clear(&back);
	remove_temp_dir(dir);
}

/* The new image takes the options it is given: a SATA disk for a guest
 * without virtio drivers, still listed first and relative. */
static void test_library_create_with_disk_options(void)
{
	g_autofree char *dir = make_temp_dir();
	struct vireo_machine m;
	GError *error = NULL;
	machine_init(&m);
	g_assert_true(machine_set(&m, machine_setting_by_flag("disk"), "/srv/win.iso,bus=sata,media=cdrom", NULL,
				  &error));
	g_autofree char *folder = library_create_with_disk(dir, &m, 1ull << 30, "bus=sata", &error);
	g_assert_no_error(error);
	g_autofree char *ini = g_build_filename(folder, LIBRARY_MACHINE_FILE, NULL);
	g_autoptr(GKeyFile) kf = g_key_file_new();
	g_assert_true(g_key_file_load_from_file(kf, ini, G_KEY_FILE_NONE, NULL));
	g_autofree char *disks = g_key_file_get_string(kf, "devices", "disks", NULL);
	g_assert_cmpstr(disks, ==, "disk.img,bus=sata;/srv/win.iso,bus=sata,media=cdrom");
	machine_clear(&m);
	remove_temp_dir(dir);
}

/* A disk image on its own (the editor's New Disk): sparse, of the exact
 * size, and never made over a file that exists. */
static void test_library_create_disk(void)
{
	g_autofree char *dir = make_temp_dir();
	g_autofree char *disk = g_build_filename(dir, "data.img", NULL);
	g_autofree char *text = NULL;
	GError *error = NULL;
	struct stat st;
	g_assert_true(library_create_disk(disk, 5ull << 30, &error));
	g_assert_no_error(error);
	g_assert_cmpint(stat(disk, &st), ==, 0);
	g_assert_cmpint(st.st_size, ==, 5ll << 30);
	g_assert_cmpint(st.st_blocks, <, 2048);
	write_file(disk, "data");
	g_assert_false(library_create_disk(disk, 1ull << 30, &error));
	g_assert_error(error, G_FILE_ERROR, G_FILE_ERROR_EXIST);
	g_assert_true(g_str_has_prefix(error->message, "cannot create disk image "));
	g_clear_error(&error);
	g_assert_true(g_file_get_contents(disk, &text, NULL, NULL));
	g_assert_cmpstr(text, ==, "data");
	remove_temp_dir(dir);
}

static const struct library_entry *find_entry(GPtrArray *entries, const char *id)
{
	for (unsigned i = 0; i < entries->len; i++) {
		const struct library_entry *entry = entries->pdata[i];
		if (!strcmp(entry->id, id))
			return entry;
	}
	return NULL;
}

static void test_library_missing_is_empty(void)
{
	g_autofree char *dir = make_temp_dir();
	g_autofree char *machines = g_build_filename(dir, "vireo", "machines", NULL);
	GError *error = NULL;
	GPtrArray *entries = library_list(machines, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(entries->len, ==, 0);
	g_ptr_array_unref(entries);
	remove_temp_dir(dir);
}

static void test_library_unique_names(void)
{
	g_autofree char *dir = make_temp_dir();
	g_autofree char *machines = g_build_filename(dir, "machines", NULL);
	g_autofree char *first = create_named(machines, "Debian");
	g_autofree char *second = create_named(machines, "Debian");
	g_autofree char *odd = create_named(machines, "../.hidden/x");
	g_autofree char *first_id = g_path_get_basename(first);
	g_autofree char *second_id = g_path_get_basename(second);
	g_autofree char *odd_id = g_path_get_basename(odd);
	GError *error = NULL;

	g_assert_cmpstr(first_id, ==, "Debian");
	g_assert_cmpstr(second_id, ==, "Debian-2");
	g_assert_cmpstr(odd_id, ==, "-.-.hidden-x");   /* inside the library, never hidden */
	g_autofree char *odd_parent = g_path_get_dirname(odd);
	g_assert_cmpstr(odd_parent, ==, machines);

	GPtrArray *entries = library_list(machines, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(entries->len, ==, 3);
	g_assert_true(library_name_in_use(entries, "Debian"));
	g_assert_true(library_name_in_use(entries, "DEBIAN"));
	g_assert_false(library_name_in_use(entries, "Debian 2"));
	g_autofree char *suggested = library_unique_name(entries, "Debian");
	g_autofree char *fresh = library_unique_name(entries, "Fedora");
	g_assert_cmpstr(suggested, ==, "Debian 2");
	g_assert_cmpstr(fresh, ==, "Fedora");
	g_ptr_array_unref(entries);
	g_autofree char *names = list_dir(machines);
	g_assert_cmpstr(names, ==, "-.-.hidden-x Debian Debian-2");  /* no work folders left */
	remove_temp_dir(dir);
}

static void test_library_lists_broken_machines(void)
{
	g_autofree char *dir = make_temp_dir();
	g_autofree char *good = create_named(dir, "Good");
	g_autofree char *corrupt = g_build_filename(dir, "corrupt", NULL);
	g_autofree char *bad_value = g_build_filename(dir, "bad-value", NULL);
	g_autofree char *empty = g_build_filename(dir, "empty", NULL);
	g_autofree char *work = g_build_filename(dir, ".new-abc123", NULL);
	g_autofree char *corrupt_ini = g_build_filename(corrupt, "machine.ini", NULL);
	g_autofree char *bad_ini = g_build_filename(bad_value, "machine.ini", NULL);
	g_autofree char *stray = g_build_filename(dir, "notes.txt", NULL);
	GError *error = NULL;

	g_assert_cmpint(g_mkdir(corrupt, 0755) | g_mkdir(bad_value, 0755) | g_mkdir(empty, 0755) |
			g_mkdir(work, 0755), ==, 0);
	write_file(corrupt_ini, "\x7f" "ELF garbage, not a machine\n");
	write_file(bad_ini, "[machine]\nname=Bad\nmemory=lots\n");
	write_file(stray, "not a machine folder\n");

	GPtrArray *entries = library_list(dir, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(entries->len, ==, 4);   /* the hidden work folder and the stray file are not machines */
	const struct library_entry *entry = find_entry(entries, "Good");
	g_assert_nonnull(entry);
	g_assert_null(entry->broken);
	g_assert_cmpstr(entry->machine.name, ==, "Good");

	entry = find_entry(entries, "corrupt");
	g_assert_nonnull(entry);
	g_assert_nonnull(entry->broken);
	g_assert_true(g_str_has_prefix(entry->broken->message, "machine.ini:1: "));

	entry = find_entry(entries, "bad-value");
	g_assert_nonnull(entry->broken);
	g_assert_cmpstr(entry->broken->message, ==,
			"machine.ini:3: memory 'lots' is not valid: expected a size such as 512M or 4G");

	entry = find_entry(entries, "empty");
	g_assert_nonnull(entry->broken);
	g_assert_nonnull(strstr(entry->broken->message, "cannot read machine file"));
	g_ptr_array_unref(entries);
	remove_temp_dir(dir);
}

/* A machine with a disk in its folder, a disk outside, and a link out. */
static char *machine_with_disks(const char *machines, const char *outside_disk)
{
	char *folder = create_named(machines, "Disks");
	g_autofree char *ini = g_build_filename(folder, "machine.ini", NULL);
	g_autofree char *inside = g_build_filename(folder, "root.img", NULL);
	g_autofree char *link = g_build_filename(folder, "link.img", NULL);
	g_autofree char *disks = g_strdup_printf("root.img;%s,ro", outside_disk);
	struct vireo_machine m;
	GError *error = NULL;
	write_file(inside, "root disk");
	g_assert_cmpint(symlink(outside_disk, link), ==, 0);
	machine_init(&m);
	g_assert_true(machine_load(&m, ini, &error));
	g_assert_true(machine_set(&m, machine_setting_by_flag("disk"), disks, folder, &error));
	g_assert_no_error(error);
	g_assert_true(machine_save(&m, ini, &error));
	machine_clear(&m);
	return folder;
}

static void test_library_delete(void)
{
	g_autofree char *dir = make_temp_dir();
	g_autofree char *machines = g_build_filename(dir, "machines", NULL);
	g_autofree char *keep = g_build_filename(dir, "kept", NULL);
	g_autofree char *iso = g_build_filename(dir, "install.iso", NULL);
	GError *error = NULL;
	write_file(iso, "an ISO");

	/* Keeping disks: the image in the folder moves out, the rest goes. */
	g_autofree char *folder = machine_with_disks(machines, iso);
	g_assert_true(library_delete(folder, keep, &error));
	g_assert_no_error(error);
	g_assert_false(g_file_test(folder, G_FILE_TEST_EXISTS));
	g_autofree char *kept = list_dir(keep);
	g_assert_cmpstr(kept, ==, "Disks-root.img");
	g_assert_true(g_file_test(iso, G_FILE_TEST_IS_REGULAR));

	/* Removing disks: the folder goes; the linked and outside files stay. */
	g_autofree char *again = machine_with_disks(machines, iso);
	g_assert_true(library_delete(again, NULL, &error));
	g_assert_no_error(error);
	g_autofree char *left = list_dir(machines);
	g_assert_cmpstr(left, ==, "");
	g_assert_true(g_file_test(iso, G_FILE_TEST_IS_REGULAR));
	g_autofree char *kept_again = list_dir(keep);
	g_assert_cmpstr(kept_again, ==, "Disks-root.img");

	g_assert_false(library_delete(folder, NULL, &error));
	g_assert_nonnull(error);
	g_clear_error(&error);
	remove_temp_dir(dir);
}

/* A clone: a new folder with the new name, a new MAC and disk serials, its
 * own sparse copy of the disk in the folder, the outside ISO shared, and
 * the engine log and thumbnail of the original's last run left behind, and
 * a fixed VNC port given up. */
static void test_library_clone(void)
{
	g_autofree char *dir = make_temp_dir();
	g_autofree char *iso = g_build_filename(dir, "install.iso", NULL);
	g_autofree char *disks = g_strdup_printf("disk.img,serial=ORIGINAL;%s,ro", iso);
	struct vireo_machine m, copy;
	GError *error = NULL;
	struct stat st;
	write_file(iso, "an ISO");
	machine_init(&m);
	g_free(m.name);
	m.name = g_strdup("Web");
	g_assert_true(machine_set(&m, machine_setting_by_flag("net"), "user,mac=52:54:00:12:34:56", NULL, &error));
	g_assert_true(machine_set(&m, machine_setting_by_flag("disk"), disks, NULL, &error));
	g_assert_true(machine_set(&m, machine_setting_by_flag("display"), "vnc=:5907", NULL, &error));
	g_autofree char *folder = library_create(dir, &m, 0, &error);
	g_assert_no_error(error);
	/* 64 MiB with data at 1 MiB and at 40 MiB, the rest holes. */
	g_autofree char *disk = g_build_filename(folder, "disk.img", NULL);
	FILE *f = fopen(disk, "w");
	g_assert_nonnull(f);
	g_assert_cmpint(fseek(f, 1 << 20, SEEK_SET) | (fputs("boot sector", f) < 0) | fseek(f, 40 << 20, SEEK_SET) |
			(fputs("home", f) < 0) | ftruncate(fileno(f), 64 << 20) | fclose(f), ==, 0);
	g_autofree char *log = g_build_filename(folder, "engine.log", NULL);
	g_autofree char *thumbnail = g_build_filename(folder, LIBRARY_THUMBNAIL_FILE, NULL);
	write_file(log, "last run\n");
	write_file(thumbnail, "png");

	g_autofree char *clone = library_clone(dir, folder, "Web 2", &error);
	g_assert_no_error(error);
	g_autofree char *clone_id = g_path_get_basename(clone);
	g_assert_cmpstr(clone_id, ==, "Web 2");
	g_autofree char *files = list_dir(clone);
	g_assert_cmpstr(files, ==, "disk.img machine.ini");
	g_autofree char *copied = g_build_filename(clone, "disk.img", NULL);
	g_autofree char *original_bytes = NULL, *copied_bytes = NULL;
	gsize original_len, copied_len;
	g_assert_true(g_file_get_contents(disk, &original_bytes, &original_len, NULL));
	g_assert_true(g_file_get_contents(copied, &copied_bytes, &copied_len, NULL));
	g_assert_cmpuint(copied_len, ==, 64 << 20);
	g_assert_cmpmem(copied_bytes, copied_len, original_bytes, original_len);
	g_assert_cmpint(stat(copied, &st), ==, 0);
	g_assert_cmpint(st.st_blocks * 512, <=, 1 << 20);   /* two small extents, not 64 MiB */

	g_autofree char *ini = g_build_filename(clone, LIBRARY_MACHINE_FILE, NULL);
	machine_init(&copy);
	g_assert_true(machine_load(&copy, ini, &error));
	g_assert_no_error(error);
	g_assert_cmpstr(copy.name, ==, "Web 2");
	g_assert_true(g_str_has_prefix(copy.net, "user,mac=52:54:00:"));
	g_assert_cmpstr(copy.net, !=, "user,mac=52:54:00:12:34:56");
	struct machine_net net;
	g_assert_true(machine_parse_net(copy.net, &net, &error));
	machine_net_clear(&net);
	struct machine_disk first;
	g_assert_true(machine_parse_disk(copy.disks[0], &first, &error));
	g_assert_cmpstr(first.path, ==, copied);
	g_assert_cmpuint(strlen(first.serial), ==, 12);
	g_assert_cmpstr(first.serial, !=, "ORIGINAL");
	machine_disk_clear(&first);
	g_autofree char *shared = g_strdup_printf("%s,ro", iso);
	g_assert_cmpstr(copy.disks[1], ==, shared);
	g_assert_cmpstr(copy.display, ==, "vnc");   /* port 5907 would clash: the first free one */

	/* The original is untouched, and a clone cannot be made of nothing. */
	g_autofree char *original_files = list_dir(folder);
	g_assert_cmpstr(original_files, ==, "disk.img engine.log machine.ini thumbnail.png");
	g_autofree char *nowhere = g_build_filename(dir, "nowhere", NULL);
	g_assert_null(library_clone(dir, nowhere, "X", &error));
	g_assert_nonnull(error);
	g_clear_error(&error);
	g_autofree char *left = list_dir(dir);
	g_assert_cmpstr(left, ==, "Web Web 2 install.iso");   /* no work folder left behind */
	machine_clear(&m);
	machine_clear(&copy);
	remove_temp_dir(dir);
}

static void assert_mode(const char *path, mode_t mode)
{
	struct stat st;
	g_assert_cmpint(stat(path, &st), ==, 0);
	g_autofree char *got = g_strdup_printf("%s %04o", path, (unsigned)(st.st_mode & 07777));
	g_autofree char *want = g_strdup_printf("%s %04o", path, (unsigned)mode);
	g_assert_cmpstr(got, ==, want);
}

/* Private by default (issue 13): under the usual umask 022, the library
 * folder, machine folders, disk images and machine.ini are the owner's
 * alone, whether made new, by New Disk, by --add-to-library's
 * library_create, saved again, or cloned from files other users could
 * read. */
static void test_library_private_files(void)
{
	mode_t old_umask = umask(022);
	g_autofree char *dir = make_temp_dir();
	g_autofree char *library = g_build_filename(dir, "machines", NULL);
	struct vireo_machine m;
	GError *error = NULL;
	machine_init(&m);
	g_autofree char *folder = library_create(library, &m, 1ull << 30, &error);
	g_assert_no_error(error);
	g_autofree char *disk = g_build_filename(folder, LIBRARY_DISK_FILE, NULL);
	g_autofree char *ini = g_build_filename(folder, LIBRARY_MACHINE_FILE, NULL);
	assert_mode(library, 0700);
	assert_mode(folder, 0700);
	assert_mode(disk, 0600);
	assert_mode(ini, 0600);
	g_autofree char *data = g_build_filename(folder, "data.img", NULL);
	g_assert_true(library_create_disk(data, 1 << 20, &error));
	assert_mode(data, 0600);
	g_assert_cmpint(chmod(ini, 0644), ==, 0);
	g_assert_true(machine_save(&m, ini, &error));
	assert_mode(ini, 0600);
	/* Originals others could read: the clone's copies are private anyway. */
	g_assert_cmpint(chmod(ini, 0644) | chmod(disk, 0644) | chmod(data, 0644) | chmod(folder, 0755), ==, 0);
	g_autofree char *clone = library_clone(library, folder, "Copy", &error);
	g_assert_no_error(error);
	assert_mode(clone, 0700);
	static const char *const files[] = { LIBRARY_DISK_FILE, LIBRARY_MACHINE_FILE, "data.img" };
	for (unsigned i = 0; i < G_N_ELEMENTS(files); i++) {
		g_autofree char *copy = g_build_filename(clone, files[i], NULL);
		assert_mode(copy, 0600);
	}
	machine_clear(&m);
	remove_temp_dir(dir);
	umask(old_umask);
}

/* A disc change kept in machine.ini: the drive's spec gets the new path
 * (relative inside the folder, as machine_save writes paths) with its
 * options, an eject leaves it empty; the other settings stay; a file that
 * cannot be read is reported and left alone. */
static void test_library_set_disc(void)
{
	g_autofree char *dir = make_temp_dir();
	g_autofree char *ini = g_build_filename(dir, LIBRARY_MACHINE_FILE, NULL);
	g_autofree char *iso = g_build_filename(dir, "new.iso", NULL);
	write_file(ini, "[machine]\nschema=1\nname=Win\nmemory=1G\n[devices]\ncdrom=/isos/setup.iso\n"
			"disks=disk.img,bus=sata;/isos/drivers.iso,bus=sata,serial=CD1,media=cdrom\n");
	GError *error = NULL;
	g_assert_true(library_set_disc(ini, 1, iso, &error));
	g_assert_no_error(error);
	g_assert_true(library_set_disc(ini, 2, NULL, &error));
	g_autofree char *text = NULL;
	g_assert_true(g_file_get_contents(ini, &text, NULL, NULL));
	g_assert_nonnull(strstr(text, "\ndisks=disk.img,bus=sata;new.iso,bus=sata,serial=CD1,media=cdrom\n"));
	g_assert_nonnull(strstr(text, "\ncdrom=empty\n"));
	g_assert_nonnull(strstr(text, "\nname=Win\n"));
	g_assert_nonnull(strstr(text, "\nmemory=1G\n"));

	g_assert_false(library_set_disc(ini, 3, iso, &error));
	g_assert_cmpstr(error->message, ==, "the machine has no cdrom3 (it has 2 CD-ROM drives)");
	g_clear_error(&error);
	write_file(ini, "[machine]\nmemory=lots\n");
	g_assert_false(library_set_disc(ini, 1, iso, &error));
	g_assert_nonnull(error);
	g_clear_error(&error);
	g_autofree char *kept = NULL;
	g_assert_true(g_file_get_contents(ini, &kept, NULL, NULL));
	g_assert_cmpstr(kept, ==, "[machine]\nmemory=lots\n");
	g_autofree char *left = list_dir(dir);
	g_assert_cmpstr(left, ==, LIBRARY_MACHINE_FILE);  /* no temporary file */
	remove_temp_dir(dir);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/machine/save/round-trip", test_save_round_trip);
	g_test_add_func("/machine/save/sizes", test_save_sizes);
	g_test_add_func("/machine/save/no-temporary-file", test_save_leaves_no_temporary_file);
	g_test_add_func("/machine/save/failure-keeps-old-file", test_save_failure_keeps_old_file);
	g_test_add_func("/library/missing-is-empty", test_library_missing_is_empty);
	g_test_add_func("/library/unique-names", test_library_unique_names);
	g_test_add_func("/library/create-with-disk", test_library_create_with_disk);
	g_test_add_func("/library/create-with-disk-options", test_library_create_with_disk_options);
	g_test_add_func("/library/create-disk", test_library_create_disk);
	g_test_add_func("/library/broken-machines", test_library_lists_broken_machines);
	g_test_add_func("/library/delete", test_library_delete);
	g_test_add_func("/library/clone", test_library_clone);
	g_test_add_func("/library/private-files", test_library_private_files);
	g_test_add_func("/library/set-disc", test_library_set_disc);
	return g_test_run();
}
