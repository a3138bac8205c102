/* The main window: the machine list with each machine's state, the empty
 * state, and the actions New, Edit, Start/Stop and Delete. */
#ifndef VIREO_WINDOW_H
#define VIREO_WINDOW_H

#include <gtk/gtk.h>

#define VIREO_TYPE_WINDOW (vireo_window_get_type())
G_DECLARE_FINAL_TYPE(VireoWindow, vireo_window, VIREO, WINDOW, GtkApplicationWindow)

GtkWidget *vireo_window_new(GtkApplication *app);

#endif
