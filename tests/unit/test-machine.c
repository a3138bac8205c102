/* The machine definition: machine.ini and flag values through one table. */
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "boot/bootorder.h"
#include "machine.h"

static char *write_ini(const char *text)
{
	char *path = NULL;
	int fd = g_file_open_tmp("machine-XXXXXX.ini", &path, NULL);
	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(write(fd, text, strlen(text)), ==, (gssize)strlen(text));
	close(fd);
	return path;
}

static void expect_error(const char *ini_text, const char *line_prefix, const char *needle)
{
	struct vireo_machine m;
	g_autoptr(GError) error = NULL;
	g_autofree char *path = write_ini(ini_text);
	g_autofree char *where = g_strdup_printf("%s:%s", path, line_prefix);
	machine_init(&m);
	g_assert_false(machine_load(&m, path, &error));
	g_assert_nonnull(error);
	g_assert_true(g_str_has_prefix(error->message, where));
	g_assert_nonnull(strstr(error->message, needle));
	g_assert_null(strchr(error->message, '\n'));
	machine_clear(&m);
	g_unlink(path);
}

static void test_load(void)
{
	struct vireo_machine m;
	g_autoptr(GError) error = NULL;
	g_autofree char *path = write_ini("# a machine\n[machine]\nschema=1\nname=Debian 12\nmemory=5G\n"
					  "cpus=4\ncpu=host,-cx16\nno-reboot=true\n\n[boot]\nkernel=vmlinuz\n"
					  "initrd=/abs/initrd.img\ncmdline=console=ttyS0 quiet\n"
					  "[devices]\nserial=unix:/tmp/com1.sock\n");
	g_autofree char *dir = g_path_get_dirname(path);
	g_autofree char *kernel = g_build_filename(dir, "vmlinuz", NULL);
	machine_init(&m);
	g_assert_true(machine_load(&m, path, &error));
	g_assert_cmpstr(m.name, ==, "Debian 12");
	g_assert_cmpuint(m.memory, ==, 5ull << 30);
	g_assert_cmpuint(m.cpus, ==, 4);
	g_assert_cmpstr(m.cpu, ==, "host,-cx16");
	g_assert_true(m.no_reboot);
	g_assert_cmpstr(m.kernel, ==, kernel);           /* relative to the file's folder */
	g_assert_cmpstr(m.initrd, ==, "/abs/initrd.img");
	g_assert_cmpstr(m.cmdline, ==, "console=ttyS0 quiet");
	g_assert_cmpstr(m.serial, ==, "unix:/tmp/com1.sock");
	machine_clear(&m);
	g_unlink(path);
}

static void test_sizes(void)
{
	static const struct { const char *text; uint64_t bytes; } good[] = {
		{ "512", 512ull << 20 }, { "512M", 512ull << 20 }, { "2G", 2ull << 30 },
		{ "3GiB", 3ull << 30 }, { "65536K", 64ull << 20 }, { "1T", 1ull << 40 },
	};
	static const char *bad[] = { "", "G", "-1G", "1.5G", "12X", "1G2", "99999999999999999999", "16M" };
	const struct machine_setting *memory = &machine_settings[1];
	struct vireo_machine m;
	machine_init(&m);
	g_assert_cmpstr(memory->key, ==, "memory");
	for (size_t i = 0; i < G_N_ELEMENTS(good); i++) {
		g_autoptr(GError) error = NULL;
		g_assert_true(machine_set(&m, memory, good[i].text, NULL, &error));
		g_assert_cmpuint(m.memory, ==, good[i].bytes);
	}
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autoptr(GError) error = NULL;
		g_assert_false(machine_set(&m, memory, bad[i], NULL, &error));
		g_assert_nonnull(error);
	}
	machine_clear(&m);
}

