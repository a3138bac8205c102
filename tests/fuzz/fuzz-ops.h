/* What the register-level fuzz targets share: reading an input as a stream
 * of operations (a guest's port, MMIO and configuration accesses, bytes it
 * puts in RAM), a listener that reads every surface row a display says
 * changed, and the check that the heap grows only by what a device's own
 * accounting says it holds. */
#ifndef VIREO_FUZZ_OPS_H
#define VIREO_FUZZ_OPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend/block.h"
#include "console.h"
#include "core/bus.h"
#include "hw/pci.h"

/* The unread rest of an input. Reads past its end give zeros, so every
 * input is a valid operation stream. */
struct fuzz_input {
	const uint8_t *data;
	size_t size;
};

uint8_t fuzz_u8(struct fuzz_input *in);
uint16_t fuzz_u16(struct fuzz_input *in);
uint32_t fuzz_u32(struct fuzz_input *in);
uint64_t fuzz_u64(struct fuzz_input *in);
/* Copies up to `room` bytes; returns how many there were. */
size_t fuzz_bytes(struct fuzz_input *in, void *dst, size_t room);

/* A range a guest reaches on a bus: fixed ports, or a BAR wherever the
 * guest has put it (base 0 and span 0 while it does not decode). */
struct fuzz_window {
	const struct bus *bus;
	uint64_t base, span;
	bool ports;             /* port I/O: at most 4 bytes an access */
};

/* One guest access to `w`: a flags byte (bit 0 write, bits 1-2 the width
 * 1/2/4/8, 4 at most on ports), a 32-bit offset taken modulo the span and,
 * for a write, the value. */
void fuzz_access(struct fuzz_input *in, const struct fuzz_window *w);

/* Where BAR `index` of `dev` decodes now. */
struct fuzz_window fuzz_bar_window(const struct bus *bus, const struct pci_device *dev, unsigned index);

/* One configuration mechanism #1 access to one of `devfns`: devfn index,
 * flags as above (width 1/2/4), register, value. */
void fuzz_pci_config(struct fuzz_input *in, const struct bus *pio, const uint8_t *devfns, unsigned n);

/* Bytes the guest writes to RAM: a 32-bit offset modulo ram_size, a length
 * byte (times 16), then that many bytes of the input. */
void fuzz_fill_ram(struct fuzz_input *in, uint8_t *ram, size_t ram_size);

/* Makes `con`'s frontend a reader of every changed rectangle (first and
 * last row of each), so ASan sees a surface left pointing at freed or
 * too-small memory. */
void fuzz_watch_console(struct console *con);

/* Live heap bytes as the sanitizer's allocator counts them (freed blocks
 * in its quarantine excluded); 0 when the build has no such allocator.
 * libFuzzer's own allocations count too: compare only within one input. */
size_t fuzz_heap_bytes(void);

/* Aborts with a line naming `what` when the heap has grown more than
 * `accounted` + `slack` bytes over `baseline`. */
void fuzz_check_heap(const char *what, size_t baseline, uint64_t accounted, size_t slack);

/* Opens `blk` on an anonymous file of `size` zero bytes; with `iso`, read-
 * only with an ISO 9660 signature at sector 16, as a CD-ROM's medium. */
void fuzz_open_image(struct block_backend *blk, const char *name, size_t size, bool iso);

#endif
