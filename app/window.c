/* The main window; see window.h. */
#include "window.h"

#include <glib/gi18n.h>

#include "cd-menu.h"
#include "editor.h"
#include "engine-run.h"
#include "file-filters.h"
#include "library.h"
#include "new-machine.h"
#include "paths.h"
#include "screen-page.h"
#include "thumbnail.h"

#define RELOAD_DELAY_MS 200
#define THUMBNAIL_REFRESH_SECONDS 3
#define THUMBNAIL_WANTED "thumbnail-wanted"  /* row data: its picture is still to be read */

struct _VireoWindow {
	GtkApplicationWindow parent;
	GtkStack *stack;
	GtkListBox *machine_list;
	GtkInfoBar *error_bar;
	GtkLabel *error_label;
	GtkSearchBar *search_bar;
	GtkSearchEntry *search_entry;
	GtkToggleButton *search_button;
	GMenu *cd_section;         /* Change CD… and Eject CD, for the selected machine's drives */
	GtkInfoBar *vnc_bar;
	GtkLabel *vnc_label;
	char *vnc_address;         /* what Copy puts on the clipboard */
	struct screen_page *screen; /* the "screen" page of the stack */
	GSettings *settings;       /* NULL when the schema is missing */
	char *library_dir;
	char *kept_disks_dir;
	GPtrArray *entries;        /* struct library_entry *, as listed */
	GHashTable *runs;          /* entry id -> struct engine_run *: started or re-attached */
	GFileMonitor *monitor;     /* the library folder: machines come and go */
	GHashTable *folder_monitors; /* entry id -> GFileMonitor on its folder: machine.ini edited */
	unsigned reload_timer;
	unsigned thumbnail_timer;
	unsigned thumbnails_idle;
	unsigned screenshots_pending;
	GCancellable *cancellable; /* thumbnails being read */
};

G_DEFINE_TYPE(VireoWindow, vireo_window, GTK_TYPE_APPLICATION_WINDOW)

static void reload(VireoWindow *self);
static void watch_folder(VireoWindow *self, const struct library_entry *entry);

static char *setting_string(VireoWindow *self, const char *key, const char *fallback)
{
	return self->settings ? g_settings_get_string(self->settings, key) : g_strdup(fallback);
}

static void show_error(VireoWindow *self, const char *text)
{
	gtk_label_set_text(self->error_label, text);
	gtk_info_bar_set_revealed(self->error_bar, TRUE);
}

static void on_error_bar_response(GtkInfoBar *bar, int response, gpointer data)
{
	(void)response, (void)data;
	gtk_info_bar_set_revealed(bar, FALSE);
}

static const struct library_entry *find_entry(VireoWindow *self, const char *id)
{
	for (unsigned i = 0; id && i < self->entries->len; i++) {
		const struct library_entry *entry = self->entries->pdata[i];
		if (!strcmp(entry->id, id))
			return entry;
	}
	return NULL;
}

static const struct library_entry *selected_entry(VireoWindow *self)
{
	GtkListBoxRow *row = gtk_list_box_get_selected_row(self->machine_list);
	return row ? find_entry(self, g_object_get_data(G_OBJECT(row), "id")) : NULL;
}

/* machine.ini saved since the machine started: the changes wait for its next start. */
static bool settings_pending(const struct library_entry *entry, struct engine_run *run)
{
	g_autofree char *ini = g_build_filename(entry->folder, LIBRARY_MACHINE_FILE, NULL);
	return engine_run_predates(run, ini);
}

static const char *state_text(const struct library_entry *entry, struct engine_run *run)
{
	if (entry->broken)
		return _("Broken");
	switch (run ? engine_run_state(run) : ENGINE_STOPPED) {
	case ENGINE_STARTING:
		return _("Starting…");
	case ENGINE_RUNNING:
		return settings_pending(entry, run) ? _("Running · changes apply at next start") : _("Running");
	case ENGINE_PAUSED:
		return settings_pending(entry, run) ? _("Paused · changes apply at next start") : _("Paused");
	case ENGINE_STOPPING:
		return _("Stopping…");
	case ENGINE_STOPPED:
	case ENGINE_FAILED:
		break;
	}
	return _("Stopped");
}

/* The line under the name: what the machine boots, or why it is broken. */
static char *detail_text(const struct library_entry *entry)
{
	const struct vireo_machine *m = &entry->machine;
	if (entry->broken)
		return g_strdup(entry->broken->message);
	if (m->kernel) {
		g_autofree char *base = g_path_get_basename(m->kernel);
		return g_strdup_printf(_("Linux kernel %s"), base);
	}
	if (m->disks && m->disks[0]) {
		struct machine_disk disk;
		if (machine_parse_disk(m->disks[0], &disk, NULL)) {
			g_autofree char *base = machine_disk_is_empty(&disk) ? NULL : g_path_get_basename(disk.path);
			bool cdrom = disk.media == MACHINE_MEDIA_CDROM;
			machine_disk_clear(&disk);
			if (base)
				return cdrom ? g_strdup_printf(_("CD %s"), base) : g_strdup_printf(_("Disk %s"), base);
		}
	}
	return g_strdup(_("Nothing to boot"));
}

/* "512 MiB", "2 GiB", "1.5 GiB": as machine sizes are written, no ".0". */
static char *memory_text(uint64_t bytes)
{
	if (bytes < (1ull << 30))
		return g_strdup_printf("%" G_GUINT64_FORMAT " MiB", bytes >> 20);
	if (!(bytes & ((1ull << 30) - 1)))
		return g_strdup_printf("%" G_GUINT64_FORMAT " GiB", bytes >> 30);
	return g_strdup_printf("%.1f GiB", (double)bytes / (1ull << 30));
}

static char *resources_text(const struct vireo_machine *m)
{
	g_autofree char *memory = memory_text(m->memory);
	return g_strdup_printf(ngettext("%s · %u processor", "%s · %u processors", m->cpus), memory,
			       m->cpus);
}

static GtkWidget *new_label(const char *text, const char *style_class, float xalign)
{
	GtkWidget *label = gtk_label_new(text);
	gtk_label_set_xalign(GTK_LABEL(label), xalign);
	gtk_label_set_ellipsize(GTK_LABEL(label), PANGO_ELLIPSIZE_END);
	if (style_class)
		gtk_style_context_add_class(gtk_widget_get_style_context(label), style_class);
	return label;
}

static bool is_active(struct engine_run *run)
{
	return run && engine_run_state(run) != ENGINE_STOPPED && engine_run_state(run) != ENGINE_FAILED;
}

/* The running machine `id`, or NULL. */
static struct engine_run *active_run(VireoWindow *self, const char *id)
{
	struct engine_run *run = id ? g_hash_table_lookup(self->runs, id) : NULL;
	return is_active(run) ? run : NULL;
}

static void start_or_stop(VireoWindow *self, const struct library_entry *entry);

static void on_row_button(GtkButton *button, gpointer data)
{
	VireoWindow *self = data;
	start_or_stop(self, find_entry(self, g_object_get_data(G_OBJECT(button), "id")));
}

