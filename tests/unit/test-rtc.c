/* The MC146818 RTC through ports 0x70/0x71: host UTC in BCD and binary,
 * 12-hour mode, setting the time, register C's flags and the IRQ line. */
#include <glib.h>
#include <time.h>

#include "bus-poke.h"
#include "hw/rtc.h"

struct fixture {
	struct bus pio;
	struct rtc rtc;
	bool irq;
};

static void record_irq(void *opaque, unsigned gsi, bool level)
{
	g_assert_cmpuint(gsi, ==, 8);
	((struct fixture *)opaque)->irq = level;
}

static uint8_t cmos_read(struct fixture *f, uint8_t index)
{
	uint8_t v = 0;
	bus_write(&f->pio, 0x70, &index, 1);
	bus_read(&f->pio, 0x71, &v, 1);
	return v;
}

static void cmos_write(struct fixture *f, uint8_t index, uint8_t value)
{
	bus_write(&f->pio, 0x70, &index, 1);
	bus_write(&f->pio, 0x71, &value, 1);
}

static struct fixture *fixture_new(void)
{
	struct fixture *f = g_new0(struct fixture, 1);
	bus_init(&f->pio);
	g_assert_cmpint(rtc_init(&f->rtc, &f->pio, (struct irq_line){ record_irq, f, 8 }, NULL), ==, 0);
	return f;
}

static void fixture_free(struct fixture *f)
{
	rtc_destroy(&f->rtc);
	bus_destroy(&f->pio);
	g_free(f);
}

static int bcd(uint8_t v)
{
	return (v >> 4) * 10 + (v & 0xF);
}

/* Reads the clock as a BIOS does (wait for UIP clear) into a time_t. */
static time_t read_clock(struct fixture *f, bool binary)
{
	while (cmos_read(f, 0x0A) & 0x80)
		;
	int (*conv)(uint8_t) = binary ? NULL : bcd;
#define R(i) (conv ? conv(cmos_read(f, i)) : cmos_read(f, i))
	struct tm tm = { .tm_sec = R(0x00), .tm_min = R(0x02), .tm_hour = R(0x04), .tm_mday = R(0x07),
			 .tm_mon = R(0x08) - 1, .tm_year = R(0x32) * 100 + R(0x09) - 1900 };
#undef R
	return timegm(&tm);
}

static void test_host_time(void)
{
	struct fixture *f = fixture_new();
	g_assert_cmphex(cmos_read(f, 0x0D), ==, 0x80);       /* valid RAM and time */
	g_assert_cmphex(cmos_read(f, 0x0B) & 0x06, ==, 0x02); /* BCD, 24-hour */
	g_assert_cmpint(labs((long)(read_clock(f, false) - time(NULL))), <=, 1);
	cmos_write(f, 0x0B, 0x06);                           /* binary */
	g_assert_cmpint(labs((long)(read_clock(f, true) - time(NULL))), <=, 1);
	fixture_free(f);
}

static void test_twelve_hour(void)
{
	struct fixture *f = fixture_new();
	cmos_write(f, 0x0B, 0x80);                           /* SET, 12-hour, BCD */
	cmos_write(f, 0x04, 0x83);                           /* 3 PM */
	g_assert_cmphex(cmos_read(f, 0x04), ==, 0x83);       /* frozen as written */
	cmos_write(f, 0x0B, 0x00);                           /* run */
	g_assert_cmphex(cmos_read(f, 0x04), ==, 0x83);
	cmos_write(f, 0x0B, 0x02);                           /* 24-hour view of the same time */
	g_assert_cmphex(cmos_read(f, 0x04), ==, 0x15);
	fixture_free(f);
}

static void test_set_time(void)
{
	struct fixture *f = fixture_new();
	cmos_write(f, 0x0B, 0x86);                           /* SET, binary, 24 h */
	cmos_write(f, 0x00, 30);
	cmos_write(f, 0x02, 15);
	cmos_write(f, 0x04, 10);
	cmos_write(f, 0x07, 1);
	cmos_write(f, 0x08, 2);
	cmos_write(f, 0x09, 3);
	cmos_write(f, 0x32, 20);                             /* 2003-02-01 10:15:30 */
	cmos_write(f, 0x0B, 0x06);
	struct tm want = { .tm_sec = 30, .tm_min = 15, .tm_hour = 10, .tm_mday = 1, .tm_mon = 1, .tm_year = 103 };
	g_assert_cmpint(labs((long)(read_clock(f, true) - timegm(&want))), <=, 1);
	cmos_write(f, 0x00, 0);                              /* ignored without SET */
	g_assert_cmpint(labs((long)(read_clock(f, true) - timegm(&want))), <=, 1);
	fixture_free(f);
}

static void test_flags_and_irq(void)
{
	struct fixture *f = fixture_new();
	struct timespec five_ms = { 0, 5 * 1000 * 1000 };
	cmos_read(f, 0x0C);                                  /* clear anything pending */
	nanosleep(&five_ms, NULL);                           /* > one 1024 Hz period */
	g_assert_cmphex(cmos_read(f, 0x0C) & 0xC0, ==, 0x40); /* PF without PIE: no IRQF */
	g_assert_false(f->irq);
	cmos_write(f, 0x0B, 0x42);                           /* PIE */
	nanosleep(&five_ms, NULL);
	uint8_t c = cmos_read(f, 0x0C);                      /* flags come due on this read */
	g_assert_cmphex(c & 0xC0, ==, 0xC0);
	g_assert_false(f->irq);                              /* and reading C dropped the line */
	g_assert_cmphex(cmos_read(f, 0x0C) & 0x80, ==, 0x00);
	cmos_write(f, 0x0A, 0x20);                           /* rate 0: no periodic flag */
	nanosleep(&five_ms, NULL);
	g_assert_cmphex(cmos_read(f, 0x0C) & 0x40, ==, 0x00);
	fixture_free(f);
}

static void test_cmos_ram_and_garbage(void)
{
	struct fixture *f = fixture_new();
	rtc_set_cmos(&f->rtc, 0x34, 0x12);
	g_assert_cmphex(cmos_read(f, 0x34), ==, 0x12);
	g_assert_cmphex(cmos_read(f, 0x80 | 0x34), ==, 0x12); /* NMI-mask bit ignored */
	cmos_write(f, 0x50, 0xAB);
	g_assert_cmphex(cmos_read(f, 0x50), ==, 0xAB);
	bus_poke_randomly(&f->pio, 0x70, 2, 100000, 8, NULL, NULL);
	fixture_free(f);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/rtc/host-time", test_host_time);
	g_test_add_func("/rtc/twelve-hour", test_twelve_hour);
	g_test_add_func("/rtc/set-time", test_set_time);
	g_test_add_func("/rtc/flags-and-irq", test_flags_and_irq);
	g_test_add_func("/rtc/cmos-ram-and-garbage", test_cmos_ram_and_garbage);
	return g_test_run();
}
