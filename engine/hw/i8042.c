/* The 8042 keyboard controller as on PC/AT boards, with a PS/2 keyboard (scan
 * set 2, translated to set 1 when the command byte asks) and a PS/2 mouse
 * (IntelliMouse wheel and Explorer buttons after their sample-rate knocks).
 * Ports 0x60 (data) and 0x64 (status/command). Facts from the IBM PC/AT
 * technical reference (8042 commands), the IBM PS/2 hardware interface
 * technical reference (keyboard and mouse commands) and Microsoft's
 * IntelliMouse protocol note. Pulsing output-port bit 0 (0xFE, or 0xD1 with
 * bit 0 clear) asks the machine to reset. */
#include "i8042.h"

#include <string.h>

#define I8042_DATA_PORT 0x60
#define I8042_CMD_PORT  0x64

/* Status register. */
#define STS_OBF     0x01
#define STS_SYS     0x04
#define STS_CMD     0x08 /* last write was to the command port */
#define STS_UNLOCK  0x10 /* keyboard not inhibited */
#define STS_AUX_OBF 0x20

/* Command byte. */
#define CB_KBD_INT   0x01
#define CB_AUX_INT   0x02
#define CB_SYS       0x04
#define CB_KBD_OFF   0x10
#define CB_AUX_OFF   0x20
#define CB_XLATE     0x40

/* Controller commands. */
#define CMD_READ_CB        0x20
#define CMD_WRITE_CB       0x60
#define CMD_AUX_DISABLE    0xA7
#define CMD_AUX_ENABLE     0xA8
#define CMD_AUX_TEST       0xA9
#define CMD_SELF_TEST      0xAA
#define CMD_KBD_TEST       0xAB
#define CMD_KBD_DISABLE    0xAD
#define CMD_KBD_ENABLE     0xAE
#define CMD_READ_INPUT     0xC0
#define CMD_READ_OUTPUT    0xD0
#define CMD_WRITE_OUTPUT   0xD1
#define CMD_WRITE_KBD_OBUF 0xD2
#define CMD_WRITE_AUX_OBUF 0xD3
#define CMD_WRITE_AUX      0xD4
#define CMD_READ_TEST      0xE0
#define CMD_PULSE_FIRST    0xF0

#define SELF_TEST_OK  0x55
#define PORT_TEST_OK  0x00
#define OUT_RESET     0x01 /* output port bit 0: CPU reset line, active low */
#define OUT_A20       0x02
#define INPUT_PORT_UNLOCKED 0x80

/* Device replies and commands shared by keyboard and mouse. */
#define PS2_ACK      0xFA
#define PS2_RESEND   0xFE
#define PS2_BAT_OK   0xAA
#define PS2_RESET    0xFF
#define PS2_DEFAULTS 0xF6
#define PS2_DISABLE  0xF5
#define PS2_ENABLE   0xF4
#define PS2_RATE     0xF3
#define PS2_GET_ID   0xF2

/* Keyboard-only commands. */
#define KBD_SET_LEDS  0xED
#define KBD_ECHO      0xEE
#define KBD_SCAN_SET  0xF0
#define KBD_ID_1      0xAB
#define KBD_ID_2      0x83
#define SET2_BREAK    0xF0

/* Mouse-only commands. */
#define MOUSE_SCALING_1TO1 0xE6
#define MOUSE_SCALING_2TO1 0xE7
#define MOUSE_RESOLUTION   0xE8
#define MOUSE_STATUS       0xE9
#define MOUSE_STREAM_MODE  0xEA
#define MOUSE_READ_DATA    0xEB
#define MOUSE_RESET_WRAP   0xEC
#define MOUSE_WRAP_MODE    0xEE
#define MOUSE_REMOTE_MODE  0xF0
#define MOUSE_ID_PS2       0x00
#define MOUSE_ID_WHEEL     0x03
#define MOUSE_ID_EXPLORER  0x04

/* Scan set 2 to set 1, as the controller translates (the table of the
 * PC/AT's 8042 firmware). Codes 0x84 and up pass through unchanged. */
