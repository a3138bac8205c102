/* VESA E-EDID 1.4 base block. Offsets and encodings from the VESA Enhanced
 * EDID Standard (release A rev. 2), section numbers cited; the preferred
 * timing is the display's size at 60 Hz. */
#include "edid.h"

#include <glib.h>
#include <string.h>

/* Section 3.3: header, 3.4: vendor and product, 3.5: version. */
#define EDID_HEADER            0x00
#define EDID_MANUFACTURER      0x08  /* three 5-bit letters, big-endian */
#define EDID_PRODUCT           0x0A
#define EDID_YEAR              0x11  /* model year - 1990 */
#define EDID_VERSION           0x12
#define EDID_REVISION          0x13
/* Section 3.6: basic display parameters. */
#define EDID_INPUT             0x14
#define EDID_INPUT_DIGITAL     0x80
#define EDID_WIDTH_CM          0x15
#define EDID_HEIGHT_CM         0x16
#define EDID_GAMMA             0x17  /* (gamma * 100) - 100 */
#define EDID_FEATURES          0x18
#define EDID_FEATURE_SRGB      0x04
#define EDID_FEATURE_PREFERRED_NATIVE 0x02
/* Section 3.7: chromaticity, 10-bit binary fractions. */
#define EDID_CHROMA_LOW        0x19
#define EDID_CHROMA_HIGH       0x1B
/* Section 3.8: established timings I and II. */
#define EDID_ESTABLISHED       0x23
#define EST1_640X480_60        0x20
#define EST1_800X600_60        0x01
#define EST2_1024X768_60       0x08
/* Section 3.9: standard timings. */
#define EDID_STANDARD          0x26
#define STANDARD_COUNT         8
#define STANDARD_UNUSED        0x0101
#define ASPECT_16_10           (0u << 6)
#define ASPECT_4_3             (1u << 6)
#define ASPECT_5_4             (2u << 6)
#define ASPECT_16_9            (3u << 6)
/* Section 3.10: four 18-byte descriptors. */
#define EDID_DESCRIPTOR        0x36
#define DESCRIPTOR_SIZE        18
#define TAG_RANGE_LIMITS       0xFD
#define TAG_PRODUCT_NAME       0xFC
#define TAG_DUMMY              0x10
#define RANGE_LIMITS_ONLY      0x01  /* no timing formula follows */
#define EDID_EXTENSIONS        0x7E
#define EDID_CHECKSUM          0x7F

#define MONITOR_WIDTH_MM       320
#define MONITOR_HEIGHT_MM      240

struct detailed_timing {
	unsigned clock_10khz;
	unsigned h_active, h_blank, h_front, h_sync;
	unsigned v_active, v_blank, v_front, v_sync;
	uint8_t flags;
};

/* VESA DMT 1024x768 at 60 Hz: 65 MHz, negative syncs (digital separate). */
static const struct detailed_timing dmt_1024x768 = {
	6500, 1024, 320, 24, 136, 768, 38, 3, 6, 0x18,
};
/* Blanking in the style of VESA CVT 1.2 reduced blanking: 160 pixels a line
 * (48 front porch, 32 sync), at least 460 us of vertical blanking (3 lines
 * front porch, 6 sync); +hsync -vsync as CVT-RB uses. */
#define CVT_RB_H_BLANK 160
#define CVT_RB_H_FRONT 48
#define CVT_RB_H_SYNC 32
#define CVT_RB_V_FRONT 3
#define CVT_RB_V_SYNC 6
#define CVT_RB_MIN_V_BLANK_US 460
#define CVT_RB_FLAGS 0x1A
#define REFRESH_HZ 60
#define MAX_PIXEL_CLOCK_HZ 655350000ull  /* 0xFFFF x 10 kHz */

