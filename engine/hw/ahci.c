/* The ICH9 AHCI host bus adapter. See ahci.h. */
#include "ahci.h"
#include "hw/atapi.h"
#include "core/bytes.h"
#include "core/trace.h"

#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/uio.h>

#define ICH9_VENDOR        0x8086
#define ICH9_AHCI_DEVICE   0x2922
#define ICH9_AHCI_CLASS    0x010601   /* mass storage, SATA, AHCI 1.0 interface */
#define ICH9_AHCI_REVISION 0x02
#define SUBSYSTEM_VENDOR   0x1AF4     /* as the i440FX's */
#define SUBSYSTEM_ID       0x1100
#define PCI_COMMAND_INTX_DISABLE 0x400

/* PCI capabilities the ICH9's SATA function has. */
#define PCI_CAP_ID_PM      0x01
#define PM_CAP_SIZE        8
#define PM_PMC             2
#define PM_PMC_VERSION_1_2 0x0003      /* PCI PM 1.2, no D1/D2, no PME */
#define PM_PMCSR           4
#define PM_PMCSR_STATE     0x03        /* D0-D3hot: accepted, nothing changes */
#define PCI_CAP_ID_SATA    0x12
#define SATA_CAP_SIZE      8
#define SATA_CAP_REVISION  2
#define SATA_CAP_REVISION_1_0 0x0010
#define SATA_CAP_CR1       4
/* AHCI 1.3.1 §2.4.2: BARLOC 8 = BAR4 (config 0x20); BAROFST in dwords. */
#define SATA_CAP_CR1_BAR4  0x8
#define IDP_INDEX          0x10        /* index/data pair offsets in BAR4 */
#define IDP_DATA           0x14

/* Generic host control (AHCI 1.3.1 §3.1). */
#define HBA_CAP            0x00
#define HBA_GHC            0x04
#define HBA_IS             0x08
#define HBA_PI             0x0C
#define HBA_VS             0x10
#define HBA_CAP2           0x24
#define CAP_S64A           (1u << 31)  /* 64-bit addressing */
#define CAP_SAM            (1u << 18)  /* AHCI mode only: GHC.AE reads 1 */
#define CAP_ISS_GEN2       (2u << 20)  /* 3 Gbps, as the ICH9 */
#define CAP_NCS_32         (31u << 8)  /* 32 command slots */
#define CAP_NP(n)          ((n) - 1u)
#define GHC_HR             (1u << 0)
#define GHC_IE             (1u << 1)
#define GHC_AE             (1u << 31)
#define VS_1_3_1           0x00010301u

/* Port registers (§3.3), at 0x100 + port * 0x80. */
#define PORT_BASE          0x100
#define PORT_STRIDE        0x80
#define PX_CLB             0x00
#define PX_CLBU            0x04
#define PX_FB              0x08
#define PX_FBU             0x0C
#define PX_IS              0x10
#define PX_IE              0x14
#define PX_CMD             0x18
#define PX_TFD             0x20
#define PX_SIG             0x24
#define PX_SSTS            0x28
#define PX_SCTL            0x2C
#define PX_SERR            0x30
#define PX_SACT            0x34
#define PX_CI              0x38
#define CLB_MASK           0xFFFFFC00u /* 1 KiB aligned */
#define FB_MASK            0xFFFFFF00u /* 256 bytes aligned */

/* PxIS / PxIE (§3.3.5, §3.3.6). */
#define PXIS_DHRS          (1u << 0)   /* D2H Register FIS with I set */
#define PXIS_PSS           (1u << 1)   /* PIO Setup FIS with I set */
#define PXIS_PCS           (1u << 6)   /* port connect change: SERR.DIAG.X */
#define PXIS_HBFS          (1u << 29)  /* host bus fatal error */
#define PXIS_TFES          (1u << 30)  /* task file error */
#define PXIS_RWC           0xFD8000AFu /* the bits software clears (the rest are reserved or read-only) */
#define PXIE_MASK          0xFDC000FFu

/* PxCMD (§3.3.7). */
#define PXCMD_ST           (1u << 0)
#define PXCMD_SUD          (1u << 1)   /* reads 1: no staggered spin-up */
#define PXCMD_POD          (1u << 2)   /* reads 1: no cold presence detect */
#define PXCMD_CLO          (1u << 3)
#define PXCMD_FRE          (1u << 4)
#define PXCMD_CCS_SHIFT    8
#define PXCMD_CCS_MASK     (0x1Fu << PXCMD_CCS_SHIFT)
#define PXCMD_FR           (1u << 14)
#define PXCMD_CR           (1u << 15)
#define PXCMD_ATAPI        (1u << 24)
#define PXCMD_WRITABLE     (PXCMD_ST | PXCMD_CLO | PXCMD_FRE | PXCMD_ATAPI)

/* PxSSTS / PxSCTL / PxSERR (§3.3.10-12). */
#define SSTS_DEVICE_UP     0x123u      /* IPM active, Gen2 speed, DET device and PHY up */
#define SCTL_DET_MASK      0xFu
#define SCTL_DET_COMRESET  1u
#define SCTL_WRITABLE      0xFFFu      /* DET, SPD, IPM */
#define SERR_DIAG_X        (1u << 26)  /* exchanged: a COMINIT was received */
#define SERR_RWC           0x07FF0F03u

