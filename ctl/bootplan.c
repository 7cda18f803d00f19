/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hugevmctl boot-plan. The plan is the kernel's own syntax
 * (Documentation/admin-guide/kernel-parameters.txt, mm/hugetlb.c):
 * "hugepagesz=SIZE hugepages=N" for a whole-pool target, "hugepagesz=SIZE
 * hugepages=NODE:N,NODE:N" for per-node targets, and hugetlb_free_vmemmap=on
 * when hugevmd keeps HVO on, so that pages allocated at boot are optimized
 * from the start. The running line is read as the kernel's next_arg() splits
 * it; a hugepages= before any hugepagesz= is the default size's; the first
 * hugepages= of a size counts (the kernel ignores repeats), the last valid
 * hugetlb_free_vmemmap= wins.
 */
#include "config.h"
#include "bootplan.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <dirent.h>
#include <unistd.h>

#include "client.h"
#include "kernel.h"
#include "proto.h"
#include "vmemmap.h"

#define BP_MAX_NODES 64
#define BP_MAX_PLAN 16
#define BP_CMDLINE_MAX (64 * 1024)
#define BP_MAX_TOKENS 4096
#define GRUB_SNIPPET "etc/default/grub.d/hugevm.cfg"
#define KERNEL_CMDLINE "etc/kernel/cmdline"

/* One size's hugepages=: a whole count, or counts per node. */
struct pages_spec {
        bool set, per_node;
        uint64_t whole;
        uint64_t node[BP_MAX_NODES];
        char raw[256];
};

struct planned {
        uint64_t size_kb;
        const char *label;   /* "1048576kB", as STATUS names it */
        char param[32];      /* "1G", for hugepagesz= */
        char value[512];     /* the hugepages= value */
        struct pages_spec want, have;
        bool needs;          /* runtime growth did not (or will not) reach the target */
        char why[512];
};

struct plan {
        struct planned p[BP_MAX_PLAN];
        size_t n;
        bool hvo;            /* hugetlb_free_vmemmap=on is part of it */
        int have_hvo;        /* on the running line: -1 absent, 0 off, 1 on */
        char line[4096];
};

struct tok {
        char *raw;           /* as written */
        char *name;          /* before '=', '-' read as '_' (the kernel's parameq) */
        char *val;           /* after '=', quotes off; NULL without '=' */
};

/* ---- The kernel's command-line syntax ----------------------------------- */

static void toks_free(struct tok *t, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                free(t[i].raw);
                free(t[i].name);
                free(t[i].val);
        }
}

/* Split as next_arg() does: whitespace outside double quotes. */
static int tokenize(const char *line, struct tok *t, size_t max, size_t *ret_n)
{
        size_t n = 0;
        const char *p = line;
        for (;;) {
                while (*p == ' ' || *p == '\t' || *p == '\n')
                        p++;
                if (!*p)
                        break;
                if (n == max) {
                        toks_free(t, n);
                        return -E2BIG;
                }
                const char *s = p;
                bool q = false;
                for (; *p; p++) {
                        if (*p == '"')
                                q = !q;
                        else if (!q && (*p == ' ' || *p == '\t' || *p == '\n'))
                                break;
                }
                const char *a = *s == '"' ? s + 1 : s, *eq = memchr(a, '=', (size_t)(p - a));
                size_t nlen = eq ? (size_t)(eq - a) : (size_t)(p - a);
                t[n].raw = strndup(s, (size_t)(p - s));
                t[n].name = strndup(a, nlen);
                t[n].val = NULL;
                if (eq) {
                        const char *v = eq + 1;
                        size_t vlen = (size_t)(p - v);
                        if (vlen > 0 && *v == '"') {
                                v++;
                                vlen--;
                        }
                        if (vlen > 0 && v[vlen - 1] == '"')
                                vlen--;
                        t[n].val = strndup(v, vlen);
                }
                if (!t[n].raw || !t[n].name || (eq && !t[n].val)) {
                        toks_free(t, n + 1);
                        return -ENOMEM;
                }
                for (char *c = t[n].name; *c; c++)
                        if (*c == '-')
                                *c = '_';
                n++;
        }
        *ret_n = n;
        return 0;
}

