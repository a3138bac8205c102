/* Register layout of the standard VGA, shared by the register model
 * (vga.c) and the renderer (vga_render.c). VGA names and bits follow the
 * IBM VGA Technical Reference as FreeVGA documents it ("FreeVGA" sections
 * cited); DISPI bits follow Bochs' vbe.h and Linux's bochs.c. Private to
 * those two files. */
#ifndef VIREO_HW_VGA_REGS_H
#define VIREO_HW_VGA_REGS_H

#include "hw/vga.h"

/* Sequencer (FreeVGA "Sequencer Registers"). */
#define SR_RESET          0x00
#define SR_CLOCKING_MODE  0x01
#define SR_CLOCKING_8DOT  0x01     /* 8-dot characters (else 9) */
#define SR_MAP_MASK       0x02
#define SR_CHAR_MAP       0x03
#define SR_MEMORY_MODE    0x04
#define SR_MEMORY_ODD_EVEN_DISABLE 0x04
#define SR_MEMORY_CHAIN4  0x08

/* Graphics controller (FreeVGA "Graphics Registers"). */
#define GR_SET_RESET      0x00
#define GR_ENABLE_SET_RESET 0x01
#define GR_COLOR_COMPARE  0x02
#define GR_DATA_ROTATE    0x03
#define GR_READ_MAP       0x04
#define GR_MODE           0x05
#define GR_MODE_WRITE_MASK 0x03
#define GR_MODE_READ_1    0x08     /* read mode 1: colour compare */
#define GR_MODE_ODD_EVEN  0x10     /* host odd/even read addressing */
#define GR_MODE_256       0x40     /* 256-colour shift mode */
#define GR_MISC           0x06
#define GR_MISC_GRAPHICS  0x01     /* alphanumeric mode disable */
#define GR_MISC_MAP_SHIFT 2        /* memory map select, 2 bits */
#define GR_COLOR_DONT_CARE 0x07
#define GR_BIT_MASK       0x08

/* Attribute controller (FreeVGA "Attribute Controller Registers"). */
#define AR_PALETTE_COUNT  16
#define AR_MODE_CONTROL   0x10
#define AR_MODE_LINE_GRAPHICS 0x04 /* 9th dot repeats for 0xC0-0xDF */
#define AR_MODE_BLINK     0x08
#define AR_MODE_P54S      0x80     /* palette bits 5-4 from colour select */
#define AR_OVERSCAN       0x11
#define AR_PLANE_ENABLE   0x12
#define AR_PANNING        0x13
#define AR_COLOR_SELECT   0x14
#define AR_INDEX_MASK     0x1F
#define AR_INDEX_PAS      0x20     /* palette address source: display on */

/* CRT controller (FreeVGA "CRT Controller Registers"). */
#define CR_HDISP_END      0x01
#define CR_OVERFLOW       0x07
#define CR_OVERFLOW_VDE8  0x02
#define CR_OVERFLOW_VDE9  0x40
#define CR_MAX_SCAN       0x09
#define CR_MAX_SCAN_MASK  0x1F
#define CR_MAX_SCAN_DOUBLE 0x80
#define CR_CURSOR_START   0x0A
#define CR_CURSOR_DISABLE 0x20
#define CR_CURSOR_END     0x0B
#define CR_START_HI       0x0C
#define CR_START_LO       0x0D
#define CR_CURSOR_HI      0x0E
#define CR_CURSOR_LO      0x0F
#define CR_VRETRACE_END   0x11
#define CR_PROTECT        0x80     /* in CR_VRETRACE_END: registers 0-7 read-only */
#define CR_VDISP_END      0x12
#define CR_OFFSET         0x13

/* Bochs DISPI (vbe.h). */
#define VBE_DISPI_ID0             0xB0C0
#define VBE_DISPI_ID5             0xB0C5
#define VBE_DISPI_DISABLED        0x00
#define VBE_DISPI_ENABLED         0x01
#define VBE_DISPI_GETCAPS         0x02
#define VBE_DISPI_8BIT_DAC        0x20
#define VBE_DISPI_LFB_ENABLED     0x40
#define VBE_DISPI_NOCLEARMEM      0x80
#define VBE_DISPI_MAX_XRES        2560 /* what GETCAPS reports; see vga.c */
#define VBE_DISPI_MAX_YRES        1600
#define VBE_DISPI_MAX_BPP         32
#define VBE_DISPI_BANK_SIZE       0x10000

/* Plane memory: the first 256 KiB of VRAM, four planes interleaved (byte
 * 4*a + p is plane p at address a); see vga.c for why. */
#define VGA_PLANE_SIZE    0x10000u
#define VGA_PLANE_MEMORY  (4 * VGA_PLANE_SIZE)

static inline uint8_t vga_plane_byte(const struct vga *vga, unsigned plane, uint32_t addr)
{
	return vga->vram[((addr & (VGA_PLANE_SIZE - 1)) << 2) | plane];
}

static inline bool vga_dispi_enabled(const struct vga *vga)
{
	return vga->dispi[VBE_DISPI_INDEX_ENABLE] & VBE_DISPI_ENABLED;
}

#define VGA_LONG_BITS (8 * sizeof(long))

static inline size_t vga_dirty_bitmap_bytes(const struct vga *vga)
{
	size_t pages = vga->vram_size / VGA_PAGE_SIZE;
	return (pages + VGA_LONG_BITS - 1) / VGA_LONG_BITS * sizeof(long);
}

static inline void vga_mark_dirty(struct vga *vga, uint64_t offset)
{
	uint64_t page = offset / VGA_PAGE_SIZE;
	vga->dirty[page / VGA_LONG_BITS] |= 1ul << (page % VGA_LONG_BITS);
}

/* vga_render.c: the console's refresh; withdrawing the surface and freeing
 * the buffers behind it. */
void vga_refresh(void *opaque);
void vga_render_destroy(struct vga *vga);

#endif
