/* KVM's coalesced MMIO (Documentation/virt/kvm/api.rst, KVM_REGISTER_COALESCED_MMIO):
 * guest writes to a registered zone are queued by KVM in a ring page shared
 * with us instead of exiting to the engine. Writes the guest makes many of
 * and never reads back at once (the VGA's 0xA0000 window: text cells,
 * planar pixels) then cost a trip into the host kernel only, not into the
 * engine and back, which matters most where the guest's code is emulated.
 *
 * The queued writes reach the MMIO bus, in order, before anything could
 * observe them: before a vCPU's exit is handled (a read of the window, a
 * register write through a port) and before a device reads memory the guest
 * wrote this way (the VGA's refresh). */
#ifndef VIREO_KVM_COALESCED_MMIO_H
#define VIREO_KVM_COALESCED_MMIO_H

#include <stdint.h>

struct vm;

/* Writes to [gpa, gpa+size) are queued where the host's KVM can; a no-op
 * (every write exits as before) where it cannot. Add zones before the first
 * vCPU exists: its creation maps the ring. */
void coalesced_mmio_add_zone(struct vm *vm, uint64_t gpa, uint64_t size);

/* Maps the ring through a vCPU's descriptor (KVM shares one ring per VM
 * through every vCPU's mapping); the first call does it, later calls are
 * no-ops. Returns 0, or -errno. */
int coalesced_mmio_attach(struct vm *vm, int vcpu_fd);

/* Applies every queued write to the MMIO bus. Thread-safe. */
void coalesced_mmio_flush(struct vm *vm);

void coalesced_mmio_destroy(struct vm *vm);

#endif
