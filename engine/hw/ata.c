/* An ATA drive: the ATA8-ACS command set of a hard disk and the ATA side of
 * an ATAPI drive. See ata.h. */
#include "ata.h"

#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "core/bytes.h"
#include "core/trace.h"
#include "hw/atapi.h"

/* Command codes (ATA8-ACS chapter 7; 0x21/0x31/0x41/0xC9/0xCB are the
 * obsolete "without retry" twins, still sent by old drivers). */
#define CMD_DEVICE_RESET        0x08  /* 7.7 */
#define CMD_READ_SECTORS        0x20  /* 7.36 */
#define CMD_READ_SECTORS_NR     0x21
#define CMD_READ_SECTORS_EXT    0x24  /* 7.37 */
#define CMD_READ_DMA_EXT        0x25  /* 7.26 */
#define CMD_READ_MULTIPLE_EXT   0x29  /* 7.33 */
#define CMD_WRITE_SECTORS       0x30  /* 7.68 */
#define CMD_WRITE_SECTORS_NR    0x31
#define CMD_WRITE_SECTORS_EXT   0x34  /* 7.69 */
#define CMD_WRITE_DMA_EXT       0x35  /* 7.59 */
#define CMD_WRITE_MULTIPLE_EXT  0x39  /* 7.65 */
#define CMD_READ_VERIFY         0x40  /* 7.42 */
#define CMD_READ_VERIFY_NR      0x41
#define CMD_READ_VERIFY_EXT     0x42  /* 7.43 */
#define CMD_EXECUTE_DIAGNOSTIC  0x90  /* 7.9 */
#define CMD_INIT_DEVICE_PARAMS  0x91  /* ATA-5 8.16 (obsolete in ATA8) */
#define CMD_PACKET              0xA0  /* 7.24 */
#define CMD_IDENTIFY_PACKET     0xA1  /* 7.17 */
#define CMD_READ_MULTIPLE       0xC4  /* 7.32 */
#define CMD_WRITE_MULTIPLE      0xC5  /* 7.64 */
#define CMD_SET_MULTIPLE        0xC6  /* 7.47 */
#define CMD_READ_DMA            0xC8  /* 7.25 */
#define CMD_READ_DMA_NR         0xC9
#define CMD_WRITE_DMA           0xCA  /* 7.58 */
#define CMD_WRITE_DMA_NR        0xCB
#define CMD_STANDBY_IMMEDIATE   0xE0  /* 7.53 */
#define CMD_IDLE_IMMEDIATE      0xE1  /* 7.19 */
#define CMD_STANDBY             0xE2  /* 7.52 */
#define CMD_IDLE                0xE3  /* 7.18 */
#define CMD_CHECK_POWER_MODE    0xE5  /* 7.5 */
#define CMD_FLUSH_CACHE         0xE7  /* 7.11 */
#define CMD_FLUSH_CACHE_EXT     0xEA  /* 7.12 */
#define CMD_IDENTIFY            0xEC  /* 7.16 */
#define CMD_SET_FEATURES        0xEF  /* 7.48 */

/* SET FEATURES subcommands (7.48.1, table 46). */
#define FEATURE_ENABLE_WRITE_CACHE   0x02
#define FEATURE_SET_TRANSFER_MODE    0x03
#define FEATURE_DISABLE_READ_AHEAD   0x55
#define FEATURE_DISABLE_REVERT       0x66
#define FEATURE_DISABLE_WRITE_CACHE  0x82
#define FEATURE_ENABLE_READ_AHEAD    0xAA
#define FEATURE_ENABLE_REVERT        0xCC
/* Transfer mode values in the count field (7.48.3, table 47). */
#define XFER_PIO_DEFAULT   0x00
#define XFER_PIO_DEFAULT_NO_IORDY 0x01
#define XFER_PIO_FLOW      0x08       /* + mode 0-4 */
#define XFER_MWDMA         0x20       /* + mode 0-2 */
#define XFER_UDMA          0x40       /* + mode 0-6 */
#define MAX_PIO_MODE       4
#define MAX_MWDMA_MODE     2
#define MAX_UDMA_MODE      5

#define POWER_MODE_ACTIVE  0xFF       /* CHECK POWER MODE count: active or idle (7.5) */
#define POWER_MODE_STANDBY 0x00

/* Signatures (ATA8-ACS table 184 / 9.12). */
#define SIGNATURE_ATAPI_MID  0x14
#define SIGNATURE_ATAPI_HIGH 0xEB

