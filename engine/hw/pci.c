/* PCI bus 0 and configuration mechanism #1. See pci.h. */
#include "pci.h"

#include <errno.h>
#include <string.h>

#define PCI_CONFIG_ADDRESS_PORT 0xCF8
#define PCI_CONFIG_DATA_PORT    0xCFC
#define CONFIG_ENABLE  0x80000000u
#define CONFIG_BUS(a)  (((a) >> 16) & 0xFF)
#define CONFIG_DEVFN(a) (((a) >> 8) & 0xFF)
#define CONFIG_REG(a)  ((a) & 0xFC)
/* Bits of 0xCF8 that hold state: enable, bus, device, function, dword. */
#define CONFIG_ADDRESS_MASK 0x80FFFFFCu

/* COMMAND bits a guest may set (PCI 3.0 §6.2.2): I/O, memory, bus master,
 * parity error response, SERR#, interrupt disable. */
#define PCI_COMMAND_WRITABLE 0x0547

void pci_device_init(struct pci_device *dev, const char *name, uint16_t vendor, uint16_t device,
		     uint32_t class_code, uint8_t revision)
{
	memset(dev, 0, sizeof(*dev));
	dev->name = name;
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
}

void pci_bus_claim_cf9(struct pci_bus *pci, const struct bus_ops *ops, void *opaque)
{
	pci->cf9_ops = ops;
	pci->cf9_opaque = opaque;
}

int pci_bus_add(struct pci_bus *pci, struct pci_device *dev, unsigned slot, unsigned function)
{
	if (slot >= PCI_SLOTS || function >= PCI_FUNCTIONS)
		return -EINVAL;
	unsigned devfn = slot * PCI_FUNCTIONS + function;
	if (pci->devices[devfn])
		return -EEXIST;
	pci->devices[devfn] = dev;
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
	if (!dev)
		value = UINT64_MAX; /* empty slot: vendor 0xFFFF */
	else
		memcpy(&value, dev->config + reg, size);
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
	g_mutex_unlock(&pci->lock);
}

static const struct bus_ops address_ops = { address_read, address_write };
static const struct bus_ops data_ops = { data_read, data_write };

int pci_bus_init(struct pci_bus *pci, struct bus *pio)
{
	int err;
	memset(pci, 0, sizeof(*pci));
	g_mutex_init(&pci->lock);
	if ((err = bus_register(pio, PCI_CONFIG_ADDRESS_PORT, 4, &address_ops, pci)) < 0 ||
	    (err = bus_register(pio, PCI_CONFIG_DATA_PORT, 4, &data_ops, pci)) < 0) {
		g_mutex_clear(&pci->lock);
		return err;
	}
	return 0;
}

void pci_bus_destroy(struct pci_bus *pci)
{
	g_mutex_clear(&pci->lock);
}
