/* MC146818 RTC (Motorola MC146818A datasheet; register names from it) with
 * 128 bytes of CMOS RAM. The clock is the host's UTC plus an offset the guest
 * sets by writing the time with B.SET; the century lives at 0x32 as on PCs.
 * UIP is derived from the clock (set for the last 244 µs of each second).
 * Register C's flags are computed from the clock when read; a timerfd on the
 * I/O thread raises IRQ 8 only while PIE, AIE or UIE is enabled, so an idle
 * guest costs no wakeups. IRQ 8 follows C.IRQF: it rises with a new enabled
 * flag and drops when C is read, the edge the PIC latches. */
#include "rtc.h"

#include <glib-unix.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define RTC_INDEX_PORT 0x70
#define RTC_DATA_PORT  0x71
#define RTC_INDEX_MASK 0x7F /* bit 7 is the NMI mask */

#define REG_SECONDS 0x00
#define REG_SECONDS_ALARM 0x01
#define REG_MINUTES 0x02
#define REG_MINUTES_ALARM 0x03
#define REG_HOURS 0x04
#define REG_HOURS_ALARM 0x05
#define REG_WEEKDAY 0x06
#define REG_DAY 0x07
#define REG_MONTH 0x08
#define REG_YEAR 0x09
#define REG_A 0x0A
#define REG_B 0x0B
#define REG_C 0x0C
#define REG_D 0x0D
#define REG_CENTURY 0x32

#define A_UIP 0x80
#define A_RATE 0x0F
#define B_SET 0x80
#define B_PIE 0x40
#define B_AIE 0x20
#define B_UIE 0x10
#define B_SQWE 0x08
#define B_BINARY 0x04
#define B_24H 0x02
#define C_IRQF 0x80
#define C_PF 0x40
#define C_AF 0x20
#define C_UF 0x10
#define D_VRT 0x80
#define HOUR_PM 0x80
#define ALARM_DONT_CARE 0xC0

#define NS_PER_SEC 1000000000ll
#define RTC_MAX_SECONDS 7258118399ll /* 2199-12-31 23:59:59 UTC */
#define UIP_WINDOW_NS 244000ll
#define PERIODIC_BASE_HZ 32768

static int64_t host_utc_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec * NS_PER_SEC + ts.tv_nsec;
}

static int64_t guest_ns(const struct rtc *rtc)
{
	return host_utc_ns() + rtc->offset_ns;
}

static bool binary_mode(const struct rtc *rtc)
{
	return rtc->cmos[REG_B] & B_BINARY;
}

static uint8_t to_reg(const struct rtc *rtc, int value)
{
	return binary_mode(rtc) ? (uint8_t)value : (uint8_t)((value / 10) << 4 | value % 10);
}

static int from_reg(const struct rtc *rtc, uint8_t value)
{
	return binary_mode(rtc) ? value : (value >> 4) * 10 + (value & 0x0F);
}

static uint8_t hour_to_reg(const struct rtc *rtc, int hour)
{
	if (rtc->cmos[REG_B] & B_24H)
		return to_reg(rtc, hour);
	int h12 = hour % 12 ? hour % 12 : 12;
	return (uint8_t)(to_reg(rtc, h12) | (hour >= 12 ? HOUR_PM : 0));
}

static int hour_from_reg(const struct rtc *rtc, uint8_t value)
{
	if (rtc->cmos[REG_B] & B_24H)
		return from_reg(rtc, value);
	int h12 = from_reg(rtc, value & ~HOUR_PM) % 12;
	return h12 + ((value & HOUR_PM) ? 12 : 0);
}

/* Writes the broken-down guest time into the time registers. */
static void store_time(struct rtc *rtc, int64_t ns)
{
	time_t seconds = (time_t)(ns / NS_PER_SEC);
	struct tm tm;
	gmtime_r(&seconds, &tm);
	rtc->cmos[REG_SECONDS] = to_reg(rtc, tm.tm_sec);
	rtc->cmos[REG_MINUTES] = to_reg(rtc, tm.tm_min);
	rtc->cmos[REG_HOURS] = hour_to_reg(rtc, tm.tm_hour);
	rtc->cmos[REG_WEEKDAY] = to_reg(rtc, tm.tm_wday + 1);
	rtc->cmos[REG_DAY] = to_reg(rtc, tm.tm_mday);
	rtc->cmos[REG_MONTH] = to_reg(rtc, tm.tm_mon + 1);
	rtc->cmos[REG_YEAR] = to_reg(rtc, (tm.tm_year + 1900) % 100);
	rtc->cmos[REG_CENTURY] = to_reg(rtc, (tm.tm_year + 1900) / 100);
}

