/* PCI bus 0 and configuration mechanism #1. See pci.h. */
#include "pci.h"
#include "core/bytes.h"

#include <errno.h>
#include <string.h>

#include "core/trace.h"

#define PCI_CONFIG_ADDRESS_PORT 0xCF8
#define PCI_CONFIG_DATA_PORT    0xCFC
#define CONFIG_ENABLE  0x80000000u
#define CONFIG_BUS(a)  (((a) >> 16) & 0xFF)
#define CONFIG_DEVFN(a) (((a) >> 8) & 0xFF)
#define CONFIG_REG(a)  ((a) & 0xFC)
/* Bits of 0xCF8 that hold state: enable, bus, device, function, dword. */
#define CONFIG_ADDRESS_MASK 0x80FFFFFCu

/* BAR low bits (PCI 3.0 §6.2.5.1). */
#define BAR_IO_SPACE       0x1
#define BAR_MEM_TYPE_64    0x4
#define BAR_MEM_PREFETCH   0x8
#define IO_SPACE_END       0x10000

/* COMMAND bits a guest may set (PCI 3.0 §6.2.2): I/O, memory, bus master,
 * parity error response, SERR#, interrupt disable. */
#define PCI_COMMAND_WRITABLE 0x0547

/* Capabilities start after the type 0 header (PCI 3.0 §6.7). */
#define PCI_FIRST_CAPABILITY 0x40

void pci_device_init(struct pci_device *dev, uint16_t vendor, uint16_t device,
		     uint32_t class_code, uint8_t revision)
{
	memset(dev, 0, sizeof(*dev));
	pci_config_set16(dev, PCI_VENDOR_ID, vendor);
	pci_config_set16(dev, PCI_DEVICE_ID, device);
	dev->config[PCI_REVISION_ID] = revision;
	dev->config[PCI_CLASS_PROG] = (uint8_t)class_code;
	pci_config_set16(dev, PCI_CLASS_PROG + 1, (uint16_t)(class_code >> 8));
	dev->wmask[PCI_COMMAND] = PCI_COMMAND_WRITABLE & 0xFF;
	dev->wmask[PCI_COMMAND + 1] = PCI_COMMAND_WRITABLE >> 8;
	dev->wmask[PCI_CACHE_LINE] = 0xFF;
	dev->wmask[PCI_LATENCY_TIMER] = 0xFF;
	dev->wmask[PCI_INTERRUPT_LINE] = 0xFF;
	dev->next_capability = PCI_FIRST_CAPABILITY;
}

unsigned pci_device_add_capability(struct pci_device *dev, uint8_t id, unsigned size)
{
	unsigned offset = dev->next_capability;
	if (size < 2 || offset + size > PCI_CONFIG_SIZE)
		return 0;
	/* Link from the header or from the last capability in the list. */
	unsigned link = PCI_CAPABILITY_LIST;
	while (dev->config[link])
		link = dev->config[link] + 1;
	dev->config[link] = (uint8_t)offset;
	dev->config[offset] = id;
	dev->config[PCI_STATUS] |= PCI_STATUS_CAP_LIST;
	dev->next_capability = (uint8_t)((offset + size + 3) & ~3u);
	if (offset + size + 3 >= PCI_CONFIG_SIZE)
		dev->next_capability = 0xFF; /* full: the next request fails */
	return offset;
}

void pci_bus_claim_cf9(struct pci_bus *pci, const struct bus_ops *ops, void *opaque)
{
	pci->cf9_ops = ops;
	pci->cf9_opaque = opaque;
}

