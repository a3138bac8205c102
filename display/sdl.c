/* The SDL2 window. See sdl.h. */
#include "sdl.h"

#include <SDL.h>
#include <stdatomic.h>

#include "keymap.h"

#define REFRESH_MS 16                /* about 60 frames a second while changing */
#define IDLE_REFRESH_MS 500          /* and twice a second when still */
#define MAX_PENDING_RECTS 64

struct sdl_window {
	struct console *con;
	char *name;
	void (*on_close)(void *opaque);
	void *opaque;
	GThread *thread;
	atomic_bool stop;
	GMutex start_lock;
	GCond started;
	int start_state;                 /* 0 starting, 1 running, -1 failed */
	char *start_error;
	SDL_Window *window;
	SDL_Renderer *renderer;
	SDL_Texture *texture;
	unsigned width, height;
	bool grabbed, fullscreen;
	struct console_listener listener;
	atomic_bool refreshing;          /* our own console_refresh is running */
	atomic_bool woken;               /* a wake event is queued */
	atomic_bool raise;               /* sdl_window_raise was called */
	SDL_Cursor *cursor;              /* the guest's, when its device has one */
	/* Written by the listener with the console lock held. */
	bool surface_changed;
	struct console_rect pending[MAX_PENDING_RECTS];
	unsigned pending_count;
	bool pending_overflow;
	struct console_cursor guest_cursor;
	bool cursor_pending;
};

/* A change a device reports on its own (virtio-gpu's flush, a mode change):
 * draw it now rather than at the next, possibly backed-off, refresh. */
static void wake_for_update(struct sdl_window *win)
{
	if (!atomic_load(&win->refreshing) && !atomic_exchange(&win->woken, true)) {
		SDL_Event wake = { .type = SDL_USEREVENT };
		SDL_PushEvent(&wake);
	}
}

static void on_surface_changed(void *opaque, const struct console_surface *surface)
{
	struct sdl_window *win = opaque;
	(void)surface;
	win->surface_changed = true;
	wake_for_update(win);
}

static void on_update(void *opaque, const struct console_rect *rect)
{
	struct sdl_window *win = opaque;
	if (win->pending_count < MAX_PENDING_RECTS)
		win->pending[win->pending_count++] = *rect;
	else
		win->pending_overflow = true;
	wake_for_update(win);
}

/* The guest's pointer image becomes the window's cursor; its position is the
 * host pointer's own. */
static void on_cursor_changed(void *opaque, const struct console_cursor *cursor, bool shape)
{
	struct sdl_window *win = opaque;
	if (!shape)
		return;
	win->guest_cursor = *cursor;
	win->cursor_pending = true;
	wake_for_update(win);
}

/* Console lock held. */
static void take_cursor(struct sdl_window *win)
{
	const struct console_cursor *c = &win->guest_cursor;
	SDL_Cursor *old = win->cursor;
	win->cursor_pending = false;
	win->cursor = NULL;
	if (c->visible) {
		SDL_Surface *image = SDL_CreateRGBSurfaceWithFormatFrom((void *)c->pixels, (int)c->width, (int)c->height,
									32, (int)c->width * 4, SDL_PIXELFORMAT_ARGB8888);
		if (image)
			win->cursor = SDL_CreateColorCursor(image, (int)c->hot_x, (int)c->hot_y);
		SDL_FreeSurface(image);
	}
	if (win->cursor)
		SDL_SetCursor(win->cursor);
	SDL_ShowCursor(c->visible ? SDL_ENABLE : SDL_DISABLE);
	if (old)
		SDL_FreeCursor(old);
}

static void update_title(struct sdl_window *win)
{
	g_autofree char *title = g_strdup_printf("%s - Vireo%s", win->name,
						 win->grabbed ? " (input grabbed: Ctrl+Alt+G releases)" : "");
	SDL_SetWindowTitle(win->window, title);
}

/* Console lock held. */
static void upload(struct sdl_window *win, const struct console_surface *s, const struct console_rect *r)
{
	SDL_Rect rect = { (int)r->x, (int)r->y, (int)r->width, (int)r->height };
	const uint8_t *pixels = s->pixels + (size_t)r->y * s->stride + (size_t)r->x * (s->format == CONSOLE_FORMAT_RGB565 ? 2 : 4);
	SDL_UpdateTexture(win->texture, &rect, pixels, (int)s->stride);
}

