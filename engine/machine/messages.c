/* Where the "vireo" message catalogs are; see messages.h. */
#include "messages.h"

#include <glib.h>
#include <libintl.h>

bool program_uninstalled(void)
{
	g_autofree char *exe = g_file_read_link("/proc/self/exe", NULL);
	return exe && g_str_has_prefix(exe, VIREO_BUILD_ROOT G_DIR_SEPARATOR_S);
}

void messages_init(void)
{
	bindtextdomain(GETTEXT_PACKAGE, program_uninstalled() ? VIREO_BUILD_ROOT G_DIR_SEPARATOR_S "po" : VIREO_LOCALEDIR);
	bind_textdomain_codeset(GETTEXT_PACKAGE, "UTF-8");
}
