/* The guest side shared by the virtio register-level tests: RAM a buffer,
 * the port and MMIO buses with a PCI host bridge, the I/O context the
 * devices serve their queues on, and the vdriver platform over them. The
 * test adds its devices to `pci` with `intx` as their interrupt line. */
#ifndef VIREO_TEST_VIRTIO_FIXTURE_H
#define VIREO_TEST_VIRTIO_FIXTURE_H

#include <glib.h>

#include "core/irq.h"
#include "hw/pci.h"
#include "core/guest_mem.h"
#include "vdriver.h"
#include "vplatform-bus.h"

#define VFIX_MMIO_BASE 0xE0000000ull
#define VFIX_RING_GPA 0x100000       /* queue n's rings at + n * VFIX_RING_STRIDE */
#define VFIX_RING_STRIDE 0x4000ull
#define VFIX_INTX_GSI 11

struct virtio_fixture {
	uint8_t *ram;
	uint64_t ram_size;
	struct guest_mem mem;
	struct bus pio, mmio;
	struct pci_bus pci;
	GMainContext *ctx;
	struct bus_platform bp;
	struct vplatform platform;
	struct irq_line intx;            /* records its level in intx_level */
	bool intx_level;
};

void vfix_init(struct virtio_fixture *v, uint64_t ram_size);
/* Takes the devices off the bus; the test destroys them before vfix_free. */
void vfix_unplug(struct virtio_fixture *v);
void vfix_free(struct virtio_fixture *v);

/* Finds, negotiates and starts the nth device with virtio ID `id`, with its
 * first `queues` queues at VFIX_RING_GPA. */
void vfix_start(struct virtio_fixture *v, struct vdevice *d, unsigned id, unsigned nth, uint64_t features,
		unsigned queues);

void vfix_drain(struct virtio_fixture *v);
uint32_t vfix_config_read(struct virtio_fixture *v, unsigned devfn, unsigned reg);
void vfix_config_write(struct virtio_fixture *v, unsigned devfn, unsigned reg, uint32_t value);
uint64_t vfix_mmio_read(struct virtio_fixture *v, uint64_t addr, unsigned size);
void vfix_mmio_write(struct virtio_fixture *v, uint64_t addr, uint64_t value, unsigned size);

#endif
