/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"
#include "state.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fileio.h"

/* The file's own format (not the control protocol):
 * {"version":1,"pools":[{"size_kb":2048,"pages":512,"nodes":{"0":256},"overcommit":0}]} */
#define STATE_VERSION 1

static json_object *targets_to_json(const struct target *targets, size_t n)
{
        json_object *root = json_object_new_object(), *pools = json_object_new_array();
        json_object_object_add(root, "version", json_object_new_int(STATE_VERSION));
        json_object_object_add(root, "pools", pools);
        for (size_t i = 0; i < n; i++) {
                const struct target *t = &targets[i];
                if (!target_managed(t) && !t->has_overcommit)
                        continue;
                json_object *p = json_object_new_object();
                json_object_object_add(p, "size_kb", json_object_new_uint64(t->size_kb));
                if (t->has_pages)
                        json_object_object_add(p, "pages", json_object_new_uint64(t->pages));
                if (t->node_mask) {
                        json_object *nodes = json_object_new_object();
                        for (unsigned node = 0; node < HUGEVMD_MAX_NODES; node++)
                                if (t->node_mask & (UINT64_C(1) << node)) {
                                        char key[16];
                                        snprintf(key, sizeof key, "%u", node);
                                        json_object_object_add(nodes, key, json_object_new_uint64(t->node_pages[node]));
                                }
                        json_object_object_add(p, "nodes", nodes);
                }
                if (t->has_overcommit)
                        json_object_object_add(p, "overcommit", json_object_new_uint64(t->overcommit));
                json_object_array_add(pools, p);
        }
        return root;
}

/* mkdir -p, 0755 */
static int mkdir_parents(const char *dir)
{
        char path[4096];
        if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path)
                return -ENAMETOOLONG;
        for (char *p = path + 1; *p; p++)
                if (*p == '/') {
                        *p = '\0';
                        if (mkdir(path, 0755) < 0 && errno != EEXIST)
                                return -errno;
                        *p = '/';
                }
        if (mkdir(path, 0755) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

int state_save(const char *dir, const struct target *targets, size_t n)
{
        char *path = NULL, *text = NULL;
        int r;

        if ((r = mkdir_parents(dir)) < 0)
                return r;
        json_object *root = targets_to_json(targets, n);
        const char *json = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY);
        if (!json || asprintf(&path, "%s/%s", dir, STATE_FILE_NAME) < 0) {
                path = NULL;
                r = -ENOMEM;
        } else if (asprintf(&text, "%s\n", json) < 0) {
                text = NULL;
                r = -ENOMEM;
        } else
                r = atomic_write_file(path, text, strlen(text), 0644);
        json_object_put(root);
        free(path);
        free(text);
        return r;
}

static bool get_u64(json_object *o, uint64_t *ret)
{
        if (!json_object_is_type(o, json_type_int))
                return false;
        /* json-c keeps integers above INT64_MAX unsigned; json_object_get_int64
         * would clamp them to INT64_MAX, so read those as unsigned. */
        if (json_object_get_int64(o) < 0)
                return false;
        *ret = json_object_get_uint64(o);
        return true;
}

#define BAD(...) do { snprintf(err, err_len, __VA_ARGS__); r = -EBADMSG; goto out; } while (0)
#define STATE_FILE_MAX 65535

