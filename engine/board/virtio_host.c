/* KVM side of virtio PCI devices. See virtio_host.h. */
#include "virtio_host.h"

#include <stdio.h>
#include <string.h>

void virtio_host_init(struct virtio_host *host, struct vm *vm)
{
	memset(host, 0, sizeof(*host));
	host->vm = vm;
}

/* Without an ioeventfd the notify write still works: it exits to userspace
 * and the transport signals the same eventfd, only slower. */
static void notify_eventfd(void *opaque, int eventfd, uint64_t addr, bool attach)
{
	struct virtio_host *host = opaque;
	if (attach)
		vm_attach_ioeventfd(host->vm, eventfd, addr, 2, false);
	else
		vm_detach_ioeventfd(host->vm, eventfd, addr, 2, false);
}

static void vector_programmed(void *opaque, unsigned vector, int eventfd, uint64_t address, uint32_t data)
{
	struct virtio_host *host = opaque;
	int gsi;
	if (vector >= MSIX_MAX_VECTORS)
		return;
	if (host->gsi[vector]) {
		vm_set_msi_route(host->vm, (unsigned)host->gsi[vector], address, data);
		return;
	}
	gsi = vm_add_msi_route(host->vm, address, data);
	if (gsi <= 0 || vm_attach_irqfd(host->vm, eventfd, (unsigned)gsi) < 0) {
		fprintf(stderr, "vireo-engine: no MSI route left for a virtio vector; its interrupts are lost\n");
		return;
	}
	host->gsi[vector] = gsi;
}

const struct virtio_host_ops virtio_host_kvm_ops = {
	.notify_eventfd = notify_eventfd,
	.msix = { vector_programmed },
};
