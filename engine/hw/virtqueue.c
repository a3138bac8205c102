/* Split virtqueues, device side. See virtqueue.h. */
#include "virtqueue.h"
#include "core/bytes.h"

#include <errno.h>
#include <glib.h>
#include <string.h>

/* Ring layouts (§2.7.5-8): descriptor {le64 addr, le32 len, le16 flags,
 * le16 next}; available {le16 flags, le16 idx, le16 ring[size], le16
 * used_event}; used {le16 flags, le16 idx, {le32 id, le32 len} ring[size],
 * le16 avail_event}. Alignments from §2.7 table "Virtqueue Part Alignment". */
#define DESC_ALIGN  16
#define AVAIL_ALIGN 2
#define USED_ALIGN  4
#define RING_IDX    2
#define RING_ENTRIES 4
#define USED_ELEM_SIZE 8

static uint64_t avail_bytes(uint16_t size) { return 4 + 2ull * size + 2; }
static uint64_t used_bytes(uint16_t size) { return 4 + (uint64_t)USED_ELEM_SIZE * size + 2; }



/* Ring indexes the other side updates concurrently: one atomic access each. */
static uint16_t load_idx(const uint8_t *p)
{
	return GUINT16_FROM_LE(__atomic_load_n((const uint16_t *)(const void *)p, __ATOMIC_ACQUIRE));
}

static void store_idx(uint8_t *p, uint16_t v)
{
	__atomic_store_n((uint16_t *)(void *)p, GUINT16_TO_LE(v), __ATOMIC_RELEASE);
}

void virtq_reset(struct virtq *vq)
{
	vq->size = VIRTQ_MAX_SIZE;
	vq->ready = vq->broken = false;
	vq->event_idx = vq->indirect = false;  /* negotiated again at FEATURES_OK */
	vq->desc_gpa = vq->avail_gpa = vq->used_gpa = 0;
	vq->desc = vq->avail = vq->used = NULL;
	vq->last_avail = vq->used_idx = vq->signalled_used = 0;
}

bool virtq_enable(struct virtq *vq, const struct guest_mem *mem)
{
	uint16_t size = vq->size;
	if (size == 0 || size > VIRTQ_MAX_SIZE || (size & (size - 1)) ||
	    vq->desc_gpa % DESC_ALIGN || vq->avail_gpa % AVAIL_ALIGN || vq->used_gpa % USED_ALIGN)
		return false;
	vq->desc = guest_mem_ptr(mem, vq->desc_gpa, (uint64_t)VIRTQ_DESC_SIZE * size);
	vq->avail = guest_mem_ptr(mem, vq->avail_gpa, avail_bytes(size));
	vq->used = guest_mem_ptr(mem, vq->used_gpa, used_bytes(size));
	if (!vq->desc || !vq->avail || !vq->used) {
		vq->desc = vq->avail = vq->used = NULL;
		return false;
	}
	vq->ready = true;
	return true;
}

struct chain_walk {
	const struct guest_mem *mem;
	struct virtq_request *req;
	unsigned visited;            /* descriptors followed, across tables */
	bool seen_writable;
};

/* Adds one buffer of a chain to the request. */
static int add_buffer(struct chain_walk *w, uint64_t gpa, uint32_t len, bool writable)
{
	struct virtq_request *req = w->req;
	if (!writable && w->seen_writable)
		return -EIO;  /* readable after writable (§2.7.4.2) */
	w->seen_writable |= writable;
	if (len == 0)
		return 0;
	void *host = guest_mem_ptr(w->mem, gpa, len);
	if (!host)
		return -EIO;
	unsigned n = req->out_count + req->in_count;
	req->iov[n] = (struct iovec){ host, len };
	if (writable) {
		req->in_count++;
		req->in_len += len;
	} else {
		req->out_count++;
		req->out_len += len;
	}
	return 0;
}

/* Follows a chain through `table` of `entries` descriptors from `index`.
 * `nested` is set inside an indirect table, where another indirect
 * descriptor is forbidden (§2.7.5.3.1). */
static int walk_table(struct chain_walk *w, const uint8_t *table, uint32_t entries, uint16_t index, bool nested,
		      bool indirect_allowed);

static int walk_indirect(struct chain_walk *w, uint64_t gpa, uint32_t len)
{
	if (len == 0 || len % VIRTQ_DESC_SIZE || len / VIRTQ_DESC_SIZE > VIRTQ_MAX_SIZE)
		return -EIO;
	const uint8_t *table = guest_mem_ptr(w->mem, gpa, len);
	if (!table)
		return -EIO;
	return walk_table(w, table, len / VIRTQ_DESC_SIZE, 0, true, false);
}

