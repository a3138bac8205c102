/* A KVM virtual machine: capabilities, RAM, irqchip, PIT, GSI routing. */
#include "vm.h"

#include "coalesced_mmio.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/trace.h"

#define KVM_DEVICE "/dev/kvm"

static const struct {
	int cap;
	const char *name;
	const char *used_for;
} required_caps[] = {
	{ KVM_CAP_IRQCHIP, "IRQCHIP", "the in-kernel PIC, IOAPIC and LAPIC" },
	{ KVM_CAP_PIT2, "PIT2", "the in-kernel PIT" },
	{ KVM_CAP_USER_MEMORY, "USER_MEMORY", "guest RAM" },
	{ KVM_CAP_SET_TSS_ADDR, "SET_TSS_ADDR", "real-mode guests" },
	{ KVM_CAP_SET_IDENTITY_MAP_ADDR, "SET_IDENTITY_MAP_ADDR", "real-mode guests" },
	{ KVM_CAP_IRQ_ROUTING, "IRQ_ROUTING", "PC interrupt routing" },
	{ KVM_CAP_IRQFD, "IRQFD", "device interrupts" },
	{ KVM_CAP_IOEVENTFD, "IOEVENTFD", "device notifications" },
	{ KVM_CAP_EXT_CPUID, "EXT_CPUID", "CPUID setup" },
	{ KVM_CAP_IMMEDIATE_EXIT, "IMMEDIATE_EXIT", "stopping vCPUs" },
	{ KVM_CAP_MP_STATE, "MP_STATE", "SMP guests" },
};

/* VIREO_TEST_HIDE_KVM_CAP=NAME makes a present capability look missing, so
 * the test suite can check the error a host without it gets (and benchmarks
 * can measure what an optional one brings). */
int vm_check_cap(int fd, int cap, const char *name)
{
	const char *hidden = getenv("VIREO_TEST_HIDE_KVM_CAP");
	if (hidden && !strcmp(hidden, name))
		return 0;
	return ioctl(fd, KVM_CHECK_EXTENSION, cap);
}

static bool kvm_has_cap(int kvm_fd, int cap, const char *name)
{
	return vm_check_cap(kvm_fd, cap, name) > 0;
}

static int open_kvm(struct vm *vm, char **error)
{
	vm->kvm_fd = open(KVM_DEVICE, O_RDWR | O_CLOEXEC);
	if (vm->kvm_fd < 0) {
		if (errno == ENOENT)
			*error = g_strdup(KVM_DEVICE " does not exist: this host has no KVM "
					  "(enable virtualization in the firmware and load kvm_intel or kvm_amd)");
		else if (errno == EACCES || errno == EPERM)
			*error = g_strdup("no permission to open " KVM_DEVICE
					  ": add your user to the 'kvm' group and log in again");
		else
			*error = g_strdup_printf("cannot open " KVM_DEVICE ": %s", g_strerror(errno));
		return -1;
	}
	if (ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION) {
		*error = g_strdup_printf(KVM_DEVICE " speaks an unsupported KVM API version (need %d)",
					 KVM_API_VERSION);
		return -1;
	}
	for (size_t i = 0; i < G_N_ELEMENTS(required_caps); i++) {
		if (!kvm_has_cap(vm->kvm_fd, required_caps[i].cap, required_caps[i].name)) {
			*error = g_strdup_printf("this host's KVM lacks capability KVM_CAP_%s (needed for %s)",
						 required_caps[i].name, required_caps[i].used_for);
			return -1;
		}
	}
	vm->vcpu_mmap_size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (vm->vcpu_mmap_size <= 0) {
		*error = g_strdup_printf("KVM_GET_VCPU_MMAP_SIZE failed: %s", g_strerror(errno));
		return -1;
	}
	return 0;
}

static char *format_size(uint64_t bytes)
{
	return g_format_size_full(bytes, G_FORMAT_SIZE_IEC_UNITS);
}

