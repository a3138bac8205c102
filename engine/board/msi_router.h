/* MSI and MSI-X delivery through KVM for one PCI function: each vector's
 * eventfd bound (irqfd) to a GSI routed to the vector's address/data, made
 * the first time the guest programs the vector and re-pointed when it
 * programs it again. Any device with msix_route_ops uses it: virtio's MSI-X
 * vectors, AHCI's MSI. */
#ifndef VIREO_BOARD_MSI_ROUTER_H
#define VIREO_BOARD_MSI_ROUTER_H

#include "hw/msix.h"
#include "kvm/vm.h"

struct msi_router {
	struct vm *vm;
	int gsi[MSIX_MAX_VECTORS];   /* 0: no route yet */
};

/* msix_route_ops whose opaque is a struct msi_router. */
extern const struct msix_route_ops msi_router_ops;

void msi_router_init(struct msi_router *router, struct vm *vm);

/* The guest programmed `vector`: route it to address/data. A failure (no
 * GSI left, KVM refusing) is logged, rate-limited, and the vector's
 * interrupts are lost until it is programmed again. */
void msi_router_program(struct msi_router *router, unsigned vector, int eventfd, uint64_t address,
			uint32_t data);

#endif
