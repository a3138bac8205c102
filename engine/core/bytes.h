/* Little-endian field access (firmware tables, device registers, virtio
 * rings), big-endian access (fw_cfg's directory, SCSI/MMC commands) and
 * byte checksums. */
#ifndef VIREO_CORE_BYTES_H
#define VIREO_CORE_BYTES_H

#include <stddef.h>
#include <stdint.h>

static inline void put_le(uint8_t *p, uint64_t v, unsigned bytes)
{
	for (unsigned i = 0; i < bytes; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint64_t get_le(const uint8_t *p, unsigned bytes)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < bytes; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static inline uint16_t get_le16(const uint8_t *p) { return (uint16_t)get_le(p, 2); }
static inline uint32_t get_le32(const uint8_t *p) { return (uint32_t)get_le(p, 4); }
static inline uint64_t get_le64(const uint8_t *p) { return get_le(p, 8); }
static inline void put_le16(uint8_t *p, uint16_t v) { put_le(p, v, 2); }
static inline void put_le32(uint8_t *p, uint32_t v) { put_le(p, v, 4); }
static inline void put_le64(uint8_t *p, uint64_t v) { put_le(p, v, 8); }

static inline void put_be(uint8_t *p, uint64_t v, unsigned bytes)
{
	for (unsigned i = 0; i < bytes; i++)
		p[i] = (uint8_t)(v >> (8 * (bytes - 1 - i)));
}

static inline uint64_t get_be(const uint8_t *p, unsigned bytes)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < bytes; i++)
		v = v << 8 | p[i];
	return v;
}

/* The byte that makes p[0..len) sum to zero (ACPI and MP table checksums). */
static inline uint8_t checksum8(const uint8_t *p, size_t len)
{
	uint8_t sum = 0;
	while (len--)
		sum += *p++;
	return (uint8_t)-sum;
}

#endif
