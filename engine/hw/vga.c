/* The standard VGA of QEMU's PC machines (PCI 1234:1111, class 0300,
 * revision 2), register model. Facts from the IBM VGA Technical Reference
 * as FreeVGA documents it, Bochs' vbe.h, QEMU's docs/specs/standard-vga.rst
 * and the sequences Linux bochs-drm and SeaBIOS vgabios-stdvga use.
 *
 * - Legacy VGA: ports 0x3B0-0x3DF (misc output, sequencer, graphics and
 *   attribute controllers, CRTC at 0x3B4/0x3D4 as misc output bit 0 says,
 *   DAC, input status) and the 0xA0000-0xBFFFF window with four planes,
 *   write modes 0-3, read modes 0-1, chain-4 and odd/even.
 * - Bochs DISPI at ports 0x1CE (index) / 0x1CF and 0x1D0 (data).
 * - BAR0: VRAM (the linear framebuffer), a power of two of 1-256 MiB. The
 *   engine maps it into the guest as memory with dirty logging
 *   (vga_memory_ops); the bus callbacks here serve it only until then.
 * - BAR2, 4 KiB of registers: EDID at 0x000 (edid.c's monitor),
 *   VGA ports 0x3C0-0x3DF at 0x400, DISPI at 0x500 + 2 * index, the QEMU
 *   extended registers at 0x600 (size, framebuffer byte order).
 *
 * Plane memory is the first 256 KiB of VRAM with the planes interleaved
 * (plane p, address a at byte 4a + p), as QEMU lays it out: chain-4 (mode
 * 13h) and the DISPI bank window then address VRAM linearly with no copy,
 * and the planar path needs no second buffer. Text-mode odd/even addressing
 * keeps a character and its attribute at the same plane address (the CPU's
 * address divided by two), which is what the text renderer reads.
 *
 * A hostile guest cannot reach outside VRAM: plane addresses are masked to
 * 64 KiB, bank and BAR0 offsets are checked against the VRAM size, and the
 * DISPI registers are clamped whenever a mode is enabled (vbe_fixup) so the
 * visible frame always lies inside VRAM. Rendering is in vga_render.c. */
#include "vga_regs.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "hw/vga_font.h"

#define PCI_VENDOR_QEMU_VGA   0x1234
#define PCI_DEVICE_STD_VGA    0x1111
#define PCI_CLASS_VGA         0x030000
#define STD_VGA_REVISION      2        /* revision 2 has the extended registers */
#define PCI_SUBVENDOR_QEMU    0x1AF4
#define PCI_SUBDEVICE_QEMU    0x1100
#define BAR_VRAM              0
#define BAR_MMIO              2
#define BAR_MMIO_SIZE         0x1000

/* BAR2 layout (standard-vga.rst). */
#define MMIO_VGA_PORTS        0x400    /* port 0x3C0 + n at 0x400 + n */
#define MMIO_VGA_PORTS_END    0x420
#define MMIO_DISPI            0x500    /* DISPI register i at 0x500 + 2i */
#define MMIO_QEXT_SIZE        0x600    /* bytes of extended registers */
#define MMIO_QEXT_BYTEORDER   0x604
#define QEXT_SIZE             8
#define QEXT_LITTLE_ENDIAN    0x1E1E1E1Eu

/* Ports. */
#define VGA_PORT_BASE         0x3B0
#define VGA_PORT_COUNT        0x30
#define PORT_CRTC_INDEX_MONO  0x3B4
#define PORT_CRTC_DATA_MONO   0x3B5
#define PORT_STATUS1_MONO     0x3BA    /* read: input status 1; write: feature control */
#define PORT_AR_INDEX         0x3C0    /* write: index or data, by the flip-flop */
#define PORT_AR_DATA_READ     0x3C1
#define PORT_MISC_WRITE       0x3C2    /* read: input status 0 */
#define PORT_SR_INDEX         0x3C4
#define PORT_SR_DATA          0x3C5
#define PORT_DAC_MASK         0x3C6
#define PORT_DAC_READ_INDEX   0x3C7    /* read: DAC state */
#define PORT_DAC_WRITE_INDEX  0x3C8
#define PORT_DAC_DATA         0x3C9
#define PORT_FEATURE_READ     0x3CA
#define PORT_MISC_READ        0x3CC
#define PORT_GR_INDEX         0x3CE
#define PORT_GR_DATA          0x3CF
#define PORT_CRTC_INDEX       0x3D4
#define PORT_CRTC_DATA        0x3D5
#define PORT_STATUS1          0x3DA
#define DISPI_PORT_BASE       0x1CE    /* index at +0, data at +1 and +2 */
#define DISPI_PORT_COUNT      4

#define MISC_COLOR_IO         0x01     /* CRTC and status 1 at 0x3Dx, else 0x3Bx */
#define STATUS1_DISPLAY_OFF   0x01     /* FreeVGA "Input Status #1" */
#define STATUS1_VRETRACE      0x08
#define DAC_STATE_READ        0x03     /* FreeVGA "DAC State Register" */
#define DAC_STATE_WRITE       0x00

#define WINDOW_BASE           0xA0000
#define WINDOW_SIZE           0x20000

/* Memory map select (GR6 bits 3-2): window offset and size. */
static const struct { uint32_t offset, size; } memory_maps[4] = {
	{ 0x00000, 0x20000 }, { 0x00000, 0x10000 }, { 0x10000, 0x8000 }, { 0x18000, 0x8000 },
};

