/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Load generator for hugevmd's control socket: N client threads, each on its
 * own connection, send M mixed requests one after another (status, pool.get,
 * pool.set, and id-less notifications that must get no reply) and check that
 * every request with an id gets exactly one correct reply with that id.
 * Prints TAP diagnostics (throughput, latency percentiles) and a last line
 *     RESULT requests=R replies=R bad=B
 * Exit status 0 only if bad == 0.
 *
 * usage: loadgen SOCKET CLIENTS REQUESTS SIZE SET_MIN SET_MAX
 *   SIZE       the pool to read and set, as operators write it ("2M")
 *   SET_MIN/MAX pool.set picks pages uniformly in [SET_MIN, SET_MAX]
 * Environment: LOADGEN_SET_PERCENT (default 15), LOADGEN_PERSIST_EVERY (every
 * Kth pool.set persists, default 10; 0 never).
 */
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "proto.h"
#include "vmemmap.h"

struct opts {
        const char *sock, *size;
        char label[32];          /* the size as replies spell it ("2048kB") */
        unsigned clients, requests, set_percent, persist_every;
        uint64_t set_min, set_max;
};

struct worker {
        pthread_t th;
        const struct opts *o;
        unsigned index;
        uint64_t *lat_ns;        /* one per request with an id */
        size_t n_lat;
        unsigned sent, replies, bad;
        char first_error[256];
};

