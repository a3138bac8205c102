/* The PC this engine builds, in one place: where RAM, the PCI hole, the
 * interrupt controllers and the legacy windows sit in guest-physical memory,
 * and which interrupt line each board device uses. The KVM layer, the boot
 * loaders, the table builders and the board wiring all read it from here
 * (pc-platform.md has the reasons behind each choice). */
#ifndef VIREO_CORE_PC_MAP_H
#define VIREO_CORE_PC_MAP_H

/* Memory map. */
#define PC_VGA_WINDOW_BASE    0xA0000ull     /* legacy VGA memory, 0xA0000-0xBFFFF */
#define PC_VGA_WINDOW_END     0xC0000ull
#define PC_LEGACY_BASE        0xC0000ull     /* option ROMs and BIOS, switched by PAM */
#define PC_LEGACY_END         0x100000ull
#define PC_LOW_RAM_MAX        0xE0000000ull  /* RAM up to here fits below the PCI hole */
#define PC_LOW_RAM_SPLIT      0xC0000000ull  /* low RAM end when RAM does not fit */
#define PC_PCI_MMIO_BASE      0xE0000000ull  /* direct boot places 32-bit BARs from here */
#define PC_IOAPIC_BASE        0xFEC00000ull  /* ... up to here */
#define PC_KVM_IDENTITY_MAP_ADDR 0xFEFFC000ull /* KVM's EPT identity page table (one page) */
#define PC_KVM_TSS_ADDR       0xFEFFD000ull  /* KVM's real-mode TSS (three pages) */
#define PC_LAPIC_BASE         0xFEE00000ull
#define PC_HIGH_RAM_BASE      (1ull << 32)   /* RAM that does not fit below the hole */
#define PC_PCI_IO_BASE        0xC000         /* direct boot places I/O BARs from here */

/* ISA interrupt lines (GSIs 0-15 on both PICs and the IOAPIC). */
#define PC_IRQ_KEYBOARD       1
#define PC_IRQ_COM1           4
#define PC_IRQ_RTC            8
#define PC_IRQ_SCI            9              /* ACPI's, level and active high */
#define PC_IRQ_MOUSE          12
#define PC_IRQ_IDE_PRIMARY    14             /* legacy-mode IDE channels (82371SB §2.4) */
#define PC_IRQ_IDE_SECONDARY  15

/* IOAPIC pins 16-23 carry PCI INTx in direct boot, one per slot modulo 8.
 * Under firmware the PIIX3's PIRQ links route INTx to ISA IRQs: those the
 * DSDT's LNKA-LNKD offer and SeaBIOS programs into PIRQRC (10, 10, 11, 11),
 * level triggered and active high like the SCI (pc-platform.md §3.2, §7). */
#define PC_IOAPIC_PINS        24
#define PC_PCI_INTX_FIRST_GSI 16
#define PC_PCI_INTX_GSIS      8
#define PC_PCI_LINK_IRQS      (1u << 5 | 1u << 10 | 1u << 11)

#define PC_COM1_PORT          0x3F8

#endif
