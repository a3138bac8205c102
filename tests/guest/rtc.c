/* Reads the CMOS clock as a BIOS does: waits for UIP to clear, honours
 * register B's binary and 12-hour bits, prints ISO date and time (UTC). */
#include "runtime.h"

#define CMOS_INDEX 0x70
#define CMOS_DATA 0x71
#define REG_A_UIP 0x80
#define REG_B_BINARY 0x04
#define REG_B_24H 0x02
#define REG_D_VRT 0x80
#define HOUR_PM 0x80

static uint8_t cmos(uint8_t index)
{
	outb(CMOS_INDEX, index);
	return inb(CMOS_DATA);
}

static unsigned decode(uint8_t value, bool binary)
{
	return binary ? value : (value >> 4) * 10u + (value & 0x0F);
}

int main(void)
{
	while (cmos(0x0A) & REG_A_UIP)
		;
	uint8_t b = cmos(0x0B);
	bool binary = b & REG_B_BINARY;
	uint8_t raw_hour = cmos(0x04);
	unsigned hour = decode(raw_hour & (uint8_t)~HOUR_PM, binary);
	if (!(b & REG_B_24H))
		hour = hour % 12 + ((raw_hour & HOUR_PM) ? 12 : 0);
	print("rtc: %u%02u-%02u-%02u %02u:%02u:%02u\n", decode(cmos(0x32), binary), decode(cmos(0x09), binary),
	      decode(cmos(0x08), binary), decode(cmos(0x07), binary), hour, decode(cmos(0x02), binary),
	      decode(cmos(0x00), binary));
	if (!(cmos(0x0D) & REG_D_VRT)) {
		print("rtc: FAIL register D says the time is not valid\n");
		return 1;
	}
	print("rtc: PASS\n");
	return 0;
}
