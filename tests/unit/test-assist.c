/* The instruction assist without /dev/kvm: the decoder on byte sequences,
 * and each completed instruction on a vCPU state in 64-bit long mode with
 * its own page tables in guest RAM. Where the host CPU can run the same
 * instruction in user mode (popcnt, movd/movq, ldmxcsr/stmxcsr, fninit),
 * the assist's result is compared with the host's. */
#include <glib.h>
#include <string.h>

#include "kvm/assist.h"

#define RAM_SIZE (2u << 20)
#define PML4 0x1000u
#define PDPT 0x2000u
#define PD 0x3000u
#define PT 0x4000u
#define CODE 0x8000u        /* where the instruction under test is */
#define DATA 0x10000u       /* ordinary read/write data */
#define READ_ONLY 0x11000u  /* a page without R/W */
#define NOT_PRESENT 0x12000u
#define USER_PAGE 0x13000u  /* U/S set: SMAP applies */
#define NOT_RAM 0x14000u    /* mapped to guest-physical memory that is not RAM */
#define UNMAPPED_2M 0x200000u /* the second 2 MiB: no page table */

#define PTE_P 1u
#define PTE_RW 2u
#define PTE_US 4u
#define PTE_D 0x40u

#define CR0_PE 1u
#define CR0_MP 2u
#define CR0_EM 4u
#define CR0_TS 8u
#define CR0_NE 0x20u
#define CR0_WP 0x10000u
#define CR0_PG 0x80000000u
#define CR4_PAE 0x20u
#define CR4_OSFXSR 0x200u
#define CR4_SMAP 0x200000u
#define EFER_LME 0x100u
#define EFER_LMA 0x400u
#define RFLAGS_ARITH 0x8D5u /* OF SF ZF AF PF CF */
#define RFLAGS_ZF 0x40u
#define RFLAGS_AC 0x40000u

struct fixture {
	uint8_t *ram;
	struct guest_mem mem;
	struct assist_cpu cpu;
};

static uint64_t *entry(struct fixture *f, uint32_t table, unsigned index)
{
	return (uint64_t *)(f->ram + table + index * 8);
}

/* Long mode, CPL 0, the first 2 MiB mapped 1:1 in 4 KiB pages but for the
 * special pages named above. */
static void setup(struct fixture *f, gconstpointer data)
{
	(void)data;
	f->ram = g_malloc0(RAM_SIZE);
	memset(&f->mem, 0, sizeof(f->mem));
	g_assert_true(guest_mem_add(&f->mem, 0, RAM_SIZE, f->ram));
	*entry(f, PML4, 0) = PDPT | PTE_P | PTE_RW | PTE_US;
	*entry(f, PDPT, 0) = PD | PTE_P | PTE_RW | PTE_US;
	*entry(f, PD, 0) = PT | PTE_P | PTE_RW | PTE_US;
	for (unsigned i = 0; i < 512; i++)
		*entry(f, PT, i) = (uint64_t)i << 12 | PTE_P | PTE_RW;
	*entry(f, PT, READ_ONLY >> 12) &= ~(uint64_t)PTE_RW;
	*entry(f, PT, NOT_PRESENT >> 12) = 0;
	*entry(f, PT, USER_PAGE >> 12) |= PTE_US;
	*entry(f, PT, NOT_RAM >> 12) = 0x80000000u | PTE_P | PTE_RW;

	struct assist_cpu *cpu = &f->cpu;
	memset(cpu, 0, sizeof(*cpu));
	cpu->mem = &f->mem;
	cpu->sregs.cr0 = CR0_PE | CR0_MP | CR0_NE | CR0_WP | CR0_PG;
	cpu->sregs.cr3 = PML4;
	cpu->sregs.cr4 = CR4_PAE | CR4_OSFXSR;
	cpu->sregs.efer = EFER_LME | EFER_LMA;
	cpu->sregs.cs = (struct kvm_segment){ .selector = 0x10, .type = 0xB, .present = 1, .s = 1, .l = 1 };
	cpu->sregs.ss = (struct kvm_segment){ .selector = 0x18, .type = 0x3, .present = 1, .s = 1, .db = 1 };
	cpu->regs.rflags = 0x2;
	cpu->regs.rip = CODE;
	cpu->fpu.fcw = 0x37F;
	cpu->fpu.mxcsr = 0x1F80;
}

static void teardown(struct fixture *f, gconstpointer data)
{
	(void)data;
	g_free(f->ram);
}

/* Puts the bytes at RIP in guest RAM, and fetches, decodes and completes
 * them as the KVM glue does. */
