/* Instruction assist: completing from userspace the few instructions a
 * host's KVM cannot emulate (nested KVM that emulates guest kernel code, as
 * kvm_pvm does, stops the guest with an emulation failure on them).
 *
 * On real VT-x/AMD-V hosts none of this runs: the CPU executes them. The
 * decoder and the completions act on a plain struct of vCPU state and on
 * guest RAM, so they are tested without /dev/kvm; assist_host.c loads and
 * stores that struct around an exit. */
#ifndef VIREO_KVM_ASSIST_H
#define VIREO_KVM_ASSIST_H

#include <linux/kvm.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/guest_mem.h"

#define X86_MAX_INSN_LEN 15 /* SDM vol. 2A, 2.3.11 */

/* The instructions we complete, one kind each. */
enum assist_kind {
	ASSIST_INT3,
	ASSIST_POPCNT,
	ASSIST_CLAC,
	ASSIST_STAC,
	ASSIST_FWAIT,
	ASSIST_FNINIT,
	ASSIST_LDMXCSR,
	ASSIST_STMXCSR,
	ASSIST_MOVD_TO_XMM,   /* 66 [REX.W] 0F 6E: movd/movq xmm, r/m */
	ASSIST_MOVD_FROM_XMM, /* 66 [REX.W] 0F 7E: movd/movq r/m, xmm */
	ASSIST_KINDS
};

const char *assist_kind_name(enum assist_kind kind);

/* Exception vectors (SDM vol. 3A, 6.3.1 table 6-1). */
enum x86_vector {
	X86_DE = 0, X86_DB = 1, X86_BP = 3, X86_UD = 6, X86_NM = 7,
	X86_SS = 12, X86_GP = 13, X86_PF = 14, X86_MF = 16,
};

/* Segment registers in ModRM sreg order (SDM vol. 2A, 3.1.1.3). */
enum x86_seg { SEG_ES, SEG_CS, SEG_SS, SEG_DS, SEG_FS, SEG_GS, SEG_NONE };

/* One decoded instruction of the table: prefixes, operand and address
 * size, and the ModRM operands (SDM vol. 2A, 2.1 and 2.2). */
struct x86_insn {
	enum assist_kind kind;
	uint8_t len;
	bool lock;
	enum x86_seg seg;      /* segment override, SEG_NONE if none */
	uint8_t opsize;        /* bytes: 2, 4 or 8 */
	uint8_t addrsize;      /* bytes: 4 or 8 */
	uint8_t reg;           /* ModRM.reg with REX.R */
	bool mem;              /* ModRM names memory (mod != 3) */
	uint8_t rm;            /* mod == 3: the register, with REX.B */
	int8_t base, index;    /* memory: GPR numbers, -1 when absent */
	uint8_t scale;         /* memory: 1, 2, 4 or 8 */
	bool rip_relative;
	int64_t disp;
};

/* Code size of the mode the vCPU is in: 2, 4 or 8 bytes. */
unsigned x86_code_size(const struct kvm_sregs *sregs, uint64_t rflags);

/* Decodes bytes[0..len) as code of code_size; false when the bytes are not
 * one of the instructions we complete or are cut short. */
bool x86_decode(const uint8_t *bytes, size_t len, unsigned code_size, struct x86_insn *insn);

/* The exception an instruction raised, for the guest to take. */
struct assist_exception {
	bool raised;
	uint8_t vector;
	bool has_error_code;
	uint32_t error_code;
	uint64_t cr2;          /* #PF: the linear address */
};

/* The vCPU state a completion reads and writes. */
struct assist_cpu {
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_fpu fpu;    /* only for kinds assist_needs_fpu() names */
	struct assist_exception exception;
	const struct guest_mem *mem;
};

enum assist_result {
	ASSIST_DONE,        /* state updated and RIP advanced */
	ASSIST_FAULT,       /* cpu->exception raised; RIP as the SDM says */
	ASSIST_UNSUPPORTED, /* not something we complete: stop the guest */
};

bool assist_needs_fpu(enum assist_kind kind);

/* Reads up to X86_MAX_INSN_LEN bytes at CS:RIP through the guest's page
 * tables; returns how many could be read (0 if none). */
size_t assist_fetch(struct assist_cpu *cpu, uint8_t bytes[X86_MAX_INSN_LEN]);

/* Completes insn on cpu as the SDM says. */
enum assist_result assist_complete(struct assist_cpu *cpu, const struct x86_insn *insn);

#endif
