/* The machine definition: one settings table for flags and machine.ini. */
#include "machine.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <glib/gi18n-lib.h>

#define FIELD(name) offsetof(struct vireo_machine, name)

const char *const machine_gpu_choices[] = { "std", "virtio", "none", NULL };
const char *const machine_firmware_choices[] = { "bios", "uefi", NULL };

const struct machine_setting machine_settings[] = {
	{ "machine", "name", "name", SETTING_STRING, FIELD(name), "NAME",
	  "machine name, shown in window titles" },
	{ "machine", "memory", "memory", SETTING_SIZE, FIELD(memory), "SIZE",
	  "guest RAM, e.g. 512M or 4G; a plain number is MiB (default 512M)" },
	{ "machine", "cpus", "cpus", SETTING_CPUS, FIELD(cpus), "N",
	  "number of vCPUs (default 1)" },
	{ "machine", "cpu", "cpu", SETTING_STRING, FIELD(cpu), "MODEL[,-FEAT|+FEAT...]",
	  "CPU model: host (default), features hidden with -name, e.g. host,-cx16" },
	{ "machine", "no-reboot", "no-reboot", SETTING_BOOL, FIELD(no_reboot), NULL,
	  "end the engine (status 0) when the guest resets instead of rebooting" },
	{ "boot", "kernel", "kernel", SETTING_PATH, FIELD(kernel), "FILE",
	  "Linux kernel to boot directly: a bzImage or an ELF vmlinux with a PVH note" },
	{ "boot", "initrd", "initrd", SETTING_PATH, FIELD(initrd), "FILE",
	  "initial ramdisk for the kernel" },
	{ "boot", "cmdline", "append", SETTING_STRING, FIELD(cmdline), "CMDLINE",
	  "kernel command line" },
	{ "boot", "firmware", "firmware", SETTING_CHOICE, FIELD(firmware), "bios|uefi",
	  "firmware to boot: bios (SeaBIOS, the default when no kernel is given) or uefi",
	  machine_firmware_choices },
	{ "boot", "firmware-log", "firmware-log", SETTING_PATH, FIELD(firmware_log), "FILE",
	  "write the firmware's debug console (port 0x402) to FILE, up to 64 MiB (default: discarded)" },
	{ "boot", "menu", "boot-menu", SETTING_BOOL, FIELD(boot_menu), NULL,
	  "the firmware offers its boot menu: \"Press ESC for boot menu.\" (default off: no wait at boot)" },
	{ "boot", "menu-wait", "boot-menu-wait", SETTING_SECONDS, FIELD(boot_menu_wait), "SECONDS",
	  "how long the boot menu prompt waits for Esc (1-" G_STRINGIFY(MACHINE_MAX_BOOT_MENU_WAIT)
	  ", default 3)" },
	{ "boot", "order", "boot-order", SETTING_BOOT_ORDER, FIELD(boot_order), "DEVICE[,DEVICE...]",
	  "the firmware tries these first, in this order: disk (every hard disk), cdrom (every CD-ROM), "
	  "diskN or cdromN (the N-th, counted in the order given; --cdrom after the --disk ones); "
	  "default: hard disks, then CD-ROMs" },
	{ "devices", "serial", "serial", SETTING_SERIAL, FIELD(serial), "BACKEND",
	  "COM1 backend: stdio (default), none, file:PATH (up to 64 MiB) or unix:PATH" },
	{ "devices", "disks", "disk", SETTING_DISKS, FIELD(disks),
	  "FILE[,ro][,serial=ID][,queues=N][,bus=virtio|ide|sata][,media=disk|cdrom]",
	  "a disk on a raw image: virtio (default), IDE (firmware boot; primary master, slave, secondary "
	  "master, slave in order) or SATA (AHCI, ports 0-5 in order), a hard disk or a CD-ROM "
	  "(a CD-ROM's FILE " MACHINE_NO_DISC ": the drive with no disc; repeat for more; "
	  "machine.ini: disks=a.img;b.img,ro)" },
	{ "devices", "cdrom", "cdrom", SETTING_DISC, FIELD(cdrom), "FILE|" MACHINE_NO_DISC,
	  "an ISO image in the CD-ROM drive (IDE secondary master, as QEMU's -cdrom; firmware boot), "
	  "or " MACHINE_NO_DISC ": the drive with no disc" },
	{ "devices", "rng", "rng", SETTING_BOOL, FIELD(rng), NULL,
	  "a virtio-rng device fed from the host's getrandom()" },
	{ "devices", "net", "net", SETTING_NET, FIELD(net), "none|user[,OPTION...]|tap,ifname=NAME",
	  "virtio network: none (default), user networking (options mac=, tftp=DIR, bootfile=FILE, "
	  "hostfwd=tcp:127.0.0.1:2222-:22 (repeatable), host-loopback=on) or a host tap interface" },
	{ "display", "display", "display", SETTING_DISPLAY, FIELD(display),
	  "none|sdl|vnc[=ADDR|=ADDR:PORT|=unix:PATH][,password-file=F][,insecure]",
	  "the guest screen: none (default), a window on this desktop (sdl; Ctrl+Alt+G grabs input, "
	  "Ctrl+Alt+F full screen) or the built-in VNC server (on 127.0.0.1 unless another address is given, "
	  "which needs a password file, or insecure to serve anyone there without one; without a port, the "
	  "first free one from 5900; or on a UNIX socket only this user may open, vnc=unix:PATH)" },
	{ "display", "gpu", "gpu", SETTING_CHOICE, FIELD(gpu), "std|virtio|none",
	  "the display adapter: the standard VGA (default; legacy VGA and VBE modes, what firmware and "
	  "installers expect), virtio-gpu (the guest desktop follows the window or viewer size) or none",
	  machine_gpu_choices },
};
const size_t machine_settings_count = G_N_ELEMENTS(machine_settings);

