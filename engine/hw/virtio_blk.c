/* virtio-blk. See virtio_blk.h. */
#include "virtio_blk.h"
#include "core/bytes.h"

#include <errno.h>
#include <string.h>

#define VIRTIO_BLK_CLASS 0x018000   /* mass storage, other */

/* Feature bits (§5.2.3). */
#define VIRTIO_BLK_F_SEG_MAX      2
#define VIRTIO_BLK_F_RO           5
#define VIRTIO_BLK_F_BLK_SIZE     6
#define VIRTIO_BLK_F_FLUSH        9
#define VIRTIO_BLK_F_CONFIG_WCE  11
#define VIRTIO_BLK_F_MQ          12
#define VIRTIO_BLK_F_DISCARD     13
#define VIRTIO_BLK_F_WRITE_ZEROES 14

/* struct virtio_blk_config (§5.2.4). */
#define CFG_CAPACITY                 0
#define CFG_SEG_MAX                  12
#define CFG_BLK_SIZE                 20
#define CFG_WRITEBACK                32
#define CFG_NUM_QUEUES               34
#define CFG_MAX_DISCARD_SECTORS      36
#define CFG_MAX_DISCARD_SEG          40
#define CFG_DISCARD_SECTOR_ALIGNMENT 44
#define CFG_MAX_WRITE_ZEROES_SECTORS 48
#define CFG_MAX_WRITE_ZEROES_SEG     52
#define CFG_WRITE_ZEROES_MAY_UNMAP   56
#define CFG_SIZE                     60

/* Request header {le32 type, le32 reserved, le64 sector} and types (§5.2.6). */
#define REQ_HEADER_SIZE  16
#define VIRTIO_BLK_T_IN           0
#define VIRTIO_BLK_T_OUT          1
#define VIRTIO_BLK_T_FLUSH        4
#define VIRTIO_BLK_T_GET_ID       8
#define VIRTIO_BLK_T_DISCARD      11
#define VIRTIO_BLK_T_WRITE_ZEROES 13
#define VIRTIO_BLK_S_OK     0
#define VIRTIO_BLK_S_IOERR  1
#define VIRTIO_BLK_S_UNSUPP 2

/* Discard / write-zeroes segment {le64 sector, le32 num_sectors, le32 flags}. */
#define SEGMENT_SIZE 16
#define SEGMENT_FLAG_UNMAP 1
#define MAX_SEGMENTS 32
#define MAX_RANGE_SECTORS 0x400000u  /* 2 GiB per segment */

#define SECTOR 512


static void build_config(const struct virtio_blk *blk, uint8_t *cfg)
{
	memset(cfg, 0, CFG_SIZE);
	put_le(cfg + CFG_CAPACITY, blk->backend->size / SECTOR, 8);
	put_le(cfg + CFG_SEG_MAX, VIRTQ_MAX_SIZE - 2, 4);  /* header and status take two */
	put_le(cfg + CFG_BLK_SIZE, SECTOR, 4);
	cfg[CFG_WRITEBACK] = blk->writeback;
	put_le(cfg + CFG_NUM_QUEUES, blk->vp.num_queues, 2);
	put_le(cfg + CFG_MAX_DISCARD_SECTORS, MAX_RANGE_SECTORS, 4);
	put_le(cfg + CFG_MAX_DISCARD_SEG, MAX_SEGMENTS, 4);
	put_le(cfg + CFG_DISCARD_SECTOR_ALIGNMENT, 4096 / SECTOR, 4);
	put_le(cfg + CFG_MAX_WRITE_ZEROES_SECTORS, MAX_RANGE_SECTORS, 4);
	put_le(cfg + CFG_MAX_WRITE_ZEROES_SEG, MAX_SEGMENTS, 4);
	cfg[CFG_WRITE_ZEROES_MAY_UNMAP] = 1;
}

static void read_config(void *opaque, unsigned offset, void *data, unsigned size)
{
	uint8_t cfg[CFG_SIZE];
	build_config(opaque, cfg);
	memcpy(data, cfg + offset, size);
}

/* Only the cache mode is writable (§5.2.4, VIRTIO_BLK_F_CONFIG_WCE). */
static void write_config(void *opaque, unsigned offset, const void *data, unsigned size)
{
	struct virtio_blk *blk = opaque;
	if (offset <= CFG_WRITEBACK && offset + size > CFG_WRITEBACK)
		blk->writeback = ((const uint8_t *)data)[CFG_WRITEBACK - offset] ? 1 : 0;
}

