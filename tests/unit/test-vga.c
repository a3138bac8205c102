/* The standard VGA driven through ports, the 0xA0000 window and its PCI
 * BARs as a guest would, with no vCPU: DISPI modes as bochs-drm sets them,
 * text mode glyphs, mode 13h, the planar write and read modes, dirty
 * rectangles (only what changed, nothing when idle), and hostile register
 * values that must keep every read inside VRAM. */
#include <errno.h>
#include <glib.h>
#include <string.h>

#include <sys/ioctl.h>

#include "bus-poke.h"
#include "console.h"
#include "hw/pci.h"
#include "hw/vga.h"
#include "hw/vga_font.h"
#include "kvm-test.h"
#include "board/vga_host.h"

#define MMIO_BASE   0xE0000000u
#define MMIO_LIMIT  0xF0000000u
#define VGA_SLOT    2
#define DEVFN       (VGA_SLOT << 3)
#define WINDOW      0xA0000u
#define TEXT_BASE   0xB8000u
#define DISPI_INDEX 0x1CE
#define DISPI_DATA  0x1CF
#define BLUE        0x0000AAu  /* default palette: DAC entry 1 */
#define WHITE       0xFFFFFFu  /* DAC entry 0x3F */

struct fixture {
	struct bus pio, mmio;
	struct pci_bus pci;
	struct console con;
	struct vga vga;
	struct console_listener listener;
	struct console_surface surface;
	unsigned surface_changes;
	GArray *rects;
	/* The engine's side of BAR0, faked: where VRAM is mapped, and the
	 * pages the "guest" wrote since the last fetch. */
	bool map_fails, mapped;
	uint64_t mapped_gpa;
	unsigned long guest_dirty[VGA_VRAM_DEFAULT / VGA_PAGE_SIZE / (8 * sizeof(long))];
};

static void surface_changed(void *opaque, const struct console_surface *surface)
{
	struct fixture *f = opaque;
	f->surface = *surface;
	f->surface_changes++;
}

static void update(void *opaque, const struct console_rect *rect)
{
	g_array_append_val(((struct fixture *)opaque)->rects, *rect);
}

static int fake_map(void *opaque, uint64_t gpa, uint64_t size, void *hva)
{
	struct fixture *f = opaque;
	(void)size, (void)hva;
	if (f->map_fails)
		return -1;
	f->mapped = true;
	f->mapped_gpa = gpa;
	return 0;
}

static void fake_unmap(void *opaque, uint64_t gpa, uint64_t size)
{
	struct fixture *f = opaque;
	(void)size;
	g_assert_cmphex(gpa, ==, f->mapped_gpa);
	f->mapped = false;
}

static bool fake_fetch_dirty(void *opaque, uint64_t gpa, uint64_t size, unsigned long *bitmap)
{
	struct fixture *f = opaque;
	g_assert_cmphex(gpa, ==, f->mapped_gpa);
	memcpy(bitmap, f->guest_dirty, size / VGA_PAGE_SIZE / 8);
	memset(f->guest_dirty, 0, sizeof(f->guest_dirty));
	return true;
}

static const struct vga_memory_ops fake_memory = { fake_map, fake_unmap, fake_fetch_dirty };

/* memory: the engine's side of BAR0, or NULL (allowed: BAR0 then goes
 * through the bus). */
static struct fixture *fixture_new_with(uint32_t vram_size, const struct vga_memory_ops *memory)
{
	struct fixture *f = g_new0(struct fixture, 1);
	bus_init(&f->pio);
	bus_init(&f->mmio);
	console_init(&f->con);
	f->rects = g_array_new(FALSE, FALSE, sizeof(struct console_rect));
	f->listener = (struct console_listener){ .surface_changed = surface_changed, .update = update, .opaque = f };
	g_assert_true(console_add_listener(&f->con, &f->listener));
	g_assert_cmpint(pci_bus_init(&f->pci, &f->pio, &f->mmio), ==, 0);
	g_assert_cmpint(vga_init(&f->vga, &f->pio, &f->mmio, vram_size, memory, f, &f->con), ==, 0);
	g_assert_cmpint(pci_bus_add(&f->pci, &f->vga.pci, VGA_SLOT, 0), ==, 0);
	return f;
}

static struct fixture *fixture_new_sized(uint32_t vram_size)
{
	return fixture_new_with(vram_size, &fake_memory);
}

static struct fixture *fixture_new(void)
{
	return fixture_new_sized(VGA_VRAM_DEFAULT);
}

static void fixture_free(struct fixture *f)
{
	pci_bus_destroy(&f->pci);
	vga_destroy(&f->vga);
	console_destroy(&f->con);
	bus_destroy(&f->pio);
	bus_destroy(&f->mmio);
	g_array_free(f->rects, TRUE);
	g_free(f);
}

static void out8(struct fixture *f, uint16_t port, uint8_t v) { bus_out(&f->pio, port, v, 1); }
static uint8_t in8(struct fixture *f, uint16_t port) { return (uint8_t)bus_in(&f->pio, port, 1); }

static void indexed(struct fixture *f, uint16_t index_port, uint8_t index, uint8_t v)
{
	bus_out(&f->pio, index_port, (uint16_t)(v << 8 | index), 2); /* outw, as BIOSes do */
}

static void attr(struct fixture *f, uint8_t index, uint8_t v)
{
	in8(f, 0x3DA); /* flip-flop to index */
	out8(f, 0x3C0, index);
	out8(f, 0x3C0, v);
	out8(f, 0x3C0, 0x20); /* PAS on again */
}

static void dispi(struct fixture *f, uint16_t index, uint16_t v)
{
	bus_out(&f->pio, DISPI_INDEX, index, 2);
	bus_out(&f->pio, DISPI_DATA, v, 2);
}

