/* The modern virtio PCI transport. See virtio_pci.h. */
#include "virtio_pci.h"
#include "core/bytes.h"

#include <errno.h>
#include <glib-unix.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/trace.h"

#define VIRTIO_PCI_VENDOR        0x1AF4
#define VIRTIO_PCI_DEVICE_BASE   0x1040  /* §4.1.2.1: 0x1040 + device ID */
#define VIRTIO_PCI_REVISION      1
#define VIRTIO_PCI_SUBSYSTEM     0x1100

/* struct virtio_pci_cap (§4.1.4). */
#define PCI_CAP_ID_VNDR          0x09
#define VIRTIO_CAP_CFG_TYPE      3
#define VIRTIO_CAP_BAR           4
#define VIRTIO_CAP_OFFSET        8
#define VIRTIO_CAP_LENGTH        12
#define VIRTIO_CAP_SIZE          16
#define VIRTIO_CAP_NOTIFY_MULT   16      /* notify cap: notify_off_multiplier */
#define VIRTIO_CAP_PCI_CFG_DATA  16      /* PCI cfg cap: pci_cfg_data[4] */
#define VIRTIO_PCI_CAP_COMMON_CFG 1
#define VIRTIO_PCI_CAP_NOTIFY_CFG 2
#define VIRTIO_PCI_CAP_ISR_CFG    3
#define VIRTIO_PCI_CAP_DEVICE_CFG 4
#define VIRTIO_PCI_CAP_PCI_CFG    5

/* struct virtio_pci_common_cfg (§4.1.4.3). */
#define COMMON_DFSELECT      0x00
#define COMMON_DF            0x04
#define COMMON_GFSELECT      0x08
#define COMMON_GF            0x0C
#define COMMON_MSIX          0x10
#define COMMON_NUMQ          0x12
#define COMMON_STATUS        0x14
#define COMMON_CFGGENERATION 0x15
#define COMMON_Q_SELECT      0x16
#define COMMON_Q_SIZE        0x18
#define COMMON_Q_MSIX        0x1A
#define COMMON_Q_ENABLE      0x1C
#define COMMON_Q_NOFF        0x1E
#define COMMON_Q_DESCLO      0x20
#define COMMON_Q_AVAILLO     0x28
#define COMMON_Q_USEDLO      0x30
#define COMMON_Q_NDATA       0x38
#define COMMON_Q_RESET       0x3A
#define COMMON_SIZE          0x3C

/* ISR status bits (§4.1.4.5). */
#define VIRTIO_ISR_QUEUE  1
#define VIRTIO_ISR_CONFIG 2

#define PCI_COMMAND_INTX_DISABLE 0x400


/* ---- interrupts ---- */

static bool intx_disabled(const struct virtio_pci *vp)
{
	return get_le16(vp->pci.config + PCI_COMMAND) & PCI_COMMAND_INTX_DISABLE;
}

/* Register lock held. */
static bool intx_wanted(struct virtio_pci *vp)
{
	return vp->isr && !msix_enabled(&vp->msix) && !intx_disabled(vp);
}

static void update_intx(struct virtio_pci *vp)
{
	bool level = intx_wanted(vp);
	if (level != vp->intx_level) {
		vp->intx_level = level;
		irq_line_set(&vp->intx, level);
	}
}

/* Register lock held. */
static void interrupt(struct virtio_pci *vp, uint16_t vector, uint8_t isr_bit)
{
	if (msix_enabled(&vp->msix)) {
		if (vector != MSIX_NO_VECTOR)
			msix_notify(&vp->msix, vector);
		return;
	}
	vp->isr |= isr_bit;
	update_intx(vp);
}

void virtio_pci_queue_done(struct virtio_pci *vp, unsigned queue, bool notify)
{
	if (!notify)
		return;
	g_mutex_lock(&vp->lock);
	interrupt(vp, vp->queues[queue].msix_vector, VIRTIO_ISR_QUEUE);
	g_mutex_unlock(&vp->lock);
}

/* Register lock held. */
static void config_interrupt(struct virtio_pci *vp)
{
	vp->config_generation++;
	if (vp->status & VIRTIO_STATUS_DRIVER_OK)
		interrupt(vp, vp->config_msix_vector, VIRTIO_ISR_CONFIG);
}

