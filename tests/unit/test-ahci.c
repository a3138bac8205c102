/* The AHCI controller at register level: PCI identity and capabilities,
 * HBA reset, the port start/stop handshakes, commands through command lists
 * in guest RAM (IDENTIFY, READ/WRITE DMA EXT checked against the image
 * file, FLUSH, an ATAPI READ(10) on an ISO, a disc changed and ejected from
 * outside), the FISes and interrupt bits
 * they leave, INTx and MSI, and what a hostile guest can throw at it. */
#include <glib.h>
#include <glib/gstdio.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "core/bytes.h"
#include "bus-poke.h"
#include "core/device.h"
#include "hw/ahci.h"

#define RAM_SIZE      (4u << 20)
#define ABAR          0xE0000000ull
#define IO_BASE       0xC000u
#define INTX_GSI      11
#define SLOT          5
#define DEVFN         (SLOT * 8)

/* Where the tests put the port's structures in guest RAM. */
#define CLB(port)     (0x10000u + (port) * 0x1000u)
#define FB(port)      (0x18000u + (port) * 0x100u)
#define TABLE         0x20000u
#define DATA          0x100000u

/* Registers (AHCI 1.3.1 §3). */
#define CAP 0x00
#define GHC 0x04
#define IS  0x08
#define PI  0x0C
#define VS  0x10
#define PX(port, reg) (0x100u + (port) * 0x80u + (reg))
#define PXCLB 0x00
#define PXCLBU 0x04
#define PXFB  0x08
#define PXFBU 0x0C
#define PXIS  0x10
#define PXIE  0x14
#define PXCMD 0x18
#define PXTFD 0x20
#define PXSIG 0x24
#define PXSSTS 0x28
#define PXSCTL 0x2C
#define PXSERR 0x30
#define PXSACT 0x34
#define PXCI  0x38
#define CMD_ST  0x1u
#define CMD_FRE 0x10u
#define CMD_FR  0x4000u
#define CMD_CR  0x8000u
#define IS_DHRS 0x1u
#define IS_PSS  0x2u
#define IS_PCS  0x40u
#define IS_HBFS (1u << 29)
#define IS_TFES (1u << 30)

#define DISK_SECTORS  64
#define ISO_BLOCKS    32

struct fixture {
	uint8_t *ram;
	struct guest_mem mem;
	struct bus pio, mmio;
	struct pci_bus pci;
	struct ahci hba;
	bool intx_level;
	char *dir;
	char *disk_path, *iso_path;
	struct block_backend disk, iso;
};

static void record_intx(void *opaque, unsigned gsi, bool level)
{
	g_assert_cmpuint(gsi, ==, INTX_GSI);
	((struct fixture *)opaque)->intx_level = level;
}

/* Byte i of the disk image and of the ISO: not repeating within a sector. */
static uint8_t disk_byte(size_t i)
{
	return (uint8_t)(i * 7 + i / 512);
}

static uint8_t iso_byte(size_t i)
{
	return (uint8_t)(i * 13 + i / 2048 + 1);
}

static char *make_image(const char *dir, const char *name, size_t size, uint8_t (*byte)(size_t))
{
	char *path = g_build_filename(dir, name, NULL);
	uint8_t *content = g_malloc(size);
	for (size_t i = 0; i < size; i++)
		content[i] = byte(i);
	if (!strcmp(name, "cd.iso"))
		memcpy(content + 16 * 2048, "\x01" "CD001", 6);  /* a primary volume descriptor */
	g_assert_true(g_file_set_contents(path, (char *)content, (gssize)size, NULL));
	g_free(content);
	return path;
}

static uint32_t config_read(struct fixture *f, unsigned reg)
{
	bus_out(&f->pio, 0xCF8, 0x80000000u | DEVFN << 8 | (reg & 0xFC), 4);
	return (uint32_t)bus_in(&f->pio, 0xCFC, 4);
}

static void config_write(struct fixture *f, unsigned reg, uint32_t value)
{
	bus_out(&f->pio, 0xCF8, 0x80000000u | DEVFN << 8 | (reg & 0xFC), 4);
	bus_out(&f->pio, 0xCFC, value, 4);
}

static uint32_t rd(struct fixture *f, unsigned reg)
{
	return (uint32_t)bus_in(&f->mmio, ABAR + reg, 4);
}

static void wr(struct fixture *f, unsigned reg, uint32_t value)
{
	bus_out(&f->mmio, ABAR + reg, value, 4);
}

/* A controller with a disk on port 0, a CD-ROM on port 1 and ports 2-5 empty. */
static void setup(struct fixture *f)
{
	char *error = NULL;
	memset(f, 0, sizeof(*f));
	f->ram = g_malloc0(RAM_SIZE);
	g_assert_true(guest_mem_add(&f->mem, 0, RAM_SIZE, f->ram));
	bus_init(&f->pio);
	bus_init(&f->mmio);
	g_assert_cmpint(pci_bus_init(&f->pci, &f->pio, &f->mmio), ==, 0);
	f->dir = g_dir_make_tmp("vireo-ahci-XXXXXX", NULL);
	f->disk_path = make_image(f->dir, "disk.img", DISK_SECTORS * 512, disk_byte);
	f->iso_path = make_image(f->dir, "cd.iso", ISO_BLOCKS * 2048, iso_byte);
	g_assert_cmpint(block_open(&f->disk, f->disk_path, false, &error), ==, 0);
	g_assert_cmpint(block_open(&f->iso, f->iso_path, true, &error), ==, 0);
	g_assert_cmpint(ahci_init(&f->hba, &f->mem, (struct irq_line){ record_intx, f, INTX_GSI }, NULL, NULL), ==, 0);
	g_assert_cmpint(ahci_attach(&f->hba, 0, &f->disk, false, "AHCITEST0"), ==, 0);
	g_assert_cmpint(ahci_attach(&f->hba, 1, &f->iso, true, NULL), ==, 0);
	g_assert_cmpint(ahci_attach(&f->hba, 1, &f->iso, true, NULL), ==, -EBUSY);
	g_assert_cmpint(ahci_attach(&f->hba, 6, &f->iso, true, NULL), ==, -EINVAL);
	g_assert_cmpint(pci_bus_add(&f->pci, &f->hba.pci, SLOT, 0), ==, 0);
	g_assert_cmpint(pci_bus_assign_bars(&f->pci, ABAR, ABAR + 0x100000, IO_BASE), ==, 0);
}

