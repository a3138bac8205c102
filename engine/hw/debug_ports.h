/* The ports firmware writes for a human watching: the Bochs/QEMU debug
 * console at 0x402 (SeaBIOS's log) and the POST code port 0x80. */
#ifndef VIREO_HW_DEBUG_PORTS_H
#define VIREO_HW_DEBUG_PORTS_H

#include <stdatomic.h>
#include <stdint.h>

#include "core/device.h"
#include "backend/chardev.h"
#include "core/bus.h"

#define DEBUGCON_PORT 0x402
#define POST_PORT 0x80

struct debug_ports {
	struct chardev *log;       /* where debug console bytes go; NULL: dropped */
	_Atomic uint8_t post_code; /* the last byte written to 0x80 */
};

int debug_ports_init(struct debug_ports *dp, struct bus *pio, struct chardev *log);

extern const struct device_ops debug_ports_device_ops;

#endif
