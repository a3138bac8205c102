/* The key table: X keysyms and USB HID usages to evdev, evdev to PS/2 set 2
 * and USB HID, for each kind of key (letters in both cases, shifted symbols,
 * modifiers, locks, navigation, keypad, extended keys and the two keys with
 * sequences of their own). */
#include <glib.h>
#include <linux/input-event-codes.h>

#include "keymap.h"

static void test_keysyms(void)
{
	g_assert_cmpuint(keymap_from_x_keysym('a'), ==, KEY_A);
	g_assert_cmpuint(keymap_from_x_keysym('A'), ==, KEY_A);
	g_assert_cmpuint(keymap_from_x_keysym('!'), ==, KEY_1);
	g_assert_cmpuint(keymap_from_x_keysym('~'), ==, KEY_GRAVE);
	g_assert_cmpuint(keymap_from_x_keysym(0xff0d), ==, KEY_ENTER);      /* Return */
	g_assert_cmpuint(keymap_from_x_keysym(0xffe1), ==, KEY_LEFTSHIFT);
	g_assert_cmpuint(keymap_from_x_keysym(0xffea), ==, KEY_RIGHTALT);
	g_assert_cmpuint(keymap_from_x_keysym(0xfe03), ==, KEY_RIGHTALT);   /* AltGr */
	g_assert_cmpuint(keymap_from_x_keysym(0xff53), ==, KEY_RIGHT);
	g_assert_cmpuint(keymap_from_x_keysym(0xffb7), ==, KEY_KP7);
	g_assert_cmpuint(keymap_from_x_keysym(0xff95), ==, KEY_KP7);        /* KP_Home */
	g_assert_cmpuint(keymap_from_x_keysym(0xffc9), ==, KEY_F12);
	g_assert_cmpuint(keymap_from_x_keysym(0x20ac), ==, 0);              /* EuroSign: no key */
	g_assert_cmpuint(keymap_from_x_keysym(0), ==, 0);
}

static void expect_set2(unsigned evdev, bool down, const uint8_t *want, size_t n)
{
	uint8_t out[KEYMAP_MAX_SCANCODES];
	size_t got = keymap_to_ps2_set2(evdev, down, out);
	g_assert_cmpmem(out, got, want, n);
}

static void test_set2(void)
{
	expect_set2(KEY_A, true, (const uint8_t[]){ 0x1C }, 1);
	expect_set2(KEY_A, false, (const uint8_t[]){ 0xF0, 0x1C }, 2);
	expect_set2(KEY_LEFTSHIFT, true, (const uint8_t[]){ 0x12 }, 1);
	expect_set2(KEY_F7, true, (const uint8_t[]){ 0x83 }, 1);
	expect_set2(KEY_RIGHT, true, (const uint8_t[]){ 0xE0, 0x74 }, 2);
	expect_set2(KEY_RIGHT, false, (const uint8_t[]){ 0xE0, 0xF0, 0x74 }, 3);
	expect_set2(KEY_KPENTER, true, (const uint8_t[]){ 0xE0, 0x5A }, 2);
	expect_set2(KEY_SYSRQ, true, (const uint8_t[]){ 0xE0, 0x12, 0xE0, 0x7C }, 4);
	expect_set2(KEY_SYSRQ, false, (const uint8_t[]){ 0xE0, 0xF0, 0x7C, 0xE0, 0xF0, 0x12 }, 6);
	expect_set2(KEY_PAUSE, true, (const uint8_t[]){ 0xE1, 0x14, 0x77, 0xE1, 0xF0, 0x14, 0xF0, 0x77 }, 8);
	expect_set2(KEY_PAUSE, false, NULL, 0);
	expect_set2(KEY_MUTE, true, NULL, 0);
}

