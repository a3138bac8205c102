/* virtio-gpu 2D at register level: the test is the guest. It drives the
 * device through PCI configuration space and its BARs with the test guests'
 * virtio driver (tests/guest/vdriver.c), guest RAM a buffer, and watches the
 * console as a frontend would: a listener records every new surface, update
 * rectangle and cursor, and the pixels are read back with console_read_row.
 * Hostile requests must get the specific error response and leave the device
 * working (the suite also runs under ASan/UBSan). */
#include <glib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/bytes.h"
#include "console.h"
#include "hw/virtio_gpu.h"
#include "vdriver.h"
#include "virtio-fixture.h"

#define RAM_SIZE (16u << 20)
#define SLOT_GPU 1
#define ALL_FEATURES (~0ull)
#define F_EDID (1ull << 1)                 /* VIRTIO_GPU_F_EDID (§5.7.3) */
#define CONTROLQ 0
#define CURSORQ 1

/* Guest RAM past the rings: one request, its response, and backing chunks
 * spread BACKING_GAP apart so that scatter-gather really scatters. */
#define REQ_GPA 0x200000
#define REQ_ROOM 0x8000
#define RESP_GPA 0x210000
#define RESP_ROOM 0x1000
#define BACKING_GPA 0x400000
#define BACKING_GAP 0x100000
#define BACKING_CHUNKS 3

/* Device configuration (§5.7.4). */
#define CFG_EVENTS_READ 0
#define CFG_EVENTS_CLEAR 4
#define CFG_NUM_SCANOUTS 8
#define CFG_NUM_CAPSETS 12
#define EVENT_DISPLAY 1
#define COMMON_CFGGENERATION 0x15          /* §4.1.4.3 */
#define ISR_CONFIG 2                       /* §4.1.4.5 */

/* Commands and responses (§5.7.6.7). */
#define CMD_GET_DISPLAY_INFO 0x0100
#define CMD_RESOURCE_CREATE_2D 0x0101
#define CMD_RESOURCE_UNREF 0x0102
#define CMD_SET_SCANOUT 0x0103
#define CMD_RESOURCE_FLUSH 0x0104
#define CMD_TRANSFER_TO_HOST_2D 0x0105
#define CMD_RESOURCE_ATTACH_BACKING 0x0106
#define CMD_RESOURCE_DETACH_BACKING 0x0107
#define CMD_GET_CAPSET_INFO 0x0108
#define CMD_GET_EDID 0x010A
#define CMD_CTX_CREATE 0x0200
#define CMD_UPDATE_CURSOR 0x0300
#define CMD_MOVE_CURSOR 0x0301
#define OK_NODATA 0x1100
#define OK_DISPLAY_INFO 0x1101
#define OK_EDID 0x1104
#define ERR_UNSPEC 0x1200
#define ERR_OUT_OF_MEMORY 0x1201
#define ERR_INVALID_SCANOUT_ID 0x1202
#define ERR_INVALID_RESOURCE_ID 0x1203
#define ERR_INVALID_PARAMETER 0x1205
#define FLAG_FENCE 1

/* struct virtio_gpu_ctrl_hdr and the bodies after it (§5.7.6.7-10). */
#define HDR_FLAGS 4
#define HDR_FENCE_ID 8
#define HDR_SIZE 24
#define BODY HDR_SIZE
#define CREATE_SIZE (HDR_SIZE + 16)
#define ID_SIZE (HDR_SIZE + 8)             /* unref, detach, attach without entries, get_edid */
#define RECT_CMD_SIZE (HDR_SIZE + 24)      /* set_scanout, flush */
#define TRANSFER_SIZE (HDR_SIZE + 32)
#define CURSOR_SIZE (HDR_SIZE + 32)
#define MEM_ENTRY_SIZE 16
#define DISPLAY_INFO_SIZE (HDR_SIZE + 16 * 24)
#define EDID_DATA (HDR_SIZE + 8)
#define EDID_RESP_SIZE (EDID_DATA + 1024)

/* EDID base block (VESA E-EDID 1.4): the first detailed timing descriptor. */
#define EDID_BYTES 128
#define EDID_DTD 54

/* The resource most tests show on the scanout. */
#define SHOWN 1
#define W 64
#define H 48
#define STRIDE (W * 4)

#define MAX_SIZE 4096                      /* the device's largest resource side */
#define HOST_MEMORY (256ull << 20)         /* VIRTIO_GPU_MAX_HOST_MEMORY */
#define MAX_RESOURCES 4096                 /* VIRTIO_GPU_MAX_RESOURCES */
#define MAX_BACKING 16384                  /* the most entries one ATTACH_BACKING may have */

/* The flood test's request (16 bytes an entry: 256 KiB), past the backing
 * chunks, and what resident memory may grow by beyond the budget. */
#define FLOOD_GPA 0x800000
#define FLOOD_SLACK (8ull << 20)

#if defined(__SANITIZE_ADDRESS__)
#define RUNNING_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RUNNING_UNDER_ASAN 1
#endif
#endif
#ifndef RUNNING_UNDER_ASAN
#define RUNNING_UNDER_ASAN 0
#endif

struct rect {
	uint32_t x, y, width, height;
};

static const struct rect whole = { 0, 0, W, H };

struct entry {
	uint64_t addr;
	uint32_t len;
};

struct fixture {
	struct virtio_fixture v;
	struct console con;
	struct virtio_gpu gpu;
	struct vdevice d;
	struct console_listener listener;
	/* What a frontend has seen. */
	struct console_surface surface;
	unsigned surfaces, updates, cursors;
	struct console_rect update;        /* the last one */
	struct console_cursor cursor;      /* 16 KiB: the fixture lives on the heap */
	bool cursor_shape;
	/* The last control response: used length, and its bytes in RAM. */
	uint32_t used;
	const uint8_t *resp;
};

/* ---- the frontend ---- */

static void seen_surface(void *opaque, const struct console_surface *surface)
{
	struct fixture *f = opaque;
	f->surface = *surface;
	f->surfaces++;
}

static void seen_update(void *opaque, const struct console_rect *rect)
{
	struct fixture *f = opaque;
	f->update = *rect;
	f->updates++;
}

static void seen_cursor(void *opaque, const struct console_cursor *cursor, bool shape)
{
	struct fixture *f = opaque;
	f->cursor = *cursor;
	f->cursor_shape = shape;
	f->cursors++;
}

static struct fixture *fixture_new_with(uint64_t features)
{
	struct fixture *f = g_new0(struct fixture, 1);
	vfix_init(&f->v, RAM_SIZE);
	console_init(&f->con);
	g_assert_cmpint(virtio_gpu_init(&f->gpu, &f->con, f->v.ctx, &f->v.mem, f->v.intx, NULL, NULL), ==, 0);
	g_assert_cmpint(pci_bus_add(&f->v.pci, &f->gpu.vp.pci, SLOT_GPU, 0), ==, 0);
	f->listener = (struct console_listener){ seen_surface, seen_update, seen_cursor, f };
	g_assert_true(console_add_listener(&f->con, &f->listener));
	vfix_start(&f->v, &f->d, VIRTIO_ID_GPU, 0, features, 2);
	f->resp = f->v.ram + RESP_GPA;
	return f;
}

static struct fixture *fixture_new(void)
{
	return fixture_new_with(ALL_FEATURES);
}

static void fixture_free(struct fixture *f)
{
	vfix_unplug(&f->v);
	console_remove_listener(&f->con, &f->listener);
	virtio_gpu_destroy(&f->gpu);
	console_destroy(&f->con);
	vfix_free(&f->v);
	g_free(f);
}

/* ---- requests ---- */

/* A zeroed request of `type` in guest RAM, to fill in and send. */
static uint8_t *cmd(struct fixture *f, uint32_t type)
{
	uint8_t *p = f->v.ram + REQ_GPA;
	memset(p, 0, REQ_ROOM);
	put_le32(p, type);
	return p;
}

