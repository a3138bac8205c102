/* What the CPU model shows the guest (Intel SDM vol. 2A, CPUID leaf 1):
 * CMPXCHG16B (ECX bit 13), the hypervisor bit (ECX bit 31), this CPU's
 * initial APIC ID (EBX 31:24) and the logical processor count (EBX 23:16). */
#include "runtime.h"

static void cpuid(uint32_t leaf, uint32_t *a, uint32_t *b, uint32_t *c, uint32_t *d)
{
	__asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(0));
}

int main(void)
{
	uint32_t a, b, c, d;
	cpuid(1, &a, &b, &c, &d);
	print("cpuid: cx16=%u hypervisor=%u apic=%u logical=%u\n", (c >> 13) & 1, c >> 31, b >> 24,
	      (b >> 16) & 0xFF);
	return 0;
}
