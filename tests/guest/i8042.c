/* The keyboard controller's self-test and command byte, then a reset
 * through it (0xFE pulses the CPU reset line), as Linux's reboot=k does.
 * A PC's reset keeps RAM: the guest counts its boots in RAM past its image
 * (a mark the engine's loader never writes) and says which boot this is. */
#include "runtime.h"

#define I8042_DATA 0x60
#define I8042_STATUS 0x64
#define I8042_COMMAND 0x64
#define STATUS_OBF 0x01
#define CMD_READ_CB 0x20
#define CMD_SELF_TEST 0xAA
#define SELF_TEST_OK 0x55
#define BOOT_COUNT_ADDR 0x600000u
#define BOOT_COUNT_MAGIC 0x564F4F42u   /* "BOOV" */

struct boot_count {
	uint32_t magic;
	uint32_t boots;
};

/* 1 on the first boot (RAM as the engine gave it), then one more each time. */
static uint32_t count_boot(void)
{
	volatile struct boot_count *count = (volatile struct boot_count *)BOOT_COUNT_ADDR;
	if (count->magic != BOOT_COUNT_MAGIC) {
		count->magic = BOOT_COUNT_MAGIC;
		count->boots = 0;
	}
	return ++count->boots;
}

static int read_reply(void)
{
	for (int tries = 0; tries < 1000; tries++)
		if (inb(I8042_STATUS) & STATUS_OBF)
			return inb(I8042_DATA);
	return -1;
}

int main(void)
{
	print("i8042: boot %u\n", (unsigned)count_boot());
	while (inb(I8042_STATUS) & STATUS_OBF) /* flush */
		inb(I8042_DATA);
	outb(I8042_COMMAND, CMD_SELF_TEST);
	int reply = read_reply();
	if (reply != SELF_TEST_OK) {
		print("i8042: FAIL self-test replied %d\n", reply);
		return 1;
	}
	outb(I8042_COMMAND, CMD_READ_CB);
	print("i8042: selftest ok, command byte %02x\n", (unsigned)read_reply());
	print("i8042: resetting\n");
	guest_reset();
}