/* The guest finished setting the clock: keep its time as an offset. */
static void adopt_guest_time(struct rtc *rtc)
{
	struct tm tm = {
		.tm_sec = from_reg(rtc, rtc->cmos[REG_SECONDS]),
		.tm_min = from_reg(rtc, rtc->cmos[REG_MINUTES]),
		.tm_hour = hour_from_reg(rtc, rtc->cmos[REG_HOURS]),
		.tm_mday = from_reg(rtc, rtc->cmos[REG_DAY]),
		.tm_mon = from_reg(rtc, rtc->cmos[REG_MONTH]) - 1,
		.tm_year = from_reg(rtc, rtc->cmos[REG_CENTURY]) * 100 + from_reg(rtc, rtc->cmos[REG_YEAR]) - 1900,
	};
	/* timegm normalises out-of-range fields; a date outside 1970-2199
	 * (register garbage) is ignored, as the clock keeps its time. */
	int64_t seconds = (int64_t)timegm(&tm), now = host_utc_ns();
	if (seconds < 0 || seconds > RTC_MAX_SECONDS)
		return;
	rtc->offset_ns = seconds * NS_PER_SEC - now / NS_PER_SEC * NS_PER_SEC;
	rtc->last_second = guest_ns(rtc) / NS_PER_SEC;
}

static int64_t periodic_period_ns(const struct rtc *rtc)
{
	unsigned rate = rtc->cmos[REG_A] & A_RATE;
	if (rate == 0)
		return 0;
	if (rate < 3)
		rate += 7; /* rates 1 and 2 repeat 8 and 9 (256 Hz, 128 Hz) */
	return NS_PER_SEC * (1ll << (rate - 1)) / PERIODIC_BASE_HZ;
}

static bool alarm_matches(const struct rtc *rtc)
{
	static const uint8_t pairs[][2] = {
		{ REG_SECONDS_ALARM, REG_SECONDS }, { REG_MINUTES_ALARM, REG_MINUTES },
		{ REG_HOURS_ALARM, REG_HOURS },
	};
	for (size_t i = 0; i < G_N_ELEMENTS(pairs); i++) {
		uint8_t alarm = rtc->cmos[pairs[i][0]];
		if ((alarm & ALARM_DONT_CARE) != ALARM_DONT_CARE && alarm != rtc->cmos[pairs[i][1]])
			return false;
	}
	return true;
}

/* Brings C's flags up to the present; raises IRQF (and the line) when a new
 * flag has its interrupt enabled. */
static void update_flags(struct rtc *rtc)
{
	int64_t now = guest_ns(rtc), period = periodic_period_ns(rtc);
	uint8_t raised = 0;

	if (!(rtc->cmos[REG_B] & B_SET) && now / NS_PER_SEC > rtc->last_second) {
		rtc->last_second = now / NS_PER_SEC;
		store_time(rtc, now);
		raised |= C_UF | (alarm_matches(rtc) ? C_AF : 0);
	}
	if (period && now >= rtc->next_periodic_ns) {
		raised |= C_PF;
		rtc->next_periodic_ns = now - (now % period) + period;
	}
	rtc->cmos[REG_C] |= raised;
	uint8_t enabled = rtc->cmos[REG_B] & (B_PIE | B_AIE | B_UIE); /* same bit positions as C */
	if ((raised & enabled) && !(rtc->cmos[REG_C] & C_IRQF)) {
		rtc->cmos[REG_C] |= C_IRQF;
		irq_line_set(&rtc->irq, true);
	}
}

static void arm_timer(struct rtc *rtc);

static gboolean on_timer(gint fd, GIOCondition condition, gpointer data)
{
	struct rtc *rtc = data;
	uint64_t expirations;
	(void)condition;
	if (read(fd, &expirations, sizeof(expirations)) < 0)
		return G_SOURCE_CONTINUE;
	g_mutex_lock(&rtc->lock);
	update_flags(rtc);
	arm_timer(rtc);
	g_mutex_unlock(&rtc->lock);
	return G_SOURCE_CONTINUE;
}

