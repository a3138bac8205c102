/* virtio-gpu 2D. See virtio_gpu.h. */
#include "virtio_gpu.h"

#include <string.h>

#include "core/bytes.h"
#include "hw/edid.h"

#define VIRTIO_GPU_CLASS 0x038000         /* display controller, other (not VGA compatible) */
#define CONTROLQ 0
#define CURSORQ 1

/* Feature bits (§5.7.3). */
#define VIRTIO_GPU_F_EDID 1

/* Device configuration (§5.7.4). */
#define CONFIG_EVENTS_READ  0
#define CONFIG_EVENTS_CLEAR 4
#define CONFIG_NUM_SCANOUTS 8
#define CONFIG_NUM_CAPSETS  12
#define CONFIG_SIZE         16
#define VIRTIO_GPU_EVENT_DISPLAY 1

/* Command and response types (§5.7.6.7). */
#define CMD_GET_DISPLAY_INFO         0x0100
#define CMD_RESOURCE_CREATE_2D       0x0101
#define CMD_RESOURCE_UNREF           0x0102
#define CMD_SET_SCANOUT              0x0103
#define CMD_RESOURCE_FLUSH           0x0104
#define CMD_TRANSFER_TO_HOST_2D      0x0105
#define CMD_RESOURCE_ATTACH_BACKING  0x0106
#define CMD_RESOURCE_DETACH_BACKING  0x0107
#define CMD_GET_EDID                 0x010A
#define CMD_UPDATE_CURSOR            0x0300
#define CMD_MOVE_CURSOR              0x0301
#define RESP_OK_NODATA               0x1100
#define RESP_OK_DISPLAY_INFO         0x1101
#define RESP_OK_EDID                 0x1104
#define RESP_ERR_UNSPEC              0x1200
#define RESP_ERR_OUT_OF_MEMORY       0x1201
#define RESP_ERR_INVALID_SCANOUT_ID  0x1202
#define RESP_ERR_INVALID_RESOURCE_ID 0x1203
#define RESP_ERR_INVALID_PARAMETER   0x1205

/* struct virtio_gpu_ctrl_hdr (§5.7.6.7): type, flags, fence_id, ctx_id,
 * ring_idx, padding. */
#define HDR_TYPE       0
#define HDR_FLAGS      4
#define HDR_FENCE_ID   8
#define HDR_CTX_ID     16
#define HDR_RING_IDX   20
#define HDR_SIZE       24
#define VIRTIO_GPU_FLAG_FENCE 1
#define VIRTIO_GPU_FLAG_INFO_RING_IDX 2

/* Request bodies, as offsets after the header. A struct virtio_gpu_rect is
 * x, y, width, height (le32 each). */
#define REQ_RECT       HDR_SIZE                      /* set_scanout, flush, transfer */
#define REQ_ID         HDR_SIZE                      /* create, unref, backing: resource_id */
#define CREATE_FORMAT  (HDR_SIZE + 4)
#define CREATE_WIDTH   (HDR_SIZE + 8)
#define CREATE_HEIGHT  (HDR_SIZE + 12)
#define SCANOUT_ID     (HDR_SIZE + 16)
#define SCANOUT_RES    (HDR_SIZE + 20)
#define FLUSH_RES      (HDR_SIZE + 16)
#define TRANSFER_OFFSET (HDR_SIZE + 16)
#define TRANSFER_RES   (HDR_SIZE + 24)
#define BACKING_NR     (HDR_SIZE + 4)
#define BACKING_ENTRIES (HDR_SIZE + 8)
#define MEM_ENTRY_SIZE 16                            /* addr le64, length le32, padding */
#define EDID_SCANOUT   HDR_SIZE
#define CURSOR_SCANOUT HDR_SIZE                      /* struct virtio_gpu_cursor_pos */
#define CURSOR_X       (HDR_SIZE + 4)
#define CURSOR_Y       (HDR_SIZE + 8)
#define CURSOR_RES     (HDR_SIZE + 16)
#define CURSOR_HOT_X   (HDR_SIZE + 20)
#define CURSOR_HOT_Y   (HDR_SIZE + 24)
#define REQ_MAX        (HDR_SIZE + 32)

/* Responses. */
#define DISPLAY_ONE_SIZE 24                          /* rect, enabled, flags */
#define VIRTIO_GPU_MAX_SCANOUTS 16
#define DISPLAY_INFO_SIZE (HDR_SIZE + VIRTIO_GPU_MAX_SCANOUTS * DISPLAY_ONE_SIZE)
#define EDID_RESP_SIZE_FIELD HDR_SIZE
#define EDID_RESP_DATA (HDR_SIZE + 8)
#define EDID_RESP_SIZE (EDID_RESP_DATA + 1024)
#define RESP_MAX EDID_RESP_SIZE

