/* The transport-neutral ATA/ATAPI drive: commands in as taskfiles and CDBs,
 * data through iovecs, checked against the bytes of real image files. */
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "core/trace.h"
#include "hw/ata.h"
#include "hw/atapi.h"

#define DISK_SECTORS 300
#define DISC_BLOCKS 40

struct image {
	char *path;
	struct block_backend blk;
};

/* A file whose every byte is a function of its offset, opened read-write. */
static void image_new(struct image *img, uint64_t size, bool iso)
{
	int fd = g_file_open_tmp("vireo-ata-XXXXXX", &img->path, NULL);
	g_assert_cmpint(fd, >=, 0);
	g_autofree uint8_t *bytes = g_malloc(size);
	for (uint64_t i = 0; i < size; i++)
		bytes[i] = (uint8_t)(i * 7 + i / 512);
	if (iso)
		memcpy(bytes + 32769, "CD001", 5);
	g_assert_cmpint(write(fd, bytes, size), ==, (ssize_t)size);
	close(fd);
	char *error = NULL;
	g_assert_cmpint(block_open(&img->blk, img->path, false, &error), ==, 0);
}

static void image_free(struct image *img)
{
	block_close(&img->blk);
	g_unlink(img->path);
	g_free(img->path);
}

static uint8_t file_byte(uint64_t i)
{
	return (uint8_t)(i * 7 + i / 512);
}

/* Runs a command and moves its data (PIO: DRQ block by block). Returns the
 * bytes moved; `data` is filled (in) or sent (out). */
static uint64_t run(struct ata_drive *d, const struct ata_taskfile *tf, uint8_t *data, size_t size,
		    struct ata_transfer *xfer)
{
	uint64_t moved = 0;
	ata_command(d, tf, xfer);
	if (xfer->flush)
		ata_data(d, NULL, 0, xfer);
	while (xfer->bytes && !xfer->packet) {
		uint64_t n = xfer->dma ? xfer->bytes : MIN(xfer->block, xfer->bytes);
		g_assert_cmpuint(moved + n, <=, size);
		struct iovec iov = { data + moved, n };
		if (ata_data(d, &iov, 1, xfer) < 0)
			break;
		moved += n;
	}
	return moved;
}

static struct ata_taskfile lba28(uint8_t command, uint32_t lba, uint8_t count)
{
	return (struct ata_taskfile){ .command = command, .count = count,
		.lba = { (uint8_t)lba, (uint8_t)(lba >> 8), (uint8_t)(lba >> 16) },
		.device = (uint8_t)(ATA_DEVICE_LBA | (lba >> 24 & 0x0F)) };
}

static struct ata_taskfile lba48(uint8_t command, uint64_t lba, uint16_t count)
{
	struct ata_taskfile tf = { .command = command, .count = (uint8_t)count, .count_exp = (uint8_t)(count >> 8),
				   .device = ATA_DEVICE_LBA };
	for (unsigned i = 0; i < 6; i++)
		tf.lba[i] = (uint8_t)(lba >> (8 * i));
	return tf;
}

static uint16_t word(const uint8_t *id, unsigned w)
{
	return (uint16_t)(id[2 * w] | id[2 * w + 1] << 8);
}

static char *ata_string(const uint8_t *id, unsigned w, unsigned words)
{
	char *s = g_malloc0(words * 2 + 1);
	for (unsigned i = 0; i < words * 2; i++)
		s[i] = (char)id[w * 2 + (i ^ 1)];
	return g_strchomp(s);
}

