/* The operating system an installer ISO holds (app/iso-detect.c): real
 * images that xorriso makes from Windows-, Debian-, Ubuntu- and Fedora-like
 * trees, and images written here sector by sector for what xorriso will
 * not make: a UDF disc whose ISO 9660 bridge holds only a README, and
 * truncated, garbage and self-referencing directories, which must come out
 * unknown after a bounded number of reads. */
#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "iso-detect.h"

#define SECTOR 2048

static char *scratch;  /* this run's folder */

/* A folder of `files` ("path", "content", ... NULL) under the scratch
 * folder, made into an ISO by xorriso with `label` and, with `joliet`,
 * Joliet and Rock Ridge names as the distributions' images have. */
static char *make_iso(const char *name, const char *label, bool joliet, const char *const *files)
{
	g_autofree char *tree = g_build_filename(scratch, name, NULL);
	for (unsigned i = 0; files[i]; i += 2) {
		g_autofree char *file = g_build_filename(tree, files[i], NULL);
		g_autofree char *dir = g_path_get_dirname(file);
		g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
		g_assert_true(g_file_set_contents(file, files[i + 1], -1, NULL));
	}
	char *iso = g_strconcat(tree, ".iso", NULL);
	const char *argv[] = { "xorriso", "-as", "mkisofs", "-quiet", "-V", label, "-o", iso,
			       joliet ? "-J" : tree, joliet ? "-r" : NULL, joliet ? tree : NULL, NULL };
	g_autoptr(GError) error = NULL;
	int status = 0;
	g_autofree char *err = NULL;
	if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL,
			  NULL, NULL, NULL, &err, &status, &error))
		g_error("xorriso (Debian package xorriso): %s", error->message);
	if (!g_spawn_check_wait_status(status, NULL))
		g_error("xorriso failed: %s", err);
	return iso;
}

/* Detects `path`, checks the read budget held, and returns the result. */
static struct iso_detection detect(const char *path)
{
	struct iso_detection d;
	iso_detect(path, &d);
	g_assert_cmpuint(d.sectors_read, <=, ISO_DETECT_MAX_SECTORS);
	return d;
}

static void assert_detects(const char *path, enum iso_os os, const char *name)
{
	struct iso_detection d = detect(path);
	g_assert_cmpint(d.os, ==, os);
	g_assert_cmpstr(d.name, ==, name);
	iso_detection_clear(&d);
}

static void test_windows(void)
{
	static const char *const files[] = { "SOURCES/INSTALL.WIM", "wim", "BOOTMGR", "boot manager",
					     "SETUP.EXE", "setup", NULL };
	g_autofree char *iso = make_iso("windows", "CCCOMA_X64FRE_EN-US_DV9", false, files);
	assert_detects(iso, ISO_OS_WINDOWS, NULL);
	/* an ESD instead of the WIM, names only in Joliet's lower case */
	static const char *const esd[] = { "sources/install.esd", "esd", "bootmgr", "boot manager", NULL };
	g_autofree char *esd_iso = make_iso("windows-esd", "CPBA_X64FRE_EN-US_DV5", true, esd);
	assert_detects(esd_iso, ISO_OS_WINDOWS, NULL);
}

static void test_debian(void)
{
	static const char *const files[] = {
		".disk/info", "Debian GNU/Linux 12.8.0 \"Bookworm\" - Official amd64 NETINST with firmware 20241109-11:04",
		"install.amd/vmlinuz", "kernel", "install.amd/initrd.gz", "initrd", NULL };
	g_autofree char *iso = make_iso("debian", "Debian 12.8.0 amd64 n", true, files);
	assert_detects(iso, ISO_OS_LINUX, "Debian 12.8.0");
}

static void test_ubuntu(void)
{
	static const char *const files[] = {
		".disk/info", "Ubuntu 24.04.1 LTS \"Noble Numbat\" - Release amd64 (20240827.1)\n",
		"casper/vmlinuz", "kernel", "boot/grub/grub.cfg", "menuentry", NULL };
	g_autofree char *iso = make_iso("ubuntu", "Ubuntu 24.04.1 LTS amd64", true, files);
	assert_detects(iso, ISO_OS_LINUX, "Ubuntu 24.04.1 LTS");
}

