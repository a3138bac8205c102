/* The main menu's CD items: Change CD… and Eject CD for the selected
 * machine's CD-ROM drives, numbered as machine_cdrom_drives numbers them
 * (drive N is the engine's "cdromN"). The items act through the window
 * actions win.change-cd and win.eject-cd, whose parameter is N. */
#ifndef VIREO_CD_MENU_H
#define VIREO_CD_MENU_H

#include <gio/gio.h>

#include "machine.h"

/* A drive as the user sees it: "CD-ROM 2 (IDE)"; number from 1. */
char *cd_menu_drive_label(const struct machine_cdrom_drive *drive, unsigned number);

/* Fills `section` for the machine m (NULL: none selected): with one drive
 * or none, Change CD… and Eject CD for the first; with more, a submenu of
 * the drives for each. Left alone when the drives are those it shows. */
void cd_menu_update(GMenu *section, const struct vireo_machine *m);

#endif
