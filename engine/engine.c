/* The PC a machine runs on: RAM, vCPUs, in-kernel irqchip and PIT, COM1,
 * i8042, RTC, PCI host bridge, ACPI PM block and reset ports, virtio disks
 * and rng, an AHCI controller for SATA drives, booted directly into a Linux
 * kernel (or our test guests) with e820, MP and ACPI tables, or through
 * firmware on the firmware board (which also carries the IDE disks and the
 * CD-ROM). */
#include "engine.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <glib-unix.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "boot/acpi.h"
#include "core/pc_map.h"
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
#include "backend/io_thread.h"
#include "backend/net_slirp.h"
#include "backend/net_tap.h"
#include "hw/atapi.h"
#include "hw/virtio_blk.h"
#include "hw/virtio_net.h"
#include "hw/virtio_gpu.h"
#include "hw/virtio_rng.h"
#include "kvm/assist_host.h"
#include "kvm/coalesced_mmio.h"
#include "kvm/cpuid.h"
#include "kvm/vcpu.h"
#include "board/msi_router.h"
#include "board/vga_host.h"
#include "board/virtio_host.h"
#include "keymap.h"


/* PCI devices sit where the plan puts them (plan.h). With no firmware, the
 * engine places their BARs in the PCI hole. INTx (used only while MSI-X or
 * MSI is off) goes to IOAPIC pins 16-23 (hw/direct_intx.h) or through the PIIX3. */

