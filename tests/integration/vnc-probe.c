/* A scripted VNC viewer for the tests, on libvncclient: a real RFB client
 * that the test drives with one command per line on stdin and answers one
 * line each on stdout.
 *
 *   vnc-probe HOST PORT [PASSWORD]
 *   size W H SECONDS   wait until the desktop is W x H and fully received   -> "size W H" | "timeout"
 *   dump FILE          ask for the whole screen, write it as a binary PPM   -> "dumped W H"
 *   idle SECONDS       take updates as a viewer does; count pixel bytes    -> "idle-bytes N"
 *   key KEYSYM DOWN    a key event (keysym in hex, DOWN 1 or 0)             -> "ok"
 *   pointer X Y MASK   a pointer event                                       -> "ok"
 *   resize W H         ask the server for a W x H desktop (SetDesktopSize)  -> "ok" | "failed"
 *   cursor SECONDS [X Y]...  wait for the server's cursor shape; its size, hot
 *                      spot and the ARGB of pixels (0,0) (5,5) (20,20) or of
 *                      the points given -> "cursor W H HOTX HOTY X,Y=AARRGGBB..." | "no-cursor"
 *   latency N PAUSE    N key presses (after a random pause of up to PAUSE ms each), each timed until
 *                      the vga-bench guest's square shows the key's colour  -> "latency MIN MEDIAN P95 MAX FAILED T0 T1 ..."
 *   redraw ENC [FILE]  a second viewer connects with only encoding ENC, takes its first full picture
 *                      and then updates until 300 ms pass quietly; the bytes it received (handshake
 *                      included), the updates that covered the screen, ms from connecting to the
 *                      last of them; the picture optionally saved as a PPM     -> "redraw-bytes N W H UPDATES MS"
 *
 * Exits 1 with a message when it cannot connect or authenticate. */
#include <rfb/rfbclient.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <netinet/in.h>
#include <linux/tcp.h>          /* struct tcp_info with tcpi_bytes_received */
#include <time.h>

static const char *password;
static unsigned long long pixel_bytes;
static unsigned long long update_area;   /* pixels in the update being received */
static int full_updates;                 /* updates that covered the whole screen */

/* The last cursor shape the server sent (RichCursor), as ARGB. */
static struct {
	int width, height, hot_x, hot_y, count;
	uint32_t *argb;
} cursor;

static char *get_password(rfbClient *client)
{
	(void)client;
	return strdup(password ? password : "");
}

static void got_update(rfbClient *client, int x, int y, int w, int h)
{
	(void)x, (void)y;
	pixel_bytes += (unsigned long long)w * h * (unsigned)client->format.bitsPerPixel / 8;
	update_area += (unsigned long long)w * h;
}

/* libvncclient keeps an incremental request outstanding, so the update that
 * answers ours is recognised by covering the whole screen. */
static void finished_update(rfbClient *client)
{
	if (update_area >= (unsigned long long)client->width * client->height)
		full_updates++;
	update_area = 0;
}

/* libvncclient hands over the shape in the client's pixel format
 * (rcSource) with a one-byte-per-pixel mask (rcMask). */
static void got_cursor_shape(rfbClient *client, int xhot, int yhot, int width, int height, int bytes_per_pixel)
{
	const rfbPixelFormat *fmt = &client->format;
	if (!client->rcSource || !client->rcMask || bytes_per_pixel != 4)
		return;
	free(cursor.argb);
	cursor.argb = malloc((size_t)width * height * sizeof(uint32_t));
	if (!cursor.argb)
		return;
	for (int i = 0; i < width * height; i++) {
		uint32_t p = ((uint32_t *)client->rcSource)[i];
		uint32_t r = p >> fmt->redShift & fmt->redMax, g = p >> fmt->greenShift & fmt->greenMax;
		uint32_t b = p >> fmt->blueShift & fmt->blueMax;
		cursor.argb[i] = (client->rcMask[i] ? 0xFF000000u : 0) | r << 16 | g << 8 | b;
	}
	cursor.width = width;
	cursor.height = height;
	cursor.hot_x = xhot;
	cursor.hot_y = yhot;
	cursor.count++;
}