/* The device's name in traces: its virtio device ID (§5) from its PCI ID. */
static const char *device_name(const struct virtio_pci *vp)
{
	switch (get_le16(vp->pci.config + PCI_DEVICE_ID) - VIRTIO_PCI_DEVICE_BASE) {
	case VIRTIO_ID_NET: return "virtio-net";
	case VIRTIO_ID_BLOCK: return "virtio-blk";
	case VIRTIO_ID_RNG: return "virtio-rng";
	case VIRTIO_ID_GPU: return "virtio-gpu";
	default: return "virtio";
	}
}

void virtio_pci_needs_reset(struct virtio_pci *vp, const char *why, unsigned queue)
{
	TRACE(TRACE_GUEST_ERROR, "%s: %s on queue %u; device needs reset", device_name(vp), why, queue);
	g_mutex_lock(&vp->lock);
	if (!(vp->status & VIRTIO_STATUS_DEVICE_NEEDS_RESET)) {
		vp->status |= VIRTIO_STATUS_DEVICE_NEEDS_RESET;
		config_interrupt(vp);
	}
	g_mutex_unlock(&vp->lock);
}

void virtio_pci_config_changed(struct virtio_pci *vp)
{
	g_mutex_lock(&vp->lock);
	config_interrupt(vp);
	g_mutex_unlock(&vp->lock);
}

/* ---- queues ---- */

void virtio_pci_serve_queue(struct virtio_pci *vp, unsigned queue,
			    uint32_t (*handle)(void *opaque, unsigned queue, const struct virtq_request *req),
			    void *opaque)
{
	struct virtio_queue *q = &vp->queues[queue];
	bool notify = false;
	int got;
	do {
		while ((got = virtq_pop(&q->vq, vp->mem, &q->request)) == 1)
			notify |= virtq_push(&q->vq, q->request.head, handle(opaque, queue, &q->request));
	} while (got == 0 && virtq_arm_notification(&q->vq));
	if (got < 0)
		virtio_pci_needs_reset(vp, "malformed descriptor chain", queue);
	virtio_pci_queue_done(vp, queue, notify);
}

static bool driver_ok(struct virtio_pci *vp)
{
	g_mutex_lock(&vp->lock);
	bool ok = (vp->status & (VIRTIO_STATUS_DRIVER_OK | VIRTIO_STATUS_DEVICE_NEEDS_RESET)) ==
		  VIRTIO_STATUS_DRIVER_OK;
	g_mutex_unlock(&vp->lock);
	return ok;
}

bool virtio_pci_queue_lock(struct virtio_pci *vp, unsigned queue)
{
	struct virtio_queue *q = &vp->queues[queue];
	g_mutex_lock(&q->lock);
	return q->vq.ready && !q->vq.broken && driver_ok(vp);
}

void virtio_pci_queue_unlock(struct virtio_pci *vp, unsigned queue)
{
	g_mutex_unlock(&vp->queues[queue].lock);
}

static void process(struct virtio_queue *q)
{
	struct virtio_pci *vp = q->owner;
	if (virtio_pci_queue_lock(vp, q->index))
		vp->ops->process_queue(vp->opaque, q->index);
	virtio_pci_queue_unlock(vp, q->index);
}

static gboolean on_kick(gint fd, GIOCondition condition, gpointer data)
{
	(void)condition;
	uint64_t count;
	if (read(fd, &count, sizeof(count)) == sizeof(count))
		process(data);
	return G_SOURCE_CONTINUE;
}

static void kick(struct virtio_queue *q)
{
	uint64_t one = 1;
	(void)!write(q->kick_fd, &one, sizeof(one));
}

/* Queue and register locks held. */
static void reset_queue(struct virtio_queue *q)
{
	virtq_reset(&q->vq);
	q->msix_vector = MSIX_NO_VECTOR;
}

static void lock_queues(struct virtio_pci *vp)
{
	for (unsigned i = 0; i < vp->num_queues; i++)
		g_mutex_lock(&vp->queues[i].lock);
	g_mutex_lock(&vp->lock);
}

static void unlock_queues(struct virtio_pci *vp)
{
	g_mutex_unlock(&vp->lock);
	for (unsigned i = vp->num_queues; i-- > 0;)
		g_mutex_unlock(&vp->queues[i].lock);
}

/* §2.1.1/§4.1.4.3.2: writing 0 to device_status resets the device. All
 * locks held, so no request is in flight. */
static void reset_device(struct virtio_pci *vp)
{
	vp->status = 0;
	vp->driver_features = 0;
	vp->device_feature_select = vp->driver_feature_select = 0;
	vp->config_msix_vector = MSIX_NO_VECTOR;
	vp->queue_select = 0;
	vp->isr = 0;
	update_intx(vp);
	for (unsigned i = 0; i < vp->num_queues; i++)
		reset_queue(&vp->queues[i]);
	if (vp->ops->reset)
		vp->ops->reset(vp->opaque);
}

