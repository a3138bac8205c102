/* The 8x16 text-mode font the VGA device loads into plane 2 at reset, as a
 * VGA BIOS would: 256 glyphs in code page 437 order, one byte per line, bit
 * 7 leftmost. Generated at build time by psf2vga.py from a Debian console
 * font (console-data's default8x16). */
#ifndef VIREO_HW_VGA_FONT_H
#define VIREO_HW_VGA_FONT_H

#include <stdint.h>

#define VGA_FONT_HEIGHT 16

extern const uint8_t vga_font_8x16[256 * VGA_FONT_HEIGHT];

#endif
