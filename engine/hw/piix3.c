/* PIIX3 ISA bridge, 8086:7000 (82371SB datasheet §2.2). PIRQRC[A:D] at
 * 0x60-0x63: bit 7 masks the route, bits 3:0 pick the IRQ; IRQs 0-2, 8 and
 * 13 are reserved there, and a route to them is treated as masked so a
 * guest cannot drive the timer, cascade or FPU lines. Each PIRQ is a shared
 * line, the OR of the slots wired to it; each routed IRQ is the OR of the
 * PIRQs routed to it (level-triggered, shared). */
#include "piix3.h"

#include <string.h>

#define PIIX3_VENDOR 0x8086
#define PIIX3_DEVICE 0x7000
#define PIIX3_REVISION 0x00
#define PCI_CLASS_BRIDGE_ISA 0x060100
#define PIRQRC 0x60
#define PIRQRC_DISABLE 0x80
#define PIRQRC_IRQ 0x0F
#define PIRQRC_WRITABLE 0x8F
#define RESERVED_IRQS ((1u << 0) | (1u << 1) | (1u << 2) | (1u << 8) | (1u << 13))

static uint8_t route_of(const struct piix3 *isa, unsigned pirq)
{
	uint8_t reg = isa->pci.config[PIRQRC + pirq];
	uint8_t irq = reg & PIRQRC_IRQ;
	return (reg & PIRQRC_DISABLE) || (RESERVED_IRQS & (1u << irq)) ? 0 : irq;
}

/* Sets ISA IRQ `irq` to the OR of the PIRQs routed to it. Lock held. */
static void update_irq(struct piix3 *isa, uint8_t irq)
{
	bool level = false;
	if (!irq)
		return;
	for (unsigned p = 0; p < PIIX3_PIRQS; p++)
		level |= isa->routes[p] == irq && isa->pirq_levels[p];
	isa->isa.set_level(isa->isa.opaque, irq, level);
}

/* PIRQ `pirq`'s shared line changed level (its lock held). */
static void set_pirq(void *opaque, unsigned pirq, bool level)
{
	struct piix3 *isa = opaque;
	g_mutex_lock(&isa->lock);
	isa->pirq_levels[pirq] = level;
	update_irq(isa, isa->routes[pirq]);
	g_mutex_unlock(&isa->lock);
}

struct irq_line piix3_intx_line(struct piix3 *isa, unsigned slot)
{
	return shared_line_source(&isa->pirqs[(slot + PIIX3_PIRQS - 1) % PIIX3_PIRQS], slot);
}

/* A route changed: the IRQ it left and the IRQ it joined are recomputed. */
static void update_routes(struct piix3 *isa)
{
	g_mutex_lock(&isa->lock);
	for (unsigned p = 0; p < PIIX3_PIRQS; p++) {
		uint8_t old = isa->routes[p];
		isa->routes[p] = route_of(isa, p);
		if (old != isa->routes[p]) {
			update_irq(isa, old);
			update_irq(isa, isa->routes[p]);
		}
	}
	g_mutex_unlock(&isa->lock);
}

static void config_written(void *opaque, unsigned reg, unsigned size)
{
	struct piix3 *isa = opaque;
	if (reg >= PIRQRC + PIIX3_PIRQS || reg + size <= PIRQRC)
		return;
	update_routes(isa);
}

static const struct pci_device_hooks piix3_hooks = { .config_written = config_written };

int piix3_init(struct piix3 *isa, struct pci_bus *pci, struct irq_line isa_irqs)
{
	struct pci_device *dev = &isa->pci;
	memset(isa, 0, sizeof(*isa));
	pci_device_init(dev, PIIX3_VENDOR, PIIX3_DEVICE, PCI_CLASS_BRIDGE_ISA, PIIX3_REVISION);
	dev->config[PCI_HEADER_TYPE] = PCI_HEADER_MULTIFUNCTION;  /* IDE, USB and PM are functions 1-3 */
	for (unsigned p = 0; p < PIIX3_PIRQS; p++) {
		dev->config[PIRQRC + p] = PIRQRC_DISABLE;
		dev->wmask[PIRQRC + p] = PIRQRC_WRITABLE;
	}
	dev->hooks = &piix3_hooks;
	dev->hooks_opaque = isa;
	isa->isa = isa_irqs;
	g_mutex_init(&isa->lock);
	for (unsigned p = 0; p < PIIX3_PIRQS; p++)
		shared_line_init(&isa->pirqs[p], (struct irq_line){ set_pirq, isa, p });
	int err = pci_bus_add(pci, dev, PIIX3_SLOT, 0);
	if (err < 0)
		piix3_destroy(isa);
	return err;
}

void piix3_destroy(struct piix3 *isa)
{
	for (unsigned p = 0; p < PIIX3_PIRQS; p++)
		shared_line_destroy(&isa->pirqs[p]);
	g_mutex_clear(&isa->lock);
}

/* --- device object (core/device.h) ----------------------------------- */

/* The routes follow from config space; the sources are the PCI INTx
 * levels the devices hold, which their own loads drive again. */
static void piix3_reset(void *opaque)
{
	struct piix3 *isa = opaque;
	pci_device_reset(&isa->pci);
	update_routes(isa);
}

static void piix3_save(void *opaque, struct state_writer *w)
{
	struct piix3 *isa = opaque;
	uint32_t sources[PIIX3_PIRQS];
	pci_device_save(&isa->pci, w);
	for (unsigned p = 0; p < PIIX3_PIRQS; p++)
		sources[p] = shared_line_asserted(&isa->pirqs[p]);
	state_put_bytes(w, "sources", sources, sizeof(sources));
}

static bool piix3_load(void *opaque, struct state_reader *r)
{
	struct piix3 *isa = opaque;
	uint32_t sources[PIIX3_PIRQS];
	if (!pci_device_load(&isa->pci, r) || !state_get_bytes(r, "sources", sources, sizeof(sources)))
		return false;
	update_routes(isa);
	for (unsigned p = 0; p < PIIX3_PIRQS; p++)
		shared_line_restore(&isa->pirqs[p], sources[p]);
	return true;
}

static void piix3_teardown(void *opaque)
{
	piix3_destroy(opaque);
}

const struct device_ops piix3_device_ops = {
	"piix3", 1, piix3_reset, piix3_teardown, piix3_save, piix3_load, pci_function_claims,
};