static uint64_t now_ns(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

struct conn {
        int fd;
        char buf[1 << 17];
        size_t len;
};

static int conn_open(struct conn *c, const char *path)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
        c->len = 0;
        c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (c->fd < 0)
                return -errno;
        if (connect(c->fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
                int r = -errno;
                close(c->fd);
                return r;
        }
        struct timeval tv = { .tv_sec = 30 };   /* a lost reply fails the run, never hangs it */
        setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        return 0;
}

static int send_all(int fd, const char *p, size_t n)
{
        while (n > 0) {
                ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
                if (w < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                p += w;
                n -= (size_t)w;
        }
        return 0;
}

/* Next line (without '\n') into a malloc'ed string; NULL on EOF/timeout/error. */
static char *read_line(struct conn *c)
{
        for (;;) {
                char *nl = memchr(c->buf, '\n', c->len);
                if (nl) {
                        size_t n = (size_t)(nl - c->buf);
                        char *line = strndup(c->buf, n);
                        memmove(c->buf, nl + 1, c->len - n - 1);
                        c->len -= n + 1;
                        return line;
                }
                if (c->len == sizeof c->buf)
                        return NULL;
                ssize_t k = recv(c->fd, c->buf + c->len, sizeof c->buf - c->len, 0);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        return NULL;
                c->len += (size_t)k;
        }
}

__attribute__((format(printf, 2, 3)))
static void fail(struct worker *w, const char *fmt, ...)
{
        w->bad++;
        if (!w->first_error[0]) {
                va_list ap;
                va_start(ap, fmt);
                vsnprintf(w->first_error, sizeof w->first_error, fmt, ap);
                va_end(ap);
        }
}

enum op { OP_STATUS, OP_POOL_GET, OP_POOL_SET, OP_NOTIFY };

/* Is reply (a line) the correct answer with this id to this op? */
static bool check_reply(struct worker *w, const char *line, int64_t id, enum op op)
{
        json_object *r = json_tokener_parse(line), *v, *res;
        bool good = false;
        if (!r) {
                fail(w, "reply is not JSON: %.200s", line);
                return false;
        }
        if (!json_object_object_get_ex(r, PROTO_F_ID, &v) || !json_object_is_type(v, json_type_int) ||
            json_object_get_int64(v) != id) {
                fail(w, "reply with the wrong id: %.200s", line);
                goto out;
        }
        if (!json_object_object_get_ex(r, PROTO_F_RESULT, &res) || json_object_object_get_ex(r, PROTO_F_ERROR, NULL)) {
                fail(w, "error reply: %.200s", line);
                goto out;
        }
        switch (op) {
        case OP_STATUS:
                good = json_object_object_get_ex(res, PROTO_F_POOLS, &v) && json_object_is_type(v, json_type_array);
                break;
        case OP_POOL_GET:
        case OP_POOL_SET:
                good = json_object_object_get_ex(res, PROTO_F_SIZE, &v) && json_object_is_type(v, json_type_string) &&
                       strcmp(json_object_get_string(v), w->o->label) == 0;
                break;
        case OP_NOTIFY:
                break;
        }
        if (!good)
                fail(w, "reply does not answer the request: %.200s", line);
out:
        json_object_put(r);
        return good;
}

static char *request_line(const struct opts *o, enum op op, int64_t id, unsigned *seed, unsigned *n_sets)
{
        json_object *params = NULL;
        const char *method = PROTO_M_STATUS;
        switch (op) {
        case OP_STATUS:
                break;
        case OP_POOL_GET:
                method = PROTO_M_POOL_GET;
                params = json_object_new_object();
                json_object_object_add(params, PROTO_F_SIZE, json_object_new_string(o->size));
                break;
        case OP_POOL_SET: {
                method = PROTO_M_POOL_SET;
                uint64_t span = o->set_max - o->set_min + 1;
                uint64_t pages = o->set_min + (uint64_t)rand_r(seed) % span;
                bool persist = o->persist_every && ++*n_sets % o->persist_every == 0;
                params = json_object_new_object();
                json_object_object_add(params, PROTO_F_SIZE, json_object_new_string(o->size));
                json_object_object_add(params, PROTO_F_PAGES, json_object_new_uint64(pages));
                json_object_object_add(params, PROTO_F_PERSIST, json_object_new_boolean(persist));
                break;
        }
        case OP_NOTIFY:
                method = PROTO_M_VERSION;
                break;
        }
        json_object *req = proto_request_new(method, params, id);
        if (req && op == OP_NOTIFY)
                json_object_object_del(req, PROTO_F_ID);   /* a notification: no reply */
        size_t len;
        char *line = req ? proto_serialize_line(req, &len) : NULL;
        json_object_put(req);
        return line;
}

static void *worker_run(void *arg)
{
        struct worker *w = arg;
        const struct opts *o = w->o;
        struct conn *c = malloc(sizeof *c);
        unsigned seed = 0x9e3779b9u * (w->index + 1), n_sets = 0;
        if (!c || conn_open(c, o->sock) < 0) {
                fail(w, "cannot connect to %s", o->sock);
                free(c);
                return NULL;
        }
        for (unsigned i = 0; i < o->requests; i++) {
                unsigned dice = (unsigned)rand_r(&seed) % 100;
                enum op op = dice < 5 ? OP_NOTIFY : dice < 5 + o->set_percent ? OP_POOL_SET
                             : dice < 55 ? OP_POOL_GET : OP_STATUS;
                int64_t id = ((int64_t)w->index << 32) | i;
                char *line = request_line(o, op, id, &seed, &n_sets);
                if (!line) {
                        fail(w, "out of memory");
                        break;
                }
                uint64_t t0 = now_ns();
                int r = send_all(c->fd, line, strlen(line));
                free(line);
                if (r < 0) {
                        fail(w, "send failed: %s", strerror(-r));
                        break;
                }
                w->sent++;
                if (op == OP_NOTIFY)
                        continue;   /* the next reply read must be the next request's */
                char *reply = read_line(c);
                if (!reply) {
                        fail(w, "no reply (EOF or 30 s timeout) to a %s request", op == OP_STATUS ? PROTO_M_STATUS : op == OP_POOL_GET ? PROTO_M_POOL_GET : PROTO_M_POOL_SET);
                        break;
                }
                w->lat_ns[w->n_lat++] = now_ns() - t0;
                w->replies++;
                check_reply(w, reply, id, op);
                free(reply);
        }
        /* Exactly one reply each: after our half-close nothing more may arrive. */
        shutdown(c->fd, SHUT_WR);
        char *extra = read_line(c);
        if (extra) {
                fail(w, "unexpected extra line: %.200s", extra);
                free(extra);
        }
        close(c->fd);
        free(c);
        return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
        uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
        return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
        struct opts o = { .set_percent = 15, .persist_every = 10 };
        if (argc != 7) {
                fprintf(stderr, "usage: %s SOCKET CLIENTS REQUESTS SIZE SET_MIN SET_MAX\n", argv[0]);
                return 2;
        }
        o.sock = argv[1];
        o.clients = (unsigned)strtoul(argv[2], NULL, 10);
        o.requests = (unsigned)strtoul(argv[3], NULL, 10);
        o.size = argv[4];
        o.set_min = strtoull(argv[5], NULL, 10);
        o.set_max = strtoull(argv[6], NULL, 10);
        if (getenv("LOADGEN_SET_PERCENT"))
                o.set_percent = (unsigned)strtoul(getenv("LOADGEN_SET_PERCENT"), NULL, 10);
        if (getenv("LOADGEN_PERSIST_EVERY"))
                o.persist_every = (unsigned)strtoul(getenv("LOADGEN_PERSIST_EVERY"), NULL, 10);
        uint64_t bytes;
        if (vmm_size_parse(o.size, &bytes) < 0 || vmm_size_label(bytes / 1024, o.label, sizeof o.label) < 0) {
                fprintf(stderr, "loadgen: bad size %s\n", o.size);
                return 2;
        }
        if (o.clients == 0 || o.requests == 0 || o.set_max < o.set_min || o.set_percent > 50) {
                fprintf(stderr, "loadgen: bad arguments\n");
                return 2;
        }

        struct worker *w = calloc(o.clients, sizeof *w);
        if (!w)
                return 2;
        uint64_t t0 = now_ns();
        for (unsigned i = 0; i < o.clients; i++) {
                w[i].o = &o;
                w[i].index = i;
                w[i].lat_ns = calloc(o.requests, sizeof(uint64_t));
                if (!w[i].lat_ns || pthread_create(&w[i].th, NULL, worker_run, &w[i]) != 0) {
                        fprintf(stderr, "loadgen: cannot start client %u\n", i);
                        return 2;
                }
        }
        size_t total = 0;
        unsigned sent = 0, replies = 0, bad = 0;
        for (unsigned i = 0; i < o.clients; i++) {
                pthread_join(w[i].th, NULL);
                total += w[i].n_lat;
                sent += w[i].sent;
                replies += w[i].replies;
                bad += w[i].bad;
        }
        double secs = (double)(now_ns() - t0) / 1e9;
        uint64_t *all = malloc((total ? total : 1) * sizeof *all);
        size_t k = 0;
        for (unsigned i = 0; i < o.clients; i++) {
                memcpy(all + k, w[i].lat_ns, w[i].n_lat * sizeof *all);
                k += w[i].n_lat;
        }
        qsort(all, total, sizeof *all, cmp_u64);
        double p50 = total ? (double)all[total / 2] / 1e6 : 0, p99 = total ? (double)all[total * 99 / 100] / 1e6 : 0;
        double max = total ? (double)all[total - 1] / 1e6 : 0;
        printf("# %u clients x %u requests: %u sent (%u notifications), %u replies, %.2f s, %.0f requests/s\n",
               o.clients, o.requests, sent, sent - replies, replies, secs, secs > 0 ? sent / secs : 0);
        printf("# latency ms: p50 %.3f  p99 %.3f  max %.3f\n", p50, p99, max);
        for (unsigned i = 0; i < o.clients; i++)
                if (w[i].first_error[0])
                        printf("# client %u: %u bad, first: %s\n", i, w[i].bad, w[i].first_error);
        printf("RESULT requests=%zu replies=%u bad=%u rps=%.0f p50_ms=%.3f p99_ms=%.3f\n", total, replies, bad,
               secs > 0 ? sent / secs : 0, p50, p99);
        for (unsigned i = 0; i < o.clients; i++)
                free(w[i].lat_ns);
        free(w);
        free(all);
        return bad == 0 && replies == total ? 0 : 1;
}
