/* The setting widgets; see setting-widgets.h. */
#include "setting-widgets.h"

#include <glib/gi18n.h>

#include "disk-list.h"
#include "display-field.h"
#include "host.h"
#include "net-field.h"
#include "setting-labels.h"

struct setting_widget {
	const struct machine_setting *setting;
	GtkWidget *label;    /* the left column; empty for a check box, which labels itself */
	GtkWidget *field;    /* GtkEntry, GtkSpinButton, GtkCheckButton, GtkComboBoxText, VireoDiskList,
				VireoNetField or VireoDisplayField */
	GtkWidget *message;  /* shown only while it has something to say */
	bool shown;
	setting_changed_fn changed;
	gpointer data;
};

/* Memory's field counts MiB up to the largest int a spin button returns;
 * more than the host has is refused in setting_widget_apply. */
#define MEMORY_FIELD_MAX_MIB ((double)G_MAXINT)

void setting_message_show(GtkLabel *label, const char *text, bool is_error)
{
	GtkStyleContext *style = gtk_widget_get_style_context(GTK_WIDGET(label));
	gtk_label_set_text(label, text ? text : "");
	if (is_error) {
		gtk_style_context_add_class(style, GTK_STYLE_CLASS_ERROR);
		gtk_style_context_remove_class(style, GTK_STYLE_CLASS_DIM_LABEL);
	} else {
		gtk_style_context_remove_class(style, GTK_STYLE_CLASS_ERROR);
		gtk_style_context_add_class(style, GTK_STYLE_CLASS_DIM_LABEL);
	}
}

GtkWidget *setting_message_new(void)
{
	GtkWidget *message = gtk_label_new(NULL);
	gtk_label_set_xalign(GTK_LABEL(message), 0);
	gtk_label_set_line_wrap(GTK_LABEL(message), TRUE);
	gtk_label_set_max_width_chars(GTK_LABEL(message), 50);
	gtk_widget_set_no_show_all(message, TRUE);
	return message;
}

void setting_set_accessible_name(gpointer widget, const char *name)
{
	atk_object_set_name(gtk_widget_get_accessible(GTK_WIDGET(widget)), name);
}

void setting_attach_option(GtkGrid *grid, int row, const char *label, GtkWidget *part, GtkWidget *field,
			   const char *name)
{
	GtkWidget *text = gtk_label_new(label);
	gtk_label_set_xalign(GTK_LABEL(text), 1);
	gtk_style_context_add_class(gtk_widget_get_style_context(text), GTK_STYLE_CLASS_DIM_LABEL);
	gtk_label_set_mnemonic_widget(GTK_LABEL(text), field);
	setting_set_accessible_name(field, name);
	gtk_grid_attach(grid, text, 0, row, 1, 1);
	gtk_grid_attach(grid, part, 1, row, 1, 1);
}

void setting_widget_show_message(struct setting_widget *sw, const char *text, bool is_error)
{
	setting_message_show(GTK_LABEL(sw->message), text, is_error);
	gtk_widget_set_visible(sw->message, sw->shown && text && *text);
}

static void on_changed(struct setting_widget *sw)
{
	if (sw->changed)
		sw->changed(sw->data);
}

static void on_path_chosen(GtkNativeDialog *chooser, int response, gpointer data)
{
	GtkEntry *entry = data;
	if (response == GTK_RESPONSE_ACCEPT) {
		g_autofree char *path = gtk_file_chooser_get_filename(GTK_FILE_CHOOSER(chooser));
		if (path)
			gtk_entry_set_text(entry, path);
	}
	g_object_unref(entry);
	g_object_unref(chooser);
}

/* The entry's folder icon: a file chooser named after the entry. */
static void on_choose_path(GtkEntry *entry, GtkEntryIconPosition position, GdkEvent *event, gpointer data)
{
	(void)position, (void)event, (void)data;
	GtkWidget *toplevel = gtk_widget_get_toplevel(GTK_WIDGET(entry));
	g_autofree char *title = g_strdup_printf(_("Choose: %s"),
						 atk_object_get_name(gtk_widget_get_accessible(GTK_WIDGET(entry))));
	GtkFileChooserNative *chooser = gtk_file_chooser_native_new(
		title, GTK_IS_WINDOW(toplevel) ? GTK_WINDOW(toplevel) : NULL, GTK_FILE_CHOOSER_ACTION_OPEN,
		_("_Open"), _("_Cancel"));
	/* the entry may go (its dialog closed) while the chooser is open */
	g_signal_connect(chooser, "response", G_CALLBACK(on_path_chosen), g_object_ref(entry));
	gtk_native_dialog_show(GTK_NATIVE_DIALOG(chooser));
}

