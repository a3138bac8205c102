/* The network setting's field; see net-field.h. */
#include "net-field.h"

#include <glib/gi18n.h>
#include <string.h>

#include "library.h"
#include "machine.h"
#include "setting-widgets.h"

/* Where a new forward listens: only this computer reaches it. */
#define DEFAULT_FORWARD_ADDRESS "127.0.0.1"

struct forward_row {
	VireoNetField *field;
	GtkWidget *box;           /* the row's widgets and its message */
	GtkComboBox *protocol;    /* ids: "tcp", "udp", as hostfwd= writes them */
	GtkEntry *host_address;
	GtkEntry *host_port;
	GtkEntry *guest_port;
	GtkWidget *remove;
	GtkWidget *message;       /* what is wrong with the row; hidden when nothing */
	char guest_address[16];   /* not shown: "" (the guest's DHCP address) unless machine.ini says */
};

struct _VireoNetField {
	VireoSettingField parent;
	GtkComboBox *kind;        /* ids: "none", "user", "tap", as net specs write them */
	GtkWidget *options;       /* MAC address and interface: shown unless "none" */
	GtkEntry *mac;
	GtkWidget *ifname_label;  /* the interface's row: shown for "tap" */
	GtkEntry *ifname;
	GtkWidget *message;       /* what is wrong with the MAC address or interface */
	GtkWidget *forwards;      /* the port forwards and Add Port Forward: shown for "user" */
	GtkBox *rows_box;
	GtkWidget *add;
	GPtrArray *rows;          /* struct forward_row *, in machine.ini's order */
	char **kept;              /* user networking's options it does not show (tftp=...), as written */
};

G_DEFINE_TYPE(VireoNetField, vireo_net_field, VIREO_TYPE_SETTING_FIELD)

static void emit_changed(VireoNetField *self)
{
	vireo_setting_field_changed(VIREO_SETTING_FIELD(self));
}

static const char *kind_of(VireoNetField *self)
{
	const char *kind = gtk_combo_box_get_active_id(self->kind);
	return kind ? kind : "none";
}

static char *entry_text(GtkEntry *entry)
{
	return g_strstrip(g_strdup(gtk_entry_get_text(entry)));
}

/* PROTO:HOSTADDR:HOSTPORT-[GUESTADDR]:GUESTPORT, as after "hostfwd=". */
static char *row_spec(const struct forward_row *row)
{
	g_autofree char *address = entry_text(row->host_address);
	g_autofree char *host_port = entry_text(row->host_port);
	g_autofree char *guest_port = entry_text(row->guest_port);
	return g_strdup_printf("%s:%s:%s-%s:%s", gtk_combo_box_get_active_id(row->protocol), address, host_port,
			       row->guest_address, guest_port);
}

static bool is_port(const char *text)
{
	return g_ascii_string_to_unsigned(text, 10, 1, 65535, NULL, NULL);
}

/* What is wrong with the row, in words for under it; NULL: nothing. */
static char *row_problem(const struct forward_row *row)
{
	g_autofree char *address = entry_text(row->host_address);
	g_autofree char *host_port = entry_text(row->host_port);
	g_autofree char *guest_port = entry_text(row->guest_port);
	g_autofree char *forward = row_spec(row);
	g_autofree char *spec = g_strconcat("user,hostfwd=", forward, NULL);
	struct machine_net net;
	if (!is_port(host_port))
		return g_strdup(_("The host port must be a number from 1 to 65535."));
	if (!is_port(guest_port))
		return g_strdup(_("The guest port must be a number from 1 to 65535."));
	if (!machine_parse_net(spec, &net, NULL))
		return g_strdup_printf(_("“%s” is not an IPv4 address such as 127.0.0.1 (this computer only) "
					 "or 0.0.0.0 (every network)."), address);
	machine_net_clear(&net);
	return NULL;
}

/* Accessible names by position ("Forward 1 host port"...), renewed when a
 * row goes; Add Port Forward while there is room for more. */
static void name_rows(VireoNetField *self)
{
	for (guint i = 0; i < self->rows->len; i++) {
		struct forward_row *row = self->rows->pdata[i];
		g_autofree char *protocol = g_strdup_printf(_("Forward %u protocol"), i + 1);
		g_autofree char *address = g_strdup_printf(_("Forward %u host address"), i + 1);
		g_autofree char *host_port = g_strdup_printf(_("Forward %u host port"), i + 1);
		g_autofree char *guest_port = g_strdup_printf(_("Forward %u guest port"), i + 1);
		g_autofree char *remove = g_strdup_printf(_("Remove forward %u"), i + 1);
		setting_set_accessible_name(row->protocol, protocol);
		setting_set_accessible_name(row->host_address, address);
		setting_set_accessible_name(row->host_port, host_port);
		setting_set_accessible_name(row->guest_port, guest_port);
		setting_set_accessible_name(row->remove, remove);
	}
	gtk_widget_set_sensitive(self->add, self->rows->len < MACHINE_MAX_HOSTFWD);
}

