/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hugevmctl: the command-line client of hugevmd. A thin layer over the
 * protocol in proto.h: it parses arguments strictly, sends one or a few
 * requests, and renders the results as tables (or as JSON with --json).
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "proto.h"
#include "verify.h"
#include "vmemmap.h"

#define SOCKET_ENV "HUGEVM_SOCKET"
/* How long an ordinary request may take before we call the daemon hung. */
#define REPLY_TIMEOUT_MS 30000
/* Extra time the client grants the daemon beyond a wait's own timeout. */
#define WAIT_GRACE_MS 5000

enum exit_code {
        EXIT_OK = 0,
        EXIT_ERROR = 1,       /* the daemon answered with an error, or the kernel refused */
        EXIT_USAGE = 2,       /* bad arguments */
        EXIT_UNREACHABLE = 3, /* no daemon at the socket, or it went away */
        EXIT_SHORTFALL = 4,   /* pools short of their target, degraded, or a wait timed out */
};

struct opts {
        const char *socket;
        bool json;
        bool help;
        /* set / wait */
        const char *node;
        const char *timeout;
        bool runtime;
        bool wait;
        bool dry_run;
        /* positional arguments, command first */
        char **args;
        int nargs;
};

struct ctx {
        struct opts o;
        struct ctl_conn conn;
        bool connected;
        bool tty;              /* stderr is a terminal: draw a progress bar */
        bool bar_drawn;        /* a bar line is on screen and needs a newline */
};


static void usage(FILE *f)
{
        fputs("Usage: hugevmctl [OPTIONS] COMMAND [ARGS]\n"
              "\n"
              "Control hugevmd, which keeps the HugeTLB pools at their targets with the\n"
              "HugeTLB Vmemmap Optimization (HVO) on, and reports what HVO saves.\n"
              "\n"
              "Commands:\n"
              "  status                      pools per size and node, HVO and its savings\n"
              "  set SIZE PAGES|BYTES        set a pool's target: PAGES is a count (512),\n"
              "                              BYTES has a unit (4G); SIZE as 2M, 2MB, 2048kB, 1G\n"
              "      --node N                  target for NUMA node N only\n"
              "      --runtime                 do not persist the target across restarts\n"
              "      --wait                    wait until the pools converged, with progress\n"
              "      --timeout SEC             give up waiting after SEC seconds (exit 4)\n"
              "      --dry-run                 show what would change, change nothing\n"
              "  vmemmap on|off|status       turn HVO on or off, or show it\n"
              "  wait [--timeout SEC]        wait until every pool converged\n"
              "  watch                       print notifications as they come, one per line\n"
              "  reload                      reload the daemon's configuration\n"
              "  metrics                     print the Prometheus metrics text\n"
              "  version                     client and daemon versions\n"
              "  verify SIZE                 map and touch one hugepage of SIZE here, without\n"
              "                              the daemon, and check its page frame (as root)\n"
              "\n"
              "Options:\n"
              "  --json                      print results as JSON (watch: raw notifications)\n"
              "  --socket PATH               daemon socket (default $" SOCKET_ENV ", else\n"
              "                              " PROTO_DEFAULT_SOCKET ")\n"
              "  -h, --help                  show this help\n"
              "\n"
              "Exit status:\n"
              "  0  success\n"
              "  1  the daemon returned an error, or the kernel refused\n"
              "  2  usage error (bad arguments, also when the daemon rejects a parameter)\n"
              "  3  the daemon is unreachable, or went away mid-reply\n"
              "  4  a pool is short of its target or degraded, or a wait timed out\n", f);
}

/* ---- Arguments ------------------------------------------------------------ */

/* Options take their value as "--opt VALUE" or "--opt=VALUE". Anything not an
 * option is positional, including "-5000": it then fails as a count and is
 * reported as such, never mistaken for a flag. */
static int parse_args(int argc, char **argv, struct opts *o)
{
        static const struct {
                const char *name;
                size_t off;      /* offsetof the bool, or of the const char * for valued options */
                bool valued;
        } table[] = {
                { "json",     offsetof(struct opts, json),     false },
                { "help",     offsetof(struct opts, help),     false },
                { "runtime",  offsetof(struct opts, runtime),  false },
                { "wait",     offsetof(struct opts, wait),     false },
                { "dry-run",  offsetof(struct opts, dry_run),  false },
                { "socket",   offsetof(struct opts, socket),   true },
                { "node",     offsetof(struct opts, node),     true },
                { "timeout",  offsetof(struct opts, timeout),  true },
        };

        o->args = calloc((size_t)argc + 1, sizeof(char *));
        if (!o->args)
                return -ENOMEM;
        bool only_positional = false;
        for (int i = 1; i < argc; i++) {
                char *a = argv[i];
                if (only_positional || a[0] != '-' || a[1] == '\0' || (a[1] >= '0' && a[1] <= '9')) {
                        o->args[o->nargs++] = a;
                        continue;
                }
                if (strcmp(a, "--") == 0) {
                        only_positional = true;
                        continue;
                }
                if (strcmp(a, "-h") == 0) {
                        o->help = true;
                        continue;
                }
                if (a[1] != '-') {
                        ctl_errorf("unknown option '%s' (see --help)", a);
                        return -EINVAL;
                }
                const char *name = a + 2, *eq = strchr(name, '=');
                size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
                size_t k;
                for (k = 0; k < sizeof(table) / sizeof(table[0]); k++)
                        if (strlen(table[k].name) == nlen && strncmp(table[k].name, name, nlen) == 0)
                                break;
                if (k == sizeof(table) / sizeof(table[0])) {
                        ctl_errorf("unknown option '%s' (see --help)", a);
                        return -EINVAL;
                }
                char *field = (char *)o + table[k].off;
                if (!table[k].valued) {
                        if (eq) {
                                ctl_errorf("option '--%s' takes no value", table[k].name);
                                return -EINVAL;
                        }
                        *(bool *)field = true;
                        continue;
                }
                const char *value = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
                if (!value) {
                        ctl_errorf("option '--%s' needs a value", table[k].name);
                        return -EINVAL;
                }
                *(const char **)field = value;
        }
        return 0;
}

