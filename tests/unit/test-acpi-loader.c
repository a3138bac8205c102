/* The firmware board's ACPI tables as SeaBIOS gets them: the files are read
 * through the fw_cfg ports (directory, then data), etc/table-loader is run
 * the way a firmware runs it (ALLOCATE into pretend RAM, ADD_POINTER,
 * ADD_CHECKSUM), and the result is walked the way an OS walks it: RSDP,
 * RSDT and XSDT, FADT with FACS and DSDT, MADT. Then the tables meet the
 * hardware they describe: PIIX4 PM programmed as SeaBIOS programs it puts
 * the PM block where the FADT says, the power button raises the FADT's SCI,
 * and writing the DSDT's \_S5 with SLP_EN powers off. Every table but the
 * RSDP (which iasl does not take alone) must disassemble with `iasl -d`,
 * and the DSDT must run in ACPICA's acpiexec: _PRT's 128 entries, the root
 * bridge's memory window, an interrupt link set, read back and disabled
 * (both tools from acpica-tools, installed by setup.sh). */
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>

#include "core/pc_map.h"
#include "boot/acpi_loader.h"
#include "bus-poke.h"
#include "firmware_board.h"
#include "hw/acpi_pm.h"
#include "hw/fw_cfg.h"
#include "hw/pci.h"
#include "hw/piix4_pm.h"
#include "hw/reset_control.h"
#include "table-bytes.h"

#define MEM_SIZE (16u << 20)      /* the pretend firmware RAM: addresses are offsets in it */
#define HIGH_TOP MEM_SIZE         /* ZONE_HIGH allocates downwards from here */
#define FSEG_START 0xF0000u       /* ZONE_FSEG allocates upwards from here */
#define FSEG_END 0x100000u
#define LOW_RAM (256u << 20)      /* the machine's end of low RAM: the PCI hole's start */
#define MAX_FILES 4
#define FADT_PM1A_EVT 56
#define FADT_PM1A_CNT 64
#define FADT_PM_TMR 76
#define FADT_SCI_INT 46
#define SLP_EN (1u << 13)
#define PWRBTN (1u << 8)
#define PIIX4_PM_DEVFN (PIIX4_PM_SLOT << 3 | PIIX4_PM_FUNCTION)
#define SEABIOS_PM_BASE 0x600     /* SeaBIOS's pm_base once etc/table-loader exists */

struct loaded_file {
	char name[ACPI_LOADER_NAME_SIZE];
	uint32_t addr, size;
};

struct firmware {
	struct bus pio;
	struct guest_mem no_dma;      /* fw_cfg DMA is not used here */
	struct fw_cfg cfg;
	uint8_t *mem;
	uint32_t high, fseg;          /* next free address of each zone */
	struct loaded_file files[MAX_FILES];
	unsigned nfiles;
};

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void read_item(struct firmware *fw, uint16_t key, uint8_t *dst, size_t len)
{
	bus_out(&fw->pio, FW_CFG_PORT_SELECTOR, key, 2);
	for (size_t i = 0; i < len; i++)
		dst[i] = (uint8_t)bus_in(&fw->pio, FW_CFG_PORT_DATA, 1);
}

/* A file's key and size from the fw_cfg directory, as SeaBIOS finds it. */
static bool find_file(struct firmware *fw, const char *name, uint16_t *key, uint32_t *size)
{
	uint8_t count[4], entry[64];
	bus_out(&fw->pio, FW_CFG_PORT_SELECTOR, FW_CFG_FILE_DIR, 2);
	for (unsigned i = 0; i < 4; i++)
		count[i] = (uint8_t)bus_in(&fw->pio, FW_CFG_PORT_DATA, 1);
	for (uint32_t i = 0; i < be32(count); i++) {
		for (unsigned j = 0; j < sizeof(entry); j++)
			entry[j] = (uint8_t)bus_in(&fw->pio, FW_CFG_PORT_DATA, 1);
		if (!strncmp((const char *)entry + 8, name, FW_CFG_FILE_NAME_SIZE)) {
			*size = be32(entry);
			*key = (uint16_t)(entry[4] << 8 | entry[5]);
			return true;
		}
	}
	return false;
}

