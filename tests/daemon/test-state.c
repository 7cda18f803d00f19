/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The state file (daemon/core/state.c): round trip, atomic replacement, and every
 * kind of corrupt or partial file reported, never crashing; files that are
 * not regular (FIFO, directory, symlink) or not trusted (another owner,
 * group/other-writable) refused without blocking; a refused file kept aside,
 * never overwritten. With a core on a fake root: a target beyond MemTotal
 * refuses the file, which core_start keeps aside; a directory fsync that
 * fails after the rename leaves the target live and pool.set says so. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "daemon.h"
#include "proto.h"
#include "rpc.h"
#include "state.h"
#include "tap.h"
#include "unit/fake.h"

/* The directory fsync after atomic_write_file's rename, made to fail: the
 * test links fileio.c statically, so its fsync() comes here. */
static bool fail_dir_fsync;
static unsigned dir_fsyncs_failed;

int fsync(int fd)
{
        struct stat st;
        if (fail_dir_fsync && fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
                dir_fsyncs_failed++;
                errno = EIO;
                return -1;
        }
        return (int)syscall(SYS_fsync, fd);
}

static char dir[] = "/tmp/hugevm-test-state.XXXXXX";

static void put(const char *text)
{
        char path[256];
        snprintf(path, sizeof path, "%s/%s", dir, STATE_FILE_NAME);
        FILE *f = fopen(path, "we");
        if (!f) {
                printf("Bail out! cannot write %s\n", path);
                exit(1);
        }
        fputs(text, f);
        fclose(f);
        chmod(path, 0644);   /* whatever the umask: group/other-writable files are refused */
}

static void corrupt(const char *text, const char *want_substring, const char *what)
{
        struct target t[HUGEVMD_MAX_POOLS];
        size_t n = 99;
        char err[512] = "";
        put(text);
        int r = state_load(dir, t, HUGEVMD_MAX_POOLS, &n, err, sizeof err);
        ok(r == -EBADMSG && strstr(err, want_substring) && n == 99, "%s", what);
        if (!(r == -EBADMSG && strstr(err, want_substring)))
                printf("#   r=%d err=\"%s\" want \"%s\"\n", r, err, want_substring);
}

static unsigned count_entries(const char *d)
{
        unsigned n = 0;
        DIR *x = opendir(d);
        struct dirent *e;
        while (x && (e = readdir(x)))
                if (e->d_name[0] != '.' || strlen(e->d_name) > 2)
                        n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
        if (x)
                closedir(x);
        return n;
}

static char *read_whole(const char *path)
{
        FILE *f = fopen(path, "re");
        char *text = calloc(1, 70000);
        if (f) {
                size_t n = fread(text, 1, 69999, f);
                text[n] = '\0';
                fclose(f);
        }
        return text;
}

/* refused_kind: the state file is refused with a reason containing want; n untouched. */
static void refused_file(const char *want, const char *what)
{
        struct target t[HUGEVMD_MAX_POOLS];
        size_t n = 99;
        char err[512] = "";
        int r = state_load(dir, t, HUGEVMD_MAX_POOLS, &n, err, sizeof err);
        ok(r == -EBADMSG && strstr(err, want) && n == 99, "%s", what);
        if (!(r == -EBADMSG && strstr(err, want)))
                printf("#   r=%d err=\"%s\" want \"%s\"\n", r, err, want);
}

static void test_not_regular(void)
{
        char path[400], other[400];
        snprintf(path, sizeof path, "%s/%s", dir, STATE_FILE_NAME);
        snprintf(other, sizeof other, "%s/real.json", dir);

        unlink(path);
        if (mkfifo(path, 0600) < 0)
                printf("Bail out! mkfifo\n");
        refused_file("state.json: is a FIFO, not a regular file", "a FIFO as state.json is refused, not waited on");
        unlink(path);

        if (mkdir(path, 0755) < 0)
                printf("Bail out! mkdir\n");
        refused_file("state.json: is a directory, not a regular file",
                     "a directory as state.json is named as one (not \"larger than 65535 bytes\")");
        rmdir(path);

        /* A valid file, but through a symlink: not the file the daemon wrote. */
        FILE *f = fopen(other, "we");
        fputs("{\"version\":1,\"pools\":[{\"size_kb\":2048,\"pages\":3}]}\n", f);
        fclose(f);
        chmod(other, 0644);
        if (symlink(other, path) < 0)
                printf("Bail out! symlink\n");
        refused_file("state.json: is a symbolic link, not a regular file", "a symlink as state.json is not followed");
        unlink(path);
        if (symlink("/dev/zero", path) < 0)
                printf("Bail out! symlink\n");
        refused_file("state.json: is a symbolic link, not a regular file", "a link to /dev/zero as state.json is not read");
        unlink(path);
        unlink(other);

        /* Trust: the daemon's own file only, writable by it alone. */
        put("{\"version\":1,\"pools\":[{\"size_kb\":2048,\"pages\":3}]}\n");
        chmod(path, 0666);
        refused_file("writable by others (mode 0666): not trusted", "a state file with mode 0666 is not trusted");
        chmod(path, 0664);
        refused_file("writable by its group (mode 0664): not trusted", "a group-writable state file is not trusted");
        chmod(path, 0644);
        if (geteuid() == 0) {
                if (chown(path, 65534, 65534) < 0)
                        printf("Bail out! chown\n");
                refused_file("owned by uid 65534, not by the daemon's (0): not trusted",
                             "a state file owned by another user (mode 0644) is not trusted");
        } else
                ok(1, "# SKIP chown to another user needs root");
        unlink(path);
}

