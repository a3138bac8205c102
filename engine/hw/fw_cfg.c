/* fw_cfg (QEMU docs/specs/fw_cfg.rst). The selector (0x510, 16 bits) picks
 * an item and rewinds it; the data port (0x511) reads it a byte at a time,
 * 0 past its end. DMA: the guest writes the guest-physical address of a
 * big-endian descriptor {control, length, address} to 0x514/0x518 (the
 * write to 0x518 starts it) and the transfer is done before the write
 * returns. Every guest address goes through guest_mem; one that is not RAM
 * sets the error bit. Writes to items (the old write channel and DMA write)
 * are refused: no item is writable. */
#include "fw_cfg.h"

#include <errno.h>
#include <string.h>

#include "core/bytes.h"

/* "FW_CFG_ID" bits and the DMA interface ("DMA Interface"). */
#define FW_CFG_VERSION_TRADITIONAL 0x01
#define FW_CFG_VERSION_DMA         0x02
#define FW_CFG_DMA_CTL_ERROR  0x01
#define FW_CFG_DMA_CTL_READ   0x02
#define FW_CFG_DMA_CTL_SKIP   0x04
#define FW_CFG_DMA_CTL_SELECT 0x08
#define FW_CFG_DMA_CTL_WRITE  0x10
#define FW_CFG_DMA_DESC_SIZE  16
#define FW_CFG_DMA_SIGNATURE  "QEMU CFG"  /* what the DMA address register reads as */
#define DIR_ENTRY_SIZE (4 + 2 + 2 + FW_CFG_FILE_NAME_SIZE)
#define DMA_CHUNK 4096u                  /* zero-fill granule past an item's end */

static struct fw_cfg_item *item(struct fw_cfg *cfg, uint16_t key)
{
	unsigned entry = key & FW_CFG_ENTRY_MASK;
	if (entry >= FW_CFG_MAX_ENTRIES)
		return NULL;
	return &cfg->items[(key & FW_CFG_ARCH_LOCAL) ? 1 : 0][entry];
}

static void set_item(struct fw_cfg_item *it, const void *data, size_t size)
{
	g_free(it->data);
	it->data = g_memdup2(data, size);
	it->size = (uint32_t)size;
}

int fw_cfg_add_bytes(struct fw_cfg *cfg, uint16_t key, const void *data, size_t size)
{
	struct fw_cfg_item *it = item(cfg, key);
	if (!it || size > UINT32_MAX || (key & FW_CFG_WRITE_CHANNEL))
		return -EINVAL;
	g_mutex_lock(&cfg->lock);
	set_item(it, data, size);
	g_mutex_unlock(&cfg->lock);
	return 0;
}

int fw_cfg_add_u16(struct fw_cfg *cfg, uint16_t key, uint16_t value)
{
	uint8_t le[2];
	put_le(le, value, 2);
	return fw_cfg_add_bytes(cfg, key, le, sizeof(le));
}

int fw_cfg_add_u32(struct fw_cfg *cfg, uint16_t key, uint32_t value)
{
	uint8_t le[4];
	put_le32(le, value);
	return fw_cfg_add_bytes(cfg, key, le, sizeof(le));
}

int fw_cfg_add_u64(struct fw_cfg *cfg, uint16_t key, uint64_t value)
{
	uint8_t le[8];
	put_le(le, value, 8);
	return fw_cfg_add_bytes(cfg, key, le, sizeof(le));
}

/* The directory ("File Directory"): a big-endian count, then per file a
 * big-endian size and key, two reserved bytes and a NUL-padded name. */
static void rebuild_directory(struct fw_cfg *cfg)
{
	size_t size = 4 + (size_t)cfg->file_count * DIR_ENTRY_SIZE;
	uint8_t *dir = g_malloc0(size);
	put_be(dir, cfg->file_count, 4);
	for (unsigned i = 0; i < cfg->file_count; i++) {
		uint8_t *entry = dir + 4 + (size_t)i * DIR_ENTRY_SIZE;
		put_be(entry, cfg->items[0][FW_CFG_FILE_FIRST + i].size, 4);
		put_be(entry + 4, FW_CFG_FILE_FIRST + i, 2);
		memcpy(entry + 8, cfg->names[i], FW_CFG_FILE_NAME_SIZE);
	}
	struct fw_cfg_item *it = &cfg->items[0][FW_CFG_FILE_DIR];
	g_free(it->data);
	it->data = dir;
	it->size = (uint32_t)size;
}

static bool file_exists(const struct fw_cfg *cfg, const char *name)
{
	for (unsigned i = 0; i < cfg->file_count; i++)
		if (!strcmp(cfg->names[i], name))
			return true;
	return false;
}

