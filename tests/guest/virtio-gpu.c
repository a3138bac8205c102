/* virtio-gpu (2D) as Linux's virtio-gpu DRM driver uses it: display info
 * and EDID, a 640x480 scanout from a resource with two backing entries, a
 * partial update, a cursor on the cursor queue, requests the device must
 * refuse, and a new mode when the display changes size. Each step prints
 * one "gpu: ..." line for the test to wait for; the test checks the pixels
 * over VNC, and sends a byte on COM1 once it has seen the resized screen.
 * With "flood" on its command line it only creates resources until the
 * device refuses (issue 13).
 *
 * Commands and structures: virtio 1.2 §5.7 "GPU Device". */
#include "runtime.h"
#include "vdriver-guest.h"

#define VIRTIO_ID_GPU 16                     /* §5 device ID */
#define VIRTIO_GPU_F_EDID_BIT (1ull << 1)    /* §5.7.3 */
#define CONTROLQ 0                           /* §5.7.2 */
#define CURSORQ 1

/* §5.7.4 device configuration layout. */
#define CONFIG_EVENTS_READ 0
#define CONFIG_EVENTS_CLEAR 4
#define VIRTIO_GPU_EVENT_DISPLAY 1

/* §5.7.6.7 request and response types. */
#define CMD_GET_DISPLAY_INFO 0x0100
#define CMD_RESOURCE_CREATE_2D 0x0101
#define CMD_SET_SCANOUT 0x0103
#define CMD_RESOURCE_FLUSH 0x0104
#define CMD_TRANSFER_TO_HOST_2D 0x0105
#define CMD_RESOURCE_ATTACH_BACKING 0x0106
#define CMD_GET_EDID 0x010A
#define CMD_UPDATE_CURSOR 0x0300
#define CMD_MOVE_CURSOR 0x0301
#define RESP_OK_NODATA 0x1100
#define RESP_OK_DISPLAY_INFO 0x1101
#define RESP_OK_EDID 0x1104
#define RESP_ERR_FIRST 0x1200

/* §5.7.6.8 formats. */
#define FORMAT_B8G8R8A8_UNORM 1
#define FORMAT_B8G8R8X8_UNORM 2

#define VIRTIO_GPU_MAX_SCANOUTS 16           /* §5.7.6.8 GET_DISPLAY_INFO */
#define EDID_MAX 1024                        /* §5.7.6.8 GET_EDID */
#define EDID_BLOCK 128
#define EDID_FIRST_DTD 54                    /* VESA E-EDID 1.4 §3.10 */

#define WIDTH 640
#define HEIGHT 480
#define STRIDE (WIDTH * 4)
#define CURSOR_SIZE 64
#define CURSOR_SQUARE 16

/* Backing memory, far above the image (at 1 MiB, well under 1 MiB long):
 * the two halves of resource 1 at separate addresses so the device has to
 * gather them, the cursor, and the resized screen (up to 64 MiB). */
#define FB_TOP_GPA 0x01000000u
#define FB_BOTTOM_GPA 0x01400000u
#define CURSOR_GPA 0x01800000u
#define RESIZED_GPA 0x02000000u
#define RESIZED_MAX (64u << 20)
#define OUTSIDE_RAM_GPA 0xFFFFF000000ull

/* The flood (see flood()): a list of the most entries one ATTACH_BACKING
 * may carry (256 KiB of them), past the resized screen's room, and the
 * most resources: 2048 such lists are twice the device's 256 MiB budget. */
#define FLOOD_LIST_GPA 0x06000000u
#define FLOOD_ENTRIES 16384
#define FLOOD_MAX_RESOURCES 2048

struct ctrl_hdr {                            /* §5.7.6.7 */
	uint32_t type, flags;
	uint64_t fence_id;
	uint32_t ctx_id;
	uint8_t ring_idx, padding[3];
};

struct rect {
	uint32_t x, y, width, height;
};

struct resp_display_info {
	struct ctrl_hdr hdr;
	struct {
		struct rect r;
		uint32_t enabled, flags;
	} pmodes[VIRTIO_GPU_MAX_SCANOUTS];
};

struct get_edid {
	struct ctrl_hdr hdr;
	uint32_t scanout, padding;
};

