/* The screen setting's field; see display-field.h. */
#include "display-field.h"

#include <glib/gi18n.h>
#include <string.h>

#include "machine.h"
#include "setting-widgets.h"

/* Where a VNC server listens unless told: only this computer reaches it. */
#define DEFAULT_VNC_ADDRESS "127.0.0.1"

struct _VireoDisplayField {
	VireoSettingField parent;
	GtkComboBox *kind;        /* ids: "none", "sdl", "vnc", as display specs write them */
	GtkWidget *vnc_options;   /* shown for "vnc" only */
	GtkEntry *address;
	GtkToggleButton *first_free;
	GtkSpinButton *port;      /* sensitive unless first_free */
	GtkEntry *password_file;
	GtkToggleButton *insecure; /* the spec's insecure: other computers in without a password */
	GtkWidget *message;       /* what is wrong or risky; hidden when nothing */
};

G_DEFINE_TYPE(VireoDisplayField, vireo_display_field, VIREO_TYPE_SETTING_FIELD)

static bool is_vnc(VireoDisplayField *self)
{
	return !g_strcmp0(gtk_combo_box_get_active_id(self->kind), "vnc");
}

static char *entry_text(GtkEntry *entry)
{
	return g_strstrip(g_strdup(gtk_entry_get_text(entry)));
}

static void on_part_changed(VireoDisplayField *self)
{
	gtk_widget_set_visible(self->vnc_options, is_vnc(self));
	gtk_widget_set_sensitive(GTK_WIDGET(self->port), !gtk_toggle_button_get_active(self->first_free));
	vireo_setting_field_changed(VIREO_SETTING_FIELD(self));
}

/* ADDR or [ADDR]:PORT, as after "vnc=". */
static void load_vnc_where(VireoDisplayField *self, const char *where)
{
	const char *colon = strchr(where, ':');
	g_autofree char *address = colon ? g_strndup(where, (gsize)(colon - where)) : g_strdup(where);
	guint64 port = MACHINE_VNC_FIRST_PORT;
	bool fixed = colon && g_ascii_string_to_unsigned(colon + 1, 10, 1, 65535, &port, NULL);
	gtk_entry_set_text(self->address, *address ? address : DEFAULT_VNC_ADDRESS);
	gtk_toggle_button_set_active(self->first_free, !fixed);
	gtk_spin_button_set_value(self->port, (double)port);
}

void vireo_display_field_load(VireoDisplayField *self, const char *spec)
{
	g_auto(GStrv) parts = g_strsplit(spec ? spec : "none", ",", -1);
	const char *first = parts[0] ? parts[0] : "none";
	gtk_entry_set_text(self->address, DEFAULT_VNC_ADDRESS);
	gtk_toggle_button_set_active(self->first_free, TRUE);
	gtk_spin_button_set_value(self->port, MACHINE_VNC_FIRST_PORT);
	gtk_entry_set_text(self->password_file, "");
	gtk_toggle_button_set_active(self->insecure, FALSE);
	if (g_str_has_prefix(first, "vnc=")) {
		load_vnc_where(self, first + 4);
		first = "vnc";
	}
	for (unsigned i = 1; parts[i]; i++) {
		if (g_str_has_prefix(parts[i], "password-file="))
			gtk_entry_set_text(self->password_file, parts[i] + 14);
		else if (!strcmp(parts[i], "insecure"))
			gtk_toggle_button_set_active(self->insecure, TRUE);
	}
	gtk_combo_box_set_active_id(self->kind, first);
	on_part_changed(self);
}

/* vnc[=ADDR|=ADDR:PORT][,password-file=FILE][,insecure]: the default
 * address left out when no port is fixed. */
