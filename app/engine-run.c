/* Spawning and watching an engine; see engine-run.h. */
#include "engine-run.h"

#include <gio/gio.h>
#include <glib/gi18n.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "library.h"
#include "vireo-engine1.h"

#define ENGINE_OBJECT_PATH "/io/github/vireo/Engine1"
#define CONNECT_INTERVAL_MS 100
#define CONNECT_TRIES 50

struct engine_run {
	GSubprocess *process;
	GCancellable *cancellable;
	char *socket_path;
	char *log_path;     /* the engine's stderr */
	char *last_line;
	GDBusConnection *connection;
	VireoEngine1 *proxy;
	unsigned connect_timer;
	unsigned connect_tries;
	enum engine_state state;
	bool exited, stop_requested;
	int exit_status;
	engine_run_notify notify;
	void *data;
};

bool engine_has_control(const char *engine)
{
	static GHashTable *known;  /* engine path -> answer */
	if (!known)
		known = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	gpointer answer;
	if (g_hash_table_lookup_extended(known, engine, NULL, &answer))
		return GPOINTER_TO_INT(answer);
	const char *argv[] = { engine, "--help", NULL };
	g_autofree char *out = NULL;
	bool has = g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &out, NULL, NULL,
				NULL) && out && strstr(out, "--control");
	g_hash_table_insert(known, g_strdup(engine), GINT_TO_POINTER(has));
	return has;
}

static void set_state(struct engine_run *run, enum engine_state state)
{
	if (run->state == state || run->state == ENGINE_STOPPED || run->state == ENGINE_FAILED)
		return;
	run->state = state;
	run->notify(run, run->data);  /* last: the callback may free a finished run */
}

/* The engine's error message: the last line it wrote to stderr. */
static char *last_line_of(const char *path)
{
	g_autofree char *text = NULL;
	if (!g_file_get_contents(path, &text, NULL, NULL))
		return NULL;
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
	for (guint i = g_strv_length(lines); i-- > 0;)
		if (*g_strstrip(lines[i]))
			return g_strdup(lines[i]);
	return NULL;
}

static void on_exited(GObject *source, GAsyncResult *result, gpointer data)
{
	g_autoptr(GError) error = NULL;
	if (!g_subprocess_wait_finish(G_SUBPROCESS(source), result, &error))
		return;  /* cancelled: the run was freed */
	struct engine_run *run = data;
	GSubprocess *process = run->process;
	run->exited = true;
	run->exit_status = g_subprocess_get_if_exited(process) ? g_subprocess_get_exit_status(process) : -1;
	run->last_line = last_line_of(run->log_path);
	g_clear_handle_id(&run->connect_timer, g_source_remove);
	int term_sig = g_subprocess_get_if_signaled(process) ? g_subprocess_get_term_sig(process) : 0;
	bool clean = run->exit_status == 0 || (run->stop_requested && (term_sig == SIGTERM || term_sig == SIGKILL));
	set_state(run, clean ? ENGINE_STOPPED : ENGINE_FAILED);
}

static enum engine_state state_from_text(const char *text)
{
	if (!g_strcmp0(text, "paused"))
		return ENGINE_PAUSED;
	if (!g_strcmp0(text, "stopping"))
		return ENGINE_STOPPING;
	return ENGINE_RUNNING;
}

static void on_engine_state(GObject *proxy, GParamSpec *pspec, gpointer data)
{
	(void)pspec;
	struct engine_run *run = data;
	if (!run->exited)
		set_state(run, state_from_text(vireo_engine1_get_state(VIREO_ENGINE1(proxy))));
}

/* No control over the engine: a process we started is running while it
 * lives; an engine we only attached to is gone (its socket was stale). */
static void give_up_control(struct engine_run *run)
{
	if (run->process) {
		set_state(run, ENGINE_RUNNING);
		return;
	}
	unlink(run->socket_path);
	set_state(run, ENGINE_STOPPED);
}