/* Power-on registers of BIOS mode 3, 80x25 text, 720x400 (IBM VGA Technical
 * Reference, mode 3+ register tables). */
static const uint8_t mode3_sr[5] = { 0x03, 0x00, 0x03, 0x00, 0x02 };
static const uint8_t mode3_gr[9] = { 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x0E, 0x00, 0xFF };
static const uint8_t mode3_cr[25] = {
	0x5F, 0x4F, 0x50, 0x82, 0x55, 0x81, 0xBF, 0x1F, 0x00, 0x4F, 0x0D, 0x0E, 0x00, 0x00, 0x00, 0x00,
	0x9C, 0x8E, 0x8F, 0x28, 0x1F, 0x96, 0xB9, 0xA3, 0xFF,
};
static const uint8_t mode3_ar[21] = {
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07, 0x38, 0x39, 0x3A, 0x3B, 0x3C, 0x3D, 0x3E, 0x3F,
	0x0C, 0x00, 0x0F, 0x08, 0x00,
};
#define MODE3_MISC 0x67

/* The EGA-compatible 64-colour palette a BIOS loads for text modes: DAC
 * entry i is the 6-bit colour rgbRGB, each primary 2/3 for its capital bit
 * plus 1/3 for its small one (FreeVGA "Attribute Controller" palette). */
static uint8_t ega_component(unsigned colour, unsigned primary_bit)
{
	return (uint8_t)(((colour >> primary_bit) & 1) * 42 + ((colour >> (primary_bit + 3)) & 1) * 21);
}

static void load_default_dac(struct vga *vga)
{
	memset(vga->dac, 0, sizeof(vga->dac));
	for (unsigned i = 0; i < 64; i++) {
		vga->dac[i][0] = ega_component(i, 2);
		vga->dac[i][1] = ega_component(i, 1);
		vga->dac[i][2] = ega_component(i, 0);
	}
}

/* The font goes to plane 2 at character map 0, 32 bytes a glyph, as the
 * BIOS's font loader puts it. */
static void load_font(struct vga *vga)
{
	for (unsigned ch = 0; ch < 256; ch++)
		for (unsigned row = 0; row < VGA_FONT_HEIGHT; row++)
			vga->vram[((ch * 32 + row) << 2) | 2] = vga_font_8x16[ch * VGA_FONT_HEIGHT + row];
}

static void dispi_reset(struct vga *vga)
{
	memset(vga->dispi, 0, sizeof(vga->dispi));
	vga->dispi[VBE_DISPI_INDEX_ID] = VBE_DISPI_ID5;
	vga->dispi[VBE_DISPI_INDEX_BPP] = 8;
	vga->dispi[VBE_DISPI_INDEX_XRES] = 640;
	vga->dispi[VBE_DISPI_INDEX_YRES] = 480;
	vga->dispi_index = 0;
}

static size_t pages_of(size_t bytes)
{
	return (bytes + VGA_PAGE_SIZE - 1) / VGA_PAGE_SIZE;
}

static void mark_all_dirty(struct vga *vga)
{
	memset(vga->dirty, 0xFF, vga_dirty_bitmap_bytes(vga));
}

void vga_reset(struct vga *vga)
{
	g_mutex_lock(&vga->lock);
	memset(vga->vram, 0, VGA_PLANE_MEMORY);
	memset(vga->sr, 0, sizeof(vga->sr));
	memcpy(vga->sr, mode3_sr, sizeof(mode3_sr));
	memcpy(vga->gr, mode3_gr, sizeof(mode3_gr));
	memcpy(vga->cr, mode3_cr, sizeof(mode3_cr));
	memcpy(vga->ar, mode3_ar, sizeof(mode3_ar));
	vga->misc_output = MODE3_MISC;
	vga->feature_control = vga->status1 = 0;
	vga->sr_index = vga->gr_index = vga->cr_index = 0;
	vga->ar_index = AR_INDEX_PAS;
	vga->ar_flip_flop = false;
	vga->dac_write_index = vga->dac_read_index = vga->dac_component = 0;
	vga->dac_state = DAC_STATE_WRITE;
	memset(vga->dac_latch, 0, sizeof(vga->dac_latch));
	vga->dac_pel_mask = 0xFF;
	load_default_dac(vga);
	load_font(vga);
	vga->latch = 0;
	dispi_reset(vga);
	mark_all_dirty(vga);
	vga->regs_changed = vga->font_changed = true;
	g_mutex_unlock(&vga->lock);
}

/* ---- The planes through the 0xA0000 window (FreeVGA "Graphics Registers") */

static uint32_t expand_bits(uint8_t planes)
{
	uint32_t out = 0;
	for (unsigned p = 0; p < 4; p++)
		if (planes & (1u << p))
			out |= 0xFFu << (8 * p);
	return out;
}

static uint32_t replicate(uint8_t byte)
{
	return byte * 0x01010101u;
}

static uint8_t rotate_right(uint8_t v, unsigned n)
{
	n &= 7;
	return (uint8_t)((v >> n) | (v << ((8 - n) & 7)));
}

/* Read mode 1: a bit is set where all planes in colour don't care match
 * the colour compare register. */
static uint8_t colour_compare(const struct vga *vga)
{
	uint32_t care = expand_bits(vga->gr[GR_COLOR_DONT_CARE] & 0x0F);
	uint32_t diff = (vga->latch ^ expand_bits(vga->gr[GR_COLOR_COMPARE] & 0x0F)) & care;
	uint8_t mismatch = (uint8_t)(diff | diff >> 8 | diff >> 16 | diff >> 24);
	return (uint8_t)~mismatch;
}