int pci_device_set_bar(struct pci_device *dev, unsigned index, enum pci_bar_kind kind, bool prefetchable,
		       uint64_t size, const struct bus_ops *ops, void *opaque)
{
	unsigned reg = PCI_BAR0 + 4 * index;
	uint64_t min = kind == PCI_BAR_IO ? 4 : 16;
	if (index >= PCI_BARS || (kind == PCI_BAR_MEM64 && index + 1 >= PCI_BARS) || size < min ||
	    (size & (size - 1)) || (kind == PCI_BAR_IO && size > 256) || (kind == PCI_BAR_MEM32 && size > (1ull << 31)))
		return -EINVAL;
	dev->bars[index] = (struct pci_bar){ kind, size, ops, opaque, false, 0 };
	uint64_t mask = ~(size - 1);
	uint32_t type = kind == PCI_BAR_IO ? BAR_IO_SPACE
		      : (kind == PCI_BAR_MEM64 ? BAR_MEM_TYPE_64 : 0) | (prefetchable ? BAR_MEM_PREFETCH : 0);
	put_le32(dev->config + reg, type);
	put_le32(dev->wmask + reg, (uint32_t)mask & (kind == PCI_BAR_IO ? ~3u : ~15u));
	if (kind == PCI_BAR_MEM64)
		put_le32(dev->wmask + reg + 4, (uint32_t)(mask >> 32));
	return 0;
}

/* Where the guest put BAR i, or false when it should not decode now
 * (decoding off, unassigned, or reaching past its address space). */
static bool bar_address(const struct pci_device *dev, unsigned i, uint64_t *addr)
{
	const struct pci_bar *bar = &dev->bars[i];
	uint16_t command = (uint16_t)(dev->config[PCI_COMMAND] | dev->config[PCI_COMMAND + 1] << 8);
	uint32_t low = get_le32(dev->config + PCI_BAR0 + 4 * i);
	if (bar->kind == PCI_BAR_IO) {
		*addr = low & ~3u;
		return (command & PCI_COMMAND_IO) && *addr && *addr + bar->size <= IO_SPACE_END;
	}
	*addr = low & ~15u;
	if (bar->kind == PCI_BAR_MEM64)
		*addr |= (uint64_t)get_le32(dev->config + PCI_BAR0 + 4 * i + 4) << 32;
	return (command & PCI_COMMAND_MEMORY) && *addr && *addr + bar->size > *addr;
}

static void unmap_bar(struct pci_bus *pci, struct pci_device *dev, unsigned index)
{
	struct pci_bar *bar = &dev->bars[index];
	if (!bar->mapped)
		return;
	bus_unregister(bar->kind == PCI_BAR_IO ? pci->pio : pci->mmio, bar->mapped_at, bar->opaque);
	bar->mapped = false;
	if (dev->hooks && dev->hooks->bar_moved)
		dev->hooks->bar_moved(dev->hooks_opaque, index, false, bar->mapped_at);
}

#define DEVFN_FORMAT "%02x:%02x.%u"
#define DEVFN_ARGS(devfn) 0u, (devfn) / PCI_FUNCTIONS, (devfn) % PCI_FUNCTIONS

/* Moves each BAR's range to where the configuration space now says. A BAR
 * placed over another device's range stays unmapped, as a conflicting
 * decode would on real hardware be undefined. */
static void update_bars(struct pci_bus *pci, struct pci_device *dev)
{
	for (unsigned i = 0; i < PCI_BARS; i++) {
		struct pci_bar *bar = &dev->bars[i];
		uint64_t addr;
		if (bar->kind == PCI_BAR_UNUSED)
			continue;
		bool decode = bar_address(dev, i, &addr);
		if (decode == bar->mapped && (!decode || addr == bar->mapped_at))
			continue;
		unmap_bar(pci, dev, i);
		struct bus *space = bar->kind == PCI_BAR_IO ? pci->pio : pci->mmio;
		if (!decode) {
			TRACE(TRACE_PCI, DEVFN_FORMAT " BAR %u off", DEVFN_ARGS(dev->devfn), i);
		} else if (bus_register(space, addr, bar->size, bar->ops, bar->opaque) == 0) {
			TRACE(TRACE_PCI, DEVFN_FORMAT " BAR %u at 0x%llx size 0x%llx", DEVFN_ARGS(dev->devfn), i,
			      (unsigned long long)addr, (unsigned long long)bar->size);
			bar->mapped = true;
			bar->mapped_at = addr;
			if (dev->hooks && dev->hooks->bar_moved)
				dev->hooks->bar_moved(dev->hooks_opaque, i, true, addr);
		} else {
			TRACE(TRACE_GUEST_ERROR, "PCI " DEVFN_FORMAT ": BAR %u at 0x%llx overlaps another range; left off",
			      DEVFN_ARGS(dev->devfn), i, (unsigned long long)addr);
		}
	}
}