static struct loaded_file *loaded(struct firmware *fw, const char *name)
{
	for (unsigned i = 0; i < fw->nfiles; i++)
		if (!strcmp(fw->files[i].name, name))
			return &fw->files[i];
	g_error("loader names %s before allocating it", name);
}

/* The file a command's name field names (NUL-terminated within 56 bytes). */
static struct loaded_file *named(struct firmware *fw, const uint8_t *field)
{
	g_assert_cmpuint(field[ACPI_LOADER_NAME_SIZE - 1], ==, 0);
	return loaded(fw, (const char *)field);
}

static void allocate(struct firmware *fw, const uint8_t *e)
{
	struct loaded_file *file = &fw->files[fw->nfiles++];
	uint32_t align = (uint32_t)le(e + 4 + ACPI_LOADER_NAME_SIZE, 4);
	uint8_t zone = e[8 + ACPI_LOADER_NAME_SIZE];
	uint16_t key;
	g_assert_cmpuint(fw->nfiles, <=, MAX_FILES);
	g_assert_cmpuint(e[4 + ACPI_LOADER_NAME_SIZE - 1], ==, 0);
	memcpy(file->name, e + 4, ACPI_LOADER_NAME_SIZE);
	g_assert_true(find_file(fw, file->name, &key, &file->size));
	g_assert_cmpuint(align & (align - 1), ==, 0);
	if (zone == ACPI_LOADER_ZONE_FSEG) {
		file->addr = (fw->fseg + align - 1) & ~(align - 1);
		fw->fseg = file->addr + file->size;
		g_assert_cmpuint(fw->fseg, <=, FSEG_END);
	} else {
		g_assert_cmpuint(zone, ==, ACPI_LOADER_ZONE_HIGH);
		file->addr = (fw->high - file->size) & ~(align - 1);
		fw->high = file->addr;
	}
	read_item(fw, key, fw->mem + file->addr, file->size);
}

static void add_pointer(struct firmware *fw, const uint8_t *e)
{
	struct loaded_file *dst = named(fw, e + 4), *src = named(fw, e + 4 + ACPI_LOADER_NAME_SIZE);
	uint32_t offset = (uint32_t)le(e + 4 + 2 * ACPI_LOADER_NAME_SIZE, 4);
	uint8_t size = e[8 + 2 * ACPI_LOADER_NAME_SIZE];
	g_assert_true(size == 1 || size == 2 || size == 4 || size == 8);
	g_assert_cmpuint((uint64_t)offset + size, <=, dst->size);
	uint8_t *field = fw->mem + dst->addr + offset;
	uint64_t value = le(field, size) + src->addr;
	for (unsigned i = 0; i < size; i++)
		field[i] = (uint8_t)(value >> (8 * i));
}

static void add_checksum(struct firmware *fw, const uint8_t *e)
{
	struct loaded_file *file = named(fw, e + 4);
	uint32_t result = (uint32_t)le(e + 4 + ACPI_LOADER_NAME_SIZE, 4);
	uint32_t start = (uint32_t)le(e + 8 + ACPI_LOADER_NAME_SIZE, 4);
	uint32_t length = (uint32_t)le(e + 12 + ACPI_LOADER_NAME_SIZE, 4);
	g_assert_cmpuint(result, <, file->size);
	g_assert_cmpuint((uint64_t)start + length, <=, file->size);
	uint8_t *data = fw->mem + file->addr;
	data[result] = (uint8_t)(data[result] - sum(data + start, length));
}

