/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hvload: a load client for hugevmd's control socket. N clients, each on its
 * own persistent connection and thread, send M requests one after another
 * (the next only when the reply arrived) and time each round trip.
 * Prints one line: clients, requests, seconds, requests/s, p50/p99/max in µs,
 * errors. Used by bench/run.sh (make bench); it passes or fails nothing.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "proto.h"

#define MAX_CLIENTS PROTO_MAX_CLIENTS
#define READ_CHUNK  65536u

struct worker {
        pthread_t thread;
        int fd;
        unsigned requests;
        const char *line;       /* the request, '\n'-terminated */
        size_t line_len;
        uint64_t *latency_ns;   /* one per request */
        unsigned errors;
        char *buf;              /* reply buffer, grows to the longest reply */
        size_t buf_size;
        int failure;            /* negative errno if the connection broke */
};

static pthread_barrier_t start_line;

static uint64_t now_ns(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int connect_socket(const char *path)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        if (strlen(path) >= sizeof sa.sun_path)
                return -ENAMETOOLONG;
        memcpy(sa.sun_path, path, strlen(path) + 1);
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
                int r = -errno;
                close(fd);
                return r;
        }
        return fd;
}

static int write_all(int fd, const char *p, size_t n)
{
        while (n > 0) {
                ssize_t k = write(fd, p, n);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                p += k;
                n -= (size_t)k;
        }
        return 0;
}

/* Read one reply line into w->buf (NUL-terminated, newline dropped). The
 * client sends one request at a time, so nothing follows the newline. */
static int read_line(struct worker *w, size_t *ret_len)
{
        size_t len = 0;
        for (;;) {
                if (w->buf_size - len < READ_CHUNK) {
                        if (w->buf_size > PROTO_MAX_OUTBUF)
                                return -EMSGSIZE;
                        char *b = realloc(w->buf, w->buf_size + READ_CHUNK + 1);
                        if (!b)
                                return -ENOMEM;
                        w->buf = b;
                        w->buf_size += READ_CHUNK;
                }
                ssize_t k = read(w->fd, w->buf + len, w->buf_size - len);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                if (k == 0)
                        return -ECONNRESET;
                len += (size_t)k;
                if (w->buf[len - 1] == '\n') {
                        w->buf[len - 1] = '\0';
                        *ret_len = len - 1;
                        return 0;
                }
        }
}

/* A reply is good when it is a JSON object with a result member. */
static bool reply_ok(const char *text)
{
        json_object *o = json_tokener_parse(text), *v = NULL;
        bool ok = o && json_object_object_get_ex(o, PROTO_F_RESULT, &v);
        json_object_put(o);
        return ok;
}

static void *run_worker(void *arg)
{
        struct worker *w = arg;
        pthread_barrier_wait(&start_line);
        for (unsigned i = 0; i < w->requests; i++) {
                size_t len;
                uint64_t t0 = now_ns();
                int r = write_all(w->fd, w->line, w->line_len);
                if (r == 0)
                        r = read_line(w, &len);
                if (r < 0) {
                        w->failure = r;
                        w->requests = i;
                        break;
                }
                w->latency_ns[i] = now_ns() - t0;
                /* Parsing every reply would load the client more than the daemon;
                 * the first and every 64th are checked in full. */
                if (i % 64 == 0 ? !reply_ok(w->buf) : strstr(w->buf, "\"" PROTO_F_ERROR "\"") != NULL)
                        w->errors++;
        }
        return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
        uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
        return x < y ? -1 : x > y;
}

static void usage(FILE *f)
{
        fprintf(f, "Usage: hvload --socket PATH [--clients N] [--requests M] [--method NAME]\n"
                   "  N clients (1..%u) on persistent connections send M requests each\n"
                   "  (default 1 client, 1000 requests, method %s) and time every round trip.\n",
                MAX_CLIENTS, PROTO_M_STATUS);
}

static int parse_uint(const char *s, const char *what, unsigned max, unsigned *ret)
{
        char *end;
        errno = 0;
        unsigned long v = strtoul(s, &end, 10);
        if (errno || end == s || *end || v == 0 || v > max) {
                fprintf(stderr, "hvload: invalid %s '%s' (1..%u)\n", what, s, max);
                return -EINVAL;
        }
        *ret = (unsigned)v;
        return 0;
}