static void on_pause_button(GtkButton *button, gpointer data)
{
	VireoWindow *self = data;
	struct engine_run *run = g_hash_table_lookup(self->runs, g_object_get_data(G_OBJECT(button), "id"));
	if (run)
		engine_run_pause(run, engine_run_state(run) != ENGINE_PAUSED);
}

static void show_machine(VireoWindow *self, const char *id);

static void on_show_button(GtkButton *button, gpointer data)
{
	show_machine(data, g_object_get_data(G_OBJECT(button), "id"));
}

static GtkWidget *new_row_button(VireoWindow *self, const struct library_entry *entry, GCallback clicked)
{
	GtkWidget *button = gtk_button_new();
	gtk_button_set_image(GTK_BUTTON(button), gtk_image_new());
	gtk_widget_set_valign(button, GTK_ALIGN_CENTER);
	gtk_widget_set_no_show_all(button, TRUE);
	g_object_set_data_full(G_OBJECT(button), "id", g_strdup(entry->id), g_free);
	g_signal_connect(button, "clicked", clicked, self);
	return button;
}

static void set_button(GtkWidget *button, const char *icon, const char *what, bool visible)
{
	gtk_image_set_from_icon_name(GTK_IMAGE(gtk_button_get_image(GTK_BUTTON(button))), icon,
				     GTK_ICON_SIZE_BUTTON);
	gtk_widget_set_tooltip_text(button, what);
	atk_object_set_name(gtk_widget_get_accessible(button), what);
	gtk_widget_set_visible(button, visible);
}

/* Has the running machine a screen to show? */
static bool has_screen(struct engine_run *run)
{
	const char *display = run ? engine_run_display(run) : NULL;
	return display && strcmp(display, "none");
}

/* Show and Pause, made the first time the machine runs: most rows never
 * need them, and a long list starts faster without. */
static void add_run_buttons(VireoWindow *self, GtkWidget *row, const struct library_entry *entry)
{
	GtkGrid *grid = GTK_GRID(gtk_bin_get_child(GTK_BIN(row)));
	GtkWidget *show = new_row_button(self, entry, G_CALLBACK(on_show_button));
	GtkWidget *pause = new_row_button(self, entry, G_CALLBACK(on_pause_button));
	gtk_grid_attach(grid, show, 3, 0, 1, 2);
	gtk_grid_attach(grid, pause, 4, 0, 1, 2);
	g_object_set_data(G_OBJECT(row), "show-button", show);
	g_object_set_data(G_OBJECT(row), "pause-button", pause);
}

/* The parts of a row that follow the engine: its state, Start/Stop, Pause,
 * Show, and the thumbnail (dimmed while the machine is off). */
static void show_run_state(VireoWindow *self, GtkWidget *row, const struct library_entry *entry,
			   struct engine_run *run)
{
	GtkLabel *state = g_object_get_data(G_OBJECT(row), "state-label");
	GtkWidget *start = g_object_get_data(G_OBJECT(row), "start-button");
	GtkWidget *thumbnail = g_object_get_data(G_OBJECT(row), "thumbnail");
	gtk_label_set_text(state, state_text(entry, run));
	if (!start)
		return;
	bool running = is_active(run);
	bool paused = run && engine_run_state(run) == ENGINE_PAUSED;
	if (running && !g_object_get_data(G_OBJECT(row), "pause-button"))
		add_run_buttons(self, row, entry);
	GtkWidget *pause = g_object_get_data(G_OBJECT(row), "pause-button");
	GtkWidget *show = g_object_get_data(G_OBJECT(row), "show-button");
	GtkStyleContext *thumbnail_style = gtk_widget_get_style_context(thumbnail);
	if (running)
		gtk_style_context_remove_class(thumbnail_style, GTK_STYLE_CLASS_DIM_LABEL);
	else
		gtk_style_context_add_class(thumbnail_style, GTK_STYLE_CLASS_DIM_LABEL);
	set_button(start, running ? "media-playback-stop-symbolic" : "media-playback-start-symbolic",
		   running ? _("Stop") : _("Start"), true);
	if (!pause)
		return;
	set_button(show, "view-reveal-symbolic", _("Show"), running && has_screen(run));
	set_button(pause, paused ? "media-playback-start-symbolic" : "media-playback-pause-symbolic",
		   paused ? _("Resume") : _("Pause"), running && engine_run_has_control(run));
}

/* What a row shows of its machine: a reload redraws the row only when
 * this changed. */
static char *row_summary(const struct library_entry *entry)
{
	g_autofree char *detail = detail_text(entry);
	g_autofree char *resources = entry->broken ? g_strdup("broken") : resources_text(&entry->machine);
	return g_strjoin("\n", entry->broken ? entry->id : entry->machine.name, detail, resources, NULL);
}

/* [thumbnail] name        state                          [show] [pause] [start]
 *             detail      memory · processors */
static void fill_row(VireoWindow *self, GtkWidget *row, const struct library_entry *entry, char *summary)
{
	const char *name = entry->broken ? entry->id : entry->machine.name;
	g_autofree char *detail = detail_text(entry);
	GtkWidget *grid = gtk_grid_new();
	GtkWidget *icon = gtk_image_new_from_icon_name(entry->broken ? "dialog-warning-symbolic" : "computer-symbolic",
						       GTK_ICON_SIZE_DND);
	gtk_widget_set_size_request(icon, THUMBNAIL_WIDTH, THUMBNAIL_HEIGHT);
	GtkWidget *detail_label = new_label(detail, entry->broken ? GTK_STYLE_CLASS_ERROR : GTK_STYLE_CLASS_DIM_LABEL, 0);

	g_object_set(grid, "margin", 8, "column-spacing", 12, "row-spacing", 2, NULL);
	gtk_widget_set_hexpand(detail_label, TRUE);
	gtk_grid_attach(GTK_GRID(grid), icon, 0, 0, 1, 2);
	gtk_grid_attach(GTK_GRID(grid), new_label(name, "machine-name", 0), 1, 0, 1, 1);
	gtk_grid_attach(GTK_GRID(grid), detail_label, 1, 1, 1, 1);
	GtkWidget *state = new_label(NULL, NULL, 1);
	gtk_grid_attach(GTK_GRID(grid), state, 2, 0, 1, 1);
	g_object_set_data(G_OBJECT(row), "state-label", state);
	if (!entry->broken) {
		g_autofree char *resources = resources_text(&entry->machine);
		GtkWidget *start = new_row_button(self, entry, G_CALLBACK(on_row_button));
		gtk_grid_attach(GTK_GRID(grid), new_label(resources, GTK_STYLE_CLASS_DIM_LABEL, 1), 2, 1, 1, 1);
		gtk_grid_attach(GTK_GRID(grid), start, 5, 0, 1, 2);
		g_object_set_data(G_OBJECT(row), "start-button", start);
		g_object_set_data(G_OBJECT(row), "thumbnail", icon);
	}
	gtk_container_add(GTK_CONTAINER(row), grid);
	atk_object_set_name(gtk_widget_get_accessible(row), name);
	g_object_set_data_full(G_OBJECT(row), "summary", summary, g_free);
	g_object_set_data(G_OBJECT(row), THUMBNAIL_WANTED, GINT_TO_POINTER(1));
	gtk_widget_show_all(row);
}