/* The next moment an enabled interrupt's flag rises, in host UTC, or 0. */
static int64_t next_deadline(const struct rtc *rtc)
{
	uint8_t b = rtc->cmos[REG_B];
	int64_t deadline = INT64_MAX;
	if ((b & B_PIE) && periodic_period_ns(rtc))
		deadline = rtc->next_periodic_ns;
	if ((b & (B_UIE | B_AIE)) && !(b & B_SET))
		deadline = MIN(deadline, (rtc->last_second + 1) * NS_PER_SEC);
	return deadline == INT64_MAX ? 0 : deadline - rtc->offset_ns;
}

static void arm_timer(struct rtc *rtc)
{
	if (rtc->timer_fd < 0)
		return;
	int64_t at = next_deadline(rtc);
	struct itimerspec its = { .it_value = { at / NS_PER_SEC, at % NS_PER_SEC } };
	if (at > 0 && its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0)
		its.it_value.tv_nsec = 1;
	timerfd_settime(rtc->timer_fd, TFD_TIMER_ABSTIME, &its, NULL); /* zero disarms */
}

static bool is_time_register(uint8_t index)
{
	return (index <= REG_YEAR && index != REG_SECONDS_ALARM && index != REG_MINUTES_ALARM &&
		index != REG_HOURS_ALARM) || index == REG_CENTURY;
}

static uint8_t read_register(struct rtc *rtc, uint8_t index)
{
	uint8_t value;
	switch (index) {
	case REG_A:
		value = rtc->cmos[REG_A] & ~A_UIP;
		if (!(rtc->cmos[REG_B] & B_SET) && guest_ns(rtc) % NS_PER_SEC >= NS_PER_SEC - UIP_WINDOW_NS)
			value |= A_UIP;
		return value;
	case REG_C:
		update_flags(rtc);
		value = rtc->cmos[REG_C];
		rtc->cmos[REG_C] = 0;
		irq_line_set(&rtc->irq, false);
		return value;
	case REG_D:
		return D_VRT;
	default:
		if (is_time_register(index) && !(rtc->cmos[REG_B] & B_SET))
			store_time(rtc, guest_ns(rtc));
		return rtc->cmos[index];
	}
}

static void write_register_b(struct rtc *rtc, uint8_t value)
{
	uint8_t old = rtc->cmos[REG_B];
	if (!(old & B_SET) && (value & B_SET))
		store_time(rtc, guest_ns(rtc)); /* freeze the guest's view while it edits */
	rtc->cmos[REG_B] = value;
	if ((old & B_SET) && !(value & B_SET))
		adopt_guest_time(rtc);
}

static void write_register(struct rtc *rtc, uint8_t index, uint8_t value)
{
	switch (index) {
	case REG_A:
		rtc->cmos[REG_A] = value & ~A_UIP;
		rtc->next_periodic_ns = guest_ns(rtc) + periodic_period_ns(rtc);
		break;
	case REG_B:
		write_register_b(rtc, value);
		break;
	case REG_C:
	case REG_D:
		break; /* read-only */
	default:
		/* Time registers take writes only while B.SET; alarms and RAM always. */
		if (is_time_register(index) && !(rtc->cmos[REG_B] & B_SET))
			break;
		rtc->cmos[index] = value;
		break;
	}
}

static uint64_t rtc_read(void *opaque, uint64_t offset, unsigned size)
{
	struct rtc *rtc = opaque;
	(void)size;
	g_mutex_lock(&rtc->lock);
	uint8_t value = offset == 0 ? rtc->index : read_register(rtc, rtc->index);
	g_mutex_unlock(&rtc->lock);
	return value;
}

static void rtc_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
	struct rtc *rtc = opaque;
	(void)size;
	g_mutex_lock(&rtc->lock);
	if (offset == 0) {
		rtc->index = (uint8_t)value & RTC_INDEX_MASK;
	} else {
		write_register(rtc, rtc->index, (uint8_t)value);
		arm_timer(rtc);
	}
	g_mutex_unlock(&rtc->lock);
}

static const struct bus_ops rtc_ops = { rtc_read, rtc_write, "rtc" };

void rtc_set_cmos(struct rtc *rtc, uint8_t index, uint8_t value)
{
	g_mutex_lock(&rtc->lock);
	rtc->cmos[index & RTC_INDEX_MASK] = value;
	g_mutex_unlock(&rtc->lock);
}

