/* The one key table: Linux evdev key codes (linux/input-event-codes.h) are
 * the console's code space; this converts X keysyms (VNC, RFC 6143 §7.5.4)
 * and USB HID usages (SDL2 scancodes are those) into them, and them into PS/2
 * scan code set 2 (IBM PS/2 keyboard technical reference; what an i8042
 * keyboard sends before translation) and USB HID usages. */
#ifndef VIREO_DISPLAY_KEYMAP_H
#define VIREO_DISPLAY_KEYMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KEYMAP_MAX_SCANCODES 8

/* The key that produces `keysym` (shifted symbols map to their key: the
 * client sends Shift separately), or 0 when there is none. */
unsigned keymap_from_x_keysym(uint32_t keysym);

/* The key a script names: QEMU's sendkey names ("ctrl", "alt", "delete",
 * "f1", "kp_enter", ...; any case) or one character the key types,
 * shifted or not ("a", "1", "/"; "!" is the 1 key). 0 when no key has
 * that name. */
unsigned keymap_from_name(const char *name);

/* USB HID keyboard usages (page 0x07), which SDL2's scancodes are. 0 when
 * there is no such key. */
unsigned keymap_from_usb_hid(unsigned usage);
unsigned keymap_to_usb_hid(unsigned evdev);

/* The set-2 bytes for pressing or releasing `evdev`; 0 for unknown keys
 * (and for releasing Pause, which has no break code). */
size_t keymap_to_ps2_set2(unsigned evdev, bool down, uint8_t out[KEYMAP_MAX_SCANCODES]);

#endif
