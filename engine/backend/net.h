/* The host side of a network card: frames out to some network, frames back
 * to the device. A device model holds a struct net_backend and never knows
 * whether user networking (libslirp) or, later, a tap device is behind it. */
#ifndef VIREO_BACKEND_NET_H
#define VIREO_BACKEND_NET_H

#include <stddef.h>
#include <stdint.h>

/* Called on the backend's I/O context with one Ethernet frame for the guest. */
typedef void (*net_receive_fn)(void *opaque, const uint8_t *frame, size_t len);

struct net_backend {
	/* A frame from the guest; call on the backend's I/O context. */
	void (*send)(struct net_backend *backend, const uint8_t *frame, size_t len);
	void (*destroy)(struct net_backend *backend);
	net_receive_fn receive;
	void *receive_opaque;
};

#define NET_MAX_FRAME 65550   /* a 64 KiB IP packet with its Ethernet header */

#endif
