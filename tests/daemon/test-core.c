/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hugevmd's core and the edges that need no socket, against the core's API on
 * the fake kernel (tests/fakekernel, mounted by fk.c): the reconciler brings
 * a pool to its target and publishes what it did; status.c builds objects and
 * notifications from that; the methods answer request lines; waits answer at
 * once when they can; a pool that cannot be read or written is degraded (the
 * fake's "fail" command). Expected figures come from the fake's model
 * (MNT/.fake/state) and the files it serves, or from arithmetic here, never
 * from the daemon. The config and the state directory are plain files in a
 * temporary directory: they are no kernel's.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon.h"
#include "edges.h"
#include "fakekernel/fk.h"
#include "metrics.h"
#include "proto.h"
#include "rpc.h"
#include "status.h"
#include "tap.h"
#include "unit/fake.h"
#include "waits.h"

#define HP2M "sys/kernel/mm/hugepages/hugepages-2048kB/"

static struct fk fk;
static char *tmp;            /* plain files: the config, the state directory, the mount point */
static const char *root;     /* the fake kernel's mount point: the daemon's root */
static char conf[2048], state_dir[2048];

/* The machine (fake_x86_64's pools, as a kernel can hold them): x86-64 6.18
 * with two nodes, the 2048kB pool at 10 pages (6 on node 0, 4 on node 1; 3 of
 * node 0's in use by a process, held in main) with overcommit 5, and 2
 * gigantic pages on node 0; HVO off. Nodes of 4 GiB, 3 of them for hugetlb,
 * so that every pool here fits. */
#define POOL0_2M 6
#define POOL1_2M 4
#define INUSE_2M 3
static const char *const machine[] = {
        "release=6.18.0-1-amd64", "nodes=2", "mem=4G", "hugemem=3G", "hvo=0",
        "pool.2048kB.0=6", "pool.2048kB.1=4", "pool.1048576kB.0=2", "overcommit.2048kB=5", NULL,
};

/* One value of the fake's model. */
static uint64_t model(const char *key)
{
        uint64_t v;
        int r = fk_state_u64(&fk, key, &v);
        if (r < 0) {
                printf("Bail out! the fake kernel's state has no number %s: %s\n", key, strerror(-r));
                exit(1);
        }
        return v;
}

/* One control command to the fake; bails out if it refuses it. */
#define control(...) do { \
        char why_[256]; \
        if (fk_ctl(&fk, why_, sizeof why_, __VA_ARGS__) < 0) { \
                printf("Bail out! fake kernel control: %s\n", why_); \
                exit(1); \
        } \
} while (0)

/* The observer stops the loop on this kind of event. */
static enum core_event_kind stop_on = CORE_EV_CONVERGED;

/* What the observer saw, in order. */
static struct {
        enum core_event_kind kind[1024];
        int state[1024];
        uint64_t current[1024];
        size_t n;
} seen;

static void record(void *data, struct core *core, const struct core_event *ev)
{
        (void)data;
        (void)core;
        if (seen.n < 1024) {
                seen.kind[seen.n] = ev->kind;
                seen.state[seen.n] = ev->state;
                seen.current[seen.n] = ev->current;
                seen.n++;
        }
        if (ev->kind == stop_on)
                uv_stop(core->loop);
}

static size_t count_kind(enum core_event_kind k)
{
        size_t n = 0;
        for (size_t i = 0; i < seen.n; i++)
                n += seen.kind[i] == k;
        return n;
}

/* Progress events from index from on: how many went outside [lo, hi] (a
 * resize writes toward its target, never past it: pages allocated only to be
 * freed again, or freed only to be allocated again). */
static size_t progress_outside(size_t from, uint64_t lo, uint64_t hi)
{
        size_t n = 0;
        for (size_t i = from; i < seen.n; i++)
                n += seen.kind[i] == CORE_EV_PROGRESS && (seen.current[i] < lo || seen.current[i] > hi);
        return n;
}

