/* The main menu's CD items; see cd-menu.h. */
#include "cd-menu.h"

#include <glib/gi18n.h>

#define CHANGE_ACTION "win.change-cd"
#define EJECT_ACTION "win.eject-cd"
#define SHOWN_KEY "vireo-cd-drives"  /* on the section: the labels it shows, joined */

char *cd_menu_drive_label(const struct machine_cdrom_drive *drive, unsigned number)
{
	/* Translators: a CD-ROM drive of a machine: its number and its controller (SATA or IDE). */
	return g_strdup_printf(_("CD-ROM %u (%s)"), number, drive->bus == MACHINE_BUS_SATA ? "SATA" : "IDE");
}

static void append_item(GMenu *menu, const char *label, const char *action, unsigned number)
{
	g_autoptr(GMenuItem) item = g_menu_item_new(label, NULL);
	g_menu_item_set_action_and_target_value(item, action, g_variant_new_uint32(number));
	g_menu_append_item(menu, item);
}

/* A submenu `label` with an item per drive, each acting on its drive. */
static void append_drive_submenu(GMenu *section, const char *label, const char *action, const char *suffix,
				 GStrv drive_labels)
{
	g_autoptr(GMenu) submenu = g_menu_new();
	for (unsigned i = 0; drive_labels[i]; i++) {
		g_autofree char *text = g_strconcat(drive_labels[i], suffix, NULL);
		append_item(submenu, text, action, i + 1);
	}
	g_menu_append_submenu(section, label, G_MENU_MODEL(submenu));
}

void cd_menu_update(GMenu *section, const struct vireo_machine *m)
{
	struct machine_cdrom_drive drives[MACHINE_MAX_CDROM_DRIVES];
	unsigned count = m ? machine_cdrom_drives(m, drives) : 0;
	g_auto(GStrv) labels = g_new0(char *, count + 1);
	for (unsigned i = 0; i < count; i++)
		labels[i] = cd_menu_drive_label(&drives[i], i + 1);
	machine_cdrom_drives_clear(drives, count);
	g_autofree char *shown = g_strjoinv("\n", labels);
	if (!g_strcmp0(shown, g_object_get_data(G_OBJECT(section), SHOWN_KEY)))
		return;
	g_menu_remove_all(section);
	if (count > 1) {
		append_drive_submenu(section, _("_Change CD"), CHANGE_ACTION, "…", labels);
		append_drive_submenu(section, _("E_ject CD"), EJECT_ACTION, "", labels);
	} else {
		append_item(section, _("_Change CD…"), CHANGE_ACTION, 1);
		append_item(section, _("E_ject CD"), EJECT_ACTION, 1);
	}
	g_object_set_data_full(G_OBJECT(section), SHOWN_KEY, g_steal_pointer(&shown), g_free);
}
