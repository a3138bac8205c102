/* MSI-X for PCI devices (PCI 3.0 §6.8.2): the capability, the vector table
 * and the pending-bit array, and delivery through one eventfd per vector.
 *
 * The device signals a vector by writing its eventfd; the engine binds each
 * eventfd to a KVM MSI route (irqfd), so delivery never leaves the kernel
 * once a vector is set up. Masking is done here: a masked vector's signal
 * sets its pending bit and is delivered when the guest unmasks it. Register-
 * level tests read the eventfds to see interrupts. */
#ifndef VIREO_HW_MSIX_H
#define VIREO_HW_MSIX_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/device.h"
#include "hw/pci.h"

#define PCI_CAP_ID_MSIX 0x11
#define MSIX_MAX_VECTORS 64
#define MSIX_ENTRY_SIZE 16
#define MSIX_NO_VECTOR 0xFFFF   /* virtio's VIRTIO_MSI_NO_VECTOR too */

/* Told when the guest programs a vector, so the engine can point the
 * vector's KVM route at the new address/data. */
struct msix_route_ops {
	void (*vector_programmed)(void *opaque, unsigned vector, int eventfd, uint64_t address, uint32_t data);
};

struct msix_entry {
	uint64_t address;
	uint32_t data;
	uint32_t control;       /* bit 0: masked */
	int eventfd;
	bool pending;
};

struct msix {
	GMutex lock;
	struct pci_device *pci;
	unsigned capability;    /* offset in config space */
	unsigned vectors;
	struct msix_entry entries[MSIX_MAX_VECTORS];
	const struct msix_route_ops *route_ops;
	void *route_opaque;
};

/* Adds the capability to `pci`, the table at offset 0 and the PBA at
 * `pba_offset` of BAR `bar` (the caller routes that part of the BAR to
 * msix_bar_ops). Returns 0 or -errno (eventfds could not be made). */
int msix_init(struct msix *msix, struct pci_device *pci, unsigned vectors, unsigned bar, uint32_t pba_offset,
	      const struct msix_route_ops *route_ops, void *route_opaque);
void msix_destroy(struct msix *msix);

/* The table (from 0) and PBA (from pba_offset) as bus ops of the BAR. */
uint64_t msix_bar_read(struct msix *msix, uint64_t offset, unsigned size);
void msix_bar_write(struct msix *msix, uint64_t offset, uint64_t value, unsigned size);

bool msix_enabled(const struct msix *msix);
/* Delivers or marks pending; false when MSI-X is off or vector is out of range. */
bool msix_notify(struct msix *msix, unsigned vector);
/* Call from the PCI config_written hook: an unmask may release pending vectors. */
void msix_config_written(struct msix *msix);

/* The vector table and pending bits, for the device's state record; a
 * reset masks every vector and clears it (§6.8.2.9). Load points each
 * vector's route at what the record says. */
void msix_save(struct msix *msix, struct state_writer *w);
bool msix_load(struct msix *msix, struct state_reader *r);
void msix_reset(struct msix *msix);

#endif
