/* The standard VGA (1234:1111) as Linux bochs-drm drives it: found by a
 * PCI scan, DISPI through BAR2 (ID check, VRAM size, the QEMU extended
 * registers' byte order), then bochs_hw_setmode's register sequence and
 * drawing into BAR0. Two modes, each with a pattern a screenshot can be
 * checked against:
 *   1024x768x32: quadrants red (top left), green (top right), blue (bottom
 *                left), white (bottom right), with a black line on every
 *                64th row and column;
 *   800x600x16:  eight vertical bars 100 pixels wide, colour index i of
 *                the bar as RGB565 (r = bit 2, g = bit 1, b = bit 0, full
 *                intensity), with a white line on every 100th row.
 * Prints "vga: 1024x768x32 drawn" and "vga: 800x600x16 drawn" on COM1, and
 * after each waits for a byte on COM1, so a test can look at the screen. */
#include "runtime.h"

#define VENDOR_QEMU_VGA 0x1234
#define DEVICE_STD_VGA  0x1111
#define PCI_COMMAND_REG 0x04
#define PCI_COMMAND_MEMORY 0x2
#define PCI_BAR0_REG    0x10
#define PCI_BAR2_REG    0x18
#define PCI_REVISION_REG 0x08

/* BAR2 layout (QEMU standard-vga.rst) and DISPI registers (Bochs vbe.h). */
#define MMIO_VGA_PORTS  0x400
#define MMIO_DISPI      0x500
#define MMIO_QEXT_SIZE  0x600
#define MMIO_QEXT_BYTEORDER 0x604
#define QEXT_LITTLE_ENDIAN 0x1E1E1E1Eu
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
#define DISPI_ENABLED   0x01
#define DISPI_LFB_ENABLED 0x40
#define VGA_AR_INDEX    0x3C0
#define AR_PAS          0x20

static volatile uint8_t *mmio;

static void dispi_write(unsigned index, uint16_t value)
{
	*(volatile uint16_t *)(mmio + MMIO_DISPI + index * 2) = value;
}

static uint16_t dispi_read(unsigned index)
{
	return *(volatile uint16_t *)(mmio + MMIO_DISPI + index * 2);
}

static bool find_vga(unsigned *dev)
{
	for (*dev = 0; *dev < 32; (*dev)++)
		if (pci_config_read(0, *dev, 0, 0) == (DEVICE_STD_VGA << 16 | VENDOR_QEMU_VGA))
			return true;
	return false;
}

/* bochs_hw_setmode: blank off, disable, geometry, enable with the LFB. */
static void set_mode(uint16_t xres, uint16_t yres, uint16_t bpp)
{
	mmio[MMIO_VGA_PORTS + VGA_AR_INDEX - 0x3C0] = AR_PAS;
	dispi_write(DISPI_ENABLE, 0);
	dispi_write(DISPI_BPP, bpp);
	dispi_write(DISPI_XRES, xres);
	dispi_write(DISPI_YRES, yres);
	dispi_write(DISPI_BANK, 0);
	dispi_write(DISPI_VIRT_WIDTH, xres);
	dispi_write(DISPI_VIRT_HEIGHT, yres);
	dispi_write(DISPI_X_OFFSET, 0);
	dispi_write(DISPI_Y_OFFSET, 0);
	dispi_write(DISPI_ENABLE, DISPI_ENABLED | DISPI_LFB_ENABLED);
}

static uint32_t pattern32(unsigned x, unsigned y)
{
	static const uint32_t quadrant[4] = { 0xFF0000, 0x00FF00, 0x0000FF, 0xFFFFFF };
	if (x % 64 == 0 || y % 64 == 0)
		return 0;
	return quadrant[(y >= 384) * 2 + (x >= 512)];
}

static uint16_t pattern16(unsigned x, unsigned y)
{
	unsigned bar = x / 100;
	if (y % 100 == 0)
		return 0xFFFF;
	return (uint16_t)((bar & 4 ? 0xF800 : 0) | (bar & 2 ? 0x07E0 : 0) | (bar & 1 ? 0x001F : 0));
}

static bool draw_1024x768x32(volatile uint32_t *fb)
{
	set_mode(1024, 768, 32);
	if (dispi_read(DISPI_XRES) != 1024 || dispi_read(DISPI_YRES) != 768 || dispi_read(DISPI_BPP) != 32)
		return false;
	for (unsigned y = 0; y < 768; y++)
		for (unsigned x = 0; x < 1024; x++)
			fb[y * 1024 + x] = pattern32(x, y);
	return fb[100 * 1024 + 700] == 0x00FF00 && fb[64 * 1024 + 5] == 0;
}

static bool draw_800x600x16(volatile uint16_t *fb)
{
	set_mode(800, 600, 16);
	if (dispi_read(DISPI_XRES) != 800 || dispi_read(DISPI_BPP) != 16)
		return false;
	for (unsigned y = 0; y < 600; y++)
		for (unsigned x = 0; x < 800; x++)
			fb[y * 800 + x] = pattern16(x, y);
	return fb[50 * 800 + 550] == 0xF81F;  /* bar 5: red + blue */
}

int main(void)
{
	unsigned dev;
	if (!find_vga(&dev)) {
		print("vga: FAIL no 1234:1111 on bus 0\n");
		return 1;
	}
	uint32_t lfb = pci_config_read(0, dev, 0, PCI_BAR0_REG) & ~0xFu;
	uint32_t regs = pci_config_read(0, dev, 0, PCI_BAR2_REG) & ~0xFu;
	if (!(pci_config_read(0, dev, 0, PCI_COMMAND_REG) & PCI_COMMAND_MEMORY) || !lfb || !regs) {
		print("vga: FAIL BARs not assigned\n");
		return 1;
	}
	mmio = (volatile uint8_t *)regs;
	uint16_t id = dispi_read(DISPI_ID);
	uint32_t vram = dispi_read(DISPI_VIDEO_MEMORY_64K) * 65536u;
	if ((id & 0xFFF0) != DISPI_ID0 || vram < (4u << 20)) {
		print("vga: FAIL id %04x vram %u\n", id, vram);
		return 1;
	}
	if ((pci_config_read(0, dev, 0, PCI_REVISION_REG) & 0xFF) >= 2 &&
	    *(volatile uint32_t *)(mmio + MMIO_QEXT_SIZE) >= 8)
		*(volatile uint32_t *)(mmio + MMIO_QEXT_BYTEORDER) = QEXT_LITTLE_ENDIAN;
	print("vga: 00:%02x.0 id %04x vram %u KiB lfb %08x\n", dev, id, vram >> 10, lfb);
	if (!draw_1024x768x32((volatile uint32_t *)lfb)) {
		print("vga: FAIL 1024x768x32\n");
		return 1;
	}
	print("vga: 1024x768x32 drawn\n");
	serial_wait();  /* the test looks at the screen first */
	if (!draw_800x600x16((volatile uint16_t *)lfb)) {
		print("vga: FAIL 800x600x16\n");
		return 1;
	}
	print("vga: 800x600x16 drawn\n");
	serial_wait();
	return 0;
}