#define MAX_PARTS 8

/* Sends the request at `at` as `n` readable descriptors of parts[i] bytes
 * each, back to back in RAM, then the response buffer; returns the
 * response type. */
static uint32_t send_split_at(struct fixture *f, uint64_t at, const uint32_t *parts, unsigned n)
{
	struct vbuf bufs[MAX_PARTS + 1];
	g_assert_cmpuint(n, <=, MAX_PARTS);
	for (unsigned i = 0; i < n; at += parts[i], i++)
		bufs[i] = (struct vbuf){ at, parts[i], false };
	bufs[n] = (struct vbuf){ RESP_GPA, RESP_ROOM, true };
	memset(f->v.ram + RESP_GPA, 0xAA, RESP_ROOM);
	vq_submit(&f->d, CONTROLQ, bufs, n + 1);
	g_assert_true(vq_poll(&f->d, CONTROLQ, &f->used, 1));
	g_assert_cmpuint(f->used, >=, HDR_SIZE);
	return get_le32(f->resp);
}

static uint32_t send_split(struct fixture *f, const uint32_t *parts, unsigned n)
{
	return send_split_at(f, REQ_GPA, parts, n);
}

/* Sends the first `len` bytes of the request on the controlq; returns the
 * response type. The response area is poisoned first so that every byte
 * checked was written by the device. */
static uint32_t send(struct fixture *f, size_t len)
{
	const uint32_t parts[1] = { (uint32_t)len };
	return send_split(f, parts, 1);
}

static void put_rect(uint8_t *p, struct rect r)
{
	put_le32(p, r.x);
	put_le32(p + 4, r.y);
	put_le32(p + 8, r.width);
	put_le32(p + 12, r.height);
}

static uint32_t create(struct fixture *f, uint32_t id, uint32_t format, uint32_t width, uint32_t height)
{
	uint8_t *p = cmd(f, CMD_RESOURCE_CREATE_2D);
	put_le32(p + BODY, id);
	put_le32(p + BODY + 4, format);
	put_le32(p + BODY + 8, width);
	put_le32(p + BODY + 12, height);
	return send(f, CREATE_SIZE);
}

static uint32_t id_cmd(struct fixture *f, uint32_t type, uint32_t id)
{
	put_le32(cmd(f, type) + BODY, id);
	return send(f, ID_SIZE);
}

static uint32_t unref(struct fixture *f, uint32_t id)
{
	return id_cmd(f, CMD_RESOURCE_UNREF, id);
}

static uint32_t detach(struct fixture *f, uint32_t id)
{
	return id_cmd(f, CMD_RESOURCE_DETACH_BACKING, id);
}

/* Builds an ATTACH_BACKING saying `nr` entries and carrying `count` of
 * them; returns its length. */
static size_t attach_request(struct fixture *f, uint32_t id, uint32_t nr, const struct entry *e, unsigned count)
{
	uint8_t *p = cmd(f, CMD_RESOURCE_ATTACH_BACKING);
	put_le32(p + BODY, id);
	put_le32(p + BODY + 4, nr);
	for (unsigned i = 0; i < count; i++) {
		put_le64(p + ID_SIZE + i * MEM_ENTRY_SIZE, e[i].addr);
		put_le32(p + ID_SIZE + i * MEM_ENTRY_SIZE + 8, e[i].len);
	}
	return ID_SIZE + count * MEM_ENTRY_SIZE;
}

static uint32_t attach_nr(struct fixture *f, uint32_t id, uint32_t nr, const struct entry *e, unsigned count)
{
	return send(f, attach_request(f, id, nr, e, count));
}

static uint32_t attach(struct fixture *f, uint32_t id, const struct entry *e, unsigned count)
{
	return attach_nr(f, id, count, e, count);
}

static uint32_t transfer(struct fixture *f, uint32_t id, struct rect r, uint64_t offset)
{
	uint8_t *p = cmd(f, CMD_TRANSFER_TO_HOST_2D);
	put_rect(p + BODY, r);
	put_le64(p + BODY + 16, offset);
	put_le32(p + BODY + 24, id);
	return send(f, TRANSFER_SIZE);
}

static uint32_t set_scanout(struct fixture *f, uint32_t scanout, uint32_t id, struct rect r)
{
	uint8_t *p = cmd(f, CMD_SET_SCANOUT);
	put_rect(p + BODY, r);
	put_le32(p + BODY + 16, scanout);
	put_le32(p + BODY + 20, id);
	return send(f, RECT_CMD_SIZE);
}

static uint32_t flush(struct fixture *f, uint32_t id, struct rect r)
{
	uint8_t *p = cmd(f, CMD_RESOURCE_FLUSH);
	put_rect(p + BODY, r);
	put_le32(p + BODY + 16, id);
	return send(f, RECT_CMD_SIZE);
}

/* A cursorq request (§5.7.6.10): no response, only the used entry. */
static void cursor_cmd(struct fixture *f, uint32_t type, uint32_t scanout, uint32_t id, uint32_t x, uint32_t y,
		       uint32_t hot_x, uint32_t hot_y)
{
	uint8_t *p = cmd(f, type);
	put_le32(p + BODY, scanout);
	put_le32(p + BODY + 4, x);
	put_le32(p + BODY + 8, y);
	put_le32(p + BODY + 16, id);
	put_le32(p + BODY + 20, hot_x);
	put_le32(p + BODY + 24, hot_y);
	struct vbuf buf = { REQ_GPA, CURSOR_SIZE, false };
	vq_submit(&f->d, CURSORQ, &buf, 1);
	uint32_t used;
	g_assert_true(vq_poll(&f->d, CURSORQ, &used, 1));
	g_assert_cmpuint(used, ==, 0);
}

/* ---- pixels ---- */

/* Formats (§5.7.6.8) by the order of their bytes in guest memory; X is a
 * byte the device must ignore. */
struct format {
	uint32_t id;
	const char *order;
};

static const struct format formats[] = {
	{ 1, "BGRA" }, { 2, "BGRX" }, { 3, "ARGB" }, { 4, "XRGB" },
	{ 67, "RGBA" }, { 68, "XBGR" }, { 121, "ABGR" }, { 134, "RGBX" },
};

#define BGRA (&formats[0])
#define XRGB (&formats[3])

/* 0xAARRGGBB of pixel (x, y) of pattern `seed`. */
static uint32_t colour(unsigned x, unsigned y, unsigned seed)
{
	uint8_t a = (uint8_t)(x * y + seed * 31), r = (uint8_t)(x * 5 + seed), g = (uint8_t)(y * 3 + seed * 7),
		b = (uint8_t)((x + y) ^ (seed * 13));
	return (uint32_t)a << 24 | (uint32_t)r << 16 | (uint32_t)g << 8 | b;
}

static void encode(const struct format *fmt, uint32_t argb, uint8_t *out)
{
	for (unsigned i = 0; i < 4; i++) {
		switch (fmt->order[i]) {
		case 'A': out[i] = (uint8_t)(argb >> 24); break;
		case 'R': out[i] = (uint8_t)(argb >> 16); break;
		case 'G': out[i] = (uint8_t)(argb >> 8); break;
		case 'B': out[i] = (uint8_t)argb; break;
		default: out[i] = 0x5A; break;
		}
	}
}

/* Chunk i of a scattered image: uneven sizes that split pixels. */
static struct entry chunk(unsigned i, size_t len)
{
	size_t base = len / BACKING_CHUNKS + 3, at = i * base;
	return (struct entry){ BACKING_GPA + i * BACKING_GAP, (uint32_t)(i + 1 < BACKING_CHUNKS ? base : len - at) };
}

/* Writes pattern `seed` of a width x height image into the backing chunks
 * and fills e[BACKING_CHUNKS] with them. */
