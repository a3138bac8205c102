/* A thread serving one GLib main context until stopped: the engine's
 * shared I/O thread (network, GPU, RNG queues and the network backend),
 * and one per virtio disk, so a disk waiting on its file (an fdatasync)
 * holds no other device's queues. */
#ifndef VIREO_BACKEND_IO_THREAD_H
#define VIREO_BACKEND_IO_THREAD_H

#include <glib.h>
#include <stdatomic.h>
#include <stdbool.h>

struct io_thread {
	GMainContext *context;        /* NULL: never started */
	GThread *thread;
	atomic_bool stop;
};

/* A new context and its thread, `name` as the thread's. */
void io_thread_start(struct io_thread *t, const char *name);
/* Stops and joins the thread; the context stays for its sources' owners
 * to remove them, until io_thread_release. Nothing when not running. */
void io_thread_stop(struct io_thread *t);
void io_thread_release(struct io_thread *t);

#endif