/* The kernel's memparse(): a number, then an optional K/M/G/T/P/E. In kB. */
static int memparse_kb(const char *v, uint64_t *ret_kb)
{
        char *end;
        errno = 0;
        unsigned long long x = strtoull(v, &end, 0);
        if (errno || end == v || *v == '-')
                return -EINVAL;
        int shift = 0;
        switch (*end) {
        case 'E': case 'e': shift += 10; /* fall through */
        case 'P': case 'p': shift += 10; /* fall through */
        case 'T': case 't': shift += 10; /* fall through */
        case 'G': case 'g': shift += 10; /* fall through */
        case 'M': case 'm': shift += 10; /* fall through */
        case 'K': case 'k': shift += 10; end++; break;
        default: break;
        }
        if (*end || (shift < 64 && x > (UINT64_MAX >> shift)))
                return -EINVAL;
        *ret_kb = ((uint64_t)x << shift) / 1024;
        return 0;
}

/* kstrtobool: y/Y/1/on true, n/N/0/off false. */
static int kbool(const char *v)
{
        if (!v || !*v)
                return -1;
        if (strchr("yY1", v[0]) || strncasecmp(v, "on", 2) == 0)
                return 1;
        if (strchr("nN0", v[0]) || strncasecmp(v, "of", 2) == 0)
                return 0;
        return -1;
}

/* "512" or "0:512,1:512" (hugepages_setup's two forms). */
static int pages_parse(const char *v, struct pages_spec *s)
{
        memset(s, 0, sizeof *s);
        snprintf(s->raw, sizeof s->raw, "%s", v);
        if (!strchr(v, ':')) {
                if (vmm_count_parse(v, &s->whole) < 0)
                        return -EINVAL;
                s->set = true;
                return 0;
        }
        char *copy = strdup(v), *save = NULL;
        if (!copy)
                return -ENOMEM;
        int r = 0;
        for (char *item = strtok_r(copy, ",", &save); item && r == 0; item = strtok_r(NULL, ",", &save)) {
                char *colon = strchr(item, ':');
                uint64_t node, count;
                if (!colon)
                        r = -EINVAL;
                else {
                        *colon = '\0';
                        if (vmm_count_parse(item, &node) < 0 || node >= BP_MAX_NODES || vmm_count_parse(colon + 1, &count) < 0)
                                r = -EINVAL;
                        else
                                s->node[node] = count;
                }
        }
        free(copy);
        s->set = r == 0;
        s->per_node = true;
        return r;
}

static bool pages_equal(const struct pages_spec *a, const struct pages_spec *b)
{
        if (a->set != b->set || a->per_node != b->per_node)
                return false;
        if (!a->per_node)
                return a->whole == b->whole;
        return memcmp(a->node, b->node, sizeof a->node) == 0;
}

static void path_under(const char *root, const char *rel, char *buf, size_t len)
{
        bool slash = root && strcmp(root, "/") != 0;
        snprintf(buf, len, "%s/%s", slash ? root : "", rel);
}

/* A whole file, NUL-terminated (at most BP_CMDLINE_MAX bytes). */
static int read_text(const char *path, char **ret)
{
        FILE *f = fopen(path, "re");
        if (!f)
                return -errno;
        char *buf = malloc(BP_CMDLINE_MAX + 1);
        if (!buf) {
                fclose(f);
                return -ENOMEM;
        }
        size_t n = fread(buf, 1, BP_CMDLINE_MAX, f);
        int r = ferror(f) ? -EIO : 0;
        fclose(f);
        if (r < 0) {
                free(buf);
                return r;
        }
        buf[n] = '\0';
        *ret = buf;
        return 0;
}

/* ---- The plan ------------------------------------------------------------- */