static void test_usb_hid(void)
{
	g_assert_cmpuint(keymap_from_usb_hid(0x04), ==, KEY_A);
	g_assert_cmpuint(keymap_from_usb_hid(0x27), ==, KEY_0);
	g_assert_cmpuint(keymap_from_usb_hid(0x4F), ==, KEY_RIGHT);
	g_assert_cmpuint(keymap_from_usb_hid(0xE6), ==, KEY_RIGHTALT);
	g_assert_cmpuint(keymap_from_usb_hid(0), ==, 0);
	g_assert_cmpuint(keymap_to_usb_hid(KEY_KPENTER), ==, 0x58);
	/* Every usage from a to the keypad maps to a key and back. */
	for (unsigned usage = 0x04; usage <= 0x65; usage++) {
		if (usage == 0x32)
			continue;  /* Non-US # and ~: the same key as backslash on PS/2 */
		unsigned evdev = keymap_from_usb_hid(usage);
		g_assert_cmpuint(evdev, !=, 0);
		g_assert_cmpuint(keymap_to_usb_hid(evdev), ==, usage);
	}
}

/* One key of each kind in every direction: its keysym, evdev code, USB HID
 * usage (HID Usage Tables, keyboard page) and set-2 make code, from the
 * specifications rather than from the table. */
static void test_each_class(void)
{
	static const struct {
		uint32_t keysym;
		unsigned evdev, usb;
		uint8_t set2[2];
		size_t set2_len;
	} keys[] = {
		{ 0xff1b, KEY_ESC, 0x29, { 0x76 }, 1 },          { 0xff09, KEY_TAB, 0x2B, { 0x0D }, 1 },
		{ 0xff08, KEY_BACKSPACE, 0x2A, { 0x66 }, 1 },    { ' ', KEY_SPACE, 0x2C, { 0x29 }, 1 },
		{ 'z', KEY_Z, 0x1D, { 0x1A }, 1 },               { '9', KEY_9, 0x26, { 0x46 }, 1 },
		{ '?', KEY_SLASH, 0x38, { 0x4A }, 1 },           { '"', KEY_APOSTROPHE, 0x34, { 0x52 }, 1 },
		{ 0xffbe, KEY_F1, 0x3A, { 0x05 }, 1 },           { 0xffe3, KEY_LEFTCTRL, 0xE0, { 0x14 }, 1 },
		{ 0xffe4, KEY_RIGHTCTRL, 0xE4, { 0xE0, 0x14 }, 2 }, { 0xffe2, KEY_RIGHTSHIFT, 0xE5, { 0x59 }, 1 },
		{ 0xffeb, KEY_LEFTMETA, 0xE3, { 0xE0, 0x1F }, 2 }, { 0xffec, KEY_RIGHTMETA, 0xE7, { 0xE0, 0x27 }, 2 },
		{ 0xff67, KEY_COMPOSE, 0x65, { 0xE0, 0x2F }, 2 }, { 0xff50, KEY_HOME, 0x4A, { 0xE0, 0x6C }, 2 },
		{ 0xff57, KEY_END, 0x4D, { 0xE0, 0x69 }, 2 },    { 0xff55, KEY_PAGEUP, 0x4B, { 0xE0, 0x7D }, 2 },
		{ 0xff56, KEY_PAGEDOWN, 0x4E, { 0xE0, 0x7A }, 2 }, { 0xff63, KEY_INSERT, 0x49, { 0xE0, 0x70 }, 2 },
		{ 0xffff, KEY_DELETE, 0x4C, { 0xE0, 0x71 }, 2 }, { 0xff54, KEY_DOWN, 0x51, { 0xE0, 0x72 }, 2 },
		{ 0xffe5, KEY_CAPSLOCK, 0x39, { 0x58 }, 1 },     { 0xff7f, KEY_NUMLOCK, 0x53, { 0x77 }, 1 },
		{ 0xff14, KEY_SCROLLLOCK, 0x47, { 0x7E }, 1 },   { 0xffad, KEY_KPMINUS, 0x56, { 0x7B }, 1 },
		{ 0xffaa, KEY_KPASTERISK, 0x55, { 0x7C }, 1 },   { 0xffaf, KEY_KPSLASH, 0x54, { 0xE0, 0x4A }, 2 },
		{ 0xffb0, KEY_KP0, 0x62, { 0x70 }, 1 },          { 0xff9f, KEY_KPDOT, 0x63, { 0x71 }, 1 },
	};
	for (size_t i = 0; i < G_N_ELEMENTS(keys); i++) {
		g_assert_cmpuint(keymap_from_x_keysym(keys[i].keysym), ==, keys[i].evdev);
		g_assert_cmpuint(keymap_to_usb_hid(keys[i].evdev), ==, keys[i].usb);
		g_assert_cmpuint(keymap_from_usb_hid(keys[i].usb), ==, keys[i].evdev);
		expect_set2(keys[i].evdev, true, keys[i].set2, keys[i].set2_len);
	}
	/* Print Screen and Pause: from their keysyms and their usages. */
	g_assert_cmpuint(keymap_from_x_keysym(0xff61), ==, KEY_SYSRQ);    /* Print */
	g_assert_cmpuint(keymap_from_x_keysym(0xff13), ==, KEY_PAUSE);
	g_assert_cmpuint(keymap_from_x_keysym(0xff6b), ==, KEY_PAUSE);    /* Break: Ctrl+Pause */
	g_assert_cmpuint(keymap_from_usb_hid(0x46), ==, KEY_SYSRQ);
	g_assert_cmpuint(keymap_from_usb_hid(0x48), ==, KEY_PAUSE);
}