/* Reads etc/table-loader and runs it; returns the RSDP's address. */
static uint32_t run_table_loader(struct firmware *fw)
{
	uint16_t key;
	uint32_t size;
	g_assert_true(find_file(fw, ACPI_LOADER_FILE, &key, &size));
	g_assert_cmpuint(size % ACPI_LOADER_ENTRY_SIZE, ==, 0);
	g_autofree uint8_t *script = g_malloc(size);
	read_item(fw, key, script, size);
	for (uint32_t at = 0; at < size; at += ACPI_LOADER_ENTRY_SIZE) {
		const uint8_t *e = script + at;
		switch (le(e, 4)) {
		case ACPI_LOADER_ALLOCATE: allocate(fw, e); break;
		case ACPI_LOADER_ADD_POINTER: add_pointer(fw, e); break;
		case ACPI_LOADER_ADD_CHECKSUM: add_checksum(fw, e); break;
		default: g_error("unknown loader command %u", (unsigned)le(e, 4));
		}
	}
	return loaded(fw, ACPI_LOADER_RSDP_FILE)->addr;
}

static struct acpi_config machine(unsigned ncpus)
{
	return (struct acpi_config){ .ncpus = ncpus, .ioapic_id = (uint8_t)ncpus, .pm_base = ACPI_PM_BASE,
				     .sci_irq = PC_IRQ_SCI, .reset_port = RESET_CONTROL_PORT,
				     .reset_value = RESET_CONTROL_RESET_VALUE };
}

static struct firmware *firmware_new(unsigned ncpus)
{
	struct firmware *fw = g_new0(struct firmware, 1);
	bus_init(&fw->pio);
	fw->mem = g_malloc0(MEM_SIZE);
	fw->high = HIGH_TOP;
	fw->fseg = FSEG_START;
	g_assert_cmpint(fw_cfg_init(&fw->cfg, &fw->pio, &fw->no_dma), ==, 0);
	struct acpi_config m = machine(ncpus);
	g_assert_cmpint(firmware_board_publish_acpi(&fw->cfg, &m, LOW_RAM), ==, 0);
	return fw;
}

static void firmware_free(struct firmware *fw)
{
	fw_cfg_destroy(&fw->cfg);
	bus_destroy(&fw->pio);
	g_free(fw->mem);
	g_free(fw);
}

/* A table at addr with its signature, a sane length and a zero sum. */
static const uint8_t *table_at(struct firmware *fw, uint64_t addr, const char *signature)
{
	g_assert_cmphex(addr, <, MEM_SIZE - 36);
	const uint8_t *t = fw->mem + addr;
	g_assert_cmpmem(t, 4, signature, 4);
	g_assert_cmpuint(le(t + 4, 4), >=, 36);
	g_assert_cmpuint(addr + le(t + 4, 4), <=, MEM_SIZE);
	g_assert_cmpuint(sum(t, le(t + 4, 4)), ==, 0);
	return t;
}

struct walked {
	const uint8_t *rsdp, *rsdt, *xsdt, *fadt, *facs, *dsdt, *madt;
};

/* From the RSDP (which must be in the F segment, where OSes look) to every
 * table, through both the RSDT and the XSDT. */
static struct walked walk(struct firmware *fw, uint32_t rsdp_addr)
{
	struct walked w = { .rsdp = fw->mem + rsdp_addr };
	g_assert_cmphex(rsdp_addr, >=, 0xE0000);
	g_assert_cmphex(rsdp_addr % 16, ==, 0);
	g_assert_cmpmem(w.rsdp, 8, "RSD PTR ", 8);
	g_assert_cmpuint(sum(w.rsdp, 20), ==, 0);
	g_assert_cmpuint(sum(w.rsdp, le(w.rsdp + 20, 4)), ==, 0);
	w.rsdt = table_at(fw, le(w.rsdp + 16, 4), "RSDT");
	w.xsdt = table_at(fw, le(w.rsdp + 24, 8), "XSDT");
	unsigned n = (unsigned)(le(w.xsdt + 4, 4) - 36) / 8;
	g_assert_cmpuint(n, ==, (le(w.rsdt + 4, 4) - 36) / 4);
	for (unsigned i = 0; i < n; i++) {
		uint64_t addr = le(w.xsdt + 36 + 8 * i, 8);
		g_assert_cmphex(addr, ==, le(w.rsdt + 36 + 4 * i, 4));
		const uint8_t *t = fw->mem + addr;
		if (!memcmp(t, "FACP", 4))
			w.fadt = table_at(fw, addr, "FACP");
		else
			w.madt = table_at(fw, addr, "APIC");
	}
	g_assert_nonnull(w.fadt);
	g_assert_nonnull(w.madt);
	uint64_t facs = le(w.fadt + 132, 8), dsdt = le(w.fadt + 140, 8);
	g_assert_cmphex(facs, ==, le(w.fadt + 36, 4));
	g_assert_cmphex(dsdt, ==, le(w.fadt + 40, 4));
	g_assert_cmphex(facs % 64, ==, 0);
	w.facs = fw->mem + facs;
	g_assert_cmpmem(w.facs, 4, "FACS", 4);
	w.dsdt = table_at(fw, dsdt, "DSDT");
	return w;
}

