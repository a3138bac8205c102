/* A KVM virtual machine: /dev/kvm, guest RAM and its memory slots, the
 * in-kernel irqchip and PIT, GSI routing, and the two device buses. */
#ifndef VIREO_KVM_VM_H
#define VIREO_KVM_VM_H

#include <glib.h>
#include <linux/kvm.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/bus.h"
#include "core/guest_mem.h"
#include "core/pc_map.h"

/* KVM slots and routes (the PC memory map is core/pc_map.h). */
#define VM_PAGE_SIZE         4096ull /* the unit of memory slots and dirty logs */
#define VM_MAX_MSI_ROUTES    256   /* GSIs above the IOAPIC's, one per MSI vector */
#define VM_MAX_ROUTES        (16 + PC_IOAPIC_PINS + VM_MAX_MSI_ROUTES)
#define VM_RAM_SLOTS         3     /* KVM slots 0-2: RAM below 4 GiB, above it, above the VGA window */
#define VM_SLOT_LOW_RAM_TAIL 2
#define VM_DEVICE_RAM_SLOTS  8     /* slots after those: device memory such as VRAM */
#define VM_DIRTY_PAGE_SIZE   4096  /* one dirty-log bit covers this much */
#define VM_EXTRA_SLOTS       16    /* slots after those: firmware ROM and the PAM pieces */

enum vm_stop_reason {
	VM_RUNNING = 0,
	VM_STOP_POWER_OFF,  /* guest powered off: exit 0 */
	VM_STOP_RESET,      /* guest reset: reboot, or exit 0 with --no-reboot */
	VM_STOP_REQUESTED,  /* signal or control request: exit 0 */
	VM_STOP_ERROR,      /* vCPU failure already reported: exit 1 */
};

/* Host memory of a device (VRAM) mapped into the guest as a KVM slot. */
struct vm_device_ram {
	uint64_t gpa;
	uint64_t size;       /* 0: the slot is free */
	void *hva;
	bool log_dirty;
};

struct vm {
	int kvm_fd;
	int vm_fd;
	int vcpu_mmap_size;
	uint8_t *ram;
	uint64_t ram_size;
	uint64_t low_ram_size;   /* bytes of RAM below 4 GiB */
	struct guest_mem mem;
	struct bus pio;
	struct bus mmio;
	GMutex routing_lock;     /* the GSI routing table, rewritten whole on change */
	struct kvm_irq_routing_entry routes[VM_MAX_ROUTES];
	unsigned route_count;
	unsigned next_msi_gsi;
	GMutex device_ram_lock;  /* device_ram and their KVM slots */
	bool manual_dirty_protect; /* dirty pages are re-protected by us, only those found dirty */
	struct vm_device_ram device_ram[VM_DEVICE_RAM_SLOTS];
	bool extra_slot_used[VM_EXTRA_SLOTS];
	bool legacy_released;    /* 0xC0000-0xFFFFF is no longer in a RAM slot */
	_Atomic int stop_reason; /* enum vm_stop_reason */
	/* Pause: vCPUs park outside KVM_RUN while `pause_requested`. */
	GMutex pause_lock;
	GCond pause_cond;
	atomic_bool pause_requested;
	unsigned vcpus_parked;
	/* Coalesced MMIO (kvm/coalesced_mmio.h): the ring page's offset in a
	 * vCPU's mapping (0: none), the ring, and who is draining it. */
	int coalesced_page;
	struct kvm_coalesced_mmio_ring *coalesced_ring;
	GMutex coalesced_lock;
	void (*on_stop)(void *opaque);
	void *on_stop_opaque;
	/* The interrupt controllers and PIT as created: their reset state. */
	struct kvm_irqchip reset_chips[3];   /* PIC master, PIC slave, IOAPIC */
	struct kvm_pit_state2 reset_pit;
};

/* Opens /dev/kvm, checks capabilities, creates the VM with RAM of the given
 * size. Returns 0, or -1 with *error set to one line naming the problem;
 * everything done so far is undone. */
int vm_create(struct vm *vm, uint64_t ram_size, char **error);
void vm_destroy(struct vm *vm);

