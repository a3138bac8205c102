/* Which operating system an installer ISO holds, from the files on the disc
 * (ECMA-119 directories, primary and Joliet) rather than from its name: the
 * New Machine assistant picks its preset from it. */
#ifndef VIREO_ISO_DETECT_H
#define VIREO_ISO_DETECT_H

enum iso_os {
	ISO_OS_UNKNOWN,
	ISO_OS_LINUX,
	ISO_OS_WINDOWS,
};

/* At most this many 2048-byte sectors are read from one image, whatever
 * sizes and extents its directories claim. */
#define ISO_DETECT_MAX_SECTORS 512

struct iso_detection {
	enum iso_os os;
	char *name;             /* a friendly name ("Debian 12.8.0"), or NULL */
	unsigned sectors_read;  /* at most ISO_DETECT_MAX_SECTORS */
};

/* Looks at the image at `path`; ISO_OS_UNKNOWN for anything that is no
 * readable ISO 9660 image or holds no installer we know. Free `name`
 * with iso_detection_clear(). */
void iso_detect(const char *path, struct iso_detection *out);
void iso_detection_clear(struct iso_detection *d);

#endif
