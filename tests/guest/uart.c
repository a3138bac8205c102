/* COM1 by interrupt, as Linux's 8250 driver drives it: checks the scratch
 * register, the FIFO bits of IIR and the THR-empty interrupt, then receives
 * by IRQ 4 and echoes each byte until it has read the line "ping". */
#include "runtime.h"

#define UART_IER (COM1 + 1)
#define UART_IIR (COM1 + 2)
#define UART_SCR (COM1 + 7)
#define UART_RBR COM1
#define UART_LSR (COM1 + 5)
#define IER_RX 0x01
#define IER_THRE 0x02
#define IIR_ID 0x0F
#define IIR_THRE 0x02
#define IIR_FIFO 0xC0
#define COM1_IRQ 4

static volatile unsigned rx_interrupts;
static char line[16];
static volatile unsigned line_len;
static volatile bool got_ping;

static void on_com1(unsigned vector)
{
	(void)vector;
	rx_interrupts++;
	while (inb(UART_LSR) & 0x01) {
		uint8_t byte = inb(UART_RBR);
		print("uart: got %02x\n", byte);
		if (byte == '\n') {
			got_ping = line_len == 4 && line[0] == 'p' && line[1] == 'i' && line[2] == 'n' && line[3] == 'g';
			line_len = 0;
		} else if (line_len < sizeof(line)) {
			line[line_len++] = (char)byte;
		}
	}
}

static bool check(bool ok, const char *what)
{
	if (!ok)
		print("uart: FAIL %s\n", what);
	return ok;
}

int main(void)
{
	outb(UART_SCR, 0x5A);
	bool ok = check(inb(UART_SCR) == 0x5A, "scratch register");
	ok &= check((inb(UART_IIR) & IIR_FIFO) == IIR_FIFO, "FIFO bits in IIR");
	outb(UART_IER, IER_THRE);
	ok &= check((inb(UART_IIR) & IIR_ID) == IIR_THRE, "THR-empty interrupt id");
	outb(UART_IER, 0);
	if (!ok)
		return 1;

	interrupts_init();
	set_handler(0x20 + COM1_IRQ, on_com1);
	pic_unmask(COM1_IRQ);
	outb(UART_IER, IER_RX);
	print("uart: ready\n");
	while (!got_ping)
		wait_for_interrupt();
	print("uart: PASS irqs=%u\n", rx_interrupts);
	return 0;
}
