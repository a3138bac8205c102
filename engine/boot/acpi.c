/* ACPI tables (ACPI 6.4: §5.2.5 RSDP, §5.2.7/8 RSDT/XSDT, §5.2.9 FADT,
 * §5.2.10 FACS, §5.2.12 MADT, §5.2.11.1 DSDT). The FADT describes the PM
 * register block of hw/acpi_pm.c; the DSDT comes compiled (boot/dsdt.h).
 *
 * Tables are built unlinked, as the firmware's table loader wants them:
 * every pointer field holds an offset into its target blob and is listed
 * in `links`, and checksums are listed rather than computed, since they
 * change once the pointers are patched. Direct boot applies the same list
 * itself (link_at). */
#include "acpi.h"

#include <string.h>

#include "core/bytes.h"
#include "boot/layout.h"
#include "kvm/vm.h"

#define ACPI_HEADER_SIZE 36
#define ACPI_HEADER_CHECKSUM 9
#define FADT_SIZE 276
#define FADT_REVISION 6
#define FACS_SIZE 64
#define RSDP_SIZE 36
#define RSDP_V1_SIZE 20         /* the part the first checksum covers */
#define RSDP_CHECKSUM 8
#define RSDP_EXT_CHECKSUM 32

/* FADT fields (§5.2.9 table 5.9) holding addresses of other tables. */
#define FADT_FIRMWARE_CTRL   36
#define FADT_DSDT            40
#define FADT_X_FIRMWARE_CTRL 132
#define FADT_X_DSDT          140

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

/* Name (PHLO, DWordConst): NameOp, the name, DWordPrefix (§20.2.5.2, §20.2.3). */
static const uint8_t phlo_name[] = { 0x08, 'P', 'H', 'L', 'O', 0x0C };

static size_t reserve(GByteArray *blob, size_t len, size_t align)
{
	size_t old = blob->len, at = (old + align - 1) & ~(align - 1);
	g_byte_array_set_size(blob, (guint)(at + len));
	memset(blob->data + old, 0, at + len - old);
	return at;
}

static uint8_t *tables_at(struct acpi_tables *t, size_t offset)
{
	return t->blobs[ACPI_BLOB_TABLES]->data + offset;
}

/* Stores target_offset in the field and lists it for linking. */
static void add_pointer(struct acpi_tables *t, enum acpi_blob_id blob, size_t offset, uint8_t size,
			enum acpi_blob_id target, size_t target_offset)
{
	struct acpi_link link = { .kind = ACPI_LINK_POINTER, .blob = blob, .offset = (uint32_t)offset,
				  .target = target, .size = size };
	put_le(t->blobs[blob]->data + offset, target_offset, size);
	g_array_append_val(t->links, link);
}

static void add_checksum(struct acpi_tables *t, enum acpi_blob_id blob, size_t offset, size_t start, size_t length)
{
	struct acpi_link link = { .kind = ACPI_LINK_CHECKSUM, .blob = blob, .offset = (uint32_t)offset,
				  .start = (uint32_t)start, .length = (uint32_t)length };
	g_array_append_val(t->links, link);
}

/* A pointer from a table's field to another table, both in the tables blob. */
static void table_pointer(struct acpi_tables *t, size_t table, size_t field, uint8_t size, size_t target)
{
	add_pointer(t, ACPI_BLOB_TABLES, table + field, size, ACPI_BLOB_TABLES, target);
}

