/* The screen page. See screen-page.h. */
#include "screen-page.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <gtk-vnc.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

struct screen_page {
	GtkWidget *box;
	GtkLabel *title;
	GtkStack *view;            /* "screen", or "stopped" once the engine has gone */
	GtkLabel *stopped;
	VncDisplay *display;       /* NULL while closed */
	char *name;
	void (*on_back)(void *data);
	void *data;
};

/* Combinations a desktop keeps for itself, typed into the guest as X
 * keysyms over the viewer's own connection: in order with what the user
 * types, and with no round trip through the control interface. */
struct key_combination {
	const char *label;
	guint keys[3];
	int count;
};

static const struct key_combination key_combinations[] = {
	{ "Ctrl+Alt+Del", { GDK_KEY_Control_L, GDK_KEY_Alt_L, GDK_KEY_Delete }, 3 },
	{ "Ctrl+Alt+Backspace", { GDK_KEY_Control_L, GDK_KEY_Alt_L, GDK_KEY_BackSpace }, 3 },
	{ "Ctrl+Alt+F1", { GDK_KEY_Control_L, GDK_KEY_Alt_L, GDK_KEY_F1 }, 3 },
	{ "Ctrl+Alt+F2", { GDK_KEY_Control_L, GDK_KEY_Alt_L, GDK_KEY_F2 }, 3 },
	{ "Ctrl+Alt+F3", { GDK_KEY_Control_L, GDK_KEY_Alt_L, GDK_KEY_F3 }, 3 },
	{ "Ctrl+Alt+F4", { GDK_KEY_Control_L, GDK_KEY_Alt_L, GDK_KEY_F4 }, 3 },
	{ "Ctrl+Alt+F5", { GDK_KEY_Control_L, GDK_KEY_Alt_L, GDK_KEY_F5 }, 3 },
	{ "Ctrl+Alt+F6", { GDK_KEY_Control_L, GDK_KEY_Alt_L, GDK_KEY_F6 }, 3 },
	{ "Ctrl+Alt+F7", { GDK_KEY_Control_L, GDK_KEY_Alt_L, GDK_KEY_F7 }, 3 },
	{ "Ctrl+Alt+F8", { GDK_KEY_Control_L, GDK_KEY_Alt_L, GDK_KEY_F8 }, 3 },
	{ "Ctrl+Alt+F9", { GDK_KEY_Control_L, GDK_KEY_Alt_L, GDK_KEY_F9 }, 3 },
	{ "Ctrl+Alt+F10", { GDK_KEY_Control_L, GDK_KEY_Alt_L, GDK_KEY_F10 }, 3 },
	{ "Ctrl+Alt+F11", { GDK_KEY_Control_L, GDK_KEY_Alt_L, GDK_KEY_F11 }, 3 },
	{ "Ctrl+Alt+F12", { GDK_KEY_Control_L, GDK_KEY_Alt_L, GDK_KEY_F12 }, 3 },
	{ "Print", { GDK_KEY_Print }, 1 },
};

static void on_send_key(GSimpleAction *action, GVariant *parameter, gpointer data)
{
	(void)action;
	struct screen_page *page = data;
	guint32 index = g_variant_get_uint32(parameter);
	if (page->display && index < G_N_ELEMENTS(key_combinations))
		vnc_display_send_keys(page->display, key_combinations[index].keys, key_combinations[index].count);
}

static GtkWidget *new_send_key_button(struct screen_page *page)
{
	static const GActionEntry actions[] = { { .name = "send-key", .activate = on_send_key, .parameter_type = "u" } };
	g_autoptr(GSimpleActionGroup) group = g_simple_action_group_new();
	g_action_map_add_action_entries(G_ACTION_MAP(group), actions, G_N_ELEMENTS(actions), page);
	gtk_widget_insert_action_group(page->box, "screen", G_ACTION_GROUP(group));
	g_autoptr(GMenu) menu = g_menu_new();
	for (guint32 i = 0; i < G_N_ELEMENTS(key_combinations); i++) {
		g_autoptr(GMenuItem) item = g_menu_item_new(key_combinations[i].label, NULL);
		g_menu_item_set_action_and_target(item, "screen.send-key", "u", i);
		g_menu_append_item(menu, item);
	}
	GtkWidget *button = gtk_menu_button_new();
	gtk_button_set_label(GTK_BUTTON(button), _("Send Key"));
	gtk_menu_button_set_use_popover(GTK_MENU_BUTTON(button), FALSE);
	gtk_menu_button_set_menu_model(GTK_MENU_BUTTON(button), G_MENU_MODEL(menu));
	return button;
}

