/* virtio-pci, virtio-blk and virtio-rng at register level: the test is the
 * guest. It drives the devices through PCI configuration space and their
 * BARs with the same minimal driver our test guests use (tests/guest/
 * vdriver.c), with guest RAM a buffer here, and processes queues on a
 * GMainContext as the engine's I/O thread does. Hostile rings and requests
 * must end in DEVICE_NEEDS_RESET or an error status, never a crash (the
 * suite also runs under ASan/UBSan). */
#include <glib.h>
#include <glib/gstdio.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bus-poke.h"
#include "core/trace.h"
#include "hw/pci.h"
#include "hw/virtio_blk.h"
#include "hw/virtio_net.h"
#include "hw/virtio_rng.h"
#include "vdriver.h"
#include "virtio-fixture.h"

#define RAM_SIZE (16u << 20)
#define DISK_SIZE (4u << 20)
#define BUF_GPA 0x200000
#define SLOT_BLK 1
#define SLOT_BLK_RO 2
#define SLOT_RNG 3
#define SLOT_NET 4

/* virtio-blk request layout (§5.2.6). */
#define T_IN 0
#define T_OUT 1
#define T_FLUSH 4
#define T_GET_ID 8
#define T_DISCARD 11
#define T_WRITE_ZEROES 13
#define S_OK 0
#define S_IOERR 1
#define S_UNSUPP 2

#define F_INDIRECT (1ull << 28)
#define F_EVENT_IDX (1ull << 29)
#define F_BLK_RO (1ull << 5)
#define ALL_FEATURES (~0ull)

struct fixture {
	struct virtio_fixture v;         /* RAM, buses, I/O context, driver platform */
	char *dir, *image, *ro_image;
	struct block_backend disk, ro_disk;
	struct virtio_blk blk, blk_ro;
	struct virtio_rng rng;
	struct net_backend net_backend;
	struct virtio_net net;
	GByteArray *sent;                /* frames the card transmitted, back to back */
	unsigned sent_frames;
};

static char *make_image(const char *dir, const char *name, unsigned size)
{
	char *path = g_build_filename(dir, name, NULL);
	int fd = open(path, O_CREAT | O_RDWR | O_TRUNC, 0644);
	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(ftruncate(fd, size), ==, 0);
	g_assert_cmpint(pwrite(fd, "ORIGINAL", 8, 512), ==, 8);
	close(fd);
	return path;
}

static void record_frame(struct net_backend *backend, const uint8_t *frame, size_t len)
{
	struct fixture *f = (struct fixture *)((char *)backend - offsetof(struct fixture, net_backend));
	g_byte_array_append(f->sent, frame, (guint)len);
	f->sent_frames++;
}

static struct fixture *fixture_new(void)
{
	static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0xab, 0xcd, 0xef };
	struct fixture *f = g_new0(struct fixture, 1);
	char *error = NULL;
	vfix_init(&f->v, RAM_SIZE);
	f->dir = g_dir_make_tmp("vireo-virtio-XXXXXX", NULL);
	f->image = make_image(f->dir, "disk.img", DISK_SIZE);
	f->ro_image = make_image(f->dir, "ro.img", DISK_SIZE);
	g_assert_cmpint(block_open(&f->disk, f->image, false, &error), ==, 0);
	g_assert_cmpint(block_open(&f->ro_disk, f->ro_image, true, &error), ==, 0);
	struct irq_line intx = f->v.intx;
	g_assert_cmpint(virtio_blk_init(&f->blk, &f->disk, "vireo-test-disk", 2, f->v.ctx, &f->v.mem, intx, NULL, NULL), ==, 0);
	g_assert_cmpint(virtio_blk_init(&f->blk_ro, &f->ro_disk, NULL, 1, f->v.ctx, &f->v.mem, intx, NULL, NULL), ==, 0);
	g_assert_cmpint(virtio_rng_init(&f->rng, f->v.ctx, &f->v.mem, intx, NULL, NULL), ==, 0);
	f->sent = g_byte_array_new();
	f->net_backend.send = record_frame;
	g_assert_cmpint(virtio_net_init(&f->net, &f->net_backend, mac, f->v.ctx, &f->v.mem, intx, NULL, NULL), ==, 0);
	g_assert_cmpint(pci_bus_add(&f->v.pci, &f->net.vp.pci, SLOT_NET, 0), ==, 0);
	g_assert_cmpint(pci_bus_add(&f->v.pci, &f->blk.vp.pci, SLOT_BLK, 0), ==, 0);
	g_assert_cmpint(pci_bus_add(&f->v.pci, &f->blk_ro.vp.pci, SLOT_BLK_RO, 0), ==, 0);
	g_assert_cmpint(pci_bus_add(&f->v.pci, &f->rng.vp.pci, SLOT_RNG, 0), ==, 0);
	return f;
}

