/* Where the "vireo" message catalogs are; see messages.h. */
#include "messages.h"

#include <glib.h>
#include <libintl.h>
#include <stdbool.h>

void messages_init(void)
{
	g_autofree char *exe = g_file_read_link("/proc/self/exe", NULL);
	bool uninstalled = exe && g_str_has_prefix(exe, VIREO_BUILD_ROOT G_DIR_SEPARATOR_S);
	bindtextdomain(GETTEXT_PACKAGE, uninstalled ? VIREO_BUILD_ROOT G_DIR_SEPARATOR_S "po" : VIREO_LOCALEDIR);
	bind_textdomain_codeset(GETTEXT_PACKAGE, "UTF-8");
}