static void test_errors_name_the_line(void)
{
	expect_error("[machine]\nname=x\nthis is not a setting\n", "3:", "expected key=value");
	expect_error("name=x\n", "1:", "before the first setting");
	expect_error("[machine]\n\n[disks]\n", "3:", "unknown group [disks]");
	expect_error("[boot]\nkernal=x\n", "2:", "unknown setting 'kernal'");
	expect_error("[machine]\ncpus=0\n", "2:", "cpus '0'");
	expect_error("[machine]\nmemory=1\n", "2:", "too small");
	expect_error("[devices]\nserial=tcp:1234\n", "2:", "serial 'tcp:1234'");
	expect_error("[machine]\nschema=7\n", "2:", "newer Vireo");
	expect_error("[machine]\nno-reboot=perhaps\n", "2:", "true or false");
	expect_error("[boot]\norder=disk,floppy\n", "2:", "boot order item 'floppy'");
	expect_error("[boot]\norder=disk0\n", "2:", "boot order item 'disk0'");
	expect_error("[boot]\nmenu-wait=61\n", "2:", "seconds from 1 to 60");
}

/* The boot order's items, and the bootorder file they give over a machine's
 * drives: a kind names its drives in the order given, a number one of them,
 * and a drive named again stays where it was first named. */
static void test_boot_order(void)
{
	static const struct boot_drive drives[] = {
		{ MACHINE_MEDIA_DISK, "/pci@i0cf8/scsi@3/disk@0,0" },
		{ MACHINE_MEDIA_CDROM, "/pci@i0cf8/ide@1,1/drive@1/disk@0" },
		{ MACHINE_MEDIA_DISK, "/pci@i0cf8/scsi@4/disk@0,0" },
	};
	static const struct { const char *order, *file; } cases[] = {
		{ "", "" },
		{ "disk", "/pci@i0cf8/scsi@3/disk@0,0\n/pci@i0cf8/scsi@4/disk@0,0" },
		{ "cdrom,disk2", "/pci@i0cf8/ide@1,1/drive@1/disk@0\n/pci@i0cf8/scsi@4/disk@0,0" },
		{ "disk2,disk,cdrom1", "/pci@i0cf8/scsi@4/disk@0,0\n/pci@i0cf8/scsi@3/disk@0,0\n"
				       "/pci@i0cf8/ide@1,1/drive@1/disk@0" },
		{ "disk3,cdrom2", "" },
	};
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct machine_boot_item items[MACHINE_MAX_BOOT_ITEMS];
		unsigned count;
		GError *error = NULL;
		g_assert_true(machine_parse_boot_order(cases[i].order, items, &count, &error));
		g_assert_no_error(error);
		g_autofree char *file = bootorder_build(items, count, drives, G_N_ELEMENTS(drives));
		g_assert_cmpstr(file, ==, cases[i].file);
	}
	struct machine_boot_item none[MACHINE_MAX_BOOT_ITEMS];
	unsigned none_count = 1;
	g_assert_true(machine_parse_boot_order(NULL, none, &none_count, NULL));  /* the setting's default */
	g_assert_cmpuint(none_count, ==, 0);
	static const char *const bad[] = { "net", "disk,", "Disk", "disk-1", "cdrom18", "disk 1" };
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		struct machine_boot_item items[MACHINE_MAX_BOOT_ITEMS];
		unsigned count;
		GError *error = NULL;
		g_assert_false(machine_parse_boot_order(bad[i], items, &count, &error));
		g_assert_nonnull(strstr(error->message, "boot order item"));
		g_error_free(error);
	}
}

/* A CD-ROM drive's name for the control interface: cdromN as a boot order
 * writes one drive; kinds, disks and bad numbers are refused naming them. */
static void test_cdrom_name(void)
{
	unsigned number = 0;
	g_assert_true(machine_parse_cdrom_name("cdrom1", &number, NULL));
	g_assert_cmpuint(number, ==, 1);
	g_assert_true(machine_parse_cdrom_name("cdrom17", &number, NULL));
	g_assert_cmpuint(number, ==, 17);
	static const char *const bad[] = { "", "cdrom", "cdrom0", "disk1", "cdrom18", "CDROM1", "cdrom1,cdrom2" };
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		GError *error = NULL;
		g_assert_false(machine_parse_cdrom_name(bad[i], &number, &error));
		g_autofree char *named = g_strdup_printf("unknown drive '%s': expected cdromN", bad[i]);
		g_assert_nonnull(strstr(error->message, named));
		g_error_free(error);
	}
}

