/* The console: surfaces and dirty rectangles from display devices to
 * frontends, input events from frontends to the active guest input device.
 * See console.h for the thread model. */
#include "console.h"

#include <string.h>

void console_init(struct console *con)
{
	memset(con, 0, sizeof(*con));
	g_mutex_init(&con->lock);
}

void console_destroy(struct console *con)
{
	g_mutex_clear(&con->lock);
}

void console_lock(struct console *con)
{
	g_mutex_lock(&con->lock);
}

void console_unlock(struct console *con)
{
	g_mutex_unlock(&con->lock);
}

void console_set_display(struct console *con, const struct console_display_ops *ops, void *opaque)
{
	g_mutex_lock(&con->lock);
	con->display = ops;
	con->display_opaque = opaque;
	g_mutex_unlock(&con->lock);
}

void console_set_input(struct console *con, const struct console_input_ops *ops, void *opaque)
{
	g_mutex_lock(&con->lock);
	con->input = ops;
	con->input_opaque = opaque;
	g_mutex_unlock(&con->lock);
}

void console_set_surface(struct console *con, const struct console_surface *surface)
{
	g_mutex_lock(&con->lock);
	con->surface = *surface;
	if (surface->format == CONSOLE_FORMAT_NONE || !surface->pixels)
		con->surface = (struct console_surface){ .format = CONSOLE_FORMAT_NONE };
	for (unsigned i = 0; i < con->listener_count; i++)
		con->listeners[i]->surface_changed(con->listeners[i]->opaque, &con->surface);
	g_mutex_unlock(&con->lock);
}

/* Clips to the surface; false when nothing is left. */
static bool clip_rect(const struct console_surface *surface, struct console_rect *rect)
{
	if (surface->format == CONSOLE_FORMAT_NONE || rect->x >= surface->width || rect->y >= surface->height)
		return false;
	rect->width = MIN(rect->width, surface->width - rect->x);
	rect->height = MIN(rect->height, surface->height - rect->y);
	return rect->width && rect->height;
}

void console_update(struct console *con, unsigned x, unsigned y, unsigned width, unsigned height)
{
	struct console_rect rect = { x, y, width, height };

	g_mutex_lock(&con->lock);
	if (clip_rect(&con->surface, &rect)) {
		for (unsigned i = 0; i < con->listener_count; i++)
			con->listeners[i]->update(con->listeners[i]->opaque, &rect);
	}
	g_mutex_unlock(&con->lock);
}

static void notify_cursor(struct console *con, bool shape)
{
	for (unsigned i = 0; i < con->listener_count; i++)
		if (con->listeners[i]->cursor_changed)
			con->listeners[i]->cursor_changed(con->listeners[i]->opaque, &con->cursor, shape);
}

void console_set_cursor(struct console *con, const struct console_cursor *cursor)
{
	g_mutex_lock(&con->lock);
	con->cursor = *cursor;
	con->cursor.width = MIN(cursor->width, CONSOLE_CURSOR_MAX);
	con->cursor.height = MIN(cursor->height, CONSOLE_CURSOR_MAX);
	con->cursor.visible = cursor->visible && con->cursor.width && con->cursor.height;
	notify_cursor(con, true);
	g_mutex_unlock(&con->lock);
}

void console_move_cursor(struct console *con, unsigned x, unsigned y)
{
	g_mutex_lock(&con->lock);
	con->cursor.x = x;
	con->cursor.y = y;
	notify_cursor(con, false);
	g_mutex_unlock(&con->lock);
}

bool console_add_listener(struct console *con, const struct console_listener *listener)
{
	bool added = false;

	g_mutex_lock(&con->lock);
	if (con->listener_count < CONSOLE_MAX_LISTENERS) {
		con->listeners[con->listener_count++] = listener;
		listener->surface_changed(listener->opaque, &con->surface);
		if (listener->cursor_changed && con->cursor.visible)
			listener->cursor_changed(listener->opaque, &con->cursor, true);
		added = true;
	}
	g_mutex_unlock(&con->lock);
	return added;
}

void console_remove_listener(struct console *con, const struct console_listener *listener)
{
	g_mutex_lock(&con->lock);
	for (unsigned i = 0; i < con->listener_count; i++) {
		if (con->listeners[i] == listener) {
			con->listeners[i] = con->listeners[--con->listener_count];
			break;
		}
	}
	g_mutex_unlock(&con->lock);
}

static uint32_t rgb565_to_rgb(uint16_t p)
{
	uint32_t r = p >> 11, g = (p >> 5) & 0x3F, b = p & 0x1F;
	return (r << 3 | r >> 2) << 16 | (g << 2 | g >> 4) << 8 | (b << 3 | b >> 2);
}

void console_read_row(const struct console_surface *surface, unsigned x, unsigned y, unsigned width, uint32_t *rgb)
{
	const uint8_t *row = surface->pixels + (size_t)y * surface->stride;
	for (unsigned i = 0; i < width; i++) {
		if (surface->format == CONSOLE_FORMAT_XRGB8888) {
			const uint8_t *p = row + 4 * (size_t)(x + i);
			rgb[i] = (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
		} else {
			const uint8_t *p = row + 2 * (size_t)(x + i);
			rgb[i] = rgb565_to_rgb((uint16_t)(p[0] | p[1] << 8));
		}
	}
}

/* The device's callbacks run without the console lock: they report back
 * through console_update(), which takes it. */
void console_refresh(struct console *con)
{
	g_mutex_lock(&con->lock);
	const struct console_display_ops *ops = con->display;
	void *opaque = con->display_opaque;
	g_mutex_unlock(&con->lock);
	if (ops && ops->refresh)
		ops->refresh(opaque);
}

bool console_preferred_size(struct console *con, unsigned width, unsigned height)
{
	g_mutex_lock(&con->lock);
	const struct console_display_ops *ops = con->display;
	void *opaque = con->display_opaque;
	g_mutex_unlock(&con->lock);
	if (!ops || !ops->preferred_size)
		return false;
	ops->preferred_size(opaque, width, height);
	return true;
}

void console_key(struct console *con, unsigned evdev_code, bool down)
{
	g_mutex_lock(&con->lock);
	if (con->input && con->input->key)
		con->input->key(con->input_opaque, evdev_code, down);
	g_mutex_unlock(&con->lock);
}

void console_pointer_rel(struct console *con, int dx, int dy, int dz, unsigned buttons)
{
	g_mutex_lock(&con->lock);
	if (con->input && con->input->pointer_rel)
		con->input->pointer_rel(con->input_opaque, dx, dy, dz, buttons);
	g_mutex_unlock(&con->lock);
}

void console_pointer_abs(struct console *con, unsigned x, unsigned y, int dz, unsigned buttons)
{
	g_mutex_lock(&con->lock);
	if (con->input && con->input->pointer_abs)
		con->input->pointer_abs(con->input_opaque, x, y, dz, buttons);
	g_mutex_unlock(&con->lock);
}
