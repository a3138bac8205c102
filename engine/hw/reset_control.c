/* PC reset sources. 0xCF9 is the PIIX3 Reset Control Register (82371SB
 * datasheet §4.1.5): bit 2 RST_CPU going 0->1 resets (bit 1 SYS_RST picks a
 * hard reset, which for us is the same). 0x92 is System Control Port A: bit 0
 * going 0->1 is a fast reset, bit 1 the A20 gate (always enabled here; the
 * bit only reads back). */
#include "reset_control.h"

#include <string.h>

#define RCR_RST_CPU  (1u << 2)
#define RCR_WRITABLE 0x0Eu /* FULL_RST, RST_CPU, SYS_RST */
#define PORT_A       0x92
#define PORT_A_FAST_RESET (1u << 0)
#define PORT_A_A20   (1u << 1)

static bool rising(uint8_t old, uint8_t new, uint8_t bit)
{
	return !(old & bit) && (new & bit);
}

static uint64_t rcr_read(void *opaque, uint64_t offset, unsigned size)
{
	struct reset_control *rc = opaque;
	(void)offset, (void)size;
	g_mutex_lock(&rc->lock);
	uint8_t value = rc->rcr;
	g_mutex_unlock(&rc->lock);
	return value;
}

static void rcr_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
	struct reset_control *rc = opaque;
	(void)offset, (void)size;
	g_mutex_lock(&rc->lock);
	uint8_t old = rc->rcr;
	rc->rcr = (uint8_t)value & RCR_WRITABLE;
	bool reset = rising(old, rc->rcr, RCR_RST_CPU);
	if (reset)
		rc->rcr &= ~RCR_RST_CPU;
	g_mutex_unlock(&rc->lock);
	if (reset)
		rc->request_reset(rc->opaque);
}

static uint64_t port_a_read(void *opaque, uint64_t offset, unsigned size)
{
	struct reset_control *rc = opaque;
	(void)offset, (void)size;
	g_mutex_lock(&rc->lock);
	uint8_t value = rc->port_a;
	g_mutex_unlock(&rc->lock);
	return value;
}

static void port_a_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
	struct reset_control *rc = opaque;
	(void)offset, (void)size;
	g_mutex_lock(&rc->lock);
	uint8_t old = rc->port_a;
	rc->port_a = ((uint8_t)value & (PORT_A_FAST_RESET | PORT_A_A20));
	bool reset = rising(old, rc->port_a, PORT_A_FAST_RESET);
	g_mutex_unlock(&rc->lock);
	if (reset)
		rc->request_reset(rc->opaque);
}

static const struct bus_ops rcr_ops = { rcr_read, rcr_write, "reset control" };
static const struct bus_ops port_a_ops = { port_a_read, port_a_write, "port A" };

static void power_on(struct reset_control *rc)
{
	rc->rcr = 0;
	rc->port_a = PORT_A_A20;
}

int reset_control_init(struct reset_control *rc, struct bus *pio, struct pci_bus *pci,
		       void (*request_reset)(void *opaque), void *opaque)
{
	memset(rc, 0, sizeof(*rc));
	g_mutex_init(&rc->lock);
	rc->request_reset = request_reset;
	rc->opaque = opaque;
	power_on(rc);
	int err = bus_register(pio, PORT_A, 1, &port_a_ops, rc);
	if (err < 0) {
		g_mutex_clear(&rc->lock);
		return err;
	}
	pci_bus_claim_cf9(pci, &rcr_ops, rc);
	return 0;
}

void reset_control_destroy(struct reset_control *rc)
{
	g_mutex_clear(&rc->lock);
}

/* --- device object (core/device.h) ----------------------------------- */

static const struct state_field reset_control_state[] = {
	STATE_FIELD(struct reset_control, rcr), STATE_FIELD(struct reset_control, port_a),
};

static void reset_control_reset(void *opaque)
{
	struct reset_control *rc = opaque;
	g_mutex_lock(&rc->lock);
	power_on(rc);
	g_mutex_unlock(&rc->lock);
}

static void reset_control_save(void *opaque, struct state_writer *w)
{
	struct reset_control *rc = opaque;
	state_put_fields_locked(w, &rc->lock, reset_control_state, G_N_ELEMENTS(reset_control_state), rc);
}

static bool reset_control_load(void *opaque, struct state_reader *r)
{
	struct reset_control *rc = opaque;
	return state_get_fields_locked(r, &rc->lock, reset_control_state, G_N_ELEMENTS(reset_control_state), rc);
}

static void reset_control_teardown(void *opaque)
{
	reset_control_destroy(opaque);
}

static void reset_control_claims(void *opaque, struct device_claims *claims)
{
	(void)opaque;
	device_claim(claims, "reset control register", DEVICE_PIO, RESET_CONTROL_PORT, 1);
	device_claim(claims, "system control port A", DEVICE_PIO, PORT_A, 1);
}

const struct device_ops reset_control_device_ops = {
	"reset-control", 1, reset_control_reset, reset_control_teardown, reset_control_save, reset_control_load,
	reset_control_claims,
};
