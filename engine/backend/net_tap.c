/* Tap devices. See net_tap.h. */
#include "net_tap.h"

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

struct net_tap {
	struct net_backend backend;
	int fd;
	GSource *source;
	uint8_t frame[NET_MAX_FRAME];
};

static gboolean on_readable(gint fd, GIOCondition condition, gpointer opaque)
{
	struct net_tap *tap = opaque;
	(void)condition;
	/* A bounded batch per wakeup keeps one busy tap from starving the rest. */
	for (unsigned i = 0; i < 64; i++) {
		ssize_t n = read(fd, tap->frame, sizeof(tap->frame));
		if (n <= 0)
			break;
		if (tap->backend.receive)
			tap->backend.receive(tap->backend.receive_opaque, tap->frame, (size_t)n);
	}
	return G_SOURCE_CONTINUE;
}

/* A frame the tap cannot take now is dropped, as on a busy wire. */
static void tap_send(struct net_backend *backend, const uint8_t *frame, size_t len)
{
	struct net_tap *tap = (struct net_tap *)backend;
	(void)!write(tap->fd, frame, len);
}

static void tap_destroy(struct net_backend *backend)
{
	struct net_tap *tap = (struct net_tap *)backend;
	if (tap->source) {
		g_source_destroy(tap->source);
		g_source_unref(tap->source);
	}
	if (tap->fd >= 0)
		close(tap->fd);
	g_free(tap);
}

struct net_backend *net_tap_new(const char *ifname, GMainContext *context, char **error)
{
	struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI };
	struct net_tap *tap = g_new0(struct net_tap, 1);
	tap->backend.send = tap_send;
	tap->backend.destroy = tap_destroy;
	tap->fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (tap->fd < 0) {
		*error = g_strdup_printf("net tap: cannot open /dev/net/tun: %s", g_strerror(errno));
		tap_destroy(&tap->backend);
		return NULL;
	}
	g_strlcpy(ifr.ifr_name, ifname, sizeof(ifr.ifr_name));
	if (ioctl(tap->fd, TUNSETIFF, &ifr) < 0) {
		*error = g_strdup_printf("net tap ifname=%s: %s%s", ifname, g_strerror(errno),
					 errno == EPERM ? " (create it first: ip tuntap add dev NAME mode tap user USER)" : "");
		tap_destroy(&tap->backend);
		return NULL;
	}
	tap->source = g_unix_fd_source_new(tap->fd, G_IO_IN);
	g_source_set_callback(tap->source, G_SOURCE_FUNC(on_readable), tap, NULL);
	g_source_attach(tap->source, context);
	return &tap->backend;
}
