/* Vireo's boot program after stage 1 (boot.S): what a boot loader asks of
 * the BIOS, with what it saw reported on COM1 (and the text screen) for
 * tests/integration/test_bootprog.py.
 *
 * The test program: a banner with the boot drive and its sector size; the
 * data area (DATA_BYTES at data_lba, which the test patches into stage 1's
 * header) read through int 13h AH=42h and, on a hard disk, again sector by
 * sector through AH=02h (CHS from AH=08h's geometry), each with its CRC-32;
 * on a hard disk one sector written through AH=43h after the data area.
 * After a key: a VBE 640x480 direct-colour mode with 8 colour bars and a
 * white frame in its linear framebuffer, then every key echoed to COM1
 * ("key SSAA": scan code, ASCII) and drawn on the screen; r, k and p reset
 * through 0xCF9, reset through the keyboard controller and power off
 * through ACPI.
 *
 * With BOOT_DEMO defined it is the demo `./setup.sh run` boots: "Vireo"
 * large on the VBE screen and keys typed on the screen or on COM1 echoed
 * under it and on COM1; Esc powers off. */
#include "boot.h"

#include <stddef.h>

#define COM1 0x3F8
#define COM1_LSR (COM1 + 5)             /* 16550 line status */
#define LSR_THR_EMPTY 0x20
#define PCI_CONFIG_ADDRESS 0xCF8        /* PCI 3.0 §3.2.2.3.2, mechanism #1 */
#define PCI_CONFIG_DATA 0xCFC
#define PCI_CONFIG_ENABLE 0x80000000u
#define RESET_CONTROL 0xCF9             /* PIIX3 82371SB §4.1.5 */
#define RESET_CONTROL_RESET 0x06        /* SYS_RST | RST_CPU */
#define KBC_COMMAND 0x64                /* 8042: pulse output port bit 0 (reset) */
#define KBC_PULSE_RESET 0xFE
#define PIIX4_PM_FUNCTION ((1u << 11) | (3u << 8))  /* 00:01.3 */
#define PIIX4_PMBA 0x40                 /* 82371AB §3.4.2.2, bits 15:6 */
#define PMBA_MASK 0xFFC0u
#define PM1_CNT 4                       /* ACPI 6.4 §4.8.3.2.1 */
#define PM1_CNT_SLP_EN (1u << 13)
#define PM1_CNT_SLP_TYP_SHIFT 10
/* \_S5's SLP_TYP. The engine's own DSDT (engine/boot/acpi.c) and the tables
 * SeaBIOS builds itself when fw_cfg offers none (its ssdt-misc, as on our
 * board) both say 0, which engine/hw/acpi_pm.c powers off on; a real
 * loader would read it from the ACPI tables. */
#define SLP_TYP_S5 0

#define DATA_BYTES 65536u
#define CHUNK_BYTES 4096u               /* per AH=42h call */
#define HARD_DISK_BPS 512u
#define WRITE_MARKER "VIREO BOOT WROTE drive="

#define SCREEN_WIDTH 640u
#define SCREEN_HEIGHT 480u
#define BARS 8u
#define WHITE 0xFFFFFFu
#define BLACK 0x000000u
#define GLYPH_WIDTH 8u
#define GLYPH_HEIGHT 16u
#define KEY_SCALE 2u                    /* typed keys: 16x32 cells */
#define KEY_X 16u
#define KEY_Y 400u
#define KEY_COLUMNS 38u
#define MAX_MODES 256u
/* VBE 3.0 §4.4, ModeInfoBlock */
#define MODE_ATTRIBUTES 0x00
#define MODE_ATTR_GRAPHICS 0x10
#define MODE_ATTR_LFB 0x80
#define MODE_PITCH 0x10
#define MODE_WIDTH 0x12
#define MODE_HEIGHT 0x14
#define MODE_BITS_PER_PIXEL 0x19
#define MODE_MEMORY_MODEL 0x1B
#define MEMORY_MODEL_DIRECT 6
#define MODE_RED_SIZE 0x1F              /* then position, green, blue */
#define MODE_LFB_ADDRESS 0x28
#define VBE_INFO_MODE_LIST 0x0E         /* VBE 3.0 §4.3: far pointer */
#define VBE_MODE_LIST_END 0xFFFF
#define VBE_SET_MODE_LFB 0x4000
#define TELETYPE_PAGE_COLOUR 0x0007     /* BH page 0, BL grey (used in graphics modes) */
#define EDD_PARAMETERS_SIZE 0x1E        /* EDD 3.0 §7.8: the result buffer, its size first */
#define EDD_BYTES_PER_SECTOR 0x18

