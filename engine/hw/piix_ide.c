/* PIIX3 IDE: legacy ATA channels and bus-master DMA. See piix_ide.h. */
#include "piix_ide.h"

#include <errno.h>
#include <string.h>

#include "core/bytes.h"
#include "hw/atapi.h"

#define PIIX_IDE_VENDOR 0x8086
#define PIIX_IDE_DEVICE 0x7010
#define PIIX_IDE_REVISION 0x00
#define PCI_CLASS_IDE_BUS_MASTER 0x010180   /* IDE, legacy mode, bus-master capable */
#define BMIBA_BAR 4
#define BMIBA_SIZE 16
#define IDETIM 0x40                         /* primary 0x40-0x41, secondary 0x42-0x43 (datasheet §2.4.6) */
#define IDETIM_DECODE_ENABLE 0x8000         /* bit 7 of 0x41/0x43: Linux ata_piix checks it */
#define SIDETIM 0x44

/* Command block registers (ATA/ATAPI-7 vol. 2 §5.1) and device control. */
#define REG_DATA       0
#define REG_ERROR      1    /* features when written */
#define REG_COUNT      2
#define REG_LBA_LOW    3
#define REG_LBA_MID    4
#define REG_LBA_HIGH   5
#define REG_DEVICE     6
#define REG_STATUS     7    /* command when written */
#define COMMAND_BLOCK_SIZE 8
#define CONTROL_NIEN   0x02
#define CONTROL_SRST   0x04
#define CONTROL_HOB    0x80
#define CMD_EXECUTE_DIAGNOSTIC 0x90

static const uint16_t command_ports[2] = { 0x1F0, 0x170 };
static const uint16_t control_ports[2] = { 0x3F6, 0x376 };

/* Bus master registers per channel (SFF-8038i §3.1, datasheet §2.7). */
#define BM_CHANNEL_STRIDE 8
#define BM_COMMAND     0
#define BM_STATUS      2
#define BM_PRD_TABLE   4
#define BM_CMD_START   0x01
#define BM_CMD_TO_MEMORY 0x08               /* the controller writes memory: a read from the drive */
#define BM_STATUS_ACTIVE 0x01
#define BM_STATUS_ERROR  0x02
#define BM_STATUS_IRQ    0x04
#define BM_STATUS_DMA_CAPABLE 0x60          /* drive 0 / drive 1 DMA capable: software's bits */
#define PCI_COMMAND_BUS_MASTER 0x0004
/* A PRD entry: {le32 address, le16 byte count (0 = 64 KiB), le16 flags}. */
#define PRD_SIZE       8
#define PRD_EOT        0x80
#define PRD_MAX_ENTRIES (65536 / PRD_SIZE)  /* a table may not cross a 64 KiB boundary */
#define PRD_MAX_BYTES  65536

static struct ide_device *selected(struct ide_channel *ch)
{
	return &ch->devices[ch->selected];
}

static struct ata_drive *active_drive(struct ide_channel *ch)
{
	return ch->devices[ch->active].drive;
}

static void update_irq(struct ide_channel *ch)
{
	irq_line_set(&ch->irq, ch->irq_pending && !(ch->control & CONTROL_NIEN));
}

static void raise_irq(struct ide_channel *ch)
{
	ch->irq_pending = true;
	ch->bm_status |= BM_STATUS_IRQ;
	update_irq(ch);
}

/* The drive's ending registers become what the host reads. */
static void show_result(struct ide_device *dev)
{
	dev->regs = dev->drive->result;
}

static void end_pio(struct ide_channel *ch)
{
	ch->pio_pos = ch->pio_len = 0;
}

/* The command is over: its registers show, INTRQ rises. */
static void finish(struct ide_channel *ch)
{
	end_pio(ch);
	show_result(&ch->devices[ch->active]);
	raise_irq(ch);
}

/* DRQ: a PIO block of `len` bytes in `dir` is ready (len 0: a DMA waits). */
static void show_drq(struct ide_channel *ch, uint32_t len, enum ata_dir dir)
{
	struct ide_device *dev = &ch->devices[ch->active];
	dev->regs.status = ATA_STATUS_DRDY | ATA_STATUS_DSC | ATA_STATUS_DRQ;
	dev->regs.error = 0;
	ch->pio_pos = 0;
	ch->pio_len = len;
	ch->pio_dir = dir;
}

