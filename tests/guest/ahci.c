/* Drives the AHCI controller as a polling driver would after a direct
 * boot (BARs placed by the engine): finds 8086:2922 on bus 0, then on port
 * 0 (a SATA disk) IDENTIFY DEVICE, READ DMA EXT of sector 1, WRITE DMA EXT
 * of sector 2 and FLUSH CACHE EXT, and on port 1 (a SATA CD-ROM) READ(10)
 * of block 16, printing what it read for the test to compare. */
#include <stddef.h>

#include "runtime.h"

#define AHCI_ID      0x29228086u
#define BAR4         0x20
#define BAR5         0x24
#define IDP_INDEX    0x10        /* index/data pair in BAR4 (AHCI 1.3.1 §2.4.2) */
#define IDP_DATA     0x14
#define AP_COUNTER   0x8100u
#define HBA_CAP      0x00
#define HBA_GHC      0x04
#define HBA_PI       0x0C
#define PORT(p, r)   (0x100u + (p) * 0x80u + (r))
#define PX_CLB       0x00
#define PX_CLBU      0x04
#define PX_FB        0x08
#define PX_FBU       0x0C
#define PX_IS        0x10
#define PX_CMD       0x18
#define PX_TFD       0x20
#define PX_SIG       0x24
#define PX_SSTS      0x28
#define PX_CI        0x38
#define CMD_ST       0x0001u
#define CMD_FRE      0x0010u
#define CMD_FR       0x4000u
#define CMD_CR       0x8000u
#define GHC_AE       0x80000000u

#define ATA_IDENTIFY       0xEC
#define ATA_READ_DMA_EXT   0x25
#define ATA_WRITE_DMA_EXT  0x35
#define ATA_FLUSH_EXT      0xEA
#define ATA_PACKET         0xA0

static volatile uint8_t *abar;
static unsigned ahci_dev;

/* One port's structures: the command list (1 KiB aligned), received FISes,
 * one command table. */
struct port_mem {
	uint32_t list[32][8];
	uint8_t fis[256];
	uint8_t table[256];
} __attribute__((aligned(1024)));  /* each element: the list's alignment */
static struct port_mem port_mem[2];
static uint8_t buffer[4096] __attribute__((aligned(2)));

/* The benchmark: 64 KiB requests, one outstanding per disk, 32 MiB each. */
#define BENCH_BYTES  65536u
#define BENCH_ROUNDS 512u
static uint8_t bench_buffer[2][BENCH_BYTES] __attribute__((aligned(2)));

static uint32_t rd(unsigned reg)
{
	return *(volatile uint32_t *)(abar + reg);
}

static void wr(unsigned reg, uint32_t value)
{
	*(volatile uint32_t *)(abar + reg) = value;
}

static bool find_controller(void)
{
	for (unsigned dev = 0; dev < 32; dev++) {
		if (pci_config_read(0, dev, 0, 0) == AHCI_ID) {
			ahci_dev = dev;
			abar = (volatile uint8_t *)(uintptr_t)(pci_config_read(0, dev, 0, BAR5) & ~0xFu);
			print("ahci: controller at 00:%02x.0 abar %x\n", dev, (unsigned)(uintptr_t)abar);
			return true;
		}
	}
	return false;
}

/* Firmware may have left the port running (SeaBIOS on QEMU): stopped
 * first, as AHCI 1.3.1 §10.1.2 asks before the lists move. */
static void start_port(unsigned p)
{
	wr(PORT(p, PX_CMD), 0);
	while (rd(PORT(p, PX_CMD)) & (CMD_CR | CMD_FR))
		;
	wr(PORT(p, PX_CLB), (uint32_t)(uintptr_t)port_mem[p].list);
	wr(PORT(p, PX_CLBU), 0);
	wr(PORT(p, PX_FB), (uint32_t)(uintptr_t)port_mem[p].fis);
	wr(PORT(p, PX_FBU), 0);
	wr(PORT(p, PX_CMD), CMD_FRE);
	wr(PORT(p, PX_CMD), CMD_FRE | CMD_ST);
}

