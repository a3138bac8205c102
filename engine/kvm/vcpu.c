/* vCPU threads and the exit dispatch table. */
#include "vcpu.h"

#include <errno.h>
#include <glib.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kvm/assist_host.h"
#include "kvm/coalesced_mmio.h"
#include "kvm/cpuid.h"

#define VCPU_KICK_SIGNAL SIGUSR1
#define X86_CR0_PE 0x1
#define X86_CR0_ET 0x10
#define X86_CR0_PG 0x80000000u
#define X86_CR4_PAE 0x20      /* SDM vol. 3, 2.5 "Control Registers" */
#define EFER_LME (1u << 8)    /* long mode enable (SDM vol. 3, 2.2.1) */
#define EFER_LMA (1u << 10)   /* long mode active */

enum exit_action { EXIT_CONTINUE, EXIT_STOP };
typedef enum exit_action (*exit_handler)(struct vcpu *vcpu);

static void kick_signal_handler(int sig)
{
	(void)sig; /* only interrupts KVM_RUN */
}

static void install_kick_handler(void)
{
	static gsize installed;
	if (g_once_init_enter(&installed)) {
		struct sigaction sa = { .sa_handler = kick_signal_handler }; /* no SA_RESTART */
		sigemptyset(&sa.sa_mask);
		sigaction(VCPU_KICK_SIGNAL, &sa, NULL);
		g_once_init_leave(&installed, 1);
	}
}

/* The MSRs KVM lists for this host (KVM_GET_MSR_INDEX_LIST), or NULL. */
static struct kvm_msr_list *msr_index_list(int kvm_fd)
{
	struct kvm_msr_list probe = { .nmsrs = 0 };
	if (ioctl(kvm_fd, KVM_GET_MSR_INDEX_LIST, &probe) < 0 && errno != E2BIG)
		return NULL;
	struct kvm_msr_list *list = g_malloc0(sizeof(*list) + probe.nmsrs * sizeof(list->indices[0]));
	list->nmsrs = probe.nmsrs;
	if (ioctl(kvm_fd, KVM_GET_MSR_INDEX_LIST, list) < 0)
		g_clear_pointer(&list, g_free);
	return list;
}

/* Each listed MSR's value, one at a time: some are listed but cannot be
 * read on every host, and those are left out. */
static struct kvm_msrs *read_msrs(int vcpu_fd, int kvm_fd)
{
	g_autofree struct kvm_msr_list *list = msr_index_list(kvm_fd);
	unsigned count = list ? list->nmsrs : 0;
	struct kvm_msrs *msrs = g_malloc0(sizeof(*msrs) + count * sizeof(msrs->entries[0]));
	/* Allocated, not a struct with an entry after the header: clang
	 * rejects a variable-sized member that is not last. */
	g_autofree struct kvm_msrs *one = g_malloc0(sizeof(*one) + sizeof(one->entries[0]));
	for (unsigned i = 0; i < count; i++) {
		one->nmsrs = 1;
		one->entries[0] = (struct kvm_msr_entry){ .index = list->indices[i] };
		if (ioctl(vcpu_fd, KVM_GET_MSRS, one) == 1)
			msrs->entries[msrs->nmsrs++] = one->entries[0];
	}
	return msrs;
}

static int save_reset_state(struct vcpu *vcpu)
{
	struct vcpu_reset_state *r = &vcpu->reset;
	int fd = vcpu->fd;
	r->has_xcrs = ioctl(vcpu->vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XCRS) > 0;
	if (ioctl(fd, KVM_GET_REGS, &r->regs) < 0 || ioctl(fd, KVM_GET_SREGS, &r->sregs) < 0 ||
	    ioctl(fd, KVM_GET_FPU, &r->fpu) < 0 || ioctl(fd, KVM_GET_LAPIC, &r->lapic) < 0 ||
	    ioctl(fd, KVM_GET_MP_STATE, &r->mp_state) < 0 || ioctl(fd, KVM_GET_VCPU_EVENTS, &r->events) < 0 ||
	    (r->has_xcrs && ioctl(fd, KVM_GET_XCRS, &r->xcrs) < 0))
		return -1;
	r->msrs = read_msrs(fd, vcpu->vm->kvm_fd);
	return 0;
}

