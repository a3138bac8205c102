/* The machine library: machine folders listed, created and deleted. */
#include "library.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>

#define FOLDER_NAME_MAX 64
#define SERIAL_HEX_DIGITS 12   /* within the 20 characters of an ATA/virtio serial */

char *library_default_dir(void)
{
	return g_build_filename(g_get_user_data_dir(), "vireo", "machines", NULL);
}

void library_entry_free(struct library_entry *entry)
{
	if (!entry)
		return;
	g_free(entry->id);
	g_free(entry->folder);
	g_free(entry->ini_path);
	machine_clear(&entry->machine);
	g_clear_error(&entry->broken);
	g_free(entry);
}

/* Errors from machine_load start with the file's path; inside the library
 * "machine.ini:3: ..." says the same and fits in a list row. */
static void shorten_reason(GError *error, const char *folder)
{
	size_t len = strlen(folder);
	if (!strncmp(error->message, folder, len) && error->message[len] == G_DIR_SEPARATOR) {
		char *shorter = g_strdup(error->message + len + 1);
		g_free(error->message);
		error->message = shorter;
	}
}

static struct library_entry *load_entry(const char *dir, const char *id)
{
	struct library_entry *entry = g_new0(struct library_entry, 1);
	entry->id = g_strdup(id);
	entry->folder = g_build_filename(dir, id, NULL);
	entry->ini_path = g_build_filename(entry->folder, LIBRARY_MACHINE_FILE, NULL);
	machine_init(&entry->machine);
	if (!machine_load(&entry->machine, entry->ini_path, &entry->broken)) {
		shorten_reason(entry->broken, entry->folder);
		machine_clear(&entry->machine);
		machine_init(&entry->machine);
	}
	return entry;
}

static const char *entry_sort_key(const struct library_entry *entry)
{
	return entry->broken ? entry->id : entry->machine.name;
}

static gint compare_entries(gconstpointer a, gconstpointer b)
{
	const struct library_entry *x = *(struct library_entry *const *)a;
	const struct library_entry *y = *(struct library_entry *const *)b;
	int order = g_utf8_collate(entry_sort_key(x), entry_sort_key(y));
	return order ? order : strcmp(x->id, y->id);
}

GPtrArray *library_list(const char *dir, GError **error)
{
	GPtrArray *entries = g_ptr_array_new_with_free_func((GDestroyNotify)library_entry_free);
	GError *open_error = NULL;
	GDir *d = g_dir_open(dir, 0, &open_error);
	if (!d) {
		if (g_error_matches(open_error, G_FILE_ERROR, G_FILE_ERROR_NOENT)) {
			g_error_free(open_error);
			return entries;
		}
		g_propagate_prefixed_error(error, open_error, _("cannot read the machine library: "));
		g_ptr_array_unref(entries);
		return NULL;
	}
	const char *id;
	while ((id = g_dir_read_name(d))) {
		g_autofree char *folder = g_build_filename(dir, id, NULL);
		if (id[0] == '.' || !g_file_test(folder, G_FILE_TEST_IS_DIR))
			continue;
		g_ptr_array_add(entries, load_entry(dir, id));
	}
	g_dir_close(d);
	g_ptr_array_sort(entries, compare_entries);
	return entries;
}

bool library_name_in_use(GPtrArray *entries, const char *name)
{
	g_autofree char *wanted = g_utf8_casefold(name, -1);
	for (unsigned i = 0; i < entries->len; i++) {
		const struct library_entry *entry = entries->pdata[i];
		if (entry->broken)
			continue;
		g_autofree char *have = g_utf8_casefold(entry->machine.name, -1);
		if (!strcmp(have, wanted))
			return true;
	}
	return false;
}

char *library_unique_name(GPtrArray *entries, const char *base)
{
	char *name = g_strdup(base);
	for (unsigned n = 2; library_name_in_use(entries, name); n++) {
		g_free(name);
		name = g_strdup_printf("%s %u", base, n);
	}
	return name;
}

/* A folder name from a machine name: no separators, no leading dot, no
 * control characters, at most FOLDER_NAME_MAX bytes of whole characters. */
static char *folder_name_for(const char *name)
{
	GString *folder = g_string_new(NULL);
	const char *p = g_utf8_validate(name, -1, NULL) ? name : "";
	for (; *p && folder->len < FOLDER_NAME_MAX; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);
		if (c == '/' || c == '\\' || g_unichar_iscntrl(c) || (folder->len == 0 && (c == '.' || c == ' ')))
			c = '-';
		if (folder->len + (size_t)g_unichar_to_utf8(c, NULL) > FOLDER_NAME_MAX)
			break;
		g_string_append_unichar(folder, c);
	}
	if (folder->len == 0)
		g_string_assign(folder, "machine");
	return g_string_free(folder, FALSE);
}