static void on_back_clicked(GtkButton *button, gpointer data)
{
	(void)button;
	struct screen_page *page = data;
	page->on_back(page->data);
}

static GtkWidget *new_back_button(struct screen_page *page)
{
	GtkWidget *button = gtk_button_new_from_icon_name("go-previous-symbolic", GTK_ICON_SIZE_BUTTON);
	gtk_widget_set_tooltip_text(button, _("Back to the machines"));
	atk_object_set_name(gtk_widget_get_accessible(button), _("Back"));
	g_signal_connect(button, "clicked", G_CALLBACK(on_back_clicked), page);
	return button;
}

struct screen_page *screen_page_new(void (*on_back)(void *data), void *data)
{
	struct screen_page *page = g_new0(struct screen_page, 1);
	page->on_back = on_back;
	page->data = data;
	page->box = g_object_ref_sink(gtk_box_new(GTK_ORIENTATION_VERTICAL, 0));
	GtkWidget *bar = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
	g_object_set(bar, "margin", 6, NULL);
	page->title = GTK_LABEL(gtk_label_new(NULL));
	gtk_style_context_add_class(gtk_widget_get_style_context(GTK_WIDGET(page->title)), "title");
	gtk_box_pack_start(GTK_BOX(bar), new_back_button(page), FALSE, FALSE, 0);
	gtk_box_set_center_widget(GTK_BOX(bar), GTK_WIDGET(page->title));
	gtk_box_pack_end(GTK_BOX(bar), new_send_key_button(page), FALSE, FALSE, 0);
	page->view = GTK_STACK(gtk_stack_new());
	page->stopped = GTK_LABEL(gtk_label_new(NULL));
	gtk_stack_add_named(page->view, GTK_WIDGET(page->stopped), "stopped");
	gtk_box_pack_start(GTK_BOX(page->box), bar, FALSE, FALSE, 0);
	gtk_box_pack_start(GTK_BOX(page->box), GTK_WIDGET(page->view), TRUE, TRUE, 0);
	gtk_widget_show_all(page->box);
	return page;
}

GtkWidget *screen_page_widget(struct screen_page *page)
{
	return page->box;
}

/* The engine ended, or closed the connection: say so rather than leave a
 * picture that looks alive. */
static void on_disconnected(VncDisplay *display, gpointer data)
{
	struct screen_page *page = data;
	(void)display;
	g_autofree char *text = g_strdup_printf(_("“%s” is not running"), page->name);
	gtk_label_set_text(page->stopped, text);
	gtk_stack_set_visible_child_name(page->view, "stopped");
}

/* A stream socket connected to the VNC socket at path, or -1 with errno. */
static int connect_unix(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(sa.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(sa.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

static VncDisplay *new_display(struct screen_page *page, const char *name)
{
	VncDisplay *display = VNC_DISPLAY(vnc_display_new());
	vnc_display_set_scaling(display, TRUE);
	vnc_display_set_keep_aspect_ratio(display, TRUE);
	vnc_display_set_keyboard_grab(display, TRUE);
	vnc_display_set_pointer_grab(display, FALSE);
	g_autofree char *label = g_strdup_printf(_("Screen of “%s”"), name);
	atk_object_set_name(gtk_widget_get_accessible(GTK_WIDGET(display)), label);
	g_signal_connect(display, "vnc-disconnected", G_CALLBACK(on_disconnected), page);
	return display;
}

bool screen_page_open(struct screen_page *page, const char *name, const char *path, GError **error)
{
	screen_page_close(page);
	int fd = connect_unix(path);
	if (fd < 0) {
		int saved = errno;
		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(saved), "%s: %s", path, g_strerror(saved));
		return false;
	}
	page->name = g_strdup(name);
	page->display = new_display(page, name);
	gtk_label_set_text(page->title, name);
	gtk_stack_add_named(page->view, GTK_WIDGET(page->display), "screen");
	gtk_widget_show(GTK_WIDGET(page->display));
	gtk_stack_set_visible_child_name(page->view, "screen");
	vnc_display_open_fd(page->display, fd);  /* the connection owns fd from here on */
	gtk_widget_grab_focus(GTK_WIDGET(page->display));
	return true;
}

void screen_page_close(struct screen_page *page)
{
	if (!page->display)
		return;
	g_signal_handlers_disconnect_by_data(page->display, page);
	vnc_display_close(page->display);
	gtk_widget_destroy(GTK_WIDGET(page->display));
	page->display = NULL;
	g_clear_pointer(&page->name, g_free);
}

void screen_page_free(struct screen_page *page)
{
	screen_page_close(page);
	g_object_unref(page->box);
	g_free(page);
}
