/* The virtio PCI transport, modern only (virtio 1.2 §4.1): vendor 0x1AF4,
 * device 0x1040 + virtio device ID, the common/notify/ISR/device-config/PCI-
 * config-access capabilities, MSI-X, feature negotiation, device status and
 * reset, and split virtqueues.
 *
 * BAR1 holds the MSI-X table and PBA; BAR4 (64-bit memory, as QEMU lays it
 * out, so guest drivers see a familiar device) holds the four register
 * areas. A queue notification (a 16-bit write to the queue's notify address)
 * signals that queue's eventfd: the engine binds the address to the eventfd
 * in KVM (ioeventfd), so it does not even exit; the device model processes
 * the queue on its I/O context, never on a vCPU thread.
 *
 * Locking: a queue's lock is held while its requests are processed and
 * while the guest resets or enables it; the register lock after it. */
#ifndef VIREO_HW_VIRTIO_PCI_H
#define VIREO_HW_VIRTIO_PCI_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/irq.h"
#include "hw/msix.h"
#include "hw/pci.h"
#include "hw/virtqueue.h"
#include "core/guest_mem.h"

/* Device IDs (§5). */
#define VIRTIO_ID_NET   1
#define VIRTIO_ID_BLOCK 2
#define VIRTIO_ID_RNG   4
#define VIRTIO_ID_GPU   16

/* Device status bits (§2.1). */
#define VIRTIO_STATUS_ACKNOWLEDGE        1
#define VIRTIO_STATUS_DRIVER             2
#define VIRTIO_STATUS_DRIVER_OK          4
#define VIRTIO_STATUS_FEATURES_OK        8
#define VIRTIO_STATUS_DEVICE_NEEDS_RESET 0x40
#define VIRTIO_STATUS_FAILED             0x80

/* Reserved feature bits (§6). */
#define VIRTIO_F_INDIRECT_DESC 28
#define VIRTIO_F_EVENT_IDX     29
#define VIRTIO_F_VERSION_1     32

/* BAR4 layout. */
#define VIRTIO_PCI_COMMON_OFFSET 0x0000
#define VIRTIO_PCI_ISR_OFFSET    0x1000
#define VIRTIO_PCI_DEVICE_OFFSET 0x2000
#define VIRTIO_PCI_NOTIFY_OFFSET 0x3000
#define VIRTIO_PCI_AREA_SIZE     0x1000
#define VIRTIO_PCI_BAR_SIZE      0x4000
#define VIRTIO_PCI_NOTIFY_MULTIPLIER 4
#define VIRTIO_PCI_REGS_BAR      4
#define VIRTIO_PCI_MSIX_BAR      1
#define VIRTIO_PCI_MSIX_PBA      0x800

#define VIRTIO_MAX_QUEUES 16

/* What the engine does for a transport; tests leave it NULL. */
struct virtio_host_ops {
	/* Bind (attach) or unbind a queue's eventfd to a 2-byte MMIO notify address. */
	void (*notify_eventfd)(void *opaque, int eventfd, uint64_t addr, bool attach);
	struct msix_route_ops msix;
};

struct virtio_pci;

/* The device model's half. */
struct virtio_device_ops {
	/* Requests are available on `queue`: pop, handle, push, and call
	 * virtio_pci_queue_done() for an interrupt. Runs on the I/O context
	 * with the queue's lock held. */
	void (*process_queue)(void *opaque, unsigned queue);
	/* Device configuration space (§4.1.4.6); writes may be NULL (read-only). */
	void (*read_config)(void *opaque, unsigned offset, void *data, unsigned size);
	void (*write_config)(void *opaque, unsigned offset, const void *data, unsigned size);
	/* The driver reset the device (all queues are stopped). May be NULL. */
	void (*reset)(void *opaque);
};

struct virtio_queue {
	GMutex lock;
	struct virtq vq;
	uint16_t msix_vector;
	int kick_fd;                  /* eventfd: the driver notified this queue */
	GSource *kick_source;
	struct virtio_pci *owner;
	unsigned index;
	struct virtq_request request;  /* the one being served (queue lock held) */
};