/* Fedora's names fit ISO 9660's primary tree: no Joliet needed. */
static void test_fedora(void)
{
	static const char *const files[] = { "images/pxeboot/vmlinuz", "kernel", "EFI/BOOT/grub.cfg", "cfg", NULL };
	g_autofree char *iso = make_iso("fedora", "Fedora-S-dvd-x86_64-41", false, files);
	assert_detects(iso, ISO_OS_LINUX, NULL);
}

static void test_arch(void)
{
	static const char *const files[] = { "arch/boot/x86_64/vmlinuz-linux", "kernel",
					     "boot/grub/grub.cfg", "menuentry", NULL };
	g_autofree char *iso = make_iso("arch", "ARCH_202411", true, files);
	assert_detects(iso, ISO_OS_LINUX, NULL);
}

/* Data discs, and a Microsoft label on a disc without Windows' files or
 * UDF: labels alone decide nothing. A kernel without its distribution's
 * folders is no installer either. */
static void test_unknown(void)
{
	static const char *const data[] = { "README.TXT", "drivers", "DRIVERS/NETKVM.INF", "inf", NULL };
	g_autofree char *iso = make_iso("data", "DRIVERS", true, data);
	assert_detects(iso, ISO_OS_UNKNOWN, NULL);
	g_autofree char *labelled = make_iso("labelled", "CCCOMA_X64FRE_EN-US_DV9", false, data);
	assert_detects(labelled, ISO_OS_UNKNOWN, NULL);
	static const char *const half[] = { "bootmgr", "manager", "sources/boot.wim", "winpe",
					    "install/readme", "no .disk/info", NULL };
	g_autofree char *half_iso = make_iso("half", "HALF", true, half);
	assert_detects(half_iso, ISO_OS_UNKNOWN, NULL);
}

/* Images written sector by sector. */
struct image {
	unsigned char *bytes;
	size_t sectors;
};

static unsigned char *sector_at(struct image *img, uint32_t s)
{
	g_assert_cmpuint(s, <, img->sectors);
	return img->bytes + (size_t)s * SECTOR;
}

static void both_endian32(unsigned char *p, uint32_t v)
{
	for (unsigned i = 0; i < 4; i++) {
		p[i] = v >> (8 * i);
		p[7 - i] = v >> (8 * i);
	}
}

/* ECMA-119 9.1; returns the record's length. */
static unsigned put_record(unsigned char *at, const char *name, size_t name_length, uint32_t sector,
			   uint32_t length, bool directory)
{
	unsigned record = 33 + name_length + !(name_length & 1);
	at[0] = record;
	both_endian32(at + 2, sector);
	both_endian32(at + 10, length);
	at[25] = directory ? 2 : 0;
	at[32] = name_length;
	memcpy(at + 33, name, name_length);
	return record;
}

/* A primary volume descriptor at 16 whose root is at `root`, a terminator
 * at 17 and, with `udf`, the UDF volume recognition sequence after it
 * (ECMA-167 2/9.1: BEA01, NSR02, TEA01). */
static struct image new_image(size_t sectors, const char *label, uint32_t root, uint32_t root_length, bool udf)
{
	struct image img = { g_malloc0(sectors * SECTOR), sectors };
	unsigned char *pvd = sector_at(&img, 16);
	pvd[0] = 1;
	memcpy(pvd + 1, "CD001", 5);
	pvd[6] = 1;
	memset(pvd + 40, ' ', 32);
	memcpy(pvd + 40, label, strlen(label));
	put_record(pvd + 156, "", 1, root, root_length, true);
	unsigned char *end = sector_at(&img, 17);
	end[0] = 255;
	memcpy(end + 1, "CD001", 5);
	static const char *const vrs[] = { "BEA01", "NSR02", "TEA01" };
	for (unsigned i = 0; udf && i < G_N_ELEMENTS(vrs); i++)
		memcpy(sector_at(&img, 18 + i) + 1, vrs[i], 5);
	return img;
}

/* The root at sector 21: ".", "..", then `names` (NULL-ended), each
 * pointing at `target` with `length`. */