/* The CD-ROM drives as boot orders and the control interface number them:
 * media=cdrom disks in the order given (disks between them skipped), then
 * the [devices] cdrom drive, on IDE; each with the disc its settings give. */
static void test_cdrom_drives(void)
{
	struct vireo_machine m;
	g_autoptr(GError) error = NULL;
	g_autofree char *path = write_ini("[devices]\ncdrom=/isos/setup.iso\n"
					  "disks=root.img,bus=sata;/isos/drivers.iso,bus=sata,media=cdrom;"
					  "data.img;/isos/tools.iso,bus=ide,media=cdrom\n");
	g_autofree char *dir = g_path_get_dirname(path);
	machine_init(&m);
	g_assert_true(machine_load(&m, path, &error));
	struct machine_cdrom_drive drives[MACHINE_MAX_CDROM_DRIVES];
	unsigned count = machine_cdrom_drives(&m, drives);
	g_assert_cmpuint(count, ==, 3);
	g_assert_cmpuint(drives[0].disk, ==, 1);
	g_assert_cmpint(drives[0].bus, ==, MACHINE_BUS_SATA);
	g_assert_cmpstr(drives[0].path, ==, "/isos/drivers.iso");
	g_assert_cmpuint(drives[1].disk, ==, 3);
	g_assert_cmpint(drives[1].bus, ==, MACHINE_BUS_IDE);
	g_assert_cmpstr(drives[1].path, ==, "/isos/tools.iso");
	g_assert_cmpuint(drives[2].disk, ==, MACHINE_CDROM_SETTING_DRIVE);
	g_assert_cmpint(drives[2].bus, ==, MACHINE_BUS_IDE);
	g_assert_cmpstr(drives[2].path, ==, "/isos/setup.iso");
	machine_cdrom_drives_clear(drives, count);
	g_assert_null(drives[0].path);
	machine_clear(&m);
	g_unlink(path);

	/* Disks alone, or nothing: no drive. */
	machine_init(&m);
	g_assert_cmpuint(machine_cdrom_drives(&m, drives), ==, 0);
	g_assert_true(machine_set(&m, machine_setting_by_flag("disk"), "root.img", dir, NULL));
	g_assert_cmpuint(machine_cdrom_drives(&m, drives), ==, 0);
	machine_clear(&m);
}

/* An empty drive: cdrom=empty and a media=cdrom spec with PATH empty keep
 * the drive (numbered as any other) with no disc, and are written back as
 * read; a hard disk or a path with "empty" in it is a file as before. */
