/* fw_cfg driven through its ports as SeaBIOS drives it: selector and data,
 * the file directory, DMA reads, skips and selects, and DMA descriptors and
 * buffers outside guest RAM, plus random garbage (for the ASan run). */
#include <errno.h>
#include <glib.h>
#include <string.h>

#include "bus-poke.h"
#include "hw/fw_cfg.h"

#define RAM_BASE 0x10000u
#define RAM_SIZE 0x10000u
#define DESC 0x10000u        /* descriptor at the start of RAM */
#define BUF  0x11000u

struct fixture {
	struct bus pio;
	struct guest_mem mem;
	uint8_t *ram;
	struct fw_cfg cfg;
};

static struct fixture *fixture_new(void)
{
	struct fixture *f = g_new0(struct fixture, 1);
	bus_init(&f->pio);
	f->ram = g_malloc0(RAM_SIZE);
	g_assert_true(guest_mem_add(&f->mem, RAM_BASE, RAM_SIZE, f->ram));
	g_assert_cmpint(fw_cfg_init(&f->cfg, &f->pio, &f->mem), ==, 0);
	return f;
}

static void fixture_free(struct fixture *f)
{
	fw_cfg_destroy(&f->cfg);
	bus_destroy(&f->pio);
	g_free(f->ram);
	g_free(f);
}

static void select_key(struct fixture *f, uint16_t key)
{
	bus_out(&f->pio, FW_CFG_PORT_SELECTOR, key, 2);
}

static void read_data(struct fixture *f, void *dst, size_t len)
{
	for (size_t i = 0; i < len; i++)
		((uint8_t *)dst)[i] = (uint8_t)bus_in(&f->pio, FW_CFG_PORT_DATA, 1);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
}

/* Writes a descriptor at desc_gpa (when it is in RAM) and starts it the way
 * SeaBIOS does: one big-endian 32-bit write to 0x518 (and 0x514 if high). */
static uint32_t dma(struct fixture *f, uint64_t desc_gpa, uint32_t control, uint32_t len, uint64_t addr)
{
	uint8_t *d = desc_gpa >= RAM_BASE && desc_gpa + 16 <= RAM_BASE + RAM_SIZE ? f->ram + (desc_gpa - RAM_BASE) : NULL;
	if (d) {
		put_be32(d, control);
		put_be32(d + 4, len);
		put_be32(d + 8, (uint32_t)(addr >> 32));
		put_be32(d + 12, (uint32_t)addr);
	}
	if (desc_gpa >> 32)
		bus_out(&f->pio, FW_CFG_PORT_DMA, __builtin_bswap32((uint32_t)(desc_gpa >> 32)), 4);
	bus_out(&f->pio, FW_CFG_PORT_DMA + 4, __builtin_bswap32((uint32_t)desc_gpa), 4);
	return d ? be32(d) : 0xFFFFFFFFu;
}

static void test_signature_and_id(void)
{
	struct fixture *f = fixture_new();
	char sig[5] = { 0 };
	select_key(f, FW_CFG_SIGNATURE);
	read_data(f, sig, 4);
	g_assert_cmpstr(sig, ==, "QEMU");
	select_key(f, FW_CFG_ID);
	uint8_t id[4];
	read_data(f, id, 4);
	g_assert_cmphex(id[0], ==, 0x03);                      /* traditional + DMA */
	char dma_sig[9] = { 0 };
	for (unsigned i = 0; i < 8; i++)
		dma_sig[i] = (char)bus_in(&f->pio, FW_CFG_PORT_DMA + i, 1);
	g_assert_cmpstr(dma_sig, ==, "QEMU CFG");
	fixture_free(f);
}

