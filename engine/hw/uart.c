/* 16550A UART as on a PC COM port (TI PC16550D datasheet; register names
 * from it). Eight registers at `base`; the IRQ reaches the interrupt
 * controller only while MCR.OUT2 is set, as PC serial boards wire it.
 * Output goes to the chardev at once (no baud-rate timing, so THR is always
 * empty again right after a write); input is taken from the chardev only as
 * far as the receive FIFO has room, so nothing typed is dropped. Loopback
 * mode (MCR.LOOP) routes THR to the receiver and the modem-control outputs
 * to the modem-status inputs, which Linux's 8250 autoconfig checks. */
#include "uart.h"

#include <string.h>

/* Register offsets (datasheet table 2). */
#define UART_RBR 0 /* read, DLAB=0 */
#define UART_THR 0 /* write, DLAB=0 */
#define UART_DLL 0 /* DLAB=1 */
#define UART_IER 1 /* DLAB=0 */
#define UART_DLM 1 /* DLAB=1 */
#define UART_IIR 2 /* read */
#define UART_FCR 2 /* write */
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_MSR 6
#define UART_SCR 7

#define IER_ERBFI 0x01 /* received data available */
#define IER_ETBEI 0x02 /* THR empty */
#define IER_ELSI  0x04 /* receiver line status */
#define IER_EDSSI 0x08 /* modem status */

#define IIR_NO_INT     0x01
#define IIR_MSR        0x00
#define IIR_THRE       0x02
#define IIR_RDA        0x04
#define IIR_RLS        0x06
#define IIR_RX_TIMEOUT 0x0C
#define IIR_FIFO_ON    0xC0

#define FCR_ENABLE   0x01
#define FCR_CLEAR_RX 0x02
#define FCR_CLEAR_TX 0x04
#define FCR_TRIGGER(f) ((f) >> 6)

#define LCR_DLAB 0x80

#define MCR_DTR  0x01
#define MCR_RTS  0x02
#define MCR_OUT1 0x04
#define MCR_OUT2 0x08
#define MCR_LOOP 0x10
#define MCR_MASK 0x1F

#define LSR_DR   0x01
#define LSR_OE   0x02
#define LSR_THRE 0x20
#define LSR_TEMT 0x40

#define MSR_CTS 0x10
#define MSR_DSR 0x20
#define MSR_RI  0x40
#define MSR_DCD 0x80

static const unsigned rx_trigger_levels[] = { 1, 4, 8, 14 };

static bool fifo_enabled(const struct uart *u)
{
	return u->fcr & FCR_ENABLE;
}

static unsigned rx_capacity(const struct uart *u)
{
	return fifo_enabled(u) ? UART_FIFO_SIZE : 1;
}

/* The highest-priority pending interrupt as IIR reports it (table 4). */
static uint8_t pending_interrupt(const struct uart *u)
{
	if ((u->ier & IER_ELSI) && (u->lsr & LSR_OE))
		return IIR_RLS;
	if ((u->ier & IER_ERBFI) && u->rx_count) {
		unsigned trigger = fifo_enabled(u) ? rx_trigger_levels[FCR_TRIGGER(u->fcr)] : 1;
		/* Below the trigger level the real chip raises a character timeout
		 * after four character times; with no line timing it is immediate. */
		return u->rx_count >= trigger ? IIR_RDA : IIR_RX_TIMEOUT;
	}
	if ((u->ier & IER_ETBEI) && u->thre_pending)
		return IIR_THRE;
	if ((u->ier & IER_EDSSI) && u->msr_deltas)
		return IIR_MSR;
	return IIR_NO_INT;
}

static void update_irq(struct uart *u)
{
	bool asserted = pending_interrupt(u) != IIR_NO_INT && (u->mcr & MCR_OUT2);
	irq_line_set(&u->irq, asserted);
}

static void rx_push(struct uart *u, uint8_t byte)
{
	if (u->rx_count == rx_capacity(u)) {
		u->lsr |= LSR_OE;
		return;
	}
	u->rx[(u->rx_head + u->rx_count) % UART_FIFO_SIZE] = byte;
	u->rx_count++;
	u->lsr |= LSR_DR;
}

static uint8_t rx_pop(struct uart *u)
{
	if (!u->rx_count)
		return 0;
	uint8_t byte = u->rx[u->rx_head];
	u->rx_head = (u->rx_head + 1) % UART_FIFO_SIZE;
	if (--u->rx_count == 0)
		u->lsr &= ~LSR_DR;
	return byte;
}

static void rx_clear(struct uart *u)
{
	u->rx_head = u->rx_count = 0;
	u->lsr &= ~LSR_DR;
}

