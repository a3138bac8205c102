/* ACPI fixed-hardware PM registers: PM1 event/control, PM timer, GPE0. */
#ifndef VIREO_HW_ACPI_PM_H
#define VIREO_HW_ACPI_PM_H

#include <glib.h>
#include <stdint.h>

#include "hw/bus.h"
#include "hw/irq.h"

#define ACPI_PM_BASE 0x600       /* where QEMU's q35 and SeaBIOS with a loader put it */
#define ACPI_PM_SIZE 0x40
#define ACPI_PM_GPE0_OFFSET 0x20
#define ACPI_PM_SCI_IRQ 9

struct acpi_pm {
	GMutex lock;
	uint16_t pm1_sts;
	uint16_t pm1_en;
	uint16_t pm1_cnt;
	uint16_t gpe0_sts;
	uint16_t gpe0_en;
	int64_t timer_epoch_ns;  /* CLOCK_MONOTONIC at reset */
	struct irq_line sci;
	void (*power_off)(void *opaque);
	void *opaque;
};

int acpi_pm_init(struct acpi_pm *pm, struct bus *pio, uint16_t base, struct irq_line sci,
		 void (*power_off)(void *opaque), void *opaque);
void acpi_pm_destroy(struct acpi_pm *pm);

#endif
