/* The New Machine assistant; see new-machine.h. */
#include "new-machine.h"

#include <glib/gi18n.h>

#include "file-filters.h"
#include "host.h"
#include "iso-detect.h"
#include "iso-label.h"
#include "library.h"
#include "setting-widgets.h"

/* The hardware an operating system family gets: what its installer drives
 * without extra drivers, from the devices the engine has (no e1000, USB
 * tablet or HDA audio yet: the network is virtio-net for every family). */
struct os_preset {
	const char *id;            /* os_combo's item id */
	const char *hint;          /* untranslated; what the preset picks */
	const char *disk_options;  /* the disk's controller; NULL: virtio */
	bool iso_on_sata;          /* the installer as a SATA CD-ROM, else the IDE one (cdrom=) */
	const char *gpu;
	const char *net;
	bool rng;
	unsigned memory_mib;       /* at most half the host's */
	unsigned cpus;             /* at most the host's */
	unsigned disk_gib;
};

/* Windows: AHCI and VGA, as its installer finds them. BIOS until the engine
 * has UEFI firmware (Windows 11 will want it then). */
static const struct os_preset os_presets[] = {
	{ "linux", N_("A virtio disk, graphics, network and random number generator; the ISO on the CD-ROM."),
	  NULL, false, "virtio", "user", true, 2048, 2, 20 },
	{ "windows", N_("A SATA disk and CD-ROM and the standard VGA; the network needs Windows’ virtio drivers."),
	  "bus=sata", true, "std", "user", false, 4096, 2, 64 },
	{ "other", N_("An IDE disk and CD-ROM, the standard VGA and no network: what any PC system drives."),
	  "bus=ide", false, "std", "none", false, 1024, 1, 20 },
};

enum source_kind { SOURCE_ISO, SOURCE_IMAGE, SOURCE_KERNEL };

struct _VireoNewMachineDialog {
	GtkDialog parent;
	GtkGrid *main_grid;
	GtkEntry *name_entry;
	GtkLabel *name_message;
	GtkToggleButton *iso_radio;
	GtkToggleButton *image_radio;
	GtkToggleButton *kernel_radio;
	GtkEntry *source_entry;
	GtkLabel *source_message;
	GtkComboBox *os_combo;
	GtkLabel *os_recognized;
	GtkLabel *os_hint;
	GtkWidget *disk_label;
	GtkSpinButton *disk_spin;
	GtkWidget *disk_hint;
	GtkWidget *create_button;
	struct setting_widget *initrd;   /* the shared setting widgets */
	struct setting_widget *memory;
	struct setting_widget *cpus;
	struct setting_widget *firmware;
	GPtrArray *entries;   /* the library as listed when the dialog opened */
	char *display;
	char *recognized_path; /* the ISO os_recognized speaks of */
	bool name_edited;     /* the user typed a name: stop suggesting one */
	bool suggesting;      /* the name entry is being changed by us */
};

G_DEFINE_TYPE(VireoNewMachineDialog, vireo_new_machine_dialog, GTK_TYPE_DIALOG)

static enum source_kind source_kind(VireoNewMachineDialog *self)
{
	if (gtk_toggle_button_get_active(self->kernel_radio))
		return SOURCE_KERNEL;
	return gtk_toggle_button_get_active(self->image_radio) ? SOURCE_IMAGE : SOURCE_ISO;
}

static const struct os_preset *chosen_preset(VireoNewMachineDialog *self)
{
	const char *id = gtk_combo_box_get_active_id(self->os_combo);
	for (size_t i = 0; id && i < G_N_ELEMENTS(os_presets); i++)
		if (!strcmp(os_presets[i].id, id))
			return &os_presets[i];
	return &os_presets[0];
}

static char *entered_name(VireoNewMachineDialog *self)
{
	return g_strstrip(g_strdup(gtk_entry_get_text(self->name_entry)));
}