/* A page count (digits) or a byte size with a unit ("4G"). Exactly one of
 * *ret_pages / *ret_bytes is set, the other is UINT64_MAX. */
static int parse_amount(const char *text, uint64_t *ret_pages, uint64_t *ret_bytes)
{
        uint64_t v;
        int r = vmm_count_parse(text, &v);
        if (r == 0) {
                *ret_pages = v;
                *ret_bytes = UINT64_MAX;
                return 0;
        }
        if (r == -ERANGE) {
                ctl_errorf("page count '%s' is out of range", text);
                return r;
        }
        r = vmm_size_parse(text, &v);
        if (r == 0) {
                *ret_pages = UINT64_MAX;
                *ret_bytes = v;
                return 0;
        }
        if (r == -ERANGE)
                ctl_errorf("byte size '%s' is out of range", text);
        else if (text[0] == '-')
                ctl_errorf("invalid page count '%s' (a count cannot be negative)", text);
        else
                ctl_errorf("invalid page count '%s' (want pages like 512, or bytes with a unit like 4G)", text);
        return r;
}

static int parse_seconds(const char *text, int *ret_ms)
{
        uint64_t s;
        int r = vmm_count_parse(text, &s);
        if (r < 0 || s > INT32_MAX / 1000) {
                ctl_errorf("invalid timeout '%s' (want whole seconds, at most %d)", text, INT32_MAX / 1000);
                return r < 0 ? r : -ERANGE;
        }
        *ret_ms = (int)(s * 1000);
        return 0;
}

/* ---- Talking to the daemon ------------------------------------------------- */

static int connect_daemon(struct ctx *c)
{
        if (c->connected)
                return EXIT_OK;
        int r = ctl_connect(c->o.socket, &c->conn);
        if (r == -ENAMETOOLONG) {
                ctl_errorf("socket path '%s' is too long", c->o.socket);
                return EXIT_USAGE;
        }
        if (r < 0) {
                ctl_errorf("cannot connect to hugevmd at %s: %s", c->o.socket, strerror(-r));
                return EXIT_UNREACHABLE;
        }
        c->connected = true;
        return EXIT_OK;
}

static void print_json(json_object *o)
{
        puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                               JSON_C_TO_STRING_NOSLASHESCAPE));
}

static const char *human_bytes(uint64_t bytes, char *buf, size_t len)
{
        if (vmm_size_format_human(bytes, buf, len) < 0)
                snprintf(buf, len, "%" PRIu64 " B", bytes);
        return buf;
}

static void finish_bar(struct ctx *c)
{
        if (c->bar_drawn) {
                fputc('\n', stderr);
                c->bar_drawn = false;
        }
}

/* Report a daemon error: to stderr always, and the error object to stdout with
 * --json. Returns the exit code it maps to. */
static int report_error(struct ctx *c, const char *method, json_object *err)
{
        int code = (int)proto_get_int(err, PROTO_F_CODE, PROTO_ERR_INTERNAL);
        json_object *data = proto_get(err, PROTO_F_DATA);

        finish_bar(c);
        if (c->o.json)
                print_json(err);
        ctl_errorf("%s failed: %s [%s]", method, proto_get_str(err, PROTO_F_MESSAGE, "(no message)"), proto_error_name(code));
        if (proto_has_int(data, PROTO_F_ERRNO)) {
                int e = (int)proto_get_int(data, PROTO_F_ERRNO, 0);
                fprintf(stderr, "hugevmctl:   kernel: %s%s%s\n", strerror(e < 0 ? -e : e),
                        proto_get_str(data, PROTO_F_PATH, NULL) ? " at " : "", proto_get_str(data, PROTO_F_PATH, ""));
        }
        json_object *list = proto_get(data, PROTO_F_ERRORS);
        if (!list)
                list = proto_get(data, PROTO_F_POOLS);
        if (list && json_object_is_type(list, json_type_array)) {
                for (size_t i = 0; i < json_object_array_length(list); i++) {
                        json_object *e = json_object_array_get_idx(list, i);
                        if (json_object_is_type(e, json_type_string))
                                fprintf(stderr, "hugevmctl:   %s\n", json_object_get_string(e));
                        else if (proto_get(e, PROTO_F_STATE)) /* a POOL */
                                fprintf(stderr, "hugevmctl:   %s: %" PRId64 "%s%s pages, %s%s%s\n",
                                        proto_get_str(e, PROTO_F_SIZE, "?"), proto_get_int(e, PROTO_F_PAGES, 0),
                                        proto_has_int(e, PROTO_F_TARGET) ? " of " : "",
                                        proto_has_int(e, PROTO_F_TARGET) ? json_object_get_string(proto_get(e, PROTO_F_TARGET)) : "",
                                        proto_get_str(e, PROTO_F_STATE, "?"),
                                        *proto_get_str(e, PROTO_F_REASON, "") ? ": " : "", proto_get_str(e, PROTO_F_REASON, ""));
                        else
                                fprintf(stderr, "hugevmctl:   %s\n", json_object_to_json_string(e));
                        /* Per-node targets: the pool has none, its nodes do. */
                        json_object *nodes = proto_get(e, PROTO_F_NODES);
                        for (size_t k = 0; proto_get(e, PROTO_F_STATE) && nodes && json_object_is_type(nodes, json_type_array) &&
                                           k < json_object_array_length(nodes); k++) {
                                json_object *n = json_object_array_get_idx(nodes, k);
                                if (proto_has_int(n, PROTO_F_TARGET))
                                        fprintf(stderr, "hugevmctl:     node %" PRId64 ": %" PRId64 " of %" PRId64 " pages, %s\n",
                                                proto_get_int(n, PROTO_F_NODE, -1), proto_get_int(n, PROTO_F_PAGES, 0),
                                                proto_get_int(n, PROTO_F_TARGET, 0), proto_get_str(n, PROTO_F_STATE, "?"));
                        }
                }
        }
        switch (code) {
        case PROTO_ERR_SHORTFALL:
        case PROTO_ERR_TIMEOUT:
                return EXIT_SHORTFALL;
        case PROTO_ERR_INVALID_PARAMS:
                return EXIT_USAGE;
        default:
                return EXIT_ERROR;
        }
}

