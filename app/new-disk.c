/* The New Disk dialog; see new-disk.h. */
#include "new-disk.h"

#include <glib/gi18n.h>
#include <string.h>

#include "library.h"
#include "setting-widgets.h"

#define NEW_DISK_DEFAULT_GIB 16
#define NEW_DISK_MAX_GIB (64 * 1024)  /* 64 TiB: ext4's largest file is 16 TiB, XFS's far more */

struct new_disk {
	char *folder;
	GtkEntry *name;
	GtkSpinButton *size;
	GtkWidget *message;
	new_disk_made_fn made;
	gpointer data;
};

static void new_disk_free(struct new_disk *nd)
{
	g_free(nd->folder);
	g_free(nd);
}

static bool is_taken(const char *path, char *const *taken)
{
	return g_file_test(path, G_FILE_TEST_EXISTS) || (taken && g_strv_contains((const char *const *)taken, path));
}

/* disk.img, else disk-2.img, disk-3.img...: the first that names nothing yet. */
static char *suggested_name(const char *folder, char *const *taken)
{
	for (unsigned n = 1;; n++) {
		g_autofree char *name = n == 1 ? g_strdup(LIBRARY_DISK_FILE) : g_strdup_printf("disk-%u.img", n);
		g_autofree char *path = g_build_filename(folder, name, NULL);
		if (!is_taken(path, taken))
			return g_steal_pointer(&name);
	}
}

/* Makes the image; false, saying why in the dialog, when it cannot. */
static bool make_disk(struct new_disk *nd)
{
	g_autofree char *name = g_strstrip(g_strdup(gtk_entry_get_text(nd->name)));
	g_autofree char *path = NULL;
	g_autoptr(GError) error = NULL;
	const char *problem = NULL;
	if (!*name)
		problem = _("Enter a file name.");
	else if (strpbrk(name, "/,;") || !strcmp(name, ".") || !strcmp(name, ".."))
		problem = _("A file name cannot be “.” or “..” or have “/”, “,” or “;” in it.");
	if (!problem) {
		path = g_build_filename(nd->folder, name, NULL);
		if (!library_create_disk(path, (uint64_t)gtk_spin_button_get_value_as_int(nd->size) << 30, &error))
			problem = error->message;
	}
	setting_message_show(GTK_LABEL(nd->message), problem, true);
	gtk_widget_set_visible(nd->message, problem != NULL);
	if (problem)
		return false;
	nd->made(path, nd->data);
	return true;
}

static void on_response(GtkDialog *dialog, int response, gpointer data)
{
	if (response != GTK_RESPONSE_ACCEPT || make_disk(data))
		gtk_widget_destroy(GTK_WIDGET(dialog));
}

static void attach_row(GtkGrid *grid, int row, const char *label_text, GtkWidget *field)
{
	GtkWidget *label = gtk_label_new_with_mnemonic(label_text);
	gtk_label_set_xalign(GTK_LABEL(label), 1);
	gtk_label_set_mnemonic_widget(GTK_LABEL(label), field);
	atk_object_set_name(gtk_widget_get_accessible(field), gtk_label_get_text(GTK_LABEL(label)));
	gtk_widget_set_hexpand(field, TRUE);
	gtk_grid_attach(grid, label, 0, row, 1, 1);
	gtk_grid_attach(grid, field, 1, row, 1, 1);
}

static GtkGrid *new_form(struct new_disk *nd, const char *name)
{
	GtkGrid *grid = GTK_GRID(gtk_grid_new());
	gtk_container_set_border_width(GTK_CONTAINER(grid), 18);
	gtk_grid_set_row_spacing(grid, 6);
	gtk_grid_set_column_spacing(grid, 12);
	nd->name = GTK_ENTRY(gtk_entry_new());
	gtk_entry_set_text(nd->name, name);
	gtk_entry_set_activates_default(nd->name, TRUE);
	nd->size = GTK_SPIN_BUTTON(gtk_spin_button_new_with_range(1, NEW_DISK_MAX_GIB, 1));
	gtk_spin_button_set_value(nd->size, NEW_DISK_DEFAULT_GIB);
	gtk_entry_set_activates_default(GTK_ENTRY(nd->size), TRUE);
	nd->message = gtk_label_new(NULL);
	gtk_label_set_xalign(GTK_LABEL(nd->message), 0);
	gtk_label_set_line_wrap(GTK_LABEL(nd->message), TRUE);
	gtk_label_set_max_width_chars(GTK_LABEL(nd->message), 40);
	gtk_widget_set_no_show_all(nd->message, TRUE);
	attach_row(grid, 0, _("_File name"), GTK_WIDGET(nd->name));
	attach_row(grid, 1, _("_Size (GiB)"), GTK_WIDGET(nd->size));
	gtk_grid_attach(grid, nd->message, 0, 2, 2, 1);
	return grid;
}

GtkWidget *new_disk_dialog_show(GtkWidget *parent, const char *folder, char *const *taken, new_disk_made_fn made,
				gpointer data)
{
	GtkWidget *toplevel = gtk_widget_get_toplevel(parent);
	struct new_disk *nd = g_new0(struct new_disk, 1);
	g_autofree char *name = suggested_name(folder, taken);
	GtkWidget *dialog = gtk_dialog_new_with_buttons(
		_("New Disk"), GTK_IS_WINDOW(toplevel) ? GTK_WINDOW(toplevel) : NULL,
		GTK_DIALOG_MODAL | GTK_DIALOG_DESTROY_WITH_PARENT | GTK_DIALOG_USE_HEADER_BAR, _("_Cancel"),
		GTK_RESPONSE_CANCEL, _("C_reate"), GTK_RESPONSE_ACCEPT, NULL);
	nd->folder = g_strdup(folder);
	nd->made = made;
	nd->data = data;
	g_object_set_data_full(G_OBJECT(dialog), "new-disk", nd, (GDestroyNotify)new_disk_free);
	gtk_dialog_set_default_response(GTK_DIALOG(dialog), GTK_RESPONSE_ACCEPT);
	gtk_container_add(GTK_CONTAINER(gtk_dialog_get_content_area(GTK_DIALOG(dialog))),
			  GTK_WIDGET(new_form(nd, name)));
	g_signal_connect(dialog, "response", G_CALLBACK(on_response), nd);
	gtk_widget_show_all(dialog);
	return dialog;
}