static const uint8_t set2_to_set1[0x85] = {
	0xff, 0x43, 0x41, 0x3f, 0x3d, 0x3b, 0x3c, 0x58, 0x64, 0x44, 0x42, 0x40, 0x3e, 0x0f, 0x29, 0x59,
	0x65, 0x38, 0x2a, 0x70, 0x1d, 0x10, 0x02, 0x5a, 0x66, 0x71, 0x2c, 0x1f, 0x1e, 0x11, 0x03, 0x5b,
	0x67, 0x2e, 0x2d, 0x20, 0x12, 0x05, 0x04, 0x5c, 0x68, 0x39, 0x2f, 0x21, 0x14, 0x13, 0x06, 0x5d,
	0x69, 0x31, 0x30, 0x23, 0x22, 0x15, 0x07, 0x5e, 0x6a, 0x72, 0x32, 0x24, 0x16, 0x08, 0x09, 0x5f,
	0x6b, 0x33, 0x25, 0x17, 0x18, 0x0b, 0x0a, 0x60, 0x6c, 0x34, 0x35, 0x26, 0x27, 0x19, 0x0c, 0x61,
	0x6d, 0x73, 0x28, 0x74, 0x1a, 0x0d, 0x62, 0x6e, 0x3a, 0x36, 0x1c, 0x1b, 0x75, 0x2b, 0x63, 0x76,
	0x55, 0x56, 0x77, 0x78, 0x79, 0x7a, 0x0e, 0x7b, 0x7c, 0x4f, 0x7d, 0x4b, 0x47, 0x7e, 0x7f, 0x6f,
	0x52, 0x53, 0x50, 0x4c, 0x4d, 0x48, 0x01, 0x45, 0x57, 0x4e, 0x51, 0x4a, 0x37, 0x49, 0x46, 0x54,
	0x80, 0x81, 0x82, 0x41, 0x54,
};

static void queue_clear(struct i8042_queue *q)
{
	memset(q, 0, sizeof(*q));  /* no stale bytes in saved state */
}

/* A full queue drops the byte, as a device whose buffer overflowed would. */
static void queue_push(struct i8042_queue *q, uint8_t byte)
{
	if (q->count == I8042_QUEUE_SIZE)
		return;
	q->data[(q->head + q->count) % I8042_QUEUE_SIZE] = byte;
	q->count++;
}

static uint8_t queue_pop(struct i8042_queue *q)
{
	uint8_t byte = q->data[q->head];
	q->head = (q->head + 1) % I8042_QUEUE_SIZE;
	q->count--;
	return byte;
}

static unsigned queue_room(const struct i8042_queue *q)
{
	return I8042_QUEUE_SIZE - q->count;
}

/* --- keyboard --------------------------------------------------------- */

static void kbd_reset(struct ps2_keyboard *kbd)
{
	queue_clear(&kbd->out);
	kbd->pending_command = 0;
	kbd->scan_set = 2;
	kbd->leds = 0;
	kbd->typematic = 0x2B; /* 10.9 characters/s after 500 ms */
	kbd->scanning = true;
}

static void kbd_command_data(struct ps2_keyboard *kbd, uint8_t data)
{
	uint8_t command = kbd->pending_command;
	kbd->pending_command = 0;
	queue_push(&kbd->out, PS2_ACK);
	if (command == KBD_SET_LEDS)
		kbd->leds = data & 7;
	else if (command == PS2_RATE)
		kbd->typematic = data & 0x7F;
	else if (command == KBD_SCAN_SET && data == 0)
		queue_push(&kbd->out, kbd->scan_set);
	else if (command == KBD_SCAN_SET && data <= 3)
		kbd->scan_set = data;
}