#define PCI_COMMAND_MASTER 0x0004

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

static int assign_device(struct pci_bus *pci, struct pci_device *dev, uint64_t *mmio, uint64_t mmio_limit,
			 uint32_t *io)
{
	uint16_t command = PCI_COMMAND_MASTER;
	for (unsigned i = 0; i < PCI_BARS; i++) {
		struct pci_bar *bar = &dev->bars[i];
		uint8_t *reg = dev->config + PCI_BAR0 + 4 * i;
		if (bar->kind == PCI_BAR_IO) {
			uint32_t at = (uint32_t)align_up(*io, bar->size);
			if (at + bar->size > IO_SPACE_END)
				return -ENOSPC;
			put_le32(reg, at | BAR_IO_SPACE);
			*io = at + (uint32_t)bar->size;
			command |= PCI_COMMAND_IO;
		} else if (bar->kind != PCI_BAR_UNUSED) {
			uint64_t at = align_up(*mmio, bar->size);
			if (at + bar->size > mmio_limit)
				return -ENOSPC;
			put_le32(reg, (uint32_t)at | (get_le32(reg) & 0xF));
			if (bar->kind == PCI_BAR_MEM64)
				put_le32(reg + 4, (uint32_t)(at >> 32));
			*mmio = at + bar->size;
			command |= PCI_COMMAND_MEMORY;
		}
	}
	pci_config_set16(dev, PCI_COMMAND, command);
	update_bars(pci, dev);
	return 0;
}

int pci_bus_assign_bars(struct pci_bus *pci, uint64_t mmio_base, uint64_t mmio_limit, uint32_t io_base)
{
	int err = 0;
	g_mutex_lock(&pci->lock);
	for (unsigned devfn = 0; devfn < PCI_SLOTS * PCI_FUNCTIONS && !err; devfn++)
		if (pci->devices[devfn])
			err = assign_device(pci, pci->devices[devfn], &mmio_base, mmio_limit, &io_base);
	g_mutex_unlock(&pci->lock);
	return err;
}

int pci_bus_add(struct pci_bus *pci, struct pci_device *dev, unsigned slot, unsigned function)
{
	if (slot >= PCI_SLOTS || function >= PCI_FUNCTIONS)
		return -EINVAL;
	unsigned devfn = slot * PCI_FUNCTIONS + function;
	if (pci->devices[devfn])
		return -EEXIST;
	pci->devices[devfn] = dev;
	dev->bus = pci;
	dev->devfn = (uint8_t)devfn;
	memcpy(dev->power_on, dev->config, PCI_CONFIG_SIZE);
	return 0;
}

/* The device the current address selects, or NULL (bus != 0, disabled,
 * empty slot). Called with the lock held. */
static struct pci_device *selected_device(const struct pci_bus *pci)
{
	uint32_t a = pci->config_address;
	if (!(a & CONFIG_ENABLE) || CONFIG_BUS(a) != 0)
		return NULL;
	return pci->devices[CONFIG_DEVFN(a)];
}

static uint64_t address_read(void *opaque, uint64_t offset, unsigned size)
{
	struct pci_bus *pci = opaque;
	if (offset == 1 && size == 1 && pci->cf9_ops)
		return pci->cf9_ops->read(pci->cf9_opaque, 0, 1);
	if (offset != 0 || size != 4)
		return UINT64_MAX; /* only dword accesses reach CONFIG_ADDRESS */
	g_mutex_lock(&pci->lock);
	uint32_t value = pci->config_address;
	g_mutex_unlock(&pci->lock);
	return value;
}

