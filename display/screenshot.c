/* PNG screenshots. See screenshot.h. Section numbers are those of PNG
 * (ISO/IEC 15948:2004); deflate and CRC-32 come from zlib. */
#include "screenshot.h"

#include <zlib.h>

/* §5.2 */
static const uint8_t png_signature[] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n' };
/* §11.2.2 IHDR */
#define PNG_BIT_DEPTH 8
#define PNG_COLOUR_TRUECOLOUR 2
#define PNG_COMPRESSION_DEFLATE 0
#define PNG_FILTER_METHOD_ADAPTIVE 0
#define PNG_INTERLACE_NONE 0
/* §9.2: each scanline starts with its filter type; None leaves bytes as they are. */
#define PNG_FILTER_NONE 0
#define RGB_BYTES 3
#define FILE_MODE 0644

static void put_be32(GByteArray *out, uint32_t v)
{
	const uint8_t b[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };
	g_byte_array_append(out, b, sizeof(b));
}

/* §5.3: length, type, data, CRC-32 of type and data. */
static void put_chunk(GByteArray *out, const char type[4], const uint8_t *data, size_t len)
{
	uLong crc = crc32(0, (const Bytef *)type, 4);
	if (len)   /* crc32() with a NULL buffer restarts at 0 */
		crc = crc32(crc, data, (uInt)len);
	put_be32(out, (uint32_t)len);
	g_byte_array_append(out, (const guint8 *)type, 4);
	g_byte_array_append(out, data, (guint)len);
	put_be32(out, (uint32_t)crc);
}

/* The surface as PNG scanlines (filter byte, then R, G, B per pixel). NULL
 * when there is no surface. Console lock held. */
static uint8_t *scanlines(const struct console_surface *s, size_t *len)
{
	if (s->format == CONSOLE_FORMAT_NONE)
		return NULL;
	size_t line = 1 + (size_t)s->width * RGB_BYTES;
	uint8_t *raw = g_malloc(line * s->height);
	uint32_t *rgb = g_new(uint32_t, s->width);
	for (unsigned y = 0; y < s->height; y++) {
		uint8_t *dst = raw + line * y;
		console_read_row(s, 0, y, s->width, rgb);
		*dst++ = PNG_FILTER_NONE;
		for (unsigned x = 0; x < s->width; x++) {
			*dst++ = (uint8_t)(rgb[x] >> 16);
			*dst++ = (uint8_t)(rgb[x] >> 8);
			*dst++ = (uint8_t)rgb[x];
		}
	}
	g_free(rgb);
	*len = line * s->height;
	return raw;
}

/* NULL only when zlib runs out of memory. */
static GByteArray *encode(unsigned width, unsigned height, const uint8_t *raw, size_t raw_len)
{
	GByteArray *png = g_byte_array_new();
	g_byte_array_append(png, png_signature, sizeof(png_signature));

	GByteArray *ihdr = g_byte_array_new();
	put_be32(ihdr, width);
	put_be32(ihdr, height);
	const uint8_t rest[] = { PNG_BIT_DEPTH, PNG_COLOUR_TRUECOLOUR, PNG_COMPRESSION_DEFLATE,
				 PNG_FILTER_METHOD_ADAPTIVE, PNG_INTERLACE_NONE };
	g_byte_array_append(ihdr, rest, sizeof(rest));
	put_chunk(png, "IHDR", ihdr->data, ihdr->len);
	g_byte_array_unref(ihdr);

	/* §10.1: one zlib stream; one IDAT chunk is enough. */
	uLongf idat_len = compressBound(raw_len);
	uint8_t *idat = g_malloc(idat_len);
	if (compress2(idat, &idat_len, raw, raw_len, Z_DEFAULT_COMPRESSION) != Z_OK) {
		g_free(idat);
		g_byte_array_unref(png);
		return NULL;
	}
	put_chunk(png, "IDAT", idat, idat_len);
	g_free(idat);

	put_chunk(png, "IEND", NULL, 0);
	return png;
}

bool screenshot_write_png(struct console *con, const char *path, unsigned *width, unsigned *height, char **error)
{
	size_t raw_len = 0;
	console_lock(con);
	struct console_surface s = con->surface;
	uint8_t *raw = scanlines(&s, &raw_len);
	console_unlock(con);
	if (!raw) {
		*error = g_strdup_printf("screenshot %s: the guest has not set a display mode yet", path);
		return false;
	}

	if (width)
		*width = s.width;
	if (height)
		*height = s.height;
	GByteArray *png = encode(s.width, s.height, raw, raw_len);
	g_free(raw);
	if (!png) {
		*error = g_strdup_printf("screenshot %s: out of memory compressing the picture", path);
		return false;
	}
	GError *gerror = NULL;
	bool ok = g_file_set_contents_full(path, (const gchar *)png->data, png->len, G_FILE_SET_CONTENTS_CONSISTENT,
					   FILE_MODE, &gerror);
	g_byte_array_unref(png);
	if (!ok) {
		*error = g_strdup_printf("screenshot: %s", gerror->message);
		g_error_free(gerror);
	}
	return ok;
}
