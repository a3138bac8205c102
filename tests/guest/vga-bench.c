/* The display benchmarks' guest (tests/bench/vnc-latency.py and
 * vnc-redraw-bytes.py). On the standard VGA (1234:1111, found by a PCI
 * scan, DISPI through BAR2 as vga.c does) it sets 1024x768x32 and draws a
 * desktop-like picture: a diagonal gradient wallpaper, a window with a
 * shaded title bar and a white page of text-like glyphs (8x16 cells, some
 * coloured as in an editor), and a row of icon squares. Prints
 * "vga-bench: drawn".
 *
 * Then it takes the PS/2 keyboard (i8042 with translation, IRQ 1, asleep
 * in HLT between keys) and on every key press fills a 32x32 square at
 * (SQUARE_X, SQUARE_Y) with the key's colour, key_colour() below, and only
 * then prints "key XX" (the set-1 make code) on COM1: the line's arrival
 * stamps the moment the last pixel was written. Set-1 0x10 (q) ends the
 * guest. The work per key is small on purpose: on hosts whose KVM emulates
 * guest kernel code each store costs microseconds. */
#include "ps2port.h"
#include "stdvga.h"

#define WIDTH 1024
#define HEIGHT 768
/* The square the key colours (the client checks its last pixel). */
#define SQUARE_X 960
#define SQUARE_Y 16
#define SQUARE 32

/* --- the picture ------------------------------------------------------ */

#define WIN_X 96
#define WIN_Y 80
#define WIN_W 704
#define WIN_H 560
#define TITLE_H 24
#define GLYPHS 64

static uint8_t glyph[GLYPHS][16];
static uint32_t seed = 12345;

static uint32_t next_random(void)
{
	seed = seed * 1103515245u + 12345u;
	return seed >> 16;
}

/* Glyph-like bit patterns: strokes in a 6x10 box of the 8x16 cell, with an
 * x-height and some ascenders and descenders, so rows look like text. */
static void make_glyphs(void)
{
	for (unsigned g = 0; g < GLYPHS; g++) {
		unsigned top = g % 3 == 0 ? 2 : 5, bottom = g % 5 == 0 ? 14 : 12;
		uint8_t stem = (uint8_t)(0x40 >> (next_random() % 4)), bar = (uint8_t)(next_random() & 0x7E);
		for (unsigned r = top; r < bottom; r++)
			glyph[g][r] = (uint8_t)(stem | (r == top || r == bottom - 1 || r == 8 ? bar : 0) |
					       (next_random() % 4 == 0 ? 0x3C & next_random() : 0));
	}
}

/* Each channel is an x part plus a y part that never carry into the next
 * channel (red < 160 + 48, blue < 96 + 64 + 48), so a row is one add per
 * pixel: the guest's code may be emulated, at microseconds a pixel. */
static uint32_t wallpaper_x[WIDTH];

static void draw_wallpaper_row(volatile uint32_t *row, unsigned y)
{
	uint32_t part = (y * 48 / HEIGHT) << 16 | (64 + y * 128 / HEIGHT) << 8 | (96 + y / 16);
	for (unsigned x = 0; x < WIDTH; x++)
		row[x] = wallpaper_x[x] + part;
}

static void draw_text_row(volatile uint32_t *row, unsigned r, const uint8_t *cells, const uint32_t *ink)
{
	for (unsigned c = 0; c < (WIN_W - 32) / 8; c++) {
		volatile uint32_t *p = row + WIN_X + 16 + c * 8;
		uint8_t bits = cells[c] == 0xFF ? 0 : glyph[cells[c]][r];
		for (unsigned b = 0; b < 8; b++)
			p[b] = bits & (0x80 >> b) ? ink[c] : 0xFFFFFF;
	}
}