static enum assist_result run_bytes(struct fixture *f, const char *hex)
{
	g_auto(GStrv) parts = g_strsplit(hex, " ", -1);
	guint n = g_strv_length(parts);
	for (guint i = 0; i < n; i++)
		f->ram[f->cpu.regs.rip + i] = (uint8_t)g_ascii_strtoull(parts[i], NULL, 16);
	uint8_t code[X86_MAX_INSN_LEN];
	size_t len = assist_fetch(&f->cpu, code);
	struct x86_insn insn;
	g_assert_true(x86_decode(code, len, x86_code_size(&f->cpu.sregs, f->cpu.regs.rflags), &insn));
	g_assert_cmpuint(insn.len, ==, n);
	return assist_complete(&f->cpu, &insn);
}

static void assert_fault(struct fixture *f, enum assist_result r, uint8_t vector, int error_code)
{
	g_assert_cmpint(r, ==, ASSIST_FAULT);
	g_assert_true(f->cpu.exception.raised);
	g_assert_cmpuint(f->cpu.exception.vector, ==, vector);
	g_assert_cmpint(f->cpu.exception.has_error_code, ==, error_code >= 0);
	if (error_code >= 0)
		g_assert_cmpuint(f->cpu.exception.error_code, ==, (unsigned)error_code);
	g_assert_cmphex(f->cpu.regs.rip, ==, CODE); /* a fault leaves RIP on the instruction */
}

/* User mode: CS.RPL 3, the code page user-accessible. */
static void enter_cpl3(struct fixture *f)
{
	f->cpu.sregs.cs.selector = 0x33;
	*entry(f, PT, CODE >> 12) |= PTE_US;
}

/* ---- Decoder ---- */

struct decode_case {
	const char *hex;
	unsigned code_size;
	bool ok;
	enum assist_kind kind;
	uint8_t len, opsize, reg;
	bool mem;
	uint8_t rm;
	int8_t base, index;
	uint8_t scale;
	bool rip_relative;
	int64_t disp;
};

static const struct decode_case decode_cases[] = {
	{ "cc", 8, true, ASSIST_INT3, 1, 4, 0, false, 0, -1, -1, 1, false, 0 },
	{ "9b", 4, true, ASSIST_FWAIT, 1, 4, 0, false, 0, -1, -1, 1, false, 0 },
	{ "db e3", 8, true, ASSIST_FNINIT, 2, 4, 4, false, 3, -1, -1, 1, false, 0 },
	{ "db e2", 8, false }, /* fnclex: not in the table */
	{ "0f 01 ca", 8, true, ASSIST_CLAC, 3, 4, 1, false, 2, -1, -1, 1, false, 0 },
	{ "0f 01 cb", 8, true, ASSIST_STAC, 3, 4, 1, false, 3, -1, -1, 1, false, 0 },
	{ "0f 01 cc", 8, false },
	{ "66 0f 01 ca", 8, false }, /* CLAC takes no mandatory prefix */
	/* popcnt eax, ecx; rax, rcx; ax, cx (66 with the mandatory F3) */
	{ "f3 0f b8 c1", 8, true, ASSIST_POPCNT, 4, 4, 0, false, 1, -1, -1, 1, false, 0 },
	{ "f3 48 0f b8 c1", 8, true, ASSIST_POPCNT, 5, 8, 0, false, 1, -1, -1, 1, false, 0 },
	{ "66 f3 0f b8 c1", 8, true, ASSIST_POPCNT, 5, 2, 0, false, 1, -1, -1, 1, false, 0 },
	{ "0f b8 c1", 8, false }, /* without F3: JMPE, not ours */
	/* popcnt eax, [rsp+8]: SIB with no index, disp8 */
	{ "f3 0f b8 44 24 08", 8, true, ASSIST_POPCNT, 6, 4, 0, true, 0, 4, -1, 1, false, 8 },
	/* popcnt rax, [rip+0x12345678] */
	{ "f3 48 0f b8 05 78 56 34 12", 8, true, ASSIST_POPCNT, 9, 8, 0, true, 0, -1, -1, 1, true, 0x12345678 },
	/* the same ModRM in 32-bit code: an absolute disp32 */
	{ "f3 0f b8 05 78 56 34 12", 4, true, ASSIST_POPCNT, 8, 4, 0, true, 0, -1, -1, 1, false, 0x12345678 },
	/* popcnt eax, [r12+r9*4]: REX.X and REX.B extend SIB */
	{ "f3 43 0f b8 04 8c", 8, true, ASSIST_POPCNT, 6, 4, 0, true, 0, 12, 9, 4, false, 0 },
	/* popcnt eax, [rcx*8 - 16]: SIB base 101b with mod 0 is disp32 alone */
	{ "f3 0f b8 04 cd f0 ff ff ff", 8, true, ASSIST_POPCNT, 9, 4, 0, true, 0, -1, 1, 8, false, -16 },
	{ "0f ae 55 f8", 8, true, ASSIST_LDMXCSR, 4, 4, 2, true, 0, 5, -1, 1, false, -8 },
	{ "0f ae 18", 8, true, ASSIST_STMXCSR, 3, 4, 3, true, 0, 0, -1, 1, false, 0 },
	{ "0f ae d0", 8, false }, /* register form of /2 */
	{ "f3 0f ae 10", 8, false }, /* with F3 */
	{ "67 0f ae 18", 4, false }, /* 16-bit addressing */
	/* movd xmm15, ecx (what stopped Debian's kernel); movq rax, xmm0 */
	{ "66 44 0f 6e f9", 8, true, ASSIST_MOVD_TO_XMM, 5, 4, 15, false, 1, -1, -1, 1, false, 0 },
	{ "66 48 0f 7e c0", 8, true, ASSIST_MOVD_FROM_XMM, 5, 8, 0, false, 0, -1, -1, 1, false, 0 },
	/* a REX before a legacy prefix is ignored: movd, not movq */
	{ "48 66 0f 6e c1", 8, true, ASSIST_MOVD_TO_XMM, 5, 4, 0, false, 1, -1, -1, 1, false, 0 },
	{ "0f 6e c1", 8, false },    /* MMX movd */
	{ "f3 0f 7e c1", 8, false }, /* movq xmm, xmm/m64 */
	{ "40 cc", 4, false },       /* 40 is inc eax outside 64-bit mode */
	{ "f3 0f b8", 8, false },    /* cut short before ModRM */
	{ "f3 0f b8 44 24", 8, false }, /* cut short before disp8 */
	{ "0f", 8, false },
	{ "", 8, false },
	/* 14 prefixes and the opcode make 15 bytes, the most an instruction has */
	{ "66 66 66 66 66 66 66 66 66 66 66 66 66 66 cc", 8, true, ASSIST_INT3, 15, 2, 0, false, 0, -1, -1, 1, false, 0 },
	{ "66 66 66 66 66 66 66 66 66 66 66 66 66 66 66 cc", 8, false },
};

