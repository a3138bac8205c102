/* The PIIX3 IDE function through its ports, as SeaBIOS and Linux's
 * ata_piix drive it: IDENTIFY, PIO and bus-master DMA checked against the
 * bytes of real image files, ATAPI by PIO and DMA, and hostile guests (PRD
 * tables and buffers outside RAM, tables without an end, garbage). */
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "bus-poke.h"
#include "core/device.h"
#include "hw/piix_ide.h"

#define RAM_SIZE (1u << 20)
#define DISK_SECTORS 600
#define DISC_BLOCKS 40
#define BM_BASE 0xC000
#define PRIMARY 0x1F0
#define SECONDARY 0x170
#define PRIMARY_CONTROL 0x3F6
#define SECONDARY_CONTROL 0x376
#define PRD_TABLE 0x1000
#define BUFFER 0x20000

struct fixture {
	struct bus pio, mmio;
	struct pci_bus pci;
	struct guest_mem mem;
	uint8_t *ram;
	struct piix_ide ide;
	char *disk_path, *disc_path;
	struct block_backend disk, disc;
	bool irq[16];
};

static uint8_t image_byte(uint64_t i)
{
	return (uint8_t)(i * 13 + i / 2048);
}

static char *make_image(uint64_t size, bool iso)
{
	char *path;
	int fd = g_file_open_tmp("vireo-ide-XXXXXX", &path, NULL);
	g_autofree uint8_t *bytes = g_malloc(size);
	for (uint64_t i = 0; i < size; i++)
		bytes[i] = image_byte(i);
	if (iso)
		memcpy(bytes + 32769, "CD001", 5);
	g_assert_cmpint(write(fd, bytes, size), ==, (ssize_t)size);
	close(fd);
	return path;
}

static void record_irq(void *opaque, unsigned gsi, bool level)
{
	g_assert_true(gsi == 14 || gsi == 15);
	((struct fixture *)opaque)->irq[gsi] = level;
}

static uint32_t config_read(struct fixture *f, unsigned reg, unsigned size)
{
	bus_out(&f->pio, 0xCF8, 0x80000000u | PIIX_IDE_SLOT << 11 | PIIX_IDE_FUNCTION << 8 | (reg & 0xFC), 4);
	return (uint32_t)bus_in(&f->pio, 0xCFC + (reg & 3), size);
}

static void config_write(struct fixture *f, unsigned reg, uint32_t value, unsigned size)
{
	bus_out(&f->pio, 0xCF8, 0x80000000u | PIIX_IDE_SLOT << 11 | PIIX_IDE_FUNCTION << 8 | (reg & 0xFC), 4);
	bus_out(&f->pio, 0xCFC + (reg & 3), value, size);
}

static struct fixture *fixture_new(void)
{
	struct fixture *f = g_new0(struct fixture, 1);
	char *error = NULL;
	bus_init(&f->pio);
	bus_init(&f->mmio);
	g_assert_cmpint(pci_bus_init(&f->pci, &f->pio, &f->mmio), ==, 0);
	f->ram = g_malloc0(RAM_SIZE);
	g_assert_true(guest_mem_add(&f->mem, 0, RAM_SIZE, f->ram));
	f->disk_path = make_image(DISK_SECTORS * 512, false);
	f->disc_path = make_image(DISC_BLOCKS * 2048, true);
	g_assert_cmpint(block_open(&f->disk, f->disk_path, false, &error), ==, 0);
	g_assert_cmpint(block_open(&f->disc, f->disc_path, true, &error), ==, 0);
	struct piix_ide_drive_config drives[PIIX_IDE_DRIVES] = {
		{ .present = true, .kind = ATA_DRIVE_DISK, .medium = &f->disk, .serial = "UNIT" },
		{ 0 },
		{ .present = true, .kind = ATA_DRIVE_CDROM, .medium = &f->disc },
		{ 0 },
	};
	g_assert_cmpint(piix_ide_init(&f->ide, &f->pci, &f->pio, &f->mem, (struct irq_line){ record_irq, f, 14 },
				      (struct irq_line){ record_irq, f, 15 }, drives), ==, 0);
	/* As firmware would: BAR4 at BM_BASE, I/O decode and bus mastering on. */
	config_write(f, 0x20, BM_BASE, 4);
	config_write(f, 0x04, 0x0005, 2);
	return f;
}

static void fixture_free(struct fixture *f)
{
	pci_bus_destroy(&f->pci);
	piix_ide_destroy(&f->ide);
	block_close(&f->disk);
	block_close(&f->disc);
	g_unlink(f->disk_path);
	g_unlink(f->disc_path);
	g_free(f->disk_path);
	g_free(f->disc_path);
	g_free(f->ram);
	bus_destroy(&f->pio);
	bus_destroy(&f->mmio);
	g_free(f);
}

