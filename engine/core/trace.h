/* The engine's trace and its rate-limited log.
 *
 * --trace CLASS[,CLASS] turns classes on; each line is one event, written
 * to stderr or --trace-file. Messages a guest can cause at will (unclaimed
 * accesses, bad descriptors, libslirp's guest errors) must never flood the
 * host, so every class has a token bucket: TRACE_BURST lines at once, then
 * TRACE_LINES_PER_SECOND, and a "N lines suppressed" note when it lets
 * lines through again. log_limited() is the always-on log for run-time
 * failures and guest errors the user should see without a trace; it has a
 * smaller bucket of its own and always writes to stderr.
 *
 * Any thread may trace; lines are written whole. */
#ifndef VIREO_CORE_TRACE_H
#define VIREO_CORE_TRACE_H

#include <glib.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

enum trace_class {
	TRACE_UNCLAIMED,   /* port and MMIO accesses no device claims */
	TRACE_IO,          /* every claimed port and MMIO access, with its owner */
	TRACE_PCI,         /* configuration space writes, BAR moves */
	TRACE_ATA,         /* ATA and ATAPI commands */
	TRACE_VIRTIO,      /* virtio device status and queue set-up */
	TRACE_IRQ,         /* interrupt line levels and MSI routes */
	TRACE_NET,         /* libslirp's debug messages */
	TRACE_GUEST_ERROR, /* what a guest asked that a device refused */
	TRACE_CLASS_COUNT,
};

#define TRACE_LINES_PER_SECOND 200
#define TRACE_BURST 200
#define LOG_LINES_PER_SECOND 5
#define LOG_BURST 20

/* The class names --trace takes, comma-separated, as one string for --help. */
extern const char trace_class_list[];

/* "unclaimed,pci" into a bit mask (bit = enum trace_class). False with
 * *error set to one line naming the unknown class. */
bool trace_parse_classes(const char *list, unsigned *classes, char **error);

/* Turns `classes` on, writing to `path` (NULL: stderr, appended to
 * otherwise). False with *error set when the file cannot be opened. */
bool trace_start(unsigned classes, const char *path, char **error);
/* Writes pending "suppressed" notes, turns tracing off, closes the file. */
void trace_stop(void);

extern _Atomic unsigned trace_classes;

static inline bool trace_on(enum trace_class c)
{
	return atomic_load_explicit(&trace_classes, memory_order_relaxed) & (1u << c);
}

/* One line of class c (no trailing newline), if c is on and its bucket
 * has a token. Use TRACE() so that arguments cost nothing when c is off. */
void trace_emit(enum trace_class c, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

#define TRACE(c, ...) do { if (trace_on(c)) trace_emit((c), __VA_ARGS__); } while (0)

/* One always-on line to stderr, rate-limited. */
void log_limited(const char *fmt, ...) G_GNUC_PRINTF(1, 2);

/* A token bucket: `rate` tokens a second up to `burst`. take() spends one
 * and returns true, or counts the line as suppressed; *suppressed gets the
 * count of lines suppressed since the last line let through (then reset). */
struct rate_limit {
	unsigned rate, burst;
	double tokens;
	int64_t last_us;
	uint64_t suppressed;
};

void rate_limit_init(struct rate_limit *rl, unsigned rate, unsigned burst);
bool rate_limit_take(struct rate_limit *rl, int64_t now_us, uint64_t *suppressed);

#endif
