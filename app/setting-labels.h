/* The words the app shows for the settings of machine_settings[]: every
 * setting, each of its choices and each machine.ini group has one (the
 * setting-labels test checks that none is forgotten). */
#ifndef VIREO_SETTING_LABELS_H
#define VIREO_SETTING_LABELS_H

#include "machine.h"

/* The setting's field label, translated, with a mnemonic ("_Memory (MiB)"),
 * or NULL when the table has none for it. */
const char *setting_label(const struct machine_setting *s);

/* A choice of a SETTING_CHOICE ("std" -> "Standard VGA"), translated;
 * "" is "Automatic" (the engine picks); NULL when the table has none. */
const char *setting_choice_label(const char *choice);

/* The heading of a machine.ini group ("boot" -> "Boot"), or NULL. */
const char *setting_group_title(const char *group);

#endif
