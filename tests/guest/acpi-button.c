/* Waits for the ACPI power button as an ACPI operating system does:
 * PWRBTN_EN set in PM1 enable, asleep in HLT until the SCI (IRQ 9)
 * arrives, PWRBTN_STS read and cleared, then the machine powered off (S5).
 * Prints "acpi-button: waiting" once listening and "acpi-button: pressed". */
#include "runtime.h"

/* Our PM block's place for direct boot (engine/hw/acpi_pm.h ACPI_PM_BASE)
 * and its PM1 event registers (ACPI 6.4, 4.8.3.1). */
#define PM_BASE 0x600
#define PM1_STS (PM_BASE + 0)
#define PM1_EN (PM_BASE + 2)
#define PM1_PWRBTN (1u << 8)   /* PWRBTN_STS / PWRBTN_EN (tables 4.11, 4.12) */
#define SCI_IRQ 9              /* the FADT's SCI_INT on our platform */
#define IRQ_VECTOR(irq) (0x20 + (irq))

static volatile bool pressed;

static void on_sci(unsigned vector)
{
	(void)vector;
	if (inw(PM1_STS) & PM1_PWRBTN) {
		outw(PM1_STS, PM1_PWRBTN);  /* write 1 to clear: the SCI goes down */
		pressed = true;
	}
}

int main(void)
{
	interrupts_init();
	set_handler(IRQ_VECTOR(SCI_IRQ), on_sci);
	pic_unmask(SCI_IRQ);
	outw(PM1_EN, PM1_PWRBTN);
	print("acpi-button: waiting\n");
	while (!pressed)
		wait_for_interrupt();
	print("acpi-button: pressed\n");
	return 0;
}