static void test_identify(void)
{
	struct image img;
	struct ata_drive d;
	struct ata_transfer x;
	uint8_t id[512];
	image_new(&img, DISK_SECTORS * 512, false);
	ata_drive_init(&d, ATA_DRIVE_DISK, &img.blk, "SER-42", 0);
	struct ata_taskfile tf = { .command = 0xEC };
	g_assert_cmpuint(run(&d, &tf, id, sizeof(id), &x), ==, 512);
	g_assert_cmphex(d.result.status, ==, ATA_STATUS_DRDY | ATA_STATUS_DSC);
	g_autofree char *model = ata_string(id, 27, 20);
	g_autofree char *serial = ata_string(id, 10, 10);
	g_assert_cmpstr(model, ==, "VIREO HARDDISK");
	g_assert_cmpstr(serial, ==, "SER-42");
	g_assert_cmphex(word(id, 0), ==, 0x0040);
	g_assert_cmpuint(word(id, 60) | (uint32_t)word(id, 61) << 16, ==, DISK_SECTORS);
	g_assert_cmpuint(word(id, 100), ==, DISK_SECTORS);
	g_assert_true(word(id, 83) & (1u << 10));      /* 48-bit */
	g_assert_true(word(id, 49) & (1u << 8));       /* DMA */
	g_assert_true(word(id, 85) & (1u << 5));       /* write cache on */
	uint8_t sum = 0;
	for (unsigned i = 0; i < 512; i++)
		sum += id[i];
	g_assert_cmpuint(sum, ==, 0);
	g_assert_cmphex(id[510], ==, 0xA5);

	/* SET FEATURES: UDMA 5 and write cache off show in IDENTIFY. */
	tf = (struct ata_taskfile){ .command = 0xEF, .features = 0x03, .count = 0x45 };
	run(&d, &tf, NULL, 0, &x);
	g_assert_cmphex(d.result.status, ==, ATA_STATUS_DRDY | ATA_STATUS_DSC);
	tf = (struct ata_taskfile){ .command = 0xEF, .features = 0x82 };
	run(&d, &tf, NULL, 0, &x);
	tf = (struct ata_taskfile){ .command = 0xEC };
	run(&d, &tf, id, sizeof(id), &x);
	g_assert_cmphex(word(id, 88), ==, 0x203F);
	g_assert_cmphex(word(id, 63) & 0x0700, ==, 0);
	g_assert_false(word(id, 85) & (1u << 5));
	/* A mode that does not exist, and IDENTIFY PACKET on a disk, abort. */
	tf = (struct ata_taskfile){ .command = 0xEF, .features = 0x03, .count = 0x47 };
	run(&d, &tf, NULL, 0, &x);
	g_assert_cmphex(d.result.error, ==, ATA_ERROR_ABRT);
	tf = (struct ata_taskfile){ .command = 0xA1 };
	g_assert_cmpuint(run(&d, &tf, id, sizeof(id), &x), ==, 0);
	g_assert_cmphex(d.result.status, ==, ATA_STATUS_DRDY | ATA_STATUS_DSC | ATA_STATUS_ERR);
	g_assert_cmphex(d.result.error, ==, ATA_ERROR_ABRT);
	image_free(&img);
}