static size_t parse_hex(const char *hex, uint8_t *out, size_t max)
{
	size_t n = 0;
	for (const char *p = hex; *p && n < max; p += (p[2] ? 3 : 2))
		out[n++] = (uint8_t)g_ascii_strtoull(p, NULL, 16);
	return n;
}

static void test_decode(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(decode_cases); i++) {
		const struct decode_case *c = &decode_cases[i];
		uint8_t bytes[32];
		size_t len = parse_hex(c->hex, bytes, sizeof(bytes));
		struct x86_insn insn;
		g_test_message("%s", c->hex);
		bool ok = x86_decode(bytes, len, c->code_size, &insn);
		g_assert_cmpint(ok, ==, c->ok);
		if (!ok)
			continue;
		g_assert_cmpint(insn.kind, ==, c->kind);
		g_assert_cmpuint(insn.len, ==, c->len);
		g_assert_cmpuint(insn.opsize, ==, c->opsize);
		g_assert_cmpuint(insn.reg, ==, c->reg);
		g_assert_cmpint(insn.mem, ==, c->mem);
		if (!insn.mem && c->len > 1)
			g_assert_cmpuint(insn.rm, ==, c->rm);
		g_assert_cmpint(insn.base, ==, c->base);
		g_assert_cmpint(insn.index, ==, c->index);
		g_assert_cmpuint(insn.scale, ==, c->scale);
		g_assert_cmpint(insn.rip_relative, ==, c->rip_relative);
		g_assert_cmpint(insn.disp, ==, c->disp);
	}
}

/* Prefixes the decoder reports: LOCK and segment overrides. */
static void test_decode_prefixes(void)
{
	struct x86_insn insn;
	const uint8_t lock_clac[] = { 0xF0, 0x0F, 0x01, 0xCA };
	g_assert_true(x86_decode(lock_clac, sizeof(lock_clac), 8, &insn));
	g_assert_true(insn.lock);
	const uint8_t gs_stmxcsr[] = { 0x65, 0x0F, 0xAE, 0x1C, 0x25, 0x00, 0x10, 0x00, 0x00 };
	g_assert_true(x86_decode(gs_stmxcsr, sizeof(gs_stmxcsr), 8, &insn));
	g_assert_cmpint(insn.seg, ==, SEG_GS);
	g_assert_false(insn.lock);
	g_assert_cmpint(insn.disp, ==, 0x1000);
}

