/* The standard VGA's screen: what the registers say is displayed, turned
 * into a console surface at each console refresh, reporting only what
 * changed since the last one.
 *
 * - DISPI 32 and 16 bpp: the surface is VRAM itself (XRGB8888 or RGB565,
 *   stride = virtual width); the lines reported are those touching a page
 *   that the KVM dirty log or the device's own writes marked.
 * - DISPI 8, 15 and 24 bpp: those lines are converted into a shadow buffer.
 * - Text: cells are drawn from the font in plane 2 into the shadow; each
 *   cell's character, attribute, cursor and blink state is kept, so only
 *   cells that look different are redrawn and reported.
 * - 16-colour planar and 256-colour modes: when plane memory or registers
 *   changed, each line is rendered and compared with the shadow.
 *
 * Blinking (cursor every 16 frames, characters every 32, at 60 Hz) follows
 * the monotonic clock. Not modelled: horizontal panning, split screen (line
 * compare), CGA-compatible modes 4-6, blanking through the attribute
 * index's PAS bit, the DAC pixel mask. */
#include "vga_regs.h"

#include <string.h>

#define CURSOR_BLINK_US (1000000 * 16 / 60)
#define TEXT_BLINK_US   (1000000 * 32 / 60)
#define FONT_GLYPH_BYTES 32                    /* glyph stride in plane 2 */
#define NO_CELL         UINT32_MAX             /* cells[] entry: redraw */
#define CELL_CURSOR     (1u << 16)
#define CELL_BLINK_OFF  (1u << 17)

static uint32_t xrgb(uint8_t r, uint8_t g, uint8_t b)
{
	return (uint32_t)r << 16 | (uint32_t)g << 8 | b;
}

/* DAC entry as XRGB: 6-bit components widened to 8, unless DISPI set the
 * DAC to 8 bits. */
static uint32_t dac_colour(const struct vga *vga, uint8_t index)
{
	const uint8_t *c = vga->dac[index];
	if (vga->dispi[VBE_DISPI_INDEX_ENABLE] & VBE_DISPI_8BIT_DAC)
		return xrgb(c[0], c[1], c[2]);
	return xrgb((uint8_t)(c[0] << 2 | c[0] >> 4), (uint8_t)(c[1] << 2 | c[1] >> 4),
		    (uint8_t)(c[2] << 2 | c[2] >> 4));
}

/* A 4-bit colour through the attribute palette and colour select to the DAC
 * (FreeVGA "Attribute Controller Registers", bits P5-P4 and P7-P6). */
static uint32_t attribute_colour(const struct vga *vga, unsigned colour)
{
	uint8_t entry = vga->ar[colour & 0x0F], select = vga->ar[AR_COLOR_SELECT];
	uint8_t index = vga->ar[AR_MODE_CONTROL] & AR_MODE_P54S ? (entry & 0x0F) | (select & 0x03) << 4 : entry & 0x3F;
	return dac_colour(vga, (uint8_t)(index | (select & 0x0C) << 4));
}

static unsigned vertical_display_lines(const struct vga *vga)
{
	const uint8_t *cr = vga->cr;
	return (cr[CR_VDISP_END] | (cr[CR_OVERFLOW] & CR_OVERFLOW_VDE8) << 7 |
		(cr[CR_OVERFLOW] & CR_OVERFLOW_VDE9) << 3) + 1u;
}

static uint32_t crtc_start(const struct vga *vga)
{
	return (uint32_t)vga->cr[CR_START_HI] << 8 | vga->cr[CR_START_LO];
}

static unsigned bytes_per_pixel(unsigned bpp)
{
	return (bpp + 7) / 8;
}

/* vbe_fixup keeps every enabled mode inside VRAM; checked again here as
 * this is what stands between the guest's registers and a read past VRAM. */
static struct vga_display dispi_display(const struct vga *vga)
{
	const uint16_t *r = vga->dispi;
	unsigned bpp = bytes_per_pixel(r[VBE_DISPI_INDEX_BPP]);
	struct vga_display d = {
		.kind = VGA_DISPLAY_DISPI, .width = r[VBE_DISPI_INDEX_XRES], .height = r[VBE_DISPI_INDEX_YRES],
		.bpp = r[VBE_DISPI_INDEX_BPP], .line_bytes = r[VBE_DISPI_INDEX_VIRT_WIDTH] * bpp,
	};
	d.start = (uint64_t)r[VBE_DISPI_INDEX_Y_OFFSET] * d.line_bytes + (uint64_t)r[VBE_DISPI_INDEX_X_OFFSET] * bpp;
	if (!d.width || !d.height || d.start + (uint64_t)(d.height - 1) * d.line_bytes + d.width * bpp > vga->vram_size)
		return (struct vga_display){ .kind = VGA_DISPLAY_NONE };
	return d;
}