static void io_ended(struct ide_channel *ch, int err);
static void io_complete(struct block_request *req, int result);

/* Hands the drive the iovecs; the medium's part goes to a worker while the
 * drive shows BSY, and io_ended follows (at once without one). */
static void start_io(struct ide_channel *ch, enum ide_io kind, const struct iovec *iov, unsigned count)
{
	struct ata_drive *drive = active_drive(ch);
	ch->io_kind = kind;
	int begun = ata_data_begin(drive, iov, count, &ch->xfer, &ch->io.req);
	if (begun != 1) {
		io_ended(ch, begun);
		return;
	}
	end_pio(ch);
	ch->devices[ch->active].regs.status = ATA_STATUS_BSY;
	block_slot_submit(&ch->io, drive->medium, io_complete, ch);
}

/* The next PIO DRQ block from the drive. */
static void load_pio_in(struct ide_channel *ch)
{
	ch->io_len = (uint32_t)MIN(ch->xfer.block, ch->xfer.bytes);
	ch->pio_iov = (struct iovec){ ch->pio, ch->io_len };
	start_io(ch, IDE_IO_PIO_IN, &ch->pio_iov, 1);
}

/* A PIO block is in: INTRQ for each one (ATA8-ACS PIO data-in protocol);
 * an ATAPI drive also says the block is data coming in and how long. */
static void pio_in_ready(struct ide_channel *ch)
{
	uint32_t len = ch->io_len;
	show_drq(ch, len, ATA_DIR_IN);
	if (active_drive(ch)->kind == ATA_DRIVE_CDROM) {
		struct ata_taskfile *regs = &ch->devices[ch->active].regs;
		regs->count = ATAPI_REASON_IO;
		regs->lba[1] = (uint8_t)len;
		regs->lba[2] = (uint8_t)(len >> 8);
	}
	raise_irq(ch);
}

/* A PIO block went out: DRQ and INTRQ for the next, or the end. */
static void pio_out_written(struct ide_channel *ch, int err)
{
	if (err < 0 || !ch->xfer.bytes) {
		finish(ch);
		return;
	}
	show_drq(ch, (uint32_t)MIN(ch->xfer.block, ch->xfer.bytes), ATA_DIR_OUT);
	raise_irq(ch);
}

/* The bus master moved the whole transfer, then the drive interrupts
 * (SFF-8038i §3.2: Active stays set when the table is longer). */
static void dma_done(struct ide_channel *ch)
{
	if (!ch->dma_more)
		ch->bm_status &= (uint8_t)~BM_STATUS_ACTIVE;
	finish(ch);
}

static void io_ended(struct ide_channel *ch, int err)
{
	switch (ch->io_kind) {
	case IDE_IO_PIO_IN:
		if (err < 0)
			finish(ch);
		else
			pio_in_ready(ch);
		break;
	case IDE_IO_PIO_OUT:
		pio_out_written(ch, err);
		break;
	case IDE_IO_DMA:
		dma_done(ch);
		break;
	case IDE_IO_FLUSH:
		finish(ch);
		break;
	}
}

/* A worker finished the channel's request. */
static void io_complete(struct block_request *req, int result)
{
	struct ide_channel *ch = req->opaque;
	g_mutex_lock(&ch->owner->lock);
	if (block_slot_complete(&ch->io))
		io_ended(ch, ata_data_end(active_drive(ch), result, &ch->xfer));
	g_mutex_unlock(&ch->owner->lock);
}

static void run_dma(struct piix_ide *ide, struct ide_channel *ch);

/* After a command or a CDB: start the data phase the drive asked for. */
static void start_phase(struct piix_ide *ide, struct ide_channel *ch)
{
	struct ata_transfer *x = &ch->xfer;
	if (x->flush) {
		start_io(ch, IDE_IO_FLUSH, NULL, 0);
	} else if (x->dir == ATA_DIR_NONE) {
		finish(ch);
	} else if (x->packet) {
		/* The CDB: DRQ without INTRQ (IDENTIFY PACKET word 0: DRQ within 50 us). */
		show_drq(ch, ATAPI_CDB_SIZE, ATA_DIR_OUT);
		ch->devices[ch->active].regs.count = ATAPI_REASON_COD;
	} else if (x->dma) {
		show_drq(ch, 0, ATA_DIR_NONE);
		if (ch->bm_command & BM_CMD_START)
			run_dma(ide, ch);
	} else if (x->dir == ATA_DIR_IN) {
		load_pio_in(ch);
	} else {
		show_drq(ch, (uint32_t)MIN(x->block, x->bytes), ATA_DIR_OUT);  /* the first block: no INTRQ */
	}
}

