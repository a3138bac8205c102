/* Device objects, their state records and the machine's list. See device.h. */
#include "device.h"

#include <string.h>

#define FIELD_NAME_MAX 255

static void put_le(GByteArray *bytes, uint64_t value, unsigned width)
{
	uint8_t b[8];
	for (unsigned i = 0; i < width; i++)
		b[i] = (uint8_t)(value >> (8 * i));
	g_byte_array_append(bytes, b, width);
}

static uint64_t get_le(const uint8_t *p, unsigned width)
{
	uint64_t value = 0;
	for (unsigned i = 0; i < width; i++)
		value |= (uint64_t)p[i] << (8 * i);
	return value;
}

static void put_header(struct state_writer *w, const char *name, enum state_kind kind, unsigned width,
		       uint32_t count)
{
	size_t len = strlen(name);
	g_assert(len <= FIELD_NAME_MAX);
	put_le(w->bytes, len, 1);
	g_byte_array_append(w->bytes, (const uint8_t *)name, (guint)len);
	put_le(w->bytes, kind, 1);
	put_le(w->bytes, width, 1);
	put_le(w->bytes, count, 4);
}

void state_put_uint(struct state_writer *w, const char *name, uint64_t value, unsigned width)
{
	put_header(w, name, STATE_UINT, width, 1);
	put_le(w->bytes, value, width);
}

void state_put_bool(struct state_writer *w, const char *name, bool value)
{
	put_header(w, name, STATE_BOOL, 1, 1);
	put_le(w->bytes, value, 1);
}

void state_put_bytes(struct state_writer *w, const char *name, const void *data, size_t size)
{
	g_assert(size <= UINT32_MAX);
	put_header(w, name, STATE_UINT, 1, (uint32_t)size);
	g_byte_array_append(w->bytes, data, (guint)size);
}

/* Bools are read as bytes: a bool object holding anything but 0 or 1 is
 * undefined behaviour, so they are normalised when written. */
static void put_field(struct state_writer *w, const char *prefix, const struct state_field *f, const uint8_t *base)
{
	g_autofree char *name = g_strconcat(prefix, f->name, NULL);
	put_header(w, name, f->kind, f->width, f->count);
	for (uint32_t i = 0; i < f->count; i++) {
		const uint8_t *element = base + f->offset + (size_t)i * f->width;
		uint64_t value = 0;
		memcpy(&value, element, f->width);  /* x86: the host is little-endian */
		put_le(w->bytes, f->kind == STATE_BOOL ? value != 0 : value, f->width);
	}
}

void state_put_fields(struct state_writer *w, const char *prefix, const struct state_field *fields, size_t n,
		      const void *base)
{
	for (size_t i = 0; i < n; i++)
		put_field(w, prefix, &fields[i], base);
}

void state_put_fields_locked(struct state_writer *w, GMutex *lock, const struct state_field *fields, size_t n,
			     const void *base)
{
	g_mutex_lock(lock);
	state_put_fields(w, "", fields, n, base);
	g_mutex_unlock(lock);
}

bool state_check(struct state_reader *r, bool ok, const char *what)
{
	if (!ok && !r->error)
		r->error = g_strdup_printf("%s state: %s", r->device, what);
	return ok && !r->error;
}

static bool fail(struct state_reader *r, const char *name, const char *why)
{
	if (!r->error)
		r->error = g_strdup_printf("%s state: field %s: %s", r->device, name, why);
	return false;
}

static bool take(struct state_reader *r, size_t n, const uint8_t **p)
{
	if (r->size - r->pos < n)
		return false;
	*p = r->data + r->pos;
	r->pos += n;
	return true;
}

/* Reads the next field's header and returns its values: it must be `name`
 * with this kind, width and count. */