static void kbd_write(struct ps2_keyboard *kbd, uint8_t byte)
{
	if (kbd->pending_command) {
		kbd_command_data(kbd, byte);
		return;
	}
	switch (byte) {
	case KBD_SET_LEDS:
	case PS2_RATE:
	case KBD_SCAN_SET:
		kbd->pending_command = byte;
		queue_push(&kbd->out, PS2_ACK);
		break;
	case KBD_ECHO:
		queue_push(&kbd->out, KBD_ECHO);
		break;
	case PS2_GET_ID:
		queue_push(&kbd->out, PS2_ACK);
		queue_push(&kbd->out, KBD_ID_1);
		queue_push(&kbd->out, KBD_ID_2);
		break;
	case PS2_ENABLE:
		kbd->scanning = true;
		queue_push(&kbd->out, PS2_ACK);
		break;
	case PS2_DISABLE:
	case PS2_DEFAULTS:
		kbd_reset(kbd);
		kbd->scanning = byte == PS2_DEFAULTS;
		queue_push(&kbd->out, PS2_ACK);
		break;
	case PS2_RESET:
		kbd_reset(kbd);
		queue_push(&kbd->out, PS2_ACK);
		queue_push(&kbd->out, PS2_BAT_OK);
		break;
	default:
		queue_push(&kbd->out, PS2_RESEND);
		break;
	}
}

/* --- mouse ------------------------------------------------------------ */

static void mouse_defaults(struct ps2_mouse *m)
{
	m->rate = 100;
	m->resolution = 2; /* 4 counts/mm */
	m->scaling_2to1 = false;
	m->reporting = false;
	memset(m->recent_rates, 0, sizeof(m->recent_rates));
}

static void mouse_reset(struct ps2_mouse *m)
{
	queue_clear(&m->out);
	m->pending_command = 0;
	m->id = MOUSE_ID_PS2;
	m->buttons = 0;
	mouse_defaults(m);
}

/* IntelliMouse: rates 200, 100, 80 unlock the wheel (id 3); then 200, 200,
 * 80 unlock the Explorer's fourth and fifth buttons (id 4). */
static void mouse_note_rate(struct ps2_mouse *m, uint8_t rate)
{
	memmove(m->recent_rates, m->recent_rates + 1, 2);
	m->recent_rates[2] = rate;
	const uint8_t *r = m->recent_rates;
	if (r[0] == 200 && r[1] == 100 && r[2] == 80 && m->id == MOUSE_ID_PS2)
		m->id = MOUSE_ID_WHEEL;
	else if (r[0] == 200 && r[1] == 200 && r[2] == 80 && m->id == MOUSE_ID_WHEEL)
		m->id = MOUSE_ID_EXPLORER;
}

static void mouse_push_packet(struct ps2_mouse *m, int dx, int dy, int dz);

static void mouse_status(struct ps2_mouse *m)
{
	/* Byte 1: remote 0x40, enabled 0x20, scaling 0x10, L 0x04, M 0x02 ... R 0x01. */
	uint8_t status = (uint8_t)((m->reporting ? 0x20 : 0) | (m->scaling_2to1 ? 0x10 : 0) |
				   ((m->buttons & 1) ? 0x04 : 0) | ((m->buttons & 4) ? 0x02 : 0) |
				   ((m->buttons & 2) ? 0x01 : 0));
	queue_push(&m->out, status);
	queue_push(&m->out, m->resolution);
	queue_push(&m->out, m->rate);
}

static void mouse_command_data(struct ps2_mouse *m, uint8_t data)
{
	uint8_t command = m->pending_command;
	m->pending_command = 0;
	queue_push(&m->out, PS2_ACK);
	if (command == PS2_RATE) {
		m->rate = data;
		mouse_note_rate(m, data);
	} else {
		m->resolution = data & 3;
	}
}