/* EXECUTE DEVICE DIAGNOSTIC goes to both devices; device 0 answers for the
 * channel (ATA8-ACS 7.9). */
static void execute_diagnostic(struct ide_channel *ch, const struct ata_taskfile *tf)
{
	for (unsigned i = 0; i < 2; i++) {
		if (ch->devices[i].drive) {
			ata_command(ch->devices[i].drive, tf, &ch->xfer);
			show_result(&ch->devices[i]);
		}
	}
	ch->selected = 0;
	raise_irq(ch);
}

static void write_command(struct piix_ide *ide, struct ide_channel *ch, uint8_t command)
{
	struct ide_device *dev = selected(ch);
	if (!dev->drive || (ch->control & CONTROL_SRST) || ch->io.busy)
		return;  /* nobody there, or busy (resetting, or with the disk): ignored */
	struct ata_taskfile tf = dev->regs;
	tf.command = command;
	ch->irq_pending = false;
	update_irq(ch);
	end_pio(ch);
	ch->active = ch->selected;
	if (command == CMD_EXECUTE_DIAGNOSTIC) {
		execute_diagnostic(ch, &tf);
		return;
	}
	ata_command(dev->drive, &tf, &ch->xfer);
	start_phase(ide, ch);
}

/* A full PIO block from the host: the CDB, or data for the drive. */
static void pio_out_block(struct piix_ide *ide, struct ide_channel *ch)
{
	struct ata_drive *drive = active_drive(ch);
	if (ch->xfer.packet) {
		end_pio(ch);
		ata_packet(drive, ch->pio, &ch->xfer);
		start_phase(ide, ch);
		return;
	}
	ch->pio_iov = (struct iovec){ ch->pio, ch->pio_len };
	start_io(ch, IDE_IO_PIO_OUT, &ch->pio_iov, 1);
}

/* The host has read a whole PIO block. */
static void pio_in_block_done(struct ide_channel *ch)
{
	if (ch->xfer.bytes) {
		load_pio_in(ch);
		return;
	}
	end_pio(ch);
	show_result(&ch->devices[ch->active]);
	if (active_drive(ch)->kind == ATA_DRIVE_CDROM)
		raise_irq(ch);  /* the status phase of a PACKET command */
}

static bool pio_dir_is(struct ide_channel *ch, enum ata_dir dir)
{
	return ch->pio_len && ch->pio_dir == dir;
}

static uint64_t read_data(struct ide_channel *ch, unsigned size)
{
	uint64_t value = 0;
	if (!pio_dir_is(ch, ATA_DIR_IN))
		return ~0ull;
	for (unsigned i = 0; i < size && ch->pio_pos < ch->pio_len; i++)
		value |= (uint64_t)ch->pio[ch->pio_pos++] << (8 * i);
	if (ch->pio_pos == ch->pio_len)
		pio_in_block_done(ch);
	return value;
}

static void write_data(struct piix_ide *ide, struct ide_channel *ch, uint64_t value, unsigned size)
{
	if (!pio_dir_is(ch, ATA_DIR_OUT))
		return;
	for (unsigned i = 0; i < size && ch->pio_pos < ch->pio_len; i++)
		ch->pio[ch->pio_pos++] = (uint8_t)(value >> (8 * i));
	if (ch->pio_pos == ch->pio_len)
		pio_out_block(ide, ch);
}

