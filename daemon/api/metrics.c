/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Prometheus metrics (text exposition format 0.0.4).
 *
 * Three kinds of data: gauges rendered from a STATUS object (proto.h) each time,
 * counters/histograms kept here, fed by the loop, and the process_* metrics
 * read from /proc/self at each render. Everything except the
 * published text is touched by the loop thread only; the HTTP thread of
 * libmicrohttpd copies the published text under the mutex and nothing else.
 *
 * Label cardinality is bounded by construction: methods and results come from
 * fixed tables (anything else is counted as "unknown"), and at most
 * METRICS_MAX_SIZES page sizes get their own series.
 */
#include "config.h"
#include "metrics.h"
#include "clock.h"
#include "fileio.h"
#include "proto.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"
#define METRICS_PATH         "/metrics"
#define UNKNOWN_LABEL        "unknown"

/* Real machines have 1-5 hstates; anything past this is folded into "unknown". */
#define METRICS_MAX_SIZES    16
#define METRICS_MAX_LABEL    32
/* The HTTP endpoint serves a scraper or two, not the world. */
#define HTTP_MAX_CONNECTIONS 16
#define HTTP_TIMEOUT_SEC     10   /* idle: no byte for this long */
/* A slow client (a header line every few seconds) is not idle: it must still
 * send its whole request within this, and holds at most this many slots per
 * address, so a scraper elsewhere always gets one. */
#define HTTP_REQUEST_DEADLINE_SEC 5
#define HTTP_PER_IP_CONNECTIONS   4

/* A 2 MiB pool of 1000 pages grows in ~5 ms (~50 ms with HVO on); a big 1 GiB
 * pool under fragmentation, with compaction and retries, takes minutes. */
static const double resize_buckets[] = {
        0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300,
};
#define N_BUCKETS (sizeof(resize_buckets) / sizeof(resize_buckets[0]))

/* Request series: one row per method of the protocol's list, one for the
 * rest; results: "ok", then the name of every error code, then "unknown". */
#define N_METHODS       PROTO_METHOD_COUNT
#define N_ERRORS        PROTO_ERROR_COUNT
#define N_REQ_RESULTS   (1 + N_ERRORS + 1)
#define REQ_RESULT_OK   0
#define REQ_RESULT_UNKNOWN (N_REQ_RESULTS - 1)

static const char *const resize_results[] = { "reached", "short", "error", UNKNOWN_LABEL };
#define N_RESIZE_RESULTS (sizeof(resize_results) / sizeof(resize_results[0]))

struct resize_series {
        char size[METRICS_MAX_LABEL];
        uint64_t by_result[N_RESIZE_RESULTS];
        uint64_t bucket[N_BUCKETS];     /* not cumulative; summed when rendered */
        uint64_t count;
        double sum;
        bool is_pool;                   /* retries set: a pool of this size exists */
        uint64_t retries;
};

struct metrics {
        /* loop thread only */
        uint64_t requests[N_METHODS + 1][N_REQ_RESULTS];   /* last method row: unknown */
        struct resize_series resizes[METRICS_MAX_SIZES];
        size_t n_resizes;
        bool loaded, load_ok;           /* a configuration load was recorded, and how it went */
        double load_ok_at;              /* wall clock of the last successful one */

        /* shared with the HTTP thread */
        pthread_mutex_t lock;
        char *published;
        size_t published_len;

        struct MHD_Daemon *httpd;
        /* Open connections that have not sent a whole request yet (lock). */
        struct http_conn {
                int fd;               /* -1: free slot */
                double started;
        } pending[HTTP_MAX_CONNECTIONS];
};

int metrics_new(struct metrics **ret)
{
        struct metrics *m = calloc(1, sizeof(*m));
        if (!m)
                return -ENOMEM;
        for (size_t i = 0; i < HTTP_MAX_CONNECTIONS; i++)
                m->pending[i].fd = -1;
        int r = pthread_mutex_init(&m->lock, NULL);
        if (r != 0) {
                free(m);
                return -r;
        }
        *ret = m;
        return 0;
}

void metrics_free(struct metrics *m)
{
        if (!m)
                return;
        if (m->httpd)
                MHD_stop_daemon(m->httpd);   /* joins its thread, closes the socket */
        pthread_mutex_destroy(&m->lock);
        free(m->published);
        free(m);
}

/* ---- counters ------------------------------------------------------------ */

static size_t request_result_index(const char *result)
{
        if (!result)
                return REQ_RESULT_UNKNOWN;
        if (strcmp(result, "ok") == 0)
                return REQ_RESULT_OK;
        for (size_t i = 0; i < N_ERRORS; i++)
                if (strcmp(result, proto_errors[i].name) == 0)
                        return 1 + i;
        return REQ_RESULT_UNKNOWN;
}

static const char *request_result_name(size_t i)
{
        if (i == REQ_RESULT_OK)
                return "ok";
        if (i == REQ_RESULT_UNKNOWN)
                return UNKNOWN_LABEL;
        return proto_errors[i - 1].name;
}

