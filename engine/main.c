/* vireo-engine: runs one virtual machine on KVM, from flags or machine.ini. */
#include <glib.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <unistd.h>

#include "backend/chardev.h"
#include "core/trace.h"
#include "engine.h"
#include "library.h"
#include "machine.h"
#include "messages.h"
#include "sandbox.h"

#define EXIT_USAGE 2

struct flag_value {
	const struct machine_setting *setting;
	char *value;
};

static GArray *flag_values; /* struct flag_value, applied after machine.ini */
static char *control_path;  /* --control: not a machine setting, a property of this process */
static gboolean add_to_library; /* --add-to-library: write the machine instead of running it */
static char *trace_list;        /* --trace, --trace-file: what this run reports, not machine settings */
static char *trace_file;
static gboolean sandboxed = TRUE; /* --sandbox: like --control, a property of this process */

static gboolean parse_sandbox(const char *option_name, const char *value, gpointer data, GError **error)
{
	(void)option_name, (void)data;
	if (strcmp(value, "on") && strcmp(value, "off")) {
		g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "--sandbox: \"%s\" is not on or off", value);
		return FALSE;
	}
	sandboxed = !strcmp(value, "on");
	return TRUE;
}

static const struct machine_setting *setting_for_flag(const char *option_name)
{
	const char *name = option_name + strspn(option_name, "-");
	for (size_t i = 0; i < machine_settings_count; i++)
		if (!strcmp(machine_settings[i].flag, name))
			return &machine_settings[i];
	return NULL;
}

static gboolean remember_flag(const char *option_name, const char *value, gpointer data, GError **error)
{
	(void)data, (void)error;
	struct flag_value fv = { setting_for_flag(option_name), g_strdup(value ? value : "true") };
	g_array_append_val(flag_values, fv);
	return TRUE;
}

static GOptionEntry *build_option_entries(void)
{
	GOptionEntry *entries = g_new0(GOptionEntry, machine_settings_count + 6);
	for (size_t i = 0; i < machine_settings_count; i++) {
		const struct machine_setting *s = &machine_settings[i];
		entries[i] = (GOptionEntry){
			.long_name = s->flag,
			.flags = s->type == SETTING_BOOL ? G_OPTION_FLAG_NO_ARG : 0,
			.arg = G_OPTION_ARG_CALLBACK,
			.arg_data = (gpointer)remember_flag,
			.description = s->help,
			.arg_description = s->arg,
		};
	}
	entries[machine_settings_count] = (GOptionEntry){
		.long_name = "control", .arg = G_OPTION_ARG_FILENAME, .arg_data = &control_path,
		.description = "serve the control interface (D-Bus io.github.vireo.Engine1, peer-to-peer) on this "
			       "UNIX socket: state, pause, resume, power button, reset, screenshots",
		.arg_description = "SOCKET",
	};
	entries[machine_settings_count + 1] = (GOptionEntry){
		.long_name = "add-to-library", .arg = G_OPTION_ARG_NONE, .arg_data = &add_to_library,
		.description = "do not run: add the machine to the app's library ($XDG_DATA_HOME/vireo/machines) "
			       "unless a machine there has its name, and print its folder",
	};
	entries[machine_settings_count + 2] = (GOptionEntry){
		.long_name = "sandbox", .arg = G_OPTION_ARG_CALLBACK, .arg_data = (gpointer)parse_sandbox,
		.description = "once the machine is set up, allow the engine only the system calls running it needs "
			       "(seccomp) and no new privileges; a forbidden call ends the engine with a message "
			       "(default on)",
		.arg_description = "on|off",
	};
	entries[machine_settings_count + 3] = (GOptionEntry){
		.long_name = "trace", .arg = G_OPTION_ARG_STRING, .arg_data = &trace_list,
		.description = "write a rate-limited trace of these comma-separated classes: unclaimed (port and "
			       "MMIO accesses no device claims), io (claimed ones, with their device), pci, ata, "
			       "virtio, irq, net (libslirp debug), guest-error (requests a device refused)",
		.arg_description = "CLASS[,CLASS]",
	};
	entries[machine_settings_count + 4] = (GOptionEntry){
		.long_name = "trace-file", .arg = G_OPTION_ARG_FILENAME, .arg_data = &trace_file,
		.description = "append the trace to FILE instead of standard error",
		.arg_description = "FILE",
	};
	return entries;
}

static void fail(int status, const char *message)
{
	fprintf(stderr, "vireo-engine: %s\n", message);
	exit(status);
}

