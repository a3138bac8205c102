/* The virtio driver's platform for test guests. */
#ifndef VDRIVER_GUEST_H
#define VDRIVER_GUEST_H

#include "vdriver.h"

extern const struct vplatform guest_platform;
uint64_t gpa_of(const void *p);

/* BARs the engine left unassigned go here (its own PCI window). */
#define GUEST_MMIO_BASE 0xE0000000ull
/* Ten million polls: seconds even where guest code is emulated. */
#define GUEST_POLL_SPINS 10000000ul

#endif