/* Every key a keysym reaches has a scan code (the tables agree). */
static void test_round_trip(void)
{
	for (uint32_t keysym = 0x20; keysym < 0x7F; keysym++) {
		uint8_t out[KEYMAP_MAX_SCANCODES];
		unsigned evdev = keymap_from_x_keysym(keysym);
		g_assert_cmpuint(evdev, !=, 0);
		g_assert_cmpuint(keymap_to_ps2_set2(evdev, true, out), >=, 1);
	}
	for (uint32_t keysym = 0xffbe; keysym <= 0xffc9; keysym++) {
		uint8_t out[KEYMAP_MAX_SCANCODES];
		g_assert_cmpuint(keymap_to_ps2_set2(keymap_from_x_keysym(keysym), false, out), ==, 2);
	}
}

static void test_names(void)
{
	g_assert_cmpuint(keymap_from_name("ctrl"), ==, KEY_LEFTCTRL);
	g_assert_cmpuint(keymap_from_name("Alt"), ==, KEY_LEFTALT);
	g_assert_cmpuint(keymap_from_name("delete"), ==, KEY_DELETE);
	g_assert_cmpuint(keymap_from_name("f12"), ==, KEY_F12);
	g_assert_cmpuint(keymap_from_name("kp_enter"), ==, KEY_KPENTER);
	g_assert_cmpuint(keymap_from_name("print"), ==, KEY_SYSRQ);
	g_assert_cmpuint(keymap_from_name("a"), ==, KEY_A);
	g_assert_cmpuint(keymap_from_name("7"), ==, KEY_7);
	g_assert_cmpuint(keymap_from_name("/"), ==, KEY_SLASH);
	g_assert_cmpuint(keymap_from_name("bogus"), ==, 0);
	g_assert_cmpuint(keymap_from_name(""), ==, 0);
	g_assert_cmpuint(keymap_from_name("f13"), ==, 0);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/keymap/keysyms", test_keysyms);
	g_test_add_func("/keymap/set2", test_set2);
	g_test_add_func("/keymap/each-class", test_each_class);
	g_test_add_func("/keymap/round-trip", test_round_trip);
	g_test_add_func("/keymap/names", test_names);
	g_test_add_func("/keymap/usb-hid", test_usb_hid);
	return g_test_run();
}
