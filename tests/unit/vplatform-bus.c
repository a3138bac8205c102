/* See vplatform-bus.h. */
#include "vplatform-bus.h"

#include "bus-poke.h"

void bus_platform_drain(struct bus_platform *bp)
{
	while (g_main_context_iteration(bp->ctx, FALSE))
		;
}

static uint32_t config_read(void *opaque, unsigned devfn, unsigned reg)
{
	struct bus_platform *bp = opaque;
	bus_out(bp->pio, 0xCF8, 0x80000000u | devfn << 8 | reg, 4);
	return (uint32_t)bus_in(bp->pio, 0xCFC, 4);
}

static void config_write(void *opaque, unsigned devfn, unsigned reg, uint32_t value)
{
	struct bus_platform *bp = opaque;
	bus_out(bp->pio, 0xCF8, 0x80000000u | devfn << 8 | reg, 4);
	bus_out(bp->pio, 0xCFC, value, 4);
}

static uint64_t mmio_read(void *opaque, uint64_t addr, unsigned size)
{
	return bus_in(((struct bus_platform *)opaque)->mmio, addr, size);
}

static void mmio_write(void *opaque, uint64_t addr, uint64_t value, unsigned size)
{
	struct bus_platform *bp = opaque;
	bus_out(bp->mmio, addr, value, size);
	bus_platform_drain(bp);
}

static void *ram(void *opaque, uint64_t gpa)
{
	return ((struct bus_platform *)opaque)->ram + gpa;
}

void bus_platform_init(struct vplatform *p, struct bus_platform *bp)
{
	*p = (struct vplatform){ config_read, config_write, mmio_read, mmio_write, ram, bp };
}