static uint32_t planar_data(const struct vga *vga, uint8_t value)
{
	uint8_t rotated = rotate_right(value, vga->gr[GR_DATA_ROTATE]);
	uint32_t set_reset = expand_bits(vga->gr[GR_SET_RESET]);
	switch (vga->gr[GR_MODE] & GR_MODE_WRITE_MASK) {
	case 0: {
		uint32_t enable = expand_bits(vga->gr[GR_ENABLE_SET_RESET]);
		return (replicate(rotated) & ~enable) | (set_reset & enable);
	}
	case 2:
		return expand_bits(value);
	default: /* 3: set/reset colour, bit mask ANDed with the rotated data */
		return set_reset;
	}
}

static uint32_t apply_function(const struct vga *vga, uint32_t data)
{
	switch ((vga->gr[GR_DATA_ROTATE] >> 3) & 3) {
	case 1: return data & vga->latch;
	case 2: return data | vga->latch;
	case 3: return data ^ vga->latch;
	default: return data;
	}
}

static void planar_write(struct vga *vga, uint32_t addr, uint8_t value)
{
	unsigned mode = vga->gr[GR_MODE] & GR_MODE_WRITE_MASK;
	uint32_t data;
	if (mode == 1) {
		data = vga->latch;
	} else {
		uint8_t mask = vga->gr[GR_BIT_MASK];
		if (mode == 3)
			mask &= rotate_right(value, vga->gr[GR_DATA_ROTATE]);
		uint32_t bits = replicate(mask);
		data = (apply_function(vga, planar_data(vga, value)) & bits) | (vga->latch & ~bits);
	}
	uint8_t planes = vga->sr[SR_MAP_MASK] & 0x0F;
	for (unsigned p = 0; p < 4; p++)
		if (planes & (1u << p))
			vga->vram[((addr & (VGA_PLANE_SIZE - 1)) << 2) | p] = (uint8_t)(data >> (8 * p));
	vga->font_changed |= planes & 4;
	vga_mark_dirty(vga, (uint64_t)(addr & (VGA_PLANE_SIZE - 1)) << 2);
}

static bool chain4(const struct vga *vga)
{
	return vga->sr[SR_MEMORY_MODE] & SR_MEMORY_CHAIN4;
}

/* VRAM offset of a window byte in chain-4 or odd/even addressing, or -1
 * when the plane it selects is masked off (writes only). */
static int64_t chained_offset(const struct vga *vga, uint32_t off, bool write)
{
	unsigned plane;
	uint32_t addr;
	if (chain4(vga)) {
		plane = off & 3;
		addr = off >> 2;
	} else {
		plane = (vga->gr[GR_READ_MAP] & 2) | (off & 1);
		addr = off >> 1;
	}
	if (write && !(vga->sr[SR_MAP_MASK] & (1u << plane)))
		return -1;
	return ((addr & (VGA_PLANE_SIZE - 1)) << 2) | plane;
}

static bool odd_even_read(const struct vga *vga)
{
	return vga->gr[GR_MODE] & GR_MODE_ODD_EVEN;
}

static bool odd_even_write(const struct vga *vga)
{
	return !(vga->sr[SR_MEMORY_MODE] & SR_MEMORY_ODD_EVEN_DISABLE);
}

/* Offset into the selected memory map, or false when off is outside it. */
static bool window_offset(const struct vga *vga, uint32_t off, uint32_t *in_map)
{
	unsigned map = (vga->gr[GR_MISC] >> GR_MISC_MAP_SHIFT) & 3;
	if (vga_dispi_enabled(vga))
		map = 1; /* DISPI modes bank through A0000, 64 KiB */
	if (off < memory_maps[map].offset || off - memory_maps[map].offset >= memory_maps[map].size)
		return false;
	*in_map = off - memory_maps[map].offset;
	return true;
}

/* VRAM offset of a byte of the DISPI bank window, or -1 past VRAM. */
static int64_t bank_offset(const struct vga *vga, uint32_t off)
{
	uint64_t at = (uint64_t)vga->dispi[VBE_DISPI_INDEX_BANK] * VBE_DISPI_BANK_SIZE + off;
	return at < vga->vram_size ? (int64_t)at : -1;
}

/* Planar: every read loads the four latches. */
static uint8_t planar_read(struct vga *vga, uint32_t off)
{
	uint32_t addr = off & (VGA_PLANE_SIZE - 1);
	memcpy(&vga->latch, vga->vram + (addr << 2), 4);
	if (vga->gr[GR_MODE] & GR_MODE_READ_1)
		return colour_compare(vga);
	return (uint8_t)(vga->latch >> (8 * (vga->gr[GR_READ_MAP] & 3)));
}

static uint8_t window_read(struct vga *vga, uint32_t off)
{
	if (!window_offset(vga, off, &off))
		return 0xFF;
	if (vga_dispi_enabled(vga)) {
		int64_t at = bank_offset(vga, off);
		return at >= 0 ? vga->vram[at] : 0xFF;
	}
	if (chain4(vga) || odd_even_read(vga))
		return vga->vram[chained_offset(vga, off, false)]; /* never masked for reads */
	return planar_read(vga, off);
}

