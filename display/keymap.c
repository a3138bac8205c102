/* The key table. See keymap.h. */
#include "keymap.h"

#include <glib.h>
#include <linux/input-event-codes.h>

#define PS2_EXTENDED 0xE0
#define PS2_BREAK 0xF0
#define EXT 0x100                   /* set-2 code needs the 0xE0 prefix */

struct key {
	uint16_t evdev;
	uint16_t set2;                  /* make code, | EXT for extended keys */
	uint32_t keysym, keysym_shifted;
	uint8_t usb;                    /* USB HID usage, keyboard page 0x07 (HID Usage Tables §10) */
};

/* Keysym values from X11's keysymdef.h. */
static const struct key keys[] = {
	{ KEY_ESC, 0x76, 0xff1b, 0, 0x29 },
	{ KEY_1, 0x16, '1', '!', 0x1E }, { KEY_2, 0x1E, '2', '@', 0x1F }, { KEY_3, 0x26, '3', '#', 0x20 },
	{ KEY_4, 0x25, '4', '$', 0x21 }, { KEY_5, 0x2E, '5', '%', 0x22 }, { KEY_6, 0x36, '6', '^', 0x23 },
	{ KEY_7, 0x3D, '7', '&', 0x24 }, { KEY_8, 0x3E, '8', '*', 0x25 }, { KEY_9, 0x46, '9', '(', 0x26 },
	{ KEY_0, 0x45, '0', ')', 0x27 }, { KEY_MINUS, 0x4E, '-', '_', 0x2D }, { KEY_EQUAL, 0x55, '=', '+', 0x2E },
	{ KEY_BACKSPACE, 0x66, 0xff08, 0, 0x2A }, { KEY_TAB, 0x0D, 0xff09, 0xfe20, 0x2B },
	{ KEY_Q, 0x15, 'q', 'Q', 0x14 }, { KEY_W, 0x1D, 'w', 'W', 0x1A }, { KEY_E, 0x24, 'e', 'E', 0x08 },
	{ KEY_R, 0x2D, 'r', 'R', 0x15 }, { KEY_T, 0x2C, 't', 'T', 0x17 }, { KEY_Y, 0x35, 'y', 'Y', 0x1C },
	{ KEY_U, 0x3C, 'u', 'U', 0x18 }, { KEY_I, 0x43, 'i', 'I', 0x0C }, { KEY_O, 0x44, 'o', 'O', 0x12 },
	{ KEY_P, 0x4D, 'p', 'P', 0x13 }, { KEY_LEFTBRACE, 0x54, '[', '{', 0x2F }, { KEY_RIGHTBRACE, 0x5B, ']', '}', 0x30 },
	{ KEY_ENTER, 0x5A, 0xff0d, 0, 0x28 }, { KEY_LEFTCTRL, 0x14, 0xffe3, 0, 0xE0 },
	{ KEY_A, 0x1C, 'a', 'A', 0x04 }, { KEY_S, 0x1B, 's', 'S', 0x16 }, { KEY_D, 0x23, 'd', 'D', 0x07 },
	{ KEY_F, 0x2B, 'f', 'F', 0x09 }, { KEY_G, 0x34, 'g', 'G', 0x0A }, { KEY_H, 0x33, 'h', 'H', 0x0B },
	{ KEY_J, 0x3B, 'j', 'J', 0x0D }, { KEY_K, 0x42, 'k', 'K', 0x0E }, { KEY_L, 0x4B, 'l', 'L', 0x0F },
	{ KEY_SEMICOLON, 0x4C, ';', ':', 0x33 }, { KEY_APOSTROPHE, 0x52, '\'', '"', 0x34 }, { KEY_GRAVE, 0x0E, '`', '~', 0x35 },
	{ KEY_LEFTSHIFT, 0x12, 0xffe1, 0, 0xE1 }, { KEY_BACKSLASH, 0x5D, '\\', '|', 0x31 },
	{ KEY_Z, 0x1A, 'z', 'Z', 0x1D }, { KEY_X, 0x22, 'x', 'X', 0x1B }, { KEY_C, 0x21, 'c', 'C', 0x06 },
	{ KEY_V, 0x2A, 'v', 'V', 0x19 }, { KEY_B, 0x32, 'b', 'B', 0x05 }, { KEY_N, 0x31, 'n', 'N', 0x11 },
	{ KEY_M, 0x3A, 'm', 'M', 0x10 }, { KEY_COMMA, 0x41, ',', '<', 0x36 }, { KEY_DOT, 0x49, '.', '>', 0x37 },
	{ KEY_SLASH, 0x4A, '/', '?', 0x38 }, { KEY_RIGHTSHIFT, 0x59, 0xffe2, 0, 0xE5 },
	{ KEY_KPASTERISK, 0x7C, 0xffaa, 0, 0x55 }, { KEY_LEFTALT, 0x11, 0xffe9, 0xffe7, 0xE2 },
	{ KEY_SPACE, 0x29, ' ', 0, 0x2C }, { KEY_CAPSLOCK, 0x58, 0xffe5, 0, 0x39 },
	{ KEY_F1, 0x05, 0xffbe, 0, 0x3A }, { KEY_F2, 0x06, 0xffbf, 0, 0x3B }, { KEY_F3, 0x04, 0xffc0, 0, 0x3C },
	{ KEY_F4, 0x0C, 0xffc1, 0, 0x3D }, { KEY_F5, 0x03, 0xffc2, 0, 0x3E }, { KEY_F6, 0x0B, 0xffc3, 0, 0x3F },
	{ KEY_F7, 0x83, 0xffc4, 0, 0x40 }, { KEY_F8, 0x0A, 0xffc5, 0, 0x41 }, { KEY_F9, 0x01, 0xffc6, 0, 0x42 },
	{ KEY_F10, 0x09, 0xffc7, 0, 0x43 }, { KEY_F11, 0x78, 0xffc8, 0, 0x44 }, { KEY_F12, 0x07, 0xffc9, 0, 0x45 },
	{ KEY_NUMLOCK, 0x77, 0xff7f, 0, 0x53 }, { KEY_SCROLLLOCK, 0x7E, 0xff14, 0, 0x47 },
	{ KEY_KP7, 0x6C, 0xffb7, 0xff95, 0x5F }, { KEY_KP8, 0x75, 0xffb8, 0xff97, 0x60 }, { KEY_KP9, 0x7D, 0xffb9, 0xff9a, 0x61 },
	{ KEY_KPMINUS, 0x7B, 0xffad, 0, 0x56 }, { KEY_KP4, 0x6B, 0xffb4, 0xff96, 0x5C }, { KEY_KP5, 0x73, 0xffb5, 0xff9d, 0x5D },
	{ KEY_KP6, 0x74, 0xffb6, 0xff98, 0x5E }, { KEY_KPPLUS, 0x79, 0xffab, 0, 0x57 }, { KEY_KP1, 0x69, 0xffb1, 0xff9c, 0x59 },
	{ KEY_KP2, 0x72, 0xffb2, 0xff99, 0x5A }, { KEY_KP3, 0x7A, 0xffb3, 0xff9b, 0x5B }, { KEY_KP0, 0x70, 0xffb0, 0xff9e, 0x62 },
	{ KEY_KPDOT, 0x71, 0xffae, 0xff9f, 0x63 }, { KEY_102ND, 0x61, 0, 0, 0x64 },
	{ KEY_KPENTER, EXT | 0x5A, 0xff8d, 0, 0x58 }, { KEY_RIGHTCTRL, EXT | 0x14, 0xffe4, 0, 0xE4 },
	{ KEY_KPSLASH, EXT | 0x4A, 0xffaf, 0, 0x54 }, { KEY_RIGHTALT, EXT | 0x11, 0xffea, 0xfe03, 0xE6 },
	{ KEY_HOME, EXT | 0x6C, 0xff50, 0, 0x4A }, { KEY_UP, EXT | 0x75, 0xff52, 0, 0x52 },
	{ KEY_PAGEUP, EXT | 0x7D, 0xff55, 0, 0x4B }, { KEY_LEFT, EXT | 0x6B, 0xff51, 0, 0x50 },
	{ KEY_RIGHT, EXT | 0x74, 0xff53, 0, 0x4F }, { KEY_END, EXT | 0x69, 0xff57, 0, 0x4D },
	{ KEY_DOWN, EXT | 0x72, 0xff54, 0, 0x51 }, { KEY_PAGEDOWN, EXT | 0x7A, 0xff56, 0, 0x4E },
	{ KEY_INSERT, EXT | 0x70, 0xff63, 0, 0x49 }, { KEY_DELETE, EXT | 0x71, 0xffff, 0, 0x4C },
	{ KEY_LEFTMETA, EXT | 0x1F, 0xffeb, 0, 0xE3 }, { KEY_RIGHTMETA, EXT | 0x27, 0xffec, 0, 0xE7 },
	{ KEY_COMPOSE, EXT | 0x2F, 0xff67, 0, 0x65 },
	/* Print Screen and Pause have sequences of their own (below). */
	{ KEY_SYSRQ, 0, 0xff61, 0xff15, 0x46 }, { KEY_PAUSE, 0, 0xff13, 0xff6b, 0x48 },
};

