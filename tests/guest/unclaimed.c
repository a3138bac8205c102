/* Touches what a PC OS probes and we do not emulate, as Linux does at
 * boot: COM2's scratch register (8250 probe) and the HPET's capability
 * register. Nobody claims them, so reads give all ones; --trace unclaimed
 * names each access. */
#include "runtime.h"

#define COM2_SCRATCH 0x2FF
#define HPET_CAPABILITIES 0xFED00000u

int main(void)
{
	outb(COM2_SCRATCH, 0x5A);
	uint8_t scratch = inb(COM2_SCRATCH);
	uint32_t hpet = *(volatile uint32_t *)HPET_CAPABILITIES;
	print("unclaimed: COM2 scratch %02x, HPET %08x\n", scratch, hpet);
	if (scratch != 0xFF || hpet != 0xFFFFFFFFu) {
		print("unclaimed: FAIL an unclaimed access did not read all ones\n");
		return 1;
	}
	print("unclaimed: PASS\n");
	return 0;
}