static void on_proxy(GObject *source, GAsyncResult *result, gpointer data)
{
	(void)source;
	g_autoptr(GError) error = NULL;
	VireoEngine1 *proxy = vireo_engine1_proxy_new_finish(result, &error);
	if (!proxy) {
		if (!g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
			give_up_control(data);
		return;
	}
	struct engine_run *run = data;
	run->proxy = proxy;
	g_signal_connect(proxy, "notify::state", G_CALLBACK(on_engine_state), run);
	on_engine_state(G_OBJECT(proxy), NULL, run);
}

static gboolean try_connect(gpointer data);

/* An engine we attached to ends: its connection closes. (One we started
 * ends through on_exited, with its status.) */
static void on_closed(GDBusConnection *connection, gboolean remote, GError *error, gpointer data)
{
	(void)connection, (void)remote, (void)error;
	struct engine_run *run = data;
	if (!run->process)
		set_state(run, ENGINE_STOPPED);
}

static void on_connection(GObject *source, GAsyncResult *result, gpointer data)
{
	(void)source;
	g_autoptr(GError) error = NULL;
	g_autoptr(GDBusConnection) connection = g_dbus_connection_new_for_address_finish(result, &error);
	if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
		return;
	struct engine_run *run = data;
	if (!connection) {
		/* The socket may exist a moment before the engine answers on it. */
		if (run->process && ++run->connect_tries < CONNECT_TRIES && !run->exited)
			run->connect_timer = g_timeout_add(CONNECT_INTERVAL_MS, try_connect, run);
		else
			give_up_control(run);
		return;
	}
	run->connection = g_object_ref(connection);
	g_signal_connect(connection, "closed", G_CALLBACK(on_closed), run);
	vireo_engine1_proxy_new(connection, G_DBUS_PROXY_FLAGS_NONE, NULL, ENGINE_OBJECT_PATH, run->cancellable,
				on_proxy, run);
}

/* The engine makes its socket once it is up; look for it a few times. */
static gboolean try_connect(gpointer data)
{
	struct engine_run *run = data;
	if (!g_file_test(run->socket_path, G_FILE_TEST_EXISTS)) {
		if (run->process && ++run->connect_tries < CONNECT_TRIES)
			return G_SOURCE_CONTINUE;
		run->connect_timer = 0;
		give_up_control(run);
		return G_SOURCE_REMOVE;
	}
	run->connect_timer = 0;
	g_autofree char *escaped = g_dbus_address_escape_value(run->socket_path);
	g_autofree char *address = g_strdup_printf("unix:path=%s", escaped);
	g_dbus_connection_new_for_address(address, G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT, NULL,
					  run->cancellable, on_connection, run);
	return G_SOURCE_REMOVE;
}

/* The engine gets its own session: a Ctrl+C in the app's terminal, or the
 * app ending, must not stop the machines. */
static void child_setup(gpointer data)
{
	(void)data;
	setsid();
}

struct engine_run *engine_run_start(const char *engine, const char *ini_path, const char *socket_path,
				    const char *screen_path, engine_run_notify notify, void *data, GError **error)
{
	bool control = engine_has_control(engine);
	g_autofree char *folder = g_path_get_dirname(ini_path);
	g_autofree char *socket_dir = g_path_get_dirname(socket_path);
	g_autofree char *display = screen_path && control ? g_strconcat("vnc=unix:", screen_path, NULL) : NULL;
	const char *argv[] = { engine, ini_path, control ? "--control" : NULL, socket_path,
			       display ? "--display" : NULL, display, NULL };
	/* stderr goes to a file, not a pipe: the engine must outlive the app. */
	g_autofree char *log_path = g_build_filename(folder, LIBRARY_ENGINE_LOG_FILE, NULL);
	g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDIN_PIPE |
									     G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
	g_subprocess_launcher_set_stderr_file_path(launcher, log_path);
	g_subprocess_launcher_set_cwd(launcher, folder);
	g_subprocess_launcher_set_child_setup(launcher, child_setup, NULL, NULL);
	if (control) {
		g_mkdir_with_parents(socket_dir, 0700);
		unlink(socket_path);  /* a stale socket from a machine that crashed */
	}
	GSubprocess *process = g_subprocess_launcher_spawnv(launcher, argv, error);
	if (!process)
		return NULL;

	struct engine_run *run = g_new0(struct engine_run, 1);
	run->process = process;
	run->cancellable = g_cancellable_new();
	run->socket_path = g_strdup(socket_path);
	run->notify = notify;
	run->data = data;
	run->state = control ? ENGINE_STARTING : ENGINE_RUNNING;
	run->log_path = g_steal_pointer(&log_path);
	g_subprocess_wait_async(process, run->cancellable, on_exited, run);
	if (control)
		run->connect_timer = g_timeout_add(CONNECT_INTERVAL_MS, try_connect, run);
	return run;
}

struct engine_run *engine_run_attach(const char *socket_path, engine_run_notify notify, void *data)
{
	struct engine_run *run = g_new0(struct engine_run, 1);
	run->cancellable = g_cancellable_new();
	run->socket_path = g_strdup(socket_path);
	run->notify = notify;
	run->data = data;
	run->state = ENGINE_STARTING;
	run->exit_status = -1;
	try_connect(run);
	return run;
}

void engine_run_free(struct engine_run *run)
{
	if (!run)
		return;
	g_cancellable_cancel(run->cancellable);
	g_clear_handle_id(&run->connect_timer, g_source_remove);
	if (run->proxy)
		g_signal_handlers_disconnect_by_data(run->proxy, run);
	g_clear_object(&run->proxy);
	if (run->connection)
		g_signal_handlers_disconnect_by_data(run->connection, run);
	g_clear_object(&run->connection);
	g_clear_object(&run->process);
	g_clear_object(&run->cancellable);
	g_free(run->socket_path);
	g_free(run->log_path);
	g_free(run->last_line);
	g_free(run);
}

enum engine_state engine_run_state(const struct engine_run *run)
{
	return run->state;
}

static bool later(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec != b->tv_sec ? a->tv_sec > b->tv_sec : a->tv_nsec > b->tv_nsec;
}

bool engine_run_predates(const struct engine_run *run, const char *path)
{
	struct stat socket_info, file_info;
	return stat(run->socket_path, &socket_info) == 0 && stat(path, &file_info) == 0 &&
	       later(&file_info.st_mtim, &socket_info.st_mtim);
}

void engine_run_matches_settings(struct engine_run *run)
{
	utimensat(AT_FDCWD, run->socket_path, NULL, 0);  /* at worst the row says "changes apply at next start" */
}

const char *engine_run_error(const struct engine_run *run)
{
	return run->last_line;
}

int engine_run_exit_status(const struct engine_run *run)
{
	return run->exit_status;
}

bool engine_run_has_control(const struct engine_run *run)
{
	return run->proxy != NULL;
}

void engine_run_pause(struct engine_run *run, bool pause)
{
	if (!run->proxy)
		return;
	if (pause)
		vireo_engine1_call_pause(run->proxy, run->cancellable, NULL, NULL);
	else
		vireo_engine1_call_resume(run->proxy, run->cancellable, NULL, NULL);
}

void engine_run_reset(struct engine_run *run)
{
	if (run->proxy)
		vireo_engine1_call_reset(run->proxy, run->cancellable, NULL, NULL);
}

void engine_run_show(struct engine_run *run)
{
	if (run->proxy)
		vireo_engine1_call_show(run->proxy, run->cancellable, NULL, NULL);
}

const char *engine_run_display(const struct engine_run *run)
{
	return run->proxy ? vireo_engine1_get_display(run->proxy) : NULL;
}

/* An asynchronous call on the engine, until it answers. */
struct engine_call {
	struct engine_run *run;
	union {
		engine_run_screenshot_done screenshot;
		engine_run_media_done media;
	} done;
	void *data;
};

static struct engine_call *new_call(struct engine_run *run, void *data)
{
	struct engine_call *call = g_new0(struct engine_call, 1);
	call->run = run;
	call->data = data;
	return call;
}

/* The run a call was made on, or NULL when the run was freed meanwhile
 * (which cancelled the call). */
static struct engine_run *call_run(const struct engine_call *call, const GError *error)
{
	return g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED) ? NULL : call->run;
}

