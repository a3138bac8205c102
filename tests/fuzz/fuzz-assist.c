/* libFuzzer target: the instruction assist's decoder and completions on
 * random bytes and random vCPU state.
 *
 * The first input byte picks the mode (64-bit long mode with paging,
 * 32-bit protected mode, real mode) and a few control bits; the next 15
 * bytes are the instruction; the rest fills the general registers and the
 * data pages of guest RAM. A decoded instruction is never longer than 15
 * bytes nor than its input; its completion either finishes, raises an
 * exception the SDM allows, or declines; ASan/UBSan catch any access
 * outside guest RAM. */
#include <glib.h>
#include <string.h>

#include "kvm/assist.h"

#define RAM_SIZE (2u << 20)
#define PML4 0x1000u
#define PDPT 0x2000u
#define PD 0x3000u
#define PT 0x4000u
#define CODE 0x8000u
#define DATA 0x10000u
#define PTE_P 1u
#define PTE_RW 2u
#define PTE_US 4u

static uint8_t *ram;
static struct guest_mem mem;

/* The first 2 MiB mapped 1:1, some pages read-only, absent or user. */
static void build_page_tables(void)
{
	uint64_t *pml4 = (uint64_t *)(ram + PML4), *pdpt = (uint64_t *)(ram + PDPT);
	uint64_t *pd = (uint64_t *)(ram + PD), *pt = (uint64_t *)(ram + PT);
	memset(ram, 0, DATA);
	pml4[0] = PDPT | PTE_P | PTE_RW | PTE_US;
	pdpt[0] = PD | PTE_P | PTE_RW | PTE_US;
	pd[0] = PT | PTE_P | PTE_RW | PTE_US;
	for (unsigned i = 0; i < 512; i++)
		pt[i] = (uint64_t)i << 12 | (i % 7 ? PTE_P : 0) | (i % 5 ? PTE_RW : 0) | (i % 3 ? 0 : PTE_US);
	pt[CODE >> 12] = CODE | PTE_P | PTE_US;
	pt[511] = 0x80000000u | PTE_P | PTE_RW; /* not RAM */
}

static void set_mode(struct assist_cpu *cpu, uint8_t selector)
{
	struct kvm_sregs *s = &cpu->sregs;
	s->cs = (struct kvm_segment){ .type = 0xB, .present = 1, .s = 1, .limit = 0xFFFFFFFF };
	s->ds = s->es = s->ss = s->fs = s->gs =
		(struct kvm_segment){ .type = 0x3, .present = 1, .s = 1, .db = 1, .limit = 0xFFFFF };
	s->cr4 = (selector & 0x10 ? 0x200u : 0) | (selector & 0x20 ? 0x200000u : 0); /* OSFXSR, SMAP */
	s->cr0 = selector & 0x40 ? 0x8u : 0x22u; /* TS, or MP|NE */
	switch (selector & 3) {
	case 0: /* 64-bit */
		s->cs.l = 1;
		s->cr0 |= 0x80010001u; /* PG WP PE */
		s->cr3 = PML4;
		s->cr4 |= 0x20u;      /* PAE */
		s->efer = 0x500u;     /* LME LMA */
		break;
	case 1: /* 32-bit, no paging */
		s->cs.db = 1;
		s->cr0 |= 1u;
		break;
	default: /* real mode */
		break;
	}
	s->cs.selector = selector & 0x80 ? 3 : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!ram) {
		ram = g_malloc0(RAM_SIZE);
		g_assert_true(guest_mem_add(&mem, 0, RAM_SIZE, ram));
	}
	if (size < 1)
		return 0;
	build_page_tables();
	struct assist_cpu cpu = { .mem = &mem };
	set_mode(&cpu, data[0]);
	data++, size--;
	size_t code_len = size < X86_MAX_INSN_LEN ? size : X86_MAX_INSN_LEN;
	memcpy(ram + CODE, data, code_len);
	data += code_len, size -= code_len;
	size_t regs_len = size < sizeof(cpu.regs) ? size : sizeof(cpu.regs);
	memcpy(&cpu.regs, data, regs_len);
	memcpy(ram + DATA, data + regs_len, MIN(size - regs_len, (size_t)(RAM_SIZE - DATA)));
	cpu.regs.rip = CODE;
	cpu.regs.rflags = (cpu.regs.rflags & 0x40DD5u) | 0x2; /* arithmetic flags and AC; no TF or VM */

	uint8_t bytes[X86_MAX_INSN_LEN];
	size_t len = assist_fetch(&cpu, bytes);
	g_assert_cmpuint(len, ==, X86_MAX_INSN_LEN);
	struct x86_insn insn;
	if (!x86_decode(bytes, code_len, x86_code_size(&cpu.sregs, cpu.regs.rflags), &insn))
		return 0;
	g_assert_cmpuint(insn.len, >=, 1);
	g_assert_cmpuint(insn.len, <=, code_len);
	enum assist_result r = assist_complete(&cpu, &insn);
	if (r == ASSIST_FAULT) {
		static const uint8_t allowed[] = { X86_BP, X86_UD, X86_NM, X86_SS, X86_GP, X86_PF, X86_MF };
		g_assert_nonnull(memchr(allowed, cpu.exception.vector, sizeof(allowed)));
		g_assert_true(cpu.exception.vector == X86_BP || cpu.regs.rip == CODE);
	} else if (r == ASSIST_DONE) {
		g_assert_cmpuint(cpu.regs.rip, ==, CODE + insn.len);
	}
	return 0;
}