static void put_root(struct image *img, const char *const *names, uint32_t target, uint32_t length, bool dirs)
{
	unsigned char *root = sector_at(img, 21);
	unsigned off = put_record(root, "", 1, 21, SECTOR, true);
	off += put_record(root + off, "\1", 1, 21, SECTOR, true);
	for (unsigned i = 0; names[i]; i++)
		off += put_record(root + off, names[i], strlen(names[i]), target, length, dirs);
}

static char *write_image(struct image *img, const char *name, size_t sectors)
{
	char *path = g_build_filename(scratch, name, NULL);
	g_assert_true(g_file_set_contents(path, (const char *)img->bytes, MIN(sectors, img->sectors) * SECTOR, NULL));
	return path;
}

/* Windows 10 and 11 discs (oscdimg -u2): UDF, and an ISO 9660 bridge
 * with a single README; Microsoft's label is then what says Windows. */
static void test_udf_windows(void)
{
	static const char *const readme[] = { "README.TXT;1", NULL };
	struct image img = new_image(24, "CCCOMA_X64FRE_EN-US_DV9", 21, SECTOR, true);
	put_root(&img, readme, 22, 10, false);
	memcpy(sector_at(&img, 22), "UDF only.\n", 10);
	g_autofree char *udf = write_image(&img, "udf.iso", img.sectors);
	assert_detects(udf, ISO_OS_WINDOWS, NULL);
	memset(sector_at(&img, 19), 0, SECTOR);  /* no NSR02: no UDF */
	g_autofree char *plain = write_image(&img, "plain.iso", img.sectors);
	assert_detects(plain, ISO_OS_UNKNOWN, NULL);
	g_free(img.bytes);
}

/* Cut short anywhere: before the descriptors, inside them, before the
 * directories, before .disk/info. Whatever is left is read without a
 * crash, and says Linux only when the folders that say so are there. */
static void test_truncated(void)
{
	static const char *const files[] = { ".disk/info", "Debian GNU/Linux 12.8.0 \"Bookworm\"",
					     "install.amd/vmlinuz", "kernel", NULL };
	g_autofree char *iso = make_iso("cut", "Debian", true, files);
	g_autofree char *bytes = NULL;
	gsize size = 0;
	g_assert_true(g_file_get_contents(iso, &bytes, &size, NULL));
	struct image img = { (unsigned char *)bytes, size / SECTOR };
	for (size_t sectors = 0; sectors < img.sectors; sectors++) {
		g_autofree char *cut = write_image(&img, "cut.iso", sectors);
		struct iso_detection d = detect(cut);
		if (sectors <= 17)
			g_assert_cmpint(d.os, ==, ISO_OS_UNKNOWN);
		g_assert_cmpint(d.os, !=, ISO_OS_WINDOWS);
		iso_detection_clear(&d);
	}
	assert_detects(iso, ISO_OS_LINUX, "Debian 12.8.0");
	assert_detects("/nonexistent/vireo.iso", ISO_OS_UNKNOWN, NULL);
}

/* Random records after a valid descriptor, for many seeds: whatever the
 * lengths, names and extents say, the reader stays in its sectors. */
static void test_garbage(void)
{
	GRand *rand = g_rand_new_with_seed(20261201);
	for (unsigned seed = 0; seed < 200; seed++) {
		struct image img = new_image(64, "GARBAGE", 21, g_rand_int(rand), seed & 1);
		for (size_t i = 21 * SECTOR; i < img.sectors * SECTOR; i++)
			img.bytes[i] = g_rand_int(rand);
		g_autofree char *path = write_image(&img, "garbage.iso", img.sectors);
		struct iso_detection d = detect(path);
		g_assert_cmpint(d.os, ==, ISO_OS_UNKNOWN);
		iso_detection_clear(&d);
		g_free(img.bytes);
	}
	g_rand_free(rand);
}

/* Directories that are the root again, with the largest length there is:
 * the lookups end, and the reads stay within the budget. */
static void test_hostile_directories(void)
{
	static const char *const loops[] = { "IMAGES", "PXEBOOT", "BOOT", "GRUB", "ISOLINUX", NULL };
	struct image img = new_image(100, "LOOP", 21, UINT32_MAX, false);
	put_root(&img, loops, 21, UINT32_MAX, true);
	g_autofree char *path = write_image(&img, "loop.iso", img.sectors);
	assert_detects(path, ISO_OS_UNKNOWN, NULL);
	g_free(img.bytes);
}