/* The widgets a row keeps pointers to (its object data). */
static const char *const row_parts[] = { "state-label", "start-button", "thumbnail", "show-button", "pause-button" };

/* Brings a row up to its machine as listed again. A row whose machine looks
 * the same keeps its widgets, so the keyboard focus, the selection and
 * assistive tools' handles on them survive the many reloads a library
 * sees (every create, clone, edit and thumbnail). */
static void update_row(VireoWindow *self, GtkWidget *row, const struct library_entry *entry)
{
	g_autofree char *summary = row_summary(entry);
	if (g_strcmp0(summary, g_object_get_data(G_OBJECT(row), "summary"))) {
		GtkWidget *old = gtk_bin_get_child(GTK_BIN(row));
		if (old)
			gtk_widget_destroy(old);
		for (size_t i = 0; i < G_N_ELEMENTS(row_parts); i++)
			g_object_set_data(G_OBJECT(row), row_parts[i], NULL);
		fill_row(self, row, entry, g_steal_pointer(&summary));
	}
	show_run_state(self, row, entry, g_hash_table_lookup(self->runs, entry->id));
}

static GtkWidget *new_row(VireoWindow *self, const struct library_entry *entry)
{
	GtkWidget *row = gtk_list_box_row_new();
	g_object_set_data_full(G_OBJECT(row), "id", g_strdup(entry->id), g_free);
	update_row(self, row, entry);
	return row;
}

/* Rows in the library's order (set by fill_list). */
static int compare_rows(GtkListBoxRow *a, GtkListBoxRow *b, gpointer data)
{
	(void)data;
	unsigned at_a = GPOINTER_TO_UINT(g_object_get_data(G_OBJECT(a), "position"));
	unsigned at_b = GPOINTER_TO_UINT(g_object_get_data(G_OBJECT(b), "position"));
	return (at_a > at_b) - (at_a < at_b);
}

/* Rows whose machine name (or, when broken, folder name) holds the search
 * text, ignoring case. */
static gboolean filter_row(GtkListBoxRow *row, gpointer data)
{
	VireoWindow *self = data;
	const char *text = gtk_entry_get_text(GTK_ENTRY(self->search_entry));
	const struct library_entry *entry = find_entry(self, g_object_get_data(G_OBJECT(row), "id"));
	if (!*text || !entry)
		return TRUE;
	g_autofree char *wanted = g_utf8_casefold(text, -1);
	g_autofree char *name = g_utf8_casefold(entry->broken ? entry->id : entry->machine.name, -1);
	return strstr(name, wanted) != NULL;
}

static void on_search_changed(GtkSearchEntry *entry, gpointer data)
{
	(void)entry;
	VireoWindow *self = data;
	gtk_list_box_invalidate_filter(self->machine_list);
}

static bool showing_screen(VireoWindow *self)
{
	return !g_strcmp0(gtk_stack_get_visible_child_name(self->stack), "screen");
}

/* Typing anywhere in the window starts a search, as in GNOME apps. On a
 * machine's screen, keys go to the guest first: the app's shortcuts and
 * the search get only what the screen leaves (nothing while it has the
 * focus). */
static gboolean on_key_press(GtkWidget *widget, GdkEvent *event, gpointer data)
{
	VireoWindow *self = data;
	if (showing_screen(self))
		return gtk_window_propagate_key_event(GTK_WINDOW(widget), &event->key);
	return gtk_search_bar_handle_event(self->search_bar, event);
}

static void on_search(GSimpleAction *action, GVariant *parameter, gpointer data)
{
	(void)action, (void)parameter;
	VireoWindow *self = data;
	gtk_search_bar_set_search_mode(self->search_bar, TRUE);
	gtk_widget_grab_focus(GTK_WIDGET(self->search_entry));
}

static void on_thumbnail_loaded(GdkPixbuf *picture, void *data)
{
	if (!picture)
		return;  /* none yet: the icon stays */
	gtk_image_set_from_pixbuf(GTK_IMAGE(data), picture);
	atk_object_set_name(gtk_widget_get_accessible(GTK_WIDGET(data)), _("Screen"));
}

/* The last picture of the machine's screen, when it has one, in its row. */
static void load_thumbnail(VireoWindow *self, GtkWidget *row, const struct library_entry *entry)
{
	GtkWidget *image = g_object_get_data(G_OBJECT(row), "thumbnail");
	g_autofree char *path = g_build_filename(entry->folder, LIBRARY_THUMBNAIL_FILE, NULL);
	if (image)
		thumbnail_load(path, self->cancellable, on_thumbnail_loaded, g_object_ref(image), g_object_unref);
}

/* After the list is drawn: the first frame does not wait for the files.
 * Only rows drawn anew read theirs; a kept row still shows its picture. */
static gboolean load_thumbnails(gpointer data)
{
	VireoWindow *self = data;
	self->thumbnails_idle = 0;
	g_autoptr(GList) rows = gtk_container_get_children(GTK_CONTAINER(self->machine_list));
	for (GList *l = rows; l; l = l->next) {
		const struct library_entry *entry = find_entry(self, g_object_get_data(l->data, "id"));
		if (entry && g_object_get_data(l->data, THUMBNAIL_WANTED))
			load_thumbnail(self, l->data, entry);
		g_object_set_data(l->data, THUMBNAIL_WANTED, NULL);
	}
	return G_SOURCE_REMOVE;
}

static void enable_action(VireoWindow *self, const char *name, bool enabled)
{
	g_simple_action_set_enabled(G_SIMPLE_ACTION(g_action_map_lookup_action(G_ACTION_MAP(self), name)), enabled);
}

/* How many CD-ROM drives the machine's settings give it. */
static unsigned cdrom_count(const struct library_entry *entry)
{
	struct machine_cdrom_drive drives[MACHINE_MAX_CDROM_DRIVES];
	unsigned count = machine_cdrom_drives(&entry->machine, drives);
	machine_cdrom_drives_clear(drives, count);
	return count;
}

/* The menu offers what the selected machine can do now. */
static void update_actions(VireoWindow *self)
{
	const struct library_entry *entry = selected_entry(self);
	struct engine_run *run = entry ? active_run(self, entry->id) : NULL;
	bool controlled = run && engine_run_has_control(run);
	bool discs = controlled && !entry->broken && cdrom_count(entry);
	cd_menu_update(self->cd_section, entry && !entry->broken ? &entry->machine : NULL);
	enable_action(self, "delete", entry != NULL);
	enable_action(self, "edit", entry != NULL);  /* a broken one says why it cannot be */
	enable_action(self, "clone", entry && !entry->broken && !run);
	enable_action(self, "show", run && has_screen(run));
	enable_action(self, "reset", controlled);
	enable_action(self, "change-cd", discs);
	enable_action(self, "eject-cd", discs);
	enable_action(self, "force-off", run != NULL);
}

