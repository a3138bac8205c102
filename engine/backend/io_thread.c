/* I/O threads. See io_thread.h. */
#include "io_thread.h"

/* A flag rather than a GMainLoop: a stop requested before the thread has
 * started iterating must not be lost. */
static gpointer run(gpointer opaque)
{
	struct io_thread *t = opaque;
	g_main_context_push_thread_default(t->context);
	while (!atomic_load(&t->stop))
		g_main_context_iteration(t->context, TRUE);
	g_main_context_pop_thread_default(t->context);
	return NULL;
}

void io_thread_start(struct io_thread *t, const char *name)
{
	atomic_store(&t->stop, false);
	t->context = g_main_context_new();
	t->thread = g_thread_new(name, run, t);
}

void io_thread_stop(struct io_thread *t)
{
	if (!t->thread)
		return;
	atomic_store(&t->stop, true);
	g_main_context_wakeup(t->context);
	g_thread_join(t->thread);
	t->thread = NULL;
}

void io_thread_release(struct io_thread *t)
{
	if (t->context)
		g_main_context_unref(t->context);
	t->context = NULL;
}
