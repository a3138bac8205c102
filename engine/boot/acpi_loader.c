/* ACPI tables through fw_cfg's table loader. See acpi_loader.h. The
 * loader's ADD_POINTER adds the source file's address to the integer
 * already in the field, which is why boot/acpi.c leaves offsets there. */
#include "acpi_loader.h"

#include <errno.h>
#include <string.h>

#include "core/bytes.h"

static const char *const blob_files[ACPI_BLOB_COUNT] = {
	[ACPI_BLOB_RSDP] = ACPI_LOADER_RSDP_FILE,
	[ACPI_BLOB_TABLES] = ACPI_LOADER_TABLES_FILE,
};

static uint8_t *new_entry(GByteArray *script, uint32_t command)
{
	guint at = script->len;
	g_byte_array_set_size(script, at + ACPI_LOADER_ENTRY_SIZE);
	uint8_t *e = script->data + at;
	memset(e, 0, ACPI_LOADER_ENTRY_SIZE);
	put_le32(e, command);
	return e;
}

static void put_name(uint8_t *field, enum acpi_blob_id blob)
{
	strncpy((char *)field, blob_files[blob], ACPI_LOADER_NAME_SIZE);
}

static void add_allocate(GByteArray *script, enum acpi_blob_id blob, uint32_t align, uint8_t zone)
{
	uint8_t *e = new_entry(script, ACPI_LOADER_ALLOCATE);
	put_name(e + 4, blob);
	put_le32(e + 4 + ACPI_LOADER_NAME_SIZE, align);
	e[8 + ACPI_LOADER_NAME_SIZE] = zone;
}

static void add_link(GByteArray *script, const struct acpi_link *l)
{
	uint8_t *e;
	if (l->kind == ACPI_LINK_POINTER) {
		e = new_entry(script, ACPI_LOADER_ADD_POINTER);
		put_name(e + 4, l->blob);
		put_name(e + 4 + ACPI_LOADER_NAME_SIZE, l->target);
		put_le32(e + 4 + 2 * ACPI_LOADER_NAME_SIZE, l->offset);
		e[8 + 2 * ACPI_LOADER_NAME_SIZE] = l->size;
	} else {
		e = new_entry(script, ACPI_LOADER_ADD_CHECKSUM);
		put_name(e + 4, l->blob);
		put_le32(e + 4 + ACPI_LOADER_NAME_SIZE, l->offset);
		put_le32(e + 8 + ACPI_LOADER_NAME_SIZE, l->start);
		put_le32(e + 12 + ACPI_LOADER_NAME_SIZE, l->length);
	}
}

/* Allocations first: a file must be allocated before any link names it. */
static GByteArray *loader_script(const struct acpi_tables *t)
{
	GByteArray *script = g_byte_array_new();
	add_allocate(script, ACPI_BLOB_TABLES, ACPI_BLOB_TABLES_ALIGN, ACPI_LOADER_ZONE_HIGH);
	add_allocate(script, ACPI_BLOB_RSDP, ACPI_BLOB_RSDP_ALIGN, ACPI_LOADER_ZONE_FSEG);
	for (guint i = 0; i < t->links->len; i++)
		add_link(script, &g_array_index(t->links, struct acpi_link, i));
	return script;
}

int acpi_loader_publish(struct fw_cfg *cfg, const struct acpi_config *config)
{
	struct acpi_tables t;
	if (!acpi_tables_build(&t, config))
		return -EINVAL;
	GByteArray *script = loader_script(&t);
	int err = 0;
	for (unsigned i = 0; i < ACPI_BLOB_COUNT && !err; i++)
		err = fw_cfg_add_file(cfg, blob_files[i], t.blobs[i]->data, t.blobs[i]->len);
	if (!err)
		err = fw_cfg_add_file(cfg, ACPI_LOADER_FILE, script->data, script->len);
	g_byte_array_unref(script);
	acpi_tables_clear(&t);
	return err;
}
