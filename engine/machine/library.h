/* The machine library: one folder per machine under
 * $XDG_DATA_HOME/vireo/machines/, holding machine.ini, the machine's disk
 * images and a thumbnail. The app lists, creates and deletes machines only
 * through here, so a machine folder has one layout and one set of rules. */
#ifndef VIREO_LIBRARY_H
#define VIREO_LIBRARY_H

#include "machine.h"

#define LIBRARY_MACHINE_FILE "machine.ini"
#define LIBRARY_THUMBNAIL_FILE "thumbnail.png"
#define LIBRARY_ENGINE_LOG_FILE "engine.log"  /* the engine's stderr, written by the app */

/* One machine folder: loaded, or broken with the reason. */
struct library_entry {
	char *id;        /* the folder's name, unique in the library */
	char *folder;    /* absolute path of the folder */
	char *ini_path;  /* folder/machine.ini */
	struct vireo_machine machine;  /* valid unless broken */
	GError *broken;  /* why machine.ini could not be loaded, or NULL */
};

/* $XDG_DATA_HOME/vireo/machines (not created). */
char *library_default_dir(void);

/* Every machine folder in `dir`, sorted by machine name (broken ones by
 * folder name), as struct library_entry *; folders starting with '.' are
 * work in progress and skipped. A missing `dir` is an empty library; only an
 * unreadable `dir` is an error. */
GPtrArray *library_list(const char *dir, GError **error);
void library_entry_free(struct library_entry *entry);

/* Is `name` the name of a machine in `entries` (case-insensitive, as users
 * read names)? */
bool library_name_in_use(GPtrArray *entries, const char *name);

/* `base` when no machine has that name, else "base 2", "base 3", ... */
char *library_unique_name(GPtrArray *entries, const char *base);

/* A new MAC address for a machine's network card: a locally administered
 * unicast one in QEMU's 52:54:00 range, as clones and the editor's New get. */
char *library_new_mac(void);

#define LIBRARY_DISK_FILE "disk.img"

/* Private by default: other users on the computer cannot list a machine's
 * folder or read its disks (nor the library folder the app makes). */
#define LIBRARY_FOLDER_MODE 0700
#define LIBRARY_FILE_MODE MACHINE_FILE_MODE

/* Makes a sparse raw image of `bytes` at `path` (next to nothing
 * allocated), LIBRARY_FILE_MODE; fails, touching nothing, when `path`
 * exists. */
bool library_create_disk(const char *path, uint64_t bytes, GError **error);

/* Makes a new machine folder (LIBRARY_FOLDER_MODE) in `dir` (created if needed) named after
 * m->name, made unique with a "-2", "-3"... suffix, and writes machine.ini
 * there. With disk_bytes, a sparse raw image of that size is made there
 * too (disk.img) and becomes the machine's first disk. The folder appears
 * complete or not at all. Returns the folder. */
char *library_create(const char *dir, const struct vireo_machine *m, uint64_t disk_bytes, GError **error);

/* library_create, the new image's disk spec taking `disk_options` (e.g.
 * "bus=sata"; NULL: none), so it hangs off the controller a guest expects. */
char *library_create_with_disk(const char *dir, const struct vireo_machine *m, uint64_t disk_bytes,
			       const char *disk_options, GError **error);

/* Copies the stopped machine in `folder` into a new folder in `dir` (made
 * as library_create does) named `new_name`. Every file in its folder but the
 * engine's log and the thumbnail is copied sparsely: a reflink where the
 * file system shares blocks, else only the data regions (SEEK_DATA), so a
 * copy of a sparse image stays sparse. The copy gets an identity of its own:
 * a new MAC address when its net names one, new serials for disks that
 * have one. Files outside the folder (an ISO) are shared, not copied. The
 * copies are LIBRARY_FILE_MODE whatever the originals' modes.
 * Returns the new folder. */
char *library_clone(const char *dir, const char *folder, const char *new_name, GError **error);

/* Keeps a disc change in the machine's machine.ini: CD-ROM drive `number`
 * (from 1, as machine_cdrom_drives numbers them) gets the ISO at `path`,
 * or with path NULL stays empty; its other options and every other setting
 * are kept. Saved atomically (machine_save), as the settings editor does. */
bool library_set_disc(const char *ini_path, unsigned number, const char *path, GError **error);

/* The paths of m's disk images that exist in its folder (its own, which
 * a delete may keep), as a GPtrArray of strings. */
GPtrArray *library_own_disks(const struct vireo_machine *m, const char *folder);

/* Deletes a machine folder and everything in it. With `keep_disks_in`, the
 * machine's disk images that live in its folder are first moved into that
 * folder (created if needed) under unique names. Files outside the machine
 * folder (an ISO, a shared kernel) are never touched. */
bool library_delete(const char *folder, const char *keep_disks_in, GError **error);

#endif
