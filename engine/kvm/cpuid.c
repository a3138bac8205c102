/* CPUID model: KVM_GET_SUPPORTED_CPUID, feature editing, topology.
 * Leaf and bit numbers: Intel SDM vol. 2A "CPUID", AMD APM vol. 3 appendix E. */
#include "cpuid.h"

#include <errno.h>
#include <stdbool.h>
#include <glib.h>
#include <string.h>
#include <sys/ioctl.h>

#define CPUID_MAX_ENTRIES 256

enum cpuid_reg { EAX, EBX, ECX, EDX };

struct cpu_feature {
	const char *name;
	uint32_t leaf;
	uint32_t subleaf;
	enum cpuid_reg reg;
	unsigned bit;
};

static const struct cpu_feature cpu_features[] = {
	{ "sse3", 1, 0, ECX, 0 },      { "pclmulqdq", 1, 0, ECX, 1 },
	{ "vmx", 1, 0, ECX, 5 },       { "ssse3", 1, 0, ECX, 9 },
	{ "fma", 1, 0, ECX, 12 },      { "cx16", 1, 0, ECX, 13 },
	{ "pcid", 1, 0, ECX, 17 },     { "sse4_1", 1, 0, ECX, 19 },
	{ "sse4_2", 1, 0, ECX, 20 },   { "x2apic", 1, 0, ECX, 21 },
	{ "movbe", 1, 0, ECX, 22 },    { "popcnt", 1, 0, ECX, 23 },
	{ "tsc-deadline", 1, 0, ECX, 24 }, { "aes", 1, 0, ECX, 25 },
	{ "xsave", 1, 0, ECX, 26 },    { "avx", 1, 0, ECX, 28 },
	{ "f16c", 1, 0, ECX, 29 },     { "rdrand", 1, 0, ECX, 30 },
	{ "fsgsbase", 7, 0, EBX, 0 },  { "bmi1", 7, 0, EBX, 3 },
	{ "avx2", 7, 0, EBX, 5 },      { "smep", 7, 0, EBX, 7 },
	{ "bmi2", 7, 0, EBX, 8 },      { "erms", 7, 0, EBX, 9 },
	{ "invpcid", 7, 0, EBX, 10 },  { "avx512f", 7, 0, EBX, 16 },
	{ "rdseed", 7, 0, EBX, 18 },   { "adx", 7, 0, EBX, 19 },
	{ "smap", 7, 0, EBX, 20 },     { "sha-ni", 7, 0, EBX, 29 },
	{ "umip", 7, 0, ECX, 2 },      { "pku", 7, 0, ECX, 3 },
	{ "la57", 7, 0, ECX, 16 },     { "rdpid", 7, 0, ECX, 22 },
	{ "svm", 0x80000001, 0, ECX, 2 }, { "nx", 0x80000001, 0, EDX, 20 },
	{ "pdpe1gb", 0x80000001, 0, EDX, 26 }, { "rdtscp", 0x80000001, 0, EDX, 27 },
	{ "invtsc", 0x80000007, 0, EDX, 8 },
	{ "kvmclock", 0x40000001, 0, EAX, 3 },
};

static struct kvm_cpuid_entry2 *find_entry(struct kvm_cpuid2 *cpuid, uint32_t leaf, uint32_t subleaf)
{
	for (uint32_t i = 0; i < cpuid->nent; i++) {
		struct kvm_cpuid_entry2 *e = &cpuid->entries[i];
		bool indexed = e->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX;
		if (e->function == leaf && (!indexed || e->index == subleaf))
			return e;
	}
	return NULL;
}

static uint32_t *entry_reg(struct kvm_cpuid_entry2 *e, enum cpuid_reg reg)
{
	switch (reg) {
	case EAX: return &e->eax;
	case EBX: return &e->ebx;
	case ECX: return &e->ecx;
	default:  return &e->edx;
	}
}

static const struct cpu_feature *find_feature(const char *name)
{
	for (size_t i = 0; i < G_N_ELEMENTS(cpu_features); i++)
		if (!strcmp(cpu_features[i].name, name))
			return &cpu_features[i];
	return NULL;
}

