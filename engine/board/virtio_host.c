/* KVM side of virtio PCI devices. See virtio_host.h. */
#include "virtio_host.h"

#include "core/trace.h"

void virtio_host_init(struct virtio_host *host, struct vm *vm)
{
	host->vm = vm;
	msi_router_init(&host->msi, vm);
}

/* Without an ioeventfd the notify write still works: it exits to userspace
 * and the transport signals the same eventfd, only slower. */
static void notify_eventfd(void *opaque, int eventfd, uint64_t addr, bool attach)
{
	struct virtio_host *host = opaque;
	int err = attach ? vm_attach_ioeventfd(host->vm, eventfd, addr, 2, false)
			 : vm_detach_ioeventfd(host->vm, eventfd, addr, 2, false);
	if (err < 0)
		log_limited("cannot %s the virtio notify at 0x%llx: %s", attach ? "bind" : "unbind",
			    (unsigned long long)addr, g_strerror(-err));
}

static void vector_programmed(void *opaque, unsigned vector, int eventfd, uint64_t address, uint32_t data)
{
	struct virtio_host *host = opaque;
	msi_router_program(&host->msi, vector, eventfd, address, data);
}

const struct virtio_host_ops virtio_host_kvm_ops = {
	.notify_eventfd = notify_eventfd,
	.msix = { vector_programmed },
};
