/* The instruction assist around a KVM exit. See assist_host.h. */
#include "kvm/assist_host.h"

#include <errno.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

/* Hands the raised exception to KVM to deliver on the next entry; a #PF
 * needs its CR2 first (without KVM_CAP_EXCEPTION_PAYLOAD KVM takes it from
 * the registers). */
static bool deliver_exception(struct vcpu *vcpu, struct assist_cpu *cpu)
{
	const struct assist_exception *e = &cpu->exception;
	if (e->vector == X86_PF) {
		cpu->sregs.cr2 = e->cr2;
		if (ioctl(vcpu->fd, KVM_SET_SREGS, &cpu->sregs) < 0)
			return false;
	}
	struct kvm_vcpu_events events;
	if (ioctl(vcpu->fd, KVM_GET_VCPU_EVENTS, &events) < 0)
		return false;
	events.flags = 0; /* only the exception is ours to set */
	events.exception.injected = 1;
	events.exception.nr = e->vector;
	events.exception.has_error_code = e->has_error_code;
	events.exception.error_code = e->error_code;
	return ioctl(vcpu->fd, KVM_SET_VCPU_EVENTS, &events) == 0;
}

static bool store_result(struct vcpu *vcpu, struct assist_cpu *cpu, bool fpu)
{
	if (fpu && ioctl(vcpu->fd, KVM_SET_FPU, &cpu->fpu) < 0)
		return false;
	if (ioctl(vcpu->fd, KVM_SET_REGS, &cpu->regs) < 0)
		return false;
	return !cpu->exception.raised || deliver_exception(vcpu, cpu);
}

bool assist_host_complete(struct vcpu *vcpu)
{
	struct assist_cpu cpu = { .mem = &vcpu->vm->mem };
	if (ioctl(vcpu->fd, KVM_GET_REGS, &cpu.regs) < 0 || ioctl(vcpu->fd, KVM_GET_SREGS, &cpu.sregs) < 0)
		return false;
	uint8_t bytes[X86_MAX_INSN_LEN];
	size_t len = assist_fetch(&cpu, bytes);
	struct x86_insn insn;
	if (!x86_decode(bytes, len, x86_code_size(&cpu.sregs, cpu.regs.rflags), &insn))
		return false;
	bool fpu = assist_needs_fpu(insn.kind);
	if (fpu && ioctl(vcpu->fd, KVM_GET_FPU, &cpu.fpu) < 0)
		return false;
	if (assist_complete(&cpu, &insn) == ASSIST_UNSUPPORTED)
		return false;
	if (!store_result(vcpu, &cpu, fpu)) {
		fprintf(stderr, "vireo-engine: vCPU %u: cannot store the state of an assisted %s: %s\n",
			vcpu->index, assist_kind_name(insn.kind), g_strerror(errno));
		return false;
	}
	vcpu->assists[insn.kind]++;
	return true;
}

void assist_host_print_counts(const struct vcpu *vcpus, unsigned count)
{
	const char *stats = getenv("VIREO_ASSIST_STATS");
	if (!stats || strcmp(stats, "1") != 0)
		return;
	g_autoptr(GString) line = g_string_new("vireo-engine: assisted instructions:");
	uint64_t total = 0;
	for (unsigned kind = 0; kind < ASSIST_KINDS; kind++) {
		uint64_t n = 0;
		for (unsigned i = 0; i < count; i++)
			n += vcpus[i].assists[kind];
		if (n)
			g_string_append_printf(line, " %s %" G_GUINT64_FORMAT ",", assist_kind_name(kind), n);
		total += n;
	}
	g_string_append_printf(line, " total %" G_GUINT64_FORMAT, total);
	fprintf(stderr, "%s\n", line->str);
}
