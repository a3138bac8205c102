/* The PS/2 keyboard and mouse as Linux's i8042, atkbd and psmouse drivers
 * set them up: flush, the controller's command byte with translation and
 * both ports on (interrupts off: this guest polls), keyboard reset and
 * scanning, mouse reset, the 200/100/80 sample-rate knock that turns on the
 * IntelliMouse wheel, stream mode. Then every byte is printed as it comes:
 * "kbd XX" for the keyboard (scan set 1, as translated), "mouse B0 DX DY DZ"
 * per four-byte mouse packet. Set-1 0x10 (q pressed) ends the guest. */
#include "runtime.h"

#define I8042_DATA 0x60
#define I8042_STATUS 0x64
#define I8042_COMMAND 0x64
#define STATUS_OBF 0x01
#define STATUS_IBF 0x02
#define STATUS_AUX 0x20
#define CMD_WRITE_CB 0x60
#define CMD_ENABLE_AUX 0xA8
#define CMD_ENABLE_KBD 0xAE
#define CMD_WRITE_AUX 0xD4
#define CB_TRANSLATE 0x40
#define CB_SYSTEM 0x04
#define DEV_RESET 0xFF
#define DEV_SET_RATE 0xF3
#define DEV_GET_ID 0xF2
#define DEV_ENABLE 0xF4
#define ACK 0xFA
#define SET1_Q 0x10

static void wait_input_empty(void)
{
	while (inb(I8042_STATUS) & STATUS_IBF)
		;
}

static int read_byte(void)
{
	for (unsigned tries = 0; tries < 100000; tries++)
		if (inb(I8042_STATUS) & STATUS_OBF)
			return inb(I8042_DATA);
	return -1;
}

static void controller(uint8_t command)
{
	wait_input_empty();
	outb(I8042_COMMAND, command);
}

static void to_device(bool aux, uint8_t byte)
{
	if (aux)
		controller(CMD_WRITE_AUX);
	wait_input_empty();
	outb(I8042_DATA, byte);
}

/* Sends a command (and an argument) and checks the ACKs. */
static bool command(bool aux, uint8_t cmd, int arg)
{
	to_device(aux, cmd);
	if (read_byte() != ACK)
		return false;
	if (arg >= 0) {
		to_device(aux, (uint8_t)arg);
		return read_byte() == ACK;
	}
	return true;
}

static bool set_up(void)
{
	while (inb(I8042_STATUS) & STATUS_OBF)
		inb(I8042_DATA);
	controller(CMD_WRITE_CB);
	wait_input_empty();
	outb(I8042_DATA, CB_TRANSLATE | CB_SYSTEM);  /* translation on, IRQs off, both ports on */
	controller(CMD_ENABLE_KBD);
	controller(CMD_ENABLE_AUX);
	if (!command(false, DEV_RESET, -1) || read_byte() != 0xAA)
		return false;
	if (!command(true, DEV_RESET, -1) || read_byte() != 0xAA || read_byte() != 0x00)
		return false;
	if (!command(true, DEV_SET_RATE, 200) || !command(true, DEV_SET_RATE, 100) || !command(true, DEV_SET_RATE, 80) ||
	    !command(true, DEV_GET_ID, -1))
		return false;
	int id = read_byte();
	print("ps2: mouse id %d\n", id);
	return id == 3 && command(true, DEV_ENABLE, -1) && command(false, DEV_ENABLE, -1);
}

int main(void)
{
	if (!set_up()) {
		print("ps2: FAIL set-up\n");
		return 1;
	}
	print("ps2: ready\n");
	uint8_t packet[4];
	unsigned have = 0;
	for (;;) {
		uint8_t status = inb(I8042_STATUS);
		if (!(status & STATUS_OBF))
			continue;
		uint8_t byte = inb(I8042_DATA);
		if (status & STATUS_AUX) {
			packet[have++] = byte;
			if (have == 4) {
				print("mouse %02x %02x %02x %02x\n", packet[0], packet[1], packet[2], packet[3]);
				have = 0;
			}
			continue;
		}
		print("kbd %02x\n", byte);
		if (byte == SET1_Q)
			return 0;
	}
}
