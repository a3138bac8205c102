/* fbdraw: draws a picture a test can predict into /dev/fb0 through Linux's
 * fbdev interface (here the fbdev emulation of bochs-drm or virtio_gpu),
 * the way a simple graphical program would: FBIOGET_VSCREENINFO and
 * FBIOGET_FSCREENINFO, mmap, plain stores. The pictures are those of
 * tests/guest/vga.c, scaled to the mode:
 *   32 bpp: quadrants red (top left), green (top right), blue (bottom left),
 *           white (bottom right) split at xres/2 and yres/2, with a black
 *           line on every 64th row and column;
 *   16 bpp: eight vertical bars xres/8 wide, bar i coloured r = bit 2,
 *           g = bit 1, b = bit 0 at full intensity, with a white line on
 *           every 100th row.
 * Pixels are composed from the red/green/blue bit fields the driver
 * reports, so the colours are right whatever the channel order. Prints
 * "fbdraw: WxHxBPP drawn" and then waits for a line on stdin before it
 * exits, so a test can look at the screen. Built static for the initramfs. */
#include <fcntl.h>
#include <linux/fb.h>
#include <linux/kd.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

static struct fb_var_screeninfo var;

/* An 8-bit-per-channel colour in the framebuffer's own pixel layout. */
static uint32_t colour(unsigned r, unsigned g, unsigned b)
{
	return (r >> (8 - var.red.length)) << var.red.offset |
	       (g >> (8 - var.green.length)) << var.green.offset |
	       (b >> (8 - var.blue.length)) << var.blue.offset;
}

static uint32_t pattern32(unsigned x, unsigned y)
{
	static const unsigned quadrant[4][3] = { { 255, 0, 0 }, { 0, 255, 0 }, { 0, 0, 255 }, { 255, 255, 255 } };
	if (x % 64 == 0 || y % 64 == 0)
		return colour(0, 0, 0);
	const unsigned *c = quadrant[(y >= var.yres / 2) * 2 + (x >= var.xres / 2)];
	return colour(c[0], c[1], c[2]);
}

static uint32_t pattern16(unsigned x, unsigned y)
{
	unsigned bar = x * 8 / var.xres;
	if (y % 100 == 0)
		return colour(255, 255, 255);
	return colour(bar & 4 ? 255 : 0, bar & 2 ? 255 : 0, bar & 1 ? 255 : 0);
}

/* The driver may still be registering the framebuffer when we start. */
static int open_fb(void)
{
	for (int tries = 0; tries < 100; tries++) {
		int fd = open("/dev/fb0", O_RDWR);
		if (fd >= 0)
			return fd;
		usleep(100000);
	}
	perror("fbdraw: /dev/fb0");
	return -1;
}

int main(void)
{
	int fd = open_fb();
	if (fd < 0)
		return 1;
	struct fb_fix_screeninfo fix;
	if (ioctl(fd, FBIOGET_VSCREENINFO, &var) < 0 || ioctl(fd, FBIOGET_FSCREENINFO, &fix) < 0) {
		perror("fbdraw: FBIOGET_*SCREENINFO");
		return 1;
	}
	if (var.bits_per_pixel != 32 && var.bits_per_pixel != 16) {
		fprintf(stderr, "fbdraw: %ux%ux%u: only 32 and 16 bpp are drawn\n", var.xres, var.yres,
		        var.bits_per_pixel);
		return 1;
	}
	size_t size = (size_t)fix.line_length * var.yres_virtual;
	uint8_t *fb = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (fb == MAP_FAILED) {
		perror("fbdraw: mmap");
		return 1;
	}
	/* fbcon shares the framebuffer and would blink its cursor into the
	 * picture: tell the VT layer the screen is ours, as X servers do. */
	int tty = open("/dev/tty0", O_RDWR);
	if (tty >= 0 && ioctl(tty, KDSETMODE, KD_GRAPHICS) < 0)
		perror("fbdraw: KDSETMODE");

	/* Draw the visible page (the panning offsets are 0 after a mode set). */
	uint8_t *page = fb + (size_t)var.yoffset * fix.line_length + var.xoffset * (var.bits_per_pixel / 8);
	for (unsigned y = 0; y < var.yres; y++) {
		uint8_t *row = page + (size_t)y * fix.line_length;
		for (unsigned x = 0; x < var.xres; x++) {
			if (var.bits_per_pixel == 32)
				((uint32_t *)row)[x] = pattern32(x, y);
			else
				((uint16_t *)row)[x] = (uint16_t)pattern16(x, y);
		}
	}
	/* Drivers with a shadow buffer copy it out on a timer (deferred I/O);
	 * msync asks for the copy now. */
	msync(fb, size, MS_SYNC);
	printf("fbdraw: %ux%ux%u drawn\n", var.xres, var.yres, var.bits_per_pixel);
	fflush(stdout);

	char line[64];
	if (!fgets(line, sizeof(line), stdin))
		line[0] = 0;
	if (tty >= 0)
		ioctl(tty, KDSETMODE, KD_TEXT);
	return 0;
}