static void teardown(struct fixture *f)
{
	pci_bus_destroy(&f->pci);
	ahci_destroy(&f->hba);
	block_close(&f->disk);
	block_close(&f->iso);
	bus_destroy(&f->pio);
	bus_destroy(&f->mmio);
	g_unlink(f->disk_path);
	g_unlink(f->iso_path);
	g_rmdir(f->dir);
	g_free(f->disk_path);
	g_free(f->iso_path);
	g_free(f->dir);
	g_free(f->ram);
}

/* Command list, FIS area, FIS receive and the engine on, as a driver does. */
static void start_port(struct fixture *f, unsigned port)
{
	wr(f, PX(port, PXCLB), CLB(port));
	wr(f, PX(port, PXCLBU), 0);
	wr(f, PX(port, PXFB), FB(port));
	wr(f, PX(port, PXFBU), 0);
	wr(f, PX(port, PXCMD), CMD_FRE);
	wr(f, PX(port, PXCMD), CMD_FRE | CMD_ST);
	g_assert_cmphex(rd(f, PX(port, PXCMD)) & (CMD_FR | CMD_CR), ==, CMD_FR | CMD_CR);
}

struct prd {
	uint64_t address;
	uint32_t bytes;
};

/* Writes slot 0's header and table: a Register H2D FIS with `command` and
 * the LBA/count given, an ATAPI CDB when `cdb`, the PRDs. */
static void build_command(struct fixture *f, unsigned port, uint8_t command, uint64_t lba, uint16_t count,
			  const uint8_t *cdb, bool write, const struct prd *prds, unsigned nprd)
{
	uint8_t *hdr = f->ram + CLB(port), *table = f->ram + TABLE;
	memset(table, 0, 0x80 + 16 * nprd);
	table[0] = 0x27;
	table[1] = 0x80;
	table[2] = command;
	table[3] = cdb ? 1 : 0;  /* features: DMA for PACKET */
	put_le(table + 4, lba, 3);
	table[7] = 0x40;
	put_le(table + 8, lba >> 24, 3);
	put_le16(table + 12, count);
	if (cdb)
		memcpy(table + 0x40, cdb, 12);
	for (unsigned i = 0; i < nprd; i++) {
		put_le64(table + 0x80 + 16 * i, prds[i].address);
		put_le32(table + 0x80 + 16 * i + 12, prds[i].bytes - 1);
	}
	put_le32(hdr, 5 | (cdb ? 1u << 5 : 0) | (write ? 1u << 6 : 0) | nprd << 16);
	put_le32(hdr + 4, 0xDEADBEEF);  /* PRDBC: the HBA overwrites it */
	put_le64(hdr + 8, TABLE);
}

/* Disk I/O runs on the backend's workers: waits until the port has
 * ended what it runs (BSY clear in PxTFD), as a driver does. */
static void settle(struct fixture *f, unsigned port)
{
	gint64 deadline = g_get_monotonic_time() + 5 * G_TIME_SPAN_SECOND;
	while (rd(f, PX(port, PXTFD)) & 0x80) {
		g_assert_cmpint(g_get_monotonic_time(), <, deadline);
		g_usleep(50);
	}
}

static void issue(struct fixture *f, unsigned port)
{
	wr(f, PX(port, PXCI), 1);
	settle(f, port);
}

static uint32_t prdbc(struct fixture *f, unsigned port)
{
	return get_le32(f->ram + CLB(port) + 4);
}

/* The command in slot 0 is done and went well. */
static void assert_success(struct fixture *f, unsigned port)
{
	g_assert_cmphex(rd(f, PX(port, PXCI)), ==, 0);
	g_assert_cmphex(rd(f, PX(port, PXTFD)) & 0x89, ==, 0);  /* BSY, DRQ, ERR clear */
	g_assert_cmphex(rd(f, PX(port, PXIS)) & IS_TFES, ==, 0);
	const uint8_t *rfis = f->ram + FB(port) + 0x40;
	g_assert_cmphex(rfis[0], ==, 0x34);
	g_assert_cmphex(rfis[1] & 0x40, ==, 0x40);
	g_assert_cmphex(rfis[2], ==, rd(f, PX(port, PXTFD)) & 0xFF);
}

/* The command in slot 0 ended with a task-file error: CI stays, ERR set. */
static void assert_failed(struct fixture *f, unsigned port, uint32_t more_is)
{
	g_assert_cmphex(rd(f, PX(port, PXCI)), ==, 1);
	g_assert_cmphex(rd(f, PX(port, PXTFD)) & 0x01, ==, 0x01);
	g_assert_cmphex(rd(f, PX(port, PXIS)) & (IS_TFES | more_is), ==, IS_TFES | more_is);
	/* Error recovery as drivers do it: ST off clears CI, then on again. */
	wr(f, PX(port, PXCMD), CMD_FRE);
	g_assert_cmphex(rd(f, PX(port, PXCI)), ==, 0);
	g_assert_cmphex(rd(f, PX(port, PXCMD)) & CMD_CR, ==, 0);
	wr(f, PX(port, PXIS), ~0u);
	wr(f, PX(port, PXCMD), CMD_FRE | CMD_ST);
}