/* Console lock held: a texture of the new surface's size and format. */
static void new_texture(struct sdl_window *win, const struct console_surface *s)
{
	if (win->texture)
		SDL_DestroyTexture(win->texture);
	win->texture = NULL;
	if (s->format == CONSOLE_FORMAT_NONE)
		return;
	Uint32 format = s->format == CONSOLE_FORMAT_RGB565 ? SDL_PIXELFORMAT_RGB565 : SDL_PIXELFORMAT_ARGB8888;  /* B,G,R,X in memory; alpha unused (no blending) */
	win->texture = SDL_CreateTexture(win->renderer, format, SDL_TEXTUREACCESS_STREAMING, (int)s->width,
					 (int)s->height);
	if (win->width != s->width || win->height != s->height) {
		win->width = s->width;
		win->height = s->height;
		SDL_SetWindowSize(win->window, (int)s->width, (int)s->height);
	}
	SDL_RenderSetLogicalSize(win->renderer, (int)s->width, (int)s->height);  /* scale, keep the aspect */
	upload(win, s, &(struct console_rect){ 0, 0, s->width, s->height });
}

/* Pulls changes and draws them; returns whether anything changed. */
static bool refresh(struct sdl_window *win)
{
	atomic_store(&win->woken, false);
	atomic_store(&win->refreshing, true);
	console_refresh(win->con);
	atomic_store(&win->refreshing, false);
	console_lock(win->con);
	if (win->cursor_pending)
		take_cursor(win);
	const struct console_surface *s = &win->con->surface;
	bool changed = win->surface_changed || win->pending_overflow || win->pending_count;
	if (win->surface_changed || win->pending_overflow)
		new_texture(win, s);
	else if (win->texture)
		for (unsigned i = 0; i < win->pending_count; i++)
			upload(win, s, &win->pending[i]);
	win->surface_changed = win->pending_overflow = false;
	win->pending_count = 0;
	console_unlock(win->con);
	if (changed) {
		SDL_SetRenderDrawColor(win->renderer, 0, 0, 0, 255);
		SDL_RenderClear(win->renderer);
		if (win->texture)
			SDL_RenderCopy(win->renderer, win->texture, NULL, NULL);
		SDL_RenderPresent(win->renderer);
	}
	return changed;
}

static void set_grab(struct sdl_window *win, bool grab)
{
	win->grabbed = grab;
	SDL_SetWindowGrab(win->window, grab ? SDL_TRUE : SDL_FALSE);
	SDL_SetRelativeMouseMode(grab ? SDL_TRUE : SDL_FALSE);
	update_title(win);
}

/* Ctrl+Alt+G and Ctrl+Alt+F are ours; everything else goes to the guest. */
static bool hotkey(struct sdl_window *win, const SDL_KeyboardEvent *key)
{
	if ((key->keysym.mod & (KMOD_CTRL | KMOD_ALT)) != (KMOD_CTRL | KMOD_ALT) || key->type != SDL_KEYDOWN)
		return false;
	if (key->keysym.scancode == SDL_SCANCODE_G) {
		set_grab(win, !win->grabbed);
		return true;
	}
	if (key->keysym.scancode == SDL_SCANCODE_F) {
		win->fullscreen = !win->fullscreen;
		SDL_SetWindowFullscreen(win->window, win->fullscreen ? SDL_WINDOW_FULLSCREEN_DESKTOP : 0);
		return true;
	}
	return false;
}

static unsigned mouse_buttons(Uint32 state)
{
	return (state & SDL_BUTTON_LMASK ? CONSOLE_BUTTON_LEFT : 0) | (state & SDL_BUTTON_RMASK ? CONSOLE_BUTTON_RIGHT : 0) |
	       (state & SDL_BUTTON_MMASK ? CONSOLE_BUTTON_MIDDLE : 0) | (state & SDL_BUTTON_X1MASK ? CONSOLE_BUTTON_SIDE : 0) |
	       (state & SDL_BUTTON_X2MASK ? CONSOLE_BUTTON_EXTRA : 0);
}

static void handle(struct sdl_window *win, const SDL_Event *ev)
{
	switch (ev->type) {
	case SDL_QUIT:
		win->on_close(win->opaque);
		break;
	case SDL_KEYDOWN:
	case SDL_KEYUP:
		if (!hotkey(win, &ev->key) && !ev->key.repeat) {
			unsigned evdev = keymap_from_usb_hid(ev->key.keysym.scancode);
			if (evdev)
				console_key(win->con, evdev, ev->type == SDL_KEYDOWN);
		}
		break;
	case SDL_MOUSEMOTION:
		console_pointer_rel(win->con, ev->motion.xrel, ev->motion.yrel, 0, mouse_buttons(ev->motion.state));
		break;
	case SDL_MOUSEBUTTONDOWN:
	case SDL_MOUSEBUTTONUP:
		console_pointer_rel(win->con, 0, 0, 0, mouse_buttons(SDL_GetMouseState(NULL, NULL)));
		break;
	case SDL_MOUSEWHEEL:
		console_pointer_rel(win->con, 0, 0, ev->wheel.y, mouse_buttons(SDL_GetMouseState(NULL, NULL)));
		break;
	case SDL_WINDOWEVENT:
		if (ev->window.event == SDL_WINDOWEVENT_RESIZED)  /* by the user: a device that can follows */
			console_preferred_size(win->con, (unsigned)ev->window.data1, (unsigned)ev->window.data2);
		if (ev->window.event == SDL_WINDOWEVENT_EXPOSED || ev->window.event == SDL_WINDOWEVENT_SIZE_CHANGED) {
			console_lock(win->con);
			win->surface_changed = true;  /* redraw everything at the next refresh */
			console_unlock(win->con);
		}
		break;
	}
}