/* The request's data part as its own iovec array: out buffers past the
 * header for writes, in buffers before the status byte for reads. */
struct data_view {
	struct iovec iov[VIRTQ_MAX_SIZE];
	unsigned count;
	uint64_t len;
};

static void slice(struct data_view *view, const struct iovec *iov, unsigned count, uint64_t skip, uint64_t len)
{
	view->count = 0;
	view->len = len;
	for (unsigned i = 0; i < count && len; i++) {
		if (skip >= iov[i].iov_len) {
			skip -= iov[i].iov_len;
			continue;
		}
		size_t n = (size_t)MIN(iov[i].iov_len - skip, len);
		view->iov[view->count++] = (struct iovec){ (uint8_t *)iov[i].iov_base + skip, n };
		len -= n;
		skip = 0;
	}
}

/* Sector range inside the disk, without overflow. */
static bool in_range(const struct virtio_blk *blk, uint64_t sector, uint64_t bytes)
{
	uint64_t sectors = blk->backend->size / SECTOR;
	return sector <= sectors && bytes / SECTOR <= sectors - sector && bytes % SECTOR == 0;
}

static uint8_t do_rw(struct virtio_blk *blk, const struct virtq_request *req, uint64_t sector, bool write,
		     uint32_t *written)
{
	static __thread struct data_view view;
	if (write)
		slice(&view, req->iov, req->out_count, REQ_HEADER_SIZE, req->out_len - REQ_HEADER_SIZE);
	else
		slice(&view, req->iov + req->out_count, req->in_count, 0, req->in_len - 1);
	if (!in_range(blk, sector, view.len))
		return VIRTIO_BLK_S_IOERR;
	if (write && blk->backend->read_only)
		return VIRTIO_BLK_S_IOERR;
	int err = write ? block_write(blk->backend, sector * SECTOR, view.iov, view.count)
			: block_read(blk->backend, sector * SECTOR, view.iov, view.count);
	if (err < 0)
		return VIRTIO_BLK_S_IOERR;
	if (!write)
		*written += (uint32_t)view.len;
	return VIRTIO_BLK_S_OK;
}

static uint8_t do_get_id(struct virtio_blk *blk, const struct virtq_request *req, uint32_t *written)
{
	size_t n = virtq_copy_to_in(req, 0, blk->serial, MIN(sizeof(blk->serial), req->in_len - 1));
	*written += (uint32_t)n;
	return VIRTIO_BLK_S_OK;
}

/* Discard and write-zeroes carry segments in the out data (§5.2.6.2). */
static uint8_t do_ranges(struct virtio_blk *blk, const struct virtq_request *req, uint32_t type)
{
	uint64_t data_len = req->out_len - REQ_HEADER_SIZE;
	if (data_len == 0 || data_len % SEGMENT_SIZE || data_len / SEGMENT_SIZE > MAX_SEGMENTS)
		return VIRTIO_BLK_S_UNSUPP;
	if (blk->backend->read_only)
		return VIRTIO_BLK_S_IOERR;
	for (uint64_t at = REQ_HEADER_SIZE; at < req->out_len; at += SEGMENT_SIZE) {
		uint8_t seg[SEGMENT_SIZE];
		virtq_copy_from_out(req, at, seg, sizeof(seg));
		uint64_t sector = get_le64(seg), sectors = get_le32(seg + 8);
		uint32_t flags = get_le32(seg + 12);
		if (flags & ~SEGMENT_FLAG_UNMAP || (type == VIRTIO_BLK_T_DISCARD && flags))
			return VIRTIO_BLK_S_UNSUPP;  /* §5.2.6.2: unmap is for write-zeroes only */
		if (sectors > MAX_RANGE_SECTORS || !in_range(blk, sector, sectors * SECTOR))
			return VIRTIO_BLK_S_IOERR;
		int err = type == VIRTIO_BLK_T_DISCARD
			? block_discard(blk->backend, sector * SECTOR, sectors * SECTOR)
			: block_write_zeroes(blk->backend, sector * SECTOR, sectors * SECTOR, flags & SEGMENT_FLAG_UNMAP);
		if (err < 0)
			return VIRTIO_BLK_S_IOERR;
	}
	return VIRTIO_BLK_S_OK;
}