static int walk_table(struct chain_walk *w, const uint8_t *table, uint32_t entries, uint16_t index, bool nested,
		      bool indirect_allowed)
{
	for (;;) {
		if (index >= entries || ++w->visited > VIRTQ_MAX_SIZE)
			return -EIO;  /* out of the table, or a loop / over-long chain */
		const uint8_t *d = table + (size_t)index * VIRTQ_DESC_SIZE;
		uint64_t addr = get_le64(d);
		uint32_t len = get_le32(d + 8);
		uint16_t flags = get_le16(d + 12), next = get_le16(d + 14);
		int err;
		if (flags & VIRTQ_DESC_F_INDIRECT) {
			if (nested || !indirect_allowed || (flags & VIRTQ_DESC_F_NEXT))
				return -EIO;
			return walk_indirect(w, addr, len);
		}
		if ((err = add_buffer(w, addr, len, flags & VIRTQ_DESC_F_WRITE)) < 0)
			return err;
		if (!(flags & VIRTQ_DESC_F_NEXT))
			return 0;
		index = next;
	}
}

int virtq_pop(struct virtq *vq, const struct guest_mem *mem, struct virtq_request *req)
{
	if (!vq->ready || vq->broken)
		return vq->broken ? -EIO : 0;
	uint16_t avail_idx = load_idx(vq->avail + RING_IDX);
	uint16_t pending = (uint16_t)(avail_idx - vq->last_avail);
	if (pending == 0)
		return 0;
	if (pending > vq->size) {
		vq->broken = true;  /* the driver claims more entries than the ring has */
		return -EIO;
	}
	uint16_t head = get_le16(vq->avail + RING_ENTRIES + 2 * (vq->last_avail % vq->size));
	memset(req, 0, offsetof(struct virtq_request, iov));
	req->head = head;
	struct chain_walk walk = { .mem = mem, .req = req };
	if (walk_table(&walk, vq->desc, vq->size, head, false, vq->indirect) < 0) {
		vq->broken = true;
		return -EIO;
	}
	vq->last_avail++;
	return 1;
}

/* §2.7.10: interrupt when the driver's used_event lies in (old, new]. */
static bool need_event(uint16_t event, uint16_t new_idx, uint16_t old_idx)
{
	return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old_idx);
}

bool virtq_push(struct virtq *vq, uint16_t head, uint32_t written)
{
	if (!vq->ready)
		return false;  /* reset while the request was in flight */
	uint8_t *elem = vq->used + RING_ENTRIES + (size_t)USED_ELEM_SIZE * (vq->used_idx % vq->size);
	put_le32(elem, head);
	put_le32(elem + 4, written);
	uint16_t old = vq->signalled_used, new_idx = ++vq->used_idx;
	store_idx(vq->used + RING_IDX, new_idx);  /* release: the element is visible first */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);  /* against the driver's used_event/flags update */
	bool notify;
	if (vq->event_idx)
		notify = need_event(load_idx(vq->avail + RING_ENTRIES + 2 * vq->size), new_idx, old);
	else
		notify = !(get_le16(vq->avail) & VIRTQ_AVAIL_F_NO_INTERRUPT);
	if (notify)
		vq->signalled_used = new_idx;
	return notify;
}

bool virtq_arm_notification(struct virtq *vq)
{
	if (!vq->ready || vq->broken)
		return false;
	if (vq->event_idx) {
		store_idx(vq->used + RING_ENTRIES + (size_t)USED_ELEM_SIZE * vq->size, vq->last_avail);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);  /* before re-reading avail idx */
	}
	return load_idx(vq->avail + RING_IDX) != vq->last_avail;
}

static size_t copy_iov(const struct iovec *iov, unsigned count, size_t skip, void *flat, size_t len, bool to_iov)
{
	size_t done = 0;
	for (unsigned i = 0; i < count && done < len; i++) {
		if (skip >= iov[i].iov_len) {
			skip -= iov[i].iov_len;
			continue;
		}
		size_t n = MIN(iov[i].iov_len - skip, len - done);
		uint8_t *base = (uint8_t *)iov[i].iov_base + skip;
		if (to_iov)
			memcpy(base, (const uint8_t *)flat + done, n);
		else
			memcpy((uint8_t *)flat + done, base, n);
		done += n;
		skip = 0;
	}
	return done;
}

size_t virtq_copy_from_out(const struct virtq_request *req, size_t skip, void *dst, size_t len)
{
	return copy_iov(req->iov, req->out_count, skip, dst, len, false);
}

size_t virtq_copy_to_in(const struct virtq_request *req, size_t skip, const void *src, size_t len)
{
	return copy_iov(req->iov + req->out_count, req->in_count, skip, (void *)src, len, true);
}
