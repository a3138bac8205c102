/* Instruction assist: decoder, guest page walk, completions. See assist.h. */
#include "assist.h"

#include <string.h>

/* Control and flag bits (SDM vol. 3A, 2.5 "Control Registers", 2.2.1 EFER;
 * vol. 1, 3.4.3 EFLAGS). */
#define CR0_PE (1ull << 0)
#define CR0_MP (1ull << 1)
#define CR0_EM (1ull << 2)
#define CR0_TS (1ull << 3)
#define CR0_NE (1ull << 5)
#define CR0_WP (1ull << 16)
#define CR0_PG (1ull << 31)
#define CR4_PSE (1ull << 4)
#define CR4_PAE (1ull << 5)
#define CR4_OSFXSR (1ull << 9)
#define CR4_LA57 (1ull << 12)
#define CR4_SMEP (1ull << 20)
#define CR4_SMAP (1ull << 21)
#define EFER_NXE (1ull << 11)
#define EFER_LMA (1ull << 10)
#define RFLAGS_CF (1ull << 0)
#define RFLAGS_PF (1ull << 2)
#define RFLAGS_AF (1ull << 4)
#define RFLAGS_ZF (1ull << 6)
#define RFLAGS_SF (1ull << 7)
#define RFLAGS_TF (1ull << 8)
#define RFLAGS_OF (1ull << 11)
#define RFLAGS_RF (1ull << 16)
#define RFLAGS_VM (1ull << 17)
#define RFLAGS_AC (1ull << 18)

/* Paging-structure entries (SDM vol. 3A, 4.5 tables 4-14 to 4-20). */
#define PTE_P (1ull << 0)
#define PTE_RW (1ull << 1)
#define PTE_US (1ull << 2)
#define PTE_A (1ull << 5)
#define PTE_D (1ull << 6)
#define PTE_PS (1ull << 7)
#define PTE_XD (1ull << 63)
#define PTE_ADDR 0x000FFFFFFFFFF000ull
#define PAGE_SIZE 4096u

/* #PF error code (SDM vol. 3A, 4.7). */
#define PFEC_P (1u << 0)
#define PFEC_W (1u << 1)
#define PFEC_U (1u << 2)
#define PFEC_I (1u << 4)

#define X87_FSW_ES (1u << 7)     /* vol. 1, 8.1.3: exception summary */
#define X87_FCW_INIT 0x037F      /* vol. 2A, FINIT/FNINIT */
#define MXCSR_MASK 0x0000FFFFu   /* vol. 1, 11.6.6: bits a CPU with DAZ accepts */

static const char *const kind_names[ASSIST_KINDS] = {
	[ASSIST_INT3] = "int3", [ASSIST_POPCNT] = "popcnt",
	[ASSIST_CLAC] = "clac", [ASSIST_STAC] = "stac",
	[ASSIST_FWAIT] = "fwait", [ASSIST_FNINIT] = "fninit",
	[ASSIST_LDMXCSR] = "ldmxcsr", [ASSIST_STMXCSR] = "stmxcsr",
	[ASSIST_MOVD_TO_XMM] = "movd-to-xmm", [ASSIST_MOVD_FROM_XMM] = "movd-from-xmm",
};

const char *assist_kind_name(enum assist_kind kind)
{
	return kind < ASSIST_KINDS ? kind_names[kind] : "?";
}

bool assist_needs_fpu(enum assist_kind kind)
{
	return kind == ASSIST_FWAIT || kind == ASSIST_FNINIT || kind == ASSIST_LDMXCSR ||
	       kind == ASSIST_STMXCSR || kind == ASSIST_MOVD_TO_XMM || kind == ASSIST_MOVD_FROM_XMM;
}

/* ---- Decoder (SDM vol. 2A, chapter 2 "Instruction Format") ---- */

enum opcode_map { MAP_1BYTE, MAP_0F, MAP_0F38, MAP_0F3A };
/* The mandatory prefix an SSE-era opcode needs (vol. 2A, 2.1.2). */
enum simd_prefix { PFX_NONE, PFX_66, PFX_F3, PFX_F2, PFX_ANY };
enum modrm_form {
	MODRM_NONE,      /* no ModRM byte */
	MODRM_R,         /* /r: any register or memory operand */
	MODRM_MEM_DIGIT, /* /digit with a memory operand only */
	MODRM_BYTE,      /* one exact ModRM byte (0F 01 CA) */
};

struct x86_form {
	uint8_t map, opcode;
	uint8_t prefix;   /* enum simd_prefix */
	uint8_t modrm;    /* enum modrm_form */
	uint8_t arg;      /* MODRM_MEM_DIGIT: the digit; MODRM_BYTE: the byte */
	enum assist_kind kind;
};

