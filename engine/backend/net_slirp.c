/* libslirp on a GMainContext. See net_slirp.h. */
#include "net_slirp.h"

#include <arpa/inet.h>
#include <slirp/libslirp.h>
#include <string.h>

#include "core/trace.h"

#define MAX_POLL_FDS 256

struct slirp_timer {
	SlirpTimerId id;
	void *cb_opaque;
	int64_t expire_ms;       /* -1: not armed */
	struct slirp_timer *next;
};

struct net_slirp {
	struct net_backend backend;
	Slirp *slirp;
	GMainContext *context;
	GSource *source;
	/* The sockets slirp wants polled: what it asked for this time, and
	 * what the source polls (changed only when the request changes: GLib
	 * skips dispatch in an iteration whose poll set changed). */
	int want_fd[MAX_POLL_FDS];
	GIOCondition want_cond[MAX_POLL_FDS];
	unsigned want_count;
	int poll_fd[MAX_POLL_FDS];
	GIOCondition poll_cond[MAX_POLL_FDS];
	gpointer poll_tags[MAX_POLL_FDS];
	unsigned poll_count;
	struct slirp_timer *timers;
	int64_t poll_deadline_ms;    /* slirp's own TCP timers want a poll by then; -1 none */
};

/* slirp's source: before each poll it names its sockets and how long to
 * sleep, after it handles what became ready and the timers that expired. */
struct slirp_source {
	GSource source;
	struct net_slirp *ns;
};

static int64_t now_ms(void)
{
	return g_get_monotonic_time() / 1000;
}

static int64_t clock_get_ns(void *opaque)
{
	(void)opaque;
	return g_get_monotonic_time() * 1000;
}

static ssize_t send_packet(const void *buf, size_t len, void *opaque)
{
	struct net_slirp *ns = opaque;
	if (ns->backend.receive)
		ns->backend.receive(ns->backend.receive_opaque, buf, len);
	return (ssize_t)len;
}

/* A guest can make libslirp complain at will: its complaints are
 * rate-limited like every guest-caused message. */
static void guest_error(const char *msg, void *opaque)
{
	(void)opaque;
	log_limited("user network: guest error: %s", msg);
}

/* libslirp's own GLib log (domain "Slirp"): warnings go to the log,
 * debug output (SLIRP_DEBUG) to --trace net. */
static void slirp_log(const char *domain, GLogLevelFlags level, const char *msg, void *opaque)
{
	(void)domain, (void)opaque;
	if (level & (G_LOG_LEVEL_INFO | G_LOG_LEVEL_DEBUG))
		TRACE(TRACE_NET, "%s", msg);
	else
		log_limited("user network: %s", msg);
}

static void *timer_new_opaque(SlirpTimerId id, void *cb_opaque, void *opaque)
{
	struct net_slirp *ns = opaque;
	struct slirp_timer *t = g_new0(struct slirp_timer, 1);
	*t = (struct slirp_timer){ id, cb_opaque, -1, ns->timers };
	ns->timers = t;
	return t;
}

static void timer_free(void *timer, void *opaque)
{
	struct net_slirp *ns = opaque;
	for (struct slirp_timer **p = &ns->timers; *p; p = &(*p)->next) {
		if (*p == timer) {
			*p = ((struct slirp_timer *)timer)->next;
			g_free(timer);
			return;
		}
	}
}

static void timer_mod(void *timer, int64_t expire_ms, void *opaque)
{
	struct net_slirp *ns = opaque;
	((struct slirp_timer *)timer)->expire_ms = expire_ms;
	g_main_context_wakeup(ns->context);
}

static void register_poll_fd(int fd, void *opaque)
{
	(void)fd, (void)opaque;  /* sockets are named at every poll instead */
}

static void notify(void *opaque)
{
	g_main_context_wakeup(((struct net_slirp *)opaque)->context);
}

static const SlirpCb callbacks = {
	.send_packet = send_packet,
	.guest_error = guest_error,
	.clock_get_ns = clock_get_ns,
	.timer_free = timer_free,
	.timer_mod = timer_mod,
	.register_poll_fd = register_poll_fd,
	.unregister_poll_fd = register_poll_fd,
	.notify = notify,
	.timer_new_opaque = timer_new_opaque,
};

