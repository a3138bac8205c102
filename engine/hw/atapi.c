/* MMC-6 / SPC-4 commands of a read-only CD/DVD drive. See atapi.h. */
#include "atapi.h"

#include <glib.h>
#include <string.h>

#include "core/bytes.h"

/* Operation codes (MMC-6 chapter 6, SPC-4 chapter 6). */
#define OP_TEST_UNIT_READY       0x00  /* SPC-4 6.37 */
#define OP_REQUEST_SENSE         0x03  /* SPC-4 6.29 */
#define OP_INQUIRY               0x12  /* SPC-4 6.4 */
#define OP_MODE_SENSE_6          0x1A  /* SPC-4 6.11 */
#define OP_START_STOP_UNIT       0x1B  /* MMC-6 6.39 */
#define OP_PREVENT_ALLOW_REMOVAL 0x1E  /* MMC-6 6.11 */
#define OP_READ_CAPACITY         0x25  /* MMC-6 6.23 */
#define OP_READ_10               0x28  /* MMC-6 6.19 */
#define OP_READ_TOC              0x43  /* MMC-6 6.32 */
#define OP_GET_CONFIGURATION     0x46  /* MMC-6 6.6 */
#define OP_GET_EVENT_STATUS      0x4A  /* MMC-6 6.7 */
#define OP_READ_DISC_INFORMATION 0x51  /* MMC-6 6.26 */
#define OP_READ_TRACK_INFORMATION 0x52 /* MMC-6 6.35 */
#define OP_MODE_SENSE_10         0x5A  /* SPC-4 6.12 */
#define OP_READ_12               0xA8  /* MMC-6 6.20 */
#define OP_SET_CD_SPEED          0xBB  /* MMC-6 6.37 */
#define OP_MECHANISM_STATUS      0xBD  /* MMC-6 6.10 */

/* Additional sense codes (SPC-4 table D.2). */
#define ASC_INVALID_OPCODE       0x20
#define ASC_LBA_OUT_OF_RANGE     0x21
#define ASC_INVALID_FIELD        0x24
#define ASC_MEDIUM_MAY_HAVE_CHANGED 0x28
#define ASC_SAVING_NOT_SUPPORTED 0x39
#define ASC_MEDIUM_NOT_PRESENT   0x3A
#define ASC_REMOVAL_PREVENTED    0x53
#define ASCQ_REMOVAL_PREVENTED   0x02

/* Profiles (MMC-6 table 89) and features (5.3). */
#define PROFILE_NONE   0x0000
#define PROFILE_CD_ROM 0x0008
#define PROFILE_DVD_ROM 0x0010
#define FEATURE_PROFILE_LIST 0x0000
#define FEATURE_CORE         0x0001
#define FEATURE_MORPHING     0x0002
#define FEATURE_REMOVABLE    0x0003
#define CD_MAX_BLOCKS (99u * 60 * 75)   /* 99 minutes: larger images are DVDs */

/* Mode pages (MMC-6 7.3, 7.7) and page control values (SPC-4 6.11). */
#define PAGE_ERROR_RECOVERY 0x01
#define PAGE_CAPABILITIES   0x2A
#define PAGE_ALL            0x3F
#define PC_CHANGEABLE       1
#define PC_SAVED            3

/* GET EVENT STATUS NOTIFICATION (MMC-6 6.7.2). */
#define GESN_POLLED          0x01
#define GESN_CLASS_MEDIA     4
#define GESN_NEA             0x80
#define MEDIA_EVENT_NONE     0
#define MEDIA_EVENT_EJECT_REQUEST 1
#define MEDIA_EVENT_NEW      2
#define MEDIA_EVENT_REMOVAL  3
#define MEDIA_STATUS_PRESENT 0x02
#define MEDIA_STATUS_TRAY_OPEN 0x01