static void write_backing(struct fixture *f, const struct format *fmt, uint32_t width, uint32_t height,
			  unsigned seed, struct entry *e)
{
	size_t len = (size_t)width * height * 4;
	g_autofree uint8_t *image = g_malloc(len);
	for (uint32_t y = 0; y < height; y++)
		for (uint32_t x = 0; x < width; x++)
			encode(fmt, colour(x, y, seed), image + ((size_t)y * width + x) * 4);
	for (unsigned i = 0, at = 0; i < BACKING_CHUNKS; at += e[i].len, i++) {
		e[i] = chunk(i, len);
		g_assert_cmpuint(e[i].len, <=, BACKING_GAP);
		memcpy(f->v.ram + e[i].addr, image + at, e[i].len);
	}
}

/* Creates resource `id` with pattern `seed` in scattered backing and
 * transfers all of it. */
static void make_resource(struct fixture *f, uint32_t id, const struct format *fmt, uint32_t width,
			  uint32_t height, unsigned seed)
{
	struct entry e[BACKING_CHUNKS];
	g_assert_cmphex(create(f, id, fmt->id, width, height), ==, OK_NODATA);
	write_backing(f, fmt, width, height, seed, e);
	g_assert_cmphex(attach(f, id, e, BACKING_CHUNKS), ==, OK_NODATA);
	g_assert_cmphex(transfer(f, id, (struct rect){ 0, 0, width, height }, 0), ==, OK_NODATA);
}

/* Shows resource SHOWN (W x H, pattern `seed`) on the whole scanout. */
static void show(struct fixture *f, const struct format *fmt, unsigned seed)
{
	make_resource(f, SHOWN, fmt, W, H, seed);
	g_assert_cmphex(set_scanout(f, 0, SHOWN, whole), ==, OK_NODATA);
	g_assert_cmphex(flush(f, SHOWN, whole), ==, OK_NODATA);
}

static void assert_update(struct fixture *f, unsigned updates, struct console_rect want)
{
	g_assert_cmpuint(f->updates, ==, updates);
	g_assert_cmpuint(f->update.x, ==, want.x);
	g_assert_cmpuint(f->update.y, ==, want.y);
	g_assert_cmpuint(f->update.width, ==, want.width);
	g_assert_cmpuint(f->update.height, ==, want.height);
}

/* The surface is `width` x `height` of the W-wide resource from (ox, oy),
 * and its pixel (x, y) is colour(ox + x, oy + y, seed(x, y)). */
static void assert_surface(struct fixture *f, unsigned ox, unsigned oy, unsigned width, unsigned height,
			   unsigned (*seed)(unsigned x, unsigned y, const void *arg), const void *arg)
{
	g_assert_cmpint(f->surface.format, ==, CONSOLE_FORMAT_XRGB8888);
	g_assert_cmpuint(f->surface.width, ==, width);
	g_assert_cmpuint(f->surface.height, ==, height);
	g_assert_cmpuint(f->surface.stride, ==, STRIDE);
	uint32_t row[W];
	console_lock(&f->con);
	for (unsigned y = 0; y < height; y++) {
		console_read_row(&f->con.surface, 0, y, width, row);
		for (unsigned x = 0; x < width; x++)
			g_assert_cmphex(row[x], ==, colour(ox + x, oy + y, seed(x, y, arg)) & 0xFFFFFF);
	}
	console_unlock(&f->con);
}

static unsigned fixed_seed(unsigned x, unsigned y, const void *arg)
{
	(void)x, (void)y;
	return *(const unsigned *)arg;
}

static void assert_shown(struct fixture *f, unsigned seed)
{
	assert_surface(f, 0, 0, W, H, fixed_seed, &seed);
}

/* The device still answers and shows: a full flush of SHOWN succeeds and is
 * reported, the pixels are pattern 1, and no reset is needed. */
static void assert_working(struct fixture *f)
{
	unsigned updates = f->updates;
	g_assert_cmphex(flush(f, SHOWN, whole), ==, OK_NODATA);
	assert_update(f, updates + 1, (struct console_rect){ 0, 0, W, H });
	assert_shown(f, 1);
	g_assert_cmphex(vdev_status(&f->d), ==, 0xF);
}

/* A hostile request's response type, then the device must still work. */
static void expect(struct fixture *f, uint32_t got, uint32_t want)
{
	g_assert_cmphex(got, ==, want);
	g_assert_cmpuint(f->used, ==, HDR_SIZE);   /* a bare header, whatever the outcome */
	assert_working(f);
}

/* ---- information ---- */

static void test_config(void)
{
	struct fixture *f = fixture_new();
	g_assert_cmpuint(vdev_config_read(&f->d, CFG_EVENTS_READ, 4), ==, 0);
	g_assert_cmpuint(vdev_config_read(&f->d, CFG_NUM_SCANOUTS, 4), ==, 1);
	g_assert_cmpuint(vdev_config_read(&f->d, CFG_NUM_CAPSETS, 4), ==, 0);
	g_assert_true(f->d.features & F_EDID);
	fixture_free(f);
}

/* pmodes[0] of a GET_DISPLAY_INFO response. */
static void assert_display_info(struct fixture *f, uint32_t width, uint32_t height)
{
	cmd(f, CMD_GET_DISPLAY_INFO);
	g_assert_cmphex(send(f, HDR_SIZE), ==, OK_DISPLAY_INFO);
	g_assert_cmpuint(f->used, ==, DISPLAY_INFO_SIZE);
	const uint8_t *mode = f->resp + HDR_SIZE;
	g_assert_cmpuint(get_le32(mode), ==, 0);
	g_assert_cmpuint(get_le32(mode + 4), ==, 0);
	g_assert_cmpuint(get_le32(mode + 8), ==, width);
	g_assert_cmpuint(get_le32(mode + 12), ==, height);
	g_assert_cmpuint(get_le32(mode + 16), ==, 1);   /* enabled */
	for (unsigned i = 1; i < 16; i++)               /* the other scanouts: disabled */
		g_assert_cmpuint(get_le32(mode + i * 24 + 16), ==, 0);
}

/* An EDID block: header, checksum, preferred mode in the first detailed
 * timing descriptor. */
static void assert_edid(struct fixture *f, uint32_t width, uint32_t height)
{
	static const uint8_t header[8] = { 0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0 };
	put_le32(cmd(f, CMD_GET_EDID) + BODY, 0);
	g_assert_cmphex(send(f, ID_SIZE), ==, OK_EDID);
	g_assert_cmpuint(f->used, ==, EDID_RESP_SIZE);
	g_assert_cmpuint(get_le32(f->resp + HDR_SIZE), ==, EDID_BYTES);
	const uint8_t *edid = f->resp + EDID_DATA;
	g_assert_cmpmem(edid, sizeof(header), header, sizeof(header));
	uint8_t sum = 0;
	for (unsigned i = 0; i < EDID_BYTES; i++)
		sum = (uint8_t)(sum + edid[i]);
	g_assert_cmpuint(sum, ==, 0);
	const uint8_t *dtd = edid + EDID_DTD;
	g_assert_cmpuint(get_le16(dtd), !=, 0);         /* a timing, not a display descriptor */
	g_assert_cmpuint(dtd[2] | (dtd[4] & 0xF0) << 4, ==, width);
	g_assert_cmpuint(dtd[5] | (dtd[7] & 0xF0) << 4, ==, height);
	/* A refresh rate a monitor has: the pixel clock over the total pixels. */
	uint64_t htotal = width + (dtd[3] | (dtd[4] & 0x0F) << 8), vtotal = height + (dtd[6] | (dtd[7] & 0x0F) << 8);
	uint64_t refresh = (uint64_t)get_le16(dtd) * 10000 / (htotal * vtotal);
	g_assert_cmpuint(refresh, >=, 24);
	g_assert_cmpuint(refresh, <=, 60);
}