/* ---- Host reference: the same instruction run natively in user mode ---- */

/* The asm saves and restores flags below the red zone. */
#define NATIVE_WITH_FLAGS(insn, ...)                                      \
	__asm__ volatile("sub $128, %%rsp\n\tpush %[fin]\n\tpopf\n\t" insn   \
			 "\n\tpushf\n\tpop %[fout]\n\tadd $128, %%rsp"       \
			 __VA_ARGS__ : "cc", "memory")

static void native_popcnt(unsigned size, uint64_t src, uint64_t *dst, uint64_t *flags)
{
	uint64_t fin = *flags, fout;
	if (size == 8)
		NATIVE_WITH_FLAGS("popcnt %[src], %[dst]", : [dst] "+r"(*dst), [fout] "=&r"(fout) : [src] "r"(src), [fin] "r"(fin));
	else if (size == 4)
		NATIVE_WITH_FLAGS("popcnt %k[src], %k[dst]", : [dst] "+r"(*dst), [fout] "=&r"(fout) : [src] "r"(src), [fin] "r"(fin));
	else
		NATIVE_WITH_FLAGS("popcnt %w[src], %w[dst]", : [dst] "+r"(*dst), [fout] "=&r"(fout) : [src] "r"(src), [fin] "r"(fin));
	*flags = fout;
}

static const uint64_t popcnt_values[] = {
	0, 1, 0x8000000000000001ull, 0xFFFFFFFFFFFFFFFFull, 0x00000000FFFF0000ull,
	0x123456789ABCDEF0ull, 0xFFFF0000FFFF0000ull, 0x10000ull,
};

/* popcnt rdx-sized, ecx/cx into edx/dx: the result, upper bits (32-bit
 * zero-extends, 16-bit merges) and flags, from all arithmetic flags set
 * and from all clear. */
static void test_popcnt_register(struct fixture *f, gconstpointer data)
{
	(void)data;
	static const struct { const char *hex; unsigned size; } forms[] = {
		{ "f3 48 0f b8 d1", 8 }, { "f3 0f b8 d1", 4 }, { "66 f3 0f b8 d1", 2 },
	};
	for (size_t i = 0; i < G_N_ELEMENTS(popcnt_values); i++)
		for (size_t k = 0; k < G_N_ELEMENTS(forms); k++)
			for (uint64_t flags_in = 0x202; flags_in <= 0x202 + RFLAGS_ARITH; flags_in += RFLAGS_ARITH) {
				uint64_t dst = 0xAAAAAAAAAAAAAAAAull, flags = flags_in;
				native_popcnt(forms[k].size, popcnt_values[i], &dst, &flags);
				f->cpu.regs.rip = CODE;
				f->cpu.regs.rcx = popcnt_values[i];
				f->cpu.regs.rdx = 0xAAAAAAAAAAAAAAAAull;
				f->cpu.regs.rflags = flags_in;
				g_assert_cmpint(run_bytes(f, forms[k].hex), ==, ASSIST_DONE);
				g_assert_cmphex(f->cpu.regs.rdx, ==, dst);
				g_assert_cmphex(f->cpu.regs.rflags, ==, flags);
				g_assert_cmphex(f->cpu.regs.rip, ==, CODE + (forms[k].size == 4 ? 4 : 5));
			}
}

/* popcnt rax, [rbx+rsi*2+8] from RAM, against the host. */
static void test_popcnt_memory(struct fixture *f, gconstpointer data)
{
	(void)data;
	for (size_t i = 0; i < G_N_ELEMENTS(popcnt_values); i++) {
		uint64_t dst = 0, flags = 0x202;
		native_popcnt(8, popcnt_values[i], &dst, &flags);
		memcpy(f->ram + DATA + 0x48, &popcnt_values[i], 8);
		f->cpu.regs.rip = CODE;
		f->cpu.regs.rbx = DATA;
		f->cpu.regs.rsi = 0x20;
		f->cpu.regs.rflags = 0x202;
		g_assert_cmpint(run_bytes(f, "f3 48 0f b8 44 73 08"), ==, ASSIST_DONE);
		g_assert_cmphex(f->cpu.regs.rax, ==, dst);
		g_assert_cmphex(f->cpu.regs.rflags, ==, flags);
	}
}