void machine_init(struct vireo_machine *m)
{
	memset(m, 0, sizeof(*m));
	m->name = g_strdup("vireo");
	m->memory = 512ull << 20;
	m->cpus = 1;
	m->cpu = g_strdup("host");
	m->serial = g_strdup("stdio");
	m->net = g_strdup("none");
	m->display = g_strdup("none");
	m->gpu = g_strdup("std");
	m->boot_menu_wait = 3;
}

void machine_clear(struct vireo_machine *m)
{
	for (size_t i = 0; i < machine_settings_count; i++) {
		const struct machine_setting *s = &machine_settings[i];
		if (s->type == SETTING_STRING || s->type == SETTING_PATH || s->type == SETTING_DISC ||
		    s->type == SETTING_SERIAL || s->type == SETTING_NET || s->type == SETTING_DISPLAY ||
		    s->type == SETTING_CHOICE || s->type == SETTING_BOOT_ORDER)
			g_free(*(char **)((char *)m + s->offset));
		else if (s->type == SETTING_DISKS)
			g_strfreev(*(char ***)((char *)m + s->offset));
	}
	memset(m, 0, sizeof(*m));
}

static bool parse_size(const char *text, uint64_t *bytes)
{
	static const struct { const char *suffix; unsigned shift; } units[] = {
		{ "", 20 }, { "K", 10 }, { "KiB", 10 }, { "M", 20 }, { "MiB", 20 },
		{ "G", 30 }, { "GiB", 30 }, { "T", 40 }, { "TiB", 40 },
	};
	char *end;
	if (!g_ascii_isdigit(text[0]))
		return false;
	errno = 0;
	guint64 number = g_ascii_strtoull(text, &end, 10);
	if (errno)
		return false;
	for (size_t i = 0; i < G_N_ELEMENTS(units); i++) {
		if (g_ascii_strcasecmp(end, units[i].suffix))
			continue;
		if (number > (UINT64_MAX >> units[i].shift))
			return false;
		*bytes = number << units[i].shift;
		return true;
	}
	return false;
}

static bool parse_cpus(const char *text, unsigned *cpus)
{
	guint64 n;
	if (!g_ascii_string_to_unsigned(text, 10, 1, MACHINE_MAX_CPUS, &n, NULL))
		return false;
	*cpus = (unsigned)n;
	return true;
}

static bool parse_bool(const char *text, bool *value)
{
	if (!g_ascii_strcasecmp(text, "true") || !strcmp(text, "1") || !g_ascii_strcasecmp(text, "yes"))
		*value = true;
	else if (!g_ascii_strcasecmp(text, "false") || !strcmp(text, "0") || !g_ascii_strcasecmp(text, "no"))
		*value = false;
	else
		return false;
	return true;
}

static bool parse_seconds(const char *text, unsigned *seconds)
{
	guint64 n;
	if (!g_ascii_string_to_unsigned(text, 10, 1, MACHINE_MAX_BOOT_MENU_WAIT, &n, NULL))
		return false;
	*seconds = (unsigned)n;
	return true;
}

static bool serial_spec_valid(const char *spec)
{
	return !strcmp(spec, "stdio") || !strcmp(spec, "none") ||
	       (g_str_has_prefix(spec, "file:") && spec[5]) ||
	       (g_str_has_prefix(spec, "unix:") && spec[5]);
}

void machine_disk_clear(struct machine_disk *disk)
{
	g_free(disk->path);
	g_free(disk->serial);
	memset(disk, 0, sizeof(*disk));
}

static bool disk_option_error(GError **error, const char *option)
{
	g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
		    _("disk option '%s' is not valid: expected ro, serial=ID (up to 20 characters), "
		      "queues=N (1-%d), bus=virtio|ide|sata or media=disk|cdrom"), option, MACHINE_MAX_DISK_QUEUES);
	return false;
}

static bool disk_option(struct machine_disk *disk, const char *option, GError **error)
{
	guint64 n;
	if (!strcmp(option, "ro")) {
		disk->read_only = true;
	} else if (g_str_has_prefix(option, "serial=") && option[7] && strlen(option + 7) <= 20) {
		g_free(disk->serial);
		disk->serial = g_strdup(option + 7);
	} else if (g_str_has_prefix(option, "queues=") &&
		   g_ascii_string_to_unsigned(option + 7, 10, 1, MACHINE_MAX_DISK_QUEUES, &n, NULL)) {
		disk->queues = (unsigned)n;
	} else if (!strcmp(option, "bus=virtio")) {
		disk->bus = MACHINE_BUS_VIRTIO;
	} else if (!strcmp(option, "bus=ide")) {
		disk->bus = MACHINE_BUS_IDE;
	} else if (!strcmp(option, "bus=sata")) {
		disk->bus = MACHINE_BUS_SATA;
	} else if (!strcmp(option, "media=disk")) {
		disk->media = MACHINE_MEDIA_DISK;
	} else if (!strcmp(option, "media=cdrom")) {
		disk->media = MACHINE_MEDIA_CDROM;
	} else {
		return disk_option_error(error, option);
	}
	return true;
}

