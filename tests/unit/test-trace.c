/* The trace: class names as --trace takes them, the token bucket, and what
 * lands in --trace-file when a guest floods it. */
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>

#include "core/trace.h"

static void test_parse_classes(void)
{
	unsigned classes = 0;
	char *error = NULL;
	g_assert_true(trace_parse_classes("unclaimed", &classes, &error));
	g_assert_cmphex(classes, ==, 1u << TRACE_UNCLAIMED);
	g_assert_true(trace_parse_classes("guest-error,pci,irq", &classes, &error));
	g_assert_cmphex(classes, ==, 1u << TRACE_GUEST_ERROR | 1u << TRACE_PCI | 1u << TRACE_IRQ);
	g_assert_false(trace_parse_classes("pci,bogus", &classes, &error));
	g_assert_nonnull(strstr(error, "\"bogus\""));
	g_clear_pointer(&error, g_free);
	g_assert_false(trace_parse_classes("pci,", &classes, &error));   /* an empty name is no class */
	g_clear_pointer(&error, g_free);
	g_assert_false(trace_parse_classes("unclaimedx", &classes, &error)); /* no prefix matching */
	g_free(error);
}

static void test_rate_limit(void)
{
	struct rate_limit rl;
	uint64_t suppressed = 99;
	rate_limit_init(&rl, 10, 3);
	int64_t t = 1000000;
	for (unsigned i = 0; i < 3; i++)
		g_assert_true(rate_limit_take(&rl, t, &suppressed));
	g_assert_cmpuint(suppressed, ==, 0);
	for (unsigned i = 0; i < 5; i++)
		g_assert_false(rate_limit_take(&rl, t, &suppressed));
	g_assert_false(rate_limit_take(&rl, t + 50000, &suppressed));   /* half a token */
	g_assert_true(rate_limit_take(&rl, t + 100000, &suppressed));   /* 0.1 s: one token */
	g_assert_cmpuint(suppressed, ==, 6);
	g_assert_true(rate_limit_take(&rl, t + 10000000, &suppressed)); /* a long pause refills to the burst only */
	g_assert_cmpuint(suppressed, ==, 0);
	g_assert_true(rate_limit_take(&rl, t + 10000000, &suppressed));
	g_assert_true(rate_limit_take(&rl, t + 10000000, &suppressed));
	g_assert_false(rate_limit_take(&rl, t + 10000000, &suppressed));
}

static unsigned count(const char *text, const char *needle)
{
	unsigned n = 0;
	for (const char *p = text; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

/* A guest flooding unclaimed accesses gets TRACE_BURST lines at once, then
 * a note of how many were dropped; classes not asked for write nothing. */
static void test_flood_to_file(void)
{
	g_autofree char *dir = g_dir_make_tmp("vireo-trace-XXXXXX", NULL);
	g_autofree char *path = g_build_filename(dir, "trace.log", NULL);
	char *error = NULL;
	g_assert_true(trace_start(1u << TRACE_UNCLAIMED, path, &error));
	g_assert_true(trace_on(TRACE_UNCLAIMED));
	g_assert_false(trace_on(TRACE_PCI));
	for (unsigned i = 0; i < 10 * TRACE_BURST; i++)
		TRACE(TRACE_UNCLAIMED, "port 0x%x read 1 byte", i);
	TRACE(TRACE_PCI, "not asked for");
	g_usleep(2 * G_USEC_PER_SEC / TRACE_LINES_PER_SECOND);  /* a token again */
	TRACE(TRACE_UNCLAIMED, "after the pause");
	trace_stop();
	g_assert_false(trace_on(TRACE_UNCLAIMED));

	g_autofree char *text = NULL;
	g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
	unsigned lines = count(text, " unclaimed: port 0x");
	g_assert_cmpuint(lines, >=, TRACE_BURST);
	g_assert_cmpuint(lines, <, 2 * TRACE_BURST);
	g_assert_nonnull(strstr(text, "unclaimed: port 0x0 read 1 byte\n"));
	g_autofree char *note = g_strdup_printf("vireo-engine: unclaimed: %u lines suppressed\n",
						10 * TRACE_BURST - lines);
	g_assert_nonnull(strstr(text, note));
	g_assert_true(strstr(text, "after the pause\n") > strstr(text, note));  /* the note comes first */
	g_assert_null(strstr(text, "not asked for"));
	g_remove(path);
	g_rmdir(dir);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/trace/parse-classes", test_parse_classes);
	g_test_add_func("/trace/rate-limit", test_rate_limit);
	g_test_add_func("/trace/flood-to-file", test_flood_to_file);
	return g_test_run();
}