/* KVM_SET_MSRS stops at the first MSR it refuses; the rest still go in. */
static void write_msrs(int fd, const struct kvm_msrs *msrs)
{
	for (unsigned done = 0; done < msrs->nmsrs;) {
		g_autofree struct kvm_msrs *rest = g_malloc0(sizeof(*rest) + (msrs->nmsrs - done) * sizeof(rest->entries[0]));
		rest->nmsrs = msrs->nmsrs - done;
		memcpy(rest->entries, msrs->entries + done, rest->nmsrs * sizeof(rest->entries[0]));
		int set = ioctl(fd, KVM_SET_MSRS, rest);
		done += (set > 0 ? (unsigned)set : 0) + 1;  /* those went in; the next was refused */
	}
}

int vcpu_create(struct vcpu *vcpu, struct vm *vm, unsigned index,
		const struct kvm_cpuid2 *cpuid, unsigned ncpus, char **error)
{
	memset(vcpu, 0, sizeof(*vcpu));
	vcpu->vm = vm;
	vcpu->index = index;
	vcpu->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, (unsigned long)index);
	if (vcpu->fd < 0) {
		*error = g_strdup_printf("cannot create vCPU %u: %s", index, g_strerror(errno));
		return -1;
	}
	vcpu->run = mmap(NULL, (size_t)vm->vcpu_mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu->fd, 0);
	if (vcpu->run == MAP_FAILED) {
		*error = g_strdup_printf("cannot map vCPU %u state: %s", index, g_strerror(errno));
		goto fail;
	}
	int err = coalesced_mmio_attach(vm, vcpu->fd);
	if (err < 0) {
		*error = g_strdup_printf("cannot map KVM's coalesced-MMIO ring: %s", g_strerror(-err));
		munmap(vcpu->run, (size_t)vm->vcpu_mmap_size);
		goto fail;
	}
	if (cpuid_apply(vcpu->fd, cpuid, index, ncpus) < 0) {
		*error = g_strdup_printf("cannot set CPUID of vCPU %u: %s", index, g_strerror(errno));
		munmap(vcpu->run, (size_t)vm->vcpu_mmap_size);
		goto fail;
	}
	if (save_reset_state(vcpu) < 0) {
		*error = g_strdup_printf("cannot read the reset state of vCPU %u: %s", index, g_strerror(errno));
		munmap(vcpu->run, (size_t)vm->vcpu_mmap_size);
		goto fail;
	}
	return 0;
fail:
	close(vcpu->fd);
	vcpu->fd = -1;
	return -1;
}

static void set_flat_segment(struct kvm_segment *seg, uint16_t selector, uint8_t type)
{
	*seg = (struct kvm_segment){
		.base = 0, .limit = 0xFFFFFFFF, .selector = selector, .type = type,
		.present = 1, .dpl = 0, .db = 1, .s = 1, .l = 0, .g = 1,
	};
}

int vcpu_set_boot_entry(struct vcpu *vcpu, const struct boot_entry *entry, char **error)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs = {
		.rip = entry->eip, .rbx = entry->ebx, .rsi = entry->esi,
		.rflags = 0x2, /* bit 1 is reserved and reads as one */
	};
	if (ioctl(vcpu->fd, KVM_GET_SREGS, &sregs) < 0)
		goto fail;
	set_flat_segment(&sregs.cs, BOOT_CODE_SELECTOR, 0xB); /* execute/read, accessed */
	set_flat_segment(&sregs.ds, BOOT_DATA_SELECTOR, 0x3); /* read/write, accessed */
	sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;
	sregs.gdt.base = entry->gdt_base;
	sregs.gdt.limit = entry->gdt_limit;
	sregs.cr0 = X86_CR0_PE | X86_CR0_ET;
	sregs.cr4 = 0;
	sregs.efer = 0;
	if (entry->cr3) {
		sregs.cs.l = 1, sregs.cs.db = 0;
		sregs.cr0 |= X86_CR0_PG;
		sregs.cr3 = entry->cr3;
		sregs.cr4 = X86_CR4_PAE;
		sregs.efer = EFER_LME | EFER_LMA;
	}
	if (ioctl(vcpu->fd, KVM_SET_SREGS, &sregs) < 0 || ioctl(vcpu->fd, KVM_SET_REGS, &regs) < 0)
		goto fail;
	return 0;
