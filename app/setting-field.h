/* The base of the compound setting widgets (disk-list.c, display-field.c,
 * net-field.c): a box of parts that edits one machine.ini setting, says
 * "changed" (no arguments) whenever a part changes, gives the setting's
 * value as text and shows under its parts what is wrong with them. The
 * setting's mnemonic moves the focus to its first part. */
#ifndef VIREO_SETTING_FIELD_H
#define VIREO_SETTING_FIELD_H

#include <gtk/gtk.h>
#include <stdbool.h>

#define VIREO_TYPE_SETTING_FIELD (vireo_setting_field_get_type())
G_DECLARE_DERIVABLE_TYPE(VireoSettingField, vireo_setting_field, VIREO, SETTING_FIELD, GtkBox)

struct _VireoSettingFieldClass {
	GtkBoxClass parent_class;
	/* The setting's machine.ini value as the parts say it; NULL: none. */
	char *(*get_text)(VireoSettingField *field);
	/* Shows what is wrong (or risky) under the parts; true when the value
	 * can be used. */
	bool (*check)(VireoSettingField *field);
};

/* For the subclasses: a part changed. */
void vireo_setting_field_changed(VireoSettingField *field);

char *vireo_setting_field_get_text(VireoSettingField *field);
bool vireo_setting_field_check(VireoSettingField *field);

#endif