static uint8_t status(struct fixture *f, unsigned base)
{
	return (uint8_t)bus_in(&f->pio, base + 7, 1);
}

/* Disk I/O runs on the backend's workers: waits while the drive shows BSY
 * (alternate status, which leaves INTRQ alone), as a driver polls. */
static void settle(struct fixture *f, unsigned base)
{
	unsigned control = base == PRIMARY ? PRIMARY_CONTROL : SECONDARY_CONTROL;
	gint64 deadline = g_get_monotonic_time() + 5 * G_TIME_SPAN_SECOND;
	while (bus_in(&f->pio, control, 1) & 0x80) {
		g_assert_cmpint(g_get_monotonic_time(), <, deadline);
		g_usleep(50);
	}
}

/* A 28-bit LBA command to the master of the channel at base. */
static void command28(struct fixture *f, unsigned base, uint8_t command, uint32_t lba, uint8_t count)
{
	bus_out(&f->pio, base + 6, 0xE0 | (lba >> 24 & 0x0F), 1);
	bus_out(&f->pio, base + 2, count, 1);
	bus_out(&f->pio, base + 3, lba & 0xFF, 1);
	bus_out(&f->pio, base + 4, lba >> 8 & 0xFF, 1);
	bus_out(&f->pio, base + 5, lba >> 16 & 0xFF, 1);
	bus_out(&f->pio, base + 7, command, 1);
	settle(f, base);
}

/* A 48-bit command: each register written twice, the high byte first. */
static void command48(struct fixture *f, unsigned base, uint8_t command, uint64_t lba, uint16_t count)
{
	bus_out(&f->pio, base + 6, 0x40, 1);
	bus_out(&f->pio, base + 2, count >> 8, 1);
	bus_out(&f->pio, base + 2, count & 0xFF, 1);
	for (unsigned r = 0; r < 3; r++) {
		bus_out(&f->pio, base + 3 + r, lba >> (24 + 8 * r) & 0xFF, 1);
		bus_out(&f->pio, base + 3 + r, lba >> (8 * r) & 0xFF, 1);
	}
	bus_out(&f->pio, base + 7, command, 1);
	settle(f, base);
}

static void read_pio(struct fixture *f, unsigned base, uint8_t *dst, unsigned len, unsigned width)
{
	for (unsigned i = 0; i < len; i += width) {
		settle(f, base);
		uint64_t v = bus_in(&f->pio, base, width);
		memcpy(dst + i, &v, width);
	}
}

static void test_identify_and_signatures(void)
{
	struct fixture *f = fixture_new();
	uint8_t id[512];
	g_assert_cmphex(config_read(f, 0x00, 4), ==, 0x70108086);
	g_assert_cmphex(config_read(f, 0x08, 4) >> 8, ==, 0x010180);
	g_assert_cmphex(config_read(f, 0x41, 1) & 0x80, ==, 0x80);
	g_assert_cmphex(config_read(f, 0x43, 1) & 0x80, ==, 0x80);

	command28(f, PRIMARY, 0xEC, 0, 0);
	g_assert_true(f->irq[14]);
	g_assert_cmphex(bus_in(&f->pio, PRIMARY_CONTROL, 1), ==, 0x58);  /* alt status: DRQ, IRQ stays */
	g_assert_true(f->irq[14]);
	g_assert_cmphex(status(f, PRIMARY), ==, 0x58);
	g_assert_false(f->irq[14]);
	read_pio(f, PRIMARY, id, sizeof(id), 2);
	g_assert_cmphex(status(f, PRIMARY), ==, 0x50);
	char model[15];
	for (unsigned i = 0; i < 14; i++)
		model[i] = (char)id[54 + (i ^ 1)];
	model[14] = 0;
	g_assert_cmpstr(model, ==, "VIREO HARDDISK");
	g_assert_cmpuint(id[120] | id[121] << 8, ==, DISK_SECTORS);

	/* No slave: it reads as nobody there (SeaBIOS's probe). */
	bus_out(&f->pio, PRIMARY + 6, 0xB0, 1);
	bus_out(&f->pio, PRIMARY + 2, 0x55, 1);
	g_assert_cmphex(bus_in(&f->pio, PRIMARY + 2, 1), ==, 0);
	g_assert_cmphex(status(f, PRIMARY), ==, 0);
	bus_out(&f->pio, PRIMARY + 7, 0xEC, 1);               /* ignored */
	g_assert_false(f->irq[14]);

	/* SRST: busy while held (commands ignored), then the signatures. */
	bus_out(&f->pio, SECONDARY_CONTROL, 0x06, 1);
	g_assert_cmphex(status(f, SECONDARY), ==, 0x80);
	bus_out(&f->pio, SECONDARY + 7, 0xA1, 1);
	g_assert_cmphex(status(f, SECONDARY), ==, 0x80);
	bus_out(&f->pio, SECONDARY_CONTROL, 0x02, 1);
	g_assert_cmphex(bus_in(&f->pio, SECONDARY + 2, 1), ==, 1);
	g_assert_cmphex(bus_in(&f->pio, SECONDARY + 3, 1), ==, 1);
	g_assert_cmphex(bus_in(&f->pio, SECONDARY + 4, 1), ==, 0x14);
	g_assert_cmphex(bus_in(&f->pio, SECONDARY + 5, 1), ==, 0xEB);
	g_assert_cmphex(bus_in(&f->pio, SECONDARY + 1, 1), ==, 0x01);
	g_assert_false(f->irq[15]);
	/* An ATA disk aborts IDENTIFY PACKET. */
	command28(f, PRIMARY, 0xA1, 0, 0);
	g_assert_cmphex(status(f, PRIMARY), ==, 0x51);
	g_assert_cmphex(bus_in(&f->pio, PRIMARY + 1, 1), ==, 0x04);
	fixture_free(f);
}