static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline void outw(uint16_t port, uint16_t v) { __asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port)); }
static inline void outl(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port) { uint8_t v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline uint32_t inl(uint16_t port) { uint32_t v; __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port)); return v; }

static _Noreturn void halt(void)
{
	for (;;)
		__asm__ volatile("cli; hlt");
}

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t get32(const uint8_t *p) { return get16(p) | (uint32_t)get16(p + 2) << 16; }

/* ---- output: COM1 and, until the graphics mode, the text screen ---- */

static int on_text_screen = 1;

static void say_char(char c)
{
	while (!(inb(COM1_LSR) & LSR_THR_EMPTY))
		;
	outb(COM1, (uint8_t)c);
	if (on_text_screen) {
		struct bios_regs r = { .eax = BIOS_VIDEO_TELETYPE << 8 | (uint8_t)c, .ebx = TELETYPE_PAGE_COLOUR };
		bios_int(BIOS_VIDEO, &r);
	}
}

static void say(const char *s)
{
	while (*s)
		say_char(*s++);
}

static const char hex_digits[] = "0123456789abcdef";

static void say_hex(uint32_t v, unsigned digits)
{
	while (digits--)
		say_char(hex_digits[v >> (4 * digits) & 15]);
}

static void say_dec(uint32_t v)
{
	char digits[11], *p = digits + sizeof(digits);
	*--p = 0;
	do
		*--p = (char)('0' + v % 10);
	while (v /= 10);
	say(p);
}

static _Noreturn void fail(const char *what, uint32_t code)
{
	say(what);
	say(" failed: ");
	say_hex(code, 4);
	say("\r\n");
	halt();
}

/* ---- disks: EDD 3.0 ---- */

static void disk_call(struct bios_regs *r, const char *what)
{
	r->edx = (r->edx & 0xFF00) | boot_drive;
	bios_int(BIOS_DISK, r);
	if (r->flags & FLAGS_CARRY)
		fail(what, r->eax >> 8 & 0xFF);
}

static unsigned bytes_per_sector(void)
{
	uint8_t result[EDD_PARAMETERS_SIZE] = { sizeof(result) };
	struct bios_regs r = { .eax = BIOS_DISK_EXT_PARAMETERS << 8, .esi = (uint16_t)(uintptr_t)result };
	disk_call(&r, "int 13h AH=48h");
	return get16(result + EDD_BYTES_PER_SECTOR);
}

/* ---- graphics: VBE 3.0 ---- */

static struct {
	uint32_t lfb, pitch, bytes_per_pixel;
	uint8_t fields[6];              /* red size, position, green ..., blue ... */
} screen;
static uint8_t vbe_info[512], mode_info[256];
static uint32_t font;                   /* the VGA BIOS's 8x16 glyphs */

static int vbe_call(uint16_t function, uint32_t bx, uint32_t cx, void *block)
{
	struct bios_regs r = { .eax = function, .ebx = bx, .ecx = cx, .edi = (uint16_t)(uintptr_t)block };
	bios_int(BIOS_VIDEO, &r);
	return (r.eax & 0xFFFF) == VBE_SUCCESS;
}

/* Is MODE WIDTHxHEIGHT direct colour with BPP bits and a linear framebuffer? */
static int mode_fits(uint16_t mode, unsigned bpp)
{
	return vbe_call(VBE_MODE_INFO, 0, mode, mode_info) &&
	       (mode_info[MODE_ATTRIBUTES] & (MODE_ATTR_GRAPHICS | MODE_ATTR_LFB)) == (MODE_ATTR_GRAPHICS | MODE_ATTR_LFB) &&
	       get16(mode_info + MODE_WIDTH) == SCREEN_WIDTH && get16(mode_info + MODE_HEIGHT) == SCREEN_HEIGHT &&
	       mode_info[MODE_BITS_PER_PIXEL] == bpp && mode_info[MODE_MEMORY_MODEL] == MEMORY_MODEL_DIRECT;
}

/* The mode list's first mode that fits, or VBE_MODE_LIST_END. */
static uint16_t find_mode(unsigned bpp)
{
	uint32_t list = (uint32_t)get16(vbe_info + VBE_INFO_MODE_LIST + 2) << 4 | get16(vbe_info + VBE_INFO_MODE_LIST);
	for (unsigned i = 0; i < MAX_MODES; i++) {
		uint16_t mode;
		far_read(list + 2 * i, &mode, sizeof(mode));
		if (mode == VBE_MODE_LIST_END || mode_fits(mode, bpp))
			return mode;
	}
	return VBE_MODE_LIST_END;
}