int fw_cfg_add_file(struct fw_cfg *cfg, const char *name, const void *data, size_t size)
{
	if (strlen(name) >= FW_CFG_FILE_NAME_SIZE || !*name || size > UINT32_MAX)
		return -EINVAL;
	int ret = 0;
	g_mutex_lock(&cfg->lock);
	if (cfg->file_count >= FW_CFG_MAX_FILES)
		ret = -ENOSPC;
	else if (file_exists(cfg, name))
		ret = -EEXIST;
	if (ret == 0) {
		unsigned index = cfg->file_count++;
		set_item(&cfg->items[0][FW_CFG_FILE_FIRST + index], data, size);
		strcpy(cfg->names[index], name);
		rebuild_directory(cfg);
	}
	g_mutex_unlock(&cfg->lock);
	return ret;
}

/* Lock held. Selecting rewinds, whatever the key. */
static void select_key(struct fw_cfg *cfg, uint16_t key)
{
	cfg->selector = key;
	cfg->offset = 0;
}

static const struct fw_cfg_item *selected(struct fw_cfg *cfg)
{
	return (cfg->selector & FW_CFG_WRITE_CHANNEL) ? NULL : item(cfg, cfg->selector);
}

static uint8_t next_byte(struct fw_cfg *cfg)
{
	const struct fw_cfg_item *it = selected(cfg);
	if (!it || cfg->offset >= it->size)
		return 0;
	return it->data[cfg->offset++];
}

/* 0x510 (selector, 16-bit writes) and 0x511 (data, read a byte at a time;
 * wider reads take the next bytes in order). Data writes are ignored, as
 * since QEMU 2.4: no item is writable. */
static uint64_t ports_read(void *opaque, uint64_t offset, unsigned size)
{
	struct fw_cfg *cfg = opaque;
	uint64_t value = 0;
	if (offset != FW_CFG_PORT_DATA - FW_CFG_PORT_SELECTOR)
		return 0;  /* the selector is write-only */
	g_mutex_lock(&cfg->lock);
	for (unsigned i = 0; i < size; i++)
		value |= (uint64_t)next_byte(cfg) << (8 * i);
	g_mutex_unlock(&cfg->lock);
	return value;
}

static void ports_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
	struct fw_cfg *cfg = opaque;
	if (offset != 0 || size != 2)
		return;
	g_mutex_lock(&cfg->lock);
	select_key(cfg, (uint16_t)value);
	g_mutex_unlock(&cfg->lock);
}

/* Reads or skips `len` bytes of the selected item; past its end a read
 * fills zeros. Returns false when the guest range is not all RAM. */
static bool dma_read(struct fw_cfg *cfg, uint64_t address, uint32_t len, bool skip)
{
	const struct fw_cfg_item *it = selected(cfg);
	uint32_t avail = it && cfg->offset < it->size ? it->size - cfg->offset : 0;
	uint32_t n = MIN(len, avail);
	if (!skip) {
		uint8_t *dst = guest_mem_ptr(cfg->mem, address, len);
		if (!dst)
			return false;
		if (n)
			memcpy(dst, it->data + cfg->offset, n);
		memset(dst + n, 0, len - n);
	}
	cfg->offset += n;
	return true;
}

/* Runs the descriptor at `desc`. A descriptor outside RAM is ignored: there
 * is nowhere to report the error. */
static void dma_transfer(struct fw_cfg *cfg, uint64_t desc)
{
	uint8_t d[FW_CFG_DMA_DESC_SIZE];
	if (!guest_mem_read(cfg->mem, desc, d, sizeof(d)))
		return;
	uint32_t control = (uint32_t)get_be(d, 4), len = (uint32_t)get_be(d + 4, 4);
	uint64_t address = get_be(d + 8, 8);
	bool ok = true;
	if (control & FW_CFG_DMA_CTL_SELECT)
		select_key(cfg, (uint16_t)(control >> 16));
	if (control & FW_CFG_DMA_CTL_WRITE)
		ok = false;
	else if (control & FW_CFG_DMA_CTL_READ)
		ok = len == 0 || dma_read(cfg, address, len, false);
	else if (control & FW_CFG_DMA_CTL_SKIP)
		ok = dma_read(cfg, address, len, true);
	uint8_t status[4];
	put_be(status, ok ? 0 : FW_CFG_DMA_CTL_ERROR, 4);
	guest_mem_write(cfg->mem, desc, status, sizeof(status));
}

/* 0x514-0x51B read as the signature; big-endian 32-bit writes to 0x514 set
 * the address's high half, to 0x518 its low half and start the transfer. */
