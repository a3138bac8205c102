/* virtio-net on user networking, with just enough of a network stack to
 * act like a small PC: ARP, a DHCP lease (DISCOVER/OFFER/REQUEST/ACK), a
 * file by TFTP from the built-in server, and one TCP connection accepted on
 * port 22 (the test connects to it through a host port forward), which
 * answers "ping" with "pong". Queues as Linux's virtio_net fills them: rx
 * buffers posted ahead, tx frames behind a 12-byte virtio_net_hdr. */
#include "runtime.h"
#include "vdriver-guest.h"

#define VIRTIO_ID_NET 1
#define RX 0
#define TX 1
#define RX_BUFFERS 16
#define BUF_SIZE 2048
#define NET_HDR 12

#define ETH_ARP 0x0806
#define ETH_IP 0x0800
#define IP_UDP 17
#define IP_TCP 6
#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_PSH 0x08
#define TCP_ACK 0x10
#define DHCP_DISCOVER 1
#define DHCP_OFFER 2
#define DHCP_REQUEST 3
#define DHCP_ACK 5
#define TFTP_RRQ 1
#define TFTP_DATA 3
#define TFTP_ACK 4
#define SSH_PORT 22

static uint8_t rings[2][0x4000] __attribute__((aligned(4096)));
static uint8_t rx_buf[RX_BUFFERS][BUF_SIZE];
static uint8_t tx_buf[BUF_SIZE];
static unsigned rx_next;                  /* rx buffers complete in the order posted */
static struct vdevice dev;
static uint8_t mac[6], gateway_mac[6];
static uint32_t my_ip, gateway_ip, dns_ip, server_id, offered_ip;

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t get32(const uint8_t *p) { return (uint32_t)get16(p) << 16 | get16(p + 2); }
static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)(v >> 16)); put16(p + 2, (uint16_t)v); }

static void print_ip(const char *what, uint32_t ip)
{
	print(" %s %u.%u.%u.%u", what, ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
}

static uint32_t checksum_add(uint32_t sum, const uint8_t *p, unsigned len)
{
	for (unsigned i = 0; i + 1 < len; i += 2)
		sum += get16(p + i);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

static uint16_t checksum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xFFFF) + (sum >> 16);
	return (uint16_t)~sum;
}

static void post_rx(unsigned i)
{
	struct vbuf b = { gpa_of(rx_buf[i]), BUF_SIZE, true };
	vq_submit(&dev, RX, &b, 1);
}

/* Sends the frame in tx_buf + NET_HDR of `len` bytes and waits for it to go. */
static void send_frame(unsigned len)
{
	for (unsigned i = 0; i < NET_HDR; i++)
		tx_buf[i] = 0;
	struct vbuf b = { gpa_of(tx_buf), NET_HDR + len, false };
	vq_submit(&dev, TX, &b, 1);
	vq_poll(&dev, TX, 0, GUEST_POLL_SPINS);
}

static uint8_t *eth_header(const uint8_t *dst, uint16_t type)
{
	uint8_t *f = tx_buf + NET_HDR;
	memcpy(f, dst, 6);
	memcpy(f + 6, mac, 6);
	put16(f + 12, type);
	return f + 14;
}

static const uint8_t broadcast[6] = { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF };

static void send_arp(uint16_t op, const uint8_t *to_mac, uint32_t to_ip)
{
	uint8_t *a = eth_header(op == 1 ? broadcast : to_mac, ETH_ARP);
	put16(a, 1);
	put16(a + 2, ETH_IP);
	a[4] = 6;
	a[5] = 4;
	put16(a + 6, op);
	memcpy(a + 8, mac, 6);
	put32(a + 14, my_ip);
	memcpy(a + 18, op == 1 ? (const uint8_t[6]){ 0 } : to_mac, 6);
	put32(a + 24, to_ip);
	send_frame(14 + 28);
}

