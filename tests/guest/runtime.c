/* Test-guest runtime. See runtime.h. */
#include <stdarg.h>
#include <stddef.h>

#include "runtime.h"

/* 16550 registers (offsets from COM1). */
#define UART_THR 0
#define UART_RBR 0
#define UART_IER 1
#define UART_IER_RX 0x01
#define COM1_IRQ 4
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define LSR_DR 0x01
#define LSR_THRE 0x20

/* 8259A: ICW1-ICW4, OCW1 (mask) and the non-specific EOI. */
#define PIC1_CMD 0x20
#define PIC1_DATA 0x21
#define PIC2_CMD 0xA0
#define PIC2_DATA 0xA1
#define PIC_EOI 0x20
#define IRQ_BASE_VECTOR 0x20

/* Our platform's ACPI PM1a control register (engine/hw/acpi_pm.h), and the
 * value that enters S5: SLP_TYP 0 (the DSDT's \_S5) with SLP_EN. */
#define PM1A_CNT 0x604
#define PM1_CNT_SLP_EN 0x2000
#define I8042_COMMAND 0x64
#define I8042_PULSE_RESET 0xFE

void serial_putc(char c)
{
	while (!(inb(COM1 + UART_LSR) & LSR_THRE))
		;
	outb(COM1 + UART_THR, (uint8_t)c);
}

bool serial_poll(uint8_t *byte)
{
	if (!(inb(COM1 + UART_LSR) & LSR_DR))
		return false;
	*byte = inb(COM1 + UART_RBR);
	return true;
}

static void serial_interrupt(unsigned vector)
{
	(void)vector;  /* the byte stays in the FIFO for serial_wait to read */
}

void serial_arm(void)
{
	static bool armed;
	if (armed)
		return;
	interrupts_init();
	set_handler(IRQ_BASE_VECTOR + COM1_IRQ, serial_interrupt);
	pic_unmask(COM1_IRQ);
	outb(COM1 + UART_IER, UART_IER_RX);
	armed = true;
}

/* Sleeps with HLT until the receive interrupt, so a waiting guest costs the
 * host nothing (benchmarks measure the VMM, not our polling). */
uint8_t serial_wait(void)
{
	uint8_t byte;
	serial_arm();
	while (!serial_poll(&byte))
		wait_for_interrupt();
	return byte;
}