static const struct x86_form forms[] = {
	{ MAP_1BYTE, 0xCC, PFX_ANY, MODRM_NONE, 0, ASSIST_INT3 },           /* vol. 2A, INT3 */
	{ MAP_1BYTE, 0x9B, PFX_ANY, MODRM_NONE, 0, ASSIST_FWAIT },          /* vol. 2B, WAIT/FWAIT */
	{ MAP_1BYTE, 0xDB, PFX_ANY, MODRM_BYTE, 0xE3, ASSIST_FNINIT },      /* vol. 2A, FINIT/FNINIT */
	{ MAP_0F, 0x01, PFX_NONE, MODRM_BYTE, 0xCA, ASSIST_CLAC },          /* vol. 2A, CLAC */
	{ MAP_0F, 0x01, PFX_NONE, MODRM_BYTE, 0xCB, ASSIST_STAC },          /* vol. 2B, STAC */
	{ MAP_0F, 0xB8, PFX_F3, MODRM_R, 0, ASSIST_POPCNT },                /* vol. 2B, POPCNT */
	{ MAP_0F, 0xAE, PFX_NONE, MODRM_MEM_DIGIT, 2, ASSIST_LDMXCSR },     /* vol. 2A, LDMXCSR */
	{ MAP_0F, 0xAE, PFX_NONE, MODRM_MEM_DIGIT, 3, ASSIST_STMXCSR },     /* vol. 2B, STMXCSR */
	{ MAP_0F, 0x6E, PFX_66, MODRM_R, 0, ASSIST_MOVD_TO_XMM },           /* vol. 2B, MOVD/MOVQ */
	{ MAP_0F, 0x7E, PFX_66, MODRM_R, 0, ASSIST_MOVD_FROM_XMM },         /* vol. 2B, MOVD/MOVQ */
};

/* Legacy prefixes and REX as read (vol. 2A, 2.1.1 and 2.2.1). */
struct prefixes {
	bool lock, opsize, addrsize;
	uint8_t rep;   /* the last F2 or F3, 0 if none */
	uint8_t rex;   /* 0 if none */
	enum x86_seg seg;
};

#define REX_W 8
#define REX_R 4
#define REX_X 2
#define REX_B 1

/* Reads one legacy prefix; false when b is not one. */
static bool legacy_prefix(uint8_t b, struct prefixes *p)
{
	switch (b) {
	case 0xF0: p->lock = true; return true;
	case 0xF2: case 0xF3: p->rep = b; return true;
	case 0x66: p->opsize = true; return true;
	case 0x67: p->addrsize = true; return true;
	case 0x26: p->seg = SEG_ES; return true;
	case 0x2E: p->seg = SEG_CS; return true;
	case 0x36: p->seg = SEG_SS; return true;
	case 0x3E: p->seg = SEG_DS; return true;
	case 0x64: p->seg = SEG_FS; return true;
	case 0x65: p->seg = SEG_GS; return true;
	default: return false;
	}
}

/* The cursor over the instruction's bytes; every read is bounded by both
 * the bytes we have and the architectural 15-byte limit. */
struct cursor {
	const uint8_t *bytes;
	size_t len, pos;
};

static bool next_byte(struct cursor *c, uint8_t *b)
{
	if (c->pos >= c->len || c->pos >= X86_MAX_INSN_LEN)
		return false;
	*b = c->bytes[c->pos++];
	return true;
}

static bool next_disp(struct cursor *c, unsigned size, int64_t *disp)
{
	uint32_t v = 0;
	for (unsigned i = 0; i < size; i++) {
		uint8_t b;
		if (!next_byte(c, &b))
			return false;
		v |= (uint32_t)b << (8 * i);
	}
	*disp = size == 1 ? (int8_t)v : (int32_t)v;
	return true;
}

static enum simd_prefix simd_prefix(const struct prefixes *p)
{
	if (p->rep)  /* F2/F3 select the opcode over 66 (vol. 2A, 2.1.2) */
		return p->rep == 0xF3 ? PFX_F3 : PFX_F2;
	return p->opsize ? PFX_66 : PFX_NONE;
}

static const struct x86_form *find_form(uint8_t map, uint8_t opcode, enum simd_prefix prefix,
					const struct cursor *c)
{
	bool have_modrm = c->pos < c->len && c->pos < X86_MAX_INSN_LEN;
	uint8_t modrm = have_modrm ? c->bytes[c->pos] : 0;
	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		const struct x86_form *f = &forms[i];
		if (f->map != map || f->opcode != opcode || (f->prefix != PFX_ANY && f->prefix != prefix))
			continue;
		if (f->modrm == MODRM_NONE || f->modrm == MODRM_R)
			return f;
		if (!have_modrm)
			return NULL;
		if (f->modrm == MODRM_BYTE && modrm == f->arg)
			return f;
		if (f->modrm == MODRM_MEM_DIGIT && (modrm >> 6) != 3 && ((modrm >> 3) & 7) == f->arg)
			return f;
	}
	return NULL;
}

