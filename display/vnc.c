/* The VNC server. See vnc.h. */
#include "vnc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <rfb/rfb.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "keymap.h"

/* Screen refresh: about 30 a second while things change, backing off on a
 * still screen to one every 2 s (QEMU backs off to one in 3 s), and at once
 * back to 30 on any change or input. On a still screen each refresh is a
 * wakeup that costs more than the work it finds. */
#define REFRESH_MIN_USEC 33000
#define REFRESH_MAX_USEC 2112000
/* Input from a viewer brings the next refresh forward to this long after
 * it: a guest's answer to a key or click is usually drawn within a few ms,
 * and without this it waited for a refresh that may have backed off to
 * seconds (and at best came up to 33 ms later). Not sooner than the gap
 * after the previous refresh, so that a stream of pointer motion costs at
 * most 1 s / gap refreshes. */
#define INPUT_REFRESH_USEC 4000
#define INPUT_REFRESH_GAP_USEC 10000
#define MAX_POLL_FDS 64
#define MAX_PENDING_RECTS 64
#define IDLE_WIDTH 640              /* shown before the guest sets a mode */
#define IDLE_HEIGHT 480
#define LISTEN_BACKLOG 8
/* Connections at once, viewers and those still in the RFB handshake alike
 * (README); at most MAX_HANDSHAKING of them in the handshake, which each
 * may spend HANDSHAKE_USEC in. A connection beyond a cap is closed as soon
 * as it is accepted, before libvncserver spends anything on it. */
#define MAX_CONNECTIONS 8
#define MAX_HANDSHAKING 4
#define HANDSHAKE_USEC (10 * G_USEC_PER_SEC)
/* How often a connection held with part of a handshake message is looked
 * at again (hold_partial_handshakes). */
#define HOLD_RECHECK_MSEC 50

/* The handshake's messages longer than a byte: RFC 6143 §7.1.1
 * ProtocolVersion and §7.2.2 the VNC Authentication response. */
#define RFB_PROTOCOL_VERSION_LENGTH 12
#define RFB_VNC_AUTH_RESPONSE_LENGTH 16

/* RFC 6143 §7.5.5 pointer button mask. */
#define RFB_BUTTON_LEFT 1
#define RFB_BUTTON_MIDDLE 2
#define RFB_BUTTON_RIGHT 4
#define RFB_WHEEL_UP 8
#define RFB_WHEEL_DOWN 16
#define RFB_BUTTON_BACK 128         /* extension QEMU and TigerVNC use for side buttons */

struct vnc_server {
	struct console *con;
	rfbScreenInfoPtr screen;
	uint32_t *fb;
	unsigned width, height;
	GThread *thread;
	atomic_bool stop;
	int listen_fd;                  /* ours, not libvncserver's: port 0 and UNIX sockets work */
	unsigned port;                  /* 0 on a UNIX socket */
	char *address;                  /* IPv4 address, or unix:PATH */
	char *unix_path;                /* removed at stop; NULL on TCP */
	int wake_fd;                    /* eventfd: stop, or a device pushed an update */
	atomic_bool refreshing;         /* our own console_refresh is running: no wakeups needed */
	atomic_bool woken;              /* wake_fd was signalled for an update */
	int clients;
	char *passwords[2];
	struct console_listener listener;
	/* Written by the listener with the console lock held, read under it. */
	bool surface_changed;
	struct console_rect pending[MAX_PENDING_RECTS];
	unsigned pending_count;
	bool pending_overflow;
	struct console_cursor cursor;
	bool cursor_pending;
	/* Pointer state for relative motion. */
	int last_x, last_y;
	bool have_last;
	bool input_seen;                /* since the last refresh */
};

/* A device that reports changes as they happen (virtio-gpu's flush) rather
 * than when asked: refresh now, not at the next tick, which may be seconds
 * away on a screen that was still. */
static void wake_for_update(struct vnc_server *vnc)
{
	uint64_t one = 1;
	if (!atomic_load(&vnc->refreshing) && !atomic_exchange(&vnc->woken, true))
		(void)!write(vnc->wake_fd, &one, sizeof(one));
}

/* A new surface waits for the next tick: sent at once, the resize raced
 * libvncclient viewers (seen in test-vnc: the new size arrived, its pixels
 * never), and a mode change is no latency matter. */
static void on_surface_changed(void *opaque, const struct console_surface *surface)
{
	struct vnc_server *vnc = opaque;
	(void)surface;
	vnc->surface_changed = true;
}

