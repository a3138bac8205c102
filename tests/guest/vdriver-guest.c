/* The virtio driver's platform inside a test guest: PCI configuration
 * through ports 0xCF8/0xCFC, MMIO by plain loads and stores (paging is
 * off, so guest-physical addresses are pointers). */
#include "runtime.h"
#include "vdriver-guest.h"

static uint32_t config_read(void *opaque, unsigned devfn, unsigned reg)
{
	(void)opaque;
	return pci_config_read(0, devfn >> 3, devfn & 7, reg);
}

static void config_write(void *opaque, unsigned devfn, unsigned reg, uint32_t value)
{
	(void)opaque;
	outl(0xCF8, 0x80000000u | devfn << 8 | (reg & 0xFC));
	outl(0xCFC, value);
}

static uint64_t mmio_read(void *opaque, uint64_t addr, unsigned size)
{
	(void)opaque;
	volatile void *p = (volatile void *)(uintptr_t)addr;
	switch (size) {
	case 1: return *(volatile uint8_t *)p;
	case 2: return *(volatile uint16_t *)p;
	case 4: return *(volatile uint32_t *)p;
	default: return *(volatile uint32_t *)p | (uint64_t)((volatile uint32_t *)p)[1] << 32;
	}
}

/* A 32-bit guest writes a 64-bit register as two dwords, low first, as
 * Linux's vp_iowrite64_twopart() does. */
static void mmio_write(void *opaque, uint64_t addr, uint64_t value, unsigned size)
{
	(void)opaque;
	volatile void *p = (volatile void *)(uintptr_t)addr;
	switch (size) {
	case 1: *(volatile uint8_t *)p = (uint8_t)value; break;
	case 2: *(volatile uint16_t *)p = (uint16_t)value; break;
	case 4: *(volatile uint32_t *)p = (uint32_t)value; break;
	default:
		((volatile uint32_t *)p)[0] = (uint32_t)value;
		((volatile uint32_t *)p)[1] = (uint32_t)(value >> 32);
	}
}

static void *ram(void *opaque, uint64_t gpa)
{
	(void)opaque;
	return (void *)(uintptr_t)gpa;
}

const struct vplatform guest_platform = { config_read, config_write, mmio_read, mmio_write, ram, 0 };

uint64_t gpa_of(const void *p)
{
	return (uintptr_t)p;
}
