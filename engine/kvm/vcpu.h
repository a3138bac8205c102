/* vCPUs: one thread each, running KVM_RUN and dispatching exits to the bus. */
#ifndef VIREO_KVM_VCPU_H
#define VIREO_KVM_VCPU_H

#include <linux/kvm.h>
#include <pthread.h>
#include <stdint.h>

#include "kvm/assist.h"
#include "kvm/vm.h"

/* Where the boot CPU starts: 32-bit protected mode, paging off, flat
 * segments (code selector 0x10, data 0x18 in a GDT the loader wrote), as both
 * the PVH entry and the Linux 32-bit boot protocol want it. */
struct boot_entry {
	uint32_t eip;
	uint32_t ebx;      /* PVH: hvm_start_info */
	uint32_t esi;      /* Linux boot protocol: boot_params */
	uint32_t gdt_base;
	uint16_t gdt_limit;
	uint32_t cr3;      /* nonzero: start in long mode on these page tables */
};

#define BOOT_CODE_SELECTOR 0x10
#define BOOT_DATA_SELECTOR 0x18

/* The state KVM creates a vCPU in, which is what a PC's reset line puts
 * its CPU in (SDM vol. 3, 9.1.1): kept to start it over on a reset. */
struct vcpu_reset_state {
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_fpu fpu;
	struct kvm_lapic_state lapic;
	struct kvm_mp_state mp_state;
	struct kvm_vcpu_events events;
	struct kvm_xcrs xcrs;
	bool has_xcrs;
	struct kvm_msrs *msrs;   /* every MSR KVM lists that could be read */
};

struct vcpu {
	struct vm *vm;
	unsigned index;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	bool started;
	struct vcpu_reset_state reset;
	uint64_t assists[ASSIST_KINDS]; /* instructions completed from userspace, by kind */
};

int vcpu_create(struct vcpu *vcpu, struct vm *vm, unsigned index,
		const struct kvm_cpuid2 *cpuid, unsigned ncpus, char **error);
int vcpu_set_boot_entry(struct vcpu *vcpu, const struct boot_entry *entry, char **error);
int vcpu_start(struct vcpu *vcpu, char **error);
/* Makes a running vCPU leave KVM_RUN; it stops once the VM is stopping. */
void vcpu_kick(struct vcpu *vcpu);
void vcpu_join_and_destroy(struct vcpu *vcpu);

/* A guest reset without a new VM: once the VM has stopped, vcpu_join waits
 * for the thread to end; vcpu_reset then puts the vCPU back in the state
 * it was created in, ready for vcpu_start. Returns 0, or -1 with *error set. */
void vcpu_join(struct vcpu *vcpu);
int vcpu_reset(struct vcpu *vcpu, char **error);

/* Pause: every vCPU leaves KVM_RUN and waits (returns once all `count` are
 * parked, or the VM is stopping); resume lets them run on. Devices keep
 * running: their interrupts wait in KVM until the vCPUs take them. */
void vcpus_pause(struct vcpu *vcpus, unsigned count);
void vcpus_resume(struct vm *vm);

#endif