static void window_write(struct vga *vga, uint32_t off, uint8_t value)
{
	if (!window_offset(vga, off, &off))
		return;
	int64_t at;
	if (vga_dispi_enabled(vga)) {
		at = bank_offset(vga, off);
	} else if (chain4(vga) || odd_even_write(vga)) {
		at = chained_offset(vga, off, true);
		vga->font_changed |= at >= 0 && (at & 3) == 2;
	} else {
		planar_write(vga, off, value);
		return;
	}
	if (at >= 0) {
		vga->vram[at] = value;
		vga_mark_dirty(vga, (uint64_t)at);
	}
}

static uint64_t window_mem_read(void *opaque, uint64_t offset, unsigned size)
{
	struct vga *vga = opaque;
	uint64_t value = 0;
	g_mutex_lock(&vga->lock);
	for (unsigned i = 0; i < size; i++)
		value |= (uint64_t)window_read(vga, (uint32_t)(offset + i)) << (8 * i);
	g_mutex_unlock(&vga->lock);
	return value;
}

static void window_mem_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
	struct vga *vga = opaque;
	g_mutex_lock(&vga->lock);
	for (unsigned i = 0; i < size; i++)
		window_write(vga, (uint32_t)(offset + i), (uint8_t)(value >> (8 * i)));
	g_mutex_unlock(&vga->lock);
}

static const struct bus_ops window_ops = { window_mem_read, window_mem_write, "VGA window" };

/* ---- Legacy ports */

/* CRTC and input status 1 answer at 0x3Dx or 0x3Bx, not both (misc output
 * I/O address select). */
static bool crtc_port_active(const struct vga *vga, uint16_t port)
{
	bool colour = vga->misc_output & MISC_COLOR_IO;
	return colour ? (port & 0xFFF0) == 0x3D0 : (port & 0xFFF0) == 0x3B0;
}

static uint8_t dac_read(struct vga *vga)
{
	uint8_t v = vga->dac[vga->dac_read_index][vga->dac_component];
	if (++vga->dac_component == 3) {
		vga->dac_component = 0;
		vga->dac_read_index++;
	}
	return v;
}

static void dac_write(struct vga *vga, uint8_t value)
{
	bool eight_bit = vga->dispi[VBE_DISPI_INDEX_ENABLE] & VBE_DISPI_8BIT_DAC;
	vga->dac_latch[vga->dac_component] = eight_bit ? value : value & 0x3F;
	if (++vga->dac_component == 3) {
		memcpy(vga->dac[vga->dac_write_index], vga->dac_latch, 3);
		vga->dac_component = 0;
		vga->dac_write_index++;
	}
}

static uint8_t status1_read(struct vga *vga)
{
	/* No real timing: each read flips retrace and display-off, so guests
	 * that wait for either edge move on. Reading also resets the attribute
	 * flip-flop to "index" (FreeVGA "Attribute Controller Registers"). */
	vga->ar_flip_flop = false;
	vga->status1 ^= STATUS1_VRETRACE | STATUS1_DISPLAY_OFF;
	return vga->status1;
}

static uint8_t port_read(struct vga *vga, uint16_t port)
{
	if ((port & 0xFFF0) != 0x3C0 && !crtc_port_active(vga, port))
		return 0xFF;
	switch (port) {
	case PORT_AR_INDEX: return vga->ar_index;
	case PORT_AR_DATA_READ: return vga->ar[(vga->ar_index & AR_INDEX_MASK) % sizeof(vga->ar)];
	case PORT_MISC_WRITE: return 0; /* input status 0: no switch sense, no retrace IRQ */
	case PORT_SR_INDEX: return vga->sr_index;
	case PORT_SR_DATA: return vga->sr[vga->sr_index % sizeof(vga->sr)];
	case PORT_DAC_MASK: return vga->dac_pel_mask;
	case PORT_DAC_READ_INDEX: return vga->dac_state;
	case PORT_DAC_WRITE_INDEX: return vga->dac_write_index;
	case PORT_DAC_DATA: return dac_read(vga);
	case PORT_FEATURE_READ: return vga->feature_control;
	case PORT_MISC_READ: return vga->misc_output;
	case PORT_GR_INDEX: return vga->gr_index;
	case PORT_GR_DATA: return vga->gr[vga->gr_index % sizeof(vga->gr)];
	case PORT_CRTC_INDEX: case PORT_CRTC_INDEX_MONO: return vga->cr_index;
	case PORT_CRTC_DATA: case PORT_CRTC_DATA_MONO: return vga->cr[vga->cr_index % sizeof(vga->cr)];
	case PORT_STATUS1: case PORT_STATUS1_MONO: return status1_read(vga);
	default: return 0xFF;
	}
}

static void ar_write(struct vga *vga, uint8_t value)
{
	if (!vga->ar_flip_flop) {
		vga->ar_index = value & (AR_INDEX_MASK | AR_INDEX_PAS);
	} else {
		unsigned index = vga->ar_index & AR_INDEX_MASK;
		if (index < sizeof(vga->ar))
			vga->ar[index] = index < AR_PALETTE_COUNT ? value & 0x3F : value;
	}
	vga->ar_flip_flop = !vga->ar_flip_flop;
}

static void crtc_write(struct vga *vga, uint8_t value)
{
	unsigned index = vga->cr_index;
	if (index >= sizeof(vga->cr))
		return;
	/* CR11 bit 7 protects registers 0-7, except CR7 bit 4 (FreeVGA). */
	if ((vga->cr[CR_VRETRACE_END] & CR_PROTECT) && index <= CR_OVERFLOW) {
		if (index == CR_OVERFLOW)
			vga->cr[index] = (uint8_t)((vga->cr[index] & ~0x10) | (value & 0x10));
		return;
	}
	vga->cr[index] = value;
}