/* Reads PRD entry `index` of the table: false when it is not in RAM. */
static bool read_prd(struct piix_ide *ide, struct ide_channel *ch, unsigned index, uint64_t *addr,
		     uint32_t *len, bool *eot)
{
	uint8_t entry[PRD_SIZE];
	if (!guest_mem_read(ide->mem, (uint64_t)(ch->prd_table & ~3u) + (uint64_t)index * PRD_SIZE, entry, PRD_SIZE))
		return false;
	*addr = get_le32(entry) & ~1u;
	*len = get_le16(entry + 4) & ~1u;
	*len = *len ? *len : PRD_MAX_BYTES;
	*eot = entry[7] & PRD_EOT;
	return true;
}

/* Maps the PRD table onto guest RAM for the whole transfer. false when
 * the table or a buffer is not RAM or the table ends before the transfer
 * does; *more says the table goes on past the transfer. */
static bool map_prd(struct piix_ide *ide, struct ide_channel *ch, unsigned *count, bool *more)
{
	uint64_t mapped = 0;
	bool eot = false;
	unsigned n = 0;
	while (mapped < ch->xfer.bytes && !eot) {
		uint64_t addr;
		uint32_t len;
		if (n == PRD_MAX_ENTRIES || !read_prd(ide, ch, n, &addr, &len, &eot))
			return false;
		len = (uint32_t)MIN(len, ch->xfer.bytes - mapped);
		void *host = guest_mem_ptr(ide->mem, addr, len);
		if (!host)
			return false;
		ch->dma_iov[n++] = (struct iovec){ host, len };
		mapped += len;
	}
	*count = n;
	*more = !eot;
	return mapped == ch->xfer.bytes;
}

/* The bus master moves the transfer the drive waits for. */
static void run_dma(struct piix_ide *ide, struct ide_channel *ch)
{
	bool to_memory = ch->xfer.dir == ATA_DIR_IN;
	unsigned count = 0;
	uint16_t command = (uint16_t)(ide->pci.config[PCI_COMMAND] | ide->pci.config[PCI_COMMAND + 1] << 8);
	if (!(command & PCI_COMMAND_BUS_MASTER) || ch->io.busy)
		return;  /* not allowed to master the bus: the transfer waits */
	ch->bm_status |= BM_STATUS_ACTIVE;
	ch->dma_more = false;
	if (!!(ch->bm_command & BM_CMD_TO_MEMORY) != to_memory || !map_prd(ide, ch, &count, &ch->dma_more)) {
		ch->bm_status |= BM_STATUS_ERROR;
		ch->dma_more = false;
		ata_abort(active_drive(ch), &ch->xfer);
		dma_done(ch);
		return;
	}
	start_io(ch, IDE_IO_DMA, ch->dma_iov, count);
}

/* Device control: nIEN masks INTRQ; SRST held resets both devices, which
 * stay busy until it is released (ATA8-ACS 11.2 software reset). */
static void write_control(struct ide_channel *ch, uint8_t value)
{
	bool was_reset = ch->control & CONTROL_SRST, reset = value & CONTROL_SRST;
	ch->control = value;
	if (reset && !was_reset) {
		block_slot_wait(&ch->io, &ch->owner->lock, true);
		end_pio(ch);
		ch->xfer = (struct ata_transfer){ .dir = ATA_DIR_NONE };
		ch->selected = 0;
		ch->irq_pending = false;
		for (unsigned i = 0; i < 2; i++) {
			if (ch->devices[i].drive) {
				ata_drive_reset(ch->devices[i].drive);
				show_result(&ch->devices[i]);
				ch->devices[i].regs.status = ATA_STATUS_BSY;
			}
		}
	} else if (was_reset && !reset) {
		for (unsigned i = 0; i < 2; i++) {
			if (ch->devices[i].drive)
				show_result(&ch->devices[i]);
		}
	}
	update_irq(ch);
}

/* A taskfile register write lands in both devices; the old value moves to
 * the previous (HOB) byte, for 48-bit commands. */
static void write_taskfile(struct ide_channel *ch, unsigned reg, uint8_t value)
{
	ch->control &= (uint8_t)~CONTROL_HOB;
	for (unsigned i = 0; i < 2; i++) {
		struct ata_taskfile *r = &ch->devices[i].regs;
		switch (reg) {
		case REG_ERROR:
			r->features_exp = r->features;
			r->features = value;
			break;
		case REG_COUNT:
			r->count_exp = r->count;
			r->count = value;
			break;
		case REG_DEVICE:
			r->device = value;
			break;
		default:
			r->lba[reg - REG_LBA_LOW + 3] = r->lba[reg - REG_LBA_LOW];
			r->lba[reg - REG_LBA_LOW] = value;
			break;
		}
	}
	if (reg == REG_DEVICE)
		ch->selected = (value & ATA_DEVICE_DEV1) ? 1 : 0;
}