fail:
	*error = g_strdup_printf("cannot set vCPU %u boot state: %s", vcpu->index, g_strerror(errno));
	return -1;
}

static enum exit_action handle_io(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	const struct bus *pio = &vcpu->vm->pio;

	for (uint32_t i = 0; i < run->io.count; i++, data += run->io.size) {
		if (run->io.direction == KVM_EXIT_IO_OUT)
			bus_write(pio, run->io.port, data, run->io.size);
		else
			bus_read(pio, run->io.port, data, run->io.size);
	}
	return EXIT_CONTINUE;
}

static enum exit_action handle_mmio(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	if (run->mmio.is_write)
		bus_write(&vcpu->vm->mmio, run->mmio.phys_addr, run->mmio.data, run->mmio.len);
	else
		bus_read(&vcpu->vm->mmio, run->mmio.phys_addr, run->mmio.data, run->mmio.len);
	return EXIT_CONTINUE;
}

/* A triple fault: the PC resets. */
static enum exit_action handle_shutdown(struct vcpu *vcpu)
{
	vm_request_stop(vcpu->vm, VM_STOP_RESET);
	return EXIT_STOP;
}

static void print_registers(struct vcpu *vcpu)
{
	struct kvm_regs r;
	struct kvm_sregs s;
	if (ioctl(vcpu->fd, KVM_GET_REGS, &r) < 0 || ioctl(vcpu->fd, KVM_GET_SREGS, &s) < 0)
		return;
	fprintf(stderr,
		"  rax=%016llx rbx=%016llx rcx=%016llx rdx=%016llx\n"
		"  rsi=%016llx rdi=%016llx rsp=%016llx rbp=%016llx\n"
		"  r8 =%016llx r9 =%016llx r10=%016llx r11=%016llx\n"
		"  r12=%016llx r13=%016llx r14=%016llx r15=%016llx\n"
		"  rip=%016llx rflags=%08llx cs=%04x ss=%04x cpl=%u\n"
		"  cr0=%08llx cr2=%016llx cr3=%016llx cr4=%08llx efer=%llx\n",
		r.rax, r.rbx, r.rcx, r.rdx, r.rsi, r.rdi, r.rsp, r.rbp,
		r.r8, r.r9, r.r10, r.r11, r.r12, r.r13, r.r14, r.r15,
		r.rip, r.rflags, s.cs.selector, s.ss.selector, s.cs.selector & 3u,
		s.cr0, s.cr2, s.cr3, s.cr4, s.efer);
}

/* The bytes at CS:RIP, through the guest's own page tables (KVM_TRANSLATE)
 * and the checked guest-memory path; never past the page they start in. */
static GString *instruction_bytes(struct vcpu *vcpu)
{
	GString *text = g_string_new(NULL);
	struct kvm_regs r;
	struct kvm_sregs s;
	if (ioctl(vcpu->fd, KVM_GET_REGS, &r) < 0 || ioctl(vcpu->fd, KVM_GET_SREGS, &s) < 0)
		return text;
	struct kvm_translation tr = { .linear_address = s.cs.base + r.rip };
	if (s.efer & EFER_LMA) /* long mode: CS base is ignored */
		tr.linear_address = r.rip;
	if (ioctl(vcpu->fd, KVM_TRANSLATE, &tr) < 0 || !tr.valid) {
		g_string_append(text, "(not mapped)");
		return text;
	}
	uint64_t len = MIN(15u, 4096 - (tr.physical_address & 4095));
	const uint8_t *bytes = guest_mem_ptr(&vcpu->vm->mem, tr.physical_address, len);
	if (!bytes) {
		g_string_append(text, "(not in RAM)");
		return text;
	}
	for (uint64_t i = 0; i < len; i++)
		g_string_append_printf(text, "%s%02x", i ? " " : "", bytes[i]);
	return text;
}