static void test_pci_identity(void)
{
	struct fixture f;
	setup(&f);
	g_assert_cmphex(config_read(&f, 0x00), ==, 0x29228086);
	g_assert_cmphex(config_read(&f, 0x08) >> 8, ==, 0x010601);
	/* BAR5 is 4 KiB of 32-bit memory where the assignment put it. */
	g_assert_cmphex(config_read(&f, 0x24), ==, (uint32_t)ABAR);
	config_write(&f, 0x24, ~0u);
	g_assert_cmphex(config_read(&f, 0x24), ==, 0xFFFFF000);
	config_write(&f, 0x24, (uint32_t)ABAR);
	g_assert_cmphex(config_read(&f, 0x20) & 3, ==, 1);  /* BAR4: I/O */
	/* Capabilities: power management, MSI, SATA. */
	uint8_t ids[3];
	unsigned at = config_read(&f, 0x34) & 0xFF;
	for (unsigned i = 0; i < 3; i++) {
		g_assert_cmpuint(at, !=, 0);
		ids[i] = (uint8_t)config_read(&f, at);
		at = (config_read(&f, at) >> 8) & 0xFF;
	}
	g_assert_cmpuint(at, ==, 0);
	g_assert_cmphex(ids[0], ==, 0x01);
	g_assert_cmphex(ids[1], ==, 0x05);
	g_assert_cmphex(ids[2], ==, 0x12);
	g_assert_cmphex(config_read(&f, 0x3C) >> 8 & 0xFF, ==, 1);  /* INTA# */

	uint32_t cap = rd(&f, CAP);
	g_assert_cmpuint(cap & 0x1F, ==, 5);           /* six ports */
	g_assert_cmpuint(cap >> 8 & 0x1F, ==, 31);     /* 32 slots */
	g_assert_cmphex(cap & (1u << 31), !=, 0);      /* 64-bit addressing */
	g_assert_cmphex(cap & (1u << 30), ==, 0);      /* no NCQ */
	g_assert_cmphex(cap & (1u << 27), ==, 0);      /* no staggered spin-up */
	g_assert_cmphex(rd(&f, PI), ==, 0x3F);
	g_assert_cmphex(rd(&f, VS), ==, 0x00010301);
	g_assert_cmphex(rd(&f, GHC), ==, 0x80000000);  /* AE */

	/* The index/data pair in BAR4 reaches the same registers. */
	bus_out(&f.pio, IO_BASE + 0x10, PX(0, PXSIG), 4);
	g_assert_cmphex(bus_in(&f.pio, IO_BASE + 0x14, 4), ==, 0x00000101);
	bus_out(&f.pio, IO_BASE + 0x10, PX(0, PXCLB), 4);
	bus_out(&f.pio, IO_BASE + 0x14, 0x12345400, 4);
	g_assert_cmphex(rd(&f, PX(0, PXCLB)), ==, 0x12345400);
	teardown(&f);
}

static void test_port_presence(void)
{
	struct fixture f;
	setup(&f);
	g_assert_cmphex(rd(&f, PX(0, PXSSTS)), ==, 0x123);
	g_assert_cmphex(rd(&f, PX(0, PXSIG)), ==, 0x00000101);
	g_assert_cmphex(rd(&f, PX(1, PXSSTS)), ==, 0x123);
	g_assert_cmphex(rd(&f, PX(1, PXSIG)), ==, 0xEB140101);
	for (unsigned p = 2; p < 6; p++) {
		g_assert_cmphex(rd(&f, PX(p, PXSSTS)), ==, 0);
		g_assert_cmphex(rd(&f, PX(p, PXSIG)), ==, 0xFFFFFFFF);
		g_assert_cmphex(rd(&f, PX(p, PXTFD)), ==, 0x7F);
	}
	/* Start and stop: FR follows FRE, CR follows ST. */
	g_assert_cmphex(rd(&f, PX(0, PXCMD)) & 0xC011, ==, 0);
	start_port(&f, 0);
	wr(&f, PX(0, PXCMD), CMD_FRE);
	g_assert_cmphex(rd(&f, PX(0, PXCMD)) & (CMD_FR | CMD_CR), ==, CMD_FR);
	wr(&f, PX(0, PXCMD), 0);
	g_assert_cmphex(rd(&f, PX(0, PXCMD)) & (CMD_FR | CMD_CR), ==, 0);

	/* COMRESET: the link drops while DET is 1, comes back with the
	 * signature, SERR.DIAG.X and PxIS.PCS. */
	wr(&f, PX(0, PXSCTL), 1);
	g_assert_cmphex(rd(&f, PX(0, PXSSTS)) & 0xF, ==, 0);
	wr(&f, PX(0, PXSCTL), 0);
	g_assert_cmphex(rd(&f, PX(0, PXSSTS)), ==, 0x123);
	g_assert_cmphex(rd(&f, PX(0, PXSERR)) & (1u << 26), !=, 0);
	g_assert_cmphex(rd(&f, PX(0, PXIS)) & IS_PCS, ==, IS_PCS);
	wr(&f, PX(0, PXIS), IS_PCS);  /* PCS follows DIAG.X, not a write */
	g_assert_cmphex(rd(&f, PX(0, PXIS)) & IS_PCS, ==, IS_PCS);
	wr(&f, PX(0, PXSERR), ~0u);
	g_assert_cmphex(rd(&f, PX(0, PXSERR)), ==, 0);
	g_assert_cmphex(rd(&f, PX(0, PXIS)) & IS_PCS, ==, 0);
	teardown(&f);
}

static void test_hba_reset(void)
{
	struct fixture f;
	setup(&f);
	start_port(&f, 0);
	wr(&f, PX(0, PXIE), 0xFFFFFFFF);
	wr(&f, GHC, 2);
	g_assert_cmphex(rd(&f, GHC), ==, 0x80000002);
	wr(&f, GHC, 1);  /* HR */
	g_assert_cmphex(rd(&f, GHC), ==, 0x80000000);
	g_assert_cmphex(rd(&f, PX(0, PXCMD)) & 0xC011, ==, 0);
	g_assert_cmphex(rd(&f, PX(0, PXIE)), ==, 0);
	g_assert_cmphex(rd(&f, PX(0, PXCLB)), ==, CLB(0));  /* kept (§10.4.3) */
	g_assert_cmphex(rd(&f, PX(0, PXSIG)), ==, 0x101);
	teardown(&f);
}