static void print_cursor(char *points)
{
	int xy[64], n = 0, used;
	while (n < 64 && sscanf(points, "%d %d%n", &xy[n], &xy[n + 1], &used) == 2) {
		n += 2;
		points += used;
	}
	if (n == 0) {
		static const int defaults[] = { 0, 0, 5, 5, 20, 20 };
		memcpy(xy, defaults, sizeof(defaults));
		n = 6;
	}
	printf("cursor %d %d %d %d", cursor.width, cursor.height, cursor.hot_x, cursor.hot_y);
	for (int i = 0; i < n; i += 2) {
		int x = xy[i], y = xy[i + 1];
		if (x < 0 || y < 0 || x >= cursor.width || y >= cursor.height)
			printf(" %d,%d=outside", x, y);
		else
			printf(" %d,%d=%08x", x, y, cursor.argb[y * cursor.width + x]);
	}
	printf("\n");
}

static double now(void)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	return tv.tv_sec + tv.tv_usec / 1e6;
}

/* Handles messages until `deadline`; false when the connection broke. */
static int pump_until(rfbClient *client, double deadline, int (*done)(rfbClient *, void *), void *arg)
{
	while (now() < deadline) {
		if (done && done(client, arg))
			return 1;
		int n = WaitForMessage(client, 50000);
		if (n < 0 || (n > 0 && !HandleRFBServerMessage(client)))
			return 0;
	}
	return done ? done(client, arg) : 1;
}

static int update_count_reached(rfbClient *client, void *arg)
{
	(void)client;
	return full_updates >= *(int *)arg;
}

/* Requests the whole screen and waits for that update to finish. */
static int full_update(rfbClient *client, double seconds)
{
	int want = full_updates + 1;
	SendFramebufferUpdateRequest(client, 0, 0, client->width, client->height, FALSE);
	return pump_until(client, now() + seconds, update_count_reached, &want);
}

static int size_is(rfbClient *client, void *arg)
{
	const int *wh = arg;
	return client->width == wh[0] && client->height == wh[1];
}

static int have_cursor(rfbClient *client, void *arg)
{
	(void)client, (void)arg;
	return cursor.count > 0;
}

/* SetDesktopSize with one screen covering the desktop. Not libvncclient's
 * SendExtDesktopSize: that (0.9.14) sends nothing until the server has
 * announced a screen with a non-zero id (QEMU announces id 0), and leaves
 * the screen's id, position and flags uninitialised. */
static int set_desktop_size(rfbClient *client, uint16_t width, uint16_t height)
{
	rfbSetDesktopSizeMsg msg = { .type = rfbSetDesktopSize, .numberOfScreens = 1 };
	rfbExtDesktopScreen screen = { 0 };
	msg.width = screen.width = rfbClientSwap16IfLE(width);
	msg.height = screen.height = rfbClientSwap16IfLE(height);
	return WriteToRFBServer(client, (char *)&msg, sz_rfbSetDesktopSizeMsg) &&
	       WriteToRFBServer(client, (char *)&screen, sz_rfbExtDesktopScreen);
}

static void dump(rfbClient *client, const char *path)
{
	FILE *f = fopen(path, "wb");
	const rfbPixelFormat *fmt = &client->format;
	fprintf(f, "P6\n%d %d\n255\n", client->width, client->height);
	for (int i = 0; i < client->width * client->height; i++) {
		uint32_t p = ((uint32_t *)client->frameBuffer)[i];
		fputc((int)(p >> fmt->redShift & fmt->redMax), f);
		fputc((int)(p >> fmt->greenShift & fmt->greenMax), f);
		fputc((int)(p >> fmt->blueShift & fmt->blueMax), f);
	}
	fclose(f);
}

/* --- latency and redraw: the display benchmarks (tests/bench/) --------- */

static double monotonic(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);  /* Python's time.monotonic(): the scripts compare stamps */
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* tests/guest/vga-bench.c: the square's last pixel and key_colour(). */
#define BENCH_SQUARE_LAST_X (960 + 31)
#define BENCH_SQUARE_LAST_Y (16 + 31)

static uint32_t bench_key_colour(uint8_t set1)
{
	return ((set1 * 0x9E3779B1u) >> 8 | 0x404040) & 0xFFFFFF;
}

