/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the daemon harnesses (fuzz-rpc, fuzz-server) share: a fake machine
 * (x86-64 6.18, hstates 2048kB and 1048576kB, nodes 0 and 1 of 2 GiB, a
 * config managing the 2M pool) served by the fake kernel (tests/fakekernel,
 * FUSE: it behaves as the kernel does), mounted once per fuzzer process by
 * tests/fakekernel/fk.c and put back to the same machine before every input
 * by writing its pool files, as any program would; a fresh daemon per input
 * assembled from hugevmd's internal library as daemon/main.c assembles it and
 * stopped as main.c stops it, and the checks every JSON-RPC message must pass.
 * Nothing of the daemon is replaced: the harnesses link daemon/libhugevmd.a.
 * The fake kernel program is $FAKEKERNEL (run.sh builds it and sets it).
 * Include once, from the harness, after defining FUZZ_NAME.
 */
#ifndef HUGEVM_FUZZ_DAEMON_H
#define HUGEVM_FUZZ_DAEMON_H

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon.h"
#include "edges.h"
#include "fakekernel/fk.h"
#include "fuzz-root.h"
#include "log.h"
#include "metrics.h"
#include "observers.h"
#include "proto.h"
#include "rpc.h"
#include "server.h"
#include "state.h"
#include "status.h"
#include "waits.h"

#define CHECK(cond, ...) do { if (!(cond)) { \
        fprintf(stderr, FUZZ_NAME ": property violated at %s:%d: %s: ", __FILE__, __LINE__, #cond); \
        fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); abort(); } } while (0)

/* root: the fake kernel's mount point (the daemon's root); scratch: plain
 * files (the config, the state directory, the socket), holding the mount point. */
static char root[PATH_MAX], scratch[PATH_MAX], conf_path[PATH_MAX], state_dir[PATH_MAX];

static void check_line(json_object *o, const char *what);


/* ---- the fake machine (tests/fakekernel) --------------------------------- */

#define HP "sys/kernel/mm/hugepages/hugepages-"
#define NODE "sys/devices/system/node/node"

static struct fk fk;

/* x86-64 6.18, two nodes of 2 GiB (16 memory blocks of 128 MiB each), half of
 * each for hugetlb (512 2M pages or one 1G page a node), hstates 2048kB and
 * 1048576kB, HVO off, the memmap counters. */
static const char *const fuzz_machine[] = {
        "release=6.18.0-fuzz", "arch=x86_64", "cmdline=root=/dev/vda ro quiet", "nodes=2", "mem=2G",
        "sizes=2048,1048576", "hvo=0", NULL,
};

/* The model as reset_machine() leaves it, but the allocator's running counts. */
static char *machine_reset;

static void fk_write_or_die(const char *rel, const char *text)
{
        int r = fk_write(&fk, rel, text);

        if (r < 0) {
                fprintf(stderr, FUZZ_NAME ": resetting the fake kernel: writing %s to %s: %s\n", text, rel, strerror(-r));
                abort();
        }
}

/* The fake's model (MNT/.fake/state) without the lines that only ever grow. */
static char *machine_state(void)
{
        char path[PATH_MAX + 16], *text = NULL, line[512];
        size_t len = 0;
        FILE *f, *out;

        snprintf(path, sizeof(path), "%s/.fake/state", root);
        f = fopen(path, "re");
        out = open_memstream(&text, &len);
        if (!f || !out) {
                fprintf(stderr, FUZZ_NAME ": %s: %s\n", path, strerror(errno));
                abort();
        }
        while (fgets(line, sizeof(line), f))
                if (strncmp(line, "buddy_alloc_", 12) != 0)
                        fputs(line, out);
        fclose(f);
        fclose(out);
        return text;
}

/*
 * Before every input, the same machine: HVO off, no 2048kB overcommit, every pool
 * emptied, then 4 free unoptimized 2048kB pages on node 0 and no 1048576kB
 * page. Only by writing the files the daemon writes (pool sizes, overcommit,
 * the HVO sysctl), as the kernel takes them; the daemon neither holds nor
 * reserves pages. The kernel's node cursors (next_nid_to_alloc/free) move
 * with every allocation: one page taken and given back on node 1, then on
 * node 0, sets both to node 0 whatever the input did. The state file goes.
 * Nothing is written when the model is already that machine (most inputs
 * change no pool); otherwise the model must be that machine afterwards, or a
 * reproducer would not replay alone.
 */
