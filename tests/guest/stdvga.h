/* The standard VGA (1234:1111) for test guests, as Linux bochs-drm finds
 * and programs it: a PCI scan, DISPI through BAR2 (QEMU standard-vga.rst
 * layout, Bochs vbe.h registers), bochs_hw_setmode's sequence. */
#ifndef GUEST_STDVGA_H
#define GUEST_STDVGA_H

#include "runtime.h"

#define DISPI_ID        0x0
#define DISPI_XRES      0x1
#define DISPI_YRES      0x2
#define DISPI_BPP       0x3
#define DISPI_ENABLE    0x4
#define DISPI_BANK      0x5
#define DISPI_VIRT_WIDTH 0x6
#define DISPI_VIRT_HEIGHT 0x7
#define DISPI_X_OFFSET  0x8
#define DISPI_Y_OFFSET  0x9
#define DISPI_VIDEO_MEMORY_64K 0xA
#define DISPI_ID0       0xB0C0

struct stdvga {
	unsigned dev;                 /* 00:dev.0 */
	uint32_t lfb;                 /* BAR0 */
	volatile uint8_t *mmio;       /* BAR2 */
};

/* Finds the device with both BARs assigned and memory decoding on, and sets
 * the QEMU extended registers to little-endian as bochs-drm does. */
bool stdvga_find(struct stdvga *vga);
void stdvga_dispi_write(const struct stdvga *vga, unsigned index, uint16_t value);
uint16_t stdvga_dispi_read(const struct stdvga *vga, unsigned index);
/* Blank, disable, geometry, enable with the LFB; true when the registers
 * read back the mode. */
bool stdvga_set_mode(const struct stdvga *vga, uint16_t xres, uint16_t yres, uint16_t bpp);

#endif