static uint16_t dispi_get(struct fixture *f, uint16_t index)
{
	bus_out(&f->pio, DISPI_INDEX, index, 2);
	return (uint16_t)bus_in(&f->pio, DISPI_DATA, 2);
}

static void refresh(struct fixture *f)
{
	g_array_set_size(f->rects, 0);
	console_refresh(&f->con);
}

static void assert_rects(struct fixture *f, const struct console_rect *want, unsigned n)
{
	g_assert_cmpuint(f->rects->len, ==, n);
	for (unsigned i = 0; i < n; i++) {
		struct console_rect *r = &g_array_index(f->rects, struct console_rect, i);
		g_assert_cmpuint(r->x, ==, want[i].x);
		g_assert_cmpuint(r->y, ==, want[i].y);
		g_assert_cmpuint(r->width, ==, want[i].width);
		g_assert_cmpuint(r->height, ==, want[i].height);
	}
}

static uint32_t pixel(struct fixture *f, unsigned x, unsigned y)
{
	g_assert_cmpint(f->surface.format, ==, CONSOLE_FORMAT_XRGB8888);
	return ((const uint32_t *)(f->surface.pixels + (size_t)y * f->surface.stride))[x] & 0xFFFFFF;
}

static uint32_t config_read(struct fixture *f, unsigned reg)
{
	bus_out(&f->pio, 0xCF8, 0x80000000u | DEVFN << 8 | reg, 4);
	return (uint32_t)bus_in(&f->pio, 0xCFC, 4);
}

/* Firmware's part: BARs placed and decoding on. Returns BAR0 and BAR2. */
static void assign_bars(struct fixture *f, uint32_t *lfb, uint32_t *mmio)
{
	g_assert_cmpint(pci_bus_assign_bars(&f->pci, MMIO_BASE, MMIO_LIMIT, 0xC000), ==, 0);
	*lfb = config_read(f, 0x10) & ~0xFu;
	*mmio = config_read(f, 0x18) & ~0xFu;
}

/* bochs_hw_setmode's sequence through BAR2. */
static void bochs_setmode(struct fixture *f, uint32_t mmio, uint16_t x, uint16_t y, uint16_t bpp)
{
	static const uint16_t order[] = { 4, 3, 1, 2, 5, 6, 7, 8, 9 };
	uint16_t values[] = { 0, bpp, x, y, 0, x, y, 0, 0 };
	bus_out(&f->mmio, mmio + 0x400, 0x20, 1); /* 0x3C0: unblank */
	for (unsigned i = 0; i < G_N_ELEMENTS(order); i++)
		bus_out(&f->mmio, mmio + 0x500 + order[i] * 2, values[i], 2);
	bus_out(&f->mmio, mmio + 0x500 + 4 * 2, 0x41, 2); /* ENABLED | LFB_ENABLED */
}

static void mark_guest_page(struct fixture *f, uint64_t offset)
{
	uint64_t page = offset / VGA_PAGE_SIZE;
	f->guest_dirty[page / (8 * sizeof(long))] |= 1ul << (page % (8 * sizeof(long)));
}

static void test_pci_identity(void)
{
	struct fixture *f = fixture_new();
	uint32_t lfb, mmio;
	g_assert_cmphex(config_read(f, 0x00), ==, 0x11111234u);
	g_assert_cmphex(config_read(f, 0x08), ==, 0x03000002u);  /* class 0300, revision 2 */
	g_assert_cmphex(config_read(f, 0x10), ==, 0x8u);          /* prefetchable 32-bit memory */
	bus_out(&f->pio, 0xCF8, 0x80000000u | DEVFN << 8 | 0x10, 4);
	bus_out(&f->pio, 0xCFC, 0xFFFFFFFFu, 4);
	g_assert_cmphex(bus_in(&f->pio, 0xCFC, 4), ==, 0xFF000008u); /* 16 MiB */
	assign_bars(f, &lfb, &mmio);
	g_assert_true(f->mapped);
	g_assert_cmphex(f->mapped_gpa, ==, lfb);
	g_assert_cmphex(bus_in(&f->mmio, mmio + 0x600, 4), ==, 8);           /* qext size */
	g_assert_cmphex(bus_in(&f->mmio, mmio + 0x604, 4), ==, 0x1E1E1E1Eu); /* little-endian */
	g_assert_cmphex(bus_in(&f->mmio, mmio + 0x500, 2) & 0xFFF0, ==, 0xB0C0); /* what bochs-drm checks */
	/* EDID at 0: header, checksum, preferred timing 1024x768. */
	uint8_t edid[128], sum = 0;
	for (unsigned i = 0; i < sizeof(edid); i++)
		sum = (uint8_t)(sum + (edid[i] = (uint8_t)bus_in(&f->mmio, mmio + i, 1)));
	g_assert_cmphex(bus_in(&f->mmio, mmio, 8), ==, 0x00FFFFFFFFFFFF00ull);
	g_assert_cmphex(sum, ==, 0);
	g_assert_cmphex(edid[0x12] << 8 | edid[0x13], ==, 0x0104);                 /* EDID 1.4 */
	g_assert_cmpuint(edid[0x38] | (edid[0x3A] >> 4) << 8, ==, 1024);            /* H active */
	g_assert_cmpuint(edid[0x3B] | (edid[0x3D] >> 4) << 8, ==, 768);             /* V active */
	g_assert_cmpuint(edid[0x36] | edid[0x37] << 8, ==, 6500);                   /* 65 MHz */
	g_assert_cmpmem(edid + 0x5A + 5, 10, "Vireo VGA\n", 10);                   /* monitor name */
	g_assert_cmphex(bus_in(&f->mmio, mmio + 0x500 + 0xA * 2, 2), ==, 256);   /* 16 MiB in 64 KiB */
	/* Moving BAR0 remaps it; turning decoding off unmaps it. */
	bus_out(&f->pio, 0xCF8, 0x80000000u | DEVFN << 8 | 0x10, 4);
	bus_out(&f->pio, 0xCFC, 0xE8000000u, 4);
	g_assert_cmphex(f->mapped_gpa, ==, 0xE8000000u);
	bus_out(&f->pio, 0xCF8, 0x80000000u | DEVFN << 8 | 0x04, 4);
	bus_out(&f->pio, 0xCFC, 0, 2);
	g_assert_false(f->mapped);
	fixture_free(f);
}