unsigned keymap_from_usb_hid(unsigned usage)
{
	if (usage == 0)
		return 0;
	for (size_t i = 0; i < G_N_ELEMENTS(keys); i++)
		if (keys[i].usb == usage)
			return keys[i].evdev;
	return 0;
}

unsigned keymap_to_usb_hid(unsigned evdev)
{
	for (size_t i = 0; i < G_N_ELEMENTS(keys); i++)
		if (keys[i].evdev == evdev)
			return keys[i].usb;
	return 0;
}

unsigned keymap_from_x_keysym(uint32_t keysym)
{
	if (keysym == 0)
		return 0;
	for (size_t i = 0; i < G_N_ELEMENTS(keys); i++)
		if (keys[i].keysym == keysym || keys[i].keysym_shifted == keysym)
			return keys[i].evdev;
	return 0;
}

/* Key names for scripts (`vireo-ctl sendkey ctrl-alt-delete`), as QEMU's
 * sendkey names them; a one-character name is the key that types it. */
static const struct { const char *name; uint16_t evdev; } key_names[] = {
	{ "ctrl", KEY_LEFTCTRL }, { "ctrl_r", KEY_RIGHTCTRL }, { "alt", KEY_LEFTALT }, { "alt_r", KEY_RIGHTALT },
	{ "altgr", KEY_RIGHTALT }, { "shift", KEY_LEFTSHIFT }, { "shift_r", KEY_RIGHTSHIFT },
	{ "meta_l", KEY_LEFTMETA }, { "meta_r", KEY_RIGHTMETA }, { "menu", KEY_COMPOSE },
	{ "esc", KEY_ESC }, { "ret", KEY_ENTER }, { "enter", KEY_ENTER }, { "spc", KEY_SPACE }, { "space", KEY_SPACE },
	{ "tab", KEY_TAB }, { "backspace", KEY_BACKSPACE }, { "caps_lock", KEY_CAPSLOCK },
	{ "num_lock", KEY_NUMLOCK }, { "scroll_lock", KEY_SCROLLLOCK }, { "print", KEY_SYSRQ }, { "sysrq", KEY_SYSRQ },
	{ "pause", KEY_PAUSE }, { "insert", KEY_INSERT }, { "delete", KEY_DELETE }, { "del", KEY_DELETE },
	{ "home", KEY_HOME }, { "end", KEY_END }, { "pgup", KEY_PAGEUP }, { "pgdn", KEY_PAGEDOWN },
	{ "up", KEY_UP }, { "down", KEY_DOWN }, { "left", KEY_LEFT }, { "right", KEY_RIGHT },
	{ "f1", KEY_F1 }, { "f2", KEY_F2 }, { "f3", KEY_F3 }, { "f4", KEY_F4 }, { "f5", KEY_F5 }, { "f6", KEY_F6 },
	{ "f7", KEY_F7 }, { "f8", KEY_F8 }, { "f9", KEY_F9 }, { "f10", KEY_F10 }, { "f11", KEY_F11 }, { "f12", KEY_F12 },
	{ "minus", KEY_MINUS }, { "equal", KEY_EQUAL }, { "comma", KEY_COMMA }, { "dot", KEY_DOT },
	{ "slash", KEY_SLASH }, { "backslash", KEY_BACKSLASH }, { "semicolon", KEY_SEMICOLON },
	{ "apostrophe", KEY_APOSTROPHE }, { "grave_accent", KEY_GRAVE }, { "bracket_left", KEY_LEFTBRACE },
	{ "bracket_right", KEY_RIGHTBRACE }, { "less", KEY_102ND },
	{ "kp_0", KEY_KP0 }, { "kp_1", KEY_KP1 }, { "kp_2", KEY_KP2 }, { "kp_3", KEY_KP3 }, { "kp_4", KEY_KP4 },
	{ "kp_5", KEY_KP5 }, { "kp_6", KEY_KP6 }, { "kp_7", KEY_KP7 }, { "kp_8", KEY_KP8 }, { "kp_9", KEY_KP9 },
	{ "kp_add", KEY_KPPLUS }, { "kp_subtract", KEY_KPMINUS }, { "kp_multiply", KEY_KPASTERISK },
	{ "kp_divide", KEY_KPSLASH }, { "kp_enter", KEY_KPENTER }, { "kp_decimal", KEY_KPDOT },
};

