/* The firmware-boot chipset through PCI configuration space, as SeaBIOS
 * drives it: i440FX PAM switching the BIOS area, PIIX3 PIRQ routing of PCI
 * interrupts, PIIX4 PM placing the ACPI PM block, and random garbage in the
 * config space of all three (for the ASan run). */
#include <glib.h>
#include <string.h>

#include "bus-poke.h"
#include "hw/acpi_pm.h"
#include "hw/i440fx.h"
#include "hw/pci.h"
#include "hw/piix3.h"
#include "hw/piix4_pm.h"

#define DEVFN_ISA (1 << 3)
#define DEVFN_PM  (1 << 3 | 3)

struct fixture {
	struct bus pio, mmio;
	struct pci_bus pci;
	struct i440fx host;
	struct piix3 isa;
	struct piix4_pm pm_fn;
	struct acpi_pm pm;
	enum pam_view views[I440FX_PAM_PIECES];
	unsigned view_calls;
	bool irq[16];
	unsigned irq_calls;
};

static void record_view(void *opaque, unsigned piece, uint64_t gpa, uint64_t size, enum pam_view view)
{
	struct fixture *f = opaque;
	g_assert_cmpuint(piece, <, I440FX_PAM_PIECES);
	g_assert_cmphex(gpa, >=, I440FX_PAM_BASE);
	g_assert_cmphex(gpa + size, <=, I440FX_PAM_END);
	f->views[piece] = view;
	f->view_calls++;
}

static const struct i440fx_pam_ops recorder = { record_view };

static void record_irq(void *opaque, unsigned irq, bool level)
{
	struct fixture *f = opaque;
	g_assert_cmpuint(irq, <, 16);
	f->irq[irq] = level;
	f->irq_calls++;
}

static struct fixture *fixture_new(void)
{
	struct fixture *f = g_new0(struct fixture, 1);
	bus_init(&f->pio);
	bus_init(&f->mmio);
	g_assert_cmpint(pci_bus_init(&f->pci, &f->pio, &f->mmio), ==, 0);
	g_assert_cmpint(i440fx_init(&f->host, &f->pci), ==, 0);
	g_assert_cmpint(piix3_init(&f->isa, &f->pci, (struct irq_line){ record_irq, f, 0 }), ==, 0);
	g_assert_cmpint(acpi_pm_init(&f->pm, &f->pio, 0, (struct irq_line){ 0 }, NULL, NULL), ==, 0);
	g_assert_cmpint(piix4_pm_init(&f->pm_fn, &f->pci, &f->pm), ==, 0);
	return f;
}

static void fixture_free(struct fixture *f)
{
	acpi_pm_destroy(&f->pm);
	piix3_destroy(&f->isa);
	pci_bus_destroy(&f->pci);
	bus_destroy(&f->pio);
	bus_destroy(&f->mmio);
	g_free(f);
}

static uint32_t config_read(struct fixture *f, unsigned devfn, unsigned reg, unsigned size)
{
	bus_out(&f->pio, 0xCF8, 0x80000000u | devfn << 8 | (reg & 0xFC), 4);
	return (uint32_t)bus_in(&f->pio, 0xCFC + (reg & 3), size);
}

static void config_write(struct fixture *f, unsigned devfn, unsigned reg, uint32_t v, unsigned size)
{
	bus_out(&f->pio, 0xCF8, 0x80000000u | devfn << 8 | (reg & 0xFC), 4);
	bus_out(&f->pio, 0xCFC + (reg & 3), v, size);
}

static void test_pam_absent_in_direct_boot(void)
{
	struct fixture *f = fixture_new();
	config_write(f, 0, I440FX_PAM0, 0x33333330u, 4);
	g_assert_cmphex(config_read(f, 0, I440FX_PAM0, 1), ==, 0);  /* no PAM attached: read-only 0 */
	g_assert_cmpuint(f->view_calls, ==, 0);
	fixture_free(f);
}

/* SeaBIOS's sequence (pc-platform.md §1.1): all RAM read/write while it
 * copies itself, then read-only where it lives. */