/* Options that are each fine alone but not together. */
static bool disk_options_agree(const char *spec, struct machine_disk *disk, GError **error)
{
	if (disk->media == MACHINE_MEDIA_CDROM && disk->bus == MACHINE_BUS_VIRTIO) {
		g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
			    _("disk '%s' is not valid: a CD-ROM needs bus=ide or bus=sata"), spec);
		return false;
	}
	if (disk->queues > 1 && disk->bus != MACHINE_BUS_VIRTIO) {
		g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
			    _("disk '%s' is not valid: queues= is for virtio disks only"), spec);
		return false;
	}
	if (disk->media == MACHINE_MEDIA_CDROM)
		disk->read_only = true;
	return true;
}

bool machine_parse_disk(const char *spec, struct machine_disk *disk, GError **error)
{
	g_auto(GStrv) parts = g_strsplit(spec, ",", -1);
	memset(disk, 0, sizeof(*disk));
	disk->queues = 1;
	if (!parts[0] || !*parts[0]) {
		g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
			    _("disk '%s' is not valid: expected FILE[,OPTION...]"), spec);
		return false;
	}
	disk->path = g_strdup(parts[0]);
	for (unsigned i = 1; parts[i]; i++) {
		if (!disk_option(disk, parts[i], error)) {
			machine_disk_clear(disk);
			return false;
		}
	}
	if (!disk_options_agree(spec, disk, error)) {
		machine_disk_clear(disk);
		return false;
	}
	return true;
}

bool machine_disk_is_empty(const struct machine_disk *disk)
{
	return disk->media == MACHINE_MEDIA_CDROM && !strcmp(disk->path, MACHINE_NO_DISC);
}

void machine_net_clear(struct machine_net *net)
{
	g_free(net->tftp);
	g_free(net->bootfile);
	g_free(net->ifname);
	memset(net, 0, sizeof(*net));
}

static bool net_error(GError **error, const char *part, const char *expected)
{
	g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
		    _("net option '%s' is not valid: expected %s"), part, expected);
	return false;
}

static bool parse_mac(const char *text, uint8_t mac[6])
{
	unsigned v[6];
	char end;
	if (sscanf(text, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &end) != 6 ||
	    strlen(text) != 17)
		return false;
	for (unsigned i = 0; i < 6; i++)
		mac[i] = (uint8_t)v[i];
	return !(mac[0] & 1);  /* a multicast address cannot be a NIC's */
}

static bool parse_ipv4(const char *text, size_t len, char out[16])
{
	unsigned a, b, c, d;
	char buf[16], end;
	if (len >= sizeof(buf))
		return false;
	memcpy(buf, text, len);
	buf[len] = 0;
	if (sscanf(buf, "%u.%u.%u.%u%c", &a, &b, &c, &d, &end) != 4 || a > 255 || b > 255 || c > 255 || d > 255)
		return false;
	memcpy(out, buf, len + 1);
	return true;
}

static bool parse_port(const char *text, size_t len, unsigned *port)
{
	char buf[8];
	guint64 n;
	if (len == 0 || len >= sizeof(buf))
		return false;
	memcpy(buf, text, len);
	buf[len] = 0;
	if (!g_ascii_string_to_unsigned(buf, 10, 1, 65535, &n, NULL))
		return false;
	*port = (unsigned)n;
	return true;
}

/* [ADDR]:PORT into addr (unchanged when empty) and port. */
static bool parse_endpoint(const char *text, size_t len, char addr[16], unsigned *port)
{
	const char *colon = memchr(text, ':', len);
	if (!colon)
		return false;
	size_t addr_len = (size_t)(colon - text);
	if (addr_len && !parse_ipv4(text, addr_len, addr))
		return false;
	return parse_port(colon + 1, len - addr_len - 1, port);
}

static bool parse_hostfwd(const char *text, struct machine_hostfwd *fwd)
{
	memset(fwd, 0, sizeof(*fwd));
	strcpy(fwd->host_addr, "127.0.0.1");
	if (g_str_has_prefix(text, "tcp:"))
		text += 4;
	else if (g_str_has_prefix(text, "udp:"))
		text += 4, fwd->udp = true;
	const char *dash = strchr(text, '-');
	return dash && parse_endpoint(text, (size_t)(dash - text), fwd->host_addr, &fwd->host_port) &&
	       parse_endpoint(dash + 1, strlen(dash + 1), fwd->guest_addr, &fwd->guest_port);
}

static bool net_option(struct machine_net *net, const char *option, GError **error)
{
	const char *value = strchr(option, '=');
	if (!value)
		return net_error(error, option, _("mac=, tftp=, bootfile=, hostfwd= or host-loopback=on"));
	value++;
	if (g_str_has_prefix(option, "mac="))
		return parse_mac(value, net->mac) || net_error(error, option, _("mac=52:54:00:12:34:56 (a unicast address)"));
	if (net->kind == MACHINE_NET_TAP) {
		if (!g_str_has_prefix(option, "ifname=") || !*value || strlen(value) >= 16)
			return net_error(error, option, _("ifname=NAME (up to 15 characters) or mac= for a tap"));
		g_free(net->ifname);
		net->ifname = g_strdup(value);
		return true;
	}
	if (g_str_has_prefix(option, "tftp=") && *value) {
		g_free(net->tftp);
		net->tftp = g_strdup(value);
		return true;
	}
	if (g_str_has_prefix(option, "bootfile=") && *value) {
		g_free(net->bootfile);
		net->bootfile = g_strdup(value);
		return true;
	}
	if (g_str_has_prefix(option, "host-loopback=") && (!strcmp(value, "on") || !strcmp(value, "off"))) {
		net->host_loopback = !strcmp(value, "on");
		return true;
	}
	if (g_str_has_prefix(option, "hostfwd=")) {
		if (net->hostfwd_count >= MACHINE_MAX_HOSTFWD) {
			g_autofree char *limit = g_strdup_printf(_("at most %d forwards"), MACHINE_MAX_HOSTFWD);
			return net_error(error, option, limit);
		}
		return parse_hostfwd(value, &net->hostfwd[net->hostfwd_count++]) ||
		       net_error(error, option, _("hostfwd=tcp:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT (or udp:)"));
	}
	return net_error(error, option, _("mac=, tftp=DIR, bootfile=FILE, hostfwd=... or host-loopback=on|off"));
}