static void reset_machine(void)
{
        static const char *const sizes[] = { "2048kB", "1048576kB" };
        char rel[PATH_MAX], path[PATH_MAX];
        char *now = machine_reset ? machine_state() : NULL;

        snprintf(path, sizeof(path), "%s/%s", state_dir, STATE_FILE_NAME);
        (void)unlink(path);
        if (now && strcmp(now, machine_reset) == 0) {
                free(now);
                return;
        }
        free(now);
        fk_write_or_die("proc/sys/vm/hugetlb_optimize_vmemmap", "0\n");
        fk_write_or_die(HP "2048kB/nr_overcommit_hugepages", "0\n"); /* gigantic pages take none (EINVAL) */
        for (size_t i = 0; i < 2; i++) {
                for (int node = 1; node >= 0; node--) {
                        snprintf(rel, sizeof(rel), NODE "%d/hugepages/hugepages-%s/nr_hugepages", node, sizes[i]);
                        fk_write_or_die(rel, "0\n");
                }
        }
        for (size_t i = 0; i < 2; i++)
                for (int node = 1; node >= 0; node--) {
                        snprintf(rel, sizeof(rel), NODE "%d/hugepages/hugepages-%s/nr_hugepages", node, sizes[i]);
                        fk_write_or_die(rel, "1\n");
                        fk_write_or_die(rel, "0\n");
                }
        fk_write_or_die(NODE "0/hugepages/hugepages-2048kB/nr_hugepages", "4\n");
        now = machine_state();
        if (!machine_reset)
                machine_reset = now;
        else {
                CHECK(strcmp(now, machine_reset) == 0, "the fake kernel did not come back to the machine of every input:\n"
                      "%s\nbut\n%s", machine_reset, now);
                free(now);
        }
}

/* The machine, the config; once per process. */
static void fuzz_daemon_init(void)
{
        char mnt[PATH_MAX], err[1024];
        const char *why;
        FILE *f;

        snprintf(scratch, sizeof(scratch), "%s", fuzz_root_new(FUZZ_NAME));
        snprintf(state_dir, sizeof(state_dir), "%s/state", scratch);
        snprintf(conf_path, sizeof(conf_path), "%s/hugevmd.conf", scratch);
        snprintf(mnt, sizeof(mnt), "%s/root", scratch);
        if ((why = fk_unusable(NULL))) {
                fprintf(stderr, FUZZ_NAME ": no fake kernel: %s\n", why);
                abort();
        }
        if (fk_start(&fk, NULL, mnt, fuzz_machine, err, sizeof(err)) < 0) {
                fprintf(stderr, FUZZ_NAME ": cannot start the fake kernel: %s\n", err);
                abort();
        }
        snprintf(root, sizeof(root), "%s", fk.mnt);
        if (mkdir(state_dir, 0755) < 0 || !(f = fopen(conf_path, "we"))) {
                fprintf(stderr, FUZZ_NAME ": %s: %s\n", scratch, strerror(errno));
                abort();
        }
        fprintf(f, "[Daemon]\nHVO=no\nRefreshSec=10\nStateDirectory=%s\nMetricsListen=no\n\n[Pool 2M]\nPages=4\n", state_dir);
        fclose(f);
        reset_machine();
        log_set_max_level(LOG_CRIT); /* the daemon's warnings about the fuzz are expected */
        /* As main.c: a peer gone is a write error, not a signal. And never
         * systemd's: sd_notify and socket activation stay off. */
        signal(SIGPIPE, SIG_IGN);
        unsetenv("NOTIFY_SOCKET");
        unsetenv("WATCHDOG_USEC");
        unsetenv("LISTEN_FDS");
        unsetenv("LISTEN_PID");
}


/* ---- one daemon per input, assembled as main.c does ---------------------- */

static bool daemon_stopped;        /* CORE_EV_STOPPED was published */
static size_t notifications;       /* notifications the core's events make */

/* The harness's observer: every event's notification (what server.c would
 * tell subscribers) is a valid message; and stopped is published once. */
static void on_event(void *data, struct core *core, const struct core_event *ev)
{
        json_object *n = status_notification(ev), *v;

        (void)data;
        (void)core;
        if (n) {
                check_line(n, "notification");
                CHECK(!json_object_object_get_ex(n, PROTO_F_ID, NULL), "notification with an id");
                CHECK(json_object_object_get_ex(n, PROTO_F_METHOD, &v) && json_object_is_type(v, json_type_string),
                      "notification without method");
                notifications++;
                json_object_put(n);
        }
        if (ev->kind == CORE_EV_STOPPED) {
                CHECK(!daemon_stopped, "stopped published twice");
                daemon_stopped = true;
        }
}