static bool validate_name(VireoNewMachineDialog *self)
{
	g_autofree char *name = entered_name(self);
	if (!*name) {
		setting_message_show(self->name_message, _("Enter a name for the machine."), true);
		return false;
	}
	if (library_name_in_use(self->entries, name)) {
		g_autofree char *text = g_strdup_printf(_("A machine called “%s” already exists."), name);
		setting_message_show(self->name_message, text, true);
		return false;
	}
	setting_message_show(self->name_message, NULL, false);
	return true;
}

static const char *source_prompt(enum source_kind kind)
{
	switch (kind) {
	case SOURCE_KERNEL:
		return _("Choose the Linux kernel to boot.");
	case SOURCE_IMAGE:
		return _("Choose the disk image to boot.");
	case SOURCE_ISO:
		break;
	}
	return _("Choose the installer’s ISO image.");
}

static bool validate_source(VireoNewMachineDialog *self)
{
	const char *path = gtk_entry_get_text(self->source_entry);
	enum source_kind kind = source_kind(self);
	if (!*path) {
		setting_message_show(self->source_message, source_prompt(kind), false);
		return false;
	}
	if (!g_path_is_absolute(path) || !g_file_test(path, G_FILE_TEST_IS_REGULAR)) {
		g_autofree char *text = g_strdup_printf(_("There is no file “%s”."), path);
		setting_message_show(self->source_message, text, true);
		return false;
	}
	if (kind != SOURCE_KERNEL && strpbrk(path, ",;")) {
		/* a disk spec separates options with ',' and disks with ';' */
		setting_message_show(self->source_message, _("The file’s name must not contain “,” or “;”."), true);
		return false;
	}
	setting_message_show(self->source_message, NULL, false);
	return true;
}

/* The shared widgets' values on a scratch machine, each saying what is
 * wrong under itself; an initrd must exist. */
static bool validate_settings(VireoNewMachineDialog *self)
{
	struct vireo_machine m;
	machine_init(&m);
	bool ok = setting_widget_apply(self->memory, &m, NULL);
	ok &= setting_widget_apply(self->cpus, &m, NULL);
	ok &= setting_widget_apply(self->firmware, &m, NULL);
	if (source_kind(self) == SOURCE_KERNEL && setting_widget_apply(self->initrd, &m, NULL) && m.initrd &&
	    !g_file_test(m.initrd, G_FILE_TEST_IS_REGULAR)) {
		g_autofree char *text = g_strdup_printf(_("There is no file “%s”."), m.initrd);
		setting_widget_show_message(self->initrd, text, true);
		ok = false;
	}
	machine_clear(&m);
	return ok;
}

/* The name the disc's maker gave it, else the file's ("debian-12.iso" ->
 * "debian-12"), while the user has not typed one. */
static void suggest_name(VireoNewMachineDialog *self)
{
	const char *path = gtk_entry_get_text(self->source_entry);
	if (self->name_edited || !*path)
		return;
	g_autofree char *base = source_kind(self) == SOURCE_ISO ? iso_volume_label(path) : NULL;
	if (!base) {
		base = g_path_get_basename(path);
		char *dot = strrchr(base, '.');
		if (dot && dot != base)
			*dot = 0;
	}
	g_autofree char *name = library_unique_name(self->entries, base);
	self->suggesting = true;
	gtk_entry_set_text(self->name_entry, name);
	self->suggesting = false;
}

static void on_field_changed(VireoNewMachineDialog *self, GtkWidget *widget)
{
	if (widget == GTK_WIDGET(self->name_entry) && !self->suggesting)
		self->name_edited = true;
	bool name_ok = validate_name(self);
	bool source_ok = validate_source(self);
	bool settings_ok = validate_settings(self);
	gtk_widget_set_sensitive(self->create_button, name_ok && source_ok && settings_ok);
}