static void test_identify(void)
{
	struct fixture f;
	setup(&f);
	start_port(&f, 0);
	wr(&f, PX(0, PXIE), 0xFFFFFFFF);
	wr(&f, GHC, 2);
	struct prd prd = { DATA, 512 };
	build_command(&f, 0, 0xEC, 0, 0, NULL, false, &prd, 1);
	g_assert_false(f.intx_level);
	issue(&f, 0);
	assert_success(&f, 0);
	g_assert_cmpuint(prdbc(&f, 0), ==, 512);
	/* IDENTIFY: serial in words 10-19, capacity in 60-61 and 100-103. */
	const uint8_t *id = f.ram + DATA;
	char serial[21] = { 0 };
	for (unsigned i = 0; i < 20; i += 2) {
		serial[i] = (char)id[20 + i + 1];
		serial[i + 1] = (char)id[20 + i];
	}
	g_assert_cmpstr(g_strstrip(serial), ==, "AHCITEST0");
	g_assert_cmpuint(get_le32(id + 120), ==, DISK_SECTORS);
	g_assert_cmpuint(get_le64(id + 200), ==, DISK_SECTORS);
	/* PIO data-in: a PIO Setup FIS too, and both interrupt bits. */
	g_assert_cmphex(f.ram[FB(0) + 0x20], ==, 0x5F);
	g_assert_cmpuint(get_le16(f.ram + FB(0) + 0x20 + 16), ==, 512);
	g_assert_cmphex(rd(&f, PX(0, PXIS)), ==, IS_DHRS | IS_PSS);
	g_assert_cmphex(rd(&f, IS), ==, 1);
	g_assert_true(f.intx_level);
	/* The interrupt goes when both levels are cleared, port first. */
	wr(&f, IS, 1);
	g_assert_true(f.intx_level);
	wr(&f, PX(0, PXIS), IS_DHRS | IS_PSS);
	g_assert_true(f.intx_level);
	wr(&f, IS, 1);
	g_assert_false(f.intx_level);
	g_assert_cmphex(rd(&f, IS), ==, 0);

	/* GHC.IE off: the bits are set, the line stays low. */
	wr(&f, GHC, 0);
	issue(&f, 0);
	assert_success(&f, 0);
	g_assert_cmphex(rd(&f, IS), ==, 1);
	g_assert_false(f.intx_level);

	/* The CD-ROM answers IDENTIFY PACKET DEVICE: peripheral type 5 (CD). */
	start_port(&f, 1);
	memset(f.ram + DATA, 0, 512);
	build_command(&f, 1, 0xA1, 0, 0, NULL, false, &prd, 1);
	issue(&f, 1);
	assert_success(&f, 1);
	g_assert_cmphex(f.ram[DATA + 1] & 0x1F, ==, 0x05);
	teardown(&f);
}

static uint8_t *file_contents(const char *path, size_t *size)
{
	char *data;
	gsize len;
	g_assert_true(g_file_get_contents(path, &data, &len, NULL));
	*size = len;
	return (uint8_t *)data;
}

static void test_read_write_dma(void)
{
	struct fixture f;
	setup(&f);
	start_port(&f, 0);
	/* READ DMA EXT of sectors 3-5 through two PRDs, split mid-sector. */
	struct prd prds[2] = { { DATA, 700 }, { DATA + 0x10000, 1536 - 700 } };
	build_command(&f, 0, 0x25, 3, 3, NULL, false, prds, 2);
	issue(&f, 0);
	assert_success(&f, 0);
	g_assert_cmpuint(prdbc(&f, 0), ==, 1536);
	g_assert_cmphex(rd(&f, PX(0, PXIS)) & IS_PSS, ==, 0);  /* DMA: no PIO Setup */
	for (size_t i = 0; i < 1536; i++) {
		uint8_t got = i < 700 ? f.ram[DATA + i] : f.ram[DATA + 0x10000 + i - 700];
		if (got != disk_byte(3 * 512 + i))
			g_error("byte %zu of the read: %02x, the image has %02x", i, got, disk_byte(3 * 512 + i));
	}

	/* WRITE DMA EXT of sectors 10-11, then FLUSH CACHE EXT: the file has them. */
	for (unsigned i = 0; i < 1024; i++)
		f.ram[DATA + 0x20000 + i] = (uint8_t)(0xA5 ^ i);
	struct prd out = { DATA + 0x20000, 1024 };
	build_command(&f, 0, 0x35, 10, 2, NULL, true, &out, 1);
	issue(&f, 0);
	assert_success(&f, 0);
	g_assert_cmpuint(prdbc(&f, 0), ==, 1024);
	build_command(&f, 0, 0xEA, 0, 0, NULL, false, NULL, 0);
	issue(&f, 0);
	assert_success(&f, 0);
	size_t size;
	uint8_t *image = file_contents(f.disk_path, &size);
	g_assert_cmpuint(size, ==, DISK_SECTORS * 512);
	g_assert_cmpmem(image + 10 * 512, 1024, f.ram + DATA + 0x20000, 1024);
	g_assert_cmphex(image[10 * 512 - 1], ==, disk_byte(10 * 512 - 1));  /* neighbours untouched */
	g_assert_cmphex(image[12 * 512], ==, disk_byte(12 * 512));
	g_free(image);

	/* Past the end of the disk: IDNF, a task-file error, nothing read. */
	memset(f.ram + DATA, 0, 512);
	build_command(&f, 0, 0x25, DISK_SECTORS, 1, NULL, false, prds, 1);
	issue(&f, 0);
	g_assert_cmphex(rd(&f, PX(0, PXTFD)) >> 8 & 0x10, ==, 0x10);
	assert_failed(&f, 0, 0);
	teardown(&f);
}

/* One ATAPI command in slot 0 of port 1. */
static void atapi(struct fixture *f, const uint8_t *cdb, uint32_t bytes)
{
	struct prd prd = { DATA, bytes };
	build_command(f, 1, 0xA0, 0, 0, cdb, false, &prd, bytes ? 1 : 0);
	issue(f, 1);
}

static const uint8_t test_unit_ready[12] = { 0x00 };