void metrics_count_request(struct metrics *m, const char *method, const char *result)
{
        int found = method ? proto_method_find(method) : -1;
        size_t row = found < 0 ? N_METHODS : (size_t)found;   /* unknown: a peer may send any method name */
        m->requests[row][request_result_index(result)]++;
}

/* A size label is what sysfs calls the hstate: "<digits>kB". Anything else,
 * or more sizes than any machine has, goes into one "unknown" series. */
static bool is_size_label(const char *s)
{
        size_t n = s ? strlen(s) : 0;
        if (n < 3 || n >= METRICS_MAX_LABEL || strcmp(s + n - 2, "kB") != 0)
                return false;
        for (size_t i = 0; i < n - 2; i++)
                if (s[i] < '0' || s[i] > '9')
                        return false;
        return true;
}

static struct resize_series *resize_series_for(struct metrics *m, const char *size_label)
{
        const char *label = is_size_label(size_label) ? size_label : UNKNOWN_LABEL;
        for (size_t i = 0; i < m->n_resizes; i++)
                if (strcmp(m->resizes[i].size, label) == 0)
                        return &m->resizes[i];
        /* The last slot is kept for "unknown" so that it always exists. */
        if (m->n_resizes >= METRICS_MAX_SIZES - 1 && strcmp(label, UNKNOWN_LABEL) != 0)
                return resize_series_for(m, UNKNOWN_LABEL);
        struct resize_series *s = &m->resizes[m->n_resizes++];
        snprintf(s->size, sizeof(s->size), "%s", label);
        return s;
}

void metrics_count_resize(struct metrics *m, const char *size_label, const char *result, double seconds)
{
        struct resize_series *s = resize_series_for(m, size_label);
        size_t r = N_RESIZE_RESULTS - 1;
        for (size_t i = 0; result && i < N_RESIZE_RESULTS - 1; i++)
                if (strcmp(result, resize_results[i]) == 0) {
                        r = i;
                        break;
                }
        s->by_result[r]++;

        if (!(seconds >= 0) || isinf(seconds))   /* NaN, negative, infinite: a clock glitch */
                seconds = 0;
        s->count++;
        s->sum += seconds;
        for (size_t i = 0; i < N_BUCKETS; i++)
                if (seconds <= resize_buckets[i]) {
                        s->bucket[i]++;
                        break;
                }
}

void metrics_set_retries(struct metrics *m, const char *size_label, uint64_t total)
{
        struct resize_series *s = resize_series_for(m, size_label);
        s->is_pool = true;
        s->retries = total;
}

void metrics_count_reload(struct metrics *m, bool ok)
{
        m->loaded = true;
        m->load_ok = ok;
        if (ok)
                m->load_ok_at = (double)time(NULL);
}

/* ---- rendering ----------------------------------------------------------- */

/* Label values escape \, " and newline; HELP text escapes \ and newline. */
static void put_escaped(FILE *f, const char *s, bool quote)
{
        for (; *s; s++) {
                if (*s == '\\')
                        fputs("\\\\", f);
                else if (*s == '\n')
                        fputs("\\n", f);
                else if (*s == '"' && quote)
                        fputs("\\\"", f);
                else
                        fputc(*s, f);
        }
}

static void family(FILE *f, const char *name, const char *type, const char *help)
{
        fprintf(f, "# HELP %s ", name);
        put_escaped(f, help, false);
        fprintf(f, "\n# TYPE %s %s\n", name, type);
}

static void put_double(FILE *f, double v)
{
        if (isnan(v))
                fputs("NaN", f);
        else if (isinf(v))
                fputs(v > 0 ? "+Inf" : "-Inf", f);
        else
                fprintf(f, "%.17g", v);
}

/* Writes the sample value of a JSON number or bool; false when v is neither
 * (missing, null, string...), so the caller leaves the sample out. */
static bool put_json_value(FILE *f, json_object *v)
{
        switch (json_object_get_type(v)) {
        case json_type_boolean:
                fputs(json_object_get_boolean(v) ? "1" : "0", f);
                return true;
        case json_type_int:
                /* uint64 values above INT64_MAX are kept unsigned by json-c */
                if (json_object_get_int64(v) == INT64_MAX)
                        fprintf(f, "%" PRIu64, json_object_get_uint64(v));
                else
                        fprintf(f, "%" PRId64, json_object_get_int64(v));
                return true;
        case json_type_double:
                put_double(f, json_object_get_double(v));
                return true;
        default:
                return false;
        }
}

static bool is_sample_value(json_object *v)
{
        json_type t = json_object_get_type(v);
        return t == json_type_boolean || t == json_type_int || t == json_type_double;
}


/* One label set: size="..."[,node="N"][,extra="..."] */
struct labels {
        const char *size;
        int64_t node;           /* < 0: no node label */
        const char *extra_name, *extra_value;
};

