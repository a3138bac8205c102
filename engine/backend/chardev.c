/* Character backends: stdio, file, UNIX socket server, none. See chardev.h. */
#include "chardev.h"

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

static struct termios saved_termios;

static void chardev_reset(struct chardev *chr, GMainContext *context)
{
	memset(chr, 0, sizeof(*chr));
	chr->in_fd = chr->out_fd = chr->listen_fd = -1;
	chr->context = context;
	g_mutex_init(&chr->lock);
	g_mutex_init(&chr->out_lock);
}

/* The descriptors change under out_lock too, so a vCPU's chardev_write
 * never writes to a descriptor just closed (and maybe reused). */
static void set_fds(struct chardev *chr, int in_fd, int out_fd)
{
	g_mutex_lock(&chr->out_lock);
	chr->in_fd = in_fd;
	chr->out_fd = out_fd;
	g_mutex_unlock(&chr->out_lock);
}

static void stop_watching_input(struct chardev *chr)
{
	if (chr->in_source) {
		g_source_destroy(chr->in_source);
		g_source_unref(chr->in_source);
		chr->in_source = NULL;
	}
}

/* Hands pending bytes to the device as far as it has room. Called with lock. */
static void deliver_pending(struct chardev *chr)
{
	const struct chardev_receiver *rx = &chr->receiver;
	if (!rx->receive || chr->pending_len == 0)
		return;
	size_t room = rx->can_receive ? rx->can_receive(rx->opaque) : chr->pending_len;
	size_t n = MIN(room, chr->pending_len);
	if (n == 0)
		return;
	rx->receive(rx->opaque, chr->pending, n);
	memmove(chr->pending, chr->pending + n, chr->pending_len - n);
	chr->pending_len -= n;
}

static void input_closed(struct chardev *chr)
{
	stop_watching_input(chr);
	if (chr->listen_fd < 0)
		return; /* stdio at EOF: no more input, output still works */
	int client = chr->in_fd;
	set_fds(chr, -1, -1);
	close(client);
}

static gboolean on_input(gint fd, GIOCondition condition, gpointer data)
{
	struct chardev *chr = data;
	(void)condition;
	g_mutex_lock(&chr->lock);
	/* Watched only while nothing is pending (watch_input), so the buffer is empty. */
	ssize_t n = read(fd, chr->pending, sizeof(chr->pending));
	if (n > 0) {
		chr->pending_len = (size_t)n;
		deliver_pending(chr);
		if (chr->pending_len > 0)
			stop_watching_input(chr); /* device full: wait for accept_input */
	} else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
		input_closed(chr);
	}
	g_mutex_unlock(&chr->lock);
	return G_SOURCE_CONTINUE; /* a destroyed source is not called again */
}

static void watch_input(struct chardev *chr)
{
	if (chr->in_fd < 0 || chr->in_source || !chr->receiver.receive || chr->pending_len)
		return;
	chr->in_source = g_unix_fd_source_new(chr->in_fd, G_IO_IN | G_IO_HUP | G_IO_ERR);
	g_source_set_callback(chr->in_source, G_SOURCE_FUNC(on_input), chr, NULL);
	g_source_attach(chr->in_source, chr->context);
}

static gboolean resume_input(gpointer data)
{
	struct chardev *chr = data;
	g_mutex_lock(&chr->lock);
	deliver_pending(chr);
	watch_input(chr);
	g_mutex_unlock(&chr->lock);
	return G_SOURCE_REMOVE;
}

void chardev_accept_input(struct chardev *chr)
{
	if (chr->context)
		g_main_context_invoke(chr->context, resume_input, chr);
}

void chardev_set_receiver(struct chardev *chr, const struct chardev_receiver *receiver)
{
	g_mutex_lock(&chr->lock);
	chr->receiver = *receiver;
	if (receiver->receive) {
		deliver_pending(chr);
		watch_input(chr);
	}
	else
		stop_watching_input(chr); /* bytes already read wait for the next device */
	g_mutex_unlock(&chr->lock);
}