/* Report a failure to reach the daemon or to read its reply to method. */
static int transport_error(struct ctx *c, const char *method, int r, int timeout_ms)
{
        finish_bar(c);
        switch (r) {
        case -ETIMEDOUT:
                ctl_errorf("hugevmd at %s did not answer %s within %d s", c->o.socket, method, timeout_ms / 1000);
                return EXIT_UNREACHABLE;
        case -ECONNRESET:
        case -EPIPE:
                ctl_errorf("hugevmd at %s closed the connection before answering %s", c->o.socket, method);
                return EXIT_UNREACHABLE;
        case -EBADMSG:
                ctl_errorf("hugevmd at %s sent a reply to %s that is not a JSON object", c->o.socket, method);
                return EXIT_ERROR;
        case -EMSGSIZE:
                ctl_errorf("hugevmd at %s sent a reply to %s longer than %u bytes", c->o.socket, method,
                       (unsigned)CTL_MAX_REPLY_LINE);
                return EXIT_ERROR;
        default:
                ctl_errorf("%s via %s: %s", method, c->o.socket, strerror(-r));
                return EXIT_UNREACHABLE;
        }
}

/* Queue one request (params owned); it goes out with the next await_result. */
static int send_request(struct ctx *c, const char *method, json_object *params, int64_t *ret_id)
{
        int ex = connect_daemon(c);
        if (ex != EXIT_OK) {
                json_object_put(params);
                return ex;
        }
        int r = ctl_send(&c->conn, method, params, ret_id);
        return r < 0 ? transport_error(c, method, r, 0) : EXIT_OK;
}

/* The reply to request id. On EXIT_OK, *ret_result is a new reference to the
 * result; an error reply is reported and mapped to its exit code. */
static int await_result(struct ctx *c, const char *method, int64_t id, int timeout_ms,
                        ctl_notify_fn notify, json_object **ret_result)
{
        json_object *reply;
        int r = ctl_await(&c->conn, id, timeout_ms, notify, c, &reply);
        if (r < 0)
                return transport_error(c, method, r, timeout_ms);
        json_object *err = proto_get(reply, PROTO_F_ERROR), *result = proto_get(reply, PROTO_F_RESULT);
        int ex = EXIT_OK;
        if (err)
                ex = report_error(c, method, err);
        else if (!result) {
                ctl_errorf("hugevmd's reply to %s has neither %s nor %s", method, PROTO_F_RESULT, PROTO_F_ERROR);
                ex = EXIT_ERROR;
        } else
                *ret_result = json_object_get(result);
        json_object_put(reply);
        return ex;
}

/* One request and its result, as await_result. */
static int call(struct ctx *c, const char *method, json_object *params, int timeout_ms,
                ctl_notify_fn notify, json_object **ret_result)
{
        int64_t id;
        int ex = send_request(c, method, params, &id);
        if (ex != EXIT_OK)
                return ex;
        return await_result(c, method, id, timeout_ms, notify, ret_result);
}

/* ---- Rendering -------------------------------------------------------------- */

static const char *fmt_count(json_object *o, const char *key, char *buf, size_t len)
{
        if (proto_has_int(o, key))
                snprintf(buf, len, "%" PRId64, proto_get_int(o, key, 0));
        else
                snprintf(buf, len, "-");
        return buf;
}

static void print_state(json_object *o)
{
        const char *reason = proto_get_str(o, PROTO_F_REASON, "");
        printf("%s%s%s\n", proto_get_str(o, PROTO_F_STATE, "?"), *reason ? ": " : "", reason);
}

/* "14.0 MiB", "14.0 MiB (estimated)" when the model's, "-" when not known. */
static void fmt_saved(json_object *o, char *buf, size_t len)
{
        char h[32];
        if (!proto_has_int(o, PROTO_F_SAVED_BYTES)) {
                snprintf(buf, len, "-");
                return;
        }
        snprintf(buf, len, "%s%s", human_bytes((uint64_t)proto_get_int(o, PROTO_F_SAVED_BYTES, 0), h, sizeof(h)),
                 proto_get_bool(o, PROTO_F_SAVED_EXACT, true) ? "" : " (estimated)");
}

static void print_pools_table(json_object *pools)
{
        printf("%-10s %-4s %8s %8s %8s %8s %8s %9s %-22s %s\n",
               "SIZE", "NODE", "PAGES", "FREE", "RESV", "SURPLUS", "TARGET", "OPTIMIZED", "SAVED", "STATE");
        for (size_t i = 0; i < json_object_array_length(pools); i++) {
                json_object *p = json_object_array_get_idx(pools, i);
                char a[32], b[32], d[32], e[32], f[32], g[32], h[32], saved[48];
                fmt_saved(p, saved, sizeof(saved));
                printf("%-10s %-4s %8s %8s %8s %8s %8s %9s %-22s ",
                       proto_get_str(p, PROTO_F_SIZE, "?"), "all",
                       fmt_count(p, PROTO_F_PAGES, a, sizeof(a)), fmt_count(p, PROTO_F_FREE, b, sizeof(b)),
                       fmt_count(p, PROTO_F_RESERVED, d, sizeof(d)), fmt_count(p, PROTO_F_SURPLUS, e, sizeof(e)),
                       fmt_count(p, PROTO_F_TARGET, f, sizeof(f)), fmt_count(p, PROTO_F_OPTIMIZED_PAGES, g, sizeof(g)),
                       saved);
                print_state(p);
                json_object *nodes = proto_get(p, PROTO_F_NODES);
                for (size_t k = 0; nodes && json_object_is_type(nodes, json_type_array) &&
                                   k < json_object_array_length(nodes); k++) {
                        json_object *n = json_object_array_get_idx(nodes, k);
                        fmt_saved(n, saved, sizeof(saved));
                        printf("%-10s %-4s %8s %8s %8s %8s %8s %9s %-22s ", "",
                               fmt_count(n, PROTO_F_NODE, h, sizeof(h)),
                               fmt_count(n, PROTO_F_PAGES, a, sizeof(a)), fmt_count(n, PROTO_F_FREE, b, sizeof(b)),
                               "-", fmt_count(n, PROTO_F_SURPLUS, e, sizeof(e)),
                               fmt_count(n, PROTO_F_TARGET, f, sizeof(f)), fmt_count(n, PROTO_F_OPTIMIZED_PAGES, g, sizeof(g)),
                               saved);
                        print_state(n);
                }
        }
}

