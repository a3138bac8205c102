/* The shared runtime of our test guests: port I/O, COM1, a small printf,
 * PCI configuration reads, interrupts through the 8259 PIC, and the exit:
 * an ACPI power-off (the engine ends with status 0). */
#ifndef GUEST_RUNTIME_H
#define GUEST_RUNTIME_H

#include <stdbool.h>
#include <stdint.h>

static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline void outw(uint16_t port, uint16_t v) { __asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port)); }
static inline void outl(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port) { uint8_t v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline uint16_t inw(uint16_t port) { uint16_t v; __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline uint32_t inl(uint16_t port) { uint32_t v; __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline void sti(void) { __asm__ volatile("sti"); }
static inline void cli(void) { __asm__ volatile("cli"); }
/* sti;hlt in one sequence: an interrupt cannot slip in between them. */
static inline void wait_for_interrupt(void) { __asm__ volatile("sti; hlt; cli"); }

#define COM1 0x3F8

/* What the PVH loader hands us in EBX (Xen's hvm_start_info, version 1). */
struct hvm_start_info {
	uint32_t magic, version, flags, nr_modules;
	uint64_t modlist_paddr, cmdline_paddr, rsdp_paddr, memmap_paddr;
	uint32_t memmap_entries, reserved;
};
extern const struct hvm_start_info *start_info;

void serial_putc(char c);
void print(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
bool serial_poll(uint8_t *byte);
/* Waits for a byte on COM1: tests pace a guest this way. */
uint8_t serial_wait(void);
/* Turns on COM1's receive interrupt (serial_wait does it on first use), for
 * a guest that must sleep in HLT before its first port access. */
void serial_arm(void);

uint32_t pci_config_read(unsigned bus, unsigned dev, unsigned fn, unsigned reg);

/* Where `word` appears on the command line: the text after it, or NULL. */
const char *cmdline_find(const char *word);

/* Starts every application processor as an OS does (Intel SDM vol. 3A
 * §8.4.4, "MP initialization example"): INIT, then two STARTUP IPIs whose
 * vector points at `code`, 16-bit real-mode code copied to AP_TRAMPOLINE
 * (CS = AP_TRAMPOLINE >> 4, IP = 0, DS = 0). */
#define AP_TRAMPOLINE 0x8000u
void start_aps(const uint8_t *code, unsigned len);

/* IRQ n of the PIC arrives as vector 0x20 + n; handlers run with interrupts
 * off and the EOI is sent for them. */
typedef void (*interrupt_handler)(unsigned vector);
void interrupts_init(void);
void set_handler(unsigned vector, interrupt_handler handler);
void pic_unmask(unsigned irq);

void *memcpy(void *dst, const void *src, unsigned long n);
void *memset(void *dst, int c, unsigned long n);

void guest_exit(void) __attribute__((noreturn));
void guest_reset(void) __attribute__((noreturn)); /* i8042 reset pulse */
int main(void);

#endif