/*
 * main.c's order: core_open, core_init, the edges as edges_start() sets them
 * up (the control socket on socket_path unless NULL; no signal handlers: the
 * fuzzer's process is not a service), then this harness's observer, core_start.
 */
static void setup(struct daemon *d, uv_loop_t *loop, const char *socket_path)
{
        struct config_errors errors = { 0 };
        int r;

        memset(d, 0, sizeof(*d));
        daemon_stopped = false;
        r = core_open(&d->core, root, conf_path, false, state_dir, &errors);
        if (r < 0) {
                for (size_t i = 0; i < errors.n; i++)
                        fprintf(stderr, "%s\n", errors.lines[i]);
                fprintf(stderr, FUZZ_NAME ": core_open: %s\n", strerror(-r));
                abort();
        }
        if (uv_loop_init(loop) < 0)
                abort();
        d->loop = loop;
        core_init(&d->core, loop);
        r = edges_start(d, socket_path, socket_path ? EDGES_SOCKET : 0);
        CHECK(r == 0, "edges_start: %s", strerror(-r));
        r = core_subscribe(&d->core, on_event, NULL);
        CHECK(r == 0, "core_subscribe: %s", strerror(-r));
        core_start(&d->core);
}

/* main.c's end: daemon_stop (stop serving, stop the core; a running resize
 * chunk finishes first), run the loop until every handle closed, free. */
static void teardown(struct daemon *d)
{
        int r;

        daemon_stop(d);
        uv_run(d->loop, UV_RUN_DEFAULT);
        CHECK(daemon_stopped, "the loop ended but the core never published stopped");
        CHECK(!d->waits && !d->server, "the loop ended with %s left", d->waits ? "waits" : "the server");
        r = uv_loop_close(d->loop);
        CHECK(r == 0, "uv_loop_close: %s (a handle was left open)", uv_strerror(r));
        metrics_free(d->metrics);
        core_free(&d->core);
}

/* ---- message checks ------------------------------------------------------ */

/* One of proto.h's error codes (its list, so a new code needs no edit here). */
static bool known_code(int64_t code)
{
#define FUZZ_CODE_(id, value, name) value,
        static const int codes[] = { PROTO_ERRORS(FUZZ_CODE_) };
#undef FUZZ_CODE_
        for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
                if (code == codes[i])
                        return true;
        return false;
}

/* One compact line of JSON-RPC 2.0 that parses back to the same object. */
static void check_line(json_object *o, const char *what)
{
        json_object *v, *back;
        const char *text;
        size_t len;

        CHECK(o && json_object_is_type(o, json_type_object), "%s is not an object", what);
        text = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN, &len);
        CHECK(text && strlen(text) == len && !memchr(text, '\n', len), "%s is not one line", what);
        CHECK(len < PROTO_MAX_OUTBUF, "%s of %zu bytes", what, len);
        back = json_tokener_parse(text);
        CHECK(back && json_object_equal(back, o), "%s does not parse back: %.300s", what, text);
        json_object_put(back);
        CHECK(json_object_object_get_ex(o, PROTO_F_JSONRPC, &v) && json_object_is_type(v, json_type_string) &&
              strcmp(json_object_get_string(v), "2.0") == 0, "%s without \"jsonrpc\":\"2.0\": %.300s", what, text);
        if (!json_object_object_get_ex(o, PROTO_F_ID, NULL))
                return; /* a notification: checked by the caller */
        bool has_result = json_object_object_get_ex(o, PROTO_F_RESULT, NULL);
        bool has_error = json_object_object_get_ex(o, PROTO_F_ERROR, &v);
        CHECK(has_result != has_error, "%s needs exactly one of result and error: %.300s", what, text);
        if (has_error) {
                json_object *code, *msg;

                CHECK(json_object_is_type(v, json_type_object) && json_object_object_get_ex(v, PROTO_F_CODE, &code) &&
                      json_object_is_type(code, json_type_int) && known_code(json_object_get_int64(code)) &&
                      json_object_object_get_ex(v, PROTO_F_MESSAGE, &msg) && json_object_is_type(msg, json_type_string) &&
                      json_object_get_string_len(msg) > 0,
                      "%s has a malformed error: %.300s", what, text);
        }
}

