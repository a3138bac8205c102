/* Tests on real KVM: a small VM with one vCPU that the test runs itself. */
#ifndef VIREO_TEST_KVM_TEST_H
#define VIREO_TEST_KVM_TEST_H

#include <glib.h>
#include <unistd.h>

#include "kvm/cpuid.h"
#include "kvm/vcpu.h"
#include "kvm/vm.h"

/* A 64 MiB VM with vCPU 0 (not running); false, with the test skipped,
 * when this host has no /dev/kvm. */
static inline bool create_vm_with_vcpu(struct vm *vm, struct vcpu *vcpu)
{
	char *error = NULL;
	if (access("/dev/kvm", R_OK | W_OK) != 0) {
		g_test_skip("this host has no usable /dev/kvm, so no VM can be made here");
		return false;
	}
	g_assert_cmpint(vm_create(vm, 64ull << 20, &error), ==, 0);
	g_autofree struct kvm_cpuid2 *cpuid = cpuid_model_create(vm->kvm_fd, "host", &error);
	g_assert_nonnull(cpuid);
	g_assert_cmpint(vcpu_create(vcpu, vm, 0, cpuid, 1, &error), ==, 0);
	return true;
}

/* Starts the vCPU in 32-bit flat protected mode at eip. */
static inline void start_flat(struct vcpu *vcpu, uint32_t eip)
{
	char *error = NULL;
	struct boot_entry entry = { .eip = eip };
	g_assert_cmpint(vcpu_set_boot_entry(vcpu, &entry, &error), ==, 0);
}

#endif