/* The memory operand of a ModRM byte with 32/64-bit addressing
 * (vol. 2A, 2.1.5 tables 2-2 and 2-3, 2.2.1.6 RIP-relative). */
static bool decode_memory(struct cursor *c, uint8_t mod, uint8_t rm, const struct prefixes *p,
			  unsigned code_size, struct x86_insn *insn)
{
	insn->base = -1, insn->index = -1, insn->scale = 1;
	unsigned disp_size = mod == 1 ? 1 : mod == 2 ? 4 : 0;
	if (rm == 4) {
		uint8_t sib;
		if (!next_byte(c, &sib))
			return false;
		uint8_t index = ((sib >> 3) & 7) | (p->rex & REX_X ? 8 : 0);
		uint8_t base = (sib & 7) | (p->rex & REX_B ? 8 : 0);
		insn->scale = (uint8_t)(1u << (sib >> 6));
		insn->index = index == 4 ? -1 : (int8_t)index;  /* 100b without REX.X: none */
		if ((sib & 7) == 5 && mod == 0)
			disp_size = 4;                            /* disp32, no base */
		else
			insn->base = (int8_t)base;
	} else if (rm == 5 && mod == 0) {
		disp_size = 4;
		insn->rip_relative = code_size == 8;
	} else {
		insn->base = (int8_t)(rm | (p->rex & REX_B ? 8 : 0));
	}
	return disp_size == 0 || next_disp(c, disp_size, &insn->disp);
}

static bool decode_modrm(struct cursor *c, const struct prefixes *p, unsigned code_size,
			 struct x86_insn *insn)
{
	uint8_t modrm;
	if (!next_byte(c, &modrm))
		return false;
	uint8_t mod = modrm >> 6, rm = modrm & 7;
	insn->reg = ((modrm >> 3) & 7) | (p->rex & REX_R ? 8 : 0);
	if (mod == 3) {
		insn->rm = rm | (p->rex & REX_B ? 8 : 0);
		return true;
	}
	insn->mem = true;
	if (insn->addrsize == 2)
		return false; /* 16-bit addressing: nothing we complete uses it */
	return decode_memory(c, mod, rm, p, code_size, insn);
}

static uint8_t operand_size(const struct prefixes *p, const struct x86_form *f, unsigned code_size)
{
	if (p->rex & REX_W)
		return 8;
	bool alternate = p->opsize && f->prefix != PFX_66; /* a mandatory 66 is not a size */
	if (code_size == 2)
		return alternate ? 4 : 2;
	return alternate ? 2 : 4;
}

static uint8_t address_size(const struct prefixes *p, unsigned code_size)
{
	if (code_size == 8)
		return p->addrsize ? 4 : 8;
	if (code_size == 4)
		return p->addrsize ? 2 : 4;
	return p->addrsize ? 4 : 2;
}

bool x86_decode(const uint8_t *bytes, size_t len, unsigned code_size, struct x86_insn *insn)
{
	struct cursor c = { bytes, len, 0 };
	struct prefixes p = { .seg = SEG_NONE };
	uint8_t b;
	for (;;) {
		if (!next_byte(&c, &b))
			return false;
		if (legacy_prefix(b, &p))
			p.rex = 0;  /* a REX not right before the opcode is ignored */
		else if (code_size == 8 && (b & 0xF0) == 0x40)
			p.rex = b;
		else
			break;
	}
	uint8_t map = MAP_1BYTE;
	if (b == 0x0F) {
		map = MAP_0F;
		if (!next_byte(&c, &b))
			return false;
		if (b == 0x38 || b == 0x3A) {
			map = b == 0x38 ? MAP_0F38 : MAP_0F3A;
			if (!next_byte(&c, &b))
				return false;
		}
	}
	const struct x86_form *f = find_form(map, b, simd_prefix(&p), &c);
	if (!f)
		return false;
	*insn = (struct x86_insn){
		.kind = f->kind, .lock = p.lock, .seg = p.seg,
		.opsize = operand_size(&p, f, code_size), .addrsize = address_size(&p, code_size),
		.base = -1, .index = -1, .scale = 1,
	};
	if (f->modrm != MODRM_NONE && !decode_modrm(&c, &p, code_size, insn))
		return false;
	insn->len = (uint8_t)c.pos;
	return true;
}

