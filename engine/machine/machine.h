/* The machine definition: every setting of a virtual machine, read from
 * command-line flags and from machine.ini (GKeyFile) through one table, so the
 * engine and the app agree on names, types and limits. */
#ifndef VIREO_MACHINE_H
#define VIREO_MACHINE_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#define MACHINE_SCHEMA_VERSION 1
#define MACHINE_MIN_MEMORY (32ull << 20)
#define MACHINE_MAX_CPUS 255 /* xAPIC IDs are 8 bits and 0xFF is broadcast */

struct vireo_machine {
	char *name;
	uint64_t memory;   /* bytes */
	unsigned cpus;
	char *cpu;         /* "host" with optional ",+feature" / ",-feature" */
	char *kernel;
	char *initrd;
	char *cmdline;
	char *firmware;    /* one of machine_firmware_choices, or NULL: bios unless a kernel is given */
	char *firmware_log;/* file for the firmware's debug console (port 0x402), or NULL */
	bool boot_menu;    /* the firmware offers its boot menu ("Press ESC for boot menu.") */
	unsigned boot_menu_wait; /* seconds it waits for Esc */
	char *boot_order;  /* a list machine_parse_boot_order reads, or NULL: the firmware's own order */
	char *serial;      /* chardev spec: stdio, none, file:PATH, unix:PATH */
	char **disks;      /* NULL-terminated disk specs: PATH[,ro][,serial=ID][,queues=N][,bus=B][,media=M] */
	char *cdrom;       /* an ISO as the CD-ROM on the IDE secondary master, MACHINE_NO_DISC, or NULL: no drive */
	bool rng;          /* virtio-rng */
	char *net;         /* "none" or user[,OPTIONS] (see machine_parse_net) */
	char *display;     /* none, sdl or vnc[=ADDR|=ADDR:PORT][,password-file=F][,insecure] (machine_parse_display) */
	char *gpu;         /* one of machine_gpu_choices */
	bool no_reboot;
};

#define MACHINE_MAX_DISKS 16

/* In place of an ISO's path (--cdrom, a media=cdrom disk spec): the CD-ROM
 * drive is there but holds no disc, as after an eject. A file of that name
 * is given as ./empty. */
#define MACHINE_NO_DISC "empty"
#define MACHINE_MAX_BOOT_MENU_WAIT 60  /* seconds */
#define MACHINE_MAX_DISK_QUEUES 8

/* The controller a disk hangs off. */
enum machine_disk_bus {
	MACHINE_BUS_VIRTIO,  /* virtio-blk, a PCI function of its own */
	MACHINE_BUS_IDE,     /* PIIX IDE: primary master, slave, secondary master, slave */
	MACHINE_BUS_SATA,    /* AHCI: ports in order */
};

enum machine_disk_media {
	MACHINE_MEDIA_DISK,
	MACHINE_MEDIA_CDROM, /* ATAPI (IDE or SATA), read-only */
};

/* One disk spec, parsed. */
struct machine_disk {
	char *path;
	bool read_only;
	char *serial;      /* NULL: none */
	unsigned queues;   /* virtio only */
	enum machine_disk_bus bus;
	enum machine_disk_media media;
};

enum machine_setting_type {
	SETTING_STRING,
	SETTING_PATH,   /* relative paths in machine.ini are relative to its folder */
	SETTING_DISC,   /* a SETTING_PATH to an ISO, or MACHINE_NO_DISC: an empty drive */
	SETTING_SIZE,   /* bytes; plain numbers are MiB, suffixes K M G T */
	SETTING_CPUS,
	SETTING_SERIAL,
	SETTING_BOOL,
	SETTING_DISKS,  /* each value adds disks; machine.ini lists them with ';' */
	SETTING_NET,
	SETTING_DISPLAY,
	SETTING_CHOICE, /* one of the setting's `choices` */
	SETTING_SECONDS,    /* unsigned, 1 to MACHINE_MAX_BOOT_MENU_WAIT (its only user) */
	SETTING_BOOT_ORDER, /* a string machine_parse_boot_order accepts */
};

struct machine_setting {
	const char *group;   /* machine.ini group */
	const char *key;     /* machine.ini key */
	const char *flag;    /* long command-line flag */
	enum machine_setting_type type;
	size_t offset;       /* into struct vireo_machine */
	const char *arg;     /* placeholder in --help, NULL for booleans */
	const char *help;
	const char *const *choices;  /* SETTING_CHOICE: NULL-terminated */
};

