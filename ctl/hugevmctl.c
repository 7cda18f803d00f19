/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hugevmctl: the command-line client of hugevmd. A thin layer over the
 * protocol in proto.h: it parses arguments strictly, sends one or a few
 * requests, and renders the results as tables (or as JSON with --json).
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <libsmartcols.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "bootplan.h"
#include "client.h"
#include "kernel.h"
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
        EXIT_USAGE = 2,       /* bad arguments, also a size or node this machine lacks */
        EXIT_UNREACHABLE = 3, /* no daemon at the socket, or it went away */
        EXIT_SHORTFALL = 4,   /* pools short of their target, degraded, or a wait timed out */
};

struct opts {
        const char *socket;
        const char *root;      /* where the kernel's files are, when hugevmctl reads them itself */
        bool json;
        bool help;
        bool version;
        /* set / wait */
        const char *node;
        const char *timeout;
        bool runtime;
        bool wait;
        bool dry_run;
        bool fail_fast;        /* a degraded pool ends a wait at once (today's daemons retry on) */
        bool apply;            /* boot-plan: write the plan for the boot loader */
        /* status */
        const char *output;
        bool wide;
        bool raw;
        bool noheadings;
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
        char doing[192];       /* what the operator asked, for errors: "cannot <doing>: <why>" */
};

/* ---- Arguments ------------------------------------------------------------ */

/* A dash then a digit ("-10") is a number, never options: set's relative
 * amount, or a bad count reported as such. */
static bool is_number(const char *a)
{
        return a[0] == '-' && a[1] >= '0' && a[1] <= '9';
}

static int parse_args(int argc, char **argv, struct opts *o)
{
        enum { OPT_RUNTIME = 256, OPT_DRY_RUN, OPT_WIDE, OPT_NOHEADINGS, OPT_ROOT, OPT_FAIL_FAST, OPT_APPLY };
        static const struct option longopts[] = {
                { "socket",     required_argument, NULL, 's' },
                { "json",       no_argument,       NULL, 'j' },
                { "node",       required_argument, NULL, 'n' },
                { "wait",       no_argument,       NULL, 'w' },
                { "timeout",    required_argument, NULL, 't' },
                { "output",     required_argument, NULL, 'o' },
                { "raw",        no_argument,       NULL, 'r' },
                { "help",       no_argument,       NULL, 'h' },
                { "version",    no_argument,       NULL, 'V' },
                { "runtime",    no_argument,       NULL, OPT_RUNTIME },
                { "dry-run",    no_argument,       NULL, OPT_DRY_RUN },
                { "wide",       no_argument,       NULL, OPT_WIDE },
                { "noheadings", no_argument,       NULL, OPT_NOHEADINGS },
                { "root",       required_argument, NULL, OPT_ROOT },
                { "fail-fast",  no_argument,       NULL, OPT_FAIL_FAST },
                { "apply",      no_argument,       NULL, OPT_APPLY },
                { 0 },
        };
        /* '-': positional arguments come back in order (as 1) among the
         * options; ':': a missing value is told from an unknown option. */
        static const char shortopts[] = "-:s:jn:wt:o:rhV";

        o->args = calloc((size_t)argc + 1, sizeof(char *));
        char **av = calloc((size_t)argc + 1, sizeof(char *));
        if (!o->args || !av) {
                free(av);
                return -ENOMEM;
        }
        /* getopt sees a number without its dash; give it back whole. */
        for (int i = 0; i < argc; i++)
                av[i] = is_number(argv[i]) ? argv[i] + 1 : argv[i];
        int ch, r = 0;
        opterr = 0;
        while (r == 0 && (ch = getopt_long(argc, av, shortopts, longopts, NULL)) != -1) {
                char *arg = optarg;
                for (int k = 0; k < argc; k++)
                        if (arg == av[k])
                                arg = argv[k];
                const char *at = argv[optind - 1]; /* the element just read, for errors */
                switch (ch) {
                case 1:            o->args[o->nargs++] = arg; break;
                case 's':          o->socket = arg; break;
                case 'j':          o->json = true; break;
                case 'n':          o->node = arg; break;
                case 'w':          o->wait = true; break;
                case 't':          o->timeout = arg; break;
                case 'o':          o->output = arg; break;
                case 'r':          o->raw = true; break;
                case 'h':          o->help = true; break;
                case 'V':          o->version = true; break;
                case OPT_RUNTIME:  o->runtime = true; break;
                case OPT_DRY_RUN:  o->dry_run = true; break;
                case OPT_WIDE:     o->wide = true; break;
                case OPT_NOHEADINGS: o->noheadings = true; break;
                case OPT_ROOT:     o->root = arg; break;
                case OPT_FAIL_FAST: o->fail_fast = true; break;
                case OPT_APPLY:    o->apply = true; break;
                case ':':
                        if (strncmp(at, "--", 2) == 0)
                                ctl_errorf("option '%s' needs a value", at);
                        else
                                ctl_errorf("option '-%c' needs a value", optopt);
                        r = -EINVAL;
                        break;
                default: /* '?': a known long option given a value has its optopt */
                        if (strncmp(at, "--", 2) != 0)
                                ctl_errorf("unknown option '-%c' (see --help)", optopt);
                        else
                                ctl_errorf(optopt ? "option '%.*s' takes no value" : "unknown option '%.*s' (see --help)",
                                           (int)strcspn(at, "="), at);
                        r = -EINVAL;
                }
        }
        /* After "--": positional, whatever they look like. */
        for (int i = optind; r == 0 && i < argc; i++)
                o->args[o->nargs++] = argv[i];
        free(av);
        return r;
}

/* A page count (512) or a byte size with a unit (4G), or either with a sign
 * (+10, -2G) to change the target by that much: *ret_sign is then +1 or -1,
 * else 0. Exactly one of *ret_pages / *ret_bytes is set, the other is
 * UINT64_MAX. */