static char *vnc_spec(VireoDisplayField *self)
{
	g_autofree char *address = entry_text(self->address);
	g_autofree char *password = entry_text(self->password_file);
	GString *spec = g_string_new("vnc");
	if (!gtk_toggle_button_get_active(self->first_free))
		g_string_append_printf(spec, "=%s:%d", address, gtk_spin_button_get_value_as_int(self->port));
	else if (*address && strcmp(address, DEFAULT_VNC_ADDRESS))
		g_string_append_printf(spec, "=%s", address);
	if (*password)
		g_string_append_printf(spec, ",password-file=%s", password);
	if (gtk_toggle_button_get_active(self->insecure))
		g_string_append(spec, ",insecure");
	return g_string_free(spec, FALSE);
}

static char *get_text(VireoSettingField *field)
{
	VireoDisplayField *self = VIREO_DISPLAY_FIELD(field);
	const char *kind = gtk_combo_box_get_active_id(self->kind);
	return is_vnc(self) ? vnc_spec(self) : g_strdup(kind ? kind : "none");
}

/* An error, or a warning when `is_error` is false; NULL: nothing to say. */
static char *vnc_problem(VireoDisplayField *self, bool *is_error)
{
	g_autofree char *address = entry_text(self->address);
	g_autofree char *password = entry_text(self->password_file);
	g_autofree char *where = g_strconcat("vnc=", address, NULL);
	struct machine_display display;
	*is_error = true;
	if (*address && !machine_parse_display(where, &display, NULL))
		return g_strdup_printf(_("“%s” is not an IPv4 address such as 127.0.0.1 (this computer only) "
					 "or 0.0.0.0 (every network)."), address);
	/* the engine's rule (machine_display_check_open), the password file read when it runs */
	bool open = *address && machine_display_open_to_others(&display) && !*password;
	if (*address)
		machine_display_clear(&display);
	if (strchr(password, ','))  /* machine.ini's separator of options */
		return g_strdup(_("A path with “,” cannot be used: rename the file."));
	if (open && !gtk_toggle_button_get_active(self->insecure))
		return g_strdup(_("Other computers can reach this address: give a password file, or choose "
				  "“Without a password (insecure)” to let anyone there see and control the machine."));
	*is_error = false;
	if (open)
		return g_strdup(_("Other computers can reach this address: anyone there can see and control the "
				  "machine, without a password."));
	return NULL;
}

static bool check(VireoSettingField *field)
{
	VireoDisplayField *self = VIREO_DISPLAY_FIELD(field);
	bool is_error = false;
	g_autofree char *problem = is_vnc(self) ? vnc_problem(self, &is_error) : NULL;
	setting_message_show(GTK_LABEL(self->message), problem, is_error);
	gtk_widget_set_visible(self->message, problem != NULL);
	return !is_error;
}

static void vireo_display_field_class_init(VireoDisplayFieldClass *klass)
{
	VIREO_SETTING_FIELD_CLASS(klass)->get_text = get_text;
	VIREO_SETTING_FIELD_CLASS(klass)->check = check;
}

static GtkComboBox *new_kind_combo(void)
{
	GtkComboBoxText *combo = GTK_COMBO_BOX_TEXT(gtk_combo_box_text_new());
	gtk_combo_box_text_append(combo, "none", _("None"));
	gtk_combo_box_text_append(combo, "sdl", _("Window on this desktop (SDL)"));
	gtk_combo_box_text_append(combo, "vnc", _("VNC server"));
	gtk_widget_set_halign(GTK_WIDGET(combo), GTK_ALIGN_START);
	return GTK_COMBO_BOX(combo);
}

static GtkWidget *new_port_box(VireoDisplayField *self)
{
	GtkWidget *box = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 12);
	self->first_free = GTK_TOGGLE_BUTTON(gtk_check_button_new_with_label(_("First free from 5900")));
	setting_set_accessible_name(self->first_free, _("First free port"));
	gtk_widget_set_tooltip_text(GTK_WIDGET(self->first_free),
				    _("Several machines on VNC each take their own port without planning"));
	self->port = GTK_SPIN_BUTTON(gtk_spin_button_new_with_range(1, 65535, 1));
	gtk_spin_button_set_numeric(self->port, TRUE);
	gtk_entry_set_activates_default(GTK_ENTRY(self->port), TRUE);
	gtk_box_pack_start(GTK_BOX(box), GTK_WIDGET(self->first_free), FALSE, FALSE, 0);
	gtk_box_pack_start(GTK_BOX(box), GTK_WIDGET(self->port), FALSE, FALSE, 0);
	return box;
}