static void test_empty_cdrom_drives(void)
{
	struct vireo_machine m;
	g_autoptr(GError) error = NULL;
	g_autofree char *path = write_ini("[devices]\ncdrom=empty\n"
					  "disks=empty,bus=sata,serial=CD1,media=cdrom;empty;empty.iso,bus=ide,media=cdrom\n");
	g_autofree char *dir = g_path_get_dirname(path);
	g_autofree char *disk = g_build_filename(dir, "empty", NULL);
	g_autofree char *iso = g_build_filename(dir, "empty.iso", NULL);
	g_autofree char *iso_spec = g_strconcat(iso, ",bus=ide,media=cdrom", NULL);
	machine_init(&m);
	g_assert_true(machine_load(&m, path, &error));
	g_assert_cmpstr(m.cdrom, ==, "empty");
	g_assert_cmpstr(m.disks[0], ==, "empty,bus=sata,serial=CD1,media=cdrom");  /* not made a path */
	g_assert_cmpstr(m.disks[1], ==, disk);
	g_assert_cmpstr(m.disks[2], ==, iso_spec);
	struct machine_cdrom_drive drives[MACHINE_MAX_CDROM_DRIVES];
	unsigned count = machine_cdrom_drives(&m, drives);
	g_assert_cmpuint(count, ==, 3);
	g_assert_cmpuint(drives[0].disk, ==, 0);
	g_assert_null(drives[0].path);
	g_assert_cmpstr(drives[1].path, ==, iso);
	machine_cdrom_drives_clear(drives, count);
	g_autofree char *text = machine_to_ini(&m, dir);
	g_assert_nonnull(strstr(text, "\ncdrom=empty\n"));
	g_assert_nonnull(strstr(text, "\ndisks=empty,bus=sata,serial=CD1,media=cdrom;"));
	machine_clear(&m);
	g_unlink(path);

	struct machine_disk spec;
	g_assert_true(machine_parse_disk("empty,bus=ide,media=cdrom", &spec, NULL));
	g_assert_true(machine_disk_is_empty(&spec));
	machine_disk_clear(&spec);
	g_assert_true(machine_parse_disk("empty,bus=ide", &spec, NULL));
	g_assert_false(machine_disk_is_empty(&spec));  /* a hard disk on a file named empty */
	machine_disk_clear(&spec);

	/* An empty value is still refused, naming the choices. */
	machine_init(&m);
	g_assert_false(machine_set(&m, machine_setting_by_flag("cdrom"), "", NULL, &error));
	g_assert_cmpstr(error->message, ==, "cdrom '' is not valid: expected a file name or empty");
	machine_clear(&m);
}

/* machine_set_disc: the drive's disc changes, the drive and its options
 * stay; NULL leaves it empty; a path a spec cannot hold is refused. */
static void test_set_disc(void)
{
	struct vireo_machine m;
	GError *error = NULL;
	machine_init(&m);
	g_assert_true(machine_set(&m, machine_setting_by_flag("disk"),
				  "/m/root.img,bus=sata;/isos/a.iso,bus=sata,serial=CD1,media=cdrom", NULL, NULL));
	g_assert_true(machine_set(&m, machine_setting_by_flag("cdrom"), "/isos/setup.iso", NULL, NULL));
	g_assert_true(machine_set_disc(&m, 1, "/isos/b.iso", NULL));
	g_assert_cmpstr(m.disks[1], ==, "/isos/b.iso,bus=sata,serial=CD1,media=cdrom");
	g_assert_true(machine_set_disc(&m, 1, NULL, NULL));
	g_assert_cmpstr(m.disks[1], ==, "empty,bus=sata,serial=CD1,media=cdrom");
	g_assert_true(machine_set_disc(&m, 2, NULL, NULL));
	g_assert_cmpstr(m.cdrom, ==, "empty");
	g_assert_true(machine_set_disc(&m, 2, "/isos/c.iso", NULL));
	g_assert_cmpstr(m.cdrom, ==, "/isos/c.iso");
	g_assert_cmpstr(m.disks[0], ==, "/m/root.img,bus=sata");

	g_assert_false(machine_set_disc(&m, 3, NULL, &error));
	g_assert_cmpstr(error->message, ==, "the machine has no cdrom3 (it has 2 CD-ROM drives)");
	g_clear_error(&error);
	g_assert_false(machine_set_disc(&m, 1, "/isos/a,b.iso", &error));
	g_assert_cmpstr(error->message, ==, "disk '/isos/a,b.iso' is not valid: a disk's file name cannot contain ',' or ';'");
	g_clear_error(&error);
	g_assert_cmpstr(m.disks[1], ==, "empty,bus=sata,serial=CD1,media=cdrom");
	machine_clear(&m);
}

/* Where a VNC server listens: an address alone (or none) takes the first
 * free port from 5900, a port given is that port only. */