#define TFD_NO_DEVICE      0x7Fu       /* what an empty port's task file reads */
#define SIG_NO_DEVICE      0xFFFFFFFFu

/* Command list and table (§4.2.2, §4.2.3). */
#define CMD_HEADER_SIZE    32
#define CMD_SLOTS          32
#define HDR_CFL_MASK       0x1Fu       /* command FIS length in dwords */
#define HDR_ATAPI          (1u << 5)
#define HDR_WRITE          (1u << 6)
#define HDR_PRDTL_SHIFT    16
#define HDR_PRDBC          4
#define HDR_CTBA           8
#define CTBA_MASK          0xFFFFFF80u /* 128 bytes aligned */
#define TABLE_CFIS         0x00
#define TABLE_ACMD         0x40
#define TABLE_PRDT         0x80
#define PRD_SIZE           16
#define PRD_DBC_MASK       0x3FFFFFu   /* byte count - 1 */
#define CFL_MIN            5           /* a Register H2D FIS */
#define CFL_MAX            16
/* preadv takes at most IOV_MAX pieces; Linux uses 168 PRDs, Windows fewer. */
#define PRDTL_MAX          IOV_MAX

/* FIS types and the received-FIS area (SATA 3.x §10.5; AHCI §4.2.1). */
#define FIS_REG_H2D        0x27
#define FIS_REG_D2H        0x34
#define FIS_PIO_SETUP      0x5F
#define FIS_H2D_COMMAND    0x80        /* byte 1 C: the command register is updated */
#define FIS_INTERRUPT      0x40        /* byte 1 I */
#define FIS_DIR_TO_HOST    0x20        /* PIO Setup byte 1 D */
#define FIS_SIZE           20
#define RX_PSFIS           0x20
#define RX_RFIS            0x40
#define ATA_CONTROL_SRST   0x04        /* device control register */

/* ---- interrupts ---- */

static bool intx_disabled(const struct ahci *hba)
{
	return get_le16(hba->pci.config + PCI_COMMAND) & PCI_COMMAND_INTX_DISABLE;
}

/* Lock held. INTx is a level: pending port interrupts while GHC.IE. */
static void update_intx(struct ahci *hba)
{
	bool level = (hba->ghc & GHC_IE) && hba->is && !msi_enabled(&hba->msi) && !intx_disabled(hba);
	if (level != hba->intx_level) {
		hba->intx_level = level;
		irq_line_set(&hba->intx, level);
	}
}

/* Lock held. IS.IPS of a port follows PxIS & PxIE (§3.1.3); with
 * `notify` (a new event, or one newly enabled) an MSI goes out, even while
 * software has not cleared IS yet, so none is lost. */
static void update_port_interrupt(struct ahci_port *p, bool notify)
{
	struct ahci *hba = p->hba;
	if (p->is & p->ie) {
		hba->is |= 1u << p->index;
		if (notify && (hba->ghc & GHC_IE))
			msi_notify(&hba->msi);
	}
	update_intx(hba);
}

static void port_event(struct ahci_port *p, uint32_t bits)
{
	p->is |= bits;
	update_port_interrupt(p, true);
}

/* ---- guest memory ---- */

static uint64_t gpa64(uint32_t low, uint32_t high)
{
	return (uint64_t)high << 32 | low;
}

static uint64_t command_list(const struct ahci_port *p)
{
	return gpa64(p->clb, p->clbu);
}

static uint64_t fis_area(const struct ahci_port *p)
{
	return gpa64(p->fb, p->fbu);
}

/* ---- the device side of a port ---- */

/* A Register D2H FIS (SATA 3.x §10.5.6) with the task file the drive shows. */
static void d2h_fis(uint8_t *fis, const struct ata_taskfile *r, bool interrupt)
{
	memset(fis, 0, FIS_SIZE);
	fis[0] = FIS_REG_D2H;
	fis[1] = interrupt ? FIS_INTERRUPT : 0;
	fis[2] = r->status;
	fis[3] = r->error;
	memcpy(fis + 4, r->lba, 3);
	fis[7] = r->device;
	memcpy(fis + 8, r->lba + 3, 3);
	fis[12] = r->count;
	fis[13] = r->count_exp;
}

/* Stores a FIS the device sent in the receive area, when software lets us;
 * false when the area is not guest RAM. */
static bool receive_fis(struct ahci_port *p, unsigned offset, const uint8_t *fis)
{
	if (!(p->cmd & PXCMD_FRE))
		return true;
	return guest_mem_write(p->hba->mem, fis_area(p) + offset, fis, FIS_SIZE);
}

/* The device resets and sends its signature (§3.3.9) in a D2H Register
 * FIS without the I bit. */
