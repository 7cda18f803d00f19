/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The fake kernel's HugeTLB model, function by function after mm/hugetlb.c
 * (6.18): set_max_huge_pages, alloc_pool_huge_folio, remove_pool_hugetlb_folio,
 * adjust_pool_surplus, gather_surplus_pages, return_unused_surplus_pages,
 * alloc_hugetlb_folio, free_huge_folio, update_and_free_pages_bulk,
 * demote_store, and the vmemmap counters of mm/hugetlb_vmemmap.c. Names in
 * comments are the kernel's, so the two can be read side by side.
 *
 * What is not modelled: the split of the vmemmap pages between
 * nr_memmap_pages and nr_memmap_boot_pages. The first time since boot that
 * HVO optimizes a page frame whose vmemmap came from memblock, the kernel
 * frees 8 pages off nr_memmap_boot_pages and allocates the new head page on
 * nr_memmap_pages (+1); a restore allocates on nr_memmap_pages, so those
 * frames count there from then on (measured on 6.18: growing 400 pages moved
 * 88 pages off the boot counter, that is 11 fresh frames; the sum moved by
 * exactly 400 x 7). Which frames the buddy allocator hands out decides it,
 * so only the sum is deterministic: here every change goes to
 * nr_memmap_pages, as on a machine whose frames have all been through HVO
 * once, and nr_memmap_boot_pages stays put. Nor: cpusets, memory policies
 * other than "this node first", hwpoison, CMA, hugetlb cgroups, subpools
 * (hugetlbfs size=/min_size=), the workqueue that frees optimized pages
 * given back by processes a little later (here it is immediate).
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "model.h"

struct fk_machine fk = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* ---------------------------------------------------------------- strings */

void fk_buf_printf(struct fk_buf *b, const char *fmt, ...)
{
        for (;;) {
                va_list ap;
                size_t room = b->cap - b->n;
                int k;

                va_start(ap, fmt);
                k = vsnprintf(b->p ? b->p + b->n : NULL, b->p ? room : 0, fmt, ap);
                va_end(ap);
                if (k < 0)
                        return;
                if (b->p && (size_t)k < room) {
                        b->n += (size_t)k;
                        return;
                }
                size_t ncap = (b->cap ? b->cap * 2 : 256) + (size_t)k + 1;
                char *np = realloc(b->p, ncap);
                if (!np)
                        abort();
                b->p = np;
                b->cap = ncap;
        }
}

void fk_buf_free(struct fk_buf *b)
{
        free(b->p);
        b->p = NULL;
        b->n = b->cap = 0;
}

static void result(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void result(const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(fk.result, sizeof(fk.result), fmt, ap);
        va_end(ap);
}

/* ------------------------------------------------------------ page lists */

static void stack_push(struct fk_stack *s, uint8_t v)
{
        if (s->n == s->cap) {
                size_t ncap = s->cap ? s->cap * 2 : 64;
                uint8_t *nv = realloc(s->v, ncap);
                if (!nv)
                        abort();
                s->v = nv;
                s->cap = ncap;
        }
        s->v[s->n++] = v;
}

static uint8_t stack_pop(struct fk_stack *s)
{
        return s->v[--s->n];
}

static void fifo_push(struct fk_fifo *f, uint8_t v)
{
        if (f->start + f->n == f->cap) {
                if (f->start > 0) {
                        memmove(f->v, f->v + f->start, f->n);
                        f->start = 0;
                }
                if (f->n == f->cap) {
                        size_t ncap = f->cap ? f->cap * 2 : 64;
                        uint8_t *nv = realloc(f->v, ncap);
                        if (!nv)
                                abort();
                        f->v = nv;
                        f->cap = ncap;
                }
        }
        f->v[f->start + f->n++] = v;
}

/* Remove entry i (0 = oldest). */
static uint8_t fifo_take(struct fk_fifo *f, size_t i)
{
        uint8_t v = f->v[f->start + i];

        if (i == 0) {
                f->start++;
                f->n--;
        } else {
                memmove(f->v + f->start + i, f->v + f->start + i + 1, f->n - i - 1);
                f->n--;
        }
        if (f->n == 0)
                f->start = 0;
        return v;
}

/* ------------------------------------------------------------- parsing */

int fk_kstrtoul(const char *buf, size_t len, uint64_t *ret)
{
        /* kernfs hands the store a NUL-terminated copy: it ends at the first NUL. */
        size_t n = strnlen(buf, len), i = 0, digits = 0;
        uint64_t v = 0;
        bool overflow = false;

        if (n > 0 && buf[0] == '+')
                i++;
        for (; i < n && buf[i] >= '0' && buf[i] <= '9'; i++, digits++)
                if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, (uint64_t)(buf[i] - '0'), &v))
                        overflow = true;
        if (overflow)
                return -ERANGE;
        if (digits == 0)
                return -EINVAL;
        if (i < n && buf[i] == '\n')
                i++;
        if (i < n)
                return -EINVAL;
        *ret = v;
        return 0;
}