#define TRACK_LEAD_OUT 0xAA
#define ADR_CONTROL_DATA 0x14          /* Q subchannel ADR 1, data track */
#define MSF_OFFSET 150                 /* 2 seconds of pregap before LBA 0 */
#define SENSE_FIXED_CURRENT 0x70
#define SENSE_FIXED_SIZE 18
#define INQUIRY_SIZE 36
#define MAX_READ_SPEED_KBS 5540        /* 4x DVD */
#define ISO_DESCRIPTOR_OFFSET 32769    /* standard identifier of volume descriptor 16 */

void atapi_set_sense(struct ata_drive *d, uint8_t key, uint8_t asc, uint8_t ascq)
{
	d->sense = (struct atapi_sense){ key, asc, ascq };
}

static bool check(struct ata_drive *d, uint8_t key, uint8_t asc, uint8_t ascq)
{
	atapi_set_sense(d, key, asc, ascq);
	return false;
}

static bool invalid_field(struct ata_drive *d)
{
	return check(d, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD, 0);
}

static bool disc_present(const struct ata_drive *d)
{
	return d->medium && !d->tray_open;
}

static uint32_t disc_blocks(const struct ata_drive *d)
{
	return disc_present(d) ? (uint32_t)MIN(d->medium->size / ATAPI_BLOCK_SIZE, UINT32_MAX) : 0;
}

/* A reply of `len` bytes built in the buffer, cut to the allocation length. */
static bool reply(struct atapi_reply *r, size_t len, uint32_t allocation)
{
	*r = (struct atapi_reply){ .bytes = MIN(len, allocation) };
	return true;
}

static bool request_sense(struct ata_drive *d, const uint8_t *cdb, struct atapi_reply *r)
{
	uint8_t *b = d->buf;
	if (d->sense.key == SENSE_NONE && d->unit_attention) {
		d->unit_attention = false;
		atapi_set_sense(d, SENSE_UNIT_ATTENTION, ASC_MEDIUM_MAY_HAVE_CHANGED, 0);
	}
	memset(b, 0, SENSE_FIXED_SIZE);
	b[0] = SENSE_FIXED_CURRENT;
	b[2] = d->sense.key;
	b[7] = SENSE_FIXED_SIZE - 8;
	b[12] = d->sense.asc;
	b[13] = d->sense.ascq;
	atapi_set_sense(d, SENSE_NONE, 0, 0);
	return reply(r, SENSE_FIXED_SIZE, cdb[4]);
}

static void put_padded(uint8_t *p, const char *s, size_t width)
{
	memset(p, ' ', width);
	memcpy(p, s, MIN(strlen(s), width));
}

static bool inquiry(struct ata_drive *d, const uint8_t *cdb, struct atapi_reply *r)
{
	uint8_t *b = d->buf;
	if (cdb[1] & 0x01)                      /* vital product data: none */
		return invalid_field(d);
	memset(b, 0, INQUIRY_SIZE);
	b[0] = 0x05;                            /* CD/DVD device */
	b[1] = 0x80;                            /* removable */
	b[2] = 0x05;                            /* SPC-3 */
	b[3] = 0x02;                            /* response data format */
	b[4] = INQUIRY_SIZE - 5;
	put_padded(b + 8, "VIREO", 8);
	put_padded(b + 16, "DVD-ROM", 16);
	put_padded(b + 32, "1.0", 4);
	return reply(r, INQUIRY_SIZE, get_be(cdb + 3, 2));
}

static bool read_capacity(struct ata_drive *d, struct atapi_reply *r)
{
	put_be(d->buf, disc_blocks(d) - 1, 4);
	put_be(d->buf + 4, ATAPI_BLOCK_SIZE, 4);
	return reply(r, 8, 8);
}

