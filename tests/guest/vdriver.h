/* A minimal virtio 1.x PCI driver, in the order Linux's virtio_pci_modern
 * and virtio_ring use: find the function, map its capabilities, reset,
 * ACKNOWLEDGE, DRIVER, negotiate features, FEATURES_OK, set up split
 * queues, DRIVER_OK, then post descriptor chains and poll the used ring.
 *
 * Freestanding: it is built into our test guests (port I/O, physical =
 * virtual addresses) and into the register-level unit tests (the bus and a
 * RAM buffer), through the small platform interface below. */
#ifndef VDRIVER_H
#define VDRIVER_H

#include <stdbool.h>
#include <stdint.h>

struct vplatform {
	uint32_t (*config_read)(void *opaque, unsigned devfn, unsigned reg);
	void (*config_write)(void *opaque, unsigned devfn, unsigned reg, uint32_t value);
	uint64_t (*mmio_read)(void *opaque, uint64_t addr, unsigned size);
	void (*mmio_write)(void *opaque, uint64_t addr, uint64_t value, unsigned size);
	void *(*ram)(void *opaque, uint64_t gpa);    /* host view of guest RAM */
	void *opaque;
};

#define VDRIVER_QUEUE_SIZE 64
#define VDRIVER_MAX_QUEUES 4

struct vqueue {
	uint16_t size;
	uint64_t desc, avail, used;       /* guest-physical */
	uint16_t next_desc;               /* descriptors are handed out round-robin */
	uint16_t avail_idx, last_used;
	uint64_t notify_addr;
};

struct vdevice {
	const struct vplatform *p;
	unsigned devfn;
	uint64_t common, isr, device, notify, msix_table;
	uint32_t notify_multiplier;
	uint64_t features;                /* negotiated */
	bool manual_used_event;           /* else vq_poll asks for an interrupt per entry, as Linux does */
	struct vqueue queues[VDRIVER_MAX_QUEUES];
};

/* One buffer of a chain. */
struct vbuf {
	uint64_t gpa;
	uint32_t len;
	bool writable;
};

/* Finds the nth function with virtio device ID `id` on bus 0; BARs the
 * guest finds unassigned are put at `mmio_base`. Enables memory decoding
 * and bus mastering. False when there is no such device. */
bool vdev_find(struct vdevice *d, const struct vplatform *p, unsigned id, unsigned nth, uint64_t mmio_base);

/* Reset, ACKNOWLEDGE | DRIVER, offer `wanted` & device features, FEATURES_OK.
 * False when the device refuses the set. */
bool vdev_negotiate(struct vdevice *d, uint64_t wanted);

/* Sets up queue `index` with its rings at `ring_gpa` (16 KiB, 4 KiB-aligned). */
bool vdev_queue_setup(struct vdevice *d, unsigned index, uint16_t size, uint64_t ring_gpa);
void vdev_driver_ok(struct vdevice *d);
uint8_t vdev_status(struct vdevice *d);
uint64_t vdev_config_read(struct vdevice *d, unsigned offset, unsigned size);
void vdev_config_write(struct vdevice *d, unsigned offset, uint64_t value, unsigned size);

/* Posts a chain (direct descriptors) and notifies. */
void vq_submit(struct vdevice *d, unsigned queue, const struct vbuf *bufs, unsigned count);
/* Polls for the next used entry up to `spins` times; false on timeout. */
bool vq_poll(struct vdevice *d, unsigned queue, uint32_t *len, unsigned long spins);

/* Fills the driver's used_event (event index) for `queue`. */
void vq_set_used_event(struct vdevice *d, unsigned queue, uint16_t event);

#define VIRTIO_F_VERSION_1_BIT (1ull << 32)
#define VIRTIO_STATUS_NEEDS_RESET 0x40

#endif