static bool is_kspace(char c)
{
        return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

/* strtoul(p, base 0) into *ret; -ERANGE on overflow. Returns chars used. */
static size_t strtoul_base0(const char *p, size_t n, uint64_t *ret, bool *overflow)
{
        unsigned base = 10;
        size_t i = 0;
        uint64_t v = 0;

        *overflow = false;
        if (n >= 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X') && n > 2 && isxdigit((unsigned char)p[2])) {
                base = 16;
                i = 2;
        } else if (n >= 1 && p[0] == '0')
                base = 8;
        for (; i < n; i++) {
                int d;
                char c = p[i];

                if (c >= '0' && c <= '9')
                        d = c - '0';
                else if (c >= 'a' && c <= 'f')
                        d = c - 'a' + 10;
                else if (c >= 'A' && c <= 'F')
                        d = c - 'A' + 10;
                else
                        break;
                if ((unsigned)d >= base)
                        break;
                if (__builtin_mul_overflow(v, base, &v) || __builtin_add_overflow(v, (uint64_t)d, &v))
                        *overflow = true;
        }
        *ret = v;
        return i;
}

/* One value of a sysctl vector (proc_get_long): leading white space skipped,
 * base 0, the number must be followed by white space or the end; trailing
 * white space is consumed; what follows is left (and not counted). */
static int proc_get_value(const char *buf, size_t len, uint64_t *ret, bool *neg, size_t *consumed)
{
        size_t i = 0, left, used;
        char tmp[22];
        bool overflow;

        while (i < len && is_kspace(buf[i]))
                i++;
        if (i == len)
                return -EINVAL; /* only white space: no value, "first" is still set */
        left = len - i;
        size_t k = left > sizeof(tmp) - 1 ? sizeof(tmp) - 1 : left;
        memcpy(tmp, buf + i, k);
        tmp[k] = '\0';
        size_t p = 0;
        *neg = false;
        if (tmp[0] == '-' && left > 1) {
                *neg = true;
                p = 1;
        }
        if (!isdigit((unsigned char)tmp[p]))
                return -EINVAL;
        used = strtoul_base0(tmp + p, strlen(tmp + p), ret, &overflow);
        if (overflow)
                return -EINVAL;
        used += p;
        if (used == sizeof(tmp) - 1)
                return -EINVAL;
        if (used < left && !(buf[i + used] == ' ' || buf[i + used] == '\t' || buf[i + used] == '\n'))
                return -EINVAL;
        i += used;
        while (i < len && is_kspace(buf[i]))
                i++;
        *consumed = i;
        return 0;
}

int fk_proc_get_ulong(const char *buf, size_t len, uint64_t *ret, size_t *consumed)
{
        bool neg;
        int r = proc_get_value(buf, len, ret, &neg, consumed);

        if (r == 0 && neg)
                return -EINVAL;
        return r;
}

int fk_proc_get_int(const char *buf, size_t len, int64_t *ret, size_t *consumed)
{
        uint64_t v;
        bool neg;
        int r = proc_get_value(buf, len, &v, &neg, consumed);

        if (r < 0)
                return r;
        if (neg ? v > (uint64_t)INT32_MAX + 1 : v > INT32_MAX)
                return -EINVAL;
        *ret = neg ? -(int64_t)v : (int64_t)v;
        return 0;
}

uint64_t fk_memparse(const char *buf, size_t len)
{
        char tmp[64];
        size_t n = strnlen(buf, len), used;
        uint64_t v;
        bool overflow;
        unsigned shift = 0;

        if (n >= sizeof(tmp))
                n = sizeof(tmp) - 1;
        memcpy(tmp, buf, n);
        tmp[n] = '\0';
        used = strtoul_base0(tmp, n, &v, &overflow);
        switch (tmp[used]) {
        case 'E': case 'e': shift += 10; /* fall through */
        case 'P': case 'p': shift += 10; /* fall through */
        case 'T': case 't': shift += 10; /* fall through */
        case 'G': case 'g': shift += 10; /* fall through */
        case 'M': case 'm': shift += 10; /* fall through */
        case 'K': case 'k': shift += 10; /* fall through */
        default: break;
        }
        return v << shift;
}

/* "2048kB", "2M", "1G", "2048" (kB), "512MiB": a size in kB. */
int fk_parse_kb(const char *text, uint64_t *ret_kb)
{
        char *end;
        uint64_t v, mul;

        if (!text || !isdigit((unsigned char)text[0]))
                return -EINVAL;
        errno = 0;
        v = strtoull(text, &end, 10);
        if (errno)
                return -ERANGE;
        if (*end == '\0' || strcasecmp(end, "k") == 0 || strcasecmp(end, "kb") == 0 || strcasecmp(end, "kib") == 0)
                mul = 1;
        else if (strcasecmp(end, "m") == 0 || strcasecmp(end, "mb") == 0 || strcasecmp(end, "mib") == 0)
                mul = 1024;
        else if (strcasecmp(end, "g") == 0 || strcasecmp(end, "gb") == 0 || strcasecmp(end, "gib") == 0)
                mul = 1024 * 1024;
        else if (strcasecmp(end, "t") == 0 || strcasecmp(end, "tb") == 0 || strcasecmp(end, "tib") == 0)
                mul = UINT64_C(1024) * 1024 * 1024;
        else
                return -EINVAL;
        if (__builtin_mul_overflow(v, mul, ret_kb))
                return -ERANGE;
        return 0;
}

static int parse_u64(const char *text, uint64_t *ret)
{
        char *end;

        if (!text || !isdigit((unsigned char)text[0]))
                return -EINVAL;
        errno = 0;
        *ret = strtoull(text, &end, 0);
        if (errno)
                return -ERANGE;
        return *end ? -EINVAL : 0;
}

int fk_hstate_index(uint64_t kb)
{
        for (unsigned i = 0; i < fk.nsizes; i++)
                if (fk.hs[i].kb == kb)
                        return (int)i;
        return -1;
}

/* ---------------------------------------------------------- configuration */

struct pending_pool {   /* initial pools, applied in order after the machine exists */
        uint64_t kb;
        int node;
        uint64_t count;
};
static struct pending_pool pending[64];
static unsigned npending;
struct pending_frag {   /* frag.NODE.SIZE=COUNT, resolved once the sizes are known */
        unsigned node;
        uint64_t kb;
        int64_t count;
};
static struct pending_frag frags[64];
static unsigned nfrags;
static uint64_t cfg_sizes[FK_MAX_SIZES];
static unsigned cfg_nsizes;
static uint64_t cfg_mem_kb[FK_MAX_NODES], cfg_avail_kb[FK_MAX_NODES];
static bool cfg_avail_set[FK_MAX_NODES];
static uint64_t cfg_overcommit_kb[FK_MAX_SIZES], cfg_overcommit[FK_MAX_SIZES];
static unsigned cfg_novercommit;
static uint64_t cfg_default_kb;
static int cfg_hvo = 0;                 /* 0, 1, -1: none */
static int cfg_hvo_sysctl = -1, cfg_counters = -1, cfg_arch = -1, cfg_demote = -1; /* -1: from release */
static int64_t cfg_memmap = -1, cfg_boot = 192;

void fk_config_defaults(void)
{
        snprintf(fk.release, sizeof(fk.release), "6.18.0");
        snprintf(fk.arch, sizeof(fk.arch), "x86_64");
        fk.cmdline[0] = '\0';
        fk.nnodes = 2;
        cfg_nsizes = 2;
        cfg_sizes[0] = 2048;
        cfg_sizes[1] = 1048576;
        cfg_default_kb = 0;
        fk.page_size = 4096;
        fk.struct_page = 64;
        fk.block_size = 128 << 20;
        for (unsigned n = 0; n < FK_MAX_NODES; n++) {
                cfg_mem_kb[n] = 1024 * 1024;
                cfg_avail_set[n] = false;
        }
        npending = nfrags = cfg_novercommit = 0;
        fk.gigantic_runtime = true;
        fk.compact_heals = true;
        fk.shmmax = UINT64_C(18446744073692774399);
        fk.shmall = UINT64_C(18446744073692774399);
        fk.shm_group = 0;
        free(fk.mounts);
        fk.mounts = strdup("sysfs /sys sysfs rw,nosuid,nodev,noexec,relatime 0 0\n"
                           "proc /proc proc rw,nosuid,nodev,noexec,relatime 0 0\n"
                           "tmpfs /run tmpfs rw,nosuid,nodev,size=1638392k,mode=755 0 0\n");
}

static int tristate(const char *v, int *ret)
{
        if (strcmp(v, "auto") == 0)
                *ret = -1;
        else if (strcmp(v, "yes") == 0 || strcmp(v, "1") == 0 || strcmp(v, "on") == 0)
                *ret = 1;
        else if (strcmp(v, "no") == 0 || strcmp(v, "0") == 0 || strcmp(v, "off") == 0)
                *ret = 0;
        else
                return -EINVAL;
        return 0;
}

static int node_index(const char *text, unsigned *ret)
{
        uint64_t v;

        if (parse_u64(text, &v) < 0 || v >= FK_MAX_NODES)
                return -EINVAL;
        *ret = (unsigned)v;
        return 0;
}

static int append_mount(const char *line)
{
        size_t a = fk.mounts ? strlen(fk.mounts) : 0, b = strlen(line);
        char *n = realloc(fk.mounts, a + b + 2);

        if (!n)
                return -ENOMEM;
        memcpy(n + a, line, b);
        n[a + b] = '\n';
        n[a + b + 1] = '\0';
        fk.mounts = n;
        return 0;
}

int fk_config_set(const char *key, const char *value, char *err, size_t errlen)
{
        uint64_t v;
        unsigned node = 0;
        char k[128];

#define BAD(...) do { snprintf(err, errlen, __VA_ARGS__); return -EINVAL; } while (0)
        snprintf(k, sizeof(k), "%s", key);
        char *dot = strchr(k, '.');
        char *sub = dot ? dot + 1 : NULL;
        if (dot)
                *dot = '\0';

        if (strcmp(key, "release") == 0) {
                if (strlen(value) >= sizeof(fk.release))
                        BAD("release: too long");
                snprintf(fk.release, sizeof(fk.release), "%s", value);
        } else if (strcmp(key, "arch") == 0) {
                if (strcmp(value, "none") == 0)
                        cfg_arch = 0;
                else {
                        cfg_arch = 1;
                        snprintf(fk.arch, sizeof(fk.arch), "%s", value);
                }
        } else if (strcmp(key, "cmdline") == 0) {
                snprintf(fk.cmdline, sizeof(fk.cmdline), "%s", value);
        } else if (strcmp(key, "nodes") == 0) {
                if (parse_u64(value, &v) < 0 || v < 1 || v > FK_MAX_NODES)
                        BAD("nodes: 1..%d", FK_MAX_NODES);
                fk.nnodes = (unsigned)v;
        } else if (strcmp(key, "sizes") == 0) {
                char tmp[256], *save = NULL;
                snprintf(tmp, sizeof(tmp), "%s", value);
                cfg_nsizes = 0;
                for (char *t = strtok_r(tmp, ", ", &save); t; t = strtok_r(NULL, ", ", &save)) {
                        if (cfg_nsizes == FK_MAX_SIZES || fk_parse_kb(t, &v) < 0 || v == 0)
                                BAD("sizes: '%s'", t);
                        cfg_sizes[cfg_nsizes++] = v;
                }
        } else if (strcmp(key, "default_size") == 0) {
                if (fk_parse_kb(value, &cfg_default_kb) < 0)
                        BAD("default_size: '%s'", value);
        } else if (strcmp(key, "page_size") == 0) {
                if (parse_u64(value, &v) < 0 || v < 4096 || (v & (v - 1)))
                        BAD("page_size: a power of two >= 4096");
                fk.page_size = v;
        } else if (strcmp(key, "struct_page") == 0) {
                if (parse_u64(value, &v) < 0 || v == 0 || v > 4096)
                        BAD("struct_page: bytes");
                fk.struct_page = v;
        } else if (strcmp(key, "block_size") == 0) {
                if (fk_parse_kb(value, &v) < 0 || v == 0)
                        BAD("block_size: '%s'", value);
                fk.block_size = v * 1024;
        } else if (strcmp(k, "mem") == 0 || strcmp(k, "hugemem") == 0) {
                bool avail = k[0] == 'h';
                if (fk_parse_kb(value, &v) < 0)
                        BAD("%s: '%s'", key, value);
                if (sub && node_index(sub, &node) < 0)
                        BAD("%s: node", key);
                for (unsigned n = sub ? node : 0; n < (sub ? node + 1 : FK_MAX_NODES); n++) {
                        if (avail) {
                                cfg_avail_kb[n] = v;
                                cfg_avail_set[n] = true;
                        } else
                                cfg_mem_kb[n] = v;
                }
        } else if (strcmp(k, "frag") == 0 && sub) {
                /* frag.NODE.SIZE=COUNT */
                char *d2 = strchr(sub, '.');
                uint64_t kb;
                if (!d2)
                        BAD("frag.NODE.SIZE=COUNT");
                *d2 = '\0';
                if (node_index(sub, &node) < 0 || fk_parse_kb(d2 + 1, &kb) < 0 || parse_u64(value, &v) < 0 ||
                    v > INT64_MAX || nfrags == 64)
                        BAD("frag.NODE.SIZE=COUNT");
                frags[nfrags++] = (struct pending_frag){ node, kb, (int64_t)v };
        } else if (strcmp(k, "pool") == 0 && sub) {
                /* pool.SIZE=COUNT (spread as a global write) or pool.SIZE.NODE=COUNT */
                char *d2 = strchr(sub, '.');
                uint64_t kb;
                int nd = -1;
                if (d2) {
                        *d2 = '\0';
                        if (node_index(d2 + 1, &node) < 0)
                                BAD("pool.SIZE.NODE: node");
                        nd = (int)node;
                }
                if (fk_parse_kb(sub, &kb) < 0 || parse_u64(value, &v) < 0 || npending == 64)
                        BAD("pool.SIZE[.NODE]=COUNT");
                pending[npending++] = (struct pending_pool){ kb, nd, v };
        } else if (strcmp(k, "overcommit") == 0 && sub) {
                uint64_t kb;
                if (fk_parse_kb(sub, &kb) < 0 || parse_u64(value, &v) < 0 || cfg_novercommit == FK_MAX_SIZES)
                        BAD("overcommit.SIZE=COUNT");
                cfg_overcommit_kb[cfg_novercommit] = kb;
                cfg_overcommit[cfg_novercommit++] = v;
        } else if (strcmp(key, "hvo") == 0) {
                if (strcmp(value, "none") == 0)
                        cfg_hvo = -1;
                else if (strcmp(value, "0") == 0 || strcmp(value, "1") == 0)
                        cfg_hvo = value[0] - '0';
                else
                        BAD("hvo: 0, 1 or none");
        } else if (strcmp(key, "hvo_sysctl") == 0) {
                if (tristate(value, &cfg_hvo_sysctl) < 0)
                        BAD("hvo_sysctl: auto, yes or no");
        } else if (strcmp(key, "memmap_counters") == 0) {
                if (tristate(value, &cfg_counters) < 0)
                        BAD("memmap_counters: auto, yes or no");
        } else if (strcmp(key, "demote") == 0) {
                if (tristate(value, &cfg_demote) < 0)
                        BAD("demote: auto, yes or no");
        } else if (strcmp(key, "memmap") == 0) {
                if (parse_u64(value, &v) < 0)
                        BAD("memmap: pages");
                cfg_memmap = (int64_t)v;
        } else if (strcmp(key, "memmap_boot") == 0) {
                if (parse_u64(value, &v) < 0)
                        BAD("memmap_boot: pages");
                cfg_boot = (int64_t)v;
        } else if (strcmp(key, "gigantic_runtime") == 0) {
                int t;
                if (tristate(value, &t) < 0 || t < 0)
                        BAD("gigantic_runtime: yes or no");
                fk.gigantic_runtime = t;
        } else if (strcmp(key, "compact") == 0) {
                if (strcmp(value, "heals") == 0)
                        fk.compact_heals = true;
                else if (strcmp(value, "noop") == 0)
                        fk.compact_heals = false;
                else
                        BAD("compact: heals or noop");
        } else if (strcmp(key, "delay_us") == 0) {
                if (parse_u64(value, &v) < 0 || v > 10000000)
                        BAD("delay_us: microseconds");
                fk.delay_us = (unsigned)v;
        } else if (strcmp(key, "mounts") == 0) {
                /* a file whose text /proc/mounts serves */
                FILE *f = fopen(value, "re");
                struct fk_buf b = { 0 };
                char line[1024];
                if (!f)
                        BAD("mounts: cannot open %s", value);
                while (fgets(line, sizeof(line), f))
                        fk_buf_printf(&b, "%s", line);
                fclose(f);
                free(fk.mounts);
                fk.mounts = b.p ? b.p : strdup("");
        } else if (strcmp(key, "mount") == 0) {
                if (append_mount(value) < 0)
                        BAD("mount: out of memory");
        } else if (strcmp(key, "restore_fail") == 0) {
                int t;
                if (tristate(value, &t) < 0 || t < 0)
                        BAD("restore_fail: yes or no");
                fk.restore_fail = t;
        } else
                BAD("unknown setting '%s'", key);
        return 0;
#undef BAD
}

int fk_config_file(const char *path, char *err, size_t errlen)
{
        FILE *f = fopen(path, "re");
        char line[2048];
        unsigned lineno = 0;

        if (!f) {
                snprintf(err, errlen, "%s: %s", path, strerror(errno));
                return -errno;
        }
        while (fgets(line, sizeof(line), f)) {
                char *p = line, *eq, *end;
                lineno++;
                while (isspace((unsigned char)*p))
                        p++;
                end = p + strlen(p);
                while (end > p && isspace((unsigned char)end[-1]))
                        *--end = '\0';
                if (!*p || *p == '#')
                        continue;
                eq = strchr(p, '=');
                if (!eq) {
                        snprintf(err, errlen, "%s:%u: not key=value", path, lineno);
                        fclose(f);
                        return -EINVAL;
                }
                char *kend = eq;
                while (kend > p && isspace((unsigned char)kend[-1]))
                        kend--;
                *kend = '\0';
                char *val = eq + 1;
                while (isspace((unsigned char)*val))
                        val++;
                char sub[1024];
                if (fk_config_set(p, val, sub, sizeof(sub)) < 0) {
                        snprintf(err, errlen, "%s:%u: %s", path, lineno, sub);
                        fclose(f);
                        return -EINVAL;
                }
        }
        fclose(f);
        return 0;
}

static bool release_at_least(unsigned major, unsigned minor)
{
        return fk.major > major || (fk.major == major && fk.minor >= minor);
}

/* ------------------------------------------------------ nodes and memory */

static uint64_t memory_mask(void) /* node_states[N_MEMORY] */
{
        uint64_t m = 0;

        for (unsigned n = 0; n < fk.nnodes; n++)
                if (fk.node[n].mem_kb > 0)
                        m |= UINT64_C(1) << n;
        return m;
}

static uint64_t all_nodes_mask(void)
{
        return fk.nnodes >= 64 ? ~UINT64_C(0) : (UINT64_C(1) << fk.nnodes) - 1;
}

static unsigned first_node(uint64_t mask)
{
        return mask ? (unsigned)__builtin_ctzll(mask) : FK_MAX_NODES;
}

/* next_node_in(): the next node of mask after nid, wrapping. */
static unsigned next_node_in(unsigned nid, uint64_t mask)
{
        for (unsigned n = nid + 1; n < FK_MAX_NODES; n++)
                if (mask >> n & 1)
                        return n;
        return first_node(mask);
}

/* hstate_next_node_to_alloc / hstate_next_node_to_free: the node at the
 * cursor (or the next allowed one), and the cursor moves past it. */
static unsigned next_node_cursor(unsigned *cursor, uint64_t mask)
{
        unsigned nid = *cursor;

        if (nid >= FK_MAX_NODES || !(mask >> nid & 1))
                nid = next_node_in(nid >= FK_MAX_NODES ? FK_MAX_NODES - 1 : nid, mask);
        *cursor = next_node_in(nid, mask);
        return nid;
}

static uint64_t node_avail_pages(unsigned nid, unsigned hi)
{
        const struct fk_node *n = &fk.node[nid];
        uint64_t p;

        if (n->mem_kb == 0)
                return 0;
        p = n->avail_kb / fk.hs[hi].kb;
        if (n->cap[hi] >= 0 && (uint64_t)n->cap[hi] < p)
                p = (uint64_t)n->cap[hi];
        return p;
}

static void node_take_mem(unsigned nid, unsigned hi)
{
        struct fk_node *n = &fk.node[nid];
        uint64_t kb = fk.hs[hi].kb;

        n->avail_kb -= kb;
        for (unsigned t = 0; t < fk.nsizes; t++) {
                if (n->cap[t] < 0)
                        continue;
                if (t <= hi) {
                        int64_t used = (int64_t)(kb / fk.hs[t].kb);
                        n->cap[t] = n->cap[t] > used ? n->cap[t] - used : 0;
                } else if ((uint64_t)n->cap[t] > n->avail_kb / fk.hs[t].kb)
                        n->cap[t] = (int64_t)(n->avail_kb / fk.hs[t].kb);
        }
}

static void node_give_mem(unsigned nid, unsigned hi)
{
        struct fk_node *n = &fk.node[nid];
        uint64_t kb = fk.hs[hi].kb;

        n->avail_kb += kb;
        for (unsigned t = 0; t <= hi; t++)
                if (n->cap[t] >= 0)
                        n->cap[t] += (int64_t)(kb / fk.hs[t].kb);
}

/* A fresh page from the page allocator on exactly this node (__GFP_THISNODE). */
static bool alloc_on_node(unsigned hi, unsigned nid)
{
        bool ok = node_avail_pages(nid, hi) > 0;

        if (!fk.hs[hi].gigantic) {
                if (ok)
                        fk.buddy_success++;
                else
                        fk.buddy_fail++;
        }
        if (ok)
                node_take_mem(nid, hi);
        return ok;
}

/* A fresh page preferring nid, falling back along the zonelist (the other
 * allowed nodes in order after nid; equal distances assumed). -1: none. */
static int alloc_fallback(unsigned hi, unsigned nid, uint64_t mask)
{
        for (unsigned i = 0; i < fk.nnodes; i++) {
                unsigned n = (nid + i) % fk.nnodes;

                if ((mask >> n & 1) && node_avail_pages(n, hi) > 0) {
                        if (!fk.hs[hi].gigantic)
                                fk.buddy_success++;
                        node_take_mem(n, hi);
                        return (int)n;
                }
        }
        if (!fk.hs[hi].gigantic)
                fk.buddy_fail++;
        return -1;
}

/* ------------------------------------------------------------------- HVO */

static void memmap_add(int64_t pages)
{
        fk.memmap_pages += pages;
        if (fk.memmap_pages < 0) { /* freed more than the runtime counter holds: boot memmap */
                fk.memmap_boot_pages += fk.memmap_pages;
                fk.memmap_pages = 0;
        }
}

/* hugetlb_vmemmap_optimize_folio for a page joining hugetlb: optimized iff
 * the sysctl is on now and the size is eligible. Returns the page's mark. */
static uint8_t optimize_new_page(unsigned hi)
{
        if (!fk.hvo || fk.hs[hi].saved == 0)
                return 0;
        memmap_add(-(int64_t)fk.hs[hi].saved);
        return 1;
}

/* ------------------------------------------------------------ pool pages */

uint64_t fk_persistent(const struct fk_hstate *h) /* persistent_huge_pages() */
{
        return h->nr - h->surplus;
}

uint64_t fk_node_free(const struct fk_hstate *h, unsigned node)
{
        return h->freelist[node].n;
}

static void enqueue(struct fk_hstate *h, unsigned nid, uint8_t opt) /* enqueue_hugetlb_folio */
{
        stack_push(&h->freelist[nid], opt);
        h->free++;
}

/* add_hugetlb_folio: a page (back) into the pool, free, at the head. */
static void add_page(struct fk_hstate *h, unsigned nid, uint8_t opt, bool adjust_surplus)
{
        h->nr++;
        h->nr_node[nid]++;
        if (adjust_surplus) {
                h->surplus++;
                h->surplus_node[nid]++;
        }
        enqueue(h, nid, opt);
}

/* __update_and_free_hugetlb_folio: a page that left the pool goes back to
 * the page allocator, its vmemmap restored first; if the restore fails the
 * page stays in the pool as a free surplus page. */
static void free_to_buddy(unsigned hi, unsigned nid, uint8_t opt)
{
        struct fk_hstate *h = &fk.hs[hi];

        if (opt) {
                if (fk.restore_fail) {
                        add_page(h, nid, opt, true);
                        return;
                }
                memmap_add((int64_t)h->saved);
        }
        node_give_mem(nid, hi);
}

struct page_ref {
        uint8_t nid, opt;
};

/* update_and_free_pages_bulk */
static void free_bulk(unsigned hi, const struct page_ref *pages, size_t n)
{
        for (size_t i = 0; i < n; i++)
                free_to_buddy(hi, pages[i].nid, pages[i].opt);
}

/* remove_pool_hugetlb_folio: a free page from the head of the next node's
 * list (round robin from next_nid_to_free); with acct_surplus only nodes that
 * have surplus pages, and the surplus count drops with it. */
static bool remove_pool_page(unsigned hi, uint64_t mask, bool acct_surplus, struct page_ref *ret)
{
        struct fk_hstate *h = &fk.hs[hi];
        unsigned weight = (unsigned)__builtin_popcountll(mask);

        for (unsigned i = 0; i < weight; i++) {
                unsigned node = next_node_cursor(&h->next_free, mask);

                if ((!acct_surplus || h->surplus_node[node]) && h->freelist[node].n) {
                        ret->nid = (uint8_t)node;
                        ret->opt = stack_pop(&h->freelist[node]);
                        h->free--;
                        if (acct_surplus) {
                                h->surplus--;
                                h->surplus_node[node]--;
                        }
                        h->nr--;
                        h->nr_node[node]--;
                        return true;
                }
        }
        return false;
}

/* adjust_pool_surplus */
static bool adjust_pool_surplus(unsigned hi, uint64_t mask, int delta)
{
        struct fk_hstate *h = &fk.hs[hi];
        unsigned weight = (unsigned)__builtin_popcountll(mask);

        for (unsigned i = 0; i < weight; i++) {
                unsigned node = delta < 0 ? next_node_cursor(&h->next_alloc, mask) : next_node_cursor(&h->next_free, mask);

                if (delta < 0 ? h->surplus_node[node] > 0 : h->surplus_node[node] < h->nr_node[node]) {
                        if (delta < 0) {
                                h->surplus--;
                                h->surplus_node[node]--;
                        } else {
                                h->surplus++;
                                h->surplus_node[node]++;
                        }
                        return true;
                }
        }
        return false;
}

/* alloc_pool_huge_folio: interleave from next_nid_to_alloc, each node tried
 * with __GFP_THISNODE; -1 when every allowed node failed. */
static int alloc_pool_page(unsigned hi, uint64_t mask)
{
        struct fk_hstate *h = &fk.hs[hi];
        unsigned weight = (unsigned)__builtin_popcountll(mask);

        for (unsigned i = 0; i < weight; i++) {
                unsigned node = next_node_cursor(&h->next_alloc, mask);

                if (alloc_on_node(hi, node))
                        return (int)node;
        }
        return -1;
}

/* prep_and_add_allocated_folios: optimize the batch (HVO as it is now), then
 * enqueue it in list order; the list was built head-first, so the first page
 * allocated ends up at the head of its node's free list. */
static void add_batch(unsigned hi, const uint8_t *nodes, size_t n)
{
        struct fk_hstate *h = &fk.hs[hi];
        uint8_t *opt = n ? malloc(n) : NULL;

        if (n && !opt)
                abort();
        for (size_t i = 0; i < n; i++)
                opt[i] = optimize_new_page(hi);
        for (size_t i = n; i-- > 0;) {
                h->nr++;
                h->nr_node[nodes[i]]++;
                enqueue(h, nodes[i], opt[i]);
        }
        free(opt);
}

static bool interrupted(void)
{
        return fk.interrupted && fk.interrupted();
}

/* set_max_huge_pages. fk.lock and h->resize held. */
static int set_max_huge_pages(unsigned hi, uint64_t count, int nid, uint64_t mask)
{
        struct fk_hstate *h = &fk.hs[hi];
        uint8_t *batch = NULL;
        size_t nbatch = 0, capbatch = 0;

        if (nid >= 0) {
                uint64_t old = count;

                count += fk_persistent(h) - (h->nr_node[nid] - h->surplus_node[nid]);
                if (count < old)
                        count = UINT64_MAX;
        }
        /* Growing: surplus pages become persistent first, then fresh pages. */
        while (h->surplus && count > fk_persistent(h))
                if (!adjust_pool_surplus(hi, mask, -1))
                        break;
        while (count > fk_persistent(h) + nbatch) {
                int node;

                if (fk.delay_us) { /* allocation takes time; readers see the old counts */
                        pthread_mutex_unlock(&fk.lock);
                        usleep(fk.delay_us);
                        pthread_mutex_lock(&fk.lock);
                }
                node = alloc_pool_page(hi, mask);
                if (node < 0) {
                        add_batch(hi, batch, nbatch);
                        goto out;
                }
                if (nbatch == capbatch) {
                        capbatch = capbatch ? capbatch * 2 : 256;
                        uint8_t *nb = realloc(batch, capbatch);
                        if (!nb)
                                abort();
                        batch = nb;
                }
                batch[nbatch++] = (uint8_t)node;
                if (!fk.batched_alloc) { /* before 6.7 each page joined the pool at once */
                        add_batch(hi, batch, nbatch);
                        nbatch = 0;
                }
                if (interrupted()) { /* signal_pending(current): stop, keep what we have */
                        add_batch(hi, batch, nbatch);
                        goto out;
                }
        }
        add_batch(hi, batch, nbatch);
        nbatch = 0;

        /* Shrinking: free pages back to the allocator, keeping enough for the
         * reservations; then what is in use becomes surplus. */
        {
                uint64_t pers = fk_persistent(h), persistent_free = h->free, min_count;
                struct page_ref *list = NULL;
                size_t nlist = 0, caplist = 0;

                if (h->free > pers) {
                        if (h->free > h->surplus)
                                persistent_free -= h->surplus;
                        else
                                persistent_free = 0;
                }
                min_count = h->resv + pers - persistent_free;
                if (min_count < count)
                        min_count = count;
                while (min_count < fk_persistent(h)) {
                        struct page_ref p;

                        if (!remove_pool_page(hi, mask, false, &p))
                                break;
                        if (nlist == caplist) {
                                caplist = caplist ? caplist * 2 : 256;
                                struct page_ref *nl = realloc(list, caplist * sizeof(*nl));
                                if (!nl)
                                        abort();
                                list = nl;
                        }
                        list[nlist++] = p;
                }
                free_bulk(hi, list, nlist);
                free(list);
                while (count < fk_persistent(h))
                        if (!adjust_pool_surplus(hi, mask, 1))
                                break;
        }
out:
        h->max_huge_pages = fk_persistent(h);
        free(batch);
        return 0;
}

int fk_op_set_nr_hugepages(unsigned hi, int node, uint64_t count)
{
        struct fk_hstate *h = &fk.hs[hi];
        uint64_t mask;
        int r;

        /* __nr_hugepages_store_common */
        if (h->gigantic && !fk.gigantic_runtime)
                return -EINVAL;
        if (node >= 0)
                mask = UINT64_C(1) << node;
        else
                mask = memory_mask();
        pthread_mutex_lock(&h->resize);
        pthread_mutex_lock(&fk.lock);
        r = set_max_huge_pages(hi, count, node, mask);
        pthread_mutex_unlock(&fk.lock);
        pthread_mutex_unlock(&h->resize);
        return r;
}

int fk_op_set_overcommit(unsigned hi, uint64_t count)
{
        /* nr_overcommit_hugepages_store: gigantic pages cannot be surplus */
        if (fk.hs[hi].gigantic)
                return -EINVAL;
        pthread_mutex_lock(&fk.lock);
        fk.hs[hi].overcommit = count;
        pthread_mutex_unlock(&fk.lock);
        return 0;
}

int fk_op_set_hvo(bool on)
{
        pthread_mutex_lock(&fk.lock);
        fk.hvo = on;
        pthread_mutex_unlock(&fk.lock);
        return 0;
}

static void compact_node(unsigned nid)
{
        if (!fk.compact_heals)
                return;
        for (unsigned s = 0; s < FK_MAX_SIZES; s++)
                fk.node[nid].cap[s] = -1;
}

int fk_op_compact(int node)
{
        pthread_mutex_lock(&fk.lock);
        if (node >= 0)
                compact_node((unsigned)node);
        else
                for (unsigned n = 0; n < fk.nnodes; n++)
                        compact_node(n);
        pthread_mutex_unlock(&fk.lock);
        return 0;
}

/* drop_caches_sysctl_handler: 1 (and 3) free the clean page cache; 2 slab, 4 quiet. */
int fk_op_drop_caches(int64_t mode)
{
        pthread_mutex_lock(&fk.lock);
        if (mode & 1)
                for (unsigned n = 0; n < fk.nnodes; n++) {
                        fk.node[n].avail_kb += fk.node[n].cache_kb;
                        fk.node[n].cache_kb = 0;
                }
        pthread_mutex_unlock(&fk.lock);
        return 0;
}

/* demote_pool_huge_page + demote_free_hugetlb_folios */
static long demote_pool_page(unsigned si, uint64_t mask, uint64_t nr_to_demote)
{
        struct fk_hstate *src = &fk.hs[si];
        int di = fk_hstate_index(src->demote_kb);
        unsigned weight = (unsigned)__builtin_popcountll(mask);
        uint64_t nr_demoted = 0;
        long rc = 0;

        if (di < 0)
                return -EINVAL;
        struct fk_hstate *dst = &fk.hs[di];
        uint64_t ratio = src->kb / dst->kb;

        for (unsigned i = 0; i < weight; i++) {
                unsigned node = next_node_cursor(&src->next_free, mask);
                struct fk_stack *fl = &src->freelist[node];
                uint8_t *list = NULL;
                size_t n = 0;

                /* list_for_each_entry_safe from the head; each list_add()ed */
                while (fl->n && nr_demoted < nr_to_demote) {
                        uint8_t *nl = realloc(list, n + 1);
                        if (!nl)
                                abort();
                        list = nl;
                        list[n++] = stack_pop(fl);
                        src->free--;
                        src->nr--;
                        src->nr_node[node]--;
                        nr_demoted++;
                }
                /* The list holds them newest-first (list_add): restore in that
                 * order; a page whose restore fails stays optimized and goes
                 * back to src, the others are split into dst pages. */
                size_t nsplit = 0;
                uint8_t *back = NULL;
                size_t nback = 0;
                for (size_t j = n; j-- > 0;) {
                        if (list[j] && fk.restore_fail) {
                                rc = -ENOMEM;
                                uint8_t *nb = realloc(back, nback + 1);
                                if (!nb)
                                        abort();
                                back = nb;
                                back[nback++] = list[j];
                                continue;
                        }
                        if (list[j])
                                memmap_add((int64_t)src->saved);
                        nsplit++;
                }
                if (nsplit) {
                        uint8_t *nodes = malloc(nsplit * ratio);
                        if (!nodes)
                                abort();
                        memset(nodes, (int)node, nsplit * ratio);
                        add_batch((unsigned)di, nodes, nsplit * ratio);
                        free(nodes);
                }
                for (size_t j = 0; j < nback; j++) {
                        add_page(src, node, back[j], false);
                        nr_demoted--;
                }
                free(back);
                free(list);
                if (rc < 0 || nr_demoted == nr_to_demote)
                        break;
        }
        src->max_huge_pages -= nr_demoted;
        dst->max_huge_pages += nr_demoted * ratio;
        if (rc < 0)
                return rc;
        return nr_demoted ? (long)nr_demoted : -EBUSY;
}

int fk_op_demote(unsigned hi, int node, uint64_t nr_demote)
{
        struct fk_hstate *h = &fk.hs[hi];
        uint64_t mask = node >= 0 ? UINT64_C(1) << node : memory_mask();
        int err = 0;

        pthread_mutex_lock(&h->resize);
        pthread_mutex_lock(&fk.lock);
        while (nr_demote) {
                uint64_t nr_available = (node >= 0 ? h->freelist[node].n : h->free) - h->resv; /* unsigned, as the kernel's */
                long rc;

                if (!nr_available)
                        break;
                rc = demote_pool_page(hi, mask, nr_demote);
                if (rc < 0) {
                        err = (int)rc;
                        break;
                }
                nr_demote -= (uint64_t)rc;
        }
        pthread_mutex_unlock(&fk.lock);
        pthread_mutex_unlock(&h->resize);
        return err;
}

int fk_op_set_demote_size(unsigned hi, uint64_t bytes)
{
        int di = bytes % 1024 ? -1 : fk_hstate_index(bytes / 1024);
        uint64_t pmd_kb = fk.page_size / 8 * fk.page_size / 1024; /* HUGETLB_PAGE_ORDER */

        if (di < 0 || fk.hs[di].kb < pmd_kb || (unsigned)di >= hi)
                return -EINVAL;
        pthread_mutex_lock(&fk.hs[hi].resize);
        pthread_mutex_lock(&fk.lock);
        fk.hs[hi].demote_kb = fk.hs[di].kb;
        pthread_mutex_unlock(&fk.lock);
        pthread_mutex_unlock(&fk.hs[hi].resize);
        return 0;
}

/* ------------------------------------------------- processes using pages */

/* alloc_surplus_hugetlb_folio: a fresh page that is surplus from birth. */
static int alloc_surplus(unsigned hi, unsigned local, uint64_t mask, uint8_t *opt)
{
        struct fk_hstate *h = &fk.hs[hi];
        int nid;

        if (h->gigantic || h->surplus >= h->overcommit)
                return -1;
        nid = alloc_fallback(hi, local, mask);
        if (nid < 0)
                return -1;
        *opt = optimize_new_page(hi);
        h->nr++;
        h->nr_node[nid]++;
        h->surplus++;
        h->surplus_node[nid]++;
        return nid;
}

/* free_huge_folio: a page a process gave back. */
static void free_huge_page(unsigned hi, unsigned nid, uint8_t opt)
{
        struct fk_hstate *h = &fk.hs[hi];

        if (h->surplus_node[nid]) {
                h->nr--;
                h->nr_node[nid]--;
                h->surplus--;
                h->surplus_node[nid]--;
                free_to_buddy(hi, nid, opt);
        } else
                enqueue(h, nid, opt);
}

/* return_unused_surplus_pages */
static void return_unused_surplus(unsigned hi, uint64_t unused)
{
        struct fk_hstate *h = &fk.hs[hi];
        uint64_t nr = unused < h->surplus ? unused : h->surplus;
        struct page_ref *list = NULL;
        size_t n = 0;

        h->resv -= unused;
        if (h->gigantic && !fk.gigantic_runtime)
                return;
        list = nr ? calloc(nr, sizeof(*list)) : NULL;
        while (n < nr && remove_pool_page(hi, memory_mask(), true, &list[n]))
                n++;
        free_bulk(hi, list, n);
        free(list);
}

/* gather_surplus_pages: surplus pages so that the free pages cover the
 * reservations. All or nothing. */
static int gather_surplus(unsigned hi, uint64_t delta, unsigned local, uint64_t mask)
{
        struct fk_hstate *h = &fk.hs[hi];
        int64_t needed = (int64_t)(h->resv + delta) - (int64_t)h->free;
        struct page_ref *list;
        int64_t n = 0;

        if (needed <= 0) {
                h->resv += delta;
                return 0;
        }
        list = calloc((size_t)needed, sizeof(*list));
        if (!list)
                abort();
        for (; n < needed; n++) {
                int nid = alloc_surplus(hi, local, mask, &list[n].opt);

                if (nid < 0)
                        break;
                list[n].nid = (uint8_t)nid;
        }
        if (n < needed) { /* free what we got: free_huge_folio on each, list order */
                for (int64_t i = n; i-- > 0;)
                        free_huge_page(hi, list[i].nid, list[i].opt);
                free(list);
                return -ENOMEM;
        }
        h->resv += delta;
        for (int64_t i = n; i-- > 0;) /* surplus_list was built with list_add */
                enqueue(h, list[i].nid, list[i].opt);
        free(list);
        return 0;
}

/* hugetlb_acct_memory */
static int acct_memory(unsigned hi, int64_t delta, unsigned local, uint64_t mask)
{
        struct fk_hstate *h = &fk.hs[hi];

        if (delta > 0) {
                if (gather_surplus(hi, (uint64_t)delta, local, mask) < 0)
                        return -ENOMEM;
                if ((uint64_t)delta > h->free) { /* allowed_mems_nr */
                        return_unused_surplus(hi, (uint64_t)delta);
                        return -ENOMEM;
                }
        } else if (delta < 0)
                return_unused_surplus(hi, (uint64_t)-delta);
        return 0;
}

/* alloc_hugetlb_folio for one page fault: a free page from the local node
 * first (dequeue_hugetlb_folio_nodemask), else a surplus page. */
static int fault_page(unsigned hi, unsigned local, uint64_t mask, bool reserved)
{
        struct fk_hstate *h = &fk.hs[hi];
        int nid = -1;
        uint8_t opt = 0;

        if (reserved || h->free > h->resv) {
                for (unsigned i = 0; i < fk.nnodes; i++) {
                        unsigned n = (local + i) % fk.nnodes;

                        if ((mask >> n & 1) && h->freelist[n].n) {
                                opt = stack_pop(&h->freelist[n]);
                                h->free--;
                                nid = (int)n;
                                break;
                        }
                }
        }
        if (nid < 0) {
                nid = alloc_surplus(hi, local, mask, &opt);
                if (nid < 0)
                        return -ENOMEM;
        }
        if (reserved)
                h->resv--;
        fifo_push(&h->inuse, (uint8_t)((unsigned)nid | (opt ? FK_OPT : 0)));
        return 0;
}

/* --------------------------------------------------------------- control */

static int parse_size_arg(const char *t, unsigned *hi)
{
        uint64_t kb;
        int i;

        if (!t || fk_parse_kb(t, &kb) < 0 || (i = fk_hstate_index(kb)) < 0) {
                result("error: no hstate '%s'", t ? t : "");
                return -EINVAL;
        }
        *hi = (unsigned)i;
        return 0;
}

static int parse_node_arg(const char *t, unsigned *node)
{
        uint64_t v;

        if (!t || parse_u64(t, &v) < 0 || v >= fk.nnodes) {
                result("error: no node '%s'", t ? t : "");
                return -EINVAL;
        }
        *node = (unsigned)v;
        return 0;
}

static int parse_count_arg(const char *t, uint64_t *v)
{
        if (!t || parse_u64(t, v) < 0) {
                result("error: not a count '%s'", t ? t : "");
                return -EINVAL;
        }
        return 0;
}

static const struct {
        const char *name;
        int err;
} errnames[] = {
        { "EPERM", EPERM }, { "ENOENT", ENOENT }, { "EINTR", EINTR }, { "EIO", EIO }, { "ENXIO", ENXIO },
        { "EAGAIN", EAGAIN }, { "ENOMEM", ENOMEM }, { "EACCES", EACCES }, { "EBUSY", EBUSY },
        { "EINVAL", EINVAL }, { "ENOSPC", ENOSPC }, { "EROFS", EROFS }, { "ERANGE", ERANGE },
        { "EOPNOTSUPP", EOPNOTSUPP }, { "ENODEV", ENODEV }, { "ETIMEDOUT", ETIMEDOUT },
};

static int parse_errno(const char *t, int *err)
{
        uint64_t v;

        for (size_t i = 0; t && i < sizeof(errnames) / sizeof(errnames[0]); i++)
                if (strcmp(t, errnames[i].name) == 0) {
                        *err = errnames[i].err;
                        return 0;
                }
        if (!t || parse_u64(t, &v) < 0 || v == 0 || v > 4095) {
                result("error: not an errno '%s'", t ? t : "");
                return -EINVAL;
        }
        *err = (int)v;
        return 0;
}

/* One control line. fk.lock held. */
static int control_line(char *line)
{
        char *argv[12], *save = NULL;
        int argc = 0;
        unsigned hi = 0, node = 0;
        uint64_t n;
        int r;

        for (char *t = strtok_r(line, " \t", &save); t && argc < 12; t = strtok_r(NULL, " \t", &save))
                argv[argc++] = t;
        if (argc == 0)
                return 0;
        const char *cmd = argv[0];

        if (strcmp(cmd, "hold") == 0) {
                /* hold SIZE NODE N [noreserve] [bind]: a process on NODE maps N pages
                 * (reserving them, all or nothing; noreserve: as fallocate or
                 * MAP_NORESERVE, page by page) and touches them. */
                bool noreserve = false, bind = false;
                if (argc < 4) {
                        result("error: hold SIZE NODE N [noreserve] [bind]");
                        return -EINVAL;
                }
                if (parse_size_arg(argv[1], &hi) < 0 || parse_node_arg(argv[2], &node) < 0 ||
                    parse_count_arg(argv[3], &n) < 0)
                        return -EINVAL;
                for (int i = 4; i < argc; i++) {
                        if (strcmp(argv[i], "noreserve") == 0)
                                noreserve = true;
                        else if (strcmp(argv[i], "bind") == 0)
                                bind = true;
                        else {
                                result("error: hold: unknown flag '%s'", argv[i]);
                                return -EINVAL;
                        }
                }
                uint64_t mask = bind ? UINT64_C(1) << node : all_nodes_mask();
                if (n > (uint64_t)INT64_MAX / 2) {
                        result("error: hold: too many");
                        return -ENOMEM;
                }
                if (!noreserve && (r = acct_memory(hi, (int64_t)n, node, mask)) < 0) {
                        result("error: hold: cannot reserve %" PRIu64 " pages (mmap fails with ENOMEM)", n);
                        return r;
                }
                for (uint64_t i = 0; i < n; i++)
                        if ((r = fault_page(hi, node, mask, !noreserve)) < 0) {
                                result("error: hold: got %" PRIu64 " of %" PRIu64 " pages (SIGBUS)", i, n);
                                return r;
                        }
                result("ok: holding %" PRIu64 " more", n);
                return 0;
        }
        if (strcmp(cmd, "release") == 0) {
                /* release SIZE NODE|any N|all: the oldest held pages go back */
                bool any = argc >= 3 && strcmp(argv[2], "any") == 0, all = argc >= 4 && strcmp(argv[3], "all") == 0;
                if (argc != 4 || parse_size_arg(argv[1], &hi) < 0 || (!any && parse_node_arg(argv[2], &node) < 0) ||
                    (!all && parse_count_arg(argv[3], &n) < 0)) {
                        if (argc != 4)
                                result("error: release SIZE NODE|any N|all");
                        return -EINVAL;
                }
                struct fk_fifo *f = &fk.hs[hi].inuse;
                uint64_t done = 0;
                for (size_t i = 0; i < f->n && (all || done < n);) {
                        uint8_t v = f->v[f->start + i];
                        if (!any && FK_NODE(v) != node) {
                                i++;
                                continue;
                        }
                        fifo_take(f, i);
                        free_huge_page(hi, FK_NODE(v), (v & FK_OPT) ? 1 : 0);
                        done++;
                }
                if (!all && done < n) {
                        result("error: release: only %" PRIu64 " pages were held", done);
                        return -ENOENT;
                }
                result("ok: released %" PRIu64, done);
                return 0;
        }
        if (strcmp(cmd, "reserve") == 0 || strcmp(cmd, "unreserve") == 0) {
                /* reserve SIZE N [NODE]: a mapping's reservation, nothing touched */
                node = 0;
                if (argc < 3 || argc > 4 || parse_size_arg(argv[1], &hi) < 0 || parse_count_arg(argv[2], &n) < 0 ||
                    (argc == 4 && parse_node_arg(argv[3], &node) < 0)) {
                        if (argc < 3 || argc > 4)
                                result("error: %s SIZE N [NODE]", cmd);
                        return -EINVAL;
                }
                if (n > (uint64_t)INT64_MAX / 2)
                        return -ERANGE;
                if (cmd[0] == 'u') {
                        if (n > fk.hs[hi].resv) {
                                result("error: unreserve: only %" PRIu64 " reserved", fk.hs[hi].resv);
                                return -EINVAL;
                        }
                        acct_memory(hi, -(int64_t)n, node, 0);
                } else if ((r = acct_memory(hi, (int64_t)n, node, all_nodes_mask())) < 0) {
                        result("error: reserve: ENOMEM");
                        return r;
                }
                result("ok");
                return 0;
        }
        if (strcmp(cmd, "memory") == 0) {
                /* memory NODE SIZE N: room for N more pages of SIZE; memory NODE AMOUNT */
                uint64_t kb;
                if (argc == 4) {
                        if (parse_node_arg(argv[1], &node) < 0 || parse_size_arg(argv[2], &hi) < 0 ||
                            parse_count_arg(argv[3], &n) < 0)
                                return -EINVAL;
                        if (__builtin_mul_overflow(n, fk.hs[hi].kb, &kb))
                                return -ERANGE;
                } else if (argc == 3) {
                        if (parse_node_arg(argv[1], &node) < 0)
                                return -EINVAL;
                        if (fk_parse_kb(argv[2], &kb) < 0) {
                                result("error: not an amount '%s'", argv[2]);
                                return -EINVAL;
                        }
                } else {
                        result("error: memory NODE SIZE N | memory NODE AMOUNT");
                        return -EINVAL;
                }
                fk.node[node].avail_kb = kb;
                for (unsigned s = 0; s < fk.nsizes; s++)
                        if (fk.node[node].cap[s] > (int64_t)(kb / fk.hs[s].kb))
                                fk.node[node].cap[s] = (int64_t)(kb / fk.hs[s].kb);
                result("ok");
                return 0;
        }
        if (strcmp(cmd, "cache") == 0) {
                /* cache NODE AMOUNT: the node's clean page cache, taken from (or given back to) its free memory */
                uint64_t kb;
                if (argc != 3 || parse_node_arg(argv[1], &node) < 0 || fk_parse_kb(argv[2], &kb) < 0 ||
                    kb > fk.node[node].avail_kb + fk.node[node].cache_kb) {
                        result("error: cache NODE AMOUNT (at most the node's free memory)");
                        return -EINVAL;
                }
                fk.node[node].avail_kb = fk.node[node].avail_kb + fk.node[node].cache_kb - kb;
                fk.node[node].cache_kb = kb;
                for (unsigned s = 0; s < fk.nsizes; s++)
                        if (fk.node[node].cap[s] > (int64_t)(fk.node[node].avail_kb / fk.hs[s].kb))
                                fk.node[node].cap[s] = (int64_t)(fk.node[node].avail_kb / fk.hs[s].kb);
                result("ok");
                return 0;
        }
        if (strcmp(cmd, "fragment") == 0) {
                /* fragment NODE on|off | fragment NODE SIZE N */
                if (argc == 3 && parse_node_arg(argv[1], &node) == 0 &&
                    (strcmp(argv[2], "on") == 0 || strcmp(argv[2], "off") == 0)) {
                        bool on = strcmp(argv[2], "on") == 0;
                        for (unsigned s = 0; s < fk.nsizes; s++)
                                fk.node[node].cap[s] = on && s > 0 ? 0 : -1;
                } else if (argc == 4 && parse_node_arg(argv[1], &node) == 0 && parse_size_arg(argv[2], &hi) == 0 &&
                           parse_count_arg(argv[3], &n) == 0)
                        fk.node[node].cap[hi] = n > INT64_MAX ? INT64_MAX : (int64_t)n;
                else {
                        result("error: fragment NODE on|off | fragment NODE SIZE N");
                        return -EINVAL;
                }
                result("ok");
                return 0;
        }
        if (strcmp(cmd, "restore-fail") == 0 && argc == 2) {
                fk.restore_fail = strcmp(argv[1], "on") == 0;
                result("ok");
                return 0;
        }
        if (strcmp(cmd, "delay") == 0 && argc == 2) {
                if (parse_count_arg(argv[1], &n) < 0 || n > 10000000)
                        return -EINVAL;
                fk.delay_us = (unsigned)n;
                result("ok");
                return 0;
        }
        if (strcmp(cmd, "hvo") == 0 && argc == 2 && (strcmp(argv[1], "0") == 0 || strcmp(argv[1], "1") == 0)) {
                fk.hvo = argv[1][0] == '1';
                result("ok");
                return 0;
        }
        if (strcmp(cmd, "memmap") == 0 && argc == 3) {
                /* memmap NR_MEMMAP_PAGES NR_MEMMAP_BOOT_PAGES: set the counters */
                uint64_t b;
                if (parse_count_arg(argv[1], &n) < 0 || parse_count_arg(argv[2], &b) < 0)
                        return -EINVAL;
                fk.memmap_pages = (int64_t)n;
                fk.memmap_boot_pages = (int64_t)b;
                result("ok");
                return 0;
        }
        if (strcmp(cmd, "fail") == 0 && (argc == 4 || argc == 5)) {
                /* fail read|write PATH ERRNO [COUNT]: the next COUNT (1) calls fail */
                struct fk_fault fl = { .count = 1 };
                if (strcmp(argv[1], "read") != 0 && strcmp(argv[1], "write") != 0) {
                        result("error: fail read|write PATH ERRNO [COUNT]");
                        return -EINVAL;
                }
                fl.write = argv[1][0] == 'w';
                if (strlen(argv[2]) >= sizeof(fl.path) || parse_errno(argv[3], &fl.err) < 0)
                        return -EINVAL;
                snprintf(fl.path, sizeof(fl.path), "%s", argv[2]);
                if (argc == 5) {
                        if (parse_count_arg(argv[4], &n) < 0 || n > UINT32_MAX)
                                return -EINVAL;
                        fl.count = (unsigned)n;
                }
                if (fk.nfaults == sizeof(fk.faults) / sizeof(fk.faults[0])) {
                        result("error: too many faults pending");
                        return -ENOSPC;
                }
                fk.faults[fk.nfaults++] = fl;
                result("ok");
                return 0;
        }
        if (strcmp(cmd, "mount") == 0 && argc >= 4) {
                /* mount DEV DIR TYPE [OPTIONS]: a line of /proc/mounts */
                char l[1024];
                snprintf(l, sizeof(l), "%s %s %s %s 0 0", argv[1], argv[2], argv[3], argc > 4 ? argv[4] : "rw,relatime");
                if (append_mount(l) < 0)
                        return -ENOMEM;
                fk.mounts_event++;
                if (fk.mounts_changed)
                        fk.mounts_changed();
                result("ok");
                return 0;
        }
        if (strcmp(cmd, "umount") == 0 && argc == 2) {
                struct fk_buf b = { 0 };
                bool found = false;
                for (char *l = fk.mounts; l && *l;) {
                        char *eol = strchr(l, '\n');
                        size_t len = eol ? (size_t)(eol - l) : strlen(l);
                        char dev[512], dir[512];
                        if (sscanf(l, "%511s %511s", dev, dir) == 2 && strcmp(dir, argv[1]) == 0 && !found)
                                found = true;
                        else
                                fk_buf_printf(&b, "%.*s\n", (int)len, l);
                        l += len + (eol ? 1 : 0);
                }
                if (!found) {
                        fk_buf_free(&b);
                        result("error: nothing mounted on %s", argv[1]);
                        return -EINVAL;
                }
                free(fk.mounts);
                fk.mounts = b.p ? b.p : strdup("");
                fk.mounts_event++;
                if (fk.mounts_changed)
                        fk.mounts_changed();
                result("ok");
                return 0;
        }
        result("error: unknown command '%s'", cmd);
        return -EINVAL;
}

int fk_op_control(const char *text, size_t len)
{
        char *copy = malloc(len + 1), *save = NULL;
        int r = 0;

        if (!copy)
                return -ENOMEM;
        memcpy(copy, text, len);
        copy[len] = '\0';
        pthread_mutex_lock(&fk.lock);
        result("ok");
        for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                r = control_line(l);
                if (r < 0)
                        break;
        }
        pthread_mutex_unlock(&fk.lock);
        free(copy);
        return r;
}

