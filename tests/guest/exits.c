/* For tests/bench: EXIT_COUNT port writes, each a VM exit to the engine. */
#include "runtime.h"

#ifndef EXIT_COUNT
#define EXIT_COUNT 200000
#endif
#define UNCLAIMED_PORT 0xE0

int main(void)
{
	print("exits: start\n");
	for (unsigned i = 0; i < EXIT_COUNT; i++)
		outb(UNCLAIMED_PORT, 0);
	print("exits: done %u\n", (unsigned)EXIT_COUNT);
	return 0;
}
