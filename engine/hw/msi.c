/* MSI capability with one message. See msi.h. */
#include "msi.h"
#include "core/bytes.h"

#include <errno.h>
#include <sys/eventfd.h>
#include <unistd.h>

/* Capability layout with a 64-bit address (PCI 3.0 §6.8.1). */
#define MSI_CAP_CONTROL     2
#define MSI_CAP_ADDRESS_LO  4
#define MSI_CAP_ADDRESS_HI  8
#define MSI_CAP_DATA        12
#define MSI_CAP_SIZE        14
#define MSI_CONTROL_ENABLE  0x0001
#define MSI_CONTROL_64BIT   0x0080  /* Multiple Message Capable 0: one message */

int msi_init(struct msi *msi, struct pci_device *pci, const struct msix_route_ops *route_ops, void *route_opaque)
{
	*msi = (struct msi){ .pci = pci, .route_ops = route_ops, .route_opaque = route_opaque };
	msi->eventfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (msi->eventfd < 0)
		return -errno;
	unsigned cap = pci_device_add_capability(pci, PCI_CAP_ID_MSI, MSI_CAP_SIZE);
	if (!cap) {
		close(msi->eventfd);
		return -ENOSPC;
	}
	msi->capability = cap;
	pci_config_set16(pci, cap + MSI_CAP_CONTROL, MSI_CONTROL_64BIT);
	pci->wmask[cap + MSI_CAP_CONTROL] = MSI_CONTROL_ENABLE;
	put_le32(pci->wmask + cap + MSI_CAP_ADDRESS_LO, ~3u);  /* dword aligned */
	put_le32(pci->wmask + cap + MSI_CAP_ADDRESS_HI, ~0u);
	put_le16(pci->wmask + cap + MSI_CAP_DATA, 0xFFFF);
	return 0;
}

void msi_destroy(struct msi *msi)
{
	if (msi->capability)
		close(msi->eventfd);
	msi->capability = 0;
}

bool msi_enabled(const struct msi *msi)
{
	return get_le16(msi->pci->config + msi->capability + MSI_CAP_CONTROL) & MSI_CONTROL_ENABLE;
}

bool msi_notify(struct msi *msi)
{
	if (!msi_enabled(msi))
		return false;
	uint64_t one = 1;
	/* EAGAIN means the counter is already non-zero: the interrupt is on its way. */
	(void)!write(msi->eventfd, &one, sizeof(one));
	return true;
}

void msi_config_written(struct msi *msi)
{
	const uint8_t *cap = msi->pci->config + msi->capability;
	uint64_t address = get_le64(cap + MSI_CAP_ADDRESS_LO);
	uint32_t data = get_le16(cap + MSI_CAP_DATA);
	if (!msi->route_ops || !msi_enabled(msi) || (address == msi->routed_address && data == msi->routed_data))
		return;
	msi->routed_address = address;
	msi->routed_data = data;
	msi->route_ops->vector_programmed(msi->route_opaque, 0, msi->eventfd, address, data);
}