static void print_hvo(json_object *hvo)
{
        if (!proto_get_bool(hvo, PROTO_F_SUPPORTED, false)) {
                printf("HVO: not supported by this kernel (%s)\n", proto_get_str(hvo, PROTO_F_KERNEL, "?"));
                return;
        }
        const char *boot = proto_get_str(hvo, PROTO_F_BOOT_PARAM, NULL);
        printf("HVO: %s (boot parameter %s%s), kernel %s, %" PRId64 " vmemmap page%s kept per hugepage\n",
               proto_get_bool(hvo, PROTO_F_ENABLED, false) ? "on" : "off",
               boot ? "hugetlb_free_vmemmap=" : "not set", boot ? boot : "",
               proto_get_str(hvo, PROTO_F_KERNEL, "?"), proto_get_int(hvo, PROTO_F_RESERVE_PAGES, 0),
               proto_get_int(hvo, PROTO_F_RESERVE_PAGES, 0) == 1 ? "" : "s");
        json_object *sizes = proto_get(hvo, PROTO_F_SIZES);
        for (size_t i = 0; sizes && json_object_is_type(sizes, json_type_array) && i < json_object_array_length(sizes); i++) {
                json_object *s = json_object_array_get_idx(sizes, i);
                char b[32];
                if (proto_get_bool(s, PROTO_F_ELIGIBLE, false))
                        printf("  %-10s %" PRId64 " vmemmap pages per hugepage, saves %s each\n",
                               proto_get_str(s, PROTO_F_SIZE, "?"), proto_get_int(s, PROTO_F_VMEMMAP_PAGES, 0),
                               human_bytes((uint64_t)proto_get_int(s, PROTO_F_SAVED_PER_PAGE, 0), b, sizeof(b)));
                else
                        printf("  %-10s not eligible\n", proto_get_str(s, PROTO_F_SIZE, "?"));
        }
}

static void print_measured(json_object *m)
{
        if (!proto_get_bool(m, PROTO_F_AVAILABLE, false)) {
                printf("Measured saving: not available (no nr_memmap counters in /proc/vmstat before Linux 6.11)\n");
                return;
        }
        char a[32], b[32];
        printf("Measured saving: %s (kernel memmap counters: %" PRId64 " of %" PRId64 " vmemmap pages freed); model %s: %s\n",
               human_bytes((uint64_t)proto_get_int(m, PROTO_F_SAVED_BYTES, 0), a, sizeof(a)),
               proto_get_int(m, PROTO_F_SAVED_PAGES, 0), proto_get_int(m, PROTO_F_BASELINE_PAGES, 0),
               human_bytes((uint64_t)proto_get_int(m, PROTO_F_MODEL_SAVED, 0), b, sizeof(b)),
               proto_get_bool(m, PROTO_F_AGREES, false) ? "agree" : "DISAGREE");
}

static void print_mounts(json_object *pools)
{
        bool header = false;
        for (size_t i = 0; pools && json_object_is_type(pools, json_type_array) && i < json_object_array_length(pools); i++) {
                json_object *p = json_object_array_get_idx(pools, i), *mounts = proto_get(p, PROTO_F_MOUNTS);
                for (size_t k = 0; mounts && json_object_is_type(mounts, json_type_array) &&
                                   k < json_object_array_length(mounts); k++) {
                        json_object *m = json_object_array_get_idx(mounts, k);
                        const char *error = proto_get_str(m, PROTO_F_REASON, "");
                        if (!header)
                                printf("hugetlbfs mounts:\n");
                        header = true;
                        printf("  %-10s %s  %s%s\n", proto_get_str(p, PROTO_F_SIZE, "?"), proto_get_str(m, PROTO_F_PATH, "?"),
                               *error ? error : proto_get_str(m, PROTO_F_OPTIONS, ""),
                               proto_get_bool(m, PROTO_F_CONFIGURED, false) ? " (configured)" : "");
                }
        }
        if (!header)
                printf("hugetlbfs mounts: none\n");
}

static void print_shm(json_object *shm)
{
        const char *error = proto_get_str(shm, PROTO_F_REASON, "");
        if (!proto_has_int(shm, PROTO_F_GROUP))
                printf("SysV shm: settings not readable\n");
        else
                printf("SysV shm: vm.hugetlb_shm_group %" PRId64 ", kernel.shmmax %" PRIu64 " bytes, kernel.shmall %" PRIu64
                       " pages\n", proto_get_int(shm, PROTO_F_GROUP, 0), (uint64_t)json_object_get_uint64(proto_get(shm, PROTO_F_SHMMAX)),
                       (uint64_t)json_object_get_uint64(proto_get(shm, PROTO_F_SHMALL)));
        if (*error)
                printf("SysV shm: %s\n", error);
}