bool machine_parse_net(const char *spec, struct machine_net *net, GError **error)
{
	static const uint8_t default_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
	g_auto(GStrv) parts = g_strsplit(spec, ",", -1);
	memset(net, 0, sizeof(*net));
	memcpy(net->mac, default_mac, sizeof(default_mac));
	if (!strcmp(spec, "none"))
		return true;
	if (!parts[0] || (strcmp(parts[0], "user") && strcmp(parts[0], "tap"))) {
		g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
			    _("net '%s' is not valid: expected none, user[,OPTION...] or tap,ifname=NAME"), spec);
		return false;
	}
	net->kind = strcmp(parts[0], "tap") ? MACHINE_NET_USER : MACHINE_NET_TAP;
	for (unsigned i = 1; parts[i]; i++) {
		if (!net_option(net, parts[i], error)) {
			machine_net_clear(net);
			return false;
		}
	}
	if (net->kind == MACHINE_NET_TAP && !net->ifname) {
		g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
			    _("net '%s' is not valid: a tap needs ifname=NAME"), spec);
		machine_net_clear(net);
		return false;
	}
	return true;
}

void machine_display_clear(struct machine_display *display)
{
	g_free(display->vnc_unix);
	g_free(display->password);
	memset(display, 0, sizeof(*display));
}

static bool display_error(GError **error, const char *part, const char *expected)
{
	g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
		    _("display '%s' is not valid: expected %s"), part, expected);
	return false;
}

static bool read_password(struct machine_display *display, const char *path, GError **error)
{
	g_autofree char *text = NULL;
	GError *io = NULL;
	if (!g_file_get_contents(path, &text, NULL, &io)) {
		g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE, _("display password-file: %s"),
			    io->message);
		g_error_free(io);
		return false;
	}
	text[strcspn(text, "\r\n")] = 0;
	if (!*text)
		return display_error(error, path, _("a password file whose first line is the password"));
	display->password = g_strdup(text);
	return true;
}

/* ADDR (the first free port from MACHINE_VNC_FIRST_PORT), [ADDR]:PORT or
 * unix:PATH. */
static bool parse_vnc_where(const char *where, struct machine_display *display)
{
	if (g_str_has_prefix(where, "unix:")) {
		if (!where[5])
			return false;
		display->vnc_unix = g_strdup(where + 5);
		return true;
	}
	if (!strchr(where, ':'))
		return parse_ipv4(where, strlen(where), display->vnc_addr);
	if (!parse_endpoint(where, strlen(where), display->vnc_addr, &display->vnc_port))
		return false;
	display->vnc_port_last = display->vnc_port;
	return true;
}

/* password-file=FILE or insecure. */
static bool vnc_option(struct machine_display *display, const char *option, GError **error)
{
	if (!strcmp(option, "insecure")) {
		display->insecure = true;
		return true;
	}
	if (g_str_has_prefix(option, "password-file=") && option[14])
		return read_password(display, option + 14, error);
	return display_error(error, option, _("password-file=FILE or insecure"));
}

bool machine_parse_display(const char *spec, struct machine_display *display, GError **error)
{
	g_auto(GStrv) parts = g_strsplit(spec, ",", -1);
	memset(display, 0, sizeof(*display));
	strcpy(display->vnc_addr, "127.0.0.1");
	display->vnc_port = MACHINE_VNC_FIRST_PORT;
	display->vnc_port_last = MACHINE_VNC_LAST_AUTO_PORT;
	if (!strcmp(spec, "none"))
		return true;
	if (!strcmp(spec, "sdl")) {
		display->sdl = true;
		return true;
	}
	if (!parts[0] || (strcmp(parts[0], "vnc") && !g_str_has_prefix(parts[0], "vnc=")))
		return display_error(error, spec,
				     _("none, sdl or vnc[=ADDR|=ADDR:PORT|=unix:PATH][,password-file=FILE][,insecure]"));
	display->vnc = true;
	if (parts[0][3] == '=' && !parse_vnc_where(parts[0] + 4, display))
		return display_error(error, parts[0],
				     _("vnc=ADDR, vnc=[ADDR]:PORT or vnc=unix:PATH, e.g. vnc=127.0.0.1:5901"));
	for (unsigned i = 1; parts[i]; i++) {
		if (!vnc_option(display, parts[i], error)) {
			machine_display_clear(display);
			return false;
		}
	}
	return true;
}

