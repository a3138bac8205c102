/* The kernel-side notification paths on real KVM. MSI through irqfd, with
 * no vCPU running: an eventfd write must land the MSI's vector in the target
 * LAPIC's IRR, and moving the route (as a guest rewriting its MSI-X table
 * entry) must change the vector. ioeventfd: a guest port write to the
 * registered port signals the eventfd without an exit to userspace. Device
 * RAM (VRAM): guest writes land in host memory and in the dirty log. The
 * VGA window taken out of RAM: guest stores there exit as MMIO. Direct
 * boot's shared PCI lines: a device lowering its INTx does not take away
 * the interrupt another device on the same IOAPIC pin still asserts. */
#include <glib.h>
#include <linux/kvm.h>
#include <errno.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "hw/direct_intx.h"
#include "kvm-test.h"

#define APIC_SVR 0xF0
#define APIC_SVR_ENABLE 0x100
#define APIC_IRR 0x200
#define MSI_ADDRESS(apic_id) (0xFEE00000u | (apic_id) << 12)

static uint32_t lapic_reg(const struct kvm_lapic_state *s, unsigned offset)
{
	return *(const uint32_t *)(s->regs + offset);
}

static bool irr_has(struct vcpu *vcpu, unsigned vector)
{
	struct kvm_lapic_state lapic;
	g_assert_cmpint(ioctl(vcpu->fd, KVM_GET_LAPIC, &lapic), ==, 0);
	return lapic_reg(&lapic, APIC_IRR + (vector / 32) * 0x10) & (1u << (vector % 32));
}

static void enable_lapic(struct vcpu *vcpu)
{
	struct kvm_lapic_state lapic;
	g_assert_cmpint(ioctl(vcpu->fd, KVM_GET_LAPIC, &lapic), ==, 0);
	*(uint32_t *)(lapic.regs + APIC_SVR) |= APIC_SVR_ENABLE; /* as an OS does at boot */
	g_assert_cmpint(ioctl(vcpu->fd, KVM_SET_LAPIC, &lapic), ==, 0);
}

static bool wait_for_irr(struct vcpu *vcpu, unsigned vector)
{
	for (int i = 0; i < 1000; i++) {
		if (irr_has(vcpu, vector))
			return true;
		g_usleep(1000);
	}
	return false;
}

static void test_msi_irqfd(void)
{
	struct vm vm;
	struct vcpu vcpu;
	if (!create_vm_with_vcpu(&vm, &vcpu))
		return;

	enable_lapic(&vcpu);
	int gsi = vm_add_msi_route(&vm, MSI_ADDRESS(0), 0x41);
	g_assert_cmpint(gsi, >=, PC_IOAPIC_PINS);
	int efd = eventfd(0, EFD_CLOEXEC);
	g_assert_cmpint(vm_attach_irqfd(&vm, efd, (unsigned)gsi), ==, 0);
	g_assert_false(irr_has(&vcpu, 0x41));
	uint64_t one = 1;
	g_assert_cmpint(write(efd, &one, sizeof(one)), ==, sizeof(one));
	g_assert_true(wait_for_irr(&vcpu, 0x41));

	g_assert_cmpint(vm_set_msi_route(&vm, (unsigned)gsi, MSI_ADDRESS(0), 0x52), ==, 0);
	g_assert_cmpint(write(efd, &one, sizeof(one)), ==, sizeof(one));
	g_assert_true(wait_for_irr(&vcpu, 0x52));
	g_assert_cmpint(vm_set_msi_route(&vm, 5, MSI_ADDRESS(0), 0x52), ==, -ENOENT); /* not an MSI GSI */

	int second = vm_add_msi_route(&vm, MSI_ADDRESS(0), 0x60);
	g_assert_cmpint(second, ==, gsi + 1);
	g_assert_cmpint(vm_detach_irqfd(&vm, efd, (unsigned)gsi), ==, 0);
	close(efd);
	vcpu_join_and_destroy(&vcpu);
	vm_destroy(&vm);
}

/* Real mode at 0x1000: out 0xE0, al; out 0xE1, al; then spin. */
static const uint8_t notify_code[] = { 0xE6, 0xE0, 0xE6, 0xE1, 0xEB, 0xFE };

static void test_ioeventfd(void)
{
	struct vm vm;
	struct vcpu vcpu;
	if (!create_vm_with_vcpu(&vm, &vcpu))
		return;
	g_assert_true(guest_mem_write(&vm.mem, 0x1000, notify_code, sizeof(notify_code)));
	struct kvm_sregs sregs;
	g_assert_cmpint(ioctl(vcpu.fd, KVM_GET_SREGS, &sregs), ==, 0);
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	g_assert_cmpint(ioctl(vcpu.fd, KVM_SET_SREGS, &sregs), ==, 0);
	struct kvm_regs regs = { .rip = 0x1000, .rflags = 2 };
	g_assert_cmpint(ioctl(vcpu.fd, KVM_SET_REGS, &regs), ==, 0);

	int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	g_assert_cmpint(vm_attach_ioeventfd(&vm, efd, 0xE0, 1, true), ==, 0);
	g_assert_cmpint(ioctl(vcpu.fd, KVM_RUN, 0), ==, 0);
	g_assert_cmpuint(vcpu.run->exit_reason, ==, KVM_EXIT_IO);
	g_assert_cmphex(vcpu.run->io.port, ==, 0xE1);          /* 0xE0 never reached us */
	uint64_t count = 0;
	g_assert_cmpint(read(efd, &count, sizeof(count)), ==, sizeof(count));
	g_assert_cmpuint(count, ==, 1);
	g_assert_cmpint(vm_detach_ioeventfd(&vm, efd, 0xE0, 1, true), ==, 0);
	g_assert_cmpint(vm_detach_ioeventfd(&vm, efd, 0xE0, 1, true), <, 0); /* already gone */
	close(efd);
	vcpu_join_and_destroy(&vcpu);
	vm_destroy(&vm);
}

