#!/usr/bin/env python3
"""Writes the seed inputs of fuzz-legacy, fuzz-virtio-transport, fuzz-iso and
fuzz-vnc (corpus/<target>/). For the operation-stream targets: short streams, each
the way a firmware or driver starts talking to a device, so the fuzzer
begins past the first registers; their encoding is the targets' (op byte,
then its arguments) and fuzz-ops.c's (flags, 32-bit offset, value). For
fuzz-iso: images xorriso makes of installer-like trees, from sector 16 on.
Each corpus also holds the reproducers of the defects its target is meant
to catch. Run it again after changing any of the targets' encodings."""
import os
import struct
import subprocess
import sys
import tempfile

# fuzz-legacy.c: enum op and enum window.
OP_ACCESS, OP_CONFIG, OP_FILL_RAM, OP_RENDER, OP_DISC, OP_KEYS, OP_MOUSE, OP_SERIAL, OP_POWER = range(9)
(W_VGA_PORTS, W_DISPI, W_IDE_PRIMARY, W_IDE_PRIMARY_CONTROL, W_IDE_SECONDARY, W_IDE_SECONDARY_CONTROL,
 W_FW_CFG, W_I8042, W_RTC, W_UART, W_PCI_CONFIG, W_PORT_A, W_DEBUG, W_VGA_WINDOW, W_VGA_VRAM, W_VGA_REGS,
 W_IDE_BUS_MASTER, W_ACPI_PM, W_AHCI, W_RNG_MSIX, W_RNG_REGS, W_ANY_PORT) = range(22)
# fuzz-legacy.c: devfns[] indices.
D_HOST, D_ISA, D_IDE, D_PM, D_VGA, D_AHCI, D_RNG = range(7)
WIDTH_LOG = {1: 0, 2: 1, 4: 2, 8: 3}


def out(window, offset, value, width=1):
    """fuzz_access(): a write. OP_ACCESS is 0 in both targets."""
    return struct.pack('<BBBI', OP_ACCESS, window, 1 | WIDTH_LOG[width] << 1, offset) + value.to_bytes(width, 'little')


def inp(window, offset, width=1, times=1):
    return struct.pack('<BBBI', OP_ACCESS, window, WIDTH_LOG[width] << 1, offset) * times


def config(devfn, reg, value, width):
    return struct.pack('<BBBB', OP_CONFIG, devfn, 1 | WIDTH_LOG[width] << 1, reg) + value.to_bytes(width, 'little')