int state_load(const char *dir, struct target *targets, size_t max, size_t *ret_n, char *err, size_t err_len)
{
        char *path = NULL, *buf = NULL, why[128];
        json_object *root = NULL;
        struct stat st;
        size_t n = 0, len = 0;
        int r;

        if (asprintf(&path, "%s/%s", dir, STATE_FILE_NAME) < 0)
                return -ENOMEM;
        /* Bounded: a state file is a few hundred bytes. Not through a symlink,
         * and only a regular file: a FIFO would block the start. */
        r = read_regular_file(path, O_NOFOLLOW, STATE_FILE_MAX, &buf, &len, &st, why, sizeof why);
        if (r == -EBADMSG)
                BAD("%s: %s", path, why);
        if (r < 0) {
                snprintf(err, err_len, "%s: %s", path, why);
                goto out;
        }
        /* Targets are root's to set: a file someone else owns or may write is not the daemon's. */
        if (st.st_uid != geteuid())
                BAD("%s: owned by uid %u, not by the daemon's (%u): not trusted", path, (unsigned)st.st_uid,
                    (unsigned)geteuid());
        if (st.st_mode & (S_IWGRP | S_IWOTH))
                BAD("%s: writable by %s (mode %04o): not trusted", path, st.st_mode & S_IWOTH ? "others" : "its group",
                    (unsigned)(st.st_mode & 07777));

        struct json_tokener *tok = json_tokener_new();
        if (!tok) {
                r = -ENOMEM;
                goto out;
        }
        root = json_tokener_parse_ex(tok, buf, (int)len);
        enum json_tokener_error jerr = json_tokener_get_error(tok);
        size_t end = root ? json_tokener_get_parse_end(tok) : 0;
        json_tokener_free(tok);
        if (!root || jerr != json_tokener_success)
                BAD("%s: not valid JSON (%s)", path, root ? "incomplete" : json_tokener_error_desc(jerr));
        while (end < len && (buf[end] == ' ' || buf[end] == '\n' || buf[end] == '\t' || buf[end] == '\r'))
                end++;
        if (end < len)
                BAD("%s: not valid JSON (trailing data)", path);

        json_object *v, *pools;
        uint64_t version;
        if (!json_object_is_type(root, json_type_object) || !json_object_object_get_ex(root, "version", &v) ||
            !get_u64(v, &version))
                BAD("%s: no \"version\"", path);
        if (version != STATE_VERSION)
                BAD("%s: version %" PRIu64 " not understood (expected %d)", path, version, STATE_VERSION);
        if (!json_object_object_get_ex(root, "pools", &pools) || !json_object_is_type(pools, json_type_array))
                BAD("%s: no \"pools\" array", path);

        for (size_t i = 0; i < json_object_array_length(pools); i++) {
                json_object *p = json_object_array_get_idx(pools, i), *x;
                struct target t = { 0 };
                if (!json_object_is_type(p, json_type_object))
                        BAD("%s: pools[%zu] is not an object", path, i);
                if (!json_object_object_get_ex(p, "size_kb", &x) || !get_u64(x, &t.size_kb) || t.size_kb == 0)
                        BAD("%s: pools[%zu].size_kb missing or not a positive integer", path, i);
                if (json_object_object_get_ex(p, "pages", &x)) {
                        if (!get_u64(x, &t.pages))
                                BAD("%s: pools[%zu].pages is not a page count", path, i);
                        t.has_pages = true;
                }
                if (json_object_object_get_ex(p, "overcommit", &x)) {
                        if (!get_u64(x, &t.overcommit))
                                BAD("%s: pools[%zu].overcommit is not a page count", path, i);
                        t.has_overcommit = true;
                }
                if (json_object_object_get_ex(p, "nodes", &x)) {
                        if (!json_object_is_type(x, json_type_object))
                                BAD("%s: pools[%zu].nodes is not an object", path, i);
                        json_object_object_foreach(x, key, val) {
                                uint64_t node, pages;
                                if (vmm_count_parse(key, &node) < 0 || node >= HUGEVMD_MAX_NODES || !get_u64(val, &pages))
                                        BAD("%s: pools[%zu].nodes.%s is not node -> pages", path, i, key);
                                t.node_mask |= UINT64_C(1) << node;
                                t.node_pages[node] = pages;
                        }
                }
                if (t.has_pages && t.node_mask)
                        BAD("%s: pools[%zu] has both pages and nodes", path, i);
                for (size_t j = 0; j < n; j++)
                        if (targets[j].size_kb == t.size_kb)
                                BAD("%s: pools[%zu] repeats size_kb %" PRIu64, path, i, t.size_kb);
                if (n >= max)
                        BAD("%s: more than %zu pools", path, max);
                targets[n++] = t;
        }
        *ret_n = n;
        r = 0;
out:
        json_object_put(root);
        free(buf);
        free(path);
        return r;
}

int state_keep_aside(const char *dir, char *ret_name, size_t name_len)
{
        char from[PATH_MAX], to[PATH_MAX], stamp[32];
        time_t now = time(NULL);
        struct tm tm;
        if (!gmtime_r(&now, &tm) || strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm) == 0)
                return -EINVAL;
        if (snprintf(from, sizeof from, "%s/%s", dir, STATE_FILE_NAME) >= (int)sizeof from)
                return -ENAMETOOLONG;
        for (unsigned i = 1; i <= 100; i++) {
                int k = i == 1 ? snprintf(to, sizeof to, "%s/%s.corrupt-%s", dir, STATE_FILE_NAME, stamp)
                               : snprintf(to, sizeof to, "%s/%s.corrupt-%s-%u", dir, STATE_FILE_NAME, stamp, i);
                if (k >= (int)sizeof to)
                        return -ENAMETOOLONG;
                /* Never over an earlier one: that is what keeping aside is for. */
                int r = renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) < 0 ? -errno : 0;
                if (r == -EINVAL) {   /* a filesystem without RENAME_NOREPLACE */
                        struct stat st;
                        r = lstat(to, &st) == 0 ? -EEXIST : errno != ENOENT ? -errno : rename(from, to) < 0 ? -errno : 0;
                }
                if (r == 0) {
                        snprintf(ret_name, name_len, "%s", strrchr(to, '/') + 1);
                        return 0;
                }
                if (r != -EEXIST)
                        return r;
        }
        return -EEXIST;
}

void state_cleanup(const char *dir)
{
        char prefix[64], path[4096];
        DIR *d = opendir(dir);
        struct dirent *e;
        if (!d)
                return;
        snprintf(prefix, sizeof prefix, ".%s.", STATE_FILE_NAME);
        while ((e = readdir(d)))
                if (strncmp(e->d_name, prefix, strlen(prefix)) == 0 &&
                    snprintf(path, sizeof path, "%s/%s", dir, e->d_name) < (int)sizeof path)
                        unlink(path);
        closedir(d);
}
