/* 16550A UART (COM port) with a 16-byte receive FIFO. */
#ifndef VIREO_HW_UART_H
#define VIREO_HW_UART_H

#include <glib.h>
#include <stdint.h>

#include "backend/chardev.h"
#include "core/bus.h"
#include "core/device.h"
#include "core/irq.h"

#define UART_FIFO_SIZE 16

struct uart {
	GMutex lock;
	uint8_t ier, lcr, mcr, lsr, scr, fcr;
	uint8_t msr_deltas;     /* MSR bits 3:0, cleared by reading MSR */
	uint16_t divisor;
	bool thre_pending;      /* THR-empty interrupt waiting to be seen in IIR */
	uint8_t rx[UART_FIFO_SIZE];
	unsigned rx_head, rx_count;
	struct irq_line irq;
	struct chardev *chr;
	uint16_t base;
};

int uart_init(struct uart *uart, struct bus *pio, uint16_t base, struct irq_line irq, struct chardev *chr);
void uart_destroy(struct uart *uart);

extern const struct device_ops uart_device_ops;

#endif