static void test_display_info_and_edid(void)
{
	struct fixture *f = fixture_new();
	assert_display_info(f, 1024, 768);
	assert_edid(f, 1024, 768);
	/* A fixed-size response into a buffer too short for it: truncated, not overrun. */
	cmd(f, CMD_GET_DISPLAY_INFO);
	memset(f->v.ram + RESP_GPA, 0xAA, RESP_ROOM);
	struct vbuf bufs[2] = { { REQ_GPA, HDR_SIZE, false }, { RESP_GPA, HDR_SIZE, true } };
	vq_submit(&f->d, CONTROLQ, bufs, 2);
	g_assert_true(vq_poll(&f->d, CONTROLQ, &f->used, 1));
	g_assert_cmpuint(f->used, ==, HDR_SIZE);
	g_assert_cmphex(get_le32(f->resp), ==, OK_DISPLAY_INFO);
	g_assert_cmphex(f->resp[HDR_SIZE], ==, 0xAA);
	fixture_free(f);
}

static void test_edid_not_negotiated(void)
{
	struct fixture *f = fixture_new_with(ALL_FEATURES & ~F_EDID);
	put_le32(cmd(f, CMD_GET_EDID) + BODY, 0);
	g_assert_cmphex(send(f, ID_SIZE), ==, ERR_UNSPEC);
	fixture_free(f);
}

/* ---- showing pixels ---- */

static void test_scanout(void)
{
	struct fixture *f = fixture_new();
	unsigned surfaces = f->surfaces;
	show(f, XRGB, 1);
	g_assert_cmpuint(f->surfaces, ==, surfaces + 1);
	assert_update(f, 1, (struct console_rect){ 0, 0, W, H });
	assert_shown(f, 1);
	/* A flush of part of the resource updates just that part. */
	g_assert_cmphex(flush(f, SHOWN, (struct rect){ 5, 6, 7, 8 }), ==, OK_NODATA);
	assert_update(f, 2, (struct console_rect){ 5, 6, 7, 8 });

	/* The scanout a sub-rectangle at (8, 4): surface (0, 0) is resource
	 * (8, 4), and flushes are clipped to the scanout and moved into its
	 * coordinates. */
	g_assert_cmphex(set_scanout(f, 0, SHOWN, (struct rect){ 8, 4, 32, 24 }), ==, OK_NODATA);
	g_assert_cmpuint(f->surfaces, ==, surfaces + 2);
	unsigned seed = 1;
	assert_surface(f, 8, 4, 32, 24, fixed_seed, &seed);
	g_assert_cmphex(flush(f, SHOWN, whole), ==, OK_NODATA);
	assert_update(f, 3, (struct console_rect){ 0, 0, 32, 24 });
	g_assert_cmphex(flush(f, SHOWN, (struct rect){ 30, 20, 20, 10 }), ==, OK_NODATA);
	assert_update(f, 4, (struct console_rect){ 22, 16, 10, 8 });
	/* Outside the scanout: nothing to update. */
	g_assert_cmphex(flush(f, SHOWN, (struct rect){ 0, 0, 8, 48 }), ==, OK_NODATA);
	g_assert_cmphex(flush(f, SHOWN, (struct rect){ 40, 28, 24, 20 }), ==, OK_NODATA);
	g_assert_cmpuint(f->updates, ==, 4);

	/* A flush of another resource does not touch the screen. */
	make_resource(f, 2, XRGB, 16, 16, 2);
	g_assert_cmphex(flush(f, 2, (struct rect){ 0, 0, 16, 16 }), ==, OK_NODATA);
	g_assert_cmpuint(f->updates, ==, 4);
	/* Scanout disabled with resource 0: no surface. */
	g_assert_cmphex(set_scanout(f, 0, 0, (struct rect){ 0, 0, 0, 0 }), ==, OK_NODATA);
	g_assert_cmpint(f->surface.format, ==, CONSOLE_FORMAT_NONE);
	g_assert_cmphex(flush(f, SHOWN, whole), ==, OK_NODATA);
	g_assert_cmpuint(f->updates, ==, 4);
	fixture_free(f);
}

static void test_formats(void)
{
	for (unsigned i = 0; i < G_N_ELEMENTS(formats); i++) {
		struct fixture *f = fixture_new();
		g_test_message("format %u (%s)", formats[i].id, formats[i].order);
		show(f, &formats[i], 1);
		assert_shown(f, 1);
		fixture_free(f);
	}
}

struct partial {
	struct rect r;
	unsigned inside, outside;
};

static unsigned partial_seed(unsigned x, unsigned y, const void *arg)
{
	const struct partial *p = arg;
	bool in = x >= p->r.x && x < p->r.x + p->r.width && y >= p->r.y && y < p->r.y + p->r.height;
	return in ? p->inside : p->outside;
}

/* §5.7.6.8: row y of the rectangle comes from backing offset
 * `offset + y * stride`; with offset at the rectangle's first pixel, as
 * Linux sends it, only that rectangle changes. */
static void test_partial_transfer(void)
{
	struct fixture *f = fixture_new();
	struct entry e[BACKING_CHUNKS];
	show(f, XRGB, 1);
	write_backing(f, XRGB, W, H, 2, e);   /* the same chunks, a new pattern */
	struct partial p = { { 10, 5, 20, 7 }, 2, 1 };
	g_assert_cmphex(transfer(f, SHOWN, p.r, p.r.y * STRIDE + p.r.x * 4), ==, OK_NODATA);
	g_assert_cmphex(flush(f, SHOWN, p.r), ==, OK_NODATA);
	assert_update(f, 2, (struct console_rect){ 10, 5, 20, 7 });
	assert_surface(f, 0, 0, W, H, partial_seed, &p);
	/* The last pixel of the resource alone, from the last 4 bytes. */
	write_backing(f, XRGB, W, H, 3, e);
	g_assert_cmphex(transfer(f, SHOWN, (struct rect){ W - 1, H - 1, 1, 1 }, (uint64_t)W * H * 4 - 4), ==,
			OK_NODATA);
	uint32_t px[2];
	console_lock(&f->con);
	console_read_row(&f->con.surface, W - 2, H - 1, 2, px);
	console_unlock(&f->con);
	g_assert_cmphex(px[0], ==, colour(W - 2, H - 1, 1) & 0xFFFFFF);
	g_assert_cmphex(px[1], ==, colour(W - 1, H - 1, 3) & 0xFFFFFF);
	fixture_free(f);
}

/* Linux sends the backing entries in a descriptor of their own after the
 * request; an entry may even straddle two descriptors. */
static void test_attach_split(void)
{
	struct fixture *f = fixture_new();
	struct entry e[BACKING_CHUNKS];
	g_assert_cmphex(create(f, SHOWN, XRGB->id, W, H), ==, OK_NODATA);
	write_backing(f, XRGB, W, H, 1, e);
	attach_request(f, SHOWN, BACKING_CHUNKS, e, BACKING_CHUNKS);
	const uint32_t linux_parts[] = { ID_SIZE, BACKING_CHUNKS * MEM_ENTRY_SIZE };
	g_assert_cmphex(send_split(f, linux_parts, G_N_ELEMENTS(linux_parts)), ==, OK_NODATA);
	g_assert_cmphex(detach(f, SHOWN), ==, OK_NODATA);
	/* The same again, cut through the header, the body and an entry. */
	attach_request(f, SHOWN, BACKING_CHUNKS, e, BACKING_CHUNKS);
	const uint32_t odd_parts[] = { 10, 16, 11, 14, ID_SIZE + BACKING_CHUNKS * MEM_ENTRY_SIZE - 51 };
	g_assert_cmphex(send_split(f, odd_parts, G_N_ELEMENTS(odd_parts)), ==, OK_NODATA);
	g_assert_cmphex(transfer(f, SHOWN, whole, 0), ==, OK_NODATA);
	g_assert_cmphex(set_scanout(f, 0, SHOWN, whole), ==, OK_NODATA);
	g_assert_cmphex(flush(f, SHOWN, whole), ==, OK_NODATA);
	assert_shown(f, 1);
	fixture_free(f);
}

/* ---- cursor ---- */

#define CURSOR_ID 7
#define CURSOR_SIDE 32

