/* The list of a machine's drives; see disk-list.h. */
#include "disk-list.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <string.h>

#include "library.h"
#include "machine.h"
#include "new-disk.h"
#include "setting-widgets.h"

/* The bus combo's ids, as disk specs write them (bus=ID), by enum machine_disk_bus. */
static const char *const bus_ids[] = {
	[MACHINE_BUS_VIRTIO] = "virtio", [MACHINE_BUS_IDE] = "ide", [MACHINE_BUS_SATA] = "sata",
};
/* Names of standards: the same in every language. */
static const char *const bus_labels[] = {
	[MACHINE_BUS_VIRTIO] = "VirtIO", [MACHINE_BUS_IDE] = "IDE", [MACHINE_BUS_SATA] = "SATA",
};

struct disk_row {
	VireoDiskList *list;
	GtkWidget *box;          /* the row's widgets, one row of the list */
	GtkEntry *path;
	GtkComboBox *bus;        /* ids: bus_ids */
	GtkComboBox *kind;       /* ids: "disk", "cdrom" */
	GtkToggleButton *read_only;
	GtkWidget *remove;
	GtkWidget *message;      /* what is wrong with the row; hidden when nothing */
	bool disk_read_only;     /* the check box's state to go back to when a CD-ROM becomes a disk */
	char **kept;             /* the options the row does not show (serial=, queues=), as written */
};

struct _VireoDiskList {
	VireoSettingField parent;
	GtkBox *rows_box;
	GtkWidget *empty;        /* says there are no drives */
	GtkWidget *add_disk;
	GtkWidget *add_cdrom;
	GtkWidget *new_disk;     /* New Disk…: shown once there is a folder to make images in */
	GtkWidget *new_disk_dialog;  /* while it is open */
	char *folder;
	GPtrArray *rows;         /* struct disk_row *, in machine.ini's order */
	GPtrArray *made;         /* the images New Disk… made while the list was open */
};

G_DEFINE_TYPE(VireoDiskList, vireo_disk_list, VIREO_TYPE_SETTING_FIELD)

static void disk_row_free(struct disk_row *row)
{
	g_strfreev(row->kept);
	g_free(row);
}

static bool row_is_cdrom(const struct disk_row *row)
{
	return !g_strcmp0(gtk_combo_box_get_active_id(row->kind), "cdrom");
}

static char *row_path(const struct disk_row *row)
{
	return g_strstrip(g_strdup(gtk_entry_get_text(row->path)));
}

/* PATH[,ro][,KEPT...][,bus=B][,media=cdrom]: the defaults (virtio, disk)
 * left out; a CD-ROM is read-only without saying so. */
static char *row_spec(const struct disk_row *row)
{
	g_autofree char *path = row_path(row);
	GString *spec = g_string_new(path);
	const char *bus = gtk_combo_box_get_active_id(row->bus);
	bool cdrom = row_is_cdrom(row);
	if (!cdrom && gtk_toggle_button_get_active(row->read_only))
		g_string_append(spec, ",ro");
	for (unsigned i = 0; row->kept[i]; i++)
		g_string_append_printf(spec, ",%s", row->kept[i]);
	if (bus && strcmp(bus, bus_ids[MACHINE_BUS_VIRTIO]))
		g_string_append_printf(spec, ",bus=%s", bus);
	if (cdrom)
		g_string_append(spec, ",media=cdrom");
	return g_string_free(spec, FALSE);
}

/* What is wrong with the row, in words for under it; NULL: nothing. */
static char *row_problem(const struct disk_row *row)
{
	g_autofree char *path = row_path(row);
	g_autofree char *spec = NULL;
	g_autoptr(GError) error = NULL;
	struct machine_disk disk;
	if (!*path)
		return g_strdup(_("Type the path of the drive’s image file, or choose it with the folder icon."));
	if (strpbrk(path, ",;"))  /* machine.ini's separators of options and of drives */
		return g_strdup(_("A path with “,” or “;” cannot be used: rename the file."));
	if (row_is_cdrom(row) && !strcmp(gtk_combo_box_get_active_id(row->bus), bus_ids[MACHINE_BUS_VIRTIO]))
		return g_strdup(_("A CD-ROM needs IDE or SATA."));
	spec = row_spec(row);
	if (!machine_parse_disk(spec, &disk, &error))
		return g_strdup(error->message);  /* a kept option that no longer fits (queues= off virtio) */
	machine_disk_clear(&disk);
	return NULL;
}