#define LBA28_LIMIT (1u << 28)
#define DEFAULT_HEADS 16
#define DEFAULT_SECTORS_PER_TRACK 63
#define MAX_CYLINDERS 16383

#define MODEL_DISK  "VIREO HARDDISK"
#define MODEL_CDROM "VIREO DVD-ROM"
#define FIRMWARE_REVISION "1.0"

/* The read/write commands and what each does. */
struct rw_command {
	uint8_t code;
	bool ext, write, dma, multiple, verify;
};

static const struct rw_command rw_commands[] = {
	{ CMD_READ_SECTORS,       false, false, false, false, false },
	{ CMD_READ_SECTORS_NR,    false, false, false, false, false },
	{ CMD_READ_SECTORS_EXT,   true,  false, false, false, false },
	{ CMD_READ_DMA_EXT,       true,  false, true,  false, false },
	{ CMD_READ_MULTIPLE_EXT,  true,  false, false, true,  false },
	{ CMD_WRITE_SECTORS,      false, true,  false, false, false },
	{ CMD_WRITE_SECTORS_NR,   false, true,  false, false, false },
	{ CMD_WRITE_SECTORS_EXT,  true,  true,  false, false, false },
	{ CMD_WRITE_DMA_EXT,      true,  true,  true,  false, false },
	{ CMD_WRITE_MULTIPLE_EXT, true,  true,  false, true,  false },
	{ CMD_READ_VERIFY,        false, false, false, false, true  },
	{ CMD_READ_VERIFY_NR,     false, false, false, false, true  },
	{ CMD_READ_VERIFY_EXT,    true,  false, false, false, true  },
	{ CMD_READ_MULTIPLE,      false, false, false, true,  false },
	{ CMD_WRITE_MULTIPLE,     false, true,  false, true,  false },
	{ CMD_READ_DMA,           false, false, true,  false, false },
	{ CMD_READ_DMA_NR,        false, false, true,  false, false },
	{ CMD_WRITE_DMA,          false, true,  true,  false, false },
	{ CMD_WRITE_DMA_NR,       false, true,  true,  false, false },
};

static bool is_atapi(const struct ata_drive *d)
{
	return d->kind == ATA_DRIVE_CDROM;
}

static void set_signature(struct ata_drive *d)
{
	struct ata_taskfile *r = &d->result;
	r->count = 1;
	r->lba[0] = 1;
	r->lba[1] = is_atapi(d) ? SIGNATURE_ATAPI_MID : 0;
	r->lba[2] = is_atapi(d) ? SIGNATURE_ATAPI_HIGH : 0;
	r->device &= ATA_DEVICE_DEV1;
}

static void end_phase(struct ata_drive *d, struct ata_transfer *xfer)
{
	memset(&d->phase, 0, sizeof(d->phase));
	*xfer = (struct ata_transfer){ .dir = ATA_DIR_NONE };
}

static void complete(struct ata_drive *d)
{
	d->result.status = ATA_STATUS_DRDY | ATA_STATUS_DSC;
	d->result.error = 0;
	if (is_atapi(d))
		d->result.count = ATAPI_REASON_IO | ATAPI_REASON_COD;
}

static void fail(struct ata_drive *d, struct ata_transfer *xfer, uint8_t error)
{
	end_phase(d, xfer);
	d->result.status = ATA_STATUS_DRDY | ATA_STATUS_DSC | ATA_STATUS_ERR;
	d->result.error = error;
}

/* A PACKET command ends in CHECK CONDITION: the sense key in the error
 * register's upper half (ATA8-ACS 7.24.6), the details for REQUEST SENSE. */
static void check_condition(struct ata_drive *d, struct ata_transfer *xfer, uint8_t error)
{
	fail(d, xfer, (uint8_t)(d->sense.key << 4 | error));
	d->result.count = ATAPI_REASON_IO | ATAPI_REASON_COD;
}

/* An ATA string: two characters per word, the first in the high byte,
 * padded with spaces (ATA8-ACS 3.3.10). */
static void put_string(uint8_t *id, unsigned word, unsigned words, const char *s)
{
	size_t len = strlen(s);
	for (unsigned i = 0; i < words * 2; i++)
		id[word * 2 + (i ^ 1)] = i < len ? (uint8_t)s[i] : ' ';
}

static void put_word(uint8_t *id, unsigned word, uint16_t value)
{
	put_le16(id + word * 2, value);
}

/* Word 255: signature 0xA5 and a checksum making all 512 bytes sum to 0
 * (ATA8-ACS 7.16.7.89). */