unsigned x86_code_size(const struct kvm_sregs *sregs, uint64_t rflags)
{
	if ((sregs->efer & EFER_LMA) && sregs->cs.l)
		return 8;
	if (!(sregs->cr0 & CR0_PE) || (rflags & RFLAGS_VM))
		return 2;
	return sregs->cs.db ? 4 : 2;
}

/* ---- Faults ---- */

static enum assist_result raise_code(struct assist_cpu *cpu, uint8_t vector, uint32_t error_code)
{
	cpu->exception = (struct assist_exception){
		.raised = true, .vector = vector, .has_error_code = true, .error_code = error_code,
	};
	return ASSIST_FAULT;
}

static enum assist_result raise(struct assist_cpu *cpu, uint8_t vector)
{
	cpu->exception = (struct assist_exception){ .raised = true, .vector = vector };
	return ASSIST_FAULT;
}

static enum assist_result raise_pf(struct assist_cpu *cpu, uint64_t linear, uint32_t error_code)
{
	raise_code(cpu, X86_PF, error_code);
	cpu->exception.cr2 = linear;
	return ASSIST_FAULT;
}

/* CPL: CS.RPL in protected mode (vol. 3A, 5.5), 0 in real mode, 3 in
 * virtual-8086 mode. */
static unsigned cpl(const struct assist_cpu *cpu)
{
	if (!(cpu->sregs.cr0 & CR0_PE))
		return 0;
	if (cpu->regs.rflags & RFLAGS_VM)
		return 3;
	return cpu->sregs.cs.selector & 3u;
}

/* ---- Guest page walk (SDM vol. 3A, 4.3 to 4.6) ---- */

enum access { ACCESS_READ, ACCESS_WRITE, ACCESS_FETCH };

struct walk {
	unsigned levels;     /* paging-structure levels left to walk */
	unsigned entry_size; /* 4 (32-bit paging) or 8 bytes */
	unsigned index_bits; /* 10 or 9 */
	uint64_t table;      /* guest-physical address of the first table */
};

/* Reads one paging-structure entry, setting its accessed bit as the CPU
 * does (vol. 3A, 4.8); false when the entry is not in RAM. */
static bool read_entry(const struct assist_cpu *cpu, uint64_t gpa, unsigned size, bool set_dirty,
		       uint64_t *entry)
{
	void *p = guest_mem_ptr(cpu->mem, gpa, size);
	if (!p)
		return false;
	if (size == 4) {
		uint32_t v = __atomic_load_n((uint32_t *)p, __ATOMIC_RELAXED);
		if (v & PTE_P)
			__atomic_fetch_or((uint32_t *)p, (uint32_t)(PTE_A | (set_dirty ? PTE_D : 0)), __ATOMIC_RELAXED);
		*entry = v;
	} else {
		uint64_t v = __atomic_load_n((uint64_t *)p, __ATOMIC_RELAXED);
		if (v & PTE_P)
			__atomic_fetch_or((uint64_t *)p, PTE_A | (set_dirty ? PTE_D : 0), __ATOMIC_RELAXED);
		*entry = v;
	}
	return true;
}

/* Where the walk starts; PAE reads its PDPTE here (vol. 3A, 4.4.1). */
static enum assist_result walk_start(struct assist_cpu *cpu, uint64_t linear, enum access access,
				     struct walk *w)
{
	const struct kvm_sregs *s = &cpu->sregs;
	if (s->efer & EFER_LMA) {
		*w = (struct walk){ s->cr4 & CR4_LA57 ? 5 : 4, 8, 9, s->cr3 & PTE_ADDR };
		return ASSIST_DONE;
	}
	if (!(s->cr4 & CR4_PAE)) {
		*w = (struct walk){ 2, 4, 10, s->cr3 & 0xFFFFF000u };
		return ASSIST_DONE;
	}
	uint64_t pdpte;
	if (!read_entry(cpu, (s->cr3 & 0xFFFFFFE0u) + ((linear >> 30) & 3) * 8, 8, false, &pdpte))
		return ASSIST_UNSUPPORTED;
	if (!(pdpte & PTE_P))
		return raise_pf(cpu, linear, (access == ACCESS_WRITE ? PFEC_W : 0) | (cpl(cpu) == 3 ? PFEC_U : 0));
	*w = (struct walk){ 2, 8, 9, pdpte & PTE_ADDR };
	return ASSIST_DONE;
}

/* A leaf's page frame: 4-byte PDEs with PS map 4 MiB with PSE-36 bits
 * 16:13 as address bits 35:32 (vol. 3A, 4.3 table 4-4). */
static uint64_t leaf_frame(uint64_t entry, unsigned entry_size, unsigned shift)
{
	if (entry_size == 4 && shift == 22)
		return (entry & 0xFFC00000u) | ((entry >> 13) & 0xFull) << 32;
	uint64_t mask = entry_size == 4 ? 0xFFFFF000u : PTE_ADDR;
	return entry & mask & ~((1ull << shift) - 1);
}

