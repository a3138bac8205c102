/* Vireo's boot program: stage 1 and the real-mode helpers boot.c calls.
 *
 * Stage 1 is the first 512 bytes: a hard disk's MBR, or the start of an El
 * Torito no-emulation boot image. The BIOS loads it at 0000:7C00 (a CD's at
 * 07C0:0000, the same bytes) with the boot drive in DL. If the program's
 * last dword already holds PROGRAM_MAGIC, the BIOS loaded all of it (a CD
 * whose boot catalog's load size covers the program); otherwise stage 1
 * reads the remaining 512-byte sectors from LBA 1 with int 13h AH=42h.
 * Then it clears .bss and calls main() in boot.c.
 *
 * boot.c is gcc -m16 code: 32-bit code with operand-size prefixes that
 * runs in real mode with CS = DS = ES = SS = 0 and everything below 64 KiB.
 * Calls are `calll`/`retl` and the first three arguments arrive in EAX,
 * EDX, ECX (-mregparm=3); EBX, ESI, EDI, EBP are the callee's to keep. */
#include "boot.h"

	.code16
	.section .stage1, "ax"
	.globl	_start
_start:
	jmp	1f
	/* The header the test patches (it finds it by "VBP1"). */
	.ascii	"VBP1"
	.globl	data_lba
data_lba:
	.long	0		/* first sector of the data area */
	.globl	boot_drive
boot_drive:
	.byte	0		/* DL at entry (stage 1 is in memory before .bss is cleared) */
1:	cli
	xorw	%ax, %ax
	movw	%ax, %ds
	movw	%ax, %es
	movw	%ax, %ss
	movl	$STACK_TOP, %esp
	ljmp	$0, $2f		/* CS:IP 07C0:xxxx (CD) becomes 0000:7Cxx */
2:	sti
	cld
	movb	%dl, boot_drive
	cmpl	$PROGRAM_MAGIC, program_magic
	je	3f
	movw	$stage1_packet, %si
	movb	$BIOS_DISK_EXT_READ, %ah
	int	$BIOS_DISK
	jc	stage1_failed
3:	movw	$__bss_start, %di
	movw	$__bss_end, %cx
	subw	%di, %cx
	xorb	%al, %al
	rep stosb
	calll	main
stage1_failed:
	movw	$('E' | BIOS_VIDEO_TELETYPE << 8), %ax
	int	$BIOS_VIDEO
halt:	hlt
	jmp	halt

/* EDD 3.0 §7.4 (Device Address Packet): the rest of the program to 0x7E00. */
	.balign	4
stage1_packet:
	.byte	16, 0
	.word	load_sectors
	.word	0x7E00, 0
	.quad	1

	.text
/* void bios_int(uint8_t number, struct bios_regs *r): int NUMBER with the
 * registers in *r (see boot.h), which gets the registers and flags after it. */
	.globl	bios_int
bios_int:
	pushl	%ebp
	pushl	%ebx
	pushl	%esi
	pushl	%edi
	movb	%al, int_number
	pushl	%edx
	movw	REG_ES(%edx), %es
	movl	REG_EAX(%edx), %eax
	movl	REG_EBX(%edx), %ebx
	movl	REG_ECX(%edx), %ecx
	movl	REG_ESI(%edx), %esi
	movl	REG_EDI(%edx), %edi
	movl	REG_EBP(%edx), %ebp
	movl	REG_EDX(%edx), %edx
	jmp	1f		/* the int's number was just written: refetch it */
1:	.byte	0xCD		/* int imm8 */
int_number:
	.byte	0
	pushfw
	pushl	%edx
	movl	6(%esp), %edx
	movl	%eax, REG_EAX(%edx)
	movl	%ebx, REG_EBX(%edx)
	movl	%ecx, REG_ECX(%edx)
	movl	%esi, REG_ESI(%edx)
	movl	%edi, REG_EDI(%edx)
	movl	%ebp, REG_EBP(%edx)
	popl	REG_EDX(%edx)
	popw	REG_FLAGS(%edx)
	movw	%es, REG_ES(%edx)
	xorw	%ax, %ax	/* gcc's string instructions expect ES = DS = 0 */
	movw	%ax, %es
	popl	%edx
	popl	%edi
	popl	%esi
	popl	%ebx
	popl	%ebp
	retl

/* void far_read(uint32_t address, void *to, uint32_t length): copies from
 * anywhere below 1 MiB (a BIOS's far pointer) to our segment. */
	.globl	far_read
far_read:
	pushl	%esi
	pushl	%edi
	movl	%edx, %edi
	movl	%eax, %esi
	andl	$15, %esi
	shrl	$4, %eax
	movw	%ax, %fs
	rep movsb %fs:(%si), %es:(%di)
	popl	%edi
	popl	%esi
	retl

/* void lfb_fill(const struct lfb_fill *f): fills a rectangle of the linear
 * framebuffer. The LFB lies above 1 MiB, out of real mode's reach. Unreal
 * mode (4 GiB segment limits kept after a return to real mode) would not
 * last: SeaBIOS runs its disk and VGA code in 32-bit mode and comes back
 * with 64 KiB limits. So each fill is a short trip to 32-bit protected mode
 * with interrupts off, and back through a 16-bit segment (Intel SDM vol. 3
 * §9.9.2). The stack is not touched while in protected mode. */
	.globl	lfb_fill
lfb_fill:
	pushal
	movl	%eax, %esi
	cli
	lgdtl	gdt_pointer
	movl	%cr0, %eax
	orb	$CR0_PE, %al
	movl	%eax, %cr0
	ljmpl	$GDT_CODE32, $fill32
	.code32
fill32:
	movw	$GDT_DATA32, %ax
	movw	%ax, %ds
	movw	%ax, %es
	movl	FILL_ADDRESS(%esi), %edi
	movl	FILL_COLOUR(%esi), %eax
	movl	FILL_HEIGHT(%esi), %edx
fill_row:
	movl	%edi, %ebx
	movl	FILL_WIDTH(%esi), %ecx
	cmpb	$4, FILL_BYTES_PER_PIXEL(%esi)
	je	fill_dwords
	cmpb	$2, FILL_BYTES_PER_PIXEL(%esi)
	je	fill_words
fill_triples:
	stosw
	rorl	$16, %eax
	stosb
	roll	$16, %eax
	loop	fill_triples
	jmp	fill_next
fill_words:
	rep stosw
	jmp	fill_next
fill_dwords:
	rep stosl
fill_next:
	movl	%ebx, %edi
	addl	FILL_PITCH(%esi), %edi
	decl	%edx
	jnz	fill_row
	movw	$GDT_DATA16, %ax
	movw	%ax, %ds
	movw	%ax, %es
	ljmp	$GDT_CODE16, $fill16
	.code16
fill16:
	movl	%cr0, %eax
	andb	$~CR0_PE, %al
	movl	%eax, %cr0
	ljmp	$0, $fill_real
fill_real:
	xorw	%ax, %ax
	movw	%ax, %ds
	movw	%ax, %es
	sti
	popal
	retl

	.section .rodata
	.balign	8
gdt:	.quad	0
	.quad	0x00CF9A000000FFFF	/* GDT_CODE32: base 0, 4 GiB, 32-bit */
	.quad	0x00CF92000000FFFF	/* GDT_DATA32 */
	.quad	0x00009A000000FFFF	/* GDT_CODE16: base 0, 64 KiB, 16-bit */
	.quad	0x000092000000FFFF	/* GDT_DATA16 */
gdt_end:
gdt_pointer:
	.word	gdt_end - gdt - 1
	.long	gdt

	.section .note.GNU-stack, "", @progbits