#define BYTES_PER_PIXEL 4                            /* every 2D format (§5.7.6.8) */
#define MAX_BACKING_ENTRIES 16384                    /* a 4096x4096 resource in 4 KiB pages is 16384 */

/* Formats (§5.7.6.8): where each of B, G, R, A sits in the guest's four
 * bytes; the host copy is always B, G, R, A (the console's XRGB8888). */
struct gpu_format {
	uint32_t id;
	uint8_t b, g, r, a;
	bool has_alpha;
};

static const struct gpu_format formats[] = {
	{ 1, 0, 1, 2, 3, true },     /* B8G8R8A8_UNORM */
	{ 2, 0, 1, 2, 3, false },    /* B8G8R8X8_UNORM */
	{ 3, 3, 2, 1, 0, true },     /* A8R8G8B8_UNORM */
	{ 4, 3, 2, 1, 0, false },    /* X8R8G8B8_UNORM */
	{ 67, 2, 1, 0, 3, true },    /* R8G8B8A8_UNORM */
	{ 68, 1, 2, 3, 0, false },   /* X8B8G8R8_UNORM */
	{ 121, 1, 2, 3, 0, true },   /* A8B8G8R8_UNORM */
	{ 134, 2, 1, 0, 3, false },  /* R8G8B8X8_UNORM */
};

struct gpu_resource {
	uint32_t id;
	const struct gpu_format *format;
	uint32_t width, height;
	uint8_t *pixels;             /* B, G, R, A; width * 4 bytes a row */
	struct iovec *backing;       /* host views of the guest's pages; NULL: none */
	uint64_t *backing_addr;      /* where each one is in the guest */
	unsigned backing_count;
	uint64_t backing_size;
};

/* What the host-memory budget counts for a resource besides its pixels:
 * its structure, its entry in the resource table (a GHashTable slot is a
 * key, a value and a hash, at most 20 bytes, and the table may be down to
 * a quarter full before it shrinks) and, for each allocation, what malloc may
 * add (a header, and rounding up to a whole page for the large blocks it
 * maps). A backing's iovec list and its guest addresses are counted while
 * it is attached. */
#define TABLE_ENTRY_BYTES 96
#define ALLOCATION_SLACK (4096 + 16)

static uint64_t resource_bytes(uint32_t width, uint32_t height)
{
	return sizeof(struct gpu_resource) + TABLE_ENTRY_BYTES + 2 * ALLOCATION_SLACK +
	       (uint64_t)width * height * BYTES_PER_PIXEL;
}

static uint64_t backing_bytes(uint32_t count)
{
	return (uint64_t)count * (sizeof(struct iovec) + sizeof(uint64_t)) + 2 * ALLOCATION_SLACK;
}

static bool budget_holds(const struct virtio_gpu *gpu, uint64_t bytes)
{
	return bytes <= VIRTIO_GPU_MAX_HOST_MEMORY - gpu->host_memory;
}

struct gpu_rect {
	uint32_t x, y, width, height;
};

static const struct gpu_format *find_format(uint32_t id)
{
	for (size_t i = 0; i < G_N_ELEMENTS(formats); i++)
		if (formats[i].id == id)
			return &formats[i];
	return NULL;
}

static struct gpu_rect read_rect(const uint8_t *p)
{
	return (struct gpu_rect){ get_le32(p), get_le32(p + 4), get_le32(p + 8), get_le32(p + 12) };
}

/* A non-empty rectangle inside the resource (64-bit sums: no wrap-around). */
static bool rect_inside(const struct gpu_rect *r, const struct gpu_resource *res)
{
	return r->width && r->height && (uint64_t)r->x + r->width <= res->width &&
	       (uint64_t)r->y + r->height <= res->height;
}

static void resource_free(gpointer data)
{
	struct gpu_resource *res = data;
	g_free(res->backing);
	g_free(res->backing_addr);
	g_free(res->pixels);
	g_free(res);
}

static struct gpu_resource *find_resource(struct virtio_gpu *gpu, uint32_t id)
{
	return g_hash_table_lookup(gpu->resources, GUINT_TO_POINTER(id));
}

/* ---- scanout ---- */

static void scanout_disable(struct virtio_gpu *gpu)
{
	gpu->scanout_resource = 0;
	gpu->scanout_rect = (struct console_rect){ 0 };
	console_set_surface(gpu->console, &(struct console_surface){ .format = CONSOLE_FORMAT_NONE });
}

static void scanout_show(struct virtio_gpu *gpu, struct gpu_resource *res, const struct gpu_rect *r)
{
	size_t stride = (size_t)res->width * BYTES_PER_PIXEL;
	gpu->scanout_resource = res->id;
	gpu->scanout_rect = (struct console_rect){ r->x, r->y, r->width, r->height };
	console_set_surface(gpu->console, &(struct console_surface){
		.format = CONSOLE_FORMAT_XRGB8888, .width = r->width, .height = r->height, .stride = (unsigned)stride,
		.pixels = res->pixels + r->y * stride + (size_t)r->x * BYTES_PER_PIXEL,
	});
}