static void test_pio_read_write(void)
{
	struct fixture *f = fixture_new();
	g_autofree uint8_t *buf = g_malloc(256 * 512);
	/* WRITE SECTORS: 32-bit data accesses, an interrupt after each block. */
	command28(f, PRIMARY, 0x30, 5, 2);
	g_assert_false(f->irq[14]);                            /* none before the first block */
	for (unsigned s = 0; s < 2; s++) {
		g_assert_cmphex(status(f, PRIMARY), ==, 0x58);
		for (unsigned i = 0; i < 512; i += 4)
			bus_out(&f->pio, PRIMARY, 0xA0B0C0D0u + s * 0x01010101u + i, 4);
		settle(f, PRIMARY);
		g_assert_true(f->irq[14]);
	}
	g_assert_cmphex(status(f, PRIMARY), ==, 0x50);
	uint8_t sector[512];
	g_assert_cmpint(pread(f->disk.fd, sector, 512, 6 * 512), ==, 512);
	uint32_t word;
	memcpy(&word, sector + 8, 4);
	g_assert_cmphex(word, ==, 0xA0B0C0D0u + 0x01010101u + 8);

	/* READ SECTORS with count 0: 256 sectors, one DRQ block each. */
	command28(f, PRIMARY, 0x20, 0, 0);
	for (unsigned s = 0; s < 256; s++) {
		settle(f, PRIMARY);
		g_assert_true(f->irq[14]);
		g_assert_cmphex(status(f, PRIMARY), ==, 0x58);
		read_pio(f, PRIMARY, buf + s * 512, 512, 2);
	}
	g_assert_cmphex(status(f, PRIMARY), ==, 0x50);
	for (unsigned i = 0; i < 5 * 512; i++)
		g_assert_cmpuint(buf[i], ==, image_byte(i));
	g_assert_cmpmem(buf + 6 * 512, 512, sector, 512);
	g_assert_cmpuint(buf[255 * 512 + 7], ==, image_byte(255 * 512 + 7));

	/* LBA past the end: IDNF; LBA48 count 0 is 65536 sectors, too many here. */
	command28(f, PRIMARY, 0x20, DISK_SECTORS, 1);
	g_assert_cmphex(status(f, PRIMARY), ==, 0x51);
	g_assert_cmphex(bus_in(&f->pio, PRIMARY + 1, 1), ==, 0x10);
	command48(f, PRIMARY, 0x24, 0, 0);
	g_assert_cmphex(status(f, PRIMARY), ==, 0x51);
	g_assert_cmphex(bus_in(&f->pio, PRIMARY + 1, 1), ==, 0x10);
	/* READ SECTORS EXT of sector 0x100000009 is past the end; of 9 it reads. */
	command48(f, PRIMARY, 0x24, 0x100000009ull, 1);
	g_assert_cmphex(bus_in(&f->pio, PRIMARY + 1, 1), ==, 0x10);
	command48(f, PRIMARY, 0x24, 9, 1);
	read_pio(f, PRIMARY, buf, 512, 4);
	g_assert_cmpuint(buf[3], ==, image_byte(9 * 512 + 3));
	/* The previous bytes read back with HOB set in device control. */
	bus_out(&f->pio, PRIMARY_CONTROL, 0x80, 1);
	g_assert_cmphex(bus_in(&f->pio, PRIMARY + 3, 1), ==, 0);
	bus_out(&f->pio, PRIMARY + 3, 0x77, 1);                 /* a write clears HOB */
	g_assert_cmphex(bus_in(&f->pio, PRIMARY + 3, 1), ==, 0x77);

	/* A new command while DRQ is up replaces the old one. */
	command28(f, PRIMARY, 0x20, 0, 4);
	read_pio(f, PRIMARY, buf, 100, 2);
	command28(f, PRIMARY, 0x20, 1, 1);
	read_pio(f, PRIMARY, buf, 512, 2);
	g_assert_cmpuint(buf[0], ==, image_byte(512));
	g_assert_cmphex(status(f, PRIMARY), ==, 0x50);
	fixture_free(f);
}