/* 640x480 at 32 bits per pixel, else 24, else 16; the LFB's layout in screen. */
static void set_graphics_mode(void)
{
	static const uint8_t depths[] = { 32, 24, 16 };
	struct bios_regs f = { .eax = BIOS_VIDEO_FONT_INFO, .ebx = BIOS_VIDEO_FONT_8X16 << 8 };
	bios_int(BIOS_VIDEO, &f);
	font = (uint32_t)f.es << 4 | (f.ebp & 0xFFFF);
	vbe_info[0] = 'V', vbe_info[1] = 'B', vbe_info[2] = 'E', vbe_info[3] = '2';  /* asks for VBE 2.0+ fields */
	if (!vbe_call(VBE_CONTROLLER_INFO, 0, 0, vbe_info))
		fail("VBE AX=4F00h", 0);
	uint16_t mode = VBE_MODE_LIST_END;
	unsigned d = 0;
	while (d < sizeof(depths) && (mode = find_mode(depths[d])) == VBE_MODE_LIST_END)
		d++;
	if (mode == VBE_MODE_LIST_END)
		fail("VBE: no 640x480 direct-colour mode", 0);
	if (d)
		say("VBE: no 640x480x32, falling back to ");
	if (!vbe_call(VBE_MODE_INFO, 0, mode, mode_info) || !vbe_call(VBE_SET_MODE, mode | VBE_SET_MODE_LFB, 0, NULL))
		fail("VBE AX=4F02h", mode);
	on_text_screen = 0;
	screen.lfb = get32(mode_info + MODE_LFB_ADDRESS);
	screen.pitch = get16(mode_info + MODE_PITCH);
	screen.bytes_per_pixel = (mode_info[MODE_BITS_PER_PIXEL] + 7) / 8;
	for (unsigned i = 0; i < sizeof(screen.fields); i++)
		screen.fields[i] = mode_info[MODE_RED_SIZE + i];
	say("VBE ok mode=");
	say_hex(mode, 4);
	say(" 640x480x");
	say_dec(depths[d]);
	say("\r\n");
}

/* 0xRRGGBB in the mode's pixel layout. */
static uint32_t pixel_value(uint32_t rgb)
{
	uint32_t v = 0;
	for (unsigned i = 0; i < 3; i++) {
		uint32_t channel = rgb >> (16 - 8 * i) & 0xFF;
		v |= channel >> (8 - screen.fields[2 * i]) << screen.fields[2 * i + 1];
	}
	return v;
}

static void fill(uint32_t x, uint32_t y, uint32_t w, uint32_t h, uint32_t rgb)
{
	struct lfb_fill f = { screen.lfb + y * screen.pitch + x * screen.bytes_per_pixel, screen.pitch, w, h,
			      pixel_value(rgb), screen.bytes_per_pixel };
	lfb_fill(&f);
}

/* Character C from the VGA BIOS's font, each dot SCALE x SCALE. */
static void draw_glyph(uint8_t c, uint32_t x, uint32_t y, uint32_t scale, uint32_t fg, uint32_t bg)
{
	uint8_t rows[GLYPH_HEIGHT];
	far_read(font + c * GLYPH_HEIGHT, rows, sizeof(rows));
	fill(x, y, GLYPH_WIDTH * scale, GLYPH_HEIGHT * scale, bg);
	for (uint32_t row = 0; row < GLYPH_HEIGHT; row++)
		for (uint32_t col = 0; col < GLYPH_WIDTH;) {
			uint32_t run = 0;
			while (col + run < GLYPH_WIDTH && rows[row] << (col + run) & 0x80)
				run++;
			if (run)
				fill(x + col * scale, y + row * scale, run * scale, scale, fg);
			col += run ? run : 1;
		}
}

/* int 16h AH=00h: the next key, scan code in the high byte, ASCII in the low. */
static uint16_t read_key(void)
{
	struct bios_regs r = { .eax = BIOS_KEYBOARD_READ << 8 };
	bios_int(BIOS_KEYBOARD, &r);
	return (uint16_t)r.eax;
}

/* Draws ASCII in the next cell of the key line. */
static void draw_key(uint8_t ascii)
{
	static unsigned column;
	draw_glyph(ascii, KEY_X + column * GLYPH_WIDTH * KEY_SCALE, KEY_Y, KEY_SCALE, WHITE, BLACK);
	column = (column + 1) % KEY_COLUMNS;
}

