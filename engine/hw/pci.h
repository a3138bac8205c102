/* PCI bus 0 behind configuration mechanism #1 (ports 0xCF8/0xCFC, PCI Local
 * Bus Specification 3.0 §3.2.2.3.2). Devices own a 256-byte configuration
 * space; the bus applies each device's write mask, so read-only and reserved
 * bits survive whatever a guest writes. Base address registers are sized by
 * their write masks (§6.2.5.1) and map the device's ranges on the port or
 * MMIO bus wherever the guest puts them while COMMAND decodes them. */
#ifndef VIREO_HW_PCI_H
#define VIREO_HW_PCI_H

#include <glib.h>
#include <stdint.h>

#include "core/bus.h"
#include "core/device.h"

#define PCI_CONFIG_SIZE 256
#define PCI_SLOTS 32
#define PCI_FUNCTIONS 8

/* Type 0 header offsets (PCI 3.0 §6.1). */
#define PCI_VENDOR_ID      0x00
#define PCI_DEVICE_ID      0x02
#define PCI_COMMAND        0x04
#define PCI_COMMAND_IO     0x0001
#define PCI_COMMAND_MEMORY 0x0002
#define PCI_STATUS         0x06
#define PCI_STATUS_CAP_LIST 0x0010
#define PCI_REVISION_ID    0x08
#define PCI_CLASS_PROG     0x09
#define PCI_CACHE_LINE     0x0C
#define PCI_LATENCY_TIMER  0x0D
#define PCI_HEADER_TYPE    0x0E
#define PCI_BAR0           0x10
#define PCI_BARS           6
#define PCI_SUBSYSTEM_VENDOR_ID 0x2C
#define PCI_SUBSYSTEM_ID   0x2E
#define PCI_CAPABILITY_LIST 0x34
#define PCI_INTERRUPT_LINE 0x3C
#define PCI_INTERRUPT_PIN  0x3D

#define PCI_HEADER_MULTIFUNCTION 0x80

enum pci_bar_kind {
	PCI_BAR_UNUSED,
	PCI_BAR_IO,
	PCI_BAR_MEM32,
	PCI_BAR_MEM64,    /* takes this BAR and the next */
};

struct pci_bar {
	enum pci_bar_kind kind;
	uint64_t size;                  /* a power of two */
	const struct bus_ops *ops;
	void *opaque;
	bool mapped;
	uint64_t mapped_at;
};

/* What a device with more than plain registers hears from the bus. All are
 * optional and called with the bus lock held (they must not touch config
 * space through the bus). */
struct pci_device_hooks {
	/* A guest write of `size` bytes at `reg` has landed (write mask applied). */
	void (*config_written)(void *opaque, unsigned reg, unsigned size);
	/* About to return config bytes [reg, reg+size): refresh them if needed. */
	void (*config_reading)(void *opaque, unsigned reg, unsigned size);
	/* BAR `index` now decodes at addr (mapped) or no longer decodes. */
	void (*bar_moved)(void *opaque, unsigned index, bool mapped, uint64_t addr);
};

struct pci_bus;

struct pci_device {
	uint8_t config[PCI_CONFIG_SIZE];
	uint8_t wmask[PCI_CONFIG_SIZE];  /* bits the guest may change */
	struct pci_bar bars[PCI_BARS];
	uint8_t next_capability;         /* where pci_device_add_capability puts the next */
	const struct pci_device_hooks *hooks;
	void *hooks_opaque;
	struct pci_bus *bus;             /* the one it was added to, or NULL */
	uint8_t devfn;                   /* where on it (slot * 8 + function) */
	uint8_t power_on[PCI_CONFIG_SIZE];  /* config when it was added: what a reset restores */
};

struct pci_bus {
	GMutex lock;
	struct bus *pio;
	struct bus *mmio;
	uint32_t config_address;         /* 0xCF8 */
	/* Byte accesses to 0xCF9 are the PIIX reset control register, which
	 * shares the CONFIG_ADDRESS dword; its owner claims them here. */
	const struct bus_ops *cf9_ops;
	void *cf9_opaque;
	struct pci_device *devices[PCI_SLOTS * PCI_FUNCTIONS];
};

int pci_bus_init(struct pci_bus *pci, struct bus *pio, struct bus *mmio);
void pci_bus_destroy(struct pci_bus *pci);  /* unmaps every BAR */

/* The bus itself (configuration mechanism #1's address register); its
 * teardown is pci_bus_destroy. */
extern const struct device_ops pci_bus_device_ops;

static inline void pci_config_set16(struct pci_device *dev, unsigned offset, uint16_t value)
{
	dev->config[offset] = (uint8_t)value;
	dev->config[offset + 1] = (uint8_t)(value >> 8);
}

/* Fills vendor/device/class/revision/header type and the standard writable
 * fields (command, cache line, latency timer, interrupt line). */
void pci_device_init(struct pci_device *dev, uint16_t vendor, uint16_t device,
		     uint32_t class_code, uint8_t revision);

/* Appends a capability of `size` bytes (ID byte and next pointer included)
 * to the list (PCI 3.0 §6.7); returns its offset, or 0 when config space is
 * full. The caller fills the rest and sets write masks. */
unsigned pci_device_add_capability(struct pci_device *dev, uint8_t id, unsigned size);

void pci_bus_claim_cf9(struct pci_bus *pci, const struct bus_ops *ops, void *opaque);

/* Declares BAR `index` (before pci_bus_add): I/O size at least 4, memory
 * size at least 16, both powers of two; accesses go to ops with the offset
 * into the BAR. Returns -EINVAL for a bad size or index. */
int pci_device_set_bar(struct pci_device *dev, unsigned index, enum pci_bar_kind kind, bool prefetchable,
		       uint64_t size, const struct bus_ops *ops, void *opaque);

/* Does what firmware would for a direct-booted kernel: gives every BAR an
 * address (memory from mmio_base up, naturally aligned; I/O from io_base)
 * and turns on decoding and bus mastering. Returns -ENOSPC when the window
 * is too small. */
int pci_bus_assign_bars(struct pci_bus *pci, uint64_t mmio_base, uint64_t mmio_limit, uint32_t io_base);

/* Returns -EEXIST when the slot/function is taken, -EINVAL when out of range. */
int pci_bus_add(struct pci_bus *pci, struct pci_device *dev, unsigned slot, unsigned function);

/* For a function's device ops (core/device.h). Reset puts back the guest-
 * writable config bits it had when added to the bus; load takes only the
 * guest-writable bits of the record's config space. Both move BARs to
 * where config space then says (the device's bar_moved hook is told, not
 * its config_written: the device brings its own state in line). */
void pci_device_reset(struct pci_device *dev);
void pci_device_save(struct pci_device *dev, struct state_writer *w);
bool pci_device_load(struct pci_device *dev, struct state_reader *r);
/* The BARs that decode now, as "BAR0".."BAR5". */
void pci_device_claims(struct pci_device *dev, struct device_claims *claims);
/* The same as device ops, for a device whose state struct begins with its
 * struct pci_device and has no other state to save. */
void pci_function_save(void *state, struct state_writer *w);
/* Takes a function off its bus (its BARs unmapped): a PCI device's
 * teardown does it before freeing what the BARs point at. */
void pci_device_unplug(struct pci_device *dev);
void pci_function_claims(void *state, struct device_claims *claims);

#endif
