/* Firmware image files. See firmware.h. */
#include "firmware.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define BIOS_GRANULE 0x10000u   /* images come in 64 KiB units */

char *firmware_path(const char *file)
{
	const char *dir = getenv("VIREO_FIRMWARE_DIR");
	return g_build_filename(dir && *dir ? dir : FIRMWARE_DIR_DEFAULT, file, NULL);
}

/* Opens the file and checks it is a regular file of a plausible size. */
static int open_checked(const char *file, size_t min, size_t max, size_t granule, struct stat *st, char **error)
{
	g_autofree char *path = firmware_path(file);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		*error = g_strdup_printf("firmware %s: %s (install Debian's %s package)", path, g_strerror(errno),
					 FIRMWARE_PACKAGE);
		return -1;
	}
	if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode) || (size_t)st->st_size < min || (size_t)st->st_size > max ||
	    (size_t)st->st_size % granule) {
		*error = g_strdup_printf("firmware %s: not a firmware image (expected a file of %zu KiB to %zu MiB)",
					 path, min >> 10, max >> 20);
		close(fd);
		return -1;
	}
	return fd;
}

static bool read_all(int fd, void *dst, size_t size)
{
	for (size_t done = 0; done < size;) {
		ssize_t n = pread(fd, (uint8_t *)dst + done, size - done, (off_t)done);
		if (n <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			return false;
		}
		done += (size_t)n;
	}
	return true;
}

bool firmware_check(const char *file, char **error)
{
	struct stat st;
	int fd = open_checked(file, FIRMWARE_LOW_ALIAS_SIZE, FIRMWARE_MAX_SIZE, BIOS_GRANULE, &st, error);
	if (fd < 0)
		return false;
	close(fd);
	return true;
}

int firmware_load(struct firmware_image *img, const char *file, char **error)
{
	struct stat st;
	memset(img, 0, sizeof(*img));
	int fd = open_checked(file, FIRMWARE_LOW_ALIAS_SIZE, FIRMWARE_MAX_SIZE, BIOS_GRANULE, &st, error);
	if (fd < 0)
		return -1;
	/* A copy of our own, so a package upgrade while the machine runs cannot
	 * change the ROM under the guest; read-only once filled. */
	size_t size = (size_t)st.st_size;
	void *data = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	bool ok = data != MAP_FAILED && read_all(fd, data, size) && mprotect(data, size, PROT_READ) == 0;
	close(fd);
	if (!ok) {
		g_autofree char *path = firmware_path(file);
		*error = g_strdup_printf("firmware %s: cannot read it: %s", path, g_strerror(errno));
		if (data != MAP_FAILED)
			munmap(data, size);
		return -1;
	}
	img->data = data;
	img->size = size;
	return 0;
}

void firmware_unload(struct firmware_image *img)
{
	if (img->data)
		munmap(img->data, img->size);
	memset(img, 0, sizeof(*img));
}

uint8_t *firmware_read_rom(const char *file, size_t *size, char **error)
{
	struct stat st;
	int fd = open_checked(file, 512, 1u << 20, 512, &st, error);  /* option ROMs come in 512-byte blocks */
	if (fd < 0)
		return NULL;
	uint8_t *data = g_malloc((size_t)st.st_size);
	bool ok = read_all(fd, data, (size_t)st.st_size);
	close(fd);
	if (!ok) {
		g_autofree char *path = firmware_path(file);
		*error = g_strdup_printf("firmware %s: cannot read it: %s", path, g_strerror(errno));
		g_free(data);
		return NULL;
	}
	*size = (size_t)st.st_size;
	return data;
}