/* The instruction's bytes may cross a page; the walk follows both. */
static void test_fetch_across_pages(struct fixture *f, gconstpointer data)
{
	(void)data;
	f->cpu.regs.rip = DATA - 2;
	f->cpu.regs.rcx = 0xF0;
	g_assert_cmpint(run_bytes(f, "f3 0f b8 c1"), ==, ASSIST_DONE);
	g_assert_cmpuint(f->cpu.regs.rax, ==, 4);
	g_assert_cmphex(f->cpu.regs.rip, ==, DATA + 2);
}

/* ---- Memory operand faults ---- */

/* popcnt eax, [rbx] with rbx at the given address. */
static enum assist_result popcnt_at(struct fixture *f, uint64_t address)
{
	f->cpu.regs.rbx = address;
	return run_bytes(f, "f3 0f b8 03");
}

/* stmxcsr [rbx] */
static enum assist_result stmxcsr_at(struct fixture *f, uint64_t address)
{
	f->cpu.regs.rbx = address;
	return run_bytes(f, "0f ae 1b");
}

static void test_fault_not_present(struct fixture *f, gconstpointer data)
{
	(void)data;
	assert_fault(f, popcnt_at(f, NOT_PRESENT + 8), X86_PF, 0);
	g_assert_cmphex(f->cpu.exception.cr2, ==, NOT_PRESENT + 8);
	assert_fault(f, stmxcsr_at(f, UNMAPPED_2M + 4), X86_PF, 2); /* W, not present */
	g_assert_cmphex(f->cpu.exception.cr2, ==, UNMAPPED_2M + 4);
}

/* A write to a read-only page: #PF (P|W) with CR0.WP; allowed without it
 * (SDM vol. 3A, 4.6.1). The leaf entry's dirty bit is set by the write. */
static void test_fault_read_only(struct fixture *f, gconstpointer data)
{
	(void)data;
	assert_fault(f, stmxcsr_at(f, READ_ONLY), X86_PF, 3);
	g_assert_cmpuint(*(uint32_t *)(f->ram + READ_ONLY), ==, 0);
	g_assert_cmpint(popcnt_at(f, READ_ONLY), ==, ASSIST_DONE);
	f->cpu.regs.rip = CODE;
	f->cpu.sregs.cr0 &= ~(uint64_t)CR0_WP;
	g_assert_false(*entry(f, PT, READ_ONLY >> 12) & PTE_D);
	g_assert_cmpint(stmxcsr_at(f, READ_ONLY), ==, ASSIST_DONE);
	g_assert_cmphex(*(uint32_t *)(f->ram + READ_ONLY), ==, 0x1F80);
	g_assert_true(*entry(f, PT, READ_ONLY >> 12) & PTE_D);
}

/* A store across a page boundary whose second page faults writes nothing. */
static void test_fault_second_page(struct fixture *f, gconstpointer data)
{
	(void)data;
	memset(f->ram + READ_ONLY - 2, 0x55, 2);
	assert_fault(f, stmxcsr_at(f, READ_ONLY - 2), X86_PF, 3);
	g_assert_cmphex(f->cpu.exception.cr2, ==, READ_ONLY);
	g_assert_cmphex(f->ram[READ_ONLY - 2], ==, 0x55);
	g_assert_cmphex(f->ram[READ_ONLY - 1], ==, 0x55);
}

/* SMAP: a kernel access to a user page faults unless EFLAGS.AC is set. */
static void test_smap(struct fixture *f, gconstpointer data)
{
	(void)data;
	g_assert_cmpint(popcnt_at(f, USER_PAGE), ==, ASSIST_DONE); /* without CR4.SMAP */
	f->cpu.regs.rip = CODE;
	f->cpu.sregs.cr4 |= CR4_SMAP;
	assert_fault(f, popcnt_at(f, USER_PAGE), X86_PF, 1);
	f->cpu.regs.rflags |= RFLAGS_AC;
	g_assert_cmpint(popcnt_at(f, USER_PAGE), ==, ASSIST_DONE);
}

/* Guest-physical memory that is not RAM, non-canonical addresses (#GP(0),
 * #SS(0) through rSP/rBP). */
static void test_fault_bad_address(struct fixture *f, gconstpointer data)
{
	(void)data;
	assert_fault(f, popcnt_at(f, NOT_RAM), X86_GP, 0);
	assert_fault(f, stmxcsr_at(f, 0x0000800000000000ull), X86_GP, 0);
	f->cpu.regs.rbp = 0x8000000000000000ull;
	assert_fault(f, run_bytes(f, "0f ae 5d 00"), X86_SS, 0); /* stmxcsr [rbp+0] */
}

