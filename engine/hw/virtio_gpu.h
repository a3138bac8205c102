/* virtio-gpu, 2D (virtio 1.2 §5.7), as Linux's virtio_gpu DRM driver and
 * Windows' viogpu drive it: one scanout, host resources the guest fills from
 * scattered backing pages (transfer, then flush), a cursor queue, EDID, and
 * display-info changes so that the guest follows the window or viewer size.
 *
 * The controlq and cursorq are served on the I/O context like every virtio
 * device. Resources live in host memory (limited to
 * VIRTIO_GPU_MAX_HOST_MEMORY in total, counting their structures and
 * backing lists too, and VIRTIO_GPU_MAX_RESOURCES in number; beyond either
 * the guest gets ERR_OUT_OF_MEMORY) in the console's XRGB8888 layout;
 * the scanout's resource is the console surface itself, so a flush costs a
 * copy of the flushed rectangle from guest pages and nothing more. Every
 * guest-given id, rectangle, offset and backing address is checked: a bad
 * request gets an error response, never a host access outside guest RAM or
 * a resource. */
#ifndef VIREO_HW_VIRTIO_GPU_H
#define VIREO_HW_VIRTIO_GPU_H

#include "core/device.h"
#include "console.h"
#include "hw/virtio_pci.h"

#define VIRTIO_GPU_MAX_HOST_MEMORY (256u << 20)  /* all resources together, everything the host keeps for them */
#define VIRTIO_GPU_MAX_RESOURCES 4096            /* resources at once; a desktop uses a few dozen */
#define VIRTIO_GPU_DEFAULT_WIDTH 1024
#define VIRTIO_GPU_DEFAULT_HEIGHT 768
#define VIRTIO_GPU_MIN_SIZE 320                  /* the smallest display size we report */
#define VIRTIO_GPU_MAX_SIZE 4096                 /* the largest resource sides (displays: EDID_MAX_SIDE) */

struct virtio_gpu {
	struct virtio_pci vp;
	struct console *console;
	GHashTable *resources;          /* id -> struct gpu_resource */
	uint64_t host_memory;           /* bytes held by resources: pixels, structures, backing lists */
	uint32_t scanout_resource;      /* 0: scanout disabled */
	struct console_rect scanout_rect;
	GMutex display_lock;            /* the fields below: the frontend thread sets them */
	unsigned width, height;         /* what the display asks the guest to show */
	uint32_t events_read;
};

int virtio_gpu_init(struct virtio_gpu *gpu, struct console *console, GMainContext *io_context,
		    const struct guest_mem *mem, struct irq_line intx,
		    const struct virtio_host_ops *host, void *host_opaque);
void virtio_gpu_destroy(struct virtio_gpu *gpu);

extern const struct device_ops virtio_gpu_device_ops;

#endif