static size_t begin_table(struct acpi_tables *t, const char *sig, size_t len, uint8_t revision)
{
	size_t at = reserve(t->blobs[ACPI_BLOB_TABLES], len, 16);
	uint8_t *h = tables_at(t, at);
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

/* After the table's pointers: the loader patches them before summing. */
static void end_table(struct acpi_tables *t, size_t at)
{
	add_checksum(t, ACPI_BLOB_TABLES, at + ACPI_HEADER_CHECKSUM, at, get_le(tables_at(t, at) + 4, 4));
}

static void put_gas_io(uint8_t *g, uint16_t port, uint8_t bits)
{
	g[0] = GAS_SYSTEM_IO;
	g[1] = bits;
	g[2] = 0;
	g[3] = bits == 8 ? 1 : bits == 16 ? 2 : 3; /* access size: byte, word, dword */
	put_le(g + 4, port, 8);
}

/* The compiled DSDT, with the PCI hole's start patched into PHLO. */
static bool build_dsdt(struct acpi_tables *t, const struct acpi_config *cfg, size_t *at)
{
	*at = reserve(t->blobs[ACPI_BLOB_TABLES], cfg->dsdt_size, 16);
	uint8_t *d = tables_at(t, *at);
	memcpy(d, cfg->dsdt, cfg->dsdt_size);
	end_table(t, *at);
	if (!cfg->pci_hole_start)
		return true;
	uint8_t *phlo = memmem(d, cfg->dsdt_size, phlo_name, sizeof(phlo_name));
	if (!phlo || (size_t)(phlo - d) + sizeof(phlo_name) + 4 > cfg->dsdt_size)
		return false;
	put_le(phlo + sizeof(phlo_name), cfg->pci_hole_start, 4);
	return true;
}

static size_t build_facs(struct acpi_tables *t)
{
	size_t at = reserve(t->blobs[ACPI_BLOB_TABLES], FACS_SIZE, 64);
	uint8_t *f = tables_at(t, at);
	memcpy(f, "FACS", 4);
	put_le(f + 4, FACS_SIZE, 4);
	f[32] = 2; /* version */
	return at;
}

static size_t build_fadt(struct acpi_tables *t, const struct acpi_config *cfg, size_t facs, size_t dsdt)
{
	size_t at = begin_table(t, "FACP", FADT_SIZE, FADT_REVISION);
	uint8_t *f = tables_at(t, at);
	uint16_t pm = cfg->pm_base;
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
	put_gas_io(f + 148, pm, 32);
	put_gas_io(f + 172, pm + 4u, 16);
	put_gas_io(f + 208, pm + 8u, 32);
	put_gas_io(f + 220, pm + 0x20u, 32);
	table_pointer(t, at, FADT_FIRMWARE_CTRL, 4, facs);
	table_pointer(t, at, FADT_DSDT, 4, dsdt);
	table_pointer(t, at, FADT_X_FIRMWARE_CTRL, 8, facs);
	table_pointer(t, at, FADT_X_DSDT, 8, dsdt);
	end_table(t, at);
	return at;
}

static uint8_t *put_override(uint8_t *p, uint8_t irq, uint32_t gsi, uint16_t flags)
{
	p[0] = MADT_INT_OVERRIDE; p[1] = 10; p[2] = 0; p[3] = irq;
	put_le(p + 4, gsi, 4);
	put_le(p + 8, flags, 2);
	return p + 10;
}

static size_t build_madt(struct acpi_tables *t, const struct acpi_config *cfg)
{
	uint16_t level_irqs = (uint16_t)(cfg->level_irqs | 1u << cfg->sci_irq);
	size_t len = ACPI_HEADER_SIZE + 8 + cfg->ncpus * 8 + 12 + 10 + (size_t)__builtin_popcount(level_irqs) * 10 + 6;
	size_t at = begin_table(t, "APIC", len, 5);
	uint8_t *p = tables_at(t, at) + ACPI_HEADER_SIZE;
	put_le(p, PC_LAPIC_BASE, 4);
	put_le(p + 4, MADT_PCAT_COMPAT, 4);
	p += 8;
	for (unsigned i = 0; i < cfg->ncpus; i++, p += 8) {
		p[0] = MADT_LOCAL_APIC; p[1] = 8; p[2] = (uint8_t)i; p[3] = (uint8_t)i;
		put_le(p + 4, 1, 4); /* enabled */
	}
	p[0] = MADT_IO_APIC; p[1] = 12; p[2] = cfg->ioapic_id;
	put_le(p + 4, PC_IOAPIC_BASE, 4);
	put_le(p + 8, 0, 4); /* GSI base */
	p += 12;
	/* The PIT's IRQ 0 arrives on GSI 2 (kvm/vm.c routing). */
	p = put_override(p, 0, 2, 0);
	for (uint8_t irq = 0; irq < 16; irq++)
		if (level_irqs & (1u << irq))
			p = put_override(p, irq, irq, MPS_INTI_LEVEL_HIGH);
	p[0] = MADT_LOCAL_APIC_NMI; p[1] = 6; p[2] = 0xFF; /* all processors */
	put_le(p + 3, 0, 2);
	p[5] = 1; /* LINT1 */
	end_table(t, at);
	return at;
}

static size_t build_root_table(struct acpi_tables *t, const char *sig, uint8_t width,
			       const size_t *tables, unsigned count)
{
	size_t at = begin_table(t, sig, ACPI_HEADER_SIZE + count * width, 1);
	for (unsigned i = 0; i < count; i++)
		table_pointer(t, at, ACPI_HEADER_SIZE + i * width, width, tables[i]);
	end_table(t, at);
	return at;
}

static void build_rsdp(struct acpi_tables *t, size_t rsdt, size_t xsdt)
{
	size_t at = reserve(t->blobs[ACPI_BLOB_RSDP], RSDP_SIZE, ACPI_BLOB_RSDP_ALIGN);
	uint8_t *r = t->blobs[ACPI_BLOB_RSDP]->data + at;
	memcpy(r, "RSD PTR ", 8);
	memcpy(r + 9, "VIREO ", 6);
	r[15] = 2; /* ACPI 2.0+ RSDP */
	put_le(r + 20, RSDP_SIZE, 4);
	add_pointer(t, ACPI_BLOB_RSDP, at + 16, 4, ACPI_BLOB_TABLES, rsdt);
	add_pointer(t, ACPI_BLOB_RSDP, at + 24, 8, ACPI_BLOB_TABLES, xsdt);
	add_checksum(t, ACPI_BLOB_RSDP, at + RSDP_CHECKSUM, at, RSDP_V1_SIZE);
	add_checksum(t, ACPI_BLOB_RSDP, at + RSDP_EXT_CHECKSUM, at, RSDP_SIZE);
}

bool acpi_tables_build(struct acpi_tables *t, const struct acpi_config *cfg)
{
	size_t dsdt;
	for (unsigned i = 0; i < ACPI_BLOB_COUNT; i++)
		t->blobs[i] = g_byte_array_new();
	t->links = g_array_new(FALSE, TRUE, sizeof(struct acpi_link));
	if (!build_dsdt(t, cfg, &dsdt)) {
		acpi_tables_clear(t);
		return false;
	}
	size_t facs = build_facs(t);
	size_t tables[] = { build_fadt(t, cfg, facs, dsdt), build_madt(t, cfg) };
	size_t rsdt = build_root_table(t, "RSDT", 4, tables, 2);
	size_t xsdt = build_root_table(t, "XSDT", 8, tables, 2);
	build_rsdp(t, rsdt, xsdt);
	return true;
}

void acpi_tables_clear(struct acpi_tables *t)
{
	for (unsigned i = 0; i < ACPI_BLOB_COUNT; i++)
		g_byte_array_unref(t->blobs[i]);
	g_array_unref(t->links);
	memset(t, 0, sizeof(*t));
}

/* What the firmware's loader does, with each blob at base[blob]. */
static void link_at(struct acpi_tables *t, const uint64_t base[ACPI_BLOB_COUNT])
{
	for (guint i = 0; i < t->links->len; i++) {
		const struct acpi_link *l = &g_array_index(t->links, struct acpi_link, i);
		uint8_t *blob = t->blobs[l->blob]->data;
		if (l->kind == ACPI_LINK_POINTER) {
			put_le(blob + l->offset, get_le(blob + l->offset, l->size) + base[l->target], l->size);
		} else {
			blob[l->offset] = 0;
			blob[l->offset] = checksum8(blob + l->start, l->length);
		}
	}
}

uint64_t acpi_build(struct guest_mem *mem, const struct acpi_config *cfg)
{
	struct acpi_tables t;
	if (!acpi_tables_build(&t, cfg))
		return 0;
	uint64_t base[ACPI_BLOB_COUNT] = {
		[ACPI_BLOB_RSDP] = BOOT_ACPI_ADDR,
		[ACPI_BLOB_TABLES] = BOOT_ACPI_ADDR + ACPI_BLOB_TABLES_ALIGN,
	};
	GByteArray *tables = t.blobs[ACPI_BLOB_TABLES];
	bool fits = t.blobs[ACPI_BLOB_RSDP]->len <= ACPI_BLOB_TABLES_ALIGN &&
		    tables->len <= BOOT_ACPI_SIZE - ACPI_BLOB_TABLES_ALIGN;
	link_at(&t, base);
	bool ok = fits && guest_mem_write(mem, base[ACPI_BLOB_RSDP], t.blobs[ACPI_BLOB_RSDP]->data,
					  t.blobs[ACPI_BLOB_RSDP]->len) &&
		  guest_mem_write(mem, base[ACPI_BLOB_TABLES], tables->data, tables->len);
	acpi_tables_clear(&t);
	return ok ? base[ACPI_BLOB_RSDP] : 0;
}