static void test_dispi_modes(void)
{
	struct fixture *f = fixture_new();
	uint32_t lfb, mmio;
	assign_bars(f, &lfb, &mmio);
	bochs_setmode(f, mmio, 1024, 768, 32);
	refresh(f);
	g_assert_cmpint(f->surface.format, ==, CONSOLE_FORMAT_XRGB8888);
	g_assert_cmpuint(f->surface.width, ==, 1024);
	g_assert_cmpuint(f->surface.height, ==, 768);
	g_assert_cmpuint(f->surface.stride, ==, 4096);
	g_assert_true(f->surface.pixels == f->vga.vram);       /* straight from VRAM */
	assert_rects(f, &(struct console_rect){ 0, 0, 1024, 768 }, 1);
	refresh(f);
	assert_rects(f, NULL, 0);                               /* idle: nothing */

	/* The guest writes pixel (10, 20) through its mapping: the dirty log
	 * names page 20, which is line 20. */
	f->vga.vram[20 * 4096 + 10 * 4] = 0x56;
	mark_guest_page(f, 20 * 4096 + 10 * 4);
	refresh(f);
	g_assert_cmphex(pixel(f, 10, 20), ==, 0x56);
	assert_rects(f, &(struct console_rect){ 0, 20, 1024, 1 }, 1);

	/* Page flip by Y offset, as bochs-drm does. */
	unsigned changes = f->surface_changes;
	bus_out(&f->mmio, mmio + 0x500 + 9 * 2, 768, 2);
	refresh(f);
	g_assert_cmpuint(f->surface_changes, ==, changes + 1);
	g_assert_true(f->surface.pixels == f->vga.vram + 768 * 4096);

	bochs_setmode(f, mmio, 800, 600, 16);
	refresh(f);
	g_assert_cmpint(f->surface.format, ==, CONSOLE_FORMAT_RGB565);
	g_assert_cmpuint(f->surface.width, ==, 800);
	g_assert_cmpuint(f->surface.height, ==, 600);
	g_assert_cmpuint(f->surface.stride, ==, 1600);
	/* Through the bus (as when the engine could not map it): pixel (5, 7)
	 * is at 7 * 1600 + 10, in page 2, which lines 5-7 touch. */
	bus_out(&f->mmio, lfb + 7 * 1600 + 10, 0xF800, 2);
	refresh(f);
	g_assert_cmphex(((const uint16_t *)(f->surface.pixels + 7 * 1600))[5], ==, 0xF800);
	assert_rects(f, &(struct console_rect){ 0, 5, 800, 3 }, 1);
	refresh(f);
	assert_rects(f, NULL, 0);
	fixture_free(f);
}

static void test_dispi_shadow_depths(void)
{
	struct fixture *f = fixture_new();
	dispi(f, 3, 8);
	dispi(f, 1, 640);
	dispi(f, 2, 480);
	dispi(f, 4, 0x41);
	out8(f, 0x3C8, 7);                                      /* DAC entry 7 = (63, 0, 21) */
	out8(f, 0x3C9, 63), out8(f, 0x3C9, 0), out8(f, 0x3C9, 21);
	bus_out(&f->mmio, WINDOW + 3, 7, 1);                     /* bank 0, pixel (3, 0) */
	refresh(f);
	g_assert_cmpuint(f->surface.width, ==, 640);
	g_assert_cmphex(pixel(f, 3, 0), ==, 0xFF0055);
	dispi(f, 5, 1);                                         /* bank 1: offset 64 KiB */
	bus_out(&f->mmio, WINDOW + 0, 7, 1);
	refresh(f);
	g_assert_cmphex(pixel(f, 65536 % 640, 65536 / 640), ==, 0xFF0055);

	dispi(f, 4, 0);
	dispi(f, 5, 0);
	dispi(f, 3, 24);
	dispi(f, 4, 0x41);
	memcpy(f->vga.vram + 3 * (640 * 2 + 1), (uint8_t[]){ 0x11, 0x22, 0x33 }, 3); /* B, G, R at (1, 2) */
	refresh(f);
	g_assert_cmphex(pixel(f, 1, 2), ==, 0x332211);

	dispi(f, 4, 0);
	dispi(f, 3, 15);
	dispi(f, 4, 0x41);
	bus_out(&f->mmio, WINDOW + 2 * 4, 0x7C00, 2);              /* pure red at (4, 0) */
	refresh(f);
	g_assert_cmphex(pixel(f, 4, 0), ==, 0xFF0000);
	fixture_free(f);
}

