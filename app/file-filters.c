/* File chooser filters; see file-filters.h. */
#include "file-filters.h"

#include <glib/gi18n.h>

static void add_filter(GtkFileChooser *chooser, const char *name, const char *const *patterns)
{
	GtkFileFilter *filter = gtk_file_filter_new();
	gtk_file_filter_set_name(filter, name);
	for (unsigned i = 0; patterns[i]; i++)
		gtk_file_filter_add_pattern(filter, patterns[i]);
	gtk_file_chooser_add_filter(chooser, filter);
}

void file_filters_add_discs(GtkFileChooser *chooser)
{
	static const char *const patterns[] = { "*.iso", "*.ISO", NULL };
	add_filter(chooser, _("Disc images"), patterns);
}

void file_filters_add_raw_disks(GtkFileChooser *chooser)
{
	static const char *const patterns[] = { "*.img", "*.raw", "*.IMG", NULL };
	add_filter(chooser, _("Raw disk images"), patterns);
}

void file_filters_add_all(GtkFileChooser *chooser)
{
	static const char *const patterns[] = { "*", NULL };
	add_filter(chooser, _("All files"), patterns);
}