/* What a register reads; an absent device reads 0 but for the device
 * register (so probing firmware finds nobody there). */
static uint8_t read_register(struct ide_channel *ch, unsigned reg)
{
	struct ide_device *dev = selected(ch);
	const struct ata_taskfile *r = &dev->regs;
	bool hob = ch->control & CONTROL_HOB;
	if (reg == REG_DEVICE)
		return r->device;
	if (!dev->drive)
		return 0;
	switch (reg) {
	case REG_ERROR:
		return r->error;
	case REG_COUNT:
		return hob ? r->count_exp : r->count;
	case REG_STATUS:
		ch->irq_pending = false;
		update_irq(ch);
		return r->status;
	default:
		return r->lba[reg - REG_LBA_LOW + (hob ? 3 : 0)];
	}
}

static uint64_t command_block_read(void *opaque, uint64_t offset, unsigned size)
{
	struct ide_channel *ch = opaque;
	g_mutex_lock(&ch->owner->lock);
	uint64_t value = offset == REG_DATA ? read_data(ch, size) : read_register(ch, (unsigned)offset);
	g_mutex_unlock(&ch->owner->lock);
	return value;
}

static void command_block_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
	struct ide_channel *ch = opaque;
	g_mutex_lock(&ch->owner->lock);
	if (offset == REG_DATA)
		write_data(ch->owner, ch, value, size);
	else if (offset == REG_STATUS)
		write_command(ch->owner, ch, (uint8_t)value);
	else
		write_taskfile(ch, (unsigned)offset, (uint8_t)value);
	g_mutex_unlock(&ch->owner->lock);
}

/* The control block's one port: alternate status (no INTRQ side effect)
 * and device control. */
static uint64_t control_read(void *opaque, uint64_t offset, unsigned size)
{
	struct ide_channel *ch = opaque;
	(void)offset;
	(void)size;
	g_mutex_lock(&ch->owner->lock);
	struct ide_device *dev = selected(ch);
	uint8_t status = dev->drive ? dev->regs.status : 0;
	g_mutex_unlock(&ch->owner->lock);
	return status;
}

static void control_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
	struct ide_channel *ch = opaque;
	(void)offset;
	(void)size;
	g_mutex_lock(&ch->owner->lock);
	write_control(ch, (uint8_t)value);
	g_mutex_unlock(&ch->owner->lock);
}

static const struct bus_ops command_block_ops = { command_block_read, command_block_write, "IDE command block" };
static const struct bus_ops control_ops = { control_read, control_write, "IDE control" };

static uint8_t bm_read_byte(struct ide_channel *ch, unsigned reg)
{
	switch (reg) {
	case BM_COMMAND:
		return ch->bm_command;
	case BM_STATUS:
		return ch->bm_status;
	case BM_PRD_TABLE: case BM_PRD_TABLE + 1: case BM_PRD_TABLE + 2: case BM_PRD_TABLE + 3:
		return (uint8_t)((ch->prd_table & ~3u) >> (8 * (reg - BM_PRD_TABLE)));
	default:
		return 0;
	}
}

/* Start (0 to 1) runs a DMA the drive is waiting for; stop clears Active.
 * Status: Error and Interrupt are write-1-to-clear, the capable bits are
 * plain storage, Active is read-only. */
