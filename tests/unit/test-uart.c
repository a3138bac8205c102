/* The 16550A through the port bus, with a real chardev over a socketpair:
 * what the guest writes comes out, what the host sends arrives with the
 * right LSR, IIR and IRQ, the FIFO overflows into OE, loopback loops. */
#include <glib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "backend/chardev.h"
#include "bus-poke.h"
#include "hw/uart.h"

#define BASE 0x3F8
#define RBR 0
#define IER 1
#define IIR 2
#define FCR 2
#define LCR 3
#define MCR 4
#define LSR 5
#define MSR 6
#define SCR 7

struct fixture {
	struct bus pio;
	struct chardev chr;
	struct uart uart;
	GMainContext *context;
	int host;            /* our end of the socketpair */
	bool irq;
	unsigned irq_edges;
};

static void record_irq(void *opaque, unsigned gsi, bool level)
{
	struct fixture *f = opaque;
	g_assert_cmpuint(gsi, ==, 4);
	f->irq_edges += level && !f->irq;
	f->irq = level;
}

static uint8_t in(struct fixture *f, unsigned reg)
{
	uint8_t v = 0;
	bus_read(&f->pio, BASE + reg, &v, 1);
	return v;
}

static void out(struct fixture *f, unsigned reg, uint8_t v)
{
	bus_write(&f->pio, BASE + reg, &v, 1);
}

static struct fixture *fixture_new(void)
{
	struct fixture *f = g_new0(struct fixture, 1);
	int fds[2];
	g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), ==, 0);
	f->host = fds[0];
	f->context = g_main_context_new();
	bus_init(&f->pio);
	chardev_open_fds(&f->chr, fds[1], fds[1], f->context);
	struct irq_line irq = { record_irq, f, 4 };
	g_assert_cmpint(uart_init(&f->uart, &f->pio, BASE, irq, &f->chr), ==, 0);
	return f;
}

static void fixture_free(struct fixture *f)
{
	int guest_fd = f->chr.in_fd;
	uart_destroy(&f->uart);
	chardev_close(&f->chr);
	close(guest_fd);
	close(f->host);
	g_main_context_unref(f->context);
	bus_destroy(&f->pio);
	g_free(f);
}

/* Sends bytes from the host side and lets the I/O loop deliver them. */
static void host_send(struct fixture *f, const char *text)
{
	g_assert_cmpint(write(f->host, text, strlen(text)), ==, (ssize_t)strlen(text));
	for (int i = 0; i < 100; i++)
		g_main_context_iteration(f->context, FALSE);
}

static void init_like_linux(struct fixture *f)
{
	out(f, LCR, 0x80);           /* DLAB */
	out(f, RBR, 0x01);           /* 115200 baud */
	out(f, IER, 0x00);
	out(f, LCR, 0x03);           /* 8N1 */
	out(f, FCR, 0xC7);           /* FIFO on, clear, trigger 14 */
	out(f, MCR, 0x0B);           /* DTR, RTS, OUT2 */
}

static void test_transmit(void)
{
	struct fixture *f = fixture_new();
	char buf[16] = { 0 };
	init_like_linux(f);
	g_assert_cmphex(in(f, LSR) & 0x60, ==, 0x60); /* THRE and TEMT */
	for (const char *p = "hi!\n"; *p; p++)
		out(f, RBR, (uint8_t)*p);
	g_assert_cmpint(read(f->host, buf, sizeof(buf)), ==, 4);
	g_assert_cmpstr(buf, ==, "hi!\n");
	fixture_free(f);
}

static void test_receive_interrupts(void)
{
	struct fixture *f = fixture_new();
	init_like_linux(f);
	g_assert_cmphex(in(f, IIR), ==, 0xC1);       /* FIFOs on, nothing pending */
	out(f, IER, 0x01);                           /* received data interrupt */
	host_send(f, "ping");
	g_assert_true(f->irq);
	g_assert_cmphex(in(f, LSR) & 0x01, ==, 0x01);
	g_assert_cmphex(in(f, IIR), ==, 0xCC);       /* below trigger level 14: timeout id */
	g_assert_cmpuint(in(f, RBR), ==, 'p');
	g_assert_cmpuint(in(f, RBR), ==, 'i');
	g_assert_cmpuint(in(f, RBR), ==, 'n');
	g_assert_cmpuint(in(f, RBR), ==, 'g');
	g_assert_false(f->irq);
	g_assert_cmphex(in(f, LSR) & 0x01, ==, 0);
	out(f, MCR, 0x03);                           /* OUT2 off: the line stays low */
	host_send(f, "x");
	g_assert_false(f->irq);
	fixture_free(f);
}