/* ------------------------------------------------------------ rendering */

static uint64_t hugetlb_kb_total(void)
{
        uint64_t t = 0;

        for (unsigned i = 0; i < fk.nsizes; i++)
                t += fk.hs[i].nr * fk.hs[i].kb;
        return t;
}

static uint64_t mem_total_kb(void)
{
        uint64_t t = 0;

        for (unsigned n = 0; n < fk.nnodes; n++)
                t += fk.node[n].mem_kb;
        return t;
}

static uint64_t mem_free_kb(void)
{
        uint64_t t = 0;

        for (unsigned n = 0; n < fk.nnodes; n++)
                t += fk.node[n].avail_kb < fk.node[n].mem_kb ? fk.node[n].avail_kb : fk.node[n].mem_kb;
        return t;
}

void fk_render_meminfo(struct fk_buf *b)
{
        const struct fk_hstate *h = &fk.hs[fk.default_size];
        uint64_t total = mem_total_kb(), freekb = mem_free_kb();

        fk_buf_printf(b, "MemTotal:       %8" PRIu64 " kB\n", total);
        fk_buf_printf(b, "MemFree:        %8" PRIu64 " kB\n", freekb);
        fk_buf_printf(b, "MemAvailable:   %8" PRIu64 " kB\n", freekb);
        uint64_t cached = 0;
        for (unsigned n = 0; n < fk.nnodes; n++)
                cached += fk.node[n].cache_kb;
        fk_buf_printf(b, "Buffers:        %8d kB\nCached:         %8" PRIu64 " kB\nSwapCached:     %8d kB\n", 0, cached, 0);
        fk_buf_printf(b, "AnonHugePages:  %8d kB\nShmemHugePages: %8d kB\nFileHugePages:  %8d kB\n", 0, 0, 0);
        if (fk.nsizes == 0)
                return;
        fk_buf_printf(b,
                      "HugePages_Total:   %5" PRIu64 "\n"
                      "HugePages_Free:    %5" PRIu64 "\n"
                      "HugePages_Rsvd:    %5" PRIu64 "\n"
                      "HugePages_Surp:    %5" PRIu64 "\n"
                      "Hugepagesize:   %8" PRIu64 " kB\n",
                      h->nr, h->free, h->resv, h->surplus, h->kb);
        fk_buf_printf(b, "Hugetlb:        %8" PRIu64 " kB\n", hugetlb_kb_total());
        fk_buf_printf(b, "DirectMap4k:    %8" PRIu64 " kB\n", total);
}

