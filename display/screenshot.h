/* PNG screenshots of a console (PNG, ISO/IEC 15948:2004): the current
 * surface as 8-bit RGB, written the way the engine writes every file, to a
 * temporary name first and renamed into place, so a reader never sees half
 * a picture. */
#ifndef VIREO_DISPLAY_SCREENSHOT_H
#define VIREO_DISPLAY_SCREENSHOT_H

#include <stdbool.h>

#include "console.h"

/* False with *error set when the guest has no picture yet (no mode set) or
 * the file cannot be written. Takes the console lock only while copying.
 * The picture's size goes to *width and *height (either may be NULL). */
bool screenshot_write_png(struct console *con, const char *path, unsigned *width, unsigned *height, char **error);

#endif
