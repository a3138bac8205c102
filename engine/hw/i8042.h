/* The PC keyboard controller (8042) with a PS/2 keyboard and mouse behind it. */
#ifndef VIREO_HW_I8042_H
#define VIREO_HW_I8042_H

#include <glib.h>
#include <stddef.h>
#include <stdint.h>

#include "core/bus.h"
#include "core/device.h"
#include "core/irq.h"

#define I8042_QUEUE_SIZE 64

/* Bytes waiting to reach the controller's one-byte output buffer. */
struct i8042_queue {
	uint8_t data[I8042_QUEUE_SIZE];
	unsigned head, count;
};

struct ps2_keyboard {
	struct i8042_queue out;      /* raw scan set 2 and command replies */
	uint8_t pending_command;     /* command awaiting its data byte, or 0 */
	uint8_t scan_set;
	uint8_t leds;
	uint8_t typematic;
	bool scanning;
};

struct ps2_mouse {
	struct i8042_queue out;
	uint8_t pending_command;
	uint8_t id;                  /* 0 PS/2, 3 IntelliMouse, 4 IntelliMouse Explorer */
	uint8_t rate, resolution;
	uint8_t recent_rates[3];     /* the sample-rate "knock" that unlocks the wheel */
	bool scaling_2to1;
	bool reporting;
	unsigned buttons;
};

struct i8042 {
	GMutex lock;
	uint8_t status;
	uint8_t command_byte;
	uint8_t output_port;
	uint8_t pending_command;     /* controller command awaiting a data byte, or 0 */
	uint8_t out_byte;            /* the output buffer (valid while status OBF) */
	bool translate_break;        /* set-2 0xF0 seen while translating */
	struct i8042_queue ctrl;     /* controller replies and 0xD2 bytes, as keyboard data */
	struct i8042_queue ctrl_aux; /* 0xD3 bytes, as mouse data */
	struct ps2_keyboard kbd;
	struct ps2_mouse mouse;
	struct irq_line kbd_irq, aux_irq;
	void (*request_reset)(void *opaque);
	void *opaque;
};

int i8042_init(struct i8042 *kbc, struct bus *pio, struct irq_line kbd_irq, struct irq_line aux_irq,
	       void (*request_reset)(void *opaque), void *opaque);
void i8042_destroy(struct i8042 *kbc);

extern const struct device_ops i8042_device_ops;

/* Input from the console: key make/break codes in scan set 2, and mouse
 * motion (dy positive = up, dz positive = wheel up) with buttons (bit 0 left,
 * 1 right, 2 middle, 3 side, 4 extra). */
void i8042_put_kbd_scancodes(struct i8042 *kbc, const uint8_t *set2, size_t n);
void i8042_put_mouse_event(struct i8042 *kbc, int dx, int dy, int dz, unsigned buttons);

#endif
