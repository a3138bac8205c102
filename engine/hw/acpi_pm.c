/* ACPI fixed hardware (ACPI 6.4 §4.8): PM1a status/enable (+0, +2), PM1a
 * control (+4), the 3.579545 MHz PM timer (+8, 32 bits as the FADT's
 * TMR_VAL_EXT says) and GPE0 status/enable (+0x20, +0x22). Writing SLP_EN
 * with SLP_TYP 0 (our \_S5) powers the machine off. There is no SMI command
 * port, so SCI_EN reads as set: the block is in ACPI mode from reset. The
 * fixed-feature power button is pressed from the host (the control
 * interface). The timer-overflow interrupt (TMR_EN) is not generated. */
#include "acpi_pm.h"

#include <string.h>
#include <time.h>

#define PM1_STS 0x00
#define PM1_EN  0x02
#define PM1_CNT 0x04
#define PM_TMR  0x08
#define GPE0_STS ACPI_PM_GPE0_OFFSET
#define GPE0_EN  (ACPI_PM_GPE0_OFFSET + 2)

#define PM1_CNT_SCI_EN     (1u << 0)
#define PM1_CNT_SLP_TYP(v) (((v) >> 10) & 7u)
#define PM1_CNT_SLP_EN     (1u << 13)   /* write-only */
#define PM1_CNT_WRITABLE   0x1C06u      /* BM_RLD, GBL_RLS, SLP_TYP */
#define PM1_STS_WRITABLE   0x8F31u      /* status bits defined by table 4.11 */
#define PM1_PWRBTN         (1u << 8)    /* PWRBTN_STS / PWRBTN_EN (tables 4.11, 4.12) */
#define SLP_TYP_SOFT_OFF   0
#define PM_TIMER_HZ        3579545ull

static int64_t monotonic_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

static uint32_t pm_timer(const struct acpi_pm *pm)
{
	uint64_t ns = (uint64_t)(monotonic_ns() - pm->timer_epoch_ns);
	return (uint32_t)((unsigned __int128)ns * PM_TIMER_HZ / 1000000000u);
}

static void update_sci(struct acpi_pm *pm)
{
	irq_line_set(&pm->sci, (pm->pm1_sts & pm->pm1_en) || (pm->gpe0_sts & pm->gpe0_en));
}

/* The 16-bit register holding byte `offset`, or NULL for the timer and holes. */
static uint16_t *reg16(struct acpi_pm *pm, unsigned offset)
{
	switch (offset & ~1u) {
	case PM1_STS: return &pm->pm1_sts;
	case PM1_EN: return &pm->pm1_en;
	case PM1_CNT: return &pm->pm1_cnt;
	case GPE0_STS: return &pm->gpe0_sts;
	case GPE0_EN: return &pm->gpe0_en;
	default: return NULL;
	}
}

static uint8_t read_byte(struct acpi_pm *pm, unsigned offset, uint32_t timer)
{
	if (offset >= PM_TMR && offset < PM_TMR + 4)
		return (uint8_t)(timer >> (8 * (offset - PM_TMR)));
	const uint16_t *reg = reg16(pm, offset);
	uint16_t value = reg ? *reg : 0;
	if (reg == &pm->pm1_cnt)
		value |= PM1_CNT_SCI_EN;
	return (uint8_t)(value >> (8 * (offset & 1)));
}

static uint64_t pm_read(void *opaque, uint64_t offset, unsigned size)
{
	struct acpi_pm *pm = opaque;
	uint64_t value = 0;
	g_mutex_lock(&pm->lock);
	uint32_t timer = pm_timer(pm); /* one sample for a whole access */
	for (unsigned i = 0; i < size; i++)
		value |= (uint64_t)read_byte(pm, (unsigned)offset + i, timer) << (8 * i);
	g_mutex_unlock(&pm->lock);
	return value;
}

/* Applies a write of `value` to the bytes of one 16-bit register selected by
 * `bytes` (a mask over the register). Status registers are write-1-to-clear. */
static bool write_reg(struct acpi_pm *pm, uint16_t *reg, uint16_t value, uint16_t bytes)
{
	if (reg == &pm->pm1_sts)
		*reg &= (uint16_t)~(value & bytes & PM1_STS_WRITABLE);
	else if (reg == &pm->gpe0_sts)
		*reg &= (uint16_t)~(value & bytes);
	else if (reg == &pm->pm1_cnt)
		*reg = (uint16_t)((*reg & ~(bytes & PM1_CNT_WRITABLE)) | (value & bytes & PM1_CNT_WRITABLE));
	else
		*reg = (uint16_t)((*reg & ~bytes) | (value & bytes));
	return reg == &pm->pm1_cnt && (value & bytes & PM1_CNT_SLP_EN) &&
	       PM1_CNT_SLP_TYP(value) == SLP_TYP_SOFT_OFF;
}