/* Access rights of a translation (vol. 3A, 4.6). */
static bool access_allowed(const struct assist_cpu *cpu, enum access access, bool user_page,
			   bool writable, bool no_exec)
{
	const struct kvm_sregs *s = &cpu->sregs;
	if (cpl(cpu) == 3)
		return user_page && (access != ACCESS_WRITE || writable) && (access != ACCESS_FETCH || !no_exec);
	if (access == ACCESS_FETCH)
		return !no_exec && !(user_page && (s->cr4 & CR4_SMEP));
	if (user_page && (s->cr4 & CR4_SMAP) && !(cpu->regs.rflags & RFLAGS_AC))
		return false;
	return access != ACCESS_WRITE || writable || !(s->cr0 & CR0_WP);
}

static uint32_t pf_error_code(const struct assist_cpu *cpu, enum access access, bool present)
{
	return (present ? PFEC_P : 0) | (access == ACCESS_WRITE ? PFEC_W : 0) |
	       (cpl(cpu) == 3 ? PFEC_U : 0) | (access == ACCESS_FETCH ? PFEC_I : 0);
}

/* Linear to guest-physical through the guest's page tables; a #PF when
 * the page is not there or the access is not allowed. */
static enum assist_result translate(struct assist_cpu *cpu, uint64_t linear, enum access access,
				    uint64_t *gpa)
{
	if (!(cpu->sregs.cr0 & CR0_PG)) {
		*gpa = linear;
		return ASSIST_DONE;
	}
	struct walk w;
	enum assist_result r = walk_start(cpu, linear, access, &w);
	if (r != ASSIST_DONE)
		return r;
	bool user_page = true, writable = true, no_exec = false;
	bool nx_on = cpu->sregs.efer & EFER_NXE;
	for (unsigned level = w.levels; level >= 1; level--) {
		unsigned shift = 12 + (level - 1) * w.index_bits;
		uint64_t index = (linear >> shift) & ((1u << w.index_bits) - 1);
		bool leaf_level_possible = level == 1 || (level <= 3 && (w.entry_size == 8 || (cpu->sregs.cr4 & CR4_PSE)));
		uint64_t entry;
		if (!read_entry(cpu, w.table + index * w.entry_size, w.entry_size, false, &entry))
			return ASSIST_UNSUPPORTED; /* page tables outside RAM */
		if (!(entry & PTE_P))
			return raise_pf(cpu, linear, pf_error_code(cpu, access, false));
		user_page &= (entry & PTE_US) != 0;
		writable &= (entry & PTE_RW) != 0;
		no_exec |= nx_on && w.entry_size == 8 && (entry & PTE_XD);
		if (level > 1 && !(leaf_level_possible && (entry & PTE_PS))) {
			w.table = entry & (w.entry_size == 4 ? 0xFFFFF000u : PTE_ADDR);
			continue;
		}
		if (!access_allowed(cpu, access, user_page, writable, no_exec))
			return raise_pf(cpu, linear, pf_error_code(cpu, access, true));
		if (access == ACCESS_WRITE)  /* the dirty bit of the leaf (vol. 3A, 4.8) */
			read_entry(cpu, w.table + index * w.entry_size, w.entry_size, true, &entry);
		*gpa = leaf_frame(entry, w.entry_size, shift) | (linear & ((1ull << shift) - 1));
		return ASSIST_DONE;
	}
	return ASSIST_UNSUPPORTED; /* not reached: level 1 is always a leaf */
}

size_t assist_fetch(struct assist_cpu *cpu, uint8_t bytes[X86_MAX_INSN_LEN])
{
	unsigned code_size = x86_code_size(&cpu->sregs, cpu->regs.rflags);
	uint64_t linear = cpu->regs.rip;
	if (code_size != 8)
		linear = (cpu->sregs.cs.base + (uint32_t)linear) & 0xFFFFFFFFu;
	size_t got = 0;
	while (got < X86_MAX_INSN_LEN) {
		uint64_t gpa;
		size_t chunk = PAGE_SIZE - ((linear + got) & (PAGE_SIZE - 1));
		if (chunk > X86_MAX_INSN_LEN - got)
			chunk = X86_MAX_INSN_LEN - got;
		struct assist_exception saved = cpu->exception;
		enum assist_result r = translate(cpu, linear + got, ACCESS_FETCH, &gpa);
		cpu->exception = saved; /* KVM fetched these bytes: a fault here only ends them */
		if (r != ASSIST_DONE || !guest_mem_read(cpu->mem, gpa, bytes + got, chunk))
			break;
		got += chunk;
	}
	return got;
}