/* One enabled local APIC per vCPU (APIC ID = index), the IOAPIC, IRQ 0 on
 * GSI 2 and IRQs 5, 9, 10 and 11 level triggered, active high. */
static void check_madt(const uint8_t *madt, unsigned ncpus)
{
	unsigned cpus = 0, ioapics = 0;
	uint16_t level = 0;
	bool irq0 = false;
	for (uint64_t off = 44; off < le(madt + 4, 4); off += madt[off + 1]) {
		g_assert_cmpuint(madt[off + 1], >=, 2);
		switch (madt[off]) {
		case 0:
			g_assert_cmpuint(madt[off + 3], ==, cpus);
			g_assert_cmpuint(le(madt + off + 4, 4) & 1, ==, 1);
			cpus++;
			break;
		case 1:
			g_assert_cmphex(le(madt + off + 4, 4), ==, 0xFEC00000);
			ioapics++;
			break;
		case 2:
			if (madt[off + 3] == 0) {
				g_assert_cmpuint(le(madt + off + 4, 4), ==, 2);
				irq0 = true;
			} else {
				g_assert_cmpuint(le(madt + off + 4, 4), ==, madt[off + 3]);
				g_assert_cmphex(le(madt + off + 8, 2), ==, 0x000D);
				level |= (uint16_t)(1u << madt[off + 3]);
			}
			break;
		}
	}
	g_assert_cmpuint(cpus, ==, ncpus);
	g_assert_cmpuint(ioapics, ==, 1);
	g_assert_true(irq0);
	g_assert_cmphex(level, ==, 1u << 5 | 1u << 9 | 1u << 10 | 1u << 11);
}

/* The AML after Name (NAME, ...): what follows the name's NameOp. */
static const uint8_t *aml_name(const uint8_t *dsdt, const char *name)
{
	const uint8_t key[] = { 0x08, (uint8_t)name[0], (uint8_t)name[1], (uint8_t)name[2], (uint8_t)name[3] };
	const uint8_t *at = memmem(dsdt + 36, le(dsdt + 4, 4) - 36, key, sizeof(key));
	g_assert_nonnull(at);
	return at + sizeof(key);
}

/* \_S5's SLP_TYP for PM1a: Package (4) { a, b, 0, 0 } with a and b
 * encoded as ZeroOp, OneOp or a BytePrefix constant. */
static unsigned s5_slp_typ(const uint8_t *dsdt)
{
	const uint8_t *pkg = aml_name(dsdt, "_S5_");
	g_assert_cmphex(pkg[0], ==, 0x12);   /* PackageOp */
	g_assert_cmpuint(pkg[2], ==, 4);     /* NumElements */
	if (pkg[3] == 0x0A)
		return pkg[4];
	g_assert_true(pkg[3] == 0x00 || pkg[3] == 0x01);
	return pkg[3];
}

/* Runs `iasl -d` on a table written to dir; it must succeed and say nothing
 * about errors. */