struct resp_edid {
	struct ctrl_hdr hdr;
	uint32_t size, padding;
	uint8_t edid[EDID_MAX];
};

struct resource_create_2d {
	struct ctrl_hdr hdr;
	uint32_t resource_id, format, width, height;
};

struct mem_entry {
	uint64_t addr;
	uint32_t length, padding;
};

struct resource_attach_backing {
	struct ctrl_hdr hdr;
	uint32_t resource_id, nr_entries;        /* the entries follow, in their own buffer as Linux sends them */
};

struct set_scanout {
	struct ctrl_hdr hdr;
	struct rect r;
	uint32_t scanout_id, resource_id;
};

struct resource_flush {
	struct ctrl_hdr hdr;
	struct rect r;
	uint32_t resource_id, padding;
};

struct transfer_to_host_2d {
	struct ctrl_hdr hdr;
	struct rect r;
	uint64_t offset;
	uint32_t resource_id, padding;
};

struct update_cursor {                       /* §5.7.6.10 */
	struct ctrl_hdr hdr;
	struct {
		uint32_t scanout_id, x, y, padding;
	} pos;
	uint32_t resource_id, hot_x, hot_y, padding;
};

_Static_assert(sizeof(struct ctrl_hdr) == 24, "ctrl_hdr");
_Static_assert(sizeof(struct resp_display_info) == 24 + 16 * 24, "resp_display_info");
_Static_assert(sizeof(struct resp_edid) == 32 + EDID_MAX, "resp_edid");
_Static_assert(sizeof(struct transfer_to_host_2d) == 56, "transfer_to_host_2d");
_Static_assert(sizeof(struct mem_entry) == 16, "mem_entry");
_Static_assert(sizeof(struct update_cursor) == 56, "update_cursor");

static uint8_t rings[2][0x4000] __attribute__((aligned(4096)));
static union {
	struct ctrl_hdr hdr;
	struct get_edid get_edid;
	struct resource_create_2d create;
	struct resource_attach_backing attach;
	struct set_scanout scanout;
	struct resource_flush flush;
	struct transfer_to_host_2d transfer;
} cmd;
static struct mem_entry entries[2];
static union {
	struct ctrl_hdr hdr;
	struct resp_display_info display;
	struct resp_edid edid;
} resp;
static struct update_cursor cursor_cmd;
static struct vdevice dev;

/* Posts a control request as Linux's virtio_gpu_queue_ctrl_sgs does: the
 * command, then any data (the backing entries), then the response buffer;
 * waits for it and returns the response type (0 on a timeout). */
static uint32_t control(uint32_t type, unsigned cmd_len, const void *data, unsigned data_len, unsigned resp_len)
{
	struct vbuf bufs[3];
	unsigned n = 0;
	cmd.hdr.type = type;
	bufs[n++] = (struct vbuf){ gpa_of(&cmd), cmd_len, false };
	if (data_len)
		bufs[n++] = (struct vbuf){ gpa_of(data), data_len, false };
	resp.hdr.type = 0;
	bufs[n++] = (struct vbuf){ gpa_of(&resp), resp_len, true };
	vq_submit(&dev, CONTROLQ, bufs, n);
	if (!vq_poll(&dev, CONTROLQ, 0, GUEST_POLL_SPINS))
		return 0;
	return resp.hdr.type;
}

/* Prints the error line when the response is not `want`. */
static bool expect(const char *name, uint32_t got, uint32_t want)
{
	if (got == want)
		return true;
	print("gpu: error %s -> 0x%x\n", name, got);
	return false;
}

static void clear_cmd(void)
{
	memset(&cmd, 0, sizeof(cmd));
}

static uint32_t create_2d(uint32_t id, uint32_t format, uint32_t width, uint32_t height)
{
	clear_cmd();
	cmd.create = (struct resource_create_2d){ .resource_id = id, .format = format, .width = width, .height = height };
	return control(CMD_RESOURCE_CREATE_2D, sizeof(cmd.create), 0, 0, sizeof(struct ctrl_hdr));
}

