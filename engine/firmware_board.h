/* What a PC has only when it boots firmware (SeaBIOS): the BIOS ROM and PAM
 * shadowing, the PIIX3 ISA bridge with PCI interrupt routing, its IDE
 * function (always there, as on a PC, with or without drives), the PIIX4 PM
 * function that places the ACPI PM block, fw_cfg (with the ACPI tables for
 * the firmware's table loader, the boot menu switch and the bootorder made
 * from the drives the engine adds), the debug console and POST port, and the
 * CMOS bytes a BIOS reads. Direct kernel boot has none of it. */
#ifndef VIREO_FIRMWARE_BOARD_H
#define VIREO_FIRMWARE_BOARD_H

#include "backend/chardev.h"
#include "boot/acpi.h"
#include "boot/bootorder.h"
#include "boot/firmware.h"
#include "hw/acpi_pm.h"
#include "hw/debug_ports.h"
#include "hw/fw_cfg.h"
#include "hw/i440fx.h"
#include "hw/piix3.h"
#include "hw/piix_ide.h"
#include "hw/piix4_pm.h"
#include "hw/rtc.h"
#include "board/pam_host.h"
#include "kvm/vm.h"
#include "machine.h"
#include "plan.h"

struct firmware_board_parts {
	struct vm *vm;
	struct pci_bus *pci;
	struct i440fx *host_bridge;
	struct acpi_pm *pm;         /* created with base 0 */
	struct rtc *rtc;
	struct chardev *log;        /* debug console output, or NULL */
	unsigned cpus;
	bool std_vga;               /* the standard VGA is at 00:02.0: give it its BIOS */
	struct acpi_config acpi;    /* the machine's ACPI facts; the board adds its DSDT */
	const struct piix_ide_drive_config *ide_drives;  /* PIIX_IDE_DRIVES of them */
	bool boot_menu;             /* SeaBIOS offers its boot menu ... */
	unsigned boot_menu_wait;    /* ... and waits this many seconds for Esc */
	struct device_list *devices; /* the machine's: the board's devices join it */
};

struct firmware_board {
	struct firmware_image bios;
	struct pam_host pam;
	struct piix3 isa;
	struct piix_ide ide;
	struct piix4_pm pm_function;
	struct fw_cfg cfg;
	struct debug_ports debug;
};

/* Whether this machine boots firmware (no kernel given). */
bool firmware_board_wanted(const struct vireo_machine *def);

/* Before KVM is touched: bios needs its files, uefi is refused for now.
 * false with *error set (one line). */
bool firmware_board_check(const struct vireo_machine *def, char **error);

/* Builds the board; call after the PCI bus, the host bridge, the RTC, the
 * PM block and the VGA exist and before vCPUs run. Each device it creates
 * joins parts->devices, whose teardown destroys it. Returns 0, or -1 with
 * *error set; firmware_board_destroy (after that teardown) frees the rest
 * either way. */
int firmware_board_init(struct firmware_board *board, const struct firmware_board_parts *parts, char **error);
void firmware_board_destroy(struct firmware_board *board);

/* Our ACPI tables for the firmware's table loader (boot/acpi_loader.h), so
 * SeaBIOS installs them instead of building its own: the machine's facts
 * plus this board's DSDT (boot/asl/dsdt_pc.asl), PCI link IRQs and PCI hole
 * (from the end of low RAM). Returns 0 or -errno. */
int firmware_board_publish_acpi(struct fw_cfg *cfg, const struct acpi_config *machine, uint64_t low_ram_size);

/* OpenFirmware paths for the bootorder file: a virtio-blk at `slot`; the
 * PIIX IDE drive at `position` (0-3: primary master, slave, secondary
 * master, slave). */
char *firmware_path_virtio_blk(unsigned slot);
char *firmware_path_ide(unsigned position);
/* The AHCI drive on `port` of the controller in `slot`. */
char *firmware_path_ahci(unsigned slot, unsigned port);

/* The bootorder file from the plan's boot order and drives. Returns 0, or
 * -1 with *error set. */
int firmware_board_write_boot_order(struct firmware_board *board, const struct machine_plan *plan, char **error);

/* The INTA# line of a PCI device in `slot`, through the PIIX3 router. */
struct irq_line firmware_board_intx(struct firmware_board *board, unsigned slot);

#endif