static void on_screenshot(GObject *source, GAsyncResult *result, gpointer data)
{
	struct engine_call *call = data;
	g_autoptr(GError) error = NULL;
	bool ok = vireo_engine1_call_screenshot_finish(VIREO_ENGINE1(source), NULL, NULL, result, &error);
	call->done.screenshot(call_run(call, error), ok, call->data);
	g_free(call);
}

void engine_run_screenshot(struct engine_run *run, const char *path, engine_run_screenshot_done done, void *data)
{
	if (!run->proxy) {
		done(run, false, data);
		return;
	}
	struct engine_call *call = new_call(run, data);
	call->done.screenshot = done;
	vireo_engine1_call_screenshot(run->proxy, path, run->cancellable, on_screenshot, call);
}

/* EjectMedia and ChangeMedia alike answer nothing but an error. */
static void on_media_changed(GObject *source, GAsyncResult *result, gpointer data)
{
	struct engine_call *call = data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = g_dbus_proxy_call_finish(G_DBUS_PROXY(source), result, &error);
	if (error)
		g_dbus_error_strip_remote_error(error);  /* the engine's line, without the D-Bus error name */
	call->done.media(call_run(call, error), error ? error->message : NULL, call->data);
	g_free(call);
}

void engine_run_change_media(struct engine_run *run, const char *drive, const char *path,
			     engine_run_media_done done, void *data)
{
	if (!run->proxy) {
		done(run, _("the machine cannot be controlled (its engine has no control socket)"), data);
		return;
	}
	struct engine_call *call = new_call(run, data);
	call->done.media = done;
	if (path)
		vireo_engine1_call_change_media(run->proxy, drive, path, run->cancellable, on_media_changed, call);
	else
		vireo_engine1_call_eject_media(run->proxy, drive, run->cancellable, on_media_changed, call);
}

void engine_run_force_off(struct engine_run *run)
{
	if (run->exited)
		return;
	run->stop_requested = true;
	if (run->proxy)
		vireo_engine1_call_force_off(run->proxy, run->cancellable, NULL, NULL);
	else if (run->process)
		g_subprocess_force_exit(run->process);
}

void engine_run_stop(struct engine_run *run)
{
	if (run->exited)
		return;
	run->stop_requested = true;
	if (run->proxy)
		vireo_engine1_call_power_button(run->proxy, run->cancellable, NULL, NULL);
	else if (run->process)
		g_subprocess_send_signal(run->process, SIGTERM);
}