static void mouse_write(struct ps2_mouse *m, uint8_t byte)
{
	if (m->pending_command) {
		mouse_command_data(m, byte);
		return;
	}
	if (byte != PS2_RESET && byte != PS2_RATE && byte != MOUSE_RESOLUTION &&
	    byte != PS2_GET_ID && (byte < MOUSE_SCALING_1TO1 || byte > PS2_DEFAULTS)) {
		queue_push(&m->out, PS2_RESEND);
		return;
	}
	queue_push(&m->out, PS2_ACK);
	switch (byte) {
	case PS2_RESET:
		mouse_reset(m); /* drops pending output, the ACK above included */
		queue_push(&m->out, PS2_ACK);
		queue_push(&m->out, PS2_BAT_OK);
		queue_push(&m->out, MOUSE_ID_PS2);
		break;
	case PS2_RATE:
	case MOUSE_RESOLUTION:
		m->pending_command = byte;
		break;
	case PS2_GET_ID:
		queue_push(&m->out, m->id);
		break;
	case MOUSE_STATUS:
		mouse_status(m);
		break;
	case MOUSE_READ_DATA:
		mouse_push_packet(m, 0, 0, 0);
		break;
	case MOUSE_SCALING_1TO1:
	case MOUSE_SCALING_2TO1:
		m->scaling_2to1 = byte == MOUSE_SCALING_2TO1;
		break;
	case PS2_ENABLE:
	case PS2_DISABLE:
		m->reporting = byte == PS2_ENABLE;
		break;
	case PS2_DEFAULTS:
		mouse_defaults(m);
		break;
	default:
		break; /* stream/remote/wrap mode switches are acknowledged */
	}
}

