/* Character backends' output (engine/backend/chardev.c): a file, as
 * --serial file:PATH makes it, and a descriptor limited as --firmware-log's
 * is, stop at CHARDEV_FILE_LIMIT however much a guest writes, with one line
 * saying so; what came before is all there. */
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend/chardev.h"

#define CHUNK (1u << 20)

static char *scratch;

/* Writes `total` bytes of a counting pattern in CHUNK pieces, then a few
 * single bytes more, as a UART would send them. */
static void write_pattern(struct chardev *chr, uint64_t total)
{
	g_autofree uint8_t *chunk = g_malloc(CHUNK);
	for (unsigned i = 0; i < CHUNK; i++)
		chunk[i] = (uint8_t)i;
	for (uint64_t done = 0; done < total; done += CHUNK)
		chardev_write(chr, chunk, (size_t)MIN(CHUNK, total - done));
	for (unsigned i = 0; i < 3; i++)
		chardev_write(chr, chunk, 1);
}

/* The file holds the limit's worth of the pattern, then the note once. */
static void assert_stopped_at_limit(const char *path)
{
	g_autofree char *bytes = NULL;
	gsize size = 0;
	g_assert_true(g_file_get_contents(path, &bytes, &size, NULL));
	size_t note = strlen(CHARDEV_LIMIT_NOTE);
	g_assert_cmpuint(size, ==, CHARDEV_FILE_LIMIT + note);
	for (size_t at = 0; at < CHARDEV_FILE_LIMIT; at += CHUNK / 4 - 1)
		g_assert_cmpuint((uint8_t)bytes[at], ==, (uint8_t)(at % CHUNK));
	g_assert_cmpmem(bytes + CHARDEV_FILE_LIMIT, note, CHARDEV_LIMIT_NOTE, note);
}

static void test_file_limit(void)
{
	g_autofree char *path = g_build_filename(scratch, "serial.log", NULL);
	g_autofree char *spec = g_strconcat("file:", path, NULL);
	g_autofree char *error = NULL;
	struct chardev chr;
	g_assert_cmpint(chardev_open(&chr, spec, NULL, &error), ==, 0);
	write_pattern(&chr, CHARDEV_FILE_LIMIT + 3 * CHUNK / 2);
	chardev_close(&chr);
	assert_stopped_at_limit(path);
	g_unlink(path);
}

/* Exactly the limit: nothing dropped, so no note, until one byte more. */
static void test_limited_descriptor(void)
{
	g_autofree char *path = g_build_filename(scratch, "firmware.log", NULL);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	g_assert_cmpint(fd, >=, 0);
	struct chardev chr;
	chardev_open_fds(&chr, -1, fd, NULL);
	chardev_limit_output(&chr, CHARDEV_FILE_LIMIT);
	g_autofree uint8_t *chunk = g_malloc0(CHUNK);
	for (uint64_t done = 0; done < CHARDEV_FILE_LIMIT; done += CHUNK)
		chardev_write(&chr, chunk, CHUNK);
	struct stat st;
	g_assert_cmpint(fstat(fd, &st), ==, 0);
	g_assert_cmpint(st.st_size, ==, CHARDEV_FILE_LIMIT);
	chardev_write(&chr, chunk, 1);
	chardev_write(&chr, chunk, CHUNK);
	g_assert_cmpint(fstat(fd, &st), ==, 0);
	g_assert_cmpint(st.st_size, ==, CHARDEV_FILE_LIMIT + strlen(CHARDEV_LIMIT_NOTE));
	chardev_close(&chr);
	close(fd);
	g_unlink(path);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	scratch = g_dir_make_tmp("vireo-chardev-XXXXXX", NULL);
	g_assert_nonnull(scratch);
	g_test_add_func("/chardev/file-limit", test_file_limit);
	g_test_add_func("/chardev/limited-descriptor", test_limited_descriptor);
	int status = g_test_run();
	g_rmdir(scratch);
	return status;
}