static int add_poll(int fd, int events, void *opaque)
{
	struct net_slirp *ns = opaque;
	GIOCondition cond = (events & SLIRP_POLL_IN ? G_IO_IN : 0) | (events & SLIRP_POLL_OUT ? G_IO_OUT : 0) |
			    (events & SLIRP_POLL_PRI ? G_IO_PRI : 0) | G_IO_ERR | G_IO_HUP;
	if (ns->want_count >= MAX_POLL_FDS)
		return -1;
	ns->want_fd[ns->want_count] = fd;
	ns->want_cond[ns->want_count] = cond;
	return (int)ns->want_count++;
}

static void update_polled_fds(struct net_slirp *ns)
{
	if (ns->want_count == ns->poll_count &&
	    !memcmp(ns->want_fd, ns->poll_fd, ns->want_count * sizeof(int)) &&
	    !memcmp(ns->want_cond, ns->poll_cond, ns->want_count * sizeof(GIOCondition)))
		return;
	for (unsigned i = 0; i < ns->poll_count; i++)
		g_source_remove_unix_fd(ns->source, ns->poll_tags[i]);
	for (unsigned i = 0; i < ns->want_count; i++)
		ns->poll_tags[i] = g_source_add_unix_fd(ns->source, ns->want_fd[i], ns->want_cond[i]);
	memcpy(ns->poll_fd, ns->want_fd, ns->want_count * sizeof(int));
	memcpy(ns->poll_cond, ns->want_cond, ns->want_count * sizeof(GIOCondition));
	ns->poll_count = ns->want_count;
}

static int get_revents(int idx, void *opaque)
{
	struct net_slirp *ns = opaque;
	if (idx < 0 || (unsigned)idx >= ns->poll_count)
		return 0;
	GIOCondition cond = g_source_query_unix_fd(ns->source, ns->poll_tags[idx]);
	return (cond & G_IO_IN ? SLIRP_POLL_IN : 0) | (cond & G_IO_OUT ? SLIRP_POLL_OUT : 0) |
	       (cond & G_IO_PRI ? SLIRP_POLL_PRI : 0) | (cond & G_IO_ERR ? SLIRP_POLL_ERR : 0) |
	       (cond & G_IO_HUP ? SLIRP_POLL_HUP : 0);
}

static int64_t next_timer_ms(const struct net_slirp *ns)
{
	int64_t next = -1;
	for (const struct slirp_timer *t = ns->timers; t; t = t->next)
		if (t->expire_ms >= 0 && (next < 0 || t->expire_ms < next))
			next = t->expire_ms;
	return next;
}

static gboolean source_prepare(GSource *source, gint *timeout)
{
	struct net_slirp *ns = ((struct slirp_source *)source)->ns;
	uint32_t slirp_timeout = UINT32_MAX;
	ns->want_count = 0;
	slirp_pollfds_fill(ns->slirp, &slirp_timeout, add_poll, ns);
	update_polled_fds(ns);
	int64_t wait = slirp_timeout == UINT32_MAX ? -1 : (int64_t)slirp_timeout;
	ns->poll_deadline_ms = wait < 0 ? -1 : now_ms() + wait;
	int64_t next = next_timer_ms(ns);
	if (next >= 0) {
		int64_t until = MAX(next - now_ms(), 0);
		wait = wait < 0 ? until : MIN(wait, until);
	}
	*timeout = (gint)MIN(wait, G_MAXINT);
	return wait == 0;
}

static gboolean source_check(GSource *source)
{
	struct net_slirp *ns = ((struct slirp_source *)source)->ns;
	int64_t next = next_timer_ms(ns), now = now_ms();
	if ((next >= 0 && next <= now) || (ns->poll_deadline_ms >= 0 && ns->poll_deadline_ms <= now))
		return TRUE;
	for (unsigned i = 0; i < ns->poll_count; i++)
		if (g_source_query_unix_fd(source, ns->poll_tags[i]))
			return TRUE;
	return FALSE;
}

static void run_expired_timers(struct net_slirp *ns)
{
	int64_t now = now_ms();
	for (struct slirp_timer *t = ns->timers; t; t = t->next) {
		if (t->expire_ms >= 0 && t->expire_ms <= now) {
			t->expire_ms = -1;
			slirp_handle_timer(ns->slirp, t->id, t->cb_opaque);
			break;  /* the handler may have changed the list; the next iteration sees the rest */
		}
	}
}