/* Port 1's drive answers TEST UNIT READY; a fresh drive may report UNIT
 * ATTENTION first, as real ones do. */
static void wait_ready(struct fixture *f)
{
	for (unsigned tries = 0; tries < 3; tries++) {
		atapi(f, test_unit_ready, 0);
		if (!(rd(f, PX(1, PXTFD)) & 1))
			break;
		assert_failed(f, 1, 0);
	}
	assert_success(f, 1);
}

static void test_atapi_read10(void)
{
	struct fixture f;
	setup(&f);
	start_port(&f, 1);
	wait_ready(&f);

	static const uint8_t read10[12] = { 0x28, 0, 0, 0, 0, 16, 0, 0, 2, 0 };  /* blocks 16-17 */
	atapi(&f, read10, 4096);
	assert_success(&f, 1);
	g_assert_cmpuint(prdbc(&f, 1), ==, 4096);
	g_assert_cmpmem(f.ram + DATA + 1, 5, "CD001", 5);
	for (size_t i = 6; i < 4096; i++)
		if (f.ram[DATA + i] != iso_byte(16 * 2048 + i))
			g_error("byte %zu of the read: %02x", i, f.ram[DATA + i]);

	/* Past the end of the disc: CHECK CONDITION (ERR), sense ILLEGAL REQUEST. */
	static const uint8_t past_end[12] = { 0x28, 0, 0, 0, 0, ISO_BLOCKS, 0, 0, 1, 0 };
	atapi(&f, past_end, 2048);
	g_assert_cmphex(rd(&f, PX(1, PXTFD)) >> 12 & 0xF, ==, 0x5);  /* sense key in ERROR[7:4] */
	assert_failed(&f, 1, 0);
	teardown(&f);
}

/* Port 1's drive fails `cdb` with CHECK CONDITION: the sense key shows
 * in ERROR[7:4] and REQUEST SENSE gives it with `asc`. */
static void assert_check_condition(struct fixture *f, const uint8_t *cdb, uint8_t key, uint8_t asc)
{
	static const uint8_t request_sense[12] = { 0x03, 0, 0, 0, 18 };
	atapi(f, cdb, 0);
	g_assert_cmphex(rd(f, PX(1, PXTFD)) >> 12 & 0xF, ==, key);
	assert_failed(f, 1, 0);
	atapi(f, request_sense, 18);
	assert_success(f, 1);
	g_assert_cmphex(f->ram[DATA + 2] & 0xF, ==, key);
	g_assert_cmphex(f->ram[DATA + 12], ==, asc);
}

/* The media event GET EVENT STATUS NOTIFICATION (polled, media class)
 * reports, and the media status byte. */
static void assert_media_event(struct fixture *f, uint8_t event, uint8_t status)
{
	static const uint8_t gesn[12] = { 0x4A, 0x01, 0, 0, 0x10, 0, 0, 0, 8 };
	atapi(f, gesn, 8);
	assert_success(f, 1);
	g_assert_cmphex(f->ram[DATA + 4] & 0xF, ==, event);
	g_assert_cmphex(f->ram[DATA + 5], ==, status);
}

/* A disc changed from outside (the control interface): the guest sees a
 * new-media event, UNIT ATTENTION once, then the new disc's size and
 * blocks; ejected, a removal event and NOT READY / MEDIUM NOT PRESENT. */
static void test_change_medium(void)
{
	struct fixture f;
	char *error = NULL;
	setup(&f);
	g_autofree char *second_path = make_image(f.dir, "second.iso", 2 * ISO_BLOCKS * 2048, disk_byte);
	struct block_backend second;
	g_assert_cmpint(block_open(&second, second_path, true, &error), ==, 0);
	start_port(&f, 1);
	wait_ready(&f);

	g_assert_true(ahci_change_medium(&f.hba, 1, &second) == &f.iso);
	assert_media_event(&f, 2, 0x02);                              /* new media, present */
	assert_check_condition(&f, test_unit_ready, 0x6, 0x28);      /* medium may have changed */
	atapi(&f, test_unit_ready, 0);
	assert_success(&f, 1);
	static const uint8_t read_capacity[12] = { 0x25 };
	atapi(&f, read_capacity, 8);
	assert_success(&f, 1);
	g_assert_cmpuint(get_be(f.ram + DATA, 4), ==, 2 * ISO_BLOCKS - 1);
	g_assert_cmpuint(get_be(f.ram + DATA + 4, 4), ==, 2048);
	static const uint8_t read10[12] = { 0x28, 0, 0, 0, 0, ISO_BLOCKS + 3, 0, 0, 1, 0 };  /* past the first disc */
	atapi(&f, read10, 2048);
	assert_success(&f, 1);
	for (size_t i = 0; i < 2048; i++)
		if (f.ram[DATA + i] != disk_byte((ISO_BLOCKS + 3) * 2048 + i))
			g_error("byte %zu of the new disc's block: %02x", i, f.ram[DATA + i]);

	g_assert_true(ahci_change_medium(&f.hba, 1, NULL) == &second);
	assert_media_event(&f, 3, 0x00);                              /* removal, no disc */
	assert_check_condition(&f, test_unit_ready, 0x6, 0x28);
	assert_check_condition(&f, test_unit_ready, 0x2, 0x3A);      /* medium not present */
	assert_check_condition(&f, read_capacity, 0x2, 0x3A);
	block_close(&second);
	g_unlink(second_path);
	teardown(&f);
}

