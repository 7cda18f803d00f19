/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"
#include "conf.h"

#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <ini.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <sys/un.h>

#include "fileio.h"
#include "proto.h"

/* Parser state for one load: the config being built, where we are, what went wrong. */
struct loader {
        struct config *c;
        vmm_ctx *ctx;
        struct config_errors *errors;
        const char *file;
        unsigned line;        /* counted by our reader: inih calls the handler right after reading it */
        const char *text;     /* the file being parsed, read whole and checked (read_checked) */
        size_t len, pos;
        unsigned *nodes;      /* nodes present on the machine */
        size_t n_nodes;
        uint64_t mem_bytes;   /* MemTotal: the bound of every target (target_check_bound) */
        char bad_section[128]; /* reported once, not once per key */
        bool lost_error;      /* a problem found, but no memory to describe it */
};

void config_errors_clear(struct config_errors *e)
{
        for (size_t i = 0; i < e->n; i++)
                free(e->lines[i]);
        free(e->lines);
        e->lines = NULL;
        e->n = 0;
}

static void add_line(struct loader *l, struct config_errors *to, const char *fmt, va_list ap)
{
        char reason[512], *line = NULL;
        vsnprintf(reason, sizeof reason, fmt, ap);
        if (l->line > 0) {
                if (asprintf(&line, "%s:%u: %s", l->file, l->line, reason) < 0)
                        line = NULL;
        } else if (asprintf(&line, "%s: %s", l->file, reason) < 0)
                line = NULL;
        char **n = line ? realloc(to->lines, (to->n + 1) * sizeof *n) : NULL;
        if (!n) {
                free(line);
                l->lost_error = to == l->errors;   /* the config is still refused */
                return;
        }
        /* realloc freed the old block if it moved this one: keep the new one whatever follows. */
        to->lines = n;
        n[to->n++] = line;
}