static bool read_blocks(struct ata_drive *d, uint32_t lba, uint32_t count, struct atapi_reply *r)
{
	uint32_t blocks = disc_blocks(d);
	if (lba > blocks || count > blocks - lba)
		return check(d, SENSE_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE, 0);
	*r = (struct atapi_reply){ .from_medium = true, .offset = (uint64_t)lba * ATAPI_BLOCK_SIZE,
				   .bytes = (uint64_t)count * ATAPI_BLOCK_SIZE };
	return true;
}

/* A TOC address: an LBA, or minute/second/frame behind the 2 s pregap. */
static void put_address(uint8_t *p, uint32_t lba, bool msf)
{
	if (!msf) {
		put_be(p, lba, 4);
		return;
	}
	uint32_t frames = lba + MSF_OFFSET;
	p[0] = 0;
	p[1] = (uint8_t)MIN(frames / (60 * 75), 0xFF);
	p[2] = (uint8_t)(frames / 75 % 60);
	p[3] = (uint8_t)(frames % 75);
}

static void put_track_descriptor(uint8_t *p, uint8_t track, uint32_t lba, bool msf)
{
	p[0] = 0;
	p[1] = ADR_CONTROL_DATA;
	p[2] = track;
	p[3] = 0;
	put_address(p + 4, lba, msf);
}

/* Format 0 (the one data track and the lead-out) and 1 (the one session). */
static bool read_toc(struct ata_drive *d, const uint8_t *cdb, struct atapi_reply *r)
{
	bool msf = cdb[1] & 0x02;
	uint8_t format = cdb[2] & 0x0F, start = cdb[6];
	uint8_t *b = d->buf;
	size_t len = 4;
	if (format == 0) {
		if (start > 1 && start != TRACK_LEAD_OUT)
			return invalid_field(d);
		if (start <= 1) {
			put_track_descriptor(b + len, 1, 0, msf);
			len += 8;
		}
		put_track_descriptor(b + len, TRACK_LEAD_OUT, disc_blocks(d), msf);
		len += 8;
	} else if (format == 1) {
		put_track_descriptor(b + len, 1, 0, msf);
		len += 8;
	} else {
		return invalid_field(d);
	}
	put_be(b, len - 2, 2);
	b[2] = 1;                               /* first track or session */
	b[3] = 1;                               /* last */
	return reply(r, len, get_be(cdb + 7, 2));
}

static uint16_t current_profile(const struct ata_drive *d)
{
	if (!disc_present(d))
		return PROFILE_NONE;
	return disc_blocks(d) > CD_MAX_BLOCKS ? PROFILE_DVD_ROM : PROFILE_CD_ROM;
}

/* Appends a feature descriptor header (MMC-6 5.2.2): persistent and
 * current, with `len` bytes of feature data the caller fills. */
static uint8_t *add_feature(uint8_t *b, size_t *len, uint16_t code, uint8_t version, uint8_t data_len)
{
	uint8_t *f = b + *len;
	memset(f, 0, 4u + data_len);
	put_be(f, code, 2);
	f[2] = (uint8_t)(version << 2 | 0x03);
	f[3] = data_len;
	*len += 4u + data_len;
	return f;
}

static bool wanted_feature(uint8_t rt, uint16_t start, uint16_t code)
{
	return rt == 2 ? code == start : code >= start;
}