static void seal_identify(uint8_t *id)
{
	id[510] = 0xA5;
	id[511] = checksum8(id, 511);
}

/* Words both IDENTIFY variants share: strings, DMA and PIO modes. */
static void identify_common(const struct ata_drive *d, uint8_t *id, const char *model)
{
	put_string(id, 10, 10, d->serial);
	put_string(id, 23, 4, FIRMWARE_REVISION);
	put_string(id, 27, 20, model);
	put_word(id, 49, 1u << 11 | 1u << 9 | 1u << 8);  /* IORDY, LBA, DMA */
	put_word(id, 50, 0x4000);
	put_word(id, 53, 0x0006);                        /* words 64-70 and 88 valid */
	put_word(id, 63, 0x0007 | (d->mwdma_mode ? 0x100u << (d->mwdma_mode - 1) : 0));
	put_word(id, 64, 0x0003);                        /* PIO modes 3 and 4 */
	for (unsigned w = 65; w <= 68; w++)
		put_word(id, w, 120);                    /* fastest cycle times, ns */
	put_word(id, 80, 0x01F0);                        /* ATA/ATAPI-4 to ATA8-ACS */
	put_word(id, 88, 0x003F | (d->udma_mode ? 0x100u << (d->udma_mode - 1) : 0));
	put_word(id, 93, 0x6001);                        /* 80-conductor cable detected */
}

static void identify_disk(const struct ata_drive *d, uint8_t *id)
{
	uint64_t cylinders = d->sectors / (DEFAULT_HEADS * DEFAULT_SECTORS_PER_TRACK);
	uint64_t lba28 = MIN(d->sectors, LBA28_LIMIT - 1);
	uint16_t cur_cyl = (uint16_t)MIN(d->sectors / (d->heads * d->sectors_per_track), MAX_CYLINDERS);
	uint32_t chs_capacity = (uint32_t)cur_cyl * d->heads * d->sectors_per_track;
	memset(id, 0, ATA_SECTOR_SIZE);
	identify_common(d, id, MODEL_DISK);
	put_word(id, 0, 0x0040);                         /* fixed device */
	put_word(id, 1, (uint16_t)MIN(cylinders, MAX_CYLINDERS));
	put_word(id, 3, DEFAULT_HEADS);
	put_word(id, 6, DEFAULT_SECTORS_PER_TRACK);
	put_word(id, 47, 0x8000 | ATA_MAX_MULTIPLE);
	put_word(id, 53, 0x0007);                        /* and words 54-58 */
	put_word(id, 54, cur_cyl);
	put_word(id, 55, d->heads);
	put_word(id, 56, d->sectors_per_track);
	put_word(id, 57, (uint16_t)chs_capacity);
	put_word(id, 58, (uint16_t)(chs_capacity >> 16));
	put_word(id, 59, d->multiple ? 0x0100 | d->multiple : 0);
	put_word(id, 60, (uint16_t)lba28);
	put_word(id, 61, (uint16_t)(lba28 >> 16));
	put_word(id, 82, 1u << 5 | 1u << 3);             /* write cache, power management */
	put_word(id, 83, 0x4000 | 1u << 13 | 1u << 12 | 1u << 10); /* FLUSH CACHE (EXT), 48-bit */
	put_word(id, 84, 0x4000);
	put_word(id, 85, (d->write_cache ? 1u << 5 : 0) | 1u << 3);
	put_word(id, 86, 1u << 13 | 1u << 12 | 1u << 10);
	put_word(id, 87, 0x4000);
	for (unsigned i = 0; i < 4; i++)
		put_word(id, 100 + i, (uint16_t)(d->sectors >> (16 * i)));
	put_word(id, 106, 0x4000);                       /* one 512-byte logical sector per physical */
	put_word(id, 217, 1);                            /* non-rotating medium */
	seal_identify(id);
}

static void identify_packet(const struct ata_drive *d, uint8_t *id)
{
	memset(id, 0, ATA_SECTOR_SIZE);
	identify_common(d, id, MODEL_CDROM);
	/* ATAPI, CD-ROM device type, removable, DRQ within 50 us, 12-byte CDBs. */
	put_word(id, 0, 2u << 14 | 5u << 8 | 1u << 7 | 2u << 5);
	put_word(id, 71, 30);                            /* PACKET to bus release, ns */
	put_word(id, 72, 30);
	put_word(id, 82, 1u << 9 | 1u << 4);             /* DEVICE RESET, PACKET */
	put_word(id, 83, 0x4000);
	put_word(id, 84, 0x4000);
	put_word(id, 85, 1u << 9 | 1u << 4);
	put_word(id, 87, 0x4000);
	seal_identify(id);
}

