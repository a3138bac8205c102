/* Host probe: can this KVM run kernel code natively? An int3 at CPL0 with
 * our own handler works everywhere KVM runs guests in hardware; KVM hosts
 * that emulate guest kernel code stop here with an internal error. */
#include "runtime.h"

static volatile bool trapped;

static void on_breakpoint(unsigned vector)
{
	(void)vector;
	trapped = true;
}

int main(void)
{
	interrupts_init();
	set_handler(3, on_breakpoint);
	__asm__ volatile("int3");
	print(trapped ? "probe: int3 ok\n" : "probe: FAIL int3 handler did not run\n");
	return 0;
}