/* ---- Operands ---- */

/* GPRs in instruction-encoding order (vol. 2A, 2.1.5 and 2.2.1.2). */
static __u64 *gpr(struct kvm_regs *r, unsigned n)
{
	__u64 *const regs[16] = {
		&r->rax, &r->rcx, &r->rdx, &r->rbx, &r->rsp, &r->rbp, &r->rsi, &r->rdi,
		&r->r8, &r->r9, &r->r10, &r->r11, &r->r12, &r->r13, &r->r14, &r->r15,
	};
	return regs[n & 15];
}

static uint64_t truncate(uint64_t v, unsigned size)
{
	return size == 8 ? v : v & ((1ull << (8 * size)) - 1);
}

/* A GPR write: 32-bit results zero-extend, 16-bit ones merge (vol. 1, 3.4.1.1). */
static void set_gpr(struct kvm_regs *r, unsigned n, unsigned size, uint64_t v)
{
	__u64 *p = gpr(r, n);
	if (size == 2)
		*p = (*p & ~0xFFFFull) | (v & 0xFFFF);
	else
		*p = truncate(v, size);
}

static struct kvm_segment *segment(struct kvm_sregs *s, enum x86_seg seg)
{
	struct kvm_segment *const segs[] = { &s->es, &s->cs, &s->ss, &s->ds, &s->fs, &s->gs };
	return segs[seg];
}

/* The default segment: SS for rSP/rBP bases, else DS (vol. 1, 3.7.4). */
static enum x86_seg operand_segment(const struct x86_insn *insn)
{
	if (insn->seg != SEG_NONE)
		return insn->seg;
	return insn->base == 4 || insn->base == 5 ? SEG_SS : SEG_DS;
}

static uint64_t effective_address(struct assist_cpu *cpu, const struct x86_insn *insn)
{
	uint64_t ea = (uint64_t)insn->disp;
	if (insn->rip_relative)
		ea += cpu->regs.rip + insn->len;
	if (insn->base >= 0)
		ea += *gpr(&cpu->regs, (unsigned)insn->base);
	if (insn->index >= 0)
		ea += *gpr(&cpu->regs, (unsigned)insn->index) * insn->scale;
	return truncate(ea, insn->addrsize);
}

static bool canonical(uint64_t linear, const struct kvm_sregs *s)
{
	unsigned bits = s->cr4 & CR4_LA57 ? 57 : 48;
	int64_t extended = (int64_t)(linear << (64 - bits)) >> (64 - bits);
	return (uint64_t)extended == linear;
}

/* Segmentation (vol. 3A, 3.4 and 5.3): 64-bit mode uses FS/GS bases and
 * checks canonical form; other modes check the segment's type and limit. */
static enum assist_result linear_address(struct assist_cpu *cpu, const struct x86_insn *insn,
					 unsigned size, enum access access, uint64_t *linear)
{
	enum x86_seg seg = operand_segment(insn);
	uint8_t vector = seg == SEG_SS ? X86_SS : X86_GP;
	uint64_t offset = effective_address(cpu, insn);
	struct kvm_segment *s = segment(&cpu->sregs, seg);
	if (x86_code_size(&cpu->sregs, cpu->regs.rflags) == 8) {
		*linear = offset + (seg == SEG_FS || seg == SEG_GS ? s->base : 0);
		if (!canonical(*linear, &cpu->sregs) || !canonical(*linear + size - 1, &cpu->sregs))
			return raise_code(cpu, vector, 0);
		return ASSIST_DONE;
	}
	bool code = s->type & 8, writable = !code && (s->type & 2), readable = !code || (s->type & 2);
	if (cpu->sregs.cr0 & CR0_PE) {
		if (s->unusable || !s->present || (access == ACCESS_WRITE ? !writable : !readable))
			return raise_code(cpu, vector, 0);
		if (!code && (s->type & 4))
			return ASSIST_UNSUPPORTED; /* expand-down data segments: not needed yet */
		if (offset + size - 1 > s->limit)
			return raise_code(cpu, vector, 0);
	}
	*linear = (s->base + offset) & 0xFFFFFFFFu;
	return ASSIST_DONE;
}

/* A data access to a memory operand: segmentation, then each page it
 * spans translated before any byte moves, so a fault leaves memory as it
 * was. Memory outside guest RAM raises #GP(0): what we complete never
 * targets device memory in a sane guest. */
