/* See virtio-board.h. */
#include "virtio-board.h"

#include <stdlib.h>

#include "fuzz-ops.h"

#define MMIO_BASE 0xE0000000ull
#define MMIO_LIMIT 0xF0000000ull
#define IO_BASE 0xC000
#define DISK_BYTES (1u << 20)

static void loop_back(struct net_backend *backend, const uint8_t *frame, size_t len)
{
	if (backend->receive)
		backend->receive(backend->receive_opaque, frame, len);
}

void vboard_init(struct virtio_board *b, bool assign_bars)
{
	static const uint8_t mac[6] = { 0x52, 0x54, 0, 0x12, 0x34, 0x56 };
	*b = (struct virtio_board){ .ram = g_malloc0(VBOARD_RAM_SIZE), .loopback = { .send = loop_back } };
	if (!guest_mem_add(&b->mem, 0, VBOARD_RAM_SIZE, b->ram))
		abort();
	fuzz_open_image(&b->disk, "fuzz-disk", DISK_BYTES, false);
	bus_init(&b->pio);
	bus_init(&b->mmio);
	b->ctx = g_main_context_new();
	console_init(&b->console);
	fuzz_watch_console(&b->console);
	struct irq_line none = { 0 };
	if (pci_bus_init(&b->pci, &b->pio, &b->mmio) < 0 || virtio_blk_init(&b->blk, &b->disk, "fuzz", 1, b->ctx, &b->mem, none, NULL, NULL) < 0 ||
	    virtio_rng_init(&b->rng, b->ctx, &b->mem, none, NULL, NULL) < 0 ||
	    virtio_net_init(&b->net, &b->loopback, mac, b->ctx, &b->mem, none, NULL, NULL) < 0 ||
	    virtio_gpu_init(&b->gpu, &b->console, b->ctx, &b->mem, none, NULL, NULL) < 0)
		abort();
	struct virtio_pci *devices[VBOARD_DEVICES] = { &b->blk.vp, &b->rng.vp, &b->net.vp, &b->gpu.vp };
	for (unsigned i = 0; i < VBOARD_DEVICES; i++) {
		b->devices[i] = devices[i];
		if (pci_bus_add(&b->pci, &devices[i]->pci, i + 1, 0) < 0)
			abort();
	}
	if (assign_bars && pci_bus_assign_bars(&b->pci, MMIO_BASE, MMIO_LIMIT, IO_BASE) < 0)
		abort();
}

void vboard_drain(struct virtio_board *b)
{
	while (g_main_context_iteration(b->ctx, FALSE))
		;
}

uint64_t vboard_accounted(const struct virtio_board *b)
{
	uint64_t bytes = b->gpu.host_memory;
	for (const GList *frame = b->net.backlog.head; frame; frame = frame->next)
		bytes += g_bytes_get_size(frame->data);
	return bytes;
}

void vboard_destroy(struct virtio_board *b)
{
	pci_bus_destroy(&b->pci);
	virtio_gpu_destroy(&b->gpu);
	virtio_net_destroy(&b->net);
	virtio_rng_destroy(&b->rng);
	virtio_blk_destroy(&b->blk);
	vboard_drain(b);
	block_close(&b->disk);
	console_destroy(&b->console);
	g_main_context_unref(b->ctx);
	bus_destroy(&b->pio);
	bus_destroy(&b->mmio);
	g_free(b->ram);
}