static void assert_cursor_image(struct fixture *f, bool alpha)
{
	g_assert_true(f->cursor.visible);
	g_assert_true(f->cursor_shape);
	g_assert_cmpuint(f->cursor.width, ==, CURSOR_SIDE);
	g_assert_cmpuint(f->cursor.height, ==, CURSOR_SIDE);
	for (unsigned y = 0; y < CURSOR_SIDE; y++)
		for (unsigned x = 0; x < CURSOR_SIDE; x++)
			g_assert_cmphex(f->cursor.pixels[y * CURSOR_SIDE + x], ==,
					alpha ? colour(x, y, 3) : colour(x, y, 3) | 0xFF000000u);
}

static void test_cursor(void)
{
	struct fixture *f = fixture_new();
	show(f, XRGB, 1);
	make_resource(f, CURSOR_ID, BGRA, CURSOR_SIDE, CURSOR_SIDE, 3);
	unsigned cursors = f->cursors;
	cursor_cmd(f, CMD_UPDATE_CURSOR, 0, CURSOR_ID, 100, 50, 3, 4);
	g_assert_cmpuint(f->cursors, ==, cursors + 1);
	assert_cursor_image(f, true);
	g_assert_cmpuint(f->cursor.hot_x, ==, 3);
	g_assert_cmpuint(f->cursor.hot_y, ==, 4);
	g_assert_cmpuint(f->cursor.x, ==, 100);
	g_assert_cmpuint(f->cursor.y, ==, 50);

	cursor_cmd(f, CMD_MOVE_CURSOR, 0, CURSOR_ID, 200, 10, 0, 0);
	g_assert_cmpuint(f->cursors, ==, cursors + 2);
	g_assert_false(f->cursor_shape);
	g_assert_true(f->cursor.visible);
	g_assert_cmpuint(f->cursor.x, ==, 200);
	g_assert_cmpuint(f->cursor.y, ==, 10);
	g_assert_cmpuint(f->cursor.hot_x, ==, 3);

	/* Another scanout, a truncated request, an unknown type: ignored. */
	cursor_cmd(f, CMD_MOVE_CURSOR, 1, CURSOR_ID, 1, 1, 0, 0);
	cursor_cmd(f, CMD_UPDATE_CURSOR + 0x10, 0, CURSOR_ID, 1, 1, 0, 0);
	struct vbuf shortbuf = { REQ_GPA, HDR_SIZE + 8, false };
	vq_submit(&f->d, CURSORQ, &shortbuf, 1);
	g_assert_true(vq_poll(&f->d, CURSORQ, NULL, 1));
	g_assert_cmpuint(f->cursors, ==, cursors + 2);

	/* Resource 0 hides it. */
	cursor_cmd(f, CMD_UPDATE_CURSOR, 0, 0, 5, 5, 0, 0);
	g_assert_cmpuint(f->cursors, ==, cursors + 3);
	g_assert_false(f->cursor.visible);

	/* A resource larger than a cursor gives its top-left corner; the hot
	 * spot stays inside the image. */
	make_resource(f, 8, BGRA, 100, 80, 4);
	cursor_cmd(f, CMD_UPDATE_CURSOR, 0, 8, 0, 0, 90, 70);
	g_assert_true(f->cursor.visible);
	g_assert_cmpuint(f->cursor.width, ==, CONSOLE_CURSOR_MAX);
	g_assert_cmpuint(f->cursor.height, ==, CONSOLE_CURSOR_MAX);
	g_assert_cmpuint(f->cursor.hot_x, <, CONSOLE_CURSOR_MAX);
	g_assert_cmpuint(f->cursor.hot_y, <, CONSOLE_CURSOR_MAX);
	for (unsigned y = 0; y < CONSOLE_CURSOR_MAX; y++)
		for (unsigned x = 0; x < CONSOLE_CURSOR_MAX; x++)
			g_assert_cmphex(f->cursor.pixels[y * CONSOLE_CURSOR_MAX + x], ==, colour(x, y, 4));

	/* A format without alpha is opaque. */
	g_assert_cmphex(unref(f, CURSOR_ID), ==, OK_NODATA);
	make_resource(f, CURSOR_ID, XRGB, CURSOR_SIDE, CURSOR_SIDE, 3);
	cursor_cmd(f, CMD_UPDATE_CURSOR, 0, CURSOR_ID, 0, 0, 0, 0);
	assert_cursor_image(f, false);
	assert_working(f);
	fixture_free(f);
}

/* ---- display changes ---- */

static uint8_t generation(struct fixture *f)
{
	return (uint8_t)vfix_mmio_read(&f->v, f->d.common + COMMON_CFGGENERATION, 1);
}

static void test_display_change(void)
{
	struct fixture *f = fixture_new();
	uint8_t gen = generation(f);
	g_assert_false(f->v.intx_level);
	g_assert_true(console_preferred_size(&f->con, 800, 600));
	g_assert_cmphex(vdev_config_read(&f->d, CFG_EVENTS_READ, 4), ==, EVENT_DISPLAY);
	g_assert_cmpuint(generation(f), !=, gen);
	g_assert_true(f->v.intx_level);
	g_assert_cmphex(vfix_mmio_read(&f->v, f->d.isr, 1), ==, ISR_CONFIG);
	g_assert_false(f->v.intx_level);
	assert_display_info(f, 800, 600);
	assert_edid(f, 800, 600);
	vdev_config_write(&f->d, CFG_EVENTS_CLEAR, EVENT_DISPLAY, 4);
	g_assert_cmphex(vdev_config_read(&f->d, CFG_EVENTS_READ, 4), ==, 0);
	/* The same size again is no change: no event, no interrupt. */
	vfix_mmio_read(&f->v, f->d.isr, 1);   /* acknowledge the requests' interrupts */
	gen = generation(f);
	g_assert_true(console_preferred_size(&f->con, 800, 600));
	g_assert_cmphex(vdev_config_read(&f->d, CFG_EVENTS_READ, 4), ==, 0);
	g_assert_cmpuint(generation(f), ==, gen);
	g_assert_false(f->v.intx_level);
	/* Large displays: 4K at 60 Hz; larger ones at a lower refresh rate that
	 * the EDID's 16-bit pixel clock can say; sides beyond what an EDID
	 * describes are clamped in display info and EDID alike. */
	static const uint32_t sizes[][4] = {
		{ 3840, 2160, 3840, 2160 }, { 3840, 2880, 3840, 2880 }, { 5000, 5000, 4095, 4095 }, { 100, 50, 320, 320 },
	};
	for (size_t i = 0; i < G_N_ELEMENTS(sizes); i++) {
		g_assert_true(console_preferred_size(&f->con, sizes[i][0], sizes[i][1]));
		assert_display_info(f, sizes[i][2], sizes[i][3]);
		assert_edid(f, sizes[i][2], sizes[i][3]);
	}
	/* events_clear is the only writable field. */
	vdev_config_write(&f->d, CFG_NUM_SCANOUTS, 5, 4);
	g_assert_cmpuint(vdev_config_read(&f->d, CFG_NUM_SCANOUTS, 4), ==, 1);
	fixture_free(f);
}

/* ---- fences ---- */

#define FENCE 0x0123456789ABCDEFull

