/* Devices as objects (core/device.h): every device model of a PC, created
 * the way the engine creates it and registered in a device list, is driven
 * by the test (the guest) through its registers into a state of its own;
 * its state record is loaded into the same device of a second, fresh
 * machine, which must then save the very same bytes. Records of another
 * device or version, and broken or hostile records, are refused with one
 * line naming the problem, and leave the device working. The lists' reset
 * puts devices back in their power-on state; teardown runs last-in first. */
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "backend/block.h"
#include "backend/chardev.h"
#include "backend/net.h"
#include "core/bytes.h"
#include "bus-poke.h"
#include "console.h"
#include "core/device.h"
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
#include "hw/virtio_blk.h"
#include "hw/virtio_gpu.h"
#include "hw/virtio_net.h"
#include "hw/virtio_rng.h"
#include "vdriver.h"
#include "virtio-fixture.h"

#define RAM_SIZE (8u << 20)
#define IMAGE_SIZE (1u << 20)
#define PCI_MMIO_BASE 0xE0000000ull
#define PCI_MMIO_LIMIT 0xF0000000ull
#define PCI_IO_BASE 0xC000
#define COM1 0x3F8
/* PCI places, as the engine's firmware board and slots have them. */
#define SLOT_VGA 2
#define SLOT_BLK 3
#define SLOT_NET 4
#define SLOT_RNG 5
#define SLOT_GPU 6
#define SLOT_AHCI 31
#define DEVFN(slot, fn) ((slot) << 3 | (fn))
/* Guest RAM: each virtio device's rings, the GPU's request, response and
 * backing, the AHCI port's command list and FIS area. */
#define RINGS_BLK 0x100000
#define RINGS_NET 0x110000
#define RINGS_RNG 0x120000
#define RINGS_GPU 0x130000
#define RING_STRIDE 0x4000
#define GPU_REQ 0x200000
#define GPU_RESP 0x201000
#define GPU_BACKING 0x210000
#define RNG_BUFFER 0x220000
#define AHCI_CLB 0x300000
#define AHCI_FB 0x301000
/* AHCI 1.3.1 §3.1, §3.3: GHC, and port 0's registers. */
#define AHCI_GHC 0x04
#define AHCI_GHC_AE_IE 0x80000002u
#define AHCI_P0CLB 0x100
#define AHCI_P0FB 0x108
#define AHCI_P0IE 0x114
#define AHCI_P0CMD 0x118
#define AHCI_PXCMD_FRE_POD_SUD 0x16
/* virtio-gpu control commands (virtio 1.2 §5.7.6.7). */
#define GPU_CMD_RESOURCE_CREATE_2D 0x0101
#define GPU_CMD_SET_SCANOUT 0x0103
#define GPU_CMD_TRANSFER_TO_HOST_2D 0x0105
#define GPU_CMD_RESOURCE_ATTACH_BACKING 0x0106
#define GPU_RESP_OK_NODATA 0x1100
#define GPU_HDR_SIZE 24

struct machine {
	struct virtio_fixture v;
	struct device_list devices;
	char *dir;
	struct block_backend ide_disk, ide_disc, sata_disk, sata_disc, blk_disk;
	int serial_fds[2];
	struct chardev serial;
	struct console con;
	struct net_backend net_backend;
	struct i440fx host;
	struct piix3 isa;
	struct piix_ide ide;
	struct acpi_pm pm;
	struct piix4_pm pm_function;
	struct reset_control reset;
	struct uart com1;
	struct i8042 kbc;
	struct rtc rtc;
	struct fw_cfg cfg;
	struct debug_ports debug;
	struct vga vga;
	struct virtio_blk blk;
	struct virtio_net net;
	struct virtio_rng rng;
	struct virtio_gpu gpu;
	struct ahci ahci;
	unsigned resets_requested;
};

static void count_reset(void *opaque)
{
	((struct machine *)opaque)->resets_requested++;
}

static void ignore_irq(void *opaque, unsigned gsi, bool level)
{
	(void)opaque, (void)gsi, (void)level;
}

static void ignore_view(void *opaque, unsigned piece, uint64_t gpa, uint64_t size, enum pam_view view)
{
	(void)opaque, (void)piece, (void)gpa, (void)size, (void)view;
}

static const struct i440fx_pam_ops pam_ignored = { ignore_view };

static void drop_frame(struct net_backend *backend, const uint8_t *frame, size_t len)
{
	(void)backend, (void)frame, (void)len;
}