/* Moves `from` to dir/name, or dir/name-2, dir/name-3...: never replaces. */
static char *rename_unique(const char *from, const char *dir, const char *name, GError **error)
{
	for (unsigned n = 1; n < 10000; n++) {
		g_autofree char *candidate = n == 1 ? g_strdup(name) : g_strdup_printf("%s-%u", name, n);
		char *to = g_build_filename(dir, candidate, NULL);
		if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
			return to;
		int err = errno;
		g_free(to);
		if (err != EEXIST) {
			g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(err), _("cannot move %s into %s: %s"),
				    from, dir, g_strerror(err));
			return NULL;
		}
	}
	g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_EXIST, _("no free name for %s in %s"), name, dir);
	return NULL;
}

static int remove_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st, (void)type, (void)ftw;
	return remove(path) ? -1 : 0;
}

/* Removes a folder tree without following symbolic links out of it. */
static bool remove_tree(const char *folder, GError **error)
{
	if (nftw(folder, remove_one, 16, FTW_DEPTH | FTW_PHYS) == 0)
		return true;
	int err = errno;
	g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(err), _("cannot delete %s: %s"), folder,
		    g_strerror(err));
	return false;
}

/* O_EXCL: an existing file is never overwritten. */
bool library_create_disk(const char *path, uint64_t bytes, GError **error)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, LIBRARY_FILE_MODE);
	if (fd < 0 || ftruncate(fd, (off_t)bytes) || fsync(fd)) {
		int err = errno;
		if (fd >= 0) {
			close(fd);
			unlink(path);
		}
		g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(err), _("cannot create disk image %s: %s"),
			    path, g_strerror(err));
		return false;
	}
	close(fd);
	return true;
}

/* machine.ini (and the disk image) in the work folder `work`. */
static bool fill_folder(const char *work, const struct vireo_machine *m, uint64_t disk_bytes,
			const char *disk_options, GError **error)
{
	g_autofree char *ini = g_build_filename(work, LIBRARY_MACHINE_FILE, NULL);
	if (!disk_bytes)
		return machine_save(m, ini, error);
	g_autofree char *disk = g_build_filename(work, LIBRARY_DISK_FILE, NULL);
	if (!library_create_disk(disk, disk_bytes, error))
		return false;
	/* A shallow copy whose disk list starts with the new image; written
	 * relative to the folder, so the rename below keeps it valid. */
	struct vireo_machine with_disk = *m;
	guint count = m->disks ? g_strv_length(m->disks) : 0;
	g_autofree char **disks = g_new0(char *, count + 2);
	g_autofree char *spec = disk_options ? g_strconcat(disk, ",", disk_options, NULL) : g_strdup(disk);
	disks[0] = spec;
	for (guint i = 0; i < count; i++)
		disks[i + 1] = m->disks[i];
	with_disk.disks = disks;
	return machine_save(&with_disk, ini, error);
}

/* A hidden work folder in `dir` (created if needed): a machine is built
 * there, then moved into place in one rename. */
static char *make_work_folder(const char *dir, GError **error)
{
	if (g_mkdir_with_parents(dir, LIBRARY_FOLDER_MODE)) {
		int err = errno;
		g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(err), _("cannot create %s: %s"), dir,
			    g_strerror(err));
		return NULL;
	}
	char *work = g_build_filename(dir, ".new-XXXXXX", NULL);
	if (!g_mkdtemp_full(work, LIBRARY_FOLDER_MODE)) {
		int err = errno;
		g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(err), _("cannot create a folder in %s: %s"),
			    dir, g_strerror(err));
		g_free(work);
		return NULL;
	}
	return work;
}

/* The work folder, filled, moved into place under a name from `name`. */
static char *publish_work_folder(const char *work, const char *dir, const char *name, bool filled,
				 GError **error)
{
	g_autofree char *folder_name = folder_name_for(name);
	char *folder = filled ? rename_unique(work, dir, folder_name, error) : NULL;
	if (!folder)
		remove_tree(work, NULL);
	return folder;
}

char *library_create(const char *dir, const struct vireo_machine *m, uint64_t disk_bytes, GError **error)
{
	return library_create_with_disk(dir, m, disk_bytes, NULL, error);
}

char *library_create_with_disk(const char *dir, const struct vireo_machine *m, uint64_t disk_bytes,
			       const char *disk_options, GError **error)
{
	g_autofree char *work = make_work_folder(dir, error);
	if (!work)
		return NULL;
	return publish_work_folder(work, dir, m->name, fill_folder(work, m, disk_bytes, disk_options, error), error);
}

static bool copy_error(GError **error, const char *from, int err)
{
	g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(err), _("cannot copy %s: %s"), from, g_strerror(err));
	return false;
}

