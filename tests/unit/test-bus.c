/* The device bus and the checked guest-memory translation. */
#include <glib.h>

#include "core/bus.h"
#include "core/guest_mem.h"

static uint64_t echo_offset(void *opaque, uint64_t offset, unsigned size)
{
	(void)opaque, (void)size;
	return offset;
}

static void record_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
	uint64_t *last = opaque;
	last[0] = offset;
	last[1] = value;
	last[2] = size;
}

static const struct bus_ops ops = { echo_offset, record_write };

static void test_bus_dispatch(void)
{
	struct bus bus;
	uint64_t last[3] = { 0 }, value = 0;
	bus_init(&bus);
	/* Registered out of order: lookup must still find each. */
	g_assert_cmpint(bus_register(&bus, 0x3F8, 8, &ops, last), ==, 0);
	g_assert_cmpint(bus_register(&bus, 0x60, 1, &ops, last), ==, 0);
	g_assert_cmpint(bus_register(&bus, 0xCF8, 8, &ops, last), ==, 0);
	g_assert_true(bus_read(&bus, 0x3FD, &value, 1));
	g_assert_cmphex(value, ==, 5);
	uint32_t word = 0xAABBCCDD;
	g_assert_true(bus_write(&bus, 0xCFC, &word, 4));
	g_assert_cmphex(last[0], ==, 4);
	g_assert_cmphex(last[1], ==, 0xAABBCCDD);
	g_assert_cmpuint(last[2], ==, 4);
	bus_destroy(&bus);
}

static void test_bus_unclaimed_and_straddling(void)
{
	struct bus bus;
	uint64_t last[3] = { 0 };
	uint32_t value = 0;
	bus_init(&bus);
	g_assert_cmpint(bus_register(&bus, 0x70, 2, &ops, last), ==, 0);
	g_assert_false(bus_read(&bus, 0x80, &value, 4));
	g_assert_cmphex(value, ==, 0xFFFFFFFF);        /* nobody home: all ones */
	g_assert_false(bus_read(&bus, 0x71, &value, 2)); /* runs past the range's end */
	g_assert_false(bus_write(&bus, 0x6F, &value, 2));
	g_assert_cmpuint(last[2], ==, 0);
	bus_destroy(&bus);
}

static void test_bus_rejects_overlap(void)
{
	struct bus bus;
	bus_init(&bus);
	g_assert_cmpint(bus_register(&bus, 0x1000, 0x100, &ops, NULL), ==, 0);
	g_assert_cmpint(bus_register(&bus, 0x10FF, 1, &ops, NULL), <, 0);
	g_assert_cmpint(bus_register(&bus, 0xF00, 0x101, &ops, NULL), <, 0);
	g_assert_cmpint(bus_register(&bus, 0x1100, 0, &ops, NULL), <, 0);
	g_assert_cmpint(bus_register(&bus, UINT64_MAX - 1, 4, &ops, NULL), <, 0); /* wraps */
	g_assert_cmpint(bus_register(&bus, 0x1100, 1, &ops, NULL), ==, 0);
	for (unsigned i = 0; i < 100; i++) /* grows past its first allocation */
		g_assert_cmpint(bus_register(&bus, 0x100000 + i * 16, 16, &ops, NULL), ==, 0);
	bus_destroy(&bus);
}

static void test_guest_mem_checks(void)
{
	static uint8_t low[0x1000], high[0x1000];
	struct guest_mem mem = { 0 };
	g_assert_true(guest_mem_add(&mem, 0, sizeof(low), low));
	g_assert_true(guest_mem_add(&mem, 1ull << 32, sizeof(high), high));
	g_assert_false(guest_mem_add(&mem, 0x800, 0x1000, high));      /* overlaps */
	g_assert_false(guest_mem_add(&mem, UINT64_MAX, 2, high));      /* wraps */

	g_assert_true(guest_mem_ptr(&mem, 0, 0x1000) == low);
	g_assert_true(guest_mem_ptr(&mem, (1ull << 32) + 0xFFF, 1) == high + 0xFFF);
	g_assert_null(guest_mem_ptr(&mem, 0xFFF, 2));                 /* past the end */
	g_assert_null(guest_mem_ptr(&mem, 0x1000, 1));                /* the hole */
	g_assert_null(guest_mem_ptr(&mem, 0x10, 0));                  /* empty */
	g_assert_null(guest_mem_ptr(&mem, UINT64_MAX - 4, 0x10));     /* wraps to 0 */
	g_assert_null(guest_mem_ptr(&mem, 0x800, UINT64_MAX));        /* huge length */
	g_assert_null(guest_mem_ptr(&mem, 0, 0x2000));                /* spans two regions' gap */

	uint8_t buf[4] = { 1, 2, 3, 4 };
	g_assert_true(guest_mem_write(&mem, 0xFFC, buf, 4));
	g_assert_false(guest_mem_write(&mem, 0xFFE, buf, 4));
	g_assert_cmpuint(low[0xFFE], ==, 3);                          /* untouched by the refusal */
	g_assert_false(guest_mem_read(&mem, 0x5000, buf, 1));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/bus/dispatch", test_bus_dispatch);
	g_test_add_func("/bus/unclaimed-and-straddling", test_bus_unclaimed_and_straddling);
	g_test_add_func("/bus/rejects-overlap", test_bus_rejects_overlap);
	g_test_add_func("/guest-mem/checks", test_guest_mem_checks);
	return g_test_run();
}
