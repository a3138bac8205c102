/* The virtio test driver's platform on the host: configuration and MMIO
 * through the engine's buses, guest RAM a buffer, and the device's I/O
 * context run after every MMIO write (as the engine's I/O thread would run
 * right after a kick). Shared by the register-level tests and the fuzzer. */
#ifndef VIREO_TEST_VPLATFORM_BUS_H
#define VIREO_TEST_VPLATFORM_BUS_H

#include <glib.h>

#include "core/bus.h"
#include "vdriver.h"

struct bus_platform {
	struct bus *pio, *mmio;
	uint8_t *ram;
	GMainContext *ctx;
};

void bus_platform_drain(struct bus_platform *bp);
/* Fills *p with callbacks whose opaque is bp. */
void bus_platform_init(struct vplatform *p, struct bus_platform *bp);

#endif
