/* ACPI tables for direct boot (ACPI 6.4: §5.2.5 RSDP, §5.2.7/8 RSDT/XSDT,
 * §5.2.9 FADT, §5.2.10 FACS, §5.2.12 MADT, §5.2.11.1 DSDT). The FADT
 * describes the PM register block of hw/acpi_pm.c; the DSDT holds only \_S5,
 * enough for Linux to power off through SLP_TYP|SLP_EN. */
#include "acpi.h"

#include <glib.h>
#include <string.h>

#include "boot/bytes.h"
#include "boot/layout.h"
#include "kvm/vm.h"

#define ACPI_HEADER_SIZE 36
#define FADT_SIZE 276
#define FADT_REVISION 6
#define FACS_SIZE 64

/* FADT fixed feature flags (§5.2.9 table 5.10) and IA-PC boot flags (table 5.11). */
#define FADT_F_WBINVD        (1u << 0)
#define FADT_F_PROC_C1       (1u << 2)
#define FADT_F_SLP_BUTTON    (1u << 5) /* set: no fixed-feature sleep button */
#define FADT_F_RTC_S4        (1u << 7)
#define FADT_F_TMR_VAL_EXT   (1u << 8) /* 32-bit PM timer */
#define FADT_F_RESET_REG_SUP (1u << 10)
#define IAPC_LEGACY_DEVICES  (1u << 0)
#define IAPC_8042            (1u << 1)

#define GAS_SYSTEM_IO 1
#define MADT_PCAT_COMPAT 1
#define MADT_LOCAL_APIC 0
#define MADT_IO_APIC 1
#define MADT_INT_OVERRIDE 2
#define MADT_LOCAL_APIC_NMI 4
#define MPS_INTI_LEVEL_HIGH 0x000D /* active high (01), level triggered (11 << 2) */

struct table_buf {
	uint8_t data[BOOT_ACPI_SIZE];
	size_t used;
};



static size_t reserve(struct table_buf *t, size_t len, size_t align)
{
	size_t at = (t->used + align - 1) & ~(align - 1);
	t->used = at + len;
	return at;
}

static uint64_t gpa(size_t offset)
{
	return BOOT_ACPI_ADDR + offset;
}

static size_t begin_table(struct table_buf *t, const char *sig, size_t len, uint8_t revision)
{
	size_t at = reserve(t, len, 16);
	uint8_t *h = t->data + at;
	memcpy(h, sig, 4);
	put_le(h + 4, len, 4);
	h[8] = revision;
	memcpy(h + 10, "VIREO ", 6);
	memcpy(h + 16, "VIREOVM ", 8);
	put_le(h + 24, 1, 4);
	memcpy(h + 28, "VIRO", 4);
	put_le(h + 32, 1, 4);
	return at;
}

static void end_table(struct table_buf *t, size_t at)
{
	size_t len = (size_t)get_le(t->data + at + 4, 4);
	t->data[at + 9] = checksum8(t->data + at, len);
}

static void put_gas_io(uint8_t *g, uint16_t port, uint8_t bits)
{
	g[0] = GAS_SYSTEM_IO;
	g[1] = bits;
	g[2] = 0;
	g[3] = bits == 8 ? 1 : bits == 16 ? 2 : 3; /* access size: byte, word, dword */
	put_le(g + 4, port, 8);
}

/* Name (\_S5, Package (4) { 0, 0, 0, 0 }): SLP_TYP 0 is soft-off on our PM block. */
static const uint8_t dsdt_aml[] = {
	0x08, '_', 'S', '5', '_', 0x12, 0x06, 0x04, 0x00, 0x00, 0x00, 0x00,
};

static size_t build_dsdt(struct table_buf *t)
{
	size_t at = begin_table(t, "DSDT", ACPI_HEADER_SIZE + sizeof(dsdt_aml), 2);
	memcpy(t->data + at + ACPI_HEADER_SIZE, dsdt_aml, sizeof(dsdt_aml));
	end_table(t, at);
	return at;
}

static size_t build_facs(struct table_buf *t)
{
	size_t at = reserve(t, FACS_SIZE, 64);
	memcpy(t->data + at, "FACS", 4);
	put_le(t->data + at + 4, FACS_SIZE, 4);
	t->data[at + 32] = 2; /* version */
	return at;
}