static void print_status(json_object *st)
{
        json_object *pools = proto_get(st, PROTO_F_POOLS);
        if (pools && json_object_is_type(pools, json_type_array) && json_object_array_length(pools) > 0)
                print_pools_table(pools);
        else
                printf("No hugepage sizes on this machine.\n");
        print_hvo(proto_get(st, PROTO_F_HVO));
        print_measured(proto_get(st, PROTO_F_MEASURED));
        print_mounts(pools);
        print_shm(proto_get(st, PROTO_F_SHM));
        printf("%s\n", proto_get_bool(st, PROTO_F_CONVERGED, false) ? "All pools converged." : "Not all pools converged.");
}

/* Exit code for a POOL: 4 if it is degraded or short of its target. */
static int pool_exit_code(json_object *p)
{
        if (strcmp(proto_get_str(p, PROTO_F_STATE, ""), PROTO_STATE_DEGRADED) == 0 ||
            (proto_has_int(p, PROTO_F_TARGET) && proto_get_int(p, PROTO_F_PAGES, 0) < proto_get_int(p, PROTO_F_TARGET, 0)))
                return EXIT_SHORTFALL;
        return EXIT_OK;
}

/* Exit code for a STATUS's pools: 4 if any pool is degraded or short. */
static int pools_exit_code(json_object *pools)
{
        int ex = EXIT_OK;
        for (size_t i = 0; pools && json_object_is_type(pools, json_type_array) && i < json_object_array_length(pools); i++)
                if (pool_exit_code(json_object_array_get_idx(pools, i)) != EXIT_OK)
                        ex = EXIT_SHORTFALL;
        return ex;
}