#define DEVICE_RAM_GPA  0x08000000u /* above the test VM's 64 MiB of RAM */
#define DEVICE_RAM_SIZE (64u << 10)

/* 32-bit flat code at 0x1000: mov [DEVICE_RAM_GPA + 0x3000], al;
 * out 0xE1, al; then spin. */
static const uint8_t store_code[] = { 0xA2, 0x00, 0x30, 0x00, 0x08, 0xE6, 0xE1, 0xEB, 0xFE };

static void test_device_ram_dirty_log(void)
{
	struct vm vm;
	struct vcpu vcpu;
	if (!create_vm_with_vcpu(&vm, &vcpu))
		return;
	uint8_t *vram = mmap(NULL, DEVICE_RAM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	g_assert_true(vram != MAP_FAILED);
	unsigned long bitmap[1] = { ~0ul };

	g_assert_cmpint(vm_map_device_ram(&vm, 0x100000, DEVICE_RAM_SIZE, vram, true), ==, -EEXIST); /* RAM */
	g_assert_cmpint(vm_map_device_ram(&vm, DEVICE_RAM_GPA + 1, DEVICE_RAM_SIZE, vram, true), ==, -EINVAL);
	g_assert_cmpint(vm_map_device_ram(&vm, DEVICE_RAM_GPA, DEVICE_RAM_SIZE, vram, true), ==, 0);
	g_assert_cmpint(vm_map_device_ram(&vm, DEVICE_RAM_GPA, DEVICE_RAM_SIZE, vram, true), ==, -EEXIST);
	g_assert_cmpint(vm_get_dirty_log(&vm, DEVICE_RAM_GPA, DEVICE_RAM_SIZE, bitmap), ==, 0);
	g_assert_cmphex(bitmap[0], ==, 0);
	g_assert_cmpint(vm_get_dirty_log(&vm, DEVICE_RAM_GPA, 2 * DEVICE_RAM_SIZE, bitmap), ==, -ENOENT);

	g_assert_true(guest_mem_write(&vm.mem, 0x1000, store_code, sizeof(store_code)));
	start_flat(&vcpu, 0x1000);
	struct kvm_regs regs;
	g_assert_cmpint(ioctl(vcpu.fd, KVM_GET_REGS, &regs), ==, 0);
	regs.rax = 0x5A;
	g_assert_cmpint(ioctl(vcpu.fd, KVM_SET_REGS, &regs), ==, 0);
	g_assert_cmpint(ioctl(vcpu.fd, KVM_RUN, 0), ==, 0);
	g_assert_cmpuint(vcpu.run->exit_reason, ==, KVM_EXIT_IO);
	g_assert_cmphex(vcpu.run->io.port, ==, 0xE1);       /* the store did not exit */
	g_assert_cmphex(vram[0x3000], ==, 0x5A);
	g_assert_cmpint(vm_get_dirty_log(&vm, DEVICE_RAM_GPA, DEVICE_RAM_SIZE, bitmap), ==, 0);
	g_assert_cmphex(bitmap[0], ==, 1u << 3);                   /* page 3 only */
	g_assert_cmpint(vm_get_dirty_log(&vm, DEVICE_RAM_GPA, DEVICE_RAM_SIZE, bitmap), ==, 0);
	g_assert_cmphex(bitmap[0], ==, 0);                         /* each call starts a new round */

	g_assert_cmpint(vm_unmap_device_ram(&vm, DEVICE_RAM_GPA), ==, 0);
	g_assert_cmpint(vm_unmap_device_ram(&vm, DEVICE_RAM_GPA), ==, -ENOENT);
	g_assert_cmpint(vm_get_dirty_log(&vm, DEVICE_RAM_GPA, DEVICE_RAM_SIZE, bitmap), ==, -ENOENT);
	g_assert_cmpint(vm_map_device_ram(&vm, DEVICE_RAM_GPA, DEVICE_RAM_SIZE, vram, false), ==, 0); /* slot reused */
	g_assert_cmpint(vm_get_dirty_log(&vm, DEVICE_RAM_GPA, DEVICE_RAM_SIZE, bitmap), ==, -ENOENT); /* not logged */
	vcpu_join_and_destroy(&vcpu);
	vm_destroy(&vm);
	munmap(vram, DEVICE_RAM_SIZE);
}

/* 32-bit flat code at 0x1000: mov [0xB8000], al; then spin. */
static const uint8_t vga_store_code[] = { 0xA2, 0x00, 0x80, 0x0B, 0x00, 0xEB, 0xFE };

static void test_vga_window_released(void)
{
	struct vm vm;
	struct vcpu vcpu;
	if (!create_vm_with_vcpu(&vm, &vcpu))
		return;
	g_assert_nonnull(guest_mem_ptr(&vm.mem, 0xB8000, 1));
	g_assert_cmpint(vm_release_vga_window(&vm), ==, 0);
	g_assert_cmpint(vm_release_vga_window(&vm), ==, -EINVAL);   /* once */
	g_assert_null(guest_mem_ptr(&vm.mem, 0xB8000, 1));
	g_assert_null(guest_mem_ptr(&vm.mem, 0x9F000, 0x2000));      /* no range across the hole */
	g_assert_nonnull(guest_mem_ptr(&vm.mem, 0x9F000, 0x1000));
	g_assert_nonnull(guest_mem_ptr(&vm.mem, 0xE0000, 0x20000));  /* ACPI and MP tables stay RAM */

	g_assert_true(guest_mem_write(&vm.mem, 0x1000, vga_store_code, sizeof(vga_store_code)));
	start_flat(&vcpu, 0x1000);
	g_assert_cmpint(ioctl(vcpu.fd, KVM_RUN, 0), ==, 0);
	g_assert_cmpuint(vcpu.run->exit_reason, ==, KVM_EXIT_MMIO);  /* reaches the bus */
	g_assert_cmphex(vcpu.run->mmio.phys_addr, ==, 0xB8000);
	g_assert_true(vcpu.run->mmio.is_write);
	vcpu_join_and_destroy(&vcpu);
	vm_destroy(&vm);
}

#define IOREDTBL_MASKED (1ull << 16)
#define IOREDTBL_LEVEL (1ull << 15)
#define SHARED_VECTOR 0x61

static struct kvm_irqchip get_ioapic(struct vm *vm)
{
	struct kvm_irqchip chip = { .chip_id = KVM_IRQCHIP_IOAPIC };
	g_assert_cmpint(ioctl(vm->vm_fd, KVM_GET_IRQCHIP, &chip), ==, 0);
	return chip;
}

/* The guest programs IOAPIC pin `pin`: level-triggered, vector
 * SHARED_VECTOR to APIC 0, masked or not. */
static void program_pin(struct vm *vm, unsigned pin, bool masked)
{
	struct kvm_irqchip chip = get_ioapic(vm);
	chip.chip.ioapic.redirtbl[pin].bits = SHARED_VECTOR | IOREDTBL_LEVEL | (masked ? IOREDTBL_MASKED : 0);
	g_assert_cmpint(ioctl(vm->vm_fd, KVM_SET_IRQCHIP, &chip), ==, 0);
}

static bool pin_asserted(struct vm *vm, unsigned pin)
{
	return get_ioapic(vm).chip.ioapic.irr & (1u << pin);
}

/* Slots 2 (the display) and 10 share IOAPIC pin 18 in direct boot. The
 * disk in slot 10 interrupts while the guest has the pin masked; the
 * display lowers its line (its interrupt handled, or never raised). When
 * the guest unmasks the pin, the disk's interrupt must still arrive. */
static void test_shared_pin_keeps_pending_interrupt(void)
{
	struct vm vm;
	struct vcpu vcpu;
	struct direct_intx intx;
	if (!create_vm_with_vcpu(&vm, &vcpu))
		return;
	enable_lapic(&vcpu);
	direct_intx_init(&intx, (struct irq_line){ vm_set_irq, &vm, 0 });
	struct irq_line display = direct_intx_line(&intx, 2), disk = direct_intx_line(&intx, 10);
	const unsigned pin = PC_PCI_INTX_FIRST_GSI + 2;
	program_pin(&vm, pin, true);

	irq_line_set(&display, true);
	irq_line_set(&disk, true);
	irq_line_set(&display, false);
	g_assert_true(pin_asserted(&vm, pin));
	g_assert_false(irr_has(&vcpu, SHARED_VECTOR));
	program_pin(&vm, pin, false);
	g_assert_true(wait_for_irr(&vcpu, SHARED_VECTOR));

	irq_line_set(&disk, false);
	g_assert_false(pin_asserted(&vm, pin));    /* and the OR does go low */
	direct_intx_destroy(&intx);
	vcpu_join_and_destroy(&vcpu);
	vm_destroy(&vm);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/kvm/msi-irqfd", test_msi_irqfd);
	g_test_add_func("/kvm/ioeventfd", test_ioeventfd);
	g_test_add_func("/kvm/device-ram-dirty-log", test_device_ram_dirty_log);
	g_test_add_func("/kvm/vga-window-released", test_vga_window_released);
	g_test_add_func("/kvm/shared-pin-keeps-pending-interrupt", test_shared_pin_keeps_pending_interrupt);
	return g_test_run();
}