static void parse_command_line(int argc, char **argv, struct vireo_machine *def)
{
	g_autofree GOptionEntry *entries = build_option_entries();
	g_autoptr(GOptionContext) ctx = g_option_context_new("[MACHINE.INI] - run a virtual machine on KVM");
	g_autoptr(GError) error = NULL;

	g_option_context_add_main_entries(ctx, entries, NULL);
	g_option_context_set_description(ctx,
		"Settings come from MACHINE.INI when given; flags override it.\n\n"
		"Examples:\n"
		"  vireo-engine --kernel vmlinuz --initrd initrd.img --append console=ttyS0 --memory 1G --cpus 2\n"
		"  vireo-engine --kernel vmlinux --append \"console=ttyS0 earlyprintk=ttyS0\" --no-reboot\n"
		"  vireo-engine --kernel vmlinuz --append \"root=/dev/vda console=ttyS0\" --disk root.img --rng\n"
		"  vireo-engine ~/.local/share/vireo/machines/demo/machine.ini\n\n"
		"Exit status: 0 when the guest powers off (or resets with --no-reboot) or the engine\n"
		"is told to stop; 1 when the machine fails; 2 for bad flags or settings.");
	flag_values = g_array_new(FALSE, FALSE, sizeof(struct flag_value));
	if (!g_option_context_parse(ctx, &argc, &argv, &error))
		fail(EXIT_USAGE, error->message);
	if (argc > 2)
		fail(EXIT_USAGE, "more than one machine file given");
	if (argc == 2 && !machine_load(def, argv[1], &error))
		fail(EXIT_USAGE, error->message);
	/* A machine in the library outlives this shell: its paths must not
	 * depend on where it was added from. */
	g_autofree char *base_dir = add_to_library ? g_get_current_dir() : NULL;
	for (guint i = 0; i < flag_values->len; i++) {
		struct flag_value *fv = &g_array_index(flag_values, struct flag_value, i);
		if (!machine_set(def, fv->setting, fv->value, base_dir, &error)) {
			g_autofree char *msg = g_strdup_printf("--%s: %s", fv->setting->flag, error->message);
			fail(EXIT_USAGE, msg);
		}
		g_free(fv->value);
	}
	g_array_free(flag_values, TRUE);
}

/* --trace and --trace-file: bad classes or an unwritable file end the run
 * before it starts, as any bad flag. */
static void start_trace(void)
{
	g_autofree char *error = NULL;
	unsigned classes = 0;
	if (trace_file && !trace_list)
		fail(EXIT_USAGE, "--trace-file: no --trace classes given");
	if (!trace_list)
		return;
	if (!trace_parse_classes(trace_list, &classes, &error)) {
		g_autofree char *msg = g_strdup_printf("--trace: %s", error);
		fail(EXIT_USAGE, msg);
	}
	if (!trace_start(classes, trace_file, &error))
		fail(EXIT_USAGE, error);
}

/* --add-to-library: the machine as a new library folder, once per name. */
static int add_machine_to_library(const struct vireo_machine *def)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *dir = library_default_dir();
	g_autoptr(GPtrArray) entries = library_list(dir, &error);
	if (!entries)
		fail(EXIT_FAILURE, error->message);
	if (library_name_in_use(entries, def->name))
		return 0;
	g_autofree char *folder = library_create(dir, def, 0, &error);
	if (!folder)
		fail(EXIT_FAILURE, error->message);
	printf("%s\n", folder);
	return 0;
}

/* libvncserver keeps each viewer's socket in an fd_set for select(), which
 * holds descriptors below FD_SETSIZE (1024) only: a socket numbered above
 * it is written past the set (glibc's fortified build aborts the engine
 * instead). A soft limit of FD_SETSIZE keeps every descriptor the engine
 * opens below it; a machine needs a few dozen. */
static void keep_descriptors_below_fd_setsize(void)
{
	struct rlimit limit;
	if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur > FD_SETSIZE) {
		limit.rlim_cur = FD_SETSIZE;
		if (setrlimit(RLIMIT_NOFILE, &limit) < 0)
			fail(EXIT_FAILURE, "cannot keep the descriptor limit at FD_SETSIZE");
	}
}

int main(int argc, char **argv)
{
	struct vireo_machine def;
	struct machine_plan plan;
	struct engine_backends backends;
	char *error = NULL;

	bool test_execve = g_getenv("VIREO_TEST_SANDBOX_EXECVE") != NULL; /* see below */

	keep_descriptors_below_fd_setsize();
	setlocale(LC_ALL, "");
	messages_init();
	signal(SIGPIPE, SIG_IGN); /* a serial socket client that goes away is not fatal */
	machine_init(&def);
	parse_command_line(argc, argv, &def);
	if (!machine_plan_build(&def, &plan, &error) || !engine_check_inputs(&plan, &error))
		fail(EXIT_USAGE, error);
	start_trace();
	if (add_to_library) {
		int status = add_machine_to_library(&def);
		machine_plan_clear(&plan);
		machine_clear(&def);
		return status;
	}

	GMainContext *context = g_main_context_default();
	if (engine_open_backends(&plan, &backends, context, &error) < 0)
		fail(EXIT_USAGE, error);
	if (control_path) {
		g_autofree char *display = engine_display_description(&backends);
		backends.control = engine_control_start(control_path, def.name, display, &backends.console, backends.sdl,
							&error);
		if (!backends.control) {
			engine_close_backends(&backends);
			fail(EXIT_USAGE, error);
		}
	}

	/* Before the run: its set-up (VM, vCPU threads) is made under the
	 * filter too, so the list is proven on it at every start. */
	if (sandboxed && !sandbox_apply(&error)) {
		g_autofree char *msg = g_strdup_printf("%s (--sandbox off runs the machine without it)", error);
		fail(EXIT_FAILURE, msg);
	}
	/* Test only (tests/integration/test_sandbox.py): a call the sandbox
	 * forbids, made once it is on. */
	if (test_execve)
		execl("/bin/echo", "echo", "vireo-engine: test hook: execve ran", (char *)NULL);

	enum vm_stop_reason reason;
	do {
		reason = engine_run(&plan, &backends, context, &error);
	} while (reason == VM_STOP_RESET && !def.no_reboot);

	engine_close_backends(&backends);
	machine_plan_clear(&plan);
	machine_clear(&def);
	g_free(control_path);
	trace_stop();
	if (error)
		fprintf(stderr, "vireo-engine: %s\n", error);
	g_free(error);
	return reason == VM_STOP_ERROR ? 1 : 0;
}
