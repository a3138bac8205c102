/* What a virtio PCI device needs from KVM: its queue notify addresses bound
 * to eventfds (ioeventfd), and each MSI-X vector's eventfd bound to a GSI
 * routed to the vector's address/data (irqfd), created the first time the
 * guest programs the vector and re-pointed when it programs it again. */
#ifndef VIREO_BOARD_VIRTIO_HOST_H
#define VIREO_BOARD_VIRTIO_HOST_H

#include "hw/virtio_pci.h"
#include "kvm/vm.h"

struct virtio_host {
	struct vm *vm;
	int gsi[MSIX_MAX_VECTORS];   /* 0: no route yet */
};

extern const struct virtio_host_ops virtio_host_kvm_ops;

void virtio_host_init(struct virtio_host *host, struct vm *vm);

#endif