void ata_drive_reset(struct ata_drive *d)
{
	memset(&d->phase, 0, sizeof(d->phase));
	memset(&d->result, 0, sizeof(d->result));
	set_signature(d);
	/* An ATAPI drive clears DRDY after reset (ATA8-ACS 9.2). */
	d->result.status = is_atapi(d) ? 0 : ATA_STATUS_DRDY | ATA_STATUS_DSC;
	d->result.error = ATA_ERROR_DIAG_OK;
	d->multiple = 0;
	d->standby = false;
}

void ata_drive_init(struct ata_drive *d, enum ata_drive_kind kind, struct block_backend *medium,
		    const char *serial, unsigned index)
{
	memset(d, 0, sizeof(*d));
	d->kind = kind;
	d->medium = medium;
	d->sectors = medium ? medium->size / ATA_SECTOR_SIZE : 0;
	if (serial)
		g_strlcpy(d->serial, serial, sizeof(d->serial));
	else
		snprintf(d->serial, sizeof(d->serial), "VIREO%04u", index % 10000);
	d->write_cache = true;
	d->mwdma_mode = MAX_MWDMA_MODE + 1;
	d->heads = DEFAULT_HEADS;
	d->sectors_per_track = DEFAULT_SECTORS_PER_TRACK;
	ata_drive_reset(d);
}

/* A PIO or DMA data phase over the drive's buffer or its medium. */
static void start_phase(struct ata_drive *d, struct ata_transfer *xfer, enum ata_dir dir, bool dma,
			bool from_medium, uint64_t offset, uint64_t bytes, uint32_t block)
{
	if (!bytes) {  /* nothing to move: done already */
		end_phase(d, xfer);
		complete(d);
		return;
	}
	d->phase = (struct ata_phase){ .dir = dir, .from_medium = from_medium, .offset = offset, .bytes = bytes };
	*xfer = (struct ata_transfer){ .dir = dir, .dma = dma, .bytes = bytes, .block = block };
}

static void reply_identify(struct ata_drive *d, struct ata_transfer *xfer, bool packet)
{
	if (packet != is_atapi(d)) {
		/* The other kind of device: abort, and an ATAPI drive shows its
		 * signature so the host knows what it is (ATA8-ACS 7.16.5). */
		fail(d, xfer, ATA_ERROR_ABRT);
		if (is_atapi(d))
			set_signature(d);
		return;
	}
	if (packet)
		identify_packet(d, d->buf);
	else
		identify_disk(d, d->buf);
	start_phase(d, xfer, ATA_DIR_IN, false, false, 0, ATA_SECTOR_SIZE, ATA_SECTOR_SIZE);
}

/* The first sector and the count a read/write names: 48-bit, LBA28 or
 * CHS through the current geometry. false: an address that cannot be. */
static bool decode_address(const struct ata_drive *d, const struct ata_taskfile *tf, bool ext,
			   uint64_t *lba, uint32_t *count)
{
	const uint8_t *l = tf->lba;
	if (ext) {
		*lba = get_le(l, 3) | get_le(l + 3, 3) << 24;
		*count = tf->count | (uint32_t)tf->count_exp << 8;
		*count = *count ? *count : 65536;
		return true;
	}
	*count = tf->count ? tf->count : 256;
	if (tf->device & ATA_DEVICE_LBA) {
		*lba = get_le(l, 3) | (uint64_t)(tf->device & 0x0F) << 24;
		return true;
	}
	unsigned cylinder = l[1] | l[2] << 8, head = tf->device & 0x0F, sector = l[0];
	if (!sector || sector > d->sectors_per_track || head >= d->heads)
		return false;
	*lba = ((uint64_t)cylinder * d->heads + head) * d->sectors_per_track + sector - 1;
	return true;
}