/* Modem-status inputs: in loopback they follow the outputs; otherwise a
 * connected, ready peer. */
static uint8_t modem_status(const struct uart *u)
{
	if (!(u->mcr & MCR_LOOP))
		return MSR_CTS | MSR_DSR | MSR_DCD;
	return (uint8_t)(((u->mcr & MCR_RTS) ? MSR_CTS : 0) | ((u->mcr & MCR_DTR) ? MSR_DSR : 0) |
			 ((u->mcr & MCR_OUT1) ? MSR_RI : 0) | ((u->mcr & MCR_OUT2) ? MSR_DCD : 0));
}

/* Records MSR delta bits (CTS, DSR, trailing-edge RI, DCD) between two states. */
static void note_modem_change(struct uart *u, uint8_t before, uint8_t after)
{
	uint8_t changed = before ^ after;
	u->msr_deltas |= (uint8_t)(((changed & MSR_CTS) ? 0x01 : 0) | ((changed & MSR_DSR) ? 0x02 : 0) |
				   ((before & MSR_RI) && !(after & MSR_RI) ? 0x04 : 0) |
				   ((changed & MSR_DCD) ? 0x08 : 0));
}

static void transmit(struct uart *u, uint8_t byte)
{
	if (u->mcr & MCR_LOOP)
		rx_push(u, byte);
	else
		chardev_write(u->chr, &byte, 1);
	/* Sent at once: THR is empty again and says so. */
	u->thre_pending = true;
}

static uint8_t read_register(struct uart *u, unsigned reg)
{
	bool dlab = u->lcr & LCR_DLAB;
	uint8_t value;

	switch (reg) {
	case UART_RBR:
		if (dlab)
			return (uint8_t)u->divisor;
		return rx_pop(u);
	case UART_IER:
		return dlab ? (uint8_t)(u->divisor >> 8) : u->ier;
	case UART_IIR:
		value = pending_interrupt(u);
		if (value == IIR_THRE)
			u->thre_pending = false; /* reading IIR acknowledges THRE */
		return value | (fifo_enabled(u) ? IIR_FIFO_ON : 0);
	case UART_LCR:
		return u->lcr;
	case UART_MCR:
		return u->mcr;
	case UART_LSR:
		value = u->lsr;
		u->lsr &= ~LSR_OE; /* error bits clear on read */
		return value;
	case UART_MSR:
		value = modem_status(u) | u->msr_deltas;
		u->msr_deltas = 0;
		return value;
	default:
		return u->scr;
	}
}

static void write_fcr(struct uart *u, uint8_t value)
{
	if ((value ^ u->fcr) & FCR_ENABLE)
		rx_clear(u); /* switching FIFO mode empties the FIFOs */
	if (value & FCR_CLEAR_RX)
		rx_clear(u);
	u->fcr = value & (FCR_ENABLE | 0xC0);
}

static void write_register(struct uart *u, unsigned reg, uint8_t value)
{
	bool dlab = u->lcr & LCR_DLAB;
	uint8_t before;

	switch (reg) {
	case UART_THR:
		if (dlab)
			u->divisor = (uint16_t)((u->divisor & 0xFF00) | value);
		else
			transmit(u, value);
		break;
	case UART_IER:
		if (dlab) {
			u->divisor = (uint16_t)((u->divisor & 0x00FF) | value << 8);
			break;
		}
		/* Enabling ETBEI while THR is empty raises THRE, as 8250s do. */
		if (!(u->ier & IER_ETBEI) && (value & IER_ETBEI))
			u->thre_pending = true;
		u->ier = value & 0x0F;
		break;
	case UART_FCR:
		write_fcr(u, value);
		break;
	case UART_LCR:
		u->lcr = value;
		break;
	case UART_MCR:
		before = modem_status(u);
		u->mcr = value & MCR_MASK;
		note_modem_change(u, before, modem_status(u));
		break;
	case UART_LSR:
	case UART_MSR:
		break; /* read-only on a 16550A */
	default:
		u->scr = value;
		break;
	}
}

static unsigned rx_room(const struct uart *u)
{
	return (u->mcr & MCR_LOOP) ? 0 : rx_capacity(u) - u->rx_count;
}

/* After any register access: if the receiver has more room than before
 * (RBR read, FIFO enabled or cleared, loopback left), the chardev may send
 * what it holds back. */
static void resume_input_if_room_grew(struct uart *u, unsigned room_before)
{
	if (rx_room(u) > room_before)
		chardev_accept_input(u->chr);
}

