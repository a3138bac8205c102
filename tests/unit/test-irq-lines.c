/* Shared level-triggered lines: the level a GSI sees is the OR of its
 * sources, so one device lowering its line does not drop another's pending
 * interrupt. Direct boot's PCI wiring puts slots 8 apart on one IOAPIC pin;
 * the firmware board's PIIX3 shares PIRQs the same way (test-chipset). */
#include <glib.h>

#include "core/shared_line.h"
#include "hw/direct_intx.h"

#define GSIS 24

struct recorder {
	GMutex lock;
	bool level[GSIS];
	unsigned calls;
};

static void record_level(void *opaque, unsigned gsi, bool level)
{
	struct recorder *r = opaque;
	g_assert_cmpuint(gsi, <, GSIS);
	g_mutex_lock(&r->lock);
	r->level[gsi] = level;
	r->calls++;
	g_mutex_unlock(&r->lock);
}

static void test_two_sources_or(void)
{
	struct recorder r = { 0 };
	struct shared_line line;
	shared_line_init(&line, (struct irq_line){ record_level, &r, 5 });
	struct irq_line a = shared_line_source(&line, 3), b = shared_line_source(&line, 11);
	irq_line_set(&a, true);
	g_assert_true(r.level[5]);
	irq_line_set(&b, false);        /* b was never high: a's interrupt stays */
	g_assert_true(r.level[5]);
	irq_line_set(&b, true);
	irq_line_set(&a, false);
	g_assert_true(r.level[5]);      /* b holds it */
	irq_line_set(&b, false);
	g_assert_false(r.level[5]);
	irq_line_set(&a, true);
	irq_line_set(&a, true);         /* a source raising twice still lowers once */
	irq_line_set(&a, false);
	g_assert_false(r.level[5]);
	shared_line_destroy(&line);
}

/* Slots 2 and 10 (the display and the eighth virtio device) share GSI 18;
 * 7, 15 and 31 (AHCI) share GSI 23; other pins stay untouched. */
static void test_direct_boot_slots_share_pins(void)
{
	struct recorder r = { 0 };
	struct direct_intx intx;
	direct_intx_init(&intx, (struct irq_line){ record_level, &r, 0 });
	struct irq_line slot2 = direct_intx_line(&intx, 2), slot10 = direct_intx_line(&intx, 10);
	irq_line_set(&slot10, true);
	g_assert_true(r.level[18]);
	irq_line_set(&slot2, true);
	irq_line_set(&slot2, false);    /* the display's interrupt is handled */
	g_assert_true(r.level[18]);     /* the disk's is still pending */
	irq_line_set(&slot10, false);
	g_assert_false(r.level[18]);

	struct irq_line slot7 = direct_intx_line(&intx, 7), slot15 = direct_intx_line(&intx, 15);
	struct irq_line ahci = direct_intx_line(&intx, 31);
	irq_line_set(&ahci, true);
	irq_line_set(&slot7, true);
	irq_line_set(&slot15, false);
	irq_line_set(&slot7, false);
	g_assert_true(r.level[23]);
	irq_line_set(&ahci, false);
	g_assert_false(r.level[23]);
	for (unsigned gsi = 0; gsi < GSIS; gsi++)
		g_assert_false(r.level[gsi]);
	direct_intx_destroy(&intx);
}

/* vCPU threads and the I/O thread set sources at once: whatever the
 * interleaving, the last level out is the OR of the sources' last levels. */
struct toggler {
	struct irq_line line;
	bool final;
};

static gpointer toggle(gpointer opaque)
{
	struct toggler *t = opaque;
	for (unsigned i = 0; i < 20000; i++)
		irq_line_set(&t->line, i & 1);
	irq_line_set(&t->line, t->final);
	return NULL;
}

static void test_concurrent_sources(void)
{
	for (unsigned round = 0; round < 4; round++) {
		struct recorder r = { 0 };
		struct shared_line line;
		shared_line_init(&line, (struct irq_line){ record_level, &r, 9 });
		struct toggler a = { shared_line_source(&line, 0), round & 1 };
		struct toggler b = { shared_line_source(&line, 1), round & 2 };
		GThread *ta = g_thread_new("a", toggle, &a), *tb = g_thread_new("b", toggle, &b);
		g_thread_join(ta);
		g_thread_join(tb);
		g_assert_cmpint(r.level[9], ==, a.final || b.final);
		shared_line_destroy(&line);
	}
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/irq-lines/two-sources-or", test_two_sources_or);
	g_test_add_func("/irq-lines/direct-boot-slots-share-pins", test_direct_boot_slots_share_pins);
	g_test_add_func("/irq-lines/concurrent-sources", test_concurrent_sources);
	return g_test_run();
}