/* What os_recognized says of what iso_detect() found. */
static char *recognized_text(const struct iso_detection *d)
{
	switch (d->os) {
	case ISO_OS_UNKNOWN:
		return g_strdup(_("Not recognized: choose the operating system."));
	case ISO_OS_WINDOWS:
		return g_strdup(_("Recognized: Windows installer"));
	case ISO_OS_LINUX:
		break;
	}
	/* Translators: %s is the name on the disc, such as "Debian 12.8.0" */
	return d->name ? g_strdup_printf(_("Recognized: %s (Linux)"), d->name) : g_strdup(_("Recognized: Linux installer"));
}

/* The preset for the operating system on a newly chosen installer ISO,
 * which the user may still change, and a line saying what was found. */
static void recognize_os(VireoNewMachineDialog *self)
{
	const char *path = gtk_entry_get_text(self->source_entry);
	if (source_kind(self) != SOURCE_ISO || !g_file_test(path, G_FILE_TEST_IS_REGULAR)) {
		g_clear_pointer(&self->recognized_path, g_free);
		setting_message_show(self->os_recognized, NULL, false);
		return;
	}
	if (!g_strcmp0(path, self->recognized_path))
		return;  /* the same ISO: the user's choice since stands */
	g_free(self->recognized_path);
	self->recognized_path = g_strdup(path);
	struct iso_detection d;
	iso_detect(path, &d);
	if (d.os != ISO_OS_UNKNOWN)
		gtk_combo_box_set_active_id(self->os_combo, d.os == ISO_OS_WINDOWS ? "windows" : "linux");
	g_autofree char *text = recognized_text(&d);
	setting_message_show(self->os_recognized, text, false);
	iso_detection_clear(&d);
}

static void on_source_changed(VireoNewMachineDialog *self)
{
	suggest_name(self);
	recognize_os(self);
	on_field_changed(self, NULL);
}

/* Memory, processors, firmware and disk size as the operating system and
 * the source want them, bounded by this computer. */
static void apply_preset(VireoNewMachineDialog *self)
{
	const struct os_preset *preset = chosen_preset(self);
	enum source_kind kind = source_kind(self);
	struct vireo_machine m;
	machine_init(&m);
	m.memory = (uint64_t)MIN(preset->memory_mib, MAX(host_memory_mib() / 2, MACHINE_MIN_MEMORY >> 20)) << 20;
	m.cpus = MIN(preset->cpus, host_cpus());
	m.firmware = kind == SOURCE_KERNEL ? NULL : g_strdup("bios");  /* a kernel boots directly */
	setting_widget_load(self->memory, &m);
	setting_widget_load(self->cpus, &m);
	setting_widget_load(self->firmware, &m);
	machine_clear(&m);
	gtk_label_set_text(self->os_hint, _(preset->hint));
	/* a disk image is the disk; an empty one beside it would only confuse */
	gtk_spin_button_set_value(self->disk_spin, kind == SOURCE_IMAGE ? 0 : preset->disk_gib);
	gtk_widget_set_visible(self->disk_label, kind != SOURCE_IMAGE);
	gtk_widget_set_visible(GTK_WIDGET(self->disk_spin), kind != SOURCE_IMAGE);
	gtk_widget_set_visible(self->disk_hint, kind != SOURCE_IMAGE);
	setting_widget_set_visible(self->initrd, kind == SOURCE_KERNEL);
}

static void on_os_changed(VireoNewMachineDialog *self)
{
	apply_preset(self);
	on_field_changed(self, NULL);
}

static void on_source_kind_toggled(VireoNewMachineDialog *self, GtkToggleButton *radio)
{
	if (!gtk_toggle_button_get_active(radio))
		return;  /* the one switched off; its partner follows */
	if (source_kind(self) == SOURCE_KERNEL)
		gtk_combo_box_set_active_id(self->os_combo, "linux");  /* direct boot is Linux's */
	apply_preset(self);
	on_source_changed(self);
}

