/* Test-guest entry: the PVH note (Xen's XEN_ELFNOTE_PHYS32_ENTRY, type 18)
 * names _start, entered in 32-bit protected mode with paging off and EBX
 * holding hvm_start_info. We load our own flat GDT, a stack, and call C.
 * Also the interrupt stubs: each pushes its vector and calls isr_dispatch. */
	.section .note.pvh, "a", @note
	.balign 4
	.long 4                 /* name size: "Xen\0" */
	.long 4                 /* descriptor size */
	.long 18                /* XEN_ELFNOTE_PHYS32_ENTRY */
	.asciz "Xen"
	.long _start

	.section .text.entry, "ax"
	.code32
	.globl _start
_start:
	cli
	lgdt gdt_descriptor
	ljmp $0x08, $1f
1:	movw $0x10, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %fs
	movw %ax, %gs
	movw %ax, %ss
	movl $stack_top, %esp
	pushl %ebx
	call guest_start        /* never returns */

	.text
	.macro isr vector
	.globl isr_\vector
isr_\vector:
	pushal
	pushl $\vector
	call isr_dispatch
	addl $4, %esp
	popal
	jmp interrupt_return
	.endm

/* Returns from a same-privilege interrupt without IRET: restore EFLAGS, then
 * pop EIP and drop CS and EFLAGS. Hosts whose KVM emulates guest kernel code
 * cannot emulate a protected-mode IRET; POPF and RET can, and real CPUs
 * treat both sequences alike here (no privilege or stack switch). */
interrupt_return:
	pushl 8(%esp)           /* the saved EFLAGS */
	popfl
	ret $8

	isr 3
	.irp v, 32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47
	isr \v
	.endr

	.section .rodata
	.balign 8
gdt:
	.quad 0
	.quad 0x00CF9A000000FFFF  /* 0x08: flat 32-bit code */
	.quad 0x00CF92000000FFFF  /* 0x10: flat data */
gdt_descriptor:
	.word gdt_descriptor - gdt - 1
	.long gdt

	.section .stack, "aw", @nobits  /* outside .bss, which C clears */
	.balign 16
	.space 16384
stack_top:

	.section .note.GNU-stack, "", @progbits  /* no executable stack */
