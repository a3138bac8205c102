/* QEMU's "standard VGA" (PCI 1234:1111, class 0300): a VGA with the Bochs
 * DISPI extension and a linear framebuffer, as Linux bochs-drm, SeaBIOS's
 * vgabios-stdvga and OVMF's QemuVideoDxe drive it. See vga.c.
 *
 * Wiring: vm_release_vga_window() before vCPUs run (so 0xA0000-0xBFFFF
 * reaches the MMIO bus), vga_init() with the VM's buses, a console and
 * vga_memory_ops backed by vm_map_device_ram()/vm_unmap_device_ram()/
 * vm_get_dirty_log(), then pci_bus_add(&vga->pci, slot 2) before BARs are
 * assigned. Frontends call console_refresh() when they want pixels. On a
 * guest reset call vga_reset(); tear down with pci_bus_destroy() first
 * (it unmaps BAR0), then vga_destroy(). */
#ifndef VIREO_HW_VGA_H
#define VIREO_HW_VGA_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/device.h"
#include "console.h"
#include "core/bus.h"
#include "hw/edid.h"
#include "hw/pci.h"

#define VGA_VRAM_DEFAULT   (16u << 20)
#define VGA_VRAM_MIN       (1u << 20)
#define VGA_VRAM_MAX       (256u << 20)
#define VGA_PAGE_SIZE      4096u        /* one dirty bit covers this much VRAM */

/* Bochs DISPI registers (Bochs vbe.h; index * 2 in BAR2 at 0x500). */
#define VBE_DISPI_INDEX_ID          0x0
#define VBE_DISPI_INDEX_XRES        0x1
#define VBE_DISPI_INDEX_YRES        0x2
#define VBE_DISPI_INDEX_BPP         0x3
#define VBE_DISPI_INDEX_ENABLE      0x4
#define VBE_DISPI_INDEX_BANK        0x5
#define VBE_DISPI_INDEX_VIRT_WIDTH  0x6
#define VBE_DISPI_INDEX_VIRT_HEIGHT 0x7
#define VBE_DISPI_INDEX_X_OFFSET    0x8
#define VBE_DISPI_INDEX_Y_OFFSET    0x9
#define VBE_DISPI_INDEX_VIDEO_MEMORY_64K 0xA
#define VBE_DISPI_INDEX_COUNT       0xB

/* The engine maps VRAM (BAR0) into the guest as memory, so framebuffer
 * writes do not exit. The device asks for it through these calls when the
 * guest places or removes BAR0; they run on a vCPU thread with the PCI bus
 * lock held. Without them (or when map fails) BAR0 accesses reach the
 * device's bus callbacks instead, which is slower but equivalent. */
struct vga_memory_ops {
	/* Returns 0 when [gpa, gpa+size) now reaches hva with dirty logging. */
	int (*map)(void *opaque, uint64_t gpa, uint64_t size, void *hva);
	void (*unmap)(void *opaque, uint64_t gpa, uint64_t size);
	/* Pages written by the guest since the last call, one bit per
	 * VGA_PAGE_SIZE; false (or a NULL member) when unknown: the device then
	 * redraws everything. */
	bool (*fetch_dirty)(void *opaque, uint64_t gpa, uint64_t size, unsigned long *bitmap);
	/* Delivers window writes the host queued instead of exiting (KVM's
	 * coalesced MMIO) to the bus callbacks; called without the VGA's lock
	 * before each refresh. NULL: every write arrives at once. */
	void (*flush_writes)(void *opaque);
};

/* What the screen shows, derived from the registers at each refresh. */
enum vga_display_kind {
	VGA_DISPLAY_NONE,
	VGA_DISPLAY_TEXT,
	VGA_DISPLAY_PLANAR16,   /* 16 colours from four planes (mode 12h) */
	VGA_DISPLAY_PACKED256,  /* 256 colours, one byte a pixel (mode 13h, mode X) */
	VGA_DISPLAY_DISPI,      /* Bochs DISPI mode from VRAM */
};

struct vga_display {
	enum vga_display_kind kind;
	unsigned width, height;
	unsigned bpp;           /* DISPI */
	uint64_t start;         /* DISPI: first byte in VRAM; legacy: CRTC start address */
	unsigned line_bytes;    /* DISPI: bytes per VRAM line; legacy: CRTC offset units */
	unsigned cols, rows, char_width, char_height; /* text */
};

struct vga {
	GMutex lock;
	struct pci_device pci;          /* the engine adds it to the PCI bus */
	struct bus *pio, *mmio;
	uint8_t *vram;
	uint32_t vram_size;
	const struct vga_memory_ops *mem_ops;
	void *mem_opaque;
	bool lfb_mapped;                /* BAR0 is guest memory at lfb_gpa */
	uint64_t lfb_gpa;
	unsigned long *dirty;           /* VRAM pages written through the device */
	unsigned long *dirty_scratch;   /* what fetch_dirty returned */

	/* Legacy VGA registers (IBM VGA Technical Reference; FreeVGA). */
	uint8_t misc_output;
	uint8_t feature_control;
	uint8_t status1;                /* input status 1 */
	uint8_t sr_index, sr[8];
	uint8_t gr_index, gr[9];
	uint8_t ar_index, ar[21];
	bool ar_flip_flop;              /* true: the next 0x3C0 write is data */
	uint8_t cr_index, cr[25];
	uint8_t dac_write_index, dac_read_index, dac_component, dac_state;
	uint8_t dac_latch[3];
	uint8_t dac_pel_mask;
	uint8_t dac[256][3];
	uint32_t latch;                 /* the four plane latches, plane 0 in bits 0-7 */
	bool regs_changed;              /* a register write since the last refresh */
	bool font_changed;              /* plane 2 written since the last refresh */

	uint8_t edid[EDID_BLOCK_SIZE];  /* BAR2 0x000 */

	/* Bochs DISPI and the QEMU extended registers. */
	uint16_t dispi_index;
	uint16_t dispi[VBE_DISPI_INDEX_COUNT];

	/* Rendering, under the lock, from the console's refresh. */
	struct console *console;
	struct vga_display shown;       /* what the published surface is for */
	uint32_t *shadow;               /* XRGB8888 for modes not shown from VRAM */
	size_t shadow_size;
	uint32_t *line;                 /* one rendered line, to compare with the shadow */
	size_t line_size;
	uint32_t *cells;                /* text: what each cell shows (see cell_key) */
	size_t cells_size;
	uint32_t text_colours[16];      /* text: colours the cells were drawn with */
	uint32_t text_config;           /* text: fonts, blink, cursor shape drawn with */
};

/* Registers the VGA ports (0x3B0-0x3DF), the DISPI ports (0x1CE-0x1D0) and
 * the 0xA0000-0xBFFFF window, sets up the PCI function (BAR0 VRAM of
 * vram_size, a power of two in [VGA_VRAM_MIN, VGA_VRAM_MAX]; BAR2 4 KiB of
 * registers) and becomes con's display. mem_ops may be NULL. Returns 0,
 * -EINVAL for a bad size, -ENOMEM, or the bus's error; nothing is left
 * registered on failure. */
int vga_init(struct vga *vga, struct bus *pio, struct bus *mmio, uint32_t vram_size,
	     const struct vga_memory_ops *mem_ops, void *mem_opaque, struct console *con);
void vga_destroy(struct vga *vga);

/* Power-on state as a VGA BIOS leaves it: 80x25 colour text mode with the
 * 8x16 font in plane 2 and a blank screen. vga_init calls it. */
void vga_reset(struct vga *vga);

extern const struct device_ops vga_device_ops;

#endif