static void address_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
	struct pci_bus *pci = opaque;
	if (offset == 1 && size == 1 && pci->cf9_ops) {
		pci->cf9_ops->write(pci->cf9_opaque, 0, value, 1);
		return;
	}
	if (offset != 0 || size != 4)
		return; /* byte writes to 0xCFB are the old mechanism #2 probe */
	g_mutex_lock(&pci->lock);
	pci->config_address = (uint32_t)value & CONFIG_ADDRESS_MASK;
	g_mutex_unlock(&pci->lock);
}

static uint64_t data_read(void *opaque, uint64_t offset, unsigned size)
{
	struct pci_bus *pci = opaque;
	uint64_t value = 0;
	g_mutex_lock(&pci->lock);
	const struct pci_device *dev = selected_device(pci);
	unsigned reg = CONFIG_REG(pci->config_address) + (unsigned)offset;
	if (!dev) {
		value = UINT64_MAX; /* empty slot: vendor 0xFFFF */
	} else {
		if (dev->hooks && dev->hooks->config_reading)
			dev->hooks->config_reading(dev->hooks_opaque, reg, size);
		memcpy(&value, dev->config + reg, size);
	}
	g_mutex_unlock(&pci->lock);
	return value;
}

static void data_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
	struct pci_bus *pci = opaque;
	g_mutex_lock(&pci->lock);
	struct pci_device *dev = selected_device(pci);
	unsigned reg = CONFIG_REG(pci->config_address) + (unsigned)offset;
	for (unsigned i = 0; dev && i < size; i++) {
		uint8_t mask = dev->wmask[reg + i], byte = (uint8_t)(value >> (8 * i));
		dev->config[reg + i] = (uint8_t)((dev->config[reg + i] & ~mask) | (byte & mask));
	}
	if (dev) {
		TRACE(TRACE_PCI, DEVFN_FORMAT " config 0x%02x write %u byte%s value 0x%llx",
		      DEVFN_ARGS(dev->devfn), reg, size, size > 1 ? "s" : "", (unsigned long long)value);
		update_bars(pci, dev);
		if (dev->hooks && dev->hooks->config_written)
			dev->hooks->config_written(dev->hooks_opaque, reg, size);
	}
	g_mutex_unlock(&pci->lock);
}

static const struct bus_ops address_ops = { address_read, address_write, "PCI config address" };
static const struct bus_ops data_ops = { data_read, data_write, "PCI config data" };

int pci_bus_init(struct pci_bus *pci, struct bus *pio, struct bus *mmio)
{
	int err;
	memset(pci, 0, sizeof(*pci));
	g_mutex_init(&pci->lock);
	pci->pio = pio;
	pci->mmio = mmio;
	if ((err = bus_register(pio, PCI_CONFIG_ADDRESS_PORT, 4, &address_ops, pci)) < 0 ||
	    (err = bus_register(pio, PCI_CONFIG_DATA_PORT, 4, &data_ops, pci)) < 0) {
		g_mutex_clear(&pci->lock);
		return err;
	}
	return 0;
}

void pci_bus_destroy(struct pci_bus *pci)
{
	for (unsigned devfn = 0; devfn < PCI_SLOTS * PCI_FUNCTIONS; devfn++)
		for (unsigned i = 0; pci->devices[devfn] && i < PCI_BARS; i++)
			unmap_bar(pci, pci->devices[devfn], i);
	g_mutex_clear(&pci->lock);
}

/* --- state of a function (core/device.h) ------------------------------ */

/* Only what the guest may write is taken from `config`: the rest is the
 * device's identity and layout, which a record does not get to change. */
static void merge_config(struct pci_device *dev, const uint8_t config[PCI_CONFIG_SIZE])
{
	struct pci_bus *pci = dev->bus;
	if (pci)
		g_mutex_lock(&pci->lock);
	for (unsigned i = 0; i < PCI_CONFIG_SIZE; i++)
		dev->config[i] = (uint8_t)((dev->config[i] & ~dev->wmask[i]) | (config[i] & dev->wmask[i]));
	if (pci) {
		update_bars(pci, dev);
		g_mutex_unlock(&pci->lock);
	}
}