static void put_labels(FILE *f, const struct labels *l)
{
        bool first = true;
        fputc('{', f);
        if (l->size) {
                fputs("size=\"", f);
                put_escaped(f, l->size, true);
                fputc('"', f);
                first = false;
        }
        if (l->node >= 0) {
                fprintf(f, "%snode=\"%" PRId64 "\"", first ? "" : ",", l->node);
                first = false;
        }
        if (l->extra_name) {
                fprintf(f, "%s%s=\"", first ? "" : ",", l->extra_name);
                put_escaped(f, l->extra_value, true);
                fputc('"', f);
        }
        fputc('}', f);
}

/* name{labels} value, only when v is a number or bool. */
static void sample(FILE *f, const char *name, const struct labels *l, json_object *v)
{
        if (!is_sample_value(v))
                return;
        fputs(name, f);
        if (l)
                put_labels(f, l);
        fputc(' ', f);
        put_json_value(f, v);
        fputc('\n', f);
}

static void sample_int(FILE *f, const char *name, const struct labels *l, int64_t v)
{
        fputs(name, f);
        if (l)
                put_labels(f, l);
        fprintf(f, " %" PRId64 "\n", v);
}

/* Pools without a size label cannot be told apart; they are left out. */
static const char *pool_size(json_object *pool)
{
        return proto_get_str(pool, PROTO_F_SIZE, NULL);
}

/* A pool (or node) has nothing left to do when it is converged or has no target. */
static int64_t state_is_settled(const char *state)
{
        return strcmp(state, PROTO_STATE_CONVERGED) == 0 || strcmp(state, PROTO_STATE_UNMANAGED) == 0;
}

struct pool_gauge {
        const char *name, *field, *help;
};

static const struct pool_gauge pool_gauges[] = {
        { "hugevm_page_size_bytes", PROTO_F_SIZE_BYTES,
          "Bytes in one hugepage of this size (pool bytes: hugevm_pool_pages * on(instance, job, size) hugevm_page_size_bytes)." },
        { "hugevm_pool_target_pages", PROTO_F_TARGET,
          "Pages the operator asked for in this pool (absent when the pool has no target)." },
        { "hugevm_pool_pages", PROTO_F_PAGES,
          "Hugepages in the pool (nr_hugepages, surplus included)." },
        { "hugevm_pool_free_pages", PROTO_F_FREE, "Hugepages in the pool not in use." },
        { "hugevm_pool_reserved_pages", PROTO_F_RESERVED,
          "Hugepages reserved for mappings but not yet faulted in." },
        { "hugevm_pool_surplus_pages", PROTO_F_SURPLUS,
          "Hugepages above the persistent pool size (overcommit, or a shrink that could not free them)." },
        { "hugevm_pool_overcommit_pages", PROTO_F_OVERCOMMIT,
          "Limit on surplus hugepages (nr_overcommit_hugepages)." },
        { "hugevm_optimized_pages", PROTO_F_OPTIMIZED_PAGES,
          "Hugepages of this size whose vmemmap is optimized (HVO), from the daemon's ledger." },
        { "hugevm_saved_bytes", PROTO_F_SAVED_BYTES,
          "Bytes of vmemmap freed by HVO for this page size." },
        { "hugevm_saved_exact", PROTO_F_SAVED_EXACT,
          "1 when hugevm_saved_bytes for this size is measured by the kernel's memmap counters, 0 when it is the model's estimate." },
        { "hugevm_model_optimized_pages", PROTO_F_MODEL_OPTIMIZED,
          "Hugepages of this size the daemon's model says are optimized (never corrected by the kernel's counters)." },
        { "hugevm_pool_model_saved_bytes", PROTO_F_MODEL_SAVED,
          "Bytes of vmemmap freed by HVO for this page size, as the daemon's model says." },
};

static const struct pool_gauge node_gauges[] = {
        { "hugevm_node_target_pages", PROTO_F_TARGET,
          "Pages the operator asked for on this NUMA node (absent when the node has no target)." },
        { "hugevm_node_pages", PROTO_F_PAGES, "Hugepages in the pool on this NUMA node." },
        { "hugevm_node_free_pages", PROTO_F_FREE, "Hugepages not in use on this NUMA node." },
        { "hugevm_node_surplus_pages", PROTO_F_SURPLUS, "Surplus hugepages on this NUMA node." },
        { "hugevm_node_saved_bytes", PROTO_F_SAVED_BYTES,
          "Bytes of vmemmap freed by HVO for this page size on this NUMA node (absent when the node files do not add up to the pool)." },
        { "hugevm_node_saved_exact", PROTO_F_SAVED_EXACT,
          "1 when hugevm_node_saved_bytes is measured by the kernel's memmap counters around the daemon's own writes, 0 when estimated." },
        { "hugevm_node_model_saved_bytes", PROTO_F_MODEL_SAVED,
          "Bytes of vmemmap freed by HVO for this page size on this NUMA node, as the daemon's model says." },
        { "hugevm_pool_unoptimized_pages", PROTO_F_UNOPTIMIZED,
          "Hugepages on this NUMA node whose vmemmap HVO did not optimize (allocated while it was off), free or in use." },
};

static const char *const pool_states[] = {
        PROTO_STATE_CONVERGED, PROTO_STATE_CONVERGING, PROTO_STATE_DEGRADED, PROTO_STATE_UNMANAGED,
};