static void test_dispi_registers(void)
{
	struct fixture *f = fixture_new();
	g_assert_cmphex(dispi_get(f, 0), ==, 0xB0C5);
	dispi(f, 0, 0xB0C0);
	g_assert_cmphex(dispi_get(f, 0), ==, 0xB0C0);
	dispi(f, 0, 0x1234);                                    /* not an ID: ignored */
	g_assert_cmphex(dispi_get(f, 0), ==, 0xB0C0);
	dispi(f, 1, 1024);
	dispi(f, 4, 0x02);                                      /* GETCAPS */
	g_assert_cmpuint(dispi_get(f, 1), ==, 2560);
	g_assert_cmpuint(dispi_get(f, 2), ==, 1600);
	g_assert_cmpuint(dispi_get(f, 3), ==, 32);
	dispi(f, 4, 0);
	g_assert_cmpuint(dispi_get(f, 1), ==, 1024);
	g_assert_cmpuint(dispi_get(f, 0xA), ==, 256);
	dispi(f, 0xA, 1);                                       /* read-only */
	g_assert_cmpuint(dispi_get(f, 0xA), ==, 256);
	/* 0x1D0 is a second data port. */
	bus_out(&f->pio, DISPI_INDEX, 1, 2);
	g_assert_cmpuint(bus_in(&f->pio, 0x1D0, 2), ==, 1024);
	fixture_free(f);
}

/* The visible frame of what is published lies inside VRAM. */
static void assert_surface_inside_vram(struct fixture *f)
{
	const struct console_surface *s = &f->surface;
	if (s->format == CONSOLE_FORMAT_NONE || s->pixels < f->vga.vram || s->pixels >= f->vga.vram + f->vga.vram_size)
		return; /* a shadow buffer (ASan watches those) */
	unsigned bpp = s->format == CONSOLE_FORMAT_XRGB8888 ? 4 : 2;
	uint64_t end = (uint64_t)(s->pixels - f->vga.vram) + (uint64_t)(s->height - 1) * s->stride + s->width * bpp;
	g_assert_cmpuint(end, <=, f->vga.vram_size);
}

static void test_dispi_hostile_sizes(void)
{
	struct fixture *f = fixture_new_sized(VGA_VRAM_MIN);
	dispi(f, 3, 32);
	dispi(f, 1, 0xFFFF);
	dispi(f, 2, 0xFFFF);
	dispi(f, 4, 0x41);
	g_assert_cmpuint(dispi_get(f, 1), ==, 2560);
	g_assert_cmpuint(dispi_get(f, 2), ==, VGA_VRAM_MIN / (2560 * 4)); /* cut to what fits */
	dispi(f, 6, 0xFFFF);                                    /* virtual width too big: back to xres */
	g_assert_cmpuint(dispi_get(f, 6), ==, 2560);
	dispi(f, 8, 0xFFFF);
	dispi(f, 9, 0xFFFF);
	refresh(f);
	assert_surface_inside_vram(f);
	dispi(f, 3, 77);                                        /* unknown depth: 8 bpp */
	g_assert_cmpuint(dispi_get(f, 3), ==, 8);
	refresh(f);

	/* Random DISPI writes while enabled, each followed by a refresh. */
	GRand *rng = g_rand_new_with_seed(7);
	for (unsigned i = 0; i < 3000; i++) {
		static const uint16_t nasty[] = { 0, 1, 7, 8, 15, 16, 24, 32, 640, 2561, 4096, 0x7FFF, 0xFFFF };
		uint16_t value = g_rand_boolean(rng) ? nasty[g_rand_int_range(rng, 0, G_N_ELEMENTS(nasty))]
						     : (uint16_t)g_rand_int(rng);
		unsigned index = (unsigned)g_rand_int_range(rng, 1, 10);
		dispi(f, (uint16_t)index, index == 4 ? (value & 0xFF) | 0x01 : value);
		refresh(f);
		assert_surface_inside_vram(f);
	}
	g_rand_free(rng);
	fixture_free(f);
}

static void disable_cursor(struct fixture *f)
{
	indexed(f, 0x3D4, 0x0A, 0x20);
}

static void test_text_glyph(void)
{
	struct fixture *f = fixture_new();
	disable_cursor(f);
	refresh(f);
	g_assert_cmpint(f->surface.format, ==, CONSOLE_FORMAT_XRGB8888);
	g_assert_cmpuint(f->surface.width, ==, 720);            /* 80 x 9 dots */
	g_assert_cmpuint(f->surface.height, ==, 400);           /* 25 x 16 lines */
	g_assert_cmpuint(f->rects->len, ==, 25);                 /* row by row on a new surface */
	refresh(f);
	assert_rects(f, NULL, 0);

	/* 'A' in white on blue at row 2, column 5. */
	bus_out(&f->mmio, TEXT_BASE + (2 * 80 + 5) * 2, 0x1F41, 2);
	refresh(f);
	assert_rects(f, &(struct console_rect){ 5 * 9, 2 * 16, 9, 16 }, 1);
	for (unsigned y = 0; y < 16; y++) {
		uint8_t bits = vga_font_8x16['A' * 16 + y];
		for (unsigned x = 0; x < 9; x++) {
			bool on = x < 8 && (bits & (0x80 >> x));
			g_assert_cmphex(pixel(f, 5 * 9 + x, 2 * 16 + y), ==, on ? WHITE : BLUE);
		}
	}
	g_assert_cmphex(bus_in(&f->mmio, TEXT_BASE + (2 * 80 + 5) * 2, 2), ==, 0x1F41); /* reads back */
	refresh(f);
	assert_rects(f, NULL, 0);                               /* idle */

	/* Same cell, same contents: nothing to report. */
	bus_out(&f->mmio, TEXT_BASE + (2 * 80 + 5) * 2, 0x1F41, 2);
	refresh(f);
	assert_rects(f, NULL, 0);
	/* A palette change redraws every cell. */
	out8(f, 0x3C8, 1);
	out8(f, 0x3C9, 0), out8(f, 0x3C9, 42), out8(f, 0x3C9, 0);
	refresh(f);
	g_assert_cmpuint(f->rects->len, ==, 25);
	g_assert_cmphex(pixel(f, 5 * 9 + 8, 2 * 16), ==, 0x00AA00);
	fixture_free(f);
}