static uint64_t uart_read(void *opaque, uint64_t offset, unsigned size)
{
	struct uart *u = opaque;
	(void)size; /* wider accesses return the addressed byte, zero-extended */
	g_mutex_lock(&u->lock);
	unsigned room = rx_room(u);
	uint8_t value = read_register(u, (unsigned)offset);
	update_irq(u);
	resume_input_if_room_grew(u, room);
	g_mutex_unlock(&u->lock);
	return value;
}

static void uart_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
	struct uart *u = opaque;
	(void)size;
	g_mutex_lock(&u->lock);
	unsigned room = rx_room(u);
	write_register(u, (unsigned)offset, (uint8_t)value);
	update_irq(u);
	resume_input_if_room_grew(u, room);
	g_mutex_unlock(&u->lock);
}

static size_t uart_can_receive(void *opaque)
{
	struct uart *u = opaque;
	g_mutex_lock(&u->lock);
	size_t room = rx_room(u);
	g_mutex_unlock(&u->lock);
	return room;
}

static void uart_receive(void *opaque, const uint8_t *buf, size_t len)
{
	struct uart *u = opaque;
	g_mutex_lock(&u->lock);
	for (size_t i = 0; i < len; i++)
		rx_push(u, buf[i]);
	update_irq(u);
	g_mutex_unlock(&u->lock);
}

static const struct bus_ops uart_ops = { uart_read, uart_write, "uart" };

/* The registers after MR (the master reset input), PC16550D table 5. */
static void power_on(struct uart *u)
{
	u->ier = u->lcr = u->mcr = u->scr = u->fcr = u->msr_deltas = 0;
	u->lsr = LSR_THRE | LSR_TEMT;
	u->divisor = 0;
	u->thre_pending = false;
	u->rx_head = u->rx_count = 0;
	memset(u->rx, 0, sizeof(u->rx));
}

int uart_init(struct uart *uart, struct bus *pio, uint16_t base, struct irq_line irq, struct chardev *chr)
{
	memset(uart, 0, sizeof(*uart));
	g_mutex_init(&uart->lock);
	uart->irq = irq;
	uart->chr = chr;
	uart->base = base;
	power_on(uart);
	int err = bus_register(pio, base, 8, &uart_ops, uart);
	if (err < 0) {
		g_mutex_clear(&uart->lock);
		return err;
	}
	struct chardev_receiver rx = { uart_can_receive, uart_receive, uart };
	chardev_set_receiver(chr, &rx);
	return 0;
}

void uart_destroy(struct uart *uart)
{
	struct chardev_receiver none = { 0 };
	chardev_set_receiver(uart->chr, &none);
	g_mutex_clear(&uart->lock);
}

/* --- device object (core/device.h) ----------------------------------- */

static const struct state_field uart_state[] = {
	STATE_FIELD(struct uart, ier), STATE_FIELD(struct uart, lcr), STATE_FIELD(struct uart, mcr),
	STATE_FIELD(struct uart, lsr), STATE_FIELD(struct uart, scr), STATE_FIELD(struct uart, fcr),
	STATE_FIELD(struct uart, msr_deltas), STATE_FIELD(struct uart, divisor),
	STATE_FIELD(struct uart, thre_pending), STATE_ARRAY(struct uart, rx), STATE_FIELD(struct uart, rx_head),
	STATE_FIELD(struct uart, rx_count),
};

static void uart_reset(void *opaque)
{
	struct uart *u = opaque;
	g_mutex_lock(&u->lock);
	unsigned room = rx_room(u);
	power_on(u);
	update_irq(u);
	g_mutex_unlock(&u->lock);
	resume_input_if_room_grew(u, room);
}

static void uart_save(void *opaque, struct state_writer *w)
{
	struct uart *u = opaque;
	state_put_fields_locked(w, &u->lock, uart_state, G_N_ELEMENTS(uart_state), u);
}

static bool uart_load(void *opaque, struct state_reader *r)
{
	struct uart *u = opaque;
	g_mutex_lock(&u->lock);
	bool ok = state_get_fields(r, "", uart_state, G_N_ELEMENTS(uart_state), u) &&
		  state_check(r, u->rx_head < UART_FIFO_SIZE && u->rx_count <= rx_capacity(u),
			       "receive FIFO out of range");
	if (ok)
		update_irq(u);
	g_mutex_unlock(&u->lock);
	return ok;
}

static void uart_teardown(void *opaque)
{
	uart_destroy(opaque);
}

static void uart_claims(void *opaque, struct device_claims *claims)
{
	struct uart *u = opaque;
	device_claim(claims, "registers", DEVICE_PIO, u->base, 8);
}

const struct device_ops uart_device_ops = {
	"uart", 1, uart_reset, uart_teardown, uart_save, uart_load, uart_claims,
};