static void fixture_free(struct fixture *f)
{
	vfix_unplug(&f->v);
	virtio_blk_destroy(&f->blk);
	virtio_blk_destroy(&f->blk_ro);
	virtio_rng_destroy(&f->rng);
	virtio_net_destroy(&f->net);
	g_byte_array_free(f->sent, TRUE);
	block_close(&f->disk);
	block_close(&f->ro_disk);
	g_unlink(f->image);
	g_unlink(f->ro_image);
	g_rmdir(f->dir);
	g_free(f->image);
	g_free(f->ro_image);
	g_free(f->dir);
	vfix_free(&f->v);
	g_free(f);
}

/* One block request: header, optional data, status. Returns the status
 * byte and sets *used_len. */
static uint8_t blk_request(struct fixture *f, struct vdevice *d, unsigned queue, uint32_t type, uint64_t sector,
			   uint64_t data_gpa, uint32_t data_len, bool data_writable, uint32_t *used_len)
{
	uint8_t *hdr = f->v.ram + BUF_GPA - 64;
	memset(hdr, 0, 17);
	memcpy(hdr, &type, 4);
	memcpy(hdr + 8, &sector, 8);
	hdr[16] = 0xEE;
	struct vbuf bufs[3] = { { BUF_GPA - 64, 16, false } };
	unsigned n = 1;
	if (data_len)
		bufs[n++] = (struct vbuf){ data_gpa, data_len, data_writable };
	bufs[n++] = (struct vbuf){ BUF_GPA - 48, 1, true };
	vq_submit(d, queue, bufs, n);
	uint32_t len = 0;
	g_assert_true(vq_poll(d, queue, &len, 1));
	if (used_len)
		*used_len = len;
	return hdr[16];
}

static void read_image(const char *path, uint64_t offset, void *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	g_assert_cmpint(pread(fd, buf, len, (off_t)offset), ==, (ssize_t)len);
	close(fd);
}

static void fill_pattern(uint8_t *p, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 7 + seed + (i >> 9));
}

static void test_blk_write_flush_read(void)
{
	struct fixture *f = fixture_new();
	struct vdevice d;
	uint32_t used;
	vfix_start(&f->v, &d, 2, 0, ALL_FEATURES, 1);
	g_assert_cmpuint(vdev_config_read(&d, 0, 8), ==, DISK_SIZE / 512);
	uint8_t *data = f->v.ram + BUF_GPA, *back = f->v.ram + BUF_GPA + 0x10000;
	fill_pattern(data, 8192, 3);
	g_assert_cmpuint(blk_request(f, &d, 0, T_OUT, 8, BUF_GPA, 8192, false, &used), ==, S_OK);
	g_assert_cmpuint(used, ==, 1);
	g_assert_cmpuint(blk_request(f, &d, 0, T_FLUSH, 0, 0, 0, false, NULL), ==, S_OK);
	g_assert_cmpuint(blk_request(f, &d, 0, T_IN, 8, BUF_GPA + 0x10000, 8192, true, &used), ==, S_OK);
	g_assert_cmpuint(used, ==, 8192 + 1);
	g_assert_cmpmem(back, 8192, data, 8192);
	uint8_t file[8192];
	read_image(f->image, 8 * 512, file, sizeof(file));
	g_assert_cmpmem(file, sizeof(file), data, 8192);
	fixture_free(f);
}

static void test_blk_get_id_and_errors(void)
{
	struct fixture *f = fixture_new();
	struct vdevice d;
	uint32_t used;
	vfix_start(&f->v, &d, 2, 0, ALL_FEATURES, 2);
	g_assert_cmpuint(blk_request(f, &d, 1, T_GET_ID, 0, BUF_GPA, 20, true, &used), ==, S_OK);
	g_assert_cmpstr((char *)f->v.ram + BUF_GPA, ==, "vireo-test-disk");
	/* Past the end, straddling the end, not whole sectors, unknown type. */
	g_assert_cmpuint(blk_request(f, &d, 1, T_IN, DISK_SIZE / 512, BUF_GPA, 512, true, NULL), ==, S_IOERR);
	g_assert_cmpuint(blk_request(f, &d, 1, T_IN, DISK_SIZE / 512 - 1, BUF_GPA, 1024, true, NULL), ==, S_IOERR);
	g_assert_cmpuint(blk_request(f, &d, 1, T_IN, UINT64_MAX / 256, BUF_GPA, 512, true, NULL), ==, S_IOERR);
	g_assert_cmpuint(blk_request(f, &d, 1, T_OUT, 0, BUF_GPA, 100, false, NULL), ==, S_IOERR);
	g_assert_cmpuint(blk_request(f, &d, 1, 0x1234, 0, 0, 0, false, NULL), ==, S_UNSUPP);
	g_assert_cmphex(vdev_status(&d), ==, 0xF);
	fixture_free(f);
}

