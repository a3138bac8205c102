/* virtio entropy device (virtio 1.2 §5.4): one request queue whose
 * writable buffers are filled from the host's getrandom(). */
#ifndef VIREO_HW_VIRTIO_RNG_H
#define VIREO_HW_VIRTIO_RNG_H

#include "core/device.h"
#include "hw/virtio_pci.h"

struct virtio_rng {
	struct virtio_pci vp;
};

int virtio_rng_init(struct virtio_rng *rng, GMainContext *io_context, const struct guest_mem *mem,
		    struct irq_line intx, const struct virtio_host_ops *host, void *host_opaque);
void virtio_rng_destroy(struct virtio_rng *rng);

extern const struct device_ops virtio_rng_device_ops;

#endif
