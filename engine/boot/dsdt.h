/* DSDTs compiled from boot/asl/ by iasl at build time (boot/asl/asl2c.py):
 * whole tables, header included. */
#ifndef VIREO_BOOT_DSDT_H
#define VIREO_BOOT_DSDT_H

#include <stddef.h>
#include <stdint.h>

/* Direct kernel boot: the sleep states only (boot/asl/dsdt_direct.asl). */
extern const uint8_t dsdt_direct_aml[];
extern const size_t dsdt_direct_aml_size;

/* The firmware board: PCI root bridge, interrupt links, ISA devices and the
 * sleep states (boot/asl/dsdt_pc.asl). */
extern const uint8_t dsdt_pc_aml[];
extern const size_t dsdt_pc_aml_size;

#endif
