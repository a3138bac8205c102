/* The control interface. See control.h. */
#include "control.h"

#include <errno.h>
#include <gio/gio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "keymap.h"
#include "screenshot.h"
#include "vireo-engine1.h"

#define OBJECT_PATH "/io/github/vireo/Engine1"
#define STATE_RUNNING "running"
#define STATE_PAUSED "paused"
#define STATE_STOPPING "stopping"
#define CONTROL_MAX_KEYS 16    /* SendKeys: more than any combination needs */

struct engine_control {
	char *path;
	GDBusServer *server;
	GDBusAuthObserver *observer;
	VireoEngine1 *skeleton;
	GPtrArray *connections;                 /* GDBusConnection, ours until they close */
	struct console *console;
	struct sdl_window *window;              /* or NULL: no local window */
	const struct engine_control_ops *ops;   /* NULL between runs */
	void *opaque;
};

static void set_state(struct engine_control *ctl, const char *state)
{
	vireo_engine1_set_state(ctl->skeleton, state);
}

/* The running machine, or NULL after answering the call with an error. */
static bool machine_running(struct engine_control *ctl, GDBusMethodInvocation *invocation)
{
	if (ctl->ops)
		return true;
	g_dbus_method_invocation_return_error(invocation, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED,
					      "the machine is between runs (restarting)");
	return false;
}

static gboolean on_pause(VireoEngine1 *skeleton, GDBusMethodInvocation *invocation, gpointer opaque)
{
	struct engine_control *ctl = opaque;
	if (!machine_running(ctl, invocation))
		return TRUE;
	if (g_strcmp0(vireo_engine1_get_state(skeleton), STATE_RUNNING) == 0) {
		ctl->ops->pause(ctl->opaque);
		set_state(ctl, STATE_PAUSED);
	}
	vireo_engine1_complete_pause(skeleton, invocation);
	return TRUE;
}

static gboolean on_resume(VireoEngine1 *skeleton, GDBusMethodInvocation *invocation, gpointer opaque)
{
	struct engine_control *ctl = opaque;
	if (!machine_running(ctl, invocation))
		return TRUE;
	if (g_strcmp0(vireo_engine1_get_state(skeleton), STATE_PAUSED) == 0) {
		ctl->ops->resume(ctl->opaque);
		set_state(ctl, STATE_RUNNING);
	}
	vireo_engine1_complete_resume(skeleton, invocation);
	return TRUE;
}

/* Power button, force off and reset all end this run; reset starts the next. */
static void stop_run(struct engine_control *ctl, enum vm_stop_reason reason)
{
	ctl->ops->stop(ctl->opaque, reason);
	set_state(ctl, STATE_STOPPING);
}

static gboolean on_power_button(VireoEngine1 *skeleton, GDBusMethodInvocation *invocation, gpointer opaque)
{
	struct engine_control *ctl = opaque;
	if (machine_running(ctl, invocation)) {
		if (!ctl->ops->power_button(ctl->opaque))
			stop_run(ctl, VM_STOP_REQUESTED);  /* a guest without ACPI: a clean stop */
		vireo_engine1_complete_power_button(skeleton, invocation);
	}
	return TRUE;
}

static gboolean on_force_off(VireoEngine1 *skeleton, GDBusMethodInvocation *invocation, gpointer opaque)
{
	struct engine_control *ctl = opaque;
	if (machine_running(ctl, invocation)) {
		stop_run(ctl, VM_STOP_REQUESTED);
		vireo_engine1_complete_force_off(skeleton, invocation);
	}
	return TRUE;
}

static gboolean on_reset(VireoEngine1 *skeleton, GDBusMethodInvocation *invocation, gpointer opaque)
{
	struct engine_control *ctl = opaque;
	if (machine_running(ctl, invocation)) {
		stop_run(ctl, VM_STOP_RESET);
		vireo_engine1_complete_reset(skeleton, invocation);
	}
	return TRUE;
}

static gboolean on_screenshot(VireoEngine1 *skeleton, GDBusMethodInvocation *invocation, const char *path,
			      gpointer opaque)
{
	struct engine_control *ctl = opaque;
	unsigned width = 0, height = 0;
	char *error = NULL;
	console_refresh(ctl->console);   /* what the guest shows now, not at the last frontend refresh */
	if (!screenshot_write_png(ctl->console, path, &width, &height, &error)) {
		g_dbus_method_invocation_return_error(invocation, G_IO_ERROR, G_IO_ERROR_FAILED, "%s", error);
		g_free(error);
		return TRUE;
	}
	vireo_engine1_complete_screenshot(skeleton, invocation, width, height);
	return TRUE;
}

/* The evdev codes of `keys`, or false after answering the call with an
 * error naming the problem. */
