/* The key table: X keysyms to evdev, evdev to PS/2 set 2, for each kind of
 * key (letters in both cases, shifted symbols, modifiers, keypad, extended
 * keys and the two keys with sequences of their own). */
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

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/keymap/keysyms", test_keysyms);
	g_test_add_func("/keymap/set2", test_set2);
	g_test_add_func("/keymap/round-trip", test_round_trip);
	g_test_add_func("/keymap/usb-hid", test_usb_hid);
	return g_test_run();
}
