/* The 8042 controller, PS/2 keyboard and mouse through ports 0x60/0x64, in
 * the sequences SeaBIOS and Linux's i8042/atkbd/psmouse drivers use. */
#include <glib.h>

#include "bus-poke.h"
#include "hw/i8042.h"

#define DATA 0x60
#define CMD 0x64
#define OBF 0x01
#define AUX 0x20

struct fixture {
	struct bus pio;
	struct i8042 kbc;
	bool irq1, irq12;
	unsigned irq1_edges, irq12_edges, resets;
};

static void record_irq(void *opaque, unsigned gsi, bool level)
{
	struct fixture *f = opaque;
	bool *line = gsi == 1 ? &f->irq1 : &f->irq12;
	unsigned *edges = gsi == 1 ? &f->irq1_edges : &f->irq12_edges;
	*edges += level && !*line;
	*line = level;
}

static void count_reset(void *opaque)
{
	((struct fixture *)opaque)->resets++;
}

static uint8_t in(struct fixture *f, uint16_t port)
{
	uint8_t v = 0;
	bus_read(&f->pio, port, &v, 1);
	return v;
}

static void out(struct fixture *f, uint16_t port, uint8_t v)
{
	bus_write(&f->pio, port, &v, 1);
}

/* Reads one byte the way a driver polls: OBF must be set. */
static uint8_t read_byte(struct fixture *f)
{
	g_assert_cmphex(in(f, CMD) & OBF, ==, OBF);
	return in(f, DATA);
}

static struct fixture *fixture_new(void)
{
	struct fixture *f = g_new0(struct fixture, 1);
	bus_init(&f->pio);
	g_assert_cmpint(i8042_init(&f->kbc, &f->pio, (struct irq_line){ record_irq, f, 1 },
				   (struct irq_line){ record_irq, f, 12 }, count_reset, f), ==, 0);
	return f;
}

static void fixture_free(struct fixture *f)
{
	i8042_destroy(&f->kbc);
	bus_destroy(&f->pio);
	g_free(f);
}

static void test_controller(void)
{
	struct fixture *f = fixture_new();
	g_assert_cmphex(in(f, CMD) & OBF, ==, 0);
	out(f, CMD, 0xAA);
	g_assert_cmphex(read_byte(f), ==, 0x55);            /* self-test passed */
	out(f, CMD, 0xAB);
	g_assert_cmphex(read_byte(f), ==, 0x00);            /* keyboard port ok */
	out(f, CMD, 0x20);
	uint8_t cb = read_byte(f);
	g_assert_cmphex(cb & 0x40, ==, 0x40);               /* translation on */
	out(f, CMD, 0x60);
	out(f, DATA, 0x61);                                 /* what SeaBIOS writes */
	out(f, CMD, 0x20);
	g_assert_cmphex(read_byte(f), ==, 0x61);
	out(f, CMD, 0xD3);                                  /* Linux's AUX loopback probe */
	out(f, DATA, 0x5A);
	g_assert_cmphex(in(f, CMD) & (OBF | AUX), ==, OBF | AUX);
	g_assert_cmphex(in(f, DATA), ==, 0x5A);
	fixture_free(f);
}

static void test_reset_requests(void)
{
	struct fixture *f = fixture_new();
	out(f, CMD, 0xFF);                                  /* pulse nothing */
	g_assert_cmpuint(f->resets, ==, 0);
	out(f, CMD, 0xFE);                                  /* pulse bit 0: reset */
	g_assert_cmpuint(f->resets, ==, 1);
	out(f, CMD, 0xD1);
	out(f, DATA, 0xFE);                                 /* output port, reset line low */
	g_assert_cmpuint(f->resets, ==, 2);
	out(f, CMD, 0xD1);
	out(f, DATA, 0xDF);
	g_assert_cmpuint(f->resets, ==, 2);
	fixture_free(f);
}

static void test_keyboard(void)
{
	struct fixture *f = fixture_new();
	out(f, DATA, 0xFF);                                 /* reset */
	g_assert_cmphex(read_byte(f), ==, 0xFA);
	g_assert_cmphex(read_byte(f), ==, 0xAA);
	out(f, DATA, 0xF2);                                 /* identify */
	g_assert_cmphex(read_byte(f), ==, 0xFA);
	g_assert_cmphex(read_byte(f), ==, 0xAB);
	g_assert_cmphex(read_byte(f), ==, 0x41);            /* 0x83, translated */
	out(f, DATA, 0xF0);                                 /* get scan set */
	out(f, DATA, 0x00);
	g_assert_cmphex(read_byte(f), ==, 0xFA);
	g_assert_cmphex(read_byte(f), ==, 0xFA);
	g_assert_cmphex(read_byte(f), ==, 0x41);            /* set 2, as seen through translation */
	out(f, DATA, 0xED);                                 /* LEDs */
	out(f, DATA, 0x07);
	g_assert_cmphex(read_byte(f), ==, 0xFA);
	g_assert_cmphex(read_byte(f), ==, 0xFA);
	g_assert_cmphex(f->kbc.kbd.leds, ==, 7);
	out(f, DATA, 0x99);                                 /* no such command */
	g_assert_cmphex(read_byte(f), ==, 0xFE);
	fixture_free(f);
}

