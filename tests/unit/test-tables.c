/* ACPI and MP tables for direct boot, parsed the way an OS does: follow the
 * RSDP to the XSDT and RSDT, check every checksum, count the MADT's CPUs,
 * read the FADT's PM registers, find \_S5 in the DSDT; scan for the MP
 * floating pointer and walk the configuration table. */
#include <glib.h>
#include <string.h>

#include "core/pc_map.h"
#include "boot/acpi.h"
#include "boot/dsdt.h"
#include "boot/layout.h"
#include "boot/mptable.h"
#include "hw/acpi_pm.h"
#include "table-bytes.h"

#define RAM_SIZE (2u << 20)

static uint8_t *ram;
static struct guest_mem mem;

static void setup_ram(void)
{
	g_free(ram);
	ram = g_malloc0(RAM_SIZE);
	memset(&mem, 0, sizeof(mem));
	g_assert_true(guest_mem_add(&mem, 0, RAM_SIZE, ram));
}

/* A table at gpa with a valid header and checksum; returns it. */
static const uint8_t *table_at(uint64_t gpa, const char *signature)
{
	g_assert_cmphex(gpa, >=, BOOT_ACPI_ADDR);
	g_assert_cmphex(gpa, <, BOOT_ACPI_ADDR + BOOT_ACPI_SIZE);
	const uint8_t *t = ram + gpa;
	g_assert_cmpmem(t, 4, signature, 4);
	g_assert_cmpuint(sum(t, le(t + 4, 4)), ==, 0);
	return t;
}

static const uint8_t *find_in_xsdt(const uint8_t *xsdt, const char *signature)
{
	for (uint64_t off = 36; off < le(xsdt + 4, 4); off += 8) {
		const uint8_t *t = ram + le(xsdt + off, 8);
		if (!memcmp(t, signature, 4))
			return table_at(le(xsdt + off, 8), signature);
	}
	g_error("%s not in XSDT", signature);
}

static void check_acpi(unsigned ncpus)
{
	struct acpi_config cfg = { .ncpus = ncpus, .ioapic_id = (uint8_t)ncpus, .pm_base = ACPI_PM_BASE,
				   .sci_irq = PC_IRQ_SCI, .reset_port = 0xCF9, .reset_value = 6,
				   .dsdt = dsdt_direct_aml, .dsdt_size = dsdt_direct_aml_size };
	setup_ram();
	uint64_t rsdp_gpa = acpi_build(&mem, &cfg);
	g_assert_cmphex(rsdp_gpa, ==, BOOT_ACPI_ADDR); /* where Linux's legacy scan looks */
	const uint8_t *rsdp = ram + rsdp_gpa;
	g_assert_cmpmem(rsdp, 8, "RSD PTR ", 8);
	g_assert_cmpuint(sum(rsdp, 20), ==, 0);
	g_assert_cmpuint(sum(rsdp, 36), ==, 0);
	g_assert_cmpuint(rsdp[15], ==, 2);

	const uint8_t *xsdt = table_at(le(rsdp + 24, 8), "XSDT");
	const uint8_t *rsdt = table_at(le(rsdp + 16, 4), "RSDT");
	g_assert_cmpuint((le(xsdt + 4, 4) - 36) / 8, ==, (le(rsdt + 4, 4) - 36) / 4);

	const uint8_t *fadt = find_in_xsdt(xsdt, "FACP");
	g_assert_cmpuint(le(fadt + 46, 2), ==, PC_IRQ_SCI);
	g_assert_cmphex(le(fadt + 56, 4), ==, ACPI_PM_BASE);       /* PM1a_EVT_BLK */
	g_assert_cmphex(le(fadt + 64, 4), ==, ACPI_PM_BASE + 4);   /* PM1a_CNT_BLK */
	g_assert_cmphex(le(fadt + 76, 4), ==, ACPI_PM_BASE + 8);   /* PM_TMR_BLK */
	g_assert_cmphex(le(fadt + 172 + 4, 8), ==, ACPI_PM_BASE + 4); /* X_PM1a_CNT_BLK */
	g_assert_cmphex(le(fadt + 116 + 4, 8), ==, 0xCF9);          /* RESET_REG */
	g_assert_cmphex(le(fadt + 112, 4) & (1u << 4), ==, 0);     /* PWR_BUTTON clear: a fixed-feature button */
	g_assert_cmpmem(ram + le(fadt + 132, 8), 4, "FACS", 4); /* the FACS has no checksum */
	const uint8_t *dsdt = table_at(le(fadt + 140, 8), "DSDT");
	g_assert_nonnull(memmem(dsdt + 36, le(dsdt + 4, 4) - 36, "_S5_", 4));

	const uint8_t *madt = find_in_xsdt(xsdt, "APIC");
	unsigned cpus = 0, ioapics = 0, overrides = 0;
	for (uint64_t off = 44; off < le(madt + 4, 4); off += madt[off + 1]) {
		g_assert_cmpuint(madt[off + 1], >, 0);
		if (madt[off] == 0) {
			g_assert_cmpuint(madt[off + 3], ==, cpus); /* APIC ID = index */
			g_assert_cmpuint(le(madt + off + 4, 4) & 1, ==, 1);
			cpus++;
		}
		ioapics += madt[off] == 1;
		if (madt[off] == 2 && madt[off + 3] == 0) {
			g_assert_cmpuint(le(madt + off + 4, 4), ==, 2); /* IRQ0 -> GSI 2 */
			overrides++;
		}
	}
	g_assert_cmpuint(cpus, ==, ncpus);
	g_assert_cmpuint(ioapics, ==, 1);
	g_assert_cmpuint(overrides, ==, 1);
}