static void open_image(struct machine *m, struct block_backend *blk, const char *name)
{
	g_autofree char *path = g_build_filename(m->dir, name, NULL);
	g_autofree char *zeros = g_malloc0(IMAGE_SIZE);
	char *error = NULL;
	g_assert_true(g_file_set_contents(path, zeros, IMAGE_SIZE, NULL));
	g_assert_cmpint(block_open(blk, path, false, &error), ==, 0);
}

static void open_backends(struct machine *m)
{
	m->dir = g_dir_make_tmp("vireo-device-state-XXXXXX", NULL);
	g_assert_nonnull(m->dir);
	open_image(m, &m->ide_disk, "ide-disk.img");
	open_image(m, &m->ide_disc, "ide-disc.iso");
	open_image(m, &m->sata_disk, "sata-disk.img");
	open_image(m, &m->sata_disc, "sata-disc.iso");
	open_image(m, &m->blk_disk, "virtio-disk.img");
	g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM, 0, m->serial_fds), ==, 0);
	chardev_open_fds(&m->serial, m->serial_fds[1], m->serial_fds[1], m->v.ctx);
	console_init(&m->con);
	m->net_backend.send = drop_frame;
}

static void close_backends(struct machine *m)
{
	struct block_backend *images[] = { &m->ide_disk, &m->ide_disc, &m->sata_disk, &m->sata_disc, &m->blk_disk };
	for (size_t i = 0; i < G_N_ELEMENTS(images); i++) {
		g_unlink(images[i]->path);
		block_close(images[i]);
	}
	g_rmdir(m->dir);
	g_free(m->dir);
	chardev_close(&m->serial);
	close(m->serial_fds[0]);
	close(m->serial_fds[1]);
	console_destroy(&m->con);
}

/* The chipset and the ISA devices, in the engine's order. */
static void add_chipset(struct machine *m)
{
	struct bus *pio = &m->v.pio;
	struct irq_line line = { ignore_irq, m, 0 };
	const struct piix_ide_drive_config drives[PIIX_IDE_DRIVES] = {
		{ .present = true, .kind = ATA_DRIVE_DISK, .medium = &m->ide_disk, .serial = "IDE-DISK" },
		{ 0 },
		{ .present = true, .kind = ATA_DRIVE_CDROM, .medium = &m->ide_disc },
		{ 0 },
	};
	device_list_add(&m->devices, &pci_bus_device_ops, &m->v.pci, "pci");
	g_assert_cmpint(i440fx_init(&m->host, &m->v.pci), ==, 0);
	device_list_add(&m->devices, &i440fx_device_ops, &m->host, "i440fx");
	g_assert_cmpint(reset_control_init(&m->reset, pio, &m->v.pci, count_reset, m), ==, 0);
	device_list_add(&m->devices, &reset_control_device_ops, &m->reset, "reset");
	g_assert_cmpint(uart_init(&m->com1, pio, COM1, line, &m->serial), ==, 0);
	device_list_add(&m->devices, &uart_device_ops, &m->com1, "com1");
	g_assert_cmpint(i8042_init(&m->kbc, pio, line, line, count_reset, m), ==, 0);
	device_list_add(&m->devices, &i8042_device_ops, &m->kbc, "i8042");
	g_assert_cmpint(rtc_init(&m->rtc, pio, line, NULL), ==, 0);
	device_list_add(&m->devices, &rtc_device_ops, &m->rtc, "rtc");
	g_assert_cmpint(acpi_pm_init(&m->pm, pio, 0, line, NULL, NULL), ==, 0);
	device_list_add(&m->devices, &acpi_pm_device_ops, &m->pm, "acpi-pm");
	g_assert_cmpint(vga_init(&m->vga, pio, &m->v.mmio, VGA_VRAM_MIN, NULL, NULL, &m->con), ==, 0);
	device_list_add(&m->devices, &vga_device_ops, &m->vga, "vga");
	g_assert_cmpint(pci_bus_add(&m->v.pci, &m->vga.pci, SLOT_VGA, 0), ==, 0);
	i440fx_attach_pam(&m->host, &pam_ignored, m);
	g_assert_cmpint(piix3_init(&m->isa, &m->v.pci, line), ==, 0);
	device_list_add(&m->devices, &piix3_device_ops, &m->isa, "piix3");
	g_assert_cmpint(piix_ide_init(&m->ide, &m->v.pci, pio, &m->v.mem, line, line, drives), ==, 0);
	device_list_add(&m->devices, &piix_ide_device_ops, &m->ide, "ide");
	g_assert_cmpint(piix4_pm_init(&m->pm_function, &m->v.pci, &m->pm), ==, 0);
	device_list_add(&m->devices, &piix4_pm_device_ops, &m->pm_function, "piix4-pm");
	g_assert_cmpint(fw_cfg_init(&m->cfg, pio, &m->v.mem), ==, 0);
	device_list_add(&m->devices, &fw_cfg_device_ops, &m->cfg, "fw-cfg");
	g_assert_cmpint(debug_ports_init(&m->debug, pio, NULL), ==, 0);
	device_list_add(&m->devices, &debug_ports_device_ops, &m->debug, "debug");
}