static void test_key_translation(void)
{
	struct fixture *f = fixture_new();
	static const uint8_t a_press_release[] = { 0x1C, 0xF0, 0x1C };
	static const uint8_t right_ctrl[] = { 0xE0, 0x14, 0xE0, 0xF0, 0x14 };
	unsigned edges = f->irq1_edges;
	i8042_put_kbd_scancodes(&f->kbc, a_press_release, 3);
	g_assert_true(f->irq1);
	g_assert_cmphex(read_byte(f), ==, 0x1E);            /* 'a' make, set 1 */
	g_assert_cmphex(read_byte(f), ==, 0x9E);            /* 'a' break */
	g_assert_cmpuint(f->irq1_edges - edges, ==, 2);      /* one edge per byte */
	i8042_put_kbd_scancodes(&f->kbc, right_ctrl, 5);
	g_assert_cmphex(read_byte(f), ==, 0xE0);
	g_assert_cmphex(read_byte(f), ==, 0x1D);
	g_assert_cmphex(read_byte(f), ==, 0xE0);
	g_assert_cmphex(read_byte(f), ==, 0x9D);
	g_assert_false(f->irq1);
	out(f, CMD, 0x60);
	out(f, DATA, 0x01);                                 /* translation off */
	i8042_put_kbd_scancodes(&f->kbc, a_press_release, 3);
	g_assert_cmphex(read_byte(f), ==, 0x1C);
	g_assert_cmphex(read_byte(f), ==, 0xF0);
	g_assert_cmphex(read_byte(f), ==, 0x1C);
	fixture_free(f);
}

static void send_mouse(struct fixture *f, uint8_t byte)
{
	out(f, CMD, 0xD4);
	out(f, DATA, byte);
}

static void test_mouse(void)
{
	struct fixture *f = fixture_new();
	out(f, CMD, 0xA8);                                  /* enable the AUX port */
	out(f, CMD, 0x60);
	out(f, DATA, 0x47);                                 /* both interrupts on */
	send_mouse(f, 0xFF);
	g_assert_cmphex(read_byte(f), ==, 0xFA);
	g_assert_cmphex(read_byte(f), ==, 0xAA);
	g_assert_cmphex(read_byte(f), ==, 0x00);
	static const uint8_t knock[] = { 200, 100, 80 };
	for (int i = 0; i < 3; i++) {
		send_mouse(f, 0xF3);
		send_mouse(f, knock[i]);
		g_assert_cmphex(read_byte(f), ==, 0xFA);
		g_assert_cmphex(read_byte(f), ==, 0xFA);
	}
	send_mouse(f, 0xF2);
	g_assert_cmphex(read_byte(f), ==, 0xFA);
	g_assert_cmphex(read_byte(f), ==, 0x03);            /* IntelliMouse: wheel */
	send_mouse(f, 0xF4);
	g_assert_cmphex(read_byte(f), ==, 0xFA);
	i8042_put_mouse_event(&f->kbc, 5, -3, 1, 1);        /* right/down, wheel up, left button */
	g_assert_true(f->irq12);
	g_assert_cmphex(in(f, CMD) & AUX, ==, AUX);
	g_assert_cmphex(read_byte(f), ==, 0x29);            /* Y sign, always-1 bit, left */
	g_assert_cmphex(read_byte(f), ==, 0x05);
	g_assert_cmphex(read_byte(f), ==, 0xFD);
	g_assert_cmphex(read_byte(f), ==, 0xFF);            /* -1: wheel up as psmouse reads it */
	i8042_put_mouse_event(&f->kbc, 1000, 0, 0, 0);      /* clamped, X overflow */
	g_assert_cmphex(read_byte(f) & 0x40, ==, 0x40);
	fixture_free(f);
}

/* Console input arriving while the guest pokes garbage. */
static void feed_input(void *opaque)
{
	struct fixture *f = opaque;
	uint8_t codes[3] = { (uint8_t)g_random_int(), 0xF0, (uint8_t)g_random_int() };
	i8042_put_kbd_scancodes(&f->kbc, codes, 3);
	i8042_put_mouse_event(&f->kbc, g_random_int_range(-9999, 9999), g_random_int_range(-9999, 9999),
			      g_random_int_range(-99, 99), g_random_int());
}

static void test_garbage(void)
{
	struct fixture *f = fixture_new();
	g_random_set_seed(3);
	bus_poke_randomly(&f->pio, DATA, 5, 200000, 3, feed_input, f);
	fixture_free(f);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/i8042/controller", test_controller);
	g_test_add_func("/i8042/reset-requests", test_reset_requests);
	g_test_add_func("/i8042/keyboard", test_keyboard);
	g_test_add_func("/i8042/key-translation", test_key_translation);
	g_test_add_func("/i8042/mouse", test_mouse);
	g_test_add_func("/i8042/garbage", test_garbage);
	return g_test_run();
}