static void check_disassembles(const char *dir, const uint8_t *table, size_t size)
{
	g_autofree char *name = g_strdup_printf("%.4s.dat", (const char *)table);
	g_autofree char *path = g_build_filename(dir, name, NULL);
	g_assert_true(g_file_set_contents(path, (const char *)table, (gssize)size, NULL));
	const char *argv[] = { "iasl", "-d", path, NULL };
	g_autofree char *out = NULL, *err = NULL;
	gint status;
	GError *error = NULL;
	g_assert_true(g_spawn_sync(dir, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err,
				   &status, &error));
	g_assert_no_error(error);
	if (!g_spawn_check_wait_status(status, NULL) || strstr(out, "Error") || strstr(err, "Error"))
		g_error("iasl -d %s failed:\n%s%s", name, out, err);
	g_autofree char *dsl = g_strdup_printf("%s/%.4s.dsl", dir, (const char *)table);
	g_assert_true(g_file_test(dsl, G_FILE_TEST_EXISTS));
	g_unlink(dsl);
	g_unlink(path);
}

/* Runs argv in dir; its stdout, or a test failure naming what went wrong. */
static char *run_tool(const char *dir, const char *const *argv)
{
	g_autofree char *err = NULL;
	char *out = NULL;
	gint status;
	GError *error = NULL;
	g_assert_true(g_spawn_sync(dir, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err,
				   &status, &error));
	g_assert_no_error(error);
	if (!g_spawn_check_wait_status(status, NULL))
		g_error("%s failed:\n%s%s", argv[0], out, err);
	return out;
}

/* Methods that call the DSDT's and return integers for acpiexec to print:
 * the number of bad _PRT entries (address, pin, a device as the link), the
 * memory window's bounds from PCI0._CRS (its sixth descriptor, at 0x52),
 * and a link set by _SRS, read back by _CRS and _STA, then disabled. */
static const char probe_asl[] =
	"DefinitionBlock (\"\", \"SSDT\", 2, \"VIREO\", \"PROBE\", 1)\n"
	"{\n"
	"    External (\\_SB.PCI0._PRT, MethodObj)\n"
	"    External (\\_SB.PCI0._CRS, MethodObj)\n"
	"    External (\\_SB.LNKB._SRS, MethodObj)\n"
	"    External (\\_SB.LNKB._CRS, MethodObj)\n"
	"    External (\\_SB.LNKB._STA, MethodObj)\n"
	"    External (\\_SB.LNKB._DIS, MethodObj)\n"
	"    Method (PRTB, 0, Serialized)\n"
	"    {\n"
	"        Local0 = \\_SB.PCI0._PRT ()\n"
	"        Local1 = 0\n"
	"        Local2 = 0\n"
	"        If (SizeOf (Local0) != 128) { Return (128) }\n"
	"        While (Local1 < 128)\n"
	"        {\n"
	"            Local3 = DerefOf (Local0 [Local1])\n"
	"            If (DerefOf (Local3 [0]) != ((Local1 >> 2) << 16 | 0xFFFF)) { Local2++ }\n"
	"            ElseIf (DerefOf (Local3 [1]) != (Local1 & 3)) { Local2++ }\n"
	"            ElseIf (ObjectType (Local3 [2]) != 6) { Local2++ }\n"
	"            Local1++\n"
	"        }\n"
	"        Return (Local2)\n"
	"    }\n"
	"    Method (WMIN, 0) { Local0 = \\_SB.PCI0._CRS () CreateDWordField (Local0, 0x5C, MMIN) Return (MMIN) }\n"
	"    Method (WMAX, 0) { Local0 = \\_SB.PCI0._CRS () CreateDWordField (Local0, 0x60, MMAX) Return (MMAX) }\n"
	"    Method (LSET, 0)\n"
	"    {\n"
	"        \\_SB.LNKB._SRS (ResourceTemplate () { Interrupt (ResourceConsumer, Level, ActiveHigh, Shared) {11} })\n"
	"        Local0 = \\_SB.LNKB._CRS ()\n"
	"        CreateDWordField (Local0, 5, INTN)\n"
	"        Return (INTN)\n"
	"    }\n"
	"    Method (LSTA, 0) { Return (\\_SB.LNKB._STA ()) }\n"
	"    Method (LDIS, 0) { \\_SB.LNKB._DIS () Return (\\_SB.LNKB._STA ()) }\n"
	"}\n";

