/* The firmware-boot parts of the PC. See firmware_board.h. */
#include "firmware_board.h"

#include <string.h>

#include "boot/acpi_loader.h"
#include "core/bytes.h"
#include "core/pc_map.h"
#include "boot/dsdt.h"
#include "boot/e820.h"

#define E820_ENTRY_SIZE 20          /* packed {u64 addr, u64 len, u32 type}, little-endian */
#define BOOT_FAIL_WAIT_FOREVER 0xFFFFFFFFu  /* "No bootable device." stays up, as QEMU's default */
/* SeaBIOS reads fw_cfg key BOOT_MENU as etc/show-boot-menu (src/fw/paravirt.c):
 * 0 no prompt, 1 "Press ESC for boot menu." at every boot, 2 only with more
 * than one boot device. It then waits etc/boot-menu-wait ms for Esc (any
 * integer of 1, 2, 4 or 8 bytes; 2500 when absent) (src/boot.c). */
#define BOOT_MENU_SHOW 1
#define VGA_ROM_FILE "pci1234,1111.rom"     /* SeaBIOS runs it for the 1234:1111 at 00:02.0 */
#define IRQ0_OVERRIDE 1             /* the PIT's IRQ 0 arrives on IOAPIC pin 2: vm.c's routing */
/* CMOS bytes SeaBIOS reads on a QEMU machine (pc-platform.md §4.1). */
#define CMOS_FLOPPY_TYPES 0x10
#define CMOS_BOOT_ORDER_2_1 0x3D    /* (2nd << 4) | 1st */
#define CMOS_BOOT_ORDER_3 0x38      /* 3rd << 4; bit 0 set: no floppy signature check */
#define BOOT_DEVICE_HDD 2
#define BOOT_DEVICE_CD 3

bool firmware_board_wanted(const struct vireo_machine *def)
{
	return !def->kernel;
}

bool firmware_board_check(const struct vireo_machine *def, char **error)
{
	if (def->kernel && def->firmware) {
		*error = g_strdup_printf("firmware %s and kernel %s: a kernel boots directly, without firmware; "
					 "give one of them", def->firmware, def->kernel);
		return false;
	}
	if (def->initrd || def->cmdline) {
		*error = g_strdup_printf("%s given without a kernel: use --kernel FILE", def->initrd ? "initrd" : "cmdline");
		return false;
	}
	size_t rom_size;
	g_autofree uint8_t *rom = NULL;
	if (!firmware_check(FIRMWARE_BIOS_FILE, error))
		return false;
	return strcmp(def->gpu, "std") || (rom = firmware_read_rom(FIRMWARE_VGABIOS_FILE, &rom_size, error));
}

static int add_e820(struct fw_cfg *cfg, const struct vm *vm)
{
	struct e820_table table;
	e820_build_firmware(&table, vm->low_ram_size, vm->ram_size - vm->low_ram_size);
	uint8_t bytes[E820_MAX_ENTRIES * E820_ENTRY_SIZE];
	for (unsigned i = 0; i < table.count; i++) {
		uint8_t *e = bytes + i * E820_ENTRY_SIZE;
		put_le(e, table.entries[i].addr, 8);
		put_le(e + 8, table.entries[i].size, 8);
		put_le32(e + 16, table.entries[i].type);
	}
	return fw_cfg_add_file(cfg, "etc/e820", bytes, table.count * E820_ENTRY_SIZE);
}

/* NUMA: no nodes (a zero count, then a zero node per CPU). */
static int add_numa(struct fw_cfg *cfg, unsigned cpus)
{
	g_autofree uint8_t *zeros = g_malloc0(8 * (1 + (size_t)cpus));
	return fw_cfg_add_bytes(cfg, FW_CFG_NUMA, zeros, 8 * (1 + (size_t)cpus));
}

static int add_vga_rom(struct fw_cfg *cfg, char **error)
{
	size_t size;
	g_autofree uint8_t *rom = firmware_read_rom(FIRMWARE_VGABIOS_FILE, &size, error);
	return rom ? fw_cfg_add_file(cfg, VGA_ROM_FILE, rom, size) : -1;
}

/* Because etc/table-loader exists, SeaBIOS programs PMBA with 0x600 rather
 * than its 0xB000 default (pc-platform.md §2): ACPI_PM_BASE, what the
 * machine's FADT already says. The root bridge's memory window starts at
 * the end of low RAM, as SeaBIOS's 32-bit BARs all lie above it. */