static bool get_configuration(struct ata_drive *d, const uint8_t *cdb, struct atapi_reply *r)
{
	uint8_t rt = cdb[1] & 0x03, *b = d->buf, *f;
	uint16_t start = (uint16_t)get_be(cdb + 2, 2), profile = current_profile(d);
	size_t len = 8;
	if (rt == 3)
		return invalid_field(d);
	memset(b, 0, len);
	put_be(b + 6, profile, 2);
	if (wanted_feature(rt, start, FEATURE_PROFILE_LIST)) {
		f = add_feature(b, &len, FEATURE_PROFILE_LIST, 0, 8);
		put_be(f + 4, PROFILE_DVD_ROM, 2);
		f[6] = profile == PROFILE_DVD_ROM;
		put_be(f + 8, PROFILE_CD_ROM, 2);
		f[10] = profile == PROFILE_CD_ROM;
	}
	if (wanted_feature(rt, start, FEATURE_CORE)) {
		f = add_feature(b, &len, FEATURE_CORE, 2, 8);
		put_be(f + 4, 2, 4);                  /* physical interface: ATAPI */
		f[8] = 0x01;                          /* DBE: reports device busy events */
	}
	if (wanted_feature(rt, start, FEATURE_MORPHING)) {
		f = add_feature(b, &len, FEATURE_MORPHING, 1, 4);
		f[4] = 0x02;                          /* OCEvent: GESN operational change class */
	}
	if (wanted_feature(rt, start, FEATURE_REMOVABLE)) {
		f = add_feature(b, &len, FEATURE_REMOVABLE, 0, 4);
		f[4] = 1u << 5 | 1u << 3 | 1u << 0;   /* tray, eject, lock */
	}
	put_be(b, len - 4, 4);
	return reply(r, len, get_be(cdb + 7, 2));
}

/* The media event class, polled: a change is reported once. */
static bool get_event_status(struct ata_drive *d, const uint8_t *cdb, struct atapi_reply *r)
{
	uint8_t *b = d->buf;
	if (!(cdb[1] & GESN_POLLED))
		return invalid_field(d);
	memset(b, 0, 8);
	b[3] = 1u << GESN_CLASS_MEDIA;
	if (!(cdb[4] & (1u << GESN_CLASS_MEDIA))) {
		b[2] = GESN_NEA;
		put_be(b, 2, 2);
		return reply(r, 4, get_be(cdb + 7, 2));
	}
	b[2] = GESN_CLASS_MEDIA;
	put_be(b, 6, 2);
	if (d->media_event)
		b[4] = MEDIA_EVENT_NEW;
	else if (d->eject_event)
		b[4] = MEDIA_EVENT_REMOVAL;
	d->media_event = d->eject_event = false;
	b[5] = (disc_present(d) ? MEDIA_STATUS_PRESENT : 0) | (d->tray_open ? MEDIA_STATUS_TRAY_OPEN : 0);
	return reply(r, 8, get_be(cdb + 7, 2));
}

static size_t put_mode_page(const struct ata_drive *d, uint8_t *p, uint8_t page, bool changeable)
{
	size_t len = page == PAGE_ERROR_RECOVERY ? 12 : 22;
	memset(p, 0, len);
	p[0] = page;
	p[1] = (uint8_t)(len - 2);
	if (changeable)
		return len;  /* nothing can be changed: all-zero masks */
	if (page == PAGE_ERROR_RECOVERY) {
		p[3] = 5;                                 /* read retry count */
		return len;
	}
	p[2] = 0x3B;            /* reads CD-R, CD-RW, DVD-ROM, DVD-R, DVD-RAM */
	p[4] = 0x70;            /* mode 2 form 1 and 2, multi-session */
	p[6] = 1u << 5 | 1u << 3 | 1u << 0 | (d->locked ? 1u << 1 : 0);  /* tray, eject, lock, locked */
	put_be(p + 8, MAX_READ_SPEED_KBS, 2);
	put_be(p + 12, 512, 2);                       /* buffer, KiB */
	put_be(p + 14, MAX_READ_SPEED_KBS, 2);
	return len;
}