static struct vga_display text_display(const struct vga *vga)
{
	struct vga_display d = {
		.kind = VGA_DISPLAY_TEXT, .cols = vga->cr[CR_HDISP_END] + 1u,
		.char_width = vga->sr[SR_CLOCKING_MODE] & SR_CLOCKING_8DOT ? 8 : 9,
		.char_height = (vga->cr[CR_MAX_SCAN] & CR_MAX_SCAN_MASK) + 1u,
		.start = crtc_start(vga), .line_bytes = vga->cr[CR_OFFSET] * 2u,
	};
	unsigned lines = vertical_display_lines(vga);
	if (vga->cr[CR_MAX_SCAN] & CR_MAX_SCAN_DOUBLE)
		lines /= 2;
	d.rows = lines / d.char_height;
	d.width = d.cols * d.char_width;
	d.height = d.rows * d.char_height;
	return d.rows ? d : (struct vga_display){ .kind = VGA_DISPLAY_NONE };
}

/* Graphics modes: 256 colours show two dot clocks a pixel; scan lines
 * repeat as the maximum scan line and double-scan bits say. */
static struct vga_display graphics_display(const struct vga *vga)
{
	unsigned scan = (vga->cr[CR_MAX_SCAN] & CR_MAX_SCAN_MASK) + 1u;
	if (vga->cr[CR_MAX_SCAN] & CR_MAX_SCAN_DOUBLE)
		scan *= 2;
	struct vga_display d = { .width = (vga->cr[CR_HDISP_END] + 1u) * 8, .height = vertical_display_lines(vga) / scan };
	if (vga->gr[GR_MODE] & GR_MODE_256) {
		d.kind = VGA_DISPLAY_PACKED256;
		d.width /= 2;
		d.start = crtc_start(vga) * 4;       /* interleaved bytes */
		d.line_bytes = vga->cr[CR_OFFSET] * 8u;
	} else {
		d.kind = VGA_DISPLAY_PLANAR16;
		d.start = crtc_start(vga);           /* plane addresses */
		d.line_bytes = vga->cr[CR_OFFSET] * 2u;
	}
	return d.height ? d : (struct vga_display){ .kind = VGA_DISPLAY_NONE };
}

static struct vga_display current_display(const struct vga *vga)
{
	if (vga_dispi_enabled(vga))
		return dispi_display(vga);
	if (vga->gr[GR_MISC] & GR_MISC_GRAPHICS)
		return graphics_display(vga);
	return text_display(vga);
}

/* Whether b can be drawn on a's surface. Legacy modes compare what they
 * draw with what is shown, so panning through the CRTC start address is
 * just new content; a DISPI start moves the surface (or, shadowed, makes
 * every line new). */
static bool same_display(const struct vga_display *a, const struct vga_display *b)
{
	return a->kind == b->kind && a->width == b->width && a->height == b->height && a->bpp == b->bpp &&
	       (a->start == b->start || a->kind != VGA_DISPLAY_DISPI) && a->line_bytes == b->line_bytes &&
	       a->cols == b->cols && a->rows == b->rows && a->char_width == b->char_width &&
	       a->char_height == b->char_height;
}

static bool shown_from_vram(const struct vga_display *d)
{
	return d->kind == VGA_DISPLAY_DISPI && (d->bpp == 32 || d->bpp == 16);
}

static void *grow(void *buffer, size_t *size, size_t needed)
{
	if (needed <= *size)
		return buffer;
	*size = needed;
	return g_realloc(buffer, needed);
}

/* A new mode: new buffers and a new surface; everything is redrawn. A
 * frontend may be reading the old shadow under the console lock, so a
 * larger one replaces it only once the console has let go of the old. */