static int clamp(int v, int lo, int hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* A movement packet (3 bytes, 4 with a wheel): buttons, sign and overflow
 * bits, then 9-bit two's-complement X and Y (Y positive is up). */
static void mouse_push_packet(struct ps2_mouse *m, int dx, int dy, int dz)
{
	unsigned size = m->id == MOUSE_ID_PS2 ? 3 : 4;
	if (queue_room(&m->out) < size)
		return;
	int x = clamp(dx, -256, 255), y = clamp(dy, -256, 255);
	uint8_t b0 = (uint8_t)(0x08 | (m->buttons & 7) | (x < 0 ? 0x10 : 0) | (y < 0 ? 0x20 : 0) |
			       (x != dx ? 0x40 : 0) | (y != dy ? 0x80 : 0));
	queue_push(&m->out, b0);
	queue_push(&m->out, (uint8_t)x);
	queue_push(&m->out, (uint8_t)y);
	if (m->id == MOUSE_ID_WHEEL)
		queue_push(&m->out, (uint8_t)(-clamp(dz, -127, 127)));
	else if (m->id == MOUSE_ID_EXPLORER)
		queue_push(&m->out, (uint8_t)((-clamp(dz, -8, 7) & 0x0F) | ((m->buttons & 0x18) << 1)));
}

/* --- controller ------------------------------------------------------- */

static uint8_t translate(struct i8042 *kbc, uint8_t set2)
{
	if (set2 == SET2_BREAK) {
		kbc->translate_break = true;
		return 0; /* swallowed: it only marks the next code as a break */
	}
	uint8_t set1 = set2 < sizeof(set2_to_set1) ? set2_to_set1[set2] : set2;
	if (kbc->translate_break)
		set1 |= 0x80;
	kbc->translate_break = false;
	return set1;
}

/* Loads the output buffer from the controller, keyboard or mouse queue
 * when it is empty. Returns true when a byte was loaded. */
static bool refill_output(struct i8042 *kbc)
{
	while (!(kbc->status & STS_OBF)) {
		if (kbc->ctrl.count) {
			kbc->out_byte = queue_pop(&kbc->ctrl);
			kbc->status |= STS_OBF;
		} else if (kbc->ctrl_aux.count) {
			kbc->out_byte = queue_pop(&kbc->ctrl_aux);
			kbc->status |= STS_OBF | STS_AUX_OBF;
		} else if (kbc->kbd.out.count && !(kbc->command_byte & CB_KBD_OFF)) {
			uint8_t byte = queue_pop(&kbc->kbd.out);
			if (kbc->command_byte & CB_XLATE) {
				byte = translate(kbc, byte);
				if (kbc->translate_break)
					continue;
			}
			kbc->out_byte = byte;
			kbc->status |= STS_OBF;
		} else if (kbc->mouse.out.count && !(kbc->command_byte & CB_AUX_OFF)) {
			kbc->out_byte = queue_pop(&kbc->mouse.out);
			kbc->status |= STS_OBF | STS_AUX_OBF;
		} else {
			return false;
		}
	}
	return true;
}

/* IRQ 1 and 12 follow a full output buffer of their source (edge-triggered
 * ISA lines latch the rising edge, so a read drops them first). */
static void update_irqs(struct i8042 *kbc)
{
	bool full = kbc->status & STS_OBF, aux = kbc->status & STS_AUX_OBF;
	irq_line_set(&kbc->kbd_irq, full && !aux && (kbc->command_byte & CB_KBD_INT));
	irq_line_set(&kbc->aux_irq, full && aux && (kbc->command_byte & CB_AUX_INT));
}

static uint8_t read_data(struct i8042 *kbc)
{
	uint8_t byte = kbc->out_byte; /* an empty buffer repeats the last byte */
	kbc->status &= ~(STS_OBF | STS_AUX_OBF);
	irq_line_set(&kbc->kbd_irq, false);
	irq_line_set(&kbc->aux_irq, false);
	refill_output(kbc);
	return byte;
}

/* Returns true when the write pulses the reset line. */
static bool write_output_port(struct i8042 *kbc, uint8_t value)
{
	kbc->output_port = value | OUT_A20; /* A20 stays enabled */
	return !(value & OUT_RESET);
}

/* A data byte following a controller command. Returns true to reset. */
static bool command_data(struct i8042 *kbc, uint8_t command, uint8_t data)
{
	switch (command) {
	case CMD_WRITE_CB:
		kbc->command_byte = data;
		kbc->status = (uint8_t)((kbc->status & ~STS_SYS) | (data & CB_SYS));
		return false;
	case CMD_WRITE_OUTPUT:
		return write_output_port(kbc, data);
	case CMD_WRITE_KBD_OBUF: /* loop back through the output buffer, ports disabled or not */
		queue_push(&kbc->ctrl, data);
		return false;
	case CMD_WRITE_AUX_OBUF:
		queue_push(&kbc->ctrl_aux, data);
		return false;
	default: /* CMD_WRITE_AUX */
		mouse_write(&kbc->mouse, data);
		return false;
	}
}

static bool controller_command(struct i8042 *kbc, uint8_t command)
{
	switch (command) {
	case CMD_READ_CB:
		queue_push(&kbc->ctrl, kbc->command_byte);
		break;
	case CMD_WRITE_CB:
	case CMD_WRITE_OUTPUT:
	case CMD_WRITE_KBD_OBUF:
	case CMD_WRITE_AUX_OBUF:
	case CMD_WRITE_AUX:
		kbc->pending_command = command;
		break;
	case CMD_AUX_DISABLE:
	case CMD_AUX_ENABLE:
		kbc->command_byte = (uint8_t)((kbc->command_byte & ~CB_AUX_OFF) |
					      (command == CMD_AUX_DISABLE ? CB_AUX_OFF : 0));
		break;
	case CMD_KBD_DISABLE:
	case CMD_KBD_ENABLE:
		kbc->command_byte = (uint8_t)((kbc->command_byte & ~CB_KBD_OFF) |
					      (command == CMD_KBD_DISABLE ? CB_KBD_OFF : 0));
		break;
	case CMD_SELF_TEST:
		kbc->status |= STS_SYS;
		queue_push(&kbc->ctrl, SELF_TEST_OK);
		break;
	case CMD_AUX_TEST:
	case CMD_KBD_TEST:
		queue_push(&kbc->ctrl, PORT_TEST_OK);
		break;
	case CMD_READ_INPUT:
		queue_push(&kbc->ctrl, INPUT_PORT_UNLOCKED);
		break;
	case CMD_READ_OUTPUT:
		queue_push(&kbc->ctrl, kbc->output_port);
		break;
	case CMD_READ_TEST:
		queue_push(&kbc->ctrl, 0);
		break;
	default:
		/* 0xF0-0xFF pulse the output-port bits whose mask bit is 0. */
		return command >= CMD_PULSE_FIRST && !(command & OUT_RESET);
	}
	return false;
}

static uint64_t read_port(struct i8042 *kbc, bool data_port)
{
	g_mutex_lock(&kbc->lock);
	uint8_t value = data_port ? read_data(kbc) : kbc->status;
	update_irqs(kbc);
	g_mutex_unlock(&kbc->lock);
	return value;
}

static void write_port(struct i8042 *kbc, bool data_port, uint8_t byte)
{
	bool reset;
	g_mutex_lock(&kbc->lock);
	if (!data_port) {
		kbc->status |= STS_CMD;
		kbc->pending_command = 0;
		reset = controller_command(kbc, byte);
	} else {
		uint8_t command = kbc->pending_command;
		kbc->status &= ~STS_CMD;
		kbc->pending_command = 0;
		reset = command ? command_data(kbc, command, byte) : false;
		if (!command)
			kbd_write(&kbc->kbd, byte);
	}
	refill_output(kbc);
	update_irqs(kbc);
	g_mutex_unlock(&kbc->lock);
	if (reset)
		kbc->request_reset(kbc->opaque);
}

static uint64_t data_read(void *opaque, uint64_t offset, unsigned size)
{
	(void)offset, (void)size;
	return read_port(opaque, true);
}

static void data_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
	(void)offset, (void)size;
	write_port(opaque, true, (uint8_t)value);
}