static bool mode_sense(struct ata_drive *d, const uint8_t *cdb, struct atapi_reply *r)
{
	bool ten = cdb[0] == OP_MODE_SENSE_10;
	uint8_t page = cdb[2] & 0x3F, pc = cdb[2] >> 6, *b = d->buf;
	size_t header = ten ? 8 : 4, len = header;
	if (pc == PC_SAVED)
		return check(d, SENSE_ILLEGAL_REQUEST, ASC_SAVING_NOT_SUPPORTED, 0);
	if (page != PAGE_ERROR_RECOVERY && page != PAGE_CAPABILITIES && page != PAGE_ALL)
		return invalid_field(d);
	memset(b, 0, header);
	if (page == PAGE_ERROR_RECOVERY || page == PAGE_ALL)
		len += put_mode_page(d, b + len, PAGE_ERROR_RECOVERY, pc == PC_CHANGEABLE);
	if (page == PAGE_CAPABILITIES || page == PAGE_ALL)
		len += put_mode_page(d, b + len, PAGE_CAPABILITIES, pc == PC_CHANGEABLE);
	if (ten)
		put_be(b, len - 2, 2);
	else
		b[0] = (uint8_t)(len - 1);
	return reply(r, len, ten ? get_be(cdb + 7, 2) : cdb[4]);
}

/* LoEj with Start clear opens the tray, with Start set closes it. */
static bool start_stop_unit(struct ata_drive *d, const uint8_t *cdb)
{
	bool load_eject = cdb[4] & 0x02, start = cdb[4] & 0x01;
	if (!load_eject)
		return true;
	if (!start && d->locked)
		return check(d, SENSE_ILLEGAL_REQUEST, ASC_REMOVAL_PREVENTED, ASCQ_REMOVAL_PREVENTED);
	if (start == d->tray_open && d->medium) {
		d->media_event = start;
		d->eject_event = !start;
	}
	d->tray_open = !start;
	return true;
}

static bool read_disc_information(struct ata_drive *d, const uint8_t *cdb, struct atapi_reply *r)
{
	uint8_t *b = d->buf;
	if (cdb[1] & 0x07)                      /* only standard disc information */
		return invalid_field(d);
	memset(b, 0, 34);
	put_be(b, 32, 2);
	b[2] = 0x0E;                            /* last session complete, disc finalized */
	b[3] = 1;                               /* first track */
	b[4] = 1;                               /* sessions */
	b[5] = 1;                               /* first and last track of the last session */
	b[6] = 1;
	put_be(b + 16, 0xFFFFFFFF, 4);          /* no further session can be started */
	put_be(b + 20, 0xFFFFFFFF, 4);
	return reply(r, 34, get_be(cdb + 7, 2));
}

static bool read_track_information(struct ata_drive *d, const uint8_t *cdb, struct atapi_reply *r)
{
	uint8_t type = cdb[1] & 0x03, *b = d->buf;
	uint32_t number = get_be(cdb + 2, 4);
	bool track1 = (type == 0 && number < disc_blocks(d)) || ((type == 1 || type == 2) && number == 1);
	if (!track1)
		return invalid_field(d);
	memset(b, 0, 36);
	put_be(b, 34, 2);
	b[2] = 1;                               /* track */
	b[3] = 1;                               /* session */
	b[5] = 0x04;                            /* data track, recorded uninterrupted */
	b[6] = 0x01;                            /* data mode 1 */
	put_be(b + 24, disc_blocks(d), 4);      /* track size */
	return reply(r, 36, get_be(cdb + 7, 2));
}

static bool mechanism_status(struct ata_drive *d, const uint8_t *cdb, struct atapi_reply *r)
{
	memset(d->buf, 0, 8);
	d->buf[1] = d->tray_open ? 0x10 : 0;     /* door open */
	return reply(r, 8, get_be(cdb + 8, 2));
}

/* Commands that answer without a disc and are not held up by UNIT ATTENTION. */
static bool runs_any_time(uint8_t op)
{
	return op == OP_INQUIRY || op == OP_REQUEST_SENSE || op == OP_GET_EVENT_STATUS;
}

static bool needs_disc(uint8_t op)
{
	return op == OP_TEST_UNIT_READY || op == OP_READ_CAPACITY || op == OP_READ_10 || op == OP_READ_12 ||
	       op == OP_READ_TOC || op == OP_READ_DISC_INFORMATION || op == OP_READ_TRACK_INFORMATION;
}

