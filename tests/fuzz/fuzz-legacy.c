/* libFuzzer target: the PC's legacy devices and chipset as one board,
 * driven by a stream of guest accesses and host events.
 *
 * Every input gets a fresh board (so a crash reproduces from its input
 * alone): i440FX with PAM, PIIX3 with PIRQ routing, PIIX IDE (a disk on the
 * primary master, a CD-ROM on the secondary master), PIIX4 PM with the ACPI
 * PM block, the standard VGA, an AHCI controller with a CD-ROM (MSI), a
 * virtio-rng (MSI-X), fw_cfg with DMA, the i8042, the RTC, a UART, the
 * reset control ports and the debug ports, BARs placed as firmware would.
 * The input is a stream of operations, each a byte naming it and its
 * arguments: a port or MMIO access in one of the windows below (BAR
 * windows follow the guest's BAR moves), a configuration space access,
 * bytes written to guest RAM (PRD tables, fw_cfg DMA descriptors, AHCI
 * command lists), a frame rendered, and the host's events: a disc ejected
 * or changed, keys, mouse motion, serial input, the power button. A frame
 * is also rendered every RENDER_EVERY operations (not at the end of every
 * input: a fresh board's first frame is a full one, and most inputs would
 * spend their time drawing it).
 *
 * Besides ASan/UBSan, the target checks what a guest cannot be allowed to
 * do: raise an interrupt line that does not exist, map PAM outside the
 * BIOS area, or grow the engine's heap beyond the VGA's own buffers. */
#include <glib.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend/block.h"
#include "backend/chardev.h"
#include "core/pc_map.h"
#include "fuzz-ops.h"
#include "hw/acpi_pm.h"
#include "hw/ahci.h"
#include "hw/debug_ports.h"
#include "hw/fw_cfg.h"
#include "hw/i440fx.h"
#include "hw/i8042.h"
#include "hw/piix3.h"
#include "hw/piix4_pm.h"
#include "hw/piix_ide.h"
#include "hw/reset_control.h"
#include "hw/rtc.h"
#include "hw/uart.h"
#include "hw/vga.h"
#include "hw/virtio_rng.h"

#define RAM_SIZE (1u << 20)
#define MMIO_LIMIT 0xF0000000ull
#define VRAM_SIZE (4u << 20)
#define DISK_BYTES (256u * 512)
#define DISC_A_BLOCKS 64
#define DISC_B_BLOCKS 300
#define VGA_SLOT 2
#define AHCI_SLOT 3
#define RNG_SLOT 4
#define IDE_CD_POSITION 2          /* secondary master */
#define AHCI_CD_PORT 0
#define RENDER_EVERY 64
#define MAX_HOST_INPUT 16          /* scancodes or serial bytes in one event */
/* What a board may allocate beyond the VGA's buffers while an input runs
 * (GLib's and the console's small bookkeeping). */
#define HEAP_SLACK (256u << 10)

static struct {
	uint8_t *ram;
	struct guest_mem mem;
	struct bus pio, mmio;
	struct pci_bus pci;
	struct i440fx host;
	struct piix3 isa;
	struct piix_ide ide;
	struct acpi_pm pm;
	struct piix4_pm pm_fn;
	struct console con;
	struct vga vga;
	struct ahci ahci;
	struct virtio_rng rng;
	struct fw_cfg fw_cfg;
	struct i8042 kbc;
	struct rtc rtc;
	struct chardev serial;
	struct uart uart;
	struct reset_control reset;
	struct debug_ports debug;
	GMainContext *ctx;
	struct block_backend disk, disc_a, disc_b;
} fz;

static void check_irq(void *opaque, unsigned gsi, bool level)
{
	(void)opaque, (void)level;
	if (gsi >= PC_IOAPIC_PINS)
		abort();
}

static void check_pam(void *opaque, unsigned piece, uint64_t gpa, uint64_t size, enum pam_view view)
{
	(void)opaque, (void)view;
	if (piece >= I440FX_PAM_PIECES || gpa < I440FX_PAM_BASE || gpa + size > I440FX_PAM_END)
		abort();
}

static const struct i440fx_pam_ops pam_checker = { check_pam };

static void ignore_request(void *opaque)
{
	(void)opaque;
}

static struct irq_line line(unsigned gsi)
{
	return (struct irq_line){ check_irq, NULL, gsi };
}

/* Items like the ones the engine gives SeaBIOS: numbers, a small file and
 * one that spans several DMA transfers. */