static void test_thre_interrupt(void)
{
	struct fixture *f = fixture_new();
	init_like_linux(f);
	out(f, IER, 0x02);                           /* enabling ETBEI with THR empty */
	g_assert_true(f->irq);
	g_assert_cmphex(in(f, IIR), ==, 0xC2);       /* THRE, acknowledged by this read */
	g_assert_false(f->irq);
	g_assert_cmphex(in(f, IIR), ==, 0xC1);
	out(f, RBR, 'a');                            /* sent at once: THRE again */
	g_assert_true(f->irq);
	fixture_free(f);
}

static void test_flow_control_and_overrun(void)
{
	struct fixture *f = fixture_new();
	char many[40];
	memset(many, 'z', sizeof(many) - 1);
	many[sizeof(many) - 1] = 0;
	init_like_linux(f);
	host_send(f, many);                          /* more than the FIFO holds */
	unsigned got = 0;
	while (in(f, LSR) & 0x01) {
		g_assert_cmpuint(in(f, RBR), ==, 'z');
		got++;
		if (got % 16 == 0)
			for (int i = 0; i < 100; i++)
				g_main_context_iteration(f->context, FALSE);
	}
	g_assert_cmpuint(got, ==, sizeof(many) - 1); /* held back, not dropped */
	g_assert_cmphex(in(f, LSR) & 0x02, ==, 0);

	out(f, MCR, 0x1B);                           /* loopback: our own writes overflow */
	for (int i = 0; i < 17; i++)
		out(f, RBR, (uint8_t)i);
	g_assert_cmphex(in(f, LSR) & 0x03, ==, 0x03); /* data ready, overrun */
	g_assert_cmphex(in(f, LSR) & 0x02, ==, 0);    /* OE clears on read */
	fixture_free(f);
}

/* Bytes typed before the guest set its UART up wait in the chardev; turning
 * the FIFO on (which empties it) makes room and they arrive. */
static void test_input_before_init(void)
{
	struct fixture *f = fixture_new();
	host_send(f, "abc");                         /* FIFO off: one byte fits */
	g_assert_cmpuint(in(f, RBR), ==, 'a');
	host_send(f, "");
	out(f, FCR, 0x07);                           /* FIFO on and cleared: 'b' dropped */
	host_send(f, "");
	g_assert_cmphex(in(f, LSR) & 0x01, ==, 0x01);
	g_assert_cmpuint(in(f, RBR), ==, 'c');
	fixture_free(f);
}

static void test_loopback_and_scratch(void)
{
	struct fixture *f = fixture_new();
	out(f, SCR, 0xA5);
	g_assert_cmphex(in(f, SCR), ==, 0xA5);
	out(f, MCR, 0x10);                           /* loop, all outputs off */
	g_assert_cmphex(in(f, MSR) & 0xF0, ==, 0x00);
	out(f, MCR, 0x1F);                           /* loop, all outputs on */
	g_assert_cmphex(in(f, MSR) & 0xF0, ==, 0xF0); /* Linux autoconfig's check */
	out(f, RBR, 'Q');
	g_assert_cmpuint(in(f, RBR), ==, 'Q');
	out(f, LCR, 0x80);
	out(f, RBR, 0x0C);
	out(f, IER, 0x00);
	g_assert_cmphex(in(f, RBR), ==, 0x0C);       /* divisor latch reads back */
	fixture_free(f);
}

/* Keeps reading what the guest sends, as a terminal would. */
static void drain_host(void *opaque)
{
	struct fixture *f = opaque;
	char sink[4096];
	while (recv(f->host, sink, sizeof(sink), MSG_DONTWAIT) > 0)
		;
}

static void test_garbage(void)
{
	struct fixture *f = fixture_new();
	bus_poke_randomly(&f->pio, BASE, 8, 200000, 11, drain_host, f);
	fixture_free(f);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/uart/transmit", test_transmit);
	g_test_add_func("/uart/receive-interrupts", test_receive_interrupts);
	g_test_add_func("/uart/thre-interrupt", test_thre_interrupt);
	g_test_add_func("/uart/flow-control-and-overrun", test_flow_control_and_overrun);
	g_test_add_func("/uart/input-before-init", test_input_before_init);
	g_test_add_func("/uart/loopback-and-scratch", test_loopback_and_scratch);
	g_test_add_func("/uart/garbage", test_garbage);
	return g_test_run();
}