static void put_prd(struct fixture *f, unsigned index, uint32_t addr, uint16_t count, bool eot)
{
	uint8_t *e = f->ram + PRD_TABLE + index * 8;
	memcpy(e, &addr, 4);
	memcpy(e + 4, &count, 2);
	e[6] = 0;
	e[7] = eot ? 0x80 : 0;
}

/* Starts the bus master of a channel (0 primary, 1 secondary). */
static void bm_start(struct fixture *f, unsigned channel, bool to_memory, uint32_t table)
{
	bus_out(&f->pio, BM_BASE + channel * 8 + 4, table, 4);
	bus_out(&f->pio, BM_BASE + channel * 8 + 2, 0x06, 1);  /* clear IRQ and ERR */
	bus_out(&f->pio, BM_BASE + channel * 8, to_memory ? 0x09 : 0x01, 1);
	settle(f, channel ? SECONDARY : PRIMARY);
}

static uint8_t bm_status(struct fixture *f, unsigned channel)
{
	return (uint8_t)bus_in(&f->pio, BM_BASE + channel * 8 + 2, 1);
}

static void test_dma(void)
{
	struct fixture *f = fixture_new();
	/* READ DMA, 3 sectors into two buffers; the command comes first, as Linux does. */
	put_prd(f, 0, BUFFER, 1024, false);
	put_prd(f, 1, BUFFER + 0x8000, 512, true);
	command28(f, PRIMARY, 0xC8, 20, 3);
	g_assert_false(f->irq[14]);
	bm_start(f, 0, true, PRD_TABLE);
	g_assert_true(f->irq[14]);
	g_assert_cmphex(bm_status(f, 0), ==, 0x04);             /* IRQ, not active, no error */
	g_assert_cmphex(status(f, PRIMARY), ==, 0x50);
	for (unsigned i = 0; i < 1024; i++)
		g_assert_cmpuint(f->ram[BUFFER + i], ==, image_byte(20 * 512 + i));
	for (unsigned i = 0; i < 512; i++)
		g_assert_cmpuint(f->ram[BUFFER + 0x8000 + i], ==, image_byte(22 * 512 + i));
	bus_out(&f->pio, BM_BASE, 0x00, 1);

	/* WRITE DMA EXT after the bus master started (SeaBIOS's order) lands in the file;
	 * a table longer than the transfer leaves Active set. */
	memset(f->ram + BUFFER, 0x5A, 512);
	put_prd(f, 0, BUFFER, 512, false);
	put_prd(f, 1, BUFFER, 512, true);
	bm_start(f, 0, false, PRD_TABLE);
	command48(f, PRIMARY, 0x35, 30, 1);
	g_assert_cmphex(bm_status(f, 0), ==, 0x05);
	bus_out(&f->pio, BM_BASE, 0x00, 1);
	g_assert_cmphex(bm_status(f, 0), ==, 0x04);
	uint8_t sector[512];
	g_assert_cmpint(pread(f->disk.fd, sector, 512, 30 * 512), ==, 512);
	for (unsigned i = 0; i < 512; i++)
		g_assert_cmpuint(sector[i], ==, 0x5A);

	/* Count 0 is 256 sectors: one 64 KiB entry (count 0) and one more. */
	put_prd(f, 0, BUFFER, 0, false);
	put_prd(f, 1, BUFFER + 0x10000, 0, true);
	command28(f, PRIMARY, 0xC8, 0, 0);
	bm_start(f, 0, true, PRD_TABLE);
	g_assert_cmphex(bm_status(f, 0), ==, 0x04);
	g_assert_cmpuint(f->ram[BUFFER + 0x1FFFF], ==, image_byte(0x1FFFF));
	bus_out(&f->pio, BM_BASE, 0x00, 1);
	fixture_free(f);
}

