/* A small interactive guest the app tests run as a machine: a banner, then
 * every byte typed on COM1 is echoed until 'q' or Ctrl-D. (./setup.sh run's
 * demo on hosts that cannot run Linux is boot/ built with BOOT_DEMO.) */
#include "runtime.h"

int main(void)
{
	uint8_t byte;
	print("\n  Vireo demo guest\n"
	      "  ----------------\n"
	      "  Running on vireo-engine under KVM. Type and your keys are echoed;\n"
	      "  'q' or Ctrl-D ends the machine.\n\n> ");
	for (;;) {
		if (!serial_poll(&byte))
			continue;
		if (byte == 'q' || byte == 0x04)
			break;
		if (byte == '\r' || byte == '\n')
			print("\n> ");
		else
			serial_putc((char)byte);
	}
	print("\nbye\n");
	return 0;
}