static void bm_write_byte(struct piix_ide *ide, struct ide_channel *ch, unsigned reg, uint8_t value)
{
	switch (reg) {
	case BM_COMMAND: {
		bool start = (value & BM_CMD_START) && !(ch->bm_command & BM_CMD_START);
		ch->bm_command = value & (BM_CMD_START | BM_CMD_TO_MEMORY);
		if (!(value & BM_CMD_START))
			ch->bm_status &= (uint8_t)~BM_STATUS_ACTIVE;
		else if (start && ch->xfer.dma && ch->xfer.bytes)
			run_dma(ide, ch);
		break;
	}
	case BM_STATUS:
		ch->bm_status &= (uint8_t)~(value & (BM_STATUS_ERROR | BM_STATUS_IRQ));
		ch->bm_status = (uint8_t)((ch->bm_status & ~BM_STATUS_DMA_CAPABLE) | (value & BM_STATUS_DMA_CAPABLE));
		break;
	case BM_PRD_TABLE: case BM_PRD_TABLE + 1: case BM_PRD_TABLE + 2: case BM_PRD_TABLE + 3: {
		unsigned shift = 8 * (reg - BM_PRD_TABLE);
		ch->prd_table = (ch->prd_table & ~(0xFFu << shift)) | (uint32_t)value << shift;
		break;
	}
	default:
		break;
	}
}

/* BAR4: accesses of any width, byte by byte over the registers. */
static uint64_t bm_read(void *opaque, uint64_t offset, unsigned size)
{
	struct piix_ide *ide = opaque;
	uint64_t value = 0;
	g_mutex_lock(&ide->lock);
	for (unsigned i = 0; i < size && offset + i < BMIBA_SIZE; i++) {
		unsigned at = (unsigned)offset + i;
		value |= (uint64_t)bm_read_byte(&ide->channels[at / BM_CHANNEL_STRIDE], at % BM_CHANNEL_STRIDE) << (8 * i);
	}
	g_mutex_unlock(&ide->lock);
	return value;
}

static void bm_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
	struct piix_ide *ide = opaque;
	g_mutex_lock(&ide->lock);
	for (unsigned i = 0; i < size && offset + i < BMIBA_SIZE; i++) {
		unsigned at = (unsigned)offset + i;
		bm_write_byte(ide, &ide->channels[at / BM_CHANNEL_STRIDE], at % BM_CHANNEL_STRIDE,
			      (uint8_t)(value >> (8 * i)));
	}
	g_mutex_unlock(&ide->lock);
}

static const struct bus_ops bm_ops = { bm_read, bm_write, "IDE bus master" };

static void init_config(struct piix_ide *ide)
{
	struct pci_device *dev = &ide->pci;
	pci_device_init(dev, PIIX_IDE_VENDOR, PIIX_IDE_DEVICE, PCI_CLASS_IDE_BUS_MASTER, PIIX_IDE_REVISION);
	pci_config_set16(dev, IDETIM, IDETIM_DECODE_ENABLE);
	pci_config_set16(dev, IDETIM + 2, IDETIM_DECODE_ENABLE);
	for (unsigned reg = IDETIM; reg <= SIDETIM; reg++)
		dev->wmask[reg] = 0xFF;
}

static void attach_drives(struct piix_ide *ide, const struct piix_ide_drive_config drives[PIIX_IDE_DRIVES])
{
	for (unsigned i = 0; i < PIIX_IDE_DRIVES; i++) {
		struct ide_device *dev = &ide->channels[i / 2].devices[i % 2];
		if (!drives[i].present)
			continue;
		ata_drive_init(&ide->drives[i], drives[i].kind, drives[i].medium, drives[i].serial, i);
		dev->drive = &ide->drives[i];
		show_result(dev);
	}
}

/* The legacy command and control blocks of both channels. */
static int register_ports(struct piix_ide *ide, struct bus *pio)
{
	int err = 0;
	for (unsigned c = 0; c < 2 && !err; c++) {
		err = bus_register(pio, command_ports[c], COMMAND_BLOCK_SIZE, &command_block_ops, &ide->channels[c]);
		if (!err)
			err = bus_register(pio, control_ports[c], 1, &control_ops, &ide->channels[c]);
	}
	return err;
}

