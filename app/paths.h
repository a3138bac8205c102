/* Where the app finds the engine, its GSettings schema and translations:
 * where they are installed, or in the build folder when run from there. */
#ifndef VIREO_PATHS_H
#define VIREO_PATHS_H

#include <gio/gio.h>
#include <stdbool.h>

void paths_init(void);
bool paths_uninstalled(void);
/* $VIREO_ENGINE, else the engine beside this build or installation. */
const char *paths_engine(void);
/* The app's settings, from the build folder's compiled schema when uninstalled. */
GSettings *paths_new_settings(void);

#endif
