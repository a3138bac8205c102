/* PC reset sources: the PIIX reset control register (0xCF9) and System
 * Control Port A (0x92, fast reset and A20). */
#ifndef VIREO_HW_RESET_CONTROL_H
#define VIREO_HW_RESET_CONTROL_H

#include <glib.h>
#include <stdint.h>

#include "core/bus.h"
#include "core/device.h"
#include "hw/pci.h"

#define RESET_CONTROL_PORT 0xCF9
#define RESET_CONTROL_RESET_VALUE 0x06 /* SYS_RST | RST_CPU: what the FADT asks OSes to write */

struct reset_control {
	GMutex lock;
	uint8_t rcr;       /* 0xCF9 */
	uint8_t port_a;    /* 0x92 */
	void (*request_reset)(void *opaque);
	void *opaque;
};

int reset_control_init(struct reset_control *rc, struct bus *pio, struct pci_bus *pci,
		       void (*request_reset)(void *opaque), void *opaque);
void reset_control_destroy(struct reset_control *rc);

extern const struct device_ops reset_control_device_ops;

#endif
