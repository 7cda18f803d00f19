/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The state file (daemon/state.c): round trip, atomic replacement, and every
 * kind of corrupt or partial file reported, never crashing. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "state.h"
#include "tap.h"

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

        char cmd[400];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        if (system(cmd) != 0)
                printf("# could not remove %s\n", dir);
        return tap_done();
}