static void print_unsigned(uint32_t v, unsigned base, int width, char pad)
{
	char digits[12];
	int n = 0;
	do {
		digits[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	while (width-- > n)
		serial_putc(pad);
	while (n)
		serial_putc(digits[--n]);
}

/* %s %c %d %u %x with an optional zero pad and width, e.g. %04x. */
void print(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	for (const char *p = fmt; *p; p++) {
		if (*p != '%') {
			if (*p == '\n')
				serial_putc('\r');
			serial_putc(*p);
			continue;
		}
		char pad = *++p == '0' ? '0' : ' ';
		int width = 0;
		while (*p >= '0' && *p <= '9')
			width = width * 10 + (*p++ - '0');
		if (*p == 's') {
			for (const char *s = va_arg(ap, const char *); *s; s++)
				serial_putc(*s);
		} else if (*p == 'c') {
			serial_putc((char)va_arg(ap, int));
		} else if (*p == 'd') {
			int v = va_arg(ap, int);
			if (v < 0)
				serial_putc('-');
			print_unsigned(v < 0 ? -(uint32_t)v : (uint32_t)v, 10, width, pad);
		} else {
			print_unsigned(va_arg(ap, uint32_t), *p == 'x' ? 16 : 10, width, pad);
		}
	}
	va_end(ap);
}

uint32_t pci_config_read(unsigned bus, unsigned dev, unsigned fn, unsigned reg)
{
	outl(0xCF8, 0x80000000u | bus << 16 | dev << 11 | fn << 8 | (reg & 0xFC));
	return inl(0xCFC);
}

const char *cmdline_find(const char *word)
{
	const char *p = (const char *)(uintptr_t)start_info->cmdline_paddr;
	for (; p && *p; p++) {
		unsigned i = 0;
		while (word[i] && p[i] == word[i])
			i++;
		if (!word[i])
			return p + i;
	}
	return NULL;
}

/* --- application processors ------------------------------------------- */

#define LAPIC_BASE 0xFEE00000u
#define LAPIC_ICR_LOW 0x300
#define LAPIC_ICR_HIGH 0x310
#define ICR_INIT 0x00000500u
#define ICR_STARTUP 0x00000600u
#define ICR_ASSERT 0x00004000u
#define ICR_ALL_BUT_SELF 0x000C0000u
#define ICR_BUSY 0x00001000u

static void send_ipi(uint32_t command)
{
	volatile uint32_t *lapic = (volatile uint32_t *)LAPIC_BASE;
	lapic[LAPIC_ICR_HIGH / 4] = 0;
	lapic[LAPIC_ICR_LOW / 4] = command;
	while (lapic[LAPIC_ICR_LOW / 4] & ICR_BUSY)
		;
}

void start_aps(const uint8_t *code, unsigned len)
{
	for (unsigned i = 0; i < len; i++)
		((volatile uint8_t *)AP_TRAMPOLINE)[i] = code[i];
	send_ipi(ICR_ALL_BUT_SELF | ICR_ASSERT | ICR_INIT);
	for (int i = 0; i < 2; i++)
		send_ipi(ICR_ALL_BUT_SELF | ICR_ASSERT | ICR_STARTUP | (AP_TRAMPOLINE >> 12));
}

/* --- interrupts ------------------------------------------------------- */

struct idt_gate {
	uint16_t offset_low, selector;
	uint8_t zero, type;
	uint16_t offset_high;
} __attribute__((packed));

static struct idt_gate idt[IRQ_BASE_VECTOR + 16];
static interrupt_handler handlers[IRQ_BASE_VECTOR + 16];

extern char isr_3[], isr_32[], isr_33[], isr_34[], isr_35[], isr_36[], isr_37[], isr_38[], isr_39[];
extern char isr_40[], isr_41[], isr_42[], isr_43[], isr_44[], isr_45[], isr_46[], isr_47[];

static void set_gate(unsigned vector, void *stub)
{
	uint32_t addr = (uint32_t)stub;
	idt[vector] = (struct idt_gate){ (uint16_t)addr, 0x08, 0, 0x8E /* present, 32-bit interrupt gate */,
					 (uint16_t)(addr >> 16) };
}

void isr_dispatch(unsigned vector);
void isr_dispatch(unsigned vector)
{
	if (handlers[vector])
		handlers[vector](vector);
	if (vector >= IRQ_BASE_VECTOR + 8)
		outb(PIC2_CMD, PIC_EOI);
	if (vector >= IRQ_BASE_VECTOR)
		outb(PIC1_CMD, PIC_EOI);
}

/* Remaps the PICs to vectors 0x20-0x2F (ICW1 edge/cascade/ICW4, ICW2 base,
 * ICW3 wiring, ICW4 8086 mode), all IRQs masked but the cascade. */
static void pic_init(void)
{
	outb(PIC1_CMD, 0x11);
	outb(PIC2_CMD, 0x11);
	outb(PIC1_DATA, IRQ_BASE_VECTOR);
	outb(PIC2_DATA, IRQ_BASE_VECTOR + 8);
	outb(PIC1_DATA, 0x04);
	outb(PIC2_DATA, 0x02);
	outb(PIC1_DATA, 0x01);
	outb(PIC2_DATA, 0x01);
	outb(PIC1_DATA, 0xFB);
	outb(PIC2_DATA, 0xFF);
}

void interrupts_init(void)
{
	static char *const irq_stubs[16] = { isr_32, isr_33, isr_34, isr_35, isr_36, isr_37, isr_38, isr_39,
					     isr_40, isr_41, isr_42, isr_43, isr_44, isr_45, isr_46, isr_47 };
	struct { uint16_t limit; uint32_t base; } __attribute__((packed)) idtr = { sizeof(idt) - 1, (uint32_t)idt };
	set_gate(3, isr_3);
	for (unsigned i = 0; i < 16; i++)
		set_gate(IRQ_BASE_VECTOR + i, irq_stubs[i]);
	__asm__ volatile("lidt %0" : : "m"(idtr));
	pic_init();
}

void set_handler(unsigned vector, interrupt_handler handler)
{
	handlers[vector] = handler;
}

void pic_unmask(unsigned irq)
{
	uint16_t port = irq < 8 ? PIC1_DATA : PIC2_DATA;
	outb(port, inb(port) & (uint8_t)~(1u << (irq % 8)));
}

/* --- start and exit --------------------------------------------------- */

static void serial_init(void)
{
	outb(COM1 + UART_IER, 0x00);
	outb(COM1 + UART_LCR, 0x80);  /* DLAB */
	outb(COM1 + UART_THR, 0x01);  /* divisor 1: 115200 baud */
	outb(COM1 + UART_IER, 0x00);
	outb(COM1 + UART_LCR, 0x03);  /* 8N1 */
	outb(COM1 + UART_FCR, 0x07);  /* FIFO on and cleared */
	outb(COM1 + UART_MCR, 0x0B);  /* DTR, RTS, OUT2 (IRQ to the PIC) */
}

void guest_reset(void)
{
	outb(I8042_COMMAND, I8042_PULSE_RESET);
	for (;;)
		__asm__ volatile("cli; hlt");
}

/* Powers off through ACPI; machines without our PM block (QEMU's microvm,
 * for side-by-side benchmarks) get the keyboard-controller reset instead,
 * which ends them when run with --no-reboot / -no-reboot. */
void guest_exit(void)
{
	outw(PM1A_CNT, PM1_CNT_SLP_EN);
	outb(I8042_COMMAND, I8042_PULSE_RESET);
	for (;;)
		__asm__ volatile("cli; hlt");
}

extern char __bss_start[], __bss_end[];
const struct hvm_start_info *start_info;

void guest_start(uint32_t start_info_paddr);
void guest_start(uint32_t start_info_paddr)
{
	for (char *p = __bss_start; p < __bss_end; p++)
		*p = 0;
	start_info = (const struct hvm_start_info *)(uintptr_t)start_info_paddr;
	serial_init();
	main();
	print("DONE\n");
	guest_exit();
}

/* GCC may call these even in freestanding code (struct copies, zeroing). */
void *memcpy(void *dst, const void *src, unsigned long n)
{
	uint8_t *d = dst;
	const uint8_t *s = src;
	while (n--)
		*d++ = *s++;
	return dst;
}

void *memset(void *dst, int c, unsigned long n)
{
	uint8_t *d = dst;
	while (n--)
		*d++ = (uint8_t)c;
	return dst;
}