static void on_update(void *opaque, const struct console_rect *rect)
{
	struct vnc_server *vnc = opaque;
	if (vnc->pending_count < MAX_PENDING_RECTS)
		vnc->pending[vnc->pending_count++] = *rect;
	else
		vnc->pending_overflow = true;  /* more than we track: send the whole screen */
	if (!vnc->surface_changed)      /* a pending new surface waits for the tick, as above */
		wake_for_update(vnc);
}

/* Viewers draw the pointer themselves (cursor pseudo-encodings); only its
 * image travels, never its position, which follows the viewer's own. */
static void on_cursor_changed(void *opaque, const struct console_cursor *cursor, bool shape)
{
	struct vnc_server *vnc = opaque;
	if (!shape)
		return;
	vnc->cursor = *cursor;
	vnc->cursor_pending = true;
	wake_for_update(vnc);
}

/* The console's 0x00RRGGBB in the server's own format (whatever shifts
 * libvncserver chose for this host's byte order). */
static uint32_t pack(const rfbPixelFormat *f, uint32_t rgb)
{
	return (rgb >> 16 & 0xFF) << f->redShift | (rgb >> 8 & 0xFF) << f->greenShift | (rgb & 0xFF) << f->blueShift;
}

static void copy_rect(struct vnc_server *vnc, const struct console_surface *s, const struct console_rect *r)
{
	const rfbPixelFormat *f = &vnc->screen->serverFormat;
	for (unsigned y = r->y; y < r->y + r->height; y++) {
		uint32_t *dst = vnc->fb + (size_t)y * vnc->width + r->x;
		console_read_row(s, r->x, y, r->width, dst);
		for (unsigned x = 0; x < r->width; x++)
			dst[x] = pack(f, dst[x]);
	}
}

/* A new surface: a new framebuffer of its size, all of it copied. Console lock held. */
static void take_surface(struct vnc_server *vnc, const struct console_surface *s)
{
	unsigned width = s->format == CONSOLE_FORMAT_NONE ? IDLE_WIDTH : s->width;
	unsigned height = s->format == CONSOLE_FORMAT_NONE ? IDLE_HEIGHT : s->height;
	if (width != vnc->width || height != vnc->height) {
		uint32_t *old = vnc->fb;
		vnc->fb = g_new0(uint32_t, (size_t)width * height);
		vnc->width = width;
		vnc->height = height;
		rfbNewFramebuffer(vnc->screen, (char *)vnc->fb, (int)width, (int)height, 8, 3, 4);
		g_free(old);
	}
	if (s->format == CONSOLE_FORMAT_NONE)
		memset(vnc->fb, 0, (size_t)width * height * 4);
	else
		copy_rect(vnc, s, &(struct console_rect){ 0, 0, width, height });
	rfbMarkRectAsModified(vnc->screen, 0, 0, (int)width, (int)height);
}

/* The console's cursor as a libvncserver rich cursor (pixels in the
 * server's format, a mask where alpha is at least half), which libvncserver
 * frees when the next one replaces it. Console lock held. */
static void take_cursor(struct vnc_server *vnc)
{
	const struct console_cursor *c = &vnc->cursor;
	vnc->cursor_pending = false;
	if (!c->visible) {
		rfbSetCursor(vnc->screen, NULL);
		return;
	}
	const rfbPixelFormat *f = &vnc->screen->serverFormat;
	unsigned mask_stride = (c->width + 7) / 8;
	rfbCursorPtr rc = calloc(1, sizeof(*rc));
	uint32_t *rich = calloc((size_t)c->width * c->height, 4);
	unsigned char *mask = calloc((size_t)mask_stride * c->height, 1);
	if (!rc || !rich || !mask) {
		free(rc), free(rich), free(mask);
		return;
	}
	for (unsigned y = 0; y < c->height; y++) {
		for (unsigned x = 0; x < c->width; x++) {
			uint32_t argb = c->pixels[y * c->width + x];
			rich[y * c->width + x] = pack(f, argb & 0xFFFFFF);
			if (argb >> 24 >= 0x80)
				mask[y * mask_stride + x / 8] |= (unsigned char)(0x80 >> (x % 8));
		}
	}
	*rc = (rfbCursor){ .cleanup = TRUE, .cleanupSource = TRUE, .cleanupMask = TRUE, .cleanupRichSource = TRUE,
			   .width = (unsigned short)c->width, .height = (unsigned short)c->height,
			   .xhot = (unsigned short)c->hot_x, .yhot = (unsigned short)c->hot_y,
			   .mask = mask, .richSource = (unsigned char *)rich };
	rfbSetCursor(vnc->screen, rc);
}