static uint64_t read_file_u64(const char *rel)
{
        char path[4096];
        unsigned long long v = 0;
        snprintf(path, sizeof path, "%s/%s", root, rel);
        FILE *f = fopen(path, "re");
        if (!f || fscanf(f, "%llu", &v) != 1) {
                printf("Bail out! cannot read %s\n", path);
                exit(1);
        }
        fclose(f);
        return v;
}

static void give_up_cb(uv_timer_t *t)
{
        *(bool *)t->data = true;
        uv_stop(t->loop);
}

/* Run the loop until the observer sees one more kind event, at most 10 s.
 * (An event published outside the loop, by a call here, may have left a
 * uv_stop behind: that only ends one uv_run early.) */
static void run_until(uv_loop_t *loop, enum core_event_kind kind)
{
        uv_timer_t t;
        size_t before = count_kind(kind);
        bool gave_up = false;
        stop_on = kind;
        uv_timer_init(loop, &t);
        t.data = &gave_up;
        uv_timer_start(&t, give_up_cb, 10000, 0);
        while (count_kind(kind) == before && !gave_up)
                uv_run(loop, UV_RUN_DEFAULT);
        uv_close((uv_handle_t *)&t, NULL);
        uv_run(loop, UV_RUN_NOWAIT);
}

static void run_until_converged(uv_loop_t *loop)
{
        run_until(loop, CORE_EV_CONVERGED);
}

/* One request line through the methods as a role; the reply (caller puts it). */
static json_object *call(struct daemon *d, enum proto_role role, const char *line)
{
        return rpc_handle_line(d, NULL, role, line, strlen(line));
}

static int error_code(json_object *reply)
{
        json_object *e, *code;
        if (!json_object_object_get_ex(reply, "error", &e) || !json_object_object_get_ex(e, "code", &code))
                return 0;
        return json_object_get_int(code);
}

static json_object *result_field(json_object *reply, const char *key)
{
        json_object *r, *v;
        if (!json_object_object_get_ex(reply, "result", &r) || !json_object_object_get_ex(r, key, &v))
                return NULL;
        return v;
}

static void test_reconciler(struct daemon *d)
{
        struct core *core = &d->core;
        ok(core->n_pools == 2, "the core found the fake kernel's two sizes");
        core_start(core);
        run_until_converged(core->loop);
        is_int((int)read_file_u64(HP2M "nr_hugepages"), 16, "the reconciler wrote the target into nr_hugepages (16)");
        is_int((int)model("2048kB.nr"), 16, "the fake holds 16 pages");
        is_int((int)(model("2048kB.node0.nr") + model("2048kB.node1.nr")), 16, "... on its two nodes");
        is_int((int)model("2048kB.inuse"), INUSE_2M, "the pages in use stayed in use (%d)", INUSE_2M);
        is_int((int)read_file_u64("proc/sys/vm/hugetlb_optimize_vmemmap"), 1, "HVO was turned on before growing");
        is_int((int)model("hvo"), 1, "... in the fake's model too");
        is_int((int)model("2048kB.optimized"), 16 - (POOL0_2M + POOL1_2M),
               "the pages added after HVO was on are optimized, the older ones not (%d)", 16 - (POOL0_2M + POOL1_2M));
        ok(count_kind(CORE_EV_HVO_CHANGED) == 1, "one HVO-changed event");
        ok(count_kind(CORE_EV_PROGRESS) >= 1, "progress events for the resize (%zu)", count_kind(CORE_EV_PROGRESS));
        ok(count_kind(CORE_EV_CONVERGED) == 1, "one converged event");
        ok(count_kind(CORE_EV_REFRESHED) >= 2, "refreshed events (%zu)", count_kind(CORE_EV_REFRESHED));
        size_t last_progress = 0, hvo_at = SIZE_MAX, first_progress = SIZE_MAX;
        for (size_t i = 0; i < seen.n; i++) {
                if (seen.kind[i] == CORE_EV_PROGRESS) {
                        last_progress = i;
                        if (first_progress == SIZE_MAX)
                                first_progress = i;
                }
                if (seen.kind[i] == CORE_EV_HVO_CHANGED && hvo_at == SIZE_MAX)
                        hvo_at = i;
        }
        ok(hvo_at < first_progress, "HVO changed before the first resize write");
        is_int((int)seen.current[last_progress], 16, "the last progress event reached 16 pages");
        is_int((int)progress_outside(0, POOL0_2M + POOL1_2M, 16), 0, "no write went past the target: every progress in [%d, 16]",
               POOL0_2M + POOL1_2M);
        struct pool_rt *p = core_pool(core, 2048);
        is_str(pool_state_name(reconcile_pool_state(core, p, NULL)), "converged", "the 2048kB pool is converged");
        is_str(pool_state_name(reconcile_pool_state(core, core_pool(core, 1048576), NULL)), "unmanaged",
               "the 1G pool (no target) is unmanaged");
}