static enum assist_result access_memory(struct assist_cpu *cpu, const struct x86_insn *insn,
					void *buf, unsigned size, enum access access)
{
	uint64_t linear;
	enum assist_result r = linear_address(cpu, insn, size, access, &linear);
	if (r != ASSIST_DONE)
		return r;
	uint8_t *host[2] = { NULL, NULL };
	unsigned first = PAGE_SIZE - (linear & (PAGE_SIZE - 1));
	unsigned lens[2] = { size < first ? size : first, size < first ? 0 : size - first };
	for (unsigned i = 0; i < 2 && lens[i]; i++) {
		uint64_t gpa;
		r = translate(cpu, i ? linear + lens[0] : linear, access, &gpa);
		if (r != ASSIST_DONE)
			return r;
		host[i] = guest_mem_ptr(cpu->mem, gpa, lens[i]);
		if (!host[i])
			return raise_code(cpu, X86_GP, 0);
	}
	for (unsigned i = 0, done = 0; i < 2 && lens[i]; done += lens[i], i++) {
		if (access == ACCESS_WRITE)
			memcpy(host[i], (uint8_t *)buf + done, lens[i]);
		else
			memcpy((uint8_t *)buf + done, host[i], lens[i]);
	}
	return ASSIST_DONE;
}

static enum assist_result read_rm(struct assist_cpu *cpu, const struct x86_insn *insn,
				  unsigned size, uint64_t *value)
{
	if (!insn->mem) {
		*value = truncate(*gpr(&cpu->regs, insn->rm), size);
		return ASSIST_DONE;
	}
	*value = 0;
	return access_memory(cpu, insn, value, size, ACCESS_READ); /* little-endian host */
}

static enum assist_result write_rm(struct assist_cpu *cpu, const struct x86_insn *insn,
				   unsigned size, uint64_t value)
{
	if (!insn->mem) {
		set_gpr(&cpu->regs, insn->rm, size, value);
		return ASSIST_DONE;
	}
	return access_memory(cpu, insn, &value, size, ACCESS_WRITE);
}

/* ---- Completions ---- */

/* After the instruction: RIP past it (wrapping as the code size does) and
 * RF cleared (vol. 3A, 18.3.1.1). */
static enum assist_result retire(struct assist_cpu *cpu, const struct x86_insn *insn)
{
	unsigned code_size = x86_code_size(&cpu->sregs, cpu->regs.rflags);
	cpu->regs.rip = truncate(cpu->regs.rip + insn->len, code_size);
	cpu->regs.rflags &= ~RFLAGS_RF;
	return ASSIST_DONE;
}

/* INT3 (vol. 2A): a trap, so #BP is delivered with RIP past the int3. At
 * CPL > 0 the gate's DPL would be checked: left to the CPU. */
static enum assist_result complete_int3(struct assist_cpu *cpu, const struct x86_insn *insn)
{
	if (cpl(cpu) != 0)
		return ASSIST_UNSUPPORTED;
	retire(cpu, insn);
	return raise(cpu, X86_BP);
}

/* POPCNT (vol. 2B): ZF when the source is 0; OF, SF, AF, CF, PF cleared. */
static enum assist_result complete_popcnt(struct assist_cpu *cpu, const struct x86_insn *insn)
{
	uint64_t src;
	enum assist_result r = read_rm(cpu, insn, insn->opsize, &src);
	if (r != ASSIST_DONE)
		return r;
	set_gpr(&cpu->regs, insn->reg, insn->opsize, (uint64_t)__builtin_popcountll(src));
	cpu->regs.rflags &= ~(RFLAGS_OF | RFLAGS_SF | RFLAGS_ZF | RFLAGS_AF | RFLAGS_CF | RFLAGS_PF);
	if (src == 0)
		cpu->regs.rflags |= RFLAGS_ZF;
	return retire(cpu, insn);
}

/* CLAC/STAC (vol. 2A/2B): EFLAGS.AC; #UD above CPL 0. */
static enum assist_result complete_ac(struct assist_cpu *cpu, const struct x86_insn *insn)
{
	if (cpl(cpu) != 0)
		return raise(cpu, X86_UD);
	if (insn->kind == ASSIST_STAC)
		cpu->regs.rflags |= RFLAGS_AC;
	else
		cpu->regs.rflags &= ~RFLAGS_AC;
	return retire(cpu, insn);
}

/* WAIT/FWAIT (vol. 2B): #NM when CR0.MP and CR0.TS; a pending unmasked x87
 * exception is #MF with CR0.NE (without it the PC's FERR# line would be
 * signalled, which we do not model). */
static enum assist_result complete_fwait(struct assist_cpu *cpu, const struct x86_insn *insn)
{
	if ((cpu->sregs.cr0 & (CR0_MP | CR0_TS)) == (CR0_MP | CR0_TS))
		return raise(cpu, X86_NM);
	if (cpu->fpu.fsw & X87_FSW_ES)
		return cpu->sregs.cr0 & CR0_NE ? raise(cpu, X86_MF) : ASSIST_UNSUPPORTED;
	return retire(cpu, insn);
}