static void on_row_selected(GtkListBox *list, GtkListBoxRow *row, gpointer data)
{
	(void)list, (void)row;
	update_actions(data);
}

/* The rows as they stand, by machine id. */
static GHashTable *rows_by_id(VireoWindow *self)
{
	GHashTable *rows = g_hash_table_new(g_str_hash, g_str_equal);
	g_autoptr(GList) children = gtk_container_get_children(GTK_CONTAINER(self->machine_list));
	for (GList *l = children; l; l = l->next)
		g_hash_table_insert(rows, g_object_get_data(l->data, "id"), l->data);
	return rows;
}

/* Makes the rows match self->entries: new machines get a row, gone ones
 * lose theirs, the others are updated in place. Selects select_id, or the
 * first row when the selected machine is gone. */
static void fill_list(VireoWindow *self, const char *select_id)
{
	g_autoptr(GHashTable) old_rows = rows_by_id(self);
	for (unsigned i = 0; i < self->entries->len; i++) {
		const struct library_entry *entry = self->entries->pdata[i];
		GtkWidget *row = g_hash_table_lookup(old_rows, entry->id);
		if (row) {
			g_hash_table_remove(old_rows, entry->id);
			update_row(self, row, entry);
		} else {
			row = new_row(self, entry);
			gtk_container_add(GTK_CONTAINER(self->machine_list), row);
			watch_folder(self, entry);
		}
		g_object_set_data(G_OBJECT(row), "position", GUINT_TO_POINTER(i));
		if (!g_strcmp0(entry->id, select_id))
			gtk_list_box_select_row(self->machine_list, GTK_LIST_BOX_ROW(row));
	}
	GHashTableIter iter;
	gpointer gone;
	g_hash_table_iter_init(&iter, old_rows);
	while (g_hash_table_iter_next(&iter, NULL, &gone)) {
		g_hash_table_remove(self->folder_monitors, g_object_get_data(gone, "id"));
		gtk_widget_destroy(gone);
	}
	gtk_list_box_invalidate_sort(self->machine_list);
	if (!gtk_list_box_get_selected_row(self->machine_list) && self->entries->len)
		gtk_list_box_select_row(self->machine_list, gtk_list_box_get_row_at_index(self->machine_list, 0));
	if (!showing_screen(self))
		gtk_stack_set_visible_child_name(self->stack, self->entries->len ? "list" : "empty");
	if (!self->thumbnails_idle)
		self->thumbnails_idle = g_idle_add_full(G_PRIORITY_LOW, load_thumbnails, self, NULL);
	update_actions(self);
}

/* The machine (folder id) a run belongs to. */
static const char *id_of_run(VireoWindow *self, struct engine_run *run)
{
	GHashTableIter iter;
	gpointer key, value;
	g_hash_table_iter_init(&iter, self->runs);
	while (g_hash_table_iter_next(&iter, &key, &value))
		if (value == run)
			return key;
	return NULL;
}

static GtkWidget *find_row(VireoWindow *self, const char *id)
{
	g_autoptr(GList) rows = gtk_container_get_children(GTK_CONTAINER(self->machine_list));
	for (GList *l = rows; l; l = l->next)
		if (!g_strcmp0(g_object_get_data(l->data, "id"), id))
			return l->data;
	return NULL;
}

/* Redraws one machine's state in place: rebuilding the list would lose
 * the keyboard focus and pull the rows from under assistive tools. */
static void refresh_run_state(VireoWindow *self, const char *id)
{
	GtkWidget *row = find_row(self, id);
	const struct library_entry *entry = find_entry(self, id);
	if (row && entry)
		show_run_state(self, row, entry, g_hash_table_lookup(self->runs, id));
	update_actions(self);
}

static void report_failure(VireoWindow *self, const char *id, struct engine_run *run)
{
	const struct library_entry *entry = find_entry(self, id);
	const char *reason = engine_run_error(run);
	int exit_status = engine_run_exit_status(run);
	g_autofree char *status = exit_status >= 0
		? g_strdup_printf(_("the engine ended with status %d"), exit_status)
		: g_strdup(_("the engine ended unexpectedly"));
	g_autofree char *text = g_strdup_printf(_("“%s” stopped with an error: %s"),
						entry && !entry->broken ? entry->machine.name : id,
						reason ? reason : status);
	show_error(self, text);
}

static void on_run_changed(struct engine_run *run, void *data)
{
	VireoWindow *self = data;
	enum engine_state state = engine_run_state(run);
	g_autofree char *id = g_strdup(id_of_run(self, run));
	if (!id)
		return;
	if (state == ENGINE_FAILED)
		report_failure(self, id, run);
	if (state == ENGINE_STOPPED || state == ENGINE_FAILED)
		g_hash_table_remove(self->runs, id);  /* frees the run */
	refresh_run_state(self, id);
}

/* $XDG_RUNTIME_DIR/vireo/ID.sock: where a machine's engine is controlled;
 * ID.vnc: where it serves its screen to this window. */
static char *socket_path_for(const char *id, const char *suffix)
{
	g_autofree char *name = g_strconcat(id, suffix, NULL);
	return g_build_filename(g_get_user_runtime_dir(), "vireo", name, NULL);
}

/* A machine's screen shows in this window through a VNC server of its
 * engine on a private socket, unless it is an SDL window or a VNC server
 * other computers reach: the engine serves one VNC server, and that one
 * stays where the user put it. A VNC server on loopback (this computer
 * only) gives way to the private socket. */
static bool screen_in_window(const struct library_entry *entry)
{
	struct machine_display display;
	if (!machine_parse_display(entry->machine.display, &display, NULL))
		return false;
	bool in_window = !display.sdl && (!display.vnc || machine_display_on_loopback(&display));
	machine_display_clear(&display);
	return in_window;
}

/* Machines whose engine runs from before (the app was closed meanwhile)
 * have their control socket in place: follow them again. */
static void attach_running(VireoWindow *self)
{
	for (unsigned i = 0; i < self->entries->len; i++) {
		const struct library_entry *entry = self->entries->pdata[i];
		g_autofree char *socket_path = socket_path_for(entry->id, ".sock");
		if (entry->broken || g_hash_table_contains(self->runs, entry->id) ||
		    !g_file_test(socket_path, G_FILE_TEST_EXISTS))
			continue;
		g_hash_table_replace(self->runs, g_strdup(entry->id),
				     engine_run_attach(socket_path, on_run_changed, self));
		refresh_run_state(self, entry->id);
	}
}

/* Lists the library again and redraws the rows, keeping the selection. */
static void reload_selecting(VireoWindow *self, const char *select_id)
{
	g_autoptr(GError) error = NULL;
	const struct library_entry *selected = selected_entry(self);
	g_autofree char *keep = g_strdup(select_id ? select_id : selected ? selected->id : NULL);
	GPtrArray *entries = library_list(self->library_dir, &error);
	if (!entries) {
		show_error(self, error->message);
		entries = g_ptr_array_new_with_free_func((GDestroyNotify)library_entry_free);
	}
	g_ptr_array_unref(self->entries);
	self->entries = entries;
	fill_list(self, keep);
	attach_running(self);
}