int piix_ide_init(struct piix_ide *ide, struct pci_bus *pci, struct bus *pio, const struct guest_mem *mem,
		  struct irq_line irq14, struct irq_line irq15,
		  const struct piix_ide_drive_config drives[PIIX_IDE_DRIVES])
{
	int err;
	memset(ide, 0, sizeof(*ide));
	g_mutex_init(&ide->lock);
	ide->mem = mem;
	init_config(ide);
	attach_drives(ide, drives);
	for (unsigned c = 0; c < 2; c++) {
		ide->channels[c].owner = ide;
		ide->channels[c].irq = c ? irq15 : irq14;
		ide->channels[c].pio = g_malloc(PIIX_IDE_PIO_BUFFER);
		ide->channels[c].dma_iov = g_new(struct iovec, PRD_MAX_ENTRIES);
		block_slot_init(&ide->channels[c].io);
	}
	if ((err = register_ports(ide, pio)) < 0 ||
	    (err = pci_device_set_bar(&ide->pci, BMIBA_BAR, PCI_BAR_IO, false, BMIBA_SIZE, &bm_ops, ide)) < 0 ||
	    (err = pci_bus_add(pci, &ide->pci, PIIX_IDE_SLOT, PIIX_IDE_FUNCTION)) < 0)
		piix_ide_destroy(ide);
	return err;
}

/* The legacy ports stay on the bus, which goes away with the machine.
 * A request still in flight ends first, dropped. */
void piix_ide_destroy(struct piix_ide *ide)
{
	for (unsigned c = 0; c < 2; c++) {
		struct ide_channel *ch = &ide->channels[c];
		g_mutex_lock(&ide->lock);
		block_slot_wait(&ch->io, &ide->lock, true);
		g_mutex_unlock(&ide->lock);
		block_slot_destroy(&ch->io);
		g_free(ch->pio);
		g_free(ch->dma_iov);
		ch->pio = NULL;
		ch->dma_iov = NULL;
	}
	g_mutex_clear(&ide->lock);
}

struct block_backend *piix_ide_change_medium(struct piix_ide *ide, unsigned position,
					     struct block_backend *medium)
{
	position %= PIIX_IDE_DRIVES;
	struct ata_drive *drive = &ide->drives[position];
	struct ide_channel *ch = &ide->channels[position / 2];
	g_mutex_lock(&ide->lock);
	block_slot_wait(&ch->io, &ide->lock, false);  /* a read of the old disc ends first */
	struct block_backend *old = drive->medium;
	/* A transfer from the old disc ends as the drive says, with INTRQ. */
	if (atapi_change_medium(drive, medium) && ch->active == position % 2) {
		ch->xfer = (struct ata_transfer){ .dir = ATA_DIR_NONE };
		finish(ch);
	}
	g_mutex_unlock(&ide->lock);
	return old;
}

/* --- device object (core/device.h) ----------------------------------- */

static const struct state_field channel_state[] = {
	STATE_FIELD(struct ide_channel, selected), STATE_FIELD(struct ide_channel, control),
	STATE_FIELD(struct ide_channel, irq_pending), STATE_FIELD(struct ide_channel, active),
	STATE_FIELD(struct ide_channel, xfer.dir), STATE_FIELD(struct ide_channel, xfer.dma),
	STATE_FIELD(struct ide_channel, xfer.packet), STATE_FIELD(struct ide_channel, xfer.bytes),
	STATE_FIELD(struct ide_channel, xfer.block), STATE_FIELD(struct ide_channel, pio_pos),
	STATE_FIELD(struct ide_channel, pio_len), STATE_FIELD(struct ide_channel, pio_dir),
	STATE_FIELD(struct ide_channel, bm_command), STATE_FIELD(struct ide_channel, bm_status),
	STATE_FIELD(struct ide_channel, prd_table),
};

/* The PC's reset line: both channels as after a software reset, released;
 * bus master stopped; config space as at power-on. */
static void ide_power_on(struct ide_channel *ch)
{
	block_slot_wait(&ch->io, &ch->owner->lock, true);  /* a request in flight is dropped */
	end_pio(ch);
	ch->pio_dir = ATA_DIR_NONE;
	ch->xfer = (struct ata_transfer){ .dir = ATA_DIR_NONE };
	ch->selected = ch->active = 0;
	ch->control = 0;
	ch->irq_pending = false;
	ch->bm_command = ch->bm_status = 0;
	ch->prd_table = 0;
	for (unsigned i = 0; i < 2; i++) {
		ch->devices[i].regs = (struct ata_taskfile){ 0 };
		if (ch->devices[i].drive) {
			ata_drive_power_on(ch->devices[i].drive);
			show_result(&ch->devices[i]);
		}
	}
	update_irq(ch);
}

