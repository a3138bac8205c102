/* Devices as objects: what the machine knows of each device model it holds,
 * whatever the model is.
 *
 * A device model describes itself once, in a `struct device_ops` at the end
 * of its file: the name and version of its saved state, how it resets as on
 * a PC's reset line, how it is torn down, how it saves and loads its state,
 * and which bus ranges it claims. The machine keeps the devices it creates
 * in a `struct device_list`, in creation order: a guest reset resets them in
 * that order, teardown runs the other way.
 *
 * Saved state is a record (the snapshot work stores one per device):
 *   magic "VIREODEV", u16 name length, name, u32 version, u32 body length,
 *   then the body: one field after another, each
 *     u8 name length, name, u8 kind (STATE_UINT, STATE_BOOL), u8 width
 *     (bytes per element: 1, 2, 4 or 8), u32 count, count elements of
 *     width bytes each, little-endian.
 * So a record can be read without the device's code (fields are named and
 * typed), and a device refuses a record of another device or version, or
 * whose fields are not the ones it writes, with one line saying why. What
 * is saved is guest-visible state only: no fds, threads or host pointers. */
#ifndef VIREO_CORE_DEVICE_H
#define VIREO_CORE_DEVICE_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DEVICE_RECORD_MAGIC "VIREODEV"
#define DEVICE_RECORD_MAGIC_SIZE 8

enum state_kind {
	STATE_UINT = 1,   /* unsigned or two's complement integers */
	STATE_BOOL = 2,   /* one byte, 0 or 1 */
};

/* One field of a device's state struct, for the table-driven helpers. */
struct state_field {
	const char *name;
	size_t offset;
	uint8_t width;     /* bytes per element */
	uint32_t count;    /* elements */
	uint8_t kind;
};

#define STATE_KIND_OF(x) _Generic((x), bool: STATE_BOOL, default: STATE_UINT)
/* An integer, enum or bool member (dotted paths into nested structs work). */
#define STATE_FIELD(type, member) \
	{ #member, offsetof(type, member), sizeof(((type *)0)->member), 1, STATE_KIND_OF(((type *)0)->member) }
/* An array of integers or bools. */
#define STATE_ARRAY(type, member)                                                              \
	{ #member, offsetof(type, member), sizeof(((type *)0)->member[0]),                       \
	  sizeof(((type *)0)->member) / sizeof(((type *)0)->member[0]),                          \
	  STATE_KIND_OF(((type *)0)->member[0]) }
/* Any member as plain bytes (byte arrays, strings, arrays of byte arrays). */
#define STATE_BYTES(type, member) \
	{ #member, offsetof(type, member), 1, sizeof(((type *)0)->member), STATE_UINT }

struct state_writer {
	GByteArray *bytes;
	size_t body_at;    /* where the body length is patched in */
};

struct state_reader {
	const uint8_t *data;
	size_t size, pos;
	const char *device;   /* for messages */
	char *error;          /* the first failure; reading stops there */
};

/* Field writers: `name` is at most 255 bytes; the value(s) little-endian. */
void state_put_uint(struct state_writer *w, const char *name, uint64_t value, unsigned width);
void state_put_bool(struct state_writer *w, const char *name, bool value);
void state_put_bytes(struct state_writer *w, const char *name, const void *data, size_t size);
/* Every field of `fields` from the struct at `base`, names prefixed by
 * `prefix` (e.g. "port2.", or "" for none). */
void state_put_fields(struct state_writer *w, const char *prefix, const struct state_field *fields, size_t n,
		      const void *base);

/* The same for a device whose state is all in `fields` of the struct at
 * `base`, under its lock (no prefix). */
void state_put_fields_locked(struct state_writer *w, GMutex *lock, const struct state_field *fields, size_t n,
			     const void *base);

/* Field readers: the next field must have this name, kind, width and count;
 * false (and r->error set, once) when it does not or the record ends. */
bool state_get_uint(struct state_reader *r, const char *name, uint64_t *value, unsigned width);
bool state_get_bool(struct state_reader *r, const char *name, bool *value);
bool state_get_bytes(struct state_reader *r, const char *name, void *data, size_t size);
bool state_get_fields(struct state_reader *r, const char *prefix, const struct state_field *fields, size_t n,
		      void *base);
bool state_get_fields_locked(struct state_reader *r, GMutex *lock, const struct state_field *fields, size_t n,
			     void *base);
/* A loaded value the device cannot take: fails the load with "what". */
bool state_check(struct state_reader *r, bool ok, const char *what);

/* A bus range a device claims, named so that traces can say whose. */
enum device_space {
	DEVICE_PIO,
	DEVICE_MMIO,
};

struct device_claim {
	const char *name;     /* e.g. "registers", "BAR4" */
	enum device_space space;
	uint64_t base, len;
};

#define DEVICE_MAX_CLAIMS 16

struct device_claims {
	struct device_claim items[DEVICE_MAX_CLAIMS];
	unsigned count;
};

void device_claim(struct device_claims *claims, const char *name, enum device_space space, uint64_t base,
		  uint64_t len);

struct device_ops {
	const char *name;      /* of the model, as records name it: "uart", "virtio-blk" */
	uint32_t version;      /* of its saved state: bump it when the fields change */
	/* The PC's reset line: back to the state the device powers on in (what
	 * the engine set up at creation, such as attached media, stays). */
	void (*reset)(void *state);
	/* Frees what the device holds; it is unusable afterwards. */
	void (*teardown)(void *state);
	/* Guest-visible state as fields; only while vCPUs and I/O are stopped. */
	void (*save)(void *state, struct state_writer *w);
	/* Reads the fields save writes, into a device created the same way;
	 * false with r->error set when a field is missing or out of range (the
	 * device is then reset). */
	bool (*load)(void *state, struct state_reader *r);
	/* The bus ranges the device decodes now. May be NULL: none. */
	void (*claims)(void *state, struct device_claims *claims);
};

/* The whole record of a device's state (see the top of this file). */
GBytes *device_save(const struct device_ops *ops, void *state);
/* Loads a record device_save wrote for a device of the same name and
 * version. false with *error set to one line (naming the record's device
 * and version and this one's when they differ). */
bool device_load(const struct device_ops *ops, void *state, const void *record, size_t size, char **error);

/* One device of a machine. */
struct device {
	const struct device_ops *ops;
	void *state;
	char *id;              /* this instance, e.g. "com1", "virtio-blk@3" */
};

struct device_list {
	struct device *items;
	unsigned count, capacity;
};

/* Takes a copy of id. */
void device_list_add(struct device_list *list, const struct device_ops *ops, void *state, const char *id);
/* Every device's reset, in the order they were added. */
void device_list_reset(struct device_list *list);
/* Every device's teardown, last added first; the list is empty after. */
void device_list_teardown(struct device_list *list);
/* The device whose claims include addr, with the claim; NULL when none. */
const struct device *device_list_owner(const struct device_list *list, enum device_space space, uint64_t addr,
				       struct device_claim *claim);

#endif