static void device_reset(struct ahci_port *p)
{
	uint8_t fis[FIS_SIZE];
	ata_drive_reset(&p->drive);
	const struct ata_taskfile *r = &p->drive.result;
	p->sig = (uint32_t)r->lba[2] << 24 | (uint32_t)r->lba[1] << 16 | (uint32_t)r->lba[0] << 8 | r->count;
	p->tfd = (uint32_t)r->error << 8 | r->status;
	d2h_fis(fis, r, false);
	receive_fis(p, RX_RFIS, fis);
}

/* The link comes up (power-on, HBA reset, end of COMRESET). */
static void link_up(struct ahci_port *p)
{
	p->in_comreset = false;
	if (!p->attached) {
		p->ssts = 0;
		p->sig = SIG_NO_DEVICE;
		p->tfd = TFD_NO_DEVICE;
		return;
	}
	p->ssts = SSTS_DEVICE_UP;
	device_reset(p);
}

/* Power-on state of a port; HBA reset keeps CLB and FB (§10.4.3). */
static void reset_port(struct ahci_port *p)
{
	p->is = p->ie = p->serr = p->sact = p->ci = 0;
	p->cmd = PXCMD_SUD | PXCMD_POD;
	p->sctl = 0;
	p->halted = false;
	link_up(p);
}

/* Lock held. The guest abandons the command in flight: it ends, dropped. */
static void abandon_command(struct ahci_port *p)
{
	block_slot_wait(&p->io, &p->hba->lock, true);
}

/* Lock held. The command in flight ends as usual and no other starts,
 * until resume_commands (a disc change, a save). */
static void hold_commands(struct ahci_port *p)
{
	p->held = true;
	block_slot_wait(&p->io, &p->hba->lock, false);
}

static void process_command_list(struct ahci_port *p);

static void resume_commands(struct ahci_port *p)
{
	p->held = false;
	process_command_list(p);
}

static void reset_hba(struct ahci *hba)
{
	hba->ghc = GHC_AE;
	hba->is = 0;
	for (unsigned i = 0; i < AHCI_PORTS; i++) {
		abandon_command(&hba->ports[i]);
		reset_port(&hba->ports[i]);
	}
	update_intx(hba);
}

/* ---- command execution ---- */

/* One command slot as the HBA fetched it. */
struct ahci_command {
	unsigned slot;
	uint64_t header;               /* guest address of the command header */
	uint32_t flags;                /* header DW0 */
	uint64_t table;
	uint8_t cfis[FIS_SIZE];
	uint8_t acmd[ATAPI_CDB_SIZE];
	bool pio_in;                   /* PIO data-in: a PIO Setup FIS first */
	uint32_t wanted;               /* the data phase's bytes */
	struct iovec iov[PRDTL_MAX];
	unsigned iov_count;
};

/* Reads the header and the table; false for anything outside RAM or a
 * command FIS that is not a Register H2D FIS. */
static bool fetch_command(struct ahci_port *p, struct ahci_command *c)
{
	const struct guest_mem *mem = p->hba->mem;
	uint8_t header[CMD_HEADER_SIZE];
	c->header = command_list(p) + (uint64_t)c->slot * CMD_HEADER_SIZE;
	if (!guest_mem_read(mem, c->header, header, sizeof(header)))
		return false;
	c->flags = get_le32(header);
	c->table = gpa64(get_le32(header + HDR_CTBA) & CTBA_MASK, get_le32(header + HDR_CTBA + 4));
	unsigned cfl = c->flags & HDR_CFL_MASK;
	return cfl >= CFL_MIN && cfl <= CFL_MAX && (c->flags >> HDR_PRDTL_SHIFT) <= PRDTL_MAX &&
	       guest_mem_read(mem, c->table + TABLE_CFIS, c->cfis, sizeof(c->cfis)) && c->cfis[0] == FIS_REG_H2D &&
	       guest_mem_read(mem, c->table + TABLE_ACMD, c->acmd, sizeof(c->acmd));
}

/* Maps the PRDT onto guest RAM as iovecs for the first `wanted` bytes
 * (entries past those are not looked at). Returns the bytes mapped, which
 * fall short of `wanted` when the table does, or -1 when an entry needed is
 * not all RAM. */
static int64_t map_prdt(const struct guest_mem *mem, struct ahci_command *c, uint64_t wanted)
{
	unsigned count = c->flags >> HDR_PRDTL_SHIFT;
	uint64_t mapped = 0;
	c->iov_count = 0;
	for (unsigned i = 0; i < count && mapped < wanted; i++) {
		uint8_t prd[PRD_SIZE];
		if (!guest_mem_read(mem, c->table + TABLE_PRDT + (uint64_t)i * PRD_SIZE, prd, sizeof(prd)))
			return -1;
		uint64_t address = get_le64(prd) & ~1ull;   /* data are word aligned */
		uint64_t bytes = MIN((uint64_t)(get_le32(prd + 12) & PRD_DBC_MASK) + 1, wanted - mapped);
		void *host = guest_mem_ptr(mem, address, bytes);
		if (!host)
			return -1;
		c->iov[c->iov_count++] = (struct iovec){ host, bytes };
		mapped += bytes;
	}
	return (int64_t)mapped;
}