def fill(offset, data):
    data += b'\0' * (-len(data) % 16)
    return struct.pack('<BIB', OP_FILL_RAM, offset, len(data) // 16) + data


def dispi(index, value):
    return out(W_DISPI, 0, index, 2) + out(W_DISPI, 1, value, 2)


def vga_dispi():
    s = dispi(1, 640) + dispi(2, 480) + dispi(3, 32) + dispi(4, 0x41)
    s += out(W_VGA_VRAM, 0x100, 0x00FF00FF, 4) + bytes([OP_RENDER])
    s += dispi(3, 8) + out(W_VGA_PORTS, 0x3C8 - 0x3B0, 1) + out(W_VGA_PORTS, 0x3C9 - 0x3B0, 0x3F)
    return s + out(W_VGA_REGS, 0x500 + 9 * 2, 100, 2) + bytes([OP_RENDER])


def vga_text():
    s = out(W_VGA_WINDOW, 0x18000, 0x1F41, 2) + out(W_VGA_WINDOW, 0x18002, 0x4E42, 2)
    s += out(W_VGA_PORTS, 0x3D4 - 0x3B0, 0x0A) + out(W_VGA_PORTS, 0x3D5 - 0x3B0, 0x0E)  # cursor shape
    return s + bytes([OP_RENDER]) + out(W_VGA_PORTS, 0x3C4 - 0x3B0, 0x0402, 2) + bytes([OP_RENDER])


def ata(base_window, command):
    return out(base_window, 6, 0xE0) + out(base_window, 2, 1) + out(base_window, 3, 0) + out(base_window, 7, command)


def ide_identify_and_dma():
    s = out(W_IDE_PRIMARY, 6, 0xA0) + out(W_IDE_PRIMARY, 7, 0xEC) + inp(W_IDE_PRIMARY, 0, 2, 256)
    # READ DMA of one sector into 0x20000, the PRD table at 0x1000.
    s += fill(0x1000, struct.pack('<IHH', 0x20000, 512, 0x8000))
    s += out(W_IDE_BUS_MASTER, 4, 0x1000, 4) + ata(W_IDE_PRIMARY, 0xC8) + out(W_IDE_BUS_MASTER, 0, 0x09)
    return s + inp(W_IDE_BUS_MASTER, 2) + inp(W_IDE_PRIMARY, 7)


def atapi_packet(cdb):
    s = out(W_IDE_SECONDARY, 6, 0xA0) + out(W_IDE_SECONDARY, 1, 0) + out(W_IDE_SECONDARY, 4, 0)
    s += out(W_IDE_SECONDARY, 5, 8) + out(W_IDE_SECONDARY, 7, 0xA0)
    cdb = cdb + b'\0' * (12 - len(cdb))
    return s + b''.join(out(W_IDE_SECONDARY, 0, int.from_bytes(cdb[i:i + 2], 'little'), 2) for i in range(0, 12, 2))


def atapi_read_then_change():
    read10 = bytes([0x28, 0, 0, 0, 0, 16, 0, 0, 1])
    s = atapi_packet(bytes([0x00])) + inp(W_IDE_SECONDARY, 7)          # TEST UNIT READY
    s += atapi_packet(read10) + inp(W_IDE_SECONDARY, 0, 2, 8)            # part of a block
    s += bytes([OP_DISC, 4])                                            # disc B in, while it is open
    s += inp(W_IDE_SECONDARY, 0, 2, 8) + inp(W_IDE_SECONDARY, 7)
    return s + atapi_packet(bytes([0x03, 0, 0, 0, 18])) + inp(W_IDE_SECONDARY, 0, 2, 9)  # REQUEST SENSE


def atapi_eject_during_pio():
    """Issue 13 defect 2: the disc ejected while a three-block READ(10)
    is open; the guest's reads go on past the block the drive had loaded."""
    read10 = bytes([0x28, 0, 0, 0, 0, 16, 0, 0, 3])
    s = atapi_packet(bytes([0x00])) + atapi_packet(read10) + inp(W_IDE_SECONDARY, 0, 2, 8)
    # Dword reads, so the stream stays within the CI's -max_len of 4096.
    return s + bytes([OP_DISC, 0]) + inp(W_IDE_SECONDARY, 0, 4, 520) + inp(W_IDE_SECONDARY, 7)


def fw_cfg():
    s = out(W_FW_CFG, 0, 0x0000, 2) + inp(W_FW_CFG, 1, 1, 4)           # signature
    s += out(W_FW_CFG, 0, 0x0019, 2) + inp(W_FW_CFG, 1, 1, 8)          # file directory
    # DMA: select the directory and read 64 bytes to 0x3000.
    s += fill(0x2000, struct.pack('>IIQ', 0x0019 << 16 | 0x08 | 0x02, 64, 0x3000))
    s += out(W_FW_CFG, 4, 0, 4) + out(W_FW_CFG, 8, int.from_bytes(struct.pack('>I', 0x2000), 'little'), 4)
    return s + inp(W_FW_CFG, 4, 4)


def i8042():
    s = out(W_I8042, 4, 0x60) + out(W_I8042, 0, 0x47)                  # command byte: both ports on
    s += out(W_I8042, 4, 0xD4) + out(W_I8042, 0, 0xF4) + inp(W_I8042, 0)  # mouse reporting on
    s += bytes([OP_KEYS, 3, 0x1C, 0xF0, 0x1C]) + inp(W_I8042, 4) + inp(W_I8042, 0, 1, 3)
    s += bytes([OP_MOUSE]) + struct.pack('<hhbB', 5, -3, 1, 1) + inp(W_I8042, 0, 1, 4)
    return s + out(W_I8042, 4, 0xAA) + inp(W_I8042, 0)


def chipset():
    s = config(D_HOST, 0x59, 0x30, 1) + config(D_HOST, 0x5C, 0x33333333, 4)   # PAM
    s += config(D_ISA, 0x60, 0x0B0A0B0A, 4)                                    # PIRQ routes
    s += config(D_VGA, 0x10, 0xFFFFFFFF, 4) + config(D_VGA, 0x10, 0xD0000000, 4)  # size, move BAR0
    s += config(D_PM, 0x40, 0x0601, 4) + config(D_PM, 0x80, 1, 1)             # ACPI PM at 0x600
    s += inp(W_ACPI_PM, 0, 2) + out(W_ACPI_PM, 2, 0x0100, 2) + bytes([OP_POWER]) + inp(W_ACPI_PM, 0, 2)
    s += config(D_AHCI, 0x48, 0x00010000, 4) + config(D_RNG, 0x98, 0x80000000, 4)  # MSI, MSI-X on
    return s + out(W_RNG_MSIX, 0x0C, 0, 4) + out(W_PCI_CONFIG, 1, 0x06) + out(W_PORT_A, 0, 0x02)


def rtc_uart():
    s = out(W_RTC, 0, 0x0B) + out(W_RTC, 1, 0x46) + out(W_RTC, 0, 0x0C) + inp(W_RTC, 1)
    s += out(W_RTC, 0, 0x00) + inp(W_RTC, 1)
    s += out(W_UART, 3, 0x80) + out(W_UART, 0, 1) + out(W_UART, 3, 0x03) + out(W_UART, 1, 0x0F)
    s += bytes([OP_SERIAL, 5]) + b'hello' + inp(W_UART, 2) + inp(W_UART, 5) + inp(W_UART, 0, 1, 5)
    return s + out(W_UART, 0, 0x41) + out(W_DEBUG, 0, 0x42) + out(W_DEBUG, 0x402 - 0x80, 0x43)


# fuzz-virtio-transport.c: enum op; windows are device * 2 (+1 for MSI-X).
VT_CONFIG, VT_PCI_CFG_WINDOW, VT_FILL_RAM, VT_FILL_PATTERN, VT_RESIZE = range(1, 6)
BLK, RNG, NET, GPU = range(4)
COMMON, ISR, NOTIFY = 0x0000, 0x1000, 0x3000


def vt_fill(offset, data):
    return bytes([VT_FILL_RAM]) + fill(offset, data)[1:]


def virtio_start(device, queues):
    """A driver's bring-up through common configuration (virtio 1.2 3.1.1),
    queue q's rings at 0x10000 + q * 0x4000, 64 entries."""
    w = device * 2
    s = out(w, COMMON + 0x14, 0) + out(w, COMMON + 0x14, 1) + out(w, COMMON + 0x14, 3)
    s += out(w, COMMON + 0x00, 1, 4) + inp(w, COMMON + 0x04, 4)
    s += out(w, COMMON + 0x08, 1, 4) + out(w, COMMON + 0x0C, 1, 4)           # VERSION_1
    s += out(w, COMMON + 0x14, 0x0B) + inp(w, COMMON + 0x14)
    for q in range(queues):
        ring = 0x10000 + q * 0x4000
        s += out(w, COMMON + 0x16, q, 2) + out(w, COMMON + 0x18, 64, 2)
        s += out(w, COMMON + 0x20, ring, 8) + out(w, COMMON + 0x28, ring + 0x1000, 8)
        s += out(w, COMMON + 0x30, ring + 0x2000, 8) + out(w, COMMON + 0x1C, 1, 2)
    return s + out(w, COMMON + 0x14, 0x0F)


def desc(addr, length, flags, next_index):
    return struct.pack('<QIHH', addr, length, flags, next_index)


def virtio_rng_request():
    s = virtio_start(RNG, 1)
    s += vt_fill(0x10000, desc(0x30000, 64, 2, 0))                            # one device-writable buffer
    s += vt_fill(0x11000, struct.pack('<HHH', 0, 1, 0))                       # avail: idx 1, ring[0] 0
    return s + out(RNG * 2, NOTIFY, 0, 2) + inp(RNG * 2, ISR) + inp(RNG * 2, 0x2000, 4)


def virtio_msix_and_pci_cfg():
    s = bytes([VT_CONFIG, BLK, 1 | 2 << 1, 0x98]) + (0x80000000).to_bytes(4, 'little')   # MSI-X on
    s += out(BLK * 2 + 1, 0, 0xFEE00000, 4) + out(BLK * 2 + 1, 8, 0x41, 4) + out(BLK * 2 + 1, 12, 0, 4)
    s += out(BLK * 2, COMMON + 0x10, 0, 2) + inp(BLK * 2 + 1, 0x800, 8)
    # The PCI_CFG window: 4 bytes of BAR4 at offset 0x14 (device status), read then written.
    s += bytes([VT_PCI_CFG_WINDOW, BLK, 4]) + struct.pack('<IB', 0x14, 4) + bytes([2 << 1]) + struct.pack('<I', 0)
    s += bytes([VT_PCI_CFG_WINDOW, BLK, 4]) + struct.pack('<IB', 0x14, 1) + bytes([1]) + struct.pack('<IB', 0, 1)
    return s + bytes([VT_RESIZE]) + struct.pack('<HH', 1280, 800)


def gpu_backing_flood(resources=8, entries=16384):
    """Issue 13 defect 3: resources of one pixel, each with a backing list of
    16384 entries (all naming page 0x1000). The budget counted 4 bytes a
    resource while the engine held 256 KiB for each list."""
    entries_gpa, requests_gpa, responses_gpa = 0x40000, 0x20000, 0x30000
    s = virtio_start(GPU, 2)
    s += bytes([VT_FILL_PATTERN]) + struct.pack('<IH', entries_gpa, entries) + struct.pack('<QII', 0x1000, 4096, 0)
    descs, ring, requests = b'', b'', b''
    for r in range(resources):
        create = struct.pack('<IIQII', 0x0101, 0, 0, 0, 0) + struct.pack('<IIII', r + 1, 1, 1, 1)
        attach = struct.pack('<IIQII', 0x0106, 0, 0, 0, 0) + struct.pack('<II', r + 1, entries)
        for request, extra in ((create, None), (attach, entries * 16)):
            head = len(descs) // 16
            addr = requests_gpa + len(requests)
            requests += request + b'\0' * (-len(request) % 16)
            chain = [(addr, len(request))] + ([(entries_gpa, extra)] if extra else [])
            for a, n in chain:
                descs += desc(a, n, 1, len(descs) // 16 + 1)
            descs += desc(responses_gpa + head * 32, 24, 2, 0)
            ring += struct.pack('<H', head)
    s += vt_fill(0x10000, descs) + vt_fill(requests_gpa, requests)
    s += vt_fill(0x11000, struct.pack('<HH', 0, len(ring) // 2) + ring)
    return s + out(GPU * 2, NOTIFY, 0, 2)


TRANSPORT_SEEDS = {
    'rng-request': virtio_rng_request, 'msix-and-pci-cfg': virtio_msix_and_pci_cfg,
    'gpu-backing-flood': gpu_backing_flood,
}

ISO_SECTOR = 2048
# Trees like the installers' (name, label, Joliet, files); iso-detect.c looks for these paths.
ISO_TREES = [
    ('ubuntu', 'Ubuntu', True, {'casper/vmlinuz': '', '.disk/info': 'Ubuntu 24.04.1 LTS "Noble Numbat" - Release amd64'}),
    ('debian', 'Debian', False, {'install.amd/vmlinuz': '',
                                 '.disk/info': 'Debian GNU/Linux 12.8.0 "Bookworm" - Official amd64 NETINST'}),
    ('windows', 'CCCOMA_X64FRE_EN-US_DV9', True, {'bootmgr': '', 'sources/install.wim': ''}),
    ('fedora', 'Fedora', True, {'images/pxeboot/vmlinuz': ''}),
]


def iso_image(label, joliet, files):
    """The image xorriso makes, from sector 16 on, without trailing zeros."""
    with tempfile.TemporaryDirectory() as scratch:
        tree = os.path.join(scratch, 'tree')
        for path, content in files.items():
            os.makedirs(os.path.dirname(os.path.join(tree, path)), exist_ok=True)
            with open(os.path.join(tree, path), 'w') as f:
                f.write(content + '\n')
        iso = os.path.join(scratch, 'image.iso')
        subprocess.run(['xorriso', '-as', 'mkisofs', '-quiet', '-V', label] + (['-J', '-r'] if joliet else []) +
                       ['-o', iso, tree], check=True, stderr=subprocess.DEVNULL)
        with open(iso, 'rb') as f:
            return f.read()[16 * ISO_SECTOR:].rstrip(b'\0')


def joliet_before_primary():
    """Issue 13 defect 1: two Joliet descriptors, then the primary one."""
    image = iso_image('W', True, {'bootmgr': ''})
    primary, joliet = image[:ISO_SECTOR], image[ISO_SECTOR:2 * ISO_SECTOR]
    return joliet + joliet + primary + image[2 * ISO_SECTOR:]


ISO_SEEDS = {name: (lambda l=label, j=joliet, f=files: iso_image(l, j, f)) for name, label, joliet, files in ISO_TREES}
ISO_SEEDS['joliet-before-primary'] = joliet_before_primary

# fuzz-vnc: the first byte picks the server (bit 0: the password one), then
# RFB client messages (RFC 6143 7.5) after the handshake the target makes.
def set_encodings(*encodings):
    return struct.pack('>BxH', 2, len(encodings)) + b''.join(struct.pack('>i', e) for e in encodings)


def vnc_viewer_session(server=0):
    """What a viewer sends first: its pixel format, encodings (raw, copyrect,
    hextile, zlib, tight, zrle, cursor, desktop size, extended desktop size),
    an update request, then input and clipboard text."""
    s = bytes([server]) + struct.pack('>BxxxBBBBHHHBBBxxx', 0, 32, 24, 0, 1, 255, 255, 255, 16, 8, 0)
    s += set_encodings(0, 1, 5, 6, 7, 16, -239, -223, -308)
    s += struct.pack('>BBHHHH', 3, 0, 0, 0, 64, 48)
    s += struct.pack('>BBxxI', 4, 1, 0x61) + struct.pack('>BBxxI', 4, 0, 0x61)
    s += struct.pack('>BBHH', 5, 1, 10, 20) + struct.pack('>BBHH', 5, 0, 11, 21)
    text = b'clipboard'
    return s + struct.pack('>BxxxI', 6, len(text)) + text + struct.pack('>BBHHHH', 3, 1, 0, 0, 64, 48)


def vnc_set_desktop_size():
    """ExtendedDesktopSize's SetDesktopSize with one screen."""
    return bytes([0]) + set_encodings(-308) + struct.pack('>BxHHBx', 251, 800, 600, 1) + struct.pack('>IHHHHI', 0, 0, 0, 800, 600, 0)


VNC_SEEDS = {
    'viewer-session': vnc_viewer_session, 'viewer-session-password': lambda: vnc_viewer_session(1),
    'set-desktop-size': vnc_set_desktop_size,
}

LEGACY_SEEDS = {
    'vga-dispi': vga_dispi, 'vga-text': vga_text, 'ide-identify-dma': ide_identify_and_dma,
    'atapi-read-then-change': atapi_read_then_change, 'atapi-eject-during-pio': atapi_eject_during_pio,
    'fw-cfg': fw_cfg, 'i8042': i8042,
    'chipset': chipset, 'rtc-uart': rtc_uart,
}

if __name__ == '__main__':
    here = os.path.dirname(os.path.abspath(sys.argv[0]))
    for target, seeds in (('fuzz-legacy', LEGACY_SEEDS), ('fuzz-virtio-transport', TRANSPORT_SEEDS), ('fuzz-iso', ISO_SEEDS),
                          ('fuzz-vnc', VNC_SEEDS)):
        os.makedirs(os.path.join(here, target), exist_ok=True)
        for name, make in seeds.items():
            with open(os.path.join(here, target, name), 'wb') as f:
                f.write(make())