static void report_start(struct sdl_window *win, int state, char *error)
{
	g_mutex_lock(&win->start_lock);
	win->start_state = state;
	win->start_error = error;
	g_cond_signal(&win->started);
	g_mutex_unlock(&win->start_lock);
}

static bool open_window(struct sdl_window *win)
{
	if (SDL_InitSubSystem(SDL_INIT_VIDEO) < 0) {
		report_start(win, -1, g_strdup_printf("display sdl: %s", SDL_GetError()));
		return false;
	}
	win->window = SDL_CreateWindow("Vireo", SDL_WINDOWPOS_UNDEFINED, SDL_WINDOWPOS_UNDEFINED, 640, 480,
				       SDL_WINDOW_RESIZABLE);
	if (win->window)
		win->renderer = SDL_CreateRenderer(win->window, -1, SDL_RENDERER_ACCELERATED);
	if (win->window && !win->renderer)  /* no GL: SDL's software renderer */
		win->renderer = SDL_CreateRenderer(win->window, -1, SDL_RENDERER_SOFTWARE);
	if (!win->renderer) {
		report_start(win, -1, g_strdup_printf("display sdl: cannot open a window: %s", SDL_GetError()));
		return false;
	}
	update_title(win);
	report_start(win, 1, NULL);
	return true;
}

static void close_window(struct sdl_window *win)
{
	if (win->cursor)
		SDL_FreeCursor(win->cursor);
	if (win->texture)
		SDL_DestroyTexture(win->texture);
	if (win->renderer)
		SDL_DestroyRenderer(win->renderer);
	if (win->window)
		SDL_DestroyWindow(win->window);
	SDL_QuitSubSystem(SDL_INIT_VIDEO);
}

static gpointer run(gpointer opaque)
{
	struct sdl_window *win = opaque;
	if (open_window(win)) {
		int wait = REFRESH_MS;
		console_lock(win->con);
		win->surface_changed = true;
		console_unlock(win->con);
		while (!atomic_load(&win->stop)) {
			SDL_Event ev;
			if (SDL_WaitEventTimeout(&ev, wait)) {
				do
					handle(win, &ev);
				while (SDL_PollEvent(&ev));
			}
			if (atomic_exchange(&win->raise, false))
				SDL_RaiseWindow(win->window);
			wait = refresh(win) ? REFRESH_MS : MIN(wait * 2, IDLE_REFRESH_MS);
		}
	}
	close_window(win);
	return NULL;
}

struct sdl_window *sdl_window_start(struct console *con, const char *name, void (*on_close)(void *opaque),
				    void *opaque, char **error)
{
	struct sdl_window *win = g_new0(struct sdl_window, 1);
	win->con = con;
	win->name = g_strdup(name);
	win->on_close = on_close;
	win->opaque = opaque;
	g_mutex_init(&win->start_lock);
	g_cond_init(&win->started);
	win->listener = (struct console_listener){ .surface_changed = on_surface_changed, .update = on_update,
						   .cursor_changed = on_cursor_changed, .opaque = win };
	console_add_listener(con, &win->listener);
	win->thread = g_thread_new("vireo-sdl", run, win);
	g_mutex_lock(&win->start_lock);
	while (win->start_state == 0)
		g_cond_wait(&win->started, &win->start_lock);
	g_mutex_unlock(&win->start_lock);
	if (win->start_state < 0) {
		*error = win->start_error;
		win->start_error = NULL;
		sdl_window_stop(win);
		return NULL;
	}
	return win;
}

void sdl_window_raise(struct sdl_window *win)
{
	atomic_store(&win->raise, true);
	SDL_Event wake = { .type = SDL_USEREVENT };
	SDL_PushEvent(&wake);
}

void sdl_window_stop(struct sdl_window *win)
{
	atomic_store(&win->stop, true);
	SDL_Event wake = { .type = SDL_USEREVENT };
	SDL_PushEvent(&wake);
	g_thread_join(win->thread);
	console_remove_listener(win->con, &win->listener);
	g_mutex_clear(&win->start_lock);
	g_cond_clear(&win->started);
	g_free(win->name);
	g_free(win);
}
