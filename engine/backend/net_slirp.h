/* User-mode networking through libslirp: the guest sits behind a NAT at
 * 10.0.2.15/24 with the gateway and TFTP server at 10.0.2.2 and DNS at
 * 10.0.2.3; DHCP hands these out. Outbound TCP/UDP become host sockets.
 * Host ports forward into the guest when asked; the guest reaches the
 * host's own loopback (as 10.0.2.2) only when asked. Runs on one
 * GMainContext: every call and callback happens on its thread. */
#ifndef VIREO_BACKEND_NET_SLIRP_H
#define VIREO_BACKEND_NET_SLIRP_H

#include <glib.h>

#include "backend/net.h"
#include "machine.h"

/* Returns the backend, or NULL with *error naming the problem (a forward
 * whose host port cannot be bound, a TFTP folder that does not exist). */
struct net_backend *net_slirp_new(const struct machine_net *config, GMainContext *context, char **error);

#endif
