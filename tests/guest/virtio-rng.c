/* virtio-rng as Linux's virtio-rng driver uses it: two 32-byte requests,
 * printed in hex for the test to compare. */
#include "runtime.h"
#include "vdriver-guest.h"

#define VIRTIO_ID_RNG 4
#define BYTES 32

static uint8_t ring[0x4000] __attribute__((aligned(4096)));
static uint8_t buf[BYTES];

int main(void)
{
	struct vdevice d;
	if (!vdev_find(&d, &guest_platform, VIRTIO_ID_RNG, 0, GUEST_MMIO_BASE) || !vdev_negotiate(&d, ~0ull) ||
	    !vdev_queue_setup(&d, 0, VDRIVER_QUEUE_SIZE, gpa_of(ring))) {
		print("virtio-rng: FAIL no device\n");
		return 1;
	}
	vdev_driver_ok(&d);
	for (unsigned round = 0; round < 2; round++) {
		struct vbuf b = { gpa_of(buf), BYTES, true };
		uint32_t len = 0;
		vq_submit(&d, 0, &b, 1);
		if (!vq_poll(&d, 0, &len, GUEST_POLL_SPINS)) {
			print("virtio-rng: FAIL timed out\n");
			return 1;
		}
		print("virtio-rng: %u bytes ", len);
		for (unsigned i = 0; i < BYTES; i++)
			print("%02x", buf[i]);
		print("\n");
	}
	return 0;
}