static int map_ram(struct vm *vm, uint64_t ram_size, char **error)
{
	uint64_t host_ram = (uint64_t)sysconf(_SC_PHYS_PAGES) * (uint64_t)sysconf(_SC_PAGESIZE);
	if (ram_size > host_ram) {
		g_autofree char *want = format_size(ram_size), *have = format_size(host_ram);
		*error = g_strdup_printf("memory %s is more than this host's %s of RAM", want, have);
		return -1;
	}
	/* NORESERVE: pages are committed when the guest touches them. */
	void *ram = mmap(NULL, ram_size, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (ram == MAP_FAILED) {
		g_autofree char *want = format_size(ram_size);
		*error = g_strdup_printf("cannot reserve %s of guest memory: %s", want, g_strerror(errno));
		return -1;
	}
	madvise(ram, ram_size, MADV_HUGEPAGE); /* fewer TLB misses; harmless without THP */
	vm->ram = ram;
	vm->ram_size = ram_size;
	vm->low_ram_size = ram_size <= PC_LOW_RAM_MAX ? ram_size : PC_LOW_RAM_SPLIT;
	return 0;
}

static int add_slot(struct vm *vm, uint32_t slot, uint64_t gpa, uint64_t size, void *hva, char **error)
{
	struct kvm_userspace_memory_region region = {
		.slot = slot, .guest_phys_addr = gpa, .memory_size = size,
		.userspace_addr = (uintptr_t)hva,
	};
	if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0 ||
	    !guest_mem_add(&vm->mem, gpa, size, hva)) {
		*error = g_strdup_printf("cannot map guest RAM at 0x%llx: %s",
					 (unsigned long long)gpa, g_strerror(errno));
		return -1;
	}
	return 0;
}

static int set_ram_slot(struct vm *vm, uint32_t slot, uint64_t gpa, uint64_t size, void *hva)
{
	struct kvm_userspace_memory_region region = {
		.slot = slot, .guest_phys_addr = gpa, .memory_size = size, .userspace_addr = (uintptr_t)hva,
	};
	return ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0 ? -errno : 0;
}

/* KVM cannot shrink a slot, so slot 0 is deleted and made again below the
 * window, and the RAM above it gets a slot of its own. guest_mem follows. */
int vm_release_vga_window(struct vm *vm)
{
	struct guest_region *low = &vm->mem.regions[0];
	uint64_t tail = vm->low_ram_size - PC_VGA_WINDOW_END;
	int err;
	if (low->gpa != 0 || low->size != vm->low_ram_size || vm->low_ram_size <= PC_VGA_WINDOW_END)
		return -EINVAL; /* already done, or too little RAM to have a window */
	if ((err = set_ram_slot(vm, 0, 0, 0, vm->ram)) < 0 ||
	    (err = set_ram_slot(vm, 0, 0, PC_VGA_WINDOW_BASE, vm->ram)) < 0 ||
	    (err = set_ram_slot(vm, VM_SLOT_LOW_RAM_TAIL, PC_VGA_WINDOW_END, tail, vm->ram + PC_VGA_WINDOW_END)) < 0)
		return err;
	low->size = PC_VGA_WINDOW_BASE;
	return guest_mem_add(&vm->mem, PC_VGA_WINDOW_END, tail, vm->ram + PC_VGA_WINDOW_END) ? 0 : -ENOSPC;
}

int vm_release_legacy_window(struct vm *vm)
{
	int err;
	if (vm->legacy_released)
		return -EINVAL;
	if (vm->mem.regions[0].size == vm->low_ram_size && (err = vm_release_vga_window(vm)) < 0)
		return err;
	if ((err = set_ram_slot(vm, VM_SLOT_LOW_RAM_TAIL, PC_VGA_WINDOW_END, 0, vm->ram + PC_VGA_WINDOW_END)) < 0 ||
	    (err = set_ram_slot(vm, VM_SLOT_LOW_RAM_TAIL, PC_LEGACY_END, vm->low_ram_size - PC_LEGACY_END,
				vm->ram + PC_LEGACY_END)) < 0)
		return err;
	vm->legacy_released = true;
	return 0;
}

