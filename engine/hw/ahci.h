/* An AHCI host bus adapter as the ICH9 has it (PCI 8086:2922, class 0106
 * prog-if 01; AHCI 1.3.1), with six SATA ports, each empty or holding a hard
 * disk or a CD-ROM.
 *
 * PCI side: ABAR (BAR5, 4 KiB of memory) holds the registers; BAR4 holds
 * the index/data pair (AHCI 1.3.1 §2.4.2) that reaches them through I/O
 * ports; capabilities PCI power management, MSI (one message) and SATA.
 * INTA# is used while MSI is off.
 *
 * A PxCI write (a vCPU) starts the list: the HBA reads the command header
 * and table from guest memory, maps the PRDT to iovecs over guest RAM and
 * executes the command through the ATA/ATAPI core (hw/ata.h, hw/atapi.h).
 * Disk and disc I/O goes to the backend's workers (backend/block.h), one
 * command per port at a time, PxTFD showing BSY meanwhile; the completion
 * writes the byte count back, posts the D2H Register FIS (and a PIO Setup
 * FIS for PIO data-in) when FIS receive is on, raises the port's interrupt
 * and runs the next issued slot. A vCPU never waits on the disk, but when
 * it abandons a command in flight (PxCMD.ST cleared, COMRESET, HBA reset):
 * it waits for the request and its completion is dropped, so nothing
 * reaches guest memory after the reset. A command header, table, PRD or FIS area that
 * is not guest RAM is a host bus fatal error (PxIS.HBFS), the command
 * aborted where the drive can say so; an error status from the drive is a
 * task-file error (PxIS.TFES). Either stops the port's list with PxCI still
 * set until software clears PxCMD.ST, as on real HBAs. No NCQ, no port
 * multiplier, no staggered spin-up.
 *
 * Locking: one lock for the HBA, held while registers change, while a
 * command is started or completed (a worker thread takes it to complete)
 * and while a disc is changed from outside; a thread waiting for a request
 * in flight (an abandoned command, a disc change) waits without it. */
#ifndef VIREO_HW_AHCI_H
#define VIREO_HW_AHCI_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/device.h"
#include "backend/block.h"
#include "hw/ata.h"
#include "core/irq.h"
#include "hw/msi.h"
#include "hw/pci.h"
#include "core/guest_mem.h"

#define AHCI_PORTS 6
#define AHCI_ABAR 5
#define AHCI_ABAR_SIZE 0x1000
#define AHCI_IDP_BAR 4
#define AHCI_IDP_BAR_SIZE 0x20

struct ahci;
struct ahci_command;

struct ahci_port {
	struct ahci *hba;
	unsigned index;
	bool attached;                /* else the port reports no device */
	struct ata_drive drive;
	/* Port registers (AHCI 1.3.1 §3.3). */
	uint32_t clb, clbu, fb, fbu, is, ie, cmd, tfd, sig, ssts, sctl, serr, sact, ci;
	bool halted;                  /* a task-file error stops the list until ST is cleared */
	bool in_comreset;             /* SCTL.DET = 1: the link is held in reset */
	bool held;                    /* no new command starts (a disc change or a save waits) */
	/* The command being run and its disk request. */
	struct ahci_command *command;
	struct ata_transfer xfer;
	struct block_slot io;
};

struct ahci {
	struct pci_device pci;
	struct msi msi;
	GMutex lock;
	const struct guest_mem *mem;
	struct irq_line intx;
	bool intx_level;
	uint32_t ghc, is;             /* generic host control (§3.1) */
	uint32_t idp_index;           /* the index/data pair's index */
	struct ahci_port ports[AHCI_PORTS];
};

/* Returns 0 or -errno. `route` (NULL in tests) binds the MSI eventfd to a
 * KVM route, as for MSI-X. */
int ahci_init(struct ahci *hba, const struct guest_mem *mem, struct irq_line intx,
	      const struct msix_route_ops *route, void *route_opaque);
void ahci_destroy(struct ahci *hba);

/* Attaches an image to port `port` (before the guest runs): a hard disk, or
 * with `cdrom` an ATAPI CD-ROM. `serial` may be NULL. Returns 0, -EINVAL
 * for a bad port, -EBUSY when it is taken. */
int ahci_attach(struct ahci *hba, unsigned port, struct block_backend *blk, bool cdrom, const char *serial);

/* Puts `medium` (NULL: none) in the CD-ROM drive on `port`, as a user
 * changing discs (the guest sees UNIT ATTENTION and a media event, as on
 * IDE). A command reading the old disc ends first. Returns the medium the
 * drive held: no access to it is in flight once this returns. Any thread
 * but a vCPU's. */
struct block_backend *ahci_change_medium(struct ahci *hba, unsigned port, struct block_backend *medium);

extern const struct device_ops ahci_device_ops;

#endif