static void start_read_write(struct ata_drive *d, const struct ata_taskfile *tf, const struct rw_command *rw,
			     struct ata_transfer *xfer)
{
	uint64_t lba;
	uint32_t count;
	if (is_atapi(d) || (rw->multiple && !d->multiple) || (rw->write && d->medium->read_only)) {
		fail(d, xfer, ATA_ERROR_ABRT);
		return;
	}
	if (!decode_address(d, tf, rw->ext, &lba, &count) || lba > d->sectors || count > d->sectors - lba) {
		fail(d, xfer, ATA_ERROR_IDNF);
		return;
	}
	if (rw->verify) {
		complete(d);
		return;
	}
	uint32_t block = ATA_SECTOR_SIZE * (rw->multiple ? d->multiple : 1);
	start_phase(d, xfer, rw->write ? ATA_DIR_OUT : ATA_DIR_IN, rw->dma, true, lba * ATA_SECTOR_SIZE,
		    (uint64_t)count * ATA_SECTOR_SIZE, block);
}

/* A disk with something to flush asks the transport for the flush. */
static void flush_cache(struct ata_drive *d, struct ata_transfer *xfer)
{
	if (is_atapi(d) || d->medium->read_only) {
		complete(d);
		return;
	}
	d->phase = (struct ata_phase){ .flush = true };
	*xfer = (struct ata_transfer){ .dir = ATA_DIR_NONE, .flush = true };
}

static bool set_transfer_mode(struct ata_drive *d, uint8_t value)
{
	unsigned mode = value & 0x07;
	switch (value & 0xF8) {
	case XFER_PIO_DEFAULT:
		return value == XFER_PIO_DEFAULT || value == XFER_PIO_DEFAULT_NO_IORDY;
	case XFER_PIO_FLOW:
		return mode <= MAX_PIO_MODE;
	case XFER_MWDMA:
		if (mode > MAX_MWDMA_MODE)
			return false;
		d->mwdma_mode = (uint8_t)(mode + 1);
		d->udma_mode = 0;
		return true;
	case XFER_UDMA:
		if (mode > MAX_UDMA_MODE)
			return false;
		d->udma_mode = (uint8_t)(mode + 1);
		d->mwdma_mode = 0;
		return true;
	default:
		return false;
	}
}

static bool set_features(struct ata_drive *d, const struct ata_taskfile *tf)
{
	switch (tf->features) {
	case FEATURE_ENABLE_WRITE_CACHE:
	case FEATURE_DISABLE_WRITE_CACHE:
		if (is_atapi(d))
			return false;
		d->write_cache = tf->features == FEATURE_ENABLE_WRITE_CACHE;
		return true;
	case FEATURE_SET_TRANSFER_MODE:
		return set_transfer_mode(d, tf->count);
	case FEATURE_DISABLE_READ_AHEAD:
	case FEATURE_ENABLE_READ_AHEAD:
	case FEATURE_DISABLE_REVERT:
	case FEATURE_ENABLE_REVERT:
		return true;  /* nothing to read ahead or revert: accepted as a no-op */
	default:
		return false;
	}
}

/* SET MULTIPLE MODE: a power of two up to the maximum, or 0 to disable. */
static bool set_multiple(struct ata_drive *d, uint8_t count)
{
	if (is_atapi(d) || count > ATA_MAX_MULTIPLE || (count & (count - 1)))
		return false;
	d->multiple = count;
	return true;
}

/* INITIALIZE DEVICE PARAMETERS: heads from the device register (+1),
 * sectors per track from the count. */
static bool init_device_params(struct ata_drive *d, const struct ata_taskfile *tf)
{
	if (is_atapi(d) || !tf->count)
		return false;
	d->heads = (uint16_t)((tf->device & 0x0F) + 1);
	d->sectors_per_track = tf->count;
	return true;
}

static void start_packet(struct ata_drive *d, const struct ata_taskfile *tf, struct ata_transfer *xfer)
{
	if (!is_atapi(d)) {
		fail(d, xfer, ATA_ERROR_ABRT);
		return;
	}
	d->packet_dma = tf->features & 0x01;
	d->byte_limit = (uint16_t)(tf->lba[1] | tf->lba[2] << 8);
	d->phase = (struct ata_phase){ .dir = ATA_DIR_OUT, .packet = true, .bytes = ATAPI_CDB_SIZE };
	*xfer = (struct ata_transfer){ .dir = ATA_DIR_OUT, .packet = true, .bytes = ATAPI_CDB_SIZE,
				       .block = ATAPI_CDB_SIZE };
	d->result.status = ATA_STATUS_DRDY | ATA_STATUS_DSC;
	d->result.error = 0;
	d->result.count = ATAPI_REASON_COD;
}

