/* PNG screenshots: the file is read back as a viewer would (chunk CRCs,
 * IHDR, zlib inflate of IDAT, filter bytes) and every pixel compared, for
 * both surface formats; no picture and unwritable paths give errors and
 * leave no file behind. */
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <zlib.h>

#include "screenshot.h"

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

struct png {
	unsigned width, height;
	uint8_t *rgb;   /* width * height * 3 */
};

/* Checks the structure and returns the pixels. */
static struct png read_png(const char *path)
{
	static const uint8_t signature[] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n' };
	gchar *data;
	gsize len;
	g_assert_true(g_file_get_contents(path, &data, &len, NULL));
	const uint8_t *p = (const uint8_t *)data, *end = p + len;
	g_assert_cmpmem(p, 8, signature, 8);
	p += 8;

	struct png png = { 0 };
	GByteArray *idat = g_byte_array_new();
	bool iend = false;
	while (p < end) {
		g_assert_false(iend);
		uint32_t n = be32(p);
		g_assert_cmpuint(n + 12, <=, end - p);
		uLong crc = crc32(0, p + 4, n + 4);
		g_assert_cmphex(be32(p + 8 + n), ==, crc);
		if (!memcmp(p + 4, "IHDR", 4)) {
			g_assert_cmpuint(n, ==, 13);
			png.width = be32(p + 8);
			png.height = be32(p + 12);
			/* 8-bit truecolour, deflate, adaptive filtering, no interlace */
			g_assert_cmpmem(p + 16, 5, ((const uint8_t[]){ 8, 2, 0, 0, 0 }), 5);
		} else if (!memcmp(p + 4, "IDAT", 4)) {
			g_byte_array_append(idat, p + 8, n);
		} else {
			g_assert_cmpmem(p + 4, 4, "IEND", 4);
			g_assert_cmpuint(n, ==, 0);
			iend = true;
		}
		p += n + 12;
	}
	g_assert_true(iend);

	size_t line = 1 + (size_t)png.width * 3;
	uLongf raw_len = line * png.height;
	uint8_t *raw = g_malloc(raw_len + 1);
	uLongf got = raw_len + 1;   /* one spare byte: a longer stream fails the length check */
	g_assert_cmpint(uncompress(raw, &got, idat->data, idat->len), ==, Z_OK);
	g_assert_cmpuint(got, ==, raw_len);
	png.rgb = g_malloc((size_t)png.width * png.height * 3);
	for (unsigned y = 0; y < png.height; y++) {
		g_assert_cmpuint(raw[line * y], ==, 0);   /* filter None */
		memcpy(png.rgb + (size_t)y * png.width * 3, raw + line * y + 1, line - 1);
	}
	g_free(raw);
	g_byte_array_unref(idat);
	g_free(data);
	return png;
}

static void expect_pixel(const struct png *png, unsigned x, unsigned y, uint32_t rgb)
{
	const uint8_t *p = png->rgb + ((size_t)y * png->width + x) * 3;
	g_assert_cmphex((uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2], ==, rgb);
}

static char *tmp_dir(void)
{
	char *dir = g_dir_make_tmp("vireo-shot-XXXXXX", NULL);
	g_assert_nonnull(dir);
	return dir;
}

/* Only `name` is in `dir`: no temporary file left behind. */
static void expect_only(const char *dir, const char *name)
{
	GDir *d = g_dir_open(dir, 0, NULL);
	const char *entry = g_dir_read_name(d);
	g_assert_cmpstr(entry, ==, name);
	g_assert_null(g_dir_read_name(d));
	g_dir_close(d);
}

static void remove_dir(char *dir, const char *name)
{
	char *path = g_build_filename(dir, name, NULL);
	g_unlink(path);
	g_rmdir(dir);
	g_free(path);
	g_free(dir);
}

/* 5 x 3 XRGB8888 (B, G, R, X in memory) with 4 bytes of padding per line:
 * every pixel distinct, the X byte set to show it is ignored. */
