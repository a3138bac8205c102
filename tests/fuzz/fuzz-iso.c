/* libFuzzer target: the New Machine assistant's reading of an ISO the user
 * picked (app/iso-detect.c, app/iso-label.c), on arbitrary images.
 *
 * The input is the image from its first volume descriptor on (sector 16,
 * ECMA-119 6.2.1): the system area before it is zeros, which nothing here
 * reads, so every input byte is one the reader can reach. The image is an
 * anonymous file read through its path, as the assistant reads the user's.
 * Whatever the bytes, the OS must be one of the three answers, the reads
 * stay within ISO_DETECT_MAX_SECTORS, a friendly name is UTF-8, and
 * ASan/UBSan catch any access outside the reader's buffers.
 *
 * Byte mutations rarely move a whole descriptor, and the order and number
 * of descriptors is what the reader's table depends on, so a quarter of the
 * mutations swap two sectors or insert a copy of one. */
#include <glib.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "iso-detect.h"
#include "iso-label.h"

#define SECTOR_MUTATIONS 4  /* one mutation in this many moves sectors */

static int image_fd = -1;
static char *image_path;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed);

static void swap_sectors(uint8_t *data, size_t a, size_t b)
{
	uint8_t tmp[ISO_SECTOR_SIZE];
	memcpy(tmp, data + a * ISO_SECTOR_SIZE, ISO_SECTOR_SIZE);
	memmove(data + a * ISO_SECTOR_SIZE, data + b * ISO_SECTOR_SIZE, ISO_SECTOR_SIZE);
	memcpy(data + b * ISO_SECTOR_SIZE, tmp, ISO_SECTOR_SIZE);
}

/* A copy of sector `from` goes in before sector `at`; the rest moves up. */
static size_t insert_sector(uint8_t *data, size_t size, size_t from, size_t at)
{
	uint8_t copy[ISO_SECTOR_SIZE];
	memcpy(copy, data + from * ISO_SECTOR_SIZE, ISO_SECTOR_SIZE);
	memmove(data + (at + 1) * ISO_SECTOR_SIZE, data + at * ISO_SECTOR_SIZE, size - at * ISO_SECTOR_SIZE);
	memcpy(data + at * ISO_SECTOR_SIZE, copy, ISO_SECTOR_SIZE);
	return size + ISO_SECTOR_SIZE;
}

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed)
{
	size_t sectors = size / ISO_SECTOR_SIZE;
	size_t a = (seed >> 8) % (sectors ? sectors : 1), b = (seed >> 16) % (sectors ? sectors : 1);
	if (seed % SECTOR_MUTATIONS || sectors < 1)
		return LLVMFuzzerMutate(data, size, max_size);
	if (seed >> 24 & 1 && size + ISO_SECTOR_SIZE <= max_size)
		return insert_sector(data, size, a, b);
	swap_sectors(data, a, b);
	return size;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (image_fd < 0) {
		image_fd = memfd_create("fuzz-iso", 0);
		image_path = g_strdup_printf("/proc/self/fd/%d", image_fd);
	}
	off_t start = (off_t)ISO_FIRST_DESCRIPTOR * ISO_SECTOR_SIZE;
	if (image_fd < 0 || ftruncate(image_fd, 0) < 0 || pwrite(image_fd, data, size, start) != (ssize_t)size)
		abort();
	struct iso_detection d;
	iso_detect(image_path, &d);
	if (d.os > ISO_OS_WINDOWS || d.sectors_read > ISO_DETECT_MAX_SECTORS ||
	    (d.name && (d.os != ISO_OS_LINUX || !g_utf8_validate(d.name, -1, NULL))))
		abort();
	iso_detection_clear(&d);
	g_free(iso_volume_label(image_path));
	return 0;
}