static void emit_changed(VireoDiskList *self)
{
	vireo_setting_field_changed(VIREO_SETTING_FIELD(self));
}

/* A CD-ROM is read-only: its check box says so and cannot be cleared. */
static void on_kind_changed(struct disk_row *row)
{
	bool cdrom = row_is_cdrom(row);
	/* insensitive first: the toggle it makes is not the user's */
	gtk_widget_set_sensitive(GTK_WIDGET(row->read_only), !cdrom);
	gtk_toggle_button_set_active(row->read_only, cdrom || row->disk_read_only);
	emit_changed(row->list);
}

static void on_read_only_toggled(struct disk_row *row)
{
	if (gtk_widget_get_sensitive(GTK_WIDGET(row->read_only)))
		row->disk_read_only = gtk_toggle_button_get_active(row->read_only);
	emit_changed(row->list);
}

/* Accessible names by position ("Disk 1", "Disk 1 bus"...), renewed when a
 * row goes; the Add buttons while there is room for more. */
static void update_rows(VireoDiskList *self)
{
	for (guint i = 0; i < self->rows->len; i++) {
		struct disk_row *row = self->rows->pdata[i];
		g_autofree char *name = g_strdup_printf(_("Disk %u"), i + 1);
		g_autofree char *bus = g_strdup_printf(_("Disk %u bus"), i + 1);
		g_autofree char *kind = g_strdup_printf(_("Disk %u kind"), i + 1);
		g_autofree char *read_only = g_strdup_printf(_("Disk %u read-only"), i + 1);
		g_autofree char *remove = g_strdup_printf(_("Remove disk %u"), i + 1);
		setting_set_accessible_name(row->path, name);
		setting_set_accessible_name(row->bus, bus);
		setting_set_accessible_name(row->kind, kind);
		setting_set_accessible_name(row->read_only, read_only);
		setting_set_accessible_name(row->remove, remove);
	}
	gtk_widget_set_visible(self->empty, self->rows->len == 0);
	gtk_widget_set_sensitive(self->add_disk, self->rows->len < MACHINE_MAX_DISKS);
	gtk_widget_set_sensitive(self->add_cdrom, self->rows->len < MACHINE_MAX_DISKS);
	gtk_widget_set_sensitive(self->new_disk, self->rows->len < MACHINE_MAX_DISKS);
}

/* Focus goes to the next row, else to Add Disk, so the keyboard stays in the list. */
static void on_remove_clicked(struct disk_row *row)
{
	VireoDiskList *self = row->list;
	guint index;
	if (!g_ptr_array_find(self->rows, row, &index))
		return;
	gtk_widget_destroy(row->box);
	g_ptr_array_remove_index(self->rows, index);
	update_rows(self);
	if (index < self->rows->len)
		gtk_widget_grab_focus(GTK_WIDGET(((struct disk_row *)self->rows->pdata[index])->path));
	else
		gtk_widget_grab_focus(self->add_disk);
	emit_changed(self);
}

static GtkComboBox *new_bus_combo(enum machine_disk_bus bus)
{
	GtkComboBoxText *combo = GTK_COMBO_BOX_TEXT(gtk_combo_box_text_new());
	for (unsigned i = 0; i < G_N_ELEMENTS(bus_ids); i++)
		gtk_combo_box_text_append(combo, bus_ids[i], bus_labels[i]);
	gtk_combo_box_set_active_id(GTK_COMBO_BOX(combo), bus_ids[bus]);
	gtk_widget_set_tooltip_text(GTK_WIDGET(combo), _("The controller: VirtIO is fastest, IDE and SATA need no "
							   "drivers in the guest"));
	return GTK_COMBO_BOX(combo);
}

static GtkComboBox *new_kind_combo(enum machine_disk_media media)
{
	GtkComboBoxText *combo = GTK_COMBO_BOX_TEXT(gtk_combo_box_text_new());
	gtk_combo_box_text_append(combo, "disk", _("Disk"));
	gtk_combo_box_text_append(combo, "cdrom", _("CD-ROM"));
	gtk_combo_box_set_active_id(GTK_COMBO_BOX(combo), media == MACHINE_MEDIA_CDROM ? "cdrom" : "disk");
	return GTK_COMBO_BOX(combo);
}

/* The path entry and Remove on one line, the options on the next, the
 * message under them. */