/* Returns whether anything changed on screen. */
static bool refresh(struct vnc_server *vnc)
{
	atomic_store(&vnc->refreshing, true);
	console_refresh(vnc->con);
	atomic_store(&vnc->refreshing, false);
	console_lock(vnc->con);
	if (vnc->cursor_pending)
		take_cursor(vnc);
	const struct console_surface *s = &vnc->con->surface;
	if (vnc->surface_changed || vnc->pending_overflow) {
		take_surface(vnc, s);
	} else if (s->format != CONSOLE_FORMAT_NONE) {
		for (unsigned i = 0; i < vnc->pending_count; i++) {
			const struct console_rect *r = &vnc->pending[i];
			copy_rect(vnc, s, r);
			rfbMarkRectAsModified(vnc->screen, (int)r->x, (int)r->y, (int)(r->x + r->width),
					      (int)(r->y + r->height));
		}
	}
	bool changed = vnc->surface_changed || vnc->pending_overflow || vnc->pending_count || vnc->cursor_pending;
	vnc->surface_changed = vnc->pending_overflow = false;
	vnc->pending_count = 0;
	console_unlock(vnc->con);
	return changed;
}

/* Still in the handshake (version, security, initialisation): not yet a viewer. */
static bool handshaking(rfbClientPtr client)
{
	return client->state != RFB_NORMAL;
}

/* Connections libvncserver holds open, and how many are handshaking. */
static unsigned count_connections(struct vnc_server *vnc, unsigned *handshaking_count)
{
	unsigned all = 0;
	*handshaking_count = 0;
	rfbClientIteratorPtr it = rfbGetClientIterator(vnc->screen);
	for (rfbClientPtr cl; (cl = rfbClientIteratorNext(it));) {
		all++;
		*handshaking_count += handshaking(cl);
	}
	rfbReleaseClientIterator(it);
	return all;
}

/* libvncserver takes the connection from here on (handshake, security,
 * newClientHook) unless a cap is reached. */