/* Focus goes to the next row's protocol, else to Add Port Forward. */
static void on_remove_clicked(struct forward_row *row)
{
	VireoNetField *self = row->field;
	guint index;
	if (!g_ptr_array_find(self->rows, row, &index))
		return;
	gtk_widget_destroy(row->box);
	g_ptr_array_remove_index(self->rows, index);
	name_rows(self);
	gtk_widget_grab_focus(index < self->rows->len
		? GTK_WIDGET(((struct forward_row *)self->rows->pdata[index])->protocol) : self->add);
	emit_changed(self);
}

static GtkEntry *new_row_entry(const char *text, int width, const char *placeholder)
{
	GtkEntry *entry = GTK_ENTRY(gtk_entry_new());
	gtk_entry_set_text(entry, text);
	gtk_entry_set_width_chars(entry, width);
	gtk_entry_set_placeholder_text(entry, placeholder);
	gtk_entry_set_activates_default(entry, TRUE);
	return entry;
}

static GtkComboBox *new_protocol_combo(bool udp)
{
	GtkComboBoxText *combo = GTK_COMBO_BOX_TEXT(gtk_combo_box_text_new());
	/* names of standards: the same in every language */
	gtk_combo_box_text_append(combo, "tcp", "TCP");
	gtk_combo_box_text_append(combo, "udp", "UDP");
	gtk_combo_box_set_active_id(GTK_COMBO_BOX(combo), udp ? "udp" : "tcp");
	return GTK_COMBO_BOX(combo);
}

/* protocol, host address : host port → guest port, Remove; the message under them */
static void build_row(struct forward_row *row, const struct machine_hostfwd *fwd)
{
	GtkWidget *line = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
	g_autofree char *host_port = fwd->host_port ? g_strdup_printf("%u", fwd->host_port) : g_strdup("");
	g_autofree char *guest_port = fwd->guest_port ? g_strdup_printf("%u", fwd->guest_port) : g_strdup("");
	row->box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 6);
	row->protocol = new_protocol_combo(fwd->udp);
	row->host_address = new_row_entry(fwd->host_addr, 15, _("Host address"));
	row->host_port = new_row_entry(host_port, 6, _("Port"));
	row->guest_port = new_row_entry(guest_port, 6, _("Port"));
	gtk_widget_set_tooltip_text(GTK_WIDGET(row->host_address),
				    _("127.0.0.1: this computer only; 0.0.0.0: every network it is on"));
	row->remove = gtk_button_new_from_icon_name("list-remove-symbolic", GTK_ICON_SIZE_BUTTON);
	gtk_widget_set_tooltip_text(row->remove, _("Remove this port forward"));
	row->message = setting_message_new();
	gtk_box_pack_start(GTK_BOX(line), GTK_WIDGET(row->protocol), FALSE, FALSE, 0);
	gtk_box_pack_start(GTK_BOX(line), GTK_WIDGET(row->host_address), FALSE, FALSE, 0);
	gtk_box_pack_start(GTK_BOX(line), gtk_label_new(":"), FALSE, FALSE, 0);
	gtk_box_pack_start(GTK_BOX(line), GTK_WIDGET(row->host_port), FALSE, FALSE, 0);
	gtk_box_pack_start(GTK_BOX(line), gtk_label_new("→"), FALSE, FALSE, 0);
	gtk_box_pack_start(GTK_BOX(line), GTK_WIDGET(row->guest_port), FALSE, FALSE, 0);
	gtk_box_pack_start(GTK_BOX(line), row->remove, FALSE, FALSE, 0);
	gtk_box_pack_start(GTK_BOX(row->box), line, FALSE, FALSE, 0);
	gtk_box_pack_start(GTK_BOX(row->box), row->message, FALSE, FALSE, 0);
	gtk_widget_show_all(row->box);
}