void fk_render_node_meminfo(struct fk_buf *b, unsigned node)
{
        const struct fk_node *n = &fk.node[node];
        uint64_t freekb = n->avail_kb < n->mem_kb ? n->avail_kb : n->mem_kb;

        fk_buf_printf(b, "Node %u MemTotal:       %8" PRIu64 " kB\n", node, n->mem_kb);
        fk_buf_printf(b, "Node %u MemFree:        %8" PRIu64 " kB\n", node, freekb);
        fk_buf_printf(b, "Node %u MemUsed:        %8" PRIu64 " kB\n", node, n->mem_kb - freekb);
        fk_buf_printf(b, "Node %u Dirty:          %8d kB\nNode %u Writeback:      %8d kB\n", node, 0, node, 0);
        fk_buf_printf(b, "Node %u FilePages:      %8" PRIu64 " kB\nNode %u Shmem:          %8d kB\n", node, n->cache_kb,
                      node, 0);
        if (fk.nsizes == 0)
                return;
        const struct fk_hstate *h = &fk.hs[fk.default_size];
        fk_buf_printf(b,
                      "Node %u HugePages_Total: %5" PRIu64 "\n"
                      "Node %u HugePages_Free:  %5zu\n"
                      "Node %u HugePages_Surp:  %5" PRIu64 "\n",
                      node, h->nr_node[node], node, h->freelist[node].n, node, h->surplus_node[node]);
}

