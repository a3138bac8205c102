/* The coalesced-MMIO ring: see coalesced_mmio.h. */
#include "coalesced_mmio.h"

#include <errno.h>
#include <stdatomic.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "vm.h"

/* Entries in the ring page (linux/kvm.h KVM_COALESCED_MMIO_MAX, which needs
 * the kernel's PAGE_SIZE). */
#define RING_ENTRIES ((VM_PAGE_SIZE - sizeof(struct kvm_coalesced_mmio_ring)) / sizeof(struct kvm_coalesced_mmio))

void coalesced_mmio_add_zone(struct vm *vm, uint64_t gpa, uint64_t size)
{
	int page = vm_check_cap(vm->vm_fd, KVM_CAP_COALESCED_MMIO, "COALESCED_MMIO");
	if (page <= 0)
		return;
	struct kvm_coalesced_mmio_zone zone = { .addr = gpa, .size = (uint32_t)size };
	if (ioctl(vm->vm_fd, KVM_REGISTER_COALESCED_MMIO, &zone) == 0)
		vm->coalesced_page = page;
}

int coalesced_mmio_attach(struct vm *vm, int vcpu_fd)
{
	if (!vm->coalesced_page || vm->coalesced_ring)
		return 0;
	void *ring = mmap(NULL, VM_PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu_fd,
			  (off_t)vm->coalesced_page * VM_PAGE_SIZE);
	if (ring == MAP_FAILED)
		return -errno;
	vm->coalesced_ring = ring;
	return 0;
}

void coalesced_mmio_flush(struct vm *vm)
{
	struct kvm_coalesced_mmio_ring *ring = vm->coalesced_ring;
	/* KVM fills at `last` and we drain at `first`; an empty ring needs no lock. */
	if (!ring || atomic_load_explicit((_Atomic uint32_t *)&ring->last, memory_order_acquire) == ring->first)
		return;
	g_mutex_lock(&vm->coalesced_lock);
	uint32_t first = ring->first;
	while (first != atomic_load_explicit((_Atomic uint32_t *)&ring->last, memory_order_acquire)) {
		const struct kvm_coalesced_mmio *w = &ring->coalesced_mmio[first % RING_ENTRIES];
		if (w->len <= sizeof(w->data))  /* KVM queues 1-8 byte writes only */
			bus_write(&vm->mmio, w->phys_addr, w->data, w->len);
		first = (first + 1) % RING_ENTRIES;
		atomic_store_explicit((_Atomic uint32_t *)&ring->first, first, memory_order_release);
	}
	g_mutex_unlock(&vm->coalesced_lock);
}

void coalesced_mmio_destroy(struct vm *vm)
{
	if (vm->coalesced_ring)
		munmap(vm->coalesced_ring, VM_PAGE_SIZE);
	vm->coalesced_ring = NULL;
	vm->coalesced_page = 0;
}