static struct detailed_timing timing_for(unsigned width, unsigned height)
{
	if (width == dmt_1024x768.h_active && height == dmt_1024x768.v_active)
		return dmt_1024x768;
	/* Lines of blanking: 460 us at a line time of 1 s / (60 * total lines). */
	unsigned v_blank = MAX(CVT_RB_V_FRONT + CVT_RB_V_SYNC + 1u,
			       (unsigned)((uint64_t)CVT_RB_MIN_V_BLANK_US * REFRESH_HZ * height / (1000000 - CVT_RB_MIN_V_BLANK_US * REFRESH_HZ)) + 1);
	uint64_t pixels = (uint64_t)(width + CVT_RB_H_BLANK) * (height + v_blank);
	/* The clock field counts 10 kHz in 16 bits: the largest modes get the
	 * highest refresh rate that fits under 655.35 MHz. */
	uint64_t refresh = MIN((uint64_t)REFRESH_HZ, MAX_PIXEL_CLOCK_HZ / pixels);
	uint64_t clock = pixels * refresh;
	return (struct detailed_timing){
		(unsigned)MIN((clock + 9999) / 10000, 0xFFFFu), width, CVT_RB_H_BLANK, CVT_RB_H_FRONT, CVT_RB_H_SYNC,
		height, v_blank, CVT_RB_V_FRONT, CVT_RB_V_SYNC, CVT_RB_FLAGS,
	};
}

static uint8_t letter(char c)
{
	return (uint8_t)(c - 'A' + 1);
}

/* Section 3.10.2: detailed timing descriptor. */
static void put_detailed_timing(uint8_t *d, const struct detailed_timing *t)
{
	d[0] = (uint8_t)t->clock_10khz;
	d[1] = (uint8_t)(t->clock_10khz >> 8);
	d[2] = (uint8_t)t->h_active;
	d[3] = (uint8_t)t->h_blank;
	d[4] = (uint8_t)((t->h_active >> 8) << 4 | t->h_blank >> 8);
	d[5] = (uint8_t)t->v_active;
	d[6] = (uint8_t)t->v_blank;
	d[7] = (uint8_t)((t->v_active >> 8) << 4 | t->v_blank >> 8);
	d[8] = (uint8_t)t->h_front;
	d[9] = (uint8_t)t->h_sync;
	d[10] = (uint8_t)((t->v_front & 0xF) << 4 | (t->v_sync & 0xF));
	d[11] = (uint8_t)((t->h_front >> 8) << 6 | (t->h_sync >> 8) << 4 | (t->v_front >> 4) << 2 | t->v_sync >> 4);
	d[12] = (uint8_t)MONITOR_WIDTH_MM;
	d[13] = (uint8_t)MONITOR_HEIGHT_MM;
	d[14] = (uint8_t)((MONITOR_WIDTH_MM >> 8) << 4 | MONITOR_HEIGHT_MM >> 8);
	d[17] = t->flags;
}

/* Section 3.10.3: display descriptors start with 00 00 00 tag 00. */
static void put_display_descriptor(uint8_t *d, uint8_t tag, const uint8_t *data, unsigned len)
{
	d[3] = tag;
	memcpy(d + 5, data, len);
}

static void put_text_descriptor(uint8_t *d, uint8_t tag, const char *text)
{
	uint8_t data[13];
	size_t len = MIN(strlen(text), sizeof(data) - 1);  /* room for the newline */
	memset(data, ' ', sizeof(data));
	memcpy(data, text, len);
	data[len] = '\n';
	put_display_descriptor(d, tag, data, sizeof(data));
}

/* Section 3.7: sRGB primaries and D65 white, x and y times 1024. */
static void put_chromaticity(uint8_t *block)
{
	static const unsigned xy[8] = { 655, 338, 307, 614, 154, 61, 320, 337 }; /* R G B W, x then y */
	for (unsigned i = 0; i < 8; i++) {
		block[EDID_CHROMA_HIGH + i] = (uint8_t)(xy[i] >> 2);
		block[EDID_CHROMA_LOW + i / 4] |= (uint8_t)((xy[i] & 3) << (6 - 2 * (i % 4)));
	}
}

