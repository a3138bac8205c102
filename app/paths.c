/* Installed or uninstalled paths; see paths.h. */
#include "paths.h"

#include "config.h"
#include "messages.h"

#include <string.h>

static bool uninstalled;
static char *engine_path;

void paths_init(void)
{
	uninstalled = program_uninstalled();
	const char *env = g_getenv("VIREO_ENGINE");
	if (env && *env)
		engine_path = g_strdup(env);
	else if (uninstalled)
		engine_path = g_build_filename(VIREO_BUILD_ROOT, "engine", "vireo-engine", NULL);
	else
		engine_path = g_build_filename(VIREO_BINDIR, "vireo-engine", NULL);
}

bool paths_uninstalled(void)
{
	return uninstalled;
}

const char *paths_engine(void)
{
	return engine_path;
}

GSettings *paths_new_settings(void)
{
	GSettingsSchemaSource *source = g_settings_schema_source_get_default();
	g_autoptr(GSettingsSchema) schema = source ? g_settings_schema_source_lookup(source, VIREO_APP_ID, TRUE) : NULL;
	if (!schema && uninstalled) {
		g_autoptr(GSettingsSchemaSource) build = g_settings_schema_source_new_from_directory(
			VIREO_BUILD_ROOT G_DIR_SEPARATOR_S "data", source, TRUE, NULL);
		schema = build ? g_settings_schema_source_lookup(build, VIREO_APP_ID, FALSE) : NULL;
	}
	if (!schema) {
		g_warning("GSettings schema %s is not installed; using the defaults", VIREO_APP_ID);
		return NULL;
	}
	return g_settings_new_full(schema, NULL, NULL);
}