static void pm_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
	struct acpi_pm *pm = opaque;
	bool power_off = false;
	g_mutex_lock(&pm->lock);
	for (unsigned i = 0; i < size; i++) {
		unsigned byte = (unsigned)offset + i;
		uint16_t *reg = reg16(pm, byte);
		uint16_t shift = (uint16_t)(8 * (byte & 1));
		uint16_t v = (uint16_t)(((value >> (8 * i)) & 0xFF) << shift);
		/* SLP_TYP and SLP_EN share the high byte, so the type is in v. */
		if (reg)
			power_off |= write_reg(pm, reg, v, (uint16_t)(0xFF << shift));
	}
	update_sci(pm);
	g_mutex_unlock(&pm->lock);
	if (power_off && pm->power_off)
		pm->power_off(pm->opaque);
}

static const struct bus_ops pm_ops = { pm_read, pm_write, "ACPI PM" };

int acpi_pm_init(struct acpi_pm *pm, struct bus *pio, uint16_t base, struct irq_line sci,
		 void (*power_off)(void *opaque), void *opaque)
{
	memset(pm, 0, sizeof(*pm));
	g_mutex_init(&pm->lock);
	pm->sci = sci;
	pm->power_off = power_off;
	pm->opaque = opaque;
	pm->timer_epoch_ns = monotonic_ns();
	pm->pio = pio;
	pm->base = base;
	int err = base ? bus_register(pio, base, ACPI_PM_SIZE, &pm_ops, pm) : 0;
	if (err < 0)
		g_mutex_clear(&pm->lock);
	return err;
}

void acpi_pm_relocate(struct acpi_pm *pm, uint16_t base)
{
	g_mutex_lock(&pm->lock);
	if (base != pm->base) {
		if (pm->base)
			bus_unregister(pm->pio, pm->base, pm);
		pm->base = base && bus_register(pm->pio, base, ACPI_PM_SIZE, &pm_ops, pm) == 0 ? base : 0;
	}
	g_mutex_unlock(&pm->lock);
}

bool acpi_pm_press_power_button(struct acpi_pm *pm)
{
	g_mutex_lock(&pm->lock);
	pm->pm1_sts |= PM1_PWRBTN;
	update_sci(pm);
	bool heard = pm->base && (pm->pm1_en & PM1_PWRBTN);
	g_mutex_unlock(&pm->lock);
	return heard;
}

void acpi_pm_destroy(struct acpi_pm *pm)
{
	g_mutex_clear(&pm->lock);
}

/* --- device object (core/device.h) ----------------------------------- */

/* The timer's epoch is the host's CLOCK_MONOTONIC: a record loaded after a
 * host reboot sees the timer jump, as a 24/32-bit counter may anyway. */
static const struct state_field acpi_pm_state[] = {
	STATE_FIELD(struct acpi_pm, pm1_sts), STATE_FIELD(struct acpi_pm, pm1_en),
	STATE_FIELD(struct acpi_pm, pm1_cnt), STATE_FIELD(struct acpi_pm, gpe0_sts),
	STATE_FIELD(struct acpi_pm, gpe0_en), STATE_FIELD(struct acpi_pm, timer_epoch_ns),
};

/* The registers' reset values (ACPI 6.4 §4.8.3: status, enables and
 * SLP_TYP clear); the timer runs on; where the block decodes is its
 * owner's business (the engine's, or PIIX4 PM's PMBA). */
static void acpi_pm_reset(void *opaque)
{
	struct acpi_pm *pm = opaque;
	g_mutex_lock(&pm->lock);
	pm->pm1_sts = pm->pm1_en = pm->pm1_cnt = pm->gpe0_sts = pm->gpe0_en = 0;
	update_sci(pm);
	g_mutex_unlock(&pm->lock);
}

static void acpi_pm_save(void *opaque, struct state_writer *w)
{
	struct acpi_pm *pm = opaque;
	g_mutex_lock(&pm->lock);
	state_put_fields(w, "", acpi_pm_state, G_N_ELEMENTS(acpi_pm_state), pm);
	state_put_uint(w, "base", pm->base, sizeof(pm->base));
	g_mutex_unlock(&pm->lock);
}

static bool acpi_pm_load(void *opaque, struct state_reader *r)
{
	struct acpi_pm *pm = opaque;
	uint64_t base = 0;
	g_mutex_lock(&pm->lock);
	bool ok = state_get_fields(r, "", acpi_pm_state, G_N_ELEMENTS(acpi_pm_state), pm) &&
		  state_get_uint(r, "base", &base, sizeof(pm->base));
	update_sci(pm);
	g_mutex_unlock(&pm->lock);
	if (ok)
		acpi_pm_relocate(pm, (uint16_t)base);
	return ok;
}

static void acpi_pm_teardown(void *opaque)
{
	acpi_pm_destroy(opaque);
}

static void acpi_pm_claims(void *opaque, struct device_claims *claims)
{
	struct acpi_pm *pm = opaque;
	if (pm->base)
		device_claim(claims, "PM registers", DEVICE_PIO, pm->base, ACPI_PM_SIZE);
}

const struct device_ops acpi_pm_device_ops = {
	"acpi-pm", 1, acpi_pm_reset, acpi_pm_teardown, acpi_pm_save, acpi_pm_load, acpi_pm_claims,
};