static void render_pools(FILE *f, json_object *status)
{
        json_object *pools = proto_get(status, PROTO_F_POOLS);
        size_t n = proto_array_len(pools);

        for (size_t g = 0; g < sizeof(pool_gauges) / sizeof(pool_gauges[0]); g++) {
                family(f, pool_gauges[g].name, "gauge", pool_gauges[g].help);
                for (size_t i = 0; i < n; i++) {
                        json_object *pool = json_object_array_get_idx(pools, i);
                        struct labels l = { .size = pool_size(pool), .node = -1 };
                        if (l.size)
                                sample(f, pool_gauges[g].name, &l, proto_get(pool, pool_gauges[g].field));
                }
        }

        family(f, "hugevm_pool_converged", "gauge",
               "1 when the pool is at its target or has none, 0 while converging or degraded.");
        for (size_t i = 0; i < n; i++) {
                json_object *pool = json_object_array_get_idx(pools, i);
                struct labels l = { .size = pool_size(pool), .node = -1 };
                const char *state = proto_get_str(pool, PROTO_F_STATE, NULL);
                if (l.size && state)
                        sample_int(f, "hugevm_pool_converged", &l, state_is_settled(state));
        }

        family(f, "hugevm_pool_state", "gauge",
               "State of the pool: 1 for the current state, 0 for the others.");
        for (size_t i = 0; i < n; i++) {
                json_object *pool = json_object_array_get_idx(pools, i);
                const char *state = proto_get_str(pool, PROTO_F_STATE, NULL);
                if (!pool_size(pool) || !state)
                        continue;
                for (size_t s = 0; s < sizeof(pool_states) / sizeof(pool_states[0]); s++) {
                        struct labels l = { .size = pool_size(pool), .node = -1,
                                            .extra_name = "state", .extra_value = pool_states[s] };
                        sample_int(f, "hugevm_pool_state", &l, strcmp(state, pool_states[s]) == 0);
                }
        }

        family(f, "hugevm_pool_reoptimized_pages_total", "counter",
               "Hugepages replaced by optimized ones (re-optimization) since the daemon started.");
        for (size_t i = 0; i < n; i++) {
                json_object *pool = json_object_array_get_idx(pools, i);
                struct labels l = { .size = pool_size(pool), .node = -1 };
                if (l.size)
                        sample(f, "hugevm_pool_reoptimized_pages_total", &l, proto_get(pool, PROTO_F_REOPTIMIZED));
        }

        family(f, "hugevm_pool_demoted_pages_total", "counter",
               "Hugepages this pool gained by demoting free pages of a larger pool (Demote=yes) since the daemon started.");
        for (size_t i = 0; i < n; i++) {
                json_object *pool = json_object_array_get_idx(pools, i);
                struct labels l = { .size = pool_size(pool), .node = -1 };
                if (l.size)
                        sample(f, "hugevm_pool_demoted_pages_total", &l, proto_get(pool, PROTO_F_DEMOTED));
        }

        family(f, "hugevm_pool_feasible_pages", "gauge",
               "Pages a growing pool is forecast to reach: min(target, pages + what free and movable memory can give); "
               "no sample when it is not growing.");
        for (size_t i = 0; i < n; i++) {
                json_object *pool = json_object_array_get_idx(pools, i);
                json_object *nodes = proto_get(pool, PROTO_F_NODES);
                struct labels l = { .size = pool_size(pool), .node = -1 };
                if (!l.size)
                        continue;
                sample(f, "hugevm_pool_feasible_pages", &l, proto_get(proto_get(pool, PROTO_F_FORECAST), PROTO_F_FC_EXPECT));
                for (size_t j = 0; j < proto_array_len(nodes); j++) {
                        json_object *node = json_object_array_get_idx(nodes, j);
                        json_object *id = proto_get(node, PROTO_F_NODE);
                        if (!json_object_is_type(id, json_type_int) || json_object_get_int64(id) < 0)
                                continue;
                        l.node = json_object_get_int64(id);
                        sample(f, "hugevm_pool_feasible_pages", &l,
                               proto_get(proto_get(node, PROTO_F_FORECAST), PROTO_F_FC_EXPECT));
                }
        }

        /* Per node; single-node machines report one node too. */
        for (size_t g = 0; g < sizeof(node_gauges) / sizeof(node_gauges[0]); g++) {
                family(f, node_gauges[g].name, "gauge", node_gauges[g].help);
                for (size_t i = 0; i < n; i++) {
                        json_object *pool = json_object_array_get_idx(pools, i);
                        json_object *nodes = proto_get(pool, PROTO_F_NODES);
                        for (size_t j = 0; pool_size(pool) && j < proto_array_len(nodes); j++) {
                                json_object *node = json_object_array_get_idx(nodes, j);
                                json_object *id = proto_get(node, PROTO_F_NODE);
                                if (!json_object_is_type(id, json_type_int) || json_object_get_int64(id) < 0)
                                        continue;
                                struct labels l = { .size = pool_size(pool), .node = json_object_get_int64(id) };
                                sample(f, node_gauges[g].name, &l, proto_get(node, node_gauges[g].field));
                        }
                }
        }

        family(f, "hugevm_node_converged", "gauge",
               "1 when the pool on this NUMA node is at its target or has none.");
        for (size_t i = 0; i < n; i++) {
                json_object *pool = json_object_array_get_idx(pools, i);
                json_object *nodes = proto_get(pool, PROTO_F_NODES);
                for (size_t j = 0; pool_size(pool) && j < proto_array_len(nodes); j++) {
                        json_object *node = json_object_array_get_idx(nodes, j);
                        json_object *id = proto_get(node, PROTO_F_NODE);
                        const char *state = proto_get_str(node, PROTO_F_STATE, NULL);
                        if (!state || !json_object_is_type(id, json_type_int) || json_object_get_int64(id) < 0)
                                continue;
                        struct labels l = { .size = pool_size(pool), .node = json_object_get_int64(id) };
                        sample_int(f, "hugevm_node_converged", &l, state_is_settled(state));
                }
        }
}