int vm_set_extra_slot(struct vm *vm, unsigned index, uint64_t gpa, uint64_t size, const void *hva,
		      bool read_only)
{
	if (index >= VM_EXTRA_SLOTS)
		return -EINVAL;
	struct kvm_userspace_memory_region region = {
		.slot = VM_RAM_SLOTS + VM_DEVICE_RAM_SLOTS + index, .guest_phys_addr = gpa, .memory_size = size,
		.userspace_addr = (uintptr_t)hva, .flags = read_only ? KVM_MEM_READONLY : 0,
	};
	/* KVM cannot move a slot or change its flags: delete it first. */
	struct kvm_userspace_memory_region gone = { .slot = region.slot };
	if (vm->extra_slot_used[index] && ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &gone) < 0)
		return -errno;
	vm->extra_slot_used[index] = false;
	if (!size)
		return 0;
	if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		return -errno;
	vm->extra_slot_used[index] = true;
	return 0;
}

static bool ranges_overlap(uint64_t a, uint64_t a_size, uint64_t b, uint64_t b_size)
{
	return a < b + b_size && b < a + a_size;
}

/* Whether [gpa, gpa+size) would collide with guest RAM or a device slot.
 * Called with device_ram_lock held. */
static bool device_ram_collides(const struct vm *vm, uint64_t gpa, uint64_t size)
{
	for (unsigned i = 0; i < vm->mem.count; i++)
		if (ranges_overlap(gpa, size, vm->mem.regions[i].gpa, vm->mem.regions[i].size))
			return true;
	for (unsigned i = 0; i < VM_DEVICE_RAM_SLOTS; i++)
		if (vm->device_ram[i].size && ranges_overlap(gpa, size, vm->device_ram[i].gpa, vm->device_ram[i].size))
			return true;
	return false;
}

static int set_device_slot(struct vm *vm, unsigned i, uint64_t gpa, uint64_t size, void *hva, bool log_dirty)
{
	struct kvm_userspace_memory_region region = {
		.slot = VM_RAM_SLOTS + i, .guest_phys_addr = gpa, .memory_size = size,
		.userspace_addr = (uintptr_t)hva, .flags = log_dirty ? KVM_MEM_LOG_DIRTY_PAGES : 0,
	};
	return ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0 ? -errno : 0;
}

int vm_map_device_ram(struct vm *vm, uint64_t gpa, uint64_t size, void *hva, bool log_dirty)
{
	if (!size || (gpa | size | (uintptr_t)hva) % VM_DIRTY_PAGE_SIZE || gpa + size < gpa)
		return -EINVAL;
	g_mutex_lock(&vm->device_ram_lock);
	int ret = device_ram_collides(vm, gpa, size) ? -EEXIST : -ENOSPC;
	for (unsigned i = 0; ret == -ENOSPC && i < VM_DEVICE_RAM_SLOTS; i++) {
		if (vm->device_ram[i].size)
			continue;
		ret = set_device_slot(vm, i, gpa, size, hva, log_dirty);
		if (ret == 0)
			vm->device_ram[i] = (struct vm_device_ram){ gpa, size, hva, log_dirty };
	}
	g_mutex_unlock(&vm->device_ram_lock);
	return ret;
}

/* The device slot mapped at gpa, or NULL. Called with device_ram_lock held. */
static struct vm_device_ram *find_device_ram(struct vm *vm, uint64_t gpa)
{
	for (unsigned i = 0; i < VM_DEVICE_RAM_SLOTS; i++)
		if (vm->device_ram[i].size && vm->device_ram[i].gpa == gpa)
			return &vm->device_ram[i];
	return NULL;
}

int vm_unmap_device_ram(struct vm *vm, uint64_t gpa)
{
	g_mutex_lock(&vm->device_ram_lock);
	struct vm_device_ram *ram = find_device_ram(vm, gpa);
	int ret = -ENOENT;
	if (ram) {
		ret = set_device_slot(vm, (unsigned)(ram - vm->device_ram), gpa, 0, ram->hva, false);
		if (ret == 0)
			ram->size = 0;
	}
	g_mutex_unlock(&vm->device_ram_lock);
	return ret;
}

/* With manual protection, KVM_GET_DIRTY_LOG only reads the bitmap; the
 * pages it names are write-protected again here, and nothing is done when
 * nothing was written (a still screen costs one cheap ioctl, not a walk
 * that write-protects the whole framebuffer). */