static void port_write(struct vga *vga, uint16_t port, uint8_t value)
{
	if ((port & 0xFFF0) != 0x3C0 && !crtc_port_active(vga, port))
		return;
	vga->regs_changed = true;
	switch (port) {
	case PORT_AR_INDEX: ar_write(vga, value); break;
	case PORT_MISC_WRITE: vga->misc_output = value; break;
	case PORT_SR_INDEX: vga->sr_index = value; break;
	case PORT_SR_DATA:
		if (vga->sr_index < sizeof(vga->sr))
			vga->sr[vga->sr_index] = value;
		break;
	case PORT_DAC_MASK: vga->dac_pel_mask = value; break;
	case PORT_DAC_READ_INDEX:
		vga->dac_read_index = value;
		vga->dac_component = 0;
		vga->dac_state = DAC_STATE_READ;
		break;
	case PORT_DAC_WRITE_INDEX:
		vga->dac_write_index = value;
		vga->dac_component = 0;
		vga->dac_state = DAC_STATE_WRITE;
		break;
	case PORT_DAC_DATA: dac_write(vga, value); break;
	case PORT_GR_INDEX: vga->gr_index = value; break;
	case PORT_GR_DATA:
		if (vga->gr_index < sizeof(vga->gr))
			vga->gr[vga->gr_index] = value;
		break;
	case PORT_CRTC_INDEX: case PORT_CRTC_INDEX_MONO: vga->cr_index = value; break;
	case PORT_CRTC_DATA: case PORT_CRTC_DATA_MONO: crtc_write(vga, value); break;
	case PORT_STATUS1: case PORT_STATUS1_MONO: vga->feature_control = value; break;
	default: break;
	}
}

/* Word and dword port accesses reach consecutive ports, low byte first
 * (outw 0x3C4, 0x0F02 sets SR2 to 0x0F). */
static uint64_t ports_read(void *opaque, uint64_t offset, unsigned size)
{
	struct vga *vga = opaque;
	uint64_t value = 0;
	g_mutex_lock(&vga->lock);
	for (unsigned i = 0; i < size; i++)
		value |= (uint64_t)port_read(vga, (uint16_t)(VGA_PORT_BASE + offset + i)) << (8 * i);
	g_mutex_unlock(&vga->lock);
	return value;
}

static void ports_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
	struct vga *vga = opaque;
	g_mutex_lock(&vga->lock);
	for (unsigned i = 0; i < size; i++)
		port_write(vga, (uint16_t)(VGA_PORT_BASE + offset + i), (uint8_t)(value >> (8 * i)));
	g_mutex_unlock(&vga->lock);
}

static const struct bus_ops port_ops = { ports_read, ports_write, "VGA ports" };

/* ---- Bochs DISPI */

static unsigned bytes_per_pixel(unsigned bpp)
{
	return (bpp + 7) / 8;
}

static bool valid_bpp(unsigned bpp)
{
	return bpp == 8 || bpp == 15 || bpp == 16 || bpp == 24 || bpp == 32;
}

static uint16_t clamp16(unsigned v, unsigned lo, unsigned hi)
{
	return (uint16_t)(v < lo ? lo : v > hi ? hi : v);
}

/* Makes the enabled mode fit: a depth we do not know becomes 8 bpp, the
 * resolution is clamped to what GETCAPS reports, a virtual width that does
 * not fit VRAM falls back to the visible width, a height that does not fit
 * is cut to what does, and the offsets keep the visible frame inside the
 * virtual one. Written back, so the guest reads the mode it got. */
static void vbe_fixup(struct vga *vga)
{
	uint16_t *r = vga->dispi;
	if (!valid_bpp(r[VBE_DISPI_INDEX_BPP]))
		r[VBE_DISPI_INDEX_BPP] = 8;
	unsigned bpp = bytes_per_pixel(r[VBE_DISPI_INDEX_BPP]);
	r[VBE_DISPI_INDEX_XRES] = clamp16(r[VBE_DISPI_INDEX_XRES] & ~7u, 8, VBE_DISPI_MAX_XRES);
	r[VBE_DISPI_INDEX_YRES] = clamp16(r[VBE_DISPI_INDEX_YRES], 1, VBE_DISPI_MAX_YRES);
	unsigned xres = r[VBE_DISPI_INDEX_XRES];
	if (r[VBE_DISPI_INDEX_VIRT_WIDTH] < xres ||
	    (uint64_t)r[VBE_DISPI_INDEX_VIRT_WIDTH] * bpp * r[VBE_DISPI_INDEX_YRES] > vga->vram_size)
		r[VBE_DISPI_INDEX_VIRT_WIDTH] = (uint16_t)xres;
	unsigned line = r[VBE_DISPI_INDEX_VIRT_WIDTH] * bpp;
	r[VBE_DISPI_INDEX_YRES] = clamp16(r[VBE_DISPI_INDEX_YRES], 1, vga->vram_size / line);
	r[VBE_DISPI_INDEX_VIRT_HEIGHT] = clamp16(vga->vram_size / line, 1, 0xFFFF);
	r[VBE_DISPI_INDEX_X_OFFSET] = clamp16(r[VBE_DISPI_INDEX_X_OFFSET], 0, r[VBE_DISPI_INDEX_VIRT_WIDTH] - xres);
	r[VBE_DISPI_INDEX_Y_OFFSET] = clamp16(r[VBE_DISPI_INDEX_Y_OFFSET], 0,
					     r[VBE_DISPI_INDEX_VIRT_HEIGHT] - r[VBE_DISPI_INDEX_YRES]);
}

