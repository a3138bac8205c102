/* Raw disk images, the host side of disk devices.
 *
 * Opening checks what a user can get wrong (missing file, a directory, a
 * read-only file without the ro option, an image in a format we do not
 * read, an image another engine has open) and says so in one line. An
 * open image holds an advisory lock (open file description lock: shared
 * for read-only, exclusive for read-write), so two engines never write one
 * image. I/O goes straight between the file and guest memory. */
#ifndef VIREO_BACKEND_BLOCK_H
#define VIREO_BACKEND_BLOCK_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

struct block_backend {
	int fd;
	uint64_t size;        /* bytes */
	bool read_only;
	char *path;
};

/* Returns 0, or -1 with *error set to one line naming the image and problem. */
int block_open(struct block_backend *blk, const char *path, bool read_only, char **error);
void block_close(struct block_backend *blk);

/* Whole-transfer I/O at a byte offset: 0, or -errno (short transfers are retried). */
int block_read(struct block_backend *blk, uint64_t offset, const struct iovec *iov, unsigned count);
int block_write(struct block_backend *blk, uint64_t offset, const struct iovec *iov, unsigned count);
int block_flush(struct block_backend *blk);
/* Deallocates the range where the file system can (the image stays sparse). */
int block_discard(struct block_backend *blk, uint64_t offset, uint64_t len);
/* Zeroes the range; `may_unmap` lets it deallocate too. */
int block_write_zeroes(struct block_backend *blk, uint64_t offset, uint64_t len, bool may_unmap);

#endif