static void test_read_write(void)
{
	struct image img;
	struct ata_drive d;
	struct ata_transfer x;
	g_autofree uint8_t *buf = g_malloc(256 * 512);
	image_new(&img, DISK_SECTORS * 512, false);
	ata_drive_init(&d, ATA_DRIVE_DISK, &img.blk, NULL, 3);

	/* READ SECTORS: one sector per DRQ block. */
	struct ata_taskfile tf = lba28(0x20, 10, 3);
	ata_command(&d, &tf, &x);
	g_assert_cmpuint(x.dir, ==, ATA_DIR_IN);
	g_assert_false(x.dma);
	g_assert_cmpuint(x.block, ==, 512);
	g_assert_cmpuint(run(&d, &tf, buf, 3 * 512, &x), ==, 3 * 512);
	for (unsigned i = 0; i < 3 * 512; i++)
		g_assert_cmpuint(buf[i], ==, file_byte(10 * 512 + i));

	/* Count 0 is 256 sectors (LBA28) */
	tf = lba28(0xC8, 0, 0);
	g_assert_cmpuint(run(&d, &tf, buf, 256 * 512, &x), ==, 256 * 512);
	g_assert_cmphex(d.result.status, ==, ATA_STATUS_DRDY | ATA_STATUS_DSC);
	/* ... and 65536 with LBA48, past the end of this disk: IDNF. */
	tf = lba48(0x25, 0, 0);
	g_assert_cmpuint(run(&d, &tf, buf, 0, &x), ==, 0);
	g_assert_cmphex(d.result.error, ==, ATA_ERROR_IDNF);

	/* WRITE DMA EXT through scattered buffers lands in the file. */
	uint8_t a[100], b[924];
	memset(a, 0xA1, sizeof(a));
	memset(b, 0xB2, sizeof(b));
	tf = lba48(0x35, 299, 0);
	run(&d, &tf, buf, 0, &x);
	g_assert_cmphex(d.result.error, ==, ATA_ERROR_IDNF);  /* 65536 from 299 */
	tf = lba48(0x35, 298, 2);
	ata_command(&d, &tf, &x);
	g_assert_true(x.dma);
	g_assert_cmpuint(x.dir, ==, ATA_DIR_OUT);
	struct iovec iov[2] = { { a, sizeof(a) }, { b, sizeof(b) } };
	g_assert_cmpint(ata_data(&d, iov, 2, &x), ==, 0);
	g_assert_cmpuint(x.bytes, ==, 0);
	g_assert_cmphex(d.result.status, ==, ATA_STATUS_DRDY | ATA_STATUS_DSC);
	uint8_t back[1024];
	g_assert_cmpint(pread(img.blk.fd, back, sizeof(back), 298 * 512), ==, 1024);
	g_assert_cmpmem(back, 100, a, 100);
	g_assert_cmpmem(back + 100, 924, b, 924);

	/* Past the end by one sector. */
	tf = lba28(0x20, DISK_SECTORS - 1, 2);
	run(&d, &tf, buf, 0, &x);
	g_assert_cmphex(d.result.status, ==, ATA_STATUS_DRDY | ATA_STATUS_DSC | ATA_STATUS_ERR);
	g_assert_cmphex(d.result.error, ==, ATA_ERROR_IDNF);

	/* READ MULTIPLE needs SET MULTIPLE first; 3 is not a power of two. */
	tf = lba28(0xC4, 0, 8);
	run(&d, &tf, buf, 0, &x);
	g_assert_cmphex(d.result.error, ==, ATA_ERROR_ABRT);
	tf = (struct ata_taskfile){ .command = 0xC6, .count = 3 };
	run(&d, &tf, NULL, 0, &x);
	g_assert_cmphex(d.result.error, ==, ATA_ERROR_ABRT);
	tf = (struct ata_taskfile){ .command = 0xC6, .count = 4 };
	run(&d, &tf, NULL, 0, &x);
	g_assert_cmphex(d.result.status, ==, ATA_STATUS_DRDY | ATA_STATUS_DSC);
	tf = lba28(0xC4, 5, 6);
	ata_command(&d, &tf, &x);
	g_assert_cmpuint(x.block, ==, 4 * 512);
	g_assert_cmpuint(run(&d, &tf, buf, 6 * 512, &x), ==, 6 * 512);
	g_assert_cmpuint(buf[6 * 512 - 1], ==, file_byte(11 * 512 - 1));

	/* CHS: cylinder 0, head 1, sector 1 is LBA 63. */
	tf = (struct ata_taskfile){ .command = 0x20, .count = 1, .lba = { 1, 0, 0 }, .device = 0x01 };
	run(&d, &tf, buf, 512, &x);
	g_assert_cmpuint(buf[0], ==, file_byte(63 * 512));
	tf.lba[0] = 0;                                   /* sector 0 does not exist */
	run(&d, &tf, buf, 512, &x);
	g_assert_cmphex(d.result.error, ==, ATA_ERROR_IDNF);

	/* READ VERIFY and FLUSH CACHE EXT: no data, success. */
	tf = lba28(0x40, 0, 10);
	g_assert_cmpuint(run(&d, &tf, buf, 0, &x), ==, 0);
	g_assert_cmphex(d.result.status, ==, ATA_STATUS_DRDY | ATA_STATUS_DSC);
	tf = (struct ata_taskfile){ .command = 0xEA };
	run(&d, &tf, NULL, 0, &x);
	g_assert_cmphex(d.result.status, ==, ATA_STATUS_DRDY | ATA_STATUS_DSC);
	image_free(&img);
}

static void test_power_and_diagnostics(void)
{
	struct image img;
	struct ata_drive d;
	struct ata_transfer x;
	image_new(&img, DISK_SECTORS * 512, false);
	ata_drive_init(&d, ATA_DRIVE_DISK, &img.blk, NULL, 0);
	struct ata_taskfile tf = { .command = 0xE0 };
	run(&d, &tf, NULL, 0, &x);
	tf = (struct ata_taskfile){ .command = 0xE5 };
	run(&d, &tf, NULL, 0, &x);
	g_assert_cmphex(d.result.count, ==, 0x00);
	tf = (struct ata_taskfile){ .command = 0xE3 };
	run(&d, &tf, NULL, 0, &x);
	tf = (struct ata_taskfile){ .command = 0xE5 };
	run(&d, &tf, NULL, 0, &x);
	g_assert_cmphex(d.result.count, ==, 0xFF);
	tf = (struct ata_taskfile){ .command = 0x90, .lba = { 9, 9, 9 } };
	run(&d, &tf, NULL, 0, &x);
	g_assert_cmphex(d.result.error, ==, 0x01);
	g_assert_cmphex(d.result.count, ==, 1);
	g_assert_cmphex(d.result.lba[0], ==, 1);
	g_assert_cmphex(d.result.lba[1], ==, 0);
	g_assert_cmphex(d.result.lba[2], ==, 0);
	tf = (struct ata_taskfile){ .command = 0xFF };   /* no such command */
	run(&d, &tf, NULL, 0, &x);
	g_assert_cmphex(d.result.status, ==, ATA_STATUS_DRDY | ATA_STATUS_DSC | ATA_STATUS_ERR);
	g_assert_cmphex(d.result.error, ==, ATA_ERROR_ABRT);
	image_free(&img);
}