static __attribute__((unused)) int error_code(json_object *reply)
{
        json_object *e, *code;

        if (!json_object_object_get_ex(reply, PROTO_F_ERROR, &e) || !json_object_object_get_ex(e, PROTO_F_CODE, &code))
                return 0;
        return json_object_get_int(code);
}

/* ---- what a request line is, read independently -------------------------- */

/*
 * The protocol takes exactly JSON (RFC 8259), in UTF-8, with no string
 * holding U+0000 (C would see only its head). The grammar and the NUL rule are
 * checked here, from the RFC rather than from the daemon's scanner
 * (rpc-params.c), so the two are compared on every line; UTF-8 is checked
 * against RFC 3629's byte-range grammar (the daemon decodes code points).
 */
struct json_text {
        const char *p, *end;
};

static bool json_more(const struct json_text *t, size_t n)
{
        return (size_t)(t->end - t->p) >= n;
}

static void json_ws(struct json_text *t)
{
        while (json_more(t, 1) && strchr(" \t\n\r", *t->p) && *t->p)
                t->p++;
}

static bool json_digits(struct json_text *t)
{
        const char *from = t->p;

        while (json_more(t, 1) && *t->p >= '0' && *t->p <= '9')
                t->p++;
        return t->p > from;
}

/* number = [ minus ] int [ frac ] [ exp ]; int = zero / ( digit1-9 *DIGIT ) */
static bool json_number(struct json_text *t)
{
        if (json_more(t, 1) && *t->p == '-')
                t->p++;
        if (json_more(t, 1) && *t->p == '0')
                t->p++;
        else if (!json_more(t, 1) || *t->p < '1' || *t->p > '9' || !json_digits(t))
                return false;
        if (json_more(t, 1) && *t->p == '.') {
                t->p++;
                if (!json_digits(t))
                        return false;
        }
        if (json_more(t, 1) && (*t->p == 'e' || *t->p == 'E')) {
                t->p++;
                if (json_more(t, 1) && (*t->p == '+' || *t->p == '-'))
                        t->p++;
                if (!json_digits(t))
                        return false;
        }
        return true;
}

/* string = quotation-mark *char quotation-mark; no control characters unescaped. */
static bool json_string(struct json_text *t)
{
        if (!json_more(t, 1) || *t->p++ != '"')
                return false;
        while (json_more(t, 1)) {
                unsigned char c = (unsigned char)*t->p++;

                if (c == '"')
                        return true;
                if (c < 0x20)
                        return false;
                if (c != '\\')
                        continue;
                if (!json_more(t, 1))
                        return false;
                c = (unsigned char)*t->p++;
                if (c == 'u') {
                        unsigned cp = 0;

                        for (int i = 0; i < 4; i++, t->p++) {
                                if (!json_more(t, 1) || !strchr("0123456789abcdefABCDEF", *t->p) || !*t->p)
                                        return false;
                                cp = cp * 16 + (unsigned)(*t->p <= '9' ? *t->p - '0' : (*t->p | 0x20) - 'a' + 10);
                        }
                        if (cp == 0)
                                return false; /* the NUL rule */
                } else if (!c || !strchr("\"\\/bfnrt", c))
                        return false;
        }
        return false;
}

static bool json_value(struct json_text *t, unsigned depth);

/* object = { [ member *( , member ) ] }; array = [ [ value *( , value ) ] ] */
static bool json_container(struct json_text *t, unsigned depth)
{
        bool object = *t->p == '{';
        char close = object ? '}' : ']';

        t->p++;
        json_ws(t);
        if (json_more(t, 1) && *t->p == close) {
                t->p++;
                return true;
        }
        for (;;) {
                json_ws(t);
                if (object) {
                        if (!json_string(t))
                                return false;
                        json_ws(t);
                        if (!json_more(t, 1) || *t->p++ != ':')
                                return false;
                }
                if (!json_value(t, depth + 1))
                        return false;
                json_ws(t);
                if (!json_more(t, 1))
                        return false;
                if (*t->p == close) {
                        t->p++;
                        return true;
                }
                if (*t->p++ != ',')
                        return false;
        }
}