static void test_text_line_graphics_and_cursor(void)
{
	struct fixture *f = fixture_new();
	disable_cursor(f);
	bus_out(&f->mmio, TEXT_BASE, 0x07C4, 2);                /* box-drawing horizontal line */
	refresh(f);
	for (unsigned y = 0; y < 16; y++) {
		bool on = vga_font_8x16[0xC4 * 16 + y] & 1;          /* the 9th dot repeats the 8th */
		g_assert_cmphex(pixel(f, 8, y), ==, on ? 0xAAAAAAu : 0);
	}
	/* Cursor on row 3, column 0, lines 13-14: it blinks every ~267 ms, so
	 * within a second it is drawn and reported as that one cell. */
	bus_out(&f->mmio, TEXT_BASE + 3 * 80 * 2, 0x0700, 2);     /* the cursor takes the cell's colour */
	indexed(f, 0x3D4, 0x0E, 0);
	indexed(f, 0x3D4, 0x0F, 3 * 80);
	indexed(f, 0x3D4, 0x0A, 13);
	refresh(f);
	bool seen_on = false;
	for (unsigned i = 0; i < 40 && !seen_on; i++) {
		g_usleep(25000);
		refresh(f);
		if (f->rects->len)
			assert_rects(f, &(struct console_rect){ 0, 3 * 16, 9, 16 }, 1);
		seen_on = pixel(f, 0, 3 * 16 + 13) == 0xAAAAAAu;
	}
	g_assert_true(seen_on);
	g_assert_cmphex(pixel(f, 8, 3 * 16 + 14), ==, 0xAAAAAAu);
	g_assert_cmphex(pixel(f, 0, 3 * 16 + 12), ==, 0);
	fixture_free(f);
}

/* 8-dot characters 8 lines high give 80x50 in 640x400; the CRTC start
 * address scrolls by whole cells. */
static void test_text_geometry(void)
{
	struct fixture *f = fixture_new();
	disable_cursor(f);
	indexed(f, 0x3C4, 0x01, 0x01);                          /* 8-dot clocking */
	indexed(f, 0x3D4, 0x09, 0x47);                          /* 8 scan lines a row */
	bus_out(&f->mmio, TEXT_BASE + 80 * 2, 0x0F5A, 2);         /* 'Z' at row 1 */
	refresh(f);
	g_assert_cmpuint(f->surface.width, ==, 640);
	g_assert_cmpuint(f->surface.height, ==, 400);
	g_assert_cmpuint(f->rects->len, ==, 50);
	for (unsigned y = 0; y < 8; y++)
		for (unsigned x = 0; x < 8; x++)
			g_assert_cmphex(pixel(f, x, 8 + y), ==, vga_font_8x16['Z' * 16 + y] & (0x80 >> x) ? WHITE : 0);
	indexed(f, 0x3D4, 0x0C, 0);
	indexed(f, 0x3D4, 0x0D, 80);                            /* start at row 1 */
	refresh(f);
	g_assert_cmphex(pixel(f, 1, 2), ==, vga_font_8x16['Z' * 16 + 2] & 0x40 ? WHITE : 0);
	/* Only the rows whose cells changed: 'Z' moved from row 1 to row 0. */
	assert_rects(f, (struct console_rect[]){ { 0, 0, 8, 8 }, { 0, 8, 8, 8 } }, 2);
	fixture_free(f);
}

/* Attribute bit 7 blinks the foreground (blink enabled in AR10) every
 * ~533 ms; with blinking disabled it selects a bright background. */
static void test_text_blink(void)
{
	struct fixture *f = fixture_new();
	disable_cursor(f);
	bus_out(&f->mmio, TEXT_BASE, 0x8FDB, 2);                /* full block, white, blinking */
	refresh(f);
	bool seen[2] = { false, false };
	for (unsigned i = 0; i < 60 && !(seen[0] && seen[1]); i++) {
		seen[pixel(f, 0, 0) == WHITE] = true;
		g_usleep(25000);
		refresh(f);
		if (f->rects->len)
			assert_rects(f, &(struct console_rect){ 0, 0, 9, 16 }, 1);
	}
	g_assert_true(seen[0] && seen[1]);
	g_assert_cmphex(pixel(f, 8, 0), ==, pixel(f, 7, 0));     /* 0xDB: the 9th dot repeats the 8th */
	attr(f, 0x10, 0x00);                    /* blink and line graphics off: bit 7 is background intensity */
	refresh(f);
	g_assert_cmphex(pixel(f, 0, 0), ==, WHITE);
	g_assert_cmphex(pixel(f, 8, 0), ==, 0x555555);           /* colour 8: dark grey */
	fixture_free(f);
}

/* BIOS mode 13h registers (IBM VGA Technical Reference). */
static void set_mode_13h(struct fixture *f)
{
	static const uint8_t cr[25] = { 0x5F, 0x4F, 0x50, 0x82, 0x54, 0x80, 0xBF, 0x1F, 0x00, 0x41, 0, 0, 0, 0, 0, 0,
					0x9C, 0x0E, 0x8F, 0x28, 0x40, 0x96, 0xB9, 0xA3, 0xFF };
	out8(f, 0x3C2, 0x63);
	indexed(f, 0x3C4, 0x01, 0x01);
	indexed(f, 0x3C4, 0x02, 0x0F);
	indexed(f, 0x3C4, 0x04, 0x0E);
	indexed(f, 0x3D4, 0x11, 0x0E);                          /* unprotect */
	for (uint8_t i = 0; i < 25; i++)
		indexed(f, 0x3D4, i, cr[i]);
	indexed(f, 0x3CE, 0x05, 0x40);
	indexed(f, 0x3CE, 0x06, 0x05);
	attr(f, 0x10, 0x41);
}