static void publish(struct vga *vga, const struct vga_display *d)
{
	struct console_surface surface = { .format = CONSOLE_FORMAT_NONE };
	uint32_t *retired = NULL;
	vga->shown = *d;
	if (shown_from_vram(d)) {
		surface = (struct console_surface){
			.format = d->bpp == 32 ? CONSOLE_FORMAT_XRGB8888 : CONSOLE_FORMAT_RGB565,
			.width = d->width, .height = d->height, .stride = d->line_bytes, .pixels = vga->vram + d->start,
		};
	} else if (d->kind != VGA_DISPLAY_NONE) {
		size_t bytes = (size_t)d->width * d->height * 4;
		if (bytes > vga->shadow_size) {
			retired = vga->shadow;
			vga->shadow = g_malloc0(bytes);
			vga->shadow_size = bytes;
		}
		vga->line = grow(vga->line, &vga->line_size, (size_t)d->width * 4);
		surface = (struct console_surface){
			.format = CONSOLE_FORMAT_XRGB8888, .width = d->width, .height = d->height,
			.stride = d->width * 4, .pixels = (const uint8_t *)vga->shadow,
		};
	}
	if (d->kind == VGA_DISPLAY_TEXT)
		vga->cells = grow(vga->cells, &vga->cells_size, (size_t)d->rows * d->cols * sizeof(uint32_t));
	console_set_surface(vga->console, &surface);
	g_free(retired);
}

/* ---- Dirty pages */

/* Adds the pages the guest wrote through its VRAM mapping; when the engine
 * cannot say which, all of them. */
static void collect_dirty(struct vga *vga)
{
	if (!vga->lfb_mapped)
		return;
	size_t words = vga_dirty_bitmap_bytes(vga) / sizeof(long);
	if (!vga->mem_ops->fetch_dirty ||
	    !vga->mem_ops->fetch_dirty(vga->mem_opaque, vga->lfb_gpa, vga->vram_size, vga->dirty_scratch)) {
		memset(vga->dirty, 0xFF, vga_dirty_bitmap_bytes(vga));
		return;
	}
	for (size_t i = 0; i < words; i++)
		vga->dirty[i] |= vga->dirty_scratch[i];
}

static bool page_dirty(const struct vga *vga, uint64_t page)
{
	return vga->dirty[page / VGA_LONG_BITS] & (1ul << (page % VGA_LONG_BITS));
}

static bool range_dirty(const struct vga *vga, uint64_t offset, uint64_t len)
{
	for (uint64_t page = offset / VGA_PAGE_SIZE; page <= (offset + len - 1) / VGA_PAGE_SIZE; page++)
		if (page_dirty(vga, page))
			return true;
	return false;
}

/* Reports lines [first, first+count) as one rectangle when count > 0. */
static void report_lines(struct vga *vga, unsigned first, unsigned count)
{
	if (count)
		console_update(vga->console, 0, first, vga->shown.width, count);
}

/* ---- DISPI */

static uint32_t pixel_from_vram(const struct vga *vga, const uint8_t *p)
{
	switch (vga->shown.bpp) {
	case 8:
		return dac_colour(vga, p[0]);
	case 15: {
		unsigned v = p[0] | p[1] << 8;
		return xrgb((uint8_t)((v >> 10 & 0x1F) * 255 / 31), (uint8_t)((v >> 5 & 0x1F) * 255 / 31),
			    (uint8_t)((v & 0x1F) * 255 / 31));
	}
	default: /* 24: B, G, R */
		return xrgb(p[2], p[1], p[0]);
	}
}

static void convert_line(struct vga *vga, unsigned y)
{
	const struct vga_display *d = &vga->shown;
	const uint8_t *src = vga->vram + d->start + (uint64_t)y * d->line_bytes;
	uint32_t *dst = vga->shadow + (size_t)y * d->width;
	unsigned bpp = bytes_per_pixel(d->bpp);
	for (unsigned x = 0; x < d->width; x++)
		dst[x] = pixel_from_vram(vga, src + x * bpp);
}

static void refresh_dispi(struct vga *vga, bool full)
{
	const struct vga_display *d = &vga->shown;
	unsigned run = 0, bytes = d->width * bytes_per_pixel(d->bpp);
	for (unsigned y = 0; y < d->height; y++) {
		if (full || range_dirty(vga, d->start + (uint64_t)y * d->line_bytes, bytes)) {
			if (!shown_from_vram(d))
				convert_line(vga, y);
			run++;
			continue;
		}
		report_lines(vga, y - run, run);
		run = 0;
	}
	report_lines(vga, d->height - run, run);
}

/* ---- 16- and 256-colour graphics */

static void render_planar_line(const struct vga *vga, unsigned y, const uint32_t *colours, uint32_t *out)
{
	const struct vga_display *d = &vga->shown;
	uint32_t row = (uint32_t)(d->start + (uint64_t)y * d->line_bytes);
	uint8_t enable = vga->ar[AR_PLANE_ENABLE] & 0x0F;
	for (unsigned x = 0; x < d->width; x++) {
		uint32_t addr = row + x / 8;
		unsigned shift = 7 - x % 8, colour = 0;
		for (unsigned p = 0; p < 4; p++)
			colour |= ((vga_plane_byte(vga, p, addr) >> shift) & 1u) << p;
		out[x] = colours[colour & enable];
	}
}