bool machine_display_on_loopback(const struct machine_display *display)
{
	struct in_addr addr;
	return display->vnc && !display->vnc_unix && inet_pton(AF_INET, display->vnc_addr, &addr) == 1 &&
	       ntohl(addr.s_addr) >> 24 == 127;
}

bool machine_display_open_to_others(const struct machine_display *display)
{
	return display->vnc && !display->vnc_unix && !display->password && !machine_display_on_loopback(display);
}

bool machine_display_check_open(const struct machine_display *display, GError **error)
{
	if (!machine_display_open_to_others(display) || display->insecure)
		return true;
	g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
		    _("display vnc=%s without a password: other computers could see and control the machine; "
		      "add ,password-file=FILE, listen on 127.0.0.1, or add ,insecure if that is what you want"),
		    display->vnc_addr);
	return false;
}

static bool boot_item_error(GError **error, const char *item, const char *problem)
{
	g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
		    _("boot order item '%s' is not valid: %s"), item, problem);
	return false;
}

/* disk, cdrom, diskN or cdromN. */
static bool parse_boot_item(const char *text, struct machine_boot_item *item, GError **error)
{
	static const struct { const char *name; enum machine_disk_media media; } kinds[] = {
		{ "disk", MACHINE_MEDIA_DISK }, { "cdrom", MACHINE_MEDIA_CDROM },
	};
	for (size_t i = 0; i < G_N_ELEMENTS(kinds); i++) {
		size_t len = strlen(kinds[i].name);
		guint64 n = 0;
		if (strncmp(text, kinds[i].name, len))
			continue;
		if (text[len] && !g_ascii_string_to_unsigned(text + len, 10, 1, MACHINE_MAX_DISKS + 1, &n, NULL))
			return boot_item_error(error, text, _("expected a drive number from 1 after disk or cdrom"));
		item->media = kinds[i].media;
		item->number = (unsigned)n;
		return true;
	}
	return boot_item_error(error, text, _("expected disk, cdrom, diskN or cdromN"));
}

bool machine_parse_boot_order(const char *spec, struct machine_boot_item *items, unsigned *count,
			      GError **error)
{
	*count = 0;
	if (!spec || !*spec)
		return true;
	g_auto(GStrv) parts = g_strsplit(spec, ",", -1);
	for (unsigned i = 0; parts[i]; i++) {
		if (*count >= MACHINE_MAX_BOOT_ITEMS)
			return boot_item_error(error, parts[i], _("too many items"));
		if (!parse_boot_item(parts[i], &items[(*count)++], error))
			return false;
	}
	return true;
}

bool machine_parse_cdrom_name(const char *name, unsigned *number, GError **error)
{
	struct machine_boot_item item;
	if (parse_boot_item(name, &item, NULL) && item.media == MACHINE_MEDIA_CDROM && item.number) {
		*number = item.number;
		return true;
	}
	g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
		    _("unknown drive '%s': expected cdromN (the N-th CD-ROM drive, as --boot-order counts them)"), name);
	return false;
}

unsigned machine_cdrom_drives(const struct vireo_machine *m, struct machine_cdrom_drive *drives)
{
	unsigned count = 0;
	for (unsigned i = 0; m->disks && m->disks[i]; i++) {
		struct machine_disk disk;
		if (!machine_parse_disk(m->disks[i], &disk, NULL))
			continue;  /* already refused when the setting was read */
		if (disk.media == MACHINE_MEDIA_CDROM)
			drives[count++] = (struct machine_cdrom_drive){
				i, disk.bus, machine_disk_is_empty(&disk) ? NULL : g_steal_pointer(&disk.path) };
		machine_disk_clear(&disk);
	}
	if (m->cdrom)
		drives[count++] = (struct machine_cdrom_drive){
			MACHINE_CDROM_SETTING_DRIVE, MACHINE_BUS_IDE,
			strcmp(m->cdrom, MACHINE_NO_DISC) ? g_strdup(m->cdrom) : NULL };
	return count;
}

void machine_cdrom_drives_clear(struct machine_cdrom_drive *drives, unsigned count)
{
	for (unsigned i = 0; i < count; i++)
		g_clear_pointer(&drives[i].path, g_free);
}

/* The disk spec with another PATH, its options kept. */
static char *spec_with_path(const char *spec, const char *path)
{
	return g_strconcat(path, strchr(spec, ','), NULL);  /* a CD-ROM's spec has media=cdrom */
}

bool machine_set_disc(struct vireo_machine *m, unsigned number, const char *path, GError **error)
{
	struct machine_cdrom_drive drives[MACHINE_MAX_CDROM_DRIVES];
	unsigned count = machine_cdrom_drives(m, drives);
	bool known = number >= 1 && number <= count;
	unsigned disk = known ? drives[number - 1].disk : 0;
	machine_cdrom_drives_clear(drives, count);
	const char *disc = path ? path : MACHINE_NO_DISC;
	if (!known) {
		g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
			    g_dngettext(GETTEXT_PACKAGE, "the machine has no cdrom%u (it has %u CD-ROM drive)",
					"the machine has no cdrom%u (it has %u CD-ROM drives)", count),
			    number, count);
		return false;
	}
	if (disk == MACHINE_CDROM_SETTING_DRIVE) {
		g_free(m->cdrom);
		m->cdrom = g_strdup(disc);
		return true;
	}
	if (strpbrk(disc, ",;")) {  /* they separate options and disks */
		g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
			    _("disk '%s' is not valid: a disk's file name cannot contain ',' or ';'"), disc);
		return false;
	}
	char *spec = spec_with_path(m->disks[disk], disc);
	g_free(m->disks[disk]);
	m->disks[disk] = spec;
	return true;
}