static void test_error_status(void)
{
	struct fixture f;
	setup(&f);
	start_port(&f, 0);
	/* IDENTIFY PACKET DEVICE on a hard disk: ABRT, as SeaBIOS's probe expects. */
	struct prd prd = { DATA, 512 };
	build_command(&f, 0, 0xA1, 0, 0, NULL, false, &prd, 1);
	issue(&f, 0);
	g_assert_cmphex(rd(&f, PX(0, PXTFD)), ==, 0x0451);
	g_assert_cmphex(f.ram[FB(0) + 0x40 + 2], ==, 0x51);
	g_assert_cmphex(f.ram[FB(0) + 0x40 + 3], ==, 0x04);
	g_assert_cmphex(rd(&f, PX(0, PXCMD)) >> 8 & 0x1F, ==, 0);  /* CCS: slot 0 */
	/* The list stays stopped until ST goes off. */
	build_command(&f, 0, 0xEC, 0, 0, NULL, false, &prd, 1);
	wr(&f, PX(0, PXCI), 2);
	g_assert_cmphex(rd(&f, PX(0, PXCI)), ==, 3);
	wr(&f, PX(0, PXCI), 0);  /* a write of 0 changes nothing */
	g_assert_cmphex(rd(&f, PX(0, PXCI)), ==, 3);
	wr(&f, PX(0, PXCMD), CMD_FRE);
	g_assert_cmphex(rd(&f, PX(0, PXCI)), ==, 0);
	wr(&f, PX(0, PXIS), ~0u);
	wr(&f, PX(0, PXCMD), CMD_FRE | CMD_ST);
	issue(&f, 0);
	assert_success(&f, 0);
	teardown(&f);
}

/* Nothing happens to a command issued while ST is off. */
static void test_ci_without_st(void)
{
	struct fixture f;
	setup(&f);
	wr(&f, PX(0, PXCLB), CLB(0));
	wr(&f, PX(0, PXFB), FB(0));
	wr(&f, PX(0, PXCMD), CMD_FRE);
	struct prd prd = { DATA, 512 };
	build_command(&f, 0, 0xEC, 0, 0, NULL, false, &prd, 1);
	issue(&f, 0);
	wr(&f, PX(0, PXSACT), 1);
	g_assert_cmphex(rd(&f, PX(0, PXCI)), ==, 0);
	g_assert_cmphex(rd(&f, PX(0, PXSACT)), ==, 0);
	g_assert_cmphex(rd(&f, PX(0, PXIS)), ==, 0);
	g_assert_cmphex(f.ram[DATA], ==, 0);
	g_assert_cmpuint(prdbc(&f, 0), ==, 0xDEADBEEF);
	teardown(&f);
}

/* Structures outside RAM or malformed: a task-file error (and host bus
 * fatal error where the HBA could not reach memory), never a crash. */
static void test_hostile_tables(void)
{
	struct fixture f;
	setup(&f);
	start_port(&f, 0);
	struct prd prd = { DATA, 512 };

	/* Command table outside RAM. */
	build_command(&f, 0, 0xEC, 0, 0, NULL, false, &prd, 1);
	put_le64(f.ram + CLB(0) + 8, 0xF0000000);
	issue(&f, 0);
	assert_failed(&f, 0, IS_HBFS);

	/* Command table at the end of RAM: its PRDT is past it. */
	put_le64(f.ram + CLB(0) + 8, RAM_SIZE - 0x80);
	issue(&f, 0);
	assert_failed(&f, 0, IS_HBFS);

	/* A PRD whose buffer runs past the end of RAM: nothing read into RAM. */
	struct prd past = { RAM_SIZE - 256, 512 };
	build_command(&f, 0, 0x25, 0, 1, NULL, false, &past, 1);
	issue(&f, 0);
	assert_failed(&f, 0, IS_HBFS);
	g_assert_cmphex(f.ram[RAM_SIZE - 256], ==, 0);

	/* A PRD far outside RAM, 64-bit. */
	struct prd far = { 0x123400000000ull, 512 };
	build_command(&f, 0, 0x25, 0, 1, NULL, false, &far, 1);
	issue(&f, 0);
	assert_failed(&f, 0, IS_HBFS);

	/* PRDTL 65535: more than the HBA maps. */
	build_command(&f, 0, 0x25, 0, 1, NULL, false, &prd, 1);
	put_le32(f.ram + CLB(0), 5 | 0xFFFFu << 16);
	issue(&f, 0);
	assert_failed(&f, 0, IS_HBFS);

	/* PRDs too short for the data. */
	struct prd short_prd = { DATA, 256 };
	build_command(&f, 0, 0x25, 0, 1, NULL, false, &short_prd, 1);
	issue(&f, 0);
	assert_failed(&f, 0, 0);

	/* CFL 0 and CFL 17; a command FIS of the wrong type. */
	build_command(&f, 0, 0xEC, 0, 0, NULL, false, &prd, 1);
	put_le32(f.ram + CLB(0), 0 | 1u << 16);
	issue(&f, 0);
	assert_failed(&f, 0, IS_HBFS);
	put_le32(f.ram + CLB(0), 17 | 1u << 16);
	issue(&f, 0);
	assert_failed(&f, 0, IS_HBFS);
	build_command(&f, 0, 0xEC, 0, 0, NULL, false, &prd, 1);
	f.ram[TABLE] = 0x34;
	issue(&f, 0);
	assert_failed(&f, 0, IS_HBFS);

	/* Command list outside RAM. */
	wr(&f, PX(0, PXCLBU), 0x10);
	issue(&f, 0);
	assert_failed(&f, 0, IS_HBFS);
	wr(&f, PX(0, PXCLBU), 0);

	/* FIS receive area outside RAM: the command ran, its FIS had nowhere to go. */
	wr(&f, PX(0, PXCMD), 0);
	wr(&f, PX(0, PXFB), 0xFFFFFF00);
	wr(&f, PX(0, PXCMD), CMD_FRE | CMD_ST);
	build_command(&f, 0, 0xEC, 0, 0, NULL, false, &prd, 1);
	issue(&f, 0);
	g_assert_cmphex(rd(&f, PX(0, PXIS)) & (IS_HBFS | IS_TFES), ==, IS_HBFS);
	g_assert_cmphex(rd(&f, PX(0, PXCI)), ==, 1);

	/* And the port still works afterwards. */
	wr(&f, PX(0, PXCMD), 0);
	start_port(&f, 0);
	issue(&f, 0);
	assert_success(&f, 0);
	teardown(&f);
}