/* Commands without a data phase; false: not one of them. */
static bool run_non_data(struct ata_drive *d, const struct ata_taskfile *tf, struct ata_transfer *xfer)
{
	bool ok = true;
	switch (tf->command) {
	case CMD_FLUSH_CACHE:
	case CMD_FLUSH_CACHE_EXT:
		flush_cache(d, xfer);
		return true;
	case CMD_SET_FEATURES:
		ok = set_features(d, tf);
		break;
	case CMD_SET_MULTIPLE:
		ok = set_multiple(d, tf->count);
		break;
	case CMD_INIT_DEVICE_PARAMS:
		ok = init_device_params(d, tf);
		break;
	case CMD_IDLE:
	case CMD_IDLE_IMMEDIATE:
		d->standby = false;
		break;
	case CMD_STANDBY:
	case CMD_STANDBY_IMMEDIATE:
		d->standby = true;
		break;
	case CMD_CHECK_POWER_MODE:
		complete(d);
		d->result.count = d->standby ? POWER_MODE_STANDBY : POWER_MODE_ACTIVE;
		return true;
	case CMD_EXECUTE_DIAGNOSTIC:
	case CMD_DEVICE_RESET:
		if (tf->command == CMD_DEVICE_RESET && !is_atapi(d)) {
			ok = false;
			break;
		}
		ata_drive_reset(d);
		if (tf->command == CMD_EXECUTE_DIAGNOSTIC && !is_atapi(d))
			d->result.status = ATA_STATUS_DRDY | ATA_STATUS_DSC;
		return true;
	default:
		return false;
	}
	if (ok)
		complete(d);
	else
		fail(d, xfer, ATA_ERROR_ABRT);
	return true;
}

/* The drive as traces name it: its kind and serial number. */
static const char *kind_name(const struct ata_drive *d)
{
	return is_atapi(d) ? "cdrom" : "disk";
}

void ata_command(struct ata_drive *d, const struct ata_taskfile *tf, struct ata_transfer *xfer)
{
	TRACE(TRACE_ATA, "%s '%s': command 0x%02x features 0x%02x count 0x%02x lba 0x%02x%02x%02x%02x%02x%02x",
	      kind_name(d), d->serial, tf->command, tf->features, tf->count, tf->lba[5], tf->lba[4], tf->lba[3],
	      tf->lba[2], tf->lba[1], tf->lba[0]);
	end_phase(d, xfer);
	d->result = *tf;
	if (tf->command == CMD_IDENTIFY || tf->command == CMD_IDENTIFY_PACKET) {
		reply_identify(d, xfer, tf->command == CMD_IDENTIFY_PACKET);
		return;
	}
	if (tf->command == CMD_PACKET) {
		start_packet(d, tf, xfer);
		return;
	}
	for (size_t i = 0; i < G_N_ELEMENTS(rw_commands); i++) {
		if (rw_commands[i].code == tf->command) {
			start_read_write(d, tf, &rw_commands[i], xfer);
			return;
		}
	}
	if (!run_non_data(d, tf, xfer)) {
		TRACE(TRACE_GUEST_ERROR, "ata %s '%s': command 0x%02x refused (aborted)", kind_name(d), d->serial,
		      tf->command);
		fail(d, xfer, ATA_ERROR_ABRT);
	}
}

/* The largest PIO DRQ block the host allowed with the PACKET byte count:
 * 0 means the most there is, and a block that is not the last is even
 * (ATA8-ACS 7.24.3.3). */
static uint32_t pio_block(const struct ata_drive *d, uint64_t bytes)
{
	uint32_t limit = d->byte_limit ? d->byte_limit : 0xFFFE;
	if (bytes <= limit)
		return (uint32_t)bytes;
	return MAX(limit & ~1u, 2u);
}

void ata_packet(struct ata_drive *d, const uint8_t cdb[ATAPI_CDB_SIZE], struct ata_transfer *xfer)
{
	TRACE(TRACE_ATA, "%s '%s': packet opcode 0x%02x", kind_name(d), d->serial, cdb[0]);
	if (!d->phase.packet) {
		TRACE(TRACE_GUEST_ERROR, "ata %s '%s': a packet outside a PACKET command", kind_name(d), d->serial);
		ata_abort(d, xfer);
		return;
	}
	struct atapi_reply reply = { 0 };
	if (!atapi_execute(d, cdb, &reply)) {
		check_condition(d, xfer, 0);
		return;
	}
	start_phase(d, xfer, ATA_DIR_IN, d->packet_dma, reply.from_medium, reply.offset, reply.bytes,
		    pio_block(d, reply.bytes));
}

static uint64_t iov_total(const struct iovec *iov, unsigned count)
{
	uint64_t total = 0;
	for (unsigned i = 0; i < count; i++)
		total += iov[i].iov_len;
	return total;
}