static void fill_fw_cfg(void)
{
	static uint8_t tables[5000];
	memset(tables, 0xA5, sizeof(tables));
	if (fw_cfg_add_u64(&fz.fw_cfg, FW_CFG_RAM_SIZE, RAM_SIZE) < 0 || fw_cfg_add_u16(&fz.fw_cfg, FW_CFG_NB_CPUS, 2) < 0 ||
	    fw_cfg_add_file(&fz.fw_cfg, "etc/boot-fail-wait", "\x0a\0\0\0", 4) < 0 ||
	    fw_cfg_add_file(&fz.fw_cfg, "etc/acpi/tables", tables, sizeof(tables)) < 0)
		abort();
}

static void build_board(void)
{
	struct piix_ide_drive_config drives[PIIX_IDE_DRIVES] = {
		{ .present = true, .kind = ATA_DRIVE_DISK, .medium = &fz.disk, .serial = "FUZZ" },
		{ 0 },
		{ .present = true, .kind = ATA_DRIVE_CDROM, .medium = &fz.disc_a },
		{ 0 },
	};
	memset(fz.ram, 0, RAM_SIZE);
	if (ftruncate(fz.disk.fd, 0) < 0 || ftruncate(fz.disk.fd, DISK_BYTES) < 0)
		abort();
	bus_init(&fz.pio);
	bus_init(&fz.mmio);
	console_init(&fz.con);
	fuzz_watch_console(&fz.con);
	if (pci_bus_init(&fz.pci, &fz.pio, &fz.mmio) < 0 || i440fx_init(&fz.host, &fz.pci) < 0 ||
	    piix3_init(&fz.isa, &fz.pci, line(0)) < 0 ||
	    piix_ide_init(&fz.ide, &fz.pci, &fz.pio, &fz.mem, line(PC_IRQ_IDE_PRIMARY), line(PC_IRQ_IDE_SECONDARY), drives) < 0 ||
	    acpi_pm_init(&fz.pm, &fz.pio, 0, line(PC_IRQ_SCI), ignore_request, NULL) < 0 ||
	    piix4_pm_init(&fz.pm_fn, &fz.pci, &fz.pm) < 0 ||
	    vga_init(&fz.vga, &fz.pio, &fz.mmio, VRAM_SIZE, NULL, NULL, &fz.con) < 0 ||
	    pci_bus_add(&fz.pci, &fz.vga.pci, VGA_SLOT, 0) < 0 || ahci_init(&fz.ahci, &fz.mem, line(10), NULL, NULL) < 0 ||
	    ahci_attach(&fz.ahci, AHCI_CD_PORT, &fz.disc_b, true, NULL) < 0 ||
	    pci_bus_add(&fz.pci, &fz.ahci.pci, AHCI_SLOT, 0) < 0 ||
	    virtio_rng_init(&fz.rng, fz.ctx, &fz.mem, line(11), NULL, NULL) < 0 ||
	    pci_bus_add(&fz.pci, &fz.rng.vp.pci, RNG_SLOT, 0) < 0 || fw_cfg_init(&fz.fw_cfg, &fz.pio, &fz.mem) < 0 ||
	    i8042_init(&fz.kbc, &fz.pio, line(PC_IRQ_KEYBOARD), line(PC_IRQ_MOUSE), ignore_request, NULL) < 0 ||
	    rtc_init(&fz.rtc, &fz.pio, line(PC_IRQ_RTC), NULL) < 0 || chardev_open(&fz.serial, "none", fz.ctx, NULL) < 0 ||
	    uart_init(&fz.uart, &fz.pio, 0x3F8, line(PC_IRQ_COM1), &fz.serial) < 0 ||
	    reset_control_init(&fz.reset, &fz.pio, &fz.pci, ignore_request, NULL) < 0 ||
	    debug_ports_init(&fz.debug, &fz.pio, NULL) < 0 ||
	    pci_bus_assign_bars(&fz.pci, PC_PCI_MMIO_BASE, MMIO_LIMIT, PC_PCI_IO_BASE) < 0)
		abort();
	i440fx_attach_pam(&fz.host, &pam_checker, NULL);
	fill_fw_cfg();
}

