/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Prometheus metrics: counters fed by the loop, text rendered from the same
 * STATUS object the `status` method returns (proto.h), served over HTTP by
 * libmicrohttpd from its own thread. The loop publishes a fresh text after
 * every refresh; the HTTP thread only ever copies the last published text, so
 * it never touches daemon state.
 */
#ifndef HUGEVMD_METRICS_H
#define HUGEVMD_METRICS_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

struct metrics;

int metrics_new(struct metrics **ret);
void metrics_free(struct metrics *m);   /* stops the HTTP server too */

/* result: "ok" or proto_error_name(code). */
void metrics_count_request(struct metrics *m, const char *method, const char *result);
/* result: "reached", "short" or "error"; seconds: wall time of that resize step. */
void metrics_count_resize(struct metrics *m, const char *size_label, const char *result, double seconds);

/* A pool's retries so far (the core's pool_rt.retries): the loop copies it
 * here at every refresh. */
void metrics_set_retries(struct metrics *m, const char *size_label, uint64_t total);
/* The configuration was loaded (ok: at start, or a reload) or a reload was
 * refused; stamped with the wall clock. */
void metrics_count_reload(struct metrics *m, bool ok);

/* Render the exposition text for this STATUS object plus the counters and
 * the process_* metrics of this process (its real /proc/self).
 * malloc'ed, NUL-terminated; NULL on allocation failure. */
char *metrics_render(const struct metrics *m, json_object *status);

/* Render and keep as the text the HTTP endpoint serves (thread-safe swap). */
int metrics_publish(struct metrics *m, json_object *status);

/* Serve GET /metrics on addr:port (numeric IPv4/IPv6, e.g. "127.0.0.1").
 * port 0 picks a free port; the bound port is returned in *ret_port. */
int metrics_http_start(struct metrics *m, const char *addr, uint16_t port, uint16_t *ret_port);

/* Write the last published text to path atomically (temp, fsync, rename) for
 * node_exporter's textfile collector. */
int metrics_write_textfile(struct metrics *m, const char *path);
/* At stop: replace the textfile with `hugevm_up 0` alone, so that the
 * collector shows the daemon down instead of its last values as if live. */
int metrics_write_textfile_down(const char *path);

/* Cut HTTP connections that have not sent a whole request within the
 * deadline (call every second or so); how many were cut. */
unsigned metrics_http_expire(struct metrics *m);

#endif