/* ---- control commands: each returns the response type ---- */

static uint32_t get_display_info(struct virtio_gpu *gpu, uint8_t *resp, size_t *resp_len)
{
	uint8_t *mode = resp + HDR_SIZE;   /* pmodes[0]: the one scanout */
	g_mutex_lock(&gpu->display_lock);
	put_le32(mode + 8, gpu->width);
	put_le32(mode + 12, gpu->height);
	g_mutex_unlock(&gpu->display_lock);
	put_le32(mode + 16, 1);            /* enabled */
	*resp_len = DISPLAY_INFO_SIZE;
	return RESP_OK_DISPLAY_INFO;
}

static uint32_t get_edid(struct virtio_gpu *gpu, const uint8_t *req, uint8_t *resp, size_t *resp_len)
{
	if (!virtio_has_feature(&gpu->vp, VIRTIO_GPU_F_EDID))
		return RESP_ERR_UNSPEC;
	if (get_le32(req + EDID_SCANOUT) != 0)
		return RESP_ERR_INVALID_PARAMETER;
	g_mutex_lock(&gpu->display_lock);
	edid_build(resp + EDID_RESP_DATA, "Vireo GPU", gpu->width, gpu->height);
	g_mutex_unlock(&gpu->display_lock);
	put_le32(resp + EDID_RESP_SIZE_FIELD, EDID_BLOCK_SIZE);
	*resp_len = EDID_RESP_SIZE;
	return RESP_OK_EDID;
}

static uint32_t create_resource(struct virtio_gpu *gpu, uint32_t id, uint32_t format_id, uint32_t width,
				uint32_t height)
{
	const struct gpu_format *format = find_format(format_id);
	if (id == 0 || find_resource(gpu, id))
		return RESP_ERR_INVALID_RESOURCE_ID;
	if (!format || !width || !height || width > VIRTIO_GPU_MAX_SIZE || height > VIRTIO_GPU_MAX_SIZE)
		return RESP_ERR_INVALID_PARAMETER;
	if (g_hash_table_size(gpu->resources) >= VIRTIO_GPU_MAX_RESOURCES ||
	    !budget_holds(gpu, resource_bytes(width, height)))
		return RESP_ERR_OUT_OF_MEMORY;
	uint8_t *pixels = g_try_malloc0((size_t)width * height * BYTES_PER_PIXEL);
	if (!pixels)
		return RESP_ERR_OUT_OF_MEMORY;
	struct gpu_resource *res = g_new0(struct gpu_resource, 1);
	*res = (struct gpu_resource){ .id = id, .format = format, .width = width, .height = height, .pixels = pixels };
	gpu->host_memory += resource_bytes(width, height);
	g_hash_table_insert(gpu->resources, GUINT_TO_POINTER(id), res);
	return RESP_OK_NODATA;
}

static uint32_t resource_create_2d(struct virtio_gpu *gpu, const uint8_t *req)
{
	return create_resource(gpu, get_le32(req + REQ_ID), get_le32(req + CREATE_FORMAT), get_le32(req + CREATE_WIDTH),
			       get_le32(req + CREATE_HEIGHT));
}

static void resource_remove(struct virtio_gpu *gpu, struct gpu_resource *res)
{
	if (gpu->scanout_resource == res->id)
		scanout_disable(gpu);
	gpu->host_memory -= resource_bytes(res->width, res->height) +
			    (res->backing ? backing_bytes(res->backing_count) : 0);
	g_hash_table_remove(gpu->resources, GUINT_TO_POINTER(res->id));
}

static uint32_t resource_unref(struct virtio_gpu *gpu, const uint8_t *req)
{
	struct gpu_resource *res = find_resource(gpu, get_le32(req + REQ_ID));
	if (!res)
		return RESP_ERR_INVALID_RESOURCE_ID;
	resource_remove(gpu, res);
	return RESP_OK_NODATA;
}

static uint32_t set_scanout(struct virtio_gpu *gpu, const uint8_t *req)
{
	struct gpu_rect r = read_rect(req + REQ_RECT);
	uint32_t id = get_le32(req + SCANOUT_RES);
	if (get_le32(req + SCANOUT_ID) != 0)
		return RESP_ERR_INVALID_SCANOUT_ID;
	if (id == 0) {
		scanout_disable(gpu);
		return RESP_OK_NODATA;
	}
	struct gpu_resource *res = find_resource(gpu, id);
	if (!res)
		return RESP_ERR_INVALID_RESOURCE_ID;
	if (!rect_inside(&r, res))
		return RESP_ERR_INVALID_PARAMETER;
	scanout_show(gpu, res, &r);
	return RESP_OK_NODATA;
}

