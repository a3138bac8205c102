/* MSI for PCI devices with one message (PCI 3.0 §6.8.1): the capability
 * with a 64-bit address, and delivery through an eventfd.
 *
 * As with MSI-X (msix.h), the device signals by writing the eventfd and the
 * engine binds that eventfd to a KVM MSI route (irqfd) whenever the guest
 * programs a new address or data; the same msix_route_ops serve both.
 * Register-level tests read the eventfd to see interrupts. */
#ifndef VIREO_HW_MSI_H
#define VIREO_HW_MSI_H

#include <stdbool.h>
#include <stdint.h>

#include "hw/msix.h"
#include "hw/pci.h"

#define PCI_CAP_ID_MSI 0x05

struct msi {
	struct pci_device *pci;
	unsigned capability;     /* offset in config space */
	int eventfd;
	uint64_t routed_address; /* what route_ops was last told */
	uint32_t routed_data;
	const struct msix_route_ops *route_ops;
	void *route_opaque;
};

/* Adds the capability to `pci`. Returns 0 or -errno. */
int msi_init(struct msi *msi, struct pci_device *pci, const struct msix_route_ops *route_ops, void *route_opaque);
void msi_destroy(struct msi *msi);

bool msi_enabled(const struct msi *msi);
/* Sends the message; false when MSI is off. */
bool msi_notify(struct msi *msi);
/* Call from the PCI config_written hook: tells the route about a new
 * address or data. Called with the bus lock held, like the hook. */
void msi_config_written(struct msi *msi);

#endif
