/* The volume label of an ISO 9660 image, the name its maker gave the disc. */
#ifndef VIREO_ISO_LABEL_H
#define VIREO_ISO_LABEL_H

/* The Primary Volume Descriptor's volume identifier without its trailing
 * spaces, or NULL when `path` is no ISO 9660 image or the label is blank. */
char *iso_volume_label(const char *path);

#endif