static void taskfile_from_fis(struct ata_taskfile *tf, const uint8_t *fis)
{
	*tf = (struct ata_taskfile){
		.command = fis[2], .features = fis[3], .device = fis[7], .features_exp = fis[11],
		.count = fis[12], .count_exp = fis[13],
	};
	memcpy(tf->lba, fis + 4, 3);
	memcpy(tf->lba + 3, fis + 8, 3);
}

/* What a device sends before PIO data-in (SATA 3.x §10.5.11): the status
 * with DRQ, the ending status and the byte count. */
static void pio_setup_fis(uint8_t *fis, const struct ata_taskfile *r, uint32_t bytes)
{
	d2h_fis(fis, r, true);
	fis[0] = FIS_PIO_SETUP;
	fis[1] |= FIS_DIR_TO_HOST;
	fis[2] = r->status | ATA_STATUS_DRQ;
	fis[15] = r->status;
	put_le16(fis + 16, (uint16_t)MIN(bytes, 0xFFFFu));
}

/* Ends the command in `slot` with the drive's result: FISes, TFD, PxIS.
 * A task-file or host bus error stops the list with CI still set (§6.2.2,
 * §6.1.2); software clears ST. */
static void complete(struct ahci_port *p, unsigned slot, uint32_t bytes, bool pio_in, uint32_t events)
{
	const struct ata_taskfile *r = &p->drive.result;
	uint8_t fis[FIS_SIZE];
	bool delivered = true;
	if (pio_in) {
		pio_setup_fis(fis, r, bytes);
		delivered = receive_fis(p, RX_PSFIS, fis);
		events |= PXIS_PSS;
	}
	d2h_fis(fis, r, true);
	delivered = receive_fis(p, RX_RFIS, fis) && delivered;
	events |= PXIS_DHRS | (delivered ? 0 : PXIS_HBFS);
	p->tfd = (uint32_t)r->error << 8 | r->status;
	if (r->status & ATA_STATUS_ERR)
		events |= PXIS_TFES;
	if (events & (PXIS_TFES | PXIS_HBFS)) {
		p->halted = true;
		p->cmd = (p->cmd & ~PXCMD_CCS_MASK) | slot << PXCMD_CCS_SHIFT;
	} else {
		p->ci &= ~(1u << slot);
	}
	port_event(p, events);
}

/* A header or table the HBA cannot read: a host bus fault, reported as the
 * drive aborting the command. */
static void fail_fetch(struct ahci_port *p, unsigned slot, const char *what)
{
	struct ata_transfer xfer;
	TRACE(TRACE_GUEST_ERROR, "AHCI port %u: slot %u's %s is outside guest RAM; host bus fault", p->index, slot,
	      what);
	ata_abort(&p->drive, &xfer);
	complete(p, slot, 0, false, PXIS_HBFS);
}

/* A Register H2D FIS with C clear writes the device control register:
 * SRST set then cleared resets the device (software reset, §10.4.1). */
static void control_update(struct ahci_port *p, const struct ahci_command *c)
{
	if (!(c->cfis[15] & ATA_CONTROL_SRST))
		device_reset(p);
	p->ci &= ~(1u << c->slot);
}

/* The command's end: the byte count in the header, then FISes and PxIS. */
static void end_command(struct ahci_port *p, struct ahci_command *c, uint32_t bytes, bool fault)
{
	uint8_t done[4];
	put_le32(done, bytes);
	if (!guest_mem_write(p->hba->mem, c->header + HDR_PRDBC, done, sizeof(done))) {
		fail_fetch(p, c->slot, "command header");
		return;
	}
	complete(p, c->slot, bytes, c->pio_in && bytes, fault ? PXIS_HBFS : 0);
}

/* A worker finished the port's request. */
static void io_complete(struct block_request *req, int result)
{
	struct ahci_port *p = req->opaque;
	g_mutex_lock(&p->hba->lock);
	if (block_slot_complete(&p->io)) {
		int err = ata_data_end(&p->drive, result, &p->xfer);
		end_command(p, p->command, err < 0 ? 0 : p->command->wanted, false);
		process_command_list(p);
	}
	g_mutex_unlock(&p->hba->lock);
}

/* The data phase the drive asked for, through the PRDT, or its flush. A
 * PRDT too short for the data ends the command with ABRT; one outside RAM
 * does too, and is a host bus fault. The medium's part runs on a worker. */
static void start_data(struct ahci_port *p, struct ahci_command *c)
{
	struct ata_transfer *xfer = &p->xfer;
	c->wanted = (uint32_t)xfer->bytes;
	if (!xfer->flush && (xfer->dir == ATA_DIR_NONE || !xfer->bytes)) {
		end_command(p, c, 0, false);
		return;
	}
	int64_t mapped = xfer->flush ? 0 : map_prdt(p->hba->mem, c, xfer->bytes);
	if (mapped < 0 || (uint64_t)mapped < c->wanted) {
		TRACE(TRACE_GUEST_ERROR, "AHCI port %u: slot %u's PRDT %s; command aborted", p->index, c->slot,
		      mapped < 0 ? "points outside guest RAM" : "is shorter than the transfer");
		ata_abort(&p->drive, xfer);
		end_command(p, c, 0, mapped < 0);
		return;
	}
	int begun = ata_data_begin(&p->drive, c->iov, c->iov_count, xfer, &p->io.req);
	if (begun == 1) {
		p->tfd |= ATA_STATUS_BSY;
		block_slot_submit(&p->io, p->drive.medium, io_complete, p);
		return;
	}
	end_command(p, c, begun < 0 ? 0 : c->wanted, false);
}

