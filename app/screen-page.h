/* The screen page: a running machine's screen inside the main window, as
 * GNOME Boxes shows one, through gtk-vnc's VncDisplay connected to the
 * engine's private VNC socket (--display vnc=unix:PATH). Scaled to the
 * page with the aspect kept; the keyboard is grabbed while the screen has
 * the focus; Back returns to the list, and Send Key types the combinations
 * a desktop would keep for itself (Ctrl+Alt+Del, Ctrl+Alt+F1..F12, ...). */
#ifndef VIREO_SCREEN_PAGE_H
#define VIREO_SCREEN_PAGE_H

#include <gtk/gtk.h>
#include <stdbool.h>

struct screen_page;

/* on_back is called when the user asks to go back to the list. */
struct screen_page *screen_page_new(void (*on_back)(void *data), void *data);
void screen_page_free(struct screen_page *page);
GtkWidget *screen_page_widget(struct screen_page *page);
/* Connects to the VNC socket at path, showing `name` as the title; false
 * with *error set when nothing answers there. */
bool screen_page_open(struct screen_page *page, const char *name, const char *path, GError **error);
/* Disconnects (the machine runs on). */
void screen_page_close(struct screen_page *page);

#endif