static gboolean source_dispatch(GSource *source, GSourceFunc callback, gpointer data)
{
	(void)callback, (void)data;
	struct net_slirp *ns = ((struct slirp_source *)source)->ns;
	slirp_pollfds_poll(ns->slirp, 0, get_revents, ns);
	run_expired_timers(ns);
	return G_SOURCE_CONTINUE;
}

static GSourceFuncs source_funcs = { source_prepare, source_check, source_dispatch, NULL, NULL, NULL };

static void slirp_send(struct net_backend *backend, const uint8_t *frame, size_t len)
{
	struct net_slirp *ns = (struct net_slirp *)backend;
	if (len <= NET_MAX_FRAME)
		slirp_input(ns->slirp, frame, (int)len);
}

static void slirp_destroy(struct net_backend *backend)
{
	struct net_slirp *ns = (struct net_slirp *)backend;
	if (ns->source) {
		g_source_destroy(ns->source);
		g_source_unref(ns->source);
	}
	if (ns->slirp)
		slirp_cleanup(ns->slirp);
	while (ns->timers)
		timer_free(ns->timers, ns);
	g_free(ns);
}

static struct in_addr ipv4(const char *text)
{
	struct in_addr a = { 0 };
	inet_pton(AF_INET, text, &a);
	return a;
}

static bool add_forwards(struct net_slirp *ns, const struct machine_net *config, char **error)
{
	for (unsigned i = 0; i < config->hostfwd_count; i++) {
		const struct machine_hostfwd *f = &config->hostfwd[i];
		struct in_addr guest = ipv4(f->guest_addr[0] ? f->guest_addr : "10.0.2.15");
		if (slirp_add_hostfwd(ns->slirp, f->udp, ipv4(f->host_addr), (int)f->host_port, guest,
				      (int)f->guest_port) < 0) {
			*error = g_strdup_printf("net hostfwd %s:%s:%u: cannot listen there (port in use or address "
						 "not on this host)", f->udp ? "udp" : "tcp", f->host_addr, f->host_port);
			return false;
		}
	}
	return true;
}

struct net_backend *net_slirp_new(const struct machine_net *config, GMainContext *context, char **error)
{
	if (config->tftp && !g_file_test(config->tftp, G_FILE_TEST_IS_DIR)) {
		*error = g_strdup_printf("net tftp=%s: not a folder", config->tftp);
		return NULL;
	}
	struct net_slirp *ns = g_new0(struct net_slirp, 1);
	SlirpConfig cfg = {
		.version = 4,
		.in_enabled = true,
		.vnetwork = ipv4("10.0.2.0"),
		.vnetmask = ipv4("255.255.255.0"),
		.vhost = ipv4("10.0.2.2"),
		.vdhcp_start = ipv4("10.0.2.15"),
		.vnameserver = ipv4("10.0.2.3"),
		/* No tftp_server_name (DHCP option 66): PXE finds the server as the
		 * DHCP server anyway, and libslirp 4.7 never frees that string. */
		.tftp_path = config->tftp,
		.bootfile = config->bootfile,
		.vhostname = "vireo",
		.if_mtu = 1500,
		.if_mru = 1500,
		.disable_host_loopback = !config->host_loopback,
	};
	ns->backend.send = slirp_send;
	ns->backend.destroy = slirp_destroy;
	ns->context = context;
	ns->source = g_source_new(&source_funcs, sizeof(struct slirp_source));
	((struct slirp_source *)ns->source)->ns = ns;
	g_log_set_handler("Slirp", G_LOG_LEVEL_MASK, slirp_log, NULL);
	ns->slirp = slirp_new(&cfg, &callbacks, ns);
	if (!ns->slirp) {
		*error = g_strdup("cannot start user networking (libslirp refused the configuration)");
		slirp_destroy(&ns->backend);
		return NULL;
	}
	if (!add_forwards(ns, config, error)) {
		slirp_destroy(&ns->backend);
		return NULL;
	}
	g_source_attach(ns->source, context);
	return &ns->backend;
}