/* Slot 0: a Register H2D FIS, an optional CDB and one PRD over `data`. */
static void build_command(unsigned p, uint8_t cmd, uint64_t lba, uint16_t count, const uint8_t *cdb, bool write,
			  uint8_t *data, uint32_t bytes)
{
	uint8_t *t = port_mem[p].table;
	memset(t, 0, sizeof(port_mem[p].table));
	t[0] = 0x27;
	t[1] = 0x80;
	t[2] = cmd;
	t[3] = cdb ? 1 : 0;
	for (unsigned i = 0; i < 3; i++) {
		t[4 + i] = (uint8_t)(lba >> (8 * i));
		t[8 + i] = (uint8_t)(lba >> (24 + 8 * i));
	}
	t[7] = 0x40;
	t[12] = (uint8_t)count;
	t[13] = (uint8_t)(count >> 8);
	if (cdb)
		memcpy(t + 0x40, cdb, 12);
	*(uint32_t *)(t + 0x80) = (uint32_t)(uintptr_t)data;
	*(uint32_t *)(t + 0x8C) = bytes - 1;
	uint32_t *h = port_mem[p].list[0];
	h[0] = 5 | (cdb ? 1u << 5 : 0) | (write ? 1u << 6 : 0) | (bytes ? 1u << 16 : 0);
	h[1] = 0;
	h[2] = (uint32_t)(uintptr_t)t;
	h[3] = 0;
}

static void issue(unsigned p)
{
	wr(PORT(p, PX_IS), ~0u);
	wr(PORT(p, PX_CI), 1);
}

/* The task file (status | error << 8) once CI clears or ERR shows. */
static uint32_t wait_done(unsigned p)
{
	while ((rd(PORT(p, PX_CI)) & 1) && !(rd(PORT(p, PX_TFD)) & 1))
		;
	return rd(PORT(p, PX_TFD));
}

static uint32_t command(unsigned p, uint8_t cmd, uint64_t lba, uint16_t count, const uint8_t *cdb, bool write,
			uint32_t bytes)
{
	build_command(p, cmd, lba, count, cdb, write, buffer, bytes);
	issue(p);
	return wait_done(p);
}

/* ATA strings are byte-swapped words. */
static void print_ata_string(const char *what, const uint8_t *id, unsigned word, unsigned words)
{
	char s[41];
	for (unsigned i = 0; i < words; i++) {
		s[2 * i] = (char)id[2 * (word + i) + 1];
		s[2 * i + 1] = (char)id[2 * (word + i)];
	}
	unsigned n = 2 * words;
	while (n && s[n - 1] == ' ')
		n--;
	s[n] = 0;
	print("ahci: %s '%s'\n", what, s);
}

static bool disk(void)
{
	if (rd(PORT(0, PX_SSTS)) != 0x123 || rd(PORT(0, PX_SIG)) != 0x101) {
		print("ahci: FAIL port 0 ssts %x sig %x\n", rd(PORT(0, PX_SSTS)), rd(PORT(0, PX_SIG)));
		return false;
	}
	start_port(0);
	uint32_t tfd = command(0, ATA_IDENTIFY, 0, 0, NULL, false, 512);
	print_ata_string("model", buffer, 27, 20);
	print_ata_string("serial", buffer, 10, 10);
	print("ahci: identify tfd %x sectors %u\n", tfd, *(uint32_t *)(buffer + 200));
	tfd = command(0, ATA_READ_DMA_EXT, 1, 1, NULL, false, 512);
	buffer[64] = 0;
	print("ahci: read tfd %x sector 1 '%s'\n", tfd, (const char *)buffer);
	memset(buffer, 0, 512);
	memcpy(buffer, "WRITTEN BY THE AHCI GUEST", 25);
	tfd = command(0, ATA_WRITE_DMA_EXT, 2, 1, NULL, true, 512);
	print("ahci: write tfd %x\n", tfd);
	tfd = command(0, ATA_FLUSH_EXT, 0, 0, NULL, false, 0);
	print("ahci: flush tfd %x\n", tfd);
	return true;
}

static bool cdrom(void)
{
	static const uint8_t read10[12] = { 0x28, 0, 0, 0, 0, 16, 0, 0, 1, 0, 0, 0 };
	if (rd(PORT(1, PX_SIG)) != 0xEB140101u) {
		print("ahci: FAIL port 1 sig %x\n", rd(PORT(1, PX_SIG)));
		return false;
	}
	start_port(1);
	uint32_t tfd = 0;
	for (unsigned tries = 0; tries < 3; tries++) {  /* past UNIT ATTENTION */
		tfd = command(1, ATA_PACKET, 0, 0, read10, false, 2048);
		if (!(tfd & 1))
			break;
		wr(PORT(1, PX_CMD), CMD_FRE);  /* error recovery: ST off clears CI */
		wr(PORT(1, PX_CMD), CMD_FRE | CMD_ST);
	}
	buffer[6] = 0;
	print("ahci: cd read tfd %x block 16 '%s'\n", tfd, (const char *)buffer + 1);
	return true;
}