static void test_pam_seabios_sequence(void)
{
	struct fixture *f = fixture_new();
	i440fx_attach_pam(&f->host, &recorder, f);
	g_assert_cmpuint(f->view_calls, ==, I440FX_PAM_PIECES);   /* every piece at reset: ROM */
	for (unsigned i = 0; i < I440FX_PAM_PIECES; i++)
		g_assert_cmpint(f->views[i], ==, PAM_VIEW_ROM);
	g_assert_cmphex(config_read(f, 0, 0x72, 1), ==, 0x02);   /* SMRAM reset value */
	/* Read-modify-write of the dwords holding PAM0-6, as SeaBIOS does. */
	uint32_t d0 = config_read(f, 0, 0x58, 4);
	config_write(f, 0, 0x58, (d0 & 0xFFu) | 0x30u << 8 | 0x3333u << 16, 4);
	config_write(f, 0, 0x5C, 0x33333333u, 4);
	for (unsigned i = 0; i < I440FX_PAM_PIECES; i++)
		g_assert_cmpint(f->views[i], ==, PAM_VIEW_RAM);
	g_assert_cmphex(config_read(f, 0, I440FX_PAM0, 1), ==, 0x30);
	unsigned calls = f->view_calls;
	config_write(f, 0, 0x5C, 0x33333333u, 4);                 /* no change, no remapping */
	g_assert_cmpuint(f->view_calls, ==, calls);
	config_write(f, 0, I440FX_PAM0, 0x10, 1);                 /* F segment read-only */
	config_write(f, 0, I440FX_PAM0 + 1, 0x31, 1);             /* 0xC0000 read-only, 0xC4000 RAM */
	g_assert_cmpint(f->views[0], ==, PAM_VIEW_RAM_READ_ONLY);
	g_assert_cmpint(f->views[1], ==, PAM_VIEW_RAM_READ_ONLY);
	g_assert_cmpint(f->views[2], ==, PAM_VIEW_RAM);
	config_write(f, 0, I440FX_PAM0 + 6, 0x02, 1);             /* write-only: shown as ROM */
	g_assert_cmpint(f->views[11], ==, PAM_VIEW_ROM);
	config_write(f, 0, I440FX_PAM0, 0xFF, 1);                 /* reserved bits stay clear */
	g_assert_cmphex(config_read(f, 0, I440FX_PAM0, 1), ==, 0x30);
	fixture_free(f);
}

static void test_piix3_identity_and_routing(void)
{
	struct fixture *f = fixture_new();
	g_assert_cmphex(config_read(f, DEVFN_ISA, 0, 4), ==, 0x70008086u);
	g_assert_cmphex(config_read(f, DEVFN_ISA, 0x0E, 1), ==, 0x80);          /* multifunction */
	g_assert_cmphex(config_read(f, DEVFN_ISA, 0x08, 4) >> 8, ==, 0x060100u);
	g_assert_cmphex(config_read(f, DEVFN_ISA, 0x60, 4), ==, 0x80808080u);    /* all routes off */
	struct irq_line slot3 = piix3_intx_line(&f->isa, 3);  /* slot 3 pin A: PIRQC */
	struct irq_line slot4 = piix3_intx_line(&f->isa, 4);  /* slot 4 pin A: PIRQD */
	irq_line_set(&slot3, true);
	g_assert_cmpuint(f->irq_calls, ==, 0);                 /* not routed yet */
	config_write(f, DEVFN_ISA, 0x60, 0x0B0B0A0Au, 4);      /* SeaBIOS: 10, 10, 11, 11 */
	g_assert_true(f->irq[11]);                             /* the pending level appears */
	irq_line_set(&slot4, true);
	irq_line_set(&slot3, false);
	g_assert_true(f->irq[11]);                             /* still held by PIRQD */
	irq_line_set(&slot4, false);
	g_assert_false(f->irq[11]);
	irq_line_set(&slot3, true);
	config_write(f, DEVFN_ISA, 0x62, 0x85, 1);             /* PIRQC masked: IRQ 11 drops */
	g_assert_false(f->irq[11]);
	config_write(f, DEVFN_ISA, 0x62, 0x05, 1);
	g_assert_true(f->irq[5]);
	unsigned calls = f->irq_calls;
	config_write(f, DEVFN_ISA, 0x62, 0x02, 1);             /* reserved IRQ 2: treated as masked */
	g_assert_false(f->irq[5]);
	g_assert_false(f->irq[2]);
	config_write(f, DEVFN_ISA, 0x62, 0x00, 1);             /* IRQ 0 (the PIT): never driven */
	g_assert_false(f->irq[0]);
	g_assert_cmpuint(f->irq_calls, ==, calls + 1);
	fixture_free(f);
}