static void test_msi(void)
{
	struct fixture f;
	setup(&f);
	unsigned msi = f.hba.msi.capability;
	config_write(&f, msi + 4, 0xFEE00000);
	config_write(&f, msi + 12, 0x4041);
	config_write(&f, msi, config_read(&f, msi) | 1u << 16);  /* MSI enable */
	start_port(&f, 0);
	wr(&f, PX(0, PXIE), IS_DHRS);
	wr(&f, GHC, 2);
	struct prd prd = { DATA, 512 };
	build_command(&f, 0, 0xEC, 0, 0, NULL, false, &prd, 1);
	issue(&f, 0);
	assert_success(&f, 0);
	uint64_t count = 0;
	g_assert_cmpint(read(f.hba.msi.eventfd, &count, sizeof(count)), ==, sizeof(count));
	g_assert_cmpuint(count, ==, 1);
	g_assert_false(f.intx_level);  /* INTx stays quiet under MSI */
	/* Without GHC.IE, no message. */
	wr(&f, PX(0, PXIS), ~0u);
	wr(&f, IS, ~0u);
	wr(&f, GHC, 0);
	issue(&f, 0);
	struct pollfd pfd = { f.hba.msi.eventfd, POLLIN, 0 };
	g_assert_cmpint(poll(&pfd, 1, 0), ==, 0);
	/* Turning IE on with the event pending sends it. */
	wr(&f, GHC, 2);
	g_assert_cmpint(read(f.hba.msi.eventfd, &count, sizeof(count)), ==, sizeof(count));
	g_assert_false(f.intx_level);
	teardown(&f);
}

/* Thousands of random register accesses and random guest RAM (so command
 * lists point at garbage): no crash, no access outside RAM (ASan), and the
 * registers keep their reserved bits. */
static void test_register_garbage(void)
{
	struct fixture f;
	setup(&f);
	GRand *rng = g_rand_new_with_seed(2922);
	for (size_t i = 0; i < RAM_SIZE; i += 4)
		put_le32(f.ram + i, g_rand_int(rng));
	for (unsigned round = 0; round < 40; round++) {
		bus_poke_randomly(&f.mmio, ABAR, 0x1000, 500, 100 + round, NULL, NULL);
		bus_poke_randomly(&f.pio, IO_BASE, 0x20, 50, 200 + round, NULL, NULL);
		/* Start every port on a random list so commands really run. */
		for (unsigned p = 0; p < 6; p++) {
			wr(&f, PX(p, PXCLB), g_rand_int_range(rng, 0, RAM_SIZE));
			wr(&f, PX(p, PXCLBU), 0);
			wr(&f, PX(p, PXFB), g_rand_int_range(rng, 0, RAM_SIZE));
			wr(&f, PX(p, PXFBU), 0);
			wr(&f, PX(p, PXCMD), 0);  /* restarts a list an error stopped */
			wr(&f, PX(p, PXCMD), CMD_FRE | CMD_ST);
			wr(&f, PX(p, PXCI), g_rand_int(rng));
		}
	}
	g_rand_free(rng);
	g_assert_cmphex(rd(&f, CAP), ==, 0x80241F05);
	g_assert_cmphex(rd(&f, PI), ==, 0x3F);
	g_assert_cmphex(rd(&f, PX(0, PXCLB)) & 0x3FF, ==, 0);
	g_assert_cmphex(rd(&f, PX(0, PXFB)) & 0xFF, ==, 0);
	/* After an HBA reset it still reads a disk. */
	wr(&f, GHC, 1);
	start_port(&f, 0);
	struct prd prd = { DATA, 512 };
	build_command(&f, 0, 0x25, 1, 1, NULL, false, &prd, 1);
	issue(&f, 0);
	assert_success(&f, 0);
	g_assert_cmphex(f.ram[DATA + 5], ==, disk_byte(512 + 5));
	teardown(&f);
}

/* Well-formed command lists with random commands, registers, CDBs and
 * PRDs on both drives: whatever the command, the port ends it (CI clear or
 * a task-file error) and stays usable. */
static void test_random_commands(void)
{
	struct fixture f;
	setup(&f);
	GRand *rng = g_rand_new_with_seed(8086);
	for (unsigned i = 0; i < 3000; i++) {
		unsigned port = i % 2, nprd = (unsigned)g_rand_int_range(rng, 0, 5);
		struct prd prds[4];
		uint8_t cdb[12];
		for (unsigned j = 0; j < nprd; j++)
			prds[j] = (struct prd){ (uint64_t)g_rand_int_range(rng, 0x40000, RAM_SIZE - 0x10000) & ~1ull,
						(uint32_t)g_rand_int_range(rng, 1, 0x10000) * 2 };
		for (unsigned j = 0; j < sizeof(cdb); j++)
			cdb[j] = (uint8_t)g_rand_int(rng);
		start_port(&f, port);
		build_command(&f, port, (uint8_t)g_rand_int(rng), g_rand_int(rng) % (DISK_SECTORS + 8),
			      (uint16_t)g_rand_int_range(rng, 0, 16), port ? cdb : NULL, g_rand_boolean(rng), prds, nprd);
		f.ram[TABLE + 3] = (uint8_t)g_rand_int(rng);  /* features */
		issue(&f, port);
		uint32_t tfd = rd(&f, PX(port, PXTFD)), ci = rd(&f, PX(port, PXCI));
		if (ci && !(tfd & 1))
			g_error("command %02x on port %u neither ended nor failed (TFD %x)", f.ram[TABLE + 2], port, tfd);
		wr(&f, PX(port, PXCMD), 0);
		wr(&f, PX(port, PXIS), ~0u);
	}
	g_rand_free(rng);
	start_port(&f, 0);
	struct prd prd = { DATA, 512 };
	build_command(&f, 0, 0xEC, 0, 0, NULL, false, &prd, 1);
	issue(&f, 0);
	assert_success(&f, 0);
	teardown(&f);
}

/* The user ejects the disc while a slow READ(10) is in flight: the eject
 * waits for it (the read ends with the old disc's bytes), then the guest
 * hears of the change; the old image can be closed at once. */