/* IPv4 header + payload already at ip + 20; fills the header. */
static void send_ip(const uint8_t *to_mac, uint32_t dst, uint8_t proto, unsigned payload_len)
{
	uint8_t *ip = tx_buf + NET_HDR + 14;
	eth_header(to_mac, ETH_IP);
	ip[0] = 0x45;
	ip[1] = 0;
	put16(ip + 2, (uint16_t)(20 + payload_len));
	put16(ip + 4, 0);
	put16(ip + 6, 0x4000);  /* don't fragment */
	ip[8] = 64;
	ip[9] = proto;
	put16(ip + 10, 0);
	put32(ip + 12, my_ip);
	put32(ip + 16, dst);
	put16(ip + 10, checksum_fold(checksum_add(0, ip, 20)));
	send_frame(14 + 20 + payload_len);
}

static uint8_t *udp_payload(void)
{
	return tx_buf + NET_HDR + 14 + 20 + 8;
}

static void send_udp(const uint8_t *to_mac, uint32_t dst, uint16_t sport, uint16_t dport, unsigned len)
{
	uint8_t *u = tx_buf + NET_HDR + 14 + 20;
	put16(u, sport);
	put16(u + 2, dport);
	put16(u + 4, (uint16_t)(8 + len));
	put16(u + 6, 0);  /* no checksum (allowed for UDP over IPv4) */
	send_ip(to_mac, dst, IP_UDP, 8 + len);
}

/* ---- receiving ---- */

struct packet {
	const uint8_t *eth, *ip, *l4, *data;
	unsigned data_len;
	uint16_t type;
	uint8_t proto;
	uint32_t src_ip;
	uint16_t sport, dport;
};

static void answer_arp(const uint8_t *a)
{
	if (get16(a + 6) == 1 && get32(a + 24) == my_ip && my_ip)
		send_arp(2, a + 8, get32(a + 14));
	if (get16(a + 6) == 2 && get32(a + 14) == gateway_ip)
		memcpy(gateway_mac, a + 8, 6);
}

/* Waits for the next IPv4 packet (answering ARP meanwhile). */
static bool receive(struct packet *pkt, unsigned long spins)
{
	uint32_t len;
	while (vq_poll(&dev, RX, &len, spins)) {
		unsigned i = rx_next;
		rx_next = (rx_next + 1) % RX_BUFFERS;
		const uint8_t *f = rx_buf[i] + NET_HDR;
		unsigned flen = len > NET_HDR ? len - NET_HDR : 0;
		pkt->eth = f;
		pkt->type = flen >= 14 ? get16(f + 12) : 0;
		if (pkt->type == ETH_ARP && flen >= 14 + 28)
			answer_arp(f + 14);
		if (pkt->type == ETH_IP && flen >= 14 + 20) {
			pkt->ip = f + 14;
			unsigned ihl = (pkt->ip[0] & 15) * 4, total = get16(pkt->ip + 2);
			pkt->proto = pkt->ip[9];
			pkt->src_ip = get32(pkt->ip + 12);
			pkt->l4 = pkt->ip + ihl;
			pkt->sport = get16(pkt->l4);
			pkt->dport = get16(pkt->l4 + 2);
			unsigned header = pkt->proto == IP_TCP ? (pkt->l4[12] >> 4) * 4u : 8u;
			pkt->data = pkt->l4 + header;
			pkt->data_len = total > ihl + header ? total - ihl - header : 0;
			post_rx(i);  /* the bytes stay valid until this buffer comes round again */
			return true;
		}
		post_rx(i);
	}
	return false;
}

/* ---- DHCP (RFC 2131) ---- */

#define BOOTP_XID 0x56495245u  /* "VIRE" */

static void send_dhcp(uint8_t type)
{
	uint8_t *b = udp_payload();
	memset(b, 0, 240);
	b[0] = 1;  /* BOOTREQUEST */
	b[1] = 1;
	b[2] = 6;
	put32(b + 4, BOOTP_XID);
	put16(b + 10, 0x8000);  /* reply by broadcast: we have no address yet */
	memcpy(b + 28, mac, 6);
	put32(b + 236, 0x63825363);
	uint8_t *o = b + 240;
	*o++ = 53, *o++ = 1, *o++ = type;
	if (type == DHCP_REQUEST) {
		*o++ = 50, *o++ = 4, put32(o, offered_ip), o += 4;
		*o++ = 54, *o++ = 4, put32(o, server_id), o += 4;
	}
	*o++ = 55, *o++ = 3, *o++ = 1, *o++ = 3, *o++ = 6;
	*o++ = 255;
	send_udp(broadcast, 0xFFFFFFFF, 68, 67, (unsigned)(o - b));
}