/* The DSDT runs in ACPICA's acpiexec (acpica-tools) as an OS would run it. */
static void test_dsdt_runs(void)
{
	struct firmware *fw = firmware_new(1);
	struct walked w = walk(fw, run_table_loader(fw));
	g_autofree char *dir = g_dir_make_tmp("vireo-acpi-XXXXXX", NULL);
	g_autofree char *dsdt = g_build_filename(dir, "dsdt.dat", NULL);
	g_autofree char *probe = g_build_filename(dir, "probe.asl", NULL);
	g_autofree char *probe_aml = g_build_filename(dir, "probe.aml", NULL);
	g_assert_true(g_file_set_contents(dsdt, (const char *)w.dsdt, (gssize)le(w.dsdt + 4, 4), NULL));
	g_assert_true(g_file_set_contents(probe, probe_asl, -1, NULL));
	const char *iasl[] = { "iasl", "-we", probe, NULL };
	g_free(run_tool(dir, iasl));
	const char *acpiexec[] = { "acpiexec", "-b",
		"evaluate \\PRTB; evaluate \\WMIN; evaluate \\WMAX; evaluate \\LSET; evaluate \\LSTA; evaluate \\LDIS",
		dsdt, probe_aml, NULL };
	g_autofree char *out = run_tool(dir, acpiexec);
	const uint64_t expected[] = { 0, LOW_RAM, 0xFEBFFFFF, 11, 0x0B, 0x09 };
	const char *at = out;
	for (size_t i = 0; i < G_N_ELEMENTS(expected); i++, at++) {
		at = strstr(at, "[Integer] = ");
		if (!at)
			g_error("acpiexec gave %zu of %zu results:\n%s", i, G_N_ELEMENTS(expected), out);
		at += strlen("[Integer] = ");
		g_assert_cmphex(g_ascii_strtoull(at, NULL, 16), ==, expected[i]);
	}
	g_assert_null(strstr(out, "ACPI Error"));
	for (const char *name = "dsdt.dat\0probe.asl\0probe.aml\0"; *name; name += strlen(name) + 1) {
		g_autofree char *path = g_build_filename(dir, name, NULL);
		g_unlink(path);
	}
	g_rmdir(dir);
	firmware_free(fw);
}

static void check_tables(unsigned ncpus)
{
	struct firmware *fw = firmware_new(ncpus);
	struct walked w = walk(fw, run_table_loader(fw));
	check_madt(w.madt, ncpus);
	g_assert_cmpuint(le(w.fadt + FADT_SCI_INT, 2), ==, 9);
	g_assert_cmphex(le(w.fadt + FADT_PM1A_EVT, 4), ==, SEABIOS_PM_BASE);
	g_assert_cmphex(le(w.fadt + FADT_PM1A_CNT, 4), ==, SEABIOS_PM_BASE + 4);
	g_assert_cmphex(le(w.fadt + FADT_PM_TMR, 4), ==, SEABIOS_PM_BASE + 8);
	g_assert_cmphex(le(w.fadt + 116 + 4, 8), ==, 0xCF9);   /* RESET_REG */
	g_assert_cmphex(w.fadt[128], ==, 0x06);                /* RESET_VALUE */
	/* Name (PHLO, DWordConst): the PCI hole starts at the end of low RAM. */
	const uint8_t *phlo = aml_name(w.dsdt, "PHLO");
	g_assert_cmphex(phlo[0], ==, 0x0C);
	g_assert_cmphex(le(phlo + 1, 4), ==, LOW_RAM);
	g_assert_cmpuint(s5_slp_typ(w.dsdt), ==, 0);
	g_autofree char *dir = g_dir_make_tmp("vireo-acpi-XXXXXX", NULL);
	g_assert_nonnull(dir);
	const uint8_t *tables[] = { w.rsdt, w.xsdt, w.fadt, w.facs, w.dsdt, w.madt };
	for (size_t i = 0; i < G_N_ELEMENTS(tables); i++)
		check_disassembles(dir, tables[i], le(tables[i] + 4, 4));
	g_rmdir(dir);
	firmware_free(fw);
}

static void test_tables_1_cpu(void)
{
	check_tables(1);
}

static void test_tables_2_cpus(void)
{
	check_tables(2);
}