static void test_display(void)
{
	static const struct { const char *spec, *addr; unsigned first, last; } cases[] = {
		{ "vnc", "127.0.0.1", 5900, 5999 },
		{ "vnc=0.0.0.0", "0.0.0.0", 5900, 5999 },
		{ "vnc=127.0.0.1:5907", "127.0.0.1", 5907, 5907 },
		{ "vnc=:5901", "127.0.0.1", 5901, 5901 },
	};
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct machine_display display;
		g_assert_true(machine_parse_display(cases[i].spec, &display, NULL));
		g_assert_true(display.vnc && !display.sdl);
		g_assert_cmpstr(display.vnc_addr, ==, cases[i].addr);
		g_assert_cmpuint(display.vnc_port, ==, cases[i].first);
		g_assert_cmpuint(display.vnc_port_last, ==, cases[i].last);
		machine_display_clear(&display);
	}
	struct machine_display unix_socket;
	g_assert_true(machine_parse_display("vnc=unix:/run/user/1000/vireo/a b.vnc", &unix_socket, NULL));
	g_assert_true(unix_socket.vnc);
	g_assert_cmpstr(unix_socket.vnc_unix, ==, "/run/user/1000/vireo/a b.vnc");
	machine_display_clear(&unix_socket);
	static const char *const bad[] = { "vnc=unix:", "vnc=", "vnc=localhost", "vnc=1.2.3:5900", "vnc=127.0.0.1:", "vnc=:0", "vnc5900",
					   "vnc,insecure=yes", "vnc,Insecure" };
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		struct machine_display display;
		GError *error = NULL;
		g_assert_false(machine_parse_display(bad[i], &display, &error));
		g_assert_nonnull(error);
		g_error_free(error);
	}
}

/* A VNC server other computers reach without a password: refused unless
 * the spec says insecure; loopback, a password or no VNC are not open. */
static void test_display_open(void)
{
	g_autofree char *password = NULL;
	int fd = g_file_open_tmp("vnc-XXXXXX.pw", &password, NULL);
	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(write(fd, "s3cret\n", 7), ==, 7);
	close(fd);
	g_autofree char *with_password = g_strconcat("vnc=192.168.1.2:5901,password-file=", password, NULL);
	static const struct { const char *spec; bool open, allowed; } cases[] = {
		{ "vnc=0.0.0.0", true, false },
		{ "vnc=10.1.2.3:5901", true, false },
		{ "vnc=0.0.0.0,insecure", true, true },
		{ "vnc=10.1.2.3:5901,insecure", true, true },
		{ "vnc", false, true },
		{ "vnc=127.5.6.7:5901", false, true },
		{ "vnc=:5901", false, true },
		{ "vnc=unix:/tmp/screen.sock", false, true },  /* mode 0600: only its user */
		{ "sdl", false, true },
		{ "none", false, true },
		{ NULL, false, true },          /* with_password */
	};
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct machine_display display;
		GError *error = NULL;
		g_assert_true(machine_parse_display(cases[i].spec ? cases[i].spec : with_password, &display, NULL));
		g_assert_cmpint(machine_display_open_to_others(&display), ==, cases[i].open);
		g_assert_cmpint(machine_display_check_open(&display, &error), ==, cases[i].allowed);
		if (!cases[i].allowed) {
			g_assert_nonnull(strstr(error->message, ",password-file=FILE"));
			g_assert_nonnull(strstr(error->message, ",insecure"));
			g_error_free(error);
		}
		machine_display_clear(&display);
	}
	unlink(password);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/machine/load", test_load);
	g_test_add_func("/machine/sizes", test_sizes);
	g_test_add_func("/machine/errors-name-the-line", test_errors_name_the_line);
	g_test_add_func("/machine/boot-order", test_boot_order);
	g_test_add_func("/machine/cdrom-name", test_cdrom_name);
	g_test_add_func("/machine/cdrom-drives", test_cdrom_drives);
	g_test_add_func("/machine/empty-cdrom-drives", test_empty_cdrom_drives);
	g_test_add_func("/machine/set-disc", test_set_disc);
	g_test_add_func("/machine/display", test_display);
	g_test_add_func("/machine/display-open", test_display_open);
	return g_test_run();
}