static void add_pci_devices(struct machine *m)
{
	static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
	struct virtio_fixture *v = &m->v;
	g_assert_cmpint(virtio_gpu_init(&m->gpu, &m->con, v->ctx, &v->mem, v->intx, NULL, NULL), ==, 0);
	device_list_add(&m->devices, &virtio_gpu_device_ops, &m->gpu, "virtio-gpu");
	g_assert_cmpint(pci_bus_add(&v->pci, &m->gpu.vp.pci, SLOT_GPU, 0), ==, 0);
	g_assert_cmpint(virtio_blk_init(&m->blk, &m->blk_disk, "VIRTIO-DISK", 1, v->ctx, &v->mem, v->intx, NULL, NULL),
			==, 0);
	device_list_add(&m->devices, &virtio_blk_device_ops, &m->blk, "virtio-blk");
	g_assert_cmpint(pci_bus_add(&v->pci, &m->blk.vp.pci, SLOT_BLK, 0), ==, 0);
	g_assert_cmpint(virtio_rng_init(&m->rng, v->ctx, &v->mem, v->intx, NULL, NULL), ==, 0);
	device_list_add(&m->devices, &virtio_rng_device_ops, &m->rng, "virtio-rng");
	g_assert_cmpint(pci_bus_add(&v->pci, &m->rng.vp.pci, SLOT_RNG, 0), ==, 0);
	g_assert_cmpint(virtio_net_init(&m->net, &m->net_backend, mac, v->ctx, &v->mem, v->intx, NULL, NULL), ==, 0);
	device_list_add(&m->devices, &virtio_net_device_ops, &m->net, "virtio-net");
	g_assert_cmpint(pci_bus_add(&v->pci, &m->net.vp.pci, SLOT_NET, 0), ==, 0);
	g_assert_cmpint(ahci_init(&m->ahci, &v->mem, v->intx, NULL, NULL), ==, 0);
	device_list_add(&m->devices, &ahci_device_ops, &m->ahci, "ahci");
	g_assert_cmpint(pci_bus_add(&v->pci, &m->ahci.pci, SLOT_AHCI, 0), ==, 0);
	g_assert_cmpint(ahci_attach(&m->ahci, 0, &m->sata_disk, false, "SATA-DISK"), ==, 0);
	g_assert_cmpint(ahci_attach(&m->ahci, 1, &m->sata_disc, true, NULL), ==, 0);
}

/* A machine as the engine builds one for firmware boot, with every kind
 * of device, as it powers on. */
static struct machine *machine_off(void)
{
	struct machine *m = g_new0(struct machine, 1);
	vfix_init(&m->v, RAM_SIZE);
	open_backends(m);
	add_chipset(m);
	add_pci_devices(m);
	return m;
}

/* ... and with its BARs placed, as firmware would. */
static struct machine *machine_new(void)
{
	struct machine *m = machine_off();
	g_assert_cmpint(pci_bus_assign_bars(&m->v.pci, PCI_MMIO_BASE, PCI_MMIO_LIMIT, PCI_IO_BASE), ==, 0);
	return m;
}

static void machine_free(struct machine *m)
{
	device_list_teardown(&m->devices);
	g_assert_cmpuint(m->devices.count, ==, 0);
	close_backends(m);
	vfix_free(&m->v);
	g_free(m);
}

static const struct device *find_device(struct machine *m, const char *id)
{
	for (unsigned i = 0; i < m->devices.count; i++)
		if (!strcmp(m->devices.items[i].id, id))
			return &m->devices.items[i];
	g_assert_not_reached();
}

/* ---- the guest's side ---- */

static uint32_t config_read(struct machine *m, unsigned devfn, unsigned reg)
{
	return vfix_config_read(&m->v, devfn, reg);
}

static void config_write(struct machine *m, unsigned devfn, unsigned reg, uint32_t value)
{
	vfix_config_write(&m->v, devfn, reg, value);
}

static uint64_t bar_address(struct machine *m, unsigned devfn, unsigned bar)
{
	return config_read(m, devfn, 0x10 + 4 * bar) & ~0xFull;
}