static uint64_t command_read(void *opaque, uint64_t offset, unsigned size)
{
	(void)offset, (void)size;
	return read_port(opaque, false);
}

static void command_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
	(void)offset, (void)size;
	write_port(opaque, false, (uint8_t)value);
}

void i8042_put_kbd_scancodes(struct i8042 *kbc, const uint8_t *set2, size_t n)
{
	g_mutex_lock(&kbc->lock);
	if (kbc->kbd.scanning && queue_room(&kbc->kbd.out) >= n)
		for (size_t i = 0; i < n; i++)
			queue_push(&kbc->kbd.out, set2[i]);
	refill_output(kbc);
	update_irqs(kbc);
	g_mutex_unlock(&kbc->lock);
}

void i8042_put_mouse_event(struct i8042 *kbc, int dx, int dy, int dz, unsigned buttons)
{
	g_mutex_lock(&kbc->lock);
	kbc->mouse.buttons = buttons;
	if (kbc->mouse.reporting)
		mouse_push_packet(&kbc->mouse, dx, dy, dz);
	refill_output(kbc);
	update_irqs(kbc);
	g_mutex_unlock(&kbc->lock);
}

static const struct bus_ops data_ops = { data_read, data_write, "i8042 data" };
static const struct bus_ops command_ops = { command_read, command_write, "i8042 command" };

/* As firmware leaves it: self-test passed, keyboard interrupt and
 * translation on, mouse port off until a driver enables it. */
static void power_on(struct i8042 *kbc)
{
	kbc->status = STS_SYS | STS_UNLOCK;
	kbc->command_byte = CB_KBD_INT | CB_SYS | CB_AUX_OFF | CB_XLATE;
	kbc->output_port = OUT_RESET | OUT_A20;
	kbc->pending_command = 0;
	kbc->out_byte = 0;
	kbc->translate_break = false;
	queue_clear(&kbc->ctrl);
	queue_clear(&kbc->ctrl_aux);
	kbd_reset(&kbc->kbd);
	mouse_reset(&kbc->mouse);
}

