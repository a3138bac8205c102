/* The VNC server seen by a real viewer: libvncclient connects to it over
 * loopback while a synthetic display device changes pixels and reports the
 * rectangles it changed, and a synthetic input device records what reaches
 * the console. Asserted: the exact pixels of the first update, of a changed
 * 16x16 rectangle (and nothing outside it), of a desktop resize, of RGB565
 * surfaces; no bytes at all for a still screen, and no refreshes without a
 * viewer; keys as evdev codes, the pointer as positions, deltas, buttons and
 * wheel; password authentication; two viewers at once. */
#include <glib.h>
#include <linux/input-event-codes.h>
#include <rfb/rfbclient.h>
#include <stdlib.h>
#include <string.h>

#include "vnc.h"

#define WAIT_USEC (5 * G_USEC_PER_SEC)   /* for anything that should come at once */
#define IDLE_USEC (2 * G_USEC_PER_SEC)
#define POLL_USEC 10000
#define MAX_EVENTS 64
#define MAX_DIRTY 16

/* The synthetic display: a surface the test draws into (with the console
 * lock held, as a guest's writes would be seen) and the rectangles it
 * reports on the next refresh. */
struct fake_display {
	GMutex lock;
	struct console_rect dirty[MAX_DIRTY];
	unsigned dirty_count;
	unsigned refreshes;
};

struct event {
	enum { GOT_KEY, GOT_REL, GOT_ABS } type;
	int a, b, dz;                    /* key: code, down; pointer: x/dx, y/dy */
	unsigned buttons;
};

struct fake_input {
	GMutex lock;
	struct event events[MAX_EVENTS];
	unsigned count;
};

struct fixture {
	struct console con;
	struct fake_display display;
	struct fake_input input;
	struct vnc_server *vnc;
	uint8_t *pixels;
	struct console_surface surface;
};

static void display_refresh(void *opaque)
{
	struct fixture *f = opaque;
	g_mutex_lock(&f->display.lock);
	f->display.refreshes++;
	for (unsigned i = 0; i < f->display.dirty_count; i++) {
		const struct console_rect *r = &f->display.dirty[i];
		console_update(&f->con, r->x, r->y, r->width, r->height);
	}
	f->display.dirty_count = 0;
	g_mutex_unlock(&f->display.lock);
}

static const struct console_display_ops display_ops = { .refresh = display_refresh };

static void record(struct fixture *f, struct event ev)
{
	g_mutex_lock(&f->input.lock);
	g_assert_cmpuint(f->input.count, <, MAX_EVENTS);
	f->input.events[f->input.count++] = ev;
	g_mutex_unlock(&f->input.lock);
}

static void input_key(void *opaque, unsigned code, bool down)
{
	record(opaque, (struct event){ GOT_KEY, (int)code, down, 0, 0 });
}

static void input_rel(void *opaque, int dx, int dy, int dz, unsigned buttons)
{
	record(opaque, (struct event){ GOT_REL, dx, dy, dz, buttons });
}

static void input_abs(void *opaque, unsigned x, unsigned y, int dz, unsigned buttons)
{
	record(opaque, (struct event){ GOT_ABS, (int)x, (int)y, dz, buttons });
}

static const struct console_input_ops input_ops = { input_key, input_rel, input_abs };

/* A pattern where every pixel differs from its neighbours and from the
 * pattern with another seed. */
static uint32_t pattern(unsigned x, unsigned y, unsigned seed)
{
	return ((x * 7 + seed) & 0xFF) << 16 | ((y * 13 + seed * 3) & 0xFF) << 8 | ((x ^ y) * 5 & 0xFF);
}

