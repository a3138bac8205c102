/* The limit for exit cost: the smallest KVM program that takes N port-I/O
 * exits. A real-mode guest at 0x1000 does N `out 0xE0` and halts. Usage:
 * raw-kvm-exits [N]; prints exits, seconds and exits/s. */
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>

int main(int argc, char **argv)
{
	unsigned n = argc > 1 ? (unsigned)atoi(argv[1]) : 200000, exits = 0;
	/* mov ecx, n; 1: out 0xE0, al; dec ecx; jnz 1b; hlt */
	unsigned char code[] = { 0x66, 0xB9, n, n >> 8, n >> 16, n >> 24, 0xE6, 0xE0, 0x66, 0x49, 0x75, 0xFA, 0xF4 };
	int kvm = open("/dev/kvm", O_RDWR), vm = ioctl(kvm, KVM_CREATE_VM, 0);
	unsigned char *ram = mmap(NULL, 0x10000, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	memcpy(ram + 0x1000, code, sizeof(code));
	struct kvm_userspace_memory_region region = { .memory_size = 0x10000, .userspace_addr = (unsigned long)ram };
	ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region);
	int vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	struct kvm_run *run = mmap(NULL, ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0), PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	struct kvm_sregs sregs;
	ioctl(vcpu, KVM_GET_SREGS, &sregs);
	sregs.cs.base = 0, sregs.cs.selector = 0;
	ioctl(vcpu, KVM_SET_SREGS, &sregs);
	struct kvm_regs regs = { .rip = 0x1000, .rflags = 2 };
	ioctl(vcpu, KVM_SET_REGS, &regs);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (ioctl(vcpu, KVM_RUN, 0) == 0 && run->exit_reason == KVM_EXIT_IO)
		exits++;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double s = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("raw: %u exits in %.3f s: %.0f exits/s (last exit %u)\n", exits, s, exits / s, run->exit_reason);
	return exits == n ? 0 : 1;
}
