/* PCI configuration mechanism #1 and the i440FX host bridge, plus the reset
 * ports sharing 0xCF8's dword, driven through the port bus as a guest would. */
#include <errno.h>
#include <glib.h>

#include "bus-poke.h"
#include "core/bus.h"
#include "hw/i440fx.h"
#include "hw/pci.h"
#include "hw/reset_control.h"

struct fixture {
	struct bus pio, mmio;
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
	bus_init(&f->pio);
	bus_init(&f->mmio);
	g_assert_cmpint(pci_bus_init(&f->pci, &f->pio, &f->mmio), ==, 0);
	g_assert_cmpint(i440fx_init(&f->host, &f->pci), ==, 0);
	g_assert_cmpint(reset_control_init(&f->reset, &f->pio, &f->pci, count_reset, f), ==, 0);
	return f;
}

static void fixture_free(struct fixture *f)
{
	reset_control_destroy(&f->reset);
	pci_bus_destroy(&f->pci);
	bus_destroy(&f->pio);
	bus_destroy(&f->mmio);
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

/* A device with an I/O BAR, a 32-bit and a 64-bit memory BAR that records
 * which BAR an access reached and at which offset. */
struct bar_probe {
	unsigned bar;
	uint64_t last_offset;
	unsigned hits;
};

static uint64_t probe_read(void *opaque, uint64_t offset, unsigned size)
{
	struct bar_probe *p = opaque;
	(void)size;
	p->last_offset = offset;
	p->hits++;
	return 0xB0 + p->bar;
}

static void probe_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
	(void)value, (void)size;
	probe_read(opaque, offset, size);
}

static const struct bus_ops probe_ops = { probe_read, probe_write };

struct bar_device {
	struct pci_device pci;
	struct bar_probe probes[3];
};

static void add_bar_device(struct fixture *f, struct bar_device *d)
{
	for (unsigned i = 0; i < 3; i++)
		d->probes[i].bar = i;
	pci_device_init(&d->pci, 0x1AF4, 0x1000, 0x020000, 0);
	g_assert_cmpint(pci_device_set_bar(&d->pci, 0, PCI_BAR_IO, false, 32, &probe_ops, &d->probes[0]), ==, 0);
	g_assert_cmpint(pci_device_set_bar(&d->pci, 1, PCI_BAR_MEM32, false, 4096, &probe_ops, &d->probes[1]), ==, 0);
	g_assert_cmpint(pci_device_set_bar(&d->pci, 2, PCI_BAR_MEM64, true, 1 << 20, &probe_ops, &d->probes[2]), ==, 0);
	g_assert_cmpint(pci_device_set_bar(&d->pci, 5, PCI_BAR_MEM64, false, 4096, &probe_ops, NULL), ==, -EINVAL);
	g_assert_cmpint(pci_device_set_bar(&d->pci, 4, PCI_BAR_MEM32, false, 3000, &probe_ops, NULL), ==, -EINVAL);
	g_assert_cmpint(pci_bus_add(&f->pci, &d->pci, 3, 0), ==, 0);
}

#define DEV3 (3 << 3)

static void test_bars(void)
{
	struct fixture *f = fixture_new();
	struct bar_device d;
	add_bar_device(f, &d);
	/* Sizing as firmware does it: all ones in, the size mask and type back. */
	for (unsigned reg = 0x10; reg <= 0x1C; reg += 4)
		config_write(f, DEV3, reg, 0xFFFFFFFF, 4);
	g_assert_cmphex(config_read(f, DEV3, 0x10, 4), ==, 0xFFFFFFE1);  /* 32 bytes of I/O */
	g_assert_cmphex(config_read(f, DEV3, 0x14, 4), ==, 0xFFFFF000);  /* 4 KiB, 32-bit */
	g_assert_cmphex(config_read(f, DEV3, 0x18, 4), ==, 0xFFF0000C);  /* 1 MiB, 64-bit, prefetchable */
	g_assert_cmphex(config_read(f, DEV3, 0x1C, 4), ==, 0xFFFFFFFF);

	config_write(f, DEV3, 0x10, 0xC040, 4);
	config_write(f, DEV3, 0x14, 0xFEB00000, 4);
	config_write(f, DEV3, 0x18, 0x00000000, 4);
	config_write(f, DEV3, 0x1C, 0x00000008, 4);                      /* 0x8_0000_0000 */
	g_assert_cmphex(bus_in(&f->mmio, 0xFEB00010, 4), ==, 0xFFFFFFFF); /* decoding still off */
	config_write(f, DEV3, 0x04, PCI_COMMAND_IO | PCI_COMMAND_MEMORY, 2);
	g_assert_cmphex(bus_in(&f->pio, 0xC040 + 5, 1), ==, 0xB0);
	g_assert_cmphex(bus_in(&f->mmio, 0xFEB00010, 4), ==, 0xB1);
	g_assert_cmphex(d.probes[1].last_offset, ==, 0x10);
	g_assert_cmphex(bus_in(&f->mmio, 0x800000000ull + 0xFFFF8, 8), ==, 0xB2);
	g_assert_cmphex(d.probes[2].last_offset, ==, 0xFFFF8);

	config_write(f, DEV3, 0x14, 0xFEA00000, 4);                      /* the guest moves BAR1 */
	g_assert_cmphex(bus_in(&f->mmio, 0xFEB00010, 4), ==, 0xFFFFFFFF);
	g_assert_cmphex(bus_in(&f->mmio, 0xFEA00020, 4), ==, 0xB1);
	config_write(f, DEV3, 0x04, PCI_COMMAND_MEMORY, 2);              /* I/O decoding off */
	g_assert_cmphex(bus_in(&f->pio, 0xC040, 1), ==, 0xFF);
	config_write(f, DEV3, 0x10, 0x1FFE0, 4);                         /* beyond the 64 KiB of ports */
	config_write(f, DEV3, 0x04, PCI_COMMAND_IO | PCI_COMMAND_MEMORY, 2);
	g_assert_cmphex(bus_in(&f->pio, 0xFFE0, 1), ==, 0xFF);
	config_write(f, DEV3, 0x10, 0xFFE0, 4);                          /* the last 32 ports: fine */
	g_assert_cmphex(bus_in(&f->pio, 0xFFFF, 1), ==, 0xB0);
	config_write(f, DEV3, 0x10, 0x0CF8, 4);                          /* over the config ports: refused */
	g_assert_cmphex(config_read(f, 0, 0, 4), ==, 0x12378086u);
	fixture_free(f);
}

static void test_garbage(void)
{
	struct fixture *f = fixture_new();
	struct bar_device d;
	add_bar_device(f, &d);
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
	g_test_add_func("/pci/bars", test_bars);
	g_test_add_func("/pci/garbage", test_garbage);
	return g_test_run();
}