struct virtio_pci {
	struct pci_device pci;
	struct msix msix;
	GMutex lock;                  /* registers below */
	const struct guest_mem *mem;
	uint64_t device_features, driver_features;
	uint32_t device_feature_select, driver_feature_select;
	uint16_t config_msix_vector;
	uint16_t queue_select;
	uint8_t status;
	uint8_t config_generation;
	uint8_t isr;
	unsigned num_queues;
	unsigned config_size;
	unsigned pci_cfg_cap;         /* offset of VIRTIO_PCI_CAP_PCI_CFG */
	struct irq_line intx;
	bool intx_level;
	bool notify_mapped;
	uint64_t notify_base;         /* guest address of the notify area while mapped */
	struct virtio_queue queues[VIRTIO_MAX_QUEUES];
	const struct virtio_device_ops *ops;
	void *opaque;
	const struct virtio_host_ops *host;
	void *host_opaque;
};

struct virtio_pci_config {
	uint16_t device_id;           /* VIRTIO_ID_* */
	uint32_t class_code;
	uint64_t features;            /* device-specific bits; the transport adds its own */
	unsigned num_queues;
	unsigned config_size;         /* bytes of device configuration */
	GMainContext *io_context;     /* where queues are processed */
	const struct guest_mem *mem;
	struct irq_line intx;         /* INTA#, used while MSI-X is off */
};

/* Returns 0 or -errno; on failure nothing is left allocated. */
int virtio_pci_init(struct virtio_pci *vp, const struct virtio_pci_config *config,
		    const struct virtio_device_ops *ops, void *opaque,
		    const struct virtio_host_ops *host, void *host_opaque);
void virtio_pci_destroy(struct virtio_pci *vp);

/* The negotiated feature set (valid once FEATURES_OK is set). */
static inline bool virtio_has_feature(const struct virtio_pci *vp, unsigned bit)
{
	return vp->driver_features & (1ull << bit);
}

/* After pushing used entries: interrupts the driver if `notify` (as
 * virtq_push said). */
void virtio_pci_queue_done(struct virtio_pci *vp, unsigned queue, bool notify);

/* For devices that answer each request at once (block, rng, net tx): pops
 * every available request, hands it to `handle` (which returns the bytes it
 * wrote into the request's writable buffers), returns it, and interrupts
 * once for the batch. A malformed ring sets DEVICE_NEEDS_RESET. Call from
 * process_queue. */
void virtio_pci_serve_queue(struct virtio_pci *vp, unsigned queue,
			    uint32_t (*handle)(void *opaque, unsigned queue, const struct virtq_request *req),
			    void *opaque);

/* For work that arrives from outside a kick (a network frame for the
 * receive queue): takes the queue's lock and says whether the driver has
 * the queue running. Always pair with virtio_pci_queue_unlock. */
bool virtio_pci_queue_lock(struct virtio_pci *vp, unsigned queue);
void virtio_pci_queue_unlock(struct virtio_pci *vp, unsigned queue);

/* A malformed ring or request on `queue`: DEVICE_NEEDS_RESET and a config
 * interrupt; --trace guest-error says `why`. */
void virtio_pci_needs_reset(struct virtio_pci *vp, const char *why, unsigned queue);

/* Device configuration changed (e.g. capacity): config interrupt. */
void virtio_pci_config_changed(struct virtio_pci *vp);

/* For the device ops of a virtio device (core/device.h): the transport's
 * part of its state (config space, MSI-X, registers, queues), and the PCI
 * reset line. The device model adds its own fields after these. */
void virtio_pci_save(struct virtio_pci *vp, struct state_writer *w);
bool virtio_pci_load(struct virtio_pci *vp, struct state_reader *r);
void virtio_pci_reset(struct virtio_pci *vp);
/* The same as device ops, for a device whose state struct begins with its
 * struct virtio_pci and has nothing else to save. */
void virtio_device_reset(void *state);
void virtio_device_save(void *state, struct state_writer *w);
bool virtio_device_load(void *state, struct state_reader *r);

#endif