static void test_dma_hostile(void)
{
	struct fixture *f = fixture_new();
	/* The table outside RAM. */
	command28(f, PRIMARY, 0xC8, 0, 1);
	bm_start(f, 0, true, 0xFFFF0000);
	g_assert_cmphex(bm_status(f, 0), ==, 0x06);             /* IRQ and ERR */
	g_assert_cmphex(status(f, PRIMARY), ==, 0x51);
	g_assert_cmphex(bus_in(&f->pio, PRIMARY + 1, 1), ==, 0x04);
	bus_out(&f->pio, BM_BASE, 0x00, 1);
	/* A buffer that runs past the end of RAM. */
	put_prd(f, 0, RAM_SIZE - 256, 512, true);
	command28(f, PRIMARY, 0xC8, 0, 1);
	bm_start(f, 0, true, PRD_TABLE);
	g_assert_cmphex(bm_status(f, 0), ==, 0x06);
	bus_out(&f->pio, BM_BASE, 0x00, 1);
	/* A table that ends before the transfer. */
	put_prd(f, 0, BUFFER, 512, true);
	command28(f, PRIMARY, 0xC8, 0, 2);
	bm_start(f, 0, true, PRD_TABLE);
	g_assert_cmphex(bm_status(f, 0), ==, 0x06);
	bus_out(&f->pio, BM_BASE, 0x00, 1);
	/* A table with no end: 2 bytes per entry, never EOT, for 128 KiB. */
	for (unsigned i = 0; i < 8192; i++)
		put_prd(f, i, BUFFER, 2, false);
	command28(f, PRIMARY, 0xC8, 0, 0);
	bm_start(f, 0, true, PRD_TABLE);
	g_assert_cmphex(bm_status(f, 0), ==, 0x06);
	bus_out(&f->pio, BM_BASE, 0x00, 1);
	/* The wrong direction. */
	put_prd(f, 0, BUFFER, 512, true);
	command28(f, PRIMARY, 0xC8, 0, 1);
	bm_start(f, 0, false, PRD_TABLE);
	g_assert_cmphex(bm_status(f, 0), ==, 0x06);
	bus_out(&f->pio, BM_BASE, 0x00, 1);
	/* Without bus mastering in PCI COMMAND the transfer waits. */
	config_write(f, 0x04, 0x0001, 2);
	command28(f, PRIMARY, 0xC8, 0, 1);
	bm_start(f, 0, true, PRD_TABLE);
	g_assert_cmphex(bm_status(f, 0), ==, 0x00);
	g_assert_cmphex(status(f, PRIMARY), ==, 0x58);
	fixture_free(f);
}

/* A PACKET command on the secondary master: the CDB by PIO; DMA or PIO data. */
static void send_packet(struct fixture *f, const uint8_t cdb[12], bool dma, uint16_t byte_limit)
{
	bus_out(&f->pio, SECONDARY + 6, 0xA0, 1);
	bus_out(&f->pio, SECONDARY + 1, dma, 1);
	bus_out(&f->pio, SECONDARY + 4, byte_limit & 0xFF, 1);
	bus_out(&f->pio, SECONDARY + 5, byte_limit >> 8, 1);
	bus_out(&f->pio, SECONDARY + 7, 0xA0, 1);
	g_assert_cmphex(bus_in(&f->pio, SECONDARY_CONTROL, 1) & 0x88, ==, 0x08);
	g_assert_cmphex(bus_in(&f->pio, SECONDARY + 2, 1), ==, 0x01);   /* CoD */
	for (unsigned i = 0; i < 12; i += 2)
		bus_out(&f->pio, SECONDARY, cdb[i] | cdb[i + 1] << 8, 2);
	settle(f, SECONDARY);
}

/* Reads the PIO data phase of the packet: returns the bytes. */
static unsigned read_packet_pio(struct fixture *f, uint8_t *dst, unsigned max)
{
	unsigned got = 0;
	while (settle(f, SECONDARY), status(f, SECONDARY) & 0x08) {
		g_assert_cmphex(bus_in(&f->pio, SECONDARY + 2, 1), ==, 0x02);   /* I/O, data */
		unsigned len = (unsigned)(bus_in(&f->pio, SECONDARY + 4, 1) | bus_in(&f->pio, SECONDARY + 5, 1) << 8);
		g_assert_cmpuint(got + len, <=, max);
		read_pio(f, SECONDARY, dst + got, len, 2);
		got += len;
		settle(f, SECONDARY);
		g_assert_true(f->irq[15]);
	}
	g_assert_cmphex(bus_in(&f->pio, SECONDARY + 2, 1), ==, 0x03);       /* status phase */
	return got;
}

