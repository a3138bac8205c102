/* Which operating system an installer ISO holds; see iso-detect.h.
 *
 * The image is untrusted: every directory record is checked against the
 * sector that holds it, a directory is read for at most DIR_MAX_SECTORS
 * whatever its length says, and all reads together stop at
 * ISO_DETECT_MAX_SECTORS. Paths are looked up component by component, so a
 * directory that names itself or its parent cannot make a loop. */
#include "iso-detect.h"

#include <fcntl.h>
#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "iso-label.h"

#define VD_MAX_SECTORS 32     /* descriptors, then UDF's recognition sequence */
#define DIR_MAX_SECTORS 64    /* a Windows sources/ directory takes ~20 */
#define INFO_MAX_BYTES 256    /* .disk/info's first line is what we show */

/* ECMA-119 8: volume descriptors (their type and identifier: iso-label.h). */
#define VD_SUPPLEMENTARY 2    /* ECMA-119 8.5 */
#define VD_ESCAPES 88         /* ECMA-119 8.5.6: Joliet says "%/@", "%/C" or "%/E" */
#define VD_ROOT_RECORD 156    /* ECMA-119 8.4.18 */

/* ECMA-119 9.1: a directory record. */
#define DR_LENGTH 0
#define DR_EXTENT 2           /* 9.1.3, little-endian half of both-byte order */
#define DR_DATA_LENGTH 10     /* 9.1.4 */
#define DR_FLAGS 25           /* 9.1.6 */
#define DR_FLAG_DIRECTORY 0x02
#define DR_NAME_LENGTH 32     /* 9.1.10 */
#define DR_NAME 33            /* 9.1.11 */
#define DR_MIN_LENGTH 34

struct iso_entry {
	uint32_t sector;
	uint32_t length;
	bool directory;
};

/* A directory hierarchy: the primary one (upper-case names, ";1" versions)
 * or Joliet's (UCS-2 big-endian names). */
struct iso_tree {
	struct iso_entry root;
	bool joliet;
};

struct iso_reader {
	int fd;
	unsigned sectors_read;
	struct iso_tree trees[2];    /* the primary's and the first Joliet one's, at most */
	unsigned n_trees;
	bool udf;
	char *label;
};

static bool read_sector(struct iso_reader *r, uint32_t sector, unsigned char *buf)
{
	if (r->sectors_read >= ISO_DETECT_MAX_SECTORS)
		return false;
	r->sectors_read++;
	return pread(r->fd, buf, ISO_SECTOR_SIZE, (off_t)sector * ISO_SECTOR_SIZE) == ISO_SECTOR_SIZE;
}