/* A new XRGB8888 (or RGB565) surface filled from pattern(). */
static void set_surface(struct fixture *f, enum console_format format, unsigned width, unsigned height,
			unsigned seed)
{
	unsigned bpp = format == CONSOLE_FORMAT_XRGB8888 ? 4 : 2, stride = width * bpp + 8;
	uint8_t *pixels = g_malloc0((size_t)stride * height), *old = f->pixels;
	for (unsigned y = 0; y < height; y++) {
		for (unsigned x = 0; x < width; x++) {
			uint32_t rgb = pattern(x, y, seed);
			uint8_t *p = pixels + (size_t)y * stride + x * bpp;
			if (format == CONSOLE_FORMAT_XRGB8888) {
				p[0] = (uint8_t)rgb, p[1] = (uint8_t)(rgb >> 8), p[2] = (uint8_t)(rgb >> 16);
			} else {
				uint16_t v = (uint16_t)((rgb >> 19 & 0x1F) << 11 | (rgb >> 10 & 0x3F) << 5 | (rgb >> 3 & 0x1F));
				p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8);
			}
		}
	}
	f->pixels = pixels;
	f->surface = (struct console_surface){ format, width, height, stride, pixels };
	console_set_surface(&f->con, &f->surface);
	g_free(old);
}

/* The colour a viewer must see for surface pixel (x, y). */
static uint32_t expected(const struct fixture *f, unsigned x, unsigned y)
{
	const uint8_t *p = f->surface.pixels + (size_t)y * f->surface.stride;
	if (f->surface.format == CONSOLE_FORMAT_XRGB8888)
		return (uint32_t)p[4 * x + 2] << 16 | (uint32_t)p[4 * x + 1] << 8 | p[4 * x];
	uint16_t v = (uint16_t)(p[2 * x] | p[2 * x + 1] << 8);
	uint32_t r = v >> 11, g = v >> 5 & 0x3F, b = v & 0x1F;
	return (r << 3 | r >> 2) << 16 | (g << 2 | g >> 4) << 8 | (b << 3 | b >> 2);
}

/* The guest draws a w x h rectangle of pattern `seed`; the device reports it. */
static void draw_rect(struct fixture *f, unsigned x0, unsigned y0, unsigned w, unsigned h, unsigned seed)
{
	g_assert_cmpint(f->surface.format, ==, CONSOLE_FORMAT_XRGB8888);
	console_lock(&f->con);
	for (unsigned y = y0; y < y0 + h; y++)
		for (unsigned x = x0; x < x0 + w; x++) {
			uint32_t rgb = pattern(x, y, seed);
			uint8_t *p = f->pixels + (size_t)y * f->surface.stride + 4 * x;
			p[0] = (uint8_t)rgb, p[1] = (uint8_t)(rgb >> 8), p[2] = (uint8_t)(rgb >> 16);
		}
	console_unlock(&f->con);
	g_mutex_lock(&f->display.lock);
	f->display.dirty[f->display.dirty_count++] = (struct console_rect){ x0, y0, w, h };
	g_mutex_unlock(&f->display.lock);
}

static void start(struct fixture *f, const char *password)
{
	char *error = NULL;
	f->vnc = vnc_server_start(&f->con, "127.0.0.1", 0, 0, password, &error);
	g_assert_null(error);
	g_assert_nonnull(f->vnc);
	g_assert_cmpuint(vnc_server_port(f->vnc), !=, 0);
}

static void setup(struct fixture *f, gconstpointer data)
{
	(void)data;
	memset(f, 0, sizeof(*f));
	g_mutex_init(&f->display.lock);
	g_mutex_init(&f->input.lock);
	console_init(&f->con);
	console_set_display(&f->con, &display_ops, f);
	console_set_input(&f->con, &input_ops, f);
	set_surface(f, CONSOLE_FORMAT_XRGB8888, 64, 48, 1);
}

static void teardown(struct fixture *f, gconstpointer data)
{
	(void)data;
	if (f->vnc)
		vnc_server_stop(f->vnc);
	console_destroy(&f->con);
	g_free(f->pixels);
	g_mutex_clear(&f->display.lock);
	g_mutex_clear(&f->input.lock);
}

/* The viewer side. */
struct viewer {
	rfbClient *client;
	const char *password;            /* NULL: none */
	unsigned rects;                  /* rectangles received */
	guint64 pixels;                  /* pixels received */
	struct console_rect bounds;      /* what the rectangles covered */
};

