/* Split virtqueues (virtio 1.2 §2.7), the device side, for every virtio
 * device model.
 *
 * Everything here is in guest memory the guest controls, so every index,
 * address and length is checked: the rings are validated once when the
 * driver enables the queue, and each buffer of a descriptor chain goes
 * through guest_mem_ptr(). A malformed chain (loops, more descriptors than
 * the queue holds, nested or misplaced indirect tables, buffers outside RAM,
 * a readable buffer after a writable one) makes virtq_pop() fail; the
 * transport then sets DEVICE_NEEDS_RESET (§2.1.2) and stops the queue.
 *
 * Not thread-safe: the transport serialises all calls on one queue. */
#ifndef VIREO_HW_VIRTQUEUE_H
#define VIREO_HW_VIRTQUEUE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "core/guest_mem.h"

#define VIRTQ_MAX_SIZE 256           /* our queues' Queue Size maximum */

/* Descriptor flags (§2.7.5). */
#define VIRTQ_DESC_F_NEXT     1
#define VIRTQ_DESC_F_WRITE    2
#define VIRTQ_DESC_F_INDIRECT 4
#define VIRTQ_DESC_SIZE       16

/* Ring flags (§2.7.6, §2.7.8). */
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1

/* One request: its head descriptor index, then the device-readable buffers
 * (out) followed by the device-writable ones (in), as host pointers. */
struct virtq_request {
	uint16_t head;
	unsigned out_count, in_count;
	uint64_t out_len, in_len;
	struct iovec iov[VIRTQ_MAX_SIZE];  /* out first, then in */
};

struct virtq {
	uint16_t size;                /* Queue Size the driver chose */
	bool ready;
	bool event_idx;               /* VIRTIO_F_EVENT_IDX negotiated */
	bool indirect;                /* VIRTIO_F_INDIRECT_DESC negotiated */
	bool broken;                  /* a malformed ring was seen: no more processing */
	uint64_t desc_gpa, avail_gpa, used_gpa;
	uint8_t *desc, *avail, *used; /* validated host pointers of the three areas */
	uint16_t last_avail;          /* next available entry to consume */
	uint16_t used_idx;            /* next used entry to fill */
	uint16_t signalled_used;      /* used_idx when we last interrupted */
};

void virtq_reset(struct virtq *vq);

/* The driver set queue_enable: checks alignment and that all three areas
 * are RAM. False when they are not (the queue stays unusable). */
bool virtq_enable(struct virtq *vq, const struct guest_mem *mem);

/* 1: *req holds the next request; 0: nothing available; -EIO: the ring is
 * malformed (the queue is now broken). */
int virtq_pop(struct virtq *vq, const struct guest_mem *mem, struct virtq_request *req);

/* Returns the chain to the driver with `written` bytes in its writable
 * buffers. True when the driver wants an interrupt for it now. */
bool virtq_push(struct virtq *vq, uint16_t head, uint32_t written);

/* With event index, tells the driver which available entry to notify us
 * about next, then says whether more arrived meanwhile (call virtq_pop again). */
bool virtq_arm_notification(struct virtq *vq);

/* Copies between a request's buffers and a flat buffer, starting `skip`
 * bytes into the out (or in) side. Return bytes copied. */
size_t virtq_copy_from_out(const struct virtq_request *req, size_t skip, void *dst, size_t len);
size_t virtq_copy_to_in(const struct virtq_request *req, size_t skip, const void *src, size_t len);

#endif