int main(int argc, char **argv)
{
        static const struct option options[] = {
                { "socket", required_argument, NULL, 's' },
                { "clients", required_argument, NULL, 'c' },
                { "requests", required_argument, NULL, 'n' },
                { "method", required_argument, NULL, 'm' },
                { "help", no_argument, NULL, 'h' },
                {}
        };
        const char *socket_path = NULL, *method = PROTO_M_STATUS;
        unsigned clients = 1, requests = 1000;
        int opt;
        while ((opt = getopt_long(argc, argv, "s:c:n:m:h", options, NULL)) != -1)
                switch (opt) {
                case 's': socket_path = optarg; break;
                case 'c': if (parse_uint(optarg, "client count", MAX_CLIENTS, &clients) < 0) return 2; break;
                case 'n': if (parse_uint(optarg, "request count", 10000000, &requests) < 0) return 2; break;
                case 'm': method = optarg; break;
                case 'h': usage(stdout); return 0;
                default: usage(stderr); return 2;
                }
        if (!socket_path || optind < argc) {
                usage(stderr);
                return 2;
        }

        json_object *req = proto_request_new(method, NULL, 1);
        size_t line_len = 0;
        char *line = req ? proto_serialize_line(req, &line_len) : NULL;
        json_object_put(req);
        struct worker *w = calloc(clients, sizeof *w);
        if (!line || !w) {
                fprintf(stderr, "hvload: out of memory\n");
                return 1;
        }
        int ret = 1;
        unsigned connected = 0;
        for (; connected < clients; connected++) {
                struct worker *x = &w[connected];
                x->fd = connect_socket(socket_path);
                if (x->fd < 0) {
                        fprintf(stderr, "hvload: cannot connect to %s: %s\n", socket_path, strerror(-x->fd));
                        goto out;
                }
                x->requests = requests;
                x->line = line;
                x->line_len = line_len;
                x->latency_ns = calloc(requests, sizeof *x->latency_ns);
                if (!x->latency_ns) {
                        close(x->fd);
                        fprintf(stderr, "hvload: out of memory\n");
                        goto out;
                }
        }
        pthread_barrier_init(&start_line, NULL, clients + 1);
        for (unsigned i = 0; i < clients; i++)
                if (pthread_create(&w[i].thread, NULL, run_worker, &w[i]) != 0) {
                        fprintf(stderr, "hvload: cannot start thread %u\n", i);
                        abort();   /* the barrier would wait forever */
                }
        pthread_barrier_wait(&start_line);
        uint64_t t0 = now_ns();
        for (unsigned i = 0; i < clients; i++)
                pthread_join(w[i].thread, NULL);
        double seconds = (double)(now_ns() - t0) / 1e9;
        pthread_barrier_destroy(&start_line);

        size_t total = 0, k = 0;
        unsigned errors = 0;
        for (unsigned i = 0; i < clients; i++) {
                total += w[i].requests;
                errors += w[i].errors;
                if (w[i].failure)
                        fprintf(stderr, "hvload: client %u: %s after %u requests\n", i, strerror(-w[i].failure),
                                w[i].requests);
        }
        uint64_t *all = calloc(total ? total : 1, sizeof *all);
        if (!all)
                goto out;
        for (unsigned i = 0; i < clients; i++) {
                memcpy(all + k, w[i].latency_ns, w[i].requests * sizeof *all);
                k += w[i].requests;
        }
        qsort(all, total, sizeof *all, cmp_u64);
        #define PCT(p) (total ? (double)all[(size_t)((double)(total - 1) * (p))] / 1e3 : 0.0)
        printf("clients=%u requests=%zu seconds=%.3f rps=%.0f p50_us=%.1f p99_us=%.1f max_us=%.1f errors=%u\n",
               clients, total, seconds, seconds > 0 ? (double)total / seconds : 0.0, PCT(0.50), PCT(0.99),
               PCT(1.0), errors);
        free(all);
        ret = errors || total != (size_t)clients * requests ? 1 : 0;
out:
        for (unsigned i = 0; i < connected; i++) {
                close(w[i].fd);
                free(w[i].latency_ns);
                free(w[i].buf);
        }
        free(w);
        free(line);
        return ret;
}
