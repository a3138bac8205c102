/* Firmware images from Debian's packages: SeaBIOS (package seabios) and the
 * VGA BIOS it runs for the standard VGA. $VIREO_FIRMWARE_DIR replaces the
 * folder they are looked up in (tests, Flatpak). */
#ifndef VIREO_BOOT_FIRMWARE_H
#define VIREO_BOOT_FIRMWARE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FIRMWARE_DIR_DEFAULT "/usr/share/seabios"
#define FIRMWARE_BIOS_FILE   "bios-256k.bin"
#define FIRMWARE_VGABIOS_FILE "vgabios-stdvga.bin"
#define FIRMWARE_PACKAGE     "seabios"
/* The system BIOS ends at 4 GiB; its last 128 KiB also show at 0xE0000. */
#define FIRMWARE_MAX_SIZE    (16u << 20)
#define FIRMWARE_LOW_ALIAS_SIZE 0x20000u

struct firmware_image {
	uint8_t *data;     /* page-aligned, read-only mapping of a private copy */
	size_t size;
};

/* The full path of a firmware file (g_free it). */
char *firmware_path(const char *file);

/* Whether the file is there and has a size the platform can map; false
 * with *error naming the file and the Debian package that provides it. */
bool firmware_check(const char *file, char **error);

/* Reads a system BIOS image (a multiple of 64 KiB, at least 128 KiB).
 * Returns 0, or -1 with *error set. */
int firmware_load(struct firmware_image *img, const char *file, char **error);
void firmware_unload(struct firmware_image *img);

/* Reads a whole small file (an option ROM) into a g_malloc'd buffer. */
uint8_t *firmware_read_rom(const char *file, size_t *size, char **error);

#endif
