/* Operation streams for the register-level fuzz targets; see fuzz-ops.h. */
#include "fuzz-ops.h"

#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define CONFIG_ADDRESS 0xCF8
#define CONFIG_DATA 0xCFC
#define CONFIG_ENABLE 0x80000000u

/* The sanitizer allocator's own count; weak, so a fuzzing build without
 * ASan still links (and skips the check). */
size_t __sanitizer_get_current_allocated_bytes(void) __attribute__((weak));

size_t fuzz_bytes(struct fuzz_input *in, void *dst, size_t room)
{
	size_t n = MIN(room, in->size);
	memcpy(dst, in->data, n);
	in->data += n;
	in->size -= n;
	return n;
}

static uint64_t take_le(struct fuzz_input *in, unsigned width)
{
	uint8_t bytes[8] = { 0 };
	uint64_t value = 0;
	fuzz_bytes(in, bytes, width);
	for (unsigned i = 0; i < width; i++)
		value |= (uint64_t)bytes[i] << (8 * i);
	return value;
}

uint8_t fuzz_u8(struct fuzz_input *in) { return (uint8_t)take_le(in, 1); }
uint16_t fuzz_u16(struct fuzz_input *in) { return (uint16_t)take_le(in, 2); }
uint32_t fuzz_u32(struct fuzz_input *in) { return (uint32_t)take_le(in, 4); }
uint64_t fuzz_u64(struct fuzz_input *in) { return take_le(in, 8); }

void fuzz_access(struct fuzz_input *in, const struct fuzz_window *w)
{
	uint8_t flags = fuzz_u8(in);
	unsigned width = MIN(1u << (flags >> 1 & 3), w->ports ? 4u : 8u);
	uint32_t offset = fuzz_u32(in);
	uint64_t value = flags & 1 ? take_le(in, width) : 0;
	if (!w->span)
		return;
	uint64_t addr = w->base + offset % w->span;
	if (flags & 1)
		bus_write(w->bus, addr, &value, width);
	else
		bus_read(w->bus, addr, &value, width);
}

struct fuzz_window fuzz_bar_window(const struct bus *bus, const struct pci_device *dev, unsigned index)
{
	const struct pci_bar *bar = &dev->bars[index];
	bool ports = bar->kind == PCI_BAR_IO;
	if (!bar->mapped)
		return (struct fuzz_window){ bus, 0, 0, ports };
	return (struct fuzz_window){ bus, bar->mapped_at, bar->size, ports };
}

void fuzz_pci_config(struct fuzz_input *in, const struct bus *pio, const uint8_t *devfns, unsigned n)
{
	unsigned devfn = devfns[fuzz_u8(in) % n];
	uint8_t flags = fuzz_u8(in);
	unsigned width = 1u << (flags >> 1 & 3) % 3;
	uint8_t reg = fuzz_u8(in);
	uint64_t value = flags & 1 ? take_le(in, width) : 0;
	uint32_t address = CONFIG_ENABLE | devfn << 8 | (reg & 0xFCu);
	bus_write(pio, CONFIG_ADDRESS, &address, 4);
	unsigned port = CONFIG_DATA + (reg & (4 - width));  /* naturally aligned in the dword */
	if (flags & 1)
		bus_write(pio, port, &value, width);
	else
		bus_read(pio, port, &value, width);
}

void fuzz_fill_ram(struct fuzz_input *in, uint8_t *ram, size_t ram_size)
{
	size_t offset = fuzz_u32(in) % ram_size;
	size_t len = (size_t)fuzz_u8(in) * 16;
	fuzz_bytes(in, ram + offset, MIN(len, ram_size - offset));
}

/* Reads the first and last rows of a rectangle of `surface`. */
static void touch_rows(const struct console_surface *surface, unsigned x, unsigned y, unsigned width,
		       unsigned height)
{
	if (surface->format == CONSOLE_FORMAT_NONE || !width || !height)
		return;
	g_autofree uint32_t *row = g_new(uint32_t, width);
	console_read_row(surface, x, y, width, row);
	console_read_row(surface, x, y + height - 1, width, row);
}

static void surface_changed(void *opaque, const struct console_surface *surface)
{
	(void)opaque;
	touch_rows(surface, 0, 0, surface->width, surface->height);
}

static void surface_update(void *opaque, const struct console_rect *rect)
{
	touch_rows(&((struct console *)opaque)->surface, rect->x, rect->y, rect->width, rect->height);
}

void fuzz_watch_console(struct console *con)
{
	static struct console_listener reader;  /* a target has one console at a time */
	reader = (struct console_listener){ surface_changed, surface_update, NULL, con };
	if (!console_add_listener(con, &reader))
		abort();
}

size_t fuzz_heap_bytes(void)
{
	return __sanitizer_get_current_allocated_bytes ? __sanitizer_get_current_allocated_bytes() : 0;
}

void fuzz_check_heap(const char *what, size_t baseline, uint64_t accounted, size_t slack)
{
	size_t now = fuzz_heap_bytes();
	if (now > baseline && now - baseline > accounted + slack) {
		fprintf(stderr, "%s: the heap grew by %zu bytes, its accounting says %llu (+%zu slack)\n", what,
			now - baseline, (unsigned long long)accounted, slack);
		abort();
	}
}

void fuzz_open_image(struct block_backend *blk, const char *name, size_t size, bool iso)
{
	static const char signature[] = "\1CD001";
	char *error = NULL;
	int fd = memfd_create(name, 0);
	if (fd < 0 || ftruncate(fd, (off_t)size) < 0 ||
	    (iso && pwrite(fd, signature, sizeof(signature) - 1, 16 * 2048) != sizeof(signature) - 1))
		abort();
	g_autofree char *path = g_strdup_printf("/proc/self/fd/%d", fd);
	if (block_open(blk, path, iso, &error) < 0)
		abort();
	close(fd);  /* the backend has its own descriptor */
}