static void render_hvo(FILE *f, json_object *status)
{
        json_object *hvo = proto_get(status, PROTO_F_HVO);
        json_object *sizes = proto_get(hvo, PROTO_F_SIZES);

        family(f, "hugevm_hvo_supported", "gauge",
               "1 when this kernel can optimize the vmemmap of hugepages (HVO).");
        sample(f, "hugevm_hvo_supported", NULL, proto_get(hvo, PROTO_F_SUPPORTED));
        family(f, "hugevm_hvo_enabled", "gauge",
               "1 when HVO is on (hugetlb_optimize_vmemmap): pages allocated from now on are optimized.");
        sample(f, "hugevm_hvo_enabled", NULL, proto_get(hvo, PROTO_F_ENABLED));

        family(f, "hugevm_hvo_eligible", "gauge", "1 when hugepages of this size can be optimized.");
        for (size_t i = 0; i < proto_array_len(sizes); i++) {
                json_object *s = json_object_array_get_idx(sizes, i);
                struct labels l = { .size = proto_get_str(s, PROTO_F_SIZE, NULL), .node = -1 };
                if (l.size)
                        sample(f, "hugevm_hvo_eligible", &l, proto_get(s, PROTO_F_ELIGIBLE));
        }
        family(f, "hugevm_hvo_saved_bytes_per_page", "gauge",
               "Bytes of vmemmap HVO frees for each optimized hugepage of this size on this kernel.");
        for (size_t i = 0; i < proto_array_len(sizes); i++) {
                json_object *s = json_object_array_get_idx(sizes, i);
                struct labels l = { .size = proto_get_str(s, PROTO_F_SIZE, NULL), .node = -1 };
                if (l.size)
                        sample(f, "hugevm_hvo_saved_bytes_per_page", &l, proto_get(s, PROTO_F_SAVED_PER_PAGE));
        }
}

static void render_measured(FILE *f, json_object *status)
{
        json_object *measured = proto_get(status, PROTO_F_MEASURED);
        json_object *available = proto_get(measured, PROTO_F_AVAILABLE);
        bool is_available = json_object_is_type(available, json_type_boolean) && json_object_get_boolean(available);

        family(f, "hugevm_measured_available", "gauge",
               "1 when the kernel's memmap counters (/proc/vmstat, 6.11+) allow measuring what HVO saved.");
        sample(f, "hugevm_measured_available", NULL, available);
        family(f, "hugevm_measured_saved_bytes", "gauge",
               "Vmemmap bytes saved, all sizes, measured from the kernel's memmap counters.");
        if (is_available)
                sample(f, "hugevm_measured_saved_bytes", NULL, proto_get(measured, PROTO_F_SAVED_BYTES));
        family(f, "hugevm_model_saved_bytes", "gauge",
               "Vmemmap bytes saved, all sizes, as the model predicts from the optimized-page ledger.");
        sample(f, "hugevm_model_saved_bytes", NULL, proto_get(measured, PROTO_F_MODEL_SAVED));
        family(f, "hugevm_measured_agrees", "gauge", "1 when the measured and the modelled savings agree.");
        if (is_available)
                sample(f, "hugevm_measured_agrees", NULL, proto_get(measured, PROTO_F_AGREES));
}

