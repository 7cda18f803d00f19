/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The edges assembled around the core, in one place for hugevmd's main.c, the
 * fuzzers and the tests: metrics, the observers, waits, the stop observer,
 * then (as asked) signals, the control socket and the metrics endpoint. */
#ifndef HUGEVMD_EDGES_H
#define HUGEVMD_EDGES_H

struct daemon;

enum edges_extra {
        EDGES_SIGNALS      = 1u << 0,   /* SIGTERM/SIGINT stop, SIGHUP reloads */
        EDGES_SOCKET       = 1u << 1,   /* the control socket */
        EDGES_METRICS_HTTP = 1u << 2,   /* MetricsListen= (not getting it is an error) */
        EDGES_ALL          = EDGES_SIGNALS | EDGES_SOCKET | EDGES_METRICS_HTTP,
};

/* Set up the edges of d, whose core is open and initialized; socket_path is
 * for EDGES_SOCKET. Negative errno: then daemon_stop() and run the loop. */
int edges_start(struct daemon *d, const char *socket_path, unsigned extra);

#endif