static void test_keep_aside(void)
{
        char path[400], name[256], aside[700], name2[256];
        const char *text = "{\"version\":1,\"pools\":[{\"size_kb\":2048,\"pages\":18446744073709551615}]}\n";
        snprintf(path, sizeof path, "%s/%s", dir, STATE_FILE_NAME);
        put(text);
        is_int(state_keep_aside(dir, name, sizeof name), 0, "state_keep_aside renames the file");
        ok(strncmp(name, "state.json.corrupt-", 19) == 0 && strlen(name) == 19 + 16 && name[19 + 15] == 'Z',
           "... to state.json.corrupt-<UTC time> (%s)", name);
        snprintf(aside, sizeof aside, "%s/%s", dir, name);
        char *back = read_whole(aside);
        is_str(back, text, "... with its content unchanged");
        free(back);
        ok(access(path, F_OK) < 0, "... and state.json is gone (nothing to overwrite)");

        /* A second one within the same second does not replace the first. */
        put("second\n");
        is_int(state_keep_aside(dir, name2, sizeof name2), 0, "a second refused file is kept aside too");
        ok(strcmp(name, name2) != 0, "... under another name (%s)", name2);
        back = read_whole(aside);
        is_str(back, text, "... and the first one is unchanged");
        free(back);
        ok(state_keep_aside(dir, name2, sizeof name2) == -ENOENT, "nothing to keep aside: -ENOENT");
        state_cleanup(dir);
        ok(access(aside, F_OK) == 0, "state_cleanup leaves kept-aside files alone");
}

/* ---- with a core on a fake root --------------------------------------------- */

struct rig {
        struct daemon d;
        uv_loop_t loop;
        char *root;
        char conf[2048], state_dir[2048], state_file[2100];
};

/* A core on a fake two-node machine with 2 GiB (1024 pages of 2M) and
 * [Pool 2M] Pages=4; state_json (NULL: none) as its state file. */
static int rig_open(struct rig *g, const char *state_json)
{
        struct config_errors errors = { 0 };
        memset(g, 0, sizeof *g);
        g->root = fake_root_new();
        fake_x86_64(g->root);
        fake_file(g->root, "proc/meminfo", "MemTotal:        2097152 kB\nMemFree:         1048576 kB\n");
        fake_file(g->root, "etc/hugevmd.conf", "[Daemon]\nMetricsListen=no\n[Pool 2M]\nPages=4\n");
        snprintf(g->conf, sizeof g->conf, "%s/etc/hugevmd.conf", g->root);
        snprintf(g->state_dir, sizeof g->state_dir, "%s/state", g->root);
        snprintf(g->state_file, sizeof g->state_file, "%s/state/%s", g->root, STATE_FILE_NAME);
        if (state_json) {
                fake_file(g->root, "state/" STATE_FILE_NAME, "%s", state_json);
                chmod(g->state_file, 0644);
        }
        int r = core_open(&g->d.core, g->root, g->conf, false, g->state_dir, &errors);
        if (r < 0) {
                printf("Bail out! core_open: %s (%s)\n", strerror(-r), errors.n ? errors.lines[0] : "");
                exit(1);
        }
        uv_loop_init(&g->loop);
        g->d.loop = &g->loop;
        core_init(&g->d.core, &g->loop);
        return 0;
}

static void rig_close(struct rig *g)
{
        core_stop(&g->d.core);
        uv_run(&g->loop, UV_RUN_DEFAULT);
        is_int(uv_loop_close(&g->loop), 0, "the core closed every handle");
        core_free(&g->d.core);
        fake_root_free(g->root);
}

static json_object *call(struct rig *g, const char *line)
{
        return rpc_handle_line(&g->d, NULL, PROTO_ROLE_ADMIN, line, strlen(line));
}