static void test_fence(void)
{
	struct fixture *f = fixture_new();
	uint8_t *p = cmd(f, CMD_GET_DISPLAY_INFO);
	put_le32(p + HDR_FLAGS, FLAG_FENCE);
	put_le64(p + HDR_FENCE_ID, FENCE);
	g_assert_cmphex(send(f, HDR_SIZE), ==, OK_DISPLAY_INFO);
	g_assert_cmphex(get_le32(f->resp + HDR_FLAGS), ==, FLAG_FENCE);
	g_assert_cmphex(get_le64(f->resp + HDR_FENCE_ID), ==, FENCE);
	/* An error response carries the fence too. */
	p = cmd(f, CMD_RESOURCE_UNREF);
	put_le32(p + HDR_FLAGS, FLAG_FENCE);
	put_le64(p + HDR_FENCE_ID, FENCE + 1);
	put_le32(p + BODY, 99);
	g_assert_cmphex(send(f, ID_SIZE), ==, ERR_INVALID_RESOURCE_ID);
	g_assert_cmphex(get_le32(f->resp + HDR_FLAGS), ==, FLAG_FENCE);
	g_assert_cmphex(get_le64(f->resp + HDR_FENCE_ID), ==, FENCE + 1);
	/* Without the flag: no fence back. */
	p = cmd(f, CMD_GET_DISPLAY_INFO);
	put_le64(p + HDR_FENCE_ID, FENCE);
	g_assert_cmphex(send(f, HDR_SIZE), ==, OK_DISPLAY_INFO);
	g_assert_cmphex(get_le32(f->resp + HDR_FLAGS), ==, 0);
	g_assert_cmphex(get_le64(f->resp + HDR_FENCE_ID), ==, 0);
	fixture_free(f);
}

/* ---- hostile requests ---- */

static void test_hostile_rects(void)
{
	struct fixture *f = fixture_new();
	show(f, XRGB, 1);
	static const struct rect bad[] = {
		{ 0, 0, W + 1, H }, { 0, 0, W, H + 1 }, { W - 4, 0, 8, 1 }, { 0, H, 1, 1 }, { W, 0, 1, 1 },
		{ 0, 0, 0, 1 }, { 0, 0, 1, 0 },
		{ 0xFFFFFFF0u, 0, 0x20, 1 }, { 0, 0xFFFFFFFFu, 1, 2 }, { 1, 1, 0xFFFFFFFFu, 1 },
	};
	for (unsigned i = 0; i < G_N_ELEMENTS(bad); i++) {
		expect(f, transfer(f, SHOWN, bad[i], 0), ERR_INVALID_PARAMETER);
		expect(f, flush(f, SHOWN, bad[i]), ERR_INVALID_PARAMETER);
		expect(f, set_scanout(f, 0, SHOWN, bad[i]), ERR_INVALID_PARAMETER);
	}
	fixture_free(f);
}

static void test_hostile_offsets(void)
{
	struct fixture *f = fixture_new();
	show(f, XRGB, 1);
	const uint64_t size = (uint64_t)W * H * 4;
	const struct rect pixel = { 0, 0, 1, 1 }, two = { 0, 0, 2, 1 };
	expect(f, transfer(f, SHOWN, pixel, size), ERR_INVALID_PARAMETER);         /* past the end */
	expect(f, transfer(f, SHOWN, pixel, size + 4096), ERR_INVALID_PARAMETER);
	expect(f, transfer(f, SHOWN, two, size - 4), ERR_INVALID_PARAMETER);       /* straddles it */
	expect(f, transfer(f, SHOWN, whole, 4), ERR_INVALID_PARAMETER);
	expect(f, transfer(f, SHOWN, (struct rect){ 0, 1, W, H - 1 }, 2 * STRIDE), ERR_INVALID_PARAMETER);
	/* Offsets near 2^64, where offset + length wraps around to something small. */
	expect(f, transfer(f, SHOWN, pixel, UINT64_MAX), ERR_INVALID_PARAMETER);
	expect(f, transfer(f, SHOWN, pixel, UINT64_MAX - 3), ERR_INVALID_PARAMETER);
	expect(f, transfer(f, SHOWN, whole, UINT64_MAX - size + 2), ERR_INVALID_PARAMETER);
	expect(f, transfer(f, SHOWN, pixel, 1ull << 63), ERR_INVALID_PARAMETER);
	/* The last pixel exactly fits (into its own place: nothing changes). */
	expect(f, transfer(f, SHOWN, (struct rect){ W - 1, H - 1, 1, 1 }, size - 4), OK_NODATA);
	fixture_free(f);
}

#define SMALL 2   /* a 16x16 resource for backing tests */

static void test_hostile_backing(void)
{
	struct fixture *f = fixture_new();
	show(f, XRGB, 1);
	g_assert_cmphex(create(f, SMALL, XRGB->id, 16, 16), ==, OK_NODATA);
	const struct entry good = { BACKING_GPA + 0x80000, 16 * 16 * 4 };
	const struct entry bad[] = {
		{ RAM_SIZE + 0x1000, 4096 },          /* outside RAM */
		{ RAM_SIZE - 8, 16 },                 /* straddling its end */
		{ RAM_SIZE, 1 },
		{ UINT64_MAX - 7, 16 },               /* wrapping around */
		{ BACKING_GPA, 0 },                   /* zero length */
		{ 0, UINT32_MAX },                    /* longer than RAM */
	};
	for (unsigned i = 0; i < G_N_ELEMENTS(bad); i++) {
		expect(f, attach(f, SMALL, &bad[i], 1), ERR_UNSPEC);
		struct entry pair[2] = { good, bad[i] };  /* one bad entry fails the lot */
		expect(f, attach(f, SMALL, pair, 2), ERR_UNSPEC);
		expect(f, transfer(f, SMALL, (struct rect){ 0, 0, 1, 1 }, 0), ERR_UNSPEC);
	}
	expect(f, attach(f, SMALL, &good, 0), ERR_INVALID_PARAMETER);             /* nr_entries 0 */
	expect(f, attach_nr(f, SMALL, 16385, &good, 1), ERR_INVALID_PARAMETER);   /* more than any resource needs */
	expect(f, attach_nr(f, SMALL, UINT32_MAX, &good, 1), ERR_INVALID_PARAMETER);
	expect(f, attach_nr(f, SMALL, 4, &good, 1), ERR_INVALID_PARAMETER);       /* fewer entries than it says */
	expect(f, detach(f, SMALL), ERR_UNSPEC);                                 /* nothing attached */
	expect(f, transfer(f, SMALL, (struct rect){ 0, 0, 1, 1 }, 0), ERR_UNSPEC);
	/* Backing smaller than the resource: transfers only inside it. */
	const struct entry row = { BACKING_GPA + 0x80000, 16 * 4 };
	expect(f, attach(f, SMALL, &row, 1), OK_NODATA);
	expect(f, attach(f, SMALL, &good, 1), ERR_UNSPEC);                        /* attached twice */
	expect(f, transfer(f, SMALL, (struct rect){ 0, 0, 16, 1 }, 0), OK_NODATA);
	expect(f, transfer(f, SMALL, (struct rect){ 0, 0, 16, 2 }, 0), ERR_INVALID_PARAMETER);
	expect(f, transfer(f, SMALL, (struct rect){ 0, 1, 1, 1 }, 16 * 4), ERR_INVALID_PARAMETER);
	expect(f, detach(f, SMALL), OK_NODATA);
	expect(f, detach(f, SMALL), ERR_UNSPEC);
	expect(f, attach(f, SMALL, &good, 1), OK_NODATA);
	expect(f, transfer(f, SMALL, (struct rect){ 0, 0, 16, 16 }, 0), OK_NODATA);
	fixture_free(f);
}

static void test_hostile_ids(void)
{
	struct fixture *f = fixture_new();
	show(f, XRGB, 1);
	const struct entry good = { BACKING_GPA + 0x80000, 4096 };
	static const uint32_t unknown[] = { 0, 99, UINT32_MAX };
	for (unsigned i = 0; i < G_N_ELEMENTS(unknown); i++) {
		uint32_t id = unknown[i];
		expect(f, unref(f, id), ERR_INVALID_RESOURCE_ID);
		expect(f, flush(f, id, whole), ERR_INVALID_RESOURCE_ID);
		expect(f, transfer(f, id, whole, 0), ERR_INVALID_RESOURCE_ID);
		expect(f, attach(f, id, &good, 1), ERR_INVALID_RESOURCE_ID);
		expect(f, detach(f, id), ERR_INVALID_RESOURCE_ID);
		if (id)   /* set_scanout with resource 0 disables the scanout */
			expect(f, set_scanout(f, 0, id, whole), ERR_INVALID_RESOURCE_ID);
	}
	expect(f, create(f, 0, XRGB->id, 16, 16), ERR_INVALID_RESOURCE_ID);
	expect(f, create(f, SHOWN, XRGB->id, 16, 16), ERR_INVALID_RESOURCE_ID);   /* duplicate */
	fixture_free(f);
}