static void size_param(uint64_t size_kb, char *buf, size_t len)
{
        if (size_kb % (1024 * 1024) == 0)
                snprintf(buf, len, "%" PRIu64 "G", size_kb / (1024 * 1024));
        else if (size_kb % 1024 == 0)
                snprintf(buf, len, "%" PRIu64 "M", size_kb / 1024);
        else
                snprintf(buf, len, "%" PRIu64 "K", size_kb);
}

static bool size_eligible(json_object *hvo, const char *label)
{
        json_object *sizes = proto_get(hvo, PROTO_F_SIZES);
        for (size_t i = 0; i < proto_array_len(sizes); i++) {
                json_object *s = json_object_array_get_idx(sizes, i);
                if (strcmp(proto_get_str(s, PROTO_F_SIZE, ""), label) == 0)
                        return proto_get_bool(s, PROTO_F_ELIGIBLE, false);
        }
        return false;
}

/* Why a pool needs its pages at boot: it is not converged now (or has a
 * reason), or the daemon's forecast (when it sends one) says runtime growth
 * falls short. */
static void judge(json_object *pool, struct planned *pl)
{
        const char *state = proto_get_str(pool, PROTO_F_STATE, "");
        const char *reason = proto_get_str(pool, PROTO_F_REASON, "");
        json_object *nodes = proto_get(pool, PROTO_F_NODES);
        for (size_t k = 0; !*reason && k < proto_array_len(nodes); k++)
                reason = proto_get_str(json_object_array_get_idx(nodes, k), PROTO_F_REASON, "");
        json_object *fc = proto_get(pool, "forecast");
        int64_t shortp = fc && json_object_is_type(fc, json_type_object) ? proto_get_int(fc, "short", 0) : 0;
        if (strcmp(state, PROTO_STATE_CONVERGED) != 0 || *reason) {
                pl->needs = true;
                snprintf(pl->why, sizeof pl->why, "%s%s%s", state, *reason ? ": " : "", reason);
        } else if (shortp > 0) {
                pl->needs = true;
                snprintf(pl->why, sizeof pl->why, "the forecast says runtime growth falls %" PRId64 " %s short",
                         shortp, ctl_pages(shortp));
        } else
                snprintf(pl->why, sizeof pl->why, "converged at runtime: boot allocation optional");
}

static int by_size_desc(const void *a, const void *b)
{
        const struct planned *x = a, *y = b;
        return x->size_kb < y->size_kb ? 1 : x->size_kb > y->size_kb ? -1 : 0;
}

