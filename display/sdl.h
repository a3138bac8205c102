/* The guest screen in a local SDL2 window: its own thread runs SDL, pulls
 * changes from the console and uploads only the changed rectangles into a
 * streaming texture (SDL's renderer: OpenGL where the display has it,
 * software otherwise), scaled to the window with the aspect ratio kept.
 * Keys (SDL scancodes are USB HID usages) and the mouse go to the console.
 * Ctrl+Alt+G grabs and releases keyboard and mouse, Ctrl+Alt+F toggles full
 * screen; closing the window calls on_close. sdl_window_raise brings it to
 * the front (the app's Show). */
#ifndef VIREO_DISPLAY_SDL_H
#define VIREO_DISPLAY_SDL_H

#include "console.h"

struct sdl_window;

/* NULL with *error set when there is no display to open a window on. */
struct sdl_window *sdl_window_start(struct console *con, const char *name, void (*on_close)(void *opaque),
				    void *opaque, char **error);
void sdl_window_stop(struct sdl_window *win);
/* Raises the window above the others; from any thread (SDL's own does it). */
void sdl_window_raise(struct sdl_window *win);

#endif