static void start_timer(struct rtc *rtc)
{
	rtc->timer_fd = timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK | TFD_CLOEXEC);
	if (rtc->timer_fd < 0)
		return; /* interrupts then rise only when the guest polls C */
	rtc->timer = g_unix_fd_source_new(rtc->timer_fd, G_IO_IN);
	g_source_set_callback(rtc->timer, G_SOURCE_FUNC(on_timer), rtc, NULL);
	g_source_attach(rtc->timer, rtc->context);
}

int rtc_init(struct rtc *rtc, struct bus *pio, struct irq_line irq, GMainContext *context)
{
	memset(rtc, 0, sizeof(*rtc));
	g_mutex_init(&rtc->lock);
	rtc->irq = irq;
	rtc->context = context;
	rtc->timer_fd = -1;
	/* Power-on state a PC BIOS leaves: 32.768 kHz divider, 1024 Hz rate,
	 * BCD, 24-hour mode. */
	rtc->cmos[REG_A] = 0x26;
	rtc->cmos[REG_B] = B_24H;
	rtc->last_second = guest_ns(rtc) / NS_PER_SEC;
	store_time(rtc, guest_ns(rtc));
	int err = bus_register(pio, RTC_INDEX_PORT, 2, &rtc_ops, rtc);
	if (err < 0) {
		g_mutex_clear(&rtc->lock);
		return err;
	}
	if (context)
		start_timer(rtc);
	return 0;
}

void rtc_destroy(struct rtc *rtc)
{
	if (rtc->timer) {
		g_source_destroy(rtc->timer);
		g_source_unref(rtc->timer);
	}
	if (rtc->timer_fd >= 0)
		close(rtc->timer_fd);
	g_mutex_clear(&rtc->lock);
}

/* --- device object (core/device.h) ----------------------------------- */

/* The time is saved as its offset from host UTC, so a loaded clock goes on
 * from where the saved one was relative to real time. */
static const struct state_field rtc_state[] = {
	STATE_FIELD(struct rtc, index), STATE_ARRAY(struct rtc, cmos), STATE_FIELD(struct rtc, offset_ns),
	STATE_FIELD(struct rtc, last_second), STATE_FIELD(struct rtc, next_periodic_ns),
};

/* The chip's RESET input (a PC's reset line) clears the interrupt enables
 * and flags; the time and CMOS RAM are battery-backed and stay (MC146818A
 * datasheet, "RESET"). */
static void rtc_reset(void *opaque)
{
	struct rtc *rtc = opaque;
	g_mutex_lock(&rtc->lock);
	rtc->cmos[REG_B] &= (uint8_t)~(B_PIE | B_AIE | B_UIE | B_SQWE);
	rtc->cmos[REG_C] = 0;
	irq_line_set(&rtc->irq, false);
	arm_timer(rtc);
	g_mutex_unlock(&rtc->lock);
}

static void rtc_save(void *opaque, struct state_writer *w)
{
	struct rtc *rtc = opaque;
	state_put_fields_locked(w, &rtc->lock, rtc_state, G_N_ELEMENTS(rtc_state), rtc);
}

static bool rtc_load(void *opaque, struct state_reader *r)
{
	struct rtc *rtc = opaque;
	g_mutex_lock(&rtc->lock);
	bool ok = state_get_fields(r, "", rtc_state, G_N_ELEMENTS(rtc_state), rtc) &&
		  state_check(r, rtc->index < RTC_CMOS_SIZE, "index out of range");
	rtc->index &= RTC_INDEX_MASK;  /* safe whatever was read */
	if (ok) {
		irq_line_set(&rtc->irq, rtc->cmos[REG_C] & C_IRQF);
		arm_timer(rtc);
	}
	g_mutex_unlock(&rtc->lock);
	return ok;
}

static void rtc_teardown(void *opaque)
{
	rtc_destroy(opaque);
}

static void rtc_claims(void *opaque, struct device_claims *claims)
{
	(void)opaque;
	device_claim(claims, "index and data", DEVICE_PIO, RTC_INDEX_PORT, 2);
}

const struct device_ops rtc_device_ops = {
	"rtc", 1, rtc_reset, rtc_teardown, rtc_save, rtc_load, rtc_claims,
};
