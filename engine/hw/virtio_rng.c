/* virtio-rng: entropy from getrandom() into the guest's buffers. */
#include "virtio_rng.h"

#include <sys/random.h>

#define VIRTIO_RNG_CLASS 0x00FF00          /* unclassified device */
/* Bytes handed out per request: a driver asking for more gets this much
 * and asks again, so one request never holds the I/O thread for long. */
#define VIRTIO_RNG_MAX_REQUEST (64 * 1024)

static uint32_t fill_request(void *opaque, unsigned queue, const struct virtq_request *req)
{
	(void)opaque;
	(void)queue;
	uint64_t budget = VIRTIO_RNG_MAX_REQUEST, written = 0;
	for (unsigned i = req->out_count; i < req->out_count + req->in_count && budget; i++) {
		size_t want = MIN(req->iov[i].iov_len, budget);
		ssize_t n = getrandom(req->iov[i].iov_base, want, 0);
		if (n <= 0)
			break;
		written += (size_t)n;
		budget -= (size_t)n;
	}
	return (uint32_t)written;
}

static void process_queue(void *opaque, unsigned queue)
{
	struct virtio_rng *rng = opaque;
	virtio_pci_serve_queue(&rng->vp, queue, fill_request, rng);
}

/* No device configuration space (§5.4.4). */
static const struct virtio_device_ops rng_ops = { .process_queue = process_queue };

int virtio_rng_init(struct virtio_rng *rng, GMainContext *io_context, const struct guest_mem *mem,
		    struct irq_line intx, const struct virtio_host_ops *host, void *host_opaque)
{
	struct virtio_pci_config config = {
		.device_id = VIRTIO_ID_RNG,
		.class_code = VIRTIO_RNG_CLASS,
		.num_queues = 1,
		.io_context = io_context,
		.mem = mem,
		.intx = intx,
	};
	return virtio_pci_init(&rng->vp, &config, &rng_ops, rng, host, host_opaque);
}

void virtio_rng_destroy(struct virtio_rng *rng)
{
	virtio_pci_destroy(&rng->vp);
}

/* --- device object (core/device.h) ----------------------------------- */

static void virtio_rng_teardown(void *opaque)
{
	struct virtio_rng *rng = opaque;
	pci_device_unplug(&rng->vp.pci);
	virtio_rng_destroy(rng);
}

const struct device_ops virtio_rng_device_ops = {
	"virtio-rng", 1, virtio_device_reset, virtio_rng_teardown, virtio_device_save, virtio_device_load, pci_function_claims,
};
