/* libFuzzer target: random virtqueue contents for virtio-blk, virtio-net,
 * virtio-rng and virtio-gpu.
 *
 * The devices are set up once, as in the register-level tests; the network
 * card's backend sends every transmitted frame straight back, so transmit
 * inputs exercise the receive path too. The GPU's console has a listener
 * that reads the surface where it changed, so that ASan sees a surface left
 * pointing at freed pixels. Each input picks a device and a
 * queue, the negotiated ring features and the queue size, then
 * fills the available ring, the descriptor table and a data area of guest
 * RAM with its bytes and kicks the queue. Whatever the bytes, the device
 * must answer with a status or DEVICE_NEEDS_RESET; ASan/UBSan catch any
 * access outside guest RAM or the engine's own buffers. */
#include <glib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "hw/pci.h"
#include "hw/virtio_blk.h"
#include "hw/virtio_gpu.h"
#include "hw/virtio_net.h"
#include "hw/virtio_rng.h"
#include "vdriver.h"
#include "vplatform-bus.h"

#define RAM_SIZE (1u << 20)
#define RING_GPA 0x10000
#define DATA_GPA 0x20000  /* after the rings of two queues */
#define DESC_BYTES 4096
#define AVAIL_BYTES 520
#define MMIO_BASE 0xE0000000ull
#define F_INDIRECT (1ull << 28)
#define F_EVENT_IDX (1ull << 29)

static struct {
	uint8_t *ram;
	struct guest_mem mem;
	struct bus pio, mmio;
	struct pci_bus pci;
	struct block_backend disk;
	struct virtio_blk blk;
	struct virtio_rng rng;
	struct net_backend loopback;
	struct virtio_net net;
	struct console console;
	struct virtio_gpu gpu;
	struct bus_platform bp;
	struct vplatform platform;
} fz;

static void loop_back(struct net_backend *backend, const uint8_t *frame, size_t len)
{
	if (backend->receive)
		backend->receive(backend->receive_opaque, frame, len);
}

/* Reads the first and last rows of `rect` of the current surface. */
static void touch_rows(const struct console_surface *surface, unsigned x, unsigned y, unsigned width,
		       unsigned height)
{
	if (surface->format == CONSOLE_FORMAT_NONE || !width || !height)
		return;
	g_autofree uint32_t *row = g_new(uint32_t, width);
	console_read_row(surface, x, y, width, row);
	console_read_row(surface, x, y + height - 1, width, row);
}

static void surface_changed(void *opaque, const struct console_surface *surface)
{
	(void)opaque;
	touch_rows(surface, 0, 0, surface->width, surface->height);
}

static void surface_update(void *opaque, const struct console_rect *rect)
{
	touch_rows(&((struct console *)opaque)->surface, rect->x, rect->y, rect->width, rect->height);
}

static const struct console_listener reader = { surface_changed, surface_update, NULL, &fz.console };

static void set_up(void)
{
	static const uint8_t mac[6] = { 0x52, 0x54, 0, 0x12, 0x34, 0x56 };
	char *error = NULL;
	int fd = memfd_create("fuzz-disk", 0);
	if (fd < 0 || ftruncate(fd, 1 << 20) < 0)
		abort();
	g_autofree char *path = g_strdup_printf("/proc/self/fd/%d", fd);
	fz.ram = g_malloc0(RAM_SIZE);
	guest_mem_add(&fz.mem, 0, RAM_SIZE, fz.ram);
	bus_init(&fz.pio);
	bus_init(&fz.mmio);
	GMainContext *ctx = g_main_context_new();
	struct irq_line none = { 0 };
	fz.loopback.send = loop_back;
	console_init(&fz.console);
	if (pci_bus_init(&fz.pci, &fz.pio, &fz.mmio) < 0 || block_open(&fz.disk, path, false, &error) < 0 ||
	    virtio_blk_init(&fz.blk, &fz.disk, "fuzz", 1, ctx, &fz.mem, none, NULL, NULL) < 0 ||
	    virtio_rng_init(&fz.rng, ctx, &fz.mem, none, NULL, NULL) < 0 ||
	    virtio_net_init(&fz.net, &fz.loopback, mac, ctx, &fz.mem, none, NULL, NULL) < 0 ||
	    virtio_gpu_init(&fz.gpu, &fz.console, ctx, &fz.mem, none, NULL, NULL) < 0 ||
	    !console_add_listener(&fz.console, &reader) || pci_bus_add(&fz.pci, &fz.gpu.vp.pci, 4, 0) < 0 ||
	    pci_bus_add(&fz.pci, &fz.blk.vp.pci, 1, 0) < 0 || pci_bus_add(&fz.pci, &fz.rng.vp.pci, 2, 0) < 0 ||
	    pci_bus_add(&fz.pci, &fz.net.vp.pci, 3, 0) < 0)
		abort();
	fz.bp = (struct bus_platform){ &fz.pio, &fz.mmio, fz.ram, ctx };
	bus_platform_init(&fz.platform, &fz.bp);
}

static size_t take(uint8_t *dst, size_t room, const uint8_t **data, size_t *size)
{
	size_t n = MIN(room, *size);
	memcpy(dst, *data, n);
	*data += n;
	*size -= n;
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What an input's first byte can pick: a device (virtio ID), the queue it
 * fills, and how many queues the device needs set up. */
struct target {
	unsigned id, queue, queues;
};

static const struct target targets[] = {
	{ 2, 0, 1 },                        /* blk */
	{ 4, 0, 1 },                        /* rng */
	{ 1, 0, 2 }, { 1, 1, 2 },           /* net receive, transmit */
	{ VIRTIO_ID_GPU, 0, 2 }, { VIRTIO_ID_GPU, 1, 2 },  /* gpu controlq, cursorq */
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vdevice d;
	if (!fz.ram)
		set_up();
	if (size < 2)
		return 0;
	const struct target *t = &targets[(data[0] & 7) % G_N_ELEMENTS(targets)];
	unsigned id = t->id, queue = t->queue;
	uint64_t features = ~0ull & ~(data[0] & 8 ? F_INDIRECT : 0) & ~(data[0] & 16 ? F_EVENT_IDX : 0);
	uint16_t queue_size = (uint16_t)(1u << (data[1] % 9));
	data += 2;
	size -= 2;
	if (!vdev_find(&d, &fz.platform, id, 0, MMIO_BASE) || !vdev_negotiate(&d, features) ||
	    !vdev_queue_setup(&d, 0, queue_size, RING_GPA) ||
	    (t->queues == 2 && !vdev_queue_setup(&d, 1, queue_size, RING_GPA + 0x4000)))
		abort();
	vdev_driver_ok(&d);
	uint64_t ring = RING_GPA + queue * 0x4000ull;
	/* The small available ring first, so short inputs already reach the descriptors. */
	take(fz.ram + ring + 0x1000, AVAIL_BYTES, &data, &size);
	take(fz.ram + ring, DESC_BYTES, &data, &size);
	take(fz.ram + DATA_GPA, RAM_SIZE - DATA_GPA, &data, &size);
	fz.platform.mmio_write(&fz.bp, d.queues[queue].notify_addr, queue, 2);
	uint8_t status = vdev_status(&d);
	if (status != 0xF && status != (0xF | VIRTIO_STATUS_NEEDS_RESET))
		abort();
	return 0;
}
