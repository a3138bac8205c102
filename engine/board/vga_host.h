/* What the standard VGA needs from KVM: VRAM (BAR0) mapped into the guest
 * as a memory slot with dirty logging wherever the guest puts the BAR, and
 * the pages written since the last refresh. The opaque is the struct vm. */
#ifndef VIREO_BOARD_VGA_HOST_H
#define VIREO_BOARD_VGA_HOST_H

#include "hw/vga.h"
#include "kvm/vm.h"

extern const struct vga_memory_ops vga_host_kvm_ops;

#endif
