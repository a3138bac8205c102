/* The volume label of an ISO 9660 image, the name its maker gave the disc,
 * and the layout facts iso-detect.c shares. */
#ifndef VIREO_ISO_LABEL_H
#define VIREO_ISO_LABEL_H

#define ISO_SECTOR_SIZE 2048
#define ISO_FIRST_DESCRIPTOR 16     /* ECMA-119 6.2.1: the system area is sectors 0-15 */
#define ISO_DESCRIPTOR_TYPE 0       /* ECMA-119 8.1.1 */
#define ISO_DESCRIPTOR_ID 1         /* ECMA-119 8.1.2, bytes 1-5 */
#define ISO_STANDARD_ID "CD001"
#define ISO_STANDARD_ID_LENGTH 5
#define ISO_PVD_TYPE 1              /* ECMA-119 8.4.1: Primary Volume Descriptor */

/* The Primary Volume Descriptor's volume identifier without its trailing
 * spaces, or NULL when `path` is no ISO 9660 image or the label is blank. */
char *iso_volume_label(const char *path);

/* The same, from a volume descriptor already read (ISO_SECTOR_SIZE bytes):
 * NULL unless it is the primary one. */
char *iso_label_of_descriptor(const unsigned char *descriptor);

#endif