static struct forward_row *add_row(VireoNetField *self, const struct machine_hostfwd *fwd)
{
	struct forward_row *row = g_new0(struct forward_row, 1);
	row->field = self;
	g_strlcpy(row->guest_address, fwd->guest_addr, sizeof(row->guest_address));
	build_row(row, fwd);
	/* connected once the row shows its forward: filling it is no change */
	g_signal_connect_swapped(row->protocol, "changed", G_CALLBACK(emit_changed), self);
	g_signal_connect_swapped(row->host_address, "changed", G_CALLBACK(emit_changed), self);
	g_signal_connect_swapped(row->host_port, "changed", G_CALLBACK(emit_changed), self);
	g_signal_connect_swapped(row->guest_port, "changed", G_CALLBACK(emit_changed), self);
	g_signal_connect_swapped(row->remove, "clicked", G_CALLBACK(on_remove_clicked), row);
	gtk_box_pack_start(self->rows_box, row->box, FALSE, FALSE, 0);
	g_ptr_array_add(self->rows, row);
	name_rows(self);
	return row;
}

/* A new TCP forward from this computer only, whose ports the user types next. */
static void on_add_clicked(VireoNetField *self)
{
	struct machine_hostfwd fwd = { .host_addr = DEFAULT_FORWARD_ADDRESS };
	struct forward_row *row = add_row(self, &fwd);
	gtk_widget_grab_focus(GTK_WIDGET(row->host_port));
	emit_changed(self);
}

static void on_new_mac_clicked(VireoNetField *self)
{
	g_autofree char *mac = library_new_mac();
	gtk_entry_set_text(self->mac, mac);
}

static void on_kind_changed(VireoNetField *self)
{
	const char *kind = kind_of(self);
	gtk_widget_set_visible(self->options, strcmp(kind, "none"));
	gtk_widget_set_visible(self->ifname_label, !strcmp(kind, "tap"));
	gtk_widget_set_visible(GTK_WIDGET(self->ifname), !strcmp(kind, "tap"));
	gtk_widget_set_visible(self->forwards, !strcmp(kind, "user"));
	emit_changed(self);
}

static void clear_rows(VireoNetField *self)
{
	while (self->rows->len) {
		gtk_widget_destroy(((struct forward_row *)self->rows->pdata[0])->box);
		g_ptr_array_remove_index(self->rows, 0);
	}
}

/* A hostfwd= option becomes a row; one machine_parse_net refuses (a
 * machine.ini edited by hand) is kept as written, for the field to say
 * what is wrong. */
static void load_option(VireoNetField *self, const char *option, GPtrArray *kept)
{
	g_autofree char *spec = g_strconcat("user,", option, NULL);
	struct machine_net net;
	if (g_str_has_prefix(option, "mac="))
		gtk_entry_set_text(self->mac, option + 4);
	else if (g_str_has_prefix(option, "ifname="))
		gtk_entry_set_text(self->ifname, option + 7);
	else if (g_str_has_prefix(option, "hostfwd=") && machine_parse_net(spec, &net, NULL)) {
		add_row(self, &net.hostfwd[0]);
		machine_net_clear(&net);
	} else
		g_ptr_array_add(kept, g_strdup(option));
}

void vireo_net_field_load(VireoNetField *self, const char *spec)
{
	g_auto(GStrv) parts = g_strsplit(spec ? spec : "none", ",", -1);
	GPtrArray *kept = g_ptr_array_new();
	clear_rows(self);
	gtk_entry_set_text(self->mac, "");
	gtk_entry_set_text(self->ifname, "");
	for (unsigned i = 1; parts[i]; i++)
		load_option(self, parts[i], kept);
	g_ptr_array_add(kept, NULL);
	g_strfreev(self->kept);
	self->kept = (char **)g_ptr_array_free(kept, FALSE);
	gtk_combo_box_set_active_id(self->kind, parts[0] ? parts[0] : "none");
	on_kind_changed(self);
}

/* user[,mac=M][,KEPT...][,hostfwd=...] or tap,ifname=NAME[,mac=M] */
static char *get_text(VireoSettingField *field)
{
	VireoNetField *self = VIREO_NET_FIELD(field);
	const char *kind = kind_of(self);
	g_autofree char *mac = entry_text(self->mac);
	g_autofree char *ifname = entry_text(self->ifname);
	GString *spec = g_string_new(kind);
	if (!strcmp(kind, "none"))
		return g_string_free(spec, FALSE);
	if (!strcmp(kind, "tap"))
		g_string_append_printf(spec, ",ifname=%s", ifname);
	if (*mac)
		g_string_append_printf(spec, ",mac=%s", mac);
	if (!strcmp(kind, "tap"))
		return g_string_free(spec, FALSE);
	for (unsigned i = 0; self->kept[i]; i++)
		g_string_append_printf(spec, ",%s", self->kept[i]);
	for (guint i = 0; i < self->rows->len; i++) {
		g_autofree char *forward = row_spec(self->rows->pdata[i]);
		g_string_append_printf(spec, ",hostfwd=%s", forward);
	}
	return g_string_free(spec, FALSE);
}