static bool key_codes(GDBusMethodInvocation *invocation, const char *const *keys, unsigned *codes, unsigned *count)
{
	for (*count = 0; keys[*count]; (*count)++) {
		if (*count == CONTROL_MAX_KEYS) {
			g_dbus_method_invocation_return_error(invocation, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
							      "at most %d keys at once", CONTROL_MAX_KEYS);
			return false;
		}
		if (!(codes[*count] = keymap_from_name(keys[*count]))) {
			g_dbus_method_invocation_return_error(invocation, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
							      "unknown key '%s' (keys are named as QEMU's sendkey names "
							      "them: ctrl, alt, delete, f1, a, ...)", keys[*count]);
			return false;
		}
	}
	if (*count)
		return true;
	g_dbus_method_invocation_return_error(invocation, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "no keys given");
	return false;
}

/* Pressed in order, released in reverse: the guest sees a combination. */
static gboolean on_send_keys(VireoEngine1 *skeleton, GDBusMethodInvocation *invocation, const char *const *keys,
			     gpointer opaque)
{
	struct engine_control *ctl = opaque;
	unsigned codes[CONTROL_MAX_KEYS], count;
	if (!machine_running(ctl, invocation) || !key_codes(invocation, keys, codes, &count))
		return TRUE;
	for (unsigned i = 0; i < count; i++)
		console_key(ctl->console, codes[i], true);
	for (unsigned i = count; i-- > 0;)
		console_key(ctl->console, codes[i], false);
	vireo_engine1_complete_send_keys(skeleton, invocation);
	return TRUE;
}

/* EjectMedia (path NULL) and ChangeMedia. */
static bool change_media(struct engine_control *ctl, GDBusMethodInvocation *invocation, const char *drive,
			 const char *path)
{
	char *error = NULL;
	if (!machine_running(ctl, invocation))
		return false;
	if (!ctl->ops->change_media(ctl->opaque, drive, path, &error)) {
		g_dbus_method_invocation_return_error(invocation, G_IO_ERROR, G_IO_ERROR_FAILED, "%s", error);
		g_free(error);
		return false;
	}
	return true;
}

static gboolean on_eject_media(VireoEngine1 *skeleton, GDBusMethodInvocation *invocation, const char *drive,
			       gpointer opaque)
{
	if (change_media(opaque, invocation, drive, NULL))
		vireo_engine1_complete_eject_media(skeleton, invocation);
	return TRUE;
}

static gboolean on_change_media(VireoEngine1 *skeleton, GDBusMethodInvocation *invocation, const char *drive,
				const char *path, gpointer opaque)
{
	if (change_media(opaque, invocation, drive, path))
		vireo_engine1_complete_change_media(skeleton, invocation);
	return TRUE;
}

static gboolean on_show(VireoEngine1 *skeleton, GDBusMethodInvocation *invocation, gpointer opaque)
{
	struct engine_control *ctl = opaque;
	if (!ctl->window) {
		g_dbus_method_invocation_return_error(invocation, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
						      "the machine's screen is not a window here (display %s)",
						      vireo_engine1_get_display(skeleton));
		return TRUE;
	}
	sdl_window_raise(ctl->window);
	vireo_engine1_complete_show(skeleton, invocation);
	return TRUE;
}

static void forget_connection(struct engine_control *ctl, GDBusConnection *connection)
{
	g_signal_handlers_disconnect_by_data(connection, ctl);
	g_dbus_interface_skeleton_unexport_from_connection(G_DBUS_INTERFACE_SKELETON(ctl->skeleton), connection);
	g_ptr_array_remove(ctl->connections, connection);
}

static void on_connection_closed(GDBusConnection *connection, gboolean remote_peer_vanished, GError *error,
				 gpointer opaque)
{
	(void)remote_peer_vanished, (void)error;
	forget_connection(opaque, connection);
}

static gboolean on_new_connection(GDBusServer *server, GDBusConnection *connection, gpointer opaque)
{
	struct engine_control *ctl = opaque;
	(void)server;
	if (!g_dbus_interface_skeleton_export(G_DBUS_INTERFACE_SKELETON(ctl->skeleton), connection, OBJECT_PATH,
					      NULL))
		return FALSE;
	g_ptr_array_add(ctl->connections, g_object_ref(connection));
	g_signal_connect(connection, "closed", G_CALLBACK(on_connection_closed), ctl);
	return TRUE;
}

/* Only the user the engine runs as. */
static gboolean on_authorize(GDBusAuthObserver *observer, GIOStream *stream, GCredentials *credentials,
			     gpointer opaque)
{
	(void)observer, (void)stream, (void)opaque;
	return credentials && g_credentials_get_unix_user(credentials, NULL) == getuid();
}

