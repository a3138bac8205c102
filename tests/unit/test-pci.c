/* PCI configuration mechanism #1 and the i440FX host bridge, plus the reset
 * ports sharing 0xCF8's dword, driven through the port bus as a guest would. */
#include <glib.h>

#include "bus-poke.h"
#include "hw/bus.h"
#include "hw/i440fx.h"
#include "hw/pci.h"
#include "hw/reset_control.h"

struct fixture {
	struct bus pio;
	struct pci_bus pci;
	struct i440fx host;
	struct reset_control reset;
	unsigned resets;
};

static uint64_t in(struct fixture *f, uint16_t port, unsigned size)
{
	return bus_in(&f->pio, port, size);
}

static void out(struct fixture *f, uint16_t port, uint64_t v, unsigned size)
{
	bus_out(&f->pio, port, v, size);
}

static uint32_t config_read(struct fixture *f, unsigned devfn, unsigned reg, unsigned size)
{
	out(f, 0xCF8, 0x80000000u | devfn << 8 | (reg & 0xFC), 4);
	return (uint32_t)in(f, (uint16_t)(0xCFC + (reg & 3)), size);
}

static void config_write(struct fixture *f, unsigned devfn, unsigned reg, uint32_t v, unsigned size)
{
	out(f, 0xCF8, 0x80000000u | devfn << 8 | (reg & 0xFC), 4);
	out(f, (uint16_t)(0xCFC + (reg & 3)), v, size);
}

static void count_reset(void *opaque)
{
	((struct fixture *)opaque)->resets++;
}

static struct fixture *fixture_new(void)
{
	struct fixture *f = g_new0(struct fixture, 1);
	bus_init(&f->pio, "pio");
	g_assert_cmpint(pci_bus_init(&f->pci, &f->pio), ==, 0);
	g_assert_cmpint(i440fx_init(&f->host, &f->pci), ==, 0);
	g_assert_cmpint(reset_control_init(&f->reset, &f->pio, &f->pci, count_reset, f), ==, 0);
	return f;
}

static void fixture_free(struct fixture *f)
{
	reset_control_destroy(&f->reset);
	pci_bus_destroy(&f->pci);
	bus_destroy(&f->pio);
	g_free(f);
}

static void test_host_bridge(void)
{
	struct fixture *f = fixture_new();
	out(f, 0xCF8, 0x80000000u, 4);
	g_assert_cmphex(in(f, 0xCF8, 4), ==, 0x80000000u); /* SeaBIOS/Linux type 1 probe */
	g_assert_cmphex(config_read(f, 0, 0x00, 4), ==, 0x12378086u);
	g_assert_cmphex(config_read(f, 0, 0x08, 4) >> 8, ==, 0x060000u);
	g_assert_cmphex(config_read(f, 0, 0x08, 1), ==, 0x02);
	g_assert_cmphex(config_read(f, 0, 0x2C, 4), ==, 0x11001AF4u);
	g_assert_cmphex(config_read(f, 0, 0x0E, 1), ==, 0x00);
	g_assert_cmphex(config_read(f, 0, 0x02, 2), ==, 0x1237); /* word at 0xCFE */
	g_assert_cmphex(config_read(f, 0, 0x03, 1), ==, 0x12);   /* byte at 0xCFF */
	fixture_free(f);
}

static void test_empty_and_disabled(void)
{
	struct fixture *f = fixture_new();
	g_assert_cmphex(config_read(f, 1 << 3, 0, 4), ==, 0xFFFFFFFFu);   /* slot 1 */
	g_assert_cmphex(config_read(f, 1, 0, 2), ==, 0xFFFF);             /* 00:00.1 */
	out(f, 0xCF8, 0x00000000u, 4);                                    /* enable bit clear */
	g_assert_cmphex(in(f, 0xCFC, 4), ==, 0xFFFFFFFFu);
	out(f, 0xCF8, 0x80010000u, 4);                                    /* bus 1 */
	g_assert_cmphex(in(f, 0xCFC, 4), ==, 0xFFFFFFFFu);
	fixture_free(f);
}

static void test_write_masks(void)
{
	struct fixture *f = fixture_new();
	config_write(f, 0, 0x00, 0xDEADBEEF, 4);
	g_assert_cmphex(config_read(f, 0, 0x00, 4), ==, 0x12378086u); /* IDs are read-only */
	config_write(f, 0, 0x04, 0xFFFF, 2);
	g_assert_cmphex(config_read(f, 0, 0x04, 2), ==, 0x0547);     /* only defined COMMAND bits */
	config_write(f, 0, 0x3C, 0x0B, 1);
	g_assert_cmphex(config_read(f, 0, 0x3C, 1), ==, 0x0B);
	fixture_free(f);
}

static void test_reset_ports(void)
{
	struct fixture *f = fixture_new();
	out(f, 0xCF9, 0x02, 1);
	g_assert_cmpuint(f->resets, ==, 0);
	out(f, 0xCF9, 0x06, 1);                       /* SeaBIOS and the FADT's reset value */
	g_assert_cmpuint(f->resets, ==, 1);
	out(f, 0xCF8, 0x80000000u, 4);                /* the dword still selects config space */
	g_assert_cmphex(in(f, 0xCFC, 4), ==, 0x12378086u);
	g_assert_cmphex(in(f, 0x92, 1) & 2, ==, 2);   /* A20 on */
	out(f, 0x92, 0x03, 1);
	g_assert_cmpuint(f->resets, ==, 2);
	out(f, 0x92, 0x03, 1);                        /* no new edge, no reset */
	g_assert_cmpuint(f->resets, ==, 2);
	fixture_free(f);
}

static void test_garbage(void)
{
	struct fixture *f = fixture_new();
	bus_poke_randomly(&f->pio, 0xCF0, 16, 100000, 42, NULL, NULL);
	out(f, 0xCF8, 0x80000000u, 4);
	g_assert_cmphex(in(f, 0xCFC, 4), ==, 0x12378086u);
	fixture_free(f);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/pci/host-bridge", test_host_bridge);
	g_test_add_func("/pci/empty-and-disabled", test_empty_and_disabled);
	g_test_add_func("/pci/write-masks", test_write_masks);
	g_test_add_func("/pci/reset-ports", test_reset_ports);
	g_test_add_func("/pci/garbage", test_garbage);
	return g_test_run();
}