static int viewer_tag;

static struct viewer *viewer_of(rfbClient *client)
{
	return rfbClientGetClientData(client, &viewer_tag);
}

/* NULL rather than "" for no password: libvncclient leaks an empty one. */
static char *viewer_password(rfbClient *client)
{
	const char *password = viewer_of(client)->password;
	return password ? strdup(password) : NULL;
}

static void viewer_got_rect(rfbClient *client, int x, int y, int w, int h)
{
	struct viewer *v = viewer_of(client);
	struct console_rect *b = &v->bounds;
	unsigned x1 = (unsigned)(x + w), y1 = (unsigned)(y + h);
	if (v->rects == 0) {
		*b = (struct console_rect){ (unsigned)x, (unsigned)y, (unsigned)w, (unsigned)h };
	} else {
		x1 = MAX(x1, b->x + b->width), y1 = MAX(y1, b->y + b->height);
		b->x = MIN(b->x, (unsigned)x), b->y = MIN(b->y, (unsigned)y);
		b->width = x1 - b->x, b->height = y1 - b->y;
	}
	v->rects++;
	v->pixels += (guint64)w * (guint64)h;
}

static void viewer_reset_counts(struct viewer *v)
{
	v->rects = 0;
	v->pixels = 0;
}

static void quiet(const char *format, ...)
{
	(void)format;
}

/* Connects and authenticates; false when the server refused. */
static bool viewer_connect(struct viewer *v, const struct fixture *f, const char *password, const char *encodings)
{
	memset(v, 0, sizeof(*v));
	v->password = password;
	rfbClientLog = rfbClientErr = quiet;
	rfbClient *client = rfbGetClient(8, 3, 4);
	rfbClientSetClientData(client, &viewer_tag, v);
	free(client->serverHost);
	client->serverHost = strdup("127.0.0.1");
	client->serverPort = (int)vnc_server_port(f->vnc);
	client->GetPassword = viewer_password;
	client->GotFrameBufferUpdate = viewer_got_rect;
	client->canHandleNewFBSize = TRUE;
	client->appData.encodingsString = encodings;
	client->connectTimeout = 5;
	client->readTimeout = 5;
	if (!rfbInitClient(client, NULL, NULL))
		return false;    /* rfbInitClient has freed the client */
	v->client = client;
	return true;
}

/* rfbClientCleanup leaves the framebuffer to its owner. */
static void viewer_close(struct viewer *v)
{
	free(v->client->frameBuffer);
	rfbClientCleanup(v->client);
}

/* Handles server messages on one viewer. */
static void viewer_pump(struct viewer *v, gint64 usec)
{
	int n = WaitForMessage(v->client, (unsigned)usec);
	g_assert_cmpint(n, >=, 0);
	if (n > 0)
		g_assert_true(HandleRFBServerMessage(v->client));
}

/* The viewer's pixel (x, y) as 0x00RRGGBB, in whatever format it asked for. */
static uint32_t viewer_pixel(const struct viewer *v, unsigned x, unsigned y)
{
	const rfbPixelFormat *fmt = &v->client->format;
	uint32_t p = ((const uint32_t *)v->client->frameBuffer)[(size_t)y * (unsigned)v->client->width + x];
	return (p >> fmt->redShift & fmt->redMax) << 16 | (p >> fmt->greenShift & fmt->greenMax) << 8 |
	       (p >> fmt->blueShift & fmt->blueMax);
}

/* The viewer shows exactly the console's surface. */
static bool viewer_shows(const struct viewer *v, struct fixture *f)
{
	bool same = (unsigned)v->client->width == f->surface.width && (unsigned)v->client->height == f->surface.height;
	console_lock(&f->con);
	for (unsigned y = 0; same && y < f->surface.height; y++)
		for (unsigned x = 0; same && x < f->surface.width; x++)
			same = viewer_pixel(v, x, y) == expected(f, x, y);
	console_unlock(&f->con);
	return same;
}

