/* The PS/2 keyboard and mouse as Linux's i8042, atkbd and psmouse drivers
 * set them up: flush, the controller's command byte with translation and
 * both ports on (interrupts off: this guest polls), keyboard reset and
 * scanning, mouse reset, the 200/100/80 sample-rate knock that turns on the
 * IntelliMouse wheel, stream mode. Then every byte is printed as it comes:
 * "kbd XX" for the keyboard (scan set 1, as translated), "mouse B0 DX DY DZ"
 * per four-byte mouse packet. Set-1 0x10 (q pressed) ends the guest. */
#include "ps2port.h"

static bool set_up(void)
{
	ps2_flush();
	ps2_write_command_byte(CB_TRANSLATE | CB_SYSTEM);  /* translation on, IRQs off, both ports on */
	ps2_controller(CMD_ENABLE_KBD);
	ps2_controller(CMD_ENABLE_AUX);
	if (!ps2_device_command(false, DEV_RESET, -1) || ps2_read_byte() != SELF_TEST_OK)
		return false;
	if (!ps2_device_command(true, DEV_RESET, -1) || ps2_read_byte() != SELF_TEST_OK || ps2_read_byte() != 0x00)
		return false;
	if (!ps2_device_command(true, DEV_SET_RATE, 200) || !ps2_device_command(true, DEV_SET_RATE, 100) ||
	    !ps2_device_command(true, DEV_SET_RATE, 80) || !ps2_device_command(true, DEV_GET_ID, -1))
		return false;
	int id = ps2_read_byte();
	print("ps2: mouse id %d\n", id);
	return id == 3 && ps2_device_command(true, DEV_ENABLE, -1) && ps2_device_command(false, DEV_ENABLE, -1);
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
