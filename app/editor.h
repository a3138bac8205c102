/* The machine editor: every setting of a machine's machine.ini, with the
 * widgets made from the settings table (setting-widgets.h), validated in
 * place and saved atomically through the machine library. */
#ifndef VIREO_EDITOR_H
#define VIREO_EDITOR_H

#include <gtk/gtk.h>

#include "library.h"

#define VIREO_TYPE_EDITOR (vireo_editor_get_type())
G_DECLARE_FINAL_TYPE(VireoEditor, vireo_editor, VIREO, EDITOR, GtkDialog)

/* Edits `entry` (not broken); `entries`: the library, for unique names (the
 * editor keeps a reference); `running`: say that changes apply at the next
 * start. GTK_RESPONSE_OK is emitted further only once machine.ini is saved;
 * a failed save is shown in the editor, which stays open. */
GtkWidget *vireo_editor_new(GtkWindow *parent, const struct library_entry *entry, GPtrArray *entries,
			    bool running);

#endif
