/* MSI-X capability, table and pending bits. See msix.h. */
#include "msix.h"
#include "core/bytes.h"

#include <errno.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

/* Capability layout (PCI 3.0 §6.8.2.1). */
#define MSIX_CAP_CONTROL      2
#define MSIX_CAP_TABLE        4
#define MSIX_CAP_PBA          8
#define MSIX_CAP_SIZE         12
#define MSIX_CONTROL_MASKALL  0x4000
#define MSIX_CONTROL_ENABLE   0x8000

/* Table entry layout (§6.8.2.6-9). */
#define MSIX_ENTRY_ADDR_LO    0
#define MSIX_ENTRY_ADDR_HI    4
#define MSIX_ENTRY_DATA       8
#define MSIX_ENTRY_CONTROL    12
#define MSIX_ENTRY_MASKED     0x1

static uint16_t control(const struct msix *msix)
{
	const uint8_t *c = msix->pci->config + msix->capability + MSIX_CAP_CONTROL;
	return (uint16_t)(c[0] | c[1] << 8);
}

bool msix_enabled(const struct msix *msix)
{
	return control(msix) & MSIX_CONTROL_ENABLE;
}

int msix_init(struct msix *msix, struct pci_device *pci, unsigned vectors, unsigned bar, uint32_t pba_offset,
	      const struct msix_route_ops *route_ops, void *route_opaque)
{
	if (vectors == 0 || vectors > MSIX_MAX_VECTORS || bar >= PCI_BARS || (pba_offset & 7))
		return -EINVAL;
	memset(msix, 0, sizeof(*msix));
	msix->pci = pci;
	msix->vectors = vectors;
	msix->route_ops = route_ops;
	msix->route_opaque = route_opaque;
	for (unsigned i = 0; i < vectors; i++) {
		msix->entries[i].control = MSIX_ENTRY_MASKED;  /* reset state (§6.8.2.9) */
		msix->entries[i].eventfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (msix->entries[i].eventfd < 0) {
			int err = -errno;
			msix->vectors = i;
			msix_destroy(msix);
			return err;
		}
	}
	unsigned cap = pci_device_add_capability(pci, PCI_CAP_ID_MSIX, MSIX_CAP_SIZE);
	if (!cap) {
		msix_destroy(msix);
		return -ENOSPC;
	}
	msix->capability = cap;
	pci_config_set16(pci, cap + MSIX_CAP_CONTROL, (uint16_t)(vectors - 1));
	pci->wmask[cap + MSIX_CAP_CONTROL + 1] = (MSIX_CONTROL_ENABLE | MSIX_CONTROL_MASKALL) >> 8;
	put_le32(pci->config + cap + MSIX_CAP_TABLE, bar);
	put_le32(pci->config + cap + MSIX_CAP_PBA, pba_offset | bar);
	g_mutex_init(&msix->lock);
	return 0;
}

void msix_destroy(struct msix *msix)
{
	for (unsigned i = 0; i < msix->vectors; i++)
		close(msix->entries[i].eventfd);
	if (msix->capability)
		g_mutex_clear(&msix->lock);
	msix->vectors = 0;
}

static uint32_t pba_offset(const struct msix *msix)
{
	const uint8_t *p = msix->pci->config + msix->capability + MSIX_CAP_PBA;
	return (uint32_t)(p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24) & ~7u;
}

static void signal_eventfd(int fd)
{
	uint64_t one = 1;
	/* EAGAIN means the counter is already non-zero: the interrupt is on its way. */
	(void)!write(fd, &one, sizeof(one));
}

static bool masked(const struct msix *msix, const struct msix_entry *e)
{
	return (e->control & MSIX_ENTRY_MASKED) || (control(msix) & MSIX_CONTROL_MASKALL);
}

/* Delivers every pending vector that is now unmasked. Lock held. */
static void release_pending(struct msix *msix)
{
	if (!msix_enabled(msix))
		return;
	for (unsigned i = 0; i < msix->vectors; i++) {
		struct msix_entry *e = &msix->entries[i];
		if (e->pending && !masked(msix, e)) {
			e->pending = false;
			signal_eventfd(e->eventfd);
		}
	}
}

bool msix_notify(struct msix *msix, unsigned vector)
{
	if (vector >= msix->vectors || !msix_enabled(msix))
		return false;
	g_mutex_lock(&msix->lock);
	struct msix_entry *e = &msix->entries[vector];
	if (masked(msix, e))
		e->pending = true;
	else
		signal_eventfd(e->eventfd);
	g_mutex_unlock(&msix->lock);
	return true;
}

void msix_config_written(struct msix *msix)
{
	g_mutex_lock(&msix->lock);
	release_pending(msix);
	g_mutex_unlock(&msix->lock);
}

static uint32_t *entry_field(struct msix_entry *e, unsigned field, uint32_t *scratch)
{
	switch (field) {
	case MSIX_ENTRY_ADDR_LO: *scratch = (uint32_t)e->address; return scratch;
	case MSIX_ENTRY_ADDR_HI: *scratch = (uint32_t)(e->address >> 32); return scratch;
	case MSIX_ENTRY_DATA: return &e->data;
	default: return &e->control;
	}
}