/* Copies [start, end) of `in` to the same place in `out`. */
static bool copy_range(int in, int out, off_t start, off_t end)
{
	off_t in_pos = start, out_pos = start;
	while (in_pos < end) {
		ssize_t n = copy_file_range(in, &in_pos, out, &out_pos, (size_t)MIN(end - in_pos, 1 << 30), 0);
		if (n <= 0) {
			if (n == 0)
				errno = EIO;  /* the file shrank under us */
			return false;
		}
	}
	return true;
}

/* The data regions only, found with SEEK_DATA/SEEK_HOLE: holes stay holes. */
static bool copy_data_regions(int in, int out, off_t size)
{
	off_t data = 0;
	while (data < size && (data = lseek(in, data, SEEK_DATA)) >= 0) {
		off_t hole = lseek(in, data, SEEK_HOLE);
		if (hole < 0 || !copy_range(in, out, data, hole))
			return false;
		data = hole;
	}
	/* ENXIO: no data after `data`, the rest is a hole. */
	return (data >= 0 || errno == ENXIO) && ftruncate(out, size) == 0;
}

/* A sparse copy: a reflink (FICLONE) where the file system shares blocks. */
static bool copy_file_sparse(const char *from, const char *to, GError **error)
{
	struct stat st;
	int in = open(from, O_RDONLY | O_CLOEXEC);
	if (in < 0 || fstat(in, &st)) {
		int err = errno;
		if (in >= 0)
			close(in);
		return copy_error(error, from, err);
	}
	int out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, LIBRARY_FILE_MODE);
	bool ok = out >= 0 && (ioctl(out, FICLONE, in) == 0 || copy_data_regions(in, out, st.st_size)) &&
		  fsync(out) == 0;
	int err = errno;
	close(in);
	if (out >= 0)
		close(out);
	return ok || copy_error(error, from, err);
}

/* The files that are the machine's own, not state of its last run. */
static bool is_copied_with_machine(const char *name)
{
	return strcmp(name, LIBRARY_MACHINE_FILE) && strcmp(name, LIBRARY_ENGINE_LOG_FILE) &&
	       strcmp(name, LIBRARY_THUMBNAIL_FILE) && name[0] != '.';
}

static bool copy_folder_files(const char *folder, const char *work, GError **error)
{
	GDir *d = g_dir_open(folder, 0, error);
	if (!d)
		return false;
	bool ok = true;
	const char *name;
	while (ok && (name = g_dir_read_name(d))) {
		g_autofree char *from = g_build_filename(folder, name, NULL);
		g_autofree char *to = g_build_filename(work, name, NULL);
		if (is_copied_with_machine(name) && g_file_test(from, G_FILE_TEST_IS_REGULAR) &&
		    !g_file_test(from, G_FILE_TEST_IS_SYMLINK))
			ok = copy_file_sparse(from, to, error);
	}
	g_dir_close(d);
	return ok;
}

/* `spec` (comma-separated options) with the value of every `key=` option
 * replaced by `value`. */
static char *replace_option(const char *spec, const char *key, const char *value)
{
	g_auto(GStrv) parts = g_strsplit(spec, ",", -1);
	g_autofree char *prefix = g_strconcat(key, "=", NULL);
	for (unsigned i = 1; parts[i]; i++)
		if (g_str_has_prefix(parts[i], prefix)) {
			g_free(parts[i]);
			parts[i] = g_strconcat(prefix, value, NULL);
		}
	return g_strjoinv(",", parts);
}

char *library_new_mac(void)
{
	guint32 r = g_random_int();
	return g_strdup_printf("52:54:00:%02x:%02x:%02x", r & 0xff, (r >> 8) & 0xff, (r >> 16) & 0xff);
}

static char *new_serial(void)
{
	char *serial = g_malloc(SERIAL_HEX_DIGITS + 1);
	for (unsigned i = 0; i < SERIAL_HEX_DIGITS; i++)
		serial[i] = "0123456789ABCDEF"[g_random_int_range(0, 16)];
	serial[SERIAL_HEX_DIGITS] = 0;
	return serial;
}

/* display `vnc=[ADDR]:PORT,...` as `vnc=ADDR,...`: a copy on the same
 * fixed port could not run beside its original, so it takes the first free
 * port instead (virt-clone does the same). Other displays stay. */
static char *display_with_free_port(const char *display)
{
	g_auto(GStrv) parts = g_strsplit(display, ",", -1);
	char *colon = parts[0] && g_str_has_prefix(parts[0], "vnc=") ? strchr(parts[0], ':') : NULL;
	if (colon)
		*colon = 0;
	if (colon && !strcmp(parts[0], "vnc="))
		parts[0][3] = 0;  /* no address: the default one */
	return g_strjoinv(",", parts);
}