static uint32_t attach_list(uint32_t id, const struct mem_entry *list, unsigned count)
{
	clear_cmd();
	cmd.attach = (struct resource_attach_backing){ .resource_id = id, .nr_entries = count };
	return control(CMD_RESOURCE_ATTACH_BACKING, sizeof(cmd.attach), list, count * sizeof(list[0]),
		       sizeof(struct ctrl_hdr));
}

static uint32_t attach_backing(uint32_t id, unsigned count)
{
	return attach_list(id, entries, count);
}

static uint32_t transfer(uint32_t id, struct rect r, uint64_t offset)
{
	clear_cmd();
	cmd.transfer = (struct transfer_to_host_2d){ .r = r, .offset = offset, .resource_id = id };
	return control(CMD_TRANSFER_TO_HOST_2D, sizeof(cmd.transfer), 0, 0, sizeof(struct ctrl_hdr));
}

static uint32_t set_scanout(uint32_t scanout, uint32_t id, struct rect r)
{
	clear_cmd();
	cmd.scanout = (struct set_scanout){ .r = r, .scanout_id = scanout, .resource_id = id };
	return control(CMD_SET_SCANOUT, sizeof(cmd.scanout), 0, 0, sizeof(struct ctrl_hdr));
}

static uint32_t flush(uint32_t id, struct rect r)
{
	clear_cmd();
	cmd.flush = (struct resource_flush){ .r = r, .resource_id = id };
	return control(CMD_RESOURCE_FLUSH, sizeof(cmd.flush), 0, 0, sizeof(struct ctrl_hdr));
}

static bool display_info(uint32_t *width, uint32_t *height, uint32_t *enabled)
{
	clear_cmd();
	if (!expect("GET_DISPLAY_INFO", control(CMD_GET_DISPLAY_INFO, sizeof(struct ctrl_hdr), 0, 0,
						  sizeof(resp.display)), RESP_OK_DISPLAY_INFO))
		return false;
	*width = resp.display.pmodes[0].r.width;
	*height = resp.display.pmodes[0].r.height;
	*enabled = resp.display.pmodes[0].enabled;
	return true;
}

/* Cursor requests carry no response buffer (virtio_gpu_queue_cursor):
 * the used ring says the device took it. */
static bool cursor(uint32_t type, uint32_t x, uint32_t y)
{
	cursor_cmd.hdr.type = type;
	cursor_cmd.pos.x = x;
	cursor_cmd.pos.y = y;
	struct vbuf b = { gpa_of(&cursor_cmd), sizeof(cursor_cmd), false };
	vq_submit(&dev, CURSORQ, &b, 1);
	if (vq_poll(&dev, CURSORQ, 0, GUEST_POLL_SPINS))
		return true;
	print("gpu: error %s -> timeout\n", type == CMD_UPDATE_CURSOR ? "UPDATE_CURSOR" : "MOVE_CURSOR");
	return false;
}

/* True when the PVH memory map has RAM over [gpa, gpa + len). */
static bool is_ram(uint64_t gpa, uint64_t len)
{
	const struct { uint64_t addr, size; uint32_t type, reserved; } *map =
		(const void *)(uintptr_t)start_info->memmap_paddr;
	for (uint32_t i = 0; i < start_info->memmap_entries; i++)
		if (map[i].type == 1 && map[i].addr <= gpa && gpa + len <= map[i].addr + map[i].size)
			return true;
	print("gpu: FAIL no RAM at 0x%x, %u bytes: give the guest more memory\n", (uint32_t)gpa, (uint32_t)len);
	return false;
}

/* Resource 1's pixels: the top half of the rows at one address, the bottom
 * half at another. */
static uint32_t *fb_row(unsigned y)
{
	if (y < HEIGHT / 2)
		return (uint32_t *)(uintptr_t)FB_TOP_GPA + y * WIDTH;
	return (uint32_t *)(uintptr_t)FB_BOTTOM_GPA + (y - HEIGHT / 2) * WIDTH;
}