/* What is wrong with the MAC address or the interface; NULL: nothing. */
static char *field_problem(VireoNetField *self)
{
	const char *kind = kind_of(self);
	g_autofree char *mac = entry_text(self->mac);
	g_autofree char *ifname = entry_text(self->ifname);
	g_autofree char *mac_spec = g_strconcat("user,mac=", mac, NULL);
	g_autofree char *tap_spec = g_strconcat("tap,ifname=", ifname, NULL);
	struct machine_net net;
	if (*mac && !machine_parse_net(mac_spec, &net, NULL))
		return g_strdup_printf(_("“%s” is not a MAC address such as 52:54:00:12:34:56 (a unicast one)."),
				       mac);
	if (*mac)
		machine_net_clear(&net);
	if (!strcmp(kind, "tap") && !*ifname)
		return g_strdup(_("Type the name of the host’s TAP interface, such as tap0."));
	if (!strcmp(kind, "tap") && !machine_parse_net(tap_spec, &net, NULL))
		return g_strdup(_("An interface name has at most 15 characters and no “,”."));
	if (!strcmp(kind, "tap"))
		machine_net_clear(&net);
	return NULL;
}

static bool show_problem(GtkWidget *message, const char *problem)
{
	setting_message_show(GTK_LABEL(message), problem, true);
	gtk_widget_set_visible(message, problem != NULL);
	return problem == NULL;
}

/* Only what the chosen kind uses is checked: a hidden part holds no one up. */
static bool check(VireoSettingField *field)
{
	VireoNetField *self = VIREO_NET_FIELD(field);
	bool none = !strcmp(kind_of(self), "none"), user = !strcmp(kind_of(self), "user");
	g_autofree char *problem = none ? NULL : field_problem(self);
	bool ok = show_problem(self->message, problem);
	for (guint i = 0; user && i < self->rows->len; i++) {
		struct forward_row *row = self->rows->pdata[i];
		g_autofree char *row_text = row_problem(row);
		ok &= show_problem(row->message, row_text);
	}
	return ok;
}

static void vireo_net_field_dispose(GObject *object)
{
	VireoNetField *self = VIREO_NET_FIELD(object);
	G_OBJECT_CLASS(vireo_net_field_parent_class)->dispose(object);  /* the rows' widgets go first */
	g_clear_pointer(&self->rows, g_ptr_array_unref);
}

static void vireo_net_field_finalize(GObject *object)
{
	g_strfreev(VIREO_NET_FIELD(object)->kept);
	G_OBJECT_CLASS(vireo_net_field_parent_class)->finalize(object);
}

static void vireo_net_field_class_init(VireoNetFieldClass *klass)
{
	G_OBJECT_CLASS(klass)->dispose = vireo_net_field_dispose;
	G_OBJECT_CLASS(klass)->finalize = vireo_net_field_finalize;
	VIREO_SETTING_FIELD_CLASS(klass)->get_text = get_text;
	VIREO_SETTING_FIELD_CLASS(klass)->check = check;
}

static GtkComboBox *new_kind_combo(void)
{
	GtkComboBoxText *combo = GTK_COMBO_BOX_TEXT(gtk_combo_box_text_new());
	gtk_combo_box_text_append(combo, "none", _("None"));
	gtk_combo_box_text_append(combo, "user", _("User networking (NAT)"));
	gtk_combo_box_text_append(combo, "tap", _("Host TAP interface"));
	gtk_widget_set_halign(GTK_WIDGET(combo), GTK_ALIGN_START);
	return GTK_COMBO_BOX(combo);
}

