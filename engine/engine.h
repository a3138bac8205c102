/* One run of a machine: build the PC from its definition, boot it, run the
 * vCPUs until something stops it, tear it all down. */
#ifndef VIREO_ENGINE_H
#define VIREO_ENGINE_H

#include <glib.h>

#include "backend/chardev.h"
#include "kvm/vm.h"
#include "machine.h"

/* Checks what can be checked before KVM is touched (files exist and are
 * readable and non-empty). Returns false with *error set. */
bool engine_check_inputs(const struct vireo_machine *def, char **error);

/* Runs the machine once. Returns why it stopped; on a setup failure returns
 * VM_STOP_ERROR with *error set (a vCPU failure is reported by the vCPU and
 * leaves *error NULL). The serial backend outlives the run (reboots reuse it). */
enum vm_stop_reason engine_run(const struct vireo_machine *def, struct chardev *serial,
			       GMainContext *context, char **error);

#endif