/* A guest reset without a new VM, once every vCPU has left: the PICs,
 * IOAPIC and PIT back to their state at creation, the stop and pause
 * cleared so that vCPUs can run again. Returns 0, or -1 with *error set. */
int vm_reset(struct vm *vm, char **error);

/* KVM_CHECK_EXTENSION on a /dev/kvm or VM descriptor: 0 when absent or
 * hidden by VIREO_TEST_HIDE_KVM_CAP=NAME. */
int vm_check_cap(int fd, int cap, const char *name);

/* struct irq_line callback: drives a GSI through KVM_IRQ_LINE. */
void vm_set_irq(void *opaque, unsigned gsi, bool level);

/* MSI delivery without userspace on the path: a GSI routed to an MSI
 * (address/data as the device's MSI-X table entry holds them), and an
 * eventfd that raises it (irqfd). Return the GSI or 0, or -errno. */
int vm_add_msi_route(struct vm *vm, uint64_t address, uint32_t data);
int vm_set_msi_route(struct vm *vm, unsigned gsi, uint64_t address, uint32_t data);
int vm_attach_irqfd(struct vm *vm, int eventfd, unsigned gsi);
int vm_detach_irqfd(struct vm *vm, int eventfd, unsigned gsi);

/* Guest writes of `len` bytes to a port or MMIO address signal an eventfd
 * in the kernel instead of exiting to userspace (virtio queue notify). */
int vm_attach_ioeventfd(struct vm *vm, int eventfd, uint64_t addr, unsigned len, bool pio);
int vm_detach_ioeventfd(struct vm *vm, int eventfd, uint64_t addr, unsigned len, bool pio);

/* Takes 0xA0000-0xBFFFF out of guest RAM, so guest accesses there exit to
 * the MMIO bus, where a VGA claims its window; RAM below and above stays.
 * Call before vCPUs run. Returns 0, or -errno from KVM. */
int vm_release_vga_window(struct vm *vm);

/* Firmware boot: takes 0xA0000-0xFFFFF out of the RAM slots (the VGA window
 * too, if vm_release_vga_window has not yet), so that the BIOS area can be
 * switched piece by piece with vm_set_extra_slot. Guest memory (guest_mem)
 * keeps 0xC0000-0xFFFFF: firmware DMA lands in the shadow RAM behind it.
 * Returns 0, or -errno. */
int vm_release_legacy_window(struct vm *vm);

/* Extra slot `index` (< VM_EXTRA_SLOTS) maps [gpa, gpa+size) to host memory
 * at hva, read-only (KVM_MEM_READONLY: guest writes exit as MMIO, where
 * nobody claims them) or not; size 0 removes it. Returns 0 or -errno. */
int vm_set_extra_slot(struct vm *vm, unsigned index, uint64_t gpa, uint64_t size, const void *hva,
		      bool read_only);

/* Device memory: guest accesses to [gpa, gpa+size) reach host memory at
 * hva without exits (a framebuffer BAR). size and gpa are multiples of the
 * page size; with log_dirty, KVM records which pages the guest wrote. Any
 * thread. map returns 0, -EEXIST when the range overlaps RAM or another
 * slot, -ENOSPC when all device slots are taken, -EINVAL for a bad range;
 * unmap returns -ENOENT when nothing is mapped at gpa. */
int vm_map_device_ram(struct vm *vm, uint64_t gpa, uint64_t size, void *hva, bool log_dirty);
int vm_unmap_device_ram(struct vm *vm, uint64_t gpa);
/* Copies the pages written since the last call into bitmap (one bit per
 * VM_DIRTY_PAGE_SIZE page of the slot mapped at gpa, bit 0 of word 0 first;
 * the caller provides size / VM_DIRTY_PAGE_SIZE bits rounded up to whole
 * longs) and starts a new round. -ENOENT when no logged slot of that size is
 * at gpa. */
int vm_get_dirty_log(struct vm *vm, uint64_t gpa, uint64_t size, unsigned long *bitmap);

/* Any thread: ask the machine to stop. The first reason wins. */
void vm_request_stop(struct vm *vm, enum vm_stop_reason reason);

#endif