static void test_blk_read_only(void)
{
	struct fixture *f = fixture_new();
	struct vdevice d;
	vfix_start(&f->v, &d, 2, 1, ALL_FEATURES, 1);
	g_assert_true(d.features & F_BLK_RO);
	memset(f->v.ram + BUF_GPA, 0x55, 512);
	g_assert_cmpuint(blk_request(f, &d, 0, T_OUT, 1, BUF_GPA, 512, false, NULL), ==, S_IOERR);
	uint8_t *seg = f->v.ram + BUF_GPA;
	memset(seg, 0, 16);
	seg[8] = 1;  /* one sector at 0 */
	g_assert_cmpuint(blk_request(f, &d, 0, T_WRITE_ZEROES, 0, BUF_GPA, 16, false, NULL), ==, S_IOERR);
	g_assert_cmpuint(blk_request(f, &d, 0, T_IN, 1, BUF_GPA, 512, true, NULL), ==, S_OK);
	g_assert_cmpmem(f->v.ram + BUF_GPA, 8, "ORIGINAL", 8);
	char file[8];
	read_image(f->ro_image, 512, file, 8);
	g_assert_cmpmem(file, 8, "ORIGINAL", 8);
	fixture_free(f);
}

static uint64_t allocated_bytes(const char *path)
{
	struct stat st;
	g_assert_cmpint(stat(path, &st), ==, 0);
	return (uint64_t)st.st_blocks * 512;
}

static void put_segment(uint8_t *p, uint64_t sector, uint32_t sectors, uint32_t flags)
{
	memcpy(p, &sector, 8);
	memcpy(p + 8, &sectors, 4);
	memcpy(p + 12, &flags, 4);
}

static void test_blk_discard_write_zeroes(void)
{
	struct fixture *f = fixture_new();
	struct vdevice d;
	vfix_start(&f->v, &d, 2, 0, ALL_FEATURES, 1);
	uint64_t before = allocated_bytes(f->image);
	fill_pattern(f->v.ram + BUF_GPA, 1 << 20, 9);
	g_assert_cmpuint(blk_request(f, &d, 0, T_OUT, 2048, BUF_GPA, 1 << 20, false, NULL), ==, S_OK);
	g_assert_cmpuint(allocated_bytes(f->image), >=, before + (1 << 20));
	put_segment(f->v.ram + BUF_GPA + 0x200000, 2048, 2048, 0);
	g_assert_cmpuint(blk_request(f, &d, 0, T_DISCARD, 0, BUF_GPA + 0x200000, 16, false, NULL), ==, S_OK);
	g_assert_cmpuint(allocated_bytes(f->image), <=, before + 4096);  /* sparse again */
	/* Write-zeroes without unmap keeps the range readable as zeroes. */
	g_assert_cmpuint(blk_request(f, &d, 0, T_OUT, 0, BUF_GPA, 4096, false, NULL), ==, S_OK);
	put_segment(f->v.ram + BUF_GPA + 0x200000, 0, 8, 0);
	g_assert_cmpuint(blk_request(f, &d, 0, T_WRITE_ZEROES, 0, BUF_GPA + 0x200000, 16, false, NULL), ==, S_OK);
	g_assert_cmpuint(blk_request(f, &d, 0, T_IN, 0, BUF_GPA, 4096, true, NULL), ==, S_OK);
	for (unsigned i = 0; i < 4096; i++)
		g_assert_cmpuint(f->v.ram[BUF_GPA + i], ==, 0);
	/* Discard with the unmap flag is not allowed; ranges past the end fail. */
	put_segment(f->v.ram + BUF_GPA + 0x200000, 0, 8, 1);
	g_assert_cmpuint(blk_request(f, &d, 0, T_DISCARD, 0, BUF_GPA + 0x200000, 16, false, NULL), ==, S_UNSUPP);
	put_segment(f->v.ram + BUF_GPA + 0x200000, DISK_SIZE / 512 - 4, 8, 0);
	g_assert_cmpuint(blk_request(f, &d, 0, T_DISCARD, 0, BUF_GPA + 0x200000, 16, false, NULL), ==, S_IOERR);
	fixture_free(f);
}

