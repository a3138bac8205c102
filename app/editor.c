/* The machine editor; see editor.h. */
#include "editor.h"

#include <glib/gi18n.h>

#include "setting-labels.h"
#include "setting-widgets.h"

struct _VireoEditor {
	GtkDialog parent;
	GtkLabel *notice;
	GtkGrid *settings_grid;
	GtkWidget *save_button;
	GPtrArray *widgets;   /* struct setting_widget *, in table order */
	GPtrArray *entries;
	char *original_name;
	char *folder;
	char *ini_path;
	bool loading;         /* the fields are being filled: not the user's changes */
};

G_DEFINE_TYPE(VireoEditor, vireo_editor, GTK_TYPE_DIALOG)

static struct setting_widget *name_widget(VireoEditor *self)
{
	for (unsigned i = 0; i < self->widgets->len; i++)
		if (!strcmp(setting_widget_setting(self->widgets->pdata[i])->key, "name"))
			return self->widgets->pdata[i];
	return NULL;
}

/* A name is needed, and one no other machine has (its own is fine). */
static bool check_name(VireoEditor *self, const struct vireo_machine *m, bool name_set)
{
	g_autofree char *wanted = g_utf8_casefold(m->name, -1);
	g_autofree char *own = g_utf8_casefold(self->original_name, -1);
	if (!name_set) {
		setting_widget_show_message(name_widget(self), _("Enter a name for the machine."), true);
		return false;
	}
	if (strcmp(wanted, own) && library_name_in_use(self->entries, m->name)) {
		g_autofree char *text = g_strdup_printf(_("A machine called “%s” already exists."), m->name);
		setting_widget_show_message(name_widget(self), text, true);
		return false;
	}
	return true;
}

/* The machine as the fields say, from the defaults up; false when a field
 * is wrong (it says so under itself). */
static bool read_fields(VireoEditor *self, struct vireo_machine *m)
{
	bool ok = true;
	machine_init(m);
	g_clear_pointer(&m->name, g_free);
	for (unsigned i = 0; i < self->widgets->len; i++)
		ok &= setting_widget_apply(self->widgets->pdata[i], m, self->folder);
	bool name_set = m->name != NULL;
	if (!name_set)
		m->name = g_strdup("");
	return check_name(self, m, name_set) && ok;
}

static void on_field_changed(gpointer data)
{
	VireoEditor *self = data;
	struct vireo_machine m;
	if (self->loading)
		return;
	gtk_widget_set_sensitive(self->save_button, read_fields(self, &m));
	machine_clear(&m);
}

/* Saves on OK; a failure keeps the editor open and says why. */
static void on_response(GtkDialog *dialog, int response, gpointer data)
{
	(void)data;
	VireoEditor *self = VIREO_EDITOR(dialog);
	struct vireo_machine m;
	g_autoptr(GError) error = NULL;
	if (response != GTK_RESPONSE_OK)
		return;
	bool ok = read_fields(self, &m) && machine_save(&m, self->ini_path, &error);
	machine_clear(&m);
	if (ok)
		return;
	if (error) {
		setting_message_show(self->notice, error->message, true);
		gtk_widget_show(GTK_WIDGET(self->notice));
	}
	g_signal_stop_emission_by_name(dialog, "response");
}

static GtkWidget *new_heading(const char *text)
{
	GtkWidget *label = gtk_label_new(text);
	gtk_label_set_xalign(GTK_LABEL(label), 0);
	gtk_style_context_add_class(gtk_widget_get_style_context(label), "heading");
	gtk_widget_show(label);
	return label;
}

/* One widget per setting of the table, under its group's heading. */
static void add_widgets(VireoEditor *self, const struct vireo_machine *m)
{
	const char *group = NULL;
	int row = 0;
	for (size_t i = 0; i < machine_settings_count; i++) {
		const struct machine_setting *s = &machine_settings[i];
		if (!group || strcmp(group, s->group)) {
			group = s->group;
			gtk_grid_attach(self->settings_grid, new_heading(setting_group_title(group)), 0, row++, 2, 1);
		}
		struct setting_widget *sw = setting_widget_new(s, on_field_changed, self);
		setting_widget_set_folder(sw, self->folder);
		setting_widget_load(sw, m);
		setting_widget_attach(sw, self->settings_grid, row, 1);
		row += 2;
		g_ptr_array_add(self->widgets, sw);
	}
}

static void vireo_editor_dispose(GObject *object)
{
	VireoEditor *self = VIREO_EDITOR(object);
	g_clear_pointer(&self->widgets, g_ptr_array_unref);
	g_clear_pointer(&self->entries, g_ptr_array_unref);
	G_OBJECT_CLASS(vireo_editor_parent_class)->dispose(object);
}

static void vireo_editor_finalize(GObject *object)
{
	VireoEditor *self = VIREO_EDITOR(object);
	g_free(self->original_name);
	g_free(self->folder);
	g_free(self->ini_path);
	G_OBJECT_CLASS(vireo_editor_parent_class)->finalize(object);
}

static void vireo_editor_class_init(VireoEditorClass *klass)
{
	GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);
	G_OBJECT_CLASS(klass)->dispose = vireo_editor_dispose;
	G_OBJECT_CLASS(klass)->finalize = vireo_editor_finalize;
	gtk_widget_class_set_template_from_resource(widget_class, "/io/github/vireo/Vireo/ui/editor.ui");
	gtk_widget_class_bind_template_child(widget_class, VireoEditor, notice);
	gtk_widget_class_bind_template_child(widget_class, VireoEditor, settings_grid);
	gtk_widget_class_bind_template_child(widget_class, VireoEditor, save_button);
}

static void vireo_editor_init(VireoEditor *self)
{
	gtk_widget_init_template(GTK_WIDGET(self));
	self->widgets = g_ptr_array_new_with_free_func((GDestroyNotify)setting_widget_free);
	g_signal_connect(self, "response", G_CALLBACK(on_response), NULL);
}

GtkWidget *vireo_editor_new(GtkWindow *parent, const struct library_entry *entry, GPtrArray *entries,
			    bool running)
{
	VireoEditor *self = g_object_new(VIREO_TYPE_EDITOR, "transient-for", parent, "use-header-bar", TRUE,
					 "title", _("Machine Settings"), NULL);
	GtkHeaderBar *bar = GTK_HEADER_BAR(gtk_dialog_get_header_bar(GTK_DIALOG(self)));
	self->entries = g_ptr_array_ref(entries);
	self->original_name = g_strdup(entry->machine.name);
	self->folder = g_strdup(entry->folder);
	self->ini_path = g_strdup(entry->ini_path);
	gtk_header_bar_set_subtitle(bar, entry->machine.name);
	gtk_widget_set_visible(GTK_WIDGET(self->notice), running);
	self->loading = true;
	add_widgets(self, &entry->machine);
	self->loading = false;
	on_field_changed(self);
	return GTK_WIDGET(self);
}
