/* The virtio devices the fuzz targets drive, on one PCI bus with guest RAM:
 * virtio-blk on a memfd disk, virtio-net whose backend sends every frame
 * straight back (so transmit inputs reach the receive path too), virtio-rng
 * and virtio-gpu with a console whose every changed row is read. Shared by
 * fuzz-virtio (queue contents) and fuzz-virtio-transport (registers). */
#ifndef VIREO_FUZZ_VIRTIO_BOARD_H
#define VIREO_FUZZ_VIRTIO_BOARD_H

#include "core/guest_mem.h"
#include "hw/pci.h"
#include "hw/virtio_blk.h"
#include "hw/virtio_gpu.h"
#include "hw/virtio_net.h"
#include "hw/virtio_rng.h"

#define VBOARD_RAM_SIZE (1u << 20)
#define VBOARD_DEVICES 4

struct virtio_board {
	uint8_t *ram;
	struct guest_mem mem;
	struct bus pio, mmio;
	struct pci_bus pci;
	GMainContext *ctx;
	struct block_backend disk;
	struct virtio_blk blk;
	struct virtio_rng rng;
	struct net_backend loopback;
	struct virtio_net net;
	struct console console;
	struct virtio_gpu gpu;
	struct virtio_pci *devices[VBOARD_DEVICES];  /* in slot order, from slot 1 */
};

/* Everything above, the devices in slots 1-4 (blk, rng, net, gpu); with
 * `assign_bars`, their BARs placed and decoding as firmware leaves them. */
void vboard_init(struct virtio_board *b, bool assign_bars);
void vboard_destroy(struct virtio_board *b);

/* Runs the queue work the devices have on their I/O context. */
void vboard_drain(struct virtio_board *b);

/* What the devices say they hold for the guest: virtio-gpu's resources
 * (its host_memory budget) and the frames virtio-net keeps for a guest
 * that has no receive buffers yet (at most VIRTIO_NET_RX_BACKLOG). */
uint64_t vboard_accounted(const struct virtio_board *b);

/* The heap may hold vboard_accounted(), and this much more for the
 * devices' own bookkeeping while an input runs. */
#define VBOARD_HEAP_SLACK (1u << 20)

#endif