/* ---- common configuration ---- */

static struct virtio_queue *selected_queue(struct virtio_pci *vp)
{
	return vp->queue_select < vp->num_queues ? &vp->queues[vp->queue_select] : NULL;
}

/* The structure as the driver would read it now. Register lock held. */
static void common_image(struct virtio_pci *vp, uint8_t *img)
{
	memset(img, 0, COMMON_SIZE);
	put_le32(img + COMMON_DFSELECT, vp->device_feature_select);
	if (vp->device_feature_select < 2)
		put_le32(img + COMMON_DF, (uint32_t)(vp->device_features >> (32 * vp->device_feature_select)));
	put_le32(img + COMMON_GFSELECT, vp->driver_feature_select);
	if (vp->driver_feature_select < 2)
		put_le32(img + COMMON_GF, (uint32_t)(vp->driver_features >> (32 * vp->driver_feature_select)));
	put_le16(img + COMMON_MSIX, vp->config_msix_vector);
	put_le16(img + COMMON_NUMQ, (uint16_t)vp->num_queues);
	img[COMMON_STATUS] = vp->status;
	img[COMMON_CFGGENERATION] = vp->config_generation;
	put_le16(img + COMMON_Q_SELECT, vp->queue_select);
	const struct virtio_queue *q = selected_queue(vp);
	if (!q)
		return;  /* queue_size 0: no such queue (§4.1.4.3.1) */
	put_le16(img + COMMON_Q_SIZE, q->vq.size);
	put_le16(img + COMMON_Q_MSIX, q->msix_vector);
	put_le16(img + COMMON_Q_ENABLE, q->vq.ready);
	put_le16(img + COMMON_Q_NOFF, vp->queue_select);
	put_le64(img + COMMON_Q_DESCLO, q->vq.desc_gpa);
	put_le64(img + COMMON_Q_AVAILLO, q->vq.avail_gpa);
	put_le64(img + COMMON_Q_USEDLO, q->vq.used_gpa);
	put_le16(img + COMMON_Q_NDATA, vp->queue_select);
}

static bool written(unsigned field, unsigned width, uint64_t offset, unsigned size)
{
	return offset < field + width && field < offset + size;
}

static void write_driver_features(struct virtio_pci *vp, uint32_t value)
{
	if (vp->driver_feature_select >= 2 || (vp->status & VIRTIO_STATUS_FEATURES_OK))
		return;
	unsigned shift = 32 * vp->driver_feature_select;
	vp->driver_features = (vp->driver_features & ~(0xFFFFFFFFull << shift)) | (uint64_t)value << shift;
}

/* §2.2.2: FEATURES_OK only sticks when the driver accepted a subset of
 * ours that includes VIRTIO_F_VERSION_1 (we offer no legacy interface). */
static void write_status(struct virtio_pci *vp, uint8_t status)
{
	TRACE(TRACE_VIRTIO, "%s: status 0x%02x", device_name(vp), status);
	if (status == 0) {
		reset_device(vp);
		return;
	}
	if ((status & VIRTIO_STATUS_FEATURES_OK) && !(vp->status & VIRTIO_STATUS_FEATURES_OK)) {
		bool acceptable = !(vp->driver_features & ~vp->device_features) &&
				  (vp->driver_features & (1ull << VIRTIO_F_VERSION_1));
		if (!acceptable)
			status &= (uint8_t)~VIRTIO_STATUS_FEATURES_OK;
		for (unsigned i = 0; acceptable && i < vp->num_queues; i++) {
			vp->queues[i].vq.event_idx = virtio_has_feature(vp, VIRTIO_F_EVENT_IDX);
			vp->queues[i].vq.indirect = virtio_has_feature(vp, VIRTIO_F_INDIRECT_DESC);
		}
	}
	bool now_ok = (status & VIRTIO_STATUS_DRIVER_OK) && !(vp->status & VIRTIO_STATUS_DRIVER_OK);
	/* The driver only adds bits; DEVICE_NEEDS_RESET is ours to set. */
	vp->status |= status & (uint8_t)~VIRTIO_STATUS_DEVICE_NEEDS_RESET;
	for (unsigned i = 0; now_ok && i < vp->num_queues; i++)
		kick(&vp->queues[i]);  /* buffers may have been added before DRIVER_OK */
}