static void test_piix4_pm_places_pm_block(void)
{
	struct fixture *f = fixture_new();
	g_assert_cmphex(config_read(f, DEVFN_PM, 0, 4), ==, 0x71138086u);
	g_assert_cmphex(config_read(f, DEVFN_PM, 0x5B, 1) & 0x02, ==, 0x02);     /* APMC_EN: no SMM handshake */
	g_assert_cmphex(config_read(f, DEVFN_PM, 0x3C, 1), ==, 9);              /* SCI */
	g_assert_cmphex(bus_in(&f->pio, 0xB008, 4), ==, 0xFFFFFFFFu);           /* nothing decoded yet */
	config_write(f, DEVFN_PM, 0x40, 0xB000 | 1, 4);                          /* SeaBIOS: PMBA, */
	g_assert_cmphex(bus_in(&f->pio, 0xB008, 4), ==, 0xFFFFFFFFu);           /* off until PMIOSE */
	config_write(f, DEVFN_PM, 0x80, 0x01, 1);
	g_assert_cmphex(config_read(f, DEVFN_PM, 0x40, 4), ==, 0xB001u);
	uint32_t t0 = (uint32_t)bus_in(&f->pio, 0xB008, 4);
	g_usleep(2000);
	uint32_t t1 = (uint32_t)bus_in(&f->pio, 0xB008, 4);
	g_assert_cmpuint(t1 - t0, >=, 3579545u / 1000);                          /* >= 1 ms of PM timer */
	g_assert_cmpuint(t1 - t0, <, 3579545u);
	config_write(f, DEVFN_PM, 0x40, 0x600 | 1, 4);                           /* moved */
	g_assert_cmphex(bus_in(&f->pio, 0xB008, 4), ==, 0xFFFFFFFFu);
	g_assert_cmphex(bus_in(&f->pio, 0x604, 2) & 1, ==, 1);                  /* PM1_CNT.SCI_EN */
	config_write(f, DEVFN_PM, 0x40, 0xCC0 | 1, 4);                           /* over 0xCF8: refused, off */
	g_assert_cmphex(bus_in(&f->pio, 0x604, 2), ==, 0xFFFF);
	g_assert_cmphex(config_read(f, 0, 0, 4), ==, 0x12378086u);               /* config space still works */
	config_write(f, DEVFN_PM, 0x80, 0x00, 1);
	config_write(f, DEVFN_PM, 0x40, 0x600 | 1, 4);
	g_assert_cmphex(bus_in(&f->pio, 0x604, 2), ==, 0xFFFF);
	fixture_free(f);
}

static void test_garbage(void)
{
	struct fixture *f = fixture_new();
	i440fx_attach_pam(&f->host, &recorder, f);
	struct irq_line lines[4];
	for (unsigned i = 0; i < 4; i++)
		lines[i] = piix3_intx_line(&f->isa, i + 2);
	GRand *rng = g_rand_new_with_seed(0xC0FFEE);
	static const unsigned devfns[] = { 0, DEVFN_ISA, DEVFN_PM };
	for (unsigned round = 0; round < 50000; round++) {
		unsigned devfn = devfns[g_rand_int_range(rng, 0, 3)];
		unsigned size = 1u << g_rand_int_range(rng, 0, 3);
		unsigned reg = (unsigned)g_rand_int_range(rng, 0, 256) & ~(size - 1);
		config_write(f, devfn, reg, g_rand_int(rng), size);
		irq_line_set(&lines[round % 4], g_rand_boolean(rng));
		if (round % 64 == 0)
			bus_poke_randomly(&f->pio, 0, 0x10000, 16, round, NULL, NULL);  /* wherever the PM block went */
	}
	g_rand_free(rng);
	g_assert_cmphex(config_read(f, 0, 0, 4), ==, 0x12378086u);
	g_assert_cmphex(config_read(f, DEVFN_ISA, 0, 4), ==, 0x70008086u);
	g_assert_cmphex(config_read(f, DEVFN_PM, 0, 4), ==, 0x71138086u);
	fixture_free(f);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/chipset/pam-absent-in-direct-boot", test_pam_absent_in_direct_boot);
	g_test_add_func("/chipset/pam-seabios-sequence", test_pam_seabios_sequence);
	g_test_add_func("/chipset/piix3-identity-and-routing", test_piix3_identity_and_routing);
	g_test_add_func("/chipset/piix4-pm-places-pm-block", test_piix4_pm_places_pm_block);
	g_test_add_func("/chipset/garbage", test_garbage);
	return g_test_run();
}