static void test_hostile_create(void)
{
	struct fixture *f = fixture_new();
	show(f, XRGB, 1);
	static const uint32_t sizes[][2] = { { 0, 16 }, { 16, 0 }, { 0, 0 }, { 100000, 16 }, { 16, 100000 },
					     { MAX_SIZE + 1, 1 }, { 1, MAX_SIZE + 1 }, { UINT32_MAX, UINT32_MAX } };
	for (unsigned i = 0; i < G_N_ELEMENTS(sizes); i++)
		expect(f, create(f, 5, XRGB->id, sizes[i][0], sizes[i][1]), ERR_INVALID_PARAMETER);
	static const uint32_t bad_formats[] = { 0, 5, 66, 69, 122, 133, 135, UINT32_MAX };
	for (unsigned i = 0; i < G_N_ELEMENTS(bad_formats); i++)
		expect(f, create(f, 5, bad_formats[i], 16, 16), ERR_INVALID_PARAMETER);
	expect(f, create(f, 5, XRGB->id, MAX_SIZE, 1), OK_NODATA);              /* the largest side is fine */
	fixture_free(f);
}

static void test_hostile_scanout(void)
{
	struct fixture *f = fixture_new();
	show(f, XRGB, 1);
	static const uint32_t scanouts[] = { 1, 15, 16, UINT32_MAX };
	for (unsigned i = 0; i < G_N_ELEMENTS(scanouts); i++) {
		expect(f, set_scanout(f, scanouts[i], SHOWN, whole), ERR_INVALID_SCANOUT_ID);
		expect(f, set_scanout(f, scanouts[i], 0, whole), ERR_INVALID_SCANOUT_ID);
		put_le32(cmd(f, CMD_GET_EDID) + BODY, scanouts[i]);
		expect(f, send(f, ID_SIZE), ERR_INVALID_PARAMETER);
	}
	fixture_free(f);
}

static void test_hostile_commands(void)
{
	struct fixture *f = fixture_new();
	show(f, XRGB, 1);
	/* 3D, capsets, blobs (not offered), cursor commands on the controlq,
	 * responses as commands, nonsense. */
	static const uint32_t unknown[] = { 0, 0x00FF, CMD_GET_CAPSET_INFO, 0x0109, 0x010B, 0x010C, 0x010D,
					    CMD_CTX_CREATE, 0x0207, CMD_UPDATE_CURSOR, CMD_MOVE_CURSOR,
					    OK_NODATA, ERR_UNSPEC, UINT32_MAX };
	for (unsigned i = 0; i < G_N_ELEMENTS(unknown); i++) {
		cmd(f, unknown[i]);
		expect(f, send(f, RECT_CMD_SIZE), ERR_UNSPEC);
	}
	/* No request at all, and a request with nowhere to answer. */
	struct vbuf only_resp = { RESP_GPA, RESP_ROOM, true }, only_req = { REQ_GPA, HDR_SIZE, false };
	memset(f->v.ram + RESP_GPA, 0xAA, RESP_ROOM);
	vq_submit(&f->d, CONTROLQ, &only_resp, 1);
	g_assert_true(vq_poll(&f->d, CONTROLQ, &f->used, 1));
	expect(f, get_le32(f->resp), ERR_UNSPEC);
	cmd(f, CMD_GET_DISPLAY_INFO);
	vq_submit(&f->d, CONTROLQ, &only_req, 1);
	g_assert_true(vq_poll(&f->d, CONTROLQ, &f->used, 1));
	g_assert_cmpuint(f->used, ==, 0);
	assert_working(f);
	/* Shorter than the header. */
	static const size_t short_hdr[] = { 1, 4, 10, HDR_SIZE - 1 };
	for (unsigned i = 0; i < G_N_ELEMENTS(short_hdr); i++) {
		cmd(f, CMD_GET_DISPLAY_INFO);
		expect(f, send(f, short_hdr[i]), ERR_UNSPEC);
	}
	/* Shorter than the body, by one byte or all of it. */
	static const struct { uint32_t type; size_t size; } bodies[] = {
		{ CMD_RESOURCE_CREATE_2D, CREATE_SIZE }, { CMD_RESOURCE_UNREF, ID_SIZE },
		{ CMD_SET_SCANOUT, RECT_CMD_SIZE }, { CMD_RESOURCE_FLUSH, RECT_CMD_SIZE },
		{ CMD_TRANSFER_TO_HOST_2D, TRANSFER_SIZE }, { CMD_RESOURCE_ATTACH_BACKING, ID_SIZE },
		{ CMD_RESOURCE_DETACH_BACKING, ID_SIZE }, { CMD_GET_EDID, ID_SIZE },
	};
	for (unsigned i = 0; i < G_N_ELEMENTS(bodies); i++) {
		uint8_t *p = cmd(f, bodies[i].type);
		put_le32(p + BODY, 3);        /* a fresh resource id, were it read */
		put_le32(p + BODY + 4, 1);
		expect(f, send(f, bodies[i].size - 1), ERR_INVALID_PARAMETER);
		cmd(f, bodies[i].type);
		expect(f, send(f, HDR_SIZE), ERR_INVALID_PARAMETER);
	}
	fixture_free(f);
}

/* Resources together may hold HOST_MEMORY bytes, not one more: their
 * pixels and what the host keeps for each (the device's accounting, the
 * same for every resource whatever its size). */
static void test_out_of_memory(void)
{
	struct fixture *f = fixture_new();
	show(f, XRGB, 1);
	uint64_t before = f->gpu.host_memory;
	expect(f, create(f, 9, XRGB->id, 1, 1), OK_NODATA);
	uint64_t overhead = f->gpu.host_memory - before - 4;
	g_assert_cmpuint(overhead, >=, 64);   /* at least a structure and a table entry */
	for (uint32_t id = 10; id < 13; id++)
		expect(f, create(f, id, XRGB->id, MAX_SIZE, MAX_SIZE), OK_NODATA);
	expect(f, create(f, 13, XRGB->id, MAX_SIZE, MAX_SIZE), ERR_OUT_OF_MEMORY);
	uint32_t rows = (uint32_t)((HOST_MEMORY - f->gpu.host_memory - overhead) / (MAX_SIZE * 4));
	g_assert_cmpuint(rows, <, MAX_SIZE);
	expect(f, create(f, 13, XRGB->id, MAX_SIZE, rows + 1), ERR_OUT_OF_MEMORY);
	expect(f, create(f, 13, XRGB->id, MAX_SIZE, rows), OK_NODATA);
	/* What is left, exactly, then nothing. */
	uint32_t left = (uint32_t)((HOST_MEMORY - f->gpu.host_memory - overhead) / 4);
	g_assert_cmpuint(left, >, 1);
	g_assert_cmpuint(left, <=, MAX_SIZE);
	expect(f, create(f, 14, XRGB->id, 1, left + 1), ERR_OUT_OF_MEMORY);
	expect(f, create(f, 14, XRGB->id, 1, left), OK_NODATA);
	expect(f, create(f, 15, XRGB->id, 1, 1), ERR_OUT_OF_MEMORY);
	g_assert_cmpuint(f->gpu.host_memory, <=, HOST_MEMORY);
	/* An unref gives its bytes back. */
	expect(f, unref(f, 10), OK_NODATA);
	expect(f, create(f, 15, XRGB->id, MAX_SIZE, MAX_SIZE), OK_NODATA);
	expect(f, create(f, 16, XRGB->id, 1, 1), ERR_OUT_OF_MEMORY);
	fixture_free(f);
}

/* At most MAX_RESOURCES resources at once, however small: the next one is
 * refused with ERR_OUT_OF_MEMORY, and an unref makes room. */