void pci_device_reset(struct pci_device *dev)
{
	merge_config(dev, dev->power_on);
}

void pci_device_save(struct pci_device *dev, struct state_writer *w)
{
	if (dev->bus)
		g_mutex_lock(&dev->bus->lock);
	state_put_bytes(w, "pci.config", dev->config, PCI_CONFIG_SIZE);
	if (dev->bus)
		g_mutex_unlock(&dev->bus->lock);
}

bool pci_device_load(struct pci_device *dev, struct state_reader *r)
{
	uint8_t config[PCI_CONFIG_SIZE];
	if (!state_get_bytes(r, "pci.config", config, sizeof(config)))
		return false;
	merge_config(dev, config);
	return true;
}

void pci_device_claims(struct pci_device *dev, struct device_claims *claims)
{
	static const char *const names[PCI_BARS] = { "BAR0", "BAR1", "BAR2", "BAR3", "BAR4", "BAR5" };
	for (unsigned i = 0; i < PCI_BARS; i++)
		if (dev->bars[i].mapped)
			device_claim(claims, names[i], dev->bars[i].kind == PCI_BAR_IO ? DEVICE_PIO : DEVICE_MMIO,
				     dev->bars[i].mapped_at, dev->bars[i].size);
}

void pci_device_unplug(struct pci_device *dev)
{
	struct pci_bus *pci = dev->bus;
	if (!pci)
		return;
	g_mutex_lock(&pci->lock);
	for (unsigned i = 0; i < PCI_BARS; i++)
		unmap_bar(pci, dev, i);
	for (unsigned devfn = 0; devfn < PCI_SLOTS * PCI_FUNCTIONS; devfn++)
		if (pci->devices[devfn] == dev)
			pci->devices[devfn] = NULL;
	dev->bus = NULL;
	g_mutex_unlock(&pci->lock);
}

void pci_function_save(void *state, struct state_writer *w)
{
	pci_device_save(state, w);
}

void pci_function_claims(void *state, struct device_claims *claims)
{
	pci_device_claims(state, claims);
}

/* --- the bus's own state: CONFIG_ADDRESS --------------------------------- */

static void pci_bus_reset(void *opaque)
{
	struct pci_bus *pci = opaque;
	g_mutex_lock(&pci->lock);
	pci->config_address = 0;
	g_mutex_unlock(&pci->lock);
}

static void pci_bus_save(void *opaque, struct state_writer *w)
{
	struct pci_bus *pci = opaque;
	g_mutex_lock(&pci->lock);
	state_put_uint(w, "config_address", pci->config_address, 4);
	g_mutex_unlock(&pci->lock);
}

static bool pci_bus_load(void *opaque, struct state_reader *r)
{
	struct pci_bus *pci = opaque;
	uint64_t address;
	if (!state_get_uint(r, "config_address", &address, 4))
		return false;
	g_mutex_lock(&pci->lock);
	pci->config_address = (uint32_t)address & CONFIG_ADDRESS_MASK;
	g_mutex_unlock(&pci->lock);
	return true;
}

static void pci_bus_teardown(void *opaque)
{
	pci_bus_destroy(opaque);
}

static void pci_bus_claims(void *opaque, struct device_claims *claims)
{
	(void)opaque;
	device_claim(claims, "CONFIG_ADDRESS", DEVICE_PIO, PCI_CONFIG_ADDRESS_PORT, 4);
	device_claim(claims, "CONFIG_DATA", DEVICE_PIO, PCI_CONFIG_DATA_PORT, 4);
}

const struct device_ops pci_bus_device_ops = {
	"pci-bus", 1, pci_bus_reset, pci_bus_teardown, pci_bus_save, pci_bus_load, pci_bus_claims,
};