static unsigned count_aside(const char *d, char *ret_name, size_t len)
{
        unsigned n = 0;
        DIR *x = opendir(d);
        struct dirent *e;
        while (x && (e = readdir(x)))
                if (strncmp(e->d_name, "state.json.corrupt-", 19) == 0) {
                        n++;
                        snprintf(ret_name, len, "%s/%s", d, e->d_name);
                }
        if (x)
                closedir(x);
        return n;
}

/* One bound: a target beyond MemTotal in the state file refuses the file (as
 * pool.set and the config refuse it); core_start keeps it aside. */
static void test_core_bound(void)
{
        struct rig g;
        const char *text = "{\"version\":1,\"pools\":[{\"size_kb\":2048,\"pages\":18446744073709551615},"
                           "{\"size_kb\":1048576,\"pages\":1}]}\n";
        char aside[4096] = "";
        rig_open(&g, text);
        ok(!core_has_runtime_target(&g.d.core, 2048) && !core_has_runtime_target(&g.d.core, 1048576),
           "a state file with pages=18446744073709551615 restores nothing (not even the 1G target beside it)");
        struct target t;
        core_effective_target(&g.d.core, 2048, &t);
        ok(t.has_pages && t.pages == 4, "the config's target (4) is in force");
        char *back = read_whole(g.state_file);
        is_str(back, text, "core_init changed nothing in the state file (--check-config runs it too)");
        free(back);
        is_int(count_aside(g.state_dir, aside, sizeof aside), 0, "nothing kept aside before core_start");

        core_start(&g.d.core);
        ok(access(g.state_file, F_OK) < 0, "core_start moved the refused file away");
        is_int(count_aside(g.state_dir, aside, sizeof aside), 1, "one state.json.corrupt-* file");
        back = read_whole(aside);
        is_str(back, text, "... holding the refused content, unchanged");
        free(back);

        /* A persisted change now writes a new state.json beside it. */
        json_object *r = call(&g, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"pool.set\",\"params\":{\"size\":\"2M\",\"pages\":6}}");
        json_object *e;
        ok(r && !json_object_object_get_ex(r, "error", &e), "pool.set 6 is accepted");
        json_object_put(r);
        struct target loaded[HUGEVMD_MAX_POOLS];
        size_t n = 0;
        char err[512];
        ok(state_load(g.state_dir, loaded, HUGEVMD_MAX_POOLS, &n, err, sizeof err) == 0 && n == 1 && loaded[0].pages == 6,
           "the new state.json holds the new target");
        back = read_whole(aside);
        is_str(back, text, "the kept-aside file is still unchanged");
        free(back);
        rig_close(&g);
}

/* The rename is done, the directory's fsync fails: the new target is in the
 * file every reader sees from now on (and after a restart), so it is live and
 * pool.set answers success with it, not "nothing changed". */
static void test_core_dir_fsync_fails(void)
{
        struct rig g;
        rig_open(&g, NULL);
        core_start(&g.d.core);
        fail_dir_fsync = true;
        dir_fsyncs_failed = 0;
        json_object *r = call(&g, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"pool.set\",\"params\":{\"size\":\"2M\",\"pages\":8}}");
        fail_dir_fsync = false;
        ok(dir_fsyncs_failed > 0, "the state directory's fsync failed (%u times)", dir_fsyncs_failed);
        json_object *e, *res, *target;
        ok(r && !json_object_object_get_ex(r, "error", &e), "pool.set answers success");
        ok(r && json_object_object_get_ex(r, "result", &res) && json_object_object_get_ex(res, PROTO_F_TARGET, &target) &&
           json_object_get_uint64(target) == 8, "... with the new target (8)");
        json_object_put(r);
        struct target t, loaded[HUGEVMD_MAX_POOLS];
        core_effective_target(&g.d.core, 2048, &t);
        ok(t.has_pages && t.pages == 8, "the target in force is 8");
        size_t n = 0;
        char err[512];
        ok(state_load(g.state_dir, loaded, HUGEVMD_MAX_POOLS, &n, err, sizeof err) == 0 && n == 1 && loaded[0].pages == 8,
           "the state file holds 8: what a restart restores agrees with the reply");
        is_int((long long)g.d.core.n_persisted, 1, "the persisted list holds it too (not rolled back)");
        rig_close(&g);
}