static uint16_t dispi_read(const struct vga *vga, unsigned index)
{
	bool caps = vga->dispi[VBE_DISPI_INDEX_ENABLE] & VBE_DISPI_GETCAPS;
	switch (index) {
	case VBE_DISPI_INDEX_XRES: return caps ? VBE_DISPI_MAX_XRES : vga->dispi[index];
	case VBE_DISPI_INDEX_YRES: return caps ? VBE_DISPI_MAX_YRES : vga->dispi[index];
	case VBE_DISPI_INDEX_BPP: return caps ? VBE_DISPI_MAX_BPP : vga->dispi[index];
	case VBE_DISPI_INDEX_VIDEO_MEMORY_64K: return (uint16_t)(vga->vram_size / VBE_DISPI_BANK_SIZE);
	default: return index < VBE_DISPI_INDEX_COUNT ? vga->dispi[index] : 0;
	}
}

static void dispi_enable(struct vga *vga, uint16_t value)
{
	bool was_enabled = vga_dispi_enabled(vga);
	vga->dispi[VBE_DISPI_INDEX_ENABLE] = value & (VBE_DISPI_ENABLED | VBE_DISPI_GETCAPS | VBE_DISPI_8BIT_DAC |
						      VBE_DISPI_LFB_ENABLED | VBE_DISPI_NOCLEARMEM);
	if (!(value & VBE_DISPI_ENABLED) || was_enabled) {
		if (was_enabled && (value & VBE_DISPI_ENABLED))
			vbe_fixup(vga);
		return;
	}
	/* Enabling starts with the virtual screen as wide as the visible one
	 * and no panning, as Bochs does. */
	vga->dispi[VBE_DISPI_INDEX_VIRT_WIDTH] = vga->dispi[VBE_DISPI_INDEX_XRES];
	vga->dispi[VBE_DISPI_INDEX_X_OFFSET] = vga->dispi[VBE_DISPI_INDEX_Y_OFFSET] = 0;
	vbe_fixup(vga);
	if (!(value & VBE_DISPI_NOCLEARMEM)) {
		size_t frame = (size_t)vga->dispi[VBE_DISPI_INDEX_VIRT_WIDTH] *
			       bytes_per_pixel(vga->dispi[VBE_DISPI_INDEX_BPP]) * vga->dispi[VBE_DISPI_INDEX_YRES];
		memset(vga->vram, 0, frame);
		for (size_t page = 0; page < pages_of(frame); page++)
			vga_mark_dirty(vga, page * VGA_PAGE_SIZE);
	}
}

static void dispi_write(struct vga *vga, unsigned index, uint16_t value)
{
	vga->regs_changed = true;
	switch (index) {
	case VBE_DISPI_INDEX_ID:
		if (value >= VBE_DISPI_ID0 && value <= VBE_DISPI_ID5)
			vga->dispi[index] = value;
		break;
	case VBE_DISPI_INDEX_ENABLE:
		dispi_enable(vga, value);
		break;
	case VBE_DISPI_INDEX_VIDEO_MEMORY_64K:
		break;
	default:
		if (index >= VBE_DISPI_INDEX_COUNT)
			break;
		vga->dispi[index] = value;
		if (vga_dispi_enabled(vga))
			vbe_fixup(vga);
		break;
	}
}

/* 0x1CE: index; 0x1CF and 0x1D0: data (16-bit registers). */
static uint64_t dispi_port_read(void *opaque, uint64_t offset, unsigned size)
{
	struct vga *vga = opaque;
	g_mutex_lock(&vga->lock);
	uint16_t v = offset == 0 ? vga->dispi_index : offset <= 2 ? dispi_read(vga, vga->dispi_index) : 0xFFFF;
	g_mutex_unlock(&vga->lock);
	return size == 1 ? (uint8_t)v : v;
}

static void dispi_port_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
	struct vga *vga = opaque;
	if (size > 2)
		return;
	g_mutex_lock(&vga->lock);
	if (offset == 0)
		vga->dispi_index = (uint16_t)value;
	else if (offset <= 2)
		dispi_write(vga, vga->dispi_index, (uint16_t)value);
	g_mutex_unlock(&vga->lock);
}

static const struct bus_ops dispi_port_ops = { dispi_port_read, dispi_port_write, "VGA dispi" };

/* ---- BAR2: registers */

static uint8_t mmio_byte(struct vga *vga, uint32_t off)
{
	if (off >= MMIO_VGA_PORTS && off < MMIO_VGA_PORTS_END)
		return port_read(vga, (uint16_t)(PORT_AR_INDEX + off - MMIO_VGA_PORTS));
	if (off >= MMIO_DISPI && off < MMIO_DISPI + 2 * VBE_DISPI_INDEX_COUNT)
		return (uint8_t)(dispi_read(vga, (off - MMIO_DISPI) / 2) >> (8 * (off & 1)));
	if (off >= MMIO_QEXT_SIZE && off < MMIO_QEXT_SIZE + 4)
		return (uint8_t)(QEXT_SIZE >> (8 * (off & 3)));
	if (off >= MMIO_QEXT_BYTEORDER && off < MMIO_QEXT_BYTEORDER + 4)
		return (uint8_t)(QEXT_LITTLE_ENDIAN >> (8 * (off & 3)));
	if (off < EDID_BLOCK_SIZE)
		return vga->edid[off];
	return 0;
}