static void test_status(struct daemon *d)
{
        struct core *core = &d->core;
        json_object *st = status_build(core), *pools, *p0, *v;
        ok(json_object_object_get_ex(st, PROTO_F_POOLS, &pools) && json_object_array_length(pools) == 2, "STATUS lists two pools");
        p0 = json_object_array_get_idx(pools, 0);
        ok(json_object_object_get_ex(p0, PROTO_F_SIZE, &v) && strcmp(json_object_get_string(v), "2048kB") == 0,
           "pools[0] is 2048kB");
        ok(json_object_object_get_ex(p0, PROTO_F_PAGES, &v) &&
           json_object_get_uint64(v) == read_file_u64(HP2M "nr_hugepages"), "pools[0].pages is what nr_hugepages holds");
        ok(json_object_object_get_ex(p0, PROTO_F_OPTIMIZED_PAGES, &v) &&
           json_object_get_uint64(v) == model("2048kB.optimized"), "pools[0].optimized_pages is the fake's (%d)",
           (int)model("2048kB.optimized"));
        json_object *measured, *mv;
        ok(json_object_object_get_ex(st, PROTO_F_MEASURED, &measured) &&
           json_object_object_get_ex(measured, PROTO_F_SAVED_PAGES, &mv) &&
           json_object_get_int64(mv) == (int64_t)model("memmap_saved"),
           "the memmap pages saved are what the fake's counters moved (%d)", (int)model("memmap_saved"));
        uint64_t memmap_now = model("memmap_pages") + model("memmap_boot_pages");
        ok(json_object_object_get_ex(measured, PROTO_F_CURRENT_PAGES, &mv) && json_object_get_uint64(mv) == memmap_now,
           "and the memmap pages now are the fake's nr_memmap_pages + nr_memmap_boot_pages (%d)", (int)memmap_now);
        ok(json_object_object_get_ex(st, PROTO_F_CONVERGED, &v) && json_object_get_boolean(v), "STATUS says converged");
        json_object_put(st);

        char text[256];
        status_text(core, text, sizeof text);
        ok(strncmp(text, "all pools converged, ", 21) == 0, "the STATUS= line says converged: %s", text);

        struct core_event ev = { .kind = CORE_EV_PROGRESS, .pool = core_pool(core, 2048), .node = -1, .from = 10,
                                 .current = 12, .target = 16, .wrote = true };
        json_object *n = status_notification(&ev), *params;
        ok(n && json_object_object_get_ex(n, "method", &v) && strcmp(json_object_get_string(v), PROTO_N_PROGRESS) == 0,
           "a progress event is told as a %s notification", PROTO_N_PROGRESS);
        ok(n && json_object_object_get_ex(n, "params", &params) && json_object_object_get_ex(params, PROTO_F_CURRENT, &v) &&
           json_object_get_uint64(v) == 12, "with current 12");
        json_object_put(n);
        ev.wrote = false;
        ok(status_notification(&ev) == NULL, "a write that failed outright is not told as progress");
        ev.kind = CORE_EV_REFRESHED;
        ok(status_notification(&ev) == NULL, "a refresh is not told to clients");
}

