/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The control socket: connections, authorization, framing, notifications. */
#ifndef HUGEVMD_SERVER_H
#define HUGEVMD_SERVER_H

#include <json-c/json.h>
#include <stdbool.h>

struct daemon;
struct client;

/* Listen on socket_path (or the socket systemd passed) and tell subscribers
 * what the core publishes. Negative errno. */
int server_start(struct daemon *d, const char *socket_path);
void server_stop(struct daemon *d);
/* Send to one client (a reply or a notification); takes ownership of obj. */
void server_send(struct client *c, json_object *obj);
void server_client_set_subscribed(struct client *c);
/* The connection is closed (its memory goes at the end of this loop turn). */
bool server_client_gone(const struct client *c);
void server_client_hold(struct client *c, int delta);  /* pending async replies keep it open */

#endif
