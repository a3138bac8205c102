/* The benchmark guest for tests/bench/virtio-blk.py: sequential 64 KiB
 * writes and reads and random 4 KiB reads through virtio-blk at queue depth
 * 16, each phase between two serial lines the host timestamps. It runs
 * unchanged on vireo-engine and on QEMU (-machine pc, PVH -kernel). */
#include "runtime.h"
#include "vdriver-guest.h"

#define VIRTIO_ID_BLOCK 2
#define T_IN 0
#define T_OUT 1
#define DEPTH 16
#define BIG 65536
#define SMALL 4096
#define SPAN (32u << 20)      /* bytes each sequential phase moves */
#define RANDOM_REQUESTS 4096

struct request_header {
	uint32_t type, reserved;
	uint64_t sector;
};

static uint8_t ring[0x4000] __attribute__((aligned(4096)));
static uint8_t buffers[DEPTH][BIG] __attribute__((aligned(4096)));
static struct request_header headers[DEPTH];
static uint8_t status[DEPTH];
static struct vdevice disk;
static uint32_t lcg = 12345;

static void submit(unsigned slot, uint32_t type, uint64_t sector, uint32_t len)
{
	headers[slot] = (struct request_header){ type, 0, sector };
	struct vbuf bufs[3] = {
		{ gpa_of(&headers[slot]), sizeof(headers[slot]), false },
		{ gpa_of(buffers[slot]), len, type == T_IN },
		{ gpa_of(&status[slot]), 1, true },
	};
	vq_submit(&disk, 0, bufs, 3);
}

static uint64_t next_sector(unsigned i, uint32_t len, bool random)
{
	if (!random)
		return (uint64_t)i * (len / 512);
	lcg = lcg * 1103515245u + 12345u;
	return (uint64_t)((lcg >> 8) % (SPAN / len)) * (len / 512);
}

/* Requests complete in order here, so slot i % DEPTH is the oldest. */
static bool phase(const char *name, uint32_t type, uint32_t len, unsigned count, bool random)
{
	print("bench: %s start\n", name);
	unsigned done = 0, sent = 0;
	while (sent < count && sent < DEPTH)
		submit(sent % DEPTH, type, next_sector(sent, len, random), len), sent++;
	while (done < count) {
		if (!vq_poll(&disk, 0, 0, GUEST_POLL_SPINS) || status[done % DEPTH] != 0) {
			print("bench: FAIL %s request %u\n", name, done);
			return false;
		}
		done++;
		if (sent < count)
			submit(sent % DEPTH, type, next_sector(sent, len, random), len), sent++;
	}
	print("bench: %s done %u requests of %u bytes\n", name, count, len);
	return true;
}

int main(void)
{
	if (!vdev_find(&disk, &guest_platform, VIRTIO_ID_BLOCK, 0, GUEST_MMIO_BASE) || !vdev_negotiate(&disk, ~0ull) ||
	    !vdev_queue_setup(&disk, 0, VDRIVER_QUEUE_SIZE, gpa_of(ring))) {
		print("bench: FAIL no virtio disk\n");
		return 1;
	}
	vdev_driver_ok(&disk);
	for (unsigned s = 0; s < DEPTH; s++)
		for (unsigned i = 0; i < BIG; i++)
			buffers[s][i] = (uint8_t)(i + s);
	bool ok = phase("seq-write", T_OUT, BIG, SPAN / BIG, false) && phase("seq-read", T_IN, BIG, SPAN / BIG, false) &&
		  phase("rand-read", T_IN, SMALL, RANDOM_REQUESTS, true);
	return ok ? 0 : 1;
}