static void reload(VireoWindow *self)
{
	reload_selecting(self, NULL);
}

static gboolean reload_now(gpointer data)
{
	VireoWindow *self = data;
	self->reload_timer = 0;
	reload(self);
	return G_SOURCE_REMOVE;
}

/* Folders come and go in bursts (a create is a mkdir and a rename). */
static void on_library_changed(GFileMonitor *monitor, GFile *file, GFile *other, GFileMonitorEvent event,
			       gpointer data)
{
	(void)monitor, (void)file, (void)other, (void)event;
	VireoWindow *self = data;
	if (!self->reload_timer)
		self->reload_timer = g_timeout_add(RELOAD_DELAY_MS, reload_now, self);
}

static bool names_machine_file(GFile *file)
{
	g_autofree char *name = file ? g_file_get_basename(file) : NULL;
	return !g_strcmp0(name, LIBRARY_MACHINE_FILE);
}

/* A machine.ini written by another program (an editor, vireo-engine
 * --add-to-library); the thumbnail beside it changes every few seconds and
 * is left to the thumbnail timer. */
static void on_folder_changed(GFileMonitor *monitor, GFile *file, GFile *other, GFileMonitorEvent event,
			      gpointer data)
{
	if (names_machine_file(file) || names_machine_file(other))
		on_library_changed(monitor, file, other, event, data);
}

static void stop_monitor(gpointer monitor)
{
	g_signal_handlers_disconnect_matched(monitor, G_SIGNAL_MATCH_FUNC, 0, 0, NULL, on_folder_changed, NULL);
	g_file_monitor_cancel(monitor);
	g_object_unref(monitor);
}

static void watch_folder(VireoWindow *self, const struct library_entry *entry)
{
	g_autoptr(GFile) dir = g_file_new_for_path(entry->folder);
	GFileMonitor *monitor = g_file_monitor_directory(dir, G_FILE_MONITOR_WATCH_MOVES, NULL, NULL);
	if (!monitor)
		return;  /* the folder is gone already: the library monitor reloads */
	g_signal_connect(monitor, "changed", G_CALLBACK(on_folder_changed), self);
	g_hash_table_replace(self->folder_monitors, g_strdup(entry->id), monitor);
}

static void start_machine(VireoWindow *self, const struct library_entry *entry)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *socket_path = socket_path_for(entry->id, ".sock");
	g_autofree char *screen_path = screen_in_window(entry) ? socket_path_for(entry->id, ".vnc") : NULL;
	struct engine_run *run = engine_run_start(paths_engine(), entry->ini_path, socket_path, screen_path,
						  on_run_changed, self, &error);
	if (!run) {
		g_autofree char *text = g_strdup_printf(_("“%s” could not start: %s"), entry->machine.name,
							error->message);
		show_error(self, text);
		return;
	}
	gtk_info_bar_set_revealed(self->error_bar, FALSE);
	g_hash_table_replace(self->runs, g_strdup(entry->id), run);
	refresh_run_state(self, entry->id);
}

static void start_or_stop(VireoWindow *self, const struct library_entry *entry)
{
	if (!entry)
		return;
	if (entry->broken) {
		g_autofree char *text = g_strdup_printf(_("“%s” cannot start: %s"), entry->id, entry->broken->message);
		show_error(self, text);
		return;
	}
	struct engine_run *run = g_hash_table_lookup(self->runs, entry->id);
	if (is_active(run))
		engine_run_stop(run);
	else
		start_machine(self, entry);
}

/* A machine that is off starts; one that runs shows its screen. */
static void on_row_activated(GtkListBox *list, GtkListBoxRow *row, gpointer data)
{
	(void)list;
	VireoWindow *self = data;
	const struct library_entry *entry = find_entry(self, g_object_get_data(G_OBJECT(row), "id"));
	struct engine_run *run = entry ? g_hash_table_lookup(self->runs, entry->id) : NULL;
	if (entry && !is_active(run))
		start_or_stop(self, entry);
	else if (entry && has_screen(run))
		show_machine(self, entry->id);
}

static char *new_machine_display(VireoWindow *self)
{
	g_autofree char *frontend = setting_string(self, "default-display", "sdl");
	g_autofree char *listen = setting_string(self, "vnc-listen", "127.0.0.1");
	if (strcmp(frontend, "vnc"))
		return g_strdup("sdl");
	return *listen ? g_strdup_printf("vnc=%s", listen) : g_strdup("vnc");
}

static void on_new_response(GtkDialog *dialog, int response, gpointer data)
{
	VireoWindow *self = data;
	if (response == GTK_RESPONSE_OK) {
		struct vireo_machine m;
		g_autoptr(GError) error = NULL;
		VireoNewMachineDialog *assistant = VIREO_NEW_MACHINE_DIALOG(dialog);
		vireo_new_machine_dialog_get_machine(assistant, &m);
		g_autofree char *folder = library_create_with_disk(
			self->library_dir, &m, vireo_new_machine_dialog_get_disk_size(assistant),
			vireo_new_machine_dialog_get_disk_options(assistant), &error);
		machine_clear(&m);
		if (folder) {
			g_autofree char *id = g_path_get_basename(folder);
			reload_selecting(self, id);
		} else {
			show_error(self, error->message);
		}
	}
	gtk_widget_destroy(GTK_WIDGET(dialog));
}

static void on_new(GSimpleAction *action, GVariant *parameter, gpointer data)
{
	(void)action, (void)parameter;
	VireoWindow *self = data;
	g_autofree char *display = new_machine_display(self);
	GtkWidget *dialog = vireo_new_machine_dialog_new(GTK_WINDOW(self), self->entries, display);
	g_signal_connect(dialog, "response", G_CALLBACK(on_new_response), self);
	gtk_widget_show(dialog);
}

static void on_delete_response(GtkDialog *dialog, int response, gpointer data)
{
	VireoWindow *self = data;
	const char *id = g_object_get_data(G_OBJECT(dialog), "id");
	const struct library_entry *entry = find_entry(self, id);
	GtkToggleButton *keep = g_object_get_data(G_OBJECT(dialog), "keep");
	if (response == GTK_RESPONSE_ACCEPT && entry) {
		g_autoptr(GError) error = NULL;
		if (!library_delete(entry->folder, keep && gtk_toggle_button_get_active(keep) ? self->kept_disks_dir : NULL,
				    &error))
			show_error(self, error->message);
		reload(self);
	}
	gtk_widget_destroy(GTK_WIDGET(dialog));
}