/* A PACKET command with its CDB; the reply lands in data. */
static uint64_t packet(struct ata_drive *d, const uint8_t *cdb, uint8_t *data, size_t size, bool dma)
{
	struct ata_taskfile tf = { .command = 0xA0, .features = dma, .lba = { 0, 0x00, 0x08 } };
	struct ata_transfer x;
	ata_command(d, &tf, &x);
	g_assert_true(x.packet);
	g_assert_cmpuint(x.bytes, ==, 12);
	g_assert_cmphex(d->result.count, ==, ATAPI_REASON_COD);
	uint8_t full[12] = { 0 };
	memcpy(full, cdb, 12);
	ata_packet(d, full, &x);
	g_assert_true(x.dir == ATA_DIR_NONE || x.bytes);         /* no data phase of 0 bytes */
	uint64_t moved = 0;
	while (x.bytes) {
		g_assert(x.dma == dma);
		uint64_t n = dma ? x.bytes : MIN(x.block, x.bytes);
		g_assert_true(dma || n <= 2048);               /* the byte count limit */
		g_assert_cmpuint(moved + n, <=, size);
		struct iovec iov = { data + moved, n };
		g_assert_cmpint(ata_data(d, &iov, 1, &x), ==, 0);
		moved += n;
	}
	g_assert_cmphex(d->result.count, ==, ATAPI_REASON_IO | ATAPI_REASON_COD);
	return moved;
}

static void request_sense(struct ata_drive *d, uint8_t key, uint8_t asc)
{
	uint8_t sense[18];
	g_assert_cmphex(d->result.status & ATA_STATUS_ERR, ==, ATA_STATUS_ERR);
	g_assert_cmphex(d->result.error >> 4, ==, key);
	g_assert_cmpuint(packet(d, (uint8_t[12]){ 0x03, 0, 0, 0, 18 }, sense, sizeof(sense), false), ==, 18);
	g_assert_cmphex(sense[0], ==, 0x70);
	g_assert_cmphex(sense[2], ==, key);
	g_assert_cmphex(sense[12], ==, asc);
	g_assert_cmphex(d->result.status, ==, ATA_STATUS_DRDY | ATA_STATUS_DSC);
}