static void power_off(void)
{
	outl(PCI_CONFIG_ADDRESS, PCI_CONFIG_ENABLE | PIIX4_PM_FUNCTION | PIIX4_PMBA);
	uint16_t base = (uint16_t)(inl(PCI_CONFIG_DATA) & PMBA_MASK);
	outw((uint16_t)(base + PM1_CNT), SLP_TYP_S5 << PM1_CNT_SLP_TYP_SHIFT | PM1_CNT_SLP_EN);
}

#ifndef BOOT_DEMO
/* ---- the test program ---- */

struct disk_packet {                    /* EDD 3.0 §7.4, Device Address Packet */
	uint8_t size, reserved;
	uint16_t count;
	uint16_t offset, segment;
	uint64_t lba;
};

static uint8_t buffer[CHUNK_BYTES];
static uint32_t crc_table[256];

/* AH=42h or AH=43h on COUNT sectors at LBA, to or from buffer. */
static void disk_transfer(uint8_t function, uint32_t lba, uint16_t count, const char *what)
{
	struct disk_packet p = { sizeof(p), 0, count, (uint16_t)(uintptr_t)buffer, 0, lba };
	struct bios_regs r = { .eax = (uint32_t)function << 8, .esi = (uint16_t)(uintptr_t)&p };
	disk_call(&r, what);
}

static void crc_init(void)
{
	for (uint32_t n = 0; n < 256; n++) {
		uint32_t c = n;
		for (int k = 0; k < 8; k++)
			c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;  /* CRC-32 (IEEE 802.3), reflected */
		crc_table[n] = c;
	}
}

/* crc runs inverted between calls: start with ~0 and invert the result. */
static uint32_t crc_update(uint32_t crc, const uint8_t *p, unsigned n)
{
	while (n--)
		crc = crc_table[(crc ^ *p++) & 0xFF] ^ (crc >> 8);
	return crc;
}

static void say_crc(const char *how, uint32_t crc)
{
	say(how);
	say(" lba=");
	say_dec(data_lba);
	say(" crc=");
	say_hex(~crc, 8);
	say("\r\n");
}

static void read_data_extended(unsigned bps)
{
	uint32_t crc = ~0u;
	for (uint32_t at = 0; at < DATA_BYTES; at += CHUNK_BYTES) {
		disk_transfer(BIOS_DISK_EXT_READ, data_lba + at / bps, (uint16_t)(CHUNK_BYTES / bps), "int 13h AH=42h");
		crc = crc_update(crc, buffer, CHUNK_BYTES);
	}
	say_crc("read42", crc);
}

/* The same data area sector by sector through CHS addresses. */
static void read_data_chs(void)
{
	struct bios_regs g = { .eax = BIOS_DISK_PARAMETERS << 8 };
	disk_call(&g, "int 13h AH=08h");
	uint32_t sectors = g.ecx & 0x3F, heads = (g.edx >> 8 & 0xFF) + 1;
	uint32_t cylinders = ((g.ecx >> 8 & 0xFF) | (g.ecx & 0xC0) << 2) + 1;
	say("geometry c=");
	say_dec(cylinders);
	say(" h=");
	say_dec(heads);
	say(" s=");
	say_dec(sectors);
	say("\r\n");
	uint32_t crc = ~0u;
	for (uint32_t lba = data_lba; lba < data_lba + DATA_BYTES / HARD_DISK_BPS; lba++) {
		uint32_t c = lba / (heads * sectors), h = lba / sectors % heads, s = lba % sectors + 1;
		struct bios_regs r = { .eax = BIOS_DISK_READ_CHS << 8 | 1, .ebx = (uint16_t)(uintptr_t)buffer,
				       .ecx = (c & 0xFF) << 8 | (c >> 2 & 0xC0) | s, .edx = h << 8 };
		disk_call(&r, "int 13h AH=02h");
		crc = crc_update(crc, buffer, HARD_DISK_BPS);
	}
	say_crc("read02", crc);
}

/* The marker and the drive number in the sector after the data area. */
static void write_marker(void)
{
	static const char marker[] = WRITE_MARKER;
	uint32_t lba = data_lba + DATA_BYTES / HARD_DISK_BPS;
	for (unsigned i = 0; i < HARD_DISK_BPS; i++)
		buffer[i] = i < sizeof(marker) - 1 ? (uint8_t)marker[i] : 0;
	buffer[sizeof(marker) - 1] = (uint8_t)hex_digits[boot_drive >> 4];
	buffer[sizeof(marker)] = (uint8_t)hex_digits[boot_drive & 15];
	disk_transfer(BIOS_DISK_EXT_WRITE, lba, 1, "int 13h AH=43h");
	say("wrote lba=");
	say_dec(lba);
	say("\r\n");
}