static void print_notification(struct ctx *c, json_object *msg)
{
        const char *method = proto_get_str(msg, PROTO_F_METHOD, NULL);
        json_object *p = proto_get(msg, PROTO_F_PARAMS);
        if (!method)
                return; /* a stray reply: not ours to show */
        if (c->o.json) {
                puts(json_object_to_json_string_ext(msg, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
                fflush(stdout);
                return;
        }
        char ts[16] = "";
        time_t now = time(NULL);
        struct tm tm;
        if (localtime_r(&now, &tm))
                strftime(ts, sizeof(ts), "%H:%M:%S", &tm);
        char node[32] = "";
        if (proto_has_int(p, PROTO_F_NODE))
                snprintf(node, sizeof(node), " node %" PRId64, proto_get_int(p, PROTO_F_NODE, 0));

        if (strcmp(method, PROTO_N_PROGRESS) == 0)
                printf("%s %s %s%s: %" PRId64 "/%" PRId64 " pages (from %" PRId64 ")\n", ts, method,
                       proto_get_str(p, PROTO_F_SIZE, "?"), node, proto_get_int(p, PROTO_F_CURRENT, 0),
                       proto_get_int(p, PROTO_F_TARGET, 0), proto_get_int(p, PROTO_F_FROM, 0));
        else if (strcmp(method, PROTO_N_POOL_CHANGED) == 0) {
                const char *reason = proto_get_str(p, PROTO_F_REASON, "");
                printf("%s %s %s%s: %s%s%s%s\n", ts, method, proto_get_str(p, PROTO_F_SIZE, "?"), node,
                       proto_get_str(p, PROTO_F_STATE, "?"), *reason ? ": " : "", reason,
                       proto_get_bool(p, PROTO_F_EXTERNAL, false) ? " (changed outside hugevmd)" : "");
        } else if (strcmp(method, PROTO_N_VMEMMAP) == 0)
                printf("%s %s: HVO %s\n", ts, method, proto_get_bool(p, PROTO_F_ENABLED, false) ? "on" : "off");
        else
                printf("%s %s %s\n", ts, method, p ? json_object_to_json_string(p) : "");
        fflush(stdout);
}

/* Progress of a resize while we wait: a bar on a terminal, plain lines otherwise. */
static void on_progress(json_object *msg, void *userdata)
{
        struct ctx *c = userdata;
        const char *method = proto_get_str(msg, PROTO_F_METHOD, "");
        json_object *p = proto_get(msg, PROTO_F_PARAMS);

        if (strcmp(method, PROTO_N_PROGRESS) != 0) {
                if (strcmp(method, PROTO_N_POOL_CHANGED) == 0 &&
                    strcmp(proto_get_str(p, PROTO_F_STATE, ""), PROTO_STATE_DEGRADED) == 0) {
                        finish_bar(c);
                        ctl_errorf("%s: degraded: %s", proto_get_str(p, PROTO_F_SIZE, "?"), proto_get_str(p, PROTO_F_REASON, ""));
                }
                return;
        }
        int64_t from = proto_get_int(p, PROTO_F_FROM, 0), cur = proto_get_int(p, PROTO_F_CURRENT, 0),
                target = proto_get_int(p, PROTO_F_TARGET, 0);
        char node[32] = "";
        if (proto_has_int(p, PROTO_F_NODE))
                snprintf(node, sizeof(node), " node %" PRId64, proto_get_int(p, PROTO_F_NODE, 0));
        if (!c->tty) {
                fprintf(stderr, "%s%s: %" PRId64 "/%" PRId64 " pages\n", proto_get_str(p, PROTO_F_SIZE, "?"), node, cur, target);
                return;
        }
        int64_t span = llabs(target - from), done = llabs(cur - from);
        int pct = span > 0 ? (int)(done * 100 / span) : 100;
        if (pct > 100)
                pct = 100;
        enum { WIDTH = 30 };
        char bar[WIDTH + 1];
        for (int i = 0; i < WIDTH; i++)
                bar[i] = i < pct * WIDTH / 100 ? '#' : '-';
        bar[WIDTH] = '\0';
        fprintf(stderr, "\r\033[K%s%s [%s] %3d%% %" PRId64 "/%" PRId64 " pages",
                proto_get_str(p, PROTO_F_SIZE, "?"), node, bar, pct, cur, target);
        c->bar_drawn = true;
}

/* ---- Commands --------------------------------------------------------------- */

static int cmd_status(struct ctx *c)
{
        json_object *st = NULL;
        int ex = call(c, PROTO_M_STATUS, NULL, REPLY_TIMEOUT_MS, NULL, &st);
        if (ex != EXIT_OK)
                return ex;
        if (c->o.json)
                print_json(st);
        else
                print_status(st);
        json_object_put(st);
        return EXIT_OK;
}

static int wait_converged(struct ctx *c, int timeout_ms, json_object **ret_status)
{
        json_object *params = json_object_new_object();
        if (timeout_ms >= 0)
                json_object_object_add(params, PROTO_F_TIMEOUT_MS, json_object_new_int64(timeout_ms));
        int ex = call(c, PROTO_M_WAIT, params, timeout_ms < 0 ? -1 : timeout_ms + WAIT_GRACE_MS, on_progress, ret_status);
        finish_bar(c);
        return ex;
}

static void print_pool_line(json_object *pool)
{
        char a[32], b[32];
        json_object *nodes = proto_get(pool, PROTO_F_NODES);
        bool node_targets = false;
        /* Per-node targets: the pool's own target is null, so show the nodes'. */
        for (size_t k = 0; !proto_has_int(pool, PROTO_F_TARGET) && nodes && json_object_is_type(nodes, json_type_array) &&
                           k < json_object_array_length(nodes); k++) {
                json_object *n = json_object_array_get_idx(nodes, k);
                if (!proto_has_int(n, PROTO_F_TARGET))
                        continue;
                printf("%s%snode %s: %s of %s pages", node_targets ? "" : proto_get_str(pool, PROTO_F_SIZE, "?"),
                       node_targets ? ", " : ": ",
                       json_object_get_string(proto_get(n, PROTO_F_NODE)),
                       fmt_count(n, PROTO_F_PAGES, a, sizeof(a)), fmt_count(n, PROTO_F_TARGET, b, sizeof(b)));
                node_targets = true;
        }
        if (node_targets)
                printf(", ");
        else
                printf("%s: %s of target %s pages, ", proto_get_str(pool, PROTO_F_SIZE, "?"),
                       fmt_count(pool, PROTO_F_PAGES, a, sizeof(a)), fmt_count(pool, PROTO_F_TARGET, b, sizeof(b)));
        print_state(pool);
}

/* What 'set' was asked to do, checked. */
struct set_args {
        const char *size;        /* as given: the daemon parses it the same way */
        uint64_t pages, bytes;   /* exactly one is not UINT64_MAX */
        int node;                /* -1: the whole pool */
        int timeout_ms;          /* -1: wait without a limit */
};

static int set_parse(struct ctx *c, struct set_args *a)
{
        uint64_t size_bytes, node = 0;
        *a = (struct set_args){ .pages = UINT64_MAX, .bytes = UINT64_MAX, .node = -1, .timeout_ms = -1 };
        if (c->o.nargs != 3) {
                ctl_errorf("set needs SIZE and PAGES|BYTES, e.g. 'hugevmctl set 2M 512' (see --help)");
                return EXIT_USAGE;
        }
        a->size = c->o.args[1];
        if (vmm_size_parse(a->size, &size_bytes) < 0) {
                ctl_errorf("invalid page size '%s' (want a size like 2M, 2MB, 2048kB or 1G)", a->size);
                return EXIT_USAGE;
        }
        if (parse_amount(c->o.args[2], &a->pages, &a->bytes) < 0)
                return EXIT_USAGE;
        if (c->o.node && vmm_count_parse(c->o.node, &node) < 0) {
                ctl_errorf("invalid node '%s' (want a node number like 0)", c->o.node);
                return EXIT_USAGE;
        }
        if (c->o.node && node > INT32_MAX) {
                ctl_errorf("invalid node '%s' (too large)", c->o.node);
                return EXIT_USAGE;
        }
        if (c->o.node)
                a->node = (int)node;
        if (c->o.timeout && !c->o.wait) {
                ctl_errorf("--timeout needs --wait with set");
                return EXIT_USAGE;
        }
        if (c->o.timeout && parse_seconds(c->o.timeout, &a->timeout_ms) < 0)
                return EXIT_USAGE;
        if (c->o.dry_run && c->o.wait) {
                ctl_errorf("--dry-run and --wait do not go together: a dry run changes nothing to wait for");
                return EXIT_USAGE;
        }
        return EXIT_OK;
}

static json_object *set_params(const struct ctx *c, const struct set_args *a)
{
        json_object *params = json_object_new_object();
        json_object_object_add(params, PROTO_F_SIZE, json_object_new_string(a->size));
        if (a->pages != UINT64_MAX)
                json_object_object_add(params, PROTO_F_PAGES, json_object_new_uint64(a->pages));
        else
                json_object_object_add(params, PROTO_F_BYTES, json_object_new_uint64(a->bytes));
        if (a->node >= 0)
                json_object_object_add(params, PROTO_F_NODE, json_object_new_int(a->node));
        if (c->o.runtime)
                json_object_object_add(params, PROTO_F_PERSIST, json_object_new_boolean(false));
        if (c->o.dry_run)
                json_object_object_add(params, PROTO_F_DRY_RUN, json_object_new_boolean(true));
        return params;
}

/* A wait for this pool only (or its node): other pools do not fail it. */
static json_object *set_wait_params(const struct set_args *a)
{
        json_object *params = json_object_new_object();
        json_object_object_add(params, PROTO_F_SIZE, json_object_new_string(a->size));
        if (a->node >= 0)
                json_object_object_add(params, PROTO_F_NODE, json_object_new_int(a->node));
        if (a->timeout_ms >= 0)
                json_object_object_add(params, PROTO_F_TIMEOUT_MS, json_object_new_int64(a->timeout_ms));
        return params;
}

/* A dry run shows the change, so it needs the pool as it is now. */
static int set_dry_run(struct ctx *c, const struct set_args *a)
{
        json_object *gp = json_object_new_object(), *before, *pool;
        json_object_object_add(gp, PROTO_F_SIZE, json_object_new_string(a->size));
        int ex = call(c, PROTO_M_POOL_GET, gp, REPLY_TIMEOUT_MS, NULL, &before);
        if (ex != EXIT_OK)
                return ex;
        ex = call(c, PROTO_M_POOL_SET, set_params(c, a), REPLY_TIMEOUT_MS, on_progress, &pool);
        if (ex != EXIT_OK) {
                json_object_put(before);
                return ex;
        }
        char was[32], will[32], now[32];
        if (c->o.json)
                print_json(pool);
        else
                printf("dry run: %s%s%s target would change from %s to %s pages (the pool has %s); nothing changed\n",
                       proto_get_str(pool, PROTO_F_SIZE, a->size), c->o.node ? " node " : "", c->o.node ? c->o.node : "",
                       fmt_count(before, PROTO_F_TARGET, was, sizeof(was)),
                       fmt_count(pool, PROTO_F_TARGET, will, sizeof(will)),
                       fmt_count(before, PROTO_F_PAGES, now, sizeof(now)));
        json_object_put(before);
        json_object_put(pool);
        return EXIT_OK;
}

static int set_target(struct ctx *c, const struct set_args *a)
{
        json_object *pool;
        int ex = call(c, PROTO_M_POOL_SET, set_params(c, a), REPLY_TIMEOUT_MS, on_progress, &pool);
        if (ex != EXIT_OK)
                return ex;
        if (c->o.json)
                print_json(pool);
        else {
                printf("%s target set%s: ", proto_get_str(pool, PROTO_F_SIZE, a->size), c->o.runtime ? " (runtime only)" : "");
                print_pool_line(pool);
        }
        json_object_put(pool);
        return EXIT_OK;
}

/* pool.set and a wait for that pool: one connection, two requests, and no
 * subscribe: the daemon sends a waiting connection its pool's progress. Both
 * go out in one write, so the wait is parked before the resize can end and
 * sees its progress, even an instant one. */
static int set_and_wait(struct ctx *c, const struct set_args *a)
{
        int64_t set_id, wait_id;
        int ex = send_request(c, PROTO_M_POOL_SET, set_params(c, a), &set_id);
        if (ex == EXIT_OK)
                ex = send_request(c, PROTO_M_WAIT, set_wait_params(a), &wait_id);
        if (ex != EXIT_OK)
                return ex;
        /* If pool.set fails, that is the answer; the wait ends with the connection. */
        json_object *pool;
        ex = await_result(c, PROTO_M_POOL_SET, set_id, REPLY_TIMEOUT_MS, on_progress, &pool);
        if (ex != EXIT_OK)
                return ex;
        json_object_put(pool);
        ex = await_result(c, PROTO_M_WAIT, wait_id, a->timeout_ms < 0 ? -1 : a->timeout_ms + WAIT_GRACE_MS,
                          on_progress, &pool);
        finish_bar(c);
        if (ex != EXIT_OK)
                return ex;
        if (c->o.json)
                print_json(pool);
        else
                print_pool_line(pool);
        ex = pool_exit_code(pool);
        json_object_put(pool);
        return ex;
}

static int cmd_set(struct ctx *c)
{
        struct set_args a;
        int ex = set_parse(c, &a);
        if (ex != EXIT_OK)
                return ex;
        if (c->o.dry_run)
                return set_dry_run(c, &a);
        if (c->o.wait)
                return set_and_wait(c, &a);
        return set_target(c, &a);
}

static int cmd_vmemmap(struct ctx *c)
{
        const char *what = c->o.nargs >= 2 ? c->o.args[1] : "status";
        if (c->o.nargs > 2) {
                ctl_errorf("unexpected argument '%s' after 'vmemmap %s'", c->o.args[2], what);
                return EXIT_USAGE;
        }
        json_object *v;
        int ex;
        if (strcmp(what, "status") == 0)
                ex = call(c, PROTO_M_VMEMMAP_GET, NULL, REPLY_TIMEOUT_MS, NULL, &v);
        else if (strcmp(what, "on") == 0 || strcmp(what, "off") == 0) {
                json_object *params = json_object_new_object();
                json_object_object_add(params, PROTO_F_ENABLED, json_object_new_boolean(what[1] == 'n'));
                ex = call(c, PROTO_M_VMEMMAP_SET, params, REPLY_TIMEOUT_MS, NULL, &v);
        } else {
                ctl_errorf("invalid vmemmap action '%s' (want on, off or status)", what);
                return EXIT_USAGE;
        }
        if (ex != EXIT_OK)
                return ex;
        if (c->o.json)
                print_json(v);
        else
                print_hvo(v);
        json_object_put(v);
        return EXIT_OK;
}

static int cmd_wait(struct ctx *c)
{
        int timeout_ms = -1;
        if (c->o.timeout && parse_seconds(c->o.timeout, &timeout_ms) < 0)
                return EXIT_USAGE;
        json_object *sub;
        int ex = call(c, PROTO_M_SUBSCRIBE, NULL, REPLY_TIMEOUT_MS, NULL, &sub);
        if (ex != EXIT_OK)
                return ex;
        json_object_put(sub);
        json_object *st = NULL;
        ex = wait_converged(c, timeout_ms, &st);
        if (ex != EXIT_OK)
                return ex;
        if (c->o.json)
                print_json(st);
        else
                printf("All pools converged.\n");
        ex = pools_exit_code(proto_get(st, PROTO_F_POOLS));
        json_object_put(st);
        return ex;
}

static void print_watch_message(json_object *msg, void *userdata)
{
        print_notification(userdata, msg);
}

static int cmd_watch(struct ctx *c)
{
        json_object *sub;
        int ex = call(c, PROTO_M_SUBSCRIBE, NULL, REPLY_TIMEOUT_MS, print_watch_message, &sub);
        if (ex != EXIT_OK)
                return ex;
        json_object_put(sub);
        for (;;) {
                json_object *msg;
                int r = ctl_read_message(&c->conn, -1, &msg);
                if (r == -ECONNRESET) {
                        ctl_errorf("hugevmd at %s closed the connection", c->o.socket);
                        return EXIT_UNREACHABLE;
                }
                if (r == -EBADMSG) {
                        ctl_errorf("hugevmd sent a line that is not a JSON object; ignored");
                        continue;
                }
                if (r < 0) {
                        ctl_errorf("reading from %s: %s", c->o.socket, strerror(-r));
                        return EXIT_UNREACHABLE;
                }
                json_object *err = proto_get(msg, PROTO_F_ERROR);
                if (err) { /* e.g. a limit the daemon enforced on us */
                        ex = report_error(c, PROTO_M_SUBSCRIBE, err);
                        json_object_put(msg);
                        return ex;
                }
                print_notification(c, msg);
                json_object_put(msg);
        }
}

static int cmd_reload(struct ctx *c)
{
        json_object *res;
        int ex = call(c, PROTO_M_RELOAD, NULL, REPLY_TIMEOUT_MS, NULL, &res);
        if (ex != EXIT_OK)
                return ex;
        if (c->o.json)
                print_json(res);
        else
                printf("Configuration reloaded.\n");
        json_object_put(res);
        return EXIT_OK;
}

static int cmd_metrics(struct ctx *c)
{
        json_object *res;
        int ex = call(c, PROTO_M_METRICS, NULL, REPLY_TIMEOUT_MS, NULL, &res);
        if (ex != EXIT_OK)
                return ex;
        if (c->o.json)
                print_json(res);
        else
                fputs(proto_get_str(res, PROTO_F_TEXT, ""), stdout);
        json_object_put(res);
        return EXIT_OK;
}

static int cmd_version(struct ctx *c)
{
        json_object *res = NULL;
        int ex = call(c, PROTO_M_VERSION, NULL, REPLY_TIMEOUT_MS, NULL, &res);
        if (c->o.json) {
                json_object *o = json_object_new_object();
                json_object_object_add(o, "client", json_object_new_string(PACKAGE_VERSION));
                json_object_object_add(o, "daemon", res ? json_object_get(res) : NULL);
                print_json(o);
                json_object_put(o);
        } else {
                printf("hugevmctl %s (protocol %d)\n", PACKAGE_VERSION, PROTO_VERSION);
                if (res)
                        printf("hugevmd %s (protocol %" PRId64 ")\n", proto_get_str(res, PROTO_F_VERSION, "?"),
                               proto_get_int(res, PROTO_F_PROTOCOL, 0));
        }
        json_object_put(res);
        return ex;
}

static int cmd_verify(struct ctx *c)
{
        if (c->o.nargs != 2) {
                ctl_errorf("verify needs SIZE, e.g. 'hugevmctl verify 2M' (see --help)");
                return EXIT_USAGE;
        }
        return verify_run(c->o.args[1], c->o.json);
}

static const struct {
        const char *name;
        int (*run)(struct ctx *c);
        int max_args;       /* positional arguments after the command name */
        bool set_options;   /* accepts --node/--runtime/--wait/--dry-run */
        bool timeout;       /* accepts --timeout */
} commands[] = {
        { "status",  cmd_status,  0, false, false },
        { "set",     cmd_set,     2, true,  true },
        { "vmemmap", cmd_vmemmap, 1, false, false },
        { "wait",    cmd_wait,    0, false, true },
        { "watch",   cmd_watch,   0, false, false },
        { "reload",  cmd_reload,  0, false, false },
        { "metrics", cmd_metrics, 0, false, false },
        { "version", cmd_version, 0, false, false },
        { "verify",  cmd_verify,  1, false, false },
};

int main(int argc, char **argv)
{
        struct ctx c = { .conn.fd = -1 };
        int ex;

        if (parse_args(argc, argv, &c.o) < 0) {
                ex = EXIT_USAGE;
                goto out;
        }
        if (c.o.help) {
                usage(stdout);
                ex = EXIT_OK;
                goto out;
        }
        if (c.o.nargs == 0) {
                usage(stderr);
                ex = EXIT_USAGE;
                goto out;
        }
        if (!c.o.socket)
                c.o.socket = getenv(SOCKET_ENV);
        if (!c.o.socket || !*c.o.socket)
                c.o.socket = PROTO_DEFAULT_SOCKET;
        c.tty = isatty(STDERR_FILENO);

        size_t k;
        for (k = 0; k < sizeof(commands) / sizeof(commands[0]); k++)
                if (strcmp(commands[k].name, c.o.args[0]) == 0)
                        break;
        if (k == sizeof(commands) / sizeof(commands[0])) {
                ctl_errorf("unknown command '%s' (see --help)", c.o.args[0]);
                ex = EXIT_USAGE;
                goto out;
        }
        if (c.o.nargs - 1 > commands[k].max_args) {
                ctl_errorf("unexpected argument '%s' for '%s'", c.o.args[commands[k].max_args + 1], commands[k].name);
                ex = EXIT_USAGE;
                goto out;
        }
        if (!commands[k].set_options && (c.o.node || c.o.runtime || c.o.wait || c.o.dry_run)) {
                ctl_errorf("--node, --runtime, --wait and --dry-run only go with 'set'");
                ex = EXIT_USAGE;
                goto out;
        }
        if (!commands[k].timeout && c.o.timeout) {
                ctl_errorf("--timeout only goes with 'set --wait' and 'wait'");
                ex = EXIT_USAGE;
                goto out;
        }
        ex = commands[k].run(&c);
out:
        if (c.connected)
                ctl_close(&c.conn);
        free(c.o.args);
        if (fflush(stdout) != 0 && ex == EXIT_OK) {
                ctl_errorf("writing output: %s", strerror(errno));
                ex = EXIT_ERROR;
        }
        return ex;
}