static void run_command(struct ahci_port *p, struct ahci_command *c)
{
	if (!fetch_command(p, c)) {
		fail_fetch(p, c->slot, "command header or table");
		return;
	}
	if (!(c->cfis[1] & FIS_H2D_COMMAND)) {
		control_update(p, c);
		return;
	}
	struct ata_taskfile tf;
	taskfile_from_fis(&tf, c->cfis);
	ata_command(&p->drive, &tf, &p->xfer);
	if (p->xfer.packet)
		ata_packet(&p->drive, c->acmd, &p->xfer);  /* AHCI carries the CDB in the table */
	c->pio_in = p->xfer.dir == ATA_DIR_IN && !p->xfer.dma;
	start_data(p, c);
}

/* Runs issued slots, lowest first, until the list stops or a command
 * waits for the disk. Lock held. */
static void process_command_list(struct ahci_port *p)
{
	while (p->attached && (p->cmd & PXCMD_ST) && !p->halted && !p->in_comreset && p->ci && !p->io.busy &&
	       !p->held) {
		p->command->slot = (unsigned)__builtin_ctz(p->ci);
		run_command(p, p->command);
	}
}

/* ---- port registers ---- */

static void write_port_cmd(struct ahci_port *p, uint32_t value)
{
	if (!(value & PXCMD_ST))
		abandon_command(p);
	p->cmd = (p->cmd & ~PXCMD_WRITABLE) | (value & PXCMD_WRITABLE);
	if (p->cmd & PXCMD_CLO)
		p->tfd &= ~(uint32_t)(ATA_STATUS_BSY | ATA_STATUS_DRQ);  /* command list override */
	p->cmd &= ~PXCMD_CLO;
	/* The DMA engines follow at once: CR tracks ST, FR tracks FRE (§10.3). */
	p->cmd = (p->cmd & ~(PXCMD_CR | PXCMD_FR)) | (p->cmd & PXCMD_ST ? PXCMD_CR : 0) |
		 (p->cmd & PXCMD_FRE ? PXCMD_FR : 0);
	if (!(p->cmd & PXCMD_ST)) {
		p->ci = p->sact = 0;
		p->halted = false;
		p->cmd &= ~PXCMD_CCS_MASK;
	}
}

/* SCTL.DET = 1 holds the link in COMRESET; back to 0 the device comes up
 * again with its signature and SERR.DIAG.X (§3.3.11). */
static void write_port_sctl(struct ahci_port *p, uint32_t value)
{
	p->sctl = value & SCTL_WRITABLE;
	bool reset = (p->sctl & SCTL_DET_MASK) == SCTL_DET_COMRESET;
	if (reset) {
		abandon_command(p);
		p->in_comreset = true;
		p->ssts = 0;
		p->tfd = p->attached ? ATA_STATUS_BSY : TFD_NO_DEVICE;
	} else if (p->in_comreset) {
		link_up(p);
		if (p->attached) {
			p->serr |= SERR_DIAG_X;
			port_event(p, PXIS_PCS);
		}
	}
}

static uint32_t read_port(struct ahci_port *p, unsigned reg)
{
	switch (reg) {
	case PX_CLB: return p->clb;
	case PX_CLBU: return p->clbu;
	case PX_FB: return p->fb;
	case PX_FBU: return p->fbu;
	case PX_IS: return p->is;
	case PX_IE: return p->ie;
	case PX_CMD: return p->cmd;
	case PX_TFD: return p->tfd;
	case PX_SIG: return p->sig;
	case PX_SSTS: return p->ssts;
	case PX_SCTL: return p->sctl;
	case PX_SERR: return p->serr;
	case PX_SACT: return p->sact;
	case PX_CI: return p->ci;
	default: return 0;
	}
}

/* `mask` says which bytes the guest wrote. */
static void write_port(struct ahci_port *p, unsigned reg, uint32_t value, uint32_t mask)
{
	uint32_t merged = (read_port(p, reg) & ~mask) | (value & mask);
	switch (reg) {
	case PX_CLB: p->clb = merged & CLB_MASK; break;
	case PX_CLBU: p->clbu = merged; break;
	case PX_FB: p->fb = merged & FB_MASK; break;
	case PX_FBU: p->fbu = merged; break;
	case PX_IS:
		p->is &= ~(value & mask & PXIS_RWC);
		p->is = (p->is & ~PXIS_PCS) | (p->serr & SERR_DIAG_X ? PXIS_PCS : 0);
		update_port_interrupt(p, false);
		break;
	case PX_IE:
		p->ie = merged & PXIE_MASK;
		update_port_interrupt(p, true);
		break;
	case PX_CMD: write_port_cmd(p, merged); break;
	case PX_SCTL: write_port_sctl(p, merged); break;
	case PX_SERR:
		p->serr &= ~(value & mask & SERR_RWC);
		if (!(p->serr & SERR_DIAG_X))
			p->is &= ~PXIS_PCS;
		break;
	case PX_SACT:
		if (p->cmd & PXCMD_ST)
			p->sact |= value & mask;
		break;
	case PX_CI:
		if (p->cmd & PXCMD_ST)
			p->ci |= value & mask;
		process_command_list(p);
		break;
	default: break;  /* read-only or reserved */
	}
}

