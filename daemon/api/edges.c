/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The edges around the core and the daemon's stop, in one place: hugevmd's
 * main.c, the fuzzers and the tests assemble the daemon the same way.
 */
#include "config.h"
#include "edges.h"

#include <errno.h>
#include <signal.h>
#include <string.h>

#include "daemon.h"
#include "nodefeatures.h"
#include "log.h"
#include "metrics.h"
#include "observers.h"
#include "sdnotify.h"
#include "server.h"
#include "waits.h"

static void signal_cb(uv_signal_t *h, int signum)
{
        struct daemon *d = h->data;
        if (signum == SIGHUP) {
                struct config_errors errors = { 0 };
                log_info("SIGHUP: reloading the configuration");
                (void)core_reload(&d->core, &errors);
                config_errors_clear(&errors);
                return;
        }
        log_info("%s: stopping", signum == SIGTERM ? "SIGTERM" : "SIGINT");
        daemon_stop(d);
}

void daemon_stop(struct daemon *d)
{
        if (d->core.stopping)
                return;
        sdnotify_stopping();
        server_stop(d);
        core_stop(&d->core);
}

/* The core stopped (its last job finished): close what keeps the loop alive. */
static void on_stopped(void *data, struct core *core, const struct core_event *ev)
{
        struct daemon *d = data;
        (void)core;
        if (ev->kind != CORE_EV_STOPPED)
                return;
        waits_free(d);
        sdnotify_watchdog_stop();
        if (d->edges & EDGES_SIGNALS) {
                uv_close((uv_handle_t *)&d->sig_term, NULL);
                uv_close((uv_handle_t *)&d->sig_int, NULL);
                uv_close((uv_handle_t *)&d->sig_hup, NULL);
        }
        uv_close((uv_handle_t *)&d->metrics_deadline, NULL);
}

static void metrics_deadline_cb(uv_timer_t *t)
{
        struct daemon *d = t->data;
        unsigned cut = metrics_http_expire(d->metrics);
        if (cut)
                log_debug("Metrics endpoint: cut %u connection%s that sent no whole request in time", cut, cut == 1 ? "" : "s");
}

/* The HTTP endpoint, if configured. Not getting the address is a start-up
 * error: someone else listening there would be scraped instead of us. */
static int metrics_start(struct daemon *d)
{
        const char *listen = d->core.cfg->metrics_listen;
        char addr[64];
        uint16_t port = 0, bound = 0;
        if (!listen)
                return 0;
        if (!d->metrics)
                return -ENOMEM;
        if (config_parse_listen(listen, addr, sizeof addr, &port) < 0)
                return -EINVAL;   /* (the config loader refused it already) */
        int r = metrics_http_start(d->metrics, addr, port, &bound);
        if (r < 0) {
                log_error("Cannot serve metrics on %s: %s (MetricsListen=no runs without the endpoint)", listen, strerror(-r));
                return r;
        }
        log_info("Serving metrics on http://%s:%u/metrics", addr, bound);
        uv_timer_start(&d->metrics_deadline, metrics_deadline_cb, 1000, 1000);
        return 0;
}

int edges_start(struct daemon *d, const char *socket_path, unsigned extra)
{
        int r;
        if ((r = metrics_new(&d->metrics)) < 0) {
                log_error("Cannot set up metrics: %s", strerror(-r));
                d->metrics = NULL;
        }
        /* The deadline timer first: on_stopped closes it whatever else failed. */
        uv_timer_init(d->loop, &d->metrics_deadline);
        d->metrics_deadline.data = d;
        /* features before waits: the converged file is in place before a waiter
         * (hugevmd-wait.service, then kubelet) hears that the pools converged. */
        if ((r = observers_init(d)) < 0 || (r = features_init(d)) < 0 || (r = waits_init(d)) < 0 ||
            (r = core_subscribe(&d->core, on_stopped, d)) < 0) {
                log_error("Cannot set up hugevmd's observers: %s", strerror(-r));
                return r;
        }
        if (extra & EDGES_SIGNALS) {
                uv_signal_init(d->loop, &d->sig_term);
                uv_signal_init(d->loop, &d->sig_int);
                uv_signal_init(d->loop, &d->sig_hup);
                d->sig_term.data = d->sig_int.data = d->sig_hup.data = d;
                uv_signal_start(&d->sig_term, signal_cb, SIGTERM);
                uv_signal_start(&d->sig_int, signal_cb, SIGINT);
                uv_signal_start(&d->sig_hup, signal_cb, SIGHUP);
                d->edges |= EDGES_SIGNALS;
        }
        if ((extra & EDGES_SOCKET) && (r = server_start(d, socket_path)) < 0)
                return r;
        return extra & EDGES_METRICS_HTTP ? metrics_start(d) : 0;
}

