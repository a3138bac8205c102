/* libFuzzer target: random register writes and command tables for the
 * AHCI controller, with a hard disk on port 0 and a CD-ROM on port 1 (both
 * on memfd images).
 *
 * Each input starts with a count of register writes (offset, value) that
 * go to the ABAR as a driver's would, then fills the command list, the
 * command table (FIS, CDB, PRDT) and a data area of guest RAM with its
 * bytes, starts the port it names on those structures and issues the slots
 * it names (the headers point at their tables unless the first byte's top
 * bit says to take them raw too). Whatever the bytes, the port must end each command or stop
 * with an error; ASan/UBSan catch any access outside guest RAM. */
#include <glib.h>
#include <string.h>

#include "core/bytes.h"
#include "fuzz-ops.h"
#include "hw/ahci.h"

#define RAM_SIZE (1u << 20)
#define ABAR 0xE0000000ull
#define CLB_GPA 0x10000
#define FB_GPA 0x11000
#define TABLE_GPA 0x12000  /* slot n's table at + n * TABLE_STRIDE */
#define TABLE_STRIDE 0x400
#define DATA_GPA 0x20000
#define WRITE_BYTES 6      /* a 16-bit ABAR offset and a 32-bit value */
#define PORT_REG(p, r) (0x100u + (p) * 0x80u + (r))

static struct {
	uint8_t *ram;
	struct guest_mem mem;
	struct bus pio, mmio;
	struct pci_bus pci;
	struct block_backend disk, cd;
	struct ahci hba;
} fz;

static void set_up(void)
{
	fz.ram = g_malloc0(RAM_SIZE);
	guest_mem_add(&fz.mem, 0, RAM_SIZE, fz.ram);
	bus_init(&fz.pio);
	bus_init(&fz.mmio);
	fuzz_open_image(&fz.disk, "fuzz-disk", 1 << 20, false);
	fuzz_open_image(&fz.cd, "fuzz-cd", 64 * 2048, true);
	struct irq_line none = { 0 };
	if (pci_bus_init(&fz.pci, &fz.pio, &fz.mmio) < 0 || ahci_init(&fz.hba, &fz.mem, none, NULL, NULL) < 0 ||
	    ahci_attach(&fz.hba, 0, &fz.disk, false, "fuzz") < 0 || ahci_attach(&fz.hba, 1, &fz.cd, true, NULL) < 0 ||
	    pci_bus_add(&fz.pci, &fz.hba.pci, 1, 0) < 0 || pci_bus_assign_bars(&fz.pci, ABAR, ABAR + 0x100000, 0xC000) < 0)
		abort();
}

static void reg_write(unsigned reg, uint32_t value)
{
	bus_write(&fz.mmio, ABAR + reg, &value, 4);
}

static uint32_t reg_read(unsigned reg)
{
	uint32_t value = 0;
	bus_read(&fz.mmio, ABAR + reg, &value, 4);
	return value;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!fz.ram)
		set_up();
	if (size < 6)
		return 0;
	unsigned port = data[0] & 1, writes = data[0] >> 1 & 7;
	bool raw_tables = data[0] & 0x80;  /* else each header points at its slot's table */
	uint32_t slots = get_le32(data + 1);
	struct fuzz_input in = { data + 5, size - 5 };
	reg_write(0x04, 1);  /* HBA reset: every input starts from the same state */
	for (unsigned i = 0; i < writes && in.size >= WRITE_BYTES; i++) {
		unsigned reg = fuzz_u16(&in) & 0xFFC;
		reg_write(reg, fuzz_u32(&in));
	}
	memset(fz.ram + CLB_GPA, 0, DATA_GPA - CLB_GPA);
	fuzz_bytes(&in, fz.ram + CLB_GPA, 32 * 32);
	for (unsigned slot = 0; slot < 32 && !raw_tables; slot++)
		put_le64(fz.ram + CLB_GPA + slot * 32 + 8, TABLE_GPA + slot * TABLE_STRIDE);
	fuzz_bytes(&in, fz.ram + TABLE_GPA, DATA_GPA - TABLE_GPA);
	fuzz_bytes(&in, fz.ram + DATA_GPA, RAM_SIZE - DATA_GPA);
	reg_write(PORT_REG(port, 0x00), CLB_GPA);
	reg_write(PORT_REG(port, 0x04), 0);
	reg_write(PORT_REG(port, 0x08), FB_GPA);
	reg_write(PORT_REG(port, 0x0C), 0);
	reg_write(PORT_REG(port, 0x18), 0);     /* stopped: a list an error halted starts afresh */
	reg_write(PORT_REG(port, 0x18), 0x11);  /* FRE | ST */
	reg_write(PORT_REG(port, 0x38), slots);
	/* Disk I/O runs on the block workers: BSY shows until the list rests. */
	while (reg_read(PORT_REG(port, 0x20)) & 0x80 && (reg_read(PORT_REG(port, 0x2C)) & 0xF) != 1)
		g_usleep(10);
	/* Every slot ran to its end, or the list stopped at an error (unless a
	 * write left the link in COMRESET). */
	uint32_t ci = reg_read(PORT_REG(port, 0x38)), is = reg_read(PORT_REG(port, 0x10));
	bool comreset = (reg_read(PORT_REG(port, 0x2C)) & 0xF) == 1;
	if (ci && !(is & 0x60000000u) && !comreset)
		abort();
	return 0;
}