static void on_file_chosen(GtkNativeDialog *chooser, int response, gpointer data)
{
	VireoNewMachineDialog *self = data;
	if (response == GTK_RESPONSE_ACCEPT) {
		g_autofree char *path = gtk_file_chooser_get_filename(GTK_FILE_CHOOSER(chooser));
		if (path)
			gtk_entry_set_text(self->source_entry, path);
	}
	g_object_unref(chooser);
}

static void on_choose_clicked(VireoNewMachineDialog *self)
{
	enum source_kind kind = source_kind(self);
	const char *title = kind == SOURCE_KERNEL ? _("Choose a Linux Kernel")
			  : kind == SOURCE_IMAGE ? _("Choose a Disk Image") : _("Choose an Installer ISO");
	GtkFileChooserNative *chooser = gtk_file_chooser_native_new(title, GTK_WINDOW(self),
		GTK_FILE_CHOOSER_ACTION_OPEN, _("_Open"), _("_Cancel"));
	if (kind == SOURCE_ISO)
		file_filters_add_discs(GTK_FILE_CHOOSER(chooser));
	if (kind == SOURCE_IMAGE)
		file_filters_add_raw_disks(GTK_FILE_CHOOSER(chooser));
	file_filters_add_all(GTK_FILE_CHOOSER(chooser));
	g_signal_connect(chooser, "response", G_CALLBACK(on_file_chosen), self);
	gtk_native_dialog_show(GTK_NATIVE_DIALOG(chooser));
}

static void vireo_new_machine_dialog_dispose(GObject *object)
{
	VireoNewMachineDialog *self = VIREO_NEW_MACHINE_DIALOG(object);
	g_clear_pointer(&self->initrd, setting_widget_free);
	g_clear_pointer(&self->memory, setting_widget_free);
	g_clear_pointer(&self->cpus, setting_widget_free);
	g_clear_pointer(&self->firmware, setting_widget_free);
	g_clear_pointer(&self->entries, g_ptr_array_unref);
	G_OBJECT_CLASS(vireo_new_machine_dialog_parent_class)->dispose(object);
}

static void vireo_new_machine_dialog_finalize(GObject *object)
{
	g_free(VIREO_NEW_MACHINE_DIALOG(object)->display);
	g_free(VIREO_NEW_MACHINE_DIALOG(object)->recognized_path);
	G_OBJECT_CLASS(vireo_new_machine_dialog_parent_class)->finalize(object);
}

#define BIND(name) gtk_widget_class_bind_template_child(widget_class, VireoNewMachineDialog, name)

static void vireo_new_machine_dialog_class_init(VireoNewMachineDialogClass *klass)
{
	GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);
	G_OBJECT_CLASS(klass)->dispose = vireo_new_machine_dialog_dispose;
	G_OBJECT_CLASS(klass)->finalize = vireo_new_machine_dialog_finalize;
	gtk_widget_class_set_template_from_resource(widget_class, "/io/github/vireo/Vireo/ui/new-machine.ui");
	BIND(main_grid);
	BIND(name_entry);
	BIND(name_message);
	BIND(iso_radio);
	BIND(image_radio);
	BIND(kernel_radio);
	BIND(source_entry);
	BIND(source_message);
	BIND(os_combo);
	BIND(os_recognized);
	BIND(os_hint);
	BIND(disk_label);
	BIND(disk_spin);
	BIND(disk_hint);
	BIND(create_button);
	gtk_widget_class_bind_template_callback(widget_class, on_field_changed);
	gtk_widget_class_bind_template_callback(widget_class, on_source_changed);
	gtk_widget_class_bind_template_callback(widget_class, on_source_kind_toggled);
	gtk_widget_class_bind_template_callback(widget_class, on_os_changed);
	gtk_widget_class_bind_template_callback(widget_class, on_choose_clicked);
}

static void on_setting_changed(gpointer data)
{
	on_field_changed(data, NULL);
}

