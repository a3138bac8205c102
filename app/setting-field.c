/* The compound setting widgets' base; see setting-field.h. */
#include "setting-field.h"

G_DEFINE_ABSTRACT_TYPE(VireoSettingField, vireo_setting_field, GTK_TYPE_BOX)

static guint changed_signal;

void vireo_setting_field_changed(VireoSettingField *field)
{
	g_signal_emit(field, changed_signal, 0);
}

char *vireo_setting_field_get_text(VireoSettingField *field)
{
	return VIREO_SETTING_FIELD_GET_CLASS(field)->get_text(field);
}

bool vireo_setting_field_check(VireoSettingField *field)
{
	return VIREO_SETTING_FIELD_GET_CLASS(field)->check(field);
}

static gboolean mnemonic_activate(GtkWidget *widget, gboolean group_cycling)
{
	(void)group_cycling;
	return gtk_widget_child_focus(widget, GTK_DIR_TAB_FORWARD);
}

static void vireo_setting_field_class_init(VireoSettingFieldClass *klass)
{
	GTK_WIDGET_CLASS(klass)->mnemonic_activate = mnemonic_activate;
	changed_signal = g_signal_new("changed", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
				      G_TYPE_NONE, 0);
}

static void vireo_setting_field_init(VireoSettingField *field)
{
	(void)field;
}