static void tear_down_board(void)
{
	pci_bus_destroy(&fz.pci);
	uart_destroy(&fz.uart);
	chardev_close(&fz.serial);
	rtc_destroy(&fz.rtc);
	i8042_destroy(&fz.kbc);
	fw_cfg_destroy(&fz.fw_cfg);
	virtio_rng_destroy(&fz.rng);
	ahci_destroy(&fz.ahci);
	vga_destroy(&fz.vga);
	acpi_pm_destroy(&fz.pm);
	piix_ide_destroy(&fz.ide);
	piix3_destroy(&fz.isa);
	reset_control_destroy(&fz.reset);
	console_destroy(&fz.con);
	bus_destroy(&fz.pio);
	bus_destroy(&fz.mmio);
	while (g_main_context_iteration(fz.ctx, FALSE))
		;
}

static void set_up(void)
{
	fz.ram = g_malloc0(RAM_SIZE);
	if (!guest_mem_add(&fz.mem, 0, RAM_SIZE, fz.ram))
		abort();
	fz.ctx = g_main_context_new();
	fuzz_open_image(&fz.disk, "fuzz-disk", DISK_BYTES, false);
	fuzz_open_image(&fz.disc_a, "fuzz-disc-a", DISC_A_BLOCKS * 2048, true);
	fuzz_open_image(&fz.disc_b, "fuzz-disc-b", DISC_B_BLOCKS * 2048, true);
}

/* Fixed ports first, then the windows of BARs wherever the guest put them,
 * then any port at all (for BARs moved out of the windows' way). */
enum window {
	W_VGA_PORTS, W_DISPI, W_IDE_PRIMARY, W_IDE_PRIMARY_CONTROL, W_IDE_SECONDARY, W_IDE_SECONDARY_CONTROL,
	W_FW_CFG, W_I8042, W_RTC, W_UART, W_PCI_CONFIG, W_PORT_A, W_DEBUG,
	W_VGA_WINDOW, W_VGA_VRAM, W_VGA_REGS, W_IDE_BUS_MASTER, W_ACPI_PM, W_AHCI, W_RNG_MSIX, W_RNG_REGS,
	W_ANY_PORT, WINDOWS
};

static struct fuzz_window window(enum window w)
{
	switch (w) {
	case W_VGA_PORTS: return (struct fuzz_window){ &fz.pio, 0x3B0, 0x30, true };
	case W_DISPI: return (struct fuzz_window){ &fz.pio, 0x1CE, 3, true };
	case W_IDE_PRIMARY: return (struct fuzz_window){ &fz.pio, 0x1F0, 8, true };
	case W_IDE_PRIMARY_CONTROL: return (struct fuzz_window){ &fz.pio, 0x3F6, 1, true };
	case W_IDE_SECONDARY: return (struct fuzz_window){ &fz.pio, 0x170, 8, true };
	case W_IDE_SECONDARY_CONTROL: return (struct fuzz_window){ &fz.pio, 0x376, 1, true };
	case W_FW_CFG: return (struct fuzz_window){ &fz.pio, FW_CFG_PORT_SELECTOR, 12, true };
	case W_I8042: return (struct fuzz_window){ &fz.pio, 0x60, 5, true };
	case W_RTC: return (struct fuzz_window){ &fz.pio, 0x70, 2, true };
	case W_UART: return (struct fuzz_window){ &fz.pio, 0x3F8, 8, true };
	case W_PCI_CONFIG: return (struct fuzz_window){ &fz.pio, 0xCF8, 8, true };
	case W_PORT_A: return (struct fuzz_window){ &fz.pio, 0x92, 1, true };
	case W_DEBUG: return (struct fuzz_window){ &fz.pio, POST_PORT, DEBUGCON_PORT - POST_PORT + 1, true };
	case W_VGA_WINDOW: return (struct fuzz_window){ &fz.mmio, PC_VGA_WINDOW_BASE, PC_VGA_WINDOW_END - PC_VGA_WINDOW_BASE };
	case W_VGA_VRAM: return fuzz_bar_window(&fz.mmio, &fz.vga.pci, 0);
	case W_VGA_REGS: return fuzz_bar_window(&fz.mmio, &fz.vga.pci, 2);
	case W_IDE_BUS_MASTER: return fuzz_bar_window(&fz.pio, &fz.ide.pci, 4);
	case W_ACPI_PM: return (struct fuzz_window){ &fz.pio, fz.pm.base, fz.pm.base ? ACPI_PM_SIZE : 0, true };
	case W_AHCI: return fuzz_bar_window(&fz.mmio, &fz.ahci.pci, 5);
	case W_RNG_MSIX: return fuzz_bar_window(&fz.mmio, &fz.rng.vp.pci, VIRTIO_PCI_MSIX_BAR);
	case W_RNG_REGS: return fuzz_bar_window(&fz.mmio, &fz.rng.vp.pci, VIRTIO_PCI_REGS_BAR);
	case W_ANY_PORT: return (struct fuzz_window){ &fz.pio, 0, 0x10000, true };
	case WINDOWS: break;
	}
	abort();
}

