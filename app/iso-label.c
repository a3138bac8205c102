/* ISO 9660 volume labels; see iso-label.h. */
#include "iso-label.h"

#include <fcntl.h>
#include <glib.h>
#include <string.h>
#include <unistd.h>

#define ISO_VOLUME_ID_OFFSET 40                 /* ECMA-119 8.4.6, bytes 40-71 */
#define ISO_VOLUME_ID_LENGTH 32

char *iso_label_of_descriptor(const unsigned char *descriptor)
{
	if (descriptor[ISO_DESCRIPTOR_TYPE] != ISO_PVD_TYPE ||
	    memcmp(descriptor + ISO_DESCRIPTOR_ID, ISO_STANDARD_ID, ISO_STANDARD_ID_LENGTH))
		return NULL;
	char *label = g_strndup((const char *)descriptor + ISO_VOLUME_ID_OFFSET, ISO_VOLUME_ID_LENGTH);
	g_strchomp(label);
	if (!*label || !g_utf8_validate(label, -1, NULL))
		g_clear_pointer(&label, g_free);
	return label;
}

char *iso_volume_label(const char *path)
{
	unsigned char pvd[ISO_SECTOR_SIZE];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	ssize_t n = pread(fd, pvd, sizeof(pvd), (off_t)ISO_FIRST_DESCRIPTOR * ISO_SECTOR_SIZE);
	close(fd);
	return n == (ssize_t)sizeof(pvd) ? iso_label_of_descriptor(pvd) : NULL;
}