static void render_counters(FILE *f, const struct metrics *m)
{
        family(f, "hugevm_requests_total", "counter", "Control requests handled, by method and result.");
        for (size_t i = 0; m && i <= N_METHODS; i++)
                for (size_t r = 0; r < N_REQ_RESULTS; r++) {
                        if (!m->requests[i][r])
                                continue;
                        fputs("hugevm_requests_total{method=\"", f);
                        put_escaped(f, i < N_METHODS ? proto_methods[i].name : UNKNOWN_LABEL, true);
                        fprintf(f, "\",result=\"%s\"} %" PRIu64 "\n", request_result_name(r), m->requests[i][r]);
                }

        family(f, "hugevm_resizes_total", "counter",
               "Resize steps of a pool, by result: reached the target, stopped short of it, or failed.");
        for (size_t i = 0; m && i < m->n_resizes; i++)
                for (size_t r = 0; r < N_RESIZE_RESULTS; r++) {
                        const struct resize_series *s = &m->resizes[i];
                        if (!s->by_result[r])
                                continue;
                        struct labels l = { .size = s->size, .node = -1,
                                            .extra_name = "result", .extra_value = resize_results[r] };
                        fputs("hugevm_resizes_total", f);
                        put_labels(f, &l);
                        fprintf(f, " %" PRIu64 "\n", s->by_result[r]);
                }

        family(f, "hugevm_resize_duration_seconds", "histogram", "Wall time of one resize step of a pool.");
        for (size_t i = 0; m && i < m->n_resizes; i++) {
                const struct resize_series *s = &m->resizes[i];
                uint64_t cumulative = 0;
                if (!s->count)
                        continue;   /* a pool that never resized */
                for (size_t b = 0; b <= N_BUCKETS; b++) {
                        char le[32];
                        if (b < N_BUCKETS) {
                                cumulative += s->bucket[b];
                                snprintf(le, sizeof(le), "%g", resize_buckets[b]);
                        } else {
                                cumulative = s->count;
                                snprintf(le, sizeof(le), "+Inf");
                        }
                        struct labels l = { .size = s->size, .node = -1, .extra_name = "le", .extra_value = le };
                        fputs("hugevm_resize_duration_seconds_bucket", f);
                        put_labels(f, &l);
                        fprintf(f, " %" PRIu64 "\n", cumulative);
                }
                struct labels l = { .size = s->size, .node = -1 };
                fputs("hugevm_resize_duration_seconds_sum", f);
                put_labels(f, &l);
                fputc(' ', f);
                put_double(f, s->sum);
                fputs("\nhugevm_resize_duration_seconds_count", f);
                put_labels(f, &l);
                fprintf(f, " %" PRIu64 "\n", s->count);
        }

        family(f, "hugevm_pool_retries_total", "counter",
               "Resize writes retried (after compaction) because the previous write of this pool fell short of its target.");
        for (size_t i = 0; m && i < m->n_resizes; i++)
                if (m->resizes[i].is_pool) {
                        struct labels l = { .size = m->resizes[i].size, .node = -1 };
                        sample_int(f, "hugevm_pool_retries_total", &l, (int64_t)m->resizes[i].retries);
                }

        family(f, "hugevm_config_last_reload_successful", "gauge",
               "1 when the last configuration load (start, reload or SIGHUP) succeeded, 0 when it was refused.");
        if (m && m->loaded)
                sample_int(f, "hugevm_config_last_reload_successful", NULL, m->load_ok);
        family(f, "hugevm_config_last_reload_success_timestamp_seconds", "gauge",
               "Unix time of the last successful configuration load.");
        if (m && m->loaded && m->load_ok_at > 0) {
                fputs("hugevm_config_last_reload_success_timestamp_seconds ", f);
                put_double(f, m->load_ok_at);
                fputc('\n', f);
        }
}

/* The standard process_* families of Prometheus' client libraries, from this
 * process's own /proc (never --root's fake one). A file that cannot be read
 * leaves its samples out. */