int firmware_board_publish_acpi(struct fw_cfg *cfg, const struct acpi_config *machine, uint64_t low_ram_size)
{
	struct acpi_config acpi = *machine;
	acpi.dsdt = dsdt_pc_aml;
	acpi.dsdt_size = dsdt_pc_aml_size;
	acpi.pci_hole_start = (uint32_t)low_ram_size;
	acpi.level_irqs = PC_PCI_LINK_IRQS;
	return acpi_loader_publish(cfg, &acpi);
}

static int fill_fw_cfg(struct firmware_board *board, const struct firmware_board_parts *parts, char **error)
{
	struct fw_cfg *cfg = &board->cfg;
	uint8_t fail_wait[4], menu_wait[4];
	int err;
	put_le32(fail_wait, BOOT_FAIL_WAIT_FOREVER);
	put_le32(menu_wait, parts->boot_menu_wait * 1000);
	if ((err = fw_cfg_add_u16(cfg, FW_CFG_NB_CPUS, (uint16_t)parts->cpus)) < 0 ||
	    (err = fw_cfg_add_u16(cfg, FW_CFG_MAX_CPUS, (uint16_t)parts->cpus)) < 0 ||
	    (err = fw_cfg_add_u64(cfg, FW_CFG_RAM_SIZE, parts->vm->ram_size)) < 0 ||
	    (err = fw_cfg_add_u16(cfg, FW_CFG_NOGRAPHIC, 0)) < 0 ||
	    (err = fw_cfg_add_u16(cfg, FW_CFG_BOOT_MENU, parts->boot_menu ? BOOT_MENU_SHOW : 0)) < 0 ||
	    (err = fw_cfg_add_file(cfg, "etc/boot-menu-wait", menu_wait, sizeof(menu_wait))) < 0 ||
	    (err = add_numa(cfg, parts->cpus)) < 0 ||
	    (err = fw_cfg_add_u32(cfg, FW_CFG_IRQ0_OVERRIDE, IRQ0_OVERRIDE)) < 0 ||
	    (err = add_e820(cfg, parts->vm)) < 0 ||
	    (err = fw_cfg_add_file(cfg, "etc/boot-fail-wait", fail_wait, sizeof(fail_wait))) < 0 ||
	    (err = firmware_board_publish_acpi(cfg, &parts->acpi, parts->vm->low_ram_size)) < 0) {
		*error = g_strdup_printf("cannot fill fw_cfg: %s", g_strerror(-err));
		return -1;
	}
	return parts->std_vga ? add_vga_rom(cfg, error) : 0;
}

static void fill_cmos(struct rtc *rtc)
{
	rtc_set_cmos(rtc, CMOS_FLOPPY_TYPES, 0);
	rtc_set_cmos(rtc, CMOS_BOOT_ORDER_2_1, BOOT_DEVICE_CD << 4 | BOOT_DEVICE_HDD);
	rtc_set_cmos(rtc, CMOS_BOOT_ORDER_3, 0);
}

static int add_pci_functions(struct firmware_board *board, const struct firmware_board_parts *parts)
{
	struct irq_line isa_irqs = { vm_set_irq, parts->vm, 0 };
	struct irq_line irq14 = { vm_set_irq, parts->vm, PC_IRQ_IDE_PRIMARY };
	struct irq_line irq15 = { vm_set_irq, parts->vm, PC_IRQ_IDE_SECONDARY };
	struct device_list *devices = parts->devices;
	int err = piix3_init(&board->isa, parts->pci, isa_irqs);
	if (err)
		return err;
	device_list_add(devices, &piix3_device_ops, &board->isa, "piix3");
	if ((err = piix_ide_init(&board->ide, parts->pci, &parts->vm->pio, &parts->vm->mem, irq14, irq15,
				 parts->ide_drives)) < 0)
		return err;
	device_list_add(devices, &piix_ide_device_ops, &board->ide, "piix-ide");
	if ((err = piix4_pm_init(&board->pm_function, parts->pci, parts->pm)) < 0)
		return err;
	device_list_add(devices, &piix4_pm_device_ops, &board->pm_function, "piix4-pm");
	return 0;
}

