/* The minimal virtio PCI driver. See vdriver.h. */
#include "vdriver.h"

#define PCI_COMMAND 0x04
#define PCI_COMMAND_MEMORY 0x2
#define PCI_COMMAND_MASTER 0x4
#define PCI_STATUS_CAP_LIST 0x10
#define PCI_CAPABILITY_LIST 0x34
#define PCI_CAP_ID_VNDR 0x09
#define PCI_CAP_ID_MSIX 0x11

/* virtio 1.2 §4.1.4 capability types and common configuration layout. */
#define CAP_COMMON 1
#define CAP_NOTIFY 2
#define CAP_ISR 3
#define CAP_DEVICE 4
#define COMMON_DFSELECT 0x00
#define COMMON_DF 0x04
#define COMMON_GFSELECT 0x08
#define COMMON_GF 0x0C
#define COMMON_STATUS 0x14
#define COMMON_Q_SELECT 0x16
#define COMMON_Q_SIZE 0x18
#define COMMON_Q_ENABLE 0x1C
#define COMMON_Q_NOFF 0x1E
#define COMMON_Q_DESC 0x20
#define COMMON_Q_AVAIL 0x28
#define COMMON_Q_USED 0x30
#define STATUS_ACKNOWLEDGE 1
#define STATUS_DRIVER 2
#define STATUS_DRIVER_OK 4
#define STATUS_FEATURES_OK 8
#define DESC_F_NEXT 1
#define DESC_F_WRITE 2

static uint64_t rd(struct vdevice *d, uint64_t addr, unsigned size) { return d->p->mmio_read(d->p->opaque, addr, size); }
static void wr(struct vdevice *d, uint64_t addr, uint64_t v, unsigned size) { d->p->mmio_write(d->p->opaque, addr, v, size); }
static uint32_t cfg(struct vdevice *d, unsigned reg) { return d->p->config_read(d->p->opaque, d->devfn, reg); }

/* Returns the BAR's address, assigning `*next` when the BAR is empty. */
static uint64_t bar_address(struct vdevice *d, unsigned bar, uint64_t *next)
{
	unsigned reg = 0x10 + 4 * bar;
	uint32_t low = cfg(d, reg);
	bool is64 = (low & 0x6) == 0x4;
	uint64_t addr = (low & ~0xFu) | (is64 ? (uint64_t)cfg(d, reg + 4) << 32 : 0);
	if (addr)
		return addr;
	d->p->config_write(d->p->opaque, d->devfn, reg, 0xFFFFFFFF);
	uint32_t size = ~(cfg(d, reg) & ~0xFu) + 1;
	addr = (*next + size - 1) & ~(uint64_t)(size - 1);
	*next = addr + size;
	d->p->config_write(d->p->opaque, d->devfn, reg, (uint32_t)addr);
	if (is64)
		d->p->config_write(d->p->opaque, d->devfn, reg + 4, (uint32_t)(addr >> 32));
	return addr;
}

static void map_capability(struct vdevice *d, unsigned cap, uint64_t *next)
{
	uint32_t head = cfg(d, cap);
	uint8_t type = (uint8_t)(head >> 24);
	if ((head & 0xFF) == PCI_CAP_ID_MSIX) {
		uint32_t table = cfg(d, cap + 4);
		d->msix_table = bar_address(d, table & 7, next) + (table & ~7u);
		return;
	}
	if ((head & 0xFF) != PCI_CAP_ID_VNDR || type < CAP_COMMON || type > CAP_DEVICE)
		return;
	uint64_t addr = bar_address(d, cfg(d, cap + 4) & 0xFF, next) + cfg(d, cap + 8);
	if (type == CAP_COMMON)
		d->common = addr;
	else if (type == CAP_NOTIFY) {
		d->notify = addr;
		d->notify_multiplier = cfg(d, cap + 16);
	} else if (type == CAP_ISR)
		d->isr = addr;
	else
		d->device = addr;
}

