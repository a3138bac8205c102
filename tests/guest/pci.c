/* Enumerates PCI bus 0 through configuration mechanism #1, as Linux's
 * pci_check_type1() and bus scan do. */
#include "runtime.h"

#define PCI_CONFIG_ADDRESS 0xCF8
#define HEADER_MULTIFUNCTION 0x80

static bool print_function(unsigned dev, unsigned fn)
{
	uint32_t id = pci_config_read(0, dev, fn, 0x00);
	if ((id & 0xFFFF) == 0xFFFF)
		return false;
	uint32_t class_rev = pci_config_read(0, dev, fn, 0x08);
	uint8_t header = (uint8_t)(pci_config_read(0, dev, fn, 0x0C) >> 16);
	print("pci: 00:%02x.%u %04x:%04x class %06x hdr %02x\n", dev, fn, id & 0xFFFF, id >> 16,
	      class_rev >> 8, header);
	return true;
}

int main(void)
{
	outl(PCI_CONFIG_ADDRESS, 0x80000000u);
	if (inl(PCI_CONFIG_ADDRESS) != 0x80000000u) {
		print("pci: FAIL configuration mechanism #1 not found\n");
		return 1;
	}
	print("pci: cf8 ok\n");
	unsigned found = 0;
	for (unsigned dev = 0; dev < 32; dev++) {
		if (!print_function(dev, 0))
			continue;
		found++;
		bool multi = (pci_config_read(0, dev, 0, 0x0C) >> 16) & HEADER_MULTIFUNCTION;
		for (unsigned fn = 1; multi && fn < 8; fn++)
			found += print_function(dev, fn);
	}
	print("pci: %u functions\n", found);
	return 0;
}
