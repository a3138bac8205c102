/* What boot.S and boot.c share: BIOS function numbers, the register block
 * of bios_int() and the fill request of lfb_fill(). */
#ifndef VIREO_BOOT_H
#define VIREO_BOOT_H

#define STACK_TOP 0x7C00        /* grows down from stage 1 */
#define PROGRAM_MAGIC 0x31505642  /* "BVP1", the program's last dword */

/* Interrupts and functions: IBM PC BIOS Technical Reference (int 10h, 13h,
 * 16h), EDD 3.0 (int 13h AH=41h-48h), VBE 3.0 §4 (int 10h AH=4Fh). */
#define BIOS_VIDEO 0x10
#define BIOS_VIDEO_TELETYPE 0x0E        /* AL char, BH page */
#define BIOS_VIDEO_FONT_INFO 0x1130     /* BH=06h: ES:BP the 8x16 font */
#define BIOS_VIDEO_FONT_8X16 0x06
#define VBE_CONTROLLER_INFO 0x4F00      /* VBE 3.0 §4.3 */
#define VBE_MODE_INFO 0x4F01            /* VBE 3.0 §4.4 */
#define VBE_SET_MODE 0x4F02             /* VBE 3.0 §4.5 */
#define VBE_SUCCESS 0x004F
#define BIOS_DISK 0x13
#define BIOS_DISK_READ_CHS 0x02         /* AL count, CH/CL/DH cylinder, sector, head; ES:BX */
#define BIOS_DISK_PARAMETERS 0x08       /* CH/CL/DH: last cylinder, sector, head */
#define BIOS_DISK_EXT_READ 0x42         /* EDD 3.0 §7.4: DS:SI a device address packet */
#define BIOS_DISK_EXT_WRITE 0x43        /* EDD 3.0 §7.5: AL 0 = no verify */
#define BIOS_DISK_EXT_PARAMETERS 0x48   /* EDD 3.0 §7.8: DS:SI a result buffer */
#define BIOS_KEYBOARD 0x16
#define BIOS_KEYBOARD_READ 0x00         /* AH scan code, AL ASCII */
#define BIOS_KEYBOARD_STATUS 0x01       /* ZF clear when a key waits */

#define CR0_PE 1
#define GDT_CODE32 0x08
#define GDT_DATA32 0x10
#define GDT_CODE16 0x18
#define GDT_DATA16 0x20

/* struct bios_regs */
#define REG_EAX 0
#define REG_EBX 4
#define REG_ECX 8
#define REG_EDX 12
#define REG_ESI 16
#define REG_EDI 20
#define REG_EBP 24
#define REG_ES 28
#define REG_FLAGS 30

/* struct lfb_fill */
#define FILL_ADDRESS 0
#define FILL_PITCH 4
#define FILL_WIDTH 8
#define FILL_HEIGHT 12
#define FILL_COLOUR 16
#define FILL_BYTES_PER_PIXEL 20

#ifndef __ASSEMBLER__
#include <stdint.h>

struct bios_regs {
	uint32_t eax, ebx, ecx, edx, esi, edi, ebp;
	uint16_t es, flags;
};
_Static_assert(__builtin_offsetof(struct bios_regs, es) == REG_ES, "boot.S's offsets");
_Static_assert(__builtin_offsetof(struct bios_regs, flags) == REG_FLAGS, "boot.S's offsets");

struct lfb_fill {
	uint32_t address, pitch, width, height, colour, bytes_per_pixel;
};
_Static_assert(__builtin_offsetof(struct lfb_fill, bytes_per_pixel) == FILL_BYTES_PER_PIXEL, "boot.S's offsets");

#define FLAGS_CARRY 0x0001
#define FLAGS_ZERO 0x0040

void bios_int(uint8_t number, struct bios_regs *r);
void far_read(uint32_t address, void *to, uint32_t length);
void lfb_fill(const struct lfb_fill *f);
extern uint8_t boot_drive;
extern uint32_t data_lba;
#endif

#endif