/* The AP loops reading port 0's PxTFD through the index/data pair (the
 * HBA's registers, behind its lock) and counting; the BSP issues READ DMA
 * EXT of sector 1 and counts what the AP did while PxCI showed the read
 * outstanding. */
static bool hold(void)
{
	volatile uint32_t *counter = (volatile uint32_t *)AP_COUNTER;
	uint16_t data = (uint16_t)((pci_config_read(0, ahci_dev, 0, BAR4) & ~3u) + IDP_DATA);
	/* 16-bit: mov dx, data; again: in eax, dx; lock inc dword [AP_COUNTER]; jmp again */
	const uint8_t loop[] = { 0xBA, data & 0xFF, data >> 8, 0x66, 0xED, 0xF0, 0x66, 0xFF, 0x06,
				 AP_COUNTER & 0xFF, AP_COUNTER >> 8, 0xEB, 0xF6 };
	start_port(0);
	outl((uint16_t)(data - IDP_DATA + IDP_INDEX), PORT(0, PX_TFD));
	*counter = 0;
	start_aps(loop, sizeof(loop));
	for (unsigned spins = 0; !*counter && spins < 2000000; spins++)
		;
	if (!*counter) {
		print("ahci: FAIL the AP did not start\n");
		return false;
	}
	memset(buffer, 0, 512);
	build_command(0, ATA_READ_DMA_EXT, 1, 1, NULL, false, buffer, 512);
	issue(0);
	uint32_t start = *counter, pending = rd(PORT(0, PX_CI)) & 1;
	uint32_t tfd = wait_done(0), advanced = *counter - start;
	buffer[64] = 0;
	print("ahci: held read tfd %x pending %u, the other vCPU advanced %u, sector 1 '%s'\n", tfd, pending,
	      advanced, (const char *)buffer);
	return true;
}

/* One command on each disk at once, then both waited for. */
static bool on_both_disks(uint8_t cmd, uint64_t lba, bool write, uint32_t bytes)
{
	bool ok = true;
	for (unsigned p = 0; p < 2; p++) {
		build_command(p, cmd, lba, (uint16_t)(bytes / 512), NULL, write, bench_buffer[p], bytes);
		issue(p);
	}
	for (unsigned p = 0; p < 2; p++)
		ok = !(wait_done(p) & 1) && ok;
	return ok;
}

/* Sequential 64 KiB writes to both disks then a flush of both, then
 * sequential reads; "bench: PHASE start/done" lines time them. */
static bool bench(void)
{
	static const struct { const char *name; uint8_t cmd; bool write; } phases[] = {
		{ "seq-write", ATA_WRITE_DMA_EXT, true },
		{ "seq-read", ATA_READ_DMA_EXT, false },
	};
	start_port(0);
	start_port(1);
	for (unsigned i = 0; i < 2; i++) {
		print("bench: %s start\n", phases[i].name);
		for (unsigned r = 0; r < BENCH_ROUNDS; r++) {
			if (!on_both_disks(phases[i].cmd, (uint64_t)r * (BENCH_BYTES / 512), phases[i].write, BENCH_BYTES)) {
				print("bench: FAIL %s round %u\n", phases[i].name, r);
				return false;
			}
		}
		if (phases[i].write && !on_both_disks(ATA_FLUSH_EXT, 0, false, 0)) {
			print("bench: FAIL flush\n");
			return false;
		}
		print("bench: %s done %u requests of %u bytes\n", phases[i].name, 2 * BENCH_ROUNDS, BENCH_BYTES);
	}
	return true;
}

int main(void)
{
	if (!find_controller()) {
		print("ahci: FAIL no 8086:2922 on bus 0\n");
		return 1;
	}
	print("ahci: cap %x pi %x ghc %x\n", rd(HBA_CAP), rd(HBA_PI), rd(HBA_GHC));
	wr(HBA_GHC, GHC_AE);
	bool ok = cmdline_find("hold") ? hold() : cmdline_find("bench") ? bench() : disk() && cdrom();
	if (!ok)
		return 1;
	print("ahci: done\n");
	return 0;
}