static uint32_t resource_flush(struct virtio_gpu *gpu, const uint8_t *req)
{
	struct gpu_rect r = read_rect(req + REQ_RECT);
	struct gpu_resource *res = find_resource(gpu, get_le32(req + FLUSH_RES));
	if (!res)
		return RESP_ERR_INVALID_RESOURCE_ID;
	if (!rect_inside(&r, res))
		return RESP_ERR_INVALID_PARAMETER;
	const struct console_rect *s = &gpu->scanout_rect;
	if (gpu->scanout_resource != res->id)
		return RESP_OK_NODATA;
	/* The flushed part of the scanout, in surface coordinates. */
	uint32_t x0 = MAX(r.x, s->x), y0 = MAX(r.y, s->y);
	uint32_t x1 = MIN(r.x + r.width, s->x + s->width), y1 = MIN(r.y + r.height, s->y + s->height);
	if (x0 < x1 && y0 < y1)
		console_update(gpu->console, x0 - s->x, y0 - s->y, x1 - x0, y1 - y0);
	return RESP_OK_NODATA;
}

/* A position in a resource's backing: entry `index` starts at byte `start`
 * of the backing. Rows of one transfer only move forward, so a cursor kept
 * across them finds each row's entry without walking the list from the top. */
struct backing_cursor {
	unsigned index;
	uint64_t start;
};

/* Copies `len` bytes at `offset` (not before the cursor's entry) of the
 * backing into dst; the caller has checked the range. */
static void backing_read(const struct gpu_resource *res, struct backing_cursor *cur,
			 uint64_t offset, uint8_t *dst, size_t len)
{
	while (offset - cur->start >= res->backing[cur->index].iov_len)
		cur->start += res->backing[cur->index++].iov_len;
	unsigned i = cur->index;
	uint64_t within = offset - cur->start;
	while (len) {
		size_t n = MIN(len, res->backing[i].iov_len - within);
		memcpy(dst, (const uint8_t *)res->backing[i].iov_base + within, n);
		dst += n, len -= n, within = 0, i++;
	}
}

/* Guest byte order to the host's B, G, R, A. */
static void convert_row(const struct gpu_format *f, uint8_t *p, size_t pixels)
{
	if (f->b == 0 && f->g == 1 && f->r == 2 && f->a == 3)
		return;
	for (size_t i = 0; i < pixels; i++, p += BYTES_PER_PIXEL) {
		uint8_t in[BYTES_PER_PIXEL];
		memcpy(in, p, sizeof(in));
		p[0] = in[f->b], p[1] = in[f->g], p[2] = in[f->r], p[3] = in[f->a];
	}
}

/* §5.7.6.8 TRANSFER_TO_HOST_2D: row y of the rectangle comes from backing
 * offset `offset + y * stride`, stride being the resource's row size. */
static uint32_t transfer_to_host_2d(struct virtio_gpu *gpu, const uint8_t *req)
{
	struct gpu_rect r = read_rect(req + REQ_RECT);
	uint64_t offset = get_le64(req + TRANSFER_OFFSET);
	struct gpu_resource *res = find_resource(gpu, get_le32(req + TRANSFER_RES));
	if (!res)
		return RESP_ERR_INVALID_RESOURCE_ID;
	if (!rect_inside(&r, res))
		return RESP_ERR_INVALID_PARAMETER;
	if (!res->backing)
		return RESP_ERR_UNSPEC;
	uint64_t stride = (uint64_t)res->width * BYTES_PER_PIXEL, row_bytes = (uint64_t)r.width * BYTES_PER_PIXEL;
	uint64_t last = (r.height - 1) * stride + row_bytes;  /* <= 64 MiB: no overflow below */
	if (offset > res->backing_size || last > res->backing_size - offset)
		return RESP_ERR_INVALID_PARAMETER;
	struct backing_cursor cursor = { 0, 0 };
	for (uint32_t y = 0; y < r.height; y++) {
		uint8_t *dst = res->pixels + (r.y + y) * stride + (uint64_t)r.x * BYTES_PER_PIXEL;
		backing_read(res, &cursor, offset + y * stride, dst, row_bytes);
		convert_row(res->format, dst, r.width);
	}
	return RESP_OK_NODATA;
}

/* Backs `res` with the guest ranges given, all of which must be RAM. */
static bool set_backing(struct virtio_gpu *gpu, struct gpu_resource *res, const uint64_t *addr, const uint32_t *len,
			unsigned count)
{
	g_autofree struct iovec *iov = g_new(struct iovec, count);
	uint64_t total = 0;
	for (unsigned i = 0; i < count; i++) {
		void *host = len[i] ? guest_mem_ptr(gpu->vp.mem, addr[i], len[i]) : NULL;
		if (!host)
			return false;
		iov[i] = (struct iovec){ host, len[i] };
		total += len[i];
	}
	res->backing = g_steal_pointer(&iov);
	res->backing_addr = g_memdup2(addr, count * sizeof(*addr));
	res->backing_count = count;
	res->backing_size = total;
	gpu->host_memory += backing_bytes(count);
	return true;
}

