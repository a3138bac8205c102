/* A machine's network as a choice rather than a spec to type: None, user
 * networking (NAT, with a MAC address and a list of port forwards: the
 * protocol, the host's address and port, the guest's port) or a host TAP
 * interface (its name and the MAC address). New gives a fresh MAC address.
 * Options it does not show (tftp=, bootfile=, host-loopback=) are kept
 * unchanged. Each forward says under itself what is wrong with it (a bad
 * port), the field under itself what else is (a bad MAC address, no
 * interface name). The setting widget for `net` (setting-widgets.c). */
#ifndef VIREO_NET_FIELD_H
#define VIREO_NET_FIELD_H

#include <gtk/gtk.h>
#include <stdbool.h>

#include "setting-field.h"

#define VIREO_TYPE_NET_FIELD (vireo_net_field_get_type())
G_DECLARE_FINAL_TYPE(VireoNetField, vireo_net_field, VIREO, NET_FIELD, VireoSettingField)

/* `name` is the choice's accessible name. Emits "changed" (no arguments)
 * whenever any part changes or a forward is added or removed. */
GtkWidget *vireo_net_field_new(const char *name);

/* Shows a net spec (machine_parse_net's syntax). */
void vireo_net_field_load(VireoNetField *field, const char *spec);

#endif
