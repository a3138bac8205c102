/* A machine's screen as a choice rather than a spec to type: None, a
 * window on this desktop (SDL) or a VNC server, and for VNC its listen
 * address, its port (the first free one from 5900, or a fixed one) and a
 * password file. Under it, what is wrong (an address that is not IPv4) or
 * risky (a VNC server others can reach with no password). The setting
 * widget for `display` (setting-widgets.c). */
#ifndef VIREO_DISPLAY_FIELD_H
#define VIREO_DISPLAY_FIELD_H

#include <gtk/gtk.h>
#include <stdbool.h>

#include "setting-field.h"

#define VIREO_TYPE_DISPLAY_FIELD (vireo_display_field_get_type())
G_DECLARE_FINAL_TYPE(VireoDisplayField, vireo_display_field, VIREO, DISPLAY_FIELD, VireoSettingField)

/* `name` is the choice's accessible name. Emits "changed" (no arguments)
 * whenever any part changes. */
GtkWidget *vireo_display_field_new(const char *name);

/* Shows a display spec (machine_parse_display's syntax). */
void vireo_display_field_load(VireoDisplayField *field, const char *spec);

#endif