int firmware_board_init(struct firmware_board *board, const struct firmware_board_parts *parts, char **error)
{
	const char *what;
	int err;
	memset(board, 0, sizeof(*board));
	if (firmware_load(&board->bios, FIRMWARE_BIOS_FILE, error) < 0)
		return -1;
	if ((what = "firmware ROM", err = pam_host_init(&board->pam, parts->vm, board->bios.data, board->bios.size)) < 0 ||
	    (what = "PCI functions of PIIX3/PIIX4", err = add_pci_functions(board, parts)) < 0 ||
	    (what = "fw_cfg", err = fw_cfg_init(&board->cfg, &parts->vm->pio, &parts->vm->mem)) < 0 ||
	    (device_list_add(parts->devices, &fw_cfg_device_ops, &board->cfg, "fw-cfg"),
	     what = "debug ports", err = debug_ports_init(&board->debug, &parts->vm->pio, parts->log)) < 0) {
		*error = g_strdup_printf("cannot set up the %s: %s", what, g_strerror(-err));
		return -1;
	}
	device_list_add(parts->devices, &debug_ports_device_ops, &board->debug, "debug-ports");
	i440fx_attach_pam(parts->host_bridge, &pam_host_kvm_ops, &board->pam);
	fill_cmos(parts->rtc);
	return fill_fw_cfg(board, parts, error);
}

void firmware_board_destroy(struct firmware_board *board)
{
	firmware_unload(&board->bios);
}

struct irq_line firmware_board_intx(struct firmware_board *board, unsigned slot)
{
	return piix3_intx_line(&board->isa, slot);
}

/* OpenFirmware paths of drives, as QEMU 7.2 writes them for bootindex= and
 * SeaBIOS 1.16 matches them (src/boot.c): SeaBIOS builds a glob from where it
 * found the drive, the PCI domain /pci@i0cf8 then "NAME@SLOT[,FN]" with a
 * wildcard NAME, plus the drive's part for ATA, and a bootorder line matches
 * when the glob is a prefix of it that ends at a '/'. By controller:
 *   virtio-blk at SLOT:              /pci@i0cf8/scsi@SLOT/disk@0,0
 *     (SeaBIOS looks up the function alone; QEMU names it after its PCI
 *     class, mass storage/SCSI)
 *   PIIX IDE, CHANNEL 0|1, UNIT 0 (master) | 1 (slave), the IDE function at 00:01.1,
 *                                    /pci@i0cf8/ide@1,1/drive@CHANNEL/disk@UNIT
 *     (the --cdrom drive, secondary master: /pci@i0cf8/ide@1,1/drive@1/disk@0)
 *   AHCI at SLOT, port PORT:         /pci@i0cf8/sata@SLOT/drive@PORT/disk@0
 *     (SeaBIOS passes the port as the channel and 0 as the unit; QEMU's ICH9
 *     AHCI writes its name as pci8086,2922, which the wildcard accepts too) */
char *firmware_path_virtio_blk(unsigned slot)
{
	return g_strdup_printf("/pci@i0cf8/scsi@%x/disk@0,0", slot);
}

char *firmware_path_ahci(unsigned slot, unsigned port)
{
	/* SeaBIOS matches the node name before '@' as a wildcard (QEMU writes
	 * pci8086,2922 there); the port is the drive. */
	return g_strdup_printf("/pci@i0cf8/sata@%x/drive@%u/disk@0", slot, port);
}

char *firmware_path_ide(unsigned position)
{
	return g_strdup_printf("/pci@i0cf8/ide@%x,%x/drive@%u/disk@%u", PIIX_IDE_SLOT, PIIX_IDE_FUNCTION,
			       position / 2, position % 2);
}

int firmware_board_write_boot_order(struct firmware_board *board, const struct machine_plan *plan, char **error)
{
	struct boot_drive drives[PLAN_MAX_DRIVES];
	for (unsigned i = 0; i < plan->drive_count; i++)
		drives[i] = (struct boot_drive){ plan->drives[i].spec.media, plan->drives[i].firmware_path };
	g_autofree char *text = bootorder_build(plan->boot_order, plan->boot_order_count, drives, plan->drive_count);
	int err = fw_cfg_add_file(&board->cfg, "bootorder", text, strlen(text));
	if (err < 0)
		*error = g_strdup_printf("cannot fill fw_cfg: %s", g_strerror(-err));
	return err < 0 ? -1 : 0;
}