static int clear_dirty(struct vm *vm, uint32_t slot, uint64_t pages, unsigned long *bitmap)
{
	bool any = false;
	for (uint64_t i = 0; i < (pages + 63) / 64 && !any; i++)
		any = ((uint64_t *)bitmap)[i] != 0;
	struct kvm_clear_dirty_log clear = { .slot = slot, .num_pages = (uint32_t)pages, .first_page = 0,
					     .dirty_bitmap = bitmap };
	return !any || ioctl(vm->vm_fd, KVM_CLEAR_DIRTY_LOG, &clear) == 0 ? 0 : -errno;
}

int vm_get_dirty_log(struct vm *vm, uint64_t gpa, uint64_t size, unsigned long *bitmap)
{
	g_mutex_lock(&vm->device_ram_lock);
	struct vm_device_ram *ram = find_device_ram(vm, gpa);
	int ret = -ENOENT;
	if (ram && ram->size == size && ram->log_dirty) {
		struct kvm_dirty_log log = { .slot = VM_RAM_SLOTS + (uint32_t)(ram - vm->device_ram),
					     .dirty_bitmap = bitmap };
		ret = ioctl(vm->vm_fd, KVM_GET_DIRTY_LOG, &log) < 0 ? -errno : 0;
		if (ret == 0 && vm->manual_dirty_protect)
			ret = clear_dirty(vm, log.slot, size / VM_PAGE_SIZE, bitmap);
	}
	g_mutex_unlock(&vm->device_ram_lock);
	return ret;
}

static int setup_ram_slots(struct vm *vm, char **error)
{
	if (add_slot(vm, 0, 0, vm->low_ram_size, vm->ram, error) < 0)
		return -1;
	if (vm->ram_size > vm->low_ram_size)
		return add_slot(vm, 1, PC_HIGH_RAM_BASE, vm->ram_size - vm->low_ram_size,
				vm->ram + vm->low_ram_size, error);
	return 0;
}

static void add_irqchip_route(struct vm *vm, unsigned gsi, unsigned chip, unsigned pin)
{
	vm->routes[vm->route_count++] = (struct kvm_irq_routing_entry){
		.gsi = gsi, .type = KVM_IRQ_ROUTING_IRQCHIP, .u.irqchip = { .irqchip = chip, .pin = pin },
	};
}

/* Hands the whole table to KVM (it has no call to change one entry). */
static int commit_routes(struct vm *vm)
{
	g_autofree struct kvm_irq_routing *table =
		g_malloc0(sizeof(*table) + vm->route_count * sizeof(table->entries[0]));
	table->nr = vm->route_count;
	memcpy(table->entries, vm->routes, vm->route_count * sizeof(table->entries[0]));
	return ioctl(vm->vm_fd, KVM_SET_GSI_ROUTING, table) < 0 ? -errno : 0;
}

/* Routing as on a PC with the PIT behind IOAPIC pin 2 (the MADT and MP
 * table carry the matching IRQ0 -> GSI 2 override): GSI 0-15 reach the PIC
 * pins of the same number (except the cascade, 2), GSI n the IOAPIC pin n,
 * and GSI 0 IOAPIC pin 2. MSI routes get GSIs above the IOAPIC's. */
static int setup_gsi_routing(struct vm *vm)
{
	for (unsigned gsi = 0; gsi < 16; gsi++)
		if (gsi != 2)
			add_irqchip_route(vm, gsi, gsi < 8 ? KVM_IRQCHIP_PIC_MASTER : KVM_IRQCHIP_PIC_SLAVE, gsi % 8);
	for (unsigned gsi = 0; gsi < PC_IOAPIC_PINS; gsi++)
		if (gsi != 2)
			add_irqchip_route(vm, gsi, KVM_IRQCHIP_IOAPIC, gsi == 0 ? 2 : gsi);
	vm->next_msi_gsi = PC_IOAPIC_PINS;
	int err = commit_routes(vm);
	errno = -err;
	return err;
}

static struct kvm_irq_routing_entry msi_route(unsigned gsi, uint64_t address, uint32_t data)
{
	return (struct kvm_irq_routing_entry){
		.gsi = gsi, .type = KVM_IRQ_ROUTING_MSI,
		.u.msi = { .address_lo = (uint32_t)address, .address_hi = (uint32_t)(address >> 32), .data = data },
	};
}