static void test_resource_count(void)
{
	struct fixture *f = fixture_new();
	show(f, XRGB, 1);
	for (uint32_t id = 2; id <= MAX_RESOURCES; id++)
		expect(f, create(f, id, XRGB->id, 1, 1), OK_NODATA);
	expect(f, create(f, MAX_RESOURCES + 1, XRGB->id, 1, 1), ERR_OUT_OF_MEMORY);
	expect(f, unref(f, 2), OK_NODATA);
	expect(f, create(f, MAX_RESOURCES + 1, XRGB->id, 1, 1), OK_NODATA);
	assert_working(f);
	fixture_free(f);
}

/* This process's resident memory, from /proc (proc(5): statm's second
 * field, in pages). */
static uint64_t resident_bytes(void)
{
	g_autofree char *statm = NULL;
	g_assert_true(g_file_get_contents("/proc/self/statm", &statm, NULL, NULL));
	unsigned long size = 0, resident = 0;
	g_assert_cmpint(sscanf(statm, "%lu %lu", &size, &resident), ==, 2);
	return (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE);
}

/* An ATTACH_BACKING of MAX_BACKING entries at FLOOD_GPA, each one pixel's
 * four bytes of the same guest page; returns its length. */
static uint32_t flood_request(struct fixture *f)
{
	uint8_t *p = f->v.ram + FLOOD_GPA;
	put_le32(p, CMD_RESOURCE_ATTACH_BACKING);
	put_le32(p + BODY + 4, MAX_BACKING);
	for (unsigned i = 0; i < MAX_BACKING; i++) {
		put_le64(p + ID_SIZE + i * MEM_ENTRY_SIZE, BACKING_GPA);
		put_le32(p + ID_SIZE + i * MEM_ENTRY_SIZE + 8, 4);
	}
	return ID_SIZE + MAX_BACKING * MEM_ENTRY_SIZE;
}

/* Issue 13: 1x1 resources, each with the largest backing list there is,
 * until the device refuses. The refusal is ERR_OUT_OF_MEMORY, the device's
 * accounting stays within HOST_MEMORY, and so does what this process grew
 * by in resident memory (with FLOOD_SLACK for the test's own noise). Under
 * AddressSanitizer its allocator and shadow memory are not the engine's,
 * so only the accounting is checked there. */
static void test_resource_flood(void)
{
	struct fixture *f = fixture_new();
	show(f, XRGB, 1);
	const uint32_t parts[1] = { flood_request(f) };
	uint64_t start = resident_bytes(), held = f->gpu.host_memory;
	uint32_t id = SHOWN, refused;
	do {
		refused = create(f, ++id, XRGB->id, 1, 1);
		if (refused == OK_NODATA) {
			put_le32(f->v.ram + FLOOD_GPA + BODY, id);
			refused = send_split_at(f, FLOOD_GPA, parts, 1);
		}
		g_assert_cmpuint(f->gpu.host_memory, <=, HOST_MEMORY);
		if (!RUNNING_UNDER_ASAN)
			g_assert_cmpuint(resident_bytes() - start, <=, HOST_MEMORY + FLOOD_SLACK);
	} while (refused == OK_NODATA);
	g_test_message("refused resource %u: accounted %" G_GUINT64_FORMAT " KiB, resident grew %" G_GUINT64_FORMAT
		       " KiB", id, f->gpu.host_memory >> 10, (resident_bytes() - start) >> 10);
	expect(f, refused, ERR_OUT_OF_MEMORY);
	g_assert_cmpuint(id, >, 100);          /* the budget ended it, not something else */
	/* Detaching and unref'ing give it all back (the last one may not exist). */
	for (uint32_t i = SHOWN + 1; i <= id; i++) {
		detach(f, i);
		unref(f, i);
	}
	g_assert_cmpuint(f->gpu.host_memory, ==, held);
	assert_working(f);
	fixture_free(f);
}

static void test_unref_scanout(void)
{
	struct fixture *f = fixture_new();
	show(f, XRGB, 1);
	unsigned surfaces = f->surfaces;
	g_assert_cmphex(unref(f, SHOWN), ==, OK_NODATA);
	g_assert_cmpuint(f->surfaces, ==, surfaces + 1);
	g_assert_cmpint(f->surface.format, ==, CONSOLE_FORMAT_NONE);
	g_assert_cmphex(flush(f, SHOWN, whole), ==, ERR_INVALID_RESOURCE_ID);
	g_assert_cmphex(set_scanout(f, 0, SHOWN, whole), ==, ERR_INVALID_RESOURCE_ID);
	g_assert_cmphex(unref(f, SHOWN), ==, ERR_INVALID_RESOURCE_ID);
	/* The id is free again. */
	show(f, XRGB, 1);
	assert_working(f);
	fixture_free(f);
}

/* Status 0 (§2.4): every resource goes, the screen and cursor go blank. */
static void test_reset(void)
{
	struct fixture *f = fixture_new();
	show(f, XRGB, 1);
	make_resource(f, CURSOR_ID, BGRA, CURSOR_SIDE, CURSOR_SIDE, 3);
	cursor_cmd(f, CMD_UPDATE_CURSOR, 0, CURSOR_ID, 10, 10, 0, 0);
	g_assert_true(f->cursor.visible);
	g_assert_true(console_preferred_size(&f->con, 800, 600));
	vfix_start(&f->v, &f->d, VIRTIO_ID_GPU, 0, ALL_FEATURES, 2);
	g_assert_cmpint(f->surface.format, ==, CONSOLE_FORMAT_NONE);
	g_assert_false(f->cursor.visible);
	g_assert_cmphex(vdev_config_read(&f->d, CFG_EVENTS_READ, 4), ==, 0);
	g_assert_cmphex(flush(f, SHOWN, whole), ==, ERR_INVALID_RESOURCE_ID);
	g_assert_cmphex(unref(f, CURSOR_ID), ==, ERR_INVALID_RESOURCE_ID);
	assert_display_info(f, 800, 600);   /* the display keeps its size */
	show(f, XRGB, 1);
	assert_working(f);
	fixture_free(f);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/virtio-gpu/config", test_config);
	g_test_add_func("/virtio-gpu/display-info-edid", test_display_info_and_edid);
	g_test_add_func("/virtio-gpu/edid-not-negotiated", test_edid_not_negotiated);
	g_test_add_func("/virtio-gpu/scanout", test_scanout);
	g_test_add_func("/virtio-gpu/formats", test_formats);
	g_test_add_func("/virtio-gpu/partial-transfer", test_partial_transfer);
	g_test_add_func("/virtio-gpu/attach-split", test_attach_split);
	g_test_add_func("/virtio-gpu/cursor", test_cursor);
	g_test_add_func("/virtio-gpu/display-change", test_display_change);
	g_test_add_func("/virtio-gpu/fence", test_fence);
	g_test_add_func("/virtio-gpu/hostile/rects", test_hostile_rects);
	g_test_add_func("/virtio-gpu/hostile/offsets", test_hostile_offsets);
	g_test_add_func("/virtio-gpu/hostile/backing", test_hostile_backing);
	g_test_add_func("/virtio-gpu/hostile/ids", test_hostile_ids);
	g_test_add_func("/virtio-gpu/hostile/resource-count", test_resource_count);
	g_test_add_func("/virtio-gpu/hostile/resource-flood", test_resource_flood);
	g_test_add_func("/virtio-gpu/hostile/create", test_hostile_create);
	g_test_add_func("/virtio-gpu/hostile/scanout-id", test_hostile_scanout);
	g_test_add_func("/virtio-gpu/hostile/commands", test_hostile_commands);
	g_test_add_func("/virtio-gpu/hostile/out-of-memory", test_out_of_memory);
	g_test_add_func("/virtio-gpu/unref-scanout", test_unref_scanout);
	g_test_add_func("/virtio-gpu/reset", test_reset);
	return g_test_run();
}