/* Between the drive's buffer and the iovecs. */
static void copy_buffer(struct ata_drive *d, const struct iovec *iov, unsigned count)
{
	uint8_t *p = d->buf + d->phase.offset;
	for (unsigned i = 0; i < count; i++, p += iov[i - 1].iov_len) {
		if (d->phase.dir == ATA_DIR_IN)
			memcpy(iov[i].iov_base, p, iov[i].iov_len);
		else
			memcpy(p, iov[i].iov_base, iov[i].iov_len);
	}
}

/* The medium failed mid-transfer: UNC for a disk (with the LBA where it
 * happened, 7.36.6), MEDIUM ERROR for a disc. */
static void medium_error(struct ata_drive *d, struct ata_transfer *xfer)
{
	uint64_t lba = d->phase.offset / ATA_SECTOR_SIZE;
	bool write = d->phase.dir == ATA_DIR_OUT;
	if (is_atapi(d)) {
		atapi_set_sense(d, SENSE_MEDIUM_ERROR, 0x11, 0x00);  /* unrecovered read error */
		check_condition(d, xfer, 0);
		return;
	}
	fail(d, xfer, write ? ATA_ERROR_ABRT : ATA_ERROR_UNC);
	put_le(d->result.lba, lba, 3);
	put_le(d->result.lba + 3, lba >> 24, 3);
}

/* The medium's request for the phase: write-through without the write cache. */
static void medium_request(struct ata_drive *d, const struct iovec *iov, unsigned count, struct block_request *io)
{
	*io = (struct block_request){ .op = BLOCK_OP_READ, .iov = iov, .count = count, .offset = d->phase.offset };
	if (d->phase.flush) {
		io->op = BLOCK_OP_FLUSH;
	} else if (d->phase.dir == ATA_DIR_OUT) {
		io->op = BLOCK_OP_WRITE;
		io->fua = !d->write_cache;
	}
}

static void advance_phase(struct ata_drive *d, uint64_t len, struct ata_transfer *xfer)
{
	d->phase.offset += len;
	d->phase.bytes -= len;
	xfer->bytes = d->phase.bytes;
	if (!d->phase.bytes) {
		end_phase(d, xfer);
		complete(d);
	}
}

int ata_data_begin(struct ata_drive *d, const struct iovec *iov, unsigned count, struct ata_transfer *xfer,
		   struct block_request *io)
{
	uint64_t len = d->phase.flush ? 0 : iov_total(iov, count);
	bool flush = d->phase.flush && xfer->flush;
	if (!flush && (d->phase.dir == ATA_DIR_NONE || d->phase.packet || len > d->phase.bytes ||
		       d->phase.dir != xfer->dir || xfer->flush)) {
		TRACE(TRACE_GUEST_ERROR, "ata %s '%s': a %llu-byte transfer the command did not ask for", kind_name(d),
		      d->serial, (unsigned long long)len);
		ata_abort(d, xfer);
		return -1;
	}
	if (!d->phase.from_medium && !flush) {
		copy_buffer(d, iov, count);
		advance_phase(d, len, xfer);
		return 0;
	}
	d->phase.in_flight = len;
	medium_request(d, iov, count, io);
	return 1;
}

int ata_data_end(struct ata_drive *d, int result, struct ata_transfer *xfer)
{
	if (d->phase.flush) {
		end_phase(d, xfer);
		if (result < 0)
			fail(d, xfer, ATA_ERROR_ABRT);
		else
			complete(d);
		return result < 0 ? -1 : 0;
	}
	if (result < 0) {
		medium_error(d, xfer);
		return -1;
	}
	advance_phase(d, d->phase.in_flight, xfer);
	return 0;
}

int ata_data(struct ata_drive *d, const struct iovec *iov, unsigned count, struct ata_transfer *xfer)
{
	struct block_request io;
	int begun = ata_data_begin(d, iov, count, xfer, &io);
	return begun == 1 ? ata_data_end(d, block_run(d->medium, &io), xfer) : begun;
}

void ata_abort(struct ata_drive *d, struct ata_transfer *xfer)
{
	if (is_atapi(d)) {
		atapi_set_sense(d, SENSE_ABORTED_COMMAND, 0x00, 0x00);
		check_condition(d, xfer, ATA_ERROR_ABRT);
		return;
	}
	fail(d, xfer, ATA_ERROR_ABRT);
}