static void poke_isa(struct machine *m)
{
	struct bus *pio = &m->v.pio;
	static const uint8_t keys[] = { 0x1C, 0xF0, 0x1C };
	/* COM1: 9600 baud 8N1, FIFO on, loopback: two bytes sent come back. */
	bus_out(pio, COM1 + 3, 0x83, 1);
	bus_out(pio, COM1, 12, 1);
	bus_out(pio, COM1 + 3, 0x03, 1);
	bus_out(pio, COM1 + 2, 0x01, 1);
	bus_out(pio, COM1 + 4, 0x10, 1);
	bus_out(pio, COM1, 'A', 1);
	bus_out(pio, COM1, 'B', 1);
	g_assert_cmpuint(bus_in(pio, COM1, 1), ==, 'A');
	bus_out(pio, COM1 + 7, 0x5A, 1);
	/* i8042: a command byte, an 'A' typed, a mouse command half sent. */
	bus_out(pio, 0x64, 0x60, 1);
	bus_out(pio, 0x60, 0x47, 1);
	i8042_put_kbd_scancodes(&m->kbc, keys, sizeof(keys));
	bus_out(pio, 0x64, 0xD4, 1);
	bus_out(pio, 0x60, 0xF3, 1);
	/* RTC: a CMOS byte, periodic interrupts on. */
	bus_out(pio, 0x70, 0x40, 1);
	bus_out(pio, 0x71, 0x5A, 1);
	bus_out(pio, 0x70, 0x0B, 1);
	bus_out(pio, 0x71, 0x42, 1);
	/* A20 off, SYS_RST set without a reset, a POST code. */
	bus_out(pio, 0x92, 0x00, 1);
	bus_out(pio, 0xCF9, 0x02, 1);
	bus_out(pio, 0x80, 0x42, 1);
	g_assert_cmpuint(m->resets_requested, ==, 0);
	/* fw_cfg: two bytes of the signature read. */
	bus_out(pio, FW_CFG_PORT_SELECTOR, FW_CFG_SIGNATURE, 2);
	g_assert_cmpuint(bus_in(pio, FW_CFG_PORT_DATA, 1), ==, 'Q');
	g_assert_cmpuint(bus_in(pio, FW_CFG_PORT_DATA, 1), ==, 'E');
}

/* PAM, a PIRQ route, the PM block at 0x600 with the power button enabled,
 * the IDE timing register, an IDENTIFY half read and an ATAPI drive
 * selected. */
static void poke_chipset(struct machine *m)
{
	struct bus *pio = &m->v.pio;
	config_write(m, DEVFN(0, 0), 0x58, 0x30000000);
	config_write(m, DEVFN(1, 0), 0x60, 0x8080800B);
	config_write(m, DEVFN(1, 3), 0x40, ACPI_PM_BASE | 1);
	config_write(m, DEVFN(1, 3), 0x80, 1);
	bus_out(pio, ACPI_PM_BASE + 2, 0x0100, 2);
	g_assert_cmphex(bus_in(pio, ACPI_PM_BASE + 2, 2), ==, 0x0100);
	config_write(m, DEVFN(1, 1), 0x40, 0xA3078000);
	bus_out(pio, 0x1F6, 0xE0, 1);
	bus_out(pio, 0x1F7, 0xEC, 1);
	for (unsigned i = 0; i < 4; i++)
		bus_in(pio, 0x1F0, 2);
	bus_out(pio, 0x176, 0xA0, 1);
	bus_out(pio, 0x171, 0x01, 1);
}

/* A mode set through DISPI, a palette entry, text in the window. */
static void poke_vga(struct machine *m)
{
	struct bus *pio = &m->v.pio;
	bus_out(pio, 0x3C4, 0x02, 1);
	bus_out(pio, 0x3C5, 0x03, 1);
	bus_out(pio, 0x3C8, 5, 1);
	for (unsigned i = 1; i <= 3; i++)
		bus_out(pio, 0x3C9, 10 * i, 1);
	bus_out(pio, 0x1CE, 1, 2);
	bus_out(pio, 0x1CF, 800, 2);
	bus_out(&m->v.mmio, 0xB8000, 0x0741, 2);
}

/* The HBA's interrupts on, port 0's lists placed and FIS receive on. */
static void poke_ahci(struct machine *m)
{
	uint64_t abar = bar_address(m, DEVFN(SLOT_AHCI, 0), AHCI_ABAR);
	bus_out(&m->v.mmio, abar + AHCI_GHC, AHCI_GHC_AE_IE, 4);
	bus_out(&m->v.mmio, abar + AHCI_P0CLB, AHCI_CLB, 4);
	bus_out(&m->v.mmio, abar + AHCI_P0FB, AHCI_FB, 4);
	bus_out(&m->v.mmio, abar + AHCI_P0IE, 0x1, 4);
	bus_out(&m->v.mmio, abar + AHCI_P0CMD, AHCI_PXCMD_FRE_POD_SUD, 4);
}