bool vdev_find(struct vdevice *d, const struct vplatform *p, unsigned id, unsigned nth, uint64_t mmio_base)
{
	*d = (struct vdevice){ .p = p };
	for (unsigned devfn = 0; devfn < 256; devfn++) {
		d->devfn = devfn;
		if (cfg(d, 0) != (0x1AF4u | (0x1040u + id) << 16) || nth-- > 0)
			continue;
		uint64_t next = mmio_base + (uint64_t)devfn * 0x10000;
		if (cfg(d, PCI_COMMAND) & (PCI_STATUS_CAP_LIST << 16))
			for (unsigned cap = cfg(d, PCI_CAPABILITY_LIST) & 0xFC; cap; cap = (cfg(d, cap) >> 8) & 0xFC)
				map_capability(d, cap, &next);
		p->config_write(p->opaque, devfn, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
		return d->common && d->notify && d->isr;
	}
	return false;
}

uint8_t vdev_status(struct vdevice *d)
{
	return (uint8_t)rd(d, d->common + COMMON_STATUS, 1);
}

uint64_t vdev_config_read(struct vdevice *d, unsigned offset, unsigned size)
{
	return rd(d, d->device + offset, size);
}

void vdev_config_write(struct vdevice *d, unsigned offset, uint64_t value, unsigned size)
{
	wr(d, d->device + offset, value, size);
}

bool vdev_negotiate(struct vdevice *d, uint64_t wanted)
{
	wr(d, d->common + COMMON_STATUS, 0, 1);
	while (vdev_status(d) != 0)
		;
	wr(d, d->common + COMMON_STATUS, STATUS_ACKNOWLEDGE, 1);
	wr(d, d->common + COMMON_STATUS, STATUS_ACKNOWLEDGE | STATUS_DRIVER, 1);
	uint64_t offered = 0;
	for (unsigned half = 0; half < 2; half++) {
		wr(d, d->common + COMMON_DFSELECT, half, 4);
		offered |= rd(d, d->common + COMMON_DF, 4) << (32 * half);
	}
	d->features = offered & wanted;
	for (unsigned half = 0; half < 2; half++) {
		wr(d, d->common + COMMON_GFSELECT, half, 4);
		wr(d, d->common + COMMON_GF, (uint32_t)(d->features >> (32 * half)), 4);
	}
	wr(d, d->common + COMMON_STATUS, STATUS_ACKNOWLEDGE | STATUS_DRIVER | STATUS_FEATURES_OK, 1);
	return vdev_status(d) & STATUS_FEATURES_OK;
}

bool vdev_queue_setup(struct vdevice *d, unsigned index, uint16_t size, uint64_t ring_gpa)
{
	struct vqueue *q = &d->queues[index];
	wr(d, d->common + COMMON_Q_SELECT, index, 2);
	uint16_t max = (uint16_t)rd(d, d->common + COMMON_Q_SIZE, 2);
	if (max == 0 || index >= VDRIVER_MAX_QUEUES)
		return false;
	q->size = size < max ? size : max;
	q->desc = ring_gpa;
	q->avail = ring_gpa + 0x1000;
	q->used = ring_gpa + 0x2000;
	q->next_desc = q->avail_idx = q->last_used = 0;
	uint8_t *ring = d->p->ram(d->p->opaque, ring_gpa);
	for (unsigned i = 0; i < 0x3000; i++)
		ring[i] = 0;
	wr(d, d->common + COMMON_Q_SIZE, q->size, 2);
	wr(d, d->common + COMMON_Q_DESC, q->desc, 8);
	wr(d, d->common + COMMON_Q_AVAIL, q->avail, 8);
	wr(d, d->common + COMMON_Q_USED, q->used, 8);
	q->notify_addr = d->notify + rd(d, d->common + COMMON_Q_NOFF, 2) * d->notify_multiplier;
	wr(d, d->common + COMMON_Q_ENABLE, 1, 2);
	return true;
}

void vdev_driver_ok(struct vdevice *d)
{
	wr(d, d->common + COMMON_STATUS, vdev_status(d) | STATUS_DRIVER_OK, 1);
}

void vq_submit(struct vdevice *d, unsigned queue, const struct vbuf *bufs, unsigned count)
{
	struct vqueue *q = &d->queues[queue];
	uint8_t *desc = d->p->ram(d->p->opaque, q->desc);
	uint16_t head = q->next_desc;
	for (unsigned i = 0; i < count; i++) {
		uint16_t at = (uint16_t)((head + i) % q->size), next = (uint16_t)((head + i + 1) % q->size);
		volatile uint64_t *addr = (volatile uint64_t *)(void *)(desc + 16 * at);
		volatile uint32_t *len = (volatile uint32_t *)(void *)(desc + 16 * at + 8);
		volatile uint16_t *flags = (volatile uint16_t *)(void *)(desc + 16 * at + 12);
		*addr = bufs[i].gpa;
		*len = bufs[i].len;
		flags[0] = (uint16_t)((i + 1 < count ? DESC_F_NEXT : 0) | (bufs[i].writable ? DESC_F_WRITE : 0));
		flags[1] = next;
	}
	q->next_desc = (uint16_t)((head + count) % q->size);
	volatile uint16_t *avail = d->p->ram(d->p->opaque, q->avail);
	avail[2 + q->avail_idx % q->size] = head;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	avail[1] = ++q->avail_idx;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	wr(d, q->notify_addr, queue, 2);
}

bool vq_poll(struct vdevice *d, unsigned queue, uint32_t *len, unsigned long spins)
{
	struct vqueue *q = &d->queues[queue];
	volatile uint16_t *used = d->p->ram(d->p->opaque, q->used);
	while (used[1] == q->last_used) {
		if (spins-- == 0)
			return false;
	}
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	volatile uint32_t *elem = (volatile uint32_t *)(used + 2) + 2 * (q->last_used % q->size);
	if (len)
		*len = elem[1];
	q->last_used++;
	if (!d->manual_used_event)
		vq_set_used_event(d, queue, q->last_used);
	return true;
}

void vq_set_used_event(struct vdevice *d, unsigned queue, uint16_t event)
{
	struct vqueue *q = &d->queues[queue];
	volatile uint16_t *avail = d->p->ram(d->p->opaque, q->avail);
	avail[2 + q->size] = event;
}
