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
#include "stdvga.h"

static struct stdvga vga;

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
	if (!stdvga_set_mode(&vga, 1024, 768, 32))
		return false;
	for (unsigned y = 0; y < 768; y++)
		for (unsigned x = 0; x < 1024; x++)
			fb[y * 1024 + x] = pattern32(x, y);
	return fb[100 * 1024 + 700] == 0x00FF00 && fb[64 * 1024 + 5] == 0;
}

static bool draw_800x600x16(volatile uint16_t *fb)
{
	if (!stdvga_set_mode(&vga, 800, 600, 16))
		return false;
	for (unsigned y = 0; y < 600; y++)
		for (unsigned x = 0; x < 800; x++)
			fb[y * 800 + x] = pattern16(x, y);
	return fb[50 * 800 + 550] == 0xF81F;  /* bar 5: red + blue */
}

int main(void)
{
	if (!stdvga_find(&vga)) {
		print("vga: FAIL no 1234:1111 with its BARs on bus 0\n");
		return 1;
	}
	uint16_t id = stdvga_dispi_read(&vga, DISPI_ID);
	uint32_t vram = stdvga_dispi_read(&vga, DISPI_VIDEO_MEMORY_64K) * 65536u;
	if ((id & 0xFFF0) != DISPI_ID0 || vram < (4u << 20)) {
		print("vga: FAIL id %04x vram %u\n", id, vram);
		return 1;
	}
	print("vga: 00:%02x.0 id %04x vram %u KiB lfb %08x\n", vga.dev, id, vram >> 10, vga.lfb);
	uint32_t lfb = vga.lfb;
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