static void start_virtio(struct machine *m, struct vdevice *d, unsigned id, uint64_t rings, unsigned queues)
{
	g_assert_true(vdev_find(d, &m->v.platform, id, 0, PCI_MMIO_BASE));
	g_assert_true(vdev_negotiate(d, ~0ull));
	for (unsigned q = 0; q < queues; q++)
		g_assert_true(vdev_queue_setup(d, q, VDRIVER_QUEUE_SIZE, rings + q * RING_STRIDE));
	vdev_driver_ok(d);
}

/* Sends one GPU control request of `len` bytes at GPU_REQ. */
static void gpu_request(struct machine *m, struct vdevice *d, size_t len)
{
	const struct vbuf bufs[] = { { GPU_REQ, (uint32_t)len, false }, { GPU_RESP, 64, true } };
	uint32_t used;
	vq_submit(d, 0, bufs, 2);
	vfix_drain(&m->v);
	g_assert_true(vq_poll(d, 0, &used, 1));
	g_assert_cmphex(get_le32(m->v.ram + GPU_RESP), ==, GPU_RESP_OK_NODATA);
}

/* A GPU control request: its type, then `words` fields after the header. */
static void gpu_command(struct machine *m, struct vdevice *d, uint32_t type, const uint32_t *body, unsigned words)
{
	uint8_t *req = m->v.ram + GPU_REQ;
	memset(req, 0, GPU_HDR_SIZE);
	put_le32(req, type);
	for (unsigned i = 0; i < words; i++)
		put_le32(req + GPU_HDR_SIZE + 4 * i, body[i]);
	gpu_request(m, d, GPU_HDR_SIZE + 4 * words);
}

/* A 16x8 resource backed by guest RAM, filled and shown (virtio 1.2
 * §5.7.6.8: create, attach, transfer, set scanout). */
static void poke_gpu(struct machine *m, struct vdevice *d)
{
	const uint32_t create[] = { 7, 1, 16, 8 };
	const uint32_t attach[] = { 7, 1, GPU_BACKING, 0, 16 * 8 * 4, 0 };
	const uint32_t transfer[] = { 0, 0, 16, 8, 0, 0, 7, 0 };
	const uint32_t scanout[] = { 0, 0, 16, 8, 0, 7 };
	memset(m->v.ram + GPU_BACKING, 0x5A, 16 * 8 * 4);
	gpu_command(m, d, GPU_CMD_RESOURCE_CREATE_2D, create, G_N_ELEMENTS(create));
	gpu_command(m, d, GPU_CMD_RESOURCE_ATTACH_BACKING, attach, G_N_ELEMENTS(attach));
	gpu_command(m, d, GPU_CMD_TRANSFER_TO_HOST_2D, transfer, G_N_ELEMENTS(transfer));
	gpu_command(m, d, GPU_CMD_SET_SCANOUT, scanout, G_N_ELEMENTS(scanout));
}

static void poke_virtio(struct machine *m)
{
	struct vdevice blk, net, rng, gpu;
	const struct vbuf entropy = { RNG_BUFFER, 16, true };
	uint32_t used;
	start_virtio(m, &blk, VIRTIO_ID_BLOCK, RINGS_BLK, 1);
	vdev_config_write(&blk, 32, 0, 1);  /* writeback off: writethrough */
	start_virtio(m, &net, VIRTIO_ID_NET, RINGS_NET, 2);
	start_virtio(m, &rng, VIRTIO_ID_RNG, RINGS_RNG, 1);
	vq_submit(&rng, 0, &entropy, 1);
	vfix_drain(&m->v);
	g_assert_true(vq_poll(&rng, 0, &used, 1));
	start_virtio(m, &gpu, VIRTIO_ID_GPU, RINGS_GPU, 2);
	poke_gpu(m, &gpu);
}

static struct machine *machine_poked(void)
{
	struct machine *m = machine_new();
	poke_isa(m);
	poke_chipset(m);
	poke_vga(m);
	poke_ahci(m);
	poke_virtio(m);
	return m;
}

/* ---- tests ---- */

static GBytes *save(const struct device *d)
{
	return device_save(d->ops, d->state);
}