static void render_process(FILE *f)
{
        char buf[1024];
        unsigned long long utime = 0, stime = 0, start = 0, vsize = 0, boot = 0;
        long long rss = 0;
        bool have_stat = false, have_boot = false;
        double tick = (double)sysconf(_SC_CLK_TCK), page = (double)sysconf(_SC_PAGESIZE);

        FILE *p = fopen("/proc/self/stat", "re");
        if (p) {
                size_t n = fread(buf, 1, sizeof buf - 1, p);
                buf[n] = '\0';
                fclose(p);
                /* After "pid (comm)", comm being anything: fields 14, 15, 22, 23, 24 of proc(5). */
                const char *rest = strrchr(buf, ')');
                have_stat = rest && sscanf(rest + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu"
                                           " %*d %*d %*d %*d %*d %*d %llu %llu %lld",
                                           &utime, &stime, &start, &vsize, &rss) == 5;
        }
        p = fopen("/proc/stat", "re");
        while (p && fgets(buf, sizeof buf, p))
                if (sscanf(buf, "btime %llu", &boot) == 1) {
                        have_boot = true;
                        break;
                }
        if (p)
                fclose(p);

        family(f, "process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.");
        if (have_stat) {
                fputs("process_cpu_seconds_total ", f);
                put_double(f, (double)(utime + stime) / tick);
                fputc('\n', f);
        }
        family(f, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
        if (have_stat)
                fprintf(f, "process_resident_memory_bytes %.0f\n", (double)rss * page);
        family(f, "process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.");
        if (have_stat)
                fprintf(f, "process_virtual_memory_bytes %llu\n", vsize);
        family(f, "process_start_time_seconds", "gauge", "Start time of the process since unix epoch in seconds.");
        if (have_stat && have_boot)   /* in clock ticks: hundredths */
                fprintf(f, "process_start_time_seconds %.2f\n", (double)boot + (double)start / tick);

        family(f, "process_open_fds", "gauge", "Number of open file descriptors.");
        DIR *d = opendir("/proc/self/fd");
        if (d) {
                int64_t n = 0;
                for (struct dirent *e; (e = readdir(d));)
                        n += e->d_name[0] != '.' && atoi(e->d_name) != dirfd(d);   /* not the listing's own */
                closedir(d);
                sample_int(f, "process_open_fds", NULL, n);
        }
        family(f, "process_max_fds", "gauge", "Maximum number of open file descriptors.");
        struct rlimit rl;
        if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
                fprintf(f, "process_max_fds %llu\n", (unsigned long long)rl.rlim_cur);
}

static void render_up(FILE *f, bool up)
{
        family(f, "hugevm_up", "gauge", "1 while hugevmd runs; 0 in the textfile once it has stopped.");
        sample_int(f, "hugevm_up", NULL, up);
}

char *metrics_render(const struct metrics *m, json_object *status)
{
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        if (!f)
                return NULL;

        const char *version = proto_get_str(status, PROTO_F_VERSION, NULL);
        family(f, "hugevm_info", "gauge", "Version of the running hugevmd; always 1.");
        if (version) {
                struct labels l = { .node = -1, .extra_name = "version", .extra_value = version };
                sample_int(f, "hugevm_info", &l, 1);
        }
        render_up(f, true);
        family(f, "hugevm_converged", "gauge", "1 when every pool is at its target.");
        sample(f, "hugevm_converged", NULL, proto_get(status, PROTO_F_CONVERGED));

        render_pools(f, status);
        render_hvo(f, status);
        render_measured(f, status);
        render_counters(f, m);
        render_process(f);

        bool failed = ferror(f);
        if (fclose(f) != 0 || failed) {
                free(text);
                return NULL;
        }
        return text;
}

int metrics_publish(struct metrics *m, json_object *status)
{
        char *text = metrics_render(m, status);
        if (!text)
                return -ENOMEM;
        size_t len = strlen(text);

        pthread_mutex_lock(&m->lock);
        char *old = m->published;
        m->published = text;
        m->published_len = len;
        pthread_mutex_unlock(&m->lock);

        free(old);
        return 0;
}

/* A private copy of the published text (so no lock is held while it is sent). */
static char *published_copy(struct metrics *m, size_t *ret_len)
{
        char *copy = NULL;
        pthread_mutex_lock(&m->lock);
        if (m->published) {
                copy = malloc(m->published_len + 1);
                if (copy) {
                        memcpy(copy, m->published, m->published_len + 1);
                        *ret_len = m->published_len;
                }
        }
        pthread_mutex_unlock(&m->lock);
        return copy;
}

/* ---- HTTP ---------------------------------------------------------------- */

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *body, bool allow_header)
{
        /* PERSISTENT: MHD only reads the buffer, but its API lacks const (the
         * _static variant that has it is newer than Debian 12's libmicrohttpd). */
        struct MHD_Response *resp = MHD_create_response_from_buffer(strlen(body), (void *)(uintptr_t)body,
                                                                    MHD_RESPMEM_PERSISTENT);
        if (!resp)
                return MHD_NO;
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
        if (allow_header)
                MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
        enum MHD_Result r = MHD_queue_response(c, status, resp);
        MHD_destroy_response(resp);
        return r;
}

/* Runs on libmicrohttpd's thread: touches nothing but the published text. */
/* ---- request deadline ----------------------------------------------------- */

/* MHD tells us of every connection (its thread); the slot index rides in the
 * connection's socket context. */
static void connection_notify(void *cls, struct MHD_Connection *c, void **socket_context,
                              enum MHD_ConnectionNotificationCode code)
{
        struct metrics *m = cls;
        const union MHD_ConnectionInfo *info = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        pthread_mutex_lock(&m->lock);
        if (code == MHD_CONNECTION_NOTIFY_STARTED && info) {
                for (size_t i = 0; i < HTTP_MAX_CONNECTIONS; i++)
                        if (m->pending[i].fd < 0) {
                                m->pending[i].fd = info->connect_fd;
                                m->pending[i].started = clock_seconds();
                                *socket_context = &m->pending[i];
                                break;
                        }
        } else if (code == MHD_CONNECTION_NOTIFY_CLOSED && *socket_context) {
                /* MHD closes the fd after this: the slot must not outlive it. */
                ((struct http_conn *)*socket_context)->fd = -1;
                *socket_context = NULL;
        }
        pthread_mutex_unlock(&m->lock);
}

static void request_arrived(struct metrics *m, struct MHD_Connection *c)
{
        const union MHD_ConnectionInfo *info = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
        pthread_mutex_lock(&m->lock);
        if (info && info->socket_context)
                ((struct http_conn *)info->socket_context)->started = -1;   /* whole: no deadline */
        pthread_mutex_unlock(&m->lock);
}