/* The declared pools (their config targets) of a STATUS. */
static int make_plan(json_object *st, struct plan *pl)
{
        json_object *pools = proto_get(st, PROTO_F_POOLS), *hvo = proto_get(st, PROTO_F_HVO);
        bool any_eligible = false;
        for (size_t i = 0; i < proto_array_len(pools); i++) {
                json_object *pool = json_object_array_get_idx(pools, i), *nodes = proto_get(pool, PROTO_F_NODES);
                if (pl->n == BP_MAX_PLAN)
                        return -E2BIG;
                struct planned *p = &pl->p[pl->n];
                memset(p, 0, sizeof *p);
                if (proto_has_int(pool, PROTO_F_CONFIG_TARGET)) {
                        p->want.whole = (uint64_t)proto_get_int(pool, PROTO_F_CONFIG_TARGET, 0);
                        p->want.set = true;
                        snprintf(p->value, sizeof p->value, "%" PRIu64, p->want.whole);
                } else {
                        size_t off = 0;
                        for (size_t k = 0; k < proto_array_len(nodes); k++) {
                                json_object *n = json_object_array_get_idx(nodes, k);
                                int64_t node = proto_get_int(n, PROTO_F_NODE, -1);
                                if (!proto_has_int(n, PROTO_F_CONFIG_TARGET) || node < 0 || node >= BP_MAX_NODES)
                                        continue;
                                p->want.node[node] = (uint64_t)proto_get_int(n, PROTO_F_CONFIG_TARGET, 0);
                                p->want.set = p->want.per_node = true;
                                off += (size_t)snprintf(p->value + off, sizeof p->value - off, "%s%" PRId64 ":%" PRIu64,
                                                        off ? "," : "", node, p->want.node[node]);
                                if (off >= sizeof p->value)
                                        return -E2BIG;
                        }
                }
                if (!p->want.set)
                        continue;
                p->label = proto_get_str(pool, PROTO_F_SIZE, "?");
                p->size_kb = (uint64_t)proto_get_int(pool, PROTO_F_SIZE_BYTES, 0) / 1024;
                size_param(p->size_kb, p->param, sizeof p->param);
                judge(pool, p);
                any_eligible |= size_eligible(hvo, p->label);
                pl->n++;
        }
        qsort(pl->p, pl->n, sizeof pl->p[0], by_size_desc);
        pl->hvo = pl->n > 0 && any_eligible && proto_get_bool(hvo, PROTO_F_SUPPORTED, false) &&
                  proto_get_bool(hvo, PROTO_F_ENABLED, false);
        size_t off = 0;
        for (size_t i = 0; i < pl->n && off < sizeof pl->line; i++)
                off += (size_t)snprintf(pl->line + off, sizeof pl->line - off, "%shugepagesz=%s hugepages=%s", i ? " " : "",
                                        pl->p[i].param, pl->p[i].value);
        if (pl->hvo && off < sizeof pl->line)
                off += (size_t)snprintf(pl->line + off, sizeof pl->line - off, " hugetlb_free_vmemmap=on");
        return off < sizeof pl->line ? 0 : -E2BIG;
}

static struct planned *plan_find(struct plan *pl, uint64_t size_kb)
{
        for (size_t i = 0; i < pl->n; i++)
                if (pl->p[i].size_kb == size_kb)
                        return &pl->p[i];
        return NULL;
}

static uint64_t default_size_kb(const struct tok *t, size_t n, const char *root)
{
        uint64_t kb = 0;
        for (size_t i = 0; i < n && strcmp(t[i].raw, "--") != 0; i++)
                if (strcmp(t[i].name, "default_hugepagesz") == 0 && t[i].val && memparse_kb(t[i].val, &kb) == 0)
                        return kb;
        if (kernel_default_size_kb(root, &kb) == 0)
                return kb;
        return 2048;
}

/* What the running line says about the planned sizes and HVO. */
static void read_running(struct plan *pl, const struct tok *t, size_t n, const char *root)
{
        uint64_t dflt = default_size_kb(t, n, root), cur = 0;
        bool have_cur = false;
        pl->have_hvo = -1;
        for (size_t i = 0; i < n && strcmp(t[i].raw, "--") != 0; i++) {
                if (!t[i].val)
                        continue;
                if (strcmp(t[i].name, "hugepagesz") == 0)
                        have_cur = memparse_kb(t[i].val, &cur) == 0;
                else if (strcmp(t[i].name, "hugepages") == 0) {
                        struct planned *p = plan_find(pl, have_cur ? cur : dflt);
                        if (p && !p->have.set)
                                pages_parse(t[i].val, &p->have);
                } else if (strcmp(t[i].name, "hugetlb_free_vmemmap") == 0 && kbool(t[i].val) >= 0)
                        pl->have_hvo = kbool(t[i].val);
        }
}

/* ---- Where the boot loaders read it ----------------------------------------- */

enum loader { LOADER_GRUB, LOADER_KERNEL_INSTALL };

static bool exists(const char *root, const char *rel)
{
        char path[PATH_MAX];
        path_under(root, rel, path, sizeof path);
        return access(path, F_OK) == 0;
}

/* grub: /etc/default/grub. systemd-boot/kernel-install: /etc/kernel/cmdline,
 * or systemd-boot's entries. Both, or neither: we cannot tell, and write
 * nothing. */
