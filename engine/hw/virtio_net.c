/* virtio-net. See virtio_net.h. */
#include "virtio_net.h"

#include <string.h>

#define VIRTIO_NET_CLASS 0x020000   /* Ethernet controller */

/* Feature bits (§5.1.3). */
#define VIRTIO_NET_F_MTU    3
#define VIRTIO_NET_F_MAC    5
#define VIRTIO_NET_F_STATUS 16

/* struct virtio_net_config (§5.1.4). */
#define CFG_MAC         0
#define CFG_STATUS      6
#define CFG_MAX_PAIRS   8
#define CFG_MTU         10
#define CFG_SIZE        12
#define VIRTIO_NET_S_LINK_UP 1
#define NET_MTU 1500

/* struct virtio_net_hdr with num_buffers, always this long with
 * VIRTIO_F_VERSION_1 (§5.1.6). Offset 10 is num_buffers. */
#define NET_HDR_SIZE 12
#define NET_HDR_NUM_BUFFERS 10

#define RX_QUEUE 0
#define TX_QUEUE 1

static void read_config(void *opaque, unsigned offset, void *data, unsigned size)
{
	struct virtio_net *net = opaque;
	uint8_t cfg[CFG_SIZE] = { 0 };
	memcpy(cfg + CFG_MAC, net->mac, 6);
	cfg[CFG_STATUS] = VIRTIO_NET_S_LINK_UP;
	cfg[CFG_MAX_PAIRS] = 1;
	cfg[CFG_MTU] = NET_MTU & 0xFF;
	cfg[CFG_MTU + 1] = NET_MTU >> 8;
	memcpy(data, cfg + offset, size);
}

/* Transmit: everything after the header is one frame (no offloads offered). */
static uint32_t transmit(void *opaque, unsigned queue, const struct virtq_request *req)
{
	struct virtio_net *net = opaque;
	(void)queue;
	if (req->out_len > NET_HDR_SIZE && req->out_len - NET_HDR_SIZE <= sizeof(net->tx_frame)) {
		size_t len = virtq_copy_from_out(req, NET_HDR_SIZE, net->tx_frame, req->out_len - NET_HDR_SIZE);
		net->backend->send(net->backend, net->tx_frame, len);
	}
	return 0;
}

/* Receive queue lock held. False when no buffer is posted (the frame waits). */
static bool deliver(struct virtio_net *net, const uint8_t *frame, size_t len)
{
	struct virtio_queue *q = &net->vp.queues[RX_QUEUE];
	int got = virtq_pop(&q->vq, net->vp.mem, &q->request);
	if (got < 0)
		virtio_pci_needs_reset(&net->vp, "malformed receive descriptor chain", RX_QUEUE);
	if (got <= 0)
		return false;
	uint32_t written = 0;
	/* A buffer too small for the frame gets nothing: the frame is dropped. */
	if (q->request.in_len >= NET_HDR_SIZE + len) {
		uint8_t hdr[NET_HDR_SIZE] = { [NET_HDR_NUM_BUFFERS] = 1 };
		virtq_copy_to_in(&q->request, 0, hdr, sizeof(hdr));
		virtq_copy_to_in(&q->request, NET_HDR_SIZE, frame, len);
		written = (uint32_t)(NET_HDR_SIZE + len);
	}
	virtio_pci_queue_done(&net->vp, RX_QUEUE, virtq_push(&q->vq, q->request.head, written));
	return true;
}

static void drain_backlog(struct virtio_net *net)
{
	GBytes *frame;
	while ((frame = g_queue_peek_head(&net->backlog))) {
		gsize len;
		const uint8_t *data = g_bytes_get_data(frame, &len);
		if (!deliver(net, data, len))
			break;
		g_bytes_unref(g_queue_pop_head(&net->backlog));
	}
}

static void receive(void *opaque, const uint8_t *frame, size_t len)
{
	struct virtio_net *net = opaque;
	if (virtio_pci_queue_lock(&net->vp, RX_QUEUE)) {
		drain_backlog(net);
		if ((!g_queue_is_empty(&net->backlog) || !deliver(net, frame, len)) &&
		    net->backlog.length < VIRTIO_NET_RX_BACKLOG)
			g_queue_push_tail(&net->backlog, g_bytes_new(frame, len));
	}
	virtio_pci_queue_unlock(&net->vp, RX_QUEUE);
}

static void process_queue(void *opaque, unsigned queue)
{
	struct virtio_net *net = opaque;
	if (queue == TX_QUEUE)
		virtio_pci_serve_queue(&net->vp, queue, transmit, net);
	else
		drain_backlog(net);  /* new receive buffers */
}

static void clear_backlog(struct virtio_net *net)
{
	g_queue_clear_full(&net->backlog, (GDestroyNotify)g_bytes_unref);
}

static void reset(void *opaque)
{
	clear_backlog(opaque);
}

static const struct virtio_device_ops net_ops = {
	.process_queue = process_queue,
	.read_config = read_config,
	.reset = reset,
};

int virtio_net_init(struct virtio_net *net, struct net_backend *backend, const uint8_t mac[6],
		    GMainContext *io_context, const struct guest_mem *mem, struct irq_line intx,
		    const struct virtio_host_ops *host, void *host_opaque)
{
	struct virtio_pci_config config = {
		.device_id = VIRTIO_ID_NET,
		.class_code = VIRTIO_NET_CLASS,
		.features = 1ull << VIRTIO_NET_F_MAC | 1ull << VIRTIO_NET_F_STATUS | 1ull << VIRTIO_NET_F_MTU,
		.num_queues = 2,
		.config_size = CFG_SIZE,
		.io_context = io_context,
		.mem = mem,
		.intx = intx,
	};
	memcpy(net->mac, mac, 6);
	g_queue_init(&net->backlog);
	net->backend = backend;
	int err = virtio_pci_init(&net->vp, &config, &net_ops, net, host, host_opaque);
	if (err == 0) {
		backend->receive = receive;
		backend->receive_opaque = net;
	}
	return err;
}

void virtio_net_destroy(struct virtio_net *net)
{
	net->backend->receive = NULL;
	virtio_pci_destroy(&net->vp);
	clear_backlog(net);
}

/* --- device object (core/device.h) ----------------------------------- */

static void virtio_net_teardown(void *opaque)
{
	struct virtio_net *net = opaque;
	pci_device_unplug(&net->vp.pci);
	virtio_net_destroy(net);
}

const struct device_ops virtio_net_device_ops = {
	"virtio-net", 1, virtio_device_reset, virtio_net_teardown, virtio_device_save, virtio_device_load, pci_function_claims,
};
