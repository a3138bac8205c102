/* The host's memory and processors, the bounds of the setting widgets. */
#include "host.h"

#include <glib.h>
#include <unistd.h>

#include "machine.h"

uint64_t host_memory_mib(void)
{
	long pages = sysconf(_SC_PHYS_PAGES), page_size = sysconf(_SC_PAGESIZE);
	if (pages <= 0 || page_size <= 0)
		return 1024;  /* unknown: a size every host that runs KVM has */
	return ((uint64_t)pages * (uint64_t)page_size) >> 20;
}

unsigned host_cpus(void)
{
	return MIN(g_get_num_processors(), MACHINE_MAX_CPUS);
}
