/* See virtio-fixture.h. */
#include "virtio-fixture.h"

static void record_intx(void *opaque, unsigned gsi, bool level)
{
	g_assert_cmpuint(gsi, ==, VFIX_INTX_GSI);
	((struct virtio_fixture *)opaque)->intx_level = level;
}

void vfix_init(struct virtio_fixture *v, uint64_t ram_size)
{
	*v = (struct virtio_fixture){ .ram_size = ram_size, .intx = { record_intx, v, VFIX_INTX_GSI } };
	v->ram = g_malloc0(ram_size);
	g_assert_true(guest_mem_add(&v->mem, 0, ram_size, v->ram));
	bus_init(&v->pio);
	bus_init(&v->mmio);
	g_assert_cmpint(pci_bus_init(&v->pci, &v->pio, &v->mmio), ==, 0);
	v->ctx = g_main_context_new();
	v->bp = (struct bus_platform){ &v->pio, &v->mmio, v->ram, v->ctx };
	bus_platform_init(&v->platform, &v->bp);
}

void vfix_unplug(struct virtio_fixture *v)
{
	pci_bus_destroy(&v->pci);
}

void vfix_free(struct virtio_fixture *v)
{
	g_main_context_unref(v->ctx);
	bus_destroy(&v->pio);
	bus_destroy(&v->mmio);
	g_free(v->ram);
}

void vfix_start(struct virtio_fixture *v, struct vdevice *d, unsigned id, unsigned nth, uint64_t features,
		unsigned queues)
{
	g_assert_true(vdev_find(d, &v->platform, id, nth, VFIX_MMIO_BASE));
	g_assert_true(vdev_negotiate(d, features));
	for (unsigned q = 0; q < queues; q++)
		g_assert_true(vdev_queue_setup(d, q, VDRIVER_QUEUE_SIZE, VFIX_RING_GPA + q * VFIX_RING_STRIDE));
	vdev_driver_ok(d);
	g_assert_cmphex(vdev_status(d), ==, 0xF);
}

void vfix_drain(struct virtio_fixture *v)
{
	bus_platform_drain(&v->bp);
}

uint32_t vfix_config_read(struct virtio_fixture *v, unsigned devfn, unsigned reg)
{
	return v->platform.config_read(&v->bp, devfn, reg);
}

void vfix_config_write(struct virtio_fixture *v, unsigned devfn, unsigned reg, uint32_t value)
{
	v->platform.config_write(&v->bp, devfn, reg, value);
}

uint64_t vfix_mmio_read(struct virtio_fixture *v, uint64_t addr, unsigned size)
{
	return v->platform.mmio_read(&v->bp, addr, size);
}

void vfix_mmio_write(struct virtio_fixture *v, uint64_t addr, uint64_t value, unsigned size)
{
	v->platform.mmio_write(&v->bp, addr, value, size);
}
