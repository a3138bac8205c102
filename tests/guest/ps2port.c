/* See ps2port.h. */
#include "ps2port.h"

static void wait_input_empty(void)
{
	while (inb(I8042_STATUS) & STATUS_IBF)
		;
}

void ps2_flush(void)
{
	while (inb(I8042_STATUS) & STATUS_OBF)
		inb(I8042_DATA);
}

int ps2_read_byte(void)
{
	for (unsigned tries = 0; tries < 100000; tries++)
		if (inb(I8042_STATUS) & STATUS_OBF)
			return inb(I8042_DATA);
	return -1;
}

void ps2_controller(uint8_t command)
{
	wait_input_empty();
	outb(I8042_COMMAND, command);
}

void ps2_write_command_byte(uint8_t cb)
{
	ps2_controller(CMD_WRITE_CB);
	wait_input_empty();
	outb(I8042_DATA, cb);
}

static void to_device(bool aux, uint8_t byte)
{
	if (aux)
		ps2_controller(CMD_WRITE_AUX);
	wait_input_empty();
	outb(I8042_DATA, byte);
}

bool ps2_device_command(bool aux, uint8_t cmd, int arg)
{
	to_device(aux, cmd);
	if (ps2_read_byte() != ACK)
		return false;
	if (arg >= 0) {
		to_device(aux, (uint8_t)arg);
		return ps2_read_byte() == ACK;
	}
	return true;
}