static void test_xrgb8888(void)
{
	enum { W = 5, H = 3, STRIDE = W * 4 + 4 };
	uint8_t pixels[STRIDE * H];
	memset(pixels, 0xEE, sizeof(pixels));
	for (unsigned y = 0; y < H; y++)
		for (unsigned x = 0; x < W; x++) {
			uint8_t *p = pixels + y * STRIDE + x * 4;
			p[0] = (uint8_t)(0x10 * x + y);   /* blue */
			p[1] = (uint8_t)(0x40 + x);       /* green */
			p[2] = (uint8_t)(0xC0 + y);       /* red */
			p[3] = 0x5A;
		}
	struct console con;
	console_init(&con);
	console_set_surface(&con, &(struct console_surface){ CONSOLE_FORMAT_XRGB8888, W, H, STRIDE, pixels });
	char *dir = tmp_dir(), *path = g_build_filename(dir, "shot.png", NULL), *error = NULL;

	unsigned width = 0, height = 0;
	g_assert_true(screenshot_write_png(&con, path, &width, &height, &error));
	g_assert_null(error);
	g_assert_cmpuint(width, ==, W);
	g_assert_cmpuint(height, ==, H);
	struct png png = read_png(path);
	g_assert_cmpuint(png.width, ==, W);
	g_assert_cmpuint(png.height, ==, H);
	for (unsigned y = 0; y < H; y++)
		for (unsigned x = 0; x < W; x++)
			expect_pixel(&png, x, y, (0xC0 + y) << 16 | (0x40 + x) << 8 | (0x10 * x + y));
	g_free(png.rgb);
	expect_only(dir, "shot.png");

	/* A second shot replaces the first. */
	pixels[0] = 0xAB;
	g_assert_true(screenshot_write_png(&con, path, NULL, NULL, &error));
	png = read_png(path);
	expect_pixel(&png, 0, 0, 0xC040AB);
	g_free(png.rgb);
	expect_only(dir, "shot.png");

	g_free(path);
	remove_dir(dir, "shot.png");
	console_destroy(&con);
}

/* RGB565 widens each channel by repeating its top bits. */
static void test_rgb565(void)
{
	static const uint16_t in[] = { 0xFFFF, 0xF800, 0x07E0, 0x001F, 0x8410, 0x0000, 0x0821, 0x7BEF };
	static const uint32_t want[] = { 0xFFFFFF, 0xFF0000, 0x00FF00, 0x0000FF, 0x848284, 0x000000, 0x080408, 0x7B7D7B };
	enum { W = 4, H = 2 };
	uint8_t pixels[W * H * 2];
	for (unsigned i = 0; i < W * H; i++) {
		pixels[2 * i] = (uint8_t)in[i];
		pixels[2 * i + 1] = (uint8_t)(in[i] >> 8);
	}
	struct console con;
	console_init(&con);
	console_set_surface(&con, &(struct console_surface){ CONSOLE_FORMAT_RGB565, W, H, W * 2, pixels });
	char *dir = tmp_dir(), *path = g_build_filename(dir, "shot.png", NULL), *error = NULL;

	g_assert_true(screenshot_write_png(&con, path, NULL, NULL, &error));
	struct png png = read_png(path);
	g_assert_cmpuint(png.width, ==, W);
	g_assert_cmpuint(png.height, ==, H);
	for (unsigned i = 0; i < W * H; i++)
		expect_pixel(&png, i % W, i / W, want[i]);
	g_free(png.rgb);

	g_free(path);
	remove_dir(dir, "shot.png");
	console_destroy(&con);
}

static void test_errors(void)
{
	struct console con;
	console_init(&con);
	char *dir = tmp_dir(), *path = g_build_filename(dir, "shot.png", NULL), *error = NULL;

	/* No mode set yet: no picture, no file. */
	g_assert_false(screenshot_write_png(&con, path, NULL, NULL, &error));
	g_assert_nonnull(strstr(error, "has not set a display mode"));
	g_clear_pointer(&error, g_free);
	g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));

	/* A folder that does not exist: the error names the path. */
	uint8_t pixel[4] = { 0 };
	console_set_surface(&con, &(struct console_surface){ CONSOLE_FORMAT_XRGB8888, 1, 1, 4, pixel });
	char *bad = g_build_filename(dir, "missing", "shot.png", NULL);
	g_assert_false(screenshot_write_png(&con, bad, NULL, NULL, &error));
	g_assert_nonnull(strstr(error, bad));
	g_free(error);
	g_free(bad);

	g_free(path);
	g_rmdir(dir);
	g_free(dir);
	console_destroy(&con);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/screenshot/xrgb8888", test_xrgb8888);
	g_test_add_func("/screenshot/rgb565", test_rgb565);
	g_test_add_func("/screenshot/errors", test_errors);
	return g_test_run();
}
