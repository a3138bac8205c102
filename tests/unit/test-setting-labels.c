/* Every setting of machine_settings[] has the words the app's editor and
 * New Machine assistant show for it: a setting added to the table without
 * a label, a choice without a name or a group without a heading fails here. */
#include <glib.h>

#include "machine.h"
#include "setting-labels.h"

static void test_every_setting_has_a_label(void)
{
	for (size_t i = 0; i < machine_settings_count; i++) {
		const struct machine_setting *s = &machine_settings[i];
		if (!setting_label(s))
			g_error("setting %s/%s has no label in app/setting-labels.c", s->group, s->key);
		if (!setting_group_title(s->group))
			g_error("group [%s] has no title in app/setting-labels.c", s->group);
		for (unsigned c = 0; s->type == SETTING_CHOICE && s->choices[c]; c++)
			if (!setting_choice_label(s->choices[c]))
				g_error("choice %s of %s has no label in app/setting-labels.c", s->choices[c], s->key);
	}
	g_assert_cmpstr(setting_choice_label(""), ==, "Automatic");
}

static void test_unknown_setting_has_none(void)
{
	const struct machine_setting made_up = { "devices", "floppy", "floppy", SETTING_PATH, 0, "FILE", "", NULL };
	g_assert_null(setting_label(&made_up));
	g_assert_null(setting_group_title("floppy"));
	g_assert_null(setting_choice_label("cirrus"));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/setting-labels/every-setting", test_every_setting_has_a_label);
	g_test_add_func("/setting-labels/unknown", test_unknown_setting_has_none);
	return g_test_run();
}
