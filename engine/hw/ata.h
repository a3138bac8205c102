/* One ATA drive, independent of how commands reach it: a hard disk (ATA8-ACS
 * general, 48-bit, DMA and multiple feature sets) or an ATAPI CD/DVD drive
 * (PACKET feature set; the MMC command set is in atapi.c).
 *
 * A transport (PIIX IDE registers, an AHCI command FIS) drives it in three
 * steps:
 *   1. ata_command() with the taskfile the host wrote. The drive answers
 *      with the data phase it wants in struct ata_transfer: none, in (drive
 *      to host) or out, how many bytes, by DMA or PIO, and for PIO the size
 *      of one DRQ block. A PACKET command asks for its 12-byte CDB first
 *      (`packet`): the transport passes it to ata_packet(), which answers
 *      with the data phase of the CDB.
 *   2. ata_data() once or more with iovecs the transport built (guest RAM
 *      for DMA, a bounce buffer for PIO), in order, each moving the iovecs'
 *      total. Disk and disc data go straight between the image file and
 *      those iovecs. A transport that must not wait on the disk uses
 *      ata_data_begin() instead: it hands back the block request to run
 *      (on the backend's workers), and ata_data_end() takes its result.
 *      FLUSH CACHE asks for such a request too (`flush`), with no data.
 *   3. When the transfer has no bytes left (or there was none), the command
 *      is complete: `result` holds status, error, count, LBA and device as
 *      the host reads them back (ATA8-ACS normal and error outputs).
 * The drive has no lock: its transport serialises calls. */
#ifndef VIREO_HW_ATA_H
#define VIREO_HW_ATA_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "core/device.h"
#include "backend/block.h"

#define ATA_SECTOR_SIZE 512
#define ATAPI_BLOCK_SIZE 2048
#define ATAPI_CDB_SIZE 12
#define ATA_MAX_MULTIPLE 16       /* sectors per DRQ block for READ/WRITE MULTIPLE */
#define ATA_BUFFER_SIZE 2048      /* IDENTIFY data and ATAPI replies */

/* Status register bits (ATA8-ACS 6.2 / ATA8-APT). */
#define ATA_STATUS_ERR  0x01      /* ATAPI: CHK */
#define ATA_STATUS_DRQ  0x08
#define ATA_STATUS_DSC  0x10      /* device seek complete (obsolete, still set by drives) */
#define ATA_STATUS_DF   0x20
#define ATA_STATUS_DRDY 0x40
#define ATA_STATUS_BSY  0x80

/* Error register bits (ATA8-ACS 6.3). */
#define ATA_ERROR_ABRT 0x04
#define ATA_ERROR_IDNF 0x10
#define ATA_ERROR_UNC  0x40
#define ATA_ERROR_DIAG_OK 0x01    /* after reset / EXECUTE DEVICE DIAGNOSTIC: "device 0 passed" */

/* Device register. */
#define ATA_DEVICE_LBA   0x40
#define ATA_DEVICE_DEV1  0x10     /* selects device 1 (slave) */

/* ATAPI interrupt reason in the count register (ATA8-ACS 7.24.5). */
#define ATAPI_REASON_COD 0x01
#define ATAPI_REASON_IO  0x02

enum ata_drive_kind {
	ATA_DRIVE_DISK,
	ATA_DRIVE_CDROM,
};

/* Registers as the host sees them: what it writes for a command, what it
 * reads back after. lba[0..2] are LBA 7:0, 15:8, 23:16; lba[3..5] are the
 * 48-bit "previous" bytes 31:24, 39:32, 47:40 (an AHCI FIS carries them the
 * same way). For ATAPI, lba[1..2] are the byte count. */
struct ata_taskfile {
	uint8_t command;          /* in */
	uint8_t features, features_exp;
	uint8_t count, count_exp;
	uint8_t lba[6];
	uint8_t device;
	uint8_t status, error;    /* out */
};

enum ata_dir {
	ATA_DIR_NONE,
	ATA_DIR_IN,               /* drive to host */
	ATA_DIR_OUT,              /* host to drive */
};

struct ata_transfer {
	enum ata_dir dir;
	bool dma;
	bool packet;              /* the OUT bytes are a CDB for ata_packet() */
	bool flush;               /* the command waits for the medium's flush (no iovecs) */
	uint64_t bytes;           /* still to move */
	uint32_t block;           /* PIO: bytes per DRQ block (the last may be shorter) */
};

/* SCSI sense (SPC-4 4.5), kept by an ATAPI drive for REQUEST SENSE. */
struct atapi_sense {
	uint8_t key, asc, ascq;
};

/* The data phase a drive expects next. */
struct ata_phase {
	enum ata_dir dir;
	bool from_medium;              /* the medium at `offset`, else the drive's buffer */
	bool packet;                   /* collecting a CDB */
	bool flush;                    /* FLUSH CACHE: the medium's flush */
	uint64_t in_flight;            /* bytes of the request begun, not ended */
	uint64_t offset;
	uint64_t bytes;
};

