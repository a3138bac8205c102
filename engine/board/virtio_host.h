/* What a virtio PCI device needs from KVM: its queue notify addresses bound
 * to eventfds (ioeventfd), and its MSI-X vectors routed (msi_router.h). */
#ifndef VIREO_BOARD_VIRTIO_HOST_H
#define VIREO_BOARD_VIRTIO_HOST_H

#include "board/msi_router.h"
#include "hw/virtio_pci.h"
#include "kvm/vm.h"

struct virtio_host {
	struct vm *vm;
	struct msi_router msi;
};

extern const struct virtio_host_ops virtio_host_kvm_ops;

void virtio_host_init(struct virtio_host *host, struct vm *vm);

#endif