/* ---- Each instruction's own rules ---- */

static void test_lock_is_ud(struct fixture *f, gconstpointer data)
{
	(void)data;
	static const char *const locked[] = { "f0 0f 01 ca", "f0 f3 0f b8 c1", "f0 cc", "f0 0f ae 18", "f0 66 0f 6e c1" };
	for (size_t i = 0; i < G_N_ELEMENTS(locked); i++) {
		f->cpu.regs.rax = DATA;
		assert_fault(f, run_bytes(f, locked[i]), X86_UD, -1);
	}
}

/* INT3 at CPL 0: #BP with RIP past the instruction (a trap). */
static void test_int3(struct fixture *f, gconstpointer data)
{
	(void)data;
	g_assert_cmpint(run_bytes(f, "cc"), ==, ASSIST_FAULT);
	g_assert_cmpuint(f->cpu.exception.vector, ==, X86_BP);
	g_assert_false(f->cpu.exception.has_error_code);
	g_assert_cmphex(f->cpu.regs.rip, ==, CODE + 1);
	f->cpu.regs.rip = CODE;
	enter_cpl3(f);
	g_assert_cmpint(run_bytes(f, "cc"), ==, ASSIST_UNSUPPORTED);
}

static void test_clac_stac(struct fixture *f, gconstpointer data)
{
	(void)data;
	g_assert_cmpint(run_bytes(f, "0f 01 cb"), ==, ASSIST_DONE);
	g_assert_cmphex(f->cpu.regs.rflags, ==, 0x2 | RFLAGS_AC);
	g_assert_cmphex(f->cpu.regs.rip, ==, CODE + 3);
	f->cpu.regs.rip = CODE;
	g_assert_cmpint(run_bytes(f, "0f 01 ca"), ==, ASSIST_DONE);
	g_assert_cmphex(f->cpu.regs.rflags, ==, 0x2);
	f->cpu.regs.rip = CODE;
	enter_cpl3(f);
	assert_fault(f, run_bytes(f, "0f 01 cb"), X86_UD, -1);
	g_assert_cmphex(f->cpu.regs.rflags, ==, 0x2);
}

static void test_fwait(struct fixture *f, gconstpointer data)
{
	(void)data;
	g_assert_cmpint(run_bytes(f, "9b"), ==, ASSIST_DONE);
	g_assert_cmphex(f->cpu.regs.rip, ==, CODE + 1);
	f->cpu.regs.rip = CODE;
	f->cpu.fpu.fsw = 0x80 | 0x1; /* ES with an unmasked invalid operation */
	f->cpu.fpu.fcw = 0x37E;
	assert_fault(f, run_bytes(f, "9b"), X86_MF, -1);
	f->cpu.sregs.cr0 |= CR0_TS;
	assert_fault(f, run_bytes(f, "9b"), X86_NM, -1);
}

static void test_fninit(struct fixture *f, gconstpointer data)
{
	(void)data;
	uint16_t fcw, fsw;
	__asm__ volatile("fninit\n\tfnstcw %0\n\tfnstsw %1" : "=m"(fcw), "=m"(fsw));
	f->cpu.fpu.fcw = 0x27F;
	f->cpu.fpu.fsw = 0x3881;
	f->cpu.fpu.ftwx = 0xFF;
	f->cpu.fpu.last_ip = 0x1234;
	f->cpu.fpu.last_dp = 0x5678;
	f->cpu.fpu.last_opcode = 0x55;
	g_assert_cmpint(run_bytes(f, "db e3"), ==, ASSIST_DONE);
	g_assert_cmphex(f->cpu.fpu.fcw, ==, fcw);
	g_assert_cmphex(f->cpu.fpu.fsw, ==, fsw);
	g_assert_cmphex(f->cpu.fpu.ftwx, ==, 0);
	g_assert_cmphex(f->cpu.fpu.last_ip | f->cpu.fpu.last_dp | f->cpu.fpu.last_opcode, ==, 0);
	f->cpu.regs.rip = CODE;
	f->cpu.sregs.cr0 |= CR0_EM;
	assert_fault(f, run_bytes(f, "db e3"), X86_NM, -1);
}

static uint32_t native_mxcsr_round_trip(uint32_t value)
{
	uint32_t saved, out;
	__asm__ volatile("stmxcsr %0\n\tldmxcsr %2\n\tstmxcsr %1\n\tldmxcsr %0"
			 : "=m"(saved), "=m"(out) : "m"(value));
	return out;
}

/* ldmxcsr then stmxcsr gives what the host gives; reserved bits are
 * #GP(0) and leave MXCSR alone; SSE off is #UD, CR0.TS #NM. */
