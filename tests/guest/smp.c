/* Starts every application processor the way an OS does (Intel SDM vol. 3A
 * §8.4.4, "MP initialization example"): INIT, then two STARTUP IPIs whose
 * vector points at a real-mode trampoline below 1 MiB. Each AP counts itself
 * in with a locked increment and halts; the BSP reports how many arrived.
 * The CPU count comes from the command line: "cpus=N". */
#include "runtime.h"

#define LAPIC_BASE 0xFEE00000u
#define LAPIC_ID 0x20
#define LAPIC_ICR_LOW 0x300
#define LAPIC_ICR_HIGH 0x310
#define ICR_INIT 0x00000500u
#define ICR_STARTUP 0x00000600u
#define ICR_ASSERT 0x00004000u
#define ICR_ALL_BUT_SELF 0x000C0000u
#define ICR_BUSY 0x00001000u
#define TRAMPOLINE 0x8000u
#define COUNTER 0x8100u

/* 16-bit code: lock inc word [COUNTER]; cli; hlt; jmp to the hlt. */
static const uint8_t trampoline[] = { 0xF0, 0xFF, 0x06, COUNTER & 0xFF, COUNTER >> 8, 0xFA, 0xF4, 0xEB, 0xFD };

static volatile uint32_t *lapic(unsigned reg)
{
	return (volatile uint32_t *)(LAPIC_BASE + reg);
}

static void send_ipi(uint32_t command)
{
	*lapic(LAPIC_ICR_HIGH) = 0;
	*lapic(LAPIC_ICR_LOW) = command;
	while (*lapic(LAPIC_ICR_LOW) & ICR_BUSY)
		;
}

static unsigned expected_cpus(const struct hvm_start_info *info)
{
	const char *p = (const char *)(uintptr_t)info->cmdline_paddr;
	for (; p && *p; p++) {
		if (p[0] == 'c' && p[1] == 'p' && p[2] == 'u' && p[3] == 's' && p[4] == '=') {
			unsigned n = 0;
			for (p += 5; *p >= '0' && *p <= '9'; p++)
				n = n * 10 + (unsigned)(*p - '0');
			return n;
		}
	}
	return 1;
}

int main(void)
{
	volatile uint16_t *counter = (volatile uint16_t *)COUNTER;
	unsigned want = expected_cpus(start_info);
	for (unsigned i = 0; i < sizeof(trampoline); i++)
		((volatile uint8_t *)TRAMPOLINE)[i] = trampoline[i];
	*counter = 0;
	print("smp: BSP has APIC ID %u, starting %u APs\n", *lapic(LAPIC_ID) >> 24, want - 1);
	send_ipi(ICR_ALL_BUT_SELF | ICR_ASSERT | ICR_INIT);
	for (int i = 0; i < 2; i++)
		send_ipi(ICR_ALL_BUT_SELF | ICR_ASSERT | ICR_STARTUP | (TRAMPOLINE >> 12));
	for (unsigned spins = 0; *counter < want - 1 && spins < 2000000; spins++)
		;
	print("smp: %u CPUs up\n", *counter + 1u);
	return *counter + 1u == want ? 0 : 1;
}