uint64_t msix_bar_read(struct msix *msix, uint64_t offset, unsigned size)
{
	uint64_t value = 0;
	uint32_t pba = pba_offset(msix);
	g_mutex_lock(&msix->lock);
	for (unsigned i = 0; i < size; i++) {
		uint64_t at = offset + i;
		uint8_t byte = 0;
		if (at < (uint64_t)msix->vectors * MSIX_ENTRY_SIZE) {
			uint32_t scratch;
			struct msix_entry *e = &msix->entries[at / MSIX_ENTRY_SIZE];
			byte = (uint8_t)(*entry_field(e, at % MSIX_ENTRY_SIZE & ~3u, &scratch) >> (8 * (at % 4)));
		} else if (at >= pba && at - pba < (msix->vectors + 7) / 8) {
			for (unsigned bit = 0; bit < 8; bit++) {
				unsigned v = (unsigned)(at - pba) * 8 + bit;
				if (v < msix->vectors && msix->entries[v].pending)
					byte |= (uint8_t)(1u << bit);
			}
		}
		value |= (uint64_t)byte << (8 * i);
	}
	g_mutex_unlock(&msix->lock);
	return value;
}

/* Writes one byte of a table entry. Only bit 0 of Vector Control is
 * writable; the rest of that dword is reserved (§6.8.2.9). */
static void write_entry_byte(struct msix_entry *e, unsigned at, uint8_t byte)
{
	unsigned field = at & ~3u, shift = 8 * (at % 4);
	if (field == MSIX_ENTRY_ADDR_LO || field == MSIX_ENTRY_ADDR_HI) {
		unsigned addr_shift = shift + (field == MSIX_ENTRY_ADDR_HI ? 32 : 0);
		e->address = (e->address & ~(0xFFull << addr_shift)) | (uint64_t)byte << addr_shift;
	} else if (field == MSIX_ENTRY_DATA) {
		e->data = (e->data & ~(0xFFu << shift)) | (uint32_t)byte << shift;
	} else if (shift == 0) {
		e->control = (e->control & ~MSIX_ENTRY_MASKED) | (byte & MSIX_ENTRY_MASKED);
	}
}

void msix_bar_write(struct msix *msix, uint64_t offset, uint64_t value, unsigned size)
{
	uint64_t table_size = (uint64_t)msix->vectors * MSIX_ENTRY_SIZE;
	/* The PBA is read-only, and the table takes aligned dword or qword
	 * accesses only (§6.8.2); anything else is dropped. */
	if (offset >= table_size || size > table_size - offset || size < 4 || offset % size)
		return;
	g_mutex_lock(&msix->lock);
	unsigned vector = (unsigned)(offset / MSIX_ENTRY_SIZE);
	struct msix_entry *e = &msix->entries[vector];
	uint64_t old_address = e->address;
	uint32_t old_data = e->data;
	for (unsigned i = 0; i < size; i++) {
		unsigned at = (unsigned)(offset + i);
		write_entry_byte(&msix->entries[at / MSIX_ENTRY_SIZE], at % MSIX_ENTRY_SIZE, (uint8_t)(value >> (8 * i)));
	}
	bool reprogrammed = e->address != old_address || e->data != old_data;
	if (reprogrammed && msix->route_ops)
		msix->route_ops->vector_programmed(msix->route_opaque, vector, e->eventfd, e->address, e->data);
	release_pending(msix);
	g_mutex_unlock(&msix->lock);
}

/* --- state (core/device.h) ------------------------------------------ */

static const struct state_field entry_state[] = {
	STATE_FIELD(struct msix_entry, address), STATE_FIELD(struct msix_entry, data),
	STATE_FIELD(struct msix_entry, control), STATE_FIELD(struct msix_entry, pending),
};

void msix_save(struct msix *msix, struct state_writer *w)
{
	g_mutex_lock(&msix->lock);
	for (unsigned i = 0; i < msix->vectors; i++) {
		char prefix[32];
		g_snprintf(prefix, sizeof(prefix), "msix%u.", i);
		state_put_fields(w, prefix, entry_state, G_N_ELEMENTS(entry_state), &msix->entries[i]);
	}
	g_mutex_unlock(&msix->lock);
}

/* Each vector's route is set up again, as when the guest programs it. */
bool msix_load(struct msix *msix, struct state_reader *r)
{
	bool ok = true;
	g_mutex_lock(&msix->lock);
	for (unsigned i = 0; i < msix->vectors && ok; i++) {
		struct msix_entry *e = &msix->entries[i];
		char prefix[32];
		g_snprintf(prefix, sizeof(prefix), "msix%u.", i);
		ok = state_get_fields(r, prefix, entry_state, G_N_ELEMENTS(entry_state), e);
		e->control &= MSIX_ENTRY_MASKED;
		if (ok && msix->route_ops)
			msix->route_ops->vector_programmed(msix->route_opaque, i, e->eventfd, e->address, e->data);
	}
	if (ok)
		release_pending(msix);
	g_mutex_unlock(&msix->lock);
	return ok;
}

void msix_reset(struct msix *msix)
{
	g_mutex_lock(&msix->lock);
	for (unsigned i = 0; i < msix->vectors; i++) {
		struct msix_entry *e = &msix->entries[i];
		e->address = e->data = 0;
		e->control = MSIX_ENTRY_MASKED;
		e->pending = false;
	}
	g_mutex_unlock(&msix->lock);
}