int vm_add_msi_route(struct vm *vm, uint64_t address, uint32_t data)
{
	g_mutex_lock(&vm->routing_lock);
	int ret = -ENOSPC;
	if (vm->route_count < VM_MAX_ROUTES) {
		unsigned gsi = vm->next_msi_gsi;
		vm->routes[vm->route_count++] = msi_route(gsi, address, data);
		ret = commit_routes(vm);
		if (ret < 0)
			vm->route_count--;
		else
			ret = (int)vm->next_msi_gsi++;
	}
	g_mutex_unlock(&vm->routing_lock);
	return ret;
}

int vm_set_msi_route(struct vm *vm, unsigned gsi, uint64_t address, uint32_t data)
{
	g_mutex_lock(&vm->routing_lock);
	int ret = -ENOENT;
	for (unsigned i = 0; i < vm->route_count; i++) {
		if (vm->routes[i].gsi == gsi && vm->routes[i].type == KVM_IRQ_ROUTING_MSI) {
			vm->routes[i] = msi_route(gsi, address, data);
			ret = commit_routes(vm);
			break;
		}
	}
	g_mutex_unlock(&vm->routing_lock);
	return ret;
}

static int set_irqfd(struct vm *vm, int eventfd, unsigned gsi, uint32_t flags)
{
	struct kvm_irqfd irqfd = { .fd = (uint32_t)eventfd, .gsi = gsi, .flags = flags };
	return ioctl(vm->vm_fd, KVM_IRQFD, &irqfd) < 0 ? -errno : 0;
}

int vm_attach_irqfd(struct vm *vm, int eventfd, unsigned gsi)
{
	return set_irqfd(vm, eventfd, gsi, 0);
}

int vm_detach_irqfd(struct vm *vm, int eventfd, unsigned gsi)
{
	return set_irqfd(vm, eventfd, gsi, KVM_IRQFD_FLAG_DEASSIGN);
}

static int set_ioeventfd(struct vm *vm, int eventfd, uint64_t addr, unsigned len, uint32_t flags)
{
	struct kvm_ioeventfd io = { .addr = addr, .len = len, .fd = eventfd, .flags = flags };
	return ioctl(vm->vm_fd, KVM_IOEVENTFD, &io) < 0 ? -errno : 0;
}

int vm_attach_ioeventfd(struct vm *vm, int eventfd, uint64_t addr, unsigned len, bool pio)
{
	return set_ioeventfd(vm, eventfd, addr, len, pio ? KVM_IOEVENTFD_FLAG_PIO : 0);
}

int vm_detach_ioeventfd(struct vm *vm, int eventfd, uint64_t addr, unsigned len, bool pio)
{
	return set_ioeventfd(vm, eventfd, addr, len,
			     KVM_IOEVENTFD_FLAG_DEASSIGN | (pio ? KVM_IOEVENTFD_FLAG_PIO : 0));
}

static int save_reset_chips(struct vm *vm)
{
	for (unsigned chip = 0; chip < G_N_ELEMENTS(vm->reset_chips); chip++) {
		vm->reset_chips[chip].chip_id = chip;
		if (ioctl(vm->vm_fd, KVM_GET_IRQCHIP, &vm->reset_chips[chip]) < 0)
			return -1;
	}
	return ioctl(vm->vm_fd, KVM_GET_PIT2, &vm->reset_pit);
}

static int setup_irqchip(struct vm *vm, char **error)
{
	uint64_t identity_map = PC_KVM_IDENTITY_MAP_ADDR;
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY }; /* kernel owns port 0x61 */
	const char *step;

	if ((step = "KVM_SET_IDENTITY_MAP_ADDR", ioctl(vm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &identity_map) < 0) ||
	    (step = "KVM_SET_TSS_ADDR", ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, PC_KVM_TSS_ADDR) < 0) ||
	    (step = "KVM_CREATE_IRQCHIP", ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0) ||
	    (step = "KVM_CREATE_PIT2", ioctl(vm->vm_fd, KVM_CREATE_PIT2, &pit) < 0) ||
	    (step = "KVM_SET_GSI_ROUTING", setup_gsi_routing(vm) < 0) ||
	    (step = "KVM_GET_IRQCHIP", save_reset_chips(vm) < 0)) {
		*error = g_strdup_printf("%s failed: %s", step, g_strerror(errno));
		return -1;
	}
	return 0;
}

/* KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 (kvm api.rst §7.18), where the host has it. */
static void enable_manual_dirty_protect(struct vm *vm)
{
	int flags = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2);
	struct kvm_enable_cap cap = { .cap = KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2,
				      .args = { KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE } };
	vm->manual_dirty_protect = flags > 0 && (flags & KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE) &&
				   ioctl(vm->vm_fd, KVM_ENABLE_CAP, &cap) == 0;
}

int vm_create(struct vm *vm, uint64_t ram_size, char **error)
{
	memset(vm, 0, sizeof(*vm));
	vm->kvm_fd = vm->vm_fd = -1;
	g_mutex_init(&vm->routing_lock);
	g_mutex_init(&vm->device_ram_lock);
	g_mutex_init(&vm->pause_lock);
	g_mutex_init(&vm->coalesced_lock);
	g_cond_init(&vm->pause_cond);
	bus_init(&vm->pio);
	bus_init(&vm->mmio);
	vm->pio.space = "port";
	vm->mmio.space = "MMIO";

	if (open_kvm(vm, error) < 0 || map_ram(vm, ram_size, error) < 0)
		goto fail;
	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0) {
		*error = g_strdup_printf("KVM_CREATE_VM failed: %s", g_strerror(errno));
		goto fail;
	}
	enable_manual_dirty_protect(vm);
	if (setup_irqchip(vm, error) < 0 || setup_ram_slots(vm, error) < 0)
		goto fail;
	return 0;
fail:
	vm_destroy(vm);
	return -1;
}

void vm_destroy(struct vm *vm)
{
	coalesced_mmio_destroy(vm);
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	if (vm->ram)
		munmap(vm->ram, vm->ram_size);
	bus_destroy(&vm->pio);
	bus_destroy(&vm->mmio);
	g_mutex_clear(&vm->routing_lock);
	g_mutex_clear(&vm->device_ram_lock);
	g_mutex_clear(&vm->pause_lock);
	g_mutex_clear(&vm->coalesced_lock);
	g_cond_clear(&vm->pause_cond);
	vm->vm_fd = vm->kvm_fd = -1;
	vm->ram = NULL;
}

void vm_set_irq(void *opaque, unsigned gsi, bool level)
{
	struct vm *vm = opaque;
	struct kvm_irq_level irq = { .irq = gsi, .level = level };
	if (ioctl(vm->vm_fd, KVM_IRQ_LINE, &irq) < 0)
		log_limited("KVM_IRQ_LINE GSI %u %s failed: %s", gsi, level ? "high" : "low", g_strerror(errno));
}

void vm_request_stop(struct vm *vm, enum vm_stop_reason reason)
{
	int running = VM_RUNNING;
	if (atomic_compare_exchange_strong(&vm->stop_reason, &running, (int)reason) && vm->on_stop)
		vm->on_stop(vm->on_stop_opaque);
	g_mutex_lock(&vm->pause_lock);   /* parked vCPUs see the stop too */
	g_cond_broadcast(&vm->pause_cond);
	g_mutex_unlock(&vm->pause_lock);
}

int vm_reset(struct vm *vm, char **error)
{
	for (unsigned chip = 0; chip < G_N_ELEMENTS(vm->reset_chips); chip++) {
		if (ioctl(vm->vm_fd, KVM_SET_IRQCHIP, &vm->reset_chips[chip]) < 0) {
			*error = g_strdup_printf("cannot reset the interrupt controllers: %s", g_strerror(errno));
			return -1;
		}
	}
	if (ioctl(vm->vm_fd, KVM_SET_PIT2, &vm->reset_pit) < 0) {
		*error = g_strdup_printf("cannot reset the PIT: %s", g_strerror(errno));
		return -1;
	}
	atomic_store(&vm->pause_requested, false);
	vm->vcpus_parked = 0;
	atomic_store(&vm->stop_reason, VM_RUNNING);
	return 0;
}