/* The order of a size's pages in base pages (above MAX_PAGE_ORDER: gigantic). */
static unsigned size_order(unsigned s)
{
        unsigned order = 0;
        while ((fk.page_size << order) < fk.hs[s].kb * 1024)
                order++;
        return order;
}

enum { MAX_PAGE_ORDER = 10 };

/* /proc/buddyinfo: one zone per node with memory, its free memory in blocks
 * of the largest order the fragmentation caps leave: the smallest capped size
 * of a buddy order o (at most N more pages) has min(N, what is free) blocks of
 * order o and the rest in blocks of order o - 1; the rest as single pages. */
void fk_render_buddyinfo(struct fk_buf *b)
{
        for (unsigned n = 0; n < fk.nnodes; n++) {
                const struct fk_node *nd = &fk.node[n];
                if (nd->mem_kb == 0)
                        continue;
                unsigned top = MAX_PAGE_ORDER, capped = MAX_PAGE_ORDER + 1;
                uint64_t cap = 0;
                for (unsigned s = 0; s < fk.nsizes; s++) {
                        unsigned order = size_order(s);
                        if (order <= MAX_PAGE_ORDER && nd->cap[s] >= 0 && order > 0 && order < capped) {
                                capped = order;
                                cap = (uint64_t)nd->cap[s];
                        }
                }
                uint64_t pages = (nd->avail_kb < nd->mem_kb ? nd->avail_kb : nd->mem_kb) * 1024 / fk.page_size;
                uint64_t count[MAX_PAGE_ORDER + 1] = { 0 };
                if (capped <= MAX_PAGE_ORDER) {
                        uint64_t big = pages >> capped < cap ? pages >> capped : cap;
                        count[capped] = big;
                        pages -= big << capped;
                        top = capped - 1;
                }
                count[top] += pages >> top;
                count[0] += pages - ((pages >> top) << top);
                fk_buf_printf(b, "Node %u, zone   Normal ", n);
                for (unsigned o = 0; o <= MAX_PAGE_ORDER; o++)
                        fk_buf_printf(b, " %6" PRIu64, count[o]);
                fk_buf_printf(b, " \n");
        }
}

