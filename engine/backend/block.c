/* Raw disk image files. See block.h. */
#include "block.h"

#include <errno.h>
#include <stdlib.h>
#include <fcntl.h>
#include <glib.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

/* Image formats we recognise to refuse them by name, by their magic bytes. */
static const struct {
	const char *name;
	const char *magic;
	unsigned len;
} image_formats[] = {
	{ "qcow2", "QFI\xfb", 4 },
	{ "VMDK", "KDMV", 4 },
	{ "VHDX", "vhdxfile", 8 },
	{ "VDI", "<<< ", 4 },
};

static const char *foreign_format(int fd)
{
	char head[8] = { 0 };
	if (pread(fd, head, sizeof(head), 0) < 0)
		return NULL;
	for (size_t i = 0; i < G_N_ELEMENTS(image_formats); i++)
		if (memcmp(head, image_formats[i].magic, image_formats[i].len) == 0)
			return image_formats[i].name;
	return NULL;
}

static int image_size(int fd, const struct stat *st, uint64_t *size)
{
	if (S_ISREG(st->st_mode)) {
		*size = (uint64_t)st->st_size;
		return 0;
	}
	return ioctl(fd, BLKGETSIZE64, size) < 0 ? -errno : 0;
}

/* An exclusive lock for writers, a shared one for readers: a read-write
 * engine excludes every other engine, read-only engines share. */
static bool take_lock(int fd, bool read_only)
{
	struct flock lock = { .l_type = read_only ? F_RDLCK : F_WRLCK, .l_whence = SEEK_SET };
	return fcntl(fd, F_OFD_SETLK, &lock) == 0;
}

static int fail(struct block_backend *blk, char **error, char *message)
{
	*error = message;
	if (blk->fd >= 0)
		close(blk->fd);
	blk->fd = -1;
	return -1;
}

int block_open(struct block_backend *blk, const char *path, bool read_only, char **error)
{
	struct stat st;
	memset(blk, 0, sizeof(*blk));
	blk->fd = open(path, (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (blk->fd < 0 && !read_only && (errno == EACCES || errno == EROFS) && access(path, R_OK) == 0)
		return fail(blk, error, g_strdup_printf("disk image %s is read-only; add ro to use it read-only", path));
	if (blk->fd < 0 && errno == EISDIR)
		return fail(blk, error, g_strdup_printf("disk image %s is a directory", path));
	if (blk->fd < 0)
		return fail(blk, error, g_strdup_printf("disk image %s: %s", path, g_strerror(errno)));
	if (fstat(blk->fd, &st) < 0 || (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)))
		return fail(blk, error, g_strdup_printf("disk image %s is not a file or block device", path));
	const char *format = foreign_format(blk->fd);
	if (format)
		return fail(blk, error, g_strdup_printf("disk image %s is in %s format; Vireo reads raw images "
							 "(convert with: qemu-img convert -O raw)", path, format));
	if (image_size(blk->fd, &st, &blk->size) < 0 || blk->size < 512)
		return fail(blk, error, g_strdup_printf("disk image %s is empty (a disk needs at least 512 bytes)", path));
	if (!take_lock(blk->fd, read_only))
		return fail(blk, error, g_strdup_printf("disk image %s is in use by another running machine", path));
	blk->read_only = read_only;
	blk->path = g_strdup(path);
	return 0;
}

static void stop_workers(struct block_backend *blk);

void block_close(struct block_backend *blk)
{
	stop_workers(blk);
	if (blk->fd >= 0)
		close(blk->fd);
	blk->fd = -1;
	g_free(blk->path);
	blk->path = NULL;
}

/* Advances an iovec array past `done` bytes, in a copy the caller owns. */
static unsigned advance(struct iovec *iov, unsigned count, size_t done)
{
	unsigned first = 0;
	while (first < count && done >= iov[first].iov_len)
		done -= iov[first++].iov_len;
	if (first < count) {
		iov[first].iov_base = (uint8_t *)iov[first].iov_base + done;
		iov[first].iov_len -= done;
	}
	memmove(iov, iov + first, (count - first) * sizeof(*iov));
	return count - first;
}

/* At most IOV_MAX iovecs. */
static int transfer_some(struct block_backend *blk, uint64_t offset, const struct iovec *iov, unsigned count,
			 bool write)
{
	struct iovec rest[IOV_MAX];
	memcpy(rest, iov, count * sizeof(*iov));
	while (count) {
		ssize_t n = write ? pwritev(blk->fd, rest, (int)count, (off_t)offset)
				  : preadv(blk->fd, rest, (int)count, (off_t)offset);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;  /* 0: past the end of the file */
		offset += (uint64_t)n;
		count = advance(rest, count, (size_t)n);
	}
	return 0;
}

static int transfer(struct block_backend *blk, uint64_t offset, const struct iovec *iov, unsigned count, bool write)
{
	while (count) {
		unsigned n = MIN(count, IOV_MAX);
		int err = transfer_some(blk, offset, iov, n, write);
		if (err < 0)
			return err;
		for (unsigned i = 0; i < n; i++)
			offset += iov[i].iov_len;
		iov += n;
		count -= n;
	}
	return 0;
}

int block_read(struct block_backend *blk, uint64_t offset, const struct iovec *iov, unsigned count)
{
	return transfer(blk, offset, iov, count, false);
}

int block_write(struct block_backend *blk, uint64_t offset, const struct iovec *iov, unsigned count)
{
	return blk->read_only ? -EROFS : transfer(blk, offset, iov, count, true);
}

int block_flush(struct block_backend *blk)
{
	return fdatasync(blk->fd) < 0 ? -errno : 0;
}

int block_discard(struct block_backend *blk, uint64_t offset, uint64_t len)
{
	if (blk->read_only)
		return -EROFS;
	/* A file system that cannot punch holes simply keeps the data: discard is a hint. */
	if (fallocate(blk->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)offset, (off_t)len) < 0 &&
	    errno != EOPNOTSUPP)
		return -errno;
	return 0;
}