static const uint8_t *get_field(struct state_reader *r, const char *name, enum state_kind kind, unsigned width,
				uint32_t count)
{
	const uint8_t *p, *found;
	if (r->error)
		return NULL;
	if (!take(r, 1, &p) || !take(r, *p, &found))
		return fail(r, name, "the record ends before it"), NULL;
	size_t found_len = *p;
	if (found_len != strlen(name) || memcmp(found, name, found_len)) {
		g_autofree char *seen = g_strndup((const char *)found, found_len);
		g_autofree char *printable = g_strescape(seen, NULL);  /* the record's bytes: one line */
		g_autofree char *why = g_strdup_printf("the record has %s there", printable);
		return fail(r, name, why), NULL;
	}
	const uint8_t *h;
	if (!take(r, 6, &h))
		return fail(r, name, "the record ends in it"), NULL;
	if (h[0] != kind || h[1] != width || get_le(h + 2, 4) != count) {
		g_autofree char *why = g_strdup_printf("the record has kind %u, %u-byte elements, %u of them; "
						       "expected kind %u, %u-byte, %u", h[0], h[1],
						       (unsigned)get_le(h + 2, 4), kind, width, count);
		return fail(r, name, why), NULL;
	}
	const uint8_t *values;
	if (!take(r, (size_t)width * count, &values))
		return fail(r, name, "the record ends in it"), NULL;
	return values;
}

bool state_get_uint(struct state_reader *r, const char *name, uint64_t *value, unsigned width)
{
	const uint8_t *p = get_field(r, name, STATE_UINT, width, 1);
	if (p)
		*value = get_le(p, width);
	return p != NULL;
}

bool state_get_bool(struct state_reader *r, const char *name, bool *value)
{
	const uint8_t *p = get_field(r, name, STATE_BOOL, 1, 1);
	if (p && *p > 1)
		return fail(r, name, "not a boolean");
	if (p)
		*value = *p;
	return p != NULL;
}

bool state_get_bytes(struct state_reader *r, const char *name, void *data, size_t size)
{
	const uint8_t *p = size <= UINT32_MAX ? get_field(r, name, STATE_UINT, 1, (uint32_t)size) : NULL;
	if (p)
		memcpy(data, p, size);
	return p != NULL;
}

static bool get_one(struct state_reader *r, const char *prefix, const struct state_field *f, uint8_t *base)
{
	g_autofree char *name = g_strconcat(prefix, f->name, NULL);
	const uint8_t *p = get_field(r, name, f->kind, f->width, f->count);
	if (!p)
		return false;
	for (uint32_t i = 0; i < f->count; i++)
		if (f->kind == STATE_BOOL && p[i] > 1)
			return fail(r, name, "not a boolean");
	for (uint32_t i = 0; i < f->count; i++) {
		uint64_t value = get_le(p + (size_t)i * f->width, f->width);
		memcpy(base + f->offset + (size_t)i * f->width, &value, f->width);
	}
	return true;
}

bool state_get_fields(struct state_reader *r, const char *prefix, const struct state_field *fields, size_t n,
		      void *base)
{
	for (size_t i = 0; i < n; i++)
		if (!get_one(r, prefix, &fields[i], base))
			return false;
	return true;
}

bool state_get_fields_locked(struct state_reader *r, GMutex *lock, const struct state_field *fields, size_t n,
			     void *base)
{
	g_mutex_lock(lock);
	bool ok = state_get_fields(r, "", fields, n, base);
	g_mutex_unlock(lock);
	return ok;
}

void device_claim(struct device_claims *claims, const char *name, enum device_space space, uint64_t base,
		  uint64_t len)
{
	g_assert(claims->count < DEVICE_MAX_CLAIMS);
	claims->items[claims->count++] = (struct device_claim){ name, space, base, len };
}

