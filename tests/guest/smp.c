/* Starts every application processor (runtime's start_aps). Each AP counts
 * itself in with a locked increment and halts; the BSP reports how many
 * arrived. The CPU count comes from the command line: "cpus=N". */
#include "runtime.h"

#define LAPIC_ID 0xFEE00020u
#define COUNTER 0x8100u

/* 16-bit code: lock inc word [COUNTER]; cli; hlt; jmp to the hlt. */
static const uint8_t trampoline[] = { 0xF0, 0xFF, 0x06, COUNTER & 0xFF, COUNTER >> 8, 0xFA, 0xF4, 0xEB, 0xFD };

static unsigned expected_cpus(void)
{
	const char *p = cmdline_find("cpus=");
	unsigned n = 0;
	for (; p && *p >= '0' && *p <= '9'; p++)
		n = n * 10 + (unsigned)(*p - '0');
	return p ? n : 1;
}

int main(void)
{
	volatile uint16_t *counter = (volatile uint16_t *)COUNTER;
	unsigned want = expected_cpus();
	*counter = 0;
	print("smp: BSP has APIC ID %u, starting %u APs\n", *(volatile uint32_t *)LAPIC_ID >> 24, want - 1);
	start_aps(trampoline, sizeof(trampoline));
	for (unsigned spins = 0; *counter < want - 1 && spins < 2000000; spins++)
		;
	print("smp: %u CPUs up\n", *counter + 1u);
	return *counter + 1u == want ? 0 : 1;
}
