/* The New Machine dialog; see new-machine.h. */
#include "new-machine.h"

#include <glib/gi18n.h>

#include "host.h"
#include "library.h"

struct _VireoNewMachineDialog {
	GtkDialog parent;
	GtkEntry *name_entry;
	GtkLabel *name_message;
	GtkToggleButton *kernel_radio;
	GtkEntry *source_entry;
	GtkLabel *source_message;
	GtkSpinButton *memory_spin;
	GtkLabel *memory_message;
	GtkSpinButton *cpus_spin;
	GtkSpinButton *disk_spin;
	GtkWidget *create_button;
	GPtrArray *entries;   /* the library as listed when the dialog opened */
	char *display;
	bool name_edited;     /* the user typed a name: stop suggesting one */
	bool suggesting;      /* the name entry is being changed by us */
};

G_DEFINE_TYPE(VireoNewMachineDialog, vireo_new_machine_dialog, GTK_TYPE_DIALOG)

#define DEFAULT_MEMORY_MIB 2048

/* Shows a message under a field; errors in the theme's error colour. */
static void show_message(GtkLabel *label, const char *text, bool is_error)
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

static char *entered_name(VireoNewMachineDialog *self)
{
	return g_strstrip(g_strdup(gtk_entry_get_text(self->name_entry)));
}

static bool validate_name(VireoNewMachineDialog *self)
{
	g_autofree char *name = entered_name(self);
	if (!*name) {
		show_message(self->name_message, _("Enter a name for the machine."), true);
		return false;
	}
	if (library_name_in_use(self->entries, name)) {
		g_autofree char *text = g_strdup_printf(_("A machine called “%s” already exists."), name);
		show_message(self->name_message, text, true);
		return false;
	}
	show_message(self->name_message, NULL, false);
	return true;
}

static bool validate_source(VireoNewMachineDialog *self)
{
	const char *path = gtk_entry_get_text(self->source_entry);
	bool kernel = gtk_toggle_button_get_active(self->kernel_radio);
	if (!*path) {
		show_message(self->source_message, kernel ? _("Choose the Linux kernel to boot.")
							  : _("Choose the installer’s ISO image."), false);
		return false;
	}
	if (!g_path_is_absolute(path) || !g_file_test(path, G_FILE_TEST_IS_REGULAR)) {
		g_autofree char *text = g_strdup_printf(_("There is no file “%s”."), path);
		show_message(self->source_message, text, true);
		return false;
	}
	if (!kernel && strpbrk(path, ",;")) {
		/* a disk spec separates options with ',' and disks with ';' */
		show_message(self->source_message, _("The ISO’s file name must not contain “,” or “;”."), true);
		return false;
	}
	show_message(self->source_message, NULL, false);
	return true;
}

/* Not an error: the user may know better, but should know the risk. */
static void check_memory(VireoNewMachineDialog *self)
{
	uint64_t host = host_memory_mib();
	uint64_t wanted = (uint64_t)gtk_spin_button_get_value_as_int(self->memory_spin);
	if (wanted > host / 4 * 3) {
		g_autofree char *host_text = g_format_size_full(host << 20, G_FORMAT_SIZE_IEC_UNITS);
		g_autofree char *text = g_strdup_printf(
			_("More than three quarters of this computer’s %s: it may become slow."), host_text);
		show_message(self->memory_message, text, true);
	} else {
		show_message(self->memory_message, NULL, false);
	}
}

/* A name from the chosen file ("debian-12.iso" -> "debian-12"), while the
 * user has not typed one. */
static void suggest_name(VireoNewMachineDialog *self)
{
	const char *path = gtk_entry_get_text(self->source_entry);
	if (self->name_edited || !*path)
		return;
	g_autofree char *base = g_path_get_basename(path);
	char *dot = strrchr(base, '.');
	if (dot && dot != base)
		*dot = 0;
	g_autofree char *name = library_unique_name(self->entries, base);
	self->suggesting = true;
	gtk_entry_set_text(self->name_entry, name);
	self->suggesting = false;
}