static void test_atapi_read(void)
{
	struct image img;
	struct ata_drive d;
	g_autofree uint8_t *buf = g_malloc(8 * 2048);
	image_new(&img, DISC_BLOCKS * 2048, true);
	ata_drive_init(&d, ATA_DRIVE_CDROM, &img.blk, NULL, 2);
	g_assert_cmphex(d.result.lba[1], ==, 0x14);
	g_assert_cmphex(d.result.lba[2], ==, 0xEB);
	g_assert_cmphex(d.result.status, ==, 0);

	/* IDENTIFY DEVICE aborts and shows the ATAPI signature. */
	struct ata_taskfile tf = { .command = 0xEC };
	struct ata_transfer x;
	g_assert_cmpuint(run(&d, &tf, buf, 512, &x), ==, 0);
	g_assert_cmphex(d.result.error, ==, ATA_ERROR_ABRT);
	g_assert_cmphex(d.result.lba[2], ==, 0xEB);
	tf.command = 0xA1;
	g_assert_cmpuint(run(&d, &tf, buf, 512, &x), ==, 512);
	g_assert_cmphex(word(buf, 0), ==, 0x85C0);
	g_autofree char *model = ata_string(buf, 27, 20);
	g_assert_cmpstr(model, ==, "VIREO DVD-ROM");

	/* READ(10) of 3 blocks from block 17 by PIO, 2048 bytes a DRQ block,
	 * and READ(12) by DMA. */
	for (int dma = 0; dma < 2; dma++) {
		uint8_t read10[12] = { 0x28, 0, 0, 0, 0, 17, 0, 0, 3 };
		uint8_t read12[12] = { 0xA8, 0, 0, 0, 0, 17, 0, 0, 0, 3 };
		memset(buf, 0, 3 * 2048);
		g_assert_cmpuint(packet(&d, dma ? read12 : read10, buf, 3 * 2048, dma), ==, 3 * 2048);
		for (unsigned i = 0; i < 3 * 2048; i++)
			g_assert_cmpuint(buf[i], ==, file_byte(17 * 2048 + i));
	}

	/* Past the end: ILLEGAL REQUEST / LBA OUT OF RANGE, then a clean sense. */
	g_assert_cmpuint(packet(&d, (uint8_t[12]){ 0x28, 0, 0, 0, 0, DISC_BLOCKS - 1, 0, 0, 2 }, buf, 0, false), ==, 0);
	request_sense(&d, SENSE_ILLEGAL_REQUEST, 0x21);
	packet(&d, (uint8_t[12]){ 0x03, 0, 0, 0, 18 }, buf, 18, false);
	g_assert_cmphex(buf[2], ==, 0);

	/* READ CAPACITY: last block and block size. */
	g_assert_cmpuint(packet(&d, (uint8_t[12]){ 0x25 }, buf, 8, false), ==, 8);
	g_assert_cmpuint(buf[3], ==, DISC_BLOCKS - 1);
	g_assert_cmpuint(buf[6], ==, 0x08);
	image_free(&img);
}

static void test_atapi_toc(void)
{
	struct image img;
	struct ata_drive d;
	uint8_t buf[64];
	image_new(&img, DISC_BLOCKS * 2048, true);
	ata_drive_init(&d, ATA_DRIVE_CDROM, &img.blk, NULL, 2);
	/* Format 0, LBA: track 1 at 0, lead-out at DISC_BLOCKS. */
	g_assert_cmpuint(packet(&d, (uint8_t[12]){ 0x43, 0, 0, 0, 0, 0, 0, 0, 64 }, buf, sizeof(buf), false), ==, 20);
	g_assert_cmpuint(buf[1], ==, 18);
	g_assert_cmpuint(buf[2], ==, 1);
	g_assert_cmpuint(buf[3], ==, 1);
	g_assert_cmphex(buf[5], ==, 0x14);
	g_assert_cmpuint(buf[6], ==, 1);
	g_assert_cmphex(buf[14], ==, 0xAA);
	g_assert_cmpuint(buf[19], ==, DISC_BLOCKS);
	/* MSF: the lead-out at 00:02:40 (150 + 40 frames). */
	packet(&d, (uint8_t[12]){ 0x43, 0x02, 0, 0, 0, 0, 0, 0, 64 }, buf, sizeof(buf), false);
	g_assert_cmpuint(buf[17], ==, 0);
	g_assert_cmpuint(buf[18], ==, 2);
	g_assert_cmpuint(buf[19], ==, 40);
	/* Format 1: one session starting at track 1. */
	g_assert_cmpuint(packet(&d, (uint8_t[12]){ 0x43, 0, 1, 0, 0, 0, 0, 0, 64 }, buf, sizeof(buf), false), ==, 12);
	g_assert_cmpuint(buf[1], ==, 10);
	g_assert_cmpuint(buf[6], ==, 1);
	/* The allocation length cuts the reply; track 2 does not exist. */
	g_assert_cmpuint(packet(&d, (uint8_t[12]){ 0x43, 0, 0, 0, 0, 0, 0, 0, 4 }, buf, sizeof(buf), false), ==, 4);
	packet(&d, (uint8_t[12]){ 0x43, 0, 0, 0, 0, 0, 2, 0, 64 }, buf, sizeof(buf), false);
	request_sense(&d, SENSE_ILLEGAL_REQUEST, 0x24);
	image_free(&img);
}