unsigned keymap_from_name(const char *name)
{
	if (name[0] && !name[1])
		return keymap_from_x_keysym((unsigned char)name[0]);
	for (size_t i = 0; i < G_N_ELEMENTS(key_names); i++)
		if (!g_ascii_strcasecmp(key_names[i].name, name))
			return key_names[i].evdev;
	return 0;
}

/* Print Screen: a fake left shift around the extended 7C. */
static const uint8_t print_make[] = { 0xE0, 0x12, 0xE0, 0x7C };
static const uint8_t print_break[] = { 0xE0, 0xF0, 0x7C, 0xE0, 0xF0, 0x12 };
/* Pause: make and break sent together on press; nothing on release. */
static const uint8_t pause_make[] = { 0xE1, 0x14, 0x77, 0xE1, 0xF0, 0x14, 0xF0, 0x77 };

static size_t copy(uint8_t *out, const uint8_t *seq, size_t n)
{
	for (size_t i = 0; i < n; i++)
		out[i] = seq[i];
	return n;
}

size_t keymap_to_ps2_set2(unsigned evdev, bool down, uint8_t out[KEYMAP_MAX_SCANCODES])
{
	if (evdev == KEY_SYSRQ)
		return down ? copy(out, print_make, sizeof(print_make)) : copy(out, print_break, sizeof(print_break));
	if (evdev == KEY_PAUSE)
		return down ? copy(out, pause_make, sizeof(pause_make)) : 0;
	for (size_t i = 0; i < G_N_ELEMENTS(keys); i++) {
		if (keys[i].evdev != evdev || !keys[i].set2)
			continue;
		size_t n = 0;
		if (keys[i].set2 & EXT)
			out[n++] = PS2_EXTENDED;
		if (!down)
			out[n++] = PS2_BREAK;
		out[n++] = (uint8_t)keys[i].set2;
		return n;
	}
	return 0;
}