static bool find_device(void)
{
	if (!vdev_find(&dev, &guest_platform, VIRTIO_ID_GPU, 0, GUEST_MMIO_BASE) ||
	    !vdev_negotiate(&dev, VIRTIO_F_VERSION_1_BIT | VIRTIO_GPU_F_EDID_BIT) ||
	    !(dev.features & VIRTIO_F_VERSION_1_BIT) ||
	    !vdev_queue_setup(&dev, CONTROLQ, VDRIVER_QUEUE_SIZE, gpa_of(rings[CONTROLQ])) ||
	    !vdev_queue_setup(&dev, CURSORQ, VDRIVER_QUEUE_SIZE, gpa_of(rings[CURSORQ]))) {
		print("gpu: FAIL no device\n");
		return false;
	}
	vdev_driver_ok(&dev);
	print("gpu: found, edid feature %u\n", (dev.features & VIRTIO_GPU_F_EDID_BIT) ? 1 : 0);
	return true;
}

static bool edid(void)
{
	static const uint8_t header[8] = { 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x00 };
	clear_cmd();
	cmd.get_edid.scanout = 0;
	if (!expect("GET_EDID", control(CMD_GET_EDID, sizeof(cmd.get_edid), 0, 0, sizeof(resp.edid)), RESP_OK_EDID))
		return false;
	const uint8_t *e = resp.edid.edid;
	if (resp.edid.size < EDID_BLOCK || resp.edid.size > EDID_MAX) {
		print("gpu: FAIL edid size %u\n", resp.edid.size);
		return false;
	}
	for (unsigned i = 0; i < sizeof(header); i++)
		if (e[i] != header[i]) {
			print("gpu: FAIL edid header byte %u is 0x%02x\n", i, e[i]);
			return false;
		}
	uint8_t sum = 0;
	for (unsigned i = 0; i < EDID_BLOCK; i++)
		sum = (uint8_t)(sum + e[i]);
	if (sum) {
		print("gpu: FAIL edid checksum 0x%02x\n", sum);
		return false;
	}
	/* Detailed timing: active pixels in bytes 2 and 4 (high nibble: bits
	 * 11-8), active lines in bytes 5 and 7. */
	const uint8_t *dtd = e + EDID_FIRST_DTD;
	unsigned w = dtd[2] | (dtd[4] & 0xF0) << 4, h = dtd[5] | (dtd[7] & 0xF0) << 4;
	print("gpu: edid %u bytes, checksum ok, preferred %ux%u\n", resp.edid.size, w, h);
	return true;
}

static bool scanout_640x480(void)
{
	const struct rect whole = { 0, 0, WIDTH, HEIGHT };
	if (!is_ram(FB_TOP_GPA, STRIDE * HEIGHT / 2) || !is_ram(FB_BOTTOM_GPA, STRIDE * HEIGHT / 2))
		return false;
	if (!expect("RESOURCE_CREATE_2D", create_2d(1, FORMAT_B8G8R8X8_UNORM, WIDTH, HEIGHT), RESP_OK_NODATA))
		return false;
	entries[0] = (struct mem_entry){ FB_TOP_GPA, STRIDE * HEIGHT / 2, 0 };
	entries[1] = (struct mem_entry){ FB_BOTTOM_GPA, STRIDE * HEIGHT / 2, 0 };
	if (!expect("RESOURCE_ATTACH_BACKING", attach_backing(1, 2), RESP_OK_NODATA))
		return false;
	for (unsigned y = 0; y < HEIGHT; y++) {
		uint32_t *row = fb_row(y);
		for (unsigned x = 0; x < WIDTH; x++)
			row[x] = ((x * 3) & 0xFF) << 16 | ((y * 5) & 0xFF) << 8 | ((x ^ y) & 0xFF);
	}
	if (!expect("TRANSFER_TO_HOST_2D", transfer(1, whole, 0), RESP_OK_NODATA) ||
	    !expect("SET_SCANOUT", set_scanout(0, 1, whole), RESP_OK_NODATA) ||
	    !expect("RESOURCE_FLUSH", flush(1, whole), RESP_OK_NODATA))
		return false;
	print("gpu: scanout %ux%u\n", WIDTH, HEIGHT);

	const struct rect part = { 100, 120, 50, 40 };
	for (unsigned y = part.y; y < part.y + part.height; y++)
		for (unsigned x = part.x; x < part.x + part.width; x++)
			fb_row(y)[x] = 0x00FF8000;
	if (!expect("TRANSFER_TO_HOST_2D", transfer(1, part, part.y * STRIDE + part.x * 4), RESP_OK_NODATA) ||
	    !expect("RESOURCE_FLUSH", flush(1, part), RESP_OK_NODATA))
		return false;
	print("gpu: partial flush\n");
	return true;
}

