/* virtio block device (virtio 1.2 §5.2) on a raw image: read, write,
 * flush, get-id, discard and write-zeroes, read-only disks, several request
 * queues. Requests run on the disk's I/O context, straight between the image
 * file and guest memory. */
#ifndef VIREO_HW_VIRTIO_BLK_H
#define VIREO_HW_VIRTIO_BLK_H

#include "core/device.h"
#include "backend/block.h"
#include "hw/virtio_pci.h"

#define VIRTIO_BLK_ID_BYTES 20

struct virtio_blk {
	struct virtio_pci vp;
	struct block_backend *backend;
	char serial[VIRTIO_BLK_ID_BYTES];
	uint8_t writeback;             /* the driver's cache mode choice */
};

int virtio_blk_init(struct virtio_blk *blk, struct block_backend *backend, const char *serial, unsigned queues,
		    GMainContext *io_context, const struct guest_mem *mem, struct irq_line intx,
		    const struct virtio_host_ops *host, void *host_opaque);
void virtio_blk_destroy(struct virtio_blk *blk);

extern const struct device_ops virtio_blk_device_ops;

#endif