static void accept_viewer(struct vnc_server *vnc)
{
	unsigned in_handshake;
	int fd = accept4(vnc->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return;
	if (count_connections(vnc, &in_handshake) >= MAX_CONNECTIONS || in_handshake >= MAX_HANDSHAKING)
		close(fd);
	else
		rfbNewClient(vnc->screen, fd);
}

/* Closes connections whose handshake outlasted HANDSHAKE_USEC (a viewer
 * that stalls, or a connection that never speaks); libvncserver forgets
 * them at its next rfbProcessEvents. Run at every wakeup, which comes at
 * least every REFRESH_MAX_USEC while any connection is open. Returns
 * whether it closed any. */
static bool drop_late_handshakes(struct vnc_server *vnc)
{
	gint64 now = g_get_monotonic_time();
	bool dropped = false;
	rfbClientIteratorPtr it = rfbGetClientIterator(vnc->screen);
	for (rfbClientPtr cl; (cl = rfbClientIteratorNext(it));) {
		const gint64 *accepted = cl->clientData;
		if (handshaking(cl) && now - *accepted >= HANDSHAKE_USEC) {
			rfbCloseClient(cl);
			dropped = true;
		}
	}
	rfbReleaseClientIterator(it);
	return dropped;
}

/* The length of the message libvncserver reads next in a handshake. */
static unsigned handshake_message_length(rfbClientPtr client)
{
	switch (client->state) {
	case RFB_PROTOCOL_VERSION:
		return RFB_PROTOCOL_VERSION_LENGTH;
	case RFB_AUTHENTICATION:    /* libvncserver's only authentication: VNC Authentication */
		return RFB_VNC_AUTH_RESPONSE_LENGTH;
	default:
		return 1;
	}
}

/* libvncserver reads a handshake message whole, waiting up to 20 s for
 * bytes still missing, and every viewer waits with it (seen: a connection
 * that sent "RFB 003" froze viewers for 20 s). A connection whose message
 * has not all arrived is held (onHold: libvncserver leaves it alone)
 * until it has. */
static void hold_partial_handshakes(struct vnc_server *vnc)
{
	rfbClientIteratorPtr it = rfbGetClientIterator(vnc->screen);
	for (rfbClientPtr cl; (cl = rfbClientIteratorNext(it));) {
		int arrived = 0;
		if (!handshaking(cl) || ioctl(cl->sock, FIONREAD, &arrived) < 0)
			continue;
		cl->onHold = arrived > 0 && (unsigned)arrived < handshake_message_length(cl);
	}
	rfbReleaseClientIterator(it);
}

/* libvncserver reads what arrived and sends what changed, never waiting
 * for part of a handshake message. */
static void process_events(struct vnc_server *vnc)
{
	hold_partial_handshakes(vnc);
	rfbProcessEvents(vnc->screen, 0);
}

/* Sleeps until a socket of the server or its viewers has something, the
 * wake eventfd is signalled, or `usec` pass (-1: no limit); then lets
 * libvncserver handle what arrived. Our own poll, rather than
 * rfbProcessEvents' timed select, so that a stop needs no timeout. True
 * when a device pushed an update meanwhile. */
static bool wait_and_handle(struct vnc_server *vnc, gint64 usec)
{
	struct pollfd fds[MAX_POLL_FDS] = { { .fd = vnc->wake_fd, .events = POLLIN },
					    { .fd = vnc->listen_fd, .events = POLLIN } };
	nfds_t n = 2;
	rfbClientIteratorPtr it = rfbGetClientIterator(vnc->screen);
	bool held = false;
	for (rfbClientPtr cl; (cl = rfbClientIteratorNext(it)) && n < MAX_POLL_FDS;) {
		/* a held one has bytes waiting: they would wake the poll at once */
		fds[n++] = (struct pollfd){ .fd = cl->sock, .events = cl->onHold ? 0 : POLLIN };
		held |= cl->onHold;
	}
	rfbReleaseClientIterator(it);
	int timeout = usec < 0 ? -1 : (int)((usec + 999) / 1000);
	if (held && (timeout < 0 || timeout > HOLD_RECHECK_MSEC))
		timeout = HOLD_RECHECK_MSEC;
	bool ready = poll(fds, n, timeout) > 0, dropped = drop_late_handshakes(vnc);
	if (!ready && !dropped && !held)
		return false;
	if (fds[0].revents & POLLIN) {
		uint64_t count;
		(void)!read(vnc->wake_fd, &count, sizeof(count));
	}
	if (fds[1].revents & POLLIN)
		accept_viewer(vnc);
	process_events(vnc);
	return atomic_exchange(&vnc->woken, false);
}

static gpointer serve(gpointer opaque)
{
	struct vnc_server *vnc = opaque;
	gint64 next = 0, last = 0, interval = REFRESH_MIN_USEC;
	while (!atomic_load(&vnc->stop)) {
		gint64 now = g_get_monotonic_time();
		bool pushed = wait_and_handle(vnc, vnc->clients > 0 ? CLAMP(next - now, 0, interval) : -1);
		now = g_get_monotonic_time();
		if (vnc->input_seen)
			next = MIN(next, MAX(now + INPUT_REFRESH_USEC, last + INPUT_REFRESH_GAP_USEC));
		if (vnc->clients == 0 || (now < next && !pushed))
			continue;
		last = now;
		bool changed = refresh(vnc), busy = changed || vnc->input_seen;
		if (changed)
			process_events(vnc);  /* send it now, not at the next wakeup */
		vnc->input_seen = false;
		interval = busy ? REFRESH_MIN_USEC : MIN(interval * 2, REFRESH_MAX_USEC);
		next = now + interval;
	}
	return NULL;
}

static void on_key(rfbBool down, rfbKeySym keysym, rfbClientPtr client)
{
	struct vnc_server *vnc = client->screen->screenData;
	unsigned evdev = keymap_from_x_keysym((uint32_t)keysym);
	vnc->input_seen = true;
	if (evdev)
		console_key(vnc->con, evdev, down);
}

static unsigned console_buttons(int mask)
{
	return (mask & RFB_BUTTON_LEFT ? CONSOLE_BUTTON_LEFT : 0) | (mask & RFB_BUTTON_RIGHT ? CONSOLE_BUTTON_RIGHT : 0) |
	       (mask & RFB_BUTTON_MIDDLE ? CONSOLE_BUTTON_MIDDLE : 0) | (mask & RFB_BUTTON_BACK ? CONSOLE_BUTTON_SIDE : 0);
}

/* Positions are clamped to the screen first, so that relative motion never
 * counts a viewer's pointer outside it (the guest's cannot go there). */
static void on_pointer(int mask, int x, int y, rfbClientPtr client)
{
	struct vnc_server *vnc = client->screen->screenData;
	int dz = (mask & RFB_WHEEL_UP ? 1 : 0) - (mask & RFB_WHEEL_DOWN ? 1 : 0);
	unsigned buttons = console_buttons(mask);
	vnc->input_seen = true;
	unsigned w = MAX(vnc->width, 2), h = MAX(vnc->height, 2);
	x = CLAMP(x, 0, (int)w - 1);
	y = CLAMP(y, 0, (int)h - 1);
	console_pointer_abs(vnc->con, (unsigned)x * CONSOLE_ABS_MAX / (w - 1), (unsigned)y * CONSOLE_ABS_MAX / (h - 1),
			    dz, buttons);
	int dx = vnc->have_last ? x - vnc->last_x : 0, dy = vnc->have_last ? y - vnc->last_y : 0;
	console_pointer_rel(vnc->con, dx, dy, dz, buttons);
	vnc->last_x = x;
	vnc->last_y = y;
	vnc->have_last = true;
}

/* A viewer asks for a desktop size (RFB ExtendedDesktopSize): a display
 * device that can follow (virtio-gpu) tells the guest, whose new mode then
 * reaches every viewer as a resize. */
static int on_set_desktop_size(int width, int height, int screens, struct rfbExtDesktopScreen *layout,
			       rfbClientPtr client)
{
	struct vnc_server *vnc = client->screen->screenData;
	(void)screens;
	(void)layout;
	if (width <= 0 || height <= 0)
		return rfbExtDesktopSize_InvalidScreenLayout;
	return console_preferred_size(vnc->con, (unsigned)width, (unsigned)height) ? rfbExtDesktopSize_Success
										     : rfbExtDesktopSize_ResizeProhibited;
}

static void on_client_gone(rfbClientPtr client)
{
	struct vnc_server *vnc = client->screen->screenData;
	g_free(client->clientData);
	vnc->clients--;
}

/* Called as the connection is accepted: clientData is when, for
 * drop_late_handshakes. */
static enum rfbNewClientAction on_new_client(rfbClientPtr client)
{
	struct vnc_server *vnc = client->screen->screenData;
	vnc->clients++;
	client->clientData = g_memdup2(&(gint64){ g_get_monotonic_time() }, sizeof(gint64));
	client->clientGoneHook = on_client_gone;
	return RFB_CLIENT_ACCEPT;
}

/* Our own listening socket rather than libvncserver's, which refuses port 0
 * (let the system choose, as tests and the control interface want). -1 with
 * errno set on failure; *port becomes the port bound. */
static int listen_on(struct in_addr addr, unsigned *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr = addr, .sin_port = htons((uint16_t)*port) };
	socklen_t len = sizeof(sa);
	int one = 1;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, LISTEN_BACKLOG) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) < 0) {
		int saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	*port = ntohs(sa.sin_port);
	return fd;
}