static uint16_t valid_vector(const struct virtio_pci *vp, uint16_t vector)
{
	return vector < vp->msix.vectors ? vector : MSIX_NO_VECTOR;
}

static void write_queue_fields(struct virtio_pci *vp, struct virtio_queue *q, const uint8_t *img,
			       uint64_t offset, unsigned size)
{
	if (written(COMMON_Q_MSIX, 2, offset, size))
		q->msix_vector = valid_vector(vp, get_le16(img + COMMON_Q_MSIX));
	if (q->vq.ready)
		return;  /* size and addresses are fixed once enabled */
	if (written(COMMON_Q_SIZE, 2, offset, size))
		q->vq.size = get_le16(img + COMMON_Q_SIZE);
	if (written(COMMON_Q_DESCLO, 8, offset, size))
		q->vq.desc_gpa = get_le64(img + COMMON_Q_DESCLO);
	if (written(COMMON_Q_AVAILLO, 8, offset, size))
		q->vq.avail_gpa = get_le64(img + COMMON_Q_AVAILLO);
	if (written(COMMON_Q_USEDLO, 8, offset, size))
		q->vq.used_gpa = get_le64(img + COMMON_Q_USEDLO);
	if (written(COMMON_Q_ENABLE, 2, offset, size) && get_le16(img + COMMON_Q_ENABLE) == 1) {
		bool enabled = virtq_enable(&q->vq, vp->mem);
		TRACE(TRACE_VIRTIO, "%s: queue %u size %u desc 0x%llx avail 0x%llx used 0x%llx %s", device_name(vp),
		      (unsigned)(q - vp->queues), q->vq.size, (unsigned long long)q->vq.desc_gpa,
		      (unsigned long long)q->vq.avail_gpa, (unsigned long long)q->vq.used_gpa,
		      enabled ? "enabled" : "refused");
		if (!enabled) {
			TRACE(TRACE_GUEST_ERROR, "%s: queue %u rings outside RAM or a bad size; device needs reset",
			      device_name(vp), (unsigned)(q - vp->queues));
			vp->status |= VIRTIO_STATUS_DEVICE_NEEDS_RESET;
			config_interrupt(vp);
		}
	}
}

static void common_write(struct virtio_pci *vp, uint64_t offset, uint64_t value, unsigned size)
{
	uint8_t img[COMMON_SIZE + 8];
	lock_queues(vp);
	common_image(vp, img);
	for (unsigned i = 0; i < size; i++)
		img[offset + i] = (uint8_t)(value >> (8 * i));
	if (written(COMMON_DFSELECT, 4, offset, size))
		vp->device_feature_select = get_le32(img + COMMON_DFSELECT);
	if (written(COMMON_GFSELECT, 4, offset, size))
		vp->driver_feature_select = get_le32(img + COMMON_GFSELECT);
	if (written(COMMON_GF, 4, offset, size))
		write_driver_features(vp, get_le32(img + COMMON_GF));
	if (written(COMMON_MSIX, 2, offset, size))
		vp->config_msix_vector = valid_vector(vp, get_le16(img + COMMON_MSIX));
	if (written(COMMON_Q_SELECT, 2, offset, size))
		vp->queue_select = get_le16(img + COMMON_Q_SELECT);
	struct virtio_queue *q = selected_queue(vp);
	if (q)
		write_queue_fields(vp, q, img, offset, size);
	if (written(COMMON_STATUS, 1, offset, size))
		write_status(vp, img[COMMON_STATUS]);
	unlock_queues(vp);
}

/* ---- BAR4: the four areas ---- */

static uint64_t regs_read(void *opaque, uint64_t offset, unsigned size)
{
	struct virtio_pci *vp = opaque;
	uint64_t value = 0;
	uint8_t buf[8] = { 0 };
	unsigned area = (unsigned)(offset / VIRTIO_PCI_AREA_SIZE), at = (unsigned)(offset % VIRTIO_PCI_AREA_SIZE);
	g_mutex_lock(&vp->lock);
	if (area == VIRTIO_PCI_COMMON_OFFSET / VIRTIO_PCI_AREA_SIZE && at + size <= COMMON_SIZE) {
		uint8_t img[COMMON_SIZE];
		common_image(vp, img);
		memcpy(buf, img + at, size);
	} else if (area == VIRTIO_PCI_ISR_OFFSET / VIRTIO_PCI_AREA_SIZE && at == 0) {
		buf[0] = vp->isr;  /* reading clears it and deasserts INTx (§4.1.4.5.1) */
		vp->isr = 0;
		update_intx(vp);
	} else if (area == VIRTIO_PCI_DEVICE_OFFSET / VIRTIO_PCI_AREA_SIZE && at + size <= vp->config_size) {
		vp->ops->read_config(vp->opaque, at, buf, size);
	}
	g_mutex_unlock(&vp->lock);
	memcpy(&value, buf, size);
	return GUINT64_FROM_LE(value);
}