static void render_packed_line(const struct vga *vga, unsigned y, const uint32_t *colours, uint32_t *out)
{
	const struct vga_display *d = &vga->shown;
	uint64_t row = d->start + (uint64_t)y * d->line_bytes;
	for (unsigned x = 0; x < d->width; x++)
		out[x] = colours[vga->vram[(row + x) & (VGA_PLANE_MEMORY - 1)]];
}

static void refresh_graphics(struct vga *vga, bool full)
{
	const struct vga_display *d = &vga->shown;
	if (!full && !vga->regs_changed && !range_dirty(vga, 0, VGA_PLANE_MEMORY))
		return;
	uint32_t colours[256];
	bool packed = d->kind == VGA_DISPLAY_PACKED256;
	for (unsigned i = 0; i < (packed ? 256u : 16u); i++)
		colours[i] = packed ? dac_colour(vga, (uint8_t)i) : attribute_colour(vga, i);
	unsigned run = 0;
	size_t line_bytes = (size_t)d->width * 4;
	for (unsigned y = 0; y < d->height; y++) {
		(packed ? render_packed_line : render_planar_line)(vga, y, colours, vga->line);
		uint32_t *shadow_line = vga->shadow + (size_t)y * d->width;
		if (full || memcmp(shadow_line, vga->line, line_bytes)) {
			memcpy(shadow_line, vga->line, line_bytes);
			run++;
			continue;
		}
		report_lines(vga, y - run, run);
		run = 0;
	}
	report_lines(vga, d->height - run, run);
}

/* ---- Text */

/* Plane 2 offset of a character map (FreeVGA "Character Map Select
 * Register": maps 0-3 at 16 KiB steps, 4-7 at 8 KiB past them). */
static uint32_t font_offset(unsigned map)
{
	return (map & 3) * 0x4000u + (map >> 2) * 0x2000u;
}

struct text_style {
	uint32_t font_a, font_b;     /* plane 2 offsets: attribute bit 3 set, clear */
	bool blink_enabled, blink_visible, line_graphics;
	unsigned cursor_first, cursor_last;
};

static struct text_style text_style(const struct vga *vga, int64_t now_us)
{
	uint8_t sr3 = vga->sr[SR_CHAR_MAP], mode = vga->ar[AR_MODE_CONTROL];
	return (struct text_style){
		.font_a = font_offset(((sr3 >> 2) & 3) | ((sr3 >> 5) & 1) << 2),
		.font_b = font_offset((sr3 & 3) | ((sr3 >> 4) & 1) << 2),
		.blink_enabled = mode & AR_MODE_BLINK,
		.blink_visible = (now_us / TEXT_BLINK_US) % 2 == 0,
		.line_graphics = mode & AR_MODE_LINE_GRAPHICS,
		.cursor_first = vga->cr[CR_CURSOR_START] & 0x1F,
		.cursor_last = vga->cr[CR_CURSOR_END] & 0x1F,
	};
}

/* Everything that changes how all cells look, compared between refreshes. */
static uint32_t text_config(const struct vga *vga)
{
	return vga->sr[SR_CHAR_MAP] | (uint32_t)vga->ar[AR_MODE_CONTROL] << 8 |
	       (uint32_t)vga->cr[CR_CURSOR_START] << 16 | (uint32_t)vga->cr[CR_CURSOR_END] << 24;
}

static void draw_cell(struct vga *vga, const struct text_style *style, unsigned row, unsigned col, uint32_t key)
{
	const struct vga_display *d = &vga->shown;
	uint8_t ch = (uint8_t)key, attr = (uint8_t)(key >> 8);
	uint32_t fg = vga->text_colours[attr & 0x0F];
	uint32_t bg = vga->text_colours[style->blink_enabled ? (attr >> 4) & 7 : attr >> 4];
	if (key & CELL_BLINK_OFF)
		fg = bg;
	uint32_t glyph = (attr & 0x08 ? style->font_a : style->font_b) + ch * FONT_GLYPH_BYTES;
	bool ninth_repeats = style->line_graphics && ch >= 0xC0 && ch <= 0xDF;
	uint32_t *out = vga->shadow + (size_t)row * d->char_height * d->width + (size_t)col * d->char_width;
	for (unsigned y = 0; y < d->char_height; y++, out += d->width) {
		unsigned bits = (unsigned)vga_plane_byte(vga, 2, glyph + y) << 1;
		if (ninth_repeats)
			bits |= (bits >> 1) & 1;
		if ((key & CELL_CURSOR) && y >= style->cursor_first && y <= style->cursor_last)
			bits = 0x1FF;
		for (unsigned x = 0; x < d->char_width; x++)
			out[x] = (bits >> (8 - x)) & 1 ? fg : bg;
	}
}