struct ata_drive {
	enum ata_drive_kind kind;
	struct block_backend *medium;  /* the image; a CD-ROM without a disc: NULL */
	char serial[21];
	uint64_t sectors;              /* 512-byte sectors (disk) */
	struct ata_taskfile result;
	bool write_cache;
	uint8_t multiple;              /* SET MULTIPLE count, 0: disabled */
	uint8_t mwdma_mode, udma_mode; /* selected mode + 1, 0: none */
	uint16_t heads, sectors_per_track; /* CHS translation (INITIALIZE DEVICE PARAMETERS) */
	bool standby;
	struct ata_phase phase;        /* of the command in progress */
	uint8_t buf[ATA_BUFFER_SIZE];
	/* ATAPI state (atapi.c). */
	struct atapi_sense sense;
	bool unit_attention;           /* the medium changed: say so once */
	bool media_event;              /* GET EVENT STATUS: a new medium not yet reported */
	bool eject_event;
	bool locked;                   /* PREVENT ALLOW MEDIUM REMOVAL */
	bool tray_open;
	bool packet_dma;               /* PACKET features bit 0: the data phase is DMA */
	uint16_t byte_limit;           /* PACKET byte count: the largest PIO DRQ block */
};

/* A drive on `medium` (NULL: an empty CD-ROM drive). `serial` (20 printable
 * characters at most, or NULL for one made from `index`) is what IDENTIFY
 * reports. The drive starts in its post-reset state. */
void ata_drive_init(struct ata_drive *d, enum ata_drive_kind kind, struct block_backend *medium,
		    const char *serial, unsigned index);

/* Hardware or software reset: the signature (ATA: count 1, LBA 1/0/0;
 * ATAPI: 1, 1/0x14/0xEB) and the post-reset status into `result`. */
void ata_drive_reset(struct ata_drive *d);

/* Starts the command in `tf` (the previous one, if any, is dropped) and
 * says what data phase follows. */
void ata_command(struct ata_drive *d, const struct ata_taskfile *tf, struct ata_transfer *xfer);

/* The CDB of a PACKET command (after ata_command asked for it). */
void ata_packet(struct ata_drive *d, const uint8_t cdb[ATAPI_CDB_SIZE], struct ata_transfer *xfer);

/* Moves the next bytes of the data phase: the iovecs' total, at most
 * xfer->bytes (or runs the flush of `xfer->flush`). Returns 0, or -1 when the medium
 * failed or the request does not fit the phase: the command then ends with
 * an error in `result` and xfer->bytes is 0. */
int ata_data(struct ata_drive *d, const struct iovec *iov, unsigned count, struct ata_transfer *xfer);

/* ata_data in two halves. Returns 0 when the bytes moved at once (the
 * drive's buffer), -1 as ata_data, or 1 with `io` set up (op, offset,
 * iovecs: the caller's, kept until the end) for the transport to run and
 * pass to ata_data_end with its result. For `flush`, `iov` is unused. */
int ata_data_begin(struct ata_drive *d, const struct iovec *iov, unsigned count, struct ata_transfer *xfer,
		   struct block_request *io);
/* Returns 0, or -1 (the command ended with an error in `result`). */
int ata_data_end(struct ata_drive *d, int result, struct ata_transfer *xfer);

/* The medium went away under an open data phase that reads it: the
 * command ends in CHECK CONDITION with sense `key`/`asc`/0, as a drive
 * whose disc leaves mid-transfer. Returns whether such a phase was open
 * (the transport then ends its side and interrupts). */
bool ata_end_medium_phase(struct ata_drive *d, uint8_t key, uint8_t asc);

/* The transport could not move the data (a DMA table or buffer outside
 * guest RAM, a short table): ends the command with ABRT. */
void ata_abort(struct ata_drive *d, struct ata_transfer *xfer);

/* The PC's reset line reaching the drive: its settings back to their
 * power-on defaults and the post-reset state; the medium, and whether the
 * tray is open, stay. */
void ata_drive_power_on(struct ata_drive *d);

/* For the state records of the transports (core/device.h): a taskfile, and
 * what a drive holds beyond its configuration (kind, medium, serial), with
 * field names prefixed by `prefix`. Load refuses a data phase that reaches
 * past the drive's buffer or medium. */
void ata_taskfile_save(struct state_writer *w, const char *prefix, const struct ata_taskfile *tf);
bool ata_taskfile_load(struct state_reader *r, const char *prefix, struct ata_taskfile *tf);
void ata_drive_save(struct ata_drive *d, struct state_writer *w, const char *prefix);
bool ata_drive_load(struct ata_drive *d, struct state_reader *r, const char *prefix);

#endif