static void test_atapi_inquiry_config_modes(void)
{
	struct image img;
	struct ata_drive d;
	uint8_t buf[128];
	image_new(&img, DISC_BLOCKS * 2048, true);
	ata_drive_init(&d, ATA_DRIVE_CDROM, &img.blk, NULL, 2);
	g_assert_cmpuint(packet(&d, (uint8_t[12]){ 0x12, 0, 0, 0, 96 }, buf, sizeof(buf), false), ==, 36);
	g_assert_cmphex(buf[0], ==, 0x05);
	g_assert_cmphex(buf[1], ==, 0x80);
	g_assert_cmpmem(buf + 8, 5, "VIREO", 5);
	/* GET CONFIGURATION: a small image is a CD-ROM. */
	uint64_t n = packet(&d, (uint8_t[12]){ 0x46, 0, 0, 0, 0, 0, 0, 0, 128 }, buf, sizeof(buf), false);
	g_assert_cmpuint(n, ==, 8 + 12 + 12 + 8 + 8);
	g_assert_cmpuint(buf[3], ==, n - 4);
	g_assert_cmphex(buf[7], ==, 0x08);
	g_assert_cmphex(buf[8 + 1], ==, 0x00);                    /* profile list first */
	g_assert_cmphex(buf[8 + 4 + 1], ==, 0x10);                /* DVD-ROM, not current */
	g_assert_cmphex(buf[8 + 4 + 2], ==, 0);
	g_assert_cmphex(buf[8 + 8 + 1], ==, 0x08);                /* CD-ROM, current */
	g_assert_cmphex(buf[8 + 8 + 2], ==, 1);
	/* RT 2: the removable medium feature alone. */
	n = packet(&d, (uint8_t[12]){ 0x46, 2, 0, 3, 0, 0, 0, 0, 128 }, buf, sizeof(buf), false);
	g_assert_cmpuint(n, ==, 16);
	g_assert_cmphex(buf[9], ==, 0x03);
	/* MODE SENSE(10) page 2A; saved values are not supported. */
	n = packet(&d, (uint8_t[12]){ 0x5A, 0, 0x2A, 0, 0, 0, 0, 0, 128 }, buf, sizeof(buf), false);
	g_assert_cmpuint(n, ==, 8 + 22);
	g_assert_cmphex(buf[8], ==, 0x2A);
	g_assert_cmpuint(buf[1], ==, n - 2);
	n = packet(&d, (uint8_t[12]){ 0x1A, 0, 0x3F, 0, 128 }, buf, sizeof(buf), false);
	g_assert_cmpuint(n, ==, 4 + 12 + 22);
	g_assert_cmphex(buf[4], ==, 0x01);
	packet(&d, (uint8_t[12]){ 0x5A, 0, 0xEA, 0, 0, 0, 0, 0, 128 }, buf, sizeof(buf), false);
	request_sense(&d, SENSE_ILLEGAL_REQUEST, 0x39);
	/* Unknown opcode. */
	packet(&d, (uint8_t[12]){ 0xFE }, buf, sizeof(buf), false);
	request_sense(&d, SENSE_ILLEGAL_REQUEST, 0x20);
	/* Disc and track information, mechanism status. */
	g_assert_cmpuint(packet(&d, (uint8_t[12]){ 0x51, 0, 0, 0, 0, 0, 0, 0, 128 }, buf, sizeof(buf), false), ==, 34);
	g_assert_cmpuint(packet(&d, (uint8_t[12]){ 0x52, 1, 0, 0, 0, 1, 0, 0, 128 }, buf, sizeof(buf), false), ==, 36);
	g_assert_cmpuint(buf[27], ==, DISC_BLOCKS);
	g_assert_cmpuint(packet(&d, (uint8_t[12]){ 0xBD, 0, 0, 0, 0, 0, 0, 0, 0, 8 }, buf, sizeof(buf), false), ==, 8);
	image_free(&img);
}