/* A 16x16 opaque white square with a black ring at the top left of a
 * transparent 64x64 ARGB cursor, hot spot (1,1). */
static bool cursor_shape(void)
{
	const struct rect whole = { 0, 0, CURSOR_SIZE, CURSOR_SIZE };
	uint32_t *px = (uint32_t *)(uintptr_t)CURSOR_GPA;
	if (!is_ram(CURSOR_GPA, CURSOR_SIZE * CURSOR_SIZE * 4))
		return false;
	if (!expect("RESOURCE_CREATE_2D", create_2d(2, FORMAT_B8G8R8A8_UNORM, CURSOR_SIZE, CURSOR_SIZE),
		    RESP_OK_NODATA))
		return false;
	for (unsigned y = 0; y < CURSOR_SIZE; y++)
		for (unsigned x = 0; x < CURSOR_SIZE; x++) {
			bool inside = x < CURSOR_SQUARE && y < CURSOR_SQUARE;
			bool ring = x == 0 || y == 0 || x == CURSOR_SQUARE - 1 || y == CURSOR_SQUARE - 1;
			px[y * CURSOR_SIZE + x] = !inside ? 0 : ring ? 0xFF000000 : 0xFFFFFFFF;
		}
	entries[0] = (struct mem_entry){ CURSOR_GPA, CURSOR_SIZE * CURSOR_SIZE * 4, 0 };
	if (!expect("RESOURCE_ATTACH_BACKING", attach_backing(2, 1), RESP_OK_NODATA) ||
	    !expect("TRANSFER_TO_HOST_2D", transfer(2, whole, 0), RESP_OK_NODATA))
		return false;
	cursor_cmd = (struct update_cursor){ .pos = { 0, 0, 0, 0 }, .resource_id = 2, .hot_x = 1, .hot_y = 1 };
	if (!cursor(CMD_UPDATE_CURSOR, 200, 150) || !cursor(CMD_MOVE_CURSOR, 300, 200))
		return false;
	print("gpu: cursor %u,%u\n", cursor_cmd.pos.x, cursor_cmd.pos.y);
	return true;
}

/* Requests the device must refuse with an error response, and keep going. */
static bool hostile(void)
{
	uint32_t type = transfer(1, (struct rect){ 600, 0, 100, 10 }, 600 * 4);
	print("gpu: bad transfer -> 0x%x\n", type);
	if (type < RESP_ERR_FIRST)
		return false;
	if (!expect("RESOURCE_CREATE_2D", create_2d(3, FORMAT_B8G8R8X8_UNORM, 64, 64), RESP_OK_NODATA))
		return false;
	entries[0] = (struct mem_entry){ OUTSIDE_RAM_GPA, 64 * 64 * 4, 0 };
	type = attach_backing(3, 1);
	print("gpu: bad backing -> 0x%x\n", type);
	if (type < RESP_ERR_FIRST)
		return false;
	type = set_scanout(0, 99, (struct rect){ 0, 0, WIDTH, HEIGHT });
	print("gpu: bad scanout -> 0x%x\n", type);
	if (type < RESP_ERR_FIRST)
		return false;
	if (!expect("RESOURCE_FLUSH", flush(1, (struct rect){ 0, 0, WIDTH, HEIGHT }), RESP_OK_NODATA))
		return false;
	print("gpu: still ok\n");
	return true;
}

/* CMOS RTC seconds, to bound the wait without knowing any clock rate. */
static uint8_t rtc_seconds(void)
{
	outb(0x70, 0x00);
	return inb(0x71);
}

static bool wait_display_event(unsigned seconds)
{
	uint8_t last = rtc_seconds();
	while (seconds) {
		if (vdev_config_read(&dev, CONFIG_EVENTS_READ, 4) & VIRTIO_GPU_EVENT_DISPLAY)
			return true;
		for (volatile unsigned i = 0; i < 2000; i++)
			;
		uint8_t now = rtc_seconds();
		if (now != last) {
			last = now;
			seconds--;
		}
	}
	return false;
}