static void on_delete(GSimpleAction *action, GVariant *parameter, gpointer data)
{
	(void)action, (void)parameter;
	VireoWindow *self = data;
	const struct library_entry *entry = selected_entry(self);
	if (!entry)
		return;
	const char *name = entry->broken ? entry->id : entry->machine.name;
	if (is_active(g_hash_table_lookup(self->runs, entry->id))) {
		g_autofree char *text = g_strdup_printf(_("Stop “%s” before deleting it."), name);
		show_error(self, text);
		return;
	}
	GtkWidget *dialog = gtk_message_dialog_new(GTK_WINDOW(self), GTK_DIALOG_MODAL | GTK_DIALOG_DESTROY_WITH_PARENT,
						   GTK_MESSAGE_QUESTION, GTK_BUTTONS_NONE, _("Delete “%s”?"), name);
	gtk_message_dialog_format_secondary_text(GTK_MESSAGE_DIALOG(dialog),
		_("Its settings and the files in its folder are removed."));
	g_autoptr(GPtrArray) own_disks = entry->broken ? NULL : library_own_disks(&entry->machine, entry->folder);
	GtkWidget *keep = NULL;
	if (own_disks && own_disks->len) {  /* nothing to keep otherwise: no choice to offer */
		keep = gtk_check_button_new_with_mnemonic(_("_Keep its disk images"));
		gtk_toggle_button_set_active(GTK_TOGGLE_BUTTON(keep), TRUE);
		gtk_widget_set_tooltip_text(keep, self->kept_disks_dir);
		gtk_container_add(GTK_CONTAINER(gtk_message_dialog_get_message_area(GTK_MESSAGE_DIALOG(dialog))), keep);
		gtk_widget_show(keep);
	}
	gtk_dialog_add_button(GTK_DIALOG(dialog), _("_Cancel"), GTK_RESPONSE_CANCEL);
	GtkWidget *button = gtk_dialog_add_button(GTK_DIALOG(dialog), _("_Delete"), GTK_RESPONSE_ACCEPT);
	gtk_style_context_add_class(gtk_widget_get_style_context(button), GTK_STYLE_CLASS_DESTRUCTIVE_ACTION);
	gtk_dialog_set_default_response(GTK_DIALOG(dialog), GTK_RESPONSE_CANCEL);
	g_object_set_data_full(G_OBJECT(dialog), "id", g_strdup(entry->id), g_free);
	g_object_set_data(G_OBJECT(dialog), "keep", keep);
	g_signal_connect(dialog, "response", G_CALLBACK(on_delete_response), self);
	gtk_widget_show(dialog);
}

static void on_edit_response(GtkDialog *dialog, int response, gpointer data)
{
	if (response == GTK_RESPONSE_OK)
		reload(data);  /* the editor saved machine.ini */
	gtk_widget_destroy(GTK_WIDGET(dialog));
}

static void on_edit(GSimpleAction *action, GVariant *parameter, gpointer data)
{
	(void)action, (void)parameter;
	VireoWindow *self = data;
	const struct library_entry *entry = selected_entry(self);
	if (!entry)
		return;
	if (entry->broken) {
		g_autofree char *text = g_strdup_printf(_("“%s” cannot be edited: %s"), entry->id, entry->broken->message);
		show_error(self, text);
		return;
	}
	GtkWidget *editor = vireo_editor_new(GTK_WINDOW(self), entry, self->entries,
					     is_active(g_hash_table_lookup(self->runs, entry->id)));
	g_signal_connect_after(editor, "response", G_CALLBACK(on_edit_response), self);
	gtk_widget_show(editor);
}

static void on_force_off(GSimpleAction *action, GVariant *parameter, gpointer data)
{
	(void)action, (void)parameter;
	VireoWindow *self = data;
	const struct library_entry *entry = selected_entry(self);
	struct engine_run *run = entry ? g_hash_table_lookup(self->runs, entry->id) : NULL;
	if (is_active(run))
		engine_run_force_off(run);
}

static void on_start(GSimpleAction *action, GVariant *parameter, gpointer data)
{
	(void)action, (void)parameter;
	VireoWindow *self = data;
	start_or_stop(self, selected_entry(self));
}

static void on_screenshot_taken(struct engine_run *run, bool ok, void *data)
{
	VireoWindow *self = data;
	self->screenshots_pending--;
	const char *id = run && self->runs ? id_of_run(self, run) : NULL;
	GtkWidget *row = id ? find_row(self, id) : NULL;
	const struct library_entry *entry = id ? find_entry(self, id) : NULL;
	if (ok && row && entry)
		load_thumbnail(self, row, entry);
	g_object_unref(self);
}

/* Running machines with a screen write it into their thumbnail, while the
 * window shows; the D-Bus calls are asynchronous, never waited for. */
static gboolean refresh_thumbnails(gpointer data)
{
	VireoWindow *self = data;
	if (!gtk_widget_get_mapped(GTK_WIDGET(self)) || self->screenshots_pending)
		return G_SOURCE_CONTINUE;  /* the engines are not asked faster than they answer */
	GHashTableIter iter;
	gpointer id, run;
	g_hash_table_iter_init(&iter, self->runs);
	while (g_hash_table_iter_next(&iter, &id, &run)) {
		const struct library_entry *entry = find_entry(self, id);
		if (!entry || engine_run_state(run) != ENGINE_RUNNING || !has_screen(run))
			continue;
		g_autofree char *path = g_build_filename(entry->folder, LIBRARY_THUMBNAIL_FILE, NULL);
		self->screenshots_pending++;
		engine_run_screenshot(run, path, on_screenshot_taken, g_object_ref(self));
	}
	return G_SOURCE_CONTINUE;
}

/* A VNC screen: where a viewer connects, with Copy. */
static void show_vnc_address(VireoWindow *self, const struct library_entry *entry, const char *address)
{
	g_free(self->vnc_address);
	self->vnc_address = g_strdup(address);
	g_autofree char *text = g_strdup_printf(_("“%s” shows its screen over VNC at %s"), entry->machine.name,
						address);
	gtk_label_set_text(self->vnc_label, text);
	gtk_info_bar_set_revealed(self->vnc_bar, TRUE);
}

static void show_list(void *data)
{
	VireoWindow *self = data;
	screen_page_close(self->screen);
	gtk_stack_set_visible_child_name(self->stack, self->entries->len ? "list" : "empty");
}

static void show_screen_page(VireoWindow *self, const struct library_entry *entry, const char *path)
{
	g_autoptr(GError) error = NULL;
	if (!screen_page_open(self->screen, entry->machine.name, path, &error)) {
		g_autofree char *text = g_strdup_printf(_("The screen of “%s” cannot be shown: %s"),
							entry->machine.name, error->message);
		show_error(self, text);
		return;
	}
	gtk_info_bar_set_revealed(self->vnc_bar, FALSE);
	gtk_stack_set_visible_child_name(self->stack, "screen");
}

/* Show: a screen served to this window shows on the screen page; a window
 * is raised; another VNC screen's address is shown. */