/* /proc/pagetypeinfo (0400): the pageblocks (of the 2048kB order, else 9) of
 * each node by migrate type. Hugetlb pages and free memory are in Movable
 * blocks, the node's other memory in Unmovable ones; with compact=noop the
 * fragmentation caps are unmovable: the free memory beyond what the smallest
 * capped size can still get is in Unmovable blocks too. The free lists by type
 * are buddyinfo's, all Movable. */
void fk_render_pagetypeinfo(struct fk_buf *b)
{
        static const char *const types[] = { "Unmovable", "Movable", "Reclaimable", "HighAtomic", "Isolate" };
        unsigned pb_order = 9;
        for (unsigned s = 0; s < fk.nsizes; s++)
                if (fk.hs[s].kb == 2048)
                        pb_order = size_order(s);
        uint64_t pb_kb = (fk.page_size << pb_order) / 1024;
        struct fk_buf bi = { 0 };
        fk_render_buddyinfo(&bi);

        fk_buf_printf(b, "Page block order: %u\nPages per block:  %u\n\n", pb_order, 1u << pb_order);
        fk_buf_printf(b, "Free pages count per migrate type at order ");
        for (unsigned o = 0; o <= MAX_PAGE_ORDER; o++)
                fk_buf_printf(b, " %6u", o);
        fk_buf_printf(b, " \n");
        const char *line = bi.p;
        for (unsigned n = 0; n < fk.nnodes && line && *line; n++) {
                if (fk.node[n].mem_kb == 0)
                        continue;
                const char *counts = strstr(line, "Normal ") + 7, *eol = strchr(line, '\n');
                for (unsigned t = 0; t < 5; t++) {
                        fk_buf_printf(b, "Node %4u, zone   Normal, type %12s ", n, types[t]);
                        if (t == 1)
                                fk_buf_printf(b, "%.*s\n", (int)(eol - counts), counts);
                        else {
                                for (unsigned o = 0; o <= MAX_PAGE_ORDER; o++)
                                        fk_buf_printf(b, " %6u", 0u);
                                fk_buf_printf(b, " \n");
                        }
                }
                line = eol + 1;
        }
        fk_buf_free(&bi);
        fk_buf_printf(b, "\nNumber of blocks type    ");
        for (unsigned t = 0; t < 5; t++)
                fk_buf_printf(b, " %12s", types[t]);
        fk_buf_printf(b, " \n");
        for (unsigned n = 0; n < fk.nnodes; n++) {
                const struct fk_node *nd = &fk.node[n];
                if (nd->mem_kb == 0)
                        continue;
                uint64_t freekb = nd->avail_kb < nd->mem_kb ? nd->avail_kb : nd->mem_kb, hugekb = 0;
                for (unsigned s = 0; s < fk.nsizes; s++)
                        hugekb += fk.hs[s].nr_node[n] * fk.hs[s].kb;
                if (!fk.compact_heals)
                        for (unsigned s = 0; s < fk.nsizes; s++)
                                if (nd->cap[s] >= 0 && size_order(s) <= MAX_PAGE_ORDER &&
                                    (uint64_t)nd->cap[s] * fk.hs[s].kb < freekb)
                                        freekb = (uint64_t)nd->cap[s] * fk.hs[s].kb;
                uint64_t total = nd->mem_kb / pb_kb, movable = (freekb + hugekb) / pb_kb;
                if (movable > total)
                        movable = total;
                fk_buf_printf(b, "Node %u, zone   Normal %12" PRIu64 " %12" PRIu64 " %12d %12d %12d \n", n,
                              total - movable, movable, 0, 0, 0);
        }
}