static int bench_square_is(rfbClient *client, void *arg)
{
	const rfbPixelFormat *f = &client->format;
	if (client->width <= BENCH_SQUARE_LAST_X || client->height <= BENCH_SQUARE_LAST_Y)
		return 0;
	uint32_t p = ((uint32_t *)client->frameBuffer)[BENCH_SQUARE_LAST_Y * client->width + BENCH_SQUARE_LAST_X];
	uint32_t rgb = (p >> f->redShift & f->redMax) << 16 | (p >> f->greenShift & f->greenMax) << 8 |
		       (p >> f->blueShift & f->blueMax);
	return rgb == *(uint32_t *)arg;
}

/* Takes updates for `seconds`, to the microsecond (pump_until looks at
 * its deadline only every 50 ms when nothing comes). */
static void pump_exactly(rfbClient *client, double seconds)
{
	double end = monotonic() + seconds, left;
	while ((left = end - monotonic()) > 0) {
		int n = WaitForMessage(client, (unsigned)(left * 1e6) + 1);
		if (n < 0 || (n > 0 && !HandleRFBServerMessage(client)))
			return;
	}
}

static int compare_doubles(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Key down and up, then take updates until the square has the key's
 * colour. Keys cycle through a row of letters so that each press changes
 * the colour. The random pause before each press spreads the presses over
 * the server's refresh phase, as a typist's would. */
static void latency(rfbClient *client, int n, int pause_ms)
{
	static const struct { uint32_t keysym; uint8_t set1; } keys[] = {
		{ 'a', 0x1E }, { 's', 0x1F }, { 'd', 0x20 }, { 'f', 0x21 }, { 'g', 0x22 },
		{ 'h', 0x23 }, { 'j', 0x24 }, { 'k', 0x25 }, { 'l', 0x26 },
	};
	double *ms = calloc((size_t)n, sizeof(double)), *stamps = calloc((size_t)n * 2, sizeof(double));
	int got = 0, failed = 0;
	srand(1);
	for (int i = 0; i < n; i++) {
		unsigned k = (unsigned)i % (sizeof(keys) / sizeof(keys[0]));
		uint32_t want = bench_key_colour(keys[k].set1);
		pump_exactly(client, (pause_ms > 0 ? rand() % (pause_ms + 1) : 0) / 1e3);
		double t0 = monotonic();
		SendKeyEvent(client, keys[k].keysym, TRUE);
		SendKeyEvent(client, keys[k].keysym, FALSE);
		if (!pump_until(client, now() + 10, bench_square_is, &want)) {
			failed++;
			continue;
		}
		double t1 = monotonic();
		stamps[2 * i] = t0;
		stamps[2 * i + 1] = t1;
		ms[got++] = (t1 - t0) * 1e3;
	}
	double *sorted = calloc((size_t)(got ? got : 1), sizeof(double));
	memcpy(sorted, ms, (size_t)got * sizeof(double));
	qsort(sorted, (size_t)got, sizeof(double), compare_doubles);
	if (got)
		printf("latency %.3f %.3f %.3f %.3f %d", sorted[0], got % 2 ? sorted[got / 2] :
		       (sorted[got / 2 - 1] + sorted[got / 2]) / 2, sorted[(got * 95 + 99) / 100 - 1], sorted[got - 1],
		       failed);
	else
		printf("latency - - - - %d", failed);
	for (int i = 0; i < n; i++)
		printf(" %.6f %.6f", stamps[2 * i], stamps[2 * i + 1]);
	printf("\n");
	free(ms);
	free(stamps);
	free(sorted);
}

/* A second viewer with only `encoding` (lossless: no JPEG) and the same
 * pixel format: its first update is the whole screen, asked for
 * non-incrementally as every viewer does on connecting. The kernel's count
 * of bytes received on its socket is the bytes on the wire. */
static void redraw(rfbClient *first, const char *encoding, const char *path)
{
	double start = monotonic();
	rfbClient *client = rfbGetClient(8, 3, 4);
	client->serverHost = strdup(first->serverHost);
	client->serverPort = first->serverPort;
	client->GetPassword = get_password;
	client->GotFrameBufferUpdate = got_update;
	client->FinishedFrameBufferUpdate = finished_update;
	client->appData.encodingsString = encoding;
	client->appData.enableJPEG = FALSE;
	if (!rfbInitClient(client, NULL, NULL)) {  /* frees the client */
		printf("redraw-failed connect\n");
		return;
	}
	int before = full_updates, want = before + 1;
	struct tcp_info info = { 0 };
	socklen_t len = sizeof(info);
	if (!pump_until(client, now() + 30, update_count_reached, &want)) {
		printf("redraw-failed timeout\n");
		rfbClientCleanup(client);
		return;
	}
	double last = monotonic();
	/* Some servers send a size announcement first, which libvncclient
	 * takes for a full-screen update; so take what comes until the line
	 * is quiet for 300 ms, and say how many whole-screen updates that was. */
	while (WaitForMessage(client, 300000) > 0) {
		if (!HandleRFBServerMessage(client))
			break;
		last = monotonic();
	}
	double ms = (last - start) * 1e3;
	getsockopt(client->sock, IPPROTO_TCP, TCP_INFO, &info, &len);
	if (path)
		dump(client, path);
	printf("redraw-bytes %llu %d %d %d %.1f\n", (unsigned long long)info.tcpi_bytes_received, client->width,
	       client->height, full_updates - before, ms);
	rfbClientCleanup(client);
}

static void command(rfbClient *client, char *line)
{
	char arg[4096], enc[64];
	int a, b, c;
	double secs;
	if (sscanf(line, "size %d %d %lf", &a, &b, &secs) == 3) {
		int wh[2] = { a, b };
		double deadline = now() + secs;
		int ok = pump_until(client, deadline, size_is, wh) && full_update(client, deadline - now());
		printf(ok && size_is(client, wh) ? "size %d %d\n" : "timeout %d %d\n", client->width, client->height);
	} else if (sscanf(line, "dump %4095s", arg) == 1) {
		full_update(client, 10);
		dump(client, arg);
		printf("dumped %d %d\n", client->width, client->height);
	} else if (sscanf(line, "idle %lf", &secs) == 1) {
		double end = now() + secs;
		pixel_bytes = 0;
		/* libvncclient keeps one incremental request outstanding, as viewers do. */
		pump_until(client, end, NULL, NULL);
		printf("idle-bytes %llu\n", pixel_bytes);
	} else if (sscanf(line, "key %x %d", (unsigned *)&a, &b) == 2) {
		SendKeyEvent(client, (uint32_t)a, b ? TRUE : FALSE);
		printf("ok\n");
	} else if (sscanf(line, "pointer %d %d %d", &a, &b, &c) == 3) {
		SendPointerEvent(client, a, b, c);
		printf("ok\n");
	} else if (sscanf(line, "resize %d %d", &a, &b) == 2) {
		printf(set_desktop_size(client, (uint16_t)a, (uint16_t)b) ? "ok\n" : "failed\n");
	} else if (sscanf(line, "cursor %lf%n", &secs, &c) == 1) {
		if (pump_until(client, now() + secs, have_cursor, NULL))
			print_cursor(line + c);
		else
			printf("no-cursor\n");
	} else if (sscanf(line, "latency %d %d", &a, &b) == 2) {
		latency(client, a, b);
	} else if (sscanf(line, "redraw %63s %4095s", enc, arg) >= 1) {
		redraw(client, enc, sscanf(line, "redraw %*s %4095s", arg) == 1 ? arg : NULL);
	} else {
		printf("unknown command\n");
	}
	fflush(stdout);
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: vnc-probe HOST PORT [PASSWORD]\n");
		return 2;
	}
	password = argc > 3 ? argv[3] : NULL;
	rfbEnableClientLogging = getenv("VNC_PROBE_LOG") != NULL;
	rfbClient *client = rfbGetClient(8, 3, 4);
	client->serverHost = strdup(argv[1]);
	client->serverPort = atoi(argv[2]);
	client->GetPassword = get_password;
	client->GotFrameBufferUpdate = got_update;
	client->FinishedFrameBufferUpdate = finished_update;
	client->appData.encodingsString = "raw";
	client->appData.useRemoteCursor = TRUE;   /* the shape comes as RichCursor, not drawn into the pixels */
	client->GotCursorShape = got_cursor_shape;
	if (!rfbInitClient(client, NULL, NULL)) {
		fprintf(stderr, "vnc-probe: cannot connect to or authenticate with %s:%s\n", argv[1], argv[2]);
		return 1;
	}
	printf("connected %d %d\n", client->width, client->height);
	fflush(stdout);
	char line[8192];
	while (fgets(line, sizeof(line), stdin))
		command(client, line);
	rfbClientCleanup(client);
	return 0;
}