void setting_entry_add_chooser(GtkEntry *entry)
{
	gtk_entry_set_icon_from_icon_name(entry, GTK_ENTRY_ICON_SECONDARY, "document-open-symbolic");
	gtk_entry_set_icon_tooltip_text(entry, GTK_ENTRY_ICON_SECONDARY, _("Choose a file"));
	g_signal_connect(entry, "icon-press", G_CALLBACK(on_choose_path), NULL);
}

static GtkWidget *new_entry(struct setting_widget *sw)
{
	GtkWidget *entry = gtk_entry_new();
	gtk_widget_set_hexpand(entry, TRUE);
	gtk_entry_set_activates_default(GTK_ENTRY(entry), TRUE);
	g_signal_connect_swapped(entry, "changed", G_CALLBACK(on_changed), sw);
	if (sw->setting->type == SETTING_PATH || sw->setting->type == SETTING_DISC)
		setting_entry_add_chooser(GTK_ENTRY(entry));
	/* the syntax of a spec, as --help gives it */
	if (sw->setting->type == SETTING_SERIAL || sw->setting->type == SETTING_BOOT_ORDER)
		gtk_entry_set_placeholder_text(GTK_ENTRY(entry), sw->setting->arg);
	return entry;
}

static GtkWidget *new_spin(struct setting_widget *sw, double lower, double upper, double step)
{
	GtkWidget *spin = gtk_spin_button_new_with_range(lower, upper, step);
	gtk_spin_button_set_numeric(GTK_SPIN_BUTTON(spin), TRUE);
	gtk_entry_set_activates_default(GTK_ENTRY(spin), TRUE);
	g_signal_connect_swapped(spin, "value-changed", G_CALLBACK(on_changed), sw);
	return spin;
}

static GtkWidget *new_choice(struct setting_widget *sw)
{
	GtkWidget *combo = gtk_combo_box_text_new();
	gtk_combo_box_text_append(GTK_COMBO_BOX_TEXT(combo), "", setting_choice_label(""));
	for (unsigned i = 0; sw->setting->choices[i]; i++) {
		const char *label = setting_choice_label(sw->setting->choices[i]);
		gtk_combo_box_text_append(GTK_COMBO_BOX_TEXT(combo), sw->setting->choices[i],
					  label ? label : sw->setting->choices[i]);
	}
	g_signal_connect_swapped(combo, "changed", G_CALLBACK(on_changed), sw);
	return combo;
}

/* A compound field (disk list, network, screen), which says "changed" itself. */
static GtkWidget *connect_compound(struct setting_widget *sw, GtkWidget *field)
{
	g_signal_connect_swapped(field, "changed", G_CALLBACK(on_changed), sw);
	return field;
}

/* `name`: the label as assistive tools read it. */
static GtkWidget *new_field(struct setting_widget *sw, const char *label, const char *name)
{
	GtkWidget *check;
	switch (sw->setting->type) {
	case SETTING_SIZE:
		return new_spin(sw, MACHINE_MIN_MEMORY >> 20, MEMORY_FIELD_MAX_MIB, 128);
	case SETTING_CPUS:
		return new_spin(sw, 1, host_cpus(), 1);
	case SETTING_SECONDS:
		return new_spin(sw, 1, MACHINE_MAX_BOOT_MENU_WAIT, 1);
	case SETTING_BOOL:
		check = gtk_check_button_new_with_mnemonic(label);
		g_signal_connect_swapped(check, "toggled", G_CALLBACK(on_changed), sw);
		return check;
	case SETTING_CHOICE:
		return new_choice(sw);
	case SETTING_DISKS:
		return connect_compound(sw, vireo_disk_list_new());
	case SETTING_NET:
		return connect_compound(sw, vireo_net_field_new(name));
	case SETTING_DISPLAY:
		return connect_compound(sw, vireo_display_field_new(name));
	case SETTING_STRING:
	case SETTING_PATH:
	case SETTING_DISC:
	case SETTING_SERIAL:
	case SETTING_BOOT_ORDER:
		break;
	}
	return new_entry(sw);
}

static bool is_compound(const struct machine_setting *s)
{
	return s->type == SETTING_DISKS || s->type == SETTING_NET || s->type == SETTING_DISPLAY;
}

/* The label without its mnemonic underscore, as assistive tools read it. */
static char *plain_label(const char *label)
{
	g_autoptr(GString) text = g_string_new(NULL);
	for (const char *p = label; *p; p++)
		if (*p != '_')
			g_string_append_c(text, *p);
	return g_string_free(g_steal_pointer(&text), FALSE);
}