/* §5.7.6.8 RESOURCE_ATTACH_BACKING: the entries follow the request; each
 * must be guest RAM, or the whole request fails and nothing is attached.
 * Their host views count against the budget. */
static uint32_t attach_backing(struct virtio_gpu *gpu, const struct virtq_request *vreq, const uint8_t *req)
{
	struct gpu_resource *res = find_resource(gpu, get_le32(req + REQ_ID));
	uint32_t count = get_le32(req + BACKING_NR);
	if (!res)
		return RESP_ERR_INVALID_RESOURCE_ID;
	if (res->backing)
		return RESP_ERR_UNSPEC;
	if (count == 0 || count > MAX_BACKING_ENTRIES)
		return RESP_ERR_INVALID_PARAMETER;
	if (!budget_holds(gpu, backing_bytes(count)))
		return RESP_ERR_OUT_OF_MEMORY;
	g_autofree uint64_t *addr = g_new(uint64_t, count);
	g_autofree uint32_t *len = g_new(uint32_t, count);
	for (uint32_t i = 0; i < count; i++) {
		uint8_t entry[MEM_ENTRY_SIZE];
		if (virtq_copy_from_out(vreq, BACKING_ENTRIES + (size_t)i * MEM_ENTRY_SIZE, entry, sizeof(entry)) <
		    sizeof(entry))
			return RESP_ERR_INVALID_PARAMETER;
		addr[i] = get_le64(entry);
		len[i] = get_le32(entry + 8);
	}
	return set_backing(gpu, res, addr, len, count) ? RESP_OK_NODATA : RESP_ERR_UNSPEC;
}

static uint32_t detach_backing(struct virtio_gpu *gpu, const uint8_t *req)
{
	struct gpu_resource *res = find_resource(gpu, get_le32(req + REQ_ID));
	if (!res)
		return RESP_ERR_INVALID_RESOURCE_ID;
	if (!res->backing)
		return RESP_ERR_UNSPEC;
	g_clear_pointer(&res->backing, g_free);
	g_clear_pointer(&res->backing_addr, g_free);
	gpu->host_memory -= backing_bytes(res->backing_count);
	res->backing_count = 0;
	res->backing_size = 0;
	return RESP_OK_NODATA;
}

/* Smallest request size of each command (header plus fixed body). */
static size_t request_size(uint32_t type)
{
	switch (type) {
	case CMD_GET_DISPLAY_INFO: return HDR_SIZE;
	case CMD_RESOURCE_UNREF: case CMD_RESOURCE_DETACH_BACKING: case CMD_GET_EDID:
	case CMD_RESOURCE_ATTACH_BACKING: return HDR_SIZE + 8;
	case CMD_RESOURCE_CREATE_2D: return HDR_SIZE + 16;
	case CMD_SET_SCANOUT: case CMD_RESOURCE_FLUSH: return HDR_SIZE + 24;
	case CMD_TRANSFER_TO_HOST_2D: return HDR_SIZE + 32;
	default: return HDR_SIZE;
	}
}

static uint32_t run_command(struct virtio_gpu *gpu, const struct virtq_request *vreq, const uint8_t *req,
			    size_t len, uint8_t *resp, size_t *resp_len)
{
	uint32_t type = get_le32(req + HDR_TYPE);
	if (len < request_size(type))
		return RESP_ERR_INVALID_PARAMETER;
	switch (type) {
	case CMD_GET_DISPLAY_INFO: return get_display_info(gpu, resp, resp_len);
	case CMD_GET_EDID: return get_edid(gpu, req, resp, resp_len);
	case CMD_RESOURCE_CREATE_2D: return resource_create_2d(gpu, req);
	case CMD_RESOURCE_UNREF: return resource_unref(gpu, req);
	case CMD_SET_SCANOUT: return set_scanout(gpu, req);
	case CMD_RESOURCE_FLUSH: return resource_flush(gpu, req);
	case CMD_TRANSFER_TO_HOST_2D: return transfer_to_host_2d(gpu, req);
	case CMD_RESOURCE_ATTACH_BACKING: return attach_backing(gpu, vreq, req);
	case CMD_RESOURCE_DETACH_BACKING: return detach_backing(gpu, req);
	default: return RESP_ERR_UNSPEC;   /* 3D and blob commands: not offered */
	}
}

/* ---- cursor queue (§5.7.6.10): no response ---- */