static void test_feature_negotiation(void)
{
	struct fixture *f = fixture_new();
	struct vdevice d;
	g_assert_true(vdev_find(&d, &f->v.platform, 2, 0, VFIX_MMIO_BASE));
	g_assert_false(vdev_negotiate(&d, ALL_FEATURES & ~VIRTIO_F_VERSION_1_BIT));  /* no legacy interface */
	g_assert_true(vdev_negotiate(&d, VIRTIO_F_VERSION_1_BIT));
	g_assert_cmphex(d.features, ==, VIRTIO_F_VERSION_1_BIT);
	fixture_free(f);
}

static void test_rng(void)
{
	struct fixture *f = fixture_new();
	struct vdevice d;
	uint32_t used;
	vfix_start(&f->v, &d, 4, 0, ALL_FEATURES, 1);
	struct vbuf buf = { BUF_GPA, 64, true };
	vq_submit(&d, 0, &buf, 1);
	g_assert_true(vq_poll(&d, 0, &used, 1));
	g_assert_cmpuint(used, ==, 64);
	buf.gpa += 64;
	vq_submit(&d, 0, &buf, 1);
	g_assert_true(vq_poll(&d, 0, &used, 1));
	g_assert_cmpmem(f->v.ram + BUF_GPA, 0, f->v.ram + BUF_GPA, 0);
	g_assert_true(memcmp(f->v.ram + BUF_GPA, f->v.ram + BUF_GPA + 64, 64) != 0);
	unsigned zeroes = 0;
	for (unsigned i = 0; i < 128; i++)
		zeroes += f->v.ram[BUF_GPA + i] == 0;
	g_assert_cmpuint(zeroes, <, 16);
	fixture_free(f);
}

/* ---- network ---- */

#define NET_HDR 12

static void test_net(void)
{
	struct fixture *f = fixture_new();
	struct vdevice d;
	uint32_t used;
	vfix_start(&f->v, &d, 1, 0, ALL_FEATURES, 2);
	g_assert_cmphex(vdev_config_read(&d, 0, 4), ==, 0xab005452);  /* 52:54:00:ab */
	g_assert_cmphex(vdev_config_read(&d, 6, 2), ==, 1);            /* link up */
	/* Transmit: the frame after the header reaches the backend as it was. */
	uint8_t *tx = f->v.ram + BUF_GPA;
	memset(tx, 0, NET_HDR);
	fill_pattern(tx + NET_HDR, 1514, 5);
	struct vbuf hdr = { BUF_GPA, NET_HDR, false }, body[2] = { { BUF_GPA, NET_HDR, false },
								   { BUF_GPA + NET_HDR, 1514, false } };
	vq_submit(&d, 1, body, 2);
	g_assert_true(vq_poll(&d, 1, &used, 1));
	g_assert_cmpuint(f->sent_frames, ==, 1);
	g_assert_cmpmem(f->sent->data, f->sent->len, tx + NET_HDR, 1514);
	vq_submit(&d, 1, &hdr, 1);  /* a header alone is no frame */
	g_assert_true(vq_poll(&d, 1, &used, 1));
	g_assert_cmpuint(f->sent_frames, ==, 1);
	/* Receive before any buffer is posted: the frame waits, then arrives
	 * behind a header saying one buffer. */
	uint8_t frame[60];
	fill_pattern(frame, sizeof(frame), 11);
	f->net_backend.receive(f->net_backend.receive_opaque, frame, sizeof(frame));
	struct vbuf rx = { BUF_GPA + 0x10000, 2048, true };
	vq_submit(&d, 0, &rx, 1);
	g_assert_true(vq_poll(&d, 0, &used, 1));
	g_assert_cmpuint(used, ==, NET_HDR + sizeof(frame));
	g_assert_cmpuint(f->v.ram[BUF_GPA + 0x10000 + 10], ==, 1);  /* num_buffers */
	g_assert_cmpmem(f->v.ram + BUF_GPA + 0x10000 + NET_HDR, sizeof(frame), frame, sizeof(frame));
	/* A buffer too small for the frame comes back empty. */
	struct vbuf small = { BUF_GPA + 0x10000, 40, true };
	vq_submit(&d, 0, &small, 1);
	f->net_backend.receive(f->net_backend.receive_opaque, frame, sizeof(frame));
	g_assert_true(vq_poll(&d, 0, &used, 1));
	g_assert_cmpuint(used, ==, 0);
	fixture_free(f);
}

/* ---- interrupts ---- */

#define MSIX_CONTROL_ENABLE 0x80000000u
#define COMMON_Q_SELECT 0x16
#define COMMON_Q_MSIX 0x1A

#define PCI_CAPABILITY_LIST 0x34
#define PCI_CAP_ID_VNDR 0x09
#define PCI_CAP_ID_MSIX 0x11

/* The capability with ID `id`; for a vendor one (virtio's, §4.1.4), the
 * one whose cfg_type is `type`. */