static GtkWidget *new_vnc_options(VireoDisplayField *self)
{
	GtkGrid *grid = GTK_GRID(gtk_grid_new());
	GtkWidget *port_box = new_port_box(self);
	gtk_grid_set_row_spacing(grid, 6);
	gtk_grid_set_column_spacing(grid, 12);
	self->address = GTK_ENTRY(gtk_entry_new());
	gtk_entry_set_activates_default(self->address, TRUE);
	gtk_widget_set_tooltip_text(GTK_WIDGET(self->address),
				    _("127.0.0.1: this computer only; 0.0.0.0: every network it is on"));
	self->password_file = GTK_ENTRY(gtk_entry_new());
	gtk_entry_set_activates_default(self->password_file, TRUE);
	gtk_widget_set_hexpand(GTK_WIDGET(self->password_file), TRUE);
	gtk_widget_set_tooltip_text(GTK_WIDGET(self->password_file),
				    _("A file whose first line is the password VNC viewers must give"));
	setting_attach_option(grid, 0, _("Address"), GTK_WIDGET(self->address), GTK_WIDGET(self->address),
			      _("VNC address"));
	setting_attach_option(grid, 1, _("Port"), port_box, GTK_WIDGET(self->port), _("VNC port"));
	setting_attach_option(grid, 2, _("Password file"), GTK_WIDGET(self->password_file),
			      GTK_WIDGET(self->password_file), _("VNC password file"));
	setting_entry_add_chooser(self->password_file);
	self->insecure = GTK_TOGGLE_BUTTON(gtk_check_button_new_with_label(_("Without a password (insecure)")));
	gtk_widget_set_tooltip_text(GTK_WIDGET(self->insecure),
				    _("Lets viewers on other computers in without a password"));
	gtk_grid_attach(grid, GTK_WIDGET(self->insecure), 1, 3, 1, 1);
	return GTK_WIDGET(grid);
}

static void vireo_display_field_init(VireoDisplayField *self)
{
	gtk_orientable_set_orientation(GTK_ORIENTABLE(self), GTK_ORIENTATION_VERTICAL);
	gtk_box_set_spacing(GTK_BOX(self), 6);
	self->kind = new_kind_combo();
	self->vnc_options = new_vnc_options(self);
	gtk_widget_show_all(self->vnc_options);  /* before no-show-all, which show_all heeds */
	gtk_widget_set_no_show_all(self->vnc_options, TRUE);
	self->message = setting_message_new();
	gtk_box_pack_start(GTK_BOX(self), GTK_WIDGET(self->kind), FALSE, FALSE, 0);
	gtk_box_pack_start(GTK_BOX(self), self->vnc_options, FALSE, FALSE, 0);
	gtk_box_pack_start(GTK_BOX(self), self->message, FALSE, FALSE, 0);
	gtk_widget_show_all(GTK_WIDGET(self));
	g_signal_connect_swapped(self->kind, "changed", G_CALLBACK(on_part_changed), self);
	g_signal_connect_swapped(self->address, "changed", G_CALLBACK(on_part_changed), self);
	g_signal_connect_swapped(self->first_free, "toggled", G_CALLBACK(on_part_changed), self);
	g_signal_connect_swapped(self->port, "value-changed", G_CALLBACK(on_part_changed), self);
	g_signal_connect_swapped(self->password_file, "changed", G_CALLBACK(on_part_changed), self);
	g_signal_connect_swapped(self->insecure, "toggled", G_CALLBACK(on_part_changed), self);
}

GtkWidget *vireo_display_field_new(const char *name)
{
	VireoDisplayField *self = g_object_new(VIREO_TYPE_DISPLAY_FIELD, NULL);
	setting_set_accessible_name(self->kind, name);
	return GTK_WIDGET(self);
}