/* FNINIT (vol. 2A, FINIT/FNINIT): the x87 control, status, tag, pointer
 * and opcode registers to their initial values; #NM with CR0.EM or CR0.TS. */
static enum assist_result complete_fninit(struct assist_cpu *cpu, const struct x86_insn *insn)
{
	if (cpu->sregs.cr0 & (CR0_EM | CR0_TS))
		return raise(cpu, X86_NM);
	cpu->fpu.fcw = X87_FCW_INIT;
	cpu->fpu.fsw = 0;
	cpu->fpu.ftwx = 0;   /* abridged tag: all empty */
	cpu->fpu.last_opcode = 0;
	cpu->fpu.last_ip = 0;
	cpu->fpu.last_dp = 0;
	return retire(cpu, insn);
}

/* The SSE checks (vol. 2A, 2.5 exception class "type 5"/LDMXCSR): #UD
 * with CR0.EM or without CR4.OSFXSR, then #NM with CR0.TS. */
static enum assist_result sse_available(struct assist_cpu *cpu)
{
	if ((cpu->sregs.cr0 & CR0_EM) || !(cpu->sregs.cr4 & CR4_OSFXSR))
		return raise(cpu, X86_UD);
	if (cpu->sregs.cr0 & CR0_TS)
		return raise(cpu, X86_NM);
	return ASSIST_DONE;
}

/* LDMXCSR/STMXCSR (vol. 2A/2B): #GP(0) for reserved MXCSR bits. */
static enum assist_result complete_mxcsr(struct assist_cpu *cpu, const struct x86_insn *insn)
{
	enum assist_result r = sse_available(cpu);
	if (r != ASSIST_DONE)
		return r;
	uint32_t value = cpu->fpu.mxcsr;
	if (insn->kind == ASSIST_STMXCSR) {
		r = access_memory(cpu, insn, &value, sizeof(value), ACCESS_WRITE);
		return r == ASSIST_DONE ? retire(cpu, insn) : r;
	}
	r = access_memory(cpu, insn, &value, sizeof(value), ACCESS_READ);
	if (r != ASSIST_DONE)
		return r;
	if (value & ~MXCSR_MASK)
		return raise_code(cpu, X86_GP, 0);
	cpu->fpu.mxcsr = value;
	return retire(cpu, insn);
}

/* MOVD/MOVQ (vol. 2B) between xmm and r/m32 or r/m64 (REX.W): into xmm
 * the value zero-extends to 128 bits; into a GPR a dword zero-extends. */
static enum assist_result complete_movd(struct assist_cpu *cpu, const struct x86_insn *insn)
{
	enum assist_result r = sse_available(cpu);
	if (r != ASSIST_DONE)
		return r;
	unsigned size = insn->opsize == 8 ? 8 : 4;
	uint8_t *xmm = cpu->fpu.xmm[insn->reg];
	if (insn->kind == ASSIST_MOVD_FROM_XMM) {
		uint64_t value = 0;
		memcpy(&value, xmm, size);
		r = write_rm(cpu, insn, size, value);
		return r == ASSIST_DONE ? retire(cpu, insn) : r;
	}
	uint64_t value;
	r = read_rm(cpu, insn, size, &value);
	if (r != ASSIST_DONE)
		return r;
	memset(xmm, 0, 16);
	memcpy(xmm, &value, size);
	return retire(cpu, insn);
}

typedef enum assist_result (*completion)(struct assist_cpu *cpu, const struct x86_insn *insn);

static const completion completions[ASSIST_KINDS] = {
	[ASSIST_INT3] = complete_int3,
	[ASSIST_POPCNT] = complete_popcnt,
	[ASSIST_CLAC] = complete_ac,
	[ASSIST_STAC] = complete_ac,
	[ASSIST_FWAIT] = complete_fwait,
	[ASSIST_FNINIT] = complete_fninit,
	[ASSIST_LDMXCSR] = complete_mxcsr,
	[ASSIST_STMXCSR] = complete_mxcsr,
	[ASSIST_MOVD_TO_XMM] = complete_movd,
	[ASSIST_MOVD_FROM_XMM] = complete_movd,
};

enum assist_result assist_complete(struct assist_cpu *cpu, const struct x86_insn *insn)
{
	cpu->exception = (struct assist_exception){ 0 };
	if (cpu->regs.rflags & RFLAGS_TF)
		return ASSIST_UNSUPPORTED; /* the single-step #DB after it is not modelled */
	if (insn->lock)
		return raise(cpu, X86_UD); /* none of these is lockable (vol. 2A, LOCK) */
	return completions[insn->kind](cpu, insn);
}