/* Called with out_lock. */
static void write_out(struct chardev *chr, const void *data, size_t len)
{
	const uint8_t *buf = data;
	while (len > 0 && chr->out_fd >= 0) {
		ssize_t n = write(chr->out_fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return; /* reader gone or (a socket) not keeping up: dropped, as a UART with no cable */
		buf += n;
		len -= (size_t)n;
	}
}

void chardev_write(struct chardev *chr, const uint8_t *buf, size_t len)
{
	g_mutex_lock(&chr->out_lock);
	size_t n = chr->out_limit ? (size_t)MIN(len, chr->out_limit - chr->out_written) : len;
	write_out(chr, buf, n);
	chr->out_written += n;
	if (n < len && !chr->out_stopped) {
		write_out(chr, CHARDEV_LIMIT_NOTE, strlen(CHARDEV_LIMIT_NOTE));
		chr->out_stopped = true;
	}
	g_mutex_unlock(&chr->out_lock);
}

void chardev_limit_output(struct chardev *chr, uint64_t bytes)
{
	g_mutex_lock(&chr->out_lock);
	chr->out_limit = bytes;
	g_mutex_unlock(&chr->out_lock);
}

static gboolean on_connection(gint fd, GIOCondition condition, gpointer data)
{
	struct chardev *chr = data;
	(void)condition;
	/* Non-blocking, so a client that stops reading cannot stall a vCPU. */
	int client = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (client < 0)
		return G_SOURCE_CONTINUE;
	g_mutex_lock(&chr->lock);
	if (chr->in_fd >= 0) {
		close(client); /* one client at a time */
	} else {
		set_fds(chr, client, client);
		watch_input(chr);
	}
	g_mutex_unlock(&chr->lock);
	return G_SOURCE_CONTINUE;
}

static int open_unix_server(struct chardev *chr, const char *path, char **error)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(addr.sun_path)) {
		*error = g_strdup_printf("serial socket path is too long: %s", path);
		return -1;
	}
	strcpy(addr.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(fd, 1) < 0) {
		*error = g_strdup_printf("cannot listen on serial socket %s: %s", path, g_strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	chr->listen_fd = fd;
	chr->listen_source = g_unix_fd_source_new(fd, G_IO_IN);
	g_source_set_callback(chr->listen_source, G_SOURCE_FUNC(on_connection), chr, NULL);
	g_source_attach(chr->listen_source, chr->context);
	return 0;
}

/* A terminal on stdin goes raw (no echo, no line editing) so the guest sees
 * each key; ISIG stays on so Ctrl-C still stops the engine. */
static void make_stdin_raw(struct chardev *chr)
{
	struct termios raw;
	if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &saved_termios) < 0)
		return;
	raw = saved_termios;
	raw.c_iflag &= ~(tcflag_t)(ICRNL | IXON);
	raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
	raw.c_cc[VMIN] = 1;
	raw.c_cc[VTIME] = 0;
	if (tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0)
		chr->restore_tty = true;
}

int chardev_open(struct chardev *chr, const char *spec, GMainContext *context, char **error)
{
	chardev_reset(chr, context);
	chr->owns_fds = true;
	if (!strcmp(spec, "none"))
		return 0;
	if (!strcmp(spec, "stdio")) {
		chr->owns_fds = false;
		chr->in_fd = STDIN_FILENO;
		chr->out_fd = STDOUT_FILENO;
		make_stdin_raw(chr);
		return 0;
	}
	if (g_str_has_prefix(spec, "file:") && spec[5]) {
		chr->out_fd = open(spec + 5, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (chr->out_fd < 0) {
			*error = g_strdup_printf("cannot open serial output file %s: %s",
						 spec + 5, g_strerror(errno));
			return -1;
		}
		chr->out_limit = CHARDEV_FILE_LIMIT;
		return 0;
	}
	if (g_str_has_prefix(spec, "unix:") && spec[5])
		return open_unix_server(chr, spec + 5, error);
	*error = g_strdup_printf("bad serial backend '%s' (expected stdio, none, file:PATH or unix:PATH)", spec);
	return -1;
}

void chardev_open_fds(struct chardev *chr, int in_fd, int out_fd, GMainContext *context)
{
	chardev_reset(chr, context);
	chr->in_fd = in_fd;
	chr->out_fd = out_fd;
}

void chardev_close(struct chardev *chr)
{
	g_mutex_lock(&chr->lock);
	stop_watching_input(chr);
	if (chr->listen_source) {
		g_source_destroy(chr->listen_source);
		g_source_unref(chr->listen_source);
		chr->listen_source = NULL;
	}
	int in_fd = chr->in_fd, out_fd = chr->out_fd;
	set_fds(chr, -1, -1);
	g_mutex_unlock(&chr->lock);
	if (chr->restore_tty)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved_termios);
	if (chr->owns_fds) {
		if (in_fd >= 0)
			close(in_fd);
		if (out_fd >= 0 && out_fd != in_fd)
			close(out_fd);
		if (chr->listen_fd >= 0)
			close(chr->listen_fd);
	}
	chr->listen_fd = -1;
	g_mutex_clear(&chr->lock);
	g_mutex_clear(&chr->out_lock);
}