struct setting_widget *setting_widget_new(const struct machine_setting *s, setting_changed_fn changed,
					  gpointer data)
{
	struct setting_widget *sw = g_new0(struct setting_widget, 1);
	const char *label = setting_label(s);
	g_autofree char *plain = NULL;
	if (!label)
		label = s->key;  /* not in the table: the setting-labels test fails */
	plain = plain_label(label);
	sw->setting = s;
	sw->changed = changed;
	sw->data = data;
	sw->label = gtk_label_new_with_mnemonic(s->type == SETTING_BOOL ? "" : label);
	gtk_label_set_xalign(GTK_LABEL(sw->label), 1);
	if (is_compound(s)) {  /* beside the first row, not the middle of the field */
		gtk_widget_set_valign(sw->label, GTK_ALIGN_START);
		gtk_widget_set_margin_top(sw->label, 8);
	}
	sw->field = g_object_ref_sink(new_field(sw, label, plain));
	if (s->type != SETTING_BOOL)
		gtk_label_set_mnemonic_widget(GTK_LABEL(sw->label), sw->field);
	setting_set_accessible_name(sw->field, plain);
	gtk_widget_set_tooltip_text(sw->field, s->help);
	sw->message = gtk_label_new(NULL);
	gtk_label_set_xalign(GTK_LABEL(sw->message), 0);
	gtk_label_set_line_wrap(GTK_LABEL(sw->message), TRUE);
	gtk_label_set_max_width_chars(GTK_LABEL(sw->message), 50);
	gtk_style_context_add_class(gtk_widget_get_style_context(sw->message), "validation");
	g_object_ref_sink(sw->label);
	g_object_ref_sink(sw->message);
	setting_widget_show_message(sw, NULL, false);
	return sw;
}

void setting_widget_free(struct setting_widget *sw)
{
	if (!sw)
		return;
	g_signal_handlers_disconnect_by_data(sw->field, sw);
	g_object_unref(sw->label);
	g_object_unref(sw->field);
	g_object_unref(sw->message);
	g_free(sw);
}

void setting_widget_set_folder(struct setting_widget *sw, const char *folder)
{
	if (VIREO_IS_DISK_LIST(sw->field))
		vireo_disk_list_set_folder(VIREO_DISK_LIST(sw->field), folder);
}

const struct machine_setting *setting_widget_setting(const struct setting_widget *sw)
{
	return sw->setting;
}

void setting_widget_attach(struct setting_widget *sw, GtkGrid *grid, int row, int width)
{
	gtk_grid_attach(grid, sw->label, 0, row, 1, 1);
	gtk_grid_attach(grid, sw->field, 1, row, width, 1);
	gtk_grid_attach(grid, sw->message, 1, row + 1, width, 1);
	setting_widget_set_visible(sw, true);
}

void setting_widget_set_visible(struct setting_widget *sw, bool visible)
{
	const char *message = gtk_label_get_text(GTK_LABEL(sw->message));
	sw->shown = visible;
	gtk_widget_set_visible(sw->label, visible);
	gtk_widget_set_visible(sw->field, visible);
	gtk_widget_set_visible(sw->message, visible && *message);
}

static const void *field_of(const struct vireo_machine *m, const struct machine_setting *s)
{
	return (const char *)m + s->offset;
}

void setting_widget_load(struct setting_widget *sw, const struct vireo_machine *m)
{
	const struct machine_setting *s = sw->setting;
	g_autofree char *text = machine_setting_text(m, s, NULL);
	GtkSpinButton *spin = GTK_IS_SPIN_BUTTON(sw->field) ? GTK_SPIN_BUTTON(sw->field) : NULL;
	double upper;
	switch (s->type) {
	case SETTING_SIZE:
		gtk_spin_button_set_value(spin, (double)(*(const uint64_t *)field_of(m, s) >> 20));
		break;
	case SETTING_CPUS:
		/* a machine made on a bigger host keeps its count, with a warning */
		gtk_spin_button_get_range(spin, NULL, &upper);
		gtk_spin_button_set_range(spin, 1, MAX(upper, *(const unsigned *)field_of(m, s)));
		gtk_spin_button_set_value(spin, *(const unsigned *)field_of(m, s));
		break;
	case SETTING_SECONDS:
		gtk_spin_button_set_value(spin, *(const unsigned *)field_of(m, s));
		break;
	case SETTING_BOOL:
		gtk_toggle_button_set_active(GTK_TOGGLE_BUTTON(sw->field), *(const bool *)field_of(m, s));
		break;
	case SETTING_CHOICE:
		gtk_combo_box_set_active_id(GTK_COMBO_BOX(sw->field), text ? text : "");
		break;
	case SETTING_DISKS:
		vireo_disk_list_load(VIREO_DISK_LIST(sw->field), *(char **const *)field_of(m, s));
		break;
	case SETTING_NET:
		vireo_net_field_load(VIREO_NET_FIELD(sw->field), text);
		break;
	case SETTING_DISPLAY:
		vireo_display_field_load(VIREO_DISPLAY_FIELD(sw->field), text);
		break;
	case SETTING_STRING:
	case SETTING_PATH:
	case SETTING_DISC:
	case SETTING_SERIAL:
	case SETTING_BOOT_ORDER:
		gtk_entry_set_text(GTK_ENTRY(sw->field), text ? text : "");
		break;
	}
}