/* Checks each spec, makes relative paths relative to base_dir and appends. */
static bool add_disks(struct vireo_machine *m, const char *value, const char *base_dir, GError **error)
{
	g_auto(GStrv) specs = g_strsplit(value, ";", -1);
	GPtrArray *all = g_ptr_array_new();
	for (unsigned i = 0; m->disks && m->disks[i]; i++)
		g_ptr_array_add(all, g_strdup(m->disks[i]));
	bool ok = true;
	for (unsigned i = 0; ok && specs[i]; i++) {
		struct machine_disk disk;
		const char *spec = g_strstrip(specs[i]);
		if (!*spec && specs[i + 1] == NULL && i > 0)
			break;  /* a trailing ';' as GKeyFile lists have */
		ok = machine_parse_disk(spec, &disk, error);
		if (ok && all->len >= MACHINE_MAX_DISKS) {
			g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
				    _("too many disks: at most %d"), MACHINE_MAX_DISKS);
			ok = false;
		}
		if (ok)
			g_ptr_array_add(all, base_dir && !g_path_is_absolute(disk.path) && !machine_disk_is_empty(&disk)
					     ? g_strconcat(base_dir, G_DIR_SEPARATOR_S, spec, NULL) : g_strdup(spec));
		if (ok)
			machine_disk_clear(&disk);
	}
	g_ptr_array_add(all, NULL);
	char **result = (char **)g_ptr_array_free(all, FALSE);
	if (!ok) {
		g_strfreev(result);
		return false;
	}
	g_strfreev(m->disks);
	m->disks = result;
	return true;
}

static void set_string(struct vireo_machine *m, const struct machine_setting *s, char *owned)
{
	char **field = (char **)((char *)m + s->offset);
	g_free(*field);
	*field = owned;
}

bool machine_set(struct vireo_machine *m, const struct machine_setting *s,
		 const char *value, const char *base_dir, GError **error)
{
	void *field = (char *)m + s->offset;
	bool ok = true;
	g_autofree char *expected = NULL;

	switch (s->type) {
	case SETTING_STRING:
		set_string(m, s, g_strdup(value));
		break;
	case SETTING_PATH:
	case SETTING_DISC:
		if (!*value) {
			ok = false;
			expected = s->type == SETTING_DISC ? g_strdup_printf(_("a file name or %s"), MACHINE_NO_DISC)
							   : g_strdup(_("a file name"));
		} else {
			bool as_given = !base_dir || g_path_is_absolute(value) ||
					(s->type == SETTING_DISC && !strcmp(value, MACHINE_NO_DISC));
			set_string(m, s, as_given ? g_strdup(value) : g_build_filename(base_dir, value, NULL));
		}
		break;
	case SETTING_SIZE:
		ok = parse_size(value, field);
		expected = g_strdup(_("a size such as 512M or 4G"));
		if (ok && *(uint64_t *)field < MACHINE_MIN_MEMORY) {
			g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
				    _("%s '%s' is too small: a machine needs at least %llu MiB"),
				    s->key, value, MACHINE_MIN_MEMORY >> 20);
			return false;
		}
		break;
	case SETTING_CPUS:
		ok = parse_cpus(value, field);
		expected = g_strdup_printf(_("a number from 1 to %d"), MACHINE_MAX_CPUS);
		break;
	case SETTING_SERIAL:
		ok = serial_spec_valid(value);
		expected = g_strdup(_("stdio, none, file:PATH or unix:PATH"));
		if (ok)
			set_string(m, s, g_strdup(value));
		break;
	case SETTING_BOOL:
		ok = parse_bool(value, field);
		expected = g_strdup(_("true or false"));
		break;
	case SETTING_DISKS:
		return add_disks(m, value, base_dir, error);
	case SETTING_CHOICE:
		ok = g_strv_contains((const char *const *)s->choices, value);
		expected = g_strdup(s->arg);
		if (ok && s->choices == machine_firmware_choices && !strcmp(value, "uefi")) {
			/* Listed, so settings and the app show what is coming; refused
			 * here, so no machine is made that cannot start. */
			g_set_error_literal(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
					    _("firmware 'uefi' is not available yet: OVMF boot is still to come; use bios"));
			return false;
		}
		if (ok)
			set_string(m, s, g_strdup(value));
		break;
	case SETTING_SECONDS:
		ok = parse_seconds(value, field);
		expected = g_strdup_printf(_("a number of seconds from 1 to %d"), MACHINE_MAX_BOOT_MENU_WAIT);
		break;
	case SETTING_BOOT_ORDER: {
		struct machine_boot_item items[MACHINE_MAX_BOOT_ITEMS];
		unsigned count;
		if (!machine_parse_boot_order(value, items, &count, error))
			return false;
		set_string(m, s, g_strdup(value));
		return true;
	}
	case SETTING_DISPLAY: {
		struct machine_display display;
		if (!machine_parse_display(value, &display, error))
			return false;
		machine_display_clear(&display);
		set_string(m, s, g_strdup(value));
		return true;
	}
	case SETTING_NET: {
		struct machine_net net;
		if (!machine_parse_net(value, &net, error))
			return false;
		machine_net_clear(&net);
		set_string(m, s, g_strdup(value));
		return true;
	}
	}
	if (!ok)
		g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
			    _("%s '%s' is not valid: expected %s"), s->key, value, expected);
	return ok;
}