static void show_machine(VireoWindow *self, const char *id)
{
	struct engine_run *run = active_run(self, id);
	const struct library_entry *entry = find_entry(self, id);
	const char *display = run ? engine_run_display(run) : NULL;
	if (!entry || !display)
		return;
	if (g_str_has_prefix(display, "vnc:unix:"))
		show_screen_page(self, entry, display + strlen("vnc:unix:"));
	else if (g_str_has_prefix(display, "vnc:"))
		show_vnc_address(self, entry, display + strlen("vnc:"));
	else
		engine_run_show(run);
}

static void on_vnc_bar_response(GtkInfoBar *bar, int response, gpointer data)
{
	VireoWindow *self = data;
	if (response == GTK_RESPONSE_ACCEPT && self->vnc_address)
		gtk_clipboard_set_text(gtk_widget_get_clipboard(GTK_WIDGET(self), GDK_SELECTION_CLIPBOARD),
				       self->vnc_address, -1);
	else
		gtk_info_bar_set_revealed(bar, FALSE);
}

static void on_show(GSimpleAction *action, GVariant *parameter, gpointer data)
{
	(void)action, (void)parameter;
	VireoWindow *self = data;
	const struct library_entry *entry = selected_entry(self);
	if (entry)
		show_machine(self, entry->id);
}

static void on_reset(GSimpleAction *action, GVariant *parameter, gpointer data)
{
	(void)action, (void)parameter;
	VireoWindow *self = data;
	const struct library_entry *entry = selected_entry(self);
	struct engine_run *run = entry ? active_run(self, entry->id) : NULL;
	if (run)
		engine_run_reset(run);
}

/* A disc change sent to an engine, until it answers. */
struct cd_request {
	VireoWindow *self;  /* a reference */
	char *name;         /* the machine's, for the error */
	char *ini_path;     /* its machine.ini, which keeps the change */
	unsigned number;    /* the drive, from 1 */
	char *path;         /* the disc, or NULL: ejected */
};

/* The engine took the change: machine.ini keeps it for the next start, as
 * the guest would find the drive after a reboot. The running machine has
 * it already, so it alone marks no change as waiting for the next start. */
static void keep_disc(struct cd_request *request, struct engine_run *run)
{
	bool pending = engine_run_predates(run, request->ini_path);
	g_autoptr(GError) error = NULL;
	if (!library_set_disc(request->ini_path, request->number, request->path, &error)) {
		g_autofree char *text = g_strdup_printf(
			_("“%s” has the new CD now, but its settings could not keep it for the next start: %s"),
			request->name, error->message);
		show_error(request->self, text);
	} else if (!pending) {
		engine_run_matches_settings(run);
	}
}

static void on_cd_changed(struct engine_run *run, const char *error, void *data)
{
	struct cd_request *request = data;
	if (run && error) {  /* (no run: the machine ended meanwhile, and its disc with it) */
		g_autofree char *text = !request->path
			? g_strdup_printf(_("“%s” could not eject its CD: %s"), request->name, error)
			: g_strdup_printf(_("“%s” could not change its CD: %s"), request->name, error);
		show_error(request->self, text);
	} else if (run) {
		keep_disc(request, run);
	}
	g_object_unref(request->self);
	g_free(request->name);
	g_free(request->ini_path);
	g_free(request->path);
	g_free(request);
}

/* Puts the disc at `path` (NULL: none) in the running machine's CD-ROM
 * drive `number` (from 1); an engine's refusal shows in the info bar, a
 * change it takes is kept in machine.ini. */
static void change_cd(VireoWindow *self, const struct library_entry *entry, unsigned number, const char *path)
{
	struct engine_run *run = active_run(self, entry->id);
	if (!run)
		return;  /* stopped while the file chooser was open */
	struct cd_request *request = g_new(struct cd_request, 1);
	*request = (struct cd_request){ g_object_ref(self), g_strdup(entry->machine.name), g_strdup(entry->ini_path),
					number, g_strdup(path) };
	g_autofree char *drive = g_strdup_printf("cdrom%u", number);
	engine_run_change_media(run, drive, path, on_cd_changed, request);
}

static void on_cd_chosen(GtkNativeDialog *chooser, int response, gpointer data)
{
	VireoWindow *self = data;
	const struct library_entry *entry = find_entry(self, g_object_get_data(G_OBJECT(chooser), "id"));
	g_autofree char *path = gtk_file_chooser_get_filename(GTK_FILE_CHOOSER(chooser));
	if (response == GTK_RESPONSE_ACCEPT && entry && path)
		change_cd(self, entry, GPOINTER_TO_UINT(g_object_get_data(G_OBJECT(chooser), "drive")), path);
	g_object_unref(chooser);
}

/* A chooser of ISO images for drive `number` of `count`, opening in the
 * folder of the disc its settings give it. */
static GtkFileChooserNative *new_cd_chooser(VireoWindow *self, const struct machine_cdrom_drive *drive,
					    unsigned number, unsigned count)
{
	g_autofree char *label = cd_menu_drive_label(drive, number);
	g_autofree char *title = count > 1 ? g_strdup_printf(_("Change CD in %s"), label) : g_strdup(_("Change CD"));
	GtkFileChooserNative *chooser = gtk_file_chooser_native_new(title, GTK_WINDOW(self),
		GTK_FILE_CHOOSER_ACTION_OPEN, _("_Open"), _("_Cancel"));
	gtk_native_dialog_set_modal(GTK_NATIVE_DIALOG(chooser), TRUE);
	file_filters_add_discs(GTK_FILE_CHOOSER(chooser));
	file_filters_add_all(GTK_FILE_CHOOSER(chooser));
	g_autofree char *folder = drive->path ? g_path_get_dirname(drive->path) : NULL;
	if (folder && g_file_test(folder, G_FILE_TEST_IS_DIR))
		gtk_file_chooser_set_current_folder(GTK_FILE_CHOOSER(chooser), folder);
	return chooser;
}

/* Change CD…: the drive (the action's parameter, from 1) gets the ISO
 * the user picks. */
static void on_change_cd(GSimpleAction *action, GVariant *parameter, gpointer data)
{
	(void)action;
	VireoWindow *self = data;
	const struct library_entry *entry = selected_entry(self);
	unsigned number = g_variant_get_uint32(parameter);
	struct machine_cdrom_drive drives[MACHINE_MAX_CDROM_DRIVES];
	unsigned count = entry && !entry->broken ? machine_cdrom_drives(&entry->machine, drives) : 0;
	if (number >= 1 && number <= count) {
		GtkFileChooserNative *chooser = new_cd_chooser(self, &drives[number - 1], number, count);
		g_object_set_data_full(G_OBJECT(chooser), "id", g_strdup(entry->id), g_free);
		g_object_set_data(G_OBJECT(chooser), "drive", GUINT_TO_POINTER(number));
		g_signal_connect(chooser, "response", G_CALLBACK(on_cd_chosen), self);
		gtk_native_dialog_show(GTK_NATIVE_DIALOG(chooser));
	}
	machine_cdrom_drives_clear(drives, count);
}

static void on_eject_cd(GSimpleAction *action, GVariant *parameter, gpointer data)
{
	(void)action;
	VireoWindow *self = data;
	const struct library_entry *entry = selected_entry(self);
	if (entry && !entry->broken)
		change_cd(self, entry, g_variant_get_uint32(parameter), NULL);
}

