/* A machine's drives as a list the user edits one by one: a row per disk
 * spec (the image path with a file chooser, the bus, Disk or CD-ROM,
 * read-only, Remove) and Add Disk / Add CD-ROM buttons under them. Options
 * a row does not show (serial=, queues=) are kept with it unchanged. Each
 * row says under itself what is wrong with it (no path, a CD-ROM on
 * VirtIO...). New Disk… makes a sparse image in the machine's folder
 * (new-disk.c). The setting widget for `disks` (setting-widgets.c). */
#ifndef VIREO_DISK_LIST_H
#define VIREO_DISK_LIST_H

#include <gtk/gtk.h>
#include <stdbool.h>

#include "setting-field.h"

#define VIREO_TYPE_DISK_LIST (vireo_disk_list_get_type())
G_DECLARE_FINAL_TYPE(VireoDiskList, vireo_disk_list, VIREO, DISK_LIST, VireoSettingField)

/* Emits "changed" (no arguments) whenever a row is added, removed or edited. */
GtkWidget *vireo_disk_list_new(void);

/* Where New Disk… makes images; until it is set (NULL), there is no New Disk…. */
void vireo_disk_list_set_folder(VireoDiskList *list, const char *folder);

/* One row per spec of the NULL-terminated `specs` (NULL: none), replacing
 * the rows there were. */
void vireo_disk_list_load(VireoDiskList *list, char *const *specs);

#endif