/* ---- generic host control ---- */

static uint32_t hba_cap(void)
{
	return CAP_S64A | CAP_SAM | CAP_ISS_GEN2 | CAP_NCS_32 | CAP_NP(AHCI_PORTS);
}

static uint32_t read_register(struct ahci *hba, unsigned reg)
{
	if (reg >= PORT_BASE && reg < PORT_BASE + AHCI_PORTS * PORT_STRIDE)
		return read_port(&hba->ports[(reg - PORT_BASE) / PORT_STRIDE], (reg - PORT_BASE) % PORT_STRIDE);
	switch (reg) {
	case HBA_CAP: return hba_cap();
	case HBA_GHC: return hba->ghc;
	case HBA_IS: return hba->is;
	case HBA_PI: return (1u << AHCI_PORTS) - 1;
	case HBA_VS: return VS_1_3_1;
	default: return 0;  /* CCC, EM, CAP2, BOHC: not offered */
	}
}

static void write_ghc(struct ahci *hba, uint32_t value)
{
	if (value & GHC_HR) {
		reset_hba(hba);  /* done at once, so HR reads 0 again */
		return;
	}
	bool enabling = !(hba->ghc & GHC_IE) && (value & GHC_IE);
	hba->ghc = GHC_AE | (value & GHC_IE);
	if (enabling && hba->is)
		msi_notify(&hba->msi);  /* events that waited for IE */
	update_intx(hba);
}

/* IS is write-1-to-clear; a port whose enabled events are still pending
 * sets its bit again. */
static void write_hba_is(struct ahci *hba, uint32_t value)
{
	hba->is &= ~value;
	for (unsigned i = 0; i < AHCI_PORTS; i++)
		update_port_interrupt(&hba->ports[i], false);
	update_intx(hba);
}

static void write_register(struct ahci *hba, unsigned reg, uint32_t value, uint32_t mask)
{
	if (reg >= PORT_BASE && reg < PORT_BASE + AHCI_PORTS * PORT_STRIDE) {
		write_port(&hba->ports[(reg - PORT_BASE) / PORT_STRIDE], (reg - PORT_BASE) % PORT_STRIDE, value, mask);
		return;
	}
	if (reg == HBA_GHC)
		write_ghc(hba, (hba->ghc & ~mask) | (value & mask));
	else if (reg == HBA_IS)
		write_hba_is(hba, value & mask);
}

/* ---- ABAR and the index/data pair ---- */

/* Accesses of any width at any offset: each dword they touch is read, or
 * written with a mask of the bytes that change. */
static uint64_t abar_read(void *opaque, uint64_t offset, unsigned size)
{
	struct ahci *hba = opaque;
	uint64_t value = 0;
	g_mutex_lock(&hba->lock);
	for (unsigned i = 0; i < size; i++) {
		uint64_t at = offset + i;
		uint32_t dword = at < AHCI_ABAR_SIZE ? read_register(hba, (unsigned)(at & ~3u)) : 0;
		value |= (uint64_t)(uint8_t)(dword >> (8 * (at % 4))) << (8 * i);
	}
	g_mutex_unlock(&hba->lock);
	return value;
}

static void abar_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
	struct ahci *hba = opaque;
	g_mutex_lock(&hba->lock);
	for (unsigned i = 0; i < size;) {
		uint64_t at = offset + i;
		unsigned reg = (unsigned)(at & ~3u), n = MIN(size - i, 4 - (unsigned)(at % 4));
		unsigned shift = 8 * (unsigned)(at % 4);
		uint32_t mask = (uint32_t)(((1ull << (8 * n)) - 1) << shift);
		uint32_t bytes = (uint32_t)((value >> (8 * i)) << shift);
		if (at < AHCI_ABAR_SIZE)
			write_register(hba, reg, bytes, mask);
		i += n;
	}
	g_mutex_unlock(&hba->lock);
}

static const struct bus_ops abar_ops = { abar_read, abar_write, "AHCI" };

/* BAR4: the index (an ABAR offset) at 0x10, its register's data at 0x14;
 * dword accesses only. */
static uint64_t idp_read(void *opaque, uint64_t offset, unsigned size)
{
	struct ahci *hba = opaque;
	if (size != 4)
		return 0;
	if (offset == IDP_INDEX)
		return hba->idp_index;
	return offset == IDP_DATA ? abar_read(hba, hba->idp_index, 4) : 0;
}

