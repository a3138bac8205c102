/* vireo: the desktop manager for Vireo's virtual machines. */
#include <glib/gi18n.h>
#include <gtk/gtk.h>
#include <locale.h>
#include <stdbool.h>
#include <stdio.h>

#include "config.h"
#include "messages.h"
#include "paths.h"
#include "window.h"

static void on_about(GSimpleAction *action, GVariant *parameter, gpointer data)
{
	(void)action, (void)parameter;
	GtkApplication *app = data;
	gtk_show_about_dialog(gtk_application_get_active_window(app),
			      "program-name", "Vireo",
			      "logo-icon-name", VIREO_APP_ID,
			      "version", VIREO_VERSION,
			      "comments", _("Create and run virtual machines"),
			      "license-type", GTK_LICENSE_GPL_2_0,
			      NULL);
}

static void on_quit(GSimpleAction *action, GVariant *parameter, gpointer data)
{
	(void)action, (void)parameter;
	g_application_quit(G_APPLICATION(data));  /* running machines keep running */
}

static const GActionEntry app_actions[] = {
	{ .name = "about", .activate = on_about },
	{ .name = "quit", .activate = on_quit },
};

static void set_accel(GtkApplication *app, const char *action, const char *accel)
{
	const char *accels[] = { accel, NULL };
	gtk_application_set_accels_for_action(app, action, accels);
}

/* The app draws nothing with OpenGL, but GDK on X11 loads the GL driver
 * (Mesa, LLVM) to pick visuals unless told not to: tens of milliseconds
 * of a cold start. Set for GTK's start-up only; engines do not inherit it. */
#define GL_OFF_VARIABLE "GDK_GL"
static bool gl_turned_off;

static void turn_gl_off_for_startup(void)
{
	gl_turned_off = !g_getenv(GL_OFF_VARIABLE);
	if (gl_turned_off)
		g_setenv(GL_OFF_VARIABLE, "disable", FALSE);
}

static void on_startup(GApplication *application, gpointer data)
{
	(void)data;
	if (gl_turned_off)
		g_unsetenv(GL_OFF_VARIABLE);
	GtkApplication *app = GTK_APPLICATION(application);
	g_action_map_add_action_entries(G_ACTION_MAP(app), app_actions, G_N_ELEMENTS(app_actions), app);
	set_accel(app, "win.new", "<Control>n");
	set_accel(app, "win.delete", "Delete");
	set_accel(app, "win.edit", "<Alt>Return");  /* the GNOME HIG's Properties key */
	set_accel(app, "win.search", "<Control>f");
	set_accel(app, "app.quit", "<Control>q");

	g_autoptr(GtkCssProvider) css = gtk_css_provider_new();
	gtk_css_provider_load_from_resource(css, "/io/github/vireo/Vireo/style.css");
	gtk_style_context_add_provider_for_screen(gdk_screen_get_default(), GTK_STYLE_PROVIDER(css),
						  GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
	if (paths_uninstalled())
		gtk_icon_theme_append_search_path(gtk_icon_theme_get_default(),
						  VIREO_SOURCE_ROOT G_DIR_SEPARATOR_S "data" G_DIR_SEPARATOR_S "icons");
	gtk_window_set_default_icon_name(VIREO_APP_ID);
}

/* VIREO_TRACE_STARTUP set: one line on stderr once the main window's
 * first frame is painted, the end of a cold start for
 * tests/bench/app-startup.py. */
#define TRACE_STARTUP_VARIABLE "VIREO_TRACE_STARTUP"

static void on_first_paint(GdkFrameClock *clock, gpointer data)
{
	g_signal_handlers_disconnect_by_func(clock, on_first_paint, data);
	fputs("vireo: first frame painted\n", stderr);
}

/* One window: a second launch raises it. */
static void on_activate(GApplication *application, gpointer data)
{
	(void)data;
	GtkApplication *app = GTK_APPLICATION(application);
	GtkWindow *window = gtk_application_get_active_window(app);
	bool first = !window;
	if (!window)
		window = GTK_WINDOW(vireo_window_new(app));
	gtk_window_present(window);
	GdkFrameClock *clock = gtk_widget_get_frame_clock(GTK_WIDGET(window));
	if (first && clock && g_getenv(TRACE_STARTUP_VARIABLE))
		g_signal_connect(clock, "after-paint", G_CALLBACK(on_first_paint), NULL);
}

int main(int argc, char **argv)
{
	paths_init();
	setlocale(LC_ALL, "");
	messages_init();
	textdomain(GETTEXT_PACKAGE);
	g_set_application_name("Vireo");
	turn_gl_off_for_startup();

	g_autoptr(GtkApplication) app = gtk_application_new(VIREO_APP_ID, G_APPLICATION_DEFAULT_FLAGS);
	g_signal_connect(app, "startup", G_CALLBACK(on_startup), NULL);
	g_signal_connect(app, "activate", G_CALLBACK(on_activate), NULL);
	return g_application_run(G_APPLICATION(app), argc, argv);
}