static void test_mode_13h(void)
{
	struct fixture *f = fixture_new();
	set_mode_13h(f);
	out8(f, 0x3C8, 5);
	out8(f, 0x3C9, 63), out8(f, 0x3C9, 0), out8(f, 0x3C9, 32);
	bus_out(&f->mmio, WINDOW + 100 * 320 + 17, 5, 1);
	refresh(f);
	g_assert_cmpuint(f->surface.width, ==, 320);
	g_assert_cmpuint(f->surface.height, ==, 200);
	g_assert_cmphex(pixel(f, 17, 100), ==, 0xFF0082);
	g_assert_cmphex(pixel(f, 18, 100), ==, 0);
	g_assert_cmphex(bus_in(&f->mmio, WINDOW + 100 * 320 + 17, 1), ==, 5);
	bus_out(&f->mmio, WINDOW + 150 * 320 + 300, 5, 1);
	refresh(f);
	assert_rects(f, &(struct console_rect){ 0, 150, 320, 1 }, 1);
	g_assert_cmphex(pixel(f, 300, 150), ==, 0xFF0082);
	refresh(f);
	assert_rects(f, NULL, 0);
	fixture_free(f);
}

/* Mode 12h style: planar, 640x480, 16 colours, A0000 64 KiB. */
static void set_planar(struct fixture *f)
{
	out8(f, 0x3C2, 0xE3);
	indexed(f, 0x3C4, 0x01, 0x01);
	indexed(f, 0x3C4, 0x02, 0x0F);
	indexed(f, 0x3C4, 0x04, 0x06);
	indexed(f, 0x3D4, 0x11, 0x0C);
	indexed(f, 0x3D4, 0x07, 0x3E);
	indexed(f, 0x3D4, 0x09, 0x40);
	indexed(f, 0x3D4, 0x12, 0xDF);
	indexed(f, 0x3CE, 0x05, 0x00);
	indexed(f, 0x3CE, 0x06, 0x05);
	attr(f, 0x10, 0x01);
}

static uint8_t read_plane(struct fixture *f, uint32_t offset, uint8_t plane)
{
	indexed(f, 0x3CE, 0x04, plane);
	return (uint8_t)bus_in(&f->mmio, WINDOW + offset, 1);
}

static void assert_planes(struct fixture *f, uint32_t offset, uint8_t p0, uint8_t p1, uint8_t p2, uint8_t p3)
{
	g_assert_cmphex(read_plane(f, offset, 0), ==, p0);
	g_assert_cmphex(read_plane(f, offset, 1), ==, p1);
	g_assert_cmphex(read_plane(f, offset, 2), ==, p2);
	g_assert_cmphex(read_plane(f, offset, 3), ==, p3);
}

static void test_planar_modes(void)
{
	struct fixture *f = fixture_new();
	set_planar(f);
	/* Write mode 0, set/reset on planes 0 and 2 with colour 0101b. */
	indexed(f, 0x3CE, 0x00, 0x05);
	indexed(f, 0x3CE, 0x01, 0x0F);
	bus_out(&f->mmio, WINDOW + 0, 0x00, 1);
	assert_planes(f, 0, 0xFF, 0x00, 0xFF, 0x00);
	/* Write mode 0, data rotated right by 4, no set/reset. */
	indexed(f, 0x3CE, 0x01, 0x00);
	indexed(f, 0x3CE, 0x03, 0x04);
	bus_out(&f->mmio, WINDOW + 1, 0x0F, 1);
	assert_planes(f, 1, 0xF0, 0xF0, 0xF0, 0xF0);
	/* Bit mask 0x0F with XOR against the latches loaded from offset 1. */
	indexed(f, 0x3CE, 0x03, 0x18);                          /* XOR, no rotate */
	indexed(f, 0x3CE, 0x08, 0x0F);
	bus_in(&f->mmio, WINDOW + 1, 1);
	bus_out(&f->mmio, WINDOW + 1, 0xFF, 1);
	assert_planes(f, 1, 0xFF, 0xFF, 0xFF, 0xFF);             /* F0 ^ FF on the low nibble */
	/* Map mask: plane 1 only. */
	indexed(f, 0x3CE, 0x03, 0x00);
	indexed(f, 0x3CE, 0x08, 0xFF);
	indexed(f, 0x3C4, 0x02, 0x02);
	bus_out(&f->mmio, WINDOW + 2, 0x3C, 1);
	indexed(f, 0x3C4, 0x02, 0x0F);
	assert_planes(f, 2, 0x00, 0x3C, 0x00, 0x00);
	/* Write mode 1: the latches of offset 0 copied to offset 3. */
	indexed(f, 0x3CE, 0x05, 0x01);
	bus_in(&f->mmio, WINDOW + 0, 1);
	bus_out(&f->mmio, WINDOW + 3, 0x12, 1);
	indexed(f, 0x3CE, 0x05, 0x00);
	assert_planes(f, 3, 0xFF, 0x00, 0xFF, 0x00);
	/* Write mode 2: colour 1001b in the masked bits. */
	indexed(f, 0x3CE, 0x05, 0x02);
	indexed(f, 0x3CE, 0x08, 0x80);
	bus_in(&f->mmio, WINDOW + 4, 1);
	bus_out(&f->mmio, WINDOW + 4, 0x09, 1);
	indexed(f, 0x3CE, 0x05, 0x00);
	assert_planes(f, 4, 0x80, 0x00, 0x00, 0x80);
	/* Write mode 3: set/reset colour 0110b where rotated data & bit mask. */
	indexed(f, 0x3CE, 0x05, 0x03);
	indexed(f, 0x3CE, 0x00, 0x06);
	indexed(f, 0x3CE, 0x08, 0xFF);
	bus_in(&f->mmio, WINDOW + 5, 1);
	bus_out(&f->mmio, WINDOW + 5, 0xF0, 1);
	indexed(f, 0x3CE, 0x05, 0x00);
	assert_planes(f, 5, 0x00, 0xF0, 0xF0, 0x00);
	/* Read mode 1: bits whose colour is 0101b (offset 0 is all colour 5). */
	indexed(f, 0x3CE, 0x05, 0x08);
	indexed(f, 0x3CE, 0x02, 0x05);
	indexed(f, 0x3CE, 0x07, 0x0F);
	g_assert_cmphex(bus_in(&f->mmio, WINDOW + 0, 1), ==, 0xFF);
	g_assert_cmphex(bus_in(&f->mmio, WINDOW + 4, 1), ==, 0x00);
	indexed(f, 0x3CE, 0x07, 0x08);                          /* care about plane 3 only */
	g_assert_cmphex(bus_in(&f->mmio, WINDOW + 4, 1), ==, 0x7F);
	indexed(f, 0x3CE, 0x05, 0x00);

	/* Rendered: 640x480; pixel (32, 0) is colour 9 -> palette 0x39. */
	refresh(f);
	g_assert_cmpuint(f->surface.width, ==, 640);
	g_assert_cmpuint(f->surface.height, ==, 480);
	g_assert_cmphex(pixel(f, 32, 0), ==, 0x5555FF);
	g_assert_cmphex(pixel(f, 0, 0), ==, 0xAA00AA);          /* colour 5: magenta */
	bus_out(&f->mmio, WINDOW + 80 * 10, 0xFF, 1);            /* line 10 */
	refresh(f);
	assert_rects(f, &(struct console_rect){ 0, 10, 640, 1 }, 1);
	refresh(f);
	assert_rects(f, NULL, 0);
	fixture_free(f);
}

