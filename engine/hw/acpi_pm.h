/* ACPI fixed-hardware PM registers: PM1 event/control, PM timer, GPE0. */
#ifndef VIREO_HW_ACPI_PM_H
#define VIREO_HW_ACPI_PM_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/bus.h"
#include "core/device.h"
#include "core/irq.h"

#define ACPI_PM_BASE 0x600       /* where QEMU's q35 and SeaBIOS with a loader put it */
#define ACPI_PM_SIZE 0x40
#define ACPI_PM_GPE0_OFFSET 0x20

struct acpi_pm {
	GMutex lock;
	uint16_t pm1_sts;
	uint16_t pm1_en;
	uint16_t pm1_cnt;
	uint16_t gpe0_sts;
	uint16_t gpe0_en;
	int64_t timer_epoch_ns;  /* CLOCK_MONOTONIC at reset */
	struct irq_line sci;
	struct bus *pio;
	uint16_t base;           /* where the block decodes; 0: nowhere */
	void (*power_off)(void *opaque);
	void *opaque;
};

/* base 0: the block decodes nowhere until acpi_pm_relocate (firmware boot,
 * where the firmware picks the address through PIIX4 PM's PMBA). */
int acpi_pm_init(struct acpi_pm *pm, struct bus *pio, uint16_t base, struct irq_line sci,
		 void (*power_off)(void *opaque), void *opaque);
/* Moves the block to base (0: off). A base whose 64 ports overlap another
 * device's leaves the block off. Any thread. */
void acpi_pm_relocate(struct acpi_pm *pm, uint16_t base);
/* The fixed-feature power button is pressed: PWRBTN_STS is set, and the SCI
 * raised if the guest enabled the event. True when it did (an ACPI guest
 * listens and will shut down); false when nobody will hear it. Any thread. */
bool acpi_pm_press_power_button(struct acpi_pm *pm);
void acpi_pm_destroy(struct acpi_pm *pm);

extern const struct device_ops acpi_pm_device_ops;

#endif
