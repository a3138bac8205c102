/* MP tables (Intel MultiProcessor Specification 1.4, chapter 4): one
 * processor entry per vCPU, the ISA bus, the IOAPIC, ISA IRQ routing with the
 * PIT behind pin 2, and LINT0/LINT1 as ExtINT/NMI. */
#include "mptable.h"

#include <glib.h>
#include <string.h>

#include "core/bytes.h"
#include "boot/layout.h"
#include "kvm/vm.h"

#define MP_SPEC_REV 4
#define MPC_HEADER_SIZE 44
#define MPC_PROCESSOR 0
#define MPC_BUS 1
#define MPC_IOAPIC 2
#define MPC_IO_INTERRUPT 3
#define MPC_LOCAL_INTERRUPT 4
#define MP_INT 0
#define MP_NMI 1
#define MP_EXTINT 3
#define MP_CPU_ENABLED 1
#define MP_CPU_BOOT 2
#define MP_IRQ_LEVEL_HIGH 0x000D /* polarity active high (01), trigger level (11 << 2) */
#define LAPIC_VERSION 0x14
#define IOAPIC_VERSION 0x11
#define ISA_BUS_ID 0
#define ISA_IRQS 16



static uint8_t *add_interrupt(uint8_t *p, uint8_t entry, uint8_t kind, uint16_t flags,
			      uint8_t src_irq, uint8_t dest_id, uint8_t dest_pin)
{
	p[0] = entry; p[1] = kind;
	put_le(p + 2, flags, 2);
	p[4] = ISA_BUS_ID; p[5] = src_irq; p[6] = dest_id; p[7] = dest_pin;
	return p + 8;
}

bool mptable_build(struct guest_mem *mem, unsigned ncpus, uint8_t ioapic_id, uint8_t sci_irq)
{
	uint8_t table[BOOT_MPTABLE_SIZE] = { 0 };
	uint8_t *fp = table, *hdr = table + 16, *p = hdr + MPC_HEADER_SIZE;
	unsigned entries = 0;

	for (unsigned i = 0; i < ncpus; i++, p += 20, entries++) {
		p[0] = MPC_PROCESSOR; p[1] = (uint8_t)i; p[2] = LAPIC_VERSION;
		p[3] = MP_CPU_ENABLED | (i == 0 ? MP_CPU_BOOT : 0);
		put_le(p + 4, 0x600, 4);  /* CPU signature: family 6 */
		put_le(p + 8, 0x201, 4);  /* feature flags: FPU, APIC */
	}
	p[0] = MPC_BUS; p[1] = ISA_BUS_ID; memcpy(p + 2, "ISA   ", 6);
	p += 8, entries++;
	p[0] = MPC_IOAPIC; p[1] = ioapic_id; p[2] = IOAPIC_VERSION; p[3] = 1;
	put_le(p + 4, PC_IOAPIC_BASE, 4);
	p += 8, entries++;
	for (uint8_t irq = 0; irq < ISA_IRQS; irq++) {
		if (irq == 2)
			continue; /* the PIC cascade; IOAPIC pin 2 carries IRQ 0 */
		p = add_interrupt(p, MPC_IO_INTERRUPT, MP_INT, irq == sci_irq ? MP_IRQ_LEVEL_HIGH : 0,
				  irq, ioapic_id, irq == 0 ? 2 : irq);
		entries++;
	}
	p = add_interrupt(p, MPC_LOCAL_INTERRUPT, MP_EXTINT, 0, 0, 0xFF, 0);
	p = add_interrupt(p, MPC_LOCAL_INTERRUPT, MP_NMI, 0, 0, 0xFF, 1);
	entries += 2;

	size_t length = (size_t)(p - hdr);
	memcpy(hdr, "PCMP", 4);
	put_le(hdr + 4, length, 2);
	hdr[6] = MP_SPEC_REV;
	memcpy(hdr + 8, "VIREO   ", 8);
	memcpy(hdr + 16, "VIREO VM    ", 12);
	put_le(hdr + 34, entries, 2);
	put_le(hdr + 36, PC_LAPIC_BASE, 4);
	hdr[7] = checksum8(hdr, length);

	memcpy(fp, "_MP_", 4);
	put_le(fp + 4, BOOT_MPTABLE_ADDR + 16, 4);
	fp[8] = 1; /* length in 16-byte units */
	fp[9] = MP_SPEC_REV;
	fp[10] = checksum8(fp, 16);
	return guest_mem_write(mem, BOOT_MPTABLE_ADDR, table, 16 + length);
}