static int parse_amount(const char *text, int *ret_sign, uint64_t *ret_pages, uint64_t *ret_bytes)
{
        uint64_t v;
        *ret_sign = text[0] == '+' ? 1 : text[0] == '-' ? -1 : 0;
        const char *t = text + (*ret_sign != 0);
        int r = vmm_count_parse(t, &v);
        if (r == 0) {
                *ret_pages = v;
                *ret_bytes = UINT64_MAX;
                return 0;
        }
        if (r == -ERANGE) {
                ctl_errorf("page count '%s' is out of range", text);
                return r;
        }
        r = vmm_size_parse(t, &v);
        if (r == 0) {
                *ret_pages = UINT64_MAX;
                *ret_bytes = v;
                return 0;
        }
        if (r == -ERANGE)
                ctl_errorf("byte size '%s' is out of range", text);
        else
                ctl_errorf("invalid page count '%s' (want pages like 512, bytes with a unit like 4G,"
                           " or +N/-N to change the target)", text);
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

/* Connect, silently: 0 or a negative errno (ctl_connect). */
static int try_connect(struct ctx *c)
{
        if (c->connected)
                return 0;
        int r = ctl_connect(c->o.socket, &c->conn);
        c->connected = r == 0;
        return r;
}

/* Report a failed try_connect; its exit code. */
static int unreachable(struct ctx *c, int r)
{
        if (r == -ENAMETOOLONG) {
                ctl_errorf("socket path '%s' is too long", c->o.socket);
                return EXIT_USAGE;
        }
        ctl_errorf("cannot %s: cannot connect to hugevmd at %s: %s", c->doing, c->o.socket, strerror(-r));
        return EXIT_UNREACHABLE;
}

static int connect_daemon(struct ctx *c)
{
        int r = try_connect(c);
        return r < 0 ? unreachable(c, r) : EXIT_OK;
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

/* The daemon's message without the parameter name it starts with ("size: 4M
 * is not..."): the operator wrote an argument, not a protocol field. */
static const char *operator_message(json_object *err)
{
        static const char *const fields[] = { PROTO_F_SIZE, PROTO_F_NODE, PROTO_F_PAGES, PROTO_F_BYTES };
        const char *m = proto_get_str(err, PROTO_F_MESSAGE, "(no message)");
        for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
                size_t n = strlen(fields[i]);
                if (strncmp(m, fields[i], n) == 0 && strncmp(m + n, ": ", 2) == 0)
                        return m + n + 2;
        }
        return m;
}

/* Report a daemon error about c->doing: to stderr always, and the error
 * object to stdout with --json. Returns the exit code it maps to. */
static int report_error(struct ctx *c, const char *method, json_object *err)
{
        int code = (int)proto_get_int(err, PROTO_F_CODE, PROTO_ERR_INTERNAL);
        json_object *data = proto_get(err, PROTO_F_DATA);

        finish_bar(c);
        if (c->o.json)
                print_json(err);
        ctl_errorf("cannot %s: %s [%s]", c->doing, operator_message(err), proto_error_name(code));
        if (proto_has_int(data, PROTO_F_ERRNO)) {
                int e = (int)proto_get_int(data, PROTO_F_ERRNO, 0);
                fprintf(stderr, "hugevmctl:   kernel: %s%s%s\n", strerror(e < 0 ? -e : e),
                        proto_get_str(data, PROTO_F_PATH, NULL) ? " at " : "", proto_get_str(data, PROTO_F_PATH, ""));
        }
        json_object *list = proto_get(data, PROTO_F_ERRORS);
        if (!list)
                list = proto_get(data, PROTO_F_POOLS);
        for (size_t i = 0; i < proto_array_len(list); i++) {
                json_object *e = json_object_array_get_idx(list, i);
                if (json_object_is_type(e, json_type_string))
                        fprintf(stderr, "hugevmctl:   %s\n", json_object_get_string(e));
                else if (proto_get(e, PROTO_F_STATE)) { /* a POOL */
                        const char *reason = proto_get_str(e, PROTO_F_REASON, "");
                        int64_t pages = proto_get_int(e, PROTO_F_PAGES, 0);
                        if (proto_has_int(e, PROTO_F_TARGET))
                                fprintf(stderr, "hugevmctl:   %s: %" PRId64 " of %" PRId64 " %s, ", proto_get_str(e, PROTO_F_SIZE, "?"),
                                        pages, proto_get_int(e, PROTO_F_TARGET, 0), ctl_pages(proto_get_int(e, PROTO_F_TARGET, 0)));
                        else
                                fprintf(stderr, "hugevmctl:   %s: %" PRId64 " %s, ", proto_get_str(e, PROTO_F_SIZE, "?"), pages,
                                        ctl_pages(pages));
                        fprintf(stderr, "%s%s%s\n", proto_get_str(e, PROTO_F_STATE, "?"), *reason ? ": " : "", reason);
                } else
                        fprintf(stderr, "hugevmctl:   %s\n", json_object_to_json_string(e));
                /* Per-node targets: the pool has none, its nodes do. */
                json_object *nodes = proto_get(e, PROTO_F_STATE) ? proto_get(e, PROTO_F_NODES) : NULL;
                for (size_t k = 0; k < proto_array_len(nodes); k++) {
                        json_object *n = json_object_array_get_idx(nodes, k);
                        int64_t target = proto_get_int(n, PROTO_F_TARGET, 0);
                        if (proto_has_int(n, PROTO_F_TARGET))
                                fprintf(stderr, "hugevmctl:     node %" PRId64 ": %" PRId64 " of %" PRId64 " %s, %s\n",
                                        proto_get_int(n, PROTO_F_NODE, -1), proto_get_int(n, PROTO_F_PAGES, 0),
                                        target, ctl_pages(target), proto_get_str(n, PROTO_F_STATE, "?"));
                }
        }
        switch (code) {
        case PROTO_ERR_SHORTFALL:
        case PROTO_ERR_TIMEOUT:
                return EXIT_SHORTFALL;
        case PROTO_ERR_INVALID_PARAMS:
                return EXIT_USAGE;
        case PROTO_ERR_UNSUPPORTED:
                /* A size or node this machine lacks is a bad argument; a
                 * kernel without HVO is not. */
                return strncmp(method, "vmemmap.", 8) == 0 ? EXIT_ERROR : EXIT_USAGE;
        default:
                return EXIT_ERROR;
        }
}

/* Report a failure to reach the daemon or to read its reply. */
static int transport_error(struct ctx *c, int r, int timeout_ms)
{
        finish_bar(c);
        switch (r) {
        case -ETIMEDOUT:
                ctl_errorf("cannot %s: hugevmd at %s did not answer within %d s", c->doing, c->o.socket, timeout_ms / 1000);
                return EXIT_UNREACHABLE;
        case -ECONNRESET:
        case -EPIPE:
                ctl_errorf("cannot %s: hugevmd at %s closed the connection before answering", c->doing, c->o.socket);
                return EXIT_UNREACHABLE;
        case -EBADMSG:
                ctl_errorf("cannot %s: hugevmd at %s sent a reply that is not a JSON object", c->doing, c->o.socket);
                return EXIT_ERROR;
        case -EMSGSIZE:
                ctl_errorf("cannot %s: hugevmd at %s sent a reply longer than %u bytes", c->doing, c->o.socket,
                           (unsigned)CTL_MAX_REPLY_LINE);
                return EXIT_ERROR;
        default:
                ctl_errorf("cannot %s: talking to hugevmd at %s: %s", c->doing, c->o.socket, strerror(-r));
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
        return r < 0 ? transport_error(c, r, 0) : EXIT_OK;
}

/* The reply to request id. On EXIT_OK, *ret_result is a new reference to the
 * result; an error reply is reported and mapped to its exit code. */
static int await_result(struct ctx *c, const char *method, int64_t id, int timeout_ms,
                        ctl_notify_fn notify, json_object **ret_result)
{
        json_object *reply;
        int r = ctl_await(&c->conn, id, timeout_ms, notify, c, &reply);
        if (r < 0)
                return transport_error(c, r, timeout_ms);
        json_object *err = proto_get(reply, PROTO_F_ERROR), *result = proto_get(reply, PROTO_F_RESULT);
        int ex = EXIT_OK;
        if (err)
                ex = report_error(c, method, err);
        else if (!result) {
                ctl_errorf("cannot %s: hugevmd's reply has neither %s nor %s", c->doing, PROTO_F_RESULT, PROTO_F_ERROR);
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

/* "14.0 MiB", "~14.0 MiB" when it is the model's estimate, "-" when not known. */
static const char *fmt_saved(json_object *o, char *buf, size_t len)
{
        char h[32];
        if (!proto_has_int(o, PROTO_F_SAVED_BYTES))
                snprintf(buf, len, "-");
        else
                snprintf(buf, len, "%s%s", proto_get_bool(o, PROTO_F_SAVED_EXACT, true) ? "" : "~",
                         human_bytes((uint64_t)proto_get_int(o, PROTO_F_SAVED_BYTES, 0), h, sizeof(h)));
        return buf;
}

/* The status table's columns. The default ones fit 80 columns. */
enum col { COL_SIZE, COL_NODE, COL_PAGES, COL_FREE, COL_RESV, COL_SURPLUS, COL_OVERCOMMIT, COL_TARGET,
           COL_SOURCE, COL_BYTES, COL_OPTIMIZED, COL_UNOPTIMIZED, COL_SAVED, COL_STATE, COL_REASON, N_COLS };
static const struct column {
        const char *name;
        const char *count;    /* the POOL's (or NODE's) count it shows; NULL: see cell() */
        int flags;            /* SCOLS_FL_* */
        bool dflt;
} columns[N_COLS] = {
        [COL_SIZE]       = { "SIZE",       NULL,                    0,              true },
        [COL_NODE]       = { "NODE",       NULL,                    0,              true },
        [COL_PAGES]      = { "PAGES",      PROTO_F_PAGES,           SCOLS_FL_RIGHT, true },
        [COL_FREE]       = { "FREE",       PROTO_F_FREE,            SCOLS_FL_RIGHT, true },
        [COL_RESV]       = { "RESV",       PROTO_F_RESERVED,        SCOLS_FL_RIGHT, true },
        [COL_SURPLUS]    = { "SURPLUS",    PROTO_F_SURPLUS,         SCOLS_FL_RIGHT, false },
        [COL_OVERCOMMIT] = { "OVERCOMMIT", PROTO_F_OVERCOMMIT,      SCOLS_FL_RIGHT, false },
        [COL_TARGET]     = { "TARGET",     PROTO_F_TARGET,          SCOLS_FL_RIGHT, true },
        [COL_SOURCE]     = { "SOURCE",     NULL,                    0,              false },
        [COL_BYTES]      = { "BYTES",      NULL,                    SCOLS_FL_RIGHT, true },
        [COL_OPTIMIZED]  = { "OPTIMIZED",  PROTO_F_OPTIMIZED_PAGES, SCOLS_FL_RIGHT, false },
        [COL_UNOPTIMIZED] = { "UNOPTIMIZED", PROTO_F_UNOPTIMIZED,   SCOLS_FL_RIGHT, false },
        [COL_SAVED]      = { "SAVED",      NULL,                    SCOLS_FL_RIGHT, true },
        [COL_STATE]      = { "STATE",      NULL,                    0,              true },
        [COL_REASON]     = { "REASON",     NULL,                    SCOLS_FL_TRUNC, true },
};
#define MAX_COLS 64

/* -o's list ("PAGES,free", "+BYTES": added to the default), or the default
 * or --wide's every column. Returns how many went to cols, or -1 (reported). */
static int parse_columns(const struct opts *o, enum col *cols)
{
        int n = 0;
        const char *list = o->output;
        if (o->wide || !list || *list == '+')
                for (enum col k = 0; k < N_COLS; k++)
                        if (o->wide || columns[k].dflt)
                                cols[n++] = k;
        if (!list)
                return n;
        list += *list == '+';
        for (const char *p = list; *p; p += *p == ',') {
                size_t len = strcspn(p, ","), k;
                for (k = 0; k < N_COLS; k++)
                        if (strlen(columns[k].name) == len && strncasecmp(p, columns[k].name, len) == 0)
                                break;
                if (k == N_COLS || n == MAX_COLS) {
                        ctl_errorf(k == N_COLS ? "unknown column '%.*s' (see --help)" : "too many columns from '%.*s' on",
                                   (int)len, p);
                        return -1;
                }
                cols[n++] = (enum col)k;
                p += len;
        }
        if (n == 0)
                ctl_errorf("--output names no column (see --help)");
        return n ? n : -1;
}

/* One cell: of the pool's row (node NULL) or of one of its nodes' rows. */
static const char *cell(enum col col, json_object *pool, json_object *node, bool raw, char *buf, size_t len)
{
        json_object *o = node ? node : pool;
        uint64_t size = (uint64_t)proto_get_int(pool, PROTO_F_SIZE_BYTES, 0), pages = (uint64_t)proto_get_int(o, PROTO_F_PAGES, 0);
        switch (col) {
        case COL_SIZE: /* once per pool, but in every row where scripts read it */
                return node && !raw ? "" : proto_get_str(pool, PROTO_F_SIZE, "?");
        case COL_NODE:
                return node ? fmt_count(node, PROTO_F_NODE, buf, len) : "all";
        case COL_BYTES:
                if (!proto_has_int(o, PROTO_F_PAGES) || !size || pages > UINT64_MAX / size)
                        return "-";
                return human_bytes(pages * size, buf, len);
        case COL_SAVED:
                return fmt_saved(o, buf, len);
        case COL_SOURCE: /* the pool's, also for the targets of its nodes */
                return node && !proto_has_int(node, PROTO_F_TARGET) ? "-" : proto_get_str(pool, PROTO_F_SOURCE, "-");
        case COL_STATE:
                return proto_get_str(o, PROTO_F_STATE, "-");
        case COL_REASON:
                return proto_get_str(o, PROTO_F_REASON, "");
        default:
                return fmt_count(o, columns[col].count, buf, len);
        }
}

static int add_row(struct libscols_table *tb, const enum col *cols, int ncols, json_object *pool, json_object *node,
                   bool raw, bool *estimated)
{
        struct libscols_line *ln = scols_table_new_line(tb, NULL);
        if (!ln)
                return -ENOMEM;
        for (int i = 0; i < ncols; i++) {
                char buf[64];
                if (scols_line_set_data(ln, (size_t)i, cell(cols[i], pool, node, raw, buf, sizeof(buf))) < 0)
                        return -ENOMEM;
                if (cols[i] == COL_SAVED && proto_has_int(node ? node : pool, PROTO_F_SAVED_BYTES))
                        *estimated |= !proto_get_bool(node ? node : pool, PROTO_F_SAVED_EXACT, true);
        }
        return 0;
}

/* The pools, a row per pool and one per node, as lsblk draws its tables. */
static int print_pools_table(const struct opts *o, json_object *pools)
{
        enum col cols[MAX_COLS];
        int ncols = parse_columns(o, cols), r = -ENOMEM;
        bool estimated = false;
        struct libscols_table *tb = scols_new_table();
        if (ncols < 0 || !tb)
                goto out;
        scols_table_enable_raw(tb, o->raw);
        scols_table_enable_noheadings(tb, o->noheadings);
        for (int i = 0; i < ncols; i++)
                if (!scols_table_new_column(tb, columns[cols[i]].name, 0, columns[cols[i]].flags))
                        goto out;
        for (size_t i = 0; i < proto_array_len(pools); i++) {
                json_object *p = json_object_array_get_idx(pools, i), *nodes = proto_get(p, PROTO_F_NODES);
                if ((r = add_row(tb, cols, ncols, p, NULL, o->raw, &estimated)) < 0)
                        goto out;
                for (size_t k = 0; k < proto_array_len(nodes); k++)
                        if ((r = add_row(tb, cols, ncols, p, json_object_array_get_idx(nodes, k), o->raw, &estimated)) < 0)
                                goto out;
        }
        r = scols_print_table(tb);
        if (r == 0 && estimated && !o->raw && !o->noheadings)
                printf("~: estimated from hugevmd's model of HVO, not measured by the kernel\n");
out:
        scols_unref_table(tb);
        if (r < 0 && ncols >= 0)
                ctl_errorf("cannot print the table: %s", strerror(-r));
        return r;
}

static void print_hvo(json_object *hvo)
{
        if (!proto_get_bool(hvo, PROTO_F_SUPPORTED, false)) {
                printf("HVO: not supported by this kernel (%s)\n", proto_get_str(hvo, PROTO_F_KERNEL, "?"));
                return;
        }
        const char *boot = proto_get_str(hvo, PROTO_F_BOOT_PARAM, NULL);
        printf("HVO: %s (boot parameter %s%s), kernel %s\n", proto_get_bool(hvo, PROTO_F_ENABLED, false) ? "on" : "off",
               boot ? "hugetlb_free_vmemmap=" : "not set", boot ? boot : "", proto_get_str(hvo, PROTO_F_KERNEL, "?"));
        json_object *sizes = proto_get(hvo, PROTO_F_SIZES);
        for (size_t i = 0; sizes && json_object_is_type(sizes, json_type_array) && i < json_object_array_length(sizes); i++) {
                json_object *s = json_object_array_get_idx(sizes, i);
                char b[32];
                if (proto_get_bool(s, PROTO_F_ELIGIBLE, false))
                        printf("  %-10s %" PRId64 " vmemmap pages per hugepage, %" PRId64 " kept: saves %s each\n",
                               proto_get_str(s, PROTO_F_SIZE, "?"), proto_get_int(s, PROTO_F_VMEMMAP_PAGES, 0),
                               proto_get_int(hvo, PROTO_F_RESERVE_PAGES, 0),
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
        bool agrees = proto_get_bool(m, PROTO_F_AGREES, false);
        printf("Measured saving: %s (%" PRId64 " of %" PRId64 " vmemmap pages freed), model: %s\n",
               human_bytes((uint64_t)proto_get_int(m, PROTO_F_SAVED_BYTES, 0), a, sizeof(a)),
               proto_get_int(m, PROTO_F_SAVED_PAGES, 0), proto_get_int(m, PROTO_F_BASELINE_PAGES, 0),
               agrees ? "agree" : "DISAGREE");
        if (!agrees)
                printf("  hugevmd's model of HVO says %s\n",
                       human_bytes((uint64_t)proto_get_int(m, PROTO_F_MODEL_SAVED, 0), b, sizeof(b)));
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

/* A STATUS: the daemon's, or the kernel's alone (kernel_status), which lacks
 * what only the daemon knows (those parts are left out). --raw and
 * --noheadings are for scripts: the table alone. */
static int print_status(const struct opts *o, json_object *st)
{
        json_object *pools = proto_get(st, PROTO_F_POOLS);
        if (proto_array_len(pools) > 0) {
                if (print_pools_table(o, pools) < 0)
                        return EXIT_ERROR;
        } else
                printf("No hugepage sizes on this machine.\n");
        if (o->raw || o->noheadings)
                return EXIT_OK;
        print_hvo(proto_get(st, PROTO_F_HVO));
        if (proto_get(st, PROTO_F_MEASURED))
                print_measured(proto_get(st, PROTO_F_MEASURED));
        print_mounts(pools);
        if (proto_get(st, PROTO_F_SHM))
                print_shm(proto_get(st, PROTO_F_SHM));
        if (proto_get(st, PROTO_F_CONVERGED))
                printf("%s\n", proto_get_bool(st, PROTO_F_CONVERGED, false) ? "All pools converged." : "Not all pools converged.");
        return EXIT_OK;
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
                printf("%s %s %s%s: %" PRId64 "/%" PRId64 " %s (from %" PRId64 ")\n", ts, method,
                       proto_get_str(p, PROTO_F_SIZE, "?"), node, proto_get_int(p, PROTO_F_CURRENT, 0),
                       proto_get_int(p, PROTO_F_TARGET, 0), ctl_pages(proto_get_int(p, PROTO_F_TARGET, 0)),
                       proto_get_int(p, PROTO_F_FROM, 0));
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
                /* The daemon retries a short pool while we wait: say why, as it changes. */
                const char *reason = proto_get_str(p, PROTO_F_REASON, "");
                if (strcmp(method, PROTO_N_POOL_CHANGED) == 0 && *reason) {
                        finish_bar(c);
                        ctl_errorf("%s: %s: %s", proto_get_str(p, PROTO_F_SIZE, "?"), proto_get_str(p, PROTO_F_STATE, "?"), reason);
                }
                return;
        }
        int64_t from = proto_get_int(p, PROTO_F_FROM, 0), cur = proto_get_int(p, PROTO_F_CURRENT, 0),
                target = proto_get_int(p, PROTO_F_TARGET, 0);
        char node[32] = "";
        if (proto_has_int(p, PROTO_F_NODE))
                snprintf(node, sizeof(node), " node %" PRId64, proto_get_int(p, PROTO_F_NODE, 0));
        if (!c->tty) {
                fprintf(stderr, "%s%s: %" PRId64 "/%" PRId64 " %s\n", proto_get_str(p, PROTO_F_SIZE, "?"), node, cur, target,
                        ctl_pages(target));
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
        fprintf(stderr, "\r\033[K%s%s [%s] %3d%% %" PRId64 "/%" PRId64 " %s",
                proto_get_str(p, PROTO_F_SIZE, "?"), node, bar, pct, cur, target, ctl_pages(target));
        c->bar_drawn = true;
}

/* ---- Commands --------------------------------------------------------------- */

static int show_status(struct ctx *c, json_object *st)
{
        if (!c->o.json)
                return print_status(&c->o, st);
        print_json(st);
        return EXIT_OK;
}

/* hugeadm works without a daemon, so does status: the kernel's pools, read
 * here, and exit 3 all the same (the daemon is not there to keep them). */
static int status_from_kernel(struct ctx *c, int connect_error)
{
        json_object *st;
        ctl_errorf("hugevmd is not running: showing the kernel's pools only (cannot connect to %s: %s)", c->o.socket,
                   strerror(-connect_error));
        int r = kernel_status(c->o.root, &st);
        if (r < 0) {
                ctl_errorf("cannot read the kernel's pools under %s: %s", c->o.root, strerror(-r));
                return EXIT_UNREACHABLE;
        }
        show_status(c, st);
        json_object_put(st);
        return EXIT_UNREACHABLE;
}

static int cmd_status(struct ctx *c)
{
        json_object *st = NULL;
        snprintf(c->doing, sizeof(c->doing), "show the status");
        int r = try_connect(c);
        if (r == -ENOENT || r == -ECONNREFUSED)
                return status_from_kernel(c, r);
        if (r < 0)
                return unreachable(c, r);
        int ex = call(c, PROTO_M_STATUS, NULL, REPLY_TIMEOUT_MS, NULL, &st);
        if (ex == EXIT_OK)
                ex = show_status(c, st);
        json_object_put(st);
        return ex;
}

static int wait_converged(struct ctx *c, int timeout_ms, json_object **ret_status)
{
        json_object *params = json_object_new_object();
        if (timeout_ms >= 0)
                json_object_object_add(params, PROTO_F_TIMEOUT_MS, json_object_new_int64(timeout_ms));
        if (c->o.fail_fast)
                json_object_object_add(params, PROTO_F_FAIL_FAST, json_object_new_boolean(true));
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
        for (size_t k = 0; !proto_has_int(pool, PROTO_F_TARGET) && k < proto_array_len(nodes); k++) {
                json_object *n = json_object_array_get_idx(nodes, k);
                if (!proto_has_int(n, PROTO_F_TARGET))
                        continue;
                printf("%s%snode %s: %s of %s %s", node_targets ? "" : proto_get_str(pool, PROTO_F_SIZE, "?"),
                       node_targets ? ", " : ": ",
                       json_object_get_string(proto_get(n, PROTO_F_NODE)),
                       fmt_count(n, PROTO_F_PAGES, a, sizeof(a)), fmt_count(n, PROTO_F_TARGET, b, sizeof(b)),
                       ctl_pages(proto_get_int(n, PROTO_F_TARGET, 0)));
                node_targets = true;
        }
        if (node_targets)
                printf(", ");
        else
                printf("%s: %s of target %s %s, ", proto_get_str(pool, PROTO_F_SIZE, "?"),
                       fmt_count(pool, PROTO_F_PAGES, a, sizeof(a)), fmt_count(pool, PROTO_F_TARGET, b, sizeof(b)),
                       ctl_pages(proto_get_int(pool, PROTO_F_TARGET, 2)));
        print_state(pool);
}

/* A size as the operator wrote it, or "default"/"DEFAULT" (hugeadm's word)
 * for the kernel's default hugepage size, as its label into buf. */
static int resolve_size(struct ctx *c, const char *text, char *buf, size_t len)
{
        uint64_t v;
        if (strcasecmp(text, "default") == 0) {
                int r = kernel_default_size_kb(c->o.root, &v);
                if (r < 0) {
                        ctl_errorf("cannot read the kernel's default hugepage size (Hugepagesize in %s/proc/meminfo): %s",
                                   strcmp(c->o.root, "/") ? c->o.root : "", strerror(-r));
                        return EXIT_ERROR;
                }
                vmm_size_label(v, buf, len);
                return EXIT_OK;
        }
        if (vmm_size_parse(text, &v) < 0 || (size_t)snprintf(buf, len, "%s", text) >= len) {
                ctl_errorf("invalid page size '%s' (want a size like 2M, 2MB, 2048kB, 1G, or default)", text);
                return EXIT_USAGE;
        }
        return EXIT_OK;
}

/* What 'set' was asked to do, checked. */
struct set_args {
        char size[64];           /* as given (the daemon parses it the same way), or the default's label */
        const char *amount;      /* as given */
        int sign;                /* +1, -1: change the target by pages/bytes; 0: set it */
        uint64_t pages, bytes;   /* exactly one is not UINT64_MAX */
        int node;                /* -1: the whole pool */
        int timeout_ms;          /* -1: wait without a limit */
};

/* --node N: *ret the node, or -1 without --node. */
static int parse_node(const struct ctx *c, int *ret)
{
        uint64_t node = 0;
        *ret = -1;
        if (!c->o.node)
                return EXIT_OK;
        if (vmm_count_parse(c->o.node, &node) < 0) {
                ctl_errorf("invalid node '%s' (want a node number like 0)", c->o.node);
                return EXIT_USAGE;
        }
        if (node > INT32_MAX) {
                ctl_errorf("invalid node '%s' (too large)", c->o.node);
                return EXIT_USAGE;
        }
        *ret = (int)node;
        return EXIT_OK;
}

/* [SIZE] [--node N] of revert and vmemmap optimize (SIZE: argument at), as
 * params {size, node}; --node needs SIZE (usage names the command). */
static int pool_params(struct ctx *c, int at, const char *usage, json_object *params)
{
        char size[64];
        int node, ex;
        if (c->o.node && c->o.nargs <= at) {
                ctl_errorf("--node needs SIZE: '%s'", usage);
                return EXIT_USAGE;
        }
        if (c->o.nargs > at) {
                if ((ex = resolve_size(c, c->o.args[at], size, sizeof(size))) != EXIT_OK)
                        return ex;
                json_object_object_add(params, PROTO_F_SIZE, json_object_new_string(size));
        }
        if ((ex = parse_node(c, &node)) != EXIT_OK)
                return ex;
        if (node >= 0)
                json_object_object_add(params, PROTO_F_NODE, json_object_new_int(node));
        return EXIT_OK;
}

static int set_parse(struct ctx *c, struct set_args *a)
{
        *a = (struct set_args){ .pages = UINT64_MAX, .bytes = UINT64_MAX, .node = -1, .timeout_ms = -1 };
        if (c->o.nargs != 3) {
                ctl_errorf("set needs SIZE and PAGES|BYTES, e.g. 'hugevmctl set 2M 512' (see --help)");
                return EXIT_USAGE;
        }
        int ex = resolve_size(c, c->o.args[1], a->size, sizeof(a->size));
        if (ex != EXIT_OK)
                return ex;
        a->amount = c->o.args[2];
        if (parse_amount(a->amount, &a->sign, &a->pages, &a->bytes) < 0)
                return EXIT_USAGE;
        if ((ex = parse_node(c, &a->node)) != EXIT_OK)
                return ex;
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
        char node_text[48] = "";
        if (a->node >= 0)
                snprintf(node_text, sizeof(node_text), " on node %d", a->node);
        snprintf(c->doing, sizeof(c->doing), "%s the %s pool%s %s %s%s%s", a->sign ? "change" : "set", a->size, node_text,
                 a->sign ? "by" : "to", a->amount, a->pages == UINT64_MAX ? "" : " ",
                 a->pages == UINT64_MAX ? "" : ctl_pages((int64_t)a->pages));
        return EXIT_OK;
}

/* What holds the target set_args is about: the POOL, or its NODE; NULL when
 * the pool has no such node. */
static json_object *target_holder(json_object *pool, int node)
{
        json_object *nodes = proto_get(pool, PROTO_F_NODES);
        if (node < 0)
                return pool;
        for (size_t k = 0; k < proto_array_len(nodes); k++)
                if (proto_get_int(json_object_array_get_idx(nodes, k), PROTO_F_NODE, -1) == node)
                        return json_object_array_get_idx(nodes, k);
        return NULL;
}

/* +N/-N: from the target in force (of the pool, or of its node with --node),
 * or, when there is none, from the pages it has now, as hugeadm's
 * --pool-pages-min SIZE:+N counts from the pool's minimum. */
static int set_relative(struct ctx *c, struct set_args *a, json_object *pool)
{
        json_object *h = target_holder(pool, a->node);
        uint64_t size = (uint64_t)proto_get_int(pool, PROTO_F_SIZE_BYTES, 0), delta = a->pages;
        if (!h) {
                ctl_errorf("cannot %s: node %d does not exist on this machine", c->doing, a->node);
                return EXIT_USAGE;
        }
        bool has_target = proto_has_int(h, PROTO_F_TARGET);
        uint64_t base = (uint64_t)proto_get_int(h, has_target ? PROTO_F_TARGET : PROTO_F_PAGES, 0);
        if (a->pages == UINT64_MAX) {
                if (!size || a->bytes % size) {
                        ctl_errorf("cannot %s: %s is not a whole number of %s pages", c->doing, a->amount, a->size);
                        return EXIT_USAGE;
                }
                delta = a->bytes / size;
        }
        if (a->sign < 0 && delta > base) {
                ctl_errorf("cannot %s: %s %" PRIu64 " %s, fewer than %" PRIu64, c->doing,
                           has_target ? "its target is" : "it has no target and has", base, ctl_pages((int64_t)base), delta);
                return EXIT_USAGE;
        }
        if (a->sign > 0 && delta > (uint64_t)INT64_MAX - base) {
                ctl_errorf("cannot %s: out of range", c->doing);
                return EXIT_USAGE;
        }
        a->pages = a->sign > 0 ? base + delta : base - delta;
        a->bytes = UINT64_MAX;
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
static json_object *set_wait_params(const struct ctx *c, const struct set_args *a)
{
        json_object *params = json_object_new_object();
        json_object_object_add(params, PROTO_F_SIZE, json_object_new_string(a->size));
        if (a->node >= 0)
                json_object_object_add(params, PROTO_F_NODE, json_object_new_int(a->node));
        if (a->timeout_ms >= 0)
                json_object_object_add(params, PROTO_F_TIMEOUT_MS, json_object_new_int64(a->timeout_ms));
        if (c->o.fail_fast)
                json_object_object_add(params, PROTO_F_FAIL_FAST, json_object_new_boolean(true));
        return params;
}

/* " (replaces the whole-pool target of 600 pages)": a pool.set reply's
 * replaced, said because switching target kinds drops the other kind. */
static const char *fmt_replaced(json_object *pool, char *buf, size_t len)
{
        const char *r = proto_get_str(pool, PROTO_F_REPLACED, "");
        snprintf(buf, len, *r ? " (replaces %s)" : "", r);
        return buf;
}

/* "512 pages", "1 page", or "none" for a null target. */
static const char *fmt_target(json_object *o, char *buf, size_t len)
{
        if (!proto_has_int(o, PROTO_F_TARGET))
                return "none";
        int64_t t = proto_get_int(o, PROTO_F_TARGET, 0);
        snprintf(buf, len, "%" PRId64 " %s", t, ctl_pages(t));
        return buf;
}

/* A dry run shows the change against the pool as it was (before). */
static int set_dry_run(struct ctx *c, const struct set_args *a, json_object *before)
{
        json_object *pool;
        int ex = call(c, PROTO_M_POOL_SET, set_params(c, a), REPLY_TIMEOUT_MS, on_progress, &pool);
        if (ex != EXIT_OK)
                return ex;
        json_object *was = target_holder(before, a->node), *will = target_holder(pool, a->node);
        char name[96], t0[48], t1[48], rep[128];
        int64_t has = proto_get_int(was, PROTO_F_PAGES, 0);
        snprintf(name, sizeof(name), "%s%s%s", proto_get_str(pool, PROTO_F_SIZE, a->size), c->o.node ? " node " : "",
                 c->o.node ? c->o.node : "");
        const char *from = fmt_target(was, t0, sizeof(t0)), *to = fmt_target(will, t1, sizeof(t1));
        if (c->o.json)
                print_json(pool);
        else if (strcmp(from, to) != 0 || *proto_get_str(pool, PROTO_F_REPLACED, ""))
                printf("dry run: %s target would change from %s to %s%s (it has %" PRId64 " now); nothing changed\n",
                       name, from, to, fmt_replaced(pool, rep, sizeof(rep)), has);
        else if (proto_get_int(will, PROTO_F_TARGET, -1) == has)
                printf("dry run: %s already has %s: nothing to change\n", name, to);
        else
                printf("dry run: %s target is already %s (it has %" PRId64 " now): nothing to change\n", name, to, has);
        /* The forecast for the new target: "2048kB node 1: expect 812 of 1024 (212 short: 424 MiB unmovable)". */
        json_object *fc = proto_get(will, PROTO_F_FORECAST);
        if (!c->o.json && fc) {
                int64_t shrt = proto_get_int(fc, PROTO_F_FC_SHORT, 0);
                printf("%s: expect %" PRId64 " of %" PRId64, name, proto_get_int(fc, PROTO_F_FC_EXPECT, 0),
                       proto_get_int(will, PROTO_F_TARGET, 0));
                if (shrt)
                        printf(" (%" PRId64 " short: %s)", shrt, proto_get_str(fc, PROTO_F_FC_WHY, ""));
                printf("\n");
        }
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
                char rep[128];
                printf("%s target set%s%s: ", proto_get_str(pool, PROTO_F_SIZE, a->size), c->o.runtime ? " (runtime only)" : "",
                       fmt_replaced(pool, rep, sizeof(rep)));
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
                ex = send_request(c, PROTO_M_WAIT, set_wait_params(c, a), &wait_id);
        if (ex != EXIT_OK)
                return ex;
        /* If pool.set fails, that is the answer; the wait ends with the connection. */
        json_object *pool;
        ex = await_result(c, PROTO_M_POOL_SET, set_id, REPLY_TIMEOUT_MS, on_progress, &pool);
        if (ex != EXIT_OK)
                return ex;
        if (*proto_get_str(pool, PROTO_F_REPLACED, "") && !c->o.json)
                ctl_errorf("%s: the new target replaces %s", proto_get_str(pool, PROTO_F_SIZE, a->size),
                           proto_get_str(pool, PROTO_F_REPLACED, ""));
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
        json_object *before = NULL;
        int ex = set_parse(c, &a);
        /* A relative amount and a dry run start from the pool as it is. */
        if (ex == EXIT_OK && (a.sign || c->o.dry_run)) {
                json_object *params = json_object_new_object();
                json_object_object_add(params, PROTO_F_SIZE, json_object_new_string(a.size));
                ex = call(c, PROTO_M_POOL_GET, params, REPLY_TIMEOUT_MS, NULL, &before);
        }
        if (ex == EXIT_OK && a.sign)
                ex = set_relative(c, &a, before);
        if (ex == EXIT_OK)
                ex = c->o.dry_run ? set_dry_run(c, &a, before) : c->o.wait ? set_and_wait(c, &a) : set_target(c, &a);
        json_object_put(before);
        return ex;
}

/* The reply of a method that answers a POOL for one size or STATUS for all:
 * as JSON, or a line per pool (named: the operator asked for that size). */
static int print_pool_reply(struct ctx *c, json_object *res, void (*line)(json_object *pool, bool named))
{
        json_object *pools = proto_get(res, PROTO_F_POOLS);
        if (c->o.json)
                print_json(res);
        else
                for (size_t i = 0, n = pools ? proto_array_len(pools) : 1; i < n; i++)
                        line(pools ? json_object_array_get_idx(pools, i) : res, !pools);
        json_object_put(res);
        return EXIT_OK;
}

static void print_reoptimized(json_object *p, bool named)
{
        int64_t done = proto_get_int(p, PROTO_F_REOPTIMIZED, 0), left = proto_get_int(p, PROTO_F_UNOPTIMIZED, 0),
                in_use = proto_get_int(p, PROTO_F_UNOPT_IN_USE, 0);
        bool pending = proto_get_bool(p, PROTO_F_REOPT_PENDING, false);
        if (!named && !pending && done == 0 && left == 0)
                return;   /* a size with nothing to do says nothing */
        printf("%s: %s%" PRId64 " %s re-optimized", proto_get_str(p, PROTO_F_SIZE, "?"), pending ? "under way: " : "",
               done, ctl_pages(done));
        if (left == 0)
                printf("; none left unoptimized\n");
        else
                printf("; %" PRId64 " left unoptimized, %" PRId64 " of them in use (converted once freed)\n", left, in_use);
}

static void print_reverted(json_object *p, bool named)
{
        char t[48];
        const char *src = proto_get_str(p, PROTO_F_SOURCE, ""), *size = proto_get_str(p, PROTO_F_SIZE, "?");
        (void)named;
        if (strcmp(src, PROTO_SOURCE_CONFIG) == 0)
                printf("%s: the configuration's target is in force: %s\n", size,
                       proto_has_int(p, PROTO_F_TARGET) ? fmt_target(p, t, sizeof(t)) : "per node");
        else if (strcmp(src, PROTO_SOURCE_NONE) == 0)
                printf("%s: no target (the configuration has none): left as it is\n", size);
        else
                printf("%s: %s target still in force for the nodes not reverted\n", size, src);
}

/* vmemmap optimize [SIZE] [--node N] [--wait [--timeout SEC]]: replace free
 * pages allocated while HVO was off by optimized ones. */
static int vmemmap_optimize(struct ctx *c)
{
        int timeout_ms = -1, ex = EXIT_OK;
        json_object *params = json_object_new_object(), *res = NULL;
        snprintf(c->doing, sizeof(c->doing), "re-optimize %s", c->o.nargs > 2 ? c->o.args[2] : "the pools");
        if (c->o.timeout && (!c->o.wait || parse_seconds(c->o.timeout, &timeout_ms) < 0)) {
                if (!c->o.wait)
                        ctl_errorf("--timeout goes with --wait");
                ex = EXIT_USAGE;
        }
        if (ex == EXIT_OK)
                ex = pool_params(c, 2, "hugevmctl vmemmap optimize SIZE --node N", params);
        if (ex != EXIT_OK) {
                json_object_put(params);
                return ex;
        }
        if (c->o.wait)
                json_object_object_add(params, PROTO_F_WAIT, json_object_new_boolean(true));
        if (timeout_ms >= 0)
                json_object_object_add(params, PROTO_F_TIMEOUT_MS, json_object_new_int64(timeout_ms));
        ex = call(c, PROTO_M_VMEMMAP_OPTIMIZE, params, !c->o.wait ? REPLY_TIMEOUT_MS : timeout_ms < 0 ? -1 : timeout_ms + WAIT_GRACE_MS,
                  on_progress, &res);
        if (ex != EXIT_OK)
                return ex;
        return print_pool_reply(c, res, print_reoptimized);
}

static int cmd_vmemmap(struct ctx *c)
{
        const char *what = c->o.nargs >= 2 ? c->o.args[1] : "status";
        if (strcmp(what, "optimize") == 0)
                return vmemmap_optimize(c);
        if (c->o.node || c->o.wait || c->o.timeout) {
                ctl_errorf("--node, --wait and --timeout go with 'vmemmap optimize' only");
                return EXIT_USAGE;
        }
        if (c->o.nargs > 2) {
                ctl_errorf("unexpected argument '%s' after 'vmemmap %s'", c->o.args[2], what);
                return EXIT_USAGE;
        }
        json_object *v;
        int ex;
        snprintf(c->doing, sizeof(c->doing), strcmp(what, "status") == 0 ? "show the HVO state" : "turn HVO %s", what);
        if (strcmp(what, "status") == 0)
                ex = call(c, PROTO_M_VMEMMAP_GET, NULL, REPLY_TIMEOUT_MS, NULL, &v);
        else if (strcmp(what, "on") == 0 || strcmp(what, "off") == 0) {
                json_object *params = json_object_new_object();
                json_object_object_add(params, PROTO_F_ENABLED, json_object_new_boolean(what[1] == 'n'));
                ex = call(c, PROTO_M_VMEMMAP_SET, params, REPLY_TIMEOUT_MS, NULL, &v);
        } else {
                ctl_errorf("invalid vmemmap action '%s' (want on, off, status or optimize)", what);
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
        snprintf(c->doing, sizeof(c->doing), "wait for the pools");
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
        snprintf(c->doing, sizeof(c->doing), "watch hugevmd's notifications");
        json_object *sub;
        int ex = call(c, PROTO_M_SUBSCRIBE, NULL, REPLY_TIMEOUT_MS, print_watch_message, &sub);
        if (ex != EXIT_OK)
                return ex;
        json_object_put(sub);
        for (;;) {
                json_object *msg;
                int r = ctl_read_message(&c->conn, -1, &msg);
                if (r == -EBADMSG) {
                        ctl_errorf("hugevmd sent a line that is not a JSON object; ignored");
                        continue;
                }
                if (r < 0)
                        return transport_error(c, r, -1);
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
        snprintf(c->doing, sizeof(c->doing), "reload hugevmd's configuration");
        json_object *res;
        int ex = call(c, PROTO_M_RELOAD, NULL, REPLY_TIMEOUT_MS, NULL, &res);
        if (ex != EXIT_OK)
                return ex;
        json_object *ov = proto_get(res, PROTO_F_OVERRIDES);
        if (c->o.json)
                print_json(res);
        else {
                printf("Configuration reloaded.\n");
                for (size_t i = 0; i < proto_array_len(ov); i++)
                        printf("  %s (hugevmctl revert drops it)\n", json_object_get_string(json_object_array_get_idx(ov, i)));
        }
        json_object_put(res);
        return EXIT_OK;
}

/* Back to the declared state: drop overrides (systemctl revert's habit). */
static int cmd_revert(struct ctx *c)
{
        json_object *params = json_object_new_object(), *res = NULL;
        snprintf(c->doing, sizeof(c->doing), "revert %s to the configuration", c->o.nargs > 1 ? c->o.args[1] : "the pools");
        int ex = pool_params(c, 1, "hugevmctl revert SIZE --node N", params);
        if (ex != EXIT_OK) {
                json_object_put(params);
                return ex;
        }
        ex = call(c, PROTO_M_POOL_REVERT, params, REPLY_TIMEOUT_MS, NULL, &res);
        if (ex != EXIT_OK)
                return ex;
        return print_pool_reply(c, res, print_reverted);
}

static int cmd_metrics(struct ctx *c)
{
        snprintf(c->doing, sizeof(c->doing), "read the metrics");
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
        snprintf(c->doing, sizeof(c->doing), "read hugevmd's version");
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
        char size[64];
        int ex = resolve_size(c, c->o.args[1], size, sizeof(size));
        return ex != EXIT_OK ? ex : verify_run(size, c->o.json);
}

/* The declared pools come from the daemon's STATUS (config_target): no daemon, no plan. */
static int cmd_boot_plan(struct ctx *c)
{
        json_object *st = NULL;
        snprintf(c->doing, sizeof(c->doing), "plan the boot command line (it needs hugevmd's declared pools)");
        int ex = call(c, PROTO_M_STATUS, NULL, REPLY_TIMEOUT_MS, NULL, &st);
        if (ex == EXIT_OK)
                ex = bootplan_run(st, c->o.root, c->o.apply, c->o.json);
        json_object_put(st);
        return ex;
}

static void usage(FILE *f)
{
        fputs("Usage: hugevmctl [OPTIONS] COMMAND [ARGS]\n"
              "\n"
              "Control hugevmd, which keeps the HugeTLB pools at their targets with the\n"
              "HugeTLB Vmemmap Optimization (HVO) on, and reports what HVO saves.\n"
              "\n"
              "Commands:\n"
              "  status                      pools per size and node, HVO and its savings\n"
              "                              (the kernel's pools alone when hugevmd is down)\n"
              "      -o, --output COLS         columns to show (+COLS: added to the default)\n"
              "          --wide                every column\n"
              "      -r, --raw                 the table alone, unaligned, for scripts\n"
              "          --noheadings          the table alone, without its header line\n"
              "  set SIZE [+|-]PAGES|BYTES   set a pool's target: PAGES is a count (512),\n"
              "                              BYTES has a unit (4G); +N/-N change the target\n"
              "                              in force (else the pages the pool has) by N;\n"
              "                              SIZE as 2M, 2MB, 2048kB, 1G, or default\n"
              "      -n, --node N              target for NUMA node N only\n"
              "          --runtime             do not persist the target across restarts\n"
              "      -w, --wait                wait until the pools converged, with progress\n"
              "      -t, --timeout SEC         give up waiting after SEC seconds (exit 4)\n"
              "          --dry-run             show what would change, change nothing\n"
              "          --fail-fast           with --wait: stop at once if the pool degrades\n"
              "                                (else wait while hugevmd retries, to the timeout)\n"
              "  revert [SIZE] [-n N]        drop the overrides of set: back to the config's\n"
              "                              targets (of one pool, one node of it, or all)\n"
              "  vmemmap on|off|status       turn HVO on or off, or show it\n"
              "  vmemmap optimize [SIZE]     replace free pages allocated while HVO was off\n"
              "                              by optimized ones, never shrinking a pool\n"
              "      -n, --node N              one node of SIZE only\n"
              "      -w, --wait                until done (exit 4 if it had to stop)\n"
              "      -t, --timeout SEC         give up waiting after SEC seconds\n"
              "  wait [-t SEC] [--fail-fast] wait until every pool converged (while hugevmd\n"
              "                              retries a short pool, until the timeout)\n"
              "  watch                       print notifications as they come, one per line\n"
              "  reload                      reload the daemon's configuration\n"
              "  metrics                     print the Prometheus metrics text\n"
              "  version                     client and daemon versions\n"
              "  verify SIZE                 map and touch one hugepage of SIZE here, without\n"
              "                              the daemon, and check its page frame (as root)\n"
              "  boot-plan [--apply]         the kernel command line that allocates the\n"
              "                              declared pools at boot, against /proc/cmdline;\n"
              "                              --apply writes it for grub or kernel-install\n"
              "\n"
              "Options:\n"
              "  -j, --json                  print results as JSON (watch: raw notifications)\n"
              "  -s, --socket PATH           daemon socket (default $" SOCKET_ENV ", else\n"
              "                              " PROTO_DEFAULT_SOCKET ")\n"
              "      --root DIR              read the kernel's files under DIR (default /)\n"
              "  -h, --help                  show this help\n"
              "  -V, --version               show hugevmctl's version\n"
              "\n"
              "Exit status:\n"
              "  0  success\n"
              "  1  the daemon returned an error, or the kernel refused\n"
              "  2  usage error (bad arguments, also a size or node this machine lacks)\n"
              "  3  the daemon is unreachable, or went away mid-reply\n"
              "  4  a pool is short of its target or degraded, or a wait timed out\n"
              "  5  boot-plan: the running kernel's command line lacks the plan (reboot)\n"
              "\n"
              "Columns of status (-o; * in the default):\n ", f);
        for (enum col k = 0; k < N_COLS; k++)
                fprintf(f, " %s%s", columns[k].name, columns[k].dflt ? "*" : "");
        fputc('\n', f);
}

enum { ALLOW_NODE = 1, ALLOW_WAIT = 2, ALLOW_TIMEOUT = 4, ALLOW_SET = 8, ALLOW_TABLE = 16, ALLOW_FAIL_FAST = 32, ALLOW_APPLY = 64 };
static const struct {
        const char *name;
        int (*run)(struct ctx *c);
        int max_args;       /* positional arguments after the command name */
        int allow;          /* ALLOW_*: options beyond the global ones (SET: --runtime, --dry-run) */
} commands[] = {
        { "status",  cmd_status,  0, ALLOW_TABLE },
        { "set",     cmd_set,     2, ALLOW_NODE | ALLOW_WAIT | ALLOW_TIMEOUT | ALLOW_SET | ALLOW_FAIL_FAST },
        { "revert",  cmd_revert,  1, ALLOW_NODE },
        { "vmemmap", cmd_vmemmap, 2, ALLOW_NODE | ALLOW_WAIT | ALLOW_TIMEOUT },
        { "wait",    cmd_wait,    0, ALLOW_TIMEOUT | ALLOW_FAIL_FAST },
        { "watch",   cmd_watch,   0, 0 },
        { "reload",  cmd_reload,  0, 0 },
        { "metrics", cmd_metrics, 0, 0 },
        { "version", cmd_version, 0, 0 },
        { "verify",  cmd_verify,  1, 0 },
        { "boot-plan", cmd_boot_plan, 0, ALLOW_APPLY },
};

int main(int argc, char **argv)
{
        struct ctx c = { .conn.fd = -1 };
        enum col cols[MAX_COLS];
        int ex;

        if (parse_args(argc, argv, &c.o) < 0) {
                ex = EXIT_USAGE;
                goto out;
        }
        if (c.o.help || c.o.version) {
                if (c.o.help)
                        usage(stdout);
                else
                        printf("hugevmctl %s\n", PACKAGE_VERSION);
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
        if (!c.o.root || !*c.o.root)
                c.o.root = "/";
        c.tty = isatty(STDERR_FILENO);

        size_t k;
        for (k = 0; k < sizeof(commands) / sizeof(commands[0]); k++)
                if (strcmp(commands[k].name, c.o.args[0]) == 0)
                        break;
        ex = EXIT_USAGE;
        if (k == sizeof(commands) / sizeof(commands[0]))
                ctl_errorf("unknown command '%s' (see --help)", c.o.args[0]);
        else if (c.o.nargs - 1 > commands[k].max_args)
                ctl_errorf("unexpected argument '%s' for '%s'", c.o.args[commands[k].max_args + 1], commands[k].name);
        else if (!(commands[k].allow & ALLOW_SET) && (c.o.runtime || c.o.dry_run))
                ctl_errorf("--runtime and --dry-run only go with 'set'");
        else if (!(commands[k].allow & ALLOW_NODE) && c.o.node)
                ctl_errorf("--node only goes with 'set', 'revert' and 'vmemmap optimize'");
        else if (!(commands[k].allow & ALLOW_WAIT) && c.o.wait)
                ctl_errorf("--wait only goes with 'set' and 'vmemmap optimize'");
        else if (!(commands[k].allow & ALLOW_TIMEOUT) && c.o.timeout)
                ctl_errorf("--timeout only goes with 'set --wait', 'wait' and 'vmemmap optimize --wait'");
        else if (!(commands[k].allow & ALLOW_FAIL_FAST) && c.o.fail_fast)
                ctl_errorf("--fail-fast only goes with 'set --wait' and 'wait'");
        else if (!(commands[k].allow & ALLOW_APPLY) && c.o.apply)
                ctl_errorf("--apply only goes with 'boot-plan'");
        else if (!(commands[k].allow & ALLOW_TABLE) && (c.o.output || c.o.wide || c.o.raw || c.o.noheadings))
                ctl_errorf("--output, --wide, --raw and --noheadings only go with 'status'");
        else if (c.o.output && c.o.wide)
                ctl_errorf("--output and --wide do not go together: --wide is every column");
        else if (parse_columns(&c.o, cols) >= 0) /* checked before the daemon is asked */
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