static uint64_t dma_reg_read(void *opaque, uint64_t offset, unsigned size)
{
	(void)opaque;
	uint64_t value = 0;
	for (unsigned i = 0; i < size && offset + i < 8; i++)
		value |= (uint64_t)(uint8_t)FW_CFG_DMA_SIGNATURE[offset + i] << (8 * i);
	return value;
}

static uint32_t bswap32(uint32_t v)
{
	return __builtin_bswap32(v);
}

static void dma_reg_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
	struct fw_cfg *cfg = opaque;
	if (size != 4 || (offset != 0 && offset != 4))
		return;
	g_mutex_lock(&cfg->lock);
	if (offset == 0) {
		cfg->dma_high = bswap32((uint32_t)value);
	} else {
		uint64_t desc = (uint64_t)cfg->dma_high << 32 | bswap32((uint32_t)value);
		cfg->dma_high = 0;  /* a later low-only write means an address below 4 GiB */
		dma_transfer(cfg, desc);
	}
	g_mutex_unlock(&cfg->lock);
}

static const struct bus_ops ports_ops = { ports_read, ports_write, "fw_cfg" };
static const struct bus_ops dma_ops = { dma_reg_read, dma_reg_write, "fw_cfg DMA" };

int fw_cfg_init(struct fw_cfg *cfg, struct bus *pio, const struct guest_mem *mem)
{
	static const uint8_t signature[4] = { 'Q', 'E', 'M', 'U' };
	memset(cfg, 0, sizeof(*cfg));
	g_mutex_init(&cfg->lock);
	cfg->mem = mem;
	fw_cfg_add_bytes(cfg, FW_CFG_SIGNATURE, signature, sizeof(signature));
	fw_cfg_add_u32(cfg, FW_CFG_ID, FW_CFG_VERSION_TRADITIONAL | FW_CFG_VERSION_DMA);
	rebuild_directory(cfg);
	int err = bus_register(pio, FW_CFG_PORT_SELECTOR, 2, &ports_ops, cfg);
	if (err == 0 && (err = bus_register(pio, FW_CFG_PORT_DMA, 8, &dma_ops, cfg)) < 0)
		bus_unregister(pio, FW_CFG_PORT_SELECTOR, cfg);
	if (err < 0)
		fw_cfg_destroy(cfg);
	return err;
}

void fw_cfg_destroy(struct fw_cfg *cfg)
{
	for (unsigned k = 0; k < 2; k++)
		for (unsigned i = 0; i < FW_CFG_MAX_ENTRIES; i++)
			g_free(cfg->items[k][i].data);
	memset(cfg->items, 0, sizeof(cfg->items));
	g_mutex_clear(&cfg->lock);
}

/* --- device object (core/device.h) ----------------------------------- */

/* The items are the machine's configuration, which the engine sets up
 * again: the state is where the firmware is reading. */
static const struct state_field fw_cfg_state[] = {
	STATE_FIELD(struct fw_cfg, selector), STATE_FIELD(struct fw_cfg, offset),
	STATE_FIELD(struct fw_cfg, dma_high),
};

static void fw_cfg_reset(void *opaque)
{
	struct fw_cfg *cfg = opaque;
	g_mutex_lock(&cfg->lock);
	select_key(cfg, FW_CFG_SIGNATURE);
	cfg->dma_high = 0;
	g_mutex_unlock(&cfg->lock);
}

static void fw_cfg_save(void *opaque, struct state_writer *w)
{
	struct fw_cfg *cfg = opaque;
	state_put_fields_locked(w, &cfg->lock, fw_cfg_state, G_N_ELEMENTS(fw_cfg_state), cfg);
}

static bool fw_cfg_load(void *opaque, struct state_reader *r)
{
	struct fw_cfg *cfg = opaque;
	return state_get_fields_locked(r, &cfg->lock, fw_cfg_state, G_N_ELEMENTS(fw_cfg_state), cfg);
}

static void fw_cfg_teardown(void *opaque)
{
	fw_cfg_destroy(opaque);
}

static void fw_cfg_claims(void *opaque, struct device_claims *claims)
{
	(void)opaque;
	device_claim(claims, "selector and data", DEVICE_PIO, FW_CFG_PORT_SELECTOR, 2);
	device_claim(claims, "DMA address", DEVICE_PIO, FW_CFG_PORT_DMA, 8);
}

const struct device_ops fw_cfg_device_ops = {
	"fw-cfg", 1, fw_cfg_reset, fw_cfg_teardown, fw_cfg_save, fw_cfg_load, fw_cfg_claims,
};