/* The name of the first field where two records of one device differ. */
static char *first_difference(GBytes *a, GBytes *b)
{
	size_t size_a, size_b;
	const uint8_t *pa = g_bytes_get_data(a, &size_a), *pb = g_bytes_get_data(b, &size_b);
	size_t at = DEVICE_RECORD_MAGIC_SIZE + 2 + get_le16(pa + DEVICE_RECORD_MAGIC_SIZE) + 8;
	while (at < size_a && at < size_b) {
		size_t name_len = pa[at], header = 1 + name_len + 6;
		size_t len = header + (size_t)pa[at + 1 + name_len + 1] * get_le32(pa + at + 1 + name_len + 2);
		if (at + len > size_a || at + len > size_b || memcmp(pa + at, pb + at, len))
			return g_strndup((const char *)pa + at + 1, name_len);
		at += len;
	}
	return g_strdup("(the end)");
}

static void assert_same(const struct device *d, GBytes *want, GBytes *got, const char *what)
{
	if (!g_bytes_equal(want, got)) {
		g_autofree char *field = first_difference(want, got);
		g_error("%s: %s differs, first at field %s", d->id, what, field);
	}
}

/* Runs `check` on each device of `a` with the same device of `b`. */
static void each_pair(struct machine *a, struct machine *b,
		      void (*check)(const struct device *in_a, const struct device *in_b))
{
	g_assert_cmpuint(a->devices.count, ==, b->devices.count);
	for (unsigned i = 0; i < a->devices.count; i++)
		check(&a->devices.items[i], &b->devices.items[i]);
	machine_free(a);
	machine_free(b);
}

static void load(const struct device *d, GBytes *record)
{
	char *error = NULL;
	if (!device_load(d->ops, d->state, g_bytes_get_data(record, NULL), g_bytes_get_size(record), &error))
		g_error("%s: %s", d->id, error);
}

/* The poked device's record says more than a fresh one's (the poking
 * reached it); loaded into the fresh one, it is what that one then saves. */
static void round_trip(const struct device *poked, const struct device *fresh)
{
	g_autoptr(GBytes) saved = save(poked), before = save(fresh);
	if (g_bytes_equal(saved, before))
		g_error("%s: the test left it in its power-on state", poked->id);
	load(fresh, saved);
	g_autoptr(GBytes) again = save(fresh);
	assert_same(poked, saved, again, "the loaded device's record");
}

static void test_round_trip(void)
{
	each_pair(machine_poked(), machine_new(), round_trip);
}

static void copy_state(const struct device *from, const struct device *to)
{
	g_autoptr(GBytes) saved = save(from);
	load(to, saved);
}

/* What the guest sees after a load: the loaded machine reads back what the
 * poked one had (spot checks through the registers). */
static void test_loaded_machine_reads_back(void)
{
	struct machine *a = machine_poked(), *b = machine_new();
	for (unsigned i = 0; i < a->devices.count; i++)
		copy_state(&a->devices.items[i], &b->devices.items[i]);
	machine_free(a);
	struct bus *pio = &b->v.pio;
	g_assert_cmpuint(bus_in(pio, COM1 + 7, 1), ==, 0x5A);
	g_assert_cmpuint(bus_in(pio, COM1, 1), ==, 'B');
	bus_out(pio, 0x70, 0x40, 1);
	g_assert_cmpuint(bus_in(pio, 0x71, 1), ==, 0x5A);
	g_assert_cmphex(bus_in(pio, ACPI_PM_BASE + 2, 2), ==, 0x0100);  /* the block moved to 0x600 too */
	g_assert_cmpuint(bus_in(pio, 0x80, 1), ==, 0x42);
	g_assert_cmpuint(bus_in(pio, FW_CFG_PORT_DATA, 1), ==, 'M');
	g_assert_cmphex(bus_in(&b->v.mmio, bar_address(b, DEVFN(SLOT_AHCI, 0), AHCI_ABAR) + AHCI_P0CLB, 4), ==, AHCI_CLB);
	g_assert_cmphex(config_read(b, DEVFN(1, 0), 0x60) & 0xFF, ==, 0x0B);
	machine_free(b);
}

/* The list's reset brings each device back to what it saves at power-on;
 * the RTC keeps its battery-backed time and RAM, and the PM timer runs on
 * from its own epoch, so those two are checked through their registers
 * (test_reset_through_registers). */
static void same_as_power_on(const struct device *reset, const struct device *fresh)
{
	if (!strcmp(reset->id, "rtc") || !strcmp(reset->id, "acpi-pm"))
		return;
	g_autoptr(GBytes) after = save(reset), power_on = save(fresh);
	assert_same(reset, power_on, after, "the reset device's record");
}

static void test_reset(void)
{
	struct machine *a = machine_poked();
	device_list_reset(&a->devices);
	each_pair(a, machine_off(), same_as_power_on);
}