int main(void)
{
        if (!mkdtemp(dir)) {
                printf("Bail out! mkdtemp\n");
                return 1;
        }
        char sub[300];
        snprintf(sub, sizeof sub, "%s/lib/hugevmd", dir);
        struct target in[3] = { 0 }, out[HUGEVMD_MAX_POOLS];
        size_t n = 0;
        char err[512];

        ok(state_load(dir, out, HUGEVMD_MAX_POOLS, &n, err, sizeof err) == -ENOENT, "no state file: -ENOENT");

        in[0].size_kb = 2048;
        in[0].has_pages = true;
        in[0].pages = 512;
        in[0].has_overcommit = true;
        in[0].overcommit = 8;
        in[1].size_kb = 1048576;
        in[1].node_mask = (UINT64_C(1) << 0) | (UINT64_C(1) << 63);
        in[1].node_pages[0] = 2;
        in[1].node_pages[63] = 1;
        in[2].size_kb = 64;   /* nothing set: not written */
        ok(state_save(sub, in, 3) == 0, "save creates the state directory and writes the file");
        ok(state_load(sub, out, HUGEVMD_MAX_POOLS, &n, err, sizeof err) == 0 && n == 2, "load gives back the two targets (an empty one is not written)");
        ok(n == 2 && out[0].size_kb == 2048 && out[0].has_pages && out[0].pages == 512 && out[0].has_overcommit &&
           out[0].overcommit == 8 && !out[0].node_mask, "whole-pool target and overcommit round trip");
        ok(n == 2 && out[1].size_kb == 1048576 && !out[1].has_pages && out[1].node_mask == in[1].node_mask &&
           out[1].node_pages[0] == 2 && out[1].node_pages[63] == 1 && !out[1].has_overcommit, "per-node targets round trip (node 63 too)");
        in[0].pages = 7;
        ok(state_save(sub, in, 1) == 0 && state_load(sub, out, HUGEVMD_MAX_POOLS, &n, err, sizeof err) == 0 && n == 1 &&
           out[0].pages == 7, "a second save replaces the file");
        is_int(count_entries(sub), 1, "no temporary file left behind");
        ok(state_save("/proc/hugevm-no-such-dir", in, 1) < 0, "an unwritable directory is an error, not a crash");
        {
                /* A save killed half-way leaves its temp file; the next start removes it. */
                char tmp[400];
                snprintf(tmp, sizeof tmp, "%s/.%s.AbC123", sub, STATE_FILE_NAME);
                FILE *f = fopen(tmp, "we");
                if (f)
                        fclose(f);
                is_int(count_entries(sub), 2, "a leftover temp file is there");
                state_cleanup(sub);
                ok(count_entries(sub) == 1 && access(tmp, F_OK) < 0, "state_cleanup removes it and keeps the state file");
        }

        corrupt("", "not valid JSON", "empty file");
        corrupt("{\"version\":1,\"pools\":[{\"size_kb\":2048,", "not valid JSON", "truncated file (partial write)");
        corrupt("\x01\x02garbage", "not valid JSON", "binary garbage");
        corrupt("{\"version\":1,\"pools\":[]} trailing", "not valid JSON", "trailing data");
        corrupt("[1,2]", "no \"version\"", "not an object");
        corrupt("{\"version\":2,\"pools\":[]}", "version 2 not understood", "a future version");
        corrupt("{\"version\":1}", "no \"pools\" array", "no pools");
        corrupt("{\"version\":1,\"pools\":[{\"size_kb\":2048,\"pages\":-1}]}", "pools[0].pages is not a page count", "negative pages");
        corrupt("{\"version\":1,\"pools\":[{\"size_kb\":2048,\"pages\":\"9\"}]}", "pools[0].pages is not a page count", "pages as a string");
        corrupt("{\"version\":1,\"pools\":[{\"pages\":1}]}", "size_kb missing", "no size");
        corrupt("{\"version\":1,\"pools\":[{\"size_kb\":2048,\"pages\":1,\"nodes\":{\"0\":1}}]}", "both pages and nodes", "pages and nodes");
        corrupt("{\"version\":1,\"pools\":[{\"size_kb\":2048,\"nodes\":{\"64\":1}}]}", "nodes.64 is not node -> pages", "node out of range");
        corrupt("{\"version\":1,\"pools\":[{\"size_kb\":2048,\"pages\":1},{\"size_kb\":2048,\"pages\":2}]}", "repeats size_kb 2048", "a size twice");
        corrupt("{\"version\":1,\"pools\":[3]}", "pools[0] is not an object", "a pool that is not an object");
        {
                /* Far too big: refused without reading it all. */
                char *big = malloc(200000);
                memset(big, ' ', 199999);
                big[199999] = '\0';
                corrupt(big, "larger than", "a huge file");
                free(big);
        }
        alarm(60);   /* a read that blocks (a FIFO) fails the test instead of hanging it */
        test_not_regular();
        test_keep_aside();
        test_core_bound();
        test_core_dir_fsync_fails();

        char cmd[400];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        if (system(cmd) != 0)
                printf("# could not remove %s\n", dir);
        return tap_done();
}