static void idp_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
	struct ahci *hba = opaque;
	if (size != 4)
		return;
	if (offset == IDP_INDEX)
		hba->idp_index = (uint32_t)value & (AHCI_ABAR_SIZE - 4);
	else if (offset == IDP_DATA)
		abar_write(hba, hba->idp_index, value, 4);
}

static const struct bus_ops idp_ops = { idp_read, idp_write, "AHCI index/data" };

/* ---- PCI ---- */

static void config_written(void *opaque, unsigned reg, unsigned size)
{
	(void)reg;
	(void)size;
	struct ahci *hba = opaque;
	msi_config_written(&hba->msi);
	g_mutex_lock(&hba->lock);
	update_intx(hba);  /* MSI enable and INTx disable both change the line */
	g_mutex_unlock(&hba->lock);
}

static const struct pci_device_hooks pci_hooks = { .config_written = config_written };

static int add_capabilities(struct ahci *hba, const struct msix_route_ops *route, void *route_opaque)
{
	struct pci_device *pci = &hba->pci;
	unsigned pm = pci_device_add_capability(pci, PCI_CAP_ID_PM, PM_CAP_SIZE);
	if (!pm)
		return -ENOSPC;
	pci_config_set16(pci, pm + PM_PMC, PM_PMC_VERSION_1_2);
	pci->wmask[pm + PM_PMCSR] = PM_PMCSR_STATE;
	int err = msi_init(&hba->msi, pci, route, route_opaque);
	if (err < 0)
		return err;
	unsigned sata = pci_device_add_capability(pci, PCI_CAP_ID_SATA, SATA_CAP_SIZE);
	if (!sata) {
		msi_destroy(&hba->msi);
		return -ENOSPC;
	}
	pci_config_set16(pci, sata + SATA_CAP_REVISION, SATA_CAP_REVISION_1_0);
	put_le32(pci->config + sata + SATA_CAP_CR1, SATA_CAP_CR1_BAR4 | (IDP_INDEX / 4) << 4);
	return 0;
}

int ahci_init(struct ahci *hba, const struct guest_mem *mem, struct irq_line intx,
	      const struct msix_route_ops *route, void *route_opaque)
{
	memset(hba, 0, sizeof(*hba));
	pci_device_init(&hba->pci, ICH9_VENDOR, ICH9_AHCI_DEVICE, ICH9_AHCI_CLASS, ICH9_AHCI_REVISION);
	pci_config_set16(&hba->pci, PCI_SUBSYSTEM_VENDOR_ID, SUBSYSTEM_VENDOR);
	pci_config_set16(&hba->pci, PCI_SUBSYSTEM_ID, SUBSYSTEM_ID);
	hba->pci.config[PCI_INTERRUPT_PIN] = 1;  /* INTA# */
	hba->pci.config[PCI_INTERRUPT_LINE] = (uint8_t)intx.gsi;
	hba->pci.hooks = &pci_hooks;
	hba->pci.hooks_opaque = hba;
	hba->mem = mem;
	hba->intx = intx;
	int err;
	if ((err = pci_device_set_bar(&hba->pci, AHCI_IDP_BAR, PCI_BAR_IO, false, AHCI_IDP_BAR_SIZE, &idp_ops, hba)) < 0 ||
	    (err = pci_device_set_bar(&hba->pci, AHCI_ABAR, PCI_BAR_MEM32, false, AHCI_ABAR_SIZE, &abar_ops, hba)) < 0 ||
	    (err = add_capabilities(hba, route, route_opaque)) < 0)
		return err;
	g_mutex_init(&hba->lock);
	for (unsigned i = 0; i < AHCI_PORTS; i++) {
		struct ahci_port *p = &hba->ports[i];
		*p = (struct ahci_port){ .hba = hba, .index = i, .command = g_new0(struct ahci_command, 1) };
		block_slot_init(&p->io);
	}
	g_mutex_lock(&hba->lock);
	reset_hba(hba);
	g_mutex_unlock(&hba->lock);
	return 0;
}

void ahci_destroy(struct ahci *hba)
{
	g_mutex_lock(&hba->lock);
	for (unsigned i = 0; i < AHCI_PORTS; i++)
		abandon_command(&hba->ports[i]);
	g_mutex_unlock(&hba->lock);
	for (unsigned i = 0; i < AHCI_PORTS; i++) {
		block_slot_destroy(&hba->ports[i].io);
		g_free(hba->ports[i].command);
	}
	msi_destroy(&hba->msi);
	g_mutex_clear(&hba->lock);
}

int ahci_attach(struct ahci *hba, unsigned port, struct block_backend *blk, bool cdrom, const char *serial)
{
	if (port >= AHCI_PORTS)
		return -EINVAL;
	struct ahci_port *p = &hba->ports[port];
	if (p->attached)
		return -EBUSY;
	g_mutex_lock(&hba->lock);
	ata_drive_init(&p->drive, cdrom ? ATA_DRIVE_CDROM : ATA_DRIVE_DISK, blk, serial, port);
	p->attached = true;
	link_up(p);
	g_mutex_unlock(&hba->lock);
	return 0;
}

