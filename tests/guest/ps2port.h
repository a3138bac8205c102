/* The i8042 controller for test guests, polled as Linux's i8042 driver
 * talks to it: controller commands on 0x64, device bytes on 0x60 (with 0xD4
 * first for the mouse port), ACKs read back. */
#ifndef GUEST_PS2PORT_H
#define GUEST_PS2PORT_H

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
#define CB_KBD_IRQ 0x01
#define CB_SYSTEM 0x04
#define CB_AUX_OFF 0x20
#define CB_TRANSLATE 0x40
#define DEV_RESET 0xFF
#define DEV_SET_RATE 0xF3
#define DEV_GET_ID 0xF2
#define DEV_ENABLE 0xF4
#define ACK 0xFA
#define SELF_TEST_OK 0xAA
#define SET1_Q 0x10
#define SET1_BREAK 0x80

/* Reads what the controller holds until it is empty. */
void ps2_flush(void);
/* The next byte, or -1 when none comes in a while. */
int ps2_read_byte(void);
void ps2_controller(uint8_t command);
void ps2_write_command_byte(uint8_t cb);
/* A command (and an argument unless arg < 0) to the keyboard or, with
 * `aux`, the mouse; true when each byte was ACKed. */
bool ps2_device_command(bool aux, uint8_t cmd, int arg);

#endif