static size_t build_fadt(struct table_buf *t, const struct acpi_config *cfg, size_t facs, size_t dsdt)
{
	size_t at = begin_table(t, "FACP", FADT_SIZE, FADT_REVISION);
	uint8_t *f = t->data + at;
	uint16_t pm = cfg->pm_base;
	put_le(f + 36, gpa(facs), 4);
	put_le(f + 40, gpa(dsdt), 4);
	f[45] = 1; /* preferred profile: desktop */
	put_le(f + 46, cfg->sci_irq, 2);
	/* SMI_CMD 0: no SMM; the PM block is in ACPI mode from reset (SCI_EN set). */
	put_le(f + 56, pm, 4);           /* PM1a_EVT_BLK */
	put_le(f + 64, pm + 4u, 4);      /* PM1a_CNT_BLK */
	put_le(f + 76, pm + 8u, 4);      /* PM_TMR_BLK */
	put_le(f + 80, pm + 0x20u, 4);   /* GPE0_BLK */
	f[88] = 4; f[89] = 2; f[91] = 4; f[92] = 4;
	put_le(f + 96, 101, 2);          /* C2 latency > 100: no C2 */
	put_le(f + 98, 1001, 2);         /* C3 latency > 1000: no C3 */
	f[108] = 0x32;                /* CMOS century byte */
	put_le(f + 109, IAPC_LEGACY_DEVICES | IAPC_8042, 2);
	/* PWR_BUTTON (bit 4) stays clear: the PM block has the fixed-feature button. */
	put_le(f + 112, FADT_F_WBINVD | FADT_F_PROC_C1 | FADT_F_SLP_BUTTON |
		     FADT_F_RTC_S4 | FADT_F_TMR_VAL_EXT | FADT_F_RESET_REG_SUP, 4);
	put_gas_io(f + 116, cfg->reset_port, 8);
	f[128] = cfg->reset_value;
	f[131] = 4;                   /* FADT minor version: ACPI 6.4 */
	put_le(f + 132, gpa(facs), 8);
	put_le(f + 140, gpa(dsdt), 8);
	put_gas_io(f + 148, pm, 32);
	put_gas_io(f + 172, pm + 4u, 16);
	put_gas_io(f + 208, pm + 8u, 32);
	put_gas_io(f + 220, pm + 0x20u, 32);
	end_table(t, at);
	return at;
}

static size_t build_madt(struct table_buf *t, const struct acpi_config *cfg)
{
	size_t len = ACPI_HEADER_SIZE + 8 + cfg->ncpus * 8 + 12 + 2 * 10 + 6;
	size_t at = begin_table(t, "APIC", len, 5);
	uint8_t *p = t->data + at + ACPI_HEADER_SIZE;
	put_le(p, VM_LAPIC_BASE, 4);
	put_le(p + 4, MADT_PCAT_COMPAT, 4);
	p += 8;
	for (unsigned i = 0; i < cfg->ncpus; i++, p += 8) {
		p[0] = MADT_LOCAL_APIC; p[1] = 8; p[2] = (uint8_t)i; p[3] = (uint8_t)i;
		put_le(p + 4, 1, 4); /* enabled */
	}
	p[0] = MADT_IO_APIC; p[1] = 12; p[2] = cfg->ioapic_id;
	put_le(p + 4, VM_IOAPIC_BASE, 4);
	put_le(p + 8, 0, 4); /* GSI base */
	p += 12;
	/* The PIT's IRQ 0 arrives on GSI 2 (kvm/vm.c routing). */
	p[0] = MADT_INT_OVERRIDE; p[1] = 10; p[2] = 0; p[3] = 0;
	put_le(p + 4, 2, 4);
	put_le(p + 8, 0, 2);
	p += 10;
	p[0] = MADT_INT_OVERRIDE; p[1] = 10; p[2] = 0; p[3] = cfg->sci_irq;
	put_le(p + 4, cfg->sci_irq, 4);
	put_le(p + 8, MPS_INTI_LEVEL_HIGH, 2);
	p += 10;
	p[0] = MADT_LOCAL_APIC_NMI; p[1] = 6; p[2] = 0xFF; /* all processors */
	put_le(p + 3, 0, 2);
	p[5] = 1; /* LINT1 */
	end_table(t, at);
	return at;
}

static size_t build_root_table(struct table_buf *t, const char *sig, unsigned width,
			       const size_t *tables, unsigned count)
{
	size_t at = begin_table(t, sig, ACPI_HEADER_SIZE + count * width, 1);
	for (unsigned i = 0; i < count; i++)
		put_le(t->data + at + ACPI_HEADER_SIZE + i * width, gpa(tables[i]), width);
	end_table(t, at);
	return at;
}

static void build_rsdp(struct table_buf *t, size_t rsdp, size_t rsdt, size_t xsdt)
{
	uint8_t *r = t->data + rsdp;
	memcpy(r, "RSD PTR ", 8);
	memcpy(r + 9, "VIREO ", 6);
	r[15] = 2; /* ACPI 2.0+ RSDP */
	put_le(r + 16, gpa(rsdt), 4);
	put_le(r + 20, 36, 4);
	put_le(r + 24, gpa(xsdt), 8);
	r[8] = checksum8(r, 20);
	r[32] = checksum8(r, 36);
}

uint64_t acpi_build(struct guest_mem *mem, const struct acpi_config *cfg)
{
	g_autofree struct table_buf *t = g_new0(struct table_buf, 1);
	size_t rsdp = reserve(t, 36, 16);
	size_t dsdt = build_dsdt(t);
	size_t facs = build_facs(t);
	size_t tables[] = { build_fadt(t, cfg, facs, dsdt), build_madt(t, cfg) };
	size_t rsdt = build_root_table(t, "RSDT", 4, tables, 2);
	size_t xsdt = build_root_table(t, "XSDT", 8, tables, 2);
	build_rsdp(t, rsdp, rsdt, xsdt);
	return guest_mem_write(mem, BOOT_ACPI_ADDR, t->data, t->used) ? gpa(rsdp) : 0;
}