static void test_atapi_media_change(void)
{
	struct image img;
	struct ata_drive d;
	uint8_t buf[64];
	image_new(&img, DISC_BLOCKS * 2048, true);
	ata_drive_init(&d, ATA_DRIVE_CDROM, &img.blk, NULL, 2);
	packet(&d, (uint8_t[12]){ 0x00 }, buf, 0, false);
	g_assert_cmphex(d.result.status, ==, ATA_STATUS_DRDY | ATA_STATUS_DSC);
	/* Locked: the guest cannot eject. */
	packet(&d, (uint8_t[12]){ 0x1E, 0, 0, 0, 1 }, buf, 0, false);
	packet(&d, (uint8_t[12]){ 0x1B, 0, 0, 0, 0x02 }, buf, 0, false);
	request_sense(&d, SENSE_ILLEGAL_REQUEST, 0x53);
	packet(&d, (uint8_t[12]){ 0x1E, 0, 0, 0, 0 }, buf, 0, false);
	packet(&d, (uint8_t[12]){ 0x1B, 0, 0, 0, 0x02 }, buf, 0, false);
	g_assert_cmphex(d.result.status, ==, ATA_STATUS_DRDY | ATA_STATUS_DSC);
	packet(&d, (uint8_t[12]){ 0x00 }, buf, 0, false);
	request_sense(&d, SENSE_NOT_READY, 0x3A);
	/* GESN: the removal, then the tray open without media. */
	g_assert_cmpuint(packet(&d, (uint8_t[12]){ 0x4A, 1, 0, 0, 0x10, 0, 0, 0, 8 }, buf, 8, false), ==, 8);
	g_assert_cmpuint(buf[2], ==, 4);
	g_assert_cmpuint(buf[4], ==, 3);
	g_assert_cmphex(buf[5], ==, 0x01);
	/* A disc changed from outside: UNIT ATTENTION once, then a new-media event. */
	atapi_change_medium(&d, &img.blk);
	packet(&d, (uint8_t[12]){ 0x00 }, buf, 0, false);
	request_sense(&d, SENSE_UNIT_ATTENTION, 0x28);
	packet(&d, (uint8_t[12]){ 0x00 }, buf, 0, false);
	g_assert_cmphex(d.result.status, ==, ATA_STATUS_DRDY | ATA_STATUS_DSC);
	packet(&d, (uint8_t[12]){ 0x4A, 1, 0, 0, 0x10, 0, 0, 0, 8 }, buf, 8, false);
	g_assert_cmpuint(buf[4], ==, 2);
	g_assert_cmphex(buf[5], ==, 0x02);
	/* Not polled: refused. */
	packet(&d, (uint8_t[12]){ 0x4A, 0, 0, 0, 0x10, 0, 0, 0, 8 }, buf, 8, false);
	request_sense(&d, SENSE_ILLEGAL_REQUEST, 0x24);
	/* No disc at all. */
	atapi_change_medium(&d, NULL);
	packet(&d, (uint8_t[12]){ 0x25 }, buf, 8, false);
	request_sense(&d, SENSE_UNIT_ATTENTION, 0x28);
	packet(&d, (uint8_t[12]){ 0x25 }, buf, 8, false);
	request_sense(&d, SENSE_NOT_READY, 0x3A);
	image_free(&img);
}

/* Data the phase did not ask for, a CDB nobody wanted, random taskfiles and
 * CDBs with random data sizes: errors, never a crash (the ASan run). */
static void test_hostile(void)
{
	struct image disk, disc;
	struct ata_drive d[2];
	struct ata_transfer x;
	g_autofree uint8_t *buf = g_malloc0(1 << 20);
	image_new(&disk, DISK_SECTORS * 512, false);
	image_new(&disc, DISC_BLOCKS * 2048, true);
	ata_drive_init(&d[0], ATA_DRIVE_DISK, &disk.blk, NULL, 0);
	ata_drive_init(&d[1], ATA_DRIVE_CDROM, &disc.blk, NULL, 1);

	struct iovec iov = { buf, 512 };
	x = (struct ata_transfer){ .dir = ATA_DIR_IN, .bytes = 512 };
	g_assert_cmpint(ata_data(&d[0], &iov, 1, &x), ==, -1);
	g_assert_cmphex(d[0].result.error, ==, ATA_ERROR_ABRT);
	struct ata_taskfile tf = lba28(0x20, 0, 1);
	ata_command(&d[0], &tf, &x);
	iov.iov_len = 1024;                               /* more than asked for */
	g_assert_cmpint(ata_data(&d[0], &iov, 1, &x), ==, -1);
	g_assert_cmpuint(x.bytes, ==, 0);
	ata_packet(&d[1], buf, &x);                       /* no PACKET command */
	g_assert_cmphex(d[1].result.status & ATA_STATUS_ERR, ==, ATA_STATUS_ERR);

	GRand *rng = g_rand_new_with_seed(7);
	for (unsigned i = 0; i < 20000; i++) {
		struct ata_drive *dev = &d[i & 1];
		uint8_t raw[sizeof(struct ata_taskfile)];
		for (size_t b = 0; b < sizeof(raw); b++)
			raw[b] = (uint8_t)g_rand_int(rng);
		memcpy(&tf, raw, sizeof(tf));
		if (i % 3 == 0)
			tf.command = i & 1 ? 0xA0 : (uint8_t)g_rand_int_range(rng, 0x20, 0x40);
		ata_command(dev, &tf, &x);
		if (x.packet) {
			uint8_t cdb[12];
			for (size_t b = 0; b < sizeof(cdb); b++)
				cdb[b] = (uint8_t)g_rand_int(rng);
			if (g_rand_boolean(rng))
				cdb[0] = (uint8_t)g_rand_int_range(rng, 0, 0x60);
			ata_packet(dev, cdb, &x);
		}
		for (unsigned step = 0; x.bytes && step < 4; step++) {
			iov.iov_len = MIN(x.bytes, (uint64_t)g_rand_int_range(rng, 1, 1 << 20));
			ata_data(dev, &iov, 1, &x);
		}
		if (x.bytes && g_rand_boolean(rng))
			ata_abort(dev, &x);
	}
	g_rand_free(rng);
	image_free(&disk);
	image_free(&disc);
}