struct engine {
	const struct machine_plan *plan;
	const struct vireo_machine *def;  /* the plan's */
	GMainContext *context;
	struct vm vm;
	struct kvm_cpuid2 *cpuid;
	struct vcpu *vcpus;
	unsigned vcpus_created;
	struct device_list devices;     /* every device, in the order created */
	struct pci_bus pci;
	struct i440fx host_bridge;
	struct uart com1;
	struct i8042 kbc;
	struct rtc rtc;
	struct acpi_pm pm;
	struct reset_control reset;
	struct vga vga;
	GSource *signal_sources[3];
	struct engine_backends *backends;
	/* Virtio queues are served here, never on a vCPU thread; each virtio
	 * disk has a thread of its own. */
	struct io_thread io;
	struct io_thread disk_io[MACHINE_MAX_DISKS];
	struct virtio_blk disks[MACHINE_MAX_DISKS];
	struct virtio_rng rng;
	struct virtio_gpu gpu;
	struct net_backend *net_backend;
	struct virtio_net net;
	struct virtio_host virtio_hosts[MACHINE_MAX_DISKS + 3];  /* disks, rng, net, gpu */
	struct ahci ahci;
	struct msi_router ahci_msi;
	struct direct_intx intx;        /* direct boot's PCI interrupt lines */
	bool firmware;                  /* booting SeaBIOS rather than a kernel */
	bool power_button_pressed;      /* by closing the window: a second close stops the machine */
	struct firmware_board board;
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

static bool check_kernel(const struct vireo_machine *def, char **error)
{
	return check_file("kernel", def->kernel, error) && (!def->initrd || check_file("initrd", def->initrd, error));
}

/* A kernel boots directly; without one (or with --firmware) the firmware does. */
bool engine_check_inputs(const struct machine_plan *plan, char **error)
{
	const struct vireo_machine *def = plan->def;
	return def->kernel && !def->firmware ? check_kernel(def, error) : firmware_board_check(def, error);
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

/* A device just created (err 0) joins the machine's list; returns err. */
static int added(struct engine *e, int err, const struct device_ops *ops, void *state, const char *id)
{
	if (err == 0)
		device_list_add(&e->devices, ops, state, id);
	return err;
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
	    (err = added(e, vga_init(&e->vga, &e->vm.pio, &e->vm.mmio, VGA_VRAM_DEFAULT, &vga_host_kvm_ops, &e->vm,
				     &e->backends->console), &vga_device_ops, &e->vga, "vga")) < 0) {
		*error = g_strdup_printf("cannot set up the VGA: %s", g_strerror(-err));
		return -1;
	}
	/* Text and planar drawing is many small window writes: queue them. */
	coalesced_mmio_add_zone(&e->vm, PC_VGA_WINDOW_BASE, PC_VGA_WINDOW_END - PC_VGA_WINDOW_BASE);
	if ((err = pci_bus_add(&e->pci, &e->vga.pci, PLAN_DISPLAY_SLOT, 0)) < 0) {
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
	if ((what = "PCI bus", err = added(e, pci_bus_init(&e->pci, pio, &e->vm.mmio), &pci_bus_device_ops, &e->pci,
					    "pci")) < 0 ||
	    (what = "i440FX host bridge", err = added(e, i440fx_init(&e->host_bridge, &e->pci), &i440fx_device_ops,
						      &e->host_bridge, "i440fx")) < 0 ||
	    (what = "reset control", err = added(e, reset_control_init(&e->reset, pio, &e->pci, request_reset, e),
						 &reset_control_device_ops, &e->reset, "reset-control")) < 0 ||
	    (what = "COM1", err = added(e, uart_init(&e->com1, pio, PC_COM1_PORT, gsi_line(e, PC_IRQ_COM1), serial),
					&uart_device_ops, &e->com1, "com1")) < 0 ||
	    (what = "i8042", err = added(e, i8042_init(&e->kbc, pio, gsi_line(e, PC_IRQ_KEYBOARD),
						       gsi_line(e, PC_IRQ_MOUSE), request_reset, e),
					 &i8042_device_ops, &e->kbc, "i8042")) < 0 ||
	    (what = "RTC", err = added(e, rtc_init(&e->rtc, pio, gsi_line(e, PC_IRQ_RTC), context), &rtc_device_ops,
				       &e->rtc, "rtc")) < 0 ||
	    (what = "ACPI PM", err = added(e, acpi_pm_init(&e->pm, pio, e->firmware ? 0 : ACPI_PM_BASE,
							   gsi_line(e, PC_IRQ_SCI), request_power_off, e),
					   &acpi_pm_device_ops, &e->pm, "acpi-pm")) < 0) {
		*error = g_strdup_printf("cannot set up %s: %s", what, g_strerror(-err));
		return -1;
	}
	fill_cmos(e);
	console_set_input(&e->backends->console, &ps2_input, &e->kbc);
	return e->plan->gpu == PLAN_GPU_STD ? add_vga(e, error) : 0;
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

static struct vnc_server *start_vnc(const struct machine_display *display, struct console *con, char **error)
{
	if (display->vnc_unix)
		return vnc_server_start_unix(con, display->vnc_unix, display->password, error);
	return vnc_server_start(con, display->vnc_addr, display->vnc_port, display->vnc_port_last, display->password,
				error);
}

static int start_display(const struct machine_plan *plan, struct engine_backends *b, char **error)
{
	const struct machine_display *display = &plan->display;
	if (display->vnc)
		b->vnc = start_vnc(display, &b->console, error);
	g_autofree char *where = b->vnc ? vnc_server_where(b->vnc) : NULL;
	if (b->vnc && !display->vnc_unix && display->vnc_port != display->vnc_port_last)
		g_printerr("vireo-engine: VNC on %s\n", where);
	if (b->vnc && machine_display_open_to_others(display))
		g_printerr("vireo-engine: warning: VNC on %s without a password (insecure): anyone who can reach "
			   "it sees and controls this machine\n", where);
	if (display->sdl)
		b->sdl = sdl_window_start(&b->console, plan->def->name, close_window, b, error);
	return (display->vnc && !b->vnc) || (display->sdl && !b->sdl) ? -1 : 0;
}

/* --firmware-log: the debug console's bytes, appended across guest reboots,
 * up to a file's limit. */
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
	chardev_limit_output(&b->firmware_log, CHARDEV_FILE_LIMIT);
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

/* An IDE drive at the position the plan gives it, holding `medium`. */
static void set_ide_drive(struct engine_backends *b, const struct plan_drive *drive, struct block_backend *medium)
{
	b->ide[drive->at] = (struct piix_ide_drive_config){
		.present = true, .medium = medium, .serial = drive->spec.serial,
		.kind = drive->spec.media == MACHINE_MEDIA_CDROM ? ATA_DRIVE_CDROM : ATA_DRIVE_DISK,
	};
}

/* Opens a --disk's image, locked (media[i] = disks[i]), a CD-ROM's checked;
 * an empty CD-ROM drive opens nothing and holds nothing (media[i] NULL). */
static bool open_disk_image(struct engine_backends *b, const struct plan_drive *drive, unsigned i, char **error)
{
	if (machine_disk_is_empty(&drive->spec)) {
		b->disks[i].fd = -1;  /* closed with the rest: nothing to close */
		b->disk_count++;
		return true;
	}
	if (block_open(&b->disks[i], drive->spec.path, drive->spec.read_only, error) < 0)
		return false;
	b->disk_count++;  /* open: closed with the rest */
	b->media[i] = &b->disks[i];
	return drive->spec.media != MACHINE_MEDIA_CDROM || atapi_check_image(b->media[i], error);
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

/* --cdrom FILE: an ISO in its ATAPI drive (--cdrom empty: the drive with
 * no disc). */
static bool open_cdrom(struct engine_backends *b, const struct plan_drive *drive, char **error)
{
	char *why = NULL;
	if (!machine_disk_is_empty(&drive->spec) && !(b->cdrom = open_disc(drive->spec.path, &why))) {
		*error = g_strdup_printf("--cdrom: %s", why);
		g_free(why);
		return false;
	}
	set_ide_drive(b, drive, b->cdrom);
	return true;
}

/* Every drive's image or disc, opened where the plan puts it; the --disk
 * drives come first, so drive i is --disk i. */
static int open_drives(const struct machine_plan *plan, struct engine_backends *b, char **error)
{
	for (unsigned i = 0; i < plan->drive_count; i++) {
		const struct plan_drive *drive = &plan->drives[i];
		if (drive->place == PLAN_CDROM_PLACE) {
			if (!open_cdrom(b, drive, error))
				return -1;
			continue;
		}
		if (!open_disk_image(b, drive, i, error))
			return -1;
		if (drive->spec.bus == MACHINE_BUS_IDE)
			set_ide_drive(b, drive, b->media[i]);
	}
	return 0;
}

int engine_open_backends(const struct machine_plan *plan, struct engine_backends *b, GMainContext *context,
			 char **error)
{
	const struct vireo_machine *def = plan->def;
	memset(b, 0, sizeof(*b));
	b->context = context;
	if (open_firmware_log(def, b, context, error) < 0)
		return -1;
	if (chardev_open(&b->serial, def->serial, context, error) < 0) {
		close_firmware_log(b);
		return -1;
	}
	console_init(&b->console);
	if (start_display(plan, b, error) < 0) {
		engine_close_backends(b);
		return -1;
	}
	if (open_drives(plan, b, error) < 0) {
		engine_close_backends(b);
		return -1;
	}
	return 0;
}

char *engine_display_description(const struct engine_backends *b)
{
	if (b->vnc) {
		g_autofree char *where = vnc_server_where(b->vnc);
		return g_strconcat("vnc:", where, NULL);
	}
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

static void stop_io_threads(struct engine *e)
{
	io_thread_stop(&e->io);
	for (unsigned i = 0; i < MACHINE_MAX_DISKS; i++)
		io_thread_stop(&e->disk_io[i]);
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
static int add_network(struct engine *e, char **error)
{
	const struct machine_net *config = &e->plan->net;
	unsigned slot = e->plan->net_slot;
	int err;
	if (slot == PLAN_NO_SLOT)
		return 0;
	e->net_backend = config->kind == MACHINE_NET_TAP ? net_tap_new(config->ifname, e->io.context, error)
							 : net_slirp_new(config, e->io.context, error);
	struct virtio_host *host = &e->virtio_hosts[MACHINE_MAX_DISKS + 1];
	virtio_host_init(host, &e->vm);
	err = !e->net_backend ? -1
	    : added(e, virtio_net_init(&e->net, e->net_backend, config->mac, e->io.context, &e->vm.mem,
				       slot_intx(e, slot), &virtio_host_kvm_ops, host),
		    &virtio_net_device_ops, &e->net, "virtio-net");
	if (err == 0)
		err = pci_bus_add(&e->pci, &e->net.vp.pci, slot, 0);
	if (err < -1)
		*error = g_strdup_printf("cannot set up the network card: %s", g_strerror(-err));
	return err < 0 ? -1 : 0;
}

/* --gpu virtio: a virtio-gpu where the VGA would be. */
static int add_virtio_gpu(struct engine *e)
{
	struct virtio_host *host = &e->virtio_hosts[MACHINE_MAX_DISKS + 2];
	virtio_host_init(host, &e->vm);
	int err = added(e, virtio_gpu_init(&e->gpu, &e->backends->console, e->io.context, &e->vm.mem,
					   slot_intx(e, PLAN_DISPLAY_SLOT), &virtio_host_kvm_ops, host),
			&virtio_gpu_device_ops, &e->gpu, "virtio-gpu");
	return err ? err : pci_bus_add(&e->pci, &e->gpu.vp.pci, PLAN_DISPLAY_SLOT, 0);
}

/* The n-th virtio disk. */
static int add_virtio_blk(struct engine *e, unsigned n, const struct plan_drive *drive, struct block_backend *image)
{
	struct virtio_host *host = &e->virtio_hosts[n];
	virtio_host_init(host, &e->vm);
	io_thread_start(&e->disk_io[n], "vireo-disk");
	int err = added(e, virtio_blk_init(&e->disks[n], image, drive->spec.serial, drive->spec.queues,
					   e->disk_io[n].context, &e->vm.mem, slot_intx(e, drive->at), &virtio_host_kvm_ops, host),
			&virtio_blk_device_ops, &e->disks[n], "virtio-blk");
	return err ? err : pci_bus_add(&e->pci, &e->disks[n].vp.pci, drive->at, 0);
}

static int add_virtio_rng(struct engine *e, unsigned slot)
{
	struct virtio_host *host = &e->virtio_hosts[MACHINE_MAX_DISKS];
	virtio_host_init(host, &e->vm);
	int err = added(e, virtio_rng_init(&e->rng, e->io.context, &e->vm.mem, slot_intx(e, slot), &virtio_host_kvm_ops,
					   host), &virtio_rng_device_ops, &e->rng, "virtio-rng");
	return err ? err : pci_bus_add(&e->pci, &e->rng.vp.pci, slot, 0);
}

static int add_virtio_devices(struct engine *e, char **error)
{
	const struct machine_plan *plan = e->plan;
	unsigned disks = 0;
	int err = plan->gpu == PLAN_GPU_VIRTIO ? add_virtio_gpu(e) : 0;
	for (unsigned i = 0; i < plan->drive_count && !err; i++)
		if (plan->drives[i].spec.bus == MACHINE_BUS_VIRTIO)
			err = add_virtio_blk(e, disks++, &plan->drives[i], &e->backends->disks[i]);
	if (!err && plan->rng_slot != PLAN_NO_SLOT)
		err = add_virtio_rng(e, plan->rng_slot);
	if (!err && add_network(e, error) < 0)
		return -1;
	if (err < 0)
		*error = g_strdup_printf("cannot set up virtio devices: %s", g_strerror(-err));
	return err < 0 ? -1 : 0;
}

/* The AHCI controller, when the plan puts drives on SATA, with each on
 * its port. */
static int add_sata(struct engine *e, char **error)
{
	const struct machine_plan *plan = e->plan;
	int err = 0;
	if (!plan->ahci)
		return 0;
	msi_router_init(&e->ahci_msi, &e->vm);
	if ((err = added(e, ahci_init(&e->ahci, &e->vm.mem, slot_intx(e, PLAN_AHCI_SLOT), &msi_router_ops,
				      &e->ahci_msi), &ahci_device_ops, &e->ahci, "ahci")) == 0)
		err = pci_bus_add(&e->pci, &e->ahci.pci, PLAN_AHCI_SLOT, 0);
	for (unsigned i = 0; i < plan->drive_count && !err; i++) {
		const struct plan_drive *drive = &plan->drives[i];
		if (drive->spec.bus == MACHINE_BUS_SATA)
			err = ahci_attach(&e->ahci, drive->at, e->backends->media[i],
					  drive->spec.media == MACHINE_MEDIA_CDROM, drive->spec.serial);
	}
	if (err < 0)
		*error = g_strdup_printf("cannot set up the SATA controller: %s", g_strerror(-err));
	return err < 0 ? -1 : 0;
}

/* Direct boot: the engine does what firmware would, BARs in the PCI hole. */
static int assign_bars(struct engine *e, char **error)
{
	int err = e->firmware ? 0 : pci_bus_assign_bars(&e->pci, PC_PCI_MMIO_BASE, PC_IOAPIC_BASE, PC_PCI_IO_BASE);
	if (err < 0)
		*error = g_strdup_printf("cannot place PCI devices: %s", g_strerror(-err));
	return err < 0 ? -1 : 0;
}

/* No input reaches the devices and no queue is served any more; then the
 * devices go, last created first, then what they used. */
static void destroy_devices(struct engine *e)
{
	console_set_input(&e->backends->console, NULL, NULL);
	stop_io_threads(e);
	device_list_teardown(&e->devices);
	if (e->firmware)
		firmware_board_destroy(&e->board);
	if (e->net_backend)
		e->net_backend->destroy(e->net_backend);
	io_thread_release(&e->io);
	for (unsigned i = 0; i < MACHINE_MAX_DISKS; i++)
		io_thread_release(&e->disk_io[i]);
	direct_intx_destroy(&e->intx);
}

/* What the ACPI tables of either boot path say about this machine's CPUs,
 * PM block and reset register; the DSDT is the boot path's. */
static struct acpi_config acpi_config_of(const struct engine *e)
{
	return (struct acpi_config){
		.ncpus = e->def->cpus, .ioapic_id = (uint8_t)e->def->cpus, .pm_base = ACPI_PM_BASE,
		.sci_irq = PC_IRQ_SCI, .reset_port = RESET_CONTROL_PORT,
		.reset_value = RESET_CONTROL_RESET_VALUE,
	};
}

/* Firmware boot: ROM, PAM, PIIX3/PIIX4 PM, fw_cfg with ACPI tables, debug ports. */
static int add_firmware_board(struct engine *e, char **error)
{
	struct firmware_board_parts parts = {
		.vm = &e->vm, .pci = &e->pci, .host_bridge = &e->host_bridge, .pm = &e->pm, .rtc = &e->rtc,
		.log = e->backends->firmware_log_fd >= 0 ? &e->backends->firmware_log : NULL,
		.cpus = e->def->cpus, .std_vga = e->plan->gpu == PLAN_GPU_STD, .acpi = acpi_config_of(e),
		.ide_drives = e->backends->ide,
		.boot_menu = e->def->boot_menu, .boot_menu_wait = e->def->boot_menu_wait,
		.devices = &e->devices,
	};
	return firmware_board_init(&e->board, &parts, error);
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
	if (!req.rsdp_addr || !mptable_build(&e->vm.mem, def->cpus, (uint8_t)def->cpus, PC_IRQ_SCI)) {
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

/* Direct boot: what the firmware would have set up, and the kernel, in
 * RAM; entry is where vCPU 0 starts. */
static int prepare_direct_boot(struct engine *e, struct boot_entry *entry, char **error)
{
	return assign_bars(e, error) < 0 || load_kernel(e, entry, error) < 0 ? -1 : 0;
}

/* A PC's reset line, without a new VM: the vCPUs start over from their
 * reset state, the interrupt controllers and every device are reset, RAM
 * keeps what it has (a warm reset). Firmware starts again at the reset
 * vector (PAM shows the ROM again); a directly booted kernel is loaded
 * again, as a bootloader would. Returns 0, or -1 with *error set. */
static int reset_machine(struct engine *e, char **error)
{
	struct boot_entry entry;
	for (unsigned i = 0; i < e->vcpus_created; i++)
		vcpu_join(&e->vcpus[i]);
	coalesced_mmio_flush(&e->vm);  /* writes the guest made before the reset */
	if (vm_reset(&e->vm, error) < 0)
		return -1;
	device_list_reset(&e->devices);
	if (!e->firmware && prepare_direct_boot(e, &entry, error) < 0)
		return -1;
	for (unsigned i = 0; i < e->vcpus_created; i++)
		if (vcpu_reset(&e->vcpus[i], error) < 0)
			return -1;
	return start_vcpus(e, e->firmware ? NULL : &entry, error);
}

static void stop_vcpus(struct engine *e)
{
	vm_request_stop(&e->vm, VM_STOP_REQUESTED); /* no-op when already stopping */
	for (unsigned i = 0; i < e->vcpus_created; i++)
		vcpu_join_and_destroy(&e->vcpus[i]);
	assist_host_print_counts(e->vcpus, e->vcpus_created);
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

/* The CD-ROM drive `name` names: "" the --cdrom drive (the one the control
 * interface had before drives were named), or else the first; "cdromN"
 * the N-th, counted as --boot-order counts CD-ROM drives. NULL with *error
 * set to one line. */
static const struct plan_drive *find_cdrom(const struct engine *e, const char *name, char **error)
{
	const struct machine_plan *plan = e->plan;
	unsigned number = 1, count = plan->drives_of[MACHINE_MEDIA_CDROM];
	GError *bad = NULL;
	if (*name && !machine_parse_cdrom_name(name, &number, &bad)) {
		*error = g_strdup(bad->message);
		g_error_free(bad);
		return NULL;
	}
	if (!*name && e->def->cdrom)
		number = count;  /* --cdrom's drive comes after the --disk ones */
	const struct plan_drive *drive = machine_plan_cdrom(plan, number);
	if (drive)
		return drive;
	if (!count)
		*error = g_strdup("this machine has no CD-ROM drive (give it one with --cdrom FILE or "
				  "--disk FILE,bus=ide|sata,media=cdrom)");
	else
		*error = g_strdup_printf("this machine has no %s (it has %u CD-ROM drive%s)", name, count,
					 count == 1 ? "" : "s");
	return NULL;
}

/* Puts `disc` in `drive`, on the controller it hangs off, and has later
 * runs attach it; returns the disc the drive let go of. */
static struct block_backend *swap_disc(struct engine *e, const struct plan_drive *drive, struct block_backend *disc)
{
	if (drive->spec.bus == MACHINE_BUS_IDE) {
		e->backends->ide[drive->at].medium = disc;
		return piix_ide_change_medium(&e->board.ide, drive->at, disc);
	}
	return ahci_change_medium(&e->ahci, drive->at, disc);
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
	const struct plan_drive *cdrom = find_cdrom(e, drive, error);
	if (!cdrom || (path && !(disc = open_disc(path, error))))
		return false;
	release_disc(b, swap_disc(e, cdrom, disc));
	if (cdrom->place == PLAN_CDROM_PLACE)
		b->cdrom = disc;
	else
		b->media[cdrom->place] = disc;
	return true;
}

static const struct engine_control_ops control_ops = {
	control_pause, control_resume, control_stop, control_power_button, control_change_media,
};

/* Serves the machine until it stops for good: a guest reset restarts it,
 * unless --no-reboot. */
static void run_until_stopped(struct engine *e, char **error)
{
	for (;;) {
		while (atomic_load(&e->vm.stop_reason) == VM_RUNNING)
			g_main_context_iteration(e->context, TRUE);
		if (atomic_load(&e->vm.stop_reason) != VM_STOP_RESET || e->def->no_reboot)
			return;
		if (reset_machine(e, error) < 0) {
			atomic_store(&e->vm.stop_reason, VM_RUNNING);  /* whichever step failed */
			vm_request_stop(&e->vm, VM_STOP_ERROR);
			return;
		}
		if (e->backends->control)  /* running again, even if it was paused */
			engine_control_attach(e->backends->control, &control_ops, e);
	}
}

enum vm_stop_reason engine_run(const struct machine_plan *plan, struct engine_backends *backends,
			       GMainContext *context, char **error)
{
	const struct vireo_machine *def = plan->def;
	struct engine *e = g_new0(struct engine, 1);
	struct boot_entry entry;
	enum vm_stop_reason reason = VM_STOP_ERROR;

	e->plan = plan;
	e->def = def;
	e->firmware = plan->firmware;
	e->context = context;
	e->backends = backends;
	if (vm_create(&e->vm, def->memory, error) < 0)
		goto out;
	e->vm.on_stop = on_vm_stop;
	e->vm.on_stop_opaque = e;
	if (init_devices(e, &backends->serial, context, error) < 0)
		goto out_vcpus;
	io_thread_start(&e->io, "vireo-io");
	if ((e->firmware && add_firmware_board(e, error) < 0) || add_virtio_devices(e, error) < 0 ||
	    add_sata(e, error) < 0 ||
	    (e->firmware && firmware_board_write_boot_order(&e->board, plan, error) < 0) ||
	    (!e->firmware && prepare_direct_boot(e, &entry, error) < 0) || create_vcpus(e, error) < 0 ||
	    start_vcpus(e, e->firmware ? NULL : &entry, error) < 0)
		goto out_vcpus;

	watch_terminate_signals(e, context);
	if (backends->control)
		engine_control_attach(backends->control, &control_ops, e);
	backends->run = e;
	run_until_stopped(e, error);
	backends->run = NULL;
	if (backends->control)
		engine_control_attach(backends->control, NULL, NULL);
	unwatch_terminate_signals(e);
	reason = (enum vm_stop_reason)atomic_load(&e->vm.stop_reason);
out_vcpus:
	stop_vcpus(e);
	destroy_devices(e);
	vm_destroy(&e->vm);
out:
	g_free(e);
	return reason;
}