static unsigned find_cap(struct fixture *f, unsigned devfn, unsigned id, unsigned type)
{
	for (unsigned cap = vfix_config_read(&f->v, devfn, PCI_CAPABILITY_LIST) & 0xFC; cap;
	     cap = (vfix_config_read(&f->v, devfn, cap) >> 8) & 0xFC) {
		uint32_t head = vfix_config_read(&f->v, devfn, cap);
		if ((head & 0xFF) == id && (id != PCI_CAP_ID_VNDR || head >> 24 == type))
			return cap;
	}
	g_assert_not_reached();
}

static unsigned msix_cap(struct fixture *f, unsigned devfn)
{
	return find_cap(f, devfn, PCI_CAP_ID_MSIX, 0);
}

static uint64_t eventfd_count(int fd)
{
	uint64_t n = 0;
	return read(fd, &n, sizeof(n)) == sizeof(n) ? n : 0;
}

static void test_msix(void)
{
	struct fixture *f = fixture_new();
	struct vdevice d;
	vfix_start(&f->v, &d, 2, 0, ALL_FEATURES, 1);
	unsigned devfn = SLOT_BLK * 8, cap = msix_cap(f, devfn);
	vfix_config_write(&f->v, devfn, cap, vfix_config_read(&f->v, devfn, cap) | MSIX_CONTROL_ENABLE);
	vfix_mmio_write(&f->v, d.msix_table + 0, 0xFEE00000, 4);
	vfix_mmio_write(&f->v, d.msix_table + 8, 0x41, 4);
	vfix_mmio_write(&f->v, d.msix_table + 12, 0, 4);  /* unmask */
	vfix_mmio_write(&f->v, d.common + COMMON_Q_SELECT, 0, 2);
	vfix_mmio_write(&f->v, d.common + COMMON_Q_MSIX, 0, 2);
	g_assert_cmpuint(vfix_mmio_read(&f->v, d.common + COMMON_Q_MSIX, 2), ==, 0);
	int fd = f->blk.vp.msix.entries[0].eventfd;
	g_assert_cmpuint(blk_request(f, &d, 0, T_FLUSH, 0, 0, 0, false, NULL), ==, S_OK);
	g_assert_cmpuint(eventfd_count(fd), ==, 1);
	g_assert_false(f->v.intx_level);  /* INTx is off while MSI-X is on */
	/* Masked: the interrupt waits in the PBA until unmasked. */
	vfix_mmio_write(&f->v, d.msix_table + 12, 1, 4);
	g_assert_cmpuint(blk_request(f, &d, 0, T_FLUSH, 0, 0, 0, false, NULL), ==, S_OK);
	g_assert_cmpuint(eventfd_count(fd), ==, 0);
	g_assert_cmphex(vfix_mmio_read(&f->v, d.msix_table + 0x800, 8), ==, 1);
	vfix_mmio_write(&f->v, d.msix_table + 12, 0, 4);
	g_assert_cmpuint(eventfd_count(fd), ==, 1);
	g_assert_cmphex(vfix_mmio_read(&f->v, d.msix_table + 0x800, 8), ==, 0);
	/* A vector beyond the table reads back as NO_VECTOR (§4.1.5.1.2). */
	vfix_mmio_write(&f->v, d.common + COMMON_Q_MSIX, 40, 2);
	g_assert_cmphex(vfix_mmio_read(&f->v, d.common + COMMON_Q_MSIX, 2), ==, 0xFFFF);
	fixture_free(f);
}

static void test_intx_and_isr(void)
{
	struct fixture *f = fixture_new();
	struct vdevice d;
	vfix_start(&f->v, &d, 2, 0, ALL_FEATURES, 1);
	g_assert_cmpuint(blk_request(f, &d, 0, T_FLUSH, 0, 0, 0, false, NULL), ==, S_OK);
	g_assert_true(f->v.intx_level);
	g_assert_cmphex(vfix_mmio_read(&f->v, d.isr, 1), ==, 1);
	g_assert_false(f->v.intx_level);
	g_assert_cmphex(vfix_mmio_read(&f->v, d.isr, 1), ==, 0);
	fixture_free(f);
}

