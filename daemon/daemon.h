/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hugevmd as the edges see it: the core, and the handles of the edges that
 * serve it (control socket, waits, metrics). Only daemon/api/ and main.c
 * include this; the core knows nothing of it.
 */
#ifndef HUGEVMD_DAEMON_H
#define HUGEVMD_DAEMON_H

#include <uv.h>

#include "core.h"

struct server;
struct metrics;
struct waits;

struct daemon {
        struct core core;
        uv_loop_t *loop;
        const char *socket_override;
        struct server *server;
        struct metrics *metrics;
        struct waits *waits;
        uv_signal_t sig_term, sig_int, sig_hup;
        uv_timer_t metrics_deadline;   /* cuts slow HTTP requests (metrics_http_expire) */
        unsigned edges;          /* enum edges_extra: what edges_start set up */
        int exit_code;
        char last_status[256];   /* last sd_notify STATUS= text */
        uint64_t last_textfile;  /* uv_now() of the last metrics textfile write */
};

/* Stop serving and ask the core to stop; the loop ends once everything closed. */
void daemon_stop(struct daemon *d);

#endif