int i8042_init(struct i8042 *kbc, struct bus *pio, struct irq_line kbd_irq, struct irq_line aux_irq,
	       void (*request_reset)(void *opaque), void *opaque)
{
	int err;
	memset(kbc, 0, sizeof(*kbc));
	g_mutex_init(&kbc->lock);
	kbc->kbd_irq = kbd_irq;
	kbc->aux_irq = aux_irq;
	kbc->request_reset = request_reset;
	kbc->opaque = opaque;
	power_on(kbc);
	if ((err = bus_register(pio, I8042_DATA_PORT, 1, &data_ops, kbc)) < 0 ||
	    (err = bus_register(pio, I8042_CMD_PORT, 1, &command_ops, kbc)) < 0) {
		g_mutex_clear(&kbc->lock);
		return err;
	}
	return 0;
}

void i8042_destroy(struct i8042 *kbc)
{
	g_mutex_clear(&kbc->lock);
}

/* --- device object (core/device.h) ----------------------------------- */

#define QUEUE_FIELDS(member) STATE_ARRAY(struct i8042, member.data), STATE_FIELD(struct i8042, member.head), \
	STATE_FIELD(struct i8042, member.count)

static const struct state_field i8042_state[] = {
	STATE_FIELD(struct i8042, status), STATE_FIELD(struct i8042, command_byte),
	STATE_FIELD(struct i8042, output_port), STATE_FIELD(struct i8042, pending_command),
	STATE_FIELD(struct i8042, out_byte), STATE_FIELD(struct i8042, translate_break),
	QUEUE_FIELDS(ctrl), QUEUE_FIELDS(ctrl_aux),
	QUEUE_FIELDS(kbd.out), STATE_FIELD(struct i8042, kbd.pending_command), STATE_FIELD(struct i8042, kbd.scan_set),
	STATE_FIELD(struct i8042, kbd.leds), STATE_FIELD(struct i8042, kbd.typematic),
	STATE_FIELD(struct i8042, kbd.scanning),
	QUEUE_FIELDS(mouse.out), STATE_FIELD(struct i8042, mouse.pending_command), STATE_FIELD(struct i8042, mouse.id),
	STATE_FIELD(struct i8042, mouse.rate), STATE_FIELD(struct i8042, mouse.resolution),
	STATE_ARRAY(struct i8042, mouse.recent_rates), STATE_FIELD(struct i8042, mouse.scaling_2to1),
	STATE_FIELD(struct i8042, mouse.reporting), STATE_FIELD(struct i8042, mouse.buttons),
};

static bool queue_valid(const struct i8042_queue *q)
{
	return q->head < I8042_QUEUE_SIZE && q->count <= I8042_QUEUE_SIZE;
}

static void i8042_reset(void *opaque)
{
	struct i8042 *kbc = opaque;
	g_mutex_lock(&kbc->lock);
	power_on(kbc);
	update_irqs(kbc);
	g_mutex_unlock(&kbc->lock);
}

static void i8042_save(void *opaque, struct state_writer *w)
{
	struct i8042 *kbc = opaque;
	state_put_fields_locked(w, &kbc->lock, i8042_state, G_N_ELEMENTS(i8042_state), kbc);
}

static bool i8042_load(void *opaque, struct state_reader *r)
{
	struct i8042 *kbc = opaque;
	g_mutex_lock(&kbc->lock);
	bool ok = state_get_fields(r, "", i8042_state, G_N_ELEMENTS(i8042_state), kbc) &&
		  state_check(r, queue_valid(&kbc->ctrl) && queue_valid(&kbc->ctrl_aux) && queue_valid(&kbc->kbd.out) &&
				 queue_valid(&kbc->mouse.out), "a queue out of range");
	if (ok)
		update_irqs(kbc);
	g_mutex_unlock(&kbc->lock);
	return ok;
}

static void i8042_teardown(void *opaque)
{
	i8042_destroy(opaque);
}

static void i8042_claims(void *opaque, struct device_claims *claims)
{
	(void)opaque;
	device_claim(claims, "data", DEVICE_PIO, I8042_DATA_PORT, 1);
	device_claim(claims, "command and status", DEVICE_PIO, I8042_CMD_PORT, 1);
}

const struct device_ops i8042_device_ops = {
	"i8042", 1, i8042_reset, i8042_teardown, i8042_save, i8042_load, i8042_claims,
};
