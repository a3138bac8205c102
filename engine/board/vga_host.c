/* The VGA's memory operations on KVM device RAM slots. See vga_host.h. */
#include "vga_host.h"

#include "kvm/coalesced_mmio.h"

static int map(void *opaque, uint64_t gpa, uint64_t size, void *hva)
{
	return vm_map_device_ram(opaque, gpa, size, hva, true);
}

static void unmap(void *opaque, uint64_t gpa, uint64_t size)
{
	(void)size;
	vm_unmap_device_ram(opaque, gpa);
}

static bool fetch_dirty(void *opaque, uint64_t gpa, uint64_t size, unsigned long *bitmap)
{
	return vm_get_dirty_log(opaque, gpa, size, bitmap) == 0;
}

static void flush_writes(void *opaque)
{
	coalesced_mmio_flush(opaque);
}

const struct vga_memory_ops vga_host_kvm_ops = { map, unmap, fetch_dirty, flush_writes };
