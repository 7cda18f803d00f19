/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer harness: hugevmd's request parser and dispatcher
 * (daemon/rpc.c rpc_handle_line) with the real daemon behind it: config,
 * reconciler (its resize jobs run on libuv's threadpool and write the fake
 * root), status, state file, ledger, metrics, all on a fake machine
 * (x86-64 6.18, hstates 2048kB and 1048576kB, nodes 0 and 1, 4 GiB).
 *
 * Input: request lines separated by '\n', as a client sends them (at most
 * MAX_LINES). Each input gets a fresh daemon (set up as main.c does) and a
 * freshly reset fake root, so a reproducer replays alone.
 *
 * What stands in for what is not fuzzed: the socket layer (server.c) is
 * replaced by a recording client (server_send, server_broadcast,
 * server_client_hold, server_client_set_subscribed below), and main.c's
 * shutdown (daemon_stop, daemon_stop_continue) by the harness's own teardown.
 *
 * Properties (docs/DESIGN.md "Control protocol", proto.h):
 *   - every reply and notification is one compact JSON-RPC 2.0 line that
 *     parses back to itself: "jsonrpc":"2.0", an id, exactly one of result
 *     or error, an error has an integer code from proto.h and a string message;
 *   - a reply's id is the request's id (null when the line was not a request
 *     or the id was not a string or integer);
 *   - every request with an id gets exactly one reply: now, or later for a
 *     parked wait (counted at the end: direct + later replies + still parked);
 *   - a notification (no id) gets no reply, except the parse/invalid-request
 *     errors that make the id unknowable (answered with id null);
 *   - a peer without a role (PROTO_ROLE_NONE) is refused everything but version;
 *   - a pool.set that succeeded with persist (not dry_run) is in the state
 *     file, read back with state_load, exactly as the daemon now holds it;
 *     the state file is never unreadable;
 *   - at teardown the loop closes cleanly (no handle left behind) and ASan
 *     sees no leak.
 */
#include "config.h"

#define FUZZ_NAME "fuzz-rpc"
#include "fuzz-daemon.h"

#define MAX_LINES 16

/* ---- the recording client: stands in for server.c ----------------------- */

struct client {
        int holds;            /* parked waits holding it open */
        bool subscribed;
        size_t late_replies;  /* replies sent through server_send (waits) */
        size_t notifications;
};

static struct client the_client;


void server_send(struct client *c, json_object *obj)
{
        CHECK(c == &the_client, "server_send to an unknown client %p", (void *)c);
        check_line(obj, "late reply");
        CHECK(json_object_object_get_ex(obj, PROTO_F_ID, NULL), "server_send of a message without id");
        c->late_replies++;
        json_object_put(obj);
}

void server_broadcast(struct daemon *d, json_object *obj)
{
        json_object *v;

        (void)d;
        check_line(obj, "notification");
        CHECK(!json_object_object_get_ex(obj, PROTO_F_ID, NULL), "notification with an id");
        CHECK(json_object_object_get_ex(obj, PROTO_F_METHOD, &v) && json_object_is_type(v, json_type_string),
              "notification without method");
        the_client.notifications++;
        json_object_put(obj);
}

void server_client_set_subscribed(struct client *c)
{
        CHECK(c == &the_client, "subscribe of an unknown client");
        c->subscribed = true;
}

void server_client_hold(struct client *c, int delta)
{
        CHECK(c == &the_client, "hold of an unknown client");
        c->holds += delta;
        CHECK(c->holds >= 0, "client released more often than held");
}

int server_start(struct daemon *d, const char *socket_path)
{
        (void)d;
        (void)socket_path;
        return -EOPNOTSUPP;
}

void server_stop(struct daemon *d)
{
        (void)d;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
        (void)argc;
        (void)argv;
        fuzz_daemon_init();
        return 0;
}

static bool param_is(json_object *req, const char *key, bool value)
{
        json_object *params, *v;

        return json_object_object_get_ex(req, PROTO_F_PARAMS, &params) && params &&
               json_object_object_get_ex(params, key, &v) && json_object_is_type(v, json_type_boolean) &&
               json_object_get_boolean(v) == value;
}

static bool same_target(const struct target *a, const struct target *b)
{
        if (a->size_kb != b->size_kb || a->has_pages != b->has_pages || (a->has_pages && a->pages != b->pages) ||
            a->node_mask != b->node_mask || a->has_overcommit != b->has_overcommit ||
            (a->has_overcommit && a->overcommit != b->overcommit))
                return false;
        for (unsigned n = 0; n < HUGEVMD_MAX_NODES; n++)
                if ((a->node_mask & (UINT64_C(1) << n)) && a->node_pages[n] != b->node_pages[n])
                        return false;
        return true;
}

/* The state file: readable (or absent); after a persisted pool.set it holds
 * the daemon's runtime target for that size. */