static void test_dac_and_attribute_ports(void)
{
	struct fixture *f = fixture_new();
	out8(f, 0x3C8, 0x10);
	for (uint8_t v = 1; v <= 6; v++)
		out8(f, 0x3C9, v);
	g_assert_cmphex(in8(f, 0x3C8), ==, 0x12);               /* two entries written */
	out8(f, 0x3C7, 0x10);
	g_assert_cmphex(in8(f, 0x3C7), ==, 0x03);               /* DAC state: reading */
	for (uint8_t v = 1; v <= 6; v++)
		g_assert_cmphex(in8(f, 0x3C9), ==, v);
	out8(f, 0x3C8, 0);
	out8(f, 0x3C9, 0xFF), out8(f, 0x3C9, 0), out8(f, 0x3C9, 0); /* 6-bit DAC */
	out8(f, 0x3C7, 0);
	g_assert_cmphex(in8(f, 0x3C9), ==, 0x3F);

	in8(f, 0x3DA);
	out8(f, 0x3C0, 0x32);                                   /* index 0x12 with PAS */
	out8(f, 0x3C0, 0x07);
	g_assert_cmphex(in8(f, 0x3C0), ==, 0x32);
	g_assert_cmphex(in8(f, 0x3C1), ==, 0x07);
	out8(f, 0x3C0, 0x14);                                   /* flip-flop back at index */
	in8(f, 0x3DA);
	out8(f, 0x3C0, 0x33);                                   /* reset, so an index again */
	g_assert_cmphex(in8(f, 0x3C0), ==, 0x33);
	g_assert_cmphex(in8(f, 0x3DA) & 0x09, !=, in8(f, 0x3DA) & 0x09); /* retrace toggles */
	/* The CRTC follows misc output bit 0. */
	out8(f, 0x3D4, 0x13);
	g_assert_cmphex(in8(f, 0x3D5), ==, 0x28);
	out8(f, 0x3C2, 0x66);
	g_assert_cmphex(in8(f, 0x3D5), ==, 0xFF);
	out8(f, 0x3B4, 0x13);
	g_assert_cmphex(in8(f, 0x3B5), ==, 0x28);
	g_assert_cmphex(in8(f, 0x3CC), ==, 0x66);
	fixture_free(f);
}

static void refresh_cb(void *opaque)
{
	console_refresh(&((struct fixture *)opaque)->con);
}

static void test_hostile(void)
{
	struct fixture *f = fixture_new_sized(VGA_VRAM_MIN);
	uint32_t lfb, mmio;
	f->map_fails = true;                                   /* BAR0 through the bus too */
	assign_bars(f, &lfb, &mmio);
	for (guint32 seed = 1; seed <= 4; seed++) {
		bus_poke_randomly(&f->pio, 0x1C0, 0x220, 20000, seed, refresh_cb, f);
		bus_poke_randomly(&f->mmio, WINDOW, 0x20000, 20000, seed, refresh_cb, f);
		bus_poke_randomly(&f->mmio, mmio, 0x1000, 20000, seed, refresh_cb, f);
		bus_poke_randomly(&f->mmio, lfb, VGA_VRAM_MIN, 5000, seed, refresh_cb, f);
		refresh(f);
		assert_surface_inside_vram(f);
	}
	vga_reset(&f->vga);
	refresh(f);
	g_assert_cmpuint(f->surface.width, ==, 720);
	fixture_free(f);
}

/* 32-bit flat code at 0x1000: mov eax, 0x00ABCDEF; mov [LFB + 20 * 4096 +
 * 40], eax; out 0xE1, al; then spin. */
static const uint8_t lfb_store_code[] = {
	0xB8, 0xEF, 0xCD, 0xAB, 0x00, 0xA3, 0x28, 0x40, 0x01, 0xE0, 0xE6, 0xE1, 0xEB, 0xFE,
};

/* On real KVM with the engine's memory operations: BAR0 becomes a memory
 * slot, a guest store to pixel (10, 20) of 1024x768x32 never exits, and the
 * dirty log makes refresh report exactly line 20. */