static void draw_picture(volatile uint32_t *fb)
{
	make_glyphs();
	for (unsigned x = 0; x < WIDTH; x++)
		wallpaper_x[x] = (x * 160 / WIDTH) << 16 | x / 16;
	for (unsigned y = 0; y < HEIGHT; y++)
		draw_wallpaper_row(fb + y * WIDTH, y);
	/* Desktop icons: a column of squares on the left. */
	for (unsigned i = 0; i < 6; i++)
		for (unsigned y = 0; y < 48; y++)
			for (unsigned x = 0; x < 48; x++)
				fb[(100 + i * 96 + y) * WIDTH + 24 + x] = (0x3050A0 * (i + 1) + x * 0x020100) & 0xFFFFFF;
	/* The window: frame, a shaded title bar, and a page of text. */
	for (unsigned y = 0; y < TITLE_H; y++) {
		volatile uint32_t *row = fb + (WIN_Y + y) * WIDTH + WIN_X;
		uint32_t shade = 0x30 + y * 3;
		for (unsigned x = 0; x < WIN_W; x++)
			row[x] = shade << 16 | shade << 8 | (0x90 + y * 4);
	}
	uint8_t cells[(WIN_W - 32) / 8];
	uint32_t ink[(WIN_W - 32) / 8];
	static const uint32_t colours[4] = { 0x000000, 0x0000A0, 0xA02020, 0x207020 };
	for (unsigned y = WIN_Y + TITLE_H; y < WIN_Y + WIN_H; y++) {
		volatile uint32_t *row = fb + y * WIDTH;
		unsigned r = (y - (WIN_Y + TITLE_H)) % 16;
		if (r == 0) {
			/* A new line of words: varying lengths, indentation and colour. */
			unsigned c = 0, len = 20 + next_random() % 60, indent = (next_random() % 4) * 2;
			uint32_t word_ink = 0;
			for (; c < sizeof(cells); c++) {
				bool space = c < indent || c >= len || next_random() % 6 == 0;
				if (space && next_random() % 3 == 0)
					word_ink = colours[next_random() % 4];
				cells[c] = space ? 0xFF : (uint8_t)(next_random() % GLYPHS);
				ink[c] = word_ink;
			}
		}
		for (unsigned x = WIN_X; x < WIN_X + 16; x++)
			row[x] = 0xFFFFFF;
		for (unsigned x = WIN_X + WIN_W - 16; x < WIN_X + WIN_W; x++)
			row[x] = 0xFFFFFF;
		if (y >= WIN_Y + WIN_H - 16)
			for (unsigned x = WIN_X + 16; x < WIN_X + WIN_W - 16; x++)
				row[x] = 0xFFFFFF;
		else
			draw_text_row(row, r, cells, ink);
		row[WIN_X] = row[WIN_X + WIN_W - 1] = 0x202020;
	}
}

/* --- the keyboard and the square --------------------------------------- */

#define KBD_IRQ 1

/* Flush, translation on and the mouse port off, keyboard reset and
 * scanning (polled), then IRQ 1 on. */
static bool keyboard_set_up(void)
{
	ps2_flush();
	ps2_write_command_byte(CB_TRANSLATE | CB_SYSTEM | CB_AUX_OFF);
	ps2_controller(CMD_ENABLE_KBD);
	if (!ps2_device_command(false, DEV_RESET, -1) || ps2_read_byte() != SELF_TEST_OK ||
	    !ps2_device_command(false, DEV_ENABLE, -1))
		return false;
	ps2_write_command_byte(CB_TRANSLATE | CB_SYSTEM | CB_AUX_OFF | CB_KBD_IRQ);
	return true;
}

static void keyboard_interrupt(unsigned vector)
{
	(void)vector;  /* the byte stays in the controller for the main loop */
}

/* Also in tests/integration/vnc-probe.c's latency command. */
static uint32_t key_colour(uint8_t make)
{
	return (make * 0x9E3779B1u) >> 8 | 0x404040;
}

static void fill_square(volatile uint32_t *fb, uint32_t colour)
{
	for (unsigned y = 0; y < SQUARE; y++) {
		uint32_t *p = (uint32_t *)(fb + (SQUARE_Y + y) * WIDTH + SQUARE_X);
		unsigned n = SQUARE;
		__asm__ volatile("rep stosl" : "+D"(p), "+c"(n) : "a"(colour) : "memory");
	}
}

int main(void)
{
	struct stdvga vga;
	if (!stdvga_find(&vga)) {
		print("vga-bench: FAIL no standard VGA with its BARs\n");
		return 1;
	}
	if (!stdvga_set_mode(&vga, WIDTH, HEIGHT, 32)) {
		print("vga-bench: FAIL 1024x768x32\n");
		return 1;
	}
	uint32_t lfb = vga.lfb;
	volatile uint32_t *fb = (volatile uint32_t *)lfb;
	draw_picture(fb);
	print("vga-bench: drawn\n");
	if (!keyboard_set_up()) {
		print("vga-bench: FAIL keyboard\n");
		return 1;
	}
	interrupts_init();
	set_handler(0x20 + KBD_IRQ, keyboard_interrupt);
	pic_unmask(KBD_IRQ);
	print("vga-bench: keyboard ready\n");
	for (;;) {
		while (!(inb(I8042_STATUS) & STATUS_OBF))
			wait_for_interrupt();
		uint8_t code = inb(I8042_DATA);
		if (code & SET1_BREAK)
			continue;
		fill_square(fb, key_colour(code));
		print("key %02x\n", code);
		if (code == SET1_Q)
			return 0;
	}
}