static void update_cursor(struct virtio_gpu *gpu, const uint8_t *req)
{
	struct console_cursor *c = g_new0(struct console_cursor, 1);  /* 16 KiB: not on the stack */
	struct gpu_resource *res = find_resource(gpu, get_le32(req + CURSOR_RES));
	c->x = get_le32(req + CURSOR_X);
	c->y = get_le32(req + CURSOR_Y);
	if (res) {
		c->visible = true;
		c->width = MIN(res->width, CONSOLE_CURSOR_MAX);
		c->height = MIN(res->height, CONSOLE_CURSOR_MAX);
		c->hot_x = MIN(get_le32(req + CURSOR_HOT_X), c->width - 1);
		c->hot_y = MIN(get_le32(req + CURSOR_HOT_Y), c->height - 1);
		for (unsigned y = 0; y < c->height; y++) {
			for (unsigned x = 0; x < c->width; x++) {
				uint32_t argb = get_le32(res->pixels + ((size_t)y * res->width + x) * BYTES_PER_PIXEL);
				c->pixels[y * c->width + x] = res->format->has_alpha ? argb : argb | 0xFF000000u;
			}
		}
	}
	console_set_cursor(gpu->console, c);  /* resource 0 (or none): no cursor */
	g_free(c);
}

static uint32_t handle_request(void *opaque, unsigned queue, const struct virtq_request *vreq)
{
	struct virtio_gpu *gpu = opaque;
	uint8_t req[REQ_MAX] = { 0 };
	size_t len = virtq_copy_from_out(vreq, 0, req, sizeof(req));

	if (queue == CURSORQ) {
		if (len >= CURSOR_HOT_Y + 4 && get_le32(req + CURSOR_SCANOUT) == 0) {
			if (get_le32(req + HDR_TYPE) == CMD_UPDATE_CURSOR)
				update_cursor(gpu, req);
			else if (get_le32(req + HDR_TYPE) == CMD_MOVE_CURSOR)
				console_move_cursor(gpu->console, get_le32(req + CURSOR_X), get_le32(req + CURSOR_Y));
		}
		return 0;
	}
	g_autofree uint8_t *resp = g_malloc0(RESP_MAX);
	size_t resp_len = HDR_SIZE;
	uint32_t type = len < HDR_SIZE ? RESP_ERR_UNSPEC : run_command(gpu, vreq, req, len, resp, &resp_len);
	/* §5.7.6.7: a fenced request's response carries the fence back. */
	uint32_t flags = get_le32(req + HDR_FLAGS) & (VIRTIO_GPU_FLAG_FENCE | VIRTIO_GPU_FLAG_INFO_RING_IDX);
	put_le32(resp + HDR_TYPE, type);
	put_le32(resp + HDR_FLAGS, flags);
	if (flags & VIRTIO_GPU_FLAG_FENCE)
		memcpy(resp + HDR_FENCE_ID, req + HDR_FENCE_ID, HDR_SIZE - HDR_FENCE_ID);
	return (uint32_t)virtq_copy_to_in(vreq, 0, resp, resp_len);
}

static void process_queue(void *opaque, unsigned queue)
{
	struct virtio_gpu *gpu = opaque;
	virtio_pci_serve_queue(&gpu->vp, queue, handle_request, gpu);
}

/* ---- device configuration ---- */

static void read_config(void *opaque, unsigned offset, void *data, unsigned size)
{
	struct virtio_gpu *gpu = opaque;
	uint8_t config[CONFIG_SIZE] = { 0 };
	g_mutex_lock(&gpu->display_lock);
	put_le32(config + CONFIG_EVENTS_READ, gpu->events_read);
	g_mutex_unlock(&gpu->display_lock);
	put_le32(config + CONFIG_NUM_SCANOUTS, 1);
	put_le32(config + CONFIG_NUM_CAPSETS, 0);
	memcpy(data, config + offset, size);   /* the transport keeps offset + size inside */
}

static void write_config(void *opaque, unsigned offset, const void *data, unsigned size)
{
	struct virtio_gpu *gpu = opaque;
	uint32_t value = 0;
	if (offset != CONFIG_EVENTS_CLEAR || size != 4)
		return;                         /* everything else is read-only */
	memcpy(&value, data, 4);
	g_mutex_lock(&gpu->display_lock);
	gpu->events_read &= ~value;
	g_mutex_unlock(&gpu->display_lock);
}

static void remove_all_resources(struct virtio_gpu *gpu)
{
	scanout_disable(gpu);
	console_set_cursor(gpu->console, &(struct console_cursor){ .visible = false });
	g_hash_table_remove_all(gpu->resources);
	gpu->host_memory = 0;
}

/* Driver reset: every resource goes, the screen goes blank. */
static void reset(void *opaque)
{
	struct virtio_gpu *gpu = opaque;
	remove_all_resources(gpu);
	g_mutex_lock(&gpu->display_lock);
	gpu->events_read = 0;
	g_mutex_unlock(&gpu->display_lock);
}