static void test_atapi(void)
{
	struct fixture *f = fixture_new();
	g_autofree uint8_t *buf = g_malloc(4 * 2048);
	uint8_t read10[12] = { 0x28, 0, 0, 0, 0, 16, 0, 0, 2 };
	/* READ(10) of blocks 16-17 by PIO, 2048 bytes per DRQ block. */
	send_packet(f, read10, false, 2048);
	g_assert_cmpuint(read_packet_pio(f, buf, 4 * 2048), ==, 2 * 2048);
	g_assert_cmphex(status(f, SECONDARY), ==, 0x50);
	g_assert_cmpmem(buf + 1, 5, "CD001", 5);
	for (unsigned i = 6; i < 2 * 2048; i++)
		g_assert_cmpuint(buf[i], ==, image_byte(16 * 2048 + i));
	/* The same by DMA. */
	put_prd(f, 0, BUFFER, 4096, true);
	send_packet(f, read10, true, 0);
	g_assert_cmphex(status(f, SECONDARY), ==, 0x58);
	bm_start(f, 1, true, PRD_TABLE);
	g_assert_true(f->irq[15]);
	g_assert_cmphex(bm_status(f, 1), ==, 0x04);
	g_assert_cmphex(status(f, SECONDARY), ==, 0x50);
	g_assert_cmpmem(f->ram + BUFFER, 4096, buf, 4096);
	bus_out(&f->pio, BM_BASE + 8, 0x00, 1);

	/* READ TOC: one track and the lead-out at block 40. */
	send_packet(f, (uint8_t[12]){ 0x43, 0, 0, 0, 0, 0, 0, 0, 100 }, false, 100);
	g_assert_cmpuint(read_packet_pio(f, buf, 100), ==, 20);
	g_assert_cmpuint(buf[19], ==, DISC_BLOCKS);
	/* Out of range, then REQUEST SENSE: ILLEGAL REQUEST / LBA OUT OF RANGE. */
	send_packet(f, (uint8_t[12]){ 0x28, 0, 0, 0, 0, DISC_BLOCKS, 0, 0, 1 }, false, 2048);
	g_assert_true(f->irq[15]);
	g_assert_cmphex(status(f, SECONDARY), ==, 0x51);
	g_assert_cmphex(bus_in(&f->pio, SECONDARY + 1, 1) >> 4, ==, 0x05);
	send_packet(f, (uint8_t[12]){ 0x03, 0, 0, 0, 18 }, false, 18);
	g_assert_cmpuint(read_packet_pio(f, buf, 18), ==, 18);
	g_assert_cmphex(buf[2], ==, 0x05);
	g_assert_cmphex(buf[12], ==, 0x21);
	/* An odd byte count limit: even DRQ blocks but the last. */
	send_packet(f, read10, false, 1001);
	g_assert_cmpuint(bus_in(&f->pio, SECONDARY + 4, 1), ==, 1000 & 0xFF);
	g_assert_cmpuint(read_packet_pio(f, buf, 4 * 2048), ==, 2 * 2048);

	/* A disc changed from outside: UNIT ATTENTION once; ejected: NOT READY. */
	g_assert_true(piix_ide_change_medium(&f->ide, 2, &f->disc) == &f->disc);
	send_packet(f, (uint8_t[12]){ 0x00 }, false, 0);
	g_assert_cmphex(status(f, SECONDARY), ==, 0x51);
	g_assert_cmphex(bus_in(&f->pio, SECONDARY + 1, 1) >> 4, ==, 0x06);
	send_packet(f, (uint8_t[12]){ 0x00 }, false, 0);
	g_assert_cmphex(status(f, SECONDARY), ==, 0x50);
	g_assert_true(piix_ide_change_medium(&f->ide, 2, NULL) == &f->disc);
	send_packet(f, (uint8_t[12]){ 0x25 }, false, 8);
	g_assert_cmphex(bus_in(&f->pio, SECONDARY + 1, 1) >> 4, ==, 0x06);
	send_packet(f, (uint8_t[12]){ 0x25 }, false, 8);
	g_assert_cmphex(status(f, SECONDARY), ==, 0x51);
	g_assert_cmphex(bus_in(&f->pio, SECONDARY + 1, 1) >> 4, ==, 0x02);
	fixture_free(f);
}

/* REQUEST SENSE by PIO: the sense key, ASC and ASCQ. */
static void request_sense(struct fixture *f, uint8_t sense[3])
{
	uint8_t buf[18];
	send_packet(f, (uint8_t[12]){ 0x03, 0, 0, 0, 18 }, false, 18);
	g_assert_cmpuint(read_packet_pio(f, buf, 18), ==, 18);
	sense[0] = buf[2] & 0x0F;
	sense[1] = buf[12];
	sense[2] = buf[13];
}

/* The user ejects or changes the disc while a READ(10) is open: the drive
 * ends it with CHECK CONDITION and interrupts; the host's further reads
 * and bus-master start move nothing, and the engine keeps going. */