static int detect_loader(const char *root, enum loader *ret)
{
        bool grub = exists(root, "etc/default/grub");
        bool ki = exists(root, KERNEL_CMDLINE) || exists(root, "boot/loader/entries") ||
                  exists(root, "efi/loader/entries") || exists(root, "boot/efi/loader/entries");
        if (grub && ki) {
                ctl_errorf("cannot tell the boot loader: both grub (/etc/default/grub) and systemd-boot/kernel-install"
                           " (/etc/kernel/cmdline or loader entries) are set up; nothing written");
                return -EEXIST;
        }
        if (!grub && !ki) {
                ctl_errorf("cannot tell the boot loader: neither /etc/default/grub nor /etc/kernel/cmdline"
                           " (or systemd-boot's loader entries) exists; nothing written");
                return -ENOENT;
        }
        *ret = grub ? LOADER_GRUB : LOADER_KERNEL_INSTALL;
        return 0;
}

/* Write PATH whole through a temp file in its directory and rename(). 1 when
 * it already held TEXT (left alone), 0 written, or a negative errno. */
static int write_atomic(const char *path, const char *text)
{
        char *old = NULL;
        if (read_text(path, &old) == 0) {
                bool same = strcmp(old, text) == 0;
                free(old);
                if (same)
                        return 1;
        }
        char dir[PATH_MAX], tmp[PATH_MAX];
        snprintf(dir, sizeof dir, "%s", path);
        char *slash = strrchr(dir, '/');
        if (!slash)
                return -EINVAL;
        *slash = '\0';
        if (mkdir(dir, 0755) < 0 && errno != EEXIST)
                return -errno;
        /* ".hugevm.cfg.XXXXXX": not a *.cfg, so grub-mkconfig never sources it half-written. */
        if (snprintf(tmp, sizeof tmp, "%s/.%s.XXXXXX", dir, slash + 1) >= (int)sizeof tmp)
                return -ENAMETOOLONG;
        int fd = mkstemp(tmp);
        if (fd < 0)
                return -errno;
        size_t len = strlen(text), done = 0;
        int r = 0;
        while (r == 0 && done < len) {
                ssize_t w = write(fd, text + done, len - done);
                if (w < 0 && errno != EINTR)
                        r = -errno;
                else if (w > 0)
                        done += (size_t)w;
        }
        if (r == 0 && fchmod(fd, 0644) < 0)
                r = -errno;
        if (r == 0 && fsync(fd) < 0)
                r = -errno;
        if (close(fd) < 0 && r == 0)
                r = -errno;
        if (r == 0 && rename(tmp, path) < 0)
                r = -errno;
        if (r < 0) {
                unlink(tmp);
                return r;
        }
        int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
                fsync(dfd);
                close(dfd);
        }
        return 0;
}

/* /etc/kernel/cmdline (else the running line, without what the boot loader
 * adds) with our parameters replaced: hugepagesz= of a planned size and its
 * hugepages=, a default-size hugepages= when the default size is planned,
 * hugetlb_free_vmemmap= when the plan has it. Everything else is kept, in
 * order; ours go before "--" (after it, the line is init's). */