/* The display adapter: the standard VGA (Bochs DISPI, legacy VGA), a
 * virtio-gpu (2D, follows the viewer's size) or none. */
extern const char *const machine_gpu_choices[];

/* The firmware a machine boots: SeaBIOS (bios) or OVMF (uefi). */
extern const char *const machine_firmware_choices[];

extern const struct machine_setting machine_settings[];
extern const size_t machine_settings_count;

/* The setting whose command-line flag is `flag`, or NULL. */
const struct machine_setting *machine_setting_by_flag(const char *flag);

void machine_init(struct vireo_machine *m);
void machine_clear(struct vireo_machine *m);

/* Sets one setting from text; base_dir resolves relative paths (NULL: as is).
 * On error returns false with a message that names the value. */
bool machine_set(struct vireo_machine *m, const struct machine_setting *s,
		 const char *value, const char *base_dir, GError **error);

#define MACHINE_MAX_HOSTFWD 16

/* One host-to-guest port forward: PROTO:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT. */
struct machine_hostfwd {
	bool udp;
	char host_addr[16];    /* dotted quad; "127.0.0.1" when not given */
	unsigned host_port;
	char guest_addr[16];   /* "" = the guest's DHCP address */
	unsigned guest_port;
};

enum machine_net_kind {
	MACHINE_NET_NONE,
	MACHINE_NET_USER,      /* libslirp */
	MACHINE_NET_TAP,       /* a host tap interface */
};

/* A parsed --net spec. */
struct machine_net {
	enum machine_net_kind kind;
	char *ifname;          /* tap */
	uint8_t mac[6];
	char *tftp;            /* folder the built-in TFTP server serves, or NULL */
	char *bootfile;        /* DHCP boot file name, or NULL */
	bool host_loopback;    /* may the guest reach the host's 127.0.0.1 (10.0.2.2) */
	struct machine_hostfwd hostfwd[MACHINE_MAX_HOSTFWD];
	unsigned hostfwd_count;
};

/* Parses none | user[,mac=52:54:00:12:34:56][,tftp=DIR][,bootfile=FILE]
 * [,hostfwd=tcp:127.0.0.1:2222-:22 ...][,host-loopback=on] |
 * tap,ifname=NAME[,mac=...]; errors name the bad part. */
bool machine_parse_net(const char *spec, struct machine_net *net, GError **error);
void machine_net_clear(struct machine_net *net);

/* Without a port, a VNC server takes the first free one of these, as
 * libvirt's autoport does: several machines on VNC need no planning. */
#define MACHINE_VNC_FIRST_PORT 5900
#define MACHINE_VNC_LAST_AUTO_PORT 5999

struct machine_display {
	bool sdl;
	bool vnc;
	char vnc_addr[16];     /* default 127.0.0.1 */
	unsigned vnc_port;     /* the port asked for, or the first to try */
	unsigned vnc_port_last; /* the last to try: vnc_port when one was given */
	char *vnc_unix;        /* vnc=unix:PATH: a UNIX socket, only for this user, instead of TCP */
	char *password;        /* read from password-file=, or NULL */
	bool insecure;         /* the user's consent to a VNC server others reach without a password */
};

/* Parses none | sdl | vnc[=ADDR|=[ADDR]:PORT|=unix:PATH][,password-file=FILE][,insecure]
 * (reading the file's first line); errors name the bad part. */
bool machine_parse_display(const char *spec, struct machine_display *display, GError **error);
void machine_display_clear(struct machine_display *display);
/* A VNC server on TCP on loopback (127.0.0.0/8): only this computer. */
bool machine_display_on_loopback(const struct machine_display *display);
/* A VNC server without a password on an address other than loopback
 * (127.0.0.0/8): other computers could see and control the machine. A
 * UNIX socket is private (mode 0600): never open to others. */
bool machine_display_open_to_others(const struct machine_display *display);
/* Refuses such a server unless the spec says insecure; the error names the
 * ways out. The engine runs none without the consent. */
bool machine_display_check_open(const struct machine_display *display, GError **error);

