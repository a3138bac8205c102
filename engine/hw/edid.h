/* A VESA E-EDID 1.4 base block (VESA Enhanced EDID Standard, release A
 * rev. 2) for a virtual monitor, as display devices hand it to guest
 * drivers (the standard VGA at BAR2 offset 0). */
#ifndef VIREO_HW_EDID_H
#define VIREO_HW_EDID_H

#include <stdint.h>

#define EDID_BLOCK_SIZE 128

/* "Vireo VGA": digital, sRGB, preferred mode 1024x768 at 60 Hz (VESA DMT
 * timing), the common VESA modes up to 1920x1200 as established and
 * standard timings, and a range limit a 300 MHz pixel clock allows. */
void edid_build(uint8_t block[EDID_BLOCK_SIZE]);

#endif