static void build_row(struct disk_row *row, const char *path, const struct machine_disk *disk)
{
	GtkWidget *top = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
	GtkWidget *options = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
	row->box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 6);
	row->path = GTK_ENTRY(gtk_entry_new());
	gtk_entry_set_text(row->path, path);
	gtk_entry_set_activates_default(row->path, TRUE);
	gtk_widget_set_hexpand(GTK_WIDGET(row->path), TRUE);
	setting_entry_add_chooser(row->path);
	row->remove = gtk_button_new_from_icon_name("list-remove-symbolic", GTK_ICON_SIZE_BUTTON);
	gtk_widget_set_tooltip_text(row->remove, _("Remove this drive"));
	row->bus = new_bus_combo(disk->bus);
	row->kind = new_kind_combo(disk->media);
	row->read_only = GTK_TOGGLE_BUTTON(gtk_check_button_new_with_label(_("Read-only")));
	row->disk_read_only = disk->media != MACHINE_MEDIA_CDROM && disk->read_only;
	gtk_toggle_button_set_active(row->read_only, disk->read_only || disk->media == MACHINE_MEDIA_CDROM);
	gtk_widget_set_sensitive(GTK_WIDGET(row->read_only), disk->media != MACHINE_MEDIA_CDROM);
	row->message = setting_message_new();
	gtk_box_pack_start(GTK_BOX(top), GTK_WIDGET(row->path), TRUE, TRUE, 0);
	gtk_box_pack_start(GTK_BOX(top), row->remove, FALSE, FALSE, 0);
	gtk_box_pack_start(GTK_BOX(options), GTK_WIDGET(row->bus), FALSE, FALSE, 0);
	gtk_box_pack_start(GTK_BOX(options), GTK_WIDGET(row->kind), FALSE, FALSE, 0);
	gtk_box_pack_start(GTK_BOX(options), GTK_WIDGET(row->read_only), FALSE, FALSE, 0);
	gtk_box_pack_start(GTK_BOX(row->box), top, FALSE, FALSE, 0);
	gtk_box_pack_start(GTK_BOX(row->box), options, FALSE, FALSE, 0);
	gtk_box_pack_start(GTK_BOX(row->box), row->message, FALSE, FALSE, 0);
	gtk_widget_show_all(row->box);
}

/* Connected once the row shows its drive: filling it is no change. */
static void connect_row(struct disk_row *row)
{
	g_signal_connect_swapped(row->path, "changed", G_CALLBACK(emit_changed), row->list);
	g_signal_connect_swapped(row->bus, "changed", G_CALLBACK(emit_changed), row->list);
	g_signal_connect_swapped(row->kind, "changed", G_CALLBACK(on_kind_changed), row);
	g_signal_connect_swapped(row->read_only, "toggled", G_CALLBACK(on_read_only_toggled), row);
	g_signal_connect_swapped(row->remove, "clicked", G_CALLBACK(on_remove_clicked), row);
}

/* The options of `spec` a row has no widget for, as written. */
static char **kept_options(const char *spec)
{
	g_auto(GStrv) parts = g_strsplit(spec, ",", -1);
	GPtrArray *kept = g_ptr_array_new();
	for (unsigned i = 1; parts[i]; i++)
		if (strcmp(parts[i], "ro") && !g_str_has_prefix(parts[i], "bus=") &&
		    !g_str_has_prefix(parts[i], "media="))
			g_ptr_array_add(kept, g_strdup(parts[i]));
	g_ptr_array_add(kept, NULL);
	return (char **)g_ptr_array_free(kept, FALSE);
}

static struct disk_row *add_row(VireoDiskList *self, const char *path, const struct machine_disk *disk,
				char **kept)
{
	struct disk_row *row = g_new0(struct disk_row, 1);
	row->list = self;
	row->kept = kept;
	build_row(row, path, disk);
	connect_row(row);
	gtk_box_pack_start(self->rows_box, row->box, FALSE, FALSE, 0);
	g_ptr_array_add(self->rows, row);
	update_rows(self);
	return row;
}

/* A row for a spec the machine library accepted; one it would not (a
 * machine.ini edited by hand) shows its path, for the row to say what is wrong. */