/* 8 vertical bars, colour i = red (bit 2), green (bit 1), blue (bit 0), and a 1-pixel white frame. */
static void draw_test_pattern(void)
{
	for (uint32_t i = 0; i < BARS; i++)
		fill(i * SCREEN_WIDTH / BARS, 0, SCREEN_WIDTH / BARS, SCREEN_HEIGHT,
		     (i & 4 ? 0xFF0000u : 0) | (i & 2 ? 0x00FF00u : 0) | (i & 1 ? 0x0000FFu : 0));
	fill(0, 0, SCREEN_WIDTH, 1, WHITE);
	fill(0, SCREEN_HEIGHT - 1, SCREEN_WIDTH, 1, WHITE);
	fill(0, 0, 1, SCREEN_HEIGHT, WHITE);
	fill(SCREEN_WIDTH - 1, 0, 1, SCREEN_HEIGHT, WHITE);
}

static void run_command(uint8_t ascii)
{
	if (ascii == 'r')
		outb(RESET_CONTROL, RESET_CONTROL_RESET);
	else if (ascii == 'k')
		outb(KBC_COMMAND, KBC_PULSE_RESET);
	else if (ascii == 'p')
		power_off();
	else
		return;
	fail("command", ascii);         /* still running */
}

static void run(unsigned bps)
{
	crc_init();
	read_data_extended(bps);
	if (bps == HARD_DISK_BPS) {     /* a hard disk: CDs have 2048 */
		read_data_chs();
		write_marker();
	}
	say("press a key for graphics\r\n");
	read_key();
	set_graphics_mode();
	draw_test_pattern();
	say("keys: r resets, k resets through the 8042, p powers off\r\n");
	for (;;) {
		uint16_t key = read_key();
		draw_key((uint8_t)key);
		say("key ");            /* once it is on the screen */
		say_hex(key, 4);
		say("\r\n");
		run_command((uint8_t)key);
	}
}
#else
/* ---- the demo ---- */

#define DEMO_NAME "Vireo"
#define DEMO_NAME_SCALE 8u
#define DEMO_NAME_Y 120u
#define DEMO_HINT "Type here or on the terminal; Esc powers off."
#define DEMO_HINT_Y 300u
#define DEMO_BACKGROUND 0x203060u
#define DEMO_NAME_COLOUR 0xF0C040u

/* TEXT centred on the screen's width, each font dot SCALE x SCALE. */
static void draw_centred(const char *text, uint32_t y, uint32_t scale, uint32_t fg)
{
	uint32_t length = 0;
	while (text[length])
		length++;
	for (uint32_t i = 0, x = (SCREEN_WIDTH - length * GLYPH_WIDTH * scale) / 2; i < length; i++, x += GLYPH_WIDTH * scale)
		draw_glyph((uint8_t)text[i], x, y, scale, fg, DEMO_BACKGROUND);
}

#define ESC 0x1B
#define LSR_DATA_READY 0x01

/* A key from the screen's keyboard (int 16h) or a byte typed on COM1, or 0. */
static uint8_t typed(void)
{
	struct bios_regs r = { .eax = BIOS_KEYBOARD_STATUS << 8 };
	bios_int(BIOS_KEYBOARD, &r);
	if (!(r.flags & FLAGS_ZERO))
		return (uint8_t)read_key();
	return inb(COM1_LSR) & LSR_DATA_READY ? inb(COM1) : 0;
}

static void run(unsigned bps)
{
	(void)bps;
	set_graphics_mode();
	fill(0, 0, SCREEN_WIDTH, SCREEN_HEIGHT, DEMO_BACKGROUND);
	draw_centred(DEMO_NAME, DEMO_NAME_Y, DEMO_NAME_SCALE, DEMO_NAME_COLOUR);
	draw_centred(DEMO_HINT, DEMO_HINT_Y, 1, WHITE);
	say("Type on the screen or here; Esc powers off.\r\n");
	for (;;) {
		uint8_t c = typed();
		if (!c) {
			__asm__ volatile("sti; hlt");   /* until the next tick or key */
			continue;
		}
		if (c == ESC)
			power_off();
		if (c >= ' ')
			draw_key(c);
		say_char(c);
		if (c == '\r')
			say_char('\n');
	}
}
#endif

_Noreturn void main(void);
_Noreturn void main(void)
{
	unsigned bps = bytes_per_sector();
	say("VIREO BOOT drive=");
	say_hex(boot_drive, 2);
	say(" bps=");
	say_dec(bps);
	say("\r\n");
	run(bps);
	halt();
}
