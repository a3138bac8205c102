/* Raw disk images, the host side of disk devices.
 *
 * Opening checks what a user can get wrong (missing file, a directory, a
 * read-only file without the ro option, an image in a format we do not
 * read, an image another engine has open) and says so in one line. An
 * open image holds an advisory lock (open file description lock: shared
 * for read-only, exclusive for read-write), so two engines never write one
 * image. I/O goes straight between the file and guest memory.
 *
 * Requests: a device that must not wait on the disk (its caller is a vCPU)
 * submits a struct block_request; one of the backend's worker threads runs
 * it and calls its `done` there. A device keeps its one request in flight
 * in a struct block_slot, which also lets a reset wait for the request and
 * drop its completion, so nothing lands in guest memory after the reset.
 *
 * Test only: VIREO_TEST_BLOCK_DELAY_MS=N makes the workers wait N ms before
 * each request (a slow disk, for tests that show nobody waits on it). */
#ifndef VIREO_BACKEND_BLOCK_H
#define VIREO_BACKEND_BLOCK_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

struct block_workers;

struct block_backend {
	int fd;
	uint64_t size;        /* bytes */
	bool read_only;
	char *path;
	struct block_workers *workers;  /* started by the first block_submit */
};

enum block_op {
	BLOCK_OP_READ,
	BLOCK_OP_WRITE,
	BLOCK_OP_FLUSH,
};

struct block_request {
	enum block_op op;
	bool fua;                       /* write: on stable storage before `done` (write, then fdatasync) */
	uint64_t offset;                /* read/write: bytes */
	const struct iovec *iov;        /* the caller's until `done` */
	unsigned count;                 /* any number: more than IOV_MAX go in turns */
	void (*done)(struct block_request *req, int result);  /* 0 or -errno, on a worker thread */
	void *opaque;
	struct block_request *next;     /* the backend's queue */
};

/* A device's request in flight, under the device's lock. */
struct block_slot {
	struct block_request req;
	bool busy;                      /* submitted, `done` not run yet */
	bool cancelled;                 /* its completion is to be dropped */
	GCond idle;
};

/* Returns 0, or -1 with *error set to one line naming the image and problem. */
int block_open(struct block_backend *blk, const char *path, bool read_only, char **error);
void block_close(struct block_backend *blk);

/* Whole-transfer I/O at a byte offset: 0, or -errno (short transfers are retried). */
int block_read(struct block_backend *blk, uint64_t offset, const struct iovec *iov, unsigned count);
int block_write(struct block_backend *blk, uint64_t offset, const struct iovec *iov, unsigned count);
int block_flush(struct block_backend *blk);
/* Runs `req` on the calling thread; returns its result (0 or -errno). */
int block_run(struct block_backend *blk, struct block_request *req);
/* Queues `req` for a worker thread. */
void block_submit(struct block_backend *blk, struct block_request *req);

void block_slot_init(struct block_slot *slot);
void block_slot_destroy(struct block_slot *slot);
/* Submits slot->req (set up by the caller) with `done` and `opaque`. */
void block_slot_submit(struct block_slot *slot, struct block_backend *blk,
		       void (*done)(struct block_request *req, int result), void *opaque);
/* In `done`, with `lock` taken: the slot is free again. false: the request
 * was cancelled and its result must be dropped. */
bool block_slot_complete(struct block_slot *slot);
/* With `lock` (the device's) held: waits until no request is in flight,
 * dropping the completion of every one that ends meanwhile (a reset), or
 * applying them (`cancel` false: a disc change waits for reads to end). */
void block_slot_wait(struct block_slot *slot, GMutex *lock, bool cancel);

/* Deallocates the range where the file system can (the image stays sparse). */
int block_discard(struct block_backend *blk, uint64_t offset, uint64_t len);
/* Zeroes the range; `may_unmap` lets it deallocate too. */
int block_write_zeroes(struct block_backend *blk, uint64_t offset, uint64_t len, bool may_unmap);

#endif