static void test_selector_rewinds_and_end(void)
{
	struct fixture *f = fixture_new();
	g_assert_cmpint(fw_cfg_add_u16(&f->cfg, FW_CFG_NB_CPUS, 0x0102), ==, 0);
	select_key(f, FW_CFG_NB_CPUS);
	g_assert_cmphex(bus_in(&f->pio, FW_CFG_PORT_DATA, 1), ==, 0x02);
	select_key(f, FW_CFG_NB_CPUS);                            /* selecting again rewinds */
	g_assert_cmphex(bus_in(&f->pio, FW_CFG_PORT_DATA, 1), ==, 0x02);
	g_assert_cmphex(bus_in(&f->pio, FW_CFG_PORT_DATA, 1), ==, 0x01);
	for (unsigned i = 0; i < 100; i++)                        /* past the end: zeros */
		g_assert_cmphex(bus_in(&f->pio, FW_CFG_PORT_DATA, 1), ==, 0);
	select_key(f, 0x3FFF);                                    /* no such item */
	g_assert_cmphex(bus_in(&f->pio, FW_CFG_PORT_DATA, 1), ==, 0);
	select_key(f, FW_CFG_SIGNATURE | FW_CFG_WRITE_CHANNEL);
	bus_out(&f->pio, FW_CFG_PORT_DATA, 0xAA, 1);              /* ignored */
	select_key(f, FW_CFG_SIGNATURE);
	g_assert_cmphex(bus_in(&f->pio, FW_CFG_PORT_DATA, 1), ==, 'Q');
	g_assert_cmpint(fw_cfg_add_u32(&f->cfg, FW_CFG_IRQ0_OVERRIDE, 1), ==, 0);
	select_key(f, FW_CFG_IRQ0_OVERRIDE);
	g_assert_cmphex(bus_in(&f->pio, FW_CFG_PORT_DATA, 1), ==, 1);
	g_assert_cmpint(fw_cfg_add_u16(&f->cfg, 0x3000, 1), ==, -EINVAL);
	fixture_free(f);
}

static void test_directory(void)
{
	struct fixture *f = fixture_new();
	g_assert_cmpint(fw_cfg_add_file(&f->cfg, "etc/boot-fail-wait", "\xff\xff\xff\xff", 4), ==, 0);
	g_assert_cmpint(fw_cfg_add_file(&f->cfg, "bootorder", "", 0), ==, 0);
	g_assert_cmpint(fw_cfg_add_file(&f->cfg, "bootorder", "x", 1), ==, -EEXIST);
	char long_name[80];
	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = 0;
	g_assert_cmpint(fw_cfg_add_file(&f->cfg, long_name, "x", 1), ==, -EINVAL);
	uint8_t dir[4 + 2 * 64];
	select_key(f, FW_CFG_FILE_DIR);
	read_data(f, dir, sizeof(dir));
	g_assert_cmpuint(be32(dir), ==, 2);
	g_assert_cmpuint(be32(dir + 4), ==, 4);                              /* size */
	g_assert_cmphex(dir[8] << 8 | dir[9], ==, FW_CFG_FILE_FIRST);         /* key */
	g_assert_cmpstr((char *)dir + 12, ==, "etc/boot-fail-wait");
	g_assert_cmpuint(be32(dir + 68), ==, 0);
	g_assert_cmphex(dir[72] << 8 | dir[73], ==, FW_CFG_FILE_FIRST + 1);
	g_assert_cmpstr((char *)dir + 76, ==, "bootorder");
	for (unsigned i = 2; i < FW_CFG_MAX_FILES; i++) {
		g_autofree char *name = g_strdup_printf("f%u", i);
		g_assert_cmpint(fw_cfg_add_file(&f->cfg, name, "", 0), ==, 0);
	}
	g_assert_cmpint(fw_cfg_add_file(&f->cfg, "one-too-many", "", 0), ==, -ENOSPC);
	fixture_free(f);
}

static void test_dma_read_skip_select(void)
{
	struct fixture *f = fixture_new();
	uint8_t data[300];
	for (unsigned i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7);
	g_assert_cmpint(fw_cfg_add_file(&f->cfg, "etc/data", data, sizeof(data)), ==, 0);
	uint32_t select = (uint32_t)FW_CFG_FILE_FIRST << 16 | 0x08;
	g_assert_cmphex(dma(f, DESC, select | 0x02, 100, BUF), ==, 0);      /* select + read */
	g_assert_cmpmem(f->ram + (BUF - RAM_BASE), 100, data, 100);
	g_assert_cmphex(dma(f, DESC, 0x04, 50, 0), ==, 0);                  /* skip: no buffer needed */
	g_assert_cmphex(dma(f, DESC, 0x02, 10, BUF), ==, 0);
	g_assert_cmpmem(f->ram + (BUF - RAM_BASE), 10, data + 150, 10);
	memset(f->ram + (BUF - RAM_BASE), 0xEE, 401);
	g_assert_cmphex(dma(f, DESC, 0x02, 400, BUF), ==, 0);               /* past the end: zero-filled */
	g_assert_cmpmem(f->ram + (BUF - RAM_BASE), 140, data + 160, 140);
	for (unsigned i = 140; i < 400; i++)
		g_assert_cmphex(f->ram[BUF - RAM_BASE + i], ==, 0);
	g_assert_cmphex(f->ram[BUF - RAM_BASE + 400], ==, 0xEE);
	/* The traditional port continues where DMA left off. */
	dma(f, DESC, select | 0x04, 5, 0);
	g_assert_cmphex(bus_in(&f->pio, FW_CFG_PORT_DATA, 1), ==, data[5]);
	fixture_free(f);
}

