/* The PIIX3 IDE function at 00:01.1 (Intel 82371SB datasheet §2.4, 8086:7010,
 * class 0101 prog-if 0x80): two legacy ATA channels (0x1F0-0x1F7 / 0x3F6 on
 * IRQ 14, 0x170-0x177 / 0x376 on IRQ 15), each with a master and a slave
 * drive from hw/ata.h, and the bus-master DMA block in BAR4 (SFF-8038i):
 * per channel a command, a status and a PRD table pointer register.
 *
 * Disk and disc I/O runs on the backend's workers (backend/block.h), one
 * request per channel at a time: the drive shows BSY meanwhile, and the
 * completion shows DRQ for the next PIO block, or the ending status, and
 * raises INTRQ, as the ATA PIO and DMA protocols have it. A vCPU never
 * waits on the disk, but for a software reset (SRST) or a disc change
 * meeting a request in flight: the reset drops its completion, so nothing
 * reaches guest memory after it. Guest memory is reached only through
 * guest_mem: a PRD table or buffer outside RAM ends the command with an
 * error, never with a host access. */
#ifndef VIREO_HW_PIIX_IDE_H
#define VIREO_HW_PIIX_IDE_H

#include <glib.h>

#include "core/device.h"
#include "hw/ata.h"
#include "core/irq.h"
#include "hw/pci.h"
#include "core/guest_mem.h"

#define PIIX_IDE_SLOT 1
#define PIIX_IDE_FUNCTION 1
#define PIIX_IDE_DRIVES 4             /* primary master, slave, secondary master, slave */
#define PIIX_IDE_PIO_BUFFER 65536     /* the largest ATAPI DRQ block, rounded up */

/* One position on a channel: its drive (or none) and the registers it shows. */
struct ide_device {
	struct ata_drive *drive;      /* NULL: nothing attached */
	struct ata_taskfile regs;     /* *_exp and lba[3..5]: the previous (HOB) bytes */
};

struct piix_ide;

/* What the channel's request in flight is for. */
enum ide_io {
	IDE_IO_PIO_IN,
	IDE_IO_PIO_OUT,
	IDE_IO_DMA,
	IDE_IO_FLUSH,
};

struct ide_channel {
	struct piix_ide *owner;
	struct ide_device devices[2];
	unsigned selected;            /* DEV bit of the device register */
	uint8_t control;              /* device control: nIEN, SRST, HOB */
	bool irq_pending;             /* INTRQ of the selected device, cleared by a status read */
	struct irq_line irq;
	/* The data phase in progress, of devices[active]. */
	unsigned active;
	struct ata_transfer xfer;
	uint8_t *pio;                 /* PIO DRQ block */
	uint32_t pio_pos, pio_len;    /* pio_len 0: no PIO block pending */
	enum ata_dir pio_dir;
	/* Bus master (SFF-8038i §3). */
	uint8_t bm_command, bm_status;
	uint32_t prd_table;
	bool dma_more;                /* the PRD table goes on past the transfer */
	struct iovec *dma_iov;        /* the transfer mapped onto guest RAM */
	struct iovec pio_iov;
	/* The disk request in flight. */
	struct block_slot io;
	enum ide_io io_kind;
	uint32_t io_len;              /* PIO: the block's bytes */
};

struct piix_ide {
	struct pci_device pci;
	GMutex lock;                  /* everything below */
	const struct guest_mem *mem;
	struct ide_channel channels[2];
	struct ata_drive drives[PIIX_IDE_DRIVES];
};

/* A drive to attach at init: NULL medium and CDROM kind is an empty drive. */
struct piix_ide_drive_config {
	bool present;
	enum ata_drive_kind kind;
	struct block_backend *medium;
	const char *serial;           /* or NULL */
};

/* Registers the legacy ports on `pio` and adds the function at 00:01.1.
 * Returns 0 or -errno (nothing to destroy then). */
int piix_ide_init(struct piix_ide *ide, struct pci_bus *pci, struct bus *pio, const struct guest_mem *mem,
		  struct irq_line irq14, struct irq_line irq15,
		  const struct piix_ide_drive_config drives[PIIX_IDE_DRIVES]);
void piix_ide_destroy(struct piix_ide *ide);

extern const struct device_ops piix_ide_device_ops;

/* Puts `medium` (NULL: none) in the ATAPI drive at `position`, as a user
 * changing discs (the guest sees UNIT ATTENTION). Returns the medium the
 * drive held: no access to it is in flight once this returns. */
struct block_backend *piix_ide_change_medium(struct piix_ide *ide, unsigned position,
					     struct block_backend *medium);

#endif
