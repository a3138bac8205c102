/* Debug console (QEMU's isa-debugcon, Bochs's "port E9 hack" at 0x402):
 * reading it gives 0xE9, which is how SeaBIOS decides to log there; bytes
 * written go to the log backend. Port 0x80 keeps the last POST code and
 * does nothing else: firmware also uses it as an I/O delay, so it must stay
 * cheap. */
#include "debug_ports.h"

#define DEBUGCON_READBACK 0xE9

static uint64_t debugcon_read(void *opaque, uint64_t offset, unsigned size)
{
	(void)opaque, (void)offset, (void)size;
	return DEBUGCON_READBACK;
}

static void debugcon_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
	struct debug_ports *dp = opaque;
	(void)offset;
	uint8_t bytes[8];
	for (unsigned i = 0; i < size && i < sizeof(bytes); i++)
		bytes[i] = (uint8_t)(value >> (8 * i));
	if (dp->log)
		chardev_write(dp->log, bytes, size < sizeof(bytes) ? size : sizeof(bytes));
}

static uint64_t post_read(void *opaque, uint64_t offset, unsigned size)
{
	struct debug_ports *dp = opaque;
	(void)offset, (void)size;
	return atomic_load(&dp->post_code);
}

static void post_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
	struct debug_ports *dp = opaque;
	(void)offset, (void)size;
	atomic_store(&dp->post_code, (uint8_t)value);
}

static const struct bus_ops debugcon_ops = { debugcon_read, debugcon_write, "debugcon" };
static const struct bus_ops post_ops = { post_read, post_write, "POST" };

int debug_ports_init(struct debug_ports *dp, struct bus *pio, struct chardev *log)
{
	dp->log = log;
	atomic_store(&dp->post_code, 0);
	int err = bus_register(pio, DEBUGCON_PORT, 1, &debugcon_ops, dp);
	if (err == 0 && (err = bus_register(pio, POST_PORT, 1, &post_ops, dp)) < 0)
		bus_unregister(pio, DEBUGCON_PORT, dp);
	return err;
}

/* --- device object (core/device.h) ----------------------------------- */

static void debug_ports_reset(void *opaque)
{
	struct debug_ports *dp = opaque;
	atomic_store(&dp->post_code, 0);
}

static void debug_ports_save(void *opaque, struct state_writer *w)
{
	struct debug_ports *dp = opaque;
	state_put_uint(w, "post_code", atomic_load(&dp->post_code), 1);
}

static bool debug_ports_load(void *opaque, struct state_reader *r)
{
	struct debug_ports *dp = opaque;
	uint64_t code;
	if (!state_get_uint(r, "post_code", &code, 1))
		return false;
	atomic_store(&dp->post_code, (uint8_t)code);
	return true;
}

static void debug_ports_claims(void *opaque, struct device_claims *claims)
{
	(void)opaque;
	device_claim(claims, "debug console", DEVICE_PIO, DEBUGCON_PORT, 1);
	device_claim(claims, "POST code", DEVICE_PIO, POST_PORT, 1);
}

const struct device_ops debug_ports_device_ops = {
	"debug-ports", 1, debug_ports_reset, NULL, debug_ports_save, debug_ports_load, debug_ports_claims,
};