static uint64_t mmio_read(void *opaque, uint64_t offset, unsigned size)
{
	struct vga *vga = opaque;
	uint64_t value = 0;
	g_mutex_lock(&vga->lock);
	for (unsigned i = 0; i < size && offset + i < BAR_MMIO_SIZE; i++)
		value |= (uint64_t)mmio_byte(vga, (uint32_t)(offset + i)) << (8 * i);
	g_mutex_unlock(&vga->lock);
	return value;
}

/* Port mirror: byte by byte. DISPI: whole 16-bit registers (bochs-drm
 * uses writew). The byte order register stays little-endian: the frame
 * buffer is always read as little-endian. */
static void mmio_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
	struct vga *vga = opaque;
	g_mutex_lock(&vga->lock);
	if (offset >= MMIO_VGA_PORTS && offset + size <= MMIO_VGA_PORTS_END) {
		for (unsigned i = 0; i < size; i++)
			port_write(vga, (uint16_t)(PORT_AR_INDEX + offset - MMIO_VGA_PORTS + i), (uint8_t)(value >> (8 * i)));
	} else if (offset >= MMIO_DISPI && offset + size <= MMIO_DISPI + 2 * VBE_DISPI_INDEX_COUNT &&
		   !(offset & 1) && size >= 2) {
		for (unsigned i = 0; i < size; i += 2)
			dispi_write(vga, (unsigned)(offset - MMIO_DISPI + i) / 2, (uint16_t)(value >> (8 * i)));
	}
	g_mutex_unlock(&vga->lock);
}

static const struct bus_ops mmio_ops = { mmio_read, mmio_write, "VGA MMIO" };

/* ---- BAR0: VRAM through the bus, until the engine maps it */

static uint64_t vram_read(void *opaque, uint64_t offset, unsigned size)
{
	struct vga *vga = opaque;
	uint64_t value = 0;
	if (offset + size <= vga->vram_size)
		memcpy(&value, vga->vram + offset, size);
	return value;
}

static void vram_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
	struct vga *vga = opaque;
	if (offset + size > vga->vram_size)
		return;
	g_mutex_lock(&vga->lock);
	memcpy(vga->vram + offset, &value, size);
	vga_mark_dirty(vga, offset);
	vga_mark_dirty(vga, offset + size - 1);
	g_mutex_unlock(&vga->lock);
}

static const struct bus_ops vram_ops = { vram_read, vram_write, "VGA VRAM" };

/* BAR0 placed or removed: have the engine map VRAM there. What the guest
 * wrote while it was mapped may not be in the last dirty log, so the whole
 * frame is redrawn. */
static void bar_moved(void *opaque, unsigned index, bool mapped, uint64_t addr)
{
	struct vga *vga = opaque;
	if (index != BAR_VRAM || !vga->mem_ops)
		return;
	g_mutex_lock(&vga->lock);
	if (vga->lfb_mapped)
		vga->mem_ops->unmap(vga->mem_opaque, vga->lfb_gpa, vga->vram_size);
	vga->lfb_mapped = mapped && vga->mem_ops->map(vga->mem_opaque, addr, vga->vram_size, vga->vram) == 0;
	vga->lfb_gpa = addr;
	mark_all_dirty(vga);
	g_mutex_unlock(&vga->lock);
}

static const struct pci_device_hooks pci_hooks = { .bar_moved = bar_moved };

static const struct console_display_ops display_ops = { .refresh = vga_refresh };

/* ---- Life cycle */

static int setup_pci(struct vga *vga)
{
	struct pci_device *dev = &vga->pci;
	pci_device_init(dev, PCI_VENDOR_QEMU_VGA, PCI_DEVICE_STD_VGA, PCI_CLASS_VGA, STD_VGA_REVISION);
	pci_config_set16(dev, PCI_SUBSYSTEM_VENDOR_ID, PCI_SUBVENDOR_QEMU);
	pci_config_set16(dev, PCI_SUBSYSTEM_ID, PCI_SUBDEVICE_QEMU);
	dev->hooks = &pci_hooks;
	dev->hooks_opaque = vga;
	int err = pci_device_set_bar(dev, BAR_VRAM, PCI_BAR_MEM32, true, vga->vram_size, &vram_ops, vga);
	return err ? err : pci_device_set_bar(dev, BAR_MMIO, PCI_BAR_MEM32, false, BAR_MMIO_SIZE, &mmio_ops, vga);
}