/* A socket file nobody listens on is what a killed engine leaves. */
static bool remove_stale_socket(const char *path, char **error)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return true;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	g_strlcpy(sa.sun_path, path, sizeof(sa.sun_path));
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool live = S_ISSOCK(st.st_mode) && fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	if (fd >= 0)
		close(fd);
	if (!S_ISSOCK(st.st_mode) || live) {
		*error = g_strdup_printf("control socket %s: %s", path,
					 live ? "another engine is listening there" : "exists and is not a socket");
		return false;
	}
	if (unlink(path) < 0) {
		*error = g_strdup_printf("control socket %s: %s", path, g_strerror(errno));
		return false;
	}
	return true;
}

static VireoEngine1 *new_skeleton(struct engine_control *ctl, const char *name, const char *display)
{
	VireoEngine1 *skeleton = vireo_engine1_skeleton_new();
	vireo_engine1_set_name(skeleton, name);
	vireo_engine1_set_display(skeleton, display);
	vireo_engine1_set_state(skeleton, STATE_STOPPING);
	g_signal_connect(skeleton, "handle-pause", G_CALLBACK(on_pause), ctl);
	g_signal_connect(skeleton, "handle-resume", G_CALLBACK(on_resume), ctl);
	g_signal_connect(skeleton, "handle-power-button", G_CALLBACK(on_power_button), ctl);
	g_signal_connect(skeleton, "handle-force-off", G_CALLBACK(on_force_off), ctl);
	g_signal_connect(skeleton, "handle-reset", G_CALLBACK(on_reset), ctl);
	g_signal_connect(skeleton, "handle-screenshot", G_CALLBACK(on_screenshot), ctl);
	g_signal_connect(skeleton, "handle-eject-media", G_CALLBACK(on_eject_media), ctl);
	g_signal_connect(skeleton, "handle-change-media", G_CALLBACK(on_change_media), ctl);
	g_signal_connect(skeleton, "handle-send-keys", G_CALLBACK(on_send_keys), ctl);
	g_signal_connect(skeleton, "handle-show", G_CALLBACK(on_show), ctl);
	return skeleton;
}

struct engine_control *engine_control_start(const char *path, const char *name, const char *display,
					    struct console *console, struct sdl_window *window, char **error)
{
	struct sockaddr_un sa;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		*error = g_strdup_printf("control socket %s: path longer than %zu bytes", path, sizeof(sa.sun_path) - 1);
		return NULL;
	}
	if (!remove_stale_socket(path, error))
		return NULL;
	struct engine_control *ctl = g_new0(struct engine_control, 1);
	g_autofree char *guid = g_dbus_generate_guid();
	g_autofree char *address = g_strdup_printf("unix:path=%s", path);
	GError *gerror = NULL;
	ctl->path = g_strdup(path);
	ctl->console = console;
	ctl->window = window;
	ctl->connections = g_ptr_array_new_with_free_func(g_object_unref);
	ctl->observer = g_dbus_auth_observer_new();
	g_signal_connect(ctl->observer, "authorize-authenticated-peer", G_CALLBACK(on_authorize), ctl);
	ctl->server = g_dbus_server_new_sync(address, G_DBUS_SERVER_FLAGS_NONE, guid, ctl->observer, NULL, &gerror);
	if (!ctl->server) {
		*error = g_strdup_printf("control socket %s: %s", path, gerror->message);
		g_error_free(gerror);
		g_object_unref(ctl->observer);
		g_ptr_array_unref(ctl->connections);
		g_free(ctl->path);
		g_free(ctl);
		return NULL;
	}
	chmod(path, S_IRUSR | S_IWUSR);
	ctl->skeleton = new_skeleton(ctl, name, display);
	g_signal_connect(ctl->server, "new-connection", G_CALLBACK(on_new_connection), ctl);
	g_dbus_server_start(ctl->server);
	return ctl;
}

void engine_control_attach(struct engine_control *ctl, const struct engine_control_ops *ops, void *opaque)
{
	ctl->ops = ops;
	ctl->opaque = opaque;
	set_state(ctl, ops ? STATE_RUNNING : STATE_STOPPING);
}

void engine_control_stop(struct engine_control *ctl)
{
	g_dbus_server_stop(ctl->server);
	g_signal_handlers_disconnect_by_data(ctl->server, ctl);
	g_object_unref(ctl->server);
	while (ctl->connections->len) {
		GDBusConnection *connection = g_ptr_array_index(ctl->connections, 0);
		g_dbus_connection_close_sync(connection, NULL, NULL);
		forget_connection(ctl, connection);
	}
	g_ptr_array_unref(ctl->connections);
	g_object_unref(ctl->skeleton);
	g_object_unref(ctl->observer);
	unlink(ctl->path);
	g_free(ctl->path);
	g_free(ctl);
}