static void add_spec_row(VireoDiskList *self, const char *spec)
{
	struct machine_disk disk;
	g_auto(GStrv) parts = g_strsplit(spec, ",", 2);
	if (!machine_parse_disk(spec, &disk, NULL))
		memset(&disk, 0, sizeof(disk));
	add_row(self, parts[0] ? parts[0] : "", &disk, kept_options(spec));
	machine_disk_clear(&disk);
}

/* A new, empty row whose path the user types or chooses next. */
static void add_new_row(VireoDiskList *self, enum machine_disk_bus bus, enum machine_disk_media media)
{
	struct machine_disk disk = { .bus = bus, .media = media };
	struct disk_row *row = add_row(self, "", &disk, g_new0(char *, 1));
	gtk_widget_grab_focus(GTK_WIDGET(row->path));
	emit_changed(self);
}

static void on_add_disk_clicked(VireoDiskList *self)
{
	add_new_row(self, MACHINE_BUS_VIRTIO, MACHINE_MEDIA_DISK);
}

/* IDE: the controller every PC firmware and system drives. */
static void on_add_cdrom_clicked(VireoDiskList *self)
{
	add_new_row(self, MACHINE_BUS_IDE, MACHINE_MEDIA_CDROM);
}

/* The new image becomes a virtio disk, the default bus. */
static void on_new_disk_made(const char *path, gpointer data)
{
	VireoDiskList *self = data;
	struct machine_disk disk = { .bus = MACHINE_BUS_VIRTIO, .media = MACHINE_MEDIA_DISK };
	g_ptr_array_add(self->made, g_strdup(path));
	struct disk_row *row = add_row(self, path, &disk, g_new0(char *, 1));
	gtk_widget_grab_focus(GTK_WIDGET(row->bus));
	emit_changed(self);
}

/* The rows' paths, which a new image's name avoids although they may not exist yet. */
static char **row_paths(VireoDiskList *self)
{
	char **paths = g_new0(char *, self->rows->len + 1);
	for (guint i = 0; i < self->rows->len; i++)
		paths[i] = row_path(self->rows->pdata[i]);
	return paths;
}

static void on_new_disk_clicked(VireoDiskList *self)
{
	g_auto(GStrv) taken = row_paths(self);
	self->new_disk_dialog = new_disk_dialog_show(GTK_WIDGET(self), self->folder, taken, on_new_disk_made, self);
	g_signal_connect(self->new_disk_dialog, "destroy", G_CALLBACK(gtk_widget_destroyed), &self->new_disk_dialog);
}

void vireo_disk_list_set_folder(VireoDiskList *self, const char *folder)
{
	g_free(self->folder);
	self->folder = g_strdup(folder);
	gtk_widget_set_visible(self->new_disk, folder != NULL);
}

void vireo_disk_list_load(VireoDiskList *self, char *const *specs)
{
	while (self->rows->len) {
		gtk_widget_destroy(((struct disk_row *)self->rows->pdata[0])->box);
		g_ptr_array_remove_index(self->rows, 0);
	}
	for (unsigned i = 0; specs && specs[i]; i++)
		add_spec_row(self, specs[i]);
	update_rows(self);
}

static char *get_text(VireoSettingField *field)
{
	VireoDiskList *self = VIREO_DISK_LIST(field);
	if (!self->rows->len)
		return NULL;
	GString *text = g_string_new(NULL);
	for (guint i = 0; i < self->rows->len; i++) {
		g_autofree char *spec = row_spec(self->rows->pdata[i]);
		g_string_append_printf(text, "%s%s", i ? ";" : "", spec);
	}
	return g_string_free(text, FALSE);
}

static bool check(VireoSettingField *field)
{
	VireoDiskList *self = VIREO_DISK_LIST(field);
	bool ok = true;
	for (guint i = 0; i < self->rows->len; i++) {
		struct disk_row *row = self->rows->pdata[i];
		g_autofree char *problem = row_problem(row);
		setting_message_show(GTK_LABEL(row->message), problem, true);
		gtk_widget_set_visible(row->message, problem != NULL);
		ok &= problem == NULL;
	}
	return ok;
}

/* Images New Disk… made that the machine's saved settings do not use (the
 * editor was cancelled, or the row removed before saving) are removed with
 * the list, as nothing else knows of them. Kept when machine.ini cannot be
 * read: then nobody can tell. */