/* Pumps the viewers until each shows the surface; fails after WAIT_USEC. */
static void wait_shown(struct viewer **viewers, unsigned n, struct fixture *f)
{
	gint64 deadline = g_get_monotonic_time() + WAIT_USEC;
	for (unsigned i = 0; i < n; i++) {
		while (!viewer_shows(viewers[i], f)) {
			g_assert_cmpint(g_get_monotonic_time(), <, deadline);
			for (unsigned j = 0; j < n; j++)
				viewer_pump(viewers[j], POLL_USEC / n);
		}
	}
}

static void test_first_update_and_rect(struct fixture *f, gconstpointer data)
{
	(void)data;
	struct viewer v;
	start(f, NULL);
	g_assert_true(viewer_connect(&v, f, NULL, "raw"));
	wait_shown((struct viewer *[]){ &v }, 1, f);

	/* A 16x16 square changes: it arrives, and nothing outside it. */
	viewer_reset_counts(&v);
	draw_rect(f, 20, 8, 16, 16, 7);
	wait_shown((struct viewer *[]){ &v }, 1, f);
	g_assert_cmpuint(v.rects, >=, 1);
	g_assert_cmpuint(v.bounds.x, >=, 20);
	g_assert_cmpuint(v.bounds.y, >=, 8);
	g_assert_cmpuint(v.bounds.x + v.bounds.width, <=, 36);
	g_assert_cmpuint(v.bounds.y + v.bounds.height, <=, 24);
	g_assert_cmpuint(v.pixels, ==, 16 * 16);
	viewer_close(&v);
}

/* A mode change reaches the viewer as a desktop resize, with every pixel
 * exact; RGB565 surfaces convert exactly. The sizes are not multiples of
 * 4 or 8, as 1366x768 is not. */
static void test_resize(struct fixture *f, gconstpointer data)
{
	(void)data;
	struct viewer v;
	start(f, NULL);
	g_assert_true(viewer_connect(&v, f, NULL, "raw"));
	wait_shown((struct viewer *[]){ &v }, 1, f);

	set_surface(f, CONSOLE_FORMAT_XRGB8888, 102, 50, 2);
	wait_shown((struct viewer *[]){ &v }, 1, f);
	g_assert_cmpint(v.client->width, ==, 102);
	g_assert_cmpint(v.client->height, ==, 50);

	set_surface(f, CONSOLE_FORMAT_RGB565, 37, 21, 3);
	/* White, pure red, green and blue, and a grey widen to exact 8-bit values. */
	static const uint16_t rgb565[] = { 0xFFFF, 0xF800, 0x07E0, 0x001F, 0x8410 };
	static const uint32_t rgb[] = { 0xFFFFFF, 0xFF0000, 0x00FF00, 0x0000FF, 0x848284 };
	console_lock(&f->con);
	for (unsigned i = 0; i < G_N_ELEMENTS(rgb565); i++) {
		f->pixels[2 * i] = (uint8_t)rgb565[i];
		f->pixels[2 * i + 1] = (uint8_t)(rgb565[i] >> 8);
	}
	console_unlock(&f->con);
	console_set_surface(&f->con, &f->surface);   /* as a device does when it repaints everything */
	wait_shown((struct viewer *[]){ &v }, 1, f);
	for (unsigned i = 0; i < G_N_ELEMENTS(rgb); i++)
		g_assert_cmphex(viewer_pixel(&v, i, 0), ==, rgb[i]);
	viewer_close(&v);
}

static unsigned refreshes(struct fixture *f)
{
	g_mutex_lock(&f->display.lock);
	unsigned n = f->display.refreshes;
	g_mutex_unlock(&f->display.lock);
	return n;
}

/* A still screen costs no framebuffer bytes, though the server keeps
 * asking the device; without viewers it does not even ask. */