static void put_standard_timings(uint8_t *block)
{
	static const struct { unsigned width; uint8_t aspect; } modes[] = {
		{ 1280, ASPECT_5_4 }, { 1280, ASPECT_16_9 }, { 1600, ASPECT_4_3 }, { 1920, ASPECT_16_9 },
		{ 1920, ASPECT_16_10 },
	};
	for (unsigned i = 0; i < STANDARD_COUNT; i++) {
		uint8_t *s = block + EDID_STANDARD + 2 * i;
		s[0] = s[1] = (uint8_t)STANDARD_UNUSED;
		if (i < sizeof(modes) / sizeof(modes[0])) {
			s[0] = (uint8_t)(modes[i].width / 8 - 31);
			s[1] = modes[i].aspect; /* refresh 60 Hz: 60 - 60 in bits 5-0 */
		}
	}
}

void edid_build(uint8_t block[EDID_BLOCK_SIZE], const char *name, unsigned width, unsigned height)
{
	static const uint8_t header[8] = { 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x00 };
	/* Section 3.10.3.3: V 50-125 Hz, H 30-160 kHz, 600 MHz, no formula. */
	static const uint8_t range_limits[13] = { 50, 125, 30, 160, 60, RANGE_LIMITS_ONLY, '\n', ' ', ' ', ' ', ' ', ' ', ' ' };
	uint16_t vendor = (uint16_t)(letter('V') << 10 | letter('I') << 5 | letter('R'));

	memset(block, 0, EDID_BLOCK_SIZE);
	memcpy(block + EDID_HEADER, header, sizeof(header));
	block[EDID_MANUFACTURER] = (uint8_t)(vendor >> 8);
	block[EDID_MANUFACTURER + 1] = (uint8_t)vendor;
	block[EDID_PRODUCT] = 0x11;
	block[EDID_PRODUCT + 1] = 0x11;
	block[EDID_YEAR] = 2026 - 1990;
	block[EDID_VERSION] = 1;
	block[EDID_REVISION] = 4;
	block[EDID_INPUT] = EDID_INPUT_DIGITAL;
	block[EDID_WIDTH_CM] = MONITOR_WIDTH_MM / 10;
	block[EDID_HEIGHT_CM] = MONITOR_HEIGHT_MM / 10;
	block[EDID_GAMMA] = 220 - 100;
	block[EDID_FEATURES] = EDID_FEATURE_SRGB | EDID_FEATURE_PREFERRED_NATIVE;
	put_chromaticity(block);
	block[EDID_ESTABLISHED] = EST1_640X480_60 | EST1_800X600_60;
	block[EDID_ESTABLISHED + 1] = EST2_1024X768_60;
	put_standard_timings(block);
	struct detailed_timing preferred = timing_for(MIN(width, EDID_MAX_SIDE), MIN(height, EDID_MAX_SIDE));
	put_detailed_timing(block + EDID_DESCRIPTOR, &preferred);
	put_display_descriptor(block + EDID_DESCRIPTOR + DESCRIPTOR_SIZE, TAG_RANGE_LIMITS, range_limits,
			       sizeof(range_limits));
	put_text_descriptor(block + EDID_DESCRIPTOR + 2 * DESCRIPTOR_SIZE, TAG_PRODUCT_NAME, name);
	block[EDID_DESCRIPTOR + 3 * DESCRIPTOR_SIZE + 3] = TAG_DUMMY; /* the rest of it stays zero */
	block[EDID_EXTENSIONS] = 0;
	uint8_t sum = 0;
	for (unsigned i = 0; i < EDID_CHECKSUM; i++)
		sum = (uint8_t)(sum + block[i]);
	block[EDID_CHECKSUM] = (uint8_t)-sum;
}