static void test_eject_during_transfer(void)
{
	struct fixture *f = fixture_new();
	uint8_t read10[12] = { 0x28, 0, 0, 0, 0, 16, 0, 0, 2 }, sense[3];
	uint8_t part[64];
	/* PIO: eject halfway through the first DRQ block. */
	send_packet(f, read10, false, 2048);
	read_pio(f, SECONDARY, part, sizeof(part), 2);
	g_assert_true(f->irq[15]);
	g_assert_cmphex(bus_in(&f->pio, SECONDARY + 7, 1), ==, 0x58);  /* clears INTRQ */
	g_assert_false(f->irq[15]);
	g_assert_true(piix_ide_change_medium(&f->ide, 2, NULL) == &f->disc);
	g_assert_true(f->irq[15]);
	g_assert_cmphex(status(f, SECONDARY), ==, 0x51);
	g_assert_cmphex(bus_in(&f->pio, SECONDARY + 1, 1) >> 4, ==, 0x02);
	g_assert_cmphex(bus_in(&f->pio, SECONDARY + 2, 1), ==, 0x03);
	for (unsigned i = 0; i < 4096; i += 2)
		g_assert_cmphex(bus_in(&f->pio, SECONDARY, 2), ==, 0xFFFF);
	request_sense(f, sense);
	g_assert_cmpmem(sense, 3, ((uint8_t[]){ 0x02, 0x3A, 0x00 }), 3);

	/* PIO: another disc goes in mid-transfer: UNIT ATTENTION, said once. */
	g_assert_null(piix_ide_change_medium(&f->ide, 2, &f->disc));
	send_packet(f, (uint8_t[12]){ 0x00 }, false, 0);               /* the UNIT ATTENTION of the insert */
	send_packet(f, read10, false, 2048);
	g_assert_true(piix_ide_change_medium(&f->ide, 2, &f->disc) == &f->disc);
	g_assert_cmphex(status(f, SECONDARY), ==, 0x51);
	g_assert_cmphex(bus_in(&f->pio, SECONDARY + 1, 1) >> 4, ==, 0x06);
	request_sense(f, sense);
	g_assert_cmpmem(sense, 3, ((uint8_t[]){ 0x06, 0x28, 0x00 }), 3);
	send_packet(f, (uint8_t[12]){ 0x00 }, false, 0);
	g_assert_cmphex(status(f, SECONDARY), ==, 0x50);

	/* DMA: the drive waits for the bus master when the disc goes. */
	memset(f->ram + BUFFER, 0xEE, 4096);
	put_prd(f, 0, BUFFER, 4096, true);
	send_packet(f, read10, true, 0);
	g_assert_cmphex(status(f, SECONDARY), ==, 0x58);
	g_assert_true(piix_ide_change_medium(&f->ide, 2, NULL) == &f->disc);
	g_assert_true(f->irq[15]);
	g_assert_cmphex(bm_status(f, 1) & 0x04, ==, 0x04);
	g_assert_cmphex(status(f, SECONDARY), ==, 0x51);
	bm_start(f, 1, true, PRD_TABLE);
	g_assert_cmphex(bm_status(f, 1), ==, 0x00);
	g_assert_cmpuint(f->ram[BUFFER], ==, 0xEE);
	bus_out(&f->pio, BM_BASE + 8, 0x00, 1);
	request_sense(f, sense);
	g_assert_cmpmem(sense, 3, ((uint8_t[]){ 0x02, 0x3A, 0x00 }), 3);
	fixture_free(f);
}

/* A slow disk (the block layer's test delay): the drive is busy while a
 * worker reads, the port write that started it has returned; a software
 * reset then drops the request, so no interrupt or status of it shows. */
static void test_slow_disk_and_reset(void)
{
	g_setenv("VIREO_TEST_BLOCK_DELAY_MS", "500", TRUE);
	struct fixture *f = fixture_new();
	put_prd(f, 0, BUFFER, 512, true);
	command28(f, PRIMARY, 0xC8, 0, 1);
	gint64 start = g_get_monotonic_time();
	bus_out(&f->pio, BM_BASE + 4, PRD_TABLE, 4);
	bus_out(&f->pio, BM_BASE, 0x09, 1);
	g_assert_cmpint(g_get_monotonic_time() - start, <, 250 * G_TIME_SPAN_MILLISECOND);
	g_assert_cmphex(bus_in(&f->pio, PRIMARY_CONTROL, 1), ==, 0x80);
	g_assert_false(f->irq[14]);
	settle(f, PRIMARY);
	g_assert_true(f->irq[14]);
	g_assert_cmphex(status(f, PRIMARY), ==, 0x50);
	g_assert_cmpuint(f->ram[BUFFER + 5], ==, image_byte(5));
	bus_out(&f->pio, BM_BASE, 0x00, 1);

	/* The guest resets the drive while a read is in flight. */
	memset(f->ram + BUFFER, 0, 512);
	command28(f, PRIMARY, 0xC8, 1, 1);
	bus_out(&f->pio, BM_BASE + 2, 0x06, 1);
	bus_out(&f->pio, BM_BASE, 0x09, 1);
	g_assert_cmphex(bus_in(&f->pio, PRIMARY_CONTROL, 1), ==, 0x80);
	bus_out(&f->pio, PRIMARY_CONTROL, 0x06, 1);            /* SRST, nIEN */
	bus_out(&f->pio, PRIMARY_CONTROL, 0x00, 1);
	g_usleep(100 * G_TIME_SPAN_MILLISECOND);
	g_assert_false(f->irq[14]);
	g_assert_cmphex(bm_status(f, 0) & 0x04, ==, 0x00);
	g_assert_cmphex(status(f, PRIMARY), ==, 0x50);
	g_assert_cmphex(bus_in(&f->pio, PRIMARY + 2, 1), ==, 1);   /* the signature, not the read's result */
	g_assert_cmphex(bus_in(&f->pio, PRIMARY + 3, 1), ==, 1);
	bus_out(&f->pio, BM_BASE, 0x00, 1);

	/* The PC's reset line while a read is in flight: dropped too. */
	command28(f, PRIMARY, 0xC8, 2, 1);
	bus_out(&f->pio, BM_BASE + 2, 0x06, 1);
	bus_out(&f->pio, BM_BASE, 0x09, 1);
	g_assert_cmphex(bus_in(&f->pio, PRIMARY_CONTROL, 1), ==, 0x80);
	piix_ide_device_ops.reset(&f->ide);
	g_usleep(700 * G_TIME_SPAN_MILLISECOND);  /* past the disk's delay */
	g_assert_false(f->irq[14]);
	g_assert_cmphex(status(f, PRIMARY), ==, 0x50);
	g_assert_cmphex(bus_in(&f->pio, PRIMARY + 3, 1), ==, 1);   /* the signature */
	fixture_free(f);
	g_unsetenv("VIREO_TEST_BLOCK_DELAY_MS");
}