static void test_idle(struct fixture *f, gconstpointer data)
{
	(void)data;
	struct viewer v;
	start(f, NULL);
	g_usleep(200000);
	g_assert_cmpuint(refreshes(f), ==, 0);

	g_assert_true(viewer_connect(&v, f, NULL, "raw"));
	wait_shown((struct viewer *[]){ &v }, 1, f);
	viewer_reset_counts(&v);
	unsigned before = refreshes(f);
	for (gint64 end = g_get_monotonic_time() + IDLE_USEC; g_get_monotonic_time() < end;)
		viewer_pump(&v, POLL_USEC);
	g_assert_cmpuint(v.rects, ==, 0);
	g_assert_cmpuint(v.pixels, ==, 0);
	g_assert_cmpuint(refreshes(f), >, before);

	/* The last viewer gone, refreshes stop. */
	viewer_close(&v);
	g_usleep(200000);
	before = refreshes(f);
	g_usleep(300000);
	g_assert_cmpuint(refreshes(f), ==, before);
}

/* Waits until `n` input events have arrived. */
static void wait_events(struct fixture *f, unsigned n)
{
	gint64 deadline = g_get_monotonic_time() + WAIT_USEC;
	for (;;) {
		g_mutex_lock(&f->input.lock);
		unsigned count = f->input.count;
		g_mutex_unlock(&f->input.lock);
		if (count >= n)
			break;
		g_assert_cmpint(g_get_monotonic_time(), <, deadline);
		g_usleep(1000);
	}
	g_usleep(50000);   /* nothing more than asked for */
	g_mutex_lock(&f->input.lock);
	g_assert_cmpuint(f->input.count, ==, n);
	g_mutex_unlock(&f->input.lock);
}

static void expect_event(struct fixture *f, unsigned i, struct event want)
{
	const struct event *got = &f->input.events[i];
	g_assert_cmpint(got->type, ==, want.type);
	g_assert_cmpint(got->a, ==, want.a);
	g_assert_cmpint(got->b, ==, want.b);
	g_assert_cmpint(got->dz, ==, want.dz);
	g_assert_cmpuint(got->buttons, ==, want.buttons);
}

static void test_keys(struct fixture *f, gconstpointer data)
{
	(void)data;
	static const struct {
		uint32_t keysym;
		bool down;
		unsigned evdev;
	} keys[] = {
		{ 'a', true, KEY_A }, { 'a', false, KEY_A },
		{ 0xffe1, true, KEY_LEFTSHIFT }, { 'A', true, KEY_A }, { '!', true, KEY_1 },
		{ 0xffe1, false, KEY_LEFTSHIFT },
		{ 0xff53, true, KEY_RIGHT }, { 0xffbe, true, KEY_F1 }, { 0xff0d, true, KEY_ENTER },
		{ 0xffb7, true, KEY_KP7 }, { 0xffea, true, KEY_RIGHTALT }, { 0xff61, true, KEY_SYSRQ },
		{ 0x20ac, true, 0 },   /* EuroSign: no key, nothing sent */
		{ 0xff1b, false, KEY_ESC },
	};
	struct viewer v;
	unsigned n = 0;
	start(f, NULL);
	g_assert_true(viewer_connect(&v, f, NULL, "raw"));
	for (unsigned i = 0; i < G_N_ELEMENTS(keys); i++)
		g_assert_true(SendKeyEvent(v.client, keys[i].keysym, keys[i].down));
	for (unsigned i = 0; i < G_N_ELEMENTS(keys); i++)
		n += keys[i].evdev != 0;
	wait_events(f, n);
	n = 0;
	for (unsigned i = 0; i < G_N_ELEMENTS(keys); i++)
		if (keys[i].evdev)
			expect_event(f, n++, (struct event){ GOT_KEY, (int)keys[i].evdev, keys[i].down, 0, 0 });
	viewer_close(&v);
}

/* Each pointer event reaches the console twice: as an absolute position
 * scaled to 0..CONSOLE_ABS_MAX over the 64x48 screen, and as motion since
 * the previous one, each with the buttons and the wheel. */