static void add_error(struct loader *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add_error(struct loader *l, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        add_line(l, l->errors, fmt, ap);
        va_end(ap);
}

static void add_warning(struct loader *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add_warning(struct loader *l, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        add_line(l, &l->c->warnings, fmt, ap);
        va_end(ap);
}

static int parse_bool(const char *v, bool *ret)
{
        static const char *const yes[] = { "yes", "true", "on", "1" }, *const no[] = { "no", "false", "off", "0" };
        for (size_t i = 0; i < 4; i++) {
                if (strcasecmp(v, yes[i]) == 0) {
                        *ret = true;
                        return 0;
                }
                if (strcasecmp(v, no[i]) == 0) {
                        *ret = false;
                        return 0;
                }
        }
        return -EINVAL;
}

static int set_string(char **dst, const char *v)
{
        char *s = v && *v ? strdup(v) : NULL;
        if (v && *v && !s)
                return -ENOMEM;
        free(*dst);
        *dst = s;
        return 0;
}

static int resolve_group(const char *name, gid_t *ret)
{
        char buf[4096];
        struct group gr, *res = NULL;
        uint64_t num;
        if (vmm_count_parse(name, &num) == 0) {
                if (num >= (gid_t)-1)
                        return -ERANGE;
                *ret = (gid_t)num;
                return 0;
        }
        int r = getgrnam_r(name, &gr, buf, sizeof buf, &res);
        if (r != 0)
                return -r;
        if (!res)
                return -ENOENT;
        *ret = res->gr_gid;
        return 0;
}

int config_parse_listen(const char *text, char *addr, size_t addr_len, uint16_t *ret_port)
{
        const char *colon, *host = text;
        size_t host_len;
        uint64_t port;
        if (text[0] == '[') {
                const char *close = strchr(text, ']');
                if (!close || close[1] != ':')
                        return -EINVAL;
                host = text + 1;
                host_len = (size_t)(close - host);
                colon = close + 1;
        } else {
                colon = strrchr(text, ':');
                if (!colon || strchr(text, ':') != colon)
                        return -EINVAL;
                host_len = (size_t)(colon - text);
        }
        if (host_len == 0 || host_len >= addr_len)
                return -EINVAL;
        if (vmm_count_parse(colon + 1, &port) < 0 || port > 65535)
                return -EINVAL;
        memcpy(addr, host, host_len);
        addr[host_len] = '\0';
        *ret_port = (uint16_t)port;
        return 0;
}

uint64_t target_max_pages(uint64_t mem_bytes, uint64_t size_kb)
{
        return size_kb ? mem_bytes / 1024 / size_kb : 0;   /* floor(mem / (size_kb * 1024)), never overflowing */
}

int target_pages_check(uint64_t mem_bytes, uint64_t size_kb, uint64_t pages, char *why, size_t why_len)
{
        uint64_t max = target_max_pages(mem_bytes, size_kb);
        char label[32], mem[32];
        if (pages <= max)
                return 0;
        vmm_size_label(size_kb, label, sizeof label);
        vmm_size_format_human(mem_bytes, mem, sizeof mem);
        snprintf(why, why_len, "%" PRIu64 " pages of %s exceed this machine's memory (%s, at most %" PRIu64 " pages)",
                 pages, label, mem, max);
        return -ERANGE;
}

int target_check_bound(const struct target *t, uint64_t mem_bytes, char *why, size_t why_len)
{
        char reason[256];
        if (t->has_pages && target_pages_check(mem_bytes, t->size_kb, t->pages, reason, sizeof reason) < 0) {
                snprintf(why, why_len, "pages: %s", reason);
                return -ERANGE;
        }
        for (unsigned node = 0; node < HUGEVMD_MAX_NODES; node++)
                if ((t->node_mask & (UINT64_C(1) << node)) &&
                    target_pages_check(mem_bytes, t->size_kb, t->node_pages[node], reason, sizeof reason) < 0) {
                        snprintf(why, why_len, "nodes.%u: %s", node, reason);
                        return -ERANGE;
                }
        if (t->has_overcommit && target_pages_check(mem_bytes, t->size_kb, t->overcommit, reason, sizeof reason) < 0) {
                snprintf(why, why_len, "overcommit: %s", reason);
                return -ERANGE;
        }
        return 0;
}

uint64_t config_mem_bytes(vmm_ctx *ctx)
{
        uint64_t bytes;
        struct sysinfo si;
        if (vmm_memtotal(ctx, &bytes) == 0)
                return bytes;
        return sysinfo(&si) == 0 ? (uint64_t)si.totalram * si.mem_unit : UINT64_MAX;
}

static bool node_exists(const struct loader *l, unsigned node)
{
        for (size_t i = 0; i < l->n_nodes; i++)
                if (l->nodes[i] == node)
                        return true;
        return false;
}

/* The size of a [Pool SIZE] header, in kB, if this machine has it; else an error. */
static int pool_size_kb(struct loader *l, const char *size_text, uint64_t *ret_kb)
{
        uint64_t bytes;
        char label[32];
        int r = vmm_size_parse(size_text, &bytes);
        if (r < 0 || bytes % 1024 || bytes == 0) {
                add_error(l, "[Pool %s]: not a hugepage size (write it like 2M, 2048kB or 1G)", size_text);
                return -EINVAL;
        }
        uint64_t kb = bytes / 1024;
        vmm_size_label(kb, label, sizeof label);
        if (vmm_hstate_exists(l->ctx, kb) < 0) {
                add_error(l, "[Pool %s]: hugepage size %s is not available on this machine", size_text, label);
                return -EOPNOTSUPP;
        }
        *ret_kb = kb;
        return 0;
}

static struct target *pool_for(struct loader *l, const char *size_text)
{
        uint64_t kb;
        if (pool_size_kb(l, size_text, &kb) < 0)
                return NULL;
        for (size_t i = 0; i < l->c->n_pools; i++)
                if (l->c->pools[i].size_kb == kb)
                        return &l->c->pools[i];
        if (l->c->n_pools >= HUGEVMD_MAX_POOLS) {
                add_error(l, "too many [Pool] sections");
                return NULL;
        }
        struct mount_spec *m = &l->c->mounts[l->c->n_pools];
        l->c->demote[l->c->n_pools] = false;
        struct target *t = &l->c->pools[l->c->n_pools++];
        memset(t, 0, sizeof *t);
        t->size_kb = kb;
        *m = (struct mount_spec){ .opts = { .mode = -1, .uid = -1, .gid = -1 } };
        return t;
}

/* Pages= takes a count, Size= bytes that must be whole hugepages. */
static int parse_pages(struct loader *l, const struct target *t, const char *key, bool is_size,
                       const char *value, uint64_t *ret)
{
        char label[32];
        vmm_size_label(t->size_kb, label, sizeof label);
        uint64_t pages, bytes;
        char why[256];
        if (!is_size) {
                int r = vmm_count_parse(value, &pages);
                if (r < 0) {
                        add_error(l, "%s=%s: %s", key, value,
                                  r == -ERANGE ? "number too large" : "not a page count (digits only)");
                        return r;
                }
        } else {
                int r = vmm_size_parse(value, &bytes);
                if (r < 0) {
                        add_error(l, "%s=%s: not a size (write it like 512M or 1G)", key, value);
                        return r;
                }
                if (bytes % (t->size_kb * 1024)) {
                        add_error(l, "%s=%s is not a multiple of the %s page size", key, value, label);
                        return -EINVAL;
                }
                pages = bytes / (t->size_kb * 1024);
        }
        if (target_pages_check(l->mem_bytes, t->size_kb, pages, why, sizeof why) < 0) {
                add_error(l, "%s=%s: %s", key, value, why);
                return -ERANGE;
        }
        *ret = pages;
        return 0;
}

static int resolve_user(const char *name, int64_t *ret)
{
        char buf[4096];
        struct passwd pw, *res = NULL;
        uint64_t num;
        if (vmm_count_parse(name, &num) == 0) {
                if (num >= (uid_t)-1)
                        return -ERANGE;
                *ret = (int64_t)num;
                return 0;
        }
        int r = getpwnam_r(name, &pw, buf, sizeof buf, &res);
        if (r != 0)
                return -r;
        if (!res)
                return -ENOENT;
        *ret = res->pw_uid;
        return 0;
}

/* Mount= as the kernel shows a mount point in /proc/mounts, where it is
 * looked up by name: "//" and "/./" collapsed, no trailing '/'. ".." is
 * refused, not resolved: by text it would be wrong past a symlink, and by
 * the filesystem it would follow one. -EINVAL also for a relative path or "/". */
static int normalize_mount_path(const char *value, char *out, size_t out_len)
{
        size_t n = 0;
        if (value[0] != '/')
                return -EINVAL;
        for (const char *c = value;;) {
                c += strspn(c, "/");
                size_t len = strcspn(c, "/");
                if (len == 0)
                        break;
                if (len == 2 && c[0] == '.' && c[1] == '.')
                        return -EINVAL;
                if (!(len == 1 && c[0] == '.')) {
                        if (n + 1 + len >= out_len)
                                return -ENAMETOOLONG;
                        out[n++] = '/';
                        memcpy(out + n, c, len);
                        n += len;
                }
                c += len;
        }
        if (n == 0)
                return -EINVAL;
        out[n] = '\0';
        return 0;
}

static void handle_mount_key(struct loader *l, struct mount_spec *m, const struct target *t, const char *name,
                             const char *value)
{
        uint64_t bytes;
        gid_t gid;
        char *end;

        if (strcmp(name, "Mount") == 0) {
                char path[sizeof(((struct vmm_mount *)0)->path)];
                size_t bad = 0;
                m->path_refused = true;   /* until it passes */
                if (!*value) {
                        set_string(&m->path, NULL);
                        m->path_refused = false;
                        return;
                }
                int r = normalize_mount_path(value, path, sizeof path);
                if (r < 0) {
                        if (r == -ENAMETOOLONG)
                                add_error(l, "Mount=%s: longer than %zu bytes", value, sizeof path - 1);
                        else
                                add_error(l, "Mount=%s: needs an absolute path (not /), without .. components", value);
                        return;
                }
                for (size_t i = 0; i < l->c->n_pools; i++)
                        if (&l->c->mounts[i] != m && l->c->mounts[i].path && strcmp(l->c->mounts[i].path, path) == 0) {
                                add_error(l, "Mount=%s: already the mount point of another [Pool] section", value);
                                return;
                        }
                /* Checked now for --check-config and reload; the mount itself checks again. */
                r = vmm_mount_point_check(l->ctx, path, &bad);
                if (r == -ELOOP)
                        add_error(l, "Mount=%s: %.*s is a symbolic link; mount points are not followed through "
                                  "symlinks (write the path it points to)", value, (int)bad, path);
                else if (r == -ENOTDIR)
                        add_error(l, "Mount=%s: %.*s is not a directory", value, (int)bad, path);
                else if (r < 0)
                        add_error(l, "Mount=%s: cannot check the mount point: %s", value, strerror(-r));
                else {
                        set_string(&m->path, path);
                        m->path_refused = false;
                }
                return;
        }
        m->has_extras = true;
        if (strcmp(name, "MountSize") == 0 || strcmp(name, "MountMinSize") == 0) {
                uint64_t *dst = strcmp(name, "MountSize") == 0 ? &m->opts.size_bytes : &m->opts.min_size_bytes;
                if (!*value) {
                        *dst = 0;
                        return;
                }
                if (vmm_size_parse(value, &bytes) < 0 || bytes == 0) {
                        add_error(l, "%s=%s: not a size (write it like 512M or 4G)", name, value);
                        return;
                }
                if (bytes % (t->size_kb * 1024)) {
                        char label[32];
                        vmm_size_label(t->size_kb, label, sizeof label);
                        add_error(l, "%s=%s is not a multiple of the %s page size", name, value, label);
                        return;
                }
                *dst = bytes;
        } else if (strcmp(name, "MountMode") == 0) {
                errno = 0;
                unsigned long mode = *value ? strtoul(value, &end, 8) : 0;
                if (!*value || *end || errno || mode > 07777 || value[0] == '-' || value[0] == '+' || value[0] == ' ') {
                        add_error(l, "MountMode=%s: needs an octal mode like 0770", value);
                        return;
                }
                m->opts.mode = (int)mode;
        } else if (strcmp(name, "MountUser") == 0) {
                if (resolve_user(value, &m->opts.uid) < 0)
                        add_error(l, "MountUser=%s: no such user", value);
        } else if (strcmp(name, "MountGroup") == 0) {
                if (resolve_group(value, &gid) < 0)
                        add_error(l, "MountGroup=%s: no such group", value);
                else
                        m->opts.gid = gid;
        } else
                add_error(l, "unknown key %s= in a [Pool] section (Mount=, MountSize=, MountMinSize=, MountMode=, "
                          "MountUser=, MountGroup=)", name);
}

static void handle_pool_key(struct loader *l, struct target *t, const char *name, const char *value)
{
        uint64_t pages;
        unsigned long node;
        char *end;

        if (strcmp(name, "Pages") == 0 || strcmp(name, "Size") == 0) {
                if (!*value) {            /* empty: drop an earlier whole-pool target */
                        t->has_pages = false;
                        return;
                }
                if (parse_pages(l, t, name, name[0] == 'S', value, &pages) < 0)
                        return;
                if (t->node_mask) {
                        add_error(l, "%s= conflicts with the NodeN.Pages= targets of this pool; use one or the other", name);
                        return;
                }
                t->has_pages = true;
                t->pages = pages;
                return;
        }
        if (strcmp(name, "Overcommit") == 0) {
                if (!*value) {
                        t->has_overcommit = false;
                        return;
                }
                if (parse_pages(l, t, name, false, value, &pages) < 0)
                        return;
                t->has_overcommit = true;
                t->overcommit = pages;
                return;
        }
        if (strncmp(name, "Mount", 5) == 0) {
                handle_mount_key(l, &l->c->mounts[t - l->c->pools], t, name, value);
                return;
        }
        if (strcmp(name, "Demote") == 0) {
                bool b;
                if (parse_bool(value, &b) < 0) {
                        add_error(l, "%s=%s: not a boolean (yes or no)", name, value);
                        return;
                }
                l->c->demote[t - l->c->pools] = b;
                return;
        }
        if (strncmp(name, "Node", 4) == 0 && name[4] >= '0' && name[4] <= '9') {
                errno = 0;
                node = strtoul(name + 4, &end, 10);
                if (errno || (strcmp(end, ".Pages") != 0 && strcmp(end, ".Size") != 0)) {
                        add_error(l, "unknown key %s= in a [Pool] section (NodeN.Pages= or NodeN.Size=)", name);
                        return;
                }
                if (node >= HUGEVMD_MAX_NODES) {
                        add_error(l, "%s=: node %lu is beyond the %u nodes hugevmd handles", name, node, HUGEVMD_MAX_NODES);
                        return;
                }
                /* A config shared by machines of different shapes: applied
                 * where the node exists, said here and shown in status. */
                if (!node_exists(l, (unsigned)node))
                        add_warning(l, "%s=: node %lu does not exist on this machine; its target applies where it does",
                                    name, node);
                if (!*value) {
                        t->node_mask &= ~(UINT64_C(1) << node);
                        return;
                }
                if (parse_pages(l, t, name, strcmp(end, ".Size") == 0, value, &pages) < 0)
                        return;
                if (t->has_pages) {
                        add_error(l, "%s= conflicts with the Pages=/Size= target of this pool; use one or the other", name);
                        return;
                }
                t->node_mask |= UINT64_C(1) << node;
                t->node_pages[node] = pages;
                return;
        }
        add_error(l, "unknown key %s= in a [Pool] section", name);
}

/* SocketGroup= and AdminGroup= default to the groups the shipped units create
 * (systemd/sysusers.d/hugevmd.conf) when they exist here, else to none (only
 * root); resolved at every load, so a group created later counts at reload. */
#define HUGEVMD_SOCKET_GROUP "hugevm"
#define HUGEVMD_ADMIN_GROUP  "hugevm-admin"

static void set_default_group(struct config *c, bool admin)
{
        char **group = admin ? &c->admin_group : &c->socket_group;
        gid_t gid = 0;
        if (resolve_group(admin ? HUGEVMD_ADMIN_GROUP : HUGEVMD_SOCKET_GROUP, &gid) < 0 ||
            set_string(group, admin ? HUGEVMD_ADMIN_GROUP : HUGEVMD_SOCKET_GROUP) < 0) {
                free(*group);   /* no such group (or no memory): none */
                *group = NULL;
        }
        *(admin ? &c->has_admin_gid : &c->has_socket_gid) = *group != NULL;
        *(admin ? &c->admin_gid : &c->socket_gid) = *group ? gid : 0;
}

static void handle_daemon_key(struct loader *l, const char *name, const char *value)
{
        struct config *c = l->c;
        bool b;
        uint64_t n;

        if (strcmp(name, "HVO") == 0 || strcmp(name, "ShrinkOnExit") == 0 || strcmp(name, "ShmLimits") == 0 ||
            strcmp(name, "Reoptimize") == 0 || strcmp(name, "DropCaches") == 0) {
                if (parse_bool(value, &b) < 0) {
                        add_error(l, "%s=%s: not a boolean (yes or no)", name, value);
                        return;
                }
                *(strcmp(name, "HVO") == 0            ? &c->hvo
                  : strcmp(name, "ShrinkOnExit") == 0 ? &c->shrink_on_exit
                  : strcmp(name, "Reoptimize") == 0   ? &c->reoptimize
                  : strcmp(name, "DropCaches") == 0   ? &c->drop_caches
                                                      : &c->shm_limits) = b;
        } else if (strcmp(name, "ShmGroup") == 0) {
                gid_t gid = 0;
                if (*value && resolve_group(value, &gid) < 0) {
                        add_error(l, "ShmGroup=%s: no such group", value);
                        return;
                }
                c->has_shm_gid = *value != '\0';
                c->shm_gid = gid;
        } else if (strcmp(name, "Socket") == 0) {
                if (value[0] != '/' || strlen(value) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
                        add_error(l, "Socket=%s: needs an absolute path shorter than %zu bytes", value,
                                  sizeof(((struct sockaddr_un *)0)->sun_path));
                        return;
                }
                set_string(&c->socket_path, value);
        } else if (strcmp(name, "SocketGroup") == 0 || strcmp(name, "AdminGroup") == 0) {
                bool admin = name[0] == 'A';
                gid_t gid = 0;
                if (!*value) {
                        set_default_group(c, admin);   /* Key=: back to the default */
                        return;
                }
                int r = resolve_group(value, &gid);
                if (r < 0) {
                        add_error(l, "%s=%s: no such group", name, value);
                        return;
                }
                set_string(admin ? &c->admin_group : &c->socket_group, value);
                *(admin ? &c->has_admin_gid : &c->has_socket_gid) = *value != '\0';
                *(admin ? &c->admin_gid : &c->socket_gid) = gid;
        } else if (strcmp(name, "RefreshSec") == 0) {
                if (vmm_count_parse(value, &n) < 0 || n < 1 || n > 86400) {
                        add_error(l, "RefreshSec=%s: needs whole seconds from 1 to 86400", value);
                        return;
                }
                c->refresh_sec = (unsigned)n;
        } else if (strcmp(name, "StateDirectory") == 0) {
                if (value[0] != '/') {
                        add_error(l, "StateDirectory=%s: needs an absolute path", value);
                        return;
                }
                set_string(&c->state_dir, value);
        } else if (strcmp(name, "MetricsListen") == 0) {
                char addr[64];
                uint16_t port;
                if (parse_bool(value, &b) == 0 && !b) {
                        set_string(&c->metrics_listen, NULL);
                        return;
                }
                if (config_parse_listen(value, addr, sizeof addr, &port) < 0) {
                        add_error(l, "MetricsListen=%s: needs ADDRESS:PORT (127.0.0.1:9464, [::1]:9464) or no", value);
                        return;
                }
                set_string(&c->metrics_listen, value);
        } else if (strcmp(name, "MetricsTextfile") == 0) {
                if (*value && value[0] != '/') {
                        add_error(l, "MetricsTextfile=%s: needs an absolute path", value);
                        return;
                }
                set_string(&c->metrics_textfile, value);
        } else if (strcmp(name, "ConvergedFile") == 0 || strcmp(name, "FeatureFile") == 0) {
                /* daemon/api/nodefeatures.c writes them; empty: none (the default) */
                if (*value && value[0] != '/') {
                        add_error(l, "%s=%s: needs an absolute path", name, value);
                        return;
                }
                set_string(name[0] == 'C' ? &c->converged_file : &c->feature_file, *value ? value : NULL);
        } else
                add_error(l, "unknown key %s= in [Daemon]", name);
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
        struct loader *l = user;
        while (*section == ' ')
                section++;
        if (strcmp(section, "Daemon") == 0)
                handle_daemon_key(l, name, value);
        else if (strncmp(section, "Pool ", 5) == 0) {
                const char *size = section + 5;
                while (*size == ' ')
                        size++;
                if (strcmp(l->bad_section, section) == 0)
                        return 1;
                struct target *t = pool_for(l, size);
                if (!t)
                        snprintf(l->bad_section, sizeof l->bad_section, "%s", section);
                if (t)
                        handle_pool_key(l, t, name, value);
        } else if (!*section)
                add_error(l, "%s= outside any section", name);
        else if (strcmp(l->bad_section, section) != 0) {   /* the header check missed it */
                add_error(l, "unknown section [%s] (known: [Daemon], [Pool SIZE])", section);
                snprintf(l->bad_section, sizeof l->bad_section, "%s", section);
        }
        return 1;   /* keep going: report every problem at once */
}

/*
 * Section headers are checked here, as the line is read, not in the handler:
 * Debian's libinih (55) is built without INI_CALL_HANDLER_ON_NEW_SECTION, so
 * the handler never sees a section without keys (an empty [Pools] would pass)
 * and sees the others only at their first key's line. A bad header is reported
 * at its own line, once; the handler then skips its keys (bad_section).
 * Like inih, a header starts in the first column (an indented line may be a
 * continuation); the handler still catches an unknown section missed here.
 */
static void check_section_header(struct loader *l, const char *text)
{
        if (l->line == 1 && strncmp(text, "\xEF\xBB\xBF", 3) == 0)   /* UTF-8 BOM, as inih skips it */
                text += 3;
        if (text[0] != '[')
                return;
        const char *close = strchr(text + 1, ']');
        if (!close)
                return;   /* inih reports the syntax error */
        const char *name = text + 1;
        while (*name == ' ')
                name++;
        char section[sizeof l->bad_section];
        snprintf(section, sizeof section, "%.*s", (int)(close > name ? close - name : 0), name);
        l->bad_section[0] = '\0';
        if (strcmp(section, "Daemon") == 0)
                return;
        if (strncmp(section, "Pool ", 5) == 0) {
                const char *size = section + 5;
                uint64_t kb;
                while (*size == ' ')
                        size++;
                if (pool_size_kb(l, size, &kb) < 0)
                        snprintf(l->bad_section, sizeof l->bad_section, "%s", section);
                return;
        }
        add_error(l, "unknown section [%s] (known: [Daemon], [Pool SIZE])", section);
        snprintf(l->bad_section, sizeof l->bad_section, "%s", section);
}

/*
 * inih reads a line into a buffer of INI_MAX_LINE bytes (Debian's: 200) and
 * takes whatever did not fit as the next line: the end of a long comment
 * would become a key. So every file is read whole and its lines checked here,
 * before inih sees it: a line (without its newline) may hold INI_MAX_LINE - 2
 * bytes, the buffer's room beside the newline and the NUL.
 */
#define CONF_LINE_MAX (INI_MAX_LINE - 2)
#define CONF_FILE_MAX (1024 * 1024)

/* Every line too long and every NUL byte (which would cut a line short for
 * inih), each reported at its line. false: the file is not to be parsed. */
static bool lines_fit(struct loader *l, const char *text, size_t len)
{
        bool fit = true;
        l->line = 0;
        for (size_t pos = 0; pos < len;) {
                const char *start = text + pos, *nl = memchr(start, '\n', len - pos);
                size_t n = nl ? (size_t)(nl - start) : len - pos;
                l->line++;
                if (n > CONF_LINE_MAX) {
                        add_error(l, "line longer than %d bytes", CONF_LINE_MAX);
                        fit = false;
                }
                if (memchr(start, '\0', n)) {
                        add_error(l, "holds a NUL byte");
                        fit = false;
                }
                pos += n + (nl != NULL);
        }
        l->line = 0;
        return fit;
}

/* inih's reader: the next whole line of the checked text, counted, so the
 * handler knows where it is. */
static char *line_reader(char *str, int num, void *stream)
{
        struct loader *l = stream;
        if (l->pos >= l->len)
                return NULL;
        const char *start = l->text + l->pos, *nl = memchr(start, '\n', l->len - l->pos);
        size_t n = nl ? (size_t)(nl - start) + 1 : l->len - l->pos;
        l->line++;
        if (num < 2 || n > (size_t)num - 1) {
                /* An inih built with a smaller buffer than its header says: stop, never half-read. */
                add_error(l, "line longer than %d bytes", num - 2);
                l->pos = l->len;
                return NULL;
        }
        memcpy(str, start, n);
        str[n] = '\0';
        l->pos += n;
        check_section_header(l, str);
        return str;
}

/* Only a regular file is read (see read_regular_file); a symlink to one is
 * followed: the configuration directory is root's, and config files linked
 * from elsewhere are common. */
static void parse_file(struct loader *l, const char *path, bool missing_ok)
{
        char *text = NULL, why[128];
        size_t len = 0;
        l->file = path;
        l->line = 0;
        l->bad_section[0] = '\0';
        int r = read_regular_file(path, 0, CONF_FILE_MAX, &text, &len, NULL, why, sizeof why);
        if (r < 0) {
                if (!(missing_ok && r == -ENOENT))
                        add_error(l, r == -EBADMSG ? "%s" : "cannot open: %s", why);
                return;
        }
        size_t nf = 0;
        while (l->c->files[nf])
                nf++;
        char **files = realloc(l->c->files, (nf + 2) * sizeof *files);
        if (files) {
                l->c->files = files;
                files[nf] = strdup(path);
                files[nf + 1] = NULL;
        }
        if (!lines_fit(l, text, len)) {
                free(text);
                return;
        }
        l->text = text;
        l->len = len;
        l->pos = 0;
        r = ini_parse_stream(line_reader, l, handler, l);
        l->text = NULL;
        free(text);
        if (r > 0) {
                l->line = (unsigned)r;
                add_error(l, "syntax error (expected [Section], Key=Value, or a comment)");
        } else if (r < 0) {
                l->line = 0;
                add_error(l, "cannot parse (out of memory)");
        }
}

static int conf_filter(const struct dirent *d)
{
        size_t n = strlen(d->d_name);
        return d->d_name[0] != '.' && n > 5 && strcmp(d->d_name + n - 5, ".conf") == 0;
}

static int bytewise(const struct dirent **a, const struct dirent **b)
{
        return strcmp((*a)->d_name, (*b)->d_name);
}

static void config_init_defaults(struct config *c)
{
        c->hvo = true;
        set_default_group(c, false);
        set_default_group(c, true);
        c->refresh_sec = HUGEVMD_REFRESH_SEC;
        c->socket_path = strdup(PROTO_DEFAULT_SOCKET);
        c->state_dir = strdup(HUGEVMD_STATE_DIR);
        c->metrics_listen = strdup(HUGEVMD_METRICS_LISTEN);
        c->files = calloc(1, sizeof *c->files);
}

int config_load(const char *path, bool missing_ok, vmm_ctx *ctx, struct config **ret, struct config_errors *errors)
{
        struct config *c = calloc(1, sizeof *c);
        struct loader l = { .c = c, .ctx = ctx, .errors = errors };
        if (!c)
                return -ENOMEM;
        config_init_defaults(c);
        if (!c->socket_path || !c->state_dir || !c->metrics_listen || !c->files) {
                config_free(c);
                return -ENOMEM;
        }
        if (vmm_nodes_list(ctx, &l.nodes, &l.n_nodes) < 0)
                l.n_nodes = 0;
        l.mem_bytes = config_mem_bytes(ctx);

        size_t errors_before = errors->n;
        parse_file(&l, path, missing_ok);
        /* No main file (the default path, missing): change nothing on the host
         * (HVO left as it is, no pool managed) unless a drop-in says so. */
        if (!c->files[0])
                c->hvo = false;

        /* Drop-ins: <dir of path>/hugevmd.conf.d/NAME.conf, bytewise order. */
        char *dir = strdup(path), *slash = dir ? strrchr(dir, '/') : NULL, *dropin = NULL;
        if (dir && asprintf(&dropin, "%s/hugevmd.conf.d", slash ? (slash == dir ? "/" : (*slash = '\0', dir)) : ".") >= 0) {
                struct dirent **list = NULL;
                int n = scandir(dropin, &list, conf_filter, bytewise);
                if (n < 0 && errno != ENOENT) {
                        l.file = dropin;
                        l.line = 0;
                        add_error(&l, "cannot read the drop-in directory: %s", strerror(errno));
                }
                for (int i = 0; i < n; i++) {
                        char *p = NULL;
                        if (asprintf(&p, "%s/%s", dropin, list[i]->d_name) >= 0) {
                                parse_file(&l, p, false);
                                free(p);
                        }
                        free(list[i]);
                }
                free(list);
        }
        free(dropin);
        free(dir);
        free(l.nodes);

        for (size_t i = 0; i < c->n_pools; i++)
                if (c->mounts[i].has_extras && !c->mounts[i].path && !c->mounts[i].path_refused) {
                        char label[32];
                        vmm_size_label(c->pools[i].size_kb, label, sizeof label);
                        l.file = path;
                        l.line = 0;
                        add_error(&l, "[Pool %s]: MountSize=, MountMinSize=, MountMode=, MountUser= or MountGroup= "
                                  "without Mount=", label);
                }
        if (errors->n > errors_before || l.lost_error) {
                config_free(c);
                return errors->n > errors_before ? -EINVAL : -ENOMEM;
        }
        *ret = c;
        return 0;
}

void config_free(struct config *c)
{
        if (!c)
                return;
        free(c->socket_path);
        free(c->socket_group);
        free(c->admin_group);
        free(c->state_dir);
        free(c->metrics_listen);
        free(c->metrics_textfile);
        free(c->converged_file);
        free(c->feature_file);
        for (size_t i = 0; i < c->n_pools; i++)
                free(c->mounts[i].path);
        if (c->files)
                for (char **f = c->files; *f; f++)
                        free(*f);
        free(c->files);
        config_errors_clear(&c->warnings);
        free(c);
}

bool target_nodes_equal(const struct target *a, const struct target *b)
{
        if (a->node_mask != b->node_mask)
                return false;
        for (unsigned node = 0; node < HUGEVMD_MAX_NODES; node++)
                if ((a->node_mask & (UINT64_C(1) << node)) && a->node_pages[node] != b->node_pages[node])
                        return false;
        return true;
}

bool target_equal(const struct target *a, const struct target *b)
{
        return a->size_kb == b->size_kb && a->has_pages == b->has_pages && (!a->has_pages || a->pages == b->pages) &&
               target_nodes_equal(a, b) && a->has_overcommit == b->has_overcommit &&
               (!a->has_overcommit || a->overcommit == b->overcommit);
}

const struct target *config_pool(const struct config *c, uint64_t size_kb)
{
        for (size_t i = 0; c && i < c->n_pools; i++)
                if (c->pools[i].size_kb == size_kb)
                        return &c->pools[i];
        return NULL;
}

bool config_pool_demote(const struct config *c, uint64_t size_kb)
{
        const struct target *t = config_pool(c, size_kb);
        return t && c->demote[t - c->pools];
}
