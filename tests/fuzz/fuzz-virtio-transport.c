/* libFuzzer target: the virtio PCI transport's registers, as a guest
 * driver (or a hostile guest) reaches them, for virtio-blk, -net, -rng and
 * -gpu (virtio-board.c).
 *
 * fuzz-virtio fills queues behind a correct driver; this target is the
 * driver. Every input gets a fresh board with BARs placed, then a stream of
 * operations: an access anywhere in a device's register BAR (common
 * configuration, ISR, device configuration, notify) or its MSI-X BAR
 * (table and PBA), a configuration space access (capabilities, MSI-X
 * control, BAR moves), an access through the VIRTIO_PCI_CAP_PCI_CFG window,
 * bytes or a repeated 16-byte pattern in guest RAM (rings, requests, long
 * backing lists), and the host resizing the display (virtio-gpu's config
 * change). The devices' queue work runs after each operation, as the I/O
 * thread would run it.
 *
 * Besides ASan/UBSan, the heap may not grow beyond what the devices
 * account for (virtio-gpu's resources, virtio-net's frame backlog; see
 * virtio-board.h): a guest that makes the engine hold memory nobody counts
 * can exhaust the host. */
#include <glib.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-ops.h"
#include "virtio-board.h"

/* virtio 1.2 §4.1.4.9: struct virtio_pci_cfg_cap, from its capability's
 * offset in configuration space. */
#define PCI_CFG_CAP_BAR 4
#define PCI_CFG_CAP_OFFSET 8
#define PCI_CFG_CAP_LENGTH 12
#define PCI_CFG_CAP_DATA 16
#define PATTERN_BYTES 16

static struct virtio_board board;

/* Each device's register BAR, then its MSI-X BAR. */
static struct fuzz_window window(uint8_t pick)
{
	const struct virtio_pci *vp = board.devices[pick / 2 % VBOARD_DEVICES];
	unsigned bar = pick & 1 ? VIRTIO_PCI_MSIX_BAR : VIRTIO_PCI_REGS_BAR;
	return fuzz_bar_window(&board.mmio, &vp->pci, bar);
}

static void config_dword(unsigned devfn, unsigned reg, uint32_t value)
{
	uint32_t address = 0x80000000u | devfn << 8 | reg;
	bus_write(&board.pio, 0xCF8, &address, 4);
	bus_write(&board.pio, 0xCFC, &value, 4);
}

/* §4.1.4.9: the driver names a BAR, an offset and a length in the
 * capability, then reads or writes pci_cfg_data. */
static void pci_cfg_window(struct fuzz_input *in)
{
	unsigned device = fuzz_u8(in) % VBOARD_DEVICES, devfn = (device + 1) << 3;
	unsigned cap = board.devices[device]->pci_cfg_cap;
	uint8_t bar = fuzz_u8(in);
	uint32_t offset = fuzz_u32(in), length = fuzz_u8(in);
	config_dword(devfn, cap + PCI_CFG_CAP_BAR, bar);
	config_dword(devfn, cap + PCI_CFG_CAP_OFFSET, offset);
	config_dword(devfn, cap + PCI_CFG_CAP_LENGTH, length);
	struct fuzz_window data = { &board.pio, 0xCFC, 4, true };
	uint32_t address = 0x80000000u | devfn << 8 | (cap + PCI_CFG_CAP_DATA);
	bus_write(&board.pio, 0xCF8, &address, 4);
	fuzz_access(in, &data);
}

/* A guest writes the same 16 bytes `count` times, as for a long backing
 * list whose entries all name one page: what a small input could not hold. */
static void fill_pattern(struct fuzz_input *in)
{
	size_t offset = fuzz_u32(in) % VBOARD_RAM_SIZE, count = fuzz_u16(in);
	uint8_t pattern[PATTERN_BYTES] = { 0 };
	fuzz_bytes(in, pattern, sizeof(pattern));
	for (size_t i = 0; i < count && offset + PATTERN_BYTES <= VBOARD_RAM_SIZE; i++, offset += PATTERN_BYTES)
		memcpy(board.ram + offset, pattern, PATTERN_BYTES);
}

static const uint8_t devfns[] = { 1 << 3, 2 << 3, 3 << 3, 4 << 3 };

enum op { OP_ACCESS, OP_CONFIG, OP_PCI_CFG_WINDOW, OP_FILL_RAM, OP_FILL_PATTERN, OP_RESIZE, OPS };

static void run_op(struct fuzz_input *in)
{
	switch (fuzz_u8(in) % OPS) {
	case OP_ACCESS: {
		struct fuzz_window w = window(fuzz_u8(in));
		fuzz_access(in, &w);
		break;
	}
	case OP_CONFIG: fuzz_pci_config(in, &board.pio, devfns, G_N_ELEMENTS(devfns)); break;
	case OP_PCI_CFG_WINDOW: pci_cfg_window(in); break;
	case OP_FILL_RAM: fuzz_fill_ram(in, board.ram, VBOARD_RAM_SIZE); break;
	case OP_FILL_PATTERN: fill_pattern(in); break;
	case OP_RESIZE: {
		unsigned width = fuzz_u16(in), height = fuzz_u16(in);
		console_preferred_size(&board.console, width, height);
		break;
	}
	}
	vboard_drain(&board);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	vboard_init(&board, true);
	size_t before = fuzz_heap_bytes();
	struct fuzz_input in = { data, size };
	while (in.size)
		run_op(&in);
	fuzz_check_heap("fuzz-virtio-transport", before, vboard_accounted(&board), VBOARD_HEAP_SLACK);
	vboard_destroy(&board);
	return 0;
}
