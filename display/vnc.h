/* The VNC server (RFB 3.8, RFC 6143, on libvncserver) showing a console.
 *
 * One thread serves every viewer: it handles their messages, and while at
 * least one is connected asks the console for changes about 30 times a
 * second and sends only the rectangles that changed (an idle screen sends
 * nothing). A mode change reaches viewers as a desktop resize. Keys arrive
 * as X keysyms and go to the console as evdev codes; the pointer goes both
 * as absolute positions and as relative motion with buttons and wheel.
 * It holds at most 8 connections, at most 4 of them in the RFB handshake,
 * which each has 10 s to finish; libvncserver reads no handshake message
 * before it has all arrived. */
#ifndef VIREO_DISPLAY_VNC_H
#define VIREO_DISPLAY_VNC_H

#include "console.h"

struct vnc_server;

/* Listens on addr (IPv4) at the first free port from first_port to
 * last_port; a single port 0 lets the system choose one. password may be
 * NULL (no authentication). Returns NULL with *error set when the address
 * cannot be used. */
struct vnc_server *vnc_server_start(struct console *con, const char *addr, unsigned first_port, unsigned last_port,
				    const char *password, char **error);
/* Listens on a UNIX socket at path, mode 0600 (a socket already there is
 * replaced, anything else refused); the socket is removed at stop. */
struct vnc_server *vnc_server_start_unix(struct console *con, const char *path, const char *password, char **error);
/* Disconnects every viewer and joins the server's thread. */
void vnc_server_stop(struct vnc_server *vnc);
/* The port listened on: the one asked for, or the system's choice for 0;
 * 0 on a UNIX socket. */
unsigned vnc_server_port(const struct vnc_server *vnc);
/* Where viewers connect: "ADDR:PORT" or "unix:PATH"; the caller frees it. */
char *vnc_server_where(const struct vnc_server *vnc);

#endif