static int write_zero_buffers(struct block_backend *blk, uint64_t offset, uint64_t len)
{
	static const uint8_t zeroes[64 * 1024];
	while (len) {
		size_t n = (size_t)MIN(len, sizeof(zeroes));
		struct iovec iov = { (void *)zeroes, n };
		int err = transfer(blk, offset, &iov, 1, true);
		if (err < 0)
			return err;
		offset += n;
		len -= n;
	}
	return 0;
}

int block_write_zeroes(struct block_backend *blk, uint64_t offset, uint64_t len, bool may_unmap)
{
	if (blk->read_only)
		return -EROFS;
	int mode = may_unmap ? FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE : FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE;
	if (fallocate(blk->fd, mode, (off_t)offset, (off_t)len) == 0)
		return 0;
	return errno == EOPNOTSUPP ? write_zero_buffers(blk, offset, len) : -errno;
}

/* ---- requests and their worker threads ---- */

#define BLOCK_WORKERS 2   /* a flush on one does not hold a read on the other */

struct block_workers {
	GMutex lock;
	GCond wake;
	struct block_request *head, *tail;
	bool stop;
	unsigned delay_ms;        /* VIREO_TEST_BLOCK_DELAY_MS: test only */
	struct block_backend *blk;
	GThread *threads[BLOCK_WORKERS];
};

int block_run(struct block_backend *blk, struct block_request *req)
{
	int err;
	switch (req->op) {
	case BLOCK_OP_READ:
		return block_read(blk, req->offset, req->iov, req->count);
	case BLOCK_OP_WRITE:
		err = block_write(blk, req->offset, req->iov, req->count);
		return err < 0 || !req->fua ? err : block_flush(blk);
	case BLOCK_OP_FLUSH:
		return block_flush(blk);
	}
	return -EINVAL;
}

/* Takes requests in order until told to stop with none left. */
static gpointer worker_main(gpointer opaque)
{
	struct block_workers *w = opaque;
	g_mutex_lock(&w->lock);
	for (;;) {
		while (!w->head && !w->stop)
			g_cond_wait(&w->wake, &w->lock);
		struct block_request *req = w->head;
		if (!req)
			break;
		w->head = req->next;
		if (!w->head)
			w->tail = NULL;
		g_mutex_unlock(&w->lock);
		if (w->delay_ms)
			g_usleep(w->delay_ms * G_TIME_SPAN_MILLISECOND);
		req->done(req, block_run(w->blk, req));
		g_mutex_lock(&w->lock);
	}
	g_mutex_unlock(&w->lock);
	return NULL;
}

static struct block_workers *start_workers(struct block_backend *blk)
{
	struct block_workers *w = g_new0(struct block_workers, 1);
	const char *delay = getenv("VIREO_TEST_BLOCK_DELAY_MS");
	g_mutex_init(&w->lock);
	g_cond_init(&w->wake);
	w->blk = blk;
	w->delay_ms = delay ? (unsigned)strtoul(delay, NULL, 10) : 0;
	for (unsigned i = 0; i < BLOCK_WORKERS; i++)
		w->threads[i] = g_thread_new("vireo-block", worker_main, w);
	return w;
}

/* Runs what is queued, then joins the threads. */
static void stop_workers(struct block_backend *blk)
{
	struct block_workers *w = blk->workers;
	if (!w)
		return;
	g_mutex_lock(&w->lock);
	w->stop = true;
	g_cond_broadcast(&w->wake);
	g_mutex_unlock(&w->lock);
	for (unsigned i = 0; i < BLOCK_WORKERS; i++)
		g_thread_join(w->threads[i]);
	g_mutex_clear(&w->lock);
	g_cond_clear(&w->wake);
	g_free(w);
	blk->workers = NULL;
}

/* A device submits under its own lock, from a vCPU or a worker; the
 * guard keeps the first submit of a backend safe whoever makes it. */
static GMutex workers_creation;

void block_submit(struct block_backend *blk, struct block_request *req)
{
	g_mutex_lock(&workers_creation);
	if (!blk->workers)
		blk->workers = start_workers(blk);
	struct block_workers *w = blk->workers;
	g_mutex_unlock(&workers_creation);
	g_mutex_lock(&w->lock);
	req->next = NULL;
	if (w->tail)
		w->tail->next = req;
	else
		w->head = req;
	w->tail = req;
	g_cond_signal(&w->wake);
	g_mutex_unlock(&w->lock);
}

void block_slot_init(struct block_slot *slot)
{
	memset(slot, 0, sizeof(*slot));
	g_cond_init(&slot->idle);
}

void block_slot_destroy(struct block_slot *slot)
{
	g_cond_clear(&slot->idle);
}

void block_slot_submit(struct block_slot *slot, struct block_backend *blk,
		       void (*done)(struct block_request *req, int result), void *opaque)
{
	slot->busy = true;
	slot->cancelled = false;
	slot->req.done = done;
	slot->req.opaque = opaque;
	block_submit(blk, &slot->req);
}

bool block_slot_complete(struct block_slot *slot)
{
	bool live = !slot->cancelled;
	slot->busy = false;
	slot->cancelled = false;
	g_cond_broadcast(&slot->idle);
	return live;
}

void block_slot_wait(struct block_slot *slot, GMutex *lock, bool cancel)
{
	while (slot->busy) {
		slot->cancelled = slot->cancelled || cancel;
		g_cond_wait(&slot->idle, lock);
	}
}