static void test_reset_through_registers(void)
{
	struct machine *m = machine_poked();
	struct bus *pio = &m->v.pio;
	bus_out(pio, ACPI_PM_BASE, 0x0100, 2);  /* clear PWRBTN_STS, if set */
	device_list_reset(&m->devices);
	bus_out(pio, 0x70, 0x40, 1);
	g_assert_cmpuint(bus_in(pio, 0x71, 1), ==, 0x5A);
	bus_out(pio, 0x70, 0x0B, 1);
	g_assert_cmphex(bus_in(pio, 0x71, 1), ==, 0x02);         /* PIE cleared, 24-hour mode kept */
	g_assert_cmphex(bus_in(pio, 0x1CE, 2) , ==, 0);           /* DISPI index back to 0 */
	g_assert_cmpuint(bus_in(pio, 0x80, 1), ==, 0);
	/* The PM block is off again until firmware sets PMBA: nobody at 0x600. */
	g_assert_cmphex(bus_in(pio, ACPI_PM_BASE + 2, 2), ==, 0xFFFF);
	machine_free(m);
}

/* Where the value of field `name` starts in a record (after its name
 * length, name, kind, width and count). */
static uint8_t *field_value(GByteArray *record, const char *name)
{
	size_t len = strlen(name);
	for (guint at = 0; at + 1 + len <= record->len; at++)
		if (record->data[at] == len && !memcmp(record->data + at + 1, name, len))
			return record->data + at + 1 + len + 6;
	g_assert_not_reached();
}

static GByteArray *copy_record(GBytes *record)
{
	GByteArray *copy = g_byte_array_new();
	g_byte_array_append(copy, g_bytes_get_data(record, NULL), (guint)g_bytes_get_size(record));
	return copy;
}

static GBytes *uart_record(struct machine *m)
{
	return device_save(&uart_device_ops, &m->com1);
}

static void assert_refused(const struct device_ops *ops, void *state, GBytes *record, const char *message)
{
	char *error = NULL;
	g_assert_false(device_load(ops, state, g_bytes_get_data(record, NULL), g_bytes_get_size(record), &error));
	g_assert_cmpstr(error, ==, message);
	g_free(error);
}

static void test_other_device_refused(void)
{
	struct machine *m = machine_poked();
	g_autoptr(GBytes) record = uart_record(m);
	assert_refused(&i8042_device_ops, &m->kbc, record,
		       "uart version 1 state record cannot be loaded into i8042 version 1");
	/* A record's name is its maker's bytes: the message stays one line. */
	struct device_ops odd = uart_device_ops;
	odd.name = "ua\nrt";
	g_autoptr(GBytes) odd_record = device_save(&odd, &m->com1);
	assert_refused(&uart_device_ops, &m->com1, odd_record,
		       "ua\\nrt version 1 state record cannot be loaded into uart version 1");
	machine_free(m);
}

static void test_other_version_refused(void)
{
	struct machine *m = machine_poked();
	struct device_ops newer = uart_device_ops;
	newer.version = 2;
	g_autoptr(GBytes) record = device_save(&newer, &m->com1);
	assert_refused(&uart_device_ops, &m->com1, record,
		       "uart version 2 state record cannot be loaded into uart version 1");
	machine_free(m);
}

/* A record cut short anywhere is refused (and never read past its end:
 * the ASan run checks that), with one line. */
static void refuse_truncations(const struct device *poked, const struct device *fresh)
{
	g_autoptr(GBytes) saved = save(poked);
	size_t size;
	const uint8_t *data = g_bytes_get_data(saved, &size);
	/* Every cut in the header and the first fields, then a sample. */
	for (size_t cut = 0; cut < size; cut += cut < 512 ? 1 : 997) {
		g_autofree uint8_t *copy = g_memdup2(data, cut);
		char *error = NULL;
		if (device_load(fresh->ops, fresh->state, copy, cut, &error))
			g_error("%s: a record cut at %zu of %zu bytes was taken", poked->id, cut, size);
		g_assert_nonnull(error);
		g_assert_null(strchr(error, '\n'));
		g_free(error);
	}
}

static void test_truncated_records_refused(void)
{
	each_pair(machine_poked(), machine_new(), refuse_truncations);
}

/* Fields a guest could not have produced are refused by name: a FIFO
 * index past the FIFO, a queue's rings outside guest RAM. */