static int kernel_install_line(const char *root, struct plan *pl, char **ret)
{
        char path[PATH_MAX], *base = NULL;
        bool from_proc = false;
        path_under(root, KERNEL_CMDLINE, path, sizeof path);
        int r = read_text(path, &base);
        if (r == -ENOENT) {
                path_under(root, "proc/cmdline", path, sizeof path);
                r = read_text(path, &base);
                from_proc = true;
        }
        if (r < 0) {
                ctl_errorf("cannot read %s: %s", path, strerror(-r));
                return r;
        }
        struct tok *t = calloc(BP_MAX_TOKENS, sizeof *t);
        size_t n = 0;
        r = t ? tokenize(base, t, BP_MAX_TOKENS, &n) : -ENOMEM;
        free(base);
        if (r < 0) {
                free(t);
                ctl_errorf("cannot read the kernel command line in %s: %s", path, strerror(-r));
                return r;
        }
        uint64_t dflt = default_size_kb(t, n, root), cur = 0;
        bool ours = false, seen_size = false, init_part = false;
        size_t len = strlen(pl->line) + 2;
        for (size_t i = 0; i < n; i++)
                len += strlen(t[i].raw) + 1;
        char *out = malloc(len), *o = out;
        if (!out) {
                toks_free(t, n);
                free(t);
                return -ENOMEM;
        }
        for (size_t i = 0; i < n; i++) {
                bool drop = false;
                if (!init_part && strcmp(t[i].raw, "--") == 0) {
                        o += sprintf(o, "%s%s", o > out ? " " : "", pl->line);
                        init_part = true;
                } else if (!init_part && t[i].val) {
                        if (strcmp(t[i].name, "hugepagesz") == 0) {
                                seen_size = true;
                                ours = memparse_kb(t[i].val, &cur) == 0 && plan_find(pl, cur);
                                drop = ours;
                        } else if (strcmp(t[i].name, "hugepages") == 0)
                                drop = seen_size ? ours : plan_find(pl, dflt) != NULL;
                        else if (strcmp(t[i].name, "hugetlb_free_vmemmap") == 0)
                                drop = pl->hvo;
                        else if (from_proc)
                                drop = strcmp(t[i].name, "BOOT_IMAGE") == 0 || strcmp(t[i].name, "initrd") == 0;
                }
                if (!drop)
                        o += sprintf(o, "%s%s", o > out ? " " : "", t[i].raw);
        }
        if (!init_part)
                o += sprintf(o, "%s%s", o > out ? " " : "", pl->line);
        strcpy(o, "\n");
        toks_free(t, n);
        free(t);
        *ret = out;
        return 0;
}

/* grub puts GRUB_CMDLINE_LINUX, then GRUB_CMDLINE_LINUX_DEFAULT (the plan at
 * its end) on the line, and the kernel takes the first hugepages= of a size:
 * one already set for a planned size in /etc/default/grub or another grub.d
 * snippet would win over the plan. Says where; 1 if the file has any. */
static int grub_file_conflicts(const char *path, const char *root, struct plan *pl)
{
        char *text = NULL;
        int found = 0;
        if (read_text(path, &text) < 0)
                return 0;
        for (char *save = NULL, *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                line += strspn(line, " \t");
                const char *var = strncmp(line, "GRUB_CMDLINE_LINUX=", 19) == 0           ? "GRUB_CMDLINE_LINUX"
                                  : strncmp(line, "GRUB_CMDLINE_LINUX_DEFAULT=", 27) == 0 ? "GRUB_CMDLINE_LINUX_DEFAULT"
                                                                                           : NULL;
                if (!var)
                        continue;
                char *value = strchr(line, '=') + 1;
                for (char *c = value; *c; c++)
                        if (*c == '\'' || *c == '"')
                                *c = ' ';   /* the shell's quotes around the value, not the kernel's */
                struct tok t[256];
                size_t n = 0;
                if (tokenize(value, t, 256, &n) < 0)
                        continue;
                uint64_t dflt = default_size_kb(t, n, root), kb;
                bool sized = false;
                for (size_t i = 0; i < n; i++) {
                        bool clash = false;
                        if (strcmp(t[i].name, "hugepagesz") == 0 && t[i].val) {
                                sized = true;
                                clash = memparse_kb(t[i].val, &kb) == 0 && plan_find(pl, kb);
                        } else if (strcmp(t[i].name, "hugepages") == 0 && !sized)
                                clash = plan_find(pl, dflt) != NULL;
                        if (clash) {
                                ctl_errorf("%s sets %s in %s: the kernel takes the first hugepages= of a size and grub"
                                           " puts that before the plan, so the plan would be ignored; remove it there"
                                           " and run boot-plan --apply again (nothing written)",
                                           path, t[i].raw, var);
                                found = 1;
                        }
                }
                toks_free(t, n);
        }
        free(text);
        return found;
}