struct block_backend *ahci_change_medium(struct ahci *hba, unsigned port, struct block_backend *medium)
{
	struct ahci_port *p = &hba->ports[port % AHCI_PORTS];
	g_mutex_lock(&hba->lock);
	hold_commands(p);  /* a command reading the old disc ends first */
	struct block_backend *old = p->drive.medium;
	atapi_change_medium(&p->drive, medium);  /* no phase is open between commands */
	resume_commands(p);
	g_mutex_unlock(&hba->lock);
	return old;
}

/* --- device object (core/device.h) ----------------------------------- */

static const struct state_field port_state[] = {
	STATE_FIELD(struct ahci_port, clb), STATE_FIELD(struct ahci_port, clbu), STATE_FIELD(struct ahci_port, fb),
	STATE_FIELD(struct ahci_port, fbu), STATE_FIELD(struct ahci_port, is), STATE_FIELD(struct ahci_port, ie),
	STATE_FIELD(struct ahci_port, cmd), STATE_FIELD(struct ahci_port, tfd), STATE_FIELD(struct ahci_port, sig),
	STATE_FIELD(struct ahci_port, ssts), STATE_FIELD(struct ahci_port, sctl), STATE_FIELD(struct ahci_port, serr),
	STATE_FIELD(struct ahci_port, sact), STATE_FIELD(struct ahci_port, ci), STATE_FIELD(struct ahci_port, halted),
	STATE_FIELD(struct ahci_port, in_comreset),
};

static const struct state_field hba_state[] = {
	STATE_FIELD(struct ahci, ghc), STATE_FIELD(struct ahci, is), STATE_FIELD(struct ahci, idp_index),
};

/* The PC's reset line: config space, the drives, then the HBA as after
 * GHC.HR with CLB and FB cleared too (they are reset by power-on, §10.4.3). */
static void ahci_reset(void *opaque)
{
	struct ahci *hba = opaque;
	pci_device_reset(&hba->pci);
	g_mutex_lock(&hba->lock);
	for (unsigned i = 0; i < AHCI_PORTS; i++) {
		struct ahci_port *p = &hba->ports[i];
		abandon_command(p);
		p->clb = p->clbu = p->fb = p->fbu = 0;
		if (p->attached)
			ata_drive_power_on(&p->drive);
	}
	reset_hba(hba);
	g_mutex_unlock(&hba->lock);
}

static void port_prefix(char *prefix, size_t size, unsigned index)
{
	g_snprintf(prefix, size, "port%u.", index);
}

static void ahci_save(void *opaque, struct state_writer *w)
{
	struct ahci *hba = opaque;
	pci_device_save(&hba->pci, w);
	g_mutex_lock(&hba->lock);
	for (unsigned i = 0; i < AHCI_PORTS; i++)
		hold_commands(&hba->ports[i]);  /* a command between two records is not saved */
	state_put_fields(w, "", hba_state, G_N_ELEMENTS(hba_state), hba);
	for (unsigned i = 0; i < AHCI_PORTS; i++) {
		struct ahci_port *p = &hba->ports[i];
		char prefix[16];
		port_prefix(prefix, sizeof(prefix), i);
		state_put_fields(w, prefix, port_state, G_N_ELEMENTS(port_state), p);
		if (p->attached)
			ata_drive_save(&p->drive, w, prefix);
	}
	for (unsigned i = 0; i < AHCI_PORTS; i++)
		resume_commands(&hba->ports[i]);
	g_mutex_unlock(&hba->lock);
}

static bool load_port(struct ahci_port *p, struct state_reader *r)
{
	char prefix[16];
	port_prefix(prefix, sizeof(prefix), p->index);
	return state_get_fields(r, prefix, port_state, G_N_ELEMENTS(port_state), p) &&
	       (!p->attached || ata_drive_load(&p->drive, r, prefix));
}

static bool ahci_load(void *opaque, struct state_reader *r)
{
	struct ahci *hba = opaque;
	if (!pci_device_load(&hba->pci, r))
		return false;
	msi_config_written(&hba->msi);
	g_mutex_lock(&hba->lock);
	for (unsigned i = 0; i < AHCI_PORTS; i++)
		abandon_command(&hba->ports[i]);  /* the loaded state replaces it */
	bool ok = state_get_fields(r, "", hba_state, G_N_ELEMENTS(hba_state), hba);
	for (unsigned i = 0; i < AHCI_PORTS && ok; i++)
		ok = load_port(&hba->ports[i], r);
	hba->intx_level = false;  /* drive the line whatever it was */
	irq_line_set(&hba->intx, false);
	update_intx(hba);
	g_mutex_unlock(&hba->lock);
	return ok;
}

static void ahci_teardown(void *opaque)
{
	struct ahci *hba = opaque;
	pci_device_unplug(&hba->pci);
	ahci_destroy(hba);
}

const struct device_ops ahci_device_ops = {
	"ahci", 2, ahci_reset, ahci_teardown, ahci_save, ahci_load, pci_function_claims,
};
