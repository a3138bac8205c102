/* SeaBIOS's bootorder file. See bootorder.h. */
#include "bootorder.h"

static bool names(const struct machine_boot_item *item, const struct boot_drive *drives, unsigned index)
{
	if (drives[index].media != item->media)
		return false;
	if (!item->number)
		return true;
	unsigned number = 0;  /* drives[index]'s place among the drives of its media */
	for (unsigned i = 0; i <= index; i++)
		number += drives[i].media == item->media;
	return number == item->number;
}

char *bootorder_build(const struct machine_boot_item *items, unsigned item_count,
		      const struct boot_drive *drives, unsigned drive_count)
{
	GString *text = g_string_new(NULL);
	g_autofree bool *written = g_new0(bool, drive_count);
	for (unsigned i = 0; i < item_count; i++) {
		for (unsigned d = 0; d < drive_count; d++) {
			if (written[d] || !names(&items[i], drives, d))
				continue;
			g_string_append_printf(text, "%s%s", text->len ? "\n" : "", drives[d].path);
			written[d] = true;
		}
	}
	return g_string_free(text, FALSE);
}