/* Event index (§2.7.10): no interrupt until used_idx passes used_event. */
static void test_event_index(void)
{
	struct fixture *f = fixture_new();
	struct vdevice d;
	vfix_start(&f->v, &d, 2, 0, ALL_FEATURES, 1);
	g_assert_true(d.features & F_EVENT_IDX);
	d.manual_used_event = true;
	vq_set_used_event(&d, 0, 2);  /* interrupt when entry 2 is used */
	for (unsigned i = 0; i < 2; i++) {
		g_assert_cmpuint(blk_request(f, &d, 0, T_FLUSH, 0, 0, 0, false, NULL), ==, S_OK);
		g_assert_false(f->v.intx_level);
	}
	g_assert_cmpuint(blk_request(f, &d, 0, T_FLUSH, 0, 0, 0, false, NULL), ==, S_OK);
	g_assert_true(f->v.intx_level);
	/* The device asked to be notified at the next available entry. */
	uint16_t avail_event;
	memcpy(&avail_event, f->v.ram + d.queues[0].used + 4 + 8 * d.queues[0].size, 2);
	g_assert_cmpuint(avail_event, ==, 3);
	fixture_free(f);
}

/* ---- hostile drivers ---- */

static void put_desc(struct fixture *f, uint64_t table, unsigned i, uint64_t addr, uint32_t len, uint16_t flags,
		     uint16_t next)
{
	uint8_t *d = f->v.ram + table + 16 * i;
	memcpy(d, &addr, 8);
	memcpy(d + 8, &len, 4);
	memcpy(d + 12, &flags, 2);
	memcpy(d + 14, &next, 2);
}

/* Makes head `head` available `advance` times ahead and notifies. */
static void publish(struct fixture *f, struct vdevice *d, uint16_t head, uint16_t advance)
{
	struct vqueue *q = &d->queues[0];
	uint16_t *avail = (uint16_t *)(void *)(f->v.ram + q->avail);
	avail[2 + q->avail_idx % q->size] = head;
	q->avail_idx = (uint16_t)(q->avail_idx + advance);
	avail[1] = q->avail_idx;
	vfix_mmio_write(&f->v, q->notify_addr, 0, 2);
}

enum hostile_case {
	LOOP, LONG_INDIRECT, PAST_RAM, WRAPPING, INDIRECT_OUTSIDE, NESTED_INDIRECT, INDIRECT_WITH_NEXT,
	READ_AFTER_WRITE, HEAD_OUT_OF_RANGE, AVAIL_JUMP, NEXT_OUT_OF_RANGE, BAD_INDIRECT_LEN, HOSTILE_CASES
};

static void build_hostile(struct fixture *f, struct vdevice *d, enum hostile_case c)
{
	uint64_t table = d->queues[0].desc, ind = BUF_GPA + 0x100000;
	const uint16_t N = VIRTQ_DESC_F_NEXT, W = VIRTQ_DESC_F_WRITE, I = VIRTQ_DESC_F_INDIRECT;
	switch (c) {
	case LOOP:
		put_desc(f, table, 0, BUF_GPA, 16, N, 1);
		put_desc(f, table, 1, BUF_GPA, 16, N, 0);
		return publish(f, d, 0, 1);
	case LONG_INDIRECT:  /* a chain of 300 inside a 300-entry table: longer than any queue */
		for (unsigned i = 0; i < 300; i++)
			put_desc(f, ind, i, BUF_GPA, 16, N, (uint16_t)(i + 1));
		put_desc(f, table, 0, ind, 300 * 16, I, 0);
		return publish(f, d, 0, 1);
	case PAST_RAM:
		put_desc(f, table, 0, RAM_SIZE - 8, 16, 0, 0);
		return publish(f, d, 0, 1);
	case WRAPPING:
		put_desc(f, table, 0, UINT64_MAX - 7, 16, 0, 0);
		return publish(f, d, 0, 1);
	case INDIRECT_OUTSIDE:
		put_desc(f, table, 0, RAM_SIZE - 16, 64, I, 0);
		return publish(f, d, 0, 1);
	case NESTED_INDIRECT:
		put_desc(f, ind, 0, ind + 64, 16, I, 0);
		put_desc(f, table, 0, ind, 16, I, 0);
		return publish(f, d, 0, 1);
	case INDIRECT_WITH_NEXT:
		put_desc(f, ind, 0, BUF_GPA, 16, 0, 0);
		put_desc(f, table, 0, ind, 16, I | N, 1);
		return publish(f, d, 0, 1);
	case READ_AFTER_WRITE:
		put_desc(f, table, 0, BUF_GPA, 16, W | N, 1);
		put_desc(f, table, 1, BUF_GPA, 16, 0, 0);
		return publish(f, d, 0, 1);
	case HEAD_OUT_OF_RANGE:
		return publish(f, d, 0xFFFF, 1);
	case AVAIL_JUMP:
		put_desc(f, table, 0, BUF_GPA, 16, 0, 0);
		return publish(f, d, 0, 1000);
	case NEXT_OUT_OF_RANGE:
		put_desc(f, table, 0, BUF_GPA, 16, N, 5000);
		return publish(f, d, 0, 1);
	case BAD_INDIRECT_LEN:
		put_desc(f, table, 0, ind, 24, I, 0);
		return publish(f, d, 0, 1);
	case HOSTILE_CASES:
		break;
	}
	g_assert_not_reached();
}