static void notify_write(struct virtio_pci *vp, unsigned at)
{
	unsigned index = at / VIRTIO_PCI_NOTIFY_MULTIPLIER;
	if (at % VIRTIO_PCI_NOTIFY_MULTIPLIER == 0 && index < vp->num_queues)
		kick(&vp->queues[index]);
}

static void regs_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
	struct virtio_pci *vp = opaque;
	unsigned area = (unsigned)(offset / VIRTIO_PCI_AREA_SIZE), at = (unsigned)(offset % VIRTIO_PCI_AREA_SIZE);
	if (area == VIRTIO_PCI_COMMON_OFFSET / VIRTIO_PCI_AREA_SIZE && at + size <= COMMON_SIZE) {
		common_write(vp, at, value, size);
	} else if (area == VIRTIO_PCI_NOTIFY_OFFSET / VIRTIO_PCI_AREA_SIZE) {
		notify_write(vp, at);
	} else if (area == VIRTIO_PCI_DEVICE_OFFSET / VIRTIO_PCI_AREA_SIZE && at + size <= vp->config_size &&
		   vp->ops->write_config) {
		uint8_t buf[8];
		for (unsigned i = 0; i < size; i++)
			buf[i] = (uint8_t)(value >> (8 * i));
		g_mutex_lock(&vp->lock);
		vp->ops->write_config(vp->opaque, at, buf, size);
		g_mutex_unlock(&vp->lock);
	}
}

static const struct bus_ops regs_ops = { regs_read, regs_write, "virtio-pci" };

/* ---- BAR1: MSI-X ---- */

static uint64_t msix_read(void *opaque, uint64_t offset, unsigned size)
{
	return msix_bar_read(&((struct virtio_pci *)opaque)->msix, offset, size);
}

static void msix_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
	msix_bar_write(&((struct virtio_pci *)opaque)->msix, offset, value, size);
}

static const struct bus_ops msix_ops = { msix_read, msix_write, "virtio MSI-X" };

/* ---- PCI configuration hooks ---- */

/* VIRTIO_PCI_CAP_PCI_CFG (§4.1.4.9): a window onto the BARs through
 * configuration space, for drivers that cannot map them. */
static const struct bus_ops *cfg_window(struct virtio_pci *vp, uint32_t *offset, unsigned *length)
{
	const uint8_t *cap = vp->pci.config + vp->pci_cfg_cap;
	*offset = get_le32(cap + VIRTIO_CAP_OFFSET);
	*length = get_le32(cap + VIRTIO_CAP_LENGTH);
	uint64_t bar_size = cap[VIRTIO_CAP_BAR] == VIRTIO_PCI_REGS_BAR ? VIRTIO_PCI_BAR_SIZE
			  : cap[VIRTIO_CAP_BAR] == VIRTIO_PCI_MSIX_BAR ? VIRTIO_PCI_AREA_SIZE : 0;
	/* 64-bit sum: offset 0xFFFFFFFC with length 4 must not wrap to 0. */
	if ((*length != 1 && *length != 2 && *length != 4) || *offset % *length ||
	    (uint64_t)*offset + *length > bar_size)
		return NULL;
	return cap[VIRTIO_CAP_BAR] == VIRTIO_PCI_REGS_BAR ? &regs_ops : &msix_ops;
}

static bool touches_cfg_data(const struct virtio_pci *vp, unsigned reg, unsigned size)
{
	unsigned data = vp->pci_cfg_cap + VIRTIO_CAP_PCI_CFG_DATA;
	return reg < data + 4 && data < reg + size;
}

static void config_written(void *opaque, unsigned reg, unsigned size)
{
	struct virtio_pci *vp = opaque;
	msix_config_written(&vp->msix);
	g_mutex_lock(&vp->lock);
	update_intx(vp);  /* MSI-X enable and INTx disable both change the line */
	g_mutex_unlock(&vp->lock);
	uint32_t offset;
	unsigned length;
	const struct bus_ops *ops;
	if (touches_cfg_data(vp, reg, size) && (ops = cfg_window(vp, &offset, &length)))
		ops->write(vp, offset, get_le32(vp->pci.config + vp->pci_cfg_cap + VIRTIO_CAP_PCI_CFG_DATA), length);
}