static void remove_unused_images(VireoDiskList *self)
{
	if (!self->made->len || !self->folder)
		return;
	g_autofree char *ini = g_build_filename(self->folder, LIBRARY_MACHINE_FILE, NULL);
	struct vireo_machine saved;
	machine_init(&saved);
	if (machine_load(&saved, ini, NULL)) {
		g_autoptr(GPtrArray) used = library_own_disks(&saved, self->folder);
		for (guint i = 0; i < self->made->len; i++)
			if (!g_ptr_array_find_with_equal_func(used, self->made->pdata[i], g_str_equal, NULL))
				g_unlink(self->made->pdata[i]);
	}
	machine_clear(&saved);
	g_ptr_array_set_size(self->made, 0);
}

static void vireo_disk_list_dispose(GObject *object)
{
	VireoDiskList *self = VIREO_DISK_LIST(object);
	if (self->new_disk_dialog)
		gtk_widget_destroy(self->new_disk_dialog);
	remove_unused_images(self);
	G_OBJECT_CLASS(vireo_disk_list_parent_class)->dispose(object);  /* the rows' widgets go first */
	g_clear_pointer(&self->rows, g_ptr_array_unref);
}

static void vireo_disk_list_finalize(GObject *object)
{
	g_ptr_array_unref(VIREO_DISK_LIST(object)->made);
	g_free(VIREO_DISK_LIST(object)->folder);
	G_OBJECT_CLASS(vireo_disk_list_parent_class)->finalize(object);
}

static void vireo_disk_list_class_init(VireoDiskListClass *klass)
{
	G_OBJECT_CLASS(klass)->dispose = vireo_disk_list_dispose;
	G_OBJECT_CLASS(klass)->finalize = vireo_disk_list_finalize;
	VIREO_SETTING_FIELD_CLASS(klass)->get_text = get_text;
	VIREO_SETTING_FIELD_CLASS(klass)->check = check;
}

static GtkWidget *new_add_button(VireoDiskList *self, const char *label, GCallback clicked)
{
	GtkWidget *button = gtk_button_new_with_label(label);
	g_signal_connect_swapped(button, "clicked", clicked, self);
	return button;
}

static void vireo_disk_list_init(VireoDiskList *self)
{
	GtkWidget *buttons = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
	gtk_orientable_set_orientation(GTK_ORIENTABLE(self), GTK_ORIENTATION_VERTICAL);
	gtk_box_set_spacing(GTK_BOX(self), 12);
	self->rows = g_ptr_array_new_with_free_func((GDestroyNotify)disk_row_free);
	self->made = g_ptr_array_new_with_free_func(g_free);
	self->rows_box = GTK_BOX(gtk_box_new(GTK_ORIENTATION_VERTICAL, 18));
	self->empty = gtk_label_new(_("No drives"));
	gtk_label_set_xalign(GTK_LABEL(self->empty), 0);
	gtk_style_context_add_class(gtk_widget_get_style_context(self->empty), GTK_STYLE_CLASS_DIM_LABEL);
	gtk_widget_set_no_show_all(self->empty, TRUE);
	self->add_disk = new_add_button(self, _("Add Disk"), G_CALLBACK(on_add_disk_clicked));
	self->add_cdrom = new_add_button(self, _("Add CD-ROM"), G_CALLBACK(on_add_cdrom_clicked));
	self->new_disk = new_add_button(self, _("New Disk…"), G_CALLBACK(on_new_disk_clicked));
	gtk_widget_set_tooltip_text(self->new_disk, _("Make an empty disk image in the machine’s folder"));
	gtk_widget_set_no_show_all(self->new_disk, TRUE);
	gtk_box_pack_start(GTK_BOX(buttons), self->add_disk, FALSE, FALSE, 0);
	gtk_box_pack_start(GTK_BOX(buttons), self->add_cdrom, FALSE, FALSE, 0);
	gtk_box_pack_start(GTK_BOX(buttons), self->new_disk, FALSE, FALSE, 0);
	gtk_box_pack_start(GTK_BOX(self), GTK_WIDGET(self->rows_box), FALSE, FALSE, 0);
	gtk_box_pack_start(GTK_BOX(self), self->empty, FALSE, FALSE, 0);
	gtk_box_pack_start(GTK_BOX(self), buttons, FALSE, FALSE, 0);
	gtk_widget_show_all(GTK_WIDGET(self));
	update_rows(self);
}

GtkWidget *vireo_disk_list_new(void)
{
	return g_object_new(VIREO_TYPE_DISK_LIST, NULL);
}