static unsigned count_lines(const char *text, const char *needle)
{
	unsigned n = 0;
	for (const char *p = text; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

/* --trace guest-error names the device and the queue of each. */
static void test_hostile_rings(void)
{
	char *error = NULL;
	g_autofree char *dir = g_dir_make_tmp("vireo-virtio-trace-XXXXXX", NULL);
	g_autofree char *path = g_build_filename(dir, "trace.log", NULL);
	g_assert_true(trace_start(1u << TRACE_GUEST_ERROR, path, &error));
	for (unsigned c = 0; c < HOSTILE_CASES; c++) {
		struct fixture *f = fixture_new();
		struct vdevice d, rng;
		vfix_start(&f->v, &d, 2, 0, ALL_FEATURES, 1);
		build_hostile(f, &d, c);
		g_assert_cmphex(vdev_status(&d) & VIRTIO_STATUS_NEEDS_RESET, ==, VIRTIO_STATUS_NEEDS_RESET);
		g_assert_cmpuint(((uint16_t *)(void *)(f->v.ram + d.queues[0].used))[1], ==, 0);  /* nothing used */
		/* The other devices keep working, and a reset brings this one back. */
		vfix_start(&f->v, &rng, 4, 0, ALL_FEATURES, 1);
		vfix_start(&f->v, &d, 2, 0, ALL_FEATURES, 1);
		g_assert_cmpuint(blk_request(f, &d, 0, T_FLUSH, 0, 0, 0, false, NULL), ==, S_OK);
		fixture_free(f);
	}
	trace_stop();
	g_autofree char *text = NULL;
	g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
	g_assert_cmpuint(count_lines(text, " guest-error: virtio-blk: malformed descriptor chain on queue 0; "
					   "device needs reset\n"), >=, HOSTILE_CASES);
	g_unlink(path);
	g_rmdir(dir);
}

#define COMMON_Q_ENABLE 0x1C
#define COMMON_Q_DESC 0x20
#define COMMON_Q_AVAIL 0x28
#define COMMON_Q_USED 0x30

/* Enabling a queue whose used ring is not RAM must fail there and then. */
static void test_rings_outside_ram(void)
{
	static const uint64_t used_at[] = { RAM_SIZE - 8, RAM_SIZE + 0x1000, 0xFFFFFFFFFFFFF000ull };
	for (unsigned i = 0; i < G_N_ELEMENTS(used_at); i++) {
		struct fixture *f = fixture_new();
		struct vdevice d;
		g_assert_true(vdev_find(&d, &f->v.platform, 2, 0, VFIX_MMIO_BASE));
		g_assert_true(vdev_negotiate(&d, ALL_FEATURES));
		vfix_mmio_write(&f->v, d.common + COMMON_Q_SELECT, 0, 2);
		vfix_mmio_write(&f->v, d.common + COMMON_Q_DESC, VFIX_RING_GPA, 8);
		vfix_mmio_write(&f->v, d.common + COMMON_Q_AVAIL, VFIX_RING_GPA + 0x1000, 8);
		vfix_mmio_write(&f->v, d.common + COMMON_Q_USED, used_at[i], 8);
		vfix_mmio_write(&f->v, d.common + COMMON_Q_ENABLE, 1, 2);
		g_assert_cmphex(vdev_status(&d) & VIRTIO_STATUS_NEEDS_RESET, ==, VIRTIO_STATUS_NEEDS_RESET);
		g_assert_cmpuint(vfix_mmio_read(&f->v, d.common + COMMON_Q_ENABLE, 2), ==, 0);
		vdev_driver_ok(&d);
		vfix_mmio_write(&f->v, d.notify, 0, 2);  /* a kick must not touch the unusable queue */
		fixture_free(f);
	}
}

static void drain_cb(void *opaque)
{
	vfix_drain(&((struct fixture *)opaque)->v);
}

/* struct virtio_pci_cap (§4.1.4) and the PCI_CFG capability's data (§4.1.4.9). */
#define CAP_COMMON_CFG 1
#define CAP_PCI_CFG 5
#define CAP_BAR 4
#define CAP_OFFSET 8
#define CAP_LENGTH 12
#define CAP_PCI_CFG_DATA 16
#define COMMON_NUM_QUEUES 0x12

static void set_cfg_window(struct fixture *f, unsigned devfn, unsigned cap, unsigned bar, uint32_t offset,
			   uint32_t length)
{
	uint32_t head = vfix_config_read(&f->v, devfn, cap + CAP_BAR);
	vfix_config_write(&f->v, devfn, cap + CAP_BAR, (head & ~0xFFu) | bar);
	vfix_config_write(&f->v, devfn, cap + CAP_OFFSET, offset);
	vfix_config_write(&f->v, devfn, cap + CAP_LENGTH, length);
}

/* VIRTIO_PCI_CAP_PCI_CFG (§4.1.4.9): the window reads the BARs through
 * configuration space. A window past its BAR reaches nothing, and the data
 * keeps what the driver wrote there; so does one whose offset plus length
 * wraps around 32 bits (0xFFFFFFFC + 4 is 0). */
static void test_pci_cfg_window(void)
{
	struct fixture *f = fixture_new();
	struct vdevice d;
	vfix_start(&f->v, &d, 2, 0, ALL_FEATURES, 2);
	unsigned devfn = SLOT_BLK * 8, cap = find_cap(f, devfn, PCI_CAP_ID_VNDR, CAP_PCI_CFG);
	unsigned common = find_cap(f, devfn, PCI_CAP_ID_VNDR, CAP_COMMON_CFG);
	unsigned bar = vfix_config_read(&f->v, devfn, common + CAP_BAR) & 0xFF;
	uint32_t common_offset = vfix_config_read(&f->v, devfn, common + CAP_OFFSET);
	set_cfg_window(f, devfn, cap, bar, common_offset + COMMON_NUM_QUEUES, 2);
	g_assert_cmphex(vfix_config_read(&f->v, devfn, cap + CAP_PCI_CFG_DATA) & 0xFFFF, ==, 2);  /* the blk's queues */
	static const uint32_t beyond[][2] = { { 0x4000, 4 }, { 0xFFFFFFFC, 4 }, { 0xFFFFFFFE, 2 }, { 0xFFFFFFFF, 1 } };
	for (unsigned i = 0; i < G_N_ELEMENTS(beyond); i++) {
		set_cfg_window(f, devfn, cap, bar, beyond[i][0], beyond[i][1]);
		vfix_config_write(&f->v, devfn, cap + CAP_PCI_CFG_DATA, 0xA5A5A5A5);
		g_assert_cmphex(vfix_config_read(&f->v, devfn, cap + CAP_PCI_CFG_DATA), ==, 0xA5A5A5A5);
	}
	fixture_free(f);
}

/* Random register garbage on every BAR and on configuration space. */
static void test_register_garbage(void)
{
	struct fixture *f = fixture_new();
	struct vdevice d;
	vfix_start(&f->v, &d, 2, 0, ALL_FEATURES, 2);
	uint64_t base = d.common & ~0x3FFFull;
	bus_poke_randomly(&f->v.mmio, base, 0x4000, 50000, 1, drain_cb, f);
	bus_poke_randomly(&f->v.mmio, d.msix_table, 0x1000, 20000, 2, drain_cb, f);
	for (unsigned i = 0; i < 20000; i++) {
		unsigned reg = g_test_rand_int_range(0x04, 0x100) & 0xFC;
		if (reg == 0x04 || (reg >= 0x10 && reg < 0x28))
			continue;  /* keep the BARs where they are */
		vfix_config_write(&f->v, SLOT_BLK * 8, reg, g_test_rand_int());
		vfix_config_read(&f->v, SLOT_BLK * 8, reg);
	}
	vfix_drain(&f->v);
	/* Still a working device after a reset. */
	vfix_start(&f->v, &d, 2, 0, ALL_FEATURES, 1);
	g_assert_cmpuint(blk_request(f, &d, 0, T_FLUSH, 0, 0, 0, false, NULL), ==, S_OK);
	fixture_free(f);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/virtio/blk/write-flush-read", test_blk_write_flush_read);
	g_test_add_func("/virtio/blk/get-id-and-errors", test_blk_get_id_and_errors);
	g_test_add_func("/virtio/blk/read-only", test_blk_read_only);
	g_test_add_func("/virtio/blk/discard-write-zeroes", test_blk_discard_write_zeroes);
	g_test_add_func("/virtio/features", test_feature_negotiation);
	g_test_add_func("/virtio/rng", test_rng);
	g_test_add_func("/virtio/net", test_net);
	g_test_add_func("/virtio/msix", test_msix);
	g_test_add_func("/virtio/intx-isr", test_intx_and_isr);
	g_test_add_func("/virtio/event-index", test_event_index);
	g_test_add_func("/virtio/hostile/rings", test_hostile_rings);
	g_test_add_func("/virtio/hostile/rings-outside-ram", test_rings_outside_ram);
	g_test_add_func("/virtio/hostile/register-garbage", test_register_garbage);
	g_test_add_func("/virtio/hostile/pci-cfg-window", test_pci_cfg_window);
	return g_test_run();
}