static void config_reading(void *opaque, unsigned reg, unsigned size)
{
	struct virtio_pci *vp = opaque;
	uint32_t offset;
	unsigned length;
	const struct bus_ops *ops;
	if (touches_cfg_data(vp, reg, size) && (ops = cfg_window(vp, &offset, &length)))
		put_le32(vp->pci.config + vp->pci_cfg_cap + VIRTIO_CAP_PCI_CFG_DATA,
		      (uint32_t)ops->read(vp, offset, length));
}

static void set_notify_eventfds(struct virtio_pci *vp, bool attach)
{
	for (unsigned i = 0; i < vp->num_queues; i++)
		vp->host->notify_eventfd(vp->host_opaque, vp->queues[i].kick_fd,
					 vp->notify_base + VIRTIO_PCI_NOTIFY_OFFSET + i * VIRTIO_PCI_NOTIFY_MULTIPLIER,
					 attach);
}

static void bar_moved(void *opaque, unsigned index, bool mapped, uint64_t addr)
{
	struct virtio_pci *vp = opaque;
	if (index != VIRTIO_PCI_REGS_BAR || !vp->host)
		return;
	if (vp->notify_mapped)
		set_notify_eventfds(vp, false);
	vp->notify_mapped = mapped;
	vp->notify_base = addr;
	if (mapped)
		set_notify_eventfds(vp, true);
}

static const struct pci_device_hooks pci_hooks = { config_written, config_reading, bar_moved };

/* ---- set-up ---- */

static unsigned add_virtio_cap(struct pci_device *pci, uint8_t type, unsigned size, uint8_t bar, uint32_t offset,
			       uint32_t length)
{
	unsigned cap = pci_device_add_capability(pci, PCI_CAP_ID_VNDR, size);
	if (!cap)
		return 0;
	pci->config[cap + 2] = (uint8_t)size;  /* cap_len */
	pci->config[cap + VIRTIO_CAP_CFG_TYPE] = type;
	pci->config[cap + VIRTIO_CAP_BAR] = bar;
	put_le32(pci->config + cap + VIRTIO_CAP_OFFSET, offset);
	put_le32(pci->config + cap + VIRTIO_CAP_LENGTH, length);
	return cap;
}

static int add_capabilities(struct virtio_pci *vp)
{
	struct pci_device *pci = &vp->pci;
	unsigned notify;
	if (!add_virtio_cap(pci, VIRTIO_PCI_CAP_COMMON_CFG, VIRTIO_CAP_SIZE, VIRTIO_PCI_REGS_BAR,
			    VIRTIO_PCI_COMMON_OFFSET, COMMON_SIZE) ||
	    !add_virtio_cap(pci, VIRTIO_PCI_CAP_ISR_CFG, VIRTIO_CAP_SIZE, VIRTIO_PCI_REGS_BAR,
			    VIRTIO_PCI_ISR_OFFSET, 1) ||
	    (vp->config_size && !add_virtio_cap(pci, VIRTIO_PCI_CAP_DEVICE_CFG, VIRTIO_CAP_SIZE,
						VIRTIO_PCI_REGS_BAR, VIRTIO_PCI_DEVICE_OFFSET, vp->config_size)) ||
	    !(notify = add_virtio_cap(pci, VIRTIO_PCI_CAP_NOTIFY_CFG, VIRTIO_CAP_SIZE + 4, VIRTIO_PCI_REGS_BAR,
				      VIRTIO_PCI_NOTIFY_OFFSET, vp->num_queues * VIRTIO_PCI_NOTIFY_MULTIPLIER)) ||
	    !(vp->pci_cfg_cap = add_virtio_cap(pci, VIRTIO_PCI_CAP_PCI_CFG, VIRTIO_CAP_SIZE + 4, 0, 0, 0)))
		return -ENOSPC;
	put_le32(pci->config + notify + VIRTIO_CAP_NOTIFY_MULT, VIRTIO_PCI_NOTIFY_MULTIPLIER);
	/* The PCI cfg window's bar, offset, length and data are the driver's. */
	unsigned c = vp->pci_cfg_cap;
	pci->wmask[c + VIRTIO_CAP_BAR] = 0xFF;
	memset(pci->wmask + c + VIRTIO_CAP_OFFSET, 0xFF, 8 + 4);
	return 0;
}