static void test_pointer(struct fixture *f, gconstpointer data)
{
	(void)data;
	static const struct {
		int x, y, mask;                 /* RFC 6143 §7.5.5 */
		int dx, dy, dz;
		unsigned buttons;
	} moves[] = {
		{ 0, 0, 0, 0, 0, 0, 0 },
		{ 63, 47, 0, 63, 47, 0, 0 },
		{ 60, 50, 1, -3, 0, 0, CONSOLE_BUTTON_LEFT },    /* off the screen: clamped, then moved */
		{ 60, 50, 0, 0, 0, 0, 0 },
		{ 10, 20, 2, -50, -27, 0, CONSOLE_BUTTON_MIDDLE },
		{ 10, 20, 4, 0, 0, 0, CONSOLE_BUTTON_RIGHT },
		{ 10, 20, 8, 0, 0, 1, 0 },                       /* wheel up */
		{ 10, 20, 16, 0, 0, -1, 0 },                     /* wheel down */
		{ 12, 19, 5, 2, -1, 0, CONSOLE_BUTTON_LEFT | CONSOLE_BUTTON_RIGHT },
	};
	struct viewer v;
	start(f, NULL);
	g_assert_true(viewer_connect(&v, f, NULL, "raw"));
	wait_shown((struct viewer *[]){ &v }, 1, f);   /* the server knows the 64x48 screen */
	for (unsigned i = 0; i < G_N_ELEMENTS(moves); i++)
		g_assert_true(SendPointerEvent(v.client, moves[i].x, moves[i].y, moves[i].mask));
	wait_events(f, 2 * G_N_ELEMENTS(moves));
	for (unsigned i = 0; i < G_N_ELEMENTS(moves); i++) {
		int x = MIN(moves[i].x, 63), y = MIN(moves[i].y, 47);
		expect_event(f, 2 * i, (struct event){ GOT_ABS, x * CONSOLE_ABS_MAX / 63, y * CONSOLE_ABS_MAX / 47,
							moves[i].dz, moves[i].buttons });
		expect_event(f, 2 * i + 1, (struct event){ GOT_REL, moves[i].dx, moves[i].dy, moves[i].dz,
							   moves[i].buttons });
	}
	viewer_close(&v);
}

static void test_password(struct fixture *f, gconstpointer data)
{
	(void)data;
	struct viewer v;
	start(f, "s3cret");
	g_assert_false(viewer_connect(&v, f, "wrong", "raw"));
	g_assert_false(viewer_connect(&v, f, NULL, "raw"));
	g_assert_true(viewer_connect(&v, f, "s3cret", "raw"));
	wait_shown((struct viewer *[]){ &v }, 1, f);
	viewer_close(&v);
}

/* Two viewers at once, one with raw, one with ZRLE, both see every change. */
static void test_two_viewers(struct fixture *f, gconstpointer data)
{
	(void)data;
	struct viewer a, b;
	start(f, NULL);
	g_assert_true(viewer_connect(&a, f, NULL, "raw"));
	g_assert_true(viewer_connect(&b, f, NULL, "zrle"));
	struct viewer *both[] = { &a, &b };
	wait_shown(both, 2, f);
	draw_rect(f, 40, 30, 16, 16, 9);
	wait_shown(both, 2, f);
	set_surface(f, CONSOLE_FORMAT_XRGB8888, 80, 60, 4);
	wait_shown(both, 2, f);
	viewer_close(&a);
	draw_rect(f, 0, 0, 8, 8, 5);   /* the other one carries on */
	wait_shown((struct viewer *[]){ &b }, 1, f);
	viewer_close(&b);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
#define ADD(path, fn) g_test_add(path, struct fixture, NULL, setup, fn, teardown)
	ADD("/vnc/first-update-and-rect", test_first_update_and_rect);
	ADD("/vnc/resize", test_resize);
	ADD("/vnc/idle", test_idle);
	ADD("/vnc/keys", test_keys);
	ADD("/vnc/pointer", test_pointer);
	ADD("/vnc/password", test_password);
	ADD("/vnc/two-viewers", test_two_viewers);
	return g_test_run();
}