static bool json_value(struct json_text *t, unsigned depth)
{
        static const char *const literals[] = { "true", "false", "null" };

        json_ws(t);
        if (!json_more(t, 1) || depth > 64)
                return false; /* (deeper than any nesting the daemon takes: json-c decides) */
        if (*t->p == '{' || *t->p == '[')
                return json_container(t, depth);
        if (*t->p == '"')
                return json_string(t);
        if (*t->p == '-' || (*t->p >= '0' && *t->p <= '9'))
                return json_number(t);
        for (size_t i = 0; i < sizeof(literals) / sizeof(literals[0]); i++)
                if (json_more(t, strlen(literals[i])) && memcmp(t->p, literals[i], strlen(literals[i])) == 0) {
                        t->p += strlen(literals[i]);
                        return true;
                }
        return false;
}

/* JSON-text = ws value ws */
static bool is_json_text(const char *text, size_t len)
{
        struct json_text t = { text, text + len };

        if (!json_value(&t, 0))
                return false;
        json_ws(&t);
        return t.p == t.end;
}

/* What the line is: a request (with id), a notification (an object without
 * id), or not a JSON object at all (NULL). */
struct expect {
        json_object *req;   /* owned */
        bool has_id;
        json_object *id;    /* what the reply's id must equal (NULL: null) */
        const char *method; /* NULL if none or not a string */
};

/* RFC 3629 section 4, range by range: no overlong forms, no surrogates, nothing past U+10FFFF. */
static bool is_utf8(const unsigned char *p, size_t len)
{
        static const struct { unsigned char lo, hi, b2lo, b2hi; unsigned tails; } lead[] = {
                { 0xC2, 0xDF, 0x80, 0xBF, 0 }, { 0xE0, 0xE0, 0xA0, 0xBF, 1 }, { 0xE1, 0xEC, 0x80, 0xBF, 1 },
                { 0xED, 0xED, 0x80, 0x9F, 1 }, { 0xEE, 0xEF, 0x80, 0xBF, 1 }, { 0xF0, 0xF0, 0x90, 0xBF, 2 },
                { 0xF1, 0xF3, 0x80, 0xBF, 2 }, { 0xF4, 0xF4, 0x80, 0x8F, 2 },
        };
        size_t i = 0;
        while (i < len) {
                if (p[i] < 0x80) {
                        i++;
                        continue;
                }
                size_t k = 0;
                while (k < sizeof(lead) / sizeof(lead[0]) && (p[i] < lead[k].lo || p[i] > lead[k].hi))
                        k++;
                if (k == sizeof(lead) / sizeof(lead[0]) || i + 1 + 1 + lead[k].tails > len ||
                    p[i + 1] < lead[k].b2lo || p[i + 1] > lead[k].b2hi)
                        return false;
                for (unsigned t = 0; t < lead[k].tails; t++)
                        if (p[i + 2 + t] < 0x80 || p[i + 2 + t] > 0xBF)
                                return false;
                i += 2 + lead[k].tails;
        }
        return true;
}

static void expect_of(const char *line, size_t len, struct expect *e)
{
        struct json_tokener *tok;
        json_object *v;

        memset(e, 0, sizeof(*e));
        if (!is_json_text(line, len) || !is_utf8((const unsigned char *)line, len))
                return;
        /* The nesting limit and UTF-8 as the daemon has them (proto.h, json-c). */
        tok = json_tokener_new_ex(PROTO_MAX_DEPTH);
        if (!tok)
                abort();
        json_tokener_set_flags(tok, JSON_TOKENER_VALIDATE_UTF8);
        e->req = json_tokener_parse_ex(tok, line, (int)len);
        if (!e->req && json_tokener_get_error(tok) == json_tokener_continue)
                e->req = json_tokener_parse_ex(tok, "", 1); /* a bare number: the end of the line ends it */
        bool ok = e->req && json_tokener_get_error(tok) == json_tokener_success;
        json_tokener_free(tok);
        if (!ok || !json_object_is_type(e->req, json_type_object)) {
                json_object_put(e->req);
                e->req = NULL;
                return;
        }
        e->has_id = json_object_object_get_ex(e->req, PROTO_F_ID, &v);
        if (e->has_id && v && (json_object_is_type(v, json_type_string) || json_object_is_type(v, json_type_int)))
                e->id = v;
        if (json_object_object_get_ex(e->req, PROTO_F_METHOD, &v) && json_object_is_type(v, json_type_string))
                e->method = json_object_get_string(v);
}

#endif