/* The field as machine.ini text; NULL when empty. */
static char *field_text(struct setting_widget *sw)
{
	switch (sw->setting->type) {
	case SETTING_SIZE:
		return g_strdup_printf("%dM", gtk_spin_button_get_value_as_int(GTK_SPIN_BUTTON(sw->field)));
	case SETTING_CPUS:
	case SETTING_SECONDS:
		return g_strdup_printf("%d", gtk_spin_button_get_value_as_int(GTK_SPIN_BUTTON(sw->field)));
	case SETTING_BOOL:
		return g_strdup(gtk_toggle_button_get_active(GTK_TOGGLE_BUTTON(sw->field)) ? "true" : "false");
	case SETTING_CHOICE: {
		const char *id = gtk_combo_box_get_active_id(GTK_COMBO_BOX(sw->field));
		return id && *id ? g_strdup(id) : NULL;
	}
	case SETTING_DISKS:
	case SETTING_NET:
	case SETTING_DISPLAY:
		return vireo_setting_field_get_text(VIREO_SETTING_FIELD(sw->field));
	case SETTING_STRING:
	case SETTING_PATH:
	case SETTING_DISC:
	case SETTING_SERIAL:
	case SETTING_BOOT_ORDER:
		break;
	}
	char *text = g_strstrip(g_strdup(gtk_entry_get_text(GTK_ENTRY(sw->field))));
	if (!*text)
		g_clear_pointer(&text, g_free);
	return text;
}

/* Memory past the host's is refused; past half of it, a warning. */
static bool check_memory(struct setting_widget *sw, uint64_t mib)
{
	uint64_t host = host_memory_mib();
	g_autofree char *host_text = g_format_size_full(host << 20, G_FORMAT_SIZE_IEC_UNITS);
	g_autofree char *text = NULL;
	if (mib > host) {
		text = g_strdup_printf(_("This computer has only %s."), host_text);
		setting_widget_show_message(sw, text, true);
		return false;
	}
	if (mib > host / 2) {
		text = g_strdup_printf(_("More than half of this computer’s %s: it may become slow."), host_text);
		setting_widget_show_message(sw, text, true);
	}
	return true;
}

/* More processors than the host has work, slowly: a warning only. */
static void check_cpus(struct setting_widget *sw, unsigned cpus)
{
	if (cpus > host_cpus()) {
		g_autofree char *text = g_strdup_printf(
			ngettext("More than this computer’s %u processor: the machine will be slow.",
				 "More than this computer’s %u processors: the machine will be slow.", host_cpus()),
			host_cpus());
		setting_widget_show_message(sw, text, true);
	}
}

/* A compound field's own checks, shown under its parts; true for the others. */
static bool compound_check(struct setting_widget *sw)
{
	return !VIREO_IS_SETTING_FIELD(sw->field) || vireo_setting_field_check(VIREO_SETTING_FIELD(sw->field));
}

bool setting_widget_apply(struct setting_widget *sw, struct vireo_machine *m, const char *base_dir)
{
	const struct machine_setting *s = sw->setting;
	g_autofree char *text = field_text(sw);
	g_autoptr(GError) error = NULL;
	setting_widget_show_message(sw, NULL, false);
	if (!compound_check(sw))
		return false;  /* each wrong part says so under itself */
	if (!text)
		return true;
	if (s->type == SETTING_SIZE &&
	    !check_memory(sw, (uint64_t)gtk_spin_button_get_value_as_int(GTK_SPIN_BUTTON(sw->field))))
		return false;
	if (s->type == SETTING_CPUS)
		check_cpus(sw, (unsigned)gtk_spin_button_get_value_as_int(GTK_SPIN_BUTTON(sw->field)));
	/* A list setting adds to what m has, but the list holds them all. */
	char ***list = s->type == SETTING_DISKS ? (char ***)((char *)m + s->offset) : NULL;
	char **old_list = list ? g_steal_pointer(list) : NULL;
	if (!machine_set(m, s, text, base_dir, &error)) {
		if (list)
			*list = old_list;
		setting_widget_show_message(sw, error->message, true);
		return false;
	}
	g_strfreev(old_list);
	return true;
}
