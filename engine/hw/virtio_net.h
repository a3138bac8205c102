/* virtio network device (virtio 1.2 §5.1): one receive and one transmit
 * queue, a MAC address and link status, frames to and from a net_backend.
 * Both queues run on the backend's I/O context. */
#ifndef VIREO_HW_VIRTIO_NET_H
#define VIREO_HW_VIRTIO_NET_H

#include "core/device.h"
#include "backend/net.h"
#include "hw/virtio_pci.h"

#define VIRTIO_NET_RX_BACKLOG 64

struct virtio_net {
	struct virtio_pci vp;
	struct net_backend *backend;
	uint8_t mac[6];
	/* Frames that arrived while the driver had no receive buffer posted. */
	GQueue backlog;
	uint8_t tx_frame[NET_MAX_FRAME];
};

int virtio_net_init(struct virtio_net *net, struct net_backend *backend, const uint8_t mac[6],
		    GMainContext *io_context, const struct guest_mem *mem, struct irq_line intx,
		    const struct virtio_host_ops *host, void *host_opaque);
void virtio_net_destroy(struct virtio_net *net);

extern const struct device_ops virtio_net_device_ops;

#endif