/* What a cell shows: character, attribute, cursor and blink state. */
static uint32_t cell_key(const struct vga *vga, const struct text_style *style, uint32_t addr, bool cursor_on)
{
	uint8_t ch = vga_plane_byte(vga, 0, addr), attr = vga_plane_byte(vga, 1, addr);
	uint32_t key = ch | (uint32_t)attr << 8;
	uint32_t cursor = (uint32_t)vga->cr[CR_CURSOR_HI] << 8 | vga->cr[CR_CURSOR_LO];
	if (cursor_on && (addr & 0xFFFF) == (cursor & 0xFFFF))
		key |= CELL_CURSOR;
	if (style->blink_enabled && (attr & 0x80) && !style->blink_visible)
		key |= CELL_BLINK_OFF;
	return key;
}

static bool text_colours_changed(struct vga *vga)
{
	uint32_t colours[16];
	for (unsigned i = 0; i < 16; i++)
		colours[i] = attribute_colour(vga, i);
	uint32_t config = text_config(vga);
	bool changed = memcmp(colours, vga->text_colours, sizeof(colours)) || config != vga->text_config;
	memcpy(vga->text_colours, colours, sizeof(colours));
	vga->text_config = config;
	return changed;
}

static void report_cells(struct vga *vga, unsigned row, unsigned first, unsigned count)
{
	const struct vga_display *d = &vga->shown;
	if (count)
		console_update(vga->console, first * d->char_width, row * d->char_height, count * d->char_width,
			       d->char_height);
}

static void refresh_text(struct vga *vga, bool full)
{
	const struct vga_display *d = &vga->shown;
	int64_t now = g_get_monotonic_time();
	struct text_style style = text_style(vga, now);
	bool cursor_on = !(vga->cr[CR_CURSOR_START] & CR_CURSOR_DISABLE) && (now / CURSOR_BLINK_US) % 2 == 0;
	if (text_colours_changed(vga) || vga->font_changed)
		full = true;
	for (unsigned row = 0; row < d->rows; row++) {
		unsigned first = 0, count = 0;
		for (unsigned col = 0; col < d->cols; col++) {
			uint32_t addr = (uint32_t)(d->start + row * d->line_bytes + col);
			uint32_t key = cell_key(vga, &style, addr, cursor_on), *cell = &vga->cells[row * d->cols + col];
			if (full || key != *cell) {
				*cell = key;
				draw_cell(vga, &style, row, col, key);
				first = count ? first : col;
				count++;
				continue;
			}
			report_cells(vga, row, first, count);
			count = 0;
		}
		report_cells(vga, row, first, count);
	}
}

/* ---- The console's refresh */

void vga_refresh(void *opaque)
{
	struct vga *vga = opaque;
	if (vga->mem_ops && vga->mem_ops->flush_writes)
		vga->mem_ops->flush_writes(vga->mem_opaque);
	g_mutex_lock(&vga->lock);
	collect_dirty(vga);
	struct vga_display d = current_display(vga);
	bool full = !same_display(&d, &vga->shown);
	if (full)
		publish(vga, &d);
	vga->shown.start = d.start;
	switch (d.kind) {
	case VGA_DISPLAY_TEXT: refresh_text(vga, full); break;
	case VGA_DISPLAY_PLANAR16: case VGA_DISPLAY_PACKED256: refresh_graphics(vga, full); break;
	case VGA_DISPLAY_DISPI: refresh_dispi(vga, full || (d.bpp == 8 && vga->regs_changed)); break;
	case VGA_DISPLAY_NONE: break;
	}
	memset(vga->dirty, 0, vga_dirty_bitmap_bytes(vga));
	vga->regs_changed = vga->font_changed = false;
	g_mutex_unlock(&vga->lock);
}

void vga_render_destroy(struct vga *vga)
{
	console_set_surface(vga->console, &(struct console_surface){ .format = CONSOLE_FORMAT_NONE });
	g_free(vga->shadow);
	g_free(vga->line);
	g_free(vga->cells);
}