static void test_mxcsr(struct fixture *f, gconstpointer data)
{
	(void)data;
	static const uint32_t values[] = { 0x1F80, 0x0000, 0xFFFF, 0x7F40, 0x9FC0 };
	for (size_t i = 0; i < G_N_ELEMENTS(values); i++) {
		*(uint32_t *)(f->ram + DATA) = values[i];
		f->cpu.regs.rip = CODE;
		f->cpu.regs.rbx = DATA;
		g_assert_cmpint(run_bytes(f, "0f ae 13"), ==, ASSIST_DONE); /* ldmxcsr [rbx] */
		f->cpu.regs.rip = CODE;
		g_assert_cmpint(stmxcsr_at(f, DATA + 4), ==, ASSIST_DONE);
		g_assert_cmphex(*(uint32_t *)(f->ram + DATA + 4), ==, native_mxcsr_round_trip(values[i]));
	}
	f->cpu.regs.rip = CODE;
	f->cpu.fpu.mxcsr = 0x1F80;
	*(uint32_t *)(f->ram + DATA) = 0x10000;
	f->cpu.regs.rbx = DATA;
	assert_fault(f, run_bytes(f, "0f ae 13"), X86_GP, 0);
	g_assert_cmphex(f->cpu.fpu.mxcsr, ==, 0x1F80);
	f->cpu.sregs.cr0 |= CR0_TS;
	assert_fault(f, stmxcsr_at(f, DATA), X86_NM, -1);
	f->cpu.sregs.cr4 &= ~(uint64_t)CR4_OSFXSR;
	assert_fault(f, stmxcsr_at(f, DATA), X86_UD, -1);
}

/* The MXCSR mask the assist assumes is this host's (FXSAVE offset 28). */
static void test_mxcsr_mask(void)
{
	uint8_t area[512] __attribute__((aligned(16))) = { 0 };
	__asm__ volatile("fxsave %0" : "=m"(area));
	uint32_t mask = *(uint32_t *)(area + 28);
	g_assert_cmphex(mask ? mask : 0xFFBF, ==, 0xFFFF); /* 0 means 0xFFBF, no DAZ (vol. 1, 11.6.6) */
}

static const uint8_t xmm_garbage[16] = {
	0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xAA, 0xBB, 0xCC, 0xDD, 0xEE, 0xFF, 0x01,
};

/* movd/movq xmm1, rcx/ecx and back into rax/eax, on the host CPU. */
static void native_movd(unsigned size, uint64_t gpr_in, uint8_t xmm_out[16], uint64_t *gpr_out)
{
	uint64_t out = 0xAAAAAAAAAAAAAAAAull;
	if (size == 8)
		__asm__ volatile("movdqu %2, %%xmm1\n\tmovq %3, %%xmm1\n\tmovdqu %%xmm1, %0\n\tmovq %%xmm1, %1"
				 : "=m"(*(uint8_t(*)[16])xmm_out), "+r"(out) : "m"(xmm_garbage), "r"(gpr_in) : "xmm1");
	else
		__asm__ volatile("movdqu %2, %%xmm1\n\tmovd %k3, %%xmm1\n\tmovdqu %%xmm1, %0\n\tmovd %%xmm1, %k1"
				 : "=m"(*(uint8_t(*)[16])xmm_out), "+r"(out) : "m"(xmm_garbage), "r"(gpr_in) : "xmm1");
	*gpr_out = out;
}

static void test_movd(struct fixture *f, gconstpointer data)
{
	(void)data;
	static const struct { const char *to_xmm, *from_xmm; unsigned size; } forms[] = {
		{ "66 0f 6e c9", "66 0f 7e c8", 4 },       /* movd xmm1, ecx; movd eax, xmm1 */
		{ "66 48 0f 6e c9", "66 48 0f 7e c8", 8 }, /* movq xmm1, rcx; movq rax, xmm1 */
	};
	for (size_t k = 0; k < G_N_ELEMENTS(forms); k++) {
		uint8_t xmm[16];
		uint64_t rax;
		native_movd(forms[k].size, 0xFEDCBA9876543210ull, xmm, &rax);
		memcpy(f->cpu.fpu.xmm[1], xmm_garbage, 16);
		f->cpu.regs.rip = CODE;
		f->cpu.regs.rcx = 0xFEDCBA9876543210ull;
		f->cpu.regs.rax = 0xAAAAAAAAAAAAAAAAull;
		g_assert_cmpint(run_bytes(f, forms[k].to_xmm), ==, ASSIST_DONE);
		g_assert_cmpmem(f->cpu.fpu.xmm[1], 16, xmm, 16);
		f->cpu.regs.rip = CODE;
		g_assert_cmpint(run_bytes(f, forms[k].from_xmm), ==, ASSIST_DONE);
		g_assert_cmphex(f->cpu.regs.rax, ==, rax);
	}
}