static void check_refused(const uint8_t *bytes, size_t size, const char *expect)
{
	g_autofree char *path = NULL;
	int fd = g_file_open_tmp("vireo-iso-XXXXXX", &path, NULL);
	g_assert_cmpint(write(fd, bytes, size), ==, (ssize_t)size);
	close(fd);
	struct block_backend blk;
	char *error = NULL;
	bool ok = block_open(&blk, path, true, &error) == 0 && atapi_check_image(&blk, &error);
	if (expect) {
		g_assert_false(ok);
		g_assert_nonnull(strstr(error, expect));
		g_free(error);
	} else {
		g_assert_true(ok);
	}
	if (blk.fd >= 0)
		block_close(&blk);
	g_unlink(path);
}

static void test_check_image(void)
{
	g_autofree uint8_t *bytes = g_malloc0(40 * 2048);
	check_refused(bytes, 0, "is empty");
	check_refused(bytes, 40 * 2048 - 1, "not a whole number of 2048-byte blocks");
	check_refused(bytes, 40 * 2048, "not an ISO 9660 or UDF image");
	memcpy(bytes + 32769, "BEA01", 5);
	check_refused(bytes, 40 * 2048, NULL);
	memcpy(bytes + 32769, "CD001", 5);
	check_refused(bytes, 40 * 2048, NULL);
	check_refused(bytes, 16 * 2048, "not an ISO 9660");
}

/* --trace guest-error: a command the drive refuses is named with the
 * drive that refused it; --trace ata lists every command. */
static void test_refused_command_traced(void)
{
	struct image disk;
	struct ata_drive d;
	struct ata_transfer x;
	char *error = NULL;
	g_autofree char *dir = g_dir_make_tmp("vireo-ata-trace-XXXXXX", NULL);
	g_autofree char *path = g_build_filename(dir, "trace.log", NULL);
	image_new(&disk, DISK_SECTORS * 512, false);
	ata_drive_init(&d, ATA_DRIVE_DISK, &disk.blk, "TRACED-7", 0);
	g_assert_true(trace_start(1u << TRACE_GUEST_ERROR | 1u << TRACE_ATA, path, &error));
	struct ata_taskfile tf = lba28(0x87, 0, 1);          /* CFA TRANSLATE SECTOR: not ours */
	ata_command(&d, &tf, &x);
	g_assert_cmphex(d.result.error, ==, ATA_ERROR_ABRT);
	trace_stop();
	g_autofree char *text = NULL;
	g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
	g_assert_nonnull(strstr(text, " ata: disk 'TRACED-7': command 0x87 "));
	g_assert_nonnull(strstr(text, " guest-error: ata disk 'TRACED-7': command 0x87 refused (aborted)\n"));
	g_unlink(path);
	g_rmdir(dir);
	image_free(&disk);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/ata/identify", test_identify);
	g_test_add_func("/ata/read-write", test_read_write);
	g_test_add_func("/ata/power-and-diagnostics", test_power_and_diagnostics);
	g_test_add_func("/atapi/read", test_atapi_read);
	g_test_add_func("/atapi/toc", test_atapi_toc);
	g_test_add_func("/atapi/inquiry-config-modes", test_atapi_inquiry_config_modes);
	g_test_add_func("/atapi/media-change", test_atapi_media_change);
	g_test_add_func("/ata/hostile", test_hostile);
	g_test_add_func("/ata/refused-command-traced", test_refused_command_traced);
	g_test_add_func("/atapi/check-image", test_check_image);
	return g_test_run();
}