/* MAC address [New], and the TAP interface's name. */
static GtkWidget *new_options(VireoNetField *self)
{
	GtkGrid *grid = GTK_GRID(gtk_grid_new());
	GtkWidget *mac_box = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
	GtkWidget *new_mac = gtk_button_new_with_label(_("New"));
	gtk_grid_set_row_spacing(grid, 6);
	gtk_grid_set_column_spacing(grid, 12);
	self->mac = GTK_ENTRY(gtk_entry_new());
	gtk_entry_set_width_chars(self->mac, 17);
	gtk_entry_set_placeholder_text(self->mac, "52:54:00:12:34:56");
	gtk_entry_set_activates_default(self->mac, TRUE);
	setting_set_accessible_name(new_mac, _("New MAC address"));
	gtk_widget_set_tooltip_text(new_mac, _("A new address of its own, so machines on one network differ"));
	g_signal_connect_swapped(new_mac, "clicked", G_CALLBACK(on_new_mac_clicked), self);
	gtk_box_pack_start(GTK_BOX(mac_box), GTK_WIDGET(self->mac), FALSE, FALSE, 0);
	gtk_box_pack_start(GTK_BOX(mac_box), new_mac, FALSE, FALSE, 0);
	setting_attach_option(grid, 0, _("MAC address"), mac_box, GTK_WIDGET(self->mac), _("MAC address"));
	self->ifname = GTK_ENTRY(gtk_entry_new());
	gtk_entry_set_placeholder_text(self->ifname, "tap0");
	gtk_entry_set_activates_default(self->ifname, TRUE);
	setting_attach_option(grid, 1, _("Interface"), GTK_WIDGET(self->ifname), GTK_WIDGET(self->ifname),
			      _("TAP interface"));
	self->ifname_label = gtk_grid_get_child_at(grid, 0, 1);
	gtk_widget_set_no_show_all(self->ifname_label, TRUE);
	gtk_widget_set_no_show_all(GTK_WIDGET(self->ifname), TRUE);
	return GTK_WIDGET(grid);
}

/* The forwards' rows and Add Port Forward under them. */
static GtkWidget *new_forwards(VireoNetField *self)
{
	GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 6);
	GtkWidget *heading = gtk_label_new(_("Port forwards (host → guest)"));
	gtk_label_set_xalign(GTK_LABEL(heading), 0);
	gtk_style_context_add_class(gtk_widget_get_style_context(heading), GTK_STYLE_CLASS_DIM_LABEL);
	self->rows_box = GTK_BOX(gtk_box_new(GTK_ORIENTATION_VERTICAL, 6));
	self->add = gtk_button_new_with_label(_("Add Port Forward"));
	gtk_widget_set_halign(self->add, GTK_ALIGN_START);
	gtk_widget_set_tooltip_text(self->add, _("Let the host reach a service in the guest, e.g. SSH on port 22"));
	g_signal_connect_swapped(self->add, "clicked", G_CALLBACK(on_add_clicked), self);
	gtk_box_pack_start(GTK_BOX(box), heading, FALSE, FALSE, 0);
	gtk_box_pack_start(GTK_BOX(box), GTK_WIDGET(self->rows_box), FALSE, FALSE, 0);
	gtk_box_pack_start(GTK_BOX(box), self->add, FALSE, FALSE, 0);
	return box;
}

static void vireo_net_field_init(VireoNetField *self)
{
	gtk_orientable_set_orientation(GTK_ORIENTABLE(self), GTK_ORIENTATION_VERTICAL);
	gtk_box_set_spacing(GTK_BOX(self), 6);
	self->rows = g_ptr_array_new_with_free_func(g_free);
	self->kept = g_new0(char *, 1);
	self->kind = new_kind_combo();
	self->options = new_options(self);
	self->message = setting_message_new();
	self->forwards = new_forwards(self);
	gtk_widget_show_all(self->options);  /* before no-show-all, which show_all heeds */
	gtk_widget_show_all(self->forwards);
	gtk_widget_set_no_show_all(self->options, TRUE);
	gtk_widget_set_no_show_all(self->forwards, TRUE);
	gtk_box_pack_start(GTK_BOX(self), GTK_WIDGET(self->kind), FALSE, FALSE, 0);
	gtk_box_pack_start(GTK_BOX(self), self->options, FALSE, FALSE, 0);
	gtk_box_pack_start(GTK_BOX(self), self->message, FALSE, FALSE, 0);
	gtk_box_pack_start(GTK_BOX(self), self->forwards, FALSE, FALSE, 0);
	gtk_widget_show_all(GTK_WIDGET(self));
	g_signal_connect_swapped(self->kind, "changed", G_CALLBACK(on_kind_changed), self);
	g_signal_connect_swapped(self->mac, "changed", G_CALLBACK(emit_changed), self);
	g_signal_connect_swapped(self->ifname, "changed", G_CALLBACK(emit_changed), self);
	name_rows(self);
}

GtkWidget *vireo_net_field_new(const char *name)
{
	VireoNetField *self = g_object_new(VIREO_TYPE_NET_FIELD, NULL);
	setting_set_accessible_name(self->kind, name);
	return GTK_WIDGET(self);
}