/* movd xmm15, [rbx] and movq [rbx+8], xmm15 through memory. */
static void test_movd_memory(struct fixture *f, gconstpointer data)
{
	(void)data;
	*(uint32_t *)(f->ram + DATA) = 0xCAFEF00D;
	memcpy(f->cpu.fpu.xmm[15], xmm_garbage, 16);
	f->cpu.regs.rbx = DATA;
	g_assert_cmpint(run_bytes(f, "66 44 0f 6e 3b"), ==, ASSIST_DONE);
	const uint8_t expected[16] = { 0x0D, 0xF0, 0xFE, 0xCA };
	g_assert_cmpmem(f->cpu.fpu.xmm[15], 16, expected, 16);
	f->cpu.regs.rip = CODE;
	g_assert_cmpint(run_bytes(f, "66 4c 0f 7e 7b 08"), ==, ASSIST_DONE);
	g_assert_cmphex(*(uint64_t *)(f->ram + DATA + 8), ==, 0xCAFEF00D);
	f->cpu.regs.rip = CODE;
	f->cpu.sregs.cr0 |= CR0_TS;
	assert_fault(f, run_bytes(f, "66 44 0f 6e 3b"), X86_NM, -1);
}

/* 32-bit protected mode without paging: segment base and limit apply. */
static void test_protected_mode_segments(struct fixture *f, gconstpointer data)
{
	(void)data;
	struct kvm_sregs *s = &f->cpu.sregs;
	s->cr0 = CR0_PE | CR0_NE;
	s->efer = 0;
	s->cs = (struct kvm_segment){ .type = 0xB, .present = 1, .s = 1, .db = 1, .limit = 0xFFFFFFFF };
	s->ds = (struct kvm_segment){ .base = DATA, .type = 0x3, .present = 1, .s = 1, .db = 1, .limit = 0xFFF };
	f->cpu.regs.rbx = 0x10;
	g_assert_cmpint(run_bytes(f, "0f ae 1b"), ==, ASSIST_DONE);
	g_assert_cmphex(*(uint32_t *)(f->ram + DATA + 0x10), ==, 0x1F80);
	f->cpu.regs.rip = CODE;
	f->cpu.regs.rbx = 0xFFD; /* the last byte past the limit */
	assert_fault(f, run_bytes(f, "0f ae 1b"), X86_GP, 0);
	s->ds.type = 0x1; /* read-only data */
	f->cpu.regs.rbx = 0x10;
	assert_fault(f, run_bytes(f, "0f ae 1b"), X86_GP, 0);
}

#define FIXTURE_TEST(path, fn) g_test_add(path, struct fixture, NULL, setup, fn, teardown)

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/assist/decode", test_decode);
	g_test_add_func("/assist/decode-prefixes", test_decode_prefixes);
	FIXTURE_TEST("/assist/popcnt-register", test_popcnt_register);
	FIXTURE_TEST("/assist/popcnt-memory", test_popcnt_memory);
	FIXTURE_TEST("/assist/fetch-across-pages", test_fetch_across_pages);
	FIXTURE_TEST("/assist/fault-not-present", test_fault_not_present);
	FIXTURE_TEST("/assist/fault-read-only", test_fault_read_only);
	FIXTURE_TEST("/assist/fault-second-page", test_fault_second_page);
	FIXTURE_TEST("/assist/smap", test_smap);
	FIXTURE_TEST("/assist/fault-bad-address", test_fault_bad_address);
	FIXTURE_TEST("/assist/lock-is-ud", test_lock_is_ud);
	FIXTURE_TEST("/assist/int3", test_int3);
	FIXTURE_TEST("/assist/clac-stac", test_clac_stac);
	FIXTURE_TEST("/assist/fwait", test_fwait);
	FIXTURE_TEST("/assist/fninit", test_fninit);
	FIXTURE_TEST("/assist/mxcsr", test_mxcsr);
	g_test_add_func("/assist/mxcsr-mask", test_mxcsr_mask);
	FIXTURE_TEST("/assist/movd", test_movd);
	FIXTURE_TEST("/assist/movd-memory", test_movd_memory);
	FIXTURE_TEST("/assist/protected-mode-segments", test_protected_mode_segments);
	return g_test_run();
}