static const char *internal_error_name(uint32_t suberror)
{
	switch (suberror) {
	case KVM_INTERNAL_ERROR_EMULATION: return "emulation failure";
	case KVM_INTERNAL_ERROR_SIMUL_EX: return "exception while delivering an exception";
	case KVM_INTERNAL_ERROR_DELIVERY_EV: return "event delivery failure";
	case KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON: return "unexpected exit reason";
	default: return "unknown suberror";
	}
}

static enum exit_action report_failure(struct vcpu *vcpu, const char *what)
{
	struct kvm_regs r = { 0 };
	ioctl(vcpu->fd, KVM_GET_REGS, &r);
	g_autoptr(GString) bytes = instruction_bytes(vcpu);
	fprintf(stderr, "vireo-engine: vCPU %u stopped: %s at rip 0x%llx, instruction bytes: %s\n",
		vcpu->index, what, r.rip, bytes->str);
	print_registers(vcpu);
	vm_request_stop(vcpu->vm, VM_STOP_ERROR);
	return EXIT_STOP;
}

/* An instruction KVM could not emulate: completed here when it is one the
 * assist knows (assist.h), else the guest stops with its bytes printed. */
static enum exit_action handle_internal_error(struct vcpu *vcpu)
{
	if (vcpu->run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION && assist_host_complete(vcpu))
		return EXIT_CONTINUE;
	g_autofree char *what = g_strdup_printf("KVM internal error (%s)",
						internal_error_name(vcpu->run->internal.suberror));
	return report_failure(vcpu, what);
}

static enum exit_action handle_fail_entry(struct vcpu *vcpu)
{
	g_autofree char *what = g_strdup_printf("VM entry failed (hardware reason 0x%llx)",
		(unsigned long long)vcpu->run->fail_entry.hardware_entry_failure_reason);
	return report_failure(vcpu, what);
}

static const exit_handler exit_handlers[] = {
	[KVM_EXIT_IO] = handle_io,
	[KVM_EXIT_MMIO] = handle_mmio,
	[KVM_EXIT_SHUTDOWN] = handle_shutdown,
	[KVM_EXIT_INTERNAL_ERROR] = handle_internal_error,
	[KVM_EXIT_FAIL_ENTRY] = handle_fail_entry,
};

static enum exit_action dispatch_exit(struct vcpu *vcpu)
{
	uint32_t reason = vcpu->run->exit_reason;
	if (reason < G_N_ELEMENTS(exit_handlers) && exit_handlers[reason])
		return exit_handlers[reason](vcpu);
	g_autofree char *what = g_strdup_printf("unhandled KVM exit %u", reason);
	return report_failure(vcpu, what);
}

static bool vm_running(struct vm *vm)
{
	return atomic_load(&vm->stop_reason) == VM_RUNNING;
}

/* Waits outside KVM_RUN while the VM is paused. */
static void park(struct vcpu *vcpu)
{
	struct vm *vm = vcpu->vm;
	g_mutex_lock(&vm->pause_lock);
	vm->vcpus_parked++;
	g_cond_broadcast(&vm->pause_cond);
	while (atomic_load(&vm->pause_requested) && vm_running(vm))
		g_cond_wait(&vm->pause_cond, &vm->pause_lock);
	vm->vcpus_parked--;
	vcpu->run->immediate_exit = 0;   /* the pause kick is served */
	g_mutex_unlock(&vm->pause_lock);
}

