/* The PC a machine runs on: RAM, vCPUs, in-kernel irqchip and PIT, COM1,
 * i8042, RTC, PCI host bridge, ACPI PM block and reset ports, virtio disks
 * and rng, an AHCI controller for SATA drives, booted directly into a Linux
 * kernel (or our test guests) with e820, MP and ACPI tables, or through
 * firmware on the firmware board (which also carries the IDE disks and the
 * CD-ROM). */
#include "engine.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <glib-unix.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "boot/acpi.h"
#include "boot/dsdt.h"
#include "boot/e820.h"
#include "boot/loader.h"
#include "boot/mptable.h"
#include "firmware_board.h"
#include "hw/acpi_pm.h"
#include "hw/ahci.h"
#include "hw/atapi.h"
#include "hw/direct_intx.h"
#include "hw/i440fx.h"
#include "hw/i8042.h"
#include "hw/pci.h"
#include "hw/reset_control.h"
#include "hw/rtc.h"
#include "hw/uart.h"
#include "hw/vga.h"
#include "backend/net_slirp.h"
#include "backend/net_tap.h"
#include "hw/atapi.h"
#include "hw/virtio_blk.h"
#include "hw/virtio_net.h"
#include "hw/virtio_gpu.h"
#include "hw/virtio_rng.h"
#include "kvm/coalesced_mmio.h"
#include "kvm/cpuid.h"
#include "kvm/vcpu.h"
#include "kvm/vga_host.h"
#include "kvm/msi_router.h"
#include "kvm/virtio_host.h"
#include "keymap.h"

#define COM1_PORT 0x3F8
#define COM1_IRQ 4
#define KBD_IRQ 1
#define AUX_IRQ 12
#define RTC_IRQ 8

/* PCI devices: the host bridge is 00:00.0, the display adapter 00:02.0
 * (where a PC's firmware and QEMU put the VGA), virtio devices follow from
 * slot 3 (at most 18 of them), the AHCI controller is 00:1F.0 (the ICH9's
 * slot; function 0, as nothing else is in it). With no firmware, the engine
 * places their BARs in the PCI hole. INTx (used only while MSI-X or MSI is
 * off) goes to IOAPIC pins 16-23 (hw/direct_intx.h) or through the PIIX3. */
#define DISPLAY_SLOT 2
#define VIRTIO_FIRST_SLOT 3
#define AHCI_SLOT 31
#define PCI_MMIO_BASE 0xE0000000ull
#define PCI_MMIO_LIMIT VM_IOAPIC_BASE
#define PCI_IO_BASE 0xC000
#define IDE_CDROM_POSITION 2     /* secondary master, as QEMU's -cdrom */
#define NO_PLACE UINT_MAX        /* a drive the machine does not have */

struct engine {
	const struct vireo_machine *def;
	GMainContext *context;
	struct vm vm;
	struct kvm_cpuid2 *cpuid;
	struct vcpu *vcpus;
	unsigned vcpus_created;
	struct pci_bus pci;
	struct i440fx host_bridge;
	struct uart com1;
	struct i8042 kbc;
	struct rtc rtc;
	struct acpi_pm pm;
	struct reset_control reset;
	struct vga vga;
	bool vga_created;
	GSource *signal_sources[3];
	struct engine_backends *backends;
	/* Virtio queues are served here, never on a vCPU thread. */
	GMainContext *io_context;
	GThread *io_thread;
	atomic_bool io_stop;
	struct virtio_blk disks[MACHINE_MAX_DISKS];
	unsigned disks_created;
	struct virtio_rng rng;
	bool rng_created;
	struct virtio_gpu gpu;
	bool gpu_created;
	struct net_backend *net_backend;
	struct virtio_net net;
	bool net_created;
	struct virtio_host virtio_hosts[MACHINE_MAX_DISKS + 3];  /* disks, rng, net, gpu */
	struct ahci ahci;
	bool ahci_created;
	struct msi_router ahci_msi;
	struct direct_intx intx;        /* direct boot's PCI interrupt lines */
	bool firmware;                  /* booting SeaBIOS rather than a kernel */
	bool power_button_pressed;      /* by closing the window: a second close stops the machine */
	struct firmware_board board;
	bool board_created;
};

static bool check_file(const char *what, const char *path, char **error)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		*error = g_strdup_printf("%s %s: %s", what, path, g_strerror(errno));
		return false;
	}
	bool ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0;
	close(fd);
	if (!ok)
		*error = g_strdup_printf("%s %s: not a regular, non-empty file", what, path);
	return ok;
}

static bool check_net(const struct vireo_machine *def, char **error)
{
	struct machine_net net;
	GError *bad = NULL;
	bool ok = machine_parse_net(def->net, &net, &bad);
	if (!ok) {
		*error = g_strdup(bad->message);
		g_error_free(bad);
		return false;
	}
	if (net.tftp && !g_file_test(net.tftp, G_FILE_TEST_IS_DIR)) {
		*error = g_strdup_printf("net tftp=%s: not a folder", net.tftp);
		ok = false;
	}
	machine_net_clear(&net);
	return ok;
}

static bool check_kernel(const struct vireo_machine *def, char **error)
{
	return check_file("kernel", def->kernel, error) && (!def->initrd || check_file("initrd", def->initrd, error));
}