/* The clone's identity: its name, a new MAC address, new disk serials, and
 * its own VNC port. */
static void give_new_identity(struct vireo_machine *m, const char *new_name)
{
	g_free(m->name);
	m->name = g_strdup(new_name);
	if (m->net && strstr(m->net, "mac=")) {
		g_autofree char *mac = library_new_mac();
		char *net = replace_option(m->net, "mac", mac);
		g_free(m->net);
		m->net = net;
	}
	for (unsigned i = 0; m->disks && m->disks[i]; i++) {
		g_autofree char *serial = new_serial();
		char *disk = replace_option(m->disks[i], "serial", serial);
		g_free(m->disks[i]);
		m->disks[i] = disk;
	}
	if (m->display) {
		char *display = display_with_free_port(m->display);
		g_free(m->display);
		m->display = display;
	}
}

/* machine.ini for the copy: written relative to the original's folder, so
 * its own files resolve to their copies and the others stay shared. */
static bool write_clone_ini(const char *folder, const char *work, const char *new_name, GError **error)
{
	g_autofree char *ini = g_build_filename(folder, LIBRARY_MACHINE_FILE, NULL);
	g_autofree char *copy_ini = g_build_filename(work, LIBRARY_MACHINE_FILE, NULL);
	struct vireo_machine m;
	machine_init(&m);
	bool ok = machine_load(&m, ini, error);
	if (ok) {
		give_new_identity(&m, new_name);
		g_autofree char *text = machine_to_ini(&m, folder);
		ok = g_file_set_contents_full(copy_ini, text, -1, G_FILE_SET_CONTENTS_CONSISTENT, LIBRARY_FILE_MODE,
					      error);
	}
	machine_clear(&m);
	return ok;
}

bool library_set_disc(const char *ini_path, unsigned number, const char *path, GError **error)
{
	struct vireo_machine m;
	machine_init(&m);
	bool ok = machine_load(&m, ini_path, error) && machine_set_disc(&m, number, path, error) &&
		  machine_save(&m, ini_path, error);
	machine_clear(&m);
	return ok;
}

char *library_clone(const char *dir, const char *folder, const char *new_name, GError **error)
{
	g_autofree char *work = make_work_folder(dir, error);
	if (!work)
		return NULL;
	bool filled = write_clone_ini(folder, work, new_name, error) && copy_folder_files(folder, work, error);
	return publish_work_folder(work, dir, new_name, filled, error);
}

GPtrArray *library_own_disks(const struct vireo_machine *m, const char *folder)
{
	GPtrArray *own = g_ptr_array_new_with_free_func(g_free);
	for (unsigned i = 0; m->disks && m->disks[i]; i++) {
		struct machine_disk disk;
		if (!machine_parse_disk(m->disks[i], &disk, NULL))
			continue;
		g_autofree char *where = g_path_get_dirname(disk.path);
		if (!strcmp(where, folder) && g_file_test(disk.path, G_FILE_TEST_IS_REGULAR))
			g_ptr_array_add(own, g_strdup(disk.path));
		machine_disk_clear(&disk);
	}
	return own;
}

/* Moves the machine's disk images that live in `folder` into `keep_in`. */
static bool keep_disks(const char *folder, const char *keep_in, GError **error)
{
	struct vireo_machine m;
	g_autofree char *ini = g_build_filename(folder, LIBRARY_MACHINE_FILE, NULL);
	g_autofree char *id = g_path_get_basename(folder);
	machine_init(&m);
	if (!machine_load(&m, ini, NULL)) {
		machine_clear(&m);
		return true;  /* a broken machine names no disks we could keep */
	}
	g_autoptr(GPtrArray) own = library_own_disks(&m, folder);
	machine_clear(&m);
	if (own->len && g_mkdir_with_parents(keep_in, 0755)) {
		int err = errno;
		g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(err), _("cannot create %s: %s"), keep_in,
			    g_strerror(err));
		return false;
	}
	for (unsigned i = 0; i < own->len; i++) {
		g_autofree char *base = g_path_get_basename(own->pdata[i]);
		g_autofree char *name = g_strdup_printf("%s-%s", id, base);
		g_autofree char *kept = rename_unique(own->pdata[i], keep_in, name, error);
		if (!kept)
			return false;
	}
	return true;
}

bool library_delete(const char *folder, const char *keep_disks_in, GError **error)
{
	if (keep_disks_in && !keep_disks(folder, keep_disks_in, error))
		return false;
	/* Out of the listing first, so a crash halfway leaves no half machine. */
	g_autofree char *dir = g_path_get_dirname(folder);
	g_autofree char *hidden = g_strdup_printf(".deleting-%08x", g_random_int());
	g_autofree char *gone = rename_unique(folder, dir, hidden, error);
	return gone && remove_tree(gone, error);
}