/* Garbage to every port and config register, then the drives still work. */
static void test_garbage(void)
{
	struct fixture *f = fixture_new();
	uint8_t id[512];
	for (unsigned i = 0; i < 16; i++)
		put_prd(f, i, BUFFER + i * 0x1000, (uint16_t)(i * 0x1234), i == 15);
	bus_poke_randomly(&f->pio, PRIMARY, 8, 20000, 1, NULL, NULL);
	bus_poke_randomly(&f->pio, SECONDARY, 8, 20000, 2, NULL, NULL);
	bus_poke_randomly(&f->pio, PRIMARY_CONTROL, 1, 2000, 3, NULL, NULL);
	bus_poke_randomly(&f->pio, SECONDARY_CONTROL, 1, 2000, 4, NULL, NULL);
	GRand *rng = g_rand_new_with_seed(5);
	for (unsigned i = 0; i < 20000; i++) {
		unsigned base = g_rand_boolean(rng) ? PRIMARY : SECONDARY;
		bus_out(&f->pio, base + (unsigned)g_rand_int_range(rng, 1, 7), g_rand_int(rng), 1);
		bus_out(&f->pio, base + 7, g_rand_int_range(rng, 0, 256), 1);
		bus_out(&f->pio, BM_BASE + (unsigned)g_rand_int_range(rng, 0, 16), g_rand_int(rng) & ~0xFFFF0003u,
			(unsigned)(1 << g_rand_int_range(rng, 0, 3)));
		bus_out(&f->pio, BM_BASE + 4 + (unsigned)g_rand_int_range(rng, 0, 2) * 8, PRD_TABLE, 4);
		for (unsigned n = g_rand_int_range(rng, 0, 300); n; n--)
			bus_in(&f->pio, base, 4);
		for (unsigned n = g_rand_int_range(rng, 0, 300); n; n--)
			bus_out(&f->pio, base, g_rand_int(rng), 2);
	}
	g_rand_free(rng);
	for (unsigned reg = 0; reg < 256; reg++)
		config_write(f, reg, 0xFFFFFFFF, 1);
	bus_poke_randomly(&f->pio, BM_BASE, 16, 20000, 6, NULL, NULL);
	g_assert_cmphex(config_read(f, 0x00, 4), ==, 0x70108086);
	config_write(f, 0x20, BM_BASE, 4);
	config_write(f, 0x04, 0x0005, 2);
	bus_out(&f->pio, PRIMARY_CONTROL, 0x04, 1);
	bus_out(&f->pio, PRIMARY_CONTROL, 0x00, 1);
	command28(f, PRIMARY, 0xEC, 0, 0);
	read_pio(f, PRIMARY, id, sizeof(id), 2);
	g_assert_cmphex(id[54], ==, 'I');                        /* "VIREO..." byte-swapped */
	g_assert_cmphex(status(f, PRIMARY), ==, 0x50);
	fixture_free(f);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/ide/identify-and-signatures", test_identify_and_signatures);
	g_test_add_func("/ide/pio-read-write", test_pio_read_write);
	g_test_add_func("/ide/dma", test_dma);
	g_test_add_func("/ide/dma-hostile", test_dma_hostile);
	g_test_add_func("/ide/atapi", test_atapi);
	g_test_add_func("/ide/eject-during-transfer", test_eject_during_transfer);
	g_test_add_func("/ide/slow-disk-and-reset", test_slow_disk_and_reset);
	g_test_add_func("/ide/garbage", test_garbage);
	return g_test_run();
}