bool ata_end_medium_phase(struct ata_drive *d, uint8_t key, uint8_t asc)
{
	struct ata_transfer xfer;
	if (!d->phase.from_medium || !d->phase.bytes)
		return false;
	atapi_set_sense(d, key, asc, 0x00);
	check_condition(d, &xfer, 0);
	return true;
}

/* --- state (core/device.h) ------------------------------------------- */

static const struct state_field taskfile_state[] = {
	STATE_FIELD(struct ata_taskfile, command), STATE_FIELD(struct ata_taskfile, features),
	STATE_FIELD(struct ata_taskfile, features_exp), STATE_FIELD(struct ata_taskfile, count),
	STATE_FIELD(struct ata_taskfile, count_exp), STATE_ARRAY(struct ata_taskfile, lba),
	STATE_FIELD(struct ata_taskfile, device), STATE_FIELD(struct ata_taskfile, status),
	STATE_FIELD(struct ata_taskfile, error),
};

/* What the host and the guest changed; the kind, medium, serial and size
 * are the drive's configuration. */
static const struct state_field drive_state[] = {
	STATE_FIELD(struct ata_drive, write_cache), STATE_FIELD(struct ata_drive, multiple),
	STATE_FIELD(struct ata_drive, mwdma_mode), STATE_FIELD(struct ata_drive, udma_mode),
	STATE_FIELD(struct ata_drive, heads), STATE_FIELD(struct ata_drive, sectors_per_track),
	STATE_FIELD(struct ata_drive, standby), STATE_FIELD(struct ata_drive, phase.dir),
	STATE_FIELD(struct ata_drive, phase.from_medium), STATE_FIELD(struct ata_drive, phase.packet),
	STATE_FIELD(struct ata_drive, phase.flush),
	STATE_FIELD(struct ata_drive, phase.offset), STATE_FIELD(struct ata_drive, phase.bytes),
	STATE_ARRAY(struct ata_drive, buf), STATE_FIELD(struct ata_drive, sense.key),
	STATE_FIELD(struct ata_drive, sense.asc), STATE_FIELD(struct ata_drive, sense.ascq),
	STATE_FIELD(struct ata_drive, unit_attention), STATE_FIELD(struct ata_drive, media_event),
	STATE_FIELD(struct ata_drive, eject_event), STATE_FIELD(struct ata_drive, locked),
	STATE_FIELD(struct ata_drive, tray_open), STATE_FIELD(struct ata_drive, packet_dma),
	STATE_FIELD(struct ata_drive, byte_limit),
};

void ata_drive_power_on(struct ata_drive *d)
{
	struct ata_drive *was = g_memdup2(d, sizeof(*d));
	ata_drive_init(d, was->kind, was->medium, was->serial, 0);
	d->tray_open = was->tray_open;
	g_free(was);
}

void ata_taskfile_save(struct state_writer *w, const char *prefix, const struct ata_taskfile *tf)
{
	state_put_fields(w, prefix, taskfile_state, G_N_ELEMENTS(taskfile_state), tf);
}

bool ata_taskfile_load(struct state_reader *r, const char *prefix, struct ata_taskfile *tf)
{
	return state_get_fields(r, prefix, taskfile_state, G_N_ELEMENTS(taskfile_state), tf);
}

void ata_drive_save(struct ata_drive *d, struct state_writer *w, const char *prefix)
{
	g_autofree char *result = g_strconcat(prefix, "result.", NULL);
	ata_taskfile_save(w, result, &d->result);
	state_put_fields(w, prefix, drive_state, G_N_ELEMENTS(drive_state), d);
}

/* The data phase must stay inside the buffer or the medium. */
static bool phase_fits(const struct ata_drive *d)
{
	const struct ata_phase *p = &d->phase;
	uint64_t limit = !p->from_medium ? ATA_BUFFER_SIZE : d->medium ? d->medium->size : 0;
	return p->dir <= ATA_DIR_OUT && p->bytes <= limit && p->offset <= limit - p->bytes;
}

bool ata_drive_load(struct ata_drive *d, struct state_reader *r, const char *prefix)
{
	g_autofree char *result = g_strconcat(prefix, "result.", NULL);
	bool ok = ata_taskfile_load(r, result, &d->result) &&
		  state_get_fields(r, prefix, drive_state, G_N_ELEMENTS(drive_state), d) &&
		  state_check(r, phase_fits(d), "a drive's data phase reaches past its buffer or medium");
	if (!ok)
		d->phase = (struct ata_phase){ .dir = ATA_DIR_NONE };
	return ok;
}