static void on_field_changed(VireoNewMachineDialog *self, GtkWidget *widget)
{
	if (widget == GTK_WIDGET(self->name_entry) && !self->suggesting)
		self->name_edited = true;
	if (widget == GTK_WIDGET(self->source_entry))
		suggest_name(self);
	bool name_ok = validate_name(self);
	bool source_ok = validate_source(self);
	check_memory(self);
	gtk_widget_set_sensitive(self->create_button, name_ok && source_ok);
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

static void add_filter(GtkFileChooser *chooser, const char *name, const char *pattern)
{
	GtkFileFilter *filter = gtk_file_filter_new();
	gtk_file_filter_set_name(filter, name);
	gtk_file_filter_add_pattern(filter, pattern);
	gtk_file_chooser_add_filter(chooser, filter);
}

static void on_choose_clicked(VireoNewMachineDialog *self)
{
	bool kernel = gtk_toggle_button_get_active(self->kernel_radio);
	GtkFileChooserNative *chooser = gtk_file_chooser_native_new(
		kernel ? _("Choose a Linux Kernel") : _("Choose an Installer ISO"), GTK_WINDOW(self),
		GTK_FILE_CHOOSER_ACTION_OPEN, _("_Open"), _("_Cancel"));
	if (!kernel)
		add_filter(GTK_FILE_CHOOSER(chooser), _("Disc images"), "*.iso");
	add_filter(GTK_FILE_CHOOSER(chooser), _("All files"), "*");
	g_signal_connect(chooser, "response", G_CALLBACK(on_file_chosen), self);
	gtk_native_dialog_show(GTK_NATIVE_DIALOG(chooser));
}

static void vireo_new_machine_dialog_finalize(GObject *object)
{
	VireoNewMachineDialog *self = VIREO_NEW_MACHINE_DIALOG(object);
	g_free(self->display);
	g_ptr_array_unref(self->entries);
	G_OBJECT_CLASS(vireo_new_machine_dialog_parent_class)->finalize(object);
}

static void vireo_new_machine_dialog_class_init(VireoNewMachineDialogClass *klass)
{
	GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);
	G_OBJECT_CLASS(klass)->finalize = vireo_new_machine_dialog_finalize;
	gtk_widget_class_set_template_from_resource(widget_class, "/io/github/vireo/Vireo/ui/new-machine.ui");
	gtk_widget_class_bind_template_child(widget_class, VireoNewMachineDialog, name_entry);
	gtk_widget_class_bind_template_child(widget_class, VireoNewMachineDialog, name_message);
	gtk_widget_class_bind_template_child(widget_class, VireoNewMachineDialog, kernel_radio);
	gtk_widget_class_bind_template_child(widget_class, VireoNewMachineDialog, source_entry);
	gtk_widget_class_bind_template_child(widget_class, VireoNewMachineDialog, source_message);
	gtk_widget_class_bind_template_child(widget_class, VireoNewMachineDialog, memory_spin);
	gtk_widget_class_bind_template_child(widget_class, VireoNewMachineDialog, memory_message);
	gtk_widget_class_bind_template_child(widget_class, VireoNewMachineDialog, cpus_spin);
	gtk_widget_class_bind_template_child(widget_class, VireoNewMachineDialog, disk_spin);
	gtk_widget_class_bind_template_child(widget_class, VireoNewMachineDialog, create_button);
	gtk_widget_class_bind_template_callback(widget_class, on_field_changed);
	gtk_widget_class_bind_template_callback(widget_class, on_choose_clicked);
}

static void vireo_new_machine_dialog_init(VireoNewMachineDialog *self)
{
	gtk_widget_init_template(GTK_WIDGET(self));
}

/* Memory and processors: bounded by the host, defaults a desktop guest likes. */
static void set_bounds(VireoNewMachineDialog *self)
{
	double memory = (double)host_memory_mib();
	double cpus = host_cpus();
	gtk_spin_button_set_range(self->memory_spin, MACHINE_MIN_MEMORY >> 20, memory);
	gtk_spin_button_set_value(self->memory_spin, MIN(DEFAULT_MEMORY_MIB, memory / 2));
	gtk_spin_button_set_range(self->cpus_spin, 1, cpus);
	gtk_spin_button_set_value(self->cpus_spin, MIN(2, cpus));
}

GtkWidget *vireo_new_machine_dialog_new(GtkWindow *parent, GPtrArray *entries, const char *display)
{
	VireoNewMachineDialog *self = g_object_new(VIREO_TYPE_NEW_MACHINE_DIALOG, "transient-for", parent,
						   "use-header-bar", TRUE, NULL);
	self->entries = g_ptr_array_ref(entries);
	self->display = g_strdup(display);
	set_bounds(self);
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

void vireo_new_machine_dialog_get_machine(VireoNewMachineDialog *self, struct vireo_machine *m)
{
	g_autofree char *name = entered_name(self);
	const char *source = gtk_entry_get_text(self->source_entry);
	machine_init(m);
	set_setting(m, "name", name);
	m->memory = (uint64_t)gtk_spin_button_get_value_as_int(self->memory_spin) << 20;
	m->cpus = (unsigned)gtk_spin_button_get_value_as_int(self->cpus_spin);
	if (gtk_toggle_button_get_active(self->kernel_radio)) {
		set_setting(m, "kernel", source);
	} else {
		/* Until machine.ini has a CD-ROM setting (the firmware work), the
		 * installer is attached as a read-only disk. */
		g_autofree char *disk = g_strdup_printf("%s,ro", source);
		set_setting(m, "disk", disk);
	}
	set_setting(m, "serial", "none");  /* no terminal to print on */
	set_setting(m, "display", self->display);
}

uint64_t vireo_new_machine_dialog_get_disk_size(VireoNewMachineDialog *self)
{
	return (uint64_t)gtk_spin_button_get_value_as_int(self->disk_spin) << 30;
}