unsigned metrics_http_expire(struct metrics *m)
{
        unsigned cut = 0;
        double now = clock_seconds();
        pthread_mutex_lock(&m->lock);
        for (size_t i = 0; i < HTTP_MAX_CONNECTIONS; i++) {
                struct http_conn *p = &m->pending[i];
                if (p->fd >= 0 && p->started >= 0 && now - p->started > HTTP_REQUEST_DEADLINE_SEC) {
                        /* MHD sees the end of the stream and closes it in its thread. */
                        shutdown(p->fd, SHUT_RDWR);
                        p->started = -1;
                        cut++;
                }
        }
        pthread_mutex_unlock(&m->lock);
        return cut;
}

static enum MHD_Result serve(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                             const char *version, const char *upload_data, size_t *upload_data_size,
                             void **con_cls)
{
        struct metrics *m = cls;

        request_arrived(m, c);
        /* Answered on the first call, before any request body is read. */
        if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
                return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET is supported\n", true);
        if (strcmp(url, METRICS_PATH) != 0)
                return reply(c, MHD_HTTP_NOT_FOUND, "not found: metrics are at " METRICS_PATH "\n", false);

        size_t len = 0;
        char *text = published_copy(m, &len);
        if (!text)
                return reply(c, MHD_HTTP_SERVICE_UNAVAILABLE, "no metrics published yet\n", false);

        struct MHD_Response *resp = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
        if (!resp) {
                free(text);
                return MHD_NO;
        }
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, METRICS_CONTENT_TYPE);
        enum MHD_Result r = MHD_queue_response(c, MHD_HTTP_OK, resp);
        MHD_destroy_response(resp);
        return r;
}

/* Bind ourselves (rather than letting libmicrohttpd do it) to return the real
 * errno and the port the kernel picked. */
static int listen_on(const char *addr, uint16_t port, int *ret_family, uint16_t *ret_port)
{
        union {
                struct sockaddr sa;
                struct sockaddr_in in;
                struct sockaddr_in6 in6;
                struct sockaddr_storage storage;
        } sa = { 0 };
        socklen_t salen;

        if (inet_pton(AF_INET, addr, &sa.in.sin_addr) == 1) {
                sa.in.sin_family = AF_INET;
                sa.in.sin_port = htons(port);
                salen = sizeof(sa.in);
        } else if (inet_pton(AF_INET6, addr, &sa.in6.sin6_addr) == 1) {
                sa.in6.sin6_family = AF_INET6;
                sa.in6.sin6_port = htons(port);
                salen = sizeof(sa.in6);
        } else
                return -EINVAL;   /* not a numeric address: we never resolve names */

        int fd = socket(sa.sa.sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        int one = 1;
        if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
            (sa.sa.sa_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0) ||
            bind(fd, &sa.sa, salen) < 0 || listen(fd, HTTP_MAX_CONNECTIONS) < 0 ||
            getsockname(fd, &sa.sa, &salen) < 0) {
                int r = -errno;
                close(fd);
                return r;
        }
        *ret_family = sa.sa.sa_family;
        *ret_port = ntohs(sa.sa.sa_family == AF_INET ? sa.in.sin_port : sa.in6.sin6_port);
        return fd;
}

int metrics_http_start(struct metrics *m, const char *addr, uint16_t port, uint16_t *ret_port)
{
        if (m->httpd)
                return -EALREADY;
        if (!addr)
                return -EINVAL;

        int family = 0;
        uint16_t bound_port = 0;
        int fd = listen_on(addr, port, &family, &bound_port);
        if (fd < 0)
                return fd;

        unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD;
        if (family == AF_INET6)
                flags |= MHD_USE_IPv6;

        /* The server thread inherits our signal mask: block everything so that
         * signals are always handled by the loop thread. */
        sigset_t all, old;
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &old);
        m->httpd = MHD_start_daemon(flags, 0, NULL, NULL, serve, m,
                                    MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
                                    MHD_OPTION_CONNECTION_LIMIT, (unsigned)HTTP_MAX_CONNECTIONS,
                                    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTP_TIMEOUT_SEC,
                                    MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)HTTP_PER_IP_CONNECTIONS,
                                    MHD_OPTION_NOTIFY_CONNECTION, connection_notify, m,
                                    MHD_OPTION_END);
        int saved_errno = errno;
        pthread_sigmask(SIG_SETMASK, &old, NULL);

        if (!m->httpd) {
                close(fd);
                return saved_errno > 0 ? -saved_errno : -EIO;
        }
        if (ret_port)
                *ret_port = bound_port;
        return 0;
}

/* ---- textfile ------------------------------------------------------------ */

int metrics_write_textfile(struct metrics *m, const char *path)
{
        size_t len = 0;
        char *text = published_copy(m, &len);
        if (!text)
                return -ENODATA;
        /* node_exporter usually runs as another user; the daemon's umask is 077.
         * The temp file starts with '.' and does not end in ".prom", so
         * node_exporter never reads a half-written file. */
        int r = atomic_write_file(path, text, len, 0644);
        free(text);
        return r;
}

int metrics_write_textfile_down(const char *path)
{
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        if (!f)
                return -ENOMEM;
        render_up(f, false);
        int r = fclose(f) == 0 ? atomic_write_file(path, text, len, 0644) : -ENOMEM;
        free(text);
        return r;
}
