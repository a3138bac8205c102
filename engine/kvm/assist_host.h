/* The instruction assist around a KVM emulation failure: loads the vCPU's
 * state into the plain struct assist.c works on, completes the instruction
 * at RIP, stores the result and any exception back into KVM. */
#ifndef VIREO_KVM_ASSIST_HOST_H
#define VIREO_KVM_ASSIST_HOST_H

#include <stdbool.h>

#include "kvm/vcpu.h"

/* True when the instruction at RIP was completed (or raised its fault in
 * the guest) and the vCPU can run on; false when it is not one we complete. */
bool assist_host_complete(struct vcpu *vcpu);

/* With VIREO_ASSIST_STATS=1 in the environment: one line on stderr with the
 * assisted instructions by kind, summed over the vCPUs. */
void assist_host_print_counts(const struct vcpu *vcpus, unsigned count);

#endif
