/* The filters file choosers offer, shared so the New Machine assistant and
 * Change CD… name and match disc images alike. */
#ifndef VIREO_FILE_FILTERS_H
#define VIREO_FILE_FILTERS_H

#include <gtk/gtk.h>

/* "Disc images": *.iso in either case. */
void file_filters_add_discs(GtkFileChooser *chooser);
/* "Raw disk images": *.img, *.raw. */
void file_filters_add_raw_disks(GtkFileChooser *chooser);
/* "All files". */
void file_filters_add_all(GtkFileChooser *chooser);

#endif