static const struct machine_setting *find_setting(const char *group, const char *key)
{
	for (size_t i = 0; i < machine_settings_count; i++)
		if (!strcmp(machine_settings[i].group, group) && !strcmp(machine_settings[i].key, key))
			return &machine_settings[i];
	return NULL;
}

static bool group_known(const char *group)
{
	for (size_t i = 0; i < machine_settings_count; i++)
		if (!strcmp(machine_settings[i].group, group))
			return true;
	return false;
}

/* GKeyFile reports no line numbers, so the file is scanned first: every line
 * must be blank, a comment, a [group] or a key=value, and each key's line is
 * remembered (as "group\nkey") for the error messages that follow. */
static GHashTable *scan_lines(const char *path, const char *text, GError **error)
{
	GHashTable *lines = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_auto(GStrv) rows = g_strsplit(text, "\n", -1);
	g_autofree char *group = NULL;

	for (unsigned n = 0; rows[n]; n++) {
		char *line = g_strstrip(rows[n]);
		size_t len = strlen(line);
		const char *eq = strchr(line, '=');
		if (len == 0 || line[0] == '#' || line[0] == ';')
			continue;
		if (line[0] == '[' && line[len - 1] == ']' && len > 2) {
			g_free(group);
			group = g_strndup(line + 1, len - 2);
			if (!group_known(group)) {
				g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_GROUP_NOT_FOUND,
					    _("%s:%u: unknown group [%s]"), path, n + 1, group);
				break;
			}
			continue;
		}
		if (!eq || eq == line || !group) {
			g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_PARSE,
				    /* Translators: a machine.ini file, a line number, what was expected, the line. */
				    _("%s:%u: %s: '%s'"), path, n + 1,
				    group ? _("expected key=value, [group] or a # comment")
					  : _("expected a [group] before the first setting"), line);
			break;
		}
		g_autofree char *key = g_strstrip(g_strndup(line, (size_t)(eq - line)));
		if (strcmp(group, "machine") || strcmp(key, "schema")) {
			if (!find_setting(group, key)) {
				g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_KEY_NOT_FOUND,
					    _("%s:%u: unknown setting '%s' in [%s]"), path, n + 1, key, group);
				break;
			}
		}
		g_hash_table_replace(lines, g_strdup_printf("%s\n%s", group, key), GUINT_TO_POINTER(n + 1));
	}
	if (error && *error) {
		g_hash_table_unref(lines);
		return NULL;
	}
	return lines;
}

static unsigned line_of(GHashTable *lines, const char *group, const char *key)
{
	g_autofree char *id = g_strdup_printf("%s\n%s", group, key);
	return GPOINTER_TO_UINT(g_hash_table_lookup(lines, id));
}

static bool check_schema(GKeyFile *kf, GHashTable *lines, const char *path, GError **error)
{
	g_autofree char *schema = g_key_file_get_value(kf, "machine", "schema", NULL);
	guint64 version;
	if (!schema)
		return true; /* hand-written files may omit it: they are read as version 1 */
	if (!g_ascii_string_to_unsigned(schema, 10, 1, G_MAXUINT, &version, NULL)) {
		g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
			    _("%s:%u: schema '%s' is not a version number"), path,
			    line_of(lines, "machine", "schema"), schema);
		return false;
	}
	if (version > MACHINE_SCHEMA_VERSION) {
		g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
			    _("%s:%u: written by a newer Vireo (schema %llu, this one reads %d)"),
			    path, line_of(lines, "machine", "schema"), (unsigned long long)version, MACHINE_SCHEMA_VERSION);
		return false;
	}
	return true;
}

static bool apply_settings(struct vireo_machine *m, GKeyFile *kf, GHashTable *lines,
			   const char *path, GError **error)
{
	g_autofree char *base_dir = g_path_get_dirname(path);
	for (size_t i = 0; i < machine_settings_count; i++) {
		const struct machine_setting *s = &machine_settings[i];
		g_autofree char *value = g_key_file_get_string(kf, s->group, s->key, NULL);
		GError *bad = NULL;
		if (!value)
			continue;
		if (!machine_set(m, s, value, base_dir, &bad)) {
			/* Translators: a machine.ini file, a line number, what is wrong on that line. */
			g_set_error(error, bad->domain, bad->code, _("%s:%u: %s"), path,
				    line_of(lines, s->group, s->key), bad->message);
			g_error_free(bad);
			return false;
		}
	}
	return true;
}

bool machine_load(struct vireo_machine *m, const char *path, GError **error)
{
	g_autofree char *text = NULL;
	GError *io_error = NULL;
	if (!g_file_get_contents(path, &text, NULL, &io_error)) {
		g_set_error(error, io_error->domain, io_error->code, _("cannot read machine file: %s"),
			    io_error->message);
		g_error_free(io_error);
		return false;
	}
	GHashTable *lines = scan_lines(path, text, error);
	if (!lines)
		return false;

	g_autoptr(GKeyFile) kf = g_key_file_new();
	bool ok = g_key_file_load_from_data(kf, text, (gsize)-1, G_KEY_FILE_NONE, &io_error);
	if (!ok) {
		g_set_error(error, io_error->domain, io_error->code, "%s: %s", path, io_error->message);
		g_error_free(io_error);
	}
	ok = ok && check_schema(kf, lines, path, error) && apply_settings(m, kf, lines, path, error);
	g_hash_table_unref(lines);
	return ok;
}