static void check_state(struct daemon *d, const struct expect *e, json_object *reply, const char *line)
{
        struct target targets[HUGEVMD_MAX_POOLS];
        char err[512] = "";
        size_t n = 0;
        int r = state_load(state_dir, targets, HUGEVMD_MAX_POOLS, &n, err, sizeof(err));
        json_object *result, *v;

        CHECK(r == 0 || r == -ENOENT, "state file unreadable (%d: %s) after %.200s", r, err, line);
        if (!reply || !e->method || strcmp(e->method, PROTO_M_POOL_SET) != 0 ||
            !json_object_object_get_ex(reply, PROTO_F_RESULT, &result) ||
            param_is(e->req, PROTO_F_PERSIST, false) || param_is(e->req, PROTO_F_DRY_RUN, true))
                return;
        CHECK(r == 0, "a persisted pool.set left no state file: %.200s", line);
        CHECK(json_object_object_get_ex(result, PROTO_F_SIZE_BYTES, &v), "pool.set result without %s", PROTO_F_SIZE_BYTES);
        uint64_t size_kb = json_object_get_uint64(v) / 1024;
        const struct target *rt = daemon_runtime_target(d, size_kb, false);
        CHECK(rt, "a persisted pool.set left no runtime target: %.200s", line);
        size_t i;
        for (i = 0; i < n && targets[i].size_kb != size_kb; i++)
                ;
        CHECK(i < n, "the state file has no target for %llukB after %.200s", (unsigned long long)size_kb, line);
        CHECK(same_target(&targets[i], rt), "the state file's %llukB target differs from the daemon's after %.200s",
              (unsigned long long)size_kb, line);
}

static void check_reply_id(json_object *reply, const struct expect *e, const char *line)
{
        json_object *id = NULL;

        CHECK(json_object_object_get_ex(reply, PROTO_F_ID, &id), "reply without id to %.200s", line);
        CHECK(e->id ? id && json_object_equal(id, e->id) : id == NULL, "reply id %s, request %.200s",
              json_object_to_json_string(id), line);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct daemon d;
        uv_loop_t loop;
        size_t requests = 0, direct = 0, start = 0, lines = 0;

        reset_machine();
        memset(&the_client, 0, sizeof(the_client));
        setup(&d, &loop);

        for (size_t pos = 0; pos <= size && lines < MAX_LINES; pos++) {
                if (pos < size && data[pos] != '\n')
                        continue;
                const char *line = (const char *)data + start;
                size_t len = pos - start;
                struct expect e;
                json_object *reply;
                int holds = the_client.holds;

                start = pos + 1;
                lines++;
                expect_of(line, len, &e);

                /* A peer with no role: version only. */
                reply = rpc_handle_line(&d, &the_client, PROTO_ROLE_NONE, line, len);
                if (reply) {
                        check_line(reply, "reply");
                        if (!json_object_object_get_ex(reply, PROTO_F_ERROR, NULL))
                                CHECK(e.method && strcmp(e.method, PROTO_M_VERSION) == 0,
                                      "PROTO_ROLE_NONE got a result for %.200s", line);
                }
                json_object_put(reply);
                CHECK(the_client.holds == holds, "PROTO_ROLE_NONE parked a request");

                reply = rpc_handle_line(&d, &the_client, PROTO_ROLE_ADMIN, line, len);
                if (getenv("FUZZ_VERBOSE"))
                        fprintf(stderr, "> %.*s\n< %s\n", (int)len, line,
                                reply ? json_object_to_json_string_ext(reply, JSON_C_TO_STRING_PLAIN) : "(none)");
                if (!e.req) {
                        CHECK(reply, "no reply to a line that is not a JSON object: %.200s", line);
                        check_line(reply, "reply");
                        check_reply_id(reply, &e, line);
                        CHECK(error_code(reply) == PROTO_ERR_PARSE || error_code(reply) == PROTO_ERR_INVALID_REQUEST,
                              "not an object but code %d: %.200s", error_code(reply), line);
                } else if (!e.has_id) {
                        if (reply) {
                                check_line(reply, "reply");
                                check_reply_id(reply, &e, line);
                                CHECK(error_code(reply) == PROTO_ERR_PARSE || error_code(reply) == PROTO_ERR_INVALID_REQUEST,
                                      "a notification was answered (code %d): %.200s", error_code(reply), line);
                        }
                } else {
                        requests++;
                        if (reply) {
                                check_line(reply, "reply");
                                check_reply_id(reply, &e, line);
                                direct++;
                                CHECK(the_client.holds == holds, "answered and parked: %.200s", line);
                        } else
                                CHECK(the_client.holds == holds + 1, "a request was neither answered nor parked: %.200s", line);
                }
                check_state(&d, &e, reply, line);
                json_object_put(reply);
                json_object_put(e.req);
                /* The daemon works between requests: finished jobs, due timers. */
                uv_run(&loop, UV_RUN_NOWAIT);
        }
        /* Let the last job finish (it may answer waits) before counting. */
        d.stopping = true;
        while (d.job_running)
                uv_run(&loop, UV_RUN_ONCE);
        size_t parked = count_waits(&d);
        CHECK(requests == direct + the_client.late_replies + parked,
              "%zu requests, %zu replies now, %zu later, %zu still waiting", requests, direct,
              the_client.late_replies, parked);
        CHECK((size_t)the_client.holds == parked, "%d holds for %zu parked waits", the_client.holds, parked);
        teardown(&d);
        return 0;
}