static void test_methods(struct daemon *d)
{
        json_object *r = call(d, PROTO_ROLE_READ, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"pool.set\",\"params\":{\"size\":\"2M\",\"pages\":20}}");
        is_int(error_code(r), PROTO_ERR_PERMISSION, "pool.set needs the admin role");
        json_object_put(r);
        is_int((int)read_file_u64(HP2M "nr_hugepages"), 16, "... and changed nothing");

        r = call(d, PROTO_ROLE_ADMIN, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"pool.set\",\"params\":{\"size\":\"2M\",\"pages\":20,\"dry_run\":true}}");
        json_object *v = result_field(r, PROTO_F_STATE);
        ok(v && strcmp(json_object_get_string(v), "converging") == 0, "a dry run says the pool would converge");
        json_object_put(r);
        struct target t;
        core_effective_target(&d->core, 2048, &t);
        is_int((int)t.pages, 16, "... and the target in force is still 16");

        r = call(d, PROTO_ROLE_ADMIN, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"pool.set\",\"params\":{\"size\":\"2M\",\"pages\":20}}");
        v = result_field(r, PROTO_F_TARGET);
        ok(v && json_object_get_uint64(v) == 20, "pool.set answers with the new target (20)");
        json_object_put(r);
        char path[4096];
        struct stat st;
        snprintf(path, sizeof path, "%s/state.json", state_dir);
        ok(stat(path, &st) == 0 && st.st_size > 0, "the new target was persisted in %s", path);

        r = call(d, PROTO_ROLE_READ, "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"wait\",\"params\":{\"size\":\"2M\",\"timeout_ms\":0}}");
        is_int(error_code(r), PROTO_ERR_TIMEOUT, "wait for a converging pool with timeout 0 times out at once");
        json_object_put(r);

        r = call(d, PROTO_ROLE_READ, "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"wait\",\"params\":{\"size\":\"1G\",\"timeout_ms\":0}}");
        v = result_field(r, PROTO_F_SIZE);
        ok(v && strcmp(json_object_get_string(v), "1048576kB") == 0,
           "wait for the settled 1G pool answers at once with its POOL object, whatever the 2M pool does");
        json_object_put(r);

        r = call(d, PROTO_ROLE_READ, "{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"wait\",\"params\":{\"node\":0}}");
        is_int(error_code(r), PROTO_ERR_INVALID_PARAMS, "wait: node without size is refused");
        json_object_put(r);
        r = call(d, PROTO_ROLE_READ, "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"wait\",\"params\":{\"size\":\"2M\",\"node\":7}}");
        is_int(error_code(r), PROTO_ERR_UNSUPPORTED, "wait: a node the machine lacks is refused");
        json_object_put(r);

        size_t from = seen.n;
        run_until_converged(d->loop);
        is_int((int)read_file_u64(HP2M "nr_hugepages"), 20, "the reconciler brought the pool to the new target (20)");
        is_int((int)progress_outside(from, 16, 20), 0, "every progress in [16, 20]");
        is_int((int)model("2048kB.optimized"), 20 - (POOL0_2M + POOL1_2M), "... the 4 new pages optimized too");
        r = call(d, PROTO_ROLE_READ, "{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"wait\",\"params\":{\"size\":\"2M\",\"timeout_ms\":0}}");
        v = result_field(r, PROTO_F_PAGES);
        ok(v && json_object_get_uint64(v) == model("2048kB.nr"), "wait for the converged pool answers with its %d pages",
           (int)model("2048kB.nr"));
        json_object_put(r);
}

