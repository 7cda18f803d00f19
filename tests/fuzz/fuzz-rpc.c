/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer harness: hugevmd's request parser and dispatcher
 * (daemon/api/rpc.c rpc_handle_line) with the real daemon behind it, linked
 * from daemon/libhugevmd.a: core, config, reconciler (its resize jobs run on
 * libuv's threadpool and write the fake kernel), status, waits, state file,
 * ledger, metrics and observers, all on the fake machine of fuzz-daemon.h.
 * No socket: requests come from no connection (client NULL), as in
 * tests/daemon/test-core.c; fuzz-server drives the same behind the socket.
 *
 * Input: request lines separated by '\n', as a client sends them (at most
 * MAX_LINES). Each input gets a fresh daemon (assembled as main.c does) on
 * the fake kernel put back to the same machine, so a reproducer replays alone.
 *
 * Each line is handled twice, as it is: from a peer without a role
 * (PROTO_ROLE_NONE), then from an admin. With no connection the daemon
 * answers subscribe with an error and a wait at once, as with timeout_ms 0
 * (rpc.c m_subscribe, waits.c waits_start); subscriptions, parked waits and
 * their late replies are fuzz-server's.
 *
 * Properties (docs/protocol.md, proto.h):
 *   - every reply and notification is one compact JSON-RPC 2.0 line that
 *     parses back to itself: "jsonrpc":"2.0", an id, exactly one of result
 *     or error, an error has an integer code from proto.h and a string message;
 *   - a reply's id is the request's id (null when the line was not a request
 *     or the id was not a string or integer);
 *   - every request with an id gets exactly one reply, at once;
 *   - a notification (no id) gets no reply, except the parse/invalid-request
 *     errors that make the id unknowable (answered with id null);
 *   - a peer without a role (PROTO_ROLE_NONE) is refused everything but version;
 *   - a pool.set that succeeded with persist (not dry_run) is in the state
 *     file, read back with state_load, exactly as the daemon now holds it;
 *     the state file is never unreadable;
 *   - at teardown (main.c's: core_stop, stopped published, waits freed) the
 *     loop closes cleanly (no handle left behind) and ASan sees no leak.
 */
#include "config.h"

#define FUZZ_NAME "fuzz-rpc"
#include "fuzz-daemon.h"

#define MAX_LINES 16

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
        const struct target *rt = NULL;
        for (size_t k = 0; k < d->core.n_runtime; k++)
                if (d->core.runtime[k].size_kb == size_kb)
                        rt = &d->core.runtime[k];
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
        size_t start = 0, lines = 0;

        reset_machine();
        notifications = 0;
        setup(&d, &loop, NULL);

        for (size_t pos = 0; pos <= size && lines < MAX_LINES; pos++) {
                if (pos < size && data[pos] != '\n')
                        continue;
                /* The daemon gets the line as the fuzzer made it, not NUL-terminated
                 * (ASan sees a read past its end); messages get a C string. */
                const char *line = (const char *)data + start;
                size_t len = pos - start;
                char *shown = strndup(line, len);
                struct expect e;
                json_object *reply;

                if (!shown)
                        abort();
                start = pos + 1;
                lines++;
                expect_of(line, len, &e);

                /* A peer with no role: version only. */
                reply = rpc_handle_line(&d, NULL, PROTO_ROLE_NONE, line, len);
                if (reply) {
                        check_line(reply, "reply");
                        check_reply_id(reply, &e, shown);
                        if (!json_object_object_get_ex(reply, PROTO_F_ERROR, NULL))
                                CHECK(e.method && strcmp(e.method, PROTO_M_VERSION) == 0,
                                      "PROTO_ROLE_NONE got a result for %.200s", shown);
                } else
                        CHECK(e.req && !e.has_id, "PROTO_ROLE_NONE got no reply to %.200s", shown);
                json_object_put(reply);

                reply = rpc_handle_line(&d, NULL, PROTO_ROLE_ADMIN, line, len);
                if (getenv("FUZZ_VERBOSE"))
                        fprintf(stderr, "> %s\n< %s\n", shown,
                                reply ? json_object_to_json_string_ext(reply, JSON_C_TO_STRING_PLAIN) : "(none)");
                if (!e.req) {
                        CHECK(reply, "no reply to a line that is not a JSON object: %.200s", shown);
                        check_line(reply, "reply");
                        check_reply_id(reply, &e, shown);
                        CHECK(error_code(reply) == PROTO_ERR_PARSE || error_code(reply) == PROTO_ERR_INVALID_REQUEST,
                              "not an object but code %d: %.200s", error_code(reply), shown);
                } else if (!e.has_id) {
                        if (reply) {
                                check_line(reply, "reply");
                                check_reply_id(reply, &e, shown);
                                CHECK(error_code(reply) == PROTO_ERR_PARSE || error_code(reply) == PROTO_ERR_INVALID_REQUEST,
                                      "a notification was answered (code %d): %.200s", error_code(reply), shown);
                        }
                } else {
                        CHECK(reply, "a request was not answered: %.200s", shown);
                        check_line(reply, "reply");
                        check_reply_id(reply, &e, shown);
                }
                check_state(&d, &e, reply, shown);
                json_object_put(reply);
                json_object_put(e.req);
                free(shown);
                /* The daemon works between requests: finished jobs, due timers. */
                uv_run(&loop, UV_RUN_NOWAIT);
        }
        if (getenv("FUZZ_VERBOSE"))
                fprintf(stderr, "%zu notifications\n", notifications);
        teardown(&d);
        return 0;
}
