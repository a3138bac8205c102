/* The engine's sandbox: once set-up is done, no new privileges and a
 * seccomp filter that lets the engine's threads make only the system calls
 * running a machine needs. A forbidden call ends the engine with one line
 * naming it. */
#ifndef VIREO_SANDBOX_H
#define VIREO_SANDBOX_H

#include <stdbool.h>

/* Applies the sandbox to every thread of the process, and to every thread
 * started later. false with *error set to one line when it cannot. */
bool sandbox_apply(char **error);

#endif