static uint32_t le32(const unsigned char *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static struct iso_entry entry_of(const unsigned char *record)
{
	return (struct iso_entry){ le32(record + DR_EXTENT), le32(record + DR_DATA_LENGTH),
				   record[DR_FLAGS] & DR_FLAG_DIRECTORY };
}

static bool is_joliet(const unsigned char *vd)
{
	const unsigned char *esc = vd + VD_ESCAPES;
	return esc[0] == '%' && esc[1] == '/' && (esc[2] == '@' || esc[2] == 'C' || esc[2] == 'E');
}

/* The volume descriptors (ECMA-119 8) up to the terminator and UDF's
 * NSR descriptor after it (ECMA-167 2/9.1), both in the first sectors.
 * Only the first primary and the first Joliet descriptor count, in
 * whatever order they come: a disc may carry more of either. */
static bool read_descriptors(struct iso_reader *r)
{
	unsigned char vd[ISO_SECTOR_SIZE];
	bool primary = false, joliet = false;
	for (uint32_t s = ISO_FIRST_DESCRIPTOR; s < ISO_FIRST_DESCRIPTOR + VD_MAX_SECTORS; s++) {
		if (!read_sector(r, s, vd))
			break;
		const char *id = (const char *)vd + ISO_DESCRIPTOR_ID;
		if (!memcmp(id, "NSR02", ISO_STANDARD_ID_LENGTH) || !memcmp(id, "NSR03", ISO_STANDARD_ID_LENGTH))
			r->udf = true;
		if (memcmp(id, ISO_STANDARD_ID, ISO_STANDARD_ID_LENGTH))
			continue;  /* UDF's BEA01/TEA01, or an empty sector */
		if (vd[ISO_DESCRIPTOR_TYPE] == ISO_PVD_TYPE && !primary) {
			r->trees[r->n_trees++] = (struct iso_tree){ entry_of(vd + VD_ROOT_RECORD), false };
			r->label = iso_label_of_descriptor(vd);
			primary = true;
		} else if (vd[ISO_DESCRIPTOR_TYPE] == VD_SUPPLEMENTARY && is_joliet(vd) && !joliet) {
			r->trees[r->n_trees++] = (struct iso_tree){ entry_of(vd + VD_ROOT_RECORD), true };
			joliet = true;
		}
	}
	return primary;
}

/* A record's name lower-cased, without its ";1" version and the "." that
 * ends a name with no extension; false for "." and ".." and for names
 * outside ASCII, which nothing we look for has. */
static bool record_name(const unsigned char *record, bool joliet, char *name, size_t size)
{
	unsigned length = record[DR_NAME_LENGTH];
	const unsigned char *raw = record + DR_NAME;
	size_t n = 0;
	if (length == 1 && raw[0] <= 1)
		return false;  /* ECMA-119 9.1.11: 0 is ".", 1 is ".." */
	for (unsigned i = 0; i + joliet < length && n + 1 < size; i += 1 + joliet) {
		if (joliet && raw[i])
			return false;
		unsigned char c = raw[i + joliet];
		if (c == ';' || c == 0 || c >= 0x80)
			break;
		name[n++] = g_ascii_tolower(c);
	}
	if (n && name[n - 1] == '.')
		n--;
	name[n] = 0;
	return n > 0;
}

/* The entry called `name` in `dir` (or, with `prefix`, the first whose name
 * starts with it). ECMA-119 6.8.1.1: no record crosses a sector, and a zero
 * length byte ends the sector's records. */
static bool find_entry(struct iso_reader *r, const struct iso_tree *tree, struct iso_entry dir,
		       const char *name, bool prefix, struct iso_entry *found)
{
	unsigned char sector[ISO_SECTOR_SIZE];
	uint32_t sectors = MIN(dir.length / ISO_SECTOR_SIZE + (dir.length % ISO_SECTOR_SIZE != 0), DIR_MAX_SECTORS);
	for (uint32_t s = 0; s < sectors; s++) {
		if (!read_sector(r, dir.sector + s, sector))
			return false;
		for (unsigned off = 0; off + DR_MIN_LENGTH <= ISO_SECTOR_SIZE;) {
			const unsigned char *record = sector + off;
			unsigned length = record[DR_LENGTH];
			if (length < DR_MIN_LENGTH || off + length > ISO_SECTOR_SIZE ||
			    DR_NAME + (unsigned)record[DR_NAME_LENGTH] > length)
				break;
			char here[256];
			if (record_name(record, tree->joliet, here, sizeof(here)) &&
			    (prefix ? g_str_has_prefix(here, name) : !strcmp(here, name))) {
				*found = entry_of(record);
				return true;
			}
			off += length;
		}
	}
	return false;
}

enum want { WANT_DIR, WANT_FILE, WANT_FILE_PREFIX };

/* `path` ("images/pxeboot/vmlinuz") in one tree; its last component a
 * directory, a file, or a file whose name starts with it. */
static bool find_in_tree(struct iso_reader *r, const struct iso_tree *tree, const char *path,
			 enum want want, struct iso_entry *found)
{
	g_auto(GStrv) parts = g_strsplit(path, "/", 0);
	struct iso_entry at = tree->root;
	for (unsigned i = 0; parts[i]; i++) {
		bool last = !parts[i + 1];
		if (!at.directory && i > 0)
			return false;
		if (!find_entry(r, tree, at, parts[i], last && want == WANT_FILE_PREFIX, &at))
			return false;
	}
	if (at.directory != (want == WANT_DIR))
		return false;
	*found = at;
	return true;
}

static bool find_path(struct iso_reader *r, const char *path, enum want want, struct iso_entry *found)
{
	for (unsigned t = 0; t < r->n_trees; t++)
		if (find_in_tree(r, &r->trees[t], path, want, found))
			return true;
	return false;
}

static bool has(struct iso_reader *r, const char *path, enum want want)
{
	struct iso_entry unused;
	return find_path(r, path, want, &unused);
}

/* Microsoft's labels name the build flavour: CCCOMA_X64FRE_EN-US_DV9,
 * CPBA_X64FRE_..., CENA_X64FREV_... ("fre": free, a release build). */
static bool windows_label(const char *label)
{
	static const char *const flavours[] = { "X64FRE", "X86FRE", "A64FRE" };
	g_autofree char *upper = label ? g_ascii_strup(label, -1) : NULL;
	for (size_t i = 0; upper && i < G_N_ELEMENTS(flavours); i++)
		if (strstr(upper, flavours[i]))
			return true;
	return false;
}

/* The installer's boot manager and its Windows image. A UDF-only disc
 * (oscdimg -u2) carries a single README in its ISO 9660 bridge; then UDF
 * and Microsoft's label are all there is to go by. */
static bool is_windows(struct iso_reader *r)
{
	if (has(r, "bootmgr", WANT_FILE) &&
	    (has(r, "sources/install.wim", WANT_FILE) || has(r, "sources/install.esd", WANT_FILE)))
		return true;
	return r->udf && windows_label(r->label);
}

/* The live systems' and installers' own folders, each where its makers put
 * the kernel. */
static bool is_linux(struct iso_reader *r)
{
	return has(r, "casper", WANT_DIR) ||                 /* Ubuntu */
	       has(r, "live", WANT_DIR) ||                   /* Debian live */
	       ((has(r, "install.amd", WANT_DIR) || has(r, "install", WANT_DIR)) &&
		has(r, ".disk/info", WANT_FILE)) ||          /* Debian's installer */
	       has(r, "images/pxeboot/vmlinuz", WANT_FILE_PREFIX) ||  /* Fedora, RHEL */
	       has(r, "isolinux/vmlinuz", WANT_FILE_PREFIX) ||
	       (has(r, "boot/grub", WANT_DIR) &&
		(has(r, "boot/vmlinuz", WANT_FILE_PREFIX) || has(r, "arch/boot", WANT_DIR)));  /* Arch */
}

/* .disk/info's first line up to the codename or the " - " before the
 * flavour: 'Debian GNU/Linux 12.8.0 "Bookworm" - Official amd64 ...' is
 * "Debian 12.8.0", 'Ubuntu 24.04.1 LTS "Noble Numbat" - ...' is
 * "Ubuntu 24.04.1 LTS". */
static char *friendly_name(const char *info)
{
	g_autofree char *name = g_strndup(info, strcspn(info, "\"\r\n"));
	char *dash = strstr(name, " - ");
	if (dash)
		*dash = 0;
	static const char gnu[] = " GNU/Linux";
	char *at = strstr(name, gnu);
	if (at)
		memmove(at, at + strlen(gnu), strlen(at + strlen(gnu)) + 1);
	g_strstrip(name);
	if (!*name || !g_utf8_validate(name, -1, NULL))
		return NULL;
	return g_steal_pointer(&name);
}

static char *disk_info_name(struct iso_reader *r)
{
	struct iso_entry info;
	unsigned char sector[ISO_SECTOR_SIZE];
	if (!find_path(r, ".disk/info", WANT_FILE, &info) || !info.length || !read_sector(r, info.sector, sector))
		return NULL;
	g_autofree char *text = g_strndup((const char *)sector, MIN(info.length, INFO_MAX_BYTES));
	return friendly_name(text);
}

void iso_detect(const char *path, struct iso_detection *out)
{
	*out = (struct iso_detection){ ISO_OS_UNKNOWN, NULL, 0 };
	struct iso_reader r = { .fd = open(path, O_RDONLY | O_CLOEXEC) };
	if (r.fd < 0)
		return;
	if (read_descriptors(&r)) {
		if (is_windows(&r)) {
			out->os = ISO_OS_WINDOWS;
		} else if (is_linux(&r)) {
			out->os = ISO_OS_LINUX;
			out->name = disk_info_name(&r);
		}
	}
	g_free(r.label);
	close(r.fd);
	out->sectors_read = r.sectors_read;
}

void iso_detection_clear(struct iso_detection *d)
{
	g_clear_pointer(&d->name, g_free);
}