int vga_init(struct vga *vga, struct bus *pio, struct bus *mmio, uint32_t vram_size,
	     const struct vga_memory_ops *mem_ops, void *mem_opaque, struct console *con)
{
	int err;
	memset(vga, 0, sizeof(*vga));
	if (vram_size < VGA_VRAM_MIN || vram_size > VGA_VRAM_MAX || (vram_size & (vram_size - 1)))
		return -EINVAL;
	g_mutex_init(&vga->lock);
	vga->pio = pio;
	vga->mmio = mmio;
	vga->vram_size = vram_size;
	vga->mem_ops = mem_ops;
	vga->mem_opaque = mem_opaque;
	vga->console = con;
	edid_build(vga->edid, "Vireo VGA", 1024, 768);
	vga->dirty = g_malloc0(vga_dirty_bitmap_bytes(vga));
	vga->dirty_scratch = g_malloc0(vga_dirty_bitmap_bytes(vga));
	vga->vram = mmap(NULL, vram_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (vga->vram == MAP_FAILED) {
		err = -ENOMEM;
		goto fail_vram;
	}
	if ((err = setup_pci(vga)) < 0 ||
	    (err = bus_register(pio, VGA_PORT_BASE, VGA_PORT_COUNT, &port_ops, vga)) < 0)
		goto fail_ports;
	if ((err = bus_register(pio, DISPI_PORT_BASE, DISPI_PORT_COUNT, &dispi_port_ops, vga)) < 0)
		goto fail_dispi;
	if ((err = bus_register(mmio, WINDOW_BASE, WINDOW_SIZE, &window_ops, vga)) < 0)
		goto fail_window;
	vga_reset(vga);
	console_set_display(con, &display_ops, vga);
	return 0;
fail_window:
	bus_unregister(pio, DISPI_PORT_BASE, vga);
fail_dispi:
	bus_unregister(pio, VGA_PORT_BASE, vga);
fail_ports:
	munmap(vga->vram, vram_size);
fail_vram:
	g_free(vga->dirty);
	g_free(vga->dirty_scratch);
	g_mutex_clear(&vga->lock);
	return err;
}

/* The PCI bus must be gone first (it unmaps BAR0 through bar_moved). */
void vga_destroy(struct vga *vga)
{
	console_set_display(vga->console, NULL, NULL);
	bus_unregister(vga->mmio, WINDOW_BASE, vga);
	bus_unregister(vga->pio, DISPI_PORT_BASE, vga);
	bus_unregister(vga->pio, VGA_PORT_BASE, vga);
	vga_render_destroy(vga);
	munmap(vga->vram, vga->vram_size);
	g_free(vga->dirty);
	g_free(vga->dirty_scratch);
	g_mutex_clear(&vga->lock);
}

/* ---- Device object (core/device.h) */

/* The registers, the palette and all of VRAM; what the renderer keeps is
 * drawn again from them. */
static const struct state_field vga_state[] = {
	STATE_FIELD(struct vga, misc_output), STATE_FIELD(struct vga, feature_control), STATE_FIELD(struct vga, status1),
	STATE_FIELD(struct vga, sr_index), STATE_ARRAY(struct vga, sr), STATE_FIELD(struct vga, gr_index),
	STATE_ARRAY(struct vga, gr), STATE_FIELD(struct vga, ar_index), STATE_ARRAY(struct vga, ar),
	STATE_FIELD(struct vga, ar_flip_flop), STATE_FIELD(struct vga, cr_index), STATE_ARRAY(struct vga, cr),
	STATE_FIELD(struct vga, dac_write_index), STATE_FIELD(struct vga, dac_read_index),
	STATE_FIELD(struct vga, dac_component), STATE_FIELD(struct vga, dac_state), STATE_ARRAY(struct vga, dac_latch),
	STATE_FIELD(struct vga, dac_pel_mask), STATE_BYTES(struct vga, dac), STATE_FIELD(struct vga, latch),
	STATE_FIELD(struct vga, dispi_index), STATE_ARRAY(struct vga, dispi),
};

static void vga_device_reset(void *opaque)
{
	struct vga *vga = opaque;
	pci_device_reset(&vga->pci);
	vga_reset(vga);
}

static void vga_save(void *opaque, struct state_writer *w)
{
	struct vga *vga = opaque;
	pci_device_save(&vga->pci, w);
	g_mutex_lock(&vga->lock);
	state_put_fields(w, "", vga_state, G_N_ELEMENTS(vga_state), vga);
	state_put_bytes(w, "vram", vga->vram, vga->vram_size);
	g_mutex_unlock(&vga->lock);
}

static bool vga_load(void *opaque, struct state_reader *r)
{
	struct vga *vga = opaque;
	if (!pci_device_load(&vga->pci, r))
		return false;
	g_mutex_lock(&vga->lock);
	bool ok = state_get_fields(r, "", vga_state, G_N_ELEMENTS(vga_state), vga) &&
		  state_check(r, vga->dac_component < 3, "DAC component out of range") &&
		  state_get_bytes(r, "vram", vga->vram, vga->vram_size);
	vga->dac_component %= 3;  /* safe whatever was read */
	if (vga_dispi_enabled(vga))
		vbe_fixup(vga);
	mark_all_dirty(vga);
	vga->regs_changed = vga->font_changed = true;
	g_mutex_unlock(&vga->lock);
	return ok;
}

static void vga_teardown(void *opaque)
{
	struct vga *vga = opaque;
	pci_device_unplug(&vga->pci);
	vga_destroy(vga);
}

static void vga_claims(void *opaque, struct device_claims *claims)
{
	struct vga *vga = opaque;
	device_claim(claims, "VGA registers", DEVICE_PIO, VGA_PORT_BASE, VGA_PORT_COUNT);
	device_claim(claims, "DISPI registers", DEVICE_PIO, DISPI_PORT_BASE, DISPI_PORT_COUNT);
	device_claim(claims, "legacy window", DEVICE_MMIO, WINDOW_BASE, WINDOW_SIZE);
	pci_device_claims(&vga->pci, claims);
}

const struct device_ops vga_device_ops = {
	"vga", 1, vga_device_reset, vga_teardown, vga_save, vga_load, vga_claims,
};
