/* CPUID for the guest: what KVM supports, minus the features the CPU model
 * hides, with per-vCPU APIC IDs and a one-socket topology. */
#ifndef VIREO_KVM_CPUID_H
#define VIREO_KVM_CPUID_H

#include <linux/kvm.h>
#include <stdint.h>

/* spec: "host" or "host,-feature,+feature...". Returns the table, or NULL
 * with *error naming the bad part. Free with g_free. */
struct kvm_cpuid2 *cpuid_model_create(int kvm_fd, const char *spec, char **error);

/* Sets the model on a vCPU with its APIC ID and the CPU count. */
int cpuid_apply(int vcpu_fd, const struct kvm_cpuid2 *model, unsigned apic_id, unsigned ncpus);

#endif
