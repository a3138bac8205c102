/* MC146818 real-time clock and CMOS RAM at ports 0x70/0x71. */
#ifndef VIREO_HW_RTC_H
#define VIREO_HW_RTC_H

#include <glib.h>
#include <stdint.h>

#include "core/bus.h"
#include "core/device.h"
#include "core/irq.h"

#define RTC_CMOS_SIZE 128

struct rtc {
	GMutex lock;
	uint8_t index;
	uint8_t cmos[RTC_CMOS_SIZE];   /* time bytes hold the guest's view only while B.SET */
	int64_t offset_ns;             /* guest time minus host UTC */
	int64_t last_second;           /* guest second whose update flags are done */
	int64_t next_periodic_ns;      /* guest time of the next periodic flag */
	struct irq_line irq;
	GMainContext *context;
	GSource *timer;                /* armed only while an interrupt is enabled */
	int timer_fd;
};

/* context runs the interrupt timer; NULL (unit tests) leaves interrupts to
 * be noticed when register C is read. */
int rtc_init(struct rtc *rtc, struct bus *pio, struct irq_line irq, GMainContext *context);
void rtc_destroy(struct rtc *rtc);

extern const struct device_ops rtc_device_ops;

/* For the engine: CMOS bytes a BIOS would have left (memory sizes, CPUs). */
void rtc_set_cmos(struct rtc *rtc, uint8_t index, uint8_t value);

#endif
