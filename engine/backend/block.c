/* Raw disk image files. See block.h. */
#include "block.h"

#include <errno.h>
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

void block_close(struct block_backend *blk)
{
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

static int transfer(struct block_backend *blk, uint64_t offset, const struct iovec *iov, unsigned count, bool write)
{
	struct iovec rest[IOV_MAX];
	if (count > IOV_MAX)
		return -EINVAL;
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