static bool edit_feature(struct kvm_cpuid2 *cpuid, const char *item, char **error)
{
	const struct cpu_feature *f = (item[0] == '+' || item[0] == '-') ? find_feature(item + 1) : NULL;
	if (!f) {
		*error = g_strdup_printf("cpu: '%s' is not a known feature edit (use -name or +name, e.g. -cx16)", item);
		return false;
	}
	struct kvm_cpuid_entry2 *e = find_entry(cpuid, f->leaf, f->subleaf);
	uint32_t mask = 1u << f->bit;
	if (item[0] == '-') {
		if (e)
			*entry_reg(e, f->reg) &= ~mask;
		return true;
	}
	if (!e || !(*entry_reg(e, f->reg) & mask)) {
		*error = g_strdup_printf("cpu: feature '%s' is not available on this host's KVM", f->name);
		return false;
	}
	return true; /* supported features are on already */
}

struct kvm_cpuid2 *cpuid_model_create(int kvm_fd, const char *spec, char **error)
{
	struct kvm_cpuid2 *cpuid = g_malloc0(sizeof(*cpuid) + CPUID_MAX_ENTRIES * sizeof(cpuid->entries[0]));
	g_auto(GStrv) items = g_strsplit(spec, ",", -1);

	cpuid->nent = CPUID_MAX_ENTRIES;
	if (ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, cpuid) < 0) {
		*error = g_strdup_printf("KVM_GET_SUPPORTED_CPUID failed: %s", g_strerror(errno));
		goto fail;
	}
	if (strcmp(items[0], "host")) {
		*error = g_strdup_printf("cpu: unknown model '%s' (available: host)", items[0]);
		goto fail;
	}
	for (unsigned i = 1; items[i]; i++)
		if (!edit_feature(cpuid, items[i], error))
			goto fail;
	return cpuid;
fail:
	g_free(cpuid);
	return NULL;
}

static unsigned bits_for(unsigned count)
{
	unsigned bits = 0;
	while ((1u << bits) < count)
		bits++;
	return bits;
}

/* One socket of ncpus cores, one thread each; APIC ID = vCPU index. */
static void set_topology(struct kvm_cpuid2 *cpuid, unsigned apic_id, unsigned ncpus)
{
	struct kvm_cpuid_entry2 *e;

	if ((e = find_entry(cpuid, 1, 0))) {
		e->ebx = (e->ebx & 0x0000FFFF) | (apic_id << 24) | ((ncpus & 0xFF) << 16);
		e->edx = ncpus > 1 ? e->edx | (1u << 28) : e->edx & ~(1u << 28); /* HTT: multi-core */
	}
	for (uint32_t i = 0; i < cpuid->nent; i++) {
		e = &cpuid->entries[i];
		if (e->function == 4 && (e->eax & 0x1F)) /* deterministic cache: cores per package */
			e->eax = (e->eax & 0x03FFFFFF) | ((ncpus - 1) << 26);
		if (e->function == 0xB || e->function == 0x1F) { /* extended topology */
			e->edx = apic_id;
			if (e->index == 0) {
				e->eax = 0;
				e->ebx = 1;
				e->ecx = (1u << 8) | 0; /* level 0: SMT */
			} else if (e->index == 1) {
				e->eax = bits_for(ncpus);
				e->ebx = ncpus;
				e->ecx = (2u << 8) | 1; /* level 1: core */
			} else {
				e->eax = e->ebx = 0;
				e->ecx = e->index;
			}
		}
	}
	if ((e = find_entry(cpuid, 0x80000008, 0))) /* AMD: cores - 1, APIC ID size */
		e->ecx = (e->ecx & ~0xF0FFu) | (bits_for(ncpus) << 12) | (ncpus - 1);
}

int cpuid_apply(int vcpu_fd, const struct kvm_cpuid2 *model, unsigned apic_id, unsigned ncpus)
{
	size_t size = sizeof(*model) + model->nent * sizeof(model->entries[0]);
	g_autofree struct kvm_cpuid2 *cpuid = g_memdup2(model, size);
	set_topology(cpuid, apic_id, ncpus);
	return ioctl(vcpu_fd, KVM_SET_CPUID2, cpuid);
}