static void test_kvm_lfb(void)
{
	struct vm vm;
	struct vcpu vcpu;
	if (!create_vm_with_vcpu(&vm, &vcpu))
		return;
	struct fixture *f = g_new0(struct fixture, 1);
	struct pci_bus pci;
	console_init(&f->con);
	f->rects = g_array_new(FALSE, FALSE, sizeof(struct console_rect));
	f->listener = (struct console_listener){ .surface_changed = surface_changed, .update = update, .opaque = f };
	g_assert_true(console_add_listener(&f->con, &f->listener));
	g_assert_cmpint(pci_bus_init(&pci, &vm.pio, &vm.mmio), ==, 0);
	g_assert_cmpint(vga_init(&f->vga, &vm.pio, &vm.mmio, VGA_VRAM_DEFAULT, &vga_host_kvm_ops, &vm, &f->con), ==, 0);
	g_assert_cmpint(pci_bus_add(&pci, &f->vga.pci, VGA_SLOT, 0), ==, 0);
	g_assert_cmpint(pci_bus_assign_bars(&pci, MMIO_BASE, MMIO_LIMIT, 0xC000), ==, 0);
	g_assert_true(f->vga.lfb_mapped);
	g_assert_cmphex(f->vga.lfb_gpa, ==, MMIO_BASE);

	bus_out(&vm.pio, DISPI_INDEX, 3, 2), bus_out(&vm.pio, DISPI_DATA, 32, 2);
	bus_out(&vm.pio, DISPI_INDEX, 1, 2), bus_out(&vm.pio, DISPI_DATA, 1024, 2);
	bus_out(&vm.pio, DISPI_INDEX, 2, 2), bus_out(&vm.pio, DISPI_DATA, 768, 2);
	bus_out(&vm.pio, DISPI_INDEX, 4, 2), bus_out(&vm.pio, DISPI_DATA, 0x41, 2);
	refresh(f);
	refresh(f);
	assert_rects(f, NULL, 0);

	g_assert_true(guest_mem_write(&vm.mem, 0x1000, lfb_store_code, sizeof(lfb_store_code)));
	start_flat(&vcpu, 0x1000);
	g_assert_cmpint(ioctl(vcpu.fd, KVM_RUN, 0), ==, 0);
	g_assert_cmpuint(vcpu.run->exit_reason, ==, KVM_EXIT_IO);   /* the store did not exit */
	refresh(f);
	assert_rects(f, &(struct console_rect){ 0, 20, 1024, 1 }, 1);
	g_assert_cmphex(pixel(f, 10, 20), ==, 0xABCDEF);
	refresh(f);
	assert_rects(f, NULL, 0);

	pci_bus_destroy(&pci);                                  /* unmaps BAR0 */
	g_assert_false(f->vga.lfb_mapped);
	g_assert_cmpint(vm_unmap_device_ram(&vm, MMIO_BASE), ==, -ENOENT);
	vga_destroy(&f->vga);
	console_destroy(&f->con);
	g_array_free(f->rects, TRUE);
	g_free(f);
	vcpu_join_and_destroy(&vcpu);
	vm_destroy(&vm);
}

/* vga.h lets the engine pass no memory calls: BAR0 is then reached
 * through the bus, and a refresh must still show what the guest drew
 * (fuzz-legacy found the refresh calling through the NULL table). */
static void test_without_memory_ops(void)
{
	struct fixture *f = fixture_new_with(VGA_VRAM_DEFAULT, NULL);
	uint32_t lfb, mmio;
	assign_bars(f, &lfb, &mmio);
	bochs_setmode(f, mmio, 640, 480, 32);
	bus_out(&f->mmio, lfb + 3 * 640 * 4 + 2 * 4, 0x123456, 4);
	refresh(f);
	g_assert_cmphex(pixel(f, 2, 3), ==, 0x123456);
	fixture_free(f);
}

static void test_bad_size(void)
{
	struct bus pio, mmio;
	struct console con;
	struct vga vga;
	bus_init(&pio);
	bus_init(&mmio);
	console_init(&con);
	g_assert_cmpint(vga_init(&vga, &pio, &mmio, 3u << 20, NULL, NULL, &con), ==, -EINVAL);
	g_assert_cmpint(vga_init(&vga, &pio, &mmio, 512u << 20, NULL, NULL, &con), ==, -EINVAL);
	g_assert_cmpint(vga_init(&vga, &pio, &mmio, VGA_VRAM_MIN, NULL, NULL, &con), ==, 0);
	vga_destroy(&vga);
	console_destroy(&con);
	bus_destroy(&pio);
	bus_destroy(&mmio);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/vga/pci-identity", test_pci_identity);
	g_test_add_func("/vga/dispi-modes", test_dispi_modes);
	g_test_add_func("/vga/dispi-shadow-depths", test_dispi_shadow_depths);
	g_test_add_func("/vga/dispi-registers", test_dispi_registers);
	g_test_add_func("/vga/dispi-hostile-sizes", test_dispi_hostile_sizes);
	g_test_add_func("/vga/text-glyph", test_text_glyph);
	g_test_add_func("/vga/text-line-graphics-cursor", test_text_line_graphics_and_cursor);
	g_test_add_func("/vga/text-geometry", test_text_geometry);
	g_test_add_func("/vga/text-blink", test_text_blink);
	g_test_add_func("/vga/mode-13h", test_mode_13h);
	g_test_add_func("/vga/planar", test_planar_modes);
	g_test_add_func("/vga/dac-attribute-ports", test_dac_and_attribute_ports);
	g_test_add_func("/vga/hostile", test_hostile);
	g_test_add_func("/vga/without-memory-ops", test_without_memory_ops);
	g_test_add_func("/vga/bad-size", test_bad_size);
	g_test_add_func("/vga/kvm-lfb", test_kvm_lfb);
	return g_test_run();
}
