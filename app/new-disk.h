/* The New Disk dialog of the disk list: a file name and a size, and a
 * sparse raw image made in the machine's folder (never over a file that
 * exists; what went wrong is said in the dialog, which stays open). */
#ifndef VIREO_NEW_DISK_H
#define VIREO_NEW_DISK_H

#include <gtk/gtk.h>

/* Called with the new image's path once it exists. */
typedef void (*new_disk_made_fn)(const char *path, gpointer data);

/* Shows the dialog, modal over `parent`'s window; `taken`: paths the
 * suggested name avoids besides the files in `folder` (NULL-terminated or
 * NULL). Returns the dialog, which destroys itself when done. */
GtkWidget *new_disk_dialog_show(GtkWidget *parent, const char *folder, char *const *taken, new_disk_made_fn made,
				gpointer data);

#endif