/* The first of ports first..last free on listen (addr, as given);
 * *port becomes the one bound. */
static int listen_on_first_free(struct in_addr listen, const char *addr, unsigned first, unsigned last,
				unsigned *port, char **error)
{
	if (last > UINT16_MAX || first > last) {
		*error = g_strdup_printf("display vnc=%s:%u: not a TCP port", addr, last);
		return -1;
	}
	for (unsigned try = first; try <= last; try++) {
		*port = try;
		int fd = listen_on(listen, port);
		if (fd >= 0)
			return fd;
		if (errno != EADDRINUSE || try == last)
			break;
	}
	if (first == last)
		*error = g_strdup_printf("display vnc=%s:%u: cannot listen there: %s", addr, first, g_strerror(errno));
	else
		*error = g_strdup_printf("display vnc=%s: no free port from %u to %u: %s", addr, first, last,
					 g_strerror(errno));
	return -1;
}

/* A UNIX socket at path, mode 0600 from the start (the mode of the socket's
 * inode is what bind gives the file, less the umask). A socket left there
 * by an engine before is replaced; anything else there is refused. */
static int listen_on_unix(const char *path, char **error)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		*error = g_strdup_printf("display vnc=unix:%s: the path is longer than %zu bytes", path,
					 sizeof(sa.sun_path) - 1);
		return -1;
	}
	if (lstat(path, &st) == 0 && !S_ISSOCK(st.st_mode)) {
		*error = g_strdup_printf("display vnc=unix:%s: something other than a socket is there", path);
		return -1;
	}
	strcpy(sa.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && fchmod(fd, 0600) == 0 && (unlink(path) == 0 || errno == ENOENT) &&
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 && listen(fd, LISTEN_BACKLOG) == 0)
		return fd;
	*error = g_strdup_printf("display vnc=unix:%s: cannot listen there: %s", path, g_strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

/* Serves con on listen_fd, which is the server's from here on. */
static struct vnc_server *serve_on(struct console *con, int listen_fd, const char *password)
{
	struct vnc_server *vnc = g_new0(struct vnc_server, 1);
	vnc->con = con;
	vnc->listen_fd = listen_fd;
	vnc->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	vnc->width = IDLE_WIDTH;
	vnc->height = IDLE_HEIGHT;
	vnc->fb = g_new0(uint32_t, (size_t)IDLE_WIDTH * IDLE_HEIGHT);
	rfbLogEnable(0);
	vnc->screen = rfbGetScreen(NULL, NULL, IDLE_WIDTH, IDLE_HEIGHT, 8, 3, 4);
	vnc->screen->frameBuffer = (char *)vnc->fb;
	vnc->screen->screenData = vnc;
	vnc->screen->desktopName = "Vireo";
	vnc->screen->port = 0;              /* libvncserver listens on nothing: listen_fd is ours */
	vnc->screen->ipv6port = 0;
	vnc->screen->httpPort = 0;
	vnc->screen->cursor = NULL;         /* the guest draws its own pointer unless its device has a cursor */
	vnc->screen->alwaysShared = TRUE;   /* several viewers at once */
	vnc->screen->deferUpdateTime = 0;   /* our refresh already batches; send what it found at once */
	vnc->screen->kbdAddEvent = on_key;
	vnc->screen->ptrAddEvent = on_pointer;
	vnc->screen->newClientHook = on_new_client;
	vnc->screen->setDesktopSizeHook = on_set_desktop_size;
	if (password) {
		vnc->passwords[0] = g_strdup(password);
		vnc->screen->authPasswdData = vnc->passwords;
		vnc->screen->passwordCheck = rfbCheckPasswordByList;
	}
	rfbInitServer(vnc->screen);
	vnc->listener = (struct console_listener){ .surface_changed = on_surface_changed, .update = on_update, .cursor_changed = on_cursor_changed, .opaque = vnc };
	console_add_listener(con, &vnc->listener);
	vnc->thread = g_thread_new("vireo-vnc", serve, vnc);
	return vnc;
}

struct vnc_server *vnc_server_start(struct console *con, const char *addr, unsigned first_port, unsigned last_port,
				    const char *password, char **error)
{
	struct in_addr listen;
	if (inet_pton(AF_INET, addr, &listen) != 1) {
		*error = g_strdup_printf("display vnc=%s: not an IPv4 address", addr);
		return NULL;
	}
	unsigned bound;
	int listen_fd = listen_on_first_free(listen, addr, first_port, last_port, &bound, error);
	if (listen_fd < 0)
		return NULL;
	struct vnc_server *vnc = serve_on(con, listen_fd, password);
	vnc->port = bound;
	vnc->address = g_strdup(addr);
	return vnc;
}

struct vnc_server *vnc_server_start_unix(struct console *con, const char *path, const char *password, char **error)
{
	int listen_fd = listen_on_unix(path, error);
	if (listen_fd < 0)
		return NULL;
	struct vnc_server *vnc = serve_on(con, listen_fd, password);
	vnc->unix_path = g_strdup(path);
	vnc->address = g_strconcat("unix:", path, NULL);
	return vnc;
}

unsigned vnc_server_port(const struct vnc_server *vnc)
{
	return vnc->port;
}

char *vnc_server_where(const struct vnc_server *vnc)
{
	return vnc->unix_path ? g_strdup(vnc->address) : g_strdup_printf("%s:%u", vnc->address, vnc->port);
}

void vnc_server_stop(struct vnc_server *vnc)
{
	uint64_t one = 1;
	atomic_store(&vnc->stop, true);
	(void)!write(vnc->wake_fd, &one, sizeof(one));
	g_thread_join(vnc->thread);
	console_remove_listener(vnc->con, &vnc->listener);
	close(vnc->listen_fd);
	if (vnc->unix_path)
		unlink(vnc->unix_path);
	rfbShutdownServer(vnc->screen, TRUE);
	rfbScreenCleanup(vnc->screen);
	g_free(vnc->passwords[0]);
	g_free(vnc->fb);
	g_free(vnc->address);
	g_free(vnc->unix_path);
	close(vnc->wake_fd);
	g_free(vnc);
}