/* The functions on the board, and one empty slot. */
static const uint8_t devfns[] = {
	0, PIIX3_SLOT << 3, PIIX_IDE_SLOT << 3 | PIIX_IDE_FUNCTION, PIIX4_PM_SLOT << 3 | PIIX4_PM_FUNCTION,
	VGA_SLOT << 3, AHCI_SLOT << 3, RNG_SLOT << 3, 5 << 3,
};

/* The user ejects the CD (on IDE or AHCI) or puts in one of two discs. */
static void change_disc(uint8_t how)
{
	struct block_backend *discs[] = { NULL, &fz.disc_a, &fz.disc_b };
	struct block_backend *disc = discs[(how >> 1) % G_N_ELEMENTS(discs)];
	if (how & 1)
		ahci_change_medium(&fz.ahci, AHCI_CD_PORT, disc);
	else
		piix_ide_change_medium(&fz.ide, IDE_CD_POSITION, disc);
}

static void type_keys(struct fuzz_input *in)
{
	uint8_t codes[MAX_HOST_INPUT];
	size_t n = fuzz_bytes(in, codes, fuzz_u8(in) % MAX_HOST_INPUT);
	i8042_put_kbd_scancodes(&fz.kbc, codes, n);
}

static void move_mouse(struct fuzz_input *in)
{
	int dx = (int16_t)fuzz_u16(in), dy = (int16_t)fuzz_u16(in), dz = (int8_t)fuzz_u8(in);
	i8042_put_mouse_event(&fz.kbc, dx, dy, dz, fuzz_u8(in) & 0x1F);
}

/* Serial input as the chardev hands it over: no more than the UART says
 * it can take. */
static void serial_input(struct fuzz_input *in)
{
	uint8_t bytes[MAX_HOST_INPUT];
	size_t n = fuzz_bytes(in, bytes, fuzz_u8(in) % MAX_HOST_INPUT);
	const struct chardev_receiver *rx = &fz.serial.receiver;
	if (rx->can_receive && rx->receive)
		rx->receive(rx->opaque, bytes, MIN(n, rx->can_receive(rx->opaque)));
}

enum op {
	OP_ACCESS, OP_CONFIG, OP_FILL_RAM, OP_RENDER, OP_DISC, OP_KEYS, OP_MOUSE, OP_SERIAL, OP_POWER_BUTTON,
	OPS
};

static void run_op(struct fuzz_input *in)
{
	switch (fuzz_u8(in) % OPS) {
	case OP_ACCESS: {
		struct fuzz_window w = window(fuzz_u8(in) % WINDOWS);
		fuzz_access(in, &w);
		break;
	}
	case OP_CONFIG: fuzz_pci_config(in, &fz.pio, devfns, G_N_ELEMENTS(devfns)); break;
	case OP_FILL_RAM: fuzz_fill_ram(in, fz.ram, RAM_SIZE); break;
	case OP_RENDER: console_refresh(&fz.con); break;
	case OP_DISC: change_disc(fuzz_u8(in)); break;
	case OP_KEYS: type_keys(in); break;
	case OP_MOUSE: move_mouse(in); break;
	case OP_SERIAL: serial_input(in); break;
	case OP_POWER_BUTTON: acpi_pm_press_power_button(&fz.pm); break;
	}
	/* The virtio-rng's queue work, as the I/O thread would do it. */
	while (g_main_context_iteration(fz.ctx, FALSE))
		;
}

/* The VGA's buffers are what a guest can make the board allocate. */
static uint64_t vga_accounted(void)
{
	return fz.vga.shadow_size + fz.vga.line_size + fz.vga.cells_size;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!fz.ram)
		set_up();
	build_board();
	size_t before = fuzz_heap_bytes();
	struct fuzz_input in = { data, size };
	for (unsigned n = 1; in.size; n++) {
		run_op(&in);
		if (n % RENDER_EVERY == 0)
			console_refresh(&fz.con);
	}
	fuzz_check_heap("fuzz-legacy", before, vga_accounted(), HEAP_SLACK);
	tear_down_board();
	return 0;
}