static const struct virtio_device_ops gpu_ops = {
	.process_queue = process_queue,
	.read_config = read_config,
	.write_config = write_config,
	.reset = reset,
};

/* The frontend's window or viewer size: the guest hears of it as a display
 * event (§5.7.4.1) and reads the new size with GET_DISPLAY_INFO. */
static void preferred_size(void *opaque, unsigned width, unsigned height)
{
	struct virtio_gpu *gpu = opaque;
	width = CLAMP(width, VIRTIO_GPU_MIN_SIZE, EDID_MAX_SIDE);   /* what the EDID can describe */
	height = CLAMP(height, VIRTIO_GPU_MIN_SIZE, EDID_MAX_SIDE);
	g_mutex_lock(&gpu->display_lock);
	bool changed = width != gpu->width || height != gpu->height;
	gpu->width = width;
	gpu->height = height;
	if (changed)
		gpu->events_read |= VIRTIO_GPU_EVENT_DISPLAY;
	g_mutex_unlock(&gpu->display_lock);
	if (changed)
		virtio_pci_config_changed(&gpu->vp);
}

static const struct console_display_ops display_ops = { .preferred_size = preferred_size };

int virtio_gpu_init(struct virtio_gpu *gpu, struct console *console, GMainContext *io_context,
		    const struct guest_mem *mem, struct irq_line intx,
		    const struct virtio_host_ops *host, void *host_opaque)
{
	struct virtio_pci_config config = {
		.device_id = VIRTIO_ID_GPU,
		.class_code = VIRTIO_GPU_CLASS,
		.features = 1ull << VIRTIO_GPU_F_EDID,
		.num_queues = 2,
		.config_size = CONFIG_SIZE,
		.io_context = io_context,
		.mem = mem,
		.intx = intx,
	};
	memset(gpu, 0, sizeof(*gpu));
	gpu->console = console;
	gpu->width = VIRTIO_GPU_DEFAULT_WIDTH;
	gpu->height = VIRTIO_GPU_DEFAULT_HEIGHT;
	g_mutex_init(&gpu->display_lock);
	gpu->resources = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, resource_free);
	int err = virtio_pci_init(&gpu->vp, &config, &gpu_ops, gpu, host, host_opaque);
	if (err < 0) {
		g_hash_table_unref(gpu->resources);
		g_mutex_clear(&gpu->display_lock);
		return err;
	}
	console_set_display(console, &display_ops, gpu);
	return 0;
}

void virtio_gpu_destroy(struct virtio_gpu *gpu)
{
	console_set_display(gpu->console, NULL, NULL);
	remove_all_resources(gpu);
	virtio_pci_destroy(&gpu->vp);
	g_hash_table_unref(gpu->resources);
	g_mutex_clear(&gpu->display_lock);
}

/* --- device object (core/device.h) ----------------------------------- */

/* Resources are saved in id order, each with its pixels and the guest
 * addresses of its backing; the cursor is not kept (the guest sets it
 * again when it moves). */
static void save_resource(struct state_writer *w, const struct gpu_resource *res)
{
	char name[48];
	state_put_uint(w, "resource.id", res->id, 4);
	state_put_uint(w, "resource.format", res->format->id, 4);
	state_put_uint(w, "resource.width", res->width, 4);
	state_put_uint(w, "resource.height", res->height, 4);
	state_put_bytes(w, "resource.pixels", res->pixels, (size_t)res->width * res->height * BYTES_PER_PIXEL);
	state_put_uint(w, "resource.backing_count", res->backing_count, 4);
	for (unsigned i = 0; i < res->backing_count; i++) {
		g_snprintf(name, sizeof(name), "resource.backing%u.addr", i);
		state_put_uint(w, name, res->backing_addr[i], 8);
		g_snprintf(name, sizeof(name), "resource.backing%u.len", i);
		state_put_uint(w, name, res->backing[i].iov_len, 4);
	}
}

static gint compare_ids(gconstpointer a, gconstpointer b)
{
	guint x = GPOINTER_TO_UINT(a), y = GPOINTER_TO_UINT(b);
	return x < y ? -1 : x > y;
}

static const struct state_field gpu_state[] = {
	STATE_FIELD(struct virtio_gpu, scanout_resource), STATE_FIELD(struct virtio_gpu, scanout_rect.x),
	STATE_FIELD(struct virtio_gpu, scanout_rect.y), STATE_FIELD(struct virtio_gpu, scanout_rect.width),
	STATE_FIELD(struct virtio_gpu, scanout_rect.height), STATE_FIELD(struct virtio_gpu, width),
	STATE_FIELD(struct virtio_gpu, height), STATE_FIELD(struct virtio_gpu, events_read),
};

