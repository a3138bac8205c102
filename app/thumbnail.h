/* A machine's thumbnail: the PNG its engine last wrote into the machine
 * folder (library.h LIBRARY_THUMBNAIL_FILE), read and scaled on a worker
 * thread so the window never waits for the file. */
#ifndef VIREO_THUMBNAIL_H
#define VIREO_THUMBNAIL_H

#include <gtk/gtk.h>

/* The size of a thumbnail in the machine list (4:3, as most guest screens). */
#define THUMBNAIL_WIDTH 64
#define THUMBNAIL_HEIGHT 48

/* Called on the main loop with the scaled picture, or NULL when there is
 * none (no file yet, not a picture); never after `cancellable` was cancelled.
 * `free_data` (or NULL) frees data either way. */
typedef void (*thumbnail_loaded)(GdkPixbuf *picture, void *data);

void thumbnail_load(const char *path, GCancellable *cancellable, thumbnail_loaded done, void *data,
		    GDestroyNotify free_data);

#endif