static void test_eject_during_read(void)
{
	struct fixture f;
	g_setenv("VIREO_TEST_BLOCK_DELAY_MS", "300", TRUE);
	setup(&f);
	start_port(&f, 1);
	wait_ready(&f);
	static const uint8_t read10[12] = { 0x28, 0, 0, 0, 0, 5, 0, 0, 1, 0 };
	struct prd prd = { DATA, 2048 };
	build_command(&f, 1, 0xA0, 0, 0, read10, false, &prd, 1);
	wr(&f, PX(1, PXCI), 1);
	g_assert_cmphex(rd(&f, PX(1, PXTFD)) & 0x80, ==, 0x80);
	g_assert_true(ahci_change_medium(&f.hba, 1, NULL) == &f.iso);
	block_close(&f.iso);
	assert_success(&f, 1);
	g_assert_cmpuint(prdbc(&f, 1), ==, 2048);
	for (size_t i = 0; i < 2048; i++)
		if (f.ram[DATA + i] != iso_byte(5 * 2048 + i))
			g_error("byte %zu of block 5: %02x", i, f.ram[DATA + i]);
	assert_check_condition(&f, read10, 0x6, 0x28);
	assert_check_condition(&f, read10, 0x2, 0x3A);
	teardown(&f);
	g_unsetenv("VIREO_TEST_BLOCK_DELAY_MS");
}

/* A slow disk (the block layer's test delay): the PxCI write returns at
 * once with BSY in PxTFD and the completion interrupts; a command the
 * guest abandons by clearing ST is dropped: no byte count, FIS or PxIS. */
static void test_slow_disk_and_abandon(void)
{
	struct fixture f;
	g_setenv("VIREO_TEST_BLOCK_DELAY_MS", "500", TRUE);
	setup(&f);
	start_port(&f, 0);
	wr(&f, PX(0, PXIE), ~0u);
	wr(&f, GHC, 0x80000002u);
	struct prd prd = { DATA, 1024 };
	build_command(&f, 0, 0x25, 4, 2, NULL, false, &prd, 1);
	gint64 start = g_get_monotonic_time();
	wr(&f, PX(0, PXCI), 1);
	g_assert_cmpint(g_get_monotonic_time() - start, <, 250 * G_TIME_SPAN_MILLISECOND);
	g_assert_cmphex(rd(&f, PX(0, PXTFD)) & 0x80, ==, 0x80);
	g_assert_cmphex(rd(&f, PX(0, PXCI)), ==, 1);
	g_assert_false(f.intx_level);
	settle(&f, 0);
	assert_success(&f, 0);
	g_assert_true(f.intx_level);
	g_assert_cmpuint(prdbc(&f, 0), ==, 1024);
	g_assert_cmphex(f.ram[DATA + 700], ==, disk_byte(4 * 512 + 700));

	/* Abandoned: ST off while the read is in flight. */
	wr(&f, PX(0, PXIS), ~0u);
	memset(f.ram + FB(0), 0, 0x100);
	build_command(&f, 0, 0x25, 8, 2, NULL, false, &prd, 1);
	wr(&f, PX(0, PXCI), 1);
	g_assert_cmphex(rd(&f, PX(0, PXTFD)) & 0x80, ==, 0x80);
	wr(&f, PX(0, PXCMD), CMD_FRE);
	g_usleep(100 * G_TIME_SPAN_MILLISECOND);
	g_assert_cmphex(rd(&f, PX(0, PXCI)), ==, 0);
	g_assert_cmphex(rd(&f, PX(0, PXIS)), ==, 0);
	g_assert_cmphex(prdbc(&f, 0), ==, 0xDEADBEEF);
	g_assert_cmphex(f.ram[FB(0) + 0x40], ==, 0);
	/* The port runs the next command as usual. */
	wr(&f, PX(0, PXCMD), CMD_FRE | CMD_ST);
	issue(&f, 0);
	assert_success(&f, 0);
	g_assert_cmphex(f.ram[DATA + 3], ==, disk_byte(8 * 512 + 3));

	/* The PC's reset line while a read is in flight: dropped too, nothing
	 * lands in guest memory (registers are at power-on, BARs off). */
	memset(f.ram + FB(0), 0, 0x100);
	build_command(&f, 0, 0x25, 12, 2, NULL, false, &prd, 1);
	wr(&f, PX(0, PXCI), 1);
	g_assert_cmphex(rd(&f, PX(0, PXTFD)) & 0x80, ==, 0x80);
	ahci_device_ops.reset(&f.hba);
	g_usleep(700 * G_TIME_SPAN_MILLISECOND);  /* past the disk's delay */
	g_assert_cmphex(prdbc(&f, 0), ==, 0xDEADBEEF);
	g_assert_cmphex(f.ram[FB(0) + 0x40], ==, 0);
	teardown(&f);
	g_unsetenv("VIREO_TEST_BLOCK_DELAY_MS");
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/ahci/pci-identity", test_pci_identity);
	g_test_add_func("/ahci/port-presence", test_port_presence);
	g_test_add_func("/ahci/hba-reset", test_hba_reset);
	g_test_add_func("/ahci/identify", test_identify);
	g_test_add_func("/ahci/read-write-dma", test_read_write_dma);
	g_test_add_func("/ahci/atapi-read10", test_atapi_read10);
	g_test_add_func("/ahci/change-medium", test_change_medium);
	g_test_add_func("/ahci/error-status", test_error_status);
	g_test_add_func("/ahci/ci-without-st", test_ci_without_st);
	g_test_add_func("/ahci/hostile/tables", test_hostile_tables);
	g_test_add_func("/ahci/msi", test_msi);
	g_test_add_func("/ahci/eject-during-read", test_eject_during_read);
	g_test_add_func("/ahci/slow-disk-and-abandon", test_slow_disk_and_abandon);
	g_test_add_func("/ahci/hostile/register-garbage", test_register_garbage);
	g_test_add_func("/ahci/hostile/random-commands", test_random_commands);
	return g_test_run();
}