static void gpu_save(void *opaque, struct state_writer *w)
{
	struct virtio_gpu *gpu = opaque;
	virtio_pci_save(&gpu->vp, w);
	g_mutex_lock(&gpu->display_lock);
	state_put_fields(w, "", gpu_state, G_N_ELEMENTS(gpu_state), gpu);
	g_mutex_unlock(&gpu->display_lock);
	GList *ids = g_list_sort(g_hash_table_get_keys(gpu->resources), compare_ids);
	state_put_uint(w, "resources", g_list_length(ids), 4);
	for (GList *l = ids; l; l = l->next)
		save_resource(w, find_resource(gpu, GPOINTER_TO_UINT(l->data)));
	g_list_free(ids);
}

static bool load_backing(struct virtio_gpu *gpu, struct gpu_resource *res, struct state_reader *r)
{
	uint64_t count, value;
	char name[48];
	if (!state_get_uint(r, "resource.backing_count", &count, 4) ||
	    !state_check(r, count <= MAX_BACKING_ENTRIES, "too many backing entries") ||
	    !state_check(r, !count || budget_holds(gpu, backing_bytes((uint32_t)count)), "the backings exceed the budget"))
		return false;
	if (!count)
		return true;
	g_autofree uint64_t *addr = g_new(uint64_t, count);
	g_autofree uint32_t *len = g_new(uint32_t, count);
	for (unsigned i = 0; i < count; i++) {
		g_snprintf(name, sizeof(name), "resource.backing%u.addr", i);
		if (!state_get_uint(r, name, &addr[i], 8))
			return false;
		g_snprintf(name, sizeof(name), "resource.backing%u.len", i);
		if (!state_get_uint(r, name, &value, 4))
			return false;
		len[i] = (uint32_t)value;
	}
	return state_check(r, set_backing(gpu, res, addr, len, (unsigned)count), "a backing entry is not guest RAM");
}

static bool load_resource(struct virtio_gpu *gpu, struct state_reader *r)
{
	uint64_t id, format, width, height;
	if (!state_get_uint(r, "resource.id", &id, 4) || !state_get_uint(r, "resource.format", &format, 4) ||
	    !state_get_uint(r, "resource.width", &width, 4) || !state_get_uint(r, "resource.height", &height, 4) ||
	    !state_check(r, create_resource(gpu, (uint32_t)id, (uint32_t)format, (uint32_t)width, (uint32_t)height) ==
				    RESP_OK_NODATA, "a resource cannot be made"))
		return false;
	struct gpu_resource *res = find_resource(gpu, (uint32_t)id);
	return state_get_bytes(r, "resource.pixels", res->pixels, (size_t)width * height * BYTES_PER_PIXEL) &&
	       load_backing(gpu, res, r);
}

/* The scanout shows its resource again, if the record has a valid one. */
static bool load_scanout(struct virtio_gpu *gpu, struct state_reader *r)
{
	uint32_t id = gpu->scanout_resource;
	const struct console_rect *s = &gpu->scanout_rect;
	struct gpu_rect rect = { s->x, s->y, s->width, s->height };
	struct gpu_resource *res = id ? find_resource(gpu, id) : NULL;
	scanout_disable(gpu);
	if (!id)
		return true;
	if (!state_check(r, res && rect_inside(&rect, res), "the scanout shows no valid resource"))
		return false;
	scanout_show(gpu, res, &rect);
	return true;
}

static bool gpu_load(void *opaque, struct state_reader *r)
{
	struct virtio_gpu *gpu = opaque;
	uint64_t count;
	remove_all_resources(gpu);
	if (!virtio_pci_load(&gpu->vp, r))
		return false;
	g_mutex_lock(&gpu->display_lock);
	bool ok = state_get_fields(r, "", gpu_state, G_N_ELEMENTS(gpu_state), gpu) &&
		  state_check(r, gpu->width >= VIRTIO_GPU_MIN_SIZE && gpu->width <= EDID_MAX_SIDE &&
				 gpu->height >= VIRTIO_GPU_MIN_SIZE && gpu->height <= EDID_MAX_SIDE,
			      "display size out of range");
	if (!ok) {
		gpu->width = VIRTIO_GPU_DEFAULT_WIDTH;
		gpu->height = VIRTIO_GPU_DEFAULT_HEIGHT;
	}
	g_mutex_unlock(&gpu->display_lock);
	ok = ok && state_get_uint(r, "resources", &count, 4);
	for (uint64_t i = 0; ok && i < count; i++)
		ok = load_resource(gpu, r);
	return ok && load_scanout(gpu, r);
}

static void gpu_teardown(void *opaque)
{
	struct virtio_gpu *gpu = opaque;
	pci_device_unplug(&gpu->vp.pci);
	virtio_gpu_destroy(gpu);
}

const struct device_ops virtio_gpu_device_ops = {
	"virtio-gpu", 1, virtio_device_reset, gpu_teardown, gpu_save, gpu_load, pci_function_claims,
};