static void destroy_queues(struct virtio_pci *vp, unsigned count)
{
	for (unsigned i = 0; i < count; i++) {
		struct virtio_queue *q = &vp->queues[i];
		g_source_destroy(q->kick_source);
		g_source_unref(q->kick_source);
		close(q->kick_fd);
		g_mutex_clear(&q->lock);
	}
}

static int init_queues(struct virtio_pci *vp, GMainContext *context)
{
	for (unsigned i = 0; i < vp->num_queues; i++) {
		struct virtio_queue *q = &vp->queues[i];
		q->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (q->kick_fd < 0) {
			int err = -errno;
			destroy_queues(vp, i);
			return err;
		}
		g_mutex_init(&q->lock);
		q->owner = vp;
		q->index = i;
		reset_queue(q);
		q->kick_source = g_unix_fd_source_new(q->kick_fd, G_IO_IN);
		g_source_set_callback(q->kick_source, G_SOURCE_FUNC(on_kick), q, NULL);
		g_source_attach(q->kick_source, context);
	}
	return 0;
}

int virtio_pci_init(struct virtio_pci *vp, const struct virtio_pci_config *config,
		    const struct virtio_device_ops *ops, void *opaque,
		    const struct virtio_host_ops *host, void *host_opaque)
{
	int err;
	if (config->num_queues == 0 || config->num_queues > VIRTIO_MAX_QUEUES ||
	    config->config_size > VIRTIO_PCI_AREA_SIZE)
		return -EINVAL;
	memset(vp, 0, sizeof(*vp));
	pci_device_init(&vp->pci, VIRTIO_PCI_VENDOR, VIRTIO_PCI_DEVICE_BASE + config->device_id, config->class_code,
			VIRTIO_PCI_REVISION);
	pci_config_set16(&vp->pci, PCI_SUBSYSTEM_VENDOR_ID, VIRTIO_PCI_VENDOR);
	pci_config_set16(&vp->pci, PCI_SUBSYSTEM_ID, VIRTIO_PCI_SUBSYSTEM);
	vp->pci.config[PCI_INTERRUPT_PIN] = 1;  /* INTA# */
	vp->pci.config[PCI_INTERRUPT_LINE] = (uint8_t)config->intx.gsi;
	vp->pci.hooks = &pci_hooks;
	vp->pci.hooks_opaque = vp;
	vp->device_features = config->features | 1ull << VIRTIO_F_VERSION_1 | 1ull << VIRTIO_F_INDIRECT_DESC |
			      1ull << VIRTIO_F_EVENT_IDX;
	vp->num_queues = config->num_queues;
	vp->config_size = config->config_size;
	vp->mem = config->mem;
	vp->intx = config->intx;
	vp->config_msix_vector = MSIX_NO_VECTOR;
	vp->ops = ops;
	vp->opaque = opaque;
	vp->host = host;
	vp->host_opaque = host_opaque;
	if ((err = pci_device_set_bar(&vp->pci, VIRTIO_PCI_MSIX_BAR, PCI_BAR_MEM32, false, VIRTIO_PCI_AREA_SIZE,
				      &msix_ops, vp)) < 0 ||
	    (err = pci_device_set_bar(&vp->pci, VIRTIO_PCI_REGS_BAR, PCI_BAR_MEM64, true, VIRTIO_PCI_BAR_SIZE,
				      &regs_ops, vp)) < 0 ||
	    (err = add_capabilities(vp)) < 0)
		return err;
	/* One vector per queue plus one for configuration changes. */
	if ((err = msix_init(&vp->msix, &vp->pci, config->num_queues + 1, VIRTIO_PCI_MSIX_BAR, VIRTIO_PCI_MSIX_PBA,
			     host ? &host->msix : NULL, host_opaque)) < 0)
		return err;
	if ((err = init_queues(vp, config->io_context)) < 0) {
		msix_destroy(&vp->msix);
		return err;
	}
	g_mutex_init(&vp->lock);
	return 0;
}

void virtio_pci_destroy(struct virtio_pci *vp)
{
	destroy_queues(vp, vp->num_queues);
	msix_destroy(&vp->msix);
	g_mutex_clear(&vp->lock);
}

/* ---- state (core/device.h) ---- */