void fk_render_vmstat(struct fk_buf *b)
{
        uint64_t inuse_pages = 0;

        for (unsigned i = 0; i < fk.nsizes; i++)
                inuse_pages += (fk.hs[i].nr - fk.hs[i].free) * fk.hs[i].base_pages;
        fk_buf_printf(b, "nr_free_pages %" PRIu64 "\n", mem_free_kb() * 1024 / fk.page_size);
        if (fk.has_nr_hugetlb)
                fk_buf_printf(b, "nr_hugetlb %" PRIu64 "\n", inuse_pages);
        if (fk.has_memmap_counters)
                fk_buf_printf(b, "nr_memmap_pages %" PRId64 "\nnr_memmap_boot_pages %" PRId64 "\n", fk.memmap_pages,
                              fk.memmap_boot_pages);
        fk_buf_printf(b, "htlb_buddy_alloc_success %" PRIu64 "\nhtlb_buddy_alloc_fail %" PRIu64 "\n", fk.buddy_success,
                      fk.buddy_fail);
}

void fk_render_nodelist(struct fk_buf *b, bool memory_only)
{
        /* %*pbl: ranges "0-3,5" */
        bool first = true;

        for (unsigned n = 0; n < fk.nnodes;) {
                if (memory_only && fk.node[n].mem_kb == 0) {
                        n++;
                        continue;
                }
                unsigned e = n;
                while (e + 1 < fk.nnodes && (!memory_only || fk.node[e + 1].mem_kb > 0))
                        e++;
                if (e == n)
                        fk_buf_printf(b, "%s%u", first ? "" : ",", n);
                else
                        fk_buf_printf(b, "%s%u-%u", first ? "" : ",", n, e);
                first = false;
                n = e + 1;
        }
        fk_buf_printf(b, "\n");
}

static void render_runs(struct fk_buf *b, const uint8_t *v, size_t n, bool reverse, int node_filter)
{
        char cur = 0;
        uint64_t run = 0;
        bool any = false;

        for (size_t k = 0; k < n; k++) {
                uint8_t x = v[reverse ? n - 1 - k : k];
                if (node_filter >= 0 && FK_NODE(x) != (unsigned)node_filter)
                        continue;
                char c = node_filter >= 0 ? ((x & FK_OPT) ? 'o' : 'u') : (x ? 'o' : 'u');
                if (c != cur && run) {
                        fk_buf_printf(b, "%s%c%" PRIu64, any ? " " : "", cur, run);
                        any = true;
                        run = 0;
                }
                cur = c;
                run++;
        }
        if (run)
                fk_buf_printf(b, "%s%c%" PRIu64, any ? " " : "", cur, run);
        else if (!any)
                fk_buf_printf(b, "-");
}