static void piix_ide_reset(void *opaque)
{
	struct piix_ide *ide = opaque;
	pci_device_reset(&ide->pci);
	g_mutex_lock(&ide->lock);
	for (unsigned c = 0; c < 2; c++)
		ide_power_on(&ide->channels[c]);
	g_mutex_unlock(&ide->lock);
}

static void save_channel(struct ide_channel *ch, unsigned c, struct state_writer *w)
{
	char prefix[32];
	g_snprintf(prefix, sizeof(prefix), "channel%u.", c);
	state_put_fields(w, prefix, channel_state, G_N_ELEMENTS(channel_state), ch);
	g_snprintf(prefix, sizeof(prefix), "channel%u.pio", c);
	state_put_bytes(w, prefix, ch->pio, ch->pio_len);
	for (unsigned i = 0; i < 2; i++) {
		g_snprintf(prefix, sizeof(prefix), "channel%u.device%u.", c, i);
		ata_taskfile_save(w, prefix, &ch->devices[i].regs);
		if (ch->devices[i].drive)
			ata_drive_save(ch->devices[i].drive, w, prefix);
	}
}

static void piix_ide_save(void *opaque, struct state_writer *w)
{
	struct piix_ide *ide = opaque;
	pci_device_save(&ide->pci, w);
	g_mutex_lock(&ide->lock);
	for (unsigned c = 0; c < 2; c++) {
		block_slot_wait(&ide->channels[c].io, &ide->lock, false);  /* a request ends before its record */
		save_channel(&ide->channels[c], c, w);
	}
	g_mutex_unlock(&ide->lock);
}

static bool load_channel(struct ide_channel *ch, unsigned c, struct state_reader *r)
{
	char prefix[32];
	block_slot_wait(&ch->io, &ch->owner->lock, true);  /* the loaded state replaces a request in flight */
	g_snprintf(prefix, sizeof(prefix), "channel%u.", c);
	bool ok = state_get_fields(r, prefix, channel_state, G_N_ELEMENTS(channel_state), ch) &&
		  state_check(r, ch->selected < 2 && ch->active < 2 && ch->pio_pos <= ch->pio_len &&
				 ch->pio_len <= PIIX_IDE_PIO_BUFFER && ch->pio_dir <= ATA_DIR_OUT,
			      "a channel's registers out of range");
	g_snprintf(prefix, sizeof(prefix), "channel%u.pio", c);
	ok = ok && state_get_bytes(r, prefix, ch->pio, ch->pio_len);
	for (unsigned i = 0; i < 2 && ok; i++) {
		g_snprintf(prefix, sizeof(prefix), "channel%u.device%u.", c, i);
		ok = ata_taskfile_load(r, prefix, &ch->devices[i].regs) &&
		     (!ch->devices[i].drive || ata_drive_load(ch->devices[i].drive, r, prefix));
	}
	if (!ok)
		ide_power_on(ch);
	update_irq(ch);
	return ok;
}

static bool piix_ide_load(void *opaque, struct state_reader *r)
{
	struct piix_ide *ide = opaque;
	if (!pci_device_load(&ide->pci, r))
		return false;
	g_mutex_lock(&ide->lock);
	bool ok = load_channel(&ide->channels[0], 0, r) && load_channel(&ide->channels[1], 1, r);
	g_mutex_unlock(&ide->lock);
	return ok;
}

static void piix_ide_teardown(void *opaque)
{
	struct piix_ide *ide = opaque;
	pci_device_unplug(&ide->pci);
	piix_ide_destroy(ide);
}

static void piix_ide_claims(void *opaque, struct device_claims *claims)
{
	static const char *const command_names[2] = { "primary command block", "secondary command block" };
	static const char *const control_names[2] = { "primary control block", "secondary control block" };
	for (unsigned c = 0; c < 2; c++) {
		device_claim(claims, command_names[c], DEVICE_PIO, command_ports[c], COMMAND_BLOCK_SIZE);
		device_claim(claims, control_names[c], DEVICE_PIO, control_ports[c], 1);
	}
	pci_function_claims(opaque, claims);
}

const struct device_ops piix_ide_device_ops = {
	"piix-ide", 2, piix_ide_reset, piix_ide_teardown, piix_ide_save, piix_ide_load, piix_ide_claims,
};