static bool display_change(void)
{
	uint32_t w, h, enabled;
	print("gpu: waiting for display change\n");
	if (!wait_display_event(60)) {
		print("gpu: no display change\n");
		return false;
	}
	vdev_config_write(&dev, CONFIG_EVENTS_CLEAR, VIRTIO_GPU_EVENT_DISPLAY, 4);
	if (!display_info(&w, &h, &enabled))
		return false;
	print("gpu: display change %ux%u\n", w, h);
	uint32_t bytes = w * h * 4;
	if (w == 0 || h == 0 || w > 16384 || h > 16384 || bytes > RESIZED_MAX) {
		print("gpu: FAIL mode %ux%u too large\n", w, h);
		return false;
	}
	if (!is_ram(RESIZED_GPA, bytes))
		return false;
	const struct rect whole = { 0, 0, w, h };
	if (!expect("RESOURCE_CREATE_2D", create_2d(4, FORMAT_B8G8R8X8_UNORM, w, h), RESP_OK_NODATA))
		return false;
	entries[0] = (struct mem_entry){ RESIZED_GPA, bytes, 0 };
	if (!expect("RESOURCE_ATTACH_BACKING", attach_backing(4, 1), RESP_OK_NODATA))
		return false;
	uint32_t *px = (uint32_t *)(uintptr_t)RESIZED_GPA;
	for (uint32_t i = 0; i < w * h; i++)
		px[i] = 0x00336699;
	if (!expect("TRANSFER_TO_HOST_2D", transfer(4, whole, 0), RESP_OK_NODATA) ||
	    !expect("SET_SCANOUT", set_scanout(0, 4, whole), RESP_OK_NODATA) ||
	    !expect("RESOURCE_FLUSH", flush(4, whole), RESP_OK_NODATA))
		return false;
	print("gpu: resized %ux%u\n", w, h);
	serial_wait();  /* the test looks at the screen before the guest ends */
	return true;
}

/* Issue 13, on the kernel command line "flood": 1x1 resources, each with
 * the longest backing list there is (one pixel of the same page, again and
 * again), until the device refuses. The test reads the engine's resident
 * memory before (it sends a byte to start) and after (while the resources
 * are still held; another byte ends the guest). A device that never
 * refuses stops the guest at twice the host budget's worth of lists. */
static bool flood(void)
{
	struct mem_entry *list = (struct mem_entry *)(uintptr_t)FLOOD_LIST_GPA;
	if (!is_ram(FLOOD_LIST_GPA, FLOOD_ENTRIES * sizeof(*list)))
		return false;
	for (unsigned i = 0; i < FLOOD_ENTRIES; i++)
		list[i] = (struct mem_entry){ FB_TOP_GPA, 4, 0 };
	print("gpu: flood ready\n");
	serial_wait();
	for (uint32_t id = 1; id <= FLOOD_MAX_RESOURCES; id++) {
		uint32_t type = create_2d(id, FORMAT_B8G8R8X8_UNORM, 1, 1);
		if (type == RESP_OK_NODATA)
			type = attach_list(id, list, FLOOD_ENTRIES);
		if (type != RESP_OK_NODATA) {
			print("gpu: flood refused resource %u with 0x%x\n", id, type);
			serial_wait();
			return true;
		}
	}
	print("gpu: FAIL flood never refused in %u resources\n", FLOOD_MAX_RESOURCES);
	return false;
}

static bool cmdline_is(const char *want)
{
	const char *p = (const char *)(uintptr_t)start_info->cmdline_paddr;
	while (p && *p && *p == *want)
		p++, want++;
	return p && !*p && !*want;
}

int main(void)
{
	uint32_t w, h, enabled;
	if (cmdline_is("flood"))
		return find_device() && flood() ? 0 : 1;
	if (!find_device() || !display_info(&w, &h, &enabled))
		return 1;
	print("gpu: display 0 %ux%u enabled %u\n", w, h, enabled);
	if ((dev.features & VIRTIO_GPU_F_EDID_BIT) && !edid())
		return 1;
	if (!scanout_640x480() || !cursor_shape() || !hostile() || !display_change())
		return 1;
	print("gpu: done\n");
	return 0;
}