/* A kernel boots directly; without one (or with --firmware) the firmware does. */
bool engine_check_inputs(const struct vireo_machine *def, char **error)
{
	bool boot_ok = def->kernel && !def->firmware ? check_kernel(def, error) : firmware_board_check(def, error);
	return boot_ok && check_net(def, error);
}

/* Opens a kernel or initrd for boot_load, which reads it straight into
 * guest RAM (no copy of a 60 MiB vmlinux stays resident in the engine). */
static bool open_image(struct boot_image *img, const char *what, const char *path, char **error)
{
	struct stat st;
	img->path = path;
	img->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (img->fd < 0 || fstat(img->fd, &st) < 0) {
		*error = g_strdup_printf("%s %s: %s", what, path, g_strerror(errno));
		return false;
	}
	img->size = (uint64_t)st.st_size;
	return true;
}

static void close_image(struct boot_image *img)
{
	if (img->fd >= 0)
		close(img->fd);
}

static struct irq_line gsi_line(struct engine *e, unsigned gsi)
{
	return (struct irq_line){ vm_set_irq, &e->vm, gsi };
}

static void request_reset(void *opaque)
{
	struct engine *e = opaque;
	vm_request_stop(&e->vm, VM_STOP_RESET);
}

static void request_power_off(void *opaque)
{
	struct engine *e = opaque;
	vm_request_stop(&e->vm, VM_STOP_POWER_OFF);
}

/* Runs on whichever thread stopped the VM: every vCPU leaves KVM_RUN and
 * the I/O loop in engine_run wakes up to see the stop (a wakeup that comes
 * before the loop blocks is not lost). */
static void on_vm_stop(void *opaque)
{
	struct engine *e = opaque;
	for (unsigned i = 0; i < e->vcpus_created; i++)
		vcpu_kick(&e->vcpus[i]);
	g_main_context_wakeup(e->context);
}

/* CMOS memory and CPU bytes a PC BIOS leaves for the OS (and SeaBIOS reads
 * when fw_cfg has no e820): KiB of base and extended memory, 64 KiB units
 * above 16 MiB and above 4 GiB, CPU count - 1 (shared/pc-platform.md §1.2). */
static void fill_cmos(struct engine *e)
{
	uint64_t low = e->vm.low_ram_size, high = e->vm.ram_size - low;
	uint64_t ext_kib = MIN((low - (1u << 20)) >> 10, 0xFFFF);
	uint64_t above_16m = low > (16u << 20) ? MIN((low - (16u << 20)) >> 16, 0xFFFF) : 0;
	uint64_t above_4g = high >> 16;
	const uint8_t bytes[][2] = {
		{ 0x15, 640 & 0xFF }, { 0x16, 640 >> 8 },
		{ 0x17, (uint8_t)ext_kib }, { 0x18, (uint8_t)(ext_kib >> 8) },
		{ 0x30, (uint8_t)ext_kib }, { 0x31, (uint8_t)(ext_kib >> 8) },
		{ 0x34, (uint8_t)above_16m }, { 0x35, (uint8_t)(above_16m >> 8) },
		{ 0x5B, (uint8_t)above_4g }, { 0x5C, (uint8_t)(above_4g >> 8) },
		{ 0x5D, (uint8_t)(above_4g >> 16) },
		{ 0x5F, (uint8_t)(e->def->cpus - 1) },
	};
	for (size_t i = 0; i < G_N_ELEMENTS(bytes); i++)
		rtc_set_cmos(&e->rtc, bytes[i][0], bytes[i][1]);
}

static gboolean on_terminate_signal(gpointer opaque)
{
	struct engine *e = opaque;
	vm_request_stop(&e->vm, VM_STOP_REQUESTED);
	return G_SOURCE_CONTINUE;
}

/* SIGINT, SIGTERM and SIGHUP stop the machine cleanly (disks flushed, the
 * terminal restored), as a power cut would not. */
static void watch_terminate_signals(struct engine *e, GMainContext *context)
{
	static const int signals[] = { SIGINT, SIGTERM, SIGHUP };
	for (size_t i = 0; i < G_N_ELEMENTS(signals); i++) {
		e->signal_sources[i] = g_unix_signal_source_new(signals[i]);
		g_source_set_callback(e->signal_sources[i], on_terminate_signal, e, NULL);
		g_source_attach(e->signal_sources[i], context);
	}
}

static void unwatch_terminate_signals(struct engine *e)
{
	for (size_t i = 0; i < G_N_ELEMENTS(e->signal_sources); i++) {
		if (e->signal_sources[i]) {
			g_source_destroy(e->signal_sources[i]);
			g_source_unref(e->signal_sources[i]);
		}
	}
}

/* The standard VGA: legacy VGA in 0xA0000-0xBFFFF (taken out of guest RAM
 * for it) and its framebuffer mapped as dirty-logged memory. */
static int add_vga(struct engine *e, char **error)
{
	int err;
	if ((err = vm_release_vga_window(&e->vm)) < 0 ||
	    (err = vga_init(&e->vga, &e->vm.pio, &e->vm.mmio, VGA_VRAM_DEFAULT, &vga_host_kvm_ops, &e->vm,
			    &e->backends->console)) < 0) {
		*error = g_strdup_printf("cannot set up the VGA: %s", g_strerror(-err));
		return -1;
	}
	e->vga_created = true;
	/* Text and planar drawing is many small window writes: queue them. */
	coalesced_mmio_add_zone(&e->vm, VM_VGA_WINDOW_BASE, VM_VGA_WINDOW_END - VM_VGA_WINDOW_BASE);
	if ((err = pci_bus_add(&e->pci, &e->vga.pci, DISPLAY_SLOT, 0)) < 0) {
		*error = g_strdup_printf("cannot set up the VGA: %s", g_strerror(-err));
		return -1;
	}
	return 0;
}