/* A directory past the end of the file, a name longer than its record, and
 * a record longer than what is left of its sector: each ends the lookup
 * there, though "live" would say Linux. */
static void test_overrunning_records(void)
{
	struct image img = new_image(24, "OVERRUN", 21, 2 * SECTOR, false);
	unsigned char *root = sector_at(&img, 21);
	unsigned off = put_record(root, "IMAGES", 6, 0xfffffff0, SECTOR, true);
	put_record(root + off, "LIVE", 4, 21, SECTOR, true);
	root[off + 32] = 200;  /* the name runs past the record */
	g_autofree char *long_name = g_strnfill(216, 'A');
	unsigned char *next = sector_at(&img, 22);
	for (off = 0; off < 2000;)
		off += put_record(next + off, long_name, 216, 21, SECTOR, false);
	put_record(next + off, "LIVE", 4, 21, SECTOR, true);
	next[off] = 60;  /* 2000 + 60 > 2048 */
	g_autofree char *path = write_image(&img, "overrun.iso", img.sectors);
	assert_detects(path, ISO_OS_UNKNOWN, NULL);
	next[off] = 38;  /* the same record, whole: found */
	g_autofree char *whole = write_image(&img, "whole.iso", img.sectors);
	assert_detects(whole, ISO_OS_LINUX, NULL);
	g_free(img.bytes);
}

/* Two Joliet supplementary descriptors, then the primary (issue 13): the
 * reader keeps the primary tree and one Joliet tree, which is all its table
 * holds, and reads nothing past it. An empty root says unknown; "LIVE" in
 * the primary tree, which only the primary tree can read, still says Linux. */
static void test_joliet_before_primary(void)
{
	struct image img = new_image(24, "JOLIET", 21, SECTOR, false);
	memcpy(sector_at(&img, 18), sector_at(&img, 16), SECTOR);  /* the primary, third */
	memcpy(sector_at(&img, 19), sector_at(&img, 17), SECTOR);  /* then the terminator */
	for (uint32_t s = 16; s < 18; s++) {
		unsigned char *svd = sector_at(&img, s);
		svd[0] = 2;                    /* ECMA-119 8.5: supplementary */
		memcpy(svd + 88, "%/E", 3);    /* 8.5.6: Joliet level 3 */
	}
	static const char *const none[] = { NULL };
	put_root(&img, none, 0, 0, false);
	g_autofree char *empty = write_image(&img, "joliet-first.iso", img.sectors);
	assert_detects(empty, ISO_OS_UNKNOWN, NULL);
	static const char *const live[] = { "LIVE", NULL };
	put_root(&img, live, 21, SECTOR, true);
	g_autofree char *linux_iso = write_image(&img, "joliet-first-live.iso", img.sectors);
	assert_detects(linux_iso, ISO_OS_LINUX, NULL);
	g_free(img.bytes);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	scratch = g_dir_make_tmp("vireo-iso-detect-XXXXXX", NULL);
	g_assert_nonnull(scratch);
	g_test_add_func("/iso-detect/windows", test_windows);
	g_test_add_func("/iso-detect/debian", test_debian);
	g_test_add_func("/iso-detect/ubuntu", test_ubuntu);
	g_test_add_func("/iso-detect/fedora", test_fedora);
	g_test_add_func("/iso-detect/arch", test_arch);
	g_test_add_func("/iso-detect/unknown", test_unknown);
	g_test_add_func("/iso-detect/udf-windows", test_udf_windows);
	g_test_add_func("/iso-detect/truncated", test_truncated);
	g_test_add_func("/iso-detect/garbage", test_garbage);
	g_test_add_func("/iso-detect/hostile-directories", test_hostile_directories);
	g_test_add_func("/iso-detect/overrunning-records", test_overrunning_records);
	g_test_add_func("/iso-detect/joliet-before-primary", test_joliet_before_primary);
	int status = g_test_run();
	const char *rm[] = { "rm", "-rf", scratch, NULL };
	g_spawn_sync(NULL, (char **)rm, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL, NULL);
	return status;
}