/* /etc/default/grub, then every other .cfg in /etc/default/grub.d, as update-grub reads them. */
static int grub_conflicts(const char *root, struct plan *pl)
{
        char path[PATH_MAX];
        path_under(root, "etc/default/grub", path, sizeof path);
        int found = grub_file_conflicts(path, root, pl);
        path_under(root, "etc/default/grub.d", path, sizeof path);
        DIR *d = opendir(path);
        for (struct dirent *e; d && (e = readdir(d));) {
                size_t l = strlen(e->d_name);
                char *file = NULL;
                if (l < 5 || strcmp(e->d_name + l - 4, ".cfg") != 0 || strcmp(e->d_name, "hugevm.cfg") == 0 ||
                    e->d_name[0] == '.' || asprintf(&file, "%s/%s", path, e->d_name) < 0)
                        continue;
                found |= grub_file_conflicts(file, root, pl);
                free(file);
        }
        if (d)
                closedir(d);
        return found;
}

static int apply(const char *root, struct plan *pl, bool json, json_object *jo)
{
        enum loader loader;
        char path[PATH_MAX], *text = NULL;
        const char *next;
        int r = detect_loader(root, &loader);
        if (r < 0)
                return EXIT_FAILURE;
        if (loader == LOADER_GRUB) {
                if (grub_conflicts(root, pl))
                        return EXIT_FAILURE;
                path_under(root, GRUB_SNIPPET, path, sizeof path);
                if (asprintf(&text,
                             "# hugevm: the HugeTLB pools hugevmd keeps, allocated at boot.\n"
                             "# Written whole by 'hugevmctl boot-plan --apply'; update-grub (grub-mkconfig)\n"
                             "# sources /etc/default/grub.d/*.cfg after /etc/default/grub.\n"
                             "GRUB_CMDLINE_LINUX_DEFAULT=\"$GRUB_CMDLINE_LINUX_DEFAULT %s\"\n", pl->line) < 0)
                        return EXIT_FAILURE;
                next = "run update-grub, then reboot";
        } else {
                path_under(root, KERNEL_CMDLINE, path, sizeof path);
                if (kernel_install_line(root, pl, &text) < 0)
                        return EXIT_FAILURE;
                next = "run 'kernel-install add \"$(uname -r)\" \"/boot/vmlinuz-$(uname -r)\"' (or reinstall the kernel"
                       " package) so the boot entries get the new line, then reboot";
        }
        r = write_atomic(path, text);
        free(text);
        if (r < 0) {
                ctl_errorf("cannot write %s: %s", path, strerror(-r));
                return EXIT_FAILURE;
        }
        const char *lname = loader == LOADER_GRUB ? "grub" : "kernel-install";
        if (json) {
                json_object *a = json_object_new_object();
                json_object_object_add(a, "loader", json_object_new_string(lname));
                json_object_object_add(a, "path", json_object_new_string(path));
                json_object_object_add(a, "changed", json_object_new_boolean(r == 0));
                json_object_object_add(a, "next", json_object_new_string(next));
                json_object_object_add(jo, "apply", a);
        } else
                printf("%s %s (%s). Next: %s.\n", r == 0 ? "Wrote" : "Already up to date:", path, lname, next);
        return EXIT_SUCCESS;
}

/* ---- The command ------------------------------------------------------------ */

