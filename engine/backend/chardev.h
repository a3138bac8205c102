/* Character backends: the host side of a serial port.
 *
 * A chardev is stdio, a file (output only), a listening UNIX socket, or none.
 * Output is written synchronously from whichever thread the device runs on:
 * stdio and files take all of it (the reader sets the pace), a socket client
 * that does not keep up loses output rather than stalling the guest. A file
 * stops at CHARDEV_FILE_LIMIT bytes, so a chatty guest cannot fill the
 * host's disk: what comes after is dropped, and one last line
 * (CHARDEV_LIMIT_NOTE) says so.
 * Input is read on the I/O thread's GMainContext and handed to the device's
 * receive callback only as far as the device says it can take (can_receive),
 * so nothing typed is lost while the guest's FIFO is full; the device calls
 * chardev_accept_input() when room appears again. */
#ifndef VIREO_BACKEND_CHARDEV_H
#define VIREO_BACKEND_CHARDEV_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct chardev_receiver {
	size_t (*can_receive)(void *opaque);
	void (*receive)(void *opaque, const uint8_t *buf, size_t len);
	void *opaque;
};

#define CHARDEV_FILE_LIMIT (64ull << 20)
#define CHARDEV_LIMIT_NOTE "\n[vireo: output stops here: this file reached its size limit]\n"

struct chardev {
	int in_fd;       /* -1: no input */
	int out_fd;      /* -1: output dropped; guarded by out_lock */
	GMutex out_lock; /* out_fd and the counts below; taken after lock, never before */
	uint64_t out_limit;   /* bytes out_fd may take; 0: no limit */
	uint64_t out_written;
	bool out_stopped;     /* the limit dropped output and the note is written */
	int listen_fd;   /* UNIX socket server, or -1 */
	bool owns_fds;
	bool restore_tty; /* stdio was a terminal switched to raw mode */
	GMainContext *context;
	GSource *in_source;
	GSource *listen_source;
	struct chardev_receiver receiver;
	GMutex lock;     /* guards receiver and in_source re-arming */
	uint8_t pending[64]; /* read from in_fd but not yet taken by the device */
	size_t pending_len;
};

/* spec: "stdio", "none", "file:PATH", "unix:PATH" (a listening socket; one
 * client at a time). Returns 0, or -1 with *error set to a one-line message. */
int chardev_open(struct chardev *chr, const char *spec, GMainContext *context, char **error);

/* A chardev over existing descriptors (not closed by chardev_close). */
void chardev_open_fds(struct chardev *chr, int in_fd, int out_fd, GMainContext *context);

/* Output stops after `bytes` (a file's CHARDEV_FILE_LIMIT), with the note. */
void chardev_limit_output(struct chardev *chr, uint64_t bytes);

void chardev_close(struct chardev *chr);

void chardev_set_receiver(struct chardev *chr, const struct chardev_receiver *receiver);
void chardev_write(struct chardev *chr, const uint8_t *buf, size_t len);

/* Thread-safe: the device has room again; delivery resumes on the I/O thread. */
void chardev_accept_input(struct chardev *chr);

#endif