static void test_hostile_values_refused(void)
{
	struct machine *m = machine_poked();
	g_autoptr(GBytes) uart = uart_record(m);
	g_autoptr(GByteArray) bad = copy_record(uart);
	put_le32(field_value(bad, "rx_head"), 99);
	char *error = NULL;
	g_assert_false(device_load(&uart_device_ops, &m->com1, bad->data, bad->len, &error));
	g_assert_cmpstr(error, ==, "uart state: receive FIFO out of range");
	g_free(error);
	/* The device works from its reset state: loopback off, THR empty. */
	g_assert_cmphex(bus_in(&m->v.pio, COM1 + 5, 1), ==, 0x60);

	const struct device *blk = find_device(m, "virtio-blk");
	g_autoptr(GBytes) record = save(blk);
	g_autoptr(GByteArray) far = copy_record(record);
	put_le64(field_value(far, "queue0.vq.desc_gpa"), RAM_SIZE);
	g_assert_false(device_load(blk->ops, blk->state, far->data, far->len, &error));
	g_assert_cmpstr(error, ==, "virtio-blk state: a ready queue's rings are not in guest RAM");
	g_free(error);
	machine_free(m);
}

/* A record says what it holds without the device's code: magic, name,
 * version, then named, typed fields. */
static void test_record_is_self_describing(void)
{
	struct machine *m = machine_new();
	g_autoptr(GBytes) record = device_save(&debug_ports_device_ops, &m->debug);
	static const uint8_t want[] = {
		'V', 'I', 'R', 'E', 'O', 'D', 'E', 'V', 11, 0, 'd', 'e', 'b', 'u', 'g', '-', 'p', 'o', 'r', 't', 's',
		1, 0, 0, 0, 17, 0, 0, 0,
		9, 'p', 'o', 's', 't', '_', 'c', 'o', 'd', 'e', STATE_UINT, 1, 1, 0, 0, 0, 0,
	};
	g_assert_cmpmem(g_bytes_get_data(record, NULL), g_bytes_get_size(record), want, sizeof(want));
	machine_free(m);
}

/* Who claims an address, for traces: fixed ports by name, BARs where the
 * guest put them. */
static void test_claims(void)
{
	struct machine *m = machine_poked();
	struct device_claim claim;
	const struct device *d = device_list_owner(&m->devices, DEVICE_PIO, COM1 + 5, &claim);
	g_assert_nonnull(d);
	g_assert_cmpstr(d->id, ==, "com1");
	g_assert_cmpstr(claim.name, ==, "registers");
	d = device_list_owner(&m->devices, DEVICE_PIO, ACPI_PM_BASE + 8, &claim);
	g_assert_cmpstr(d->id, ==, "acpi-pm");
	d = device_list_owner(&m->devices, DEVICE_MMIO, bar_address(m, DEVFN(SLOT_AHCI, 0), AHCI_ABAR) + AHCI_P0CLB,
			      &claim);
	g_assert_cmpstr(d->id, ==, "ahci");
	g_assert_cmpstr(claim.name, ==, "BAR5");
	g_assert_null(device_list_owner(&m->devices, DEVICE_PIO, 0x2F8, &claim));  /* no COM2 */
	machine_free(m);
}

static GString *teardown_order;

static void log_teardown(void *state)
{
	g_string_append(teardown_order, state);
}

static const struct device_ops logged = { .name = "logged", .teardown = log_teardown };

static void test_teardown_in_reverse(void)
{
	struct device_list list = { 0 };
	teardown_order = g_string_new(NULL);
	device_list_add(&list, &logged, "a", "first");
	device_list_add(&list, &logged, "b", "second");
	device_list_add(&list, &logged, "c", "third");
	device_list_teardown(&list);
	g_assert_cmpstr(teardown_order->str, ==, "cba");
	g_assert_cmpuint(list.count, ==, 0);
	g_string_free(teardown_order, TRUE);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/device-state/round-trip", test_round_trip);
	g_test_add_func("/device-state/loaded-machine-reads-back", test_loaded_machine_reads_back);
	g_test_add_func("/device-state/reset", test_reset);
	g_test_add_func("/device-state/reset-through-registers", test_reset_through_registers);
	g_test_add_func("/device-state/other-device-refused", test_other_device_refused);
	g_test_add_func("/device-state/other-version-refused", test_other_version_refused);
	g_test_add_func("/device-state/truncated-records-refused", test_truncated_records_refused);
	g_test_add_func("/device-state/hostile-values-refused", test_hostile_values_refused);
	g_test_add_func("/device-state/record-is-self-describing", test_record_is_self_describing);
	g_test_add_func("/device-state/claims", test_claims);
	g_test_add_func("/device-state/teardown-in-reverse", test_teardown_in_reverse);
	return g_test_run();
}