/* The DHCP message type of a reply to us, reading the options we need. */
static uint8_t parse_dhcp(const struct packet *p)
{
	const uint8_t *b = p->data;
	uint8_t type = 0;
	if (p->proto != IP_UDP || p->dport != 68 || p->data_len < 240 || get32(b + 4) != BOOTP_XID)
		return 0;
	offered_ip = get32(b + 16);
	for (unsigned at = 240; at + 2 <= p->data_len && b[at] != 255; at += 2u + b[at + 1]) {
		const uint8_t *v = b + at + 2;
		switch (b[at]) {
		case 53: type = v[0]; break;
		case 54: server_id = get32(v); break;
		case 3: gateway_ip = get32(v); break;
		case 6: dns_ip = get32(v); break;
		}
	}
	return type;
}

static bool dhcp_step(uint8_t send, uint8_t want)
{
	struct packet p;
	for (unsigned tries = 0; tries < 3; tries++) {
		send_dhcp(send);
		while (receive(&p, GUEST_POLL_SPINS))
			if (parse_dhcp(&p) == want)
				return true;
	}
	return false;
}

static bool dhcp(void)
{
	if (!dhcp_step(DHCP_DISCOVER, DHCP_OFFER) || !dhcp_step(DHCP_REQUEST, DHCP_ACK))
		return false;
	my_ip = offered_ip;
	print("virtio-net: lease");
	print_ip("address", my_ip);
	print_ip("router", gateway_ip);
	print_ip("dns", dns_ip);
	print("\n");
	return true;
}

/* ---- TFTP (RFC 1350) ---- */

static bool resolve_gateway(void)
{
	struct packet p;
	for (unsigned tries = 0; tries < 3 && !gateway_mac[0] && !gateway_mac[1]; tries++) {
		send_arp(1, broadcast, gateway_ip);
		while (!gateway_mac[0] && !gateway_mac[1] && receive(&p, GUEST_POLL_SPINS / 4))
			;
	}
	return gateway_mac[0] || gateway_mac[1];
}

static unsigned put_string(uint8_t *p, const char *s)
{
	unsigned n = 0;
	do
		p[n] = (uint8_t)s[n];
	while (s[n++]);
	return n;
}

static void send_rrq(const char *name)
{
	uint8_t *b = udp_payload();
	unsigned len = 2;
	put16(b, TFTP_RRQ);
	len += put_string(b + len, name);
	len += put_string(b + len, "octet");
	send_udp(gateway_mac, gateway_ip, 1069, 69, len);
}

/* Reads a file as RFC 1350 says: the request is sent again when nothing
 * comes back, and a block that comes twice is acknowledged again but
 * counted once. */
static bool tftp_get(const char *name)
{
	unsigned total = 0, expected = 1;
	char first[33] = { 0 };
	struct packet p;
	for (unsigned tries = 0; tries < 5; tries++) {
		if (expected == 1)
			send_rrq(name);
		while (receive(&p, GUEST_POLL_SPINS / 4)) {
			if (p.proto != IP_UDP || p.dport != 1069 || p.data_len < 4 || get16(p.data) != TFTP_DATA)
				continue;
			unsigned block = get16(p.data + 2), n = p.data_len - 4;
			uint8_t *b = udp_payload();
			put16(b, TFTP_ACK);
			put16(b + 2, (uint16_t)block);
			send_udp(gateway_mac, gateway_ip, 1069, p.sport, 4);
			if (block != expected)
				continue;
			for (unsigned i = 0; i < n && total + i < 32; i++)
				first[total + i] = (char)(p.data[4 + i] >= 32 && p.data[4 + i] < 127 ? p.data[4 + i] : '.');
			total += n;
			expected++;
			if (n < 512) {
				print("virtio-net: tftp %s: %u bytes, starting '%s'\n", name, total, first);
				return true;
			}
		}
	}
	return false;
}

/* ---- one TCP connection ---- */

struct tcp_conn {
	uint32_t peer_ip;
	uint16_t peer_port;
	uint32_t snd_nxt, rcv_nxt;
	uint8_t peer_mac[6];
};