/* A state directory that cannot be written: nothing changes. */
static void test_persist_rollback(struct daemon *d)
{
        char bad[4096];
        snprintf(bad, sizeof bad, "%s/not-a-dir", tmp);
        fake_file(tmp, "not-a-dir", "x");
        d->core.state_dir_override = bad;
        struct target t = { .has_pages = true, .pages = 30 };
        int r = core_set_target(&d->core, core_pool(&d->core, 2048), &t, true);
        ok(r < 0, "core_set_target fails when the state file cannot be written (%s)", strerror(-r));
        struct target now;
        core_effective_target(&d->core, 2048, &now);
        is_int((int)now.pages, 20, "the target in force is unchanged (20)");
        is_int((int)model("2048kB.nr"), 20, "the pool is unchanged");
        json_object *reply = call(d, PROTO_ROLE_ADMIN, "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"pool.set\",\"params\":{\"size\":\"2M\",\"pages\":30}}");
        is_int(error_code(reply), PROTO_ERR_STATE, "pool.set says the state file could not be saved");
        json_object_put(reply);
        is_int((int)model("2048kB.nr"), 20, "... and still unchanged");
        d->core.state_dir_override = state_dir;
        fake_remove(tmp, "not-a-dir");
}

/* A pool that cannot be read is degraded: a wait for it fails at once with
 * that pool only; once it reads again it is what the fake holds. */
static void test_wait_degraded(struct daemon *d)
{
        control("fail read /" HP2M "nr_hugepages EIO 1");
        reconcile_refresh(&d->core);
        const char *reason = NULL;
        is_str(pool_state_name(reconcile_pool_state(&d->core, core_pool(&d->core, 2048), &reason)), "degraded",
               "a pool whose nr_hugepages cannot be read is degraded (%s)", reason ? reason : "");
        json_object *r = call(d, PROTO_ROLE_READ, "{\"jsonrpc\":\"2.0\",\"id\":10,\"method\":\"wait\",\"params\":{\"size\":\"2M\"}}");
        is_int(error_code(r), PROTO_ERR_SHORTFALL, "wait for a degraded pool answers shortfall at once");
        json_object *e, *data, *pools;
        ok(json_object_object_get_ex(r, "error", &e) && json_object_object_get_ex(e, "data", &data) &&
           json_object_object_get_ex(data, PROTO_F_POOLS, &pools) && json_object_array_length(pools) == 1,
           "its data lists just that pool");
        json_object_put(r);
        r = call(d, PROTO_ROLE_READ, "{\"jsonrpc\":\"2.0\",\"id\":11,\"method\":\"wait\",\"params\":{\"size\":\"1G\"}}");
        is_int(error_code(r), 0, "wait for the 1G pool is not failed by the degraded 2M pool");
        json_object_put(r);

        reconcile_refresh(&d->core);   /* the failure was for one read */
        is_str(pool_state_name(reconcile_pool_state(&d->core, core_pool(&d->core, 2048), NULL)), "converged",
               "read again, the pool is converged: the fake holds %d pages, the target", (int)model("2048kB.nr"));
}

/* A write the kernel refuses: the pool is degraded with the write's error and
 * keeps what it had; a wait answers shortfall. */
