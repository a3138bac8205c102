/* The text-mode benchmark's guest (tests/bench/vga-text-writes.py): fills
 * the 80x25 text screen at 0xB8000 SCREENS times, one 16-bit store per
 * cell, as a BIOS or a boot loader's console does, between two COM1 lines
 * whose arrival the benchmark times. The last screen is read back, so the
 * stores are known to have reached the device. */
#include "runtime.h"

#define TEXT_BUFFER 0xB8000u
#define CELLS       (80 * 25)
#define SCREENS     25

static volatile uint16_t *const text = (volatile uint16_t *)TEXT_BUFFER;

static uint16_t cell(unsigned screen, unsigned i)
{
	return (uint16_t)((0x10 + screen % 7) << 8 | ('A' + (i + screen) % 26));
}

int main(void)
{
	print("vga-text-bench: start\n");
	for (unsigned screen = 0; screen < SCREENS; screen++)
		for (unsigned i = 0; i < CELLS; i++)
			text[i] = cell(screen, i);
	for (unsigned i = 0; i < CELLS; i++) {
		if (text[i] != cell(SCREENS - 1, i)) {
			print("vga-text-bench: FAIL cell %u reads %04x\n", i, text[i]);
			return 1;
		}
	}
	print("vga-text-bench: done, %u stores\n", SCREENS * CELLS);
	return 0;
}
