/* A tap device (Linux TUN/TAP, IFF_TAP) as the network behind a card: for
 * users who bridge their guests onto a real network. The interface must
 * exist or the engine must be allowed to create it (CAP_NET_ADMIN); frames
 * are read on the given GMainContext. */
#ifndef VIREO_BACKEND_NET_TAP_H
#define VIREO_BACKEND_NET_TAP_H

#include <glib.h>

#include "backend/net.h"

/* Returns the backend, or NULL with *error naming the interface and problem. */
struct net_backend *net_tap_new(const char *ifname, GMainContext *context, char **error);

#endif
