/* What this computer can give a machine. */
#ifndef VIREO_HOST_H
#define VIREO_HOST_H

#include <stdint.h>

uint64_t host_memory_mib(void);
unsigned host_cpus(void);

#endif
