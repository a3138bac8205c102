/* Shared level-triggered lines. See shared_line.h. */
#include "shared_line.h"

#include "core/trace.h"

void shared_line_init(struct shared_line *line, struct irq_line out)
{
	g_mutex_init(&line->lock);
	line->asserted = 0;
	line->out = out;
}

void shared_line_destroy(struct shared_line *line)
{
	g_mutex_clear(&line->lock);
}

/* The OR goes out under the lock: two sources changing at once on two
 * threads must not let the older level reach `out` last. */
static void set_source(void *opaque, unsigned source, bool level)
{
	struct shared_line *line = opaque;
	uint32_t bit = 1u << (source % SHARED_LINE_SOURCES);
	g_mutex_lock(&line->lock);
	line->asserted = level ? line->asserted | bit : line->asserted & ~bit;
	TRACE(TRACE_IRQ, "line %u source %u %s, sources asserting 0x%x", line->out.gsi, source,
	      level ? "high" : "low", line->asserted);
	irq_line_set(&line->out, line->asserted != 0);
	g_mutex_unlock(&line->lock);
}

uint32_t shared_line_asserted(struct shared_line *line)
{
	g_mutex_lock(&line->lock);
	uint32_t asserted = line->asserted;
	g_mutex_unlock(&line->lock);
	return asserted;
}

void shared_line_restore(struct shared_line *line, uint32_t asserted)
{
	g_mutex_lock(&line->lock);
	line->asserted = asserted;
	irq_line_set(&line->out, asserted != 0);
	g_mutex_unlock(&line->lock);
}

struct irq_line shared_line_source(struct shared_line *line, unsigned source)
{
	return (struct irq_line){ set_source, line, source };
}