GBytes *device_save(const struct device_ops *ops, void *state)
{
	struct state_writer w = { g_byte_array_new(), 0 };
	size_t name_len = strlen(ops->name);
	g_byte_array_append(w.bytes, (const uint8_t *)DEVICE_RECORD_MAGIC, DEVICE_RECORD_MAGIC_SIZE);
	put_le(w.bytes, name_len, 2);
	g_byte_array_append(w.bytes, (const uint8_t *)ops->name, (guint)name_len);
	put_le(w.bytes, ops->version, 4);
	w.body_at = w.bytes->len;
	put_le(w.bytes, 0, 4);
	ops->save(state, &w);
	size_t body = w.bytes->len - w.body_at - 4;
	for (unsigned i = 0; i < 4; i++)
		w.bytes->data[w.body_at + i] = (uint8_t)(body >> (8 * i));
	return g_byte_array_free_to_bytes(w.bytes);
}

/* The record's header: its device name and version, and where its body is. */
static bool read_header(struct state_reader *r, char **name, uint32_t *version, char **error)
{
	const uint8_t *p, *n, *v;
	if (!take(r, DEVICE_RECORD_MAGIC_SIZE, &p) || memcmp(p, DEVICE_RECORD_MAGIC, DEVICE_RECORD_MAGIC_SIZE) ||
	    !take(r, 2, &p) || !take(r, get_le(p, 2), &n) || !take(r, 4, &v) || !take(r, 4, &p)) {
		*error = g_strdup("not a device state record");
		return false;
	}
	if (get_le(p, 4) != r->size - r->pos) {
		*error = g_strdup_printf("device state record: its body should be %u bytes, it has %zu",
					 (unsigned)get_le(p, 4), r->size - r->pos);
		return false;
	}
	g_autofree char *raw = g_strndup((const char *)n, (size_t)(v - n));
	*name = g_strescape(raw, NULL);  /* the record's bytes: one printable line */
	*version = (uint32_t)get_le(v, 4);
	return true;
}

bool device_load(const struct device_ops *ops, void *state, const void *record, size_t size, char **error)
{
	struct state_reader r = { record, size, 0, ops->name, NULL };
	g_autofree char *name = NULL;
	uint32_t version;
	if (!read_header(&r, &name, &version, error))
		return false;
	if (strcmp(name, ops->name) || version != ops->version) {
		*error = g_strdup_printf("%s version %u state record cannot be loaded into %s version %u",
					 name, version, ops->name, ops->version);
		return false;
	}
	bool ok = ops->load(state, &r) && state_check(&r, r.pos == r.size, "fields left over at the end");
	if (!ok) {
		if (ops->reset)
			ops->reset(state);
		*error = r.error ? r.error : g_strdup_printf("%s state: refused", ops->name);
	}
	return ok;
}

void device_list_add(struct device_list *list, const struct device_ops *ops, void *state, const char *id)
{
	if (list->count == list->capacity) {
		list->capacity = list->capacity ? 2 * list->capacity : 16;
		list->items = g_renew(struct device, list->items, list->capacity);
	}
	list->items[list->count++] = (struct device){ ops, state, g_strdup(id) };
}

void device_list_reset(struct device_list *list)
{
	for (unsigned i = 0; i < list->count; i++)
		if (list->items[i].ops->reset)
			list->items[i].ops->reset(list->items[i].state);
}

void device_list_teardown(struct device_list *list)
{
	while (list->count) {
		struct device *d = &list->items[--list->count];
		if (d->ops->teardown)
			d->ops->teardown(d->state);
		g_free(d->id);
	}
	g_free(list->items);
	*list = (struct device_list){ 0 };
}

const struct device *device_list_owner(const struct device_list *list, enum device_space space, uint64_t addr,
				       struct device_claim *claim)
{
	for (unsigned i = 0; i < list->count; i++) {
		const struct device *d = &list->items[i];
		struct device_claims claims = { .count = 0 };
		if (d->ops->claims)
			d->ops->claims(d->state, &claims);
		for (unsigned c = 0; c < claims.count; c++) {
			const struct device_claim *it = &claims.items[c];
			if (it->space == space && addr >= it->base && addr - it->base < it->len) {
				*claim = *it;
				return d;
			}
		}
	}
	return NULL;
}