const struct machine_setting *machine_setting_by_flag(const char *flag)
{
	for (size_t i = 0; i < machine_settings_count; i++)
		if (!strcmp(machine_settings[i].flag, flag))
			return &machine_settings[i];
	return NULL;
}

/* The largest unit that states the size exactly; parse_size reads it back. */
static char *format_size(uint64_t bytes)
{
	static const struct { const char *suffix; unsigned shift; } units[] = {
		{ "T", 40 }, { "G", 30 }, { "M", 20 }, { "K", 10 },
	};
	for (size_t i = 0; i < G_N_ELEMENTS(units); i++)
		if (bytes && !(bytes & ((1ull << units[i].shift) - 1)))
			return g_strdup_printf("%" G_GUINT64_FORMAT "%s", bytes >> units[i].shift, units[i].suffix);
	return g_strdup_printf("%" G_GUINT64_FORMAT "K", bytes >> 10); /* never: sizes are whole KiB */
}

/* A path (or a disk spec starting with one) relative to base_dir when inside it;
 * a file named MACHINE_NO_DISC stays absolute, not to read as an empty drive. */
static const char *relative_to(const char *path, const char *base_dir)
{
	size_t len = base_dir ? strlen(base_dir) : 0;
	if (len && !strncmp(path, base_dir, len) && path[len] == G_DIR_SEPARATOR && path[len + 1]) {
		const char *rest = path + len + 1;
		size_t word = strlen(MACHINE_NO_DISC);
		if (strncmp(rest, MACHINE_NO_DISC, word) || (rest[word] && rest[word] != ','))
			return rest;
	}
	return path;
}

char *machine_setting_text(const struct vireo_machine *m, const struct machine_setting *s,
			   const char *base_dir)
{
	const void *field = (const char *)m + s->offset;
	switch (s->type) {
	case SETTING_STRING:
	case SETTING_SERIAL:
	case SETTING_NET:
	case SETTING_DISPLAY:
	case SETTING_CHOICE:
	case SETTING_BOOT_ORDER:
		return g_strdup(*(char *const *)field);
	case SETTING_PATH:
	case SETTING_DISC:
		return *(char *const *)field ? g_strdup(relative_to(*(char *const *)field, base_dir)) : NULL;
	case SETTING_SIZE:
		return format_size(*(const uint64_t *)field);
	case SETTING_CPUS:
	case SETTING_SECONDS:
		return g_strdup_printf("%u", *(const unsigned *)field);
	case SETTING_BOOL:
		return g_strdup(*(const bool *)field ? "true" : "false");
	case SETTING_DISKS: {
		char *const *disks = *(char **const *)field;
		if (!disks || !disks[0])
			return NULL;
		GString *text = g_string_new(NULL);
		for (unsigned i = 0; disks[i]; i++)
			g_string_append_printf(text, "%s%s", i ? ";" : "", relative_to(disks[i], base_dir));
		return g_string_free(text, FALSE);
	}
	}
	return NULL;
}

char *machine_to_ini(const struct vireo_machine *m, const char *base_dir)
{
	g_autoptr(GKeyFile) kf = g_key_file_new();
	g_key_file_set_integer(kf, "machine", "schema", MACHINE_SCHEMA_VERSION);
	for (size_t i = 0; i < machine_settings_count; i++) {
		const struct machine_setting *s = &machine_settings[i];
		g_autofree char *value = machine_setting_text(m, s, base_dir);
		if (value)
			g_key_file_set_string(kf, s->group, s->key, value);
	}
	return g_key_file_to_data(kf, NULL, NULL);
}

static bool save_error(GError **error, const char *path, const char *what, int err)
{
	g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(err), _("cannot save %s: %s: %s"),
		    path, what, g_strerror(err));
	return false;
}

static bool write_all(int fd, const char *text, size_t len)
{
	while (len) {
		ssize_t n = write(fd, text, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			return false;
		}
		text += n;
		len -= (size_t)n;
	}
	return true;
}

/* The rename is only durable once the folder's entry is on disk too. */
static bool sync_folder(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return false;
	int rc = fsync(fd);
	int err = errno;
	close(fd);
	errno = err;
	return rc == 0;
}

bool machine_save(const struct vireo_machine *m, const char *path, GError **error)
{
	g_autofree char *dir = g_path_get_dirname(path);
	g_autofree char *base = g_path_get_basename(path);
	g_autofree char *tmp = g_strdup_printf("%s" G_DIR_SEPARATOR_S ".%s.XXXXXX", dir, base);
	g_autofree char *text = machine_to_ini(m, dir);
	int fd = g_mkstemp_full(tmp, O_WRONLY | O_CLOEXEC, MACHINE_FILE_MODE);
	if (fd < 0)
		return save_error(error, path, _("cannot create a temporary file"), errno);
	const char *step = _("cannot write");
	bool ok = write_all(fd, text, strlen(text));
	if (ok) {
		step = _("cannot flush to disk");
		ok = fsync(fd) == 0;
	}
	int err = errno;
	if (close(fd) && ok) {
		ok = false;
		err = errno;
		step = _("cannot write");
	}
	if (ok && rename(tmp, path)) {
		ok = false;
		err = errno;
		step = _("cannot replace the file");
	}
	if (!ok) {
		unlink(tmp);
		return save_error(error, path, step, err);
	}
	if (!sync_folder(dir))
		return save_error(error, path, _("cannot flush the folder to disk"), errno);
	return true;
}
