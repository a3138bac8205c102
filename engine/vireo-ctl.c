/* vireo-ctl: talks to a running engine over its control socket
 * (vireo-engine --control SOCKET), for scripts, tests and the shell. */
#include <gio/gio.h>
#include <stdio.h>
#include <string.h>

#include "vireo-engine1.h"

#define OBJECT_PATH "/io/github/vireo/Engine1"
#define EXIT_USAGE 2

static const char usage[] =
	"usage: vireo-ctl SOCKET COMMAND [ARG...]\n"
	"  info                 name, state and where the screen is\n"
	"  pause | resume       stop or continue every vCPU\n"
	"  power-button         ask the guest to shut down\n"
	"  force-off            end the machine at once\n"
	"  reset                reboot the machine\n"
	"  show                 raise the machine's window (display sdl)\n"
	"  screenshot FILE      the screen as a PNG; prints its size\n"
	"  eject [DRIVE]        take the disc out of a CD-ROM drive\n"
	"  change FILE [DRIVE]  put the ISO image FILE in a CD-ROM drive\n"
	"  sendkey KEYS         press and release a key combination, e.g. ctrl-alt-delete\n"
	"DRIVE is cdromN, the N-th CD-ROM drive as --boot-order counts them (the\n"
	"media=cdrom disks in the order given, then --cdrom); without it, the\n"
	"--cdrom drive, or the first CD-ROM drive when there is no --cdrom.\n"
	"KEYS are key names joined with '-', as QEMU's sendkey takes them: ctrl, alt,\n"
	"shift, meta_l, delete, esc, ret, tab, f1-f12, print, up, kp_enter, minus, ...,\n"
	"or a character the key types (a, 1, /).\n";

/* The engine's message alone, without the D-Bus error name GDBus puts first. */
static int fail(const char *what, GError *error)
{
	g_dbus_error_strip_remote_error(error);
	fprintf(stderr, "vireo-ctl: %s: %s\n", what, error->message);
	g_error_free(error);
	return 1;
}

static VireoEngine1 *connect_engine(const char *socket, GError **error)
{
	g_autofree char *address = g_strdup_printf("unix:path=%s", socket);
	g_autoptr(GDBusConnection) connection = g_dbus_connection_new_for_address_sync(
		address, G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT, NULL, NULL, error);
	if (!connection)
		return NULL;
	return vireo_engine1_proxy_new_sync(connection, G_DBUS_PROXY_FLAGS_NONE, NULL, OBJECT_PATH, NULL, error);
}

/* Every command takes at most one argument, change two. */
static gboolean too_many_arguments(const char *command, int count)
{
	return count > (strcmp(command, "change") ? 1 : 2);
}

/* `args` are the command's `count` arguments. */
static int run(VireoEngine1 *engine, const char *command, char **args, int count)
{
	GError *error = NULL;
	gboolean ok;
	const char *arg = count ? args[0] : NULL;
	if (!strcmp(command, "info")) {
		printf("name %s\nstate %s\ndisplay %s\n", vireo_engine1_get_name(engine),
		       vireo_engine1_get_state(engine), vireo_engine1_get_display(engine));
		return 0;
	} else if (!strcmp(command, "screenshot") && arg) {
		guint width, height;
		if (!vireo_engine1_call_screenshot_sync(engine, arg, &width, &height, NULL, &error))
			return fail(command, error);
		printf("%ux%u\n", width, height);
		return 0;
	} else if (!strcmp(command, "change") && arg) {
		ok = vireo_engine1_call_change_media_sync(engine, count == 2 ? args[1] : "", arg, NULL, &error);
	} else if (!strcmp(command, "sendkey") && arg) {
		g_auto(GStrv) keys = g_strsplit(arg, "-", -1);
		ok = vireo_engine1_call_send_keys_sync(engine, (const char *const *)keys, NULL, &error);
	} else if (!strcmp(command, "eject")) {
		ok = vireo_engine1_call_eject_media_sync(engine, arg ? arg : "", NULL, &error);
	} else if (!strcmp(command, "pause")) {
		ok = vireo_engine1_call_pause_sync(engine, NULL, &error);
	} else if (!strcmp(command, "resume")) {
		ok = vireo_engine1_call_resume_sync(engine, NULL, &error);
	} else if (!strcmp(command, "power-button")) {
		ok = vireo_engine1_call_power_button_sync(engine, NULL, &error);
	} else if (!strcmp(command, "force-off")) {
		ok = vireo_engine1_call_force_off_sync(engine, NULL, &error);
	} else if (!strcmp(command, "reset")) {
		ok = vireo_engine1_call_reset_sync(engine, NULL, &error);
	} else if (!strcmp(command, "show")) {
		ok = vireo_engine1_call_show_sync(engine, NULL, &error);
	} else {
		fputs(usage, stderr);
		return EXIT_USAGE;
	}
	return ok ? 0 : fail(command, error);
}

int main(int argc, char **argv)
{
	GError *error = NULL;
	if (argc < 3 || too_many_arguments(argv[2], argc - 3)) {
		fputs(usage, stderr);
		return EXIT_USAGE;
	}
	g_autoptr(VireoEngine1) engine = connect_engine(argv[1], &error);
	if (!engine)
		return fail(argv[1], error);
	return run(engine, argv[2], argv + 3, argc - 3);
}
