/* One input widget per machine setting, made from its entry in
 * machine_settings[] by type, shared by the machine editor and the New
 * Machine assistant: a label, the field, and a line under it for a warning
 * or what is wrong. Memory and processors are bounded by the host; the
 * disks are a list of drives (disk-list.h), each row checked under itself;
 * the network (net-field.h) and the screen (display-field.h) are a choice
 * with the options of the one chosen, not a spec to type. */
#ifndef VIREO_SETTING_WIDGETS_H
#define VIREO_SETTING_WIDGETS_H

#include <gtk/gtk.h>
#include <stdbool.h>

#include "machine.h"

struct setting_widget;

/* `changed` is called with `data` whenever the field changes. */
typedef void (*setting_changed_fn)(gpointer data);
struct setting_widget *setting_widget_new(const struct machine_setting *s, setting_changed_fn changed,
					  gpointer data);
void setting_widget_free(struct setting_widget *sw);

const struct machine_setting *setting_widget_setting(const struct setting_widget *sw);

/* The machine's folder, where the disk list's New Disk… makes images
 * (other widgets have no use for it). */
void setting_widget_set_folder(struct setting_widget *sw, const char *folder);

/* Puts the label (column 0), the field and the message line (columns 1 to
 * width) into `grid` from `row`: two rows, the message under the field,
 * shown when it has text. */
void setting_widget_attach(struct setting_widget *sw, GtkGrid *grid, int row, int width);

/* Shows or hides all three parts. */
void setting_widget_set_visible(struct setting_widget *sw, bool visible);

/* Shows m's value. */
void setting_widget_load(struct setting_widget *sw, const struct vireo_machine *m);

/* Sets m's value from the field (an empty field leaves m as it is; relative
 * paths are relative to base_dir) and shows what is wrong or risky under
 * it. Returns false, leaving m alone, when the value cannot be used. */
bool setting_widget_apply(struct setting_widget *sw, struct vireo_machine *m, const char *base_dir);

/* A message under the field: an error (the theme's error colour) or a hint. */
void setting_widget_show_message(struct setting_widget *sw, const char *text, bool is_error);

/* The same, for a label of the caller's. */
void setting_message_show(GtkLabel *label, const char *text, bool is_error);

/* A message line for under a row of the caller's, hidden until
 * setting_message_show gives it text and the caller shows it. */
GtkWidget *setting_message_new(void);

/* The name assistive tools (and the tests) find `widget` by. */
void setting_set_accessible_name(gpointer widget, const char *name);

/* A row of a compound field's options in `grid`: a dim `label` in column
 * 0 (without a mnemonic: the editor's labels have taken the letters), then
 * `part` holding `field`, which the label labels and which is named `name`
 * for assistive tools. */
void setting_attach_option(GtkGrid *grid, int row, const char *label, GtkWidget *part, GtkWidget *field,
			   const char *name);

/* Gives a path entry the folder icon that opens a file chooser, titled
 * after the entry's accessible name. */
void setting_entry_add_chooser(GtkEntry *entry);

#endif