static void test_acpi(void)
{
	check_acpi(1);
	check_acpi(4);
	check_acpi(255);
}

static void check_mptable(unsigned ncpus)
{
	setup_ram();
	g_assert_true(mptable_build(&mem, ncpus, (uint8_t)ncpus, PC_IRQ_SCI));
	/* The OS scans 0xF0000-0xFFFFF on 16-byte boundaries for "_MP_". */
	const uint8_t *fp = NULL;
	for (uint64_t a = 0xF0000; a < 0x100000 && !fp; a += 16)
		if (!memcmp(ram + a, "_MP_", 4))
			fp = ram + a;
	g_assert_nonnull(fp);
	g_assert_cmpuint(sum(fp, 16), ==, 0);
	const uint8_t *mpc = ram + le(fp + 4, 4);
	g_assert_cmpmem(mpc, 4, "PCMP", 4);
	g_assert_cmpuint(sum(mpc, le(mpc + 4, 2)), ==, 0);
	unsigned entries = (unsigned)le(mpc + 34, 2), cpus = 0, boot = 0, irq0_pin = 0;
	const uint8_t *e = mpc + 44;
	for (unsigned i = 0; i < entries; i++) {
		if (e[0] == 0) {
			cpus++;
			boot += (e[3] & 2) != 0;
		}
		if (e[0] == 3 && e[5] == 0)
			irq0_pin = e[7];
		e += e[0] == 0 ? 20 : 8;
	}
	g_assert_cmpuint((size_t)(e - mpc), ==, le(mpc + 4, 2));
	g_assert_cmpuint(cpus, ==, ncpus);
	g_assert_cmpuint(boot, ==, 1);
	g_assert_cmpuint(irq0_pin, ==, 2);
}

static void test_mptable(void)
{
	check_mptable(1);
	check_mptable(2);
	check_mptable(255);
}

static void test_ram_too_small(void)
{
	struct acpi_config cfg = { .ncpus = 1, .pm_base = ACPI_PM_BASE, .sci_irq = PC_IRQ_SCI,
				   .dsdt = dsdt_direct_aml, .dsdt_size = dsdt_direct_aml_size };
	uint8_t small[0x1000];
	struct guest_mem tiny = { 0 };
	g_assert_true(guest_mem_add(&tiny, 0, sizeof(small), small));
	g_assert_cmphex(acpi_build(&tiny, &cfg), ==, 0);
	g_assert_false(mptable_build(&tiny, 1, 1, PC_IRQ_SCI));
}

/* A PCI hole to patch into a DSDT that has no PHLO: no tables at all. */
static void test_dsdt_without_pci_hole(void)
{
	struct acpi_config cfg = { .ncpus = 1, .pm_base = ACPI_PM_BASE, .sci_irq = PC_IRQ_SCI,
				   .dsdt = dsdt_direct_aml, .dsdt_size = dsdt_direct_aml_size,
				   .pci_hole_start = 0x80000000u };
	setup_ram();
	g_assert_cmphex(acpi_build(&mem, &cfg), ==, 0);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/tables/acpi", test_acpi);
	g_test_add_func("/tables/mptable", test_mptable);
	g_test_add_func("/tables/ram-too-small", test_ram_too_small);
	g_test_add_func("/tables/dsdt-without-pci-hole", test_dsdt_without_pci_hole);
	int ret = g_test_run();
	g_free(ram);
	return ret;
}
