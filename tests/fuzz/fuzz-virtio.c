/* libFuzzer target: random virtqueue contents for virtio-blk, virtio-net
 * and virtio-rng.
 *
 * The devices are set up once, as in the register-level tests; the network
 * card's backend sends every transmitted frame straight back, so transmit
 * inputs exercise the receive path too. Each input picks a device and a
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
	struct bus_platform bp;
	struct vplatform platform;
} fz;

static void loop_back(struct net_backend *backend, const uint8_t *frame, size_t len)
{
	if (backend->receive)
		backend->receive(backend->receive_opaque, frame, len);
}

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
	if (pci_bus_init(&fz.pci, &fz.pio, &fz.mmio) < 0 || block_open(&fz.disk, path, false, &error) < 0 ||
	    virtio_blk_init(&fz.blk, &fz.disk, "fuzz", 1, ctx, &fz.mem, none, NULL, NULL) < 0 ||
	    virtio_rng_init(&fz.rng, ctx, &fz.mem, none, NULL, NULL) < 0 ||
	    virtio_net_init(&fz.net, &fz.loopback, mac, ctx, &fz.mem, none, NULL, NULL) < 0 ||
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vdevice d;
	if (!fz.ram)
		set_up();
	if (size < 2)
		return 0;
	static const unsigned ids[4] = { 2, 4, 1, 1 };  /* blk, rng, net rx, net tx */
	unsigned id = ids[data[0] & 3], queue = (data[0] & 3) == 3;
	uint64_t features = ~0ull & ~(data[0] & 4 ? F_INDIRECT : 0) & ~(data[0] & 8 ? F_EVENT_IDX : 0);
	uint16_t queue_size = (uint16_t)(1u << (data[1] % 9));
	data += 2;
	size -= 2;
	if (!vdev_find(&d, &fz.platform, id, 0, MMIO_BASE) || !vdev_negotiate(&d, features) ||
	    !vdev_queue_setup(&d, 0, queue_size, RING_GPA) ||
	    (id == 1 && !vdev_queue_setup(&d, 1, queue_size, RING_GPA + 0x4000)))
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