bool atapi_execute(struct ata_drive *d, const uint8_t cdb[ATAPI_CDB_SIZE], struct atapi_reply *r)
{
	uint8_t op = cdb[0];
	*r = (struct atapi_reply){ 0 };
	if (op != OP_REQUEST_SENSE)
		atapi_set_sense(d, SENSE_NONE, 0, 0);
	if (d->unit_attention && !runs_any_time(op)) {
		d->unit_attention = false;
		return check(d, SENSE_UNIT_ATTENTION, ASC_MEDIUM_MAY_HAVE_CHANGED, 0);
	}
	if (needs_disc(op) && !disc_present(d))
		return check(d, SENSE_NOT_READY, ASC_MEDIUM_NOT_PRESENT, 0);
	switch (op) {
	case OP_TEST_UNIT_READY:
	case OP_SET_CD_SPEED:
		return true;
	case OP_REQUEST_SENSE:
		return request_sense(d, cdb, r);
	case OP_INQUIRY:
		return inquiry(d, cdb, r);
	case OP_READ_CAPACITY:
		return read_capacity(d, r);
	case OP_READ_10:
		return read_blocks(d, get_be(cdb + 2, 4), get_be(cdb + 7, 2), r);
	case OP_READ_12:
		return read_blocks(d, get_be(cdb + 2, 4), get_be(cdb + 6, 4), r);
	case OP_READ_TOC:
		return read_toc(d, cdb, r);
	case OP_GET_CONFIGURATION:
		return get_configuration(d, cdb, r);
	case OP_GET_EVENT_STATUS:
		return get_event_status(d, cdb, r);
	case OP_MODE_SENSE_6:
	case OP_MODE_SENSE_10:
		return mode_sense(d, cdb, r);
	case OP_START_STOP_UNIT:
		return start_stop_unit(d, cdb);
	case OP_PREVENT_ALLOW_REMOVAL:
		d->locked = cdb[4] & 0x01;
		return true;
	case OP_READ_DISC_INFORMATION:
		return read_disc_information(d, cdb, r);
	case OP_READ_TRACK_INFORMATION:
		return read_track_information(d, cdb, r);
	case OP_MECHANISM_STATUS:
		return mechanism_status(d, cdb, r);
	default:
		return check(d, SENSE_ILLEGAL_REQUEST, ASC_INVALID_OPCODE, 0);
	}
}

bool atapi_change_medium(struct ata_drive *d, struct block_backend *medium)
{
	bool cut = medium ? ata_end_medium_phase(d, SENSE_UNIT_ATTENTION, ASC_MEDIUM_MAY_HAVE_CHANGED)
			  : ata_end_medium_phase(d, SENSE_NOT_READY, ASC_MEDIUM_NOT_PRESENT);
	d->eject_event = d->medium != NULL;
	d->medium = medium;
	d->tray_open = false;
	d->locked = false;
	d->media_event = medium != NULL;
	d->unit_attention = !(cut && medium);
	return cut;
}

bool atapi_check_image(struct block_backend *blk, char **error)
{
	char id[6] = { 0 };
	struct iovec iov = { id, 5 };
	if (blk->size % ATAPI_BLOCK_SIZE) {
		*error = g_strdup_printf("CD image %s is %llu bytes, not a whole number of 2048-byte blocks",
					 blk->path, (unsigned long long)blk->size);
		return false;
	}
	if (blk->size < ISO_DESCRIPTOR_OFFSET + 5 || block_read(blk, ISO_DESCRIPTOR_OFFSET, &iov, 1) < 0 ||
	    (strcmp(id, "CD001") && strcmp(id, "BEA01"))) {
		*error = g_strdup_printf("CD image %s is not an ISO 9660 or UDF image (no CD001 or BEA01 at byte %d)",
					 blk->path, ISO_DESCRIPTOR_OFFSET);
		return false;
	}
	return true;
}
