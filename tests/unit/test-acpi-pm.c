/* The ACPI PM register block through the port bus: power-off on
 * SLP_TYP(S5)|SLP_EN, write-1-to-clear status, the running PM timer, SCI. */
#include <glib.h>
#include <time.h>

#include "core/pc_map.h"
#include "hw/acpi_pm.h"
#include "bus-poke.h"
#include "core/bus.h"

#define BASE ACPI_PM_BASE

struct fixture {
	struct bus pio;
	struct acpi_pm pm;
	unsigned power_offs;
	bool sci;
};

static void record_sci(void *opaque, unsigned gsi, bool level)
{
	g_assert_cmpuint(gsi, ==, PC_IRQ_SCI);
	((struct fixture *)opaque)->sci = level;
}

static void count_power_off(void *opaque)
{
	((struct fixture *)opaque)->power_offs++;
}

static uint64_t in(struct fixture *f, uint16_t port, unsigned size)
{
	return bus_in(&f->pio, port, size);
}

static void out(struct fixture *f, uint16_t port, uint64_t v, unsigned size)
{
	bus_out(&f->pio, port, v, size);
}

static struct fixture *fixture_new(void)
{
	struct fixture *f = g_new0(struct fixture, 1);
	bus_init(&f->pio);
	struct irq_line sci = { record_sci, f, PC_IRQ_SCI };
	g_assert_cmpint(acpi_pm_init(&f->pm, &f->pio, BASE, sci, count_power_off, f), ==, 0);
	return f;
}

static void fixture_free(struct fixture *f)
{
	acpi_pm_destroy(&f->pm);
	bus_destroy(&f->pio);
	g_free(f);
}

static void test_power_off(void)
{
	struct fixture *f = fixture_new();
	g_assert_cmphex(in(f, BASE + 4, 2) & 1, ==, 1);  /* SCI_EN: ACPI mode from reset */
	out(f, BASE + 4, 1u << 10, 2);                   /* SLP_TYP 1 without SLP_EN */
	out(f, BASE + 4, (1u << 10) | (1u << 13), 2);    /* S1/S3-type sleep: not ours */
	g_assert_cmpuint(f->power_offs, ==, 0);
	out(f, BASE + 4, 1u << 13, 2);                   /* SLP_TYP 0 (\_S5) | SLP_EN, as Linux */
	g_assert_cmpuint(f->power_offs, ==, 1);
	g_assert_cmphex(in(f, BASE + 4, 2) & (1u << 13), ==, 0); /* SLP_EN reads 0 */
	out(f, BASE + 5, 0x20, 1);                       /* byte write of the high half */
	g_assert_cmpuint(f->power_offs, ==, 2);
	fixture_free(f);
}

/* A press sets PWRBTN_STS; the SCI follows only once the guest enabled the
 * event, and ends when it clears the status (ACPI 6.4 §4.8.3.1). */
static void test_power_button(void)
{
	struct fixture *f = fixture_new();
	g_assert_false(acpi_pm_press_power_button(&f->pm));   /* nobody listens yet */
	g_assert_false(f->sci);
	g_assert_cmphex(in(f, BASE, 2) & (1u << 8), ==, 1u << 8);
	out(f, BASE, 1u << 8, 2);
	out(f, BASE + 2, 1u << 8, 2);                        /* PWRBTN_EN, as Linux's ACPI does */
	g_assert_false(f->sci);
	g_assert_true(acpi_pm_press_power_button(&f->pm));
	g_assert_true(f->sci);
	g_assert_cmphex(in(f, BASE, 2) & (1u << 8), ==, 1u << 8);
	out(f, BASE, 1u << 8, 2);                            /* the guest acknowledges */
	g_assert_false(f->sci);
	acpi_pm_relocate(&f->pm, 0);                         /* a block decoding nowhere is not heard */
	g_assert_false(acpi_pm_press_power_button(&f->pm));
	fixture_free(f);
}

static void test_status_and_sci(void)
{
	struct fixture *f = fixture_new();
	f->pm.pm1_sts = 1u << 8;                         /* as a power-button press would */
	out(f, BASE + 2, 1u << 8, 2);                    /* PWRBTN_EN */
	g_assert_true(f->sci);
	g_assert_cmphex(in(f, BASE, 2), ==, 1u << 8);
	out(f, BASE, 0, 2);                              /* writing 0 clears nothing */
	g_assert_cmphex(in(f, BASE, 2), ==, 1u << 8);
	out(f, BASE, 1u << 8, 2);                        /* write 1 to clear */
	g_assert_cmphex(in(f, BASE, 2), ==, 0);
	g_assert_false(f->sci);
	fixture_free(f);
}

static void test_pm_timer(void)
{
	struct fixture *f = fixture_new();
	uint32_t t0 = (uint32_t)in(f, BASE + 8, 4);
	struct timespec ten_ms = { 0, 10 * 1000 * 1000 };
	nanosleep(&ten_ms, NULL);
	uint32_t t1 = (uint32_t)in(f, BASE + 8, 4);
	/* 3.579545 MHz: 10 ms is about 35795 ticks; allow for a slow scheduler. */
	g_assert_cmpuint(t1 - t0, >=, 35000);
	g_assert_cmpuint(t1 - t0, <, 3579545);
	out(f, BASE + 8, 0, 4);                          /* read-only */
	g_assert_cmpuint((uint32_t)in(f, BASE + 8, 4) - t0, >=, 35000);
	fixture_free(f);
}

static void test_garbage(void)
{
	struct fixture *f = fixture_new();
	bus_poke_randomly(&f->pio, BASE, ACPI_PM_SIZE + 8, 100000, 7, NULL, NULL);
	fixture_free(f);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/acpi-pm/power-off", test_power_off);
	g_test_add_func("/acpi-pm/power-button", test_power_button);
	g_test_add_func("/acpi-pm/status-and-sci", test_status_and_sci);
	g_test_add_func("/acpi-pm/pm-timer", test_pm_timer);
	g_test_add_func("/acpi-pm/garbage", test_garbage);
	return g_test_run();
}
