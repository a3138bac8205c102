/* virtio-blk as Linux's virtio_blk uses it: the first disk gets a pattern
 * written, flushed and read back; its ID is read; the second disk is
 * read-only and must refuse a write with VIRTIO_BLK_S_IOERR. The test on the
 * host then checks the image file byte for byte. */
#include "runtime.h"
#include "vdriver-guest.h"

#define VIRTIO_ID_BLOCK 2
#define T_IN 0
#define T_OUT 1
#define T_FLUSH 4
#define T_GET_ID 8
#define PATTERN_SECTOR 16
#define PATTERN_BYTES 4096

struct request_header {
	uint32_t type, reserved;
	uint64_t sector;
};

static uint8_t rings[2][0x4000] __attribute__((aligned(4096)));
static uint8_t data[PATTERN_BYTES] __attribute__((aligned(16)));
static struct request_header header;
static volatile uint8_t status;

static bool request(struct vdevice *d, uint32_t type, uint64_t sector, void *buf, uint32_t len, bool writable)
{
	struct vbuf bufs[3];
	unsigned n = 0;
	header = (struct request_header){ type, 0, sector };
	status = 0xFF;
	bufs[n++] = (struct vbuf){ gpa_of(&header), sizeof(header), false };
	if (len)
		bufs[n++] = (struct vbuf){ gpa_of(buf), len, writable };
	bufs[n++] = (struct vbuf){ gpa_of((const void *)&status), 1, true };
	vq_submit(d, 0, bufs, n);
	if (!vq_poll(d, 0, 0, GUEST_POLL_SPINS)) {
		print("virtio-blk: FAIL request type %u timed out\n", type);
		return false;
	}
	return true;
}

static uint8_t pattern(unsigned i)
{
	return (uint8_t)(i * 13 + 7 + (i >> 9));
}

static bool start(struct vdevice *d, unsigned nth)
{
	if (!vdev_find(d, &guest_platform, VIRTIO_ID_BLOCK, nth, GUEST_MMIO_BASE) ||
	    !vdev_negotiate(d, ~0ull) || !vdev_queue_setup(d, 0, VDRIVER_QUEUE_SIZE, gpa_of(rings[nth]))) {
		print("virtio-blk: FAIL disk %u not found or not set up\n", nth);
		return false;
	}
	vdev_driver_ok(d);
	return true;
}

static bool pattern_round_trip(struct vdevice *d)
{
	for (unsigned i = 0; i < PATTERN_BYTES; i++)
		data[i] = pattern(i);
	if (!request(d, T_OUT, PATTERN_SECTOR, data, PATTERN_BYTES, false) || status != 0 ||
	    !request(d, T_FLUSH, 0, 0, 0, false) || status != 0)
		return false;
	for (unsigned i = 0; i < PATTERN_BYTES; i++)
		data[i] = 0;
	if (!request(d, T_IN, PATTERN_SECTOR, data, PATTERN_BYTES, true) || status != 0)
		return false;
	for (unsigned i = 0; i < PATTERN_BYTES; i++)
		if (data[i] != pattern(i)) {
			print("virtio-blk: FAIL byte %u reads %02x\n", i, data[i]);
			return false;
		}
	print("virtio-blk: wrote, flushed and read back %u bytes at sector %u\n", PATTERN_BYTES, PATTERN_SECTOR);
	return true;
}

int main(void)
{
	struct vdevice disk, ro;
	if (!start(&disk, 0))
		return 1;
	print("virtio-blk: disk 0 has %u sectors\n", (uint32_t)vdev_config_read(&disk, 0, 4));
	if (!pattern_round_trip(&disk))
		return 1;
	char id[21] = { 0 };
	if (request(&disk, T_GET_ID, 0, id, 20, true))
		print("virtio-blk: disk 0 id '%s' status %u\n", id, status);
	if (!start(&ro, 1))
		return 1;
	for (unsigned i = 0; i < 512; i++)
		data[i] = 0xAA;
	if (request(&ro, T_OUT, 0, data, 512, false))
		print("virtio-blk: read-only disk write status %u\n", status);
	if (request(&ro, T_IN, 0, data, 512, true))
		print("virtio-blk: read-only disk reads '%c%c%c%c%c%c%c%c' status %u\n", data[0], data[1], data[2],
		      data[3], data[4], data[5], data[6], data[7], status);
	return 0;
}
