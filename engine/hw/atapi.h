/* The MMC/SPC command set of an ATAPI CD/DVD drive on an ISO image
 * (2048-byte blocks): the CDB part of struct ata_drive (see ata.h). Sense
 * data stays in the drive for REQUEST SENSE; a changed medium is reported
 * once as UNIT ATTENTION and through GET EVENT STATUS NOTIFICATION. */
#ifndef VIREO_HW_ATAPI_H
#define VIREO_HW_ATAPI_H

#include "hw/ata.h"

/* SCSI status / sense keys (SPC-4 4.5.6). */
#define SENSE_NONE            0x00
#define SENSE_NOT_READY       0x02
#define SENSE_MEDIUM_ERROR    0x03
#define SENSE_ILLEGAL_REQUEST 0x05
#define SENSE_UNIT_ATTENTION  0x06
#define SENSE_ABORTED_COMMAND 0x0B

/* What a CDB moves to the host: `bytes` from the drive's buffer, or from
 * the disc at byte `offset`. */
struct atapi_reply {
	bool from_medium;
	uint64_t offset;
	uint64_t bytes;
};

/* Runs one CDB. false: CHECK CONDITION, with the reason in d->sense. */
bool atapi_execute(struct ata_drive *d, const uint8_t cdb[ATAPI_CDB_SIZE], struct atapi_reply *reply);

/* Sets the sense data the next REQUEST SENSE reports. */
void atapi_set_sense(struct ata_drive *d, uint8_t key, uint8_t asc, uint8_t ascq);

/* Puts `medium` in the drive (NULL: ejects), as a user changing discs:
 * the guest sees UNIT ATTENTION / MEDIUM MAY HAVE CHANGED next. A read
 * from the old disc still open ends in CHECK CONDITION instead: UNIT
 * ATTENTION when a new disc is in (then said), NOT READY / MEDIUM NOT
 * PRESENT when none is. Returns whether it ended one: the transport ends
 * its side of the transfer and interrupts. */
bool atapi_change_medium(struct ata_drive *d, struct block_backend *medium);

/* Whether an opened image (block_open refuses empty ones) is a disc we can
 * present: a size that is a multiple of 2048 and an ISO 9660 ("CD001") or UDF ("BEA01")
 * volume descriptor at byte 32769. false with *error set to one line. */
bool atapi_check_image(struct block_backend *blk, char **error);

#endif
