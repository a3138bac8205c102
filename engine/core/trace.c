/* The trace and the rate-limited log. See trace.h. */
#include "trace.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const class_names[TRACE_CLASS_COUNT] = {
	[TRACE_UNCLAIMED] = "unclaimed",
	[TRACE_IO] = "io",
	[TRACE_PCI] = "pci",
	[TRACE_ATA] = "ata",
	[TRACE_VIRTIO] = "virtio",
	[TRACE_IRQ] = "irq",
	[TRACE_NET] = "net",
	[TRACE_GUEST_ERROR] = "guest-error",
};

const char trace_class_list[] = "unclaimed, io, pci, ata, virtio, irq, net, guest-error";

_Atomic unsigned trace_classes;

/* Guards everything below: buckets, the output and its suppressed notes. */
static GMutex trace_lock;
static FILE *trace_out;         /* NULL: stderr */
static struct rate_limit class_limits[TRACE_CLASS_COUNT];
static struct rate_limit log_limit = { LOG_LINES_PER_SECOND, LOG_BURST, LOG_BURST, 0, 0 };
static int64_t trace_epoch_us;

void rate_limit_init(struct rate_limit *rl, unsigned rate, unsigned burst)
{
	*rl = (struct rate_limit){ rate, burst, burst, 0, 0 };
}

bool rate_limit_take(struct rate_limit *rl, int64_t now_us, uint64_t *suppressed)
{
	if (rl->last_us)
		rl->tokens += (double)(now_us - rl->last_us) * rl->rate / G_USEC_PER_SEC;
	rl->last_us = now_us;
	if (rl->tokens > rl->burst)
		rl->tokens = rl->burst;
	if (rl->tokens < 1) {
		rl->suppressed++;
		return false;
	}
	rl->tokens -= 1;
	*suppressed = rl->suppressed;
	rl->suppressed = 0;
	return true;
}

static int class_named(const char *name, size_t len)
{
	for (int c = 0; c < TRACE_CLASS_COUNT; c++)
		if (strlen(class_names[c]) == len && !strncmp(class_names[c], name, len))
			return c;
	return -1;
}

bool trace_parse_classes(const char *list, unsigned *classes, char **error)
{
	*classes = 0;
	for (const char *p = list;; p++) {
		size_t len = strcspn(p, ",");
		int c = class_named(p, len);
		if (c < 0) {
			*error = g_strdup_printf("unknown trace class \"%.*s\" (classes: %s)", (int)len, p,
						 trace_class_list);
			return false;
		}
		*classes |= 1u << c;
		p += len;
		if (!*p)
			return true;
	}
}

bool trace_start(unsigned classes, const char *path, char **error)
{
	FILE *out = NULL;
	if (path && !(out = fopen(path, "ae"))) {
		*error = g_strdup_printf("--trace-file %s: %s", path, g_strerror(errno));
		return false;
	}
	g_mutex_lock(&trace_lock);
	trace_out = out;
	trace_epoch_us = g_get_monotonic_time();
	for (int c = 0; c < TRACE_CLASS_COUNT; c++)
		rate_limit_init(&class_limits[c], TRACE_LINES_PER_SECOND, TRACE_BURST);
	atomic_store(&trace_classes, classes);
	g_mutex_unlock(&trace_lock);
	return true;
}

static FILE *output(void)
{
	return trace_out ? trace_out : stderr;
}

/* Lock held. */
static void write_suppressed(FILE *f, const char *what, uint64_t count)
{
	if (count)
		fprintf(f, "vireo-engine: %s: %llu lines suppressed\n", what, (unsigned long long)count);
}

void trace_stop(void)
{
	g_mutex_lock(&trace_lock);
	atomic_store(&trace_classes, 0);
	for (int c = 0; c < TRACE_CLASS_COUNT; c++) {
		write_suppressed(output(), class_names[c], class_limits[c].suppressed);
		class_limits[c].suppressed = 0;
	}
	if (trace_out)
		fclose(trace_out);
	trace_out = NULL;
	g_mutex_unlock(&trace_lock);
}

void trace_emit(enum trace_class c, const char *fmt, ...)
{
	int64_t now = g_get_monotonic_time();
	uint64_t suppressed;
	va_list ap;
	g_mutex_lock(&trace_lock);
	if (trace_on(c) && rate_limit_take(&class_limits[c], now, &suppressed)) {
		FILE *f = output();
		write_suppressed(f, class_names[c], suppressed);
		int64_t t = now - trace_epoch_us;
		fprintf(f, "vireo-engine: %lld.%06lld %s: ", (long long)(t / G_USEC_PER_SEC),
			(long long)(t % G_USEC_PER_SEC), class_names[c]);
		va_start(ap, fmt);
		vfprintf(f, fmt, ap);
		va_end(ap);
		fputc('\n', f);
		fflush(f);
	}
	g_mutex_unlock(&trace_lock);
}

void log_limited(const char *fmt, ...)
{
	uint64_t suppressed;
	va_list ap;
	g_mutex_lock(&trace_lock);
	if (rate_limit_take(&log_limit, g_get_monotonic_time(), &suppressed)) {
		write_suppressed(stderr, "log", suppressed);
		fputs("vireo-engine: ", stderr);
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fputc('\n', stderr);
	}
	g_mutex_unlock(&trace_lock);
}