/* Parses PATH[,ro][,serial=ID][,queues=N][,bus=virtio|ide|sata][,media=disk|cdrom];
 * a CD-ROM is read-only and needs bus=ide or sata, and its PATH may be
 * MACHINE_NO_DISC. Errors name the bad part. */
bool machine_parse_disk(const char *spec, struct machine_disk *disk, GError **error);
void machine_disk_clear(struct machine_disk *disk);
/* Is it a CD-ROM drive with no disc (PATH MACHINE_NO_DISC)? */
bool machine_disk_is_empty(const struct machine_disk *disk);

/* One item of a boot order: every drive of a kind, or the N-th of them. */
struct machine_boot_item {
	enum machine_disk_media media;
	unsigned number;   /* 1 = the first drive of that media, in the order given; 0 = all of them */
};

/* Every drive by number and each kind once. */
#define MACHINE_MAX_BOOT_ITEMS (2 * (MACHINE_MAX_DISKS + 1) + 2)

/* Parses a comma-separated boot order of disk, cdrom, diskN and cdromN
 * ("" or NULL: none, the firmware's own order) into items[MACHINE_MAX_BOOT_ITEMS];
 * errors name the bad item. */
bool machine_parse_boot_order(const char *spec, struct machine_boot_item *items, unsigned *count,
			      GError **error);

/* A CD-ROM drive's name for the control interface, as a boot order item
 * names one drive: "cdromN" gives N (from 1). Anything else is refused,
 * with the error naming it. */
bool machine_parse_cdrom_name(const char *name, unsigned *number, GError **error);

/* The [devices] cdrom drive's place in machine_cdrom_drive.disk: it is
 * none of the disks. */
#define MACHINE_CDROM_SETTING_DRIVE MACHINE_MAX_DISKS
/* Every media=cdrom disk and the [devices] cdrom drive. */
#define MACHINE_MAX_CDROM_DRIVES (MACHINE_MAX_DISKS + 1)

/* One CD-ROM drive of a machine, as its settings give it. */
struct machine_cdrom_drive {
	unsigned disk;               /* its index in m->disks, or MACHINE_CDROM_SETTING_DRIVE */
	enum machine_disk_bus bus;   /* MACHINE_BUS_IDE or MACHINE_BUS_SATA */
	char *path;                  /* the ISO the settings put in it, or NULL: none */
};

/* The machine's CD-ROM drives into drives[MACHINE_MAX_CDROM_DRIVES], in
 * the order boot orders and the control interface number them (drives[0]
 * is cdrom1): the media=cdrom disks in the order given, then the
 * [devices] cdrom drive (IDE secondary master). Returns how many; free
 * them with machine_cdrom_drives_clear. */
unsigned machine_cdrom_drives(const struct vireo_machine *m, struct machine_cdrom_drive *drives);
void machine_cdrom_drives_clear(struct machine_cdrom_drive *drives, unsigned count);

/* Puts the ISO at `path` (NULL: none, the drive stays empty) in CD-ROM
 * drive `number` (from 1, as machine_cdrom_drives numbers them), keeping
 * the drive's other options. False with the error naming the problem:
 * no such drive, or a path a disk spec cannot hold (',' or ';'). */
bool machine_set_disc(struct vireo_machine *m, unsigned number, const char *path, GError **error);

/* Loads machine.ini; errors name the file and line ("PATH:LINE: ..."). */
bool machine_load(struct vireo_machine *m, const char *path, GError **error);

/* One setting's value as machine.ini holds it (disks joined with ';'), or
 * NULL when unset; paths inside base_dir (NULL: none) relative to it. */
char *machine_setting_text(const struct vireo_machine *m, const struct machine_setting *s,
			   const char *base_dir);

/* The text machine_save writes: every setting of the table plus the schema
 * version; paths inside base_dir (NULL: none) are written relative to it, so
 * a machine folder can be moved or copied whole. */
char *machine_to_ini(const struct vireo_machine *m, const char *base_dir);

/* Writes machine.ini atomically: a temporary file in the same folder, fsync,
 * rename over `path`, fsync of the folder. On failure the old file is intact
 * and no temporary file is left; the error names the file. The file is the
 * owner's alone (MACHINE_FILE_MODE): it names the machine's disks and its
 * VNC password file. */
#define MACHINE_FILE_MODE 0600
bool machine_save(const struct vireo_machine *m, const char *path, GError **error);

#endif