/* Keyboard and mouse from the console reach the PS/2 devices. */
static void ps2_key(void *opaque, unsigned evdev, bool down)
{
	uint8_t codes[KEYMAP_MAX_SCANCODES];
	size_t n = keymap_to_ps2_set2(evdev, down, codes);
	if (n)
		i8042_put_kbd_scancodes(opaque, codes, n);
}

static void ps2_pointer(void *opaque, int dx, int dy, int dz, unsigned buttons)
{
	i8042_put_mouse_event(opaque, dx, -dy, dz, buttons);  /* PS/2 counts up as positive */
}

static const struct console_input_ops ps2_input = { .key = ps2_key, .pointer_rel = ps2_pointer };

static int init_devices(struct engine *e, struct chardev *serial, GMainContext *context, char **error)
{
	struct bus *pio = &e->vm.pio;
	const char *what;
	int err;

	direct_intx_init(&e->intx, gsi_line(e, 0));
	if ((what = "PCI bus", err = pci_bus_init(&e->pci, pio, &e->vm.mmio)) < 0 ||
	    (what = "i440FX host bridge", err = i440fx_init(&e->host_bridge, &e->pci)) < 0 ||
	    (what = "reset control", err = reset_control_init(&e->reset, pio, &e->pci, request_reset, e)) < 0 ||
	    (what = "COM1", err = uart_init(&e->com1, pio, COM1_PORT, gsi_line(e, COM1_IRQ), serial)) < 0 ||
	    (what = "i8042", err = i8042_init(&e->kbc, pio, gsi_line(e, KBD_IRQ), gsi_line(e, AUX_IRQ),
					      request_reset, e)) < 0 ||
	    (what = "RTC", err = rtc_init(&e->rtc, pio, gsi_line(e, RTC_IRQ), context)) < 0 ||
	    (what = "ACPI PM", err = acpi_pm_init(&e->pm, pio, e->firmware ? 0 : ACPI_PM_BASE, gsi_line(e, ACPI_PM_SCI_IRQ),
						  request_power_off, e)) < 0) {
		*error = g_strdup_printf("cannot set up %s: %s", what, g_strerror(-err));
		return -1;
	}
	fill_cmos(e);
	console_set_input(&e->backends->console, &ps2_input, &e->kbc);
	return strcmp(e->def->gpu, "std") ? 0 : add_vga(e, error);
}

/* The window's close button is the machine's power button, as on a PC
 * (VirtualBox and Boxes do the same): a guest that listens (its ACPI has
 * PWRBTN_EN on) shuts itself down. One that does not, or a second close
 * while it does, stops the machine cleanly, as SIGTERM does. */
static gboolean on_window_close(gpointer opaque)
{
	struct engine_backends *b = opaque;
	struct engine *e = b->run;
	if (!e)
		return G_SOURCE_REMOVE;
	if (!e->power_button_pressed && acpi_pm_press_power_button(&e->pm)) {
		e->power_button_pressed = true;
		g_printerr("vireo-engine: power button pressed: the guest is shutting down "
			   "(close the window again to stop the machine now)\n");
	} else {
		vm_request_stop(&e->vm, VM_STOP_REQUESTED);
	}
	return G_SOURCE_REMOVE;
}

/* From the window's thread: handled in the main loop, by the run going on. */
static void close_window(void *opaque)
{
	struct engine_backends *b = opaque;
	g_main_context_invoke(b->context, on_window_close, b);
}

static int start_display(const struct vireo_machine *def, struct engine_backends *b, char **error)
{
	struct machine_display display;
	GError *bad = NULL;
	if (!machine_parse_display(def->display, &display, &bad)) {
		*error = g_strdup(bad->message);
		g_error_free(bad);
		return -1;
	}
	if (display.vnc)
		b->vnc = vnc_server_start(&b->console, display.vnc_addr, display.vnc_port, display.vnc_port_last,
					  display.password, error);
	if (b->vnc && display.vnc_port != display.vnc_port_last)
		g_printerr("vireo-engine: VNC on %s:%u\n", vnc_server_address(b->vnc), vnc_server_port(b->vnc));
	if (display.sdl)
		b->sdl = sdl_window_start(&b->console, def->name, close_window, b, error);
	bool failed = (display.vnc && !b->vnc) || (display.sdl && !b->sdl);
	machine_display_clear(&display);
	return failed ? -1 : 0;
}