static uint8_t execute(struct virtio_blk *blk, const struct virtq_request *req, uint32_t *written)
{
	uint8_t header[REQ_HEADER_SIZE];
	if (virtq_copy_from_out(req, 0, header, sizeof(header)) != sizeof(header))
		return VIRTIO_BLK_S_IOERR;
	uint32_t type = get_le32(header);
	uint64_t sector = get_le64(header + 8);
	switch (type) {
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_OUT:
		return do_rw(blk, req, sector, type == VIRTIO_BLK_T_OUT, written);
	case VIRTIO_BLK_T_FLUSH:
		return block_flush(blk->backend) < 0 ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK;
	case VIRTIO_BLK_T_GET_ID:
		return do_get_id(blk, req, written);
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		return do_ranges(blk, req, type);
	default:
		return VIRTIO_BLK_S_UNSUPP;
	}
}

/* Every request ends in a one-byte status the device writes (§5.2.6);
 * a request without room for it cannot be answered and is returned empty. */
static uint32_t handle_request(void *opaque, unsigned queue, const struct virtq_request *req)
{
	(void)queue;
	if (req->in_len == 0)
		return 0;
	uint32_t written = 0;
	uint8_t status = execute(opaque, req, &written);
	virtq_copy_to_in(req, req->in_len - 1, &status, 1);
	return written + 1;
}

static void process_queue(void *opaque, unsigned queue)
{
	struct virtio_blk *blk = opaque;
	virtio_pci_serve_queue(&blk->vp, queue, handle_request, blk);
}

static void reset(void *opaque)
{
	((struct virtio_blk *)opaque)->writeback = 1;
}

static const struct virtio_device_ops blk_ops = {
	.process_queue = process_queue,
	.read_config = read_config,
	.write_config = write_config,
	.reset = reset,
};

int virtio_blk_init(struct virtio_blk *blk, struct block_backend *backend, const char *serial, unsigned queues,
		    GMainContext *io_context, const struct guest_mem *mem, struct irq_line intx,
		    const struct virtio_host_ops *host, void *host_opaque)
{
	uint64_t features = 1ull << VIRTIO_BLK_F_SEG_MAX | 1ull << VIRTIO_BLK_F_BLK_SIZE | 1ull << VIRTIO_BLK_F_FLUSH |
			    1ull << VIRTIO_BLK_F_CONFIG_WCE | 1ull << VIRTIO_BLK_F_MQ | 1ull << VIRTIO_BLK_F_DISCARD |
			    1ull << VIRTIO_BLK_F_WRITE_ZEROES;
	if (backend->read_only)
		features |= 1ull << VIRTIO_BLK_F_RO;
	struct virtio_pci_config config = {
		.device_id = VIRTIO_ID_BLOCK,
		.class_code = VIRTIO_BLK_CLASS,
		.features = features,
		.num_queues = queues,
		.config_size = CFG_SIZE,
		.io_context = io_context,
		.mem = mem,
		.intx = intx,
	};
	memset(blk->serial, 0, sizeof(blk->serial));
	if (serial)
		memcpy(blk->serial, serial, MIN(strlen(serial), sizeof(blk->serial)));  /* no NUL when 20 long (§5.2.6) */
	blk->backend = backend;
	blk->writeback = 1;
	return virtio_pci_init(&blk->vp, &config, &blk_ops, blk, host, host_opaque);
}

void virtio_blk_destroy(struct virtio_blk *blk)
{
	virtio_pci_destroy(&blk->vp);
}

/* --- device object (core/device.h) ----------------------------------- */

static void blk_save(void *opaque, struct state_writer *w)
{
	struct virtio_blk *blk = opaque;
	virtio_pci_save(&blk->vp, w);
	state_put_uint(w, "writeback", blk->writeback, 1);
}

static bool blk_load(void *opaque, struct state_reader *r)
{
	struct virtio_blk *blk = opaque;
	uint64_t writeback;
	if (!virtio_pci_load(&blk->vp, r) || !state_get_uint(r, "writeback", &writeback, 1))
		return false;
	blk->writeback = writeback != 0;
	return true;
}

static void blk_teardown(void *opaque)
{
	struct virtio_blk *blk = opaque;
	pci_device_unplug(&blk->vp.pci);
	virtio_blk_destroy(blk);
}

const struct device_ops virtio_blk_device_ops = {
	"virtio-blk", 1, virtio_device_reset, blk_teardown, blk_save, blk_load, pci_function_claims,
};
