/* Text on the VGA as a direct-booted kernel finds it, with no BIOS: the
 * device comes out of reset in 80x25 colour text mode with its font
 * loaded, so characters written to 0xB8000 show. Writes "Hello from
 * Vireo" in white on blue at row 0, the 16 foreground colours as '#' at
 * row 2 (attribute 0x0i), puts the hardware cursor after the greeting, and
 * prints what it wrote and the mode registers it found on COM1. Then it
 * writes row 4 and sleeps in HLT with no port access in between: KVM
 * queues those stores (coalesced MMIO), so only the display's own refresh
 * can bring them to the screen. A byte on COM1 ends it. */
#include "runtime.h"

#define TEXT_BUFFER 0xB8000u
#define COLUMNS     80
#define PORT_MISC_READ 0x3CC
#define PORT_CRTC_INDEX 0x3D4
#define PORT_CRTC_DATA  0x3D5
#define CRTC_HDISP_END  0x01
#define CRTC_CURSOR_HI  0x0E
#define CRTC_CURSOR_LO  0x0F
#define ATTR_WHITE_ON_BLUE 0x1F

static volatile uint16_t *const text = (volatile uint16_t *)TEXT_BUFFER;

static unsigned put_string(unsigned row, unsigned col, const char *s, uint8_t attribute)
{
	for (; *s; s++)
		text[row * COLUMNS + col++] = (uint16_t)(attribute << 8 | (uint8_t)*s);
	return col;
}

static void set_cursor(unsigned cell)
{
	outb(PORT_CRTC_INDEX, CRTC_CURSOR_HI);
	outb(PORT_CRTC_DATA, (uint8_t)(cell >> 8));
	outb(PORT_CRTC_INDEX, CRTC_CURSOR_LO);
	outb(PORT_CRTC_DATA, (uint8_t)cell);
}

int main(void)
{
	uint8_t misc = inb(PORT_MISC_READ);
	outb(PORT_CRTC_INDEX, CRTC_HDISP_END);
	unsigned columns = inb(PORT_CRTC_DATA) + 1u;
	print("vga-text: misc %02x, %u columns\n", misc, columns);
	unsigned end = put_string(0, 0, "Hello from Vireo", ATTR_WHITE_ON_BLUE);
	for (unsigned colour = 0; colour < 16; colour++)
		text[2 * COLUMNS + colour] = (uint16_t)(colour << 8 | '#');
	set_cursor(end);
	if (text[0] != (ATTR_WHITE_ON_BLUE << 8 | 'H') || text[2 * COLUMNS + 15] != (0x0F00 | '#')) {
		print("vga-text: FAIL read back %04x\n", text[0]);
		return 1;
	}
	print("vga-text: written\n");
	serial_arm();
	put_string(4, 0, "Written before sleeping", ATTR_WHITE_ON_BLUE);
	uint8_t byte;
	do
		wait_for_interrupt();  /* no exit to the engine until the test types */
	while (!serial_poll(&byte));
	return 0;
}