static void test_dma_outside_ram(void)
{
	struct fixture *f = fixture_new();
	g_assert_cmpint(fw_cfg_add_file(&f->cfg, "etc/x", "abcdef", 6), ==, 0);
	uint32_t select = (uint32_t)FW_CFG_FILE_FIRST << 16 | 0x08;
	/* Buffers not wholly in RAM: error bit, nothing written. */
	g_assert_cmphex(dma(f, DESC, select | 0x02, 6, 0x1000), ==, 0x01);
	g_assert_cmphex(dma(f, DESC, select | 0x02, 16, RAM_BASE + RAM_SIZE - 8), ==, 0x01);
	g_assert_cmphex(dma(f, DESC, select | 0x02, 0xFFFFFFFFu, BUF), ==, 0x01);
	g_assert_cmphex(dma(f, DESC, select | 0x02, 16, 0xFFFFFFFFFFFFFFF8ull), ==, 0x01);  /* wraps */
	/* A DMA write: no item is writable. */
	g_assert_cmphex(dma(f, DESC, select | 0x10, 6, BUF), ==, 0x01);
	/* Descriptors outside RAM (below, straddling the end, above 4 GiB) are ignored. */
	dma(f, 0x100, 0x02, 6, BUF);
	dma(f, RAM_BASE + RAM_SIZE - 8, 0x02, 6, BUF);
	dma(f, 0x100000000ull + DESC, 0x02, 6, BUF);
	/* The high half is used once: the next low-only write is below 4 GiB. */
	g_assert_cmphex(dma(f, DESC, select | 0x02, 6, BUF), ==, 0);
	g_assert_cmpmem(f->ram + (BUF - RAM_BASE), 6, "abcdef", 6);
	fixture_free(f);
}

static void test_garbage(void)
{
	struct fixture *f = fixture_new();
	g_assert_cmpint(fw_cfg_add_file(&f->cfg, "etc/x", "abcdef", 6), ==, 0);
	GRand *rng = g_rand_new_with_seed(0xF00D);
	for (unsigned round = 0; round < 20000; round++) {
		/* Random descriptors in RAM pointing anywhere, random selectors and widths. */
		uint8_t *d = f->ram + g_rand_int_range(rng, 0, RAM_SIZE / 16) * 16;
		for (unsigned i = 0; i < 16; i++)
			d[i] = (uint8_t)g_rand_int(rng);
		if (g_rand_boolean(rng))
			d[8] = d[9] = d[10] = d[11] = 0, put_be32(d + 12, RAM_BASE + g_rand_int_range(rng, 0, RAM_SIZE));
		bus_out(&f->pio, FW_CFG_PORT_DMA + 4, __builtin_bswap32(RAM_BASE + (uint32_t)(d - f->ram)), 4);
	}
	bus_poke_randomly(&f->pio, FW_CFG_PORT_SELECTOR, 16, 20000, 0xBEEF, NULL, NULL);
	g_rand_free(rng);
	fixture_free(f);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/fw-cfg/signature-and-id", test_signature_and_id);
	g_test_add_func("/fw-cfg/selector-rewinds-and-end", test_selector_rewinds_and_end);
	g_test_add_func("/fw-cfg/directory", test_directory);
	g_test_add_func("/fw-cfg/dma-read-skip-select", test_dma_read_skip_select);
	g_test_add_func("/fw-cfg/dma-outside-ram", test_dma_outside_ram);
	g_test_add_func("/fw-cfg/garbage", test_garbage);
	return g_test_run();
}
