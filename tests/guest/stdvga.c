/* See stdvga.h. */
#include "stdvga.h"

#define VENDOR_QEMU_VGA 0x1234
#define DEVICE_STD_VGA  0x1111
#define PCI_COMMAND_REG 0x04
#define PCI_COMMAND_MEMORY 0x2
#define PCI_BAR0_REG    0x10
#define PCI_BAR2_REG    0x18
#define PCI_REVISION_REG 0x08
#define MMIO_VGA_PORTS  0x400         /* VGA ports 0x3C0-0x3DF at 0x400 + port - 0x3C0 */
#define MMIO_DISPI      0x500         /* DISPI register i at 0x500 + 2 i */
#define MMIO_QEXT_SIZE  0x600
#define MMIO_QEXT_BYTEORDER 0x604
#define QEXT_LITTLE_ENDIAN 0x1E1E1E1Eu
#define DISPI_ENABLED   0x01
#define DISPI_LFB_ENABLED 0x40
#define VGA_AR_INDEX    0x3C0
#define AR_PAS          0x20          /* palette address source: the screen on */

bool stdvga_find(struct stdvga *vga)
{
	for (vga->dev = 0; vga->dev < 32; vga->dev++)
		if (pci_config_read(0, vga->dev, 0, 0) == (DEVICE_STD_VGA << 16 | VENDOR_QEMU_VGA))
			break;
	if (vga->dev == 32)
		return false;
	vga->lfb = pci_config_read(0, vga->dev, 0, PCI_BAR0_REG) & ~0xFu;
	uint32_t regs = pci_config_read(0, vga->dev, 0, PCI_BAR2_REG) & ~0xFu;
	if (!vga->lfb || !regs || !(pci_config_read(0, vga->dev, 0, PCI_COMMAND_REG) & PCI_COMMAND_MEMORY))
		return false;
	vga->mmio = (volatile uint8_t *)regs;
	if ((pci_config_read(0, vga->dev, 0, PCI_REVISION_REG) & 0xFF) >= 2 &&
	    *(volatile uint32_t *)(vga->mmio + MMIO_QEXT_SIZE) >= 8)
		*(volatile uint32_t *)(vga->mmio + MMIO_QEXT_BYTEORDER) = QEXT_LITTLE_ENDIAN;
	return true;
}

void stdvga_dispi_write(const struct stdvga *vga, unsigned index, uint16_t value)
{
	*(volatile uint16_t *)(vga->mmio + MMIO_DISPI + index * 2) = value;
}

uint16_t stdvga_dispi_read(const struct stdvga *vga, unsigned index)
{
	return *(volatile uint16_t *)(vga->mmio + MMIO_DISPI + index * 2);
}

bool stdvga_set_mode(const struct stdvga *vga, uint16_t xres, uint16_t yres, uint16_t bpp)
{
	vga->mmio[MMIO_VGA_PORTS + VGA_AR_INDEX - 0x3C0] = AR_PAS;
	stdvga_dispi_write(vga, DISPI_ENABLE, 0);
	stdvga_dispi_write(vga, DISPI_BPP, bpp);
	stdvga_dispi_write(vga, DISPI_XRES, xres);
	stdvga_dispi_write(vga, DISPI_YRES, yres);
	stdvga_dispi_write(vga, DISPI_BANK, 0);
	stdvga_dispi_write(vga, DISPI_VIRT_WIDTH, xres);
	stdvga_dispi_write(vga, DISPI_VIRT_HEIGHT, yres);
	stdvga_dispi_write(vga, DISPI_X_OFFSET, 0);
	stdvga_dispi_write(vga, DISPI_Y_OFFSET, 0);
	stdvga_dispi_write(vga, DISPI_ENABLE, DISPI_ENABLED | DISPI_LFB_ENABLED);
	return stdvga_dispi_read(vga, DISPI_XRES) == xres && stdvga_dispi_read(vga, DISPI_YRES) == yres &&
	       stdvga_dispi_read(vga, DISPI_BPP) == bpp;
}