static void test_tables_8_cpus(void)
{
	check_tables(8);
}

/* The hardware the tables describe, set up as SeaBIOS sets it up. */
struct board {
	struct bus mmio;
	struct pci_bus pci;
	struct acpi_pm pm;
	struct piix4_pm pm_fn;
	unsigned power_offs;
	unsigned sci_gsi;
	bool sci;
};

static void record_sci(void *opaque, unsigned gsi, bool level)
{
	struct board *b = opaque;
	b->sci_gsi = gsi;
	b->sci = level;
}

static void count_power_off(void *opaque)
{
	((struct board *)opaque)->power_offs++;
}

static void config_write(struct bus *pio, unsigned reg, uint32_t value, unsigned size)
{
	bus_out(pio, 0xCF8, 0x80000000u | PIIX4_PM_DEVFN << 8 | (reg & 0xFC), 4);
	bus_out(pio, 0xCFC + (reg & 3), value, size);
}

/* PMBA and PMIOSE as SeaBIOS's piix4_pm_setup writes them (pc-platform.md
 * §3.2): the block lands where the FADT says; the power button raises the
 * FADT's SCI once PWRBTN_EN is set; \_S5's SLP_TYP with SLP_EN powers off. */
static void test_tables_match_the_pm_block(void)
{
	struct firmware *fw = firmware_new(1);
	struct walked w = walk(fw, run_table_loader(fw));
	struct board *b = g_new0(struct board, 1);
	bus_init(&b->mmio);
	g_assert_cmpint(pci_bus_init(&b->pci, &fw->pio, &b->mmio), ==, 0);
	struct irq_line sci = { record_sci, b, PC_IRQ_SCI };
	g_assert_cmpint(acpi_pm_init(&b->pm, &fw->pio, 0, sci, count_power_off, b), ==, 0);
	g_assert_cmpint(piix4_pm_init(&b->pm_fn, &b->pci, &b->pm), ==, 0);
	config_write(&fw->pio, 0x40, SEABIOS_PM_BASE | 1, 4);
	config_write(&fw->pio, 0x80, 0x01, 1);

	uint16_t evt = (uint16_t)le(w.fadt + FADT_PM1A_EVT, 4), cnt = (uint16_t)le(w.fadt + FADT_PM1A_CNT, 4);
	uint32_t t0 = (uint32_t)bus_in(&fw->pio, le(w.fadt + FADT_PM_TMR, 4), 4);
	g_usleep(2000);
	g_assert_cmpuint((uint32_t)bus_in(&fw->pio, le(w.fadt + FADT_PM_TMR, 4), 4), !=, t0);  /* the timer runs */
	bus_out(&fw->pio, evt + 2, PWRBTN, 2);                 /* PWRBTN_EN, as Linux sets it */
	g_assert_true(acpi_pm_press_power_button(&b->pm));
	g_assert_true(b->sci);
	g_assert_cmpuint(b->sci_gsi, ==, le(w.fadt + FADT_SCI_INT, 2));
	g_assert_cmphex(bus_in(&fw->pio, evt, 2) & PWRBTN, ==, PWRBTN);
	bus_out(&fw->pio, evt, PWRBTN, 2);                     /* the OS acknowledges */
	g_assert_false(b->sci);

	bus_out(&fw->pio, cnt, s5_slp_typ(w.dsdt) << 10 | SLP_EN, 2);
	g_assert_cmpuint(b->power_offs, ==, 1);

	pci_bus_destroy(&b->pci);
	acpi_pm_destroy(&b->pm);
	bus_destroy(&b->mmio);
	g_free(b);
	firmware_free(fw);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/acpi-loader/tables-1-cpu", test_tables_1_cpu);
	g_test_add_func("/acpi-loader/tables-2-cpus", test_tables_2_cpus);
	g_test_add_func("/acpi-loader/tables-8-cpus", test_tables_8_cpus);
	g_test_add_func("/acpi-loader/tables-match-the-pm-block", test_tables_match_the_pm_block);
	g_test_add_func("/acpi-loader/dsdt-runs", test_dsdt_runs);
	return g_test_run();
}