static void test_write_degraded(struct daemon *d)
{
        uint64_t before = model("2048kB.nr");
        control("fail write /" HP2M "nr_hugepages EIO 1");
        json_object *r = call(d, PROTO_ROLE_ADMIN, "{\"jsonrpc\":\"2.0\",\"id\":12,\"method\":\"pool.set\",\"params\":{\"size\":\"2M\",\"pages\":24}}");
        ok(result_field(r, PROTO_F_TARGET) != NULL, "pool.set to 24 pages is taken");
        json_object_put(r);
        size_t progress = count_kind(CORE_EV_PROGRESS);
        run_until(d->loop, CORE_EV_PROGRESS);
        ok(count_kind(CORE_EV_PROGRESS) == progress + 1, "the resize job ran and said so");
        is_int((int)model("2048kB.nr"), (int)before, "the refused write changed nothing in the fake (%d pages)", (int)before);
        const char *reason = NULL;
        is_str(pool_state_name(reconcile_pool_state(&d->core, core_pool(&d->core, 2048), &reason)), "degraded",
               "the pool is degraded");
        ok(reason && strstr(reason, strerror(EIO)), "... with the write's error: %s", reason ? reason : "(none)");
        r = call(d, PROTO_ROLE_READ, "{\"jsonrpc\":\"2.0\",\"id\":13,\"method\":\"wait\",\"params\":{\"size\":\"2M\"}}");
        is_int(error_code(r), PROTO_ERR_SHORTFALL, "wait for it answers shortfall at once");
        json_object_put(r);
}

static void stopped_cb(void *data, struct core *core, const struct core_event *ev)
{
        (void)core;
        if (ev->kind == CORE_EV_STOPPED)
                *(bool *)data = true;
}

int main(void)
{
        static struct daemon dd;   /* big (every node's ledger): not on the stack */
        struct daemon *d = &dd;
        struct config_errors errors = { 0 };
        uv_loop_t loop;
        bool stopped = false;

        const char *why = fk_unusable(NULL);
        if (why) {
                if (fk_ci_must_run()) {
                        printf("Bail out! CI=true on a machine that can run the fake kernel (root, /dev/fuse), yet: %s\n", why);
                        return 1;
                }
                skip_all("%s", why);
        }
        tmp = fake_root_new();
        char mnt[4096], err[1024];
        snprintf(mnt, sizeof mnt, "%s/root", tmp);
        if (fk_start(&fk, NULL, mnt, machine, err, sizeof err) < 0) {
                printf("Bail out! cannot start the fake kernel: %s\n", err);
                return 1;
        }
        root = fk.mnt;
        control("hold 2048kB 0 %d", INUSE_2M);
        if (model("2048kB.nr") != POOL0_2M + POOL1_2M || model("2048kB.node0.nr") != POOL0_2M ||
            model("2048kB.inuse") != INUSE_2M || model("1048576kB.nr") != 2 || model("hvo") != 0) {
                printf("Bail out! the fake kernel is not the machine asked for\n");
                return 1;
        }
        fake_file(tmp, "etc/hugevmd.conf", "[Daemon]\nMetricsListen=no\n[Pool 2M]\nPages=16\n");
        snprintf(conf, sizeof conf, "%s/etc/hugevmd.conf", tmp);
        snprintf(state_dir, sizeof state_dir, "%s/state", tmp);
        int r = core_open(&d->core, root, conf, false, state_dir, &errors);
        if (r < 0) {
                printf("Bail out! core_open: %s (%s)\n", strerror(-r), errors.n ? errors.lines[0] : "");
                return 1;
        }
        uv_loop_init(&loop);
        d->loop = &loop;
        core_init(&d->core, &loop);
        if (core_subscribe(&d->core, record, NULL) < 0 || edges_start(d, NULL, 0) < 0 ||
            core_subscribe(&d->core, stopped_cb, &stopped) < 0) {
                printf("Bail out! cannot subscribe\n");
                return 1;
        }

        test_reconciler(d);
        test_status(d);
        test_methods(d);
        test_persist_rollback(d);
        test_wait_degraded(d);
        test_write_degraded(d);

        daemon_stop(d);
        ok(stopped, "daemon_stop: the core publishes stopped when no job runs");
        ok(d->waits == NULL, "... and the edges freed the waits");
        uv_run(&loop, UV_RUN_DEFAULT);
        is_int(uv_loop_close(&loop), 0, "the core closed every handle it opened");
        metrics_free(d->metrics);
        core_free(&d->core);
        ok(fk_stop(&fk) == 0, "the fake kernel stopped and unmounted");
        fake_root_free(tmp);
        return tap_done();
}
