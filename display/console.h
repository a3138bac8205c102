/* The console: the seam between display devices and frontends.
 *
 * A display device (std VGA, virtio-gpu) publishes a surface (format, size,
 * stride, pixels) and reports the rectangles that changed; frontends (VNC
 * server, SDL window, screenshots) listen. Nothing runs on a timer inside the
 * console: a frontend calls console_refresh() when it is ready for pixels, the
 * device then collects what changed (KVM dirty log, text cells) and reports
 * it through console_update(). An idle screen costs one refresh call and no
 * updates.
 *
 * Input goes the other way in one code space: Linux evdev key codes
 * (linux/input-event-codes.h), relative motion with buttons and wheel, and
 * absolute positions scaled to 0..CONSOLE_ABS_MAX. The active guest input
 * device (PS/2, USB HID, virtio-input) receives them.
 *
 * Thread model: the device calls console_set_surface()/console_update() from
 * whichever thread runs its refresh (the frontend's, through
 * console_refresh) or from a vCPU thread on a mode change; listeners are
 * called with the console lock held and must not call back into the console.
 * Frontends read surface pixels only inside callbacks or between
 * console_lock()/console_unlock(). */
#ifndef VIREO_DISPLAY_CONSOLE_H
#define VIREO_DISPLAY_CONSOLE_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

enum console_format {
	CONSOLE_FORMAT_NONE,      /* no surface: guest has not set a mode */
	CONSOLE_FORMAT_XRGB8888,  /* 32 bpp, little-endian: B, G, R, X in memory */
	CONSOLE_FORMAT_RGB565,    /* 16 bpp, little-endian */
};

struct console_surface {
	enum console_format format;
	unsigned width, height;
	unsigned stride;          /* bytes per line */
	const uint8_t *pixels;    /* owned by the device; valid until the next set_surface */
};

struct console_rect {
	unsigned x, y, width, height;
};

/* The guest's pointer image, for devices that have one (virtio-gpu's cursor
 * queue): frontends draw it themselves (VNC cursor pseudo-encoding, an SDL
 * cursor) rather than it being part of the surface. */
#define CONSOLE_CURSOR_MAX 64
struct console_cursor {
	bool visible;
	unsigned width, height;       /* at most CONSOLE_CURSOR_MAX */
	unsigned hot_x, hot_y;
	unsigned x, y;                /* where the hot spot is on the surface */
	uint32_t pixels[CONSOLE_CURSOR_MAX * CONSOLE_CURSOR_MAX]; /* 0xAARRGGBB, rows of `width` */
};

struct console_listener {
	/* New mode or new pixel buffer: the whole surface is to be redrawn. */
	void (*surface_changed)(void *opaque, const struct console_surface *surface);
	/* A rectangle of the current surface changed (already clipped). */
	void (*update)(void *opaque, const struct console_rect *rect);
	/* The cursor's image (shape true) or just its position changed; may be NULL. */
	void (*cursor_changed)(void *opaque, const struct console_cursor *cursor, bool shape);
	void *opaque;
};

/* What the display device gives the console. */
struct console_display_ops {
	/* Report what changed since the last refresh through console_update(). */
	void (*refresh)(void *opaque);
	/* The frontend's window or viewer changed size; a device that can follow
	 * (virtio-gpu) tells the guest. May be NULL. */
	void (*preferred_size)(void *opaque, unsigned width, unsigned height);
};

#define CONSOLE_ABS_MAX 0x7FFF

enum console_button {
	CONSOLE_BUTTON_LEFT = 1u << 0,
	CONSOLE_BUTTON_RIGHT = 1u << 1,
	CONSOLE_BUTTON_MIDDLE = 1u << 2,
	CONSOLE_BUTTON_SIDE = 1u << 3,
	CONSOLE_BUTTON_EXTRA = 1u << 4,
};

/* What a guest input device gives the console. Any member may be NULL. */
struct console_input_ops {
	void (*key)(void *opaque, unsigned evdev_code, bool down);
	/* dz > 0: wheel away from the user (up). */
	void (*pointer_rel)(void *opaque, int dx, int dy, int dz, unsigned buttons);
	void (*pointer_abs)(void *opaque, unsigned x, unsigned y, int dz, unsigned buttons);
};

#define CONSOLE_MAX_LISTENERS 8

struct console {
	GMutex lock;
	struct console_surface surface;
	struct console_cursor cursor;
	const struct console_display_ops *display;
	void *display_opaque;
	const struct console_input_ops *input;
	void *input_opaque;
	const struct console_listener *listeners[CONSOLE_MAX_LISTENERS];
	unsigned listener_count;
};

void console_init(struct console *con);
void console_destroy(struct console *con);

/* Device side. */
void console_set_display(struct console *con, const struct console_display_ops *ops, void *opaque);
void console_set_surface(struct console *con, const struct console_surface *surface);
void console_update(struct console *con, unsigned x, unsigned y, unsigned width, unsigned height);
/* A new cursor image (visible false: none), or a move of the current one. */
void console_set_cursor(struct console *con, const struct console_cursor *cursor);
void console_move_cursor(struct console *con, unsigned x, unsigned y);

/* Input device side: the last one set is the active one. */
void console_set_input(struct console *con, const struct console_input_ops *ops, void *opaque);

/* Frontend side. Returns false when all CONSOLE_MAX_LISTENERS are taken.
 * A new listener gets surface_changed (and cursor_changed) at once. */
bool console_add_listener(struct console *con, const struct console_listener *listener);
void console_remove_listener(struct console *con, const struct console_listener *listener);
void console_refresh(struct console *con);
/* False when the display device cannot follow a size (the standard VGA). */
bool console_preferred_size(struct console *con, unsigned width, unsigned height);
void console_lock(struct console *con);
void console_unlock(struct console *con);

/* `width` pixels of `surface` from (x, y) as 0x00RRGGBB, whatever its
 * format, for frontends that want one (VNC, screenshots). RGB565 channels
 * widen to 8 bits by repeating their top bits, so white stays 0xFFFFFF.
 * The caller holds the console lock and stays inside the surface. */
void console_read_row(const struct console_surface *surface, unsigned x, unsigned y, unsigned width, uint32_t *rgb);

void console_key(struct console *con, unsigned evdev_code, bool down);
void console_pointer_rel(struct console *con, int dx, int dy, int dz, unsigned buttons);
void console_pointer_abs(struct console *con, unsigned x, unsigned y, int dz, unsigned buttons);

#endif