int bootplan_run(json_object *st, const char *root, bool do_apply, bool json)
{
        struct plan *pl = calloc(1, sizeof *pl);
        struct tok *t = calloc(BP_MAX_TOKENS, sizeof *t);
        char path[PATH_MAX], *running = NULL;
        size_t n = 0;
        int ex = EXIT_FAILURE, r;

        if (!pl || !t)
                goto out;
        r = make_plan(st, pl);
        if (r < 0) {
                ctl_errorf("cannot plan the boot command line: %s", strerror(-r));
                goto out;
        }
        path_under(root, "proc/cmdline", path, sizeof path);
        r = read_text(path, &running);
        if (r == 0)
                r = tokenize(running, t, BP_MAX_TOKENS, &n);
        if (r < 0) {
                ctl_errorf("cannot read the running kernel's command line %s: %s", path, strerror(-r));
                goto out;
        }
        running[strcspn(running, "\n")] = '\0';
        read_running(pl, t, n, root);

        bool match = true;
        json_object *jo = json ? json_object_new_object() : NULL, *jd = json ? json_object_new_array() : NULL,
                    *jp = json ? json_object_new_array() : NULL;
        if (!json) {
                if (pl->n == 0)
                        printf("No pool has a target in the configuration: nothing to plan.\n");
                else
                        printf("Kernel command line for the declared pools:\n  %s\n", pl->line);
        }
        if (!json && pl->n > 0)
                printf("Against the running kernel's (/proc/cmdline):\n");
        for (size_t i = 0; i < pl->n; i++) {
                struct planned *p = &pl->p[i];
                char d[768] = "";
                if (!p->have.set)
                        snprintf(d, sizeof d, "hugepagesz=%s hugepages=%s: missing", p->param, p->value);
                else if (!pages_equal(&p->want, &p->have))
                        snprintf(d, sizeof d, "hugepagesz=%s: hugepages=%s now, the plan has hugepages=%s", p->param,
                                 p->have.raw, p->value);
                if (*d)
                        match = false;
                if (json && *d)
                        json_object_array_add(jd, json_object_new_string(d));
                else if (!json && *d)
                        printf("  %s\n", d);
                else if (!json)
                        printf("  hugepagesz=%s hugepages=%s: present\n", p->param, p->value);
        }
        if (pl->hvo && pl->have_hvo != 1) {
                const char *d = pl->have_hvo < 0 ? "hugetlb_free_vmemmap=on: missing"
                                                 : "hugetlb_free_vmemmap=on: off now";
                match = false;
                if (json)
                        json_object_array_add(jd, json_object_new_string(d));
                else
                        printf("  %s\n", d);
        } else if (pl->hvo && !json)
                printf("  hugetlb_free_vmemmap=on: present\n");
        if (!json && pl->n > 0)
                printf("Pools:\n");
        for (size_t i = 0; i < pl->n; i++) {
                struct planned *p = &pl->p[i];
                if (json) {
                        json_object *o = json_object_new_object();
                        json_object_object_add(o, "size", json_object_new_string(p->label));
                        json_object_object_add(o, "hugepagesz", json_object_new_string(p->param));
                        json_object_object_add(o, "hugepages", json_object_new_string(p->value));
                        json_object_object_add(o, "needs_boot", json_object_new_boolean(p->needs));
                        json_object_object_add(o, "why", json_object_new_string(p->why));
                        json_object_array_add(jp, o);
                } else
                        printf("  %s: %s (%s)\n", p->label, p->needs ? "needs it" : "does not need it", p->why);
        }
        if (pl->n > 0 && !json && !proto_get(json_object_array_get_idx(proto_get(st, PROTO_F_POOLS), 0), "forecast"))
                printf("(No forecast from hugevmd: judged by the pools' states now.)\n");
        ex = match ? EXIT_SUCCESS : BOOTPLAN_EXIT_REBOOT;
        if (!json)
                printf("%s\n", match ? "The running kernel's command line has the plan."
                                     : "The running kernel's command line lacks the plan: a reboot with it is needed.");
        if (do_apply && pl->n > 0 && apply(root, pl, json, jo) != EXIT_SUCCESS)
                ex = EXIT_FAILURE;
        if (json) {
                json_object_object_add(jo, "cmdline", json_object_new_string(pl->line));
                json_object_object_add(jo, "running", json_object_new_string(running));
                json_object_object_add(jo, "matches", json_object_new_boolean(match));
                json_object_object_add(jo, "differences", jd);
                json_object_object_add(jo, "pools", jp);
                puts(json_object_to_json_string_ext(jo, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
                json_object_put(jo);
        }
out:
        free(running);
        toks_free(t, n);
        free(t);
        free(pl);
        return ex;
}