static void send_tcp(struct tcp_conn *c, uint8_t flags, const char *data, unsigned len)
{
	uint8_t *t = tx_buf + NET_HDR + 14 + 20;
	put16(t, SSH_PORT);
	put16(t + 2, c->peer_port);
	put32(t + 4, c->snd_nxt);
	put32(t + 8, c->rcv_nxt);
	t[12] = 5 << 4;
	t[13] = flags;
	put16(t + 14, 8192);
	put16(t + 16, 0);
	put16(t + 18, 0);
	for (unsigned i = 0; i < len; i++)
		t[20 + i] = (uint8_t)data[i];
	uint8_t pseudo[12];
	put32(pseudo, my_ip);
	put32(pseudo + 4, c->peer_ip);
	put16(pseudo + 8, IP_TCP);
	put16(pseudo + 10, (uint16_t)(20 + len));
	put16(t + 16, checksum_fold(checksum_add(checksum_add(0, pseudo, 12), t, 20 + len)));
	send_ip(c->peer_mac, c->peer_ip, IP_TCP, 20 + len);
	c->snd_nxt += len + ((flags & (TCP_SYN | TCP_FIN)) ? 1 : 0);
}

static bool tcp_segment(struct packet *p, struct tcp_conn *c)
{
	while (receive(p, GUEST_POLL_SPINS))
		if (p->proto == IP_TCP && p->dport == SSH_PORT && (!c->peer_port || p->sport == c->peer_port))
			return true;
	return false;
}

static bool serve_tcp(void)
{
	struct tcp_conn c = { 0 };
	struct packet p;
	print("virtio-net: listening on port %u\n", SSH_PORT);
	do {
		if (!tcp_segment(&p, &c))
			return false;
	} while (!(p.l4[13] & TCP_SYN));
	c.peer_ip = p.src_ip;
	c.peer_port = p.sport;
	c.rcv_nxt = get32(p.l4 + 4) + 1;
	c.snd_nxt = 0x1000;
	memcpy(c.peer_mac, p.eth + 6, 6);
	send_tcp(&c, TCP_SYN | TCP_ACK, 0, 0);
	for (;;) {
		if (!tcp_segment(&p, &c))
			return false;
		if (p.data_len && get32(p.l4 + 4) == c.rcv_nxt) {
			c.rcv_nxt += p.data_len;
			print("virtio-net: tcp got '%c%c%c%c'\n", p.data[0], p.data_len > 1 ? p.data[1] : ' ',
			      p.data_len > 2 ? p.data[2] : ' ', p.data_len > 3 ? p.data[3] : ' ');
			send_tcp(&c, TCP_PSH | TCP_ACK, "pong\n", 5);
		}
		if (p.l4[13] & TCP_FIN) {
			c.rcv_nxt++;
			send_tcp(&c, TCP_FIN | TCP_ACK, 0, 0);
			print("virtio-net: tcp closed\n");
			return true;
		}
	}
}

int main(void)
{
	if (!vdev_find(&dev, &guest_platform, VIRTIO_ID_NET, 0, GUEST_MMIO_BASE) || !vdev_negotiate(&dev, ~0ull) ||
	    !vdev_queue_setup(&dev, RX, VDRIVER_QUEUE_SIZE, gpa_of(rings[RX])) ||
	    !vdev_queue_setup(&dev, TX, VDRIVER_QUEUE_SIZE, gpa_of(rings[TX]))) {
		print("virtio-net: FAIL no device\n");
		return 1;
	}
	for (unsigned i = 0; i < 6; i++)
		mac[i] = (uint8_t)vdev_config_read(&dev, i, 1);
	print("virtio-net: mac %02x:%02x:%02x:%02x:%02x:%02x link %u\n", mac[0], mac[1], mac[2], mac[3], mac[4],
	      mac[5], (uint32_t)vdev_config_read(&dev, 6, 2));
	vdev_driver_ok(&dev);
	for (unsigned i = 0; i < RX_BUFFERS; i++)
		post_rx(i);
	if (!dhcp()) {
		print("virtio-net: FAIL no DHCP lease\n");
		return 1;
	}
	if (!resolve_gateway() || !tftp_get("hello.txt")) {
		print("virtio-net: FAIL tftp\n");
		return 1;
	}
	if (!serve_tcp()) {
		print("virtio-net: FAIL tcp\n");
		return 1;
	}
	return 0;
}