/* A setting widget of the table's, in main_grid at `row` (see the .ui),
 * as wide as the file entry and its Choose button. */
static struct setting_widget *add_setting(VireoNewMachineDialog *self, const char *flag, int row)
{
	struct setting_widget *sw = setting_widget_new(machine_setting_by_flag(flag), on_setting_changed, self);
	setting_widget_attach(sw, self->main_grid, row, 2);
	return sw;
}

static void vireo_new_machine_dialog_init(VireoNewMachineDialog *self)
{
	gtk_widget_init_template(GTK_WIDGET(self));
	self->initrd = add_setting(self, "initrd", 5);
	self->memory = add_setting(self, "memory", 10);
	self->cpus = add_setting(self, "cpus", 12);
	self->firmware = add_setting(self, "firmware", 14);
}

GtkWidget *vireo_new_machine_dialog_new(GtkWindow *parent, GPtrArray *entries, const char *display)
{
	VireoNewMachineDialog *self = g_object_new(VIREO_TYPE_NEW_MACHINE_DIALOG, "transient-for", parent,
						   "use-header-bar", TRUE, NULL);
	self->entries = g_ptr_array_ref(entries);
	self->display = g_strdup(display);
	gtk_combo_box_set_active_id(self->os_combo, "linux");
	apply_preset(self);
	g_autofree char *name = library_unique_name(entries, _("New Machine"));
	self->suggesting = true;
	gtk_entry_set_text(self->name_entry, name);
	self->suggesting = false;
	on_field_changed(self, NULL);
	return GTK_WIDGET(self);
}

static void set_setting(struct vireo_machine *m, const char *flag, const char *value)
{
	g_autoptr(GError) error = NULL;
	if (!machine_set(m, machine_setting_by_flag(flag), value, NULL, &error))
		g_warning("new machine: %s", error->message);  /* the dialog validated it */
}

/* What boots: the installer on a CD-ROM, the disk image, or the kernel. */
static void set_source(VireoNewMachineDialog *self, struct vireo_machine *m, const struct os_preset *preset)
{
	const char *source = gtk_entry_get_text(self->source_entry);
	g_autofree char *spec = NULL;
	switch (source_kind(self)) {
	case SOURCE_KERNEL:
		set_setting(m, "kernel", source);
		setting_widget_apply(self->initrd, m, NULL);
		return;
	case SOURCE_IMAGE:
		spec = preset->disk_options ? g_strdup_printf("%s,%s", source, preset->disk_options) : g_strdup(source);
		set_setting(m, "disk", spec);
		return;
	case SOURCE_ISO:
		break;
	}
	if (preset->iso_on_sata) {
		spec = g_strdup_printf("%s,bus=sata,media=cdrom", source);
		set_setting(m, "disk", spec);
	} else {
		set_setting(m, "cdrom", source);
	}
}

void vireo_new_machine_dialog_get_machine(VireoNewMachineDialog *self, struct vireo_machine *m)
{
	const struct os_preset *preset = chosen_preset(self);
	g_autofree char *name = entered_name(self);
	machine_init(m);
	set_setting(m, "name", name);
	setting_widget_apply(self->memory, m, NULL);
	setting_widget_apply(self->cpus, m, NULL);
	setting_widget_apply(self->firmware, m, NULL);
	set_source(self, m, preset);
	set_setting(m, "gpu", preset->gpu);
	set_setting(m, "net", preset->net);
	m->rng = preset->rng;
	set_setting(m, "serial", "none");  /* no terminal to print on */
	set_setting(m, "display", self->display);
}

uint64_t vireo_new_machine_dialog_get_disk_size(VireoNewMachineDialog *self)
{
	return (uint64_t)gtk_spin_button_get_value_as_int(self->disk_spin) << 30;
}

const char *vireo_new_machine_dialog_get_disk_options(VireoNewMachineDialog *self)
{
	return chosen_preset(self)->disk_options;
}
