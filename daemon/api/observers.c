/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Two edges that only listen: systemd hears READY/RELOADING and a STATUS= line
 * when it changes; the metrics count resizes and are re-rendered after every
 * refresh (the textfile at most once per refresh interval: it costs an fsync,
 * and `hugevm_up 0` alone at stop) and note each configuration load.
 */
#include "config.h"
#include "observers.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "daemon.h"
#include "log.h"
#include "metrics.h"
#include "sdnotify.h"
#include "status.h"

static void sdnotify_on_event(void *data, struct core *core, const struct core_event *ev)
{
        struct daemon *d = data;
        char text[sizeof d->last_status];
        switch (ev->kind) {
        case CORE_EV_RELOADING:
                sdnotify_reloading();
                break;
        case CORE_EV_RELOADED:
                sdnotify_ready();
                break;
        case CORE_EV_REFRESHED:
                status_text(core, text, sizeof text);
                if (strcmp(text, d->last_status) != 0) {
                        snprintf(d->last_status, sizeof d->last_status, "%s", text);
                        sdnotify_status("%s", text);
                }
                break;
        default:
                break;
        }
}

static const char *resize_result_name(enum resize_result r)
{
        return r == RESIZE_REACHED ? "reached" : r == RESIZE_SHORT ? "short" : "error";
}

static void metrics_on_refreshed(struct daemon *d)
{
        for (size_t i = 0; i < d->core.n_pools; i++)
                metrics_set_retries(d->metrics, d->core.pools[i].label, d->core.pools[i].retries);
        json_object *status = status_build(&d->core);
        if (status) {
                metrics_publish(d->metrics, status);
                json_object_put(status);
        }
        const char *textfile = d->core.cfg->metrics_textfile;
        uint64_t now = uv_now(d->loop), interval = (uint64_t)d->core.cfg->refresh_sec * 1000;
        if (textfile && (d->last_textfile == 0 || now - d->last_textfile >= interval)) {
                int r = metrics_write_textfile(d->metrics, textfile);
                if (r < 0)
                        log_warning("Cannot write metrics textfile %s: %s", textfile, strerror(-r));
                d->last_textfile = now;
        }
}

static void metrics_on_event(void *data, struct core *core, const struct core_event *ev)
{
        struct daemon *d = data;
        if (!d->metrics)
                return;
        if (ev->kind == CORE_EV_PROGRESS)
                metrics_count_resize(d->metrics, ev->pool->label, resize_result_name(ev->result), ev->seconds);
        else if (ev->kind == CORE_EV_REFRESHED)
                metrics_on_refreshed(d);
        else if (ev->kind == CORE_EV_RELOADED || ev->kind == CORE_EV_RELOAD_FAILED) {
                metrics_count_reload(d->metrics, ev->kind == CORE_EV_RELOADED);
                metrics_on_refreshed(d);   /* shown now, not at the next refresh */
        } else if (ev->kind == CORE_EV_STOPPED && core->started && core->cfg->metrics_textfile) {
                /* Not after a start that failed: the file may be another hugevmd's. */
                int r = metrics_write_textfile_down(core->cfg->metrics_textfile);
                if (r < 0)
                        log_warning("Cannot mark the metrics textfile %s down: %s", core->cfg->metrics_textfile, strerror(-r));
        }
}

int observers_init(struct daemon *d)
{
        if (d->metrics)
                metrics_count_reload(d->metrics, true);   /* core_open loaded the configuration */
        int r = core_subscribe(&d->core, sdnotify_on_event, d);
        return r < 0 ? r : core_subscribe(&d->core, metrics_on_event, d);
}