static const struct state_field transport_state[] = {
	STATE_FIELD(struct virtio_pci, driver_features), STATE_FIELD(struct virtio_pci, device_feature_select),
	STATE_FIELD(struct virtio_pci, driver_feature_select), STATE_FIELD(struct virtio_pci, config_msix_vector),
	STATE_FIELD(struct virtio_pci, queue_select), STATE_FIELD(struct virtio_pci, status),
	STATE_FIELD(struct virtio_pci, config_generation), STATE_FIELD(struct virtio_pci, isr),
};

/* The ring addresses; the host pointers follow from them on load. */
static const struct state_field queue_state[] = {
	STATE_FIELD(struct virtio_queue, msix_vector), STATE_FIELD(struct virtio_queue, vq.size),
	STATE_FIELD(struct virtio_queue, vq.ready), STATE_FIELD(struct virtio_queue, vq.event_idx),
	STATE_FIELD(struct virtio_queue, vq.indirect), STATE_FIELD(struct virtio_queue, vq.broken),
	STATE_FIELD(struct virtio_queue, vq.desc_gpa), STATE_FIELD(struct virtio_queue, vq.avail_gpa),
	STATE_FIELD(struct virtio_queue, vq.used_gpa), STATE_FIELD(struct virtio_queue, vq.last_avail),
	STATE_FIELD(struct virtio_queue, vq.used_idx), STATE_FIELD(struct virtio_queue, vq.signalled_used),
};

static void queue_prefix(char *prefix, size_t size, unsigned index)
{
	g_snprintf(prefix, size, "queue%u.", index);
}

void virtio_pci_save(struct virtio_pci *vp, struct state_writer *w)
{
	pci_device_save(&vp->pci, w);
	msix_save(&vp->msix, w);
	lock_queues(vp);
	state_put_fields(w, "", transport_state, G_N_ELEMENTS(transport_state), vp);
	for (unsigned i = 0; i < vp->num_queues; i++) {
		char prefix[16];
		queue_prefix(prefix, sizeof(prefix), i);
		state_put_fields(w, prefix, queue_state, G_N_ELEMENTS(queue_state), &vp->queues[i]);
	}
	unlock_queues(vp);
}

/* A ready queue's rings are checked again as when the driver enabled it. */
static bool load_queue(struct virtio_pci *vp, struct virtio_queue *q, struct state_reader *r)
{
	char prefix[16];
	queue_prefix(prefix, sizeof(prefix), q->index);
	if (!state_get_fields(r, prefix, queue_state, G_N_ELEMENTS(queue_state), q))
		return false;
	q->vq.desc = q->vq.avail = q->vq.used = NULL;
	bool ready = q->vq.ready;
	q->vq.ready = false;
	return state_check(r, q->msix_vector == valid_vector(vp, q->msix_vector), "a queue's MSI-X vector out of range") &&
	       state_check(r, !ready || virtq_enable(&q->vq, vp->mem), "a ready queue's rings are not in guest RAM");
}

bool virtio_pci_load(struct virtio_pci *vp, struct state_reader *r)
{
	if (!pci_device_load(&vp->pci, r) || !msix_load(&vp->msix, r))
		return false;
	lock_queues(vp);
	bool ok = state_get_fields(r, "", transport_state, G_N_ELEMENTS(transport_state), vp) &&
		  state_check(r, vp->config_msix_vector == valid_vector(vp, vp->config_msix_vector),
			      "the configuration MSI-X vector out of range");
	for (unsigned i = 0; i < vp->num_queues && ok; i++)
		ok = load_queue(vp, &vp->queues[i], r);
	if (ok) {
		vp->intx_level = intx_wanted(vp);
		irq_line_set(&vp->intx, vp->intx_level);
	} else {
		reset_device(vp);
	}
	bool running = ok && (vp->status & VIRTIO_STATUS_DRIVER_OK);
	unlock_queues(vp);
	for (unsigned i = 0; running && i < vp->num_queues; i++)
		kick(&vp->queues[i]);  /* requests the driver made before the save */
	return ok;
}

/* What the PCI reset line does: the function's config space and MSI-X
 * table back to their reset values, the device reset as by status 0. */
void virtio_pci_reset(struct virtio_pci *vp)
{
	pci_device_reset(&vp->pci);
	msix_reset(&vp->msix);
	lock_queues(vp);
	reset_device(vp);
	unlock_queues(vp);
}

void virtio_device_reset(void *state)
{
	virtio_pci_reset(state);
}

void virtio_device_save(void *state, struct state_writer *w)
{
	virtio_pci_save(state, w);
}

bool virtio_device_load(void *state, struct state_reader *r)
{
	return virtio_pci_load(state, r);
}