void fk_render_state(struct fk_buf *b)
{
        int64_t saved = (int64_t)fk.memmap_baseline - fk.memmap_pages - fk.memmap_boot_pages;

        fk_buf_printf(b, "release %s\nnodes %u\nhvo %d\n", fk.release, fk.nnodes, fk.hvo);
        fk_buf_printf(b, "memmap_pages %" PRId64 "\nmemmap_boot_pages %" PRId64 "\nmemmap_baseline %" PRIu64
                      "\nmemmap_saved %" PRId64 "\n", fk.memmap_pages, fk.memmap_boot_pages, fk.memmap_baseline, saved);
        fk_buf_printf(b, "buddy_alloc_success %" PRIu64 "\nbuddy_alloc_fail %" PRIu64 "\n", fk.buddy_success,
                      fk.buddy_fail);
        fk_buf_printf(b, "restore_fail %d\ndelay_us %u\n", fk.restore_fail, fk.delay_us);
        for (unsigned n = 0; n < fk.nnodes; n++) {
                fk_buf_printf(b, "node%u.mem_kb %" PRIu64 "\nnode%u.avail_kb %" PRIu64 "\nnode%u.cache_kb %" PRIu64 "\n", n,
                              fk.node[n].mem_kb, n, fk.node[n].avail_kb, n, fk.node[n].cache_kb);
                for (unsigned s = 0; s < fk.nsizes; s++)
                        fk_buf_printf(b, "node%u.%" PRIu64 "kB.avail %" PRIu64 "\nnode%u.%" PRIu64 "kB.cap %" PRId64 "\n",
                                      n, fk.hs[s].kb, node_avail_pages(n, s), n, fk.hs[s].kb, fk.node[n].cap[s]);
        }
        for (unsigned s = 0; s < fk.nsizes; s++) {
                const struct fk_hstate *h = &fk.hs[s];
                uint64_t opt_total = 0;
                char p[32];

                snprintf(p, sizeof(p), "%" PRIu64 "kB", h->kb);
                for (unsigned n = 0; n < fk.nnodes; n++)
                        for (size_t k = 0; k < h->freelist[n].n; k++)
                                opt_total += h->freelist[n].v[k];
                for (size_t k = 0; k < h->inuse.n; k++)
                        opt_total += (h->inuse.v[h->inuse.start + k] & FK_OPT) ? 1 : 0;
                fk_buf_printf(b,
                              "%s.nr %" PRIu64 "\n%s.free %" PRIu64 "\n%s.resv %" PRIu64 "\n%s.surplus %" PRIu64
                              "\n%s.overcommit %" PRIu64 "\n%s.max %" PRIu64 "\n%s.inuse %zu\n%s.optimized %" PRIu64
                              "\n%s.saved_per_page %" PRIu64 "\n%s.next_alloc %u\n%s.next_free %u\n",
                              p, h->nr, p, h->free, p, h->resv, p, h->surplus, p, h->overcommit, p, h->max_huge_pages,
                              p, h->inuse.n, p, opt_total, p, h->saved, p, h->next_alloc, p, h->next_free);
                for (unsigned n = 0; n < fk.nnodes; n++) {
                        uint64_t inuse = 0, opt = 0;
                        for (size_t k = 0; k < h->inuse.n; k++) {
                                uint8_t x = h->inuse.v[h->inuse.start + k];
                                if (FK_NODE(x) == n) {
                                        inuse++;
                                        opt += (x & FK_OPT) ? 1 : 0;
                                }
                        }
                        for (size_t k = 0; k < h->freelist[n].n; k++)
                                opt += h->freelist[n].v[k];
                        fk_buf_printf(b,
                                      "%s.node%u.nr %" PRIu64 "\n%s.node%u.free %zu\n%s.node%u.surplus %" PRIu64
                                      "\n%s.node%u.inuse %" PRIu64 "\n%s.node%u.optimized %" PRIu64 "\n",
                                      p, n, h->nr_node[n], p, n, h->freelist[n].n, p, n, h->surplus_node[n], p, n,
                                      inuse, p, n, opt);
                        /* free list from its head; o = optimized, u = not */
                        fk_buf_printf(b, "%s.node%u.freelist ", p, n);
                        render_runs(b, h->freelist[n].v, h->freelist[n].n, true, -1);
                        fk_buf_printf(b, "\n%s.node%u.inuselist ", p, n);
                        render_runs(b, h->inuse.v + h->inuse.start, h->inuse.n, false, (int)n);
                        fk_buf_printf(b, "\n");
                }
        }
}

/* ----------------------------------------------------------------- init */

int fk_machine_init(char *err, size_t errlen)
{
        unsigned long major, minor;
        char *end;

        errno = 0;
        major = strtoul(fk.release, &end, 10);
        if (errno || *end != '.' || !isdigit((unsigned char)end[1])) {
                snprintf(err, errlen, "release '%s': not MAJOR.MINOR...", fk.release);
                return -EINVAL;
        }
        minor = strtoul(end + 1, NULL, 10);
        fk.major = (unsigned)major;
        fk.minor = (unsigned)minor;
        if (!fk.cmdline[0])
                snprintf(fk.cmdline, sizeof(fk.cmdline), "BOOT_IMAGE=/boot/vmlinuz-%s root=/dev/vda ro quiet", fk.release);

        fk.reserve = release_at_least(5, 18) ? 1 : 2;
        bool hvo_exists = release_at_least(5, 14) && cfg_hvo >= 0;
        fk.has_hvo_sysctl = cfg_hvo_sysctl >= 0 ? cfg_hvo_sysctl : release_at_least(5, 19) && cfg_hvo >= 0;
        fk.has_memmap_counters = cfg_counters >= 0 ? cfg_counters : release_at_least(6, 11);
        fk.has_arch = cfg_arch >= 0 ? cfg_arch : release_at_least(6, 1);
        fk.has_demote = cfg_demote >= 0 ? cfg_demote : release_at_least(5, 16);
        fk.has_nr_hugetlb = release_at_least(6, 13);
        fk.batched_alloc = release_at_least(6, 7);
        fk.hvo = cfg_hvo == 1;

        /* sizes, ascending */
        for (unsigned i = 0; i < cfg_nsizes; i++)
                for (unsigned j = i + 1; j < cfg_nsizes; j++)
                        if (cfg_sizes[j] < cfg_sizes[i]) {
                                uint64_t t = cfg_sizes[i];
                                cfg_sizes[i] = cfg_sizes[j];
                                cfg_sizes[j] = t;
                        }
        fk.nsizes = cfg_nsizes;
        fk.default_size = 0;
        uint64_t pmd_kb = fk.page_size / 8 * fk.page_size / 1024;
        for (unsigned i = 0; i < fk.nsizes; i++) {
                struct fk_hstate *h = &fk.hs[i];
                if (i > 0 && cfg_sizes[i] == cfg_sizes[i - 1]) {
                        snprintf(err, errlen, "sizes: %" PRIu64 "kB twice", cfg_sizes[i]);
                        return -EINVAL;
                }
                if (cfg_sizes[i] * 1024 % fk.page_size || cfg_sizes[i] * 1024 <= fk.page_size) {
                        snprintf(err, errlen, "sizes: %" PRIu64 "kB is not a multiple of the page size", cfg_sizes[i]);
                        return -EINVAL;
                }
                pthread_mutex_init(&h->resize, NULL);
                h->kb = cfg_sizes[i];
                h->base_pages = h->kb * 1024 / fk.page_size;
                h->vmemmap = h->base_pages * fk.struct_page / fk.page_size;
                bool pow2 = (fk.struct_page & (fk.struct_page - 1)) == 0;
                h->saved = hvo_exists && pow2 && h->vmemmap > fk.reserve ? h->vmemmap - fk.reserve : 0;
                h->gigantic = h->base_pages > 1024; /* order > MAX_PAGE_ORDER (10) */
                h->demote_to = -1;
                if (fk.has_demote)
                        for (unsigned j = i; j-- > 0;)
                                if (cfg_sizes[j] >= pmd_kb) {
                                        h->demote_to = (int)j;
                                        h->demote_kb = cfg_sizes[j];
                                        break;
                                }
                if (cfg_default_kb ? h->kb == cfg_default_kb : h->kb == pmd_kb)
                        fk.default_size = i;
        }
        if (cfg_default_kb && fk_hstate_index(cfg_default_kb) < 0) {
                snprintf(err, errlen, "default_size: no hstate %" PRIu64 "kB", cfg_default_kb);
                return -EINVAL;
        }

        /* nodes and memory blocks */
        uint64_t total = 0;
        for (unsigned n = 0; n < fk.nnodes; n++) {
                fk.node[n].mem_kb = cfg_mem_kb[n];
                fk.node[n].avail_kb = cfg_avail_set[n] ? cfg_avail_kb[n] : cfg_mem_kb[n] / 2;
                for (unsigned s = 0; s < FK_MAX_SIZES; s++)
                        fk.node[n].cap[s] = -1;
                total += cfg_mem_kb[n];
        }
        for (unsigned i = 0; i < nfrags; i++) {
                int hi = fk_hstate_index(frags[i].kb);
                if (hi < 0 || frags[i].node >= fk.nnodes) {
                        snprintf(err, errlen, "frag: no hstate %" PRIu64 "kB or node %u", frags[i].kb, frags[i].node);
                        return -EINVAL;
                }
                fk.node[frags[i].node].cap[hi] = frags[i].count;
        }
        if (total == 0 || total * 1024 % fk.block_size) {
                snprintf(err, errlen, "memory (%" PRIu64 " kB) is not a whole number of %" PRIu64 "-byte blocks",
                         total, fk.block_size);
                return -EINVAL;
        }
        fk.memmap_baseline = total * 1024 / fk.page_size * fk.struct_page / fk.page_size;
        fk.memmap_boot_pages = cfg_boot;
        fk.memmap_pages = cfg_memmap >= 0 ? cfg_memmap : (int64_t)fk.memmap_baseline - cfg_boot;

        for (unsigned i = 0; i < cfg_novercommit; i++) {
                int hi = fk_hstate_index(cfg_overcommit_kb[i]);
                if (hi < 0) {
                        snprintf(err, errlen, "overcommit: no hstate %" PRIu64 "kB", cfg_overcommit_kb[i]);
                        return -EINVAL;
                }
                fk.hs[hi].overcommit = cfg_overcommit[i];
        }
        /* Both cursors start on the first node with memory (hugetlb_add_hstate). */
        for (unsigned i = 0; i < fk.nsizes; i++)
                fk.hs[i].next_alloc = fk.hs[i].next_free = first_node(memory_mask());
        for (unsigned i = 0; i < npending; i++) {
                int hi = fk_hstate_index(pending[i].kb);
                if (hi < 0 || pending[i].node >= (int)fk.nnodes) {
                        snprintf(err, errlen, "pool: no hstate %" PRIu64 "kB or node %d", pending[i].kb, pending[i].node);
                        return -EINVAL;
                }
                fk_op_set_nr_hugepages((unsigned)hi, pending[i].node, pending[i].count);
        }
        return 0;
}
