/* A VESA E-EDID 1.4 base block (VESA Enhanced EDID Standard, release A
 * rev. 2) for a virtual monitor, as display devices hand it to guest
 * drivers (the standard VGA at BAR2 offset 0). */
#ifndef VIREO_HW_EDID_H
#define VIREO_HW_EDID_H

#include <stdint.h>

#define EDID_BLOCK_SIZE 128
#define EDID_MAX_SIDE 4095u  /* a detailed timing's 12-bit active width and height */

/* A monitor named `name` (at most 13 characters): digital, sRGB, preferred
 * mode width x height at 60 Hz (1024x768 has its VESA DMT timing, other
 * sizes CVT reduced-blanking-style timings), the common VESA modes up to
 * 1920x1200 as established and standard timings, and range limits up to a
 * 600 MHz pixel clock. Sizes up to EDID_MAX_SIDE; modes too large for 60 Hz
 * under the 655.35 MHz a detailed timing can say get a lower refresh. */
void edid_build(uint8_t block[EDID_BLOCK_SIZE], const char *name, unsigned width, unsigned height);

#endif