/* A copy of a stopped machine, named "NAME 2" (or 3...), selected. */
static void on_clone(GSimpleAction *action, GVariant *parameter, gpointer data)
{
	(void)action, (void)parameter;
	VireoWindow *self = data;
	const struct library_entry *entry = selected_entry(self);
	if (!entry)
		return;  /* the action is enabled only for a stopped machine (update_actions) */
	g_autoptr(GError) error = NULL;
	g_autofree char *name = library_unique_name(self->entries, entry->machine.name);
	g_autofree char *folder = library_clone(self->library_dir, entry->folder, name, &error);
	if (!folder) {
		show_error(self, error->message);
		return;
	}
	g_autofree char *id = g_path_get_basename(folder);
	reload_selecting(self, id);
}

static const GActionEntry window_actions[] = {
	{ .name = "new", .activate = on_new },
	{ .name = "delete", .activate = on_delete },
	{ .name = "edit", .activate = on_edit },
	{ .name = "start", .activate = on_start },
	{ .name = "force-off", .activate = on_force_off },
	{ .name = "reset", .activate = on_reset },
	{ .name = "change-cd", .activate = on_change_cd, .parameter_type = "u" },
	{ .name = "eject-cd", .activate = on_eject_cd, .parameter_type = "u" },
	{ .name = "show", .activate = on_show },
	{ .name = "clone", .activate = on_clone },
	{ .name = "search", .activate = on_search },
};

static void watch_library(VireoWindow *self)
{
	g_autoptr(GFile) dir = g_file_new_for_path(self->library_dir);
	g_autoptr(GError) error = NULL;
	g_mkdir_with_parents(self->library_dir, LIBRARY_FOLDER_MODE);
	self->monitor = g_file_monitor_directory(dir, G_FILE_MONITOR_WATCH_MOVES, NULL, &error);
	if (self->monitor)
		g_signal_connect(self->monitor, "changed", G_CALLBACK(on_library_changed), self);
	else
		g_warning("not watching %s: %s", self->library_dir, error->message);
}

static void vireo_window_dispose(GObject *object)
{
	VireoWindow *self = VIREO_WINDOW(object);
	g_clear_handle_id(&self->reload_timer, g_source_remove);
	g_clear_handle_id(&self->thumbnail_timer, g_source_remove);
	if (self->machine_list)
		g_signal_handlers_disconnect_by_data(self->machine_list, self);
	g_clear_handle_id(&self->thumbnails_idle, g_source_remove);
	if (self->cancellable)
		g_cancellable_cancel(self->cancellable);
	g_clear_object(&self->cancellable);
	if (self->monitor)
		g_signal_handlers_disconnect_by_data(self->monitor, self);
	g_clear_object(&self->monitor);
	g_clear_pointer(&self->folder_monitors, g_hash_table_unref);
	g_clear_pointer(&self->screen, screen_page_free);
	g_clear_pointer(&self->runs, g_hash_table_unref);  /* forgets the engines; they keep running */
	g_clear_pointer(&self->entries, g_ptr_array_unref);
	g_clear_object(&self->settings);
	G_OBJECT_CLASS(vireo_window_parent_class)->dispose(object);
}

static void vireo_window_finalize(GObject *object)
{
	VireoWindow *self = VIREO_WINDOW(object);
	g_free(self->library_dir);
	g_free(self->kept_disks_dir);
	g_free(self->vnc_address);
	G_OBJECT_CLASS(vireo_window_parent_class)->finalize(object);
}

static void vireo_window_class_init(VireoWindowClass *klass)
{
	GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);
	G_OBJECT_CLASS(klass)->dispose = vireo_window_dispose;
	G_OBJECT_CLASS(klass)->finalize = vireo_window_finalize;
	gtk_widget_class_set_template_from_resource(widget_class, "/io/github/vireo/Vireo/ui/window.ui");
	gtk_widget_class_bind_template_child(widget_class, VireoWindow, stack);
	gtk_widget_class_bind_template_child(widget_class, VireoWindow, machine_list);
	gtk_widget_class_bind_template_child(widget_class, VireoWindow, error_bar);
	gtk_widget_class_bind_template_child(widget_class, VireoWindow, error_label);
	gtk_widget_class_bind_template_callback(widget_class, on_error_bar_response);
	gtk_widget_class_bind_template_child(widget_class, VireoWindow, search_bar);
	gtk_widget_class_bind_template_child(widget_class, VireoWindow, search_entry);
	gtk_widget_class_bind_template_child(widget_class, VireoWindow, search_button);
	gtk_widget_class_bind_template_callback(widget_class, on_row_activated);
	gtk_widget_class_bind_template_callback(widget_class, on_search_changed);
	gtk_widget_class_bind_template_child(widget_class, VireoWindow, cd_section);
	gtk_widget_class_bind_template_child(widget_class, VireoWindow, vnc_bar);
	gtk_widget_class_bind_template_child(widget_class, VireoWindow, vnc_label);
	gtk_widget_class_bind_template_callback(widget_class, on_vnc_bar_response);
}

static void vireo_window_init(VireoWindow *self)
{
	gtk_widget_init_template(GTK_WIDGET(self));
	self->screen = screen_page_new(show_list, self);
	gtk_stack_add_named(self->stack, screen_page_widget(self->screen), "screen");
	g_action_map_add_action_entries(G_ACTION_MAP(self), window_actions, G_N_ELEMENTS(window_actions), self);
	self->settings = paths_new_settings();
	g_autofree char *folder = setting_string(self, "machine-folder", "");
	self->library_dir = *folder ? g_strdup(folder) : library_default_dir();
	self->kept_disks_dir = g_build_filename(g_get_user_data_dir(), "vireo", "kept-disks", NULL);
	self->entries = g_ptr_array_new_with_free_func((GDestroyNotify)library_entry_free);
	self->runs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)engine_run_free);
	self->cancellable = g_cancellable_new();
	self->folder_monitors = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, stop_monitor);
	self->thumbnail_timer = g_timeout_add_seconds(THUMBNAIL_REFRESH_SECONDS, refresh_thumbnails, self);
	gtk_list_box_set_filter_func(self->machine_list, filter_row, self, NULL);
	gtk_list_box_set_sort_func(self->machine_list, compare_rows, NULL, NULL);
	g_signal_connect(self->machine_list, "row-selected", G_CALLBACK(on_row_selected), self);
	g_object_bind_property(self->search_button, "active", self->search_bar, "search-mode-enabled",
			       G_BINDING_BIDIRECTIONAL);
	gtk_search_bar_connect_entry(self->search_bar, GTK_ENTRY(self->search_entry));
	g_signal_connect(self, "key-press-event", G_CALLBACK(on_key_press), self);
	watch_library(self);
	reload(self);
}

GtkWidget *vireo_window_new(GtkApplication *app)
{
	return g_object_new(VIREO_TYPE_WINDOW, "application", app, NULL);
}
