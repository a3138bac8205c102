/* ISO 9660 volume labels; see iso-label.h. */
#include "iso-label.h"

#include <fcntl.h>
#include <glib.h>
#include <string.h>
#include <unistd.h>

#define ISO_SECTOR_SIZE 2048
#define ISO_PVD_OFFSET (16 * ISO_SECTOR_SIZE)  /* ECMA-119 6.2.1: the system area is sectors 0-15 */
#define ISO_PVD_TYPE 1                          /* ECMA-119 8.4.1: Primary Volume Descriptor */
#define ISO_STANDARD_ID "CD001"                 /* ECMA-119 8.4.2, bytes 1-5 */
#define ISO_VOLUME_ID_OFFSET 40                 /* ECMA-119 8.4.6, bytes 40-71 */
#define ISO_VOLUME_ID_LENGTH 32

char *iso_volume_label(const char *path)
{
	unsigned char pvd[ISO_VOLUME_ID_OFFSET + ISO_VOLUME_ID_LENGTH];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	ssize_t n = pread(fd, pvd, sizeof(pvd), ISO_PVD_OFFSET);
	close(fd);
	if (n != (ssize_t)sizeof(pvd) || pvd[0] != ISO_PVD_TYPE ||
	    memcmp(pvd + 1, ISO_STANDARD_ID, strlen(ISO_STANDARD_ID)))
		return NULL;
	char *label = g_strndup((const char *)pvd + ISO_VOLUME_ID_OFFSET, ISO_VOLUME_ID_LENGTH);
	g_strchomp(label);
	if (!*label || !g_utf8_validate(label, -1, NULL))
		g_clear_pointer(&label, g_free);
	return label;
}
