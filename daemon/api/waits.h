/* SPDX-License-Identifier: GPL-2.0-or-later */
/* wait requests parked until their pools converge, fail, or time out. */
#ifndef HUGEVMD_WAITS_H
#define HUGEVMD_WAITS_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

struct daemon;
struct client;
struct pool_rt;

/* Pending waits a connection may hold at once (beyond: an error reply). */
#define WAITS_MAX_PER_CLIENT 64

struct wait_spec {
        struct pool_rt *pool;   /* NULL: every pool */
        int node;               /* -1: the whole pool (or every node) */
        bool has_timeout;
        uint64_t timeout_ms;
        bool fail_fast;         /* a degraded pool ends the wait (else it waits on) */
        bool reoptimize;        /* for vmemmap.optimize to finish, not for convergence */
};

/* Set up d->waits and follow the core's refreshes. Negative errno. */
int waits_init(struct daemon *d);
/* The reply a wait gets now, or NULL when it was parked (its reply comes
 * later on client). A notification (id NULL, !reply_wanted) is never parked;
 * with client NULL (no connection) the wait is answered at once. */
json_object *waits_start(struct daemon *d, struct client *client, json_object *id, bool reply_wanted,
                         const struct wait_spec *spec);
/* client has a wait parked on pool (it is told that pool's notifications). */
bool waits_client_follows(const struct daemon *d, const struct client *client, const struct pool_rt *pool);
/* The client went away: its waits end without a reply. */
void waits_drop_client(struct daemon *d, struct client *client);
/* End every wait without a reply and free d->waits. */
void waits_free(struct daemon *d);

#endif
