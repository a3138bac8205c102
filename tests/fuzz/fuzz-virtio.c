/* libFuzzer target: random virtqueue contents for virtio-blk, virtio-net,
 * virtio-rng and virtio-gpu.
 *
 * The devices are set up once (virtio-board.c: the network card's backend
 * sends every transmitted frame straight back, so transmit inputs exercise
 * the receive path too, and the GPU's console has a listener that reads
 * the surface where it changed, so that ASan sees a surface left pointing
 * at freed pixels). Each input picks a device and a
 * queue, the negotiated ring features and the queue size, then
 * fills the available ring, the descriptor table and a data area of guest
 * RAM with its bytes and kicks the queue. Whatever the bytes, the device
 * must answer with a status or DEVICE_NEEDS_RESET, and the heap may not
 * grow beyond what the devices account for (virtio-board.h); ASan/UBSan catch
 * any access outside guest RAM or the engine's own buffers. */
#include <glib.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-ops.h"
#include "vdriver.h"
#include "virtio-board.h"
#include "vplatform-bus.h"

#define RING_GPA 0x10000
#define DATA_GPA 0x20000  /* after the rings of two queues */
#define DESC_BYTES 4096
#define AVAIL_BYTES 520
#define MMIO_BASE 0xE0000000ull
#define F_INDIRECT (1ull << 28)
#define F_EVENT_IDX (1ull << 29)

static struct {
	struct virtio_board board;
	struct bus_platform bp;
	struct vplatform platform;
} fz;

static void set_up(void)
{
	struct virtio_board *b = &fz.board;
	vboard_init(b, false);
	fz.bp = (struct bus_platform){ &b->pio, &b->mmio, b->ram, b->ctx };
	bus_platform_init(&fz.platform, &fz.bp);
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
	if (!fz.board.ram)
		set_up();
	if (size < 2)
		return 0;
	/* From here: libFuzzer's own allocations are in the count too. */
	size_t before = fuzz_heap_bytes();
	const struct target *t = &targets[(data[0] & 7) % G_N_ELEMENTS(targets)];
	unsigned id = t->id, queue = t->queue;
	uint64_t features = ~0ull & ~(data[0] & 8 ? F_INDIRECT : 0) & ~(data[0] & 16 ? F_EVENT_IDX : 0);
	uint16_t queue_size = (uint16_t)(1u << (data[1] % 9));
	struct fuzz_input in = { data + 2, size - 2 };
	if (!vdev_find(&d, &fz.platform, id, 0, MMIO_BASE) || !vdev_negotiate(&d, features) ||
	    !vdev_queue_setup(&d, 0, queue_size, RING_GPA) ||
	    (t->queues == 2 && !vdev_queue_setup(&d, 1, queue_size, RING_GPA + 0x4000)))
		abort();
	vdev_driver_ok(&d);
	uint64_t ring = RING_GPA + queue * 0x4000ull;
	/* The small available ring first, so short inputs already reach the descriptors. */
	fuzz_bytes(&in, fz.board.ram + ring + 0x1000, AVAIL_BYTES);
	fuzz_bytes(&in, fz.board.ram + ring, DESC_BYTES);
	fuzz_bytes(&in, fz.board.ram + DATA_GPA, VBOARD_RAM_SIZE - DATA_GPA);
	fz.platform.mmio_write(&fz.bp, d.queues[queue].notify_addr, queue, 2);
	uint8_t status = vdev_status(&d);
	if (status != 0xF && status != (0xF | VIRTIO_STATUS_NEEDS_RESET))
		abort();
	/* What the devices held for the last input went at the reset above. */
	fuzz_check_heap("fuzz-virtio", before, vboard_accounted(&fz.board), VBOARD_HEAP_SLACK);
	return 0;
}