/* --firmware-log: the debug console's bytes, appended across guest reboots. */
static int open_firmware_log(const struct vireo_machine *def, struct engine_backends *b, GMainContext *context,
			     char **error)
{
	b->firmware_log_fd = -1;
	if (!def->firmware_log)
		return 0;
	b->firmware_log_fd = open(def->firmware_log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (b->firmware_log_fd < 0) {
		*error = g_strdup_printf("firmware-log %s: %s", def->firmware_log, g_strerror(errno));
		return -1;
	}
	chardev_open_fds(&b->firmware_log, -1, b->firmware_log_fd, context);
	return 0;
}

static void close_firmware_log(struct engine_backends *b)
{
	if (b->firmware_log_fd < 0)
		return;
	chardev_close(&b->firmware_log);
	close(b->firmware_log_fd);
	b->firmware_log_fd = -1;
}

/* Places a bus=ide drive at the next IDE position (primary master, slave,
 * secondary master, slave); --cdrom owns the secondary master. */
static bool place_ide_drive(const struct vireo_machine *def, struct engine_backends *b, unsigned disk,
			    char **error)
{
	const struct machine_disk *spec = &b->disk_specs[disk];
	unsigned at = b->ide_count++;
	if (at == IDE_CDROM_POSITION && def->cdrom) {
		*error = g_strdup_printf("disk %s,bus=ide would be the IDE secondary master, which --cdrom %s takes "
					 "(at most 2 IDE disks with --cdrom)", spec->path, def->cdrom);
		return false;
	}
	if (at >= PIIX_IDE_DRIVES) {
		*error = g_strdup_printf("disk %s: too many IDE drives (at most %d: primary and secondary, "
					 "master and slave)", spec->path, PIIX_IDE_DRIVES);
		return false;
	}
	b->ide[at] = (struct piix_ide_drive_config){
		.present = true, .medium = machine_disk_is_empty(spec) ? NULL : &b->disks[disk], .serial = spec->serial,
		.kind = spec->media == MACHINE_MEDIA_CDROM ? ATA_DRIVE_CDROM : ATA_DRIVE_DISK,
	};
	b->ide_place[at] = disk;
	return true;
}

/* The bus=sata drives take the AHCI ports in the order given: the port of
 * `disk` is how many came before it (its earlier disks are parsed). */
static unsigned sata_port_of(const struct engine_backends *b, unsigned disk)
{
	unsigned taken = 0;
	for (unsigned i = 0; i < disk; i++)
		taken += b->disk_specs[i].bus == MACHINE_BUS_SATA;
	return taken;
}

/* Whether a bus=sata drive has a port left. */
static bool sata_port_free(const struct engine_backends *b, unsigned disk, char **error)
{
	if (sata_port_of(b, disk) < AHCI_PORTS)
		return true;
	*error = g_strdup_printf("disk %s: the SATA controller has %u ports, all taken", b->disk_specs[disk].path,
				 AHCI_PORTS);
	return false;
}

/* Refuses what this machine cannot have: IDE without the firmware board. */
static bool check_disk_bus(const struct vireo_machine *def, const struct machine_disk *spec, char **error)
{
	if (spec->bus == MACHINE_BUS_IDE && !firmware_board_wanted(def)) {
		*error = g_strdup_printf("disk %s,bus=ide: IDE needs firmware boot (the PIIX3 IDE controller is "
					 "part of the firmware board); with --kernel use bus=virtio", spec->path);
		return false;
	}
	return true;
}

/* Opens a --disk's image, locked (media[i] = disks[i]); an empty CD-ROM
 * drive opens nothing and holds nothing (media[i] NULL). */
static bool open_disk_image(struct engine_backends *b, unsigned i, char **error)
{
	const struct machine_disk *spec = &b->disk_specs[i];
	if (machine_disk_is_empty(spec)) {
		b->disks[i].fd = -1;  /* closed with the rest: nothing to close */
		return true;
	}
	if (block_open(&b->disks[i], spec->path, spec->read_only, error) < 0)
		return false;
	b->media[i] = &b->disks[i];
	return true;
}

static int open_disks(const struct vireo_machine *def, struct engine_backends *b, char **error)
{
	for (unsigned i = 0; def->disks && def->disks[i]; i++, b->disk_count++) {
		GError *bad = NULL;
		struct machine_disk *spec = &b->disk_specs[i];
		if (!machine_parse_disk(def->disks[i], spec, &bad)) {
			*error = g_strdup(bad->message);  /* already checked when the setting was read */
			g_error_free(bad);
			return -1;
		}
		if (!check_disk_bus(def, spec, error) || (spec->bus == MACHINE_BUS_IDE && !place_ide_drive(def, b, i, error)) ||
		    (spec->bus == MACHINE_BUS_SATA && !sata_port_free(b, i, error)) ||
		    !open_disk_image(b, i, error)) {
			machine_disk_clear(spec);
			return -1;
		}
		if (b->media[i] && spec->media == MACHINE_MEDIA_CDROM && !atapi_check_image(b->media[i], error)) {
			b->disk_count++;  /* open: closed with the rest */
			return -1;
		}
	}
	return 0;
}

/* An ISO image opened read-only and checked; NULL with *error set. */
static struct block_backend *open_disc(const char *path, char **error)
{
	struct block_backend *disc = g_new0(struct block_backend, 1);
	if (block_open(disc, path, true, error) == 0) {
		if (atapi_check_image(disc, error))
			return disc;
		block_close(disc);
	}
	g_free(disc);
	return NULL;
}

static void close_disc(struct block_backend *disc)
{
	if (disc)
		block_close(disc);
	g_free(disc);
}

/* --cdrom FILE: an ISO in an ATAPI drive on the IDE secondary master
 * (--cdrom empty: the drive with no disc). */
static int open_cdrom(const struct vireo_machine *def, struct engine_backends *b, char **error)
{
	char *why = NULL;
	if (!def->cdrom)
		return 0;
	if (!firmware_board_wanted(def)) {
		*error = g_strdup_printf("--cdrom %s: IDE needs firmware boot (the PIIX3 IDE controller is part of "
					 "the firmware board); drop --kernel", def->cdrom);
		return -1;
	}
	if (strcmp(def->cdrom, MACHINE_NO_DISC) && !(b->cdrom = open_disc(def->cdrom, &why))) {
		*error = g_strdup_printf("--cdrom: %s", why);
		g_free(why);
		return -1;
	}
	b->ide[IDE_CDROM_POSITION] = (struct piix_ide_drive_config){
		.present = true, .kind = ATA_DRIVE_CDROM, .medium = b->cdrom,
	};
	b->ide_place[IDE_CDROM_POSITION] = ENGINE_CDROM_PLACE;
	return 0;
}

int engine_open_backends(const struct vireo_machine *def, struct engine_backends *b, GMainContext *context,
			 char **error)
{
	memset(b, 0, sizeof(*b));
	b->context = context;
	if (open_firmware_log(def, b, context, error) < 0)
		return -1;
	if (chardev_open(&b->serial, def->serial, context, error) < 0) {
		close_firmware_log(b);
		return -1;
	}
	console_init(&b->console);
	if (start_display(def, b, error) < 0) {
		engine_close_backends(b);
		return -1;
	}
	if (open_disks(def, b, error) < 0 || open_cdrom(def, b, error) < 0) {
		engine_close_backends(b);
		return -1;
	}
	return 0;
}

char *engine_display_description(const struct engine_backends *b)
{
	if (b->vnc)
		return g_strdup_printf("vnc:%s:%u", vnc_server_address(b->vnc), vnc_server_port(b->vnc));
	return g_strdup(b->sdl ? "sdl" : "none");
}

void engine_close_backends(struct engine_backends *b)
{
	if (b->control)
		engine_control_stop(b->control);
	b->control = NULL;
	for (unsigned i = 0; i < b->disk_count; i++) {
		block_close(&b->disks[i]);
		if (b->media[i] != &b->disks[i])
			close_disc(b->media[i]);
		b->media[i] = NULL;
		machine_disk_clear(&b->disk_specs[i]);
	}
	b->disk_count = 0;
	close_disc(b->cdrom);
	b->cdrom = NULL;
	if (b->vnc)
		vnc_server_stop(b->vnc);
	if (b->sdl)
		sdl_window_stop(b->sdl);
	b->vnc = NULL;
	b->sdl = NULL;
	console_destroy(&b->console);
	chardev_close(&b->serial);
	close_firmware_log(b);
}

/* A flag rather than a GMainLoop: a stop requested before the thread has
 * started iterating must not be lost. */
static gpointer run_io_loop(gpointer opaque)
{
	struct engine *e = opaque;
	g_main_context_push_thread_default(e->io_context);
	while (!atomic_load(&e->io_stop))
		g_main_context_iteration(e->io_context, TRUE);
	g_main_context_pop_thread_default(e->io_context);
	return NULL;
}

static void start_io_thread(struct engine *e)
{
	e->io_context = g_main_context_new();
	e->io_thread = g_thread_new("vireo-io", run_io_loop, e);
}

static void stop_io_thread(struct engine *e)
{
	if (!e->io_thread)
		return;
	atomic_store(&e->io_stop, true);
	g_main_context_wakeup(e->io_context);
	g_thread_join(e->io_thread);
	e->io_thread = NULL;
}

/* Direct boot: IOAPIC pins 16-23, shared by slots 8 apart. Firmware boot:
 * through the PIIX3's PIRQ routing, which the firmware programs. */
static struct irq_line slot_intx(struct engine *e, unsigned slot)
{
	if (e->firmware)
		return firmware_board_intx(&e->board, slot);
	return direct_intx_line(&e->intx, slot);
}

/* virtio-net on user networking or a tap, when the machine has a network. */
static int add_network(struct engine *e, unsigned slot, char **error)
{
	struct machine_net config;
	GError *bad = NULL;
	int err;
	if (!machine_parse_net(e->def->net, &config, &bad)) {
		*error = g_strdup(bad->message);  /* already checked when the setting was read */
		g_error_free(bad);
		return -1;
	}
	if (config.kind == MACHINE_NET_NONE)
		return 0;
	e->net_backend = config.kind == MACHINE_NET_TAP ? net_tap_new(config.ifname, e->io_context, error)
							: net_slirp_new(&config, e->io_context, error);
	struct virtio_host *host = &e->virtio_hosts[MACHINE_MAX_DISKS + 1];
	virtio_host_init(host, &e->vm);
	err = !e->net_backend ? -1
	    : virtio_net_init(&e->net, e->net_backend, config.mac, e->io_context, &e->vm.mem, slot_intx(e, slot),
			      &virtio_host_kvm_ops, host);
	e->net_created = err == 0;
	if (err == 0)
		err = pci_bus_add(&e->pci, &e->net.vp.pci, slot, 0);
	machine_net_clear(&config);
	if (err < -1)
		*error = g_strdup_printf("cannot set up the network card: %s", g_strerror(-err));
	return err < 0 ? -1 : 0;
}

/* --gpu virtio: a virtio-gpu where the VGA would be. */
static int add_virtio_gpu(struct engine *e)
{
	struct virtio_host *host = &e->virtio_hosts[MACHINE_MAX_DISKS + 2];
	virtio_host_init(host, &e->vm);
	int err = virtio_gpu_init(&e->gpu, &e->backends->console, e->io_context, &e->vm.mem,
				  slot_intx(e, DISPLAY_SLOT), &virtio_host_kvm_ops, host);
	e->gpu_created = err == 0;
	return err ? err : pci_bus_add(&e->pci, &e->gpu.vp.pci, DISPLAY_SLOT, 0);
}

static int add_virtio_devices(struct engine *e, char **error)
{
	struct engine_backends *b = e->backends;
	unsigned slot = VIRTIO_FIRST_SLOT;
	int err = strcmp(e->def->gpu, "virtio") ? 0 : add_virtio_gpu(e);
	for (unsigned i = 0; i < b->disk_count && !err; i++) {
		unsigned n = e->disks_created;
		struct virtio_host *host = &e->virtio_hosts[n];
		if (b->disk_specs[i].bus != MACHINE_BUS_VIRTIO)
			continue;  /* on the firmware board's IDE */
		virtio_host_init(host, &e->vm);
		err = virtio_blk_init(&e->disks[n], &b->disks[i], b->disk_specs[i].serial, b->disk_specs[i].queues,
				      e->io_context, &e->vm.mem, slot_intx(e, slot), &virtio_host_kvm_ops, host);
		if (!err) {
			e->disks_created++;
			err = pci_bus_add(&e->pci, &e->disks[n].vp.pci, slot, 0);
		}
		if (!err && e->firmware)
			firmware_board_add_drive(&e->board, i, MACHINE_MEDIA_DISK, firmware_path_virtio_blk(slot));
		slot++;
	}
	if (!err && e->def->rng) {
		struct virtio_host *host = &e->virtio_hosts[b->disk_count];
		virtio_host_init(host, &e->vm);
		err = virtio_rng_init(&e->rng, e->io_context, &e->vm.mem, slot_intx(e, slot), &virtio_host_kvm_ops, host);
		e->rng_created = !err;
		if (!err)
			err = pci_bus_add(&e->pci, &e->rng.vp.pci, slot, 0);
	}
	if (!err && add_network(e, slot + e->rng_created, error) < 0)
		return -1;
	if (err < 0)
		*error = g_strdup_printf("cannot set up virtio devices: %s", g_strerror(-err));
	return err < 0 ? -1 : 0;
}

/* The SATA drives on the AHCI ports in the order given; no controller
 * without them. */
static int add_sata(struct engine *e, char **error)
{
	struct engine_backends *b = e->backends;
	unsigned port = 0;
	int err = 0;
	for (unsigned i = 0; i < b->disk_count && !err; i++) {
		const struct machine_disk *spec = &b->disk_specs[i];
		if (spec->bus != MACHINE_BUS_SATA)
			continue;
		if (!e->ahci_created) {
			msi_router_init(&e->ahci_msi, &e->vm);
			if ((err = ahci_init(&e->ahci, &e->vm.mem, slot_intx(e, AHCI_SLOT), &msi_router_ops,
					     &e->ahci_msi)) < 0)
				break;
			e->ahci_created = true;
			if ((err = pci_bus_add(&e->pci, &e->ahci.pci, AHCI_SLOT, 0)) < 0)
				break;
		}
		err = ahci_attach(&e->ahci, port, b->media[i], spec->media == MACHINE_MEDIA_CDROM, spec->serial);
		if (!err && e->firmware)
			firmware_board_add_drive(&e->board, i, spec->media, firmware_path_ahci(AHCI_SLOT, port));
		port++;
	}
	if (err < 0)
		*error = g_strdup_printf("cannot set up the SATA controller: %s", g_strerror(-err));
	return err < 0 ? -1 : 0;
}

/* Direct boot: the engine does what firmware would, BARs in the PCI hole. */
static int assign_bars(struct engine *e, char **error)
{
	int err = e->firmware ? 0 : pci_bus_assign_bars(&e->pci, PCI_MMIO_BASE, PCI_MMIO_LIMIT, PCI_IO_BASE);
	if (err < 0)
		*error = g_strdup_printf("cannot place PCI devices: %s", g_strerror(-err));
	return err < 0 ? -1 : 0;
}

static void destroy_virtio_devices(struct engine *e)
{
	for (unsigned i = 0; i < e->disks_created; i++)
		virtio_blk_destroy(&e->disks[i]);
	if (e->rng_created)
		virtio_rng_destroy(&e->rng);
	if (e->gpu_created)
		virtio_gpu_destroy(&e->gpu);
	if (e->net_created)
		virtio_net_destroy(&e->net);
	if (e->net_backend)
		e->net_backend->destroy(e->net_backend);
	if (e->io_context)
		g_main_context_unref(e->io_context);
}

static void destroy_devices(struct engine *e)
{
	if (e->board_created)
		firmware_board_destroy(&e->board);
	acpi_pm_destroy(&e->pm);
	rtc_destroy(&e->rtc);
	console_set_input(&e->backends->console, NULL, NULL);
	i8042_destroy(&e->kbc);
	uart_destroy(&e->com1);
	reset_control_destroy(&e->reset);
	stop_io_thread(e);
	pci_bus_destroy(&e->pci);
	destroy_virtio_devices(e);
	if (e->ahci_created)
		ahci_destroy(&e->ahci);
	if (e->vga_created)
		vga_destroy(&e->vga);
	direct_intx_destroy(&e->intx);
}

/* What the ACPI tables of either boot path say about this machine's CPUs,
 * PM block and reset register; the DSDT is the boot path's. */
static struct acpi_config acpi_config_of(const struct engine *e)
{
	return (struct acpi_config){
		.ncpus = e->def->cpus, .ioapic_id = (uint8_t)e->def->cpus, .pm_base = ACPI_PM_BASE,
		.sci_irq = ACPI_PM_SCI_IRQ, .reset_port = RESET_CONTROL_PORT,
		.reset_value = RESET_CONTROL_RESET_VALUE,
	};
}

/* Firmware boot: ROM, PAM, PIIX3/PIIX4 PM, fw_cfg with ACPI tables, debug ports. */
static int add_firmware_board(struct engine *e, char **error)
{
	struct firmware_board_parts parts = {
		.vm = &e->vm, .pci = &e->pci, .host_bridge = &e->host_bridge, .pm = &e->pm, .rtc = &e->rtc,
		.log = e->backends->firmware_log_fd >= 0 ? &e->backends->firmware_log : NULL,
		.cpus = e->def->cpus, .std_vga = e->vga_created, .acpi = acpi_config_of(e),
		.ide_drives = e->backends->ide,
		.boot_menu = e->def->boot_menu, .boot_menu_wait = e->def->boot_menu_wait,
	};
	e->board_created = true;  /* destroy copes with a partial board */
	if (firmware_board_init(&e->board, &parts, error) < 0)
		return -1;
	for (unsigned at = 0; at < PIIX_IDE_DRIVES; at++) {
		const struct piix_ide_drive_config *drive = &e->backends->ide[at];
		if (drive->present)
			firmware_board_add_drive(&e->board, e->backends->ide_place[at],
						 drive->kind == ATA_DRIVE_CDROM ? MACHINE_MEDIA_CDROM : MACHINE_MEDIA_DISK,
						 firmware_path_ide(at));
	}
	return 0;
}

static int load_kernel(struct engine *e, struct boot_entry *entry, char **error)
{
	const struct vireo_machine *def = e->def;
	struct e820_table e820;
	struct boot_request req = { .kernel = { .fd = -1 }, .initrd = { .fd = -1 }, .cmdline = def->cmdline,
				    .e820 = &e820 };
	int ret = -1;

	e820_build(&e820, e->vm.low_ram_size, e->vm.ram_size - e->vm.low_ram_size);
	struct acpi_config acpi = acpi_config_of(e);
	acpi.dsdt = dsdt_direct_aml;
	acpi.dsdt_size = dsdt_direct_aml_size;
	req.rsdp_addr = acpi_build(&e->vm.mem, &acpi);
	if (!req.rsdp_addr || !mptable_build(&e->vm.mem, def->cpus, (uint8_t)def->cpus, ACPI_PM_SCI_IRQ)) {
		*error = g_strdup("guest RAM too small for ACPI and MP tables");
		return -1;
	}
	if (open_image(&req.kernel, "kernel", def->kernel, error) &&
	    (!def->initrd || open_image(&req.initrd, "initrd", def->initrd, error)))
		ret = boot_load(&e->vm.mem, &req, entry, error);
	close_image(&req.kernel);
	close_image(&req.initrd);
	return ret;
}

static int create_vcpus(struct engine *e, char **error)
{
	unsigned ncpus = e->def->cpus;
	int max = ioctl(e->vm.kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
	if (max <= 0)
		max = ioctl(e->vm.kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS);
	if (max > 0 && ncpus > (unsigned)max) {
		*error = g_strdup_printf("cpus %u: this host's KVM allows at most %d vCPUs", ncpus, max);
		return -1;
	}
	e->cpuid = cpuid_model_create(e->vm.kvm_fd, e->def->cpu, error);
	if (!e->cpuid)
		return -1;
	e->vcpus = g_new0(struct vcpu, ncpus);
	for (unsigned i = 0; i < ncpus; i++, e->vcpus_created++)
		if (vcpu_create(&e->vcpus[i], &e->vm, i, e->cpuid, ncpus, error) < 0)
			return -1;
	return 0;
}

/* entry NULL: vCPU 0 starts at the reset vector, as KVM creates it. */
static int start_vcpus(struct engine *e, const struct boot_entry *entry, char **error)
{
	if (entry && vcpu_set_boot_entry(&e->vcpus[0], entry, error) < 0)
		return -1;
	for (unsigned i = 0; i < e->vcpus_created; i++)
		if (vcpu_start(&e->vcpus[i], error) < 0)
			return -1;
	return 0;
}

static void stop_vcpus(struct engine *e)
{
	vm_request_stop(&e->vm, VM_STOP_REQUESTED); /* no-op when already stopping */
	for (unsigned i = 0; i < e->vcpus_created; i++)
		vcpu_join_and_destroy(&e->vcpus[i]);
	g_free(e->vcpus);
	g_free(e->cpuid);
}

/* What the control interface does to this run. */
static void control_pause(void *opaque)
{
	struct engine *e = opaque;
	vcpus_pause(e->vcpus, e->vcpus_created);
}

static void control_resume(void *opaque)
{
	struct engine *e = opaque;
	vcpus_resume(&e->vm);
}

static void control_stop(void *opaque, enum vm_stop_reason reason)
{
	struct engine *e = opaque;
	vm_request_stop(&e->vm, reason);
}

static bool control_power_button(void *opaque)
{
	struct engine *e = opaque;
	return acpi_pm_press_power_button(&e->pm);
}

/* The place of cdromN (N from 1), counted as --boot-order counts CD-ROM
 * drives (machine_cdrom_drives). *count says how many the machine has;
 * NO_PLACE when N is past them. */
static unsigned cdrom_place(const struct engine *e, unsigned number, unsigned *count)
{
	struct machine_cdrom_drive drives[MACHINE_MAX_CDROM_DRIVES];
	*count = machine_cdrom_drives(e->def, drives);
	unsigned place = number <= *count ? drives[number - 1].disk : NO_PLACE;
	machine_cdrom_drives_clear(drives, *count);
	return place;
}

/* The place of the CD-ROM drive `name` names: "" the --cdrom drive (the one
 * the control interface had before drives were named), or else the first;
 * "cdromN" the N-th. false with *error set to one line. */
static bool find_cdrom(const struct engine *e, const char *name, unsigned *place, char **error)
{
	unsigned number = 1, count;
	GError *bad = NULL;
	if (*name && !machine_parse_cdrom_name(name, &number, &bad)) {
		*error = g_strdup(bad->message);
		g_error_free(bad);
		return false;
	}
	*place = !*name && e->def->cdrom ? ENGINE_CDROM_PLACE : cdrom_place(e, number, &count);
	if (*place != NO_PLACE)
		return true;
	if (!count)
		*error = g_strdup("this machine has no CD-ROM drive (give it one with --cdrom FILE or "
				  "--disk FILE,bus=ide|sata,media=cdrom)");
	else
		*error = g_strdup_printf("this machine has no %s (it has %u CD-ROM drive%s)", name, count,
					 count == 1 ? "" : "s");
	return false;
}

/* Puts `disc` in the drive at `place`, on the controller it hangs off, and
 * has later runs attach it; returns the disc the drive let go of. */
static struct block_backend *swap_disc(struct engine *e, unsigned place, struct block_backend *disc)
{
	struct engine_backends *b = e->backends;
	for (unsigned at = 0; at < PIIX_IDE_DRIVES; at++) {
		if (b->ide[at].present && b->ide_place[at] == place) {
			b->ide[at].medium = disc;
			return piix_ide_change_medium(&e->board.ide, at, disc);
		}
	}
	return ahci_change_medium(&e->ahci, sata_port_of(b, place), disc);
}

/* Closes a disc no drive holds: a --disk image is closed where the
 * backends keep it, a changed-in one freed too. */
static void release_disc(struct engine_backends *b, struct block_backend *disc)
{
	for (unsigned i = 0; i < b->disk_count; i++) {
		if (disc == &b->disks[i]) {
			block_close(disc);
			return;
		}
	}
	close_disc(disc);
}

/* A CD-ROM drive gets another disc or none; the old one is closed once the
 * drive has let go of it. The backends keep the new one for reboots. */
static bool control_change_media(void *opaque, const char *drive, const char *path, char **error)
{
	struct engine *e = opaque;
	struct engine_backends *b = e->backends;
	struct block_backend *disc = NULL;
	unsigned place;
	if (!find_cdrom(e, drive, &place, error) || (path && !(disc = open_disc(path, error))))
		return false;
	release_disc(b, swap_disc(e, place, disc));
	if (place == ENGINE_CDROM_PLACE)
		b->cdrom = disc;
	else
		b->media[place] = disc;
	return true;
}

static const struct engine_control_ops control_ops = {
	control_pause, control_resume, control_stop, control_power_button, control_change_media,
};

enum vm_stop_reason engine_run(const struct vireo_machine *def, struct engine_backends *backends,
			       GMainContext *context, char **error)
{
	struct engine *e = g_new0(struct engine, 1);
	struct boot_entry entry;
	enum vm_stop_reason reason = VM_STOP_ERROR;
	bool devices = false;

	e->def = def;
	e->firmware = firmware_board_wanted(def);
	e->context = context;
	e->backends = backends;
	if (vm_create(&e->vm, def->memory, error) < 0)
		goto out;
	e->vm.on_stop = on_vm_stop;
	e->vm.on_stop_opaque = e;
	if (init_devices(e, &backends->serial, context, error) < 0)
		goto out_vm;
	devices = true;
	start_io_thread(e);
	if ((e->firmware && add_firmware_board(e, error) < 0) || add_virtio_devices(e, error) < 0 ||
	    add_sata(e, error) < 0 || assign_bars(e, error) < 0 ||
	    (e->firmware && firmware_board_write_boot_order(&e->board, def->boot_order, error) < 0) ||
	    (!e->firmware && load_kernel(e, &entry, error) < 0) || create_vcpus(e, error) < 0 ||
	    start_vcpus(e, e->firmware ? NULL : &entry, error) < 0)
		goto out_vcpus;

	watch_terminate_signals(e, context);
	if (backends->control)
		engine_control_attach(backends->control, &control_ops, e);
	backends->run = e;
	while (atomic_load(&e->vm.stop_reason) == VM_RUNNING)
		g_main_context_iteration(context, TRUE);
	backends->run = NULL;
	if (backends->control)
		engine_control_attach(backends->control, NULL, NULL);
	unwatch_terminate_signals(e);
	reason = (enum vm_stop_reason)atomic_load(&e->vm.stop_reason);
out_vcpus:
	stop_vcpus(e);
	if (devices)
		destroy_devices(e);
out_vm:
	vm_destroy(&e->vm);
out:
	g_free(e);
	return reason;
}