static void *vcpu_thread(void *opaque)
{
	struct vcpu *vcpu = opaque;
	struct vm *vm = vcpu->vm;

	while (vm_running(vm)) {
		if (atomic_load(&vm->pause_requested)) {
			park(vcpu);
			continue;
		}
		if (ioctl(vcpu->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue; /* kicked: the loop condition decides */
			fprintf(stderr, "vireo-engine: vCPU %u: KVM_RUN failed: %s\n",
				vcpu->index, g_strerror(errno));
			vm_request_stop(vm, VM_STOP_ERROR);
			break;
		}
		coalesced_mmio_flush(vm);  /* queued writes come before whatever exited */
		if (dispatch_exit(vcpu) == EXIT_STOP)
			break;
	}
	return NULL;
}

int vcpu_start(struct vcpu *vcpu, char **error)
{
	install_kick_handler();
	int err = pthread_create(&vcpu->thread, NULL, vcpu_thread, vcpu);
	if (err) {
		*error = g_strdup_printf("cannot start vCPU %u thread: %s", vcpu->index, g_strerror(err));
		return -1;
	}
	vcpu->started = true;
	return 0;
}

void vcpu_kick(struct vcpu *vcpu)
{
	if (!vcpu->started)
		return;
	vcpu->run->immediate_exit = 1; /* covers a kick that lands before KVM_RUN */
	pthread_kill(vcpu->thread, VCPU_KICK_SIGNAL);
}

void vcpus_pause(struct vcpu *vcpus, unsigned count)
{
	struct vm *vm = vcpus[0].vm;
	atomic_store(&vm->pause_requested, true);
	for (unsigned i = 0; i < count; i++)
		vcpu_kick(&vcpus[i]);
	g_mutex_lock(&vm->pause_lock);
	while (vm->vcpus_parked < count && vm_running(vm))
		g_cond_wait(&vm->pause_cond, &vm->pause_lock);
	g_mutex_unlock(&vm->pause_lock);
}

void vcpus_resume(struct vm *vm)
{
	g_mutex_lock(&vm->pause_lock);
	atomic_store(&vm->pause_requested, false);
	g_cond_broadcast(&vm->pause_cond);
	g_mutex_unlock(&vm->pause_lock);
}

void vcpu_join(struct vcpu *vcpu)
{
	if (vcpu->started)
		pthread_join(vcpu->thread, NULL);
	vcpu->started = false;
}

/* In the order KVM needs: APIC base (in sregs) before the LAPIC, MSRs
 * after EFER, the MP state last. */
int vcpu_reset(struct vcpu *vcpu, char **error)
{
	const struct vcpu_reset_state *r = &vcpu->reset;
	int fd = vcpu->fd;
	if (ioctl(fd, KVM_SET_SREGS, &r->sregs) < 0 || (write_msrs(fd, r->msrs), ioctl(fd, KVM_SET_REGS, &r->regs) < 0) ||
	    ioctl(fd, KVM_SET_FPU, &r->fpu) < 0 || (r->has_xcrs && ioctl(fd, KVM_SET_XCRS, &r->xcrs) < 0) ||
	    ioctl(fd, KVM_SET_LAPIC, &r->lapic) < 0 || ioctl(fd, KVM_SET_VCPU_EVENTS, &r->events) < 0 ||
	    ioctl(fd, KVM_SET_MP_STATE, &r->mp_state) < 0) {
		*error = g_strdup_printf("cannot reset vCPU %u: %s", vcpu->index, g_strerror(errno));
		return -1;
	}
	vcpu->run->immediate_exit = 0;  /* the stop's kick is served */
	return 0;
}

void vcpu_join_and_destroy(struct vcpu *vcpu)
{
	vcpu_join(vcpu);
	g_clear_pointer(&vcpu->reset.msrs, g_free);
	if (vcpu->fd >= 0) {
		munmap(vcpu->run, (size_t)vcpu->vm->vcpu_mmap_size);
		close(vcpu->fd);
		vcpu->fd = -1;
	}
}
