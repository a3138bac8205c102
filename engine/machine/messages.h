/* The machine library's messages, and the programs' own, in the user's
 * language: gettext's "vireo" domain (po/). */
#ifndef VIREO_MESSAGES_H
#define VIREO_MESSAGES_H

#include <stdbool.h>

/* True when this program runs from its build folder, not installed: its
 * catalogs (and the app's engine and schema) are then the build's. */
bool program_uninstalled(void);

/* Binds the domain to this build's po/ when the program runs from its build
 * folder, else to the installed locale folder. Call after setlocale(). */
void messages_init(void);

#endif
