/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hugevmd's config parser (daemon/core/conf.c) on a fake two-node x86-64 machine
 * with 2M and 1G pages and 2 GiB of memory: good files, drop-in order, and
 * every kind of bad input with its exact file:line message; hostile files
 * (lines longer than inih reads, FIFOs, devices, directories), targets beyond
 * memory, mount points through symlinks or not normalized, and add_error out
 * of memory. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <ini.h>

#include "conf.h"
#include "unit/fake.h"
#include "proto.h"
#include "tap.h"

static char *root, *dir;
static vmm_ctx *ctx;

static char *write_conf(const char *name, const char *text)
{
        char *path;
        if (asprintf(&path, "%s/%s", dir, name) < 0)
                abort();
        FILE *f = fopen(path, "we");
        if (!f) {
                printf("Bail out! cannot write %s\n", path);
                exit(1);
        }
        fputs(text, f);
        fclose(f);
        return path;
}

/* Load text as the main file; return the config (or NULL) and the errors. */
static struct config *load(const char *text, struct config_errors *e)
{
        struct config *c = NULL;
        char *path = write_conf("hugevmd.conf", text);
        memset(e, 0, sizeof *e);
        if (config_load(path, false, ctx, &c, e) < 0)
                c = NULL;
        free(path);
        return c;
}

/* The config must be refused with exactly one error, equal to want (with the
 * directory prefix added). */
static void refused(const char *text, const char *want, const char *what)
{
        struct config_errors e;
        struct config *c = load(text, &e);
        char full[1024];
        snprintf(full, sizeof full, "%s/hugevmd.conf:%s", dir, want);
        ok(!c && e.n == 1 && strcmp(e.lines[0], full) == 0, "%s", what);
        if (!(!c && e.n == 1 && strcmp(e.lines[0], full) == 0)) {
                printf("#   want: %s\n", full);
                for (size_t i = 0; i < e.n; i++)
                        printf("#   got:  %s\n", e.lines[i]);
        }
        config_free(c);
        config_errors_clear(&e);
}

/*
 * Out of memory in add_error, as issue 13 found it: asprintf fails for an
 * error line while realloc moves the list. Both are interposed here (the test
 * links conf.c statically, so its calls come here): from the second error
 * line on, asprintf fails; realloc always moves a block, as it may.
 */
static int error_lines_left = -1;   /* < 0: no failures */

/* Every realloc here moves the block, built on malloc and free so that it
 * pairs with whichever allocator the build has (glibc's, AddressSanitizer's,
 * valgrind's): calling glibc's own realloc on their blocks would not. */
void *realloc(void *p, size_t size)
{
        if (!p)
                return malloc(size);
        if (size == 0) {
                free(p);
                return NULL;
        }
        void *q = malloc(size);
        if (!q)
                return NULL;
        size_t old = malloc_usable_size(p);
        memcpy(q, p, old < size ? old : size);
        free(p);
        return q;
}

int asprintf(char **ret, const char *fmt, ...)
{
        va_list ap;
        /* add_error's "file:line: reason" lines only. */
        if (error_lines_left >= 0 && strncmp(fmt, "%s:%u: ", 7) == 0 && error_lines_left-- == 0) {
                *ret = NULL;
                return -1;
        }
        va_start(ap, fmt);
        int r = vasprintf(ret, fmt, ap);
        va_end(ap);
        return r;
}

/* The config must be refused with exactly these errors (each with the
 * directory prefix added), in order. */
static void refused_all(const char *text, const char *const *want, size_t n_want, const char *what)
{
        struct config_errors e;
        struct config *c = load(text, &e);
        bool same = !c && e.n == n_want;
        char full[1024];
        for (size_t i = 0; same && i < n_want; i++) {
                snprintf(full, sizeof full, "%s/%s", dir, want[i]);
                same = strcmp(e.lines[i], full) == 0;
        }
        ok(same, "%s", what);
        if (!same) {
                for (size_t i = 0; i < n_want; i++)
                        printf("#   want: %s/%s\n", dir, want[i]);
                for (size_t i = 0; i < e.n; i++)
                        printf("#   got:  %s\n", e.lines[i]);
        }
        config_free(c);
        config_errors_clear(&e);
}

/* text with a line of n bytes (without its newline): "#xxx...Pages=999". */
static char *with_long_line(const char *before, size_t n, const char *after)
{
        char *line = malloc(n + 1), *text;
        memset(line, 'x', n);
        line[0] = '#';
        memcpy(line + n - 9, "Pages=999", 9);
        line[n] = '\0';
        if (asprintf(&text, "%s%s\n%s", before, line, after) < 0)
                abort();
        free(line);
        return text;
}

static void test_good(void)
{
        struct config_errors e;
        struct config *c = load("# comment\n"
                                "[Daemon]\n"
                                "HVO=no\n"
                                "Socket=/tmp/x.sock\n"
                                "SocketGroup=root\n"
                                "AdminGroup=0\n"
                                "RefreshSec=30\n"
                                "StateDirectory=/tmp/state\n"
                                "MetricsListen=[::1]:9100\n"
                                "MetricsTextfile=/tmp/m.prom\n"
                                "ShrinkOnExit=yes\n"
                                "\n"
                                "[Pool 2M]\n"
                                "Pages=512\n"
                                "Overcommit=16\n"
                                "[Pool 1G]\n"
                                "Node0.Pages=1\n"
                                "Node1.Size=2G\n", &e);
        ok(c != NULL && e.n == 0, "a full, valid config loads");
        if (!c) {
                for (size_t i = 0; i < e.n; i++)
                        printf("#   %s\n", e.lines[i]);
                config_errors_clear(&e);
                return;
        }
        ok(!c->hvo && c->shrink_on_exit, "HVO=no, ShrinkOnExit=yes");
        is_str(c->socket_path, "/tmp/x.sock", "Socket=");
        ok(c->has_socket_gid && c->socket_gid == 0 && c->has_admin_gid && c->admin_gid == 0, "groups by name and by number");
        is_int(c->refresh_sec, 30, "RefreshSec=");
        is_str(c->state_dir, "/tmp/state", "StateDirectory=");
        is_str(c->metrics_listen, "[::1]:9100", "MetricsListen= with IPv6");
        is_str(c->metrics_textfile, "/tmp/m.prom", "MetricsTextfile=");
        const struct target *p2 = config_pool(c, 2048), *p1 = config_pool(c, 1048576);
        ok(p2 && p2->has_pages && p2->pages == 512 && p2->has_overcommit && p2->overcommit == 16, "[Pool 2M] Pages= and Overcommit=");
        ok(p1 && !p1->has_pages && p1->node_mask == 3 && p1->node_pages[0] == 1 && p1->node_pages[1] == 2,
           "[Pool 1G] per-node targets, Size= in bytes");
        config_free(c);

        c = load("", &e);
        ok(c && c->hvo && c->refresh_sec == HUGEVMD_REFRESH_SEC && c->n_pools == 0 &&
           strcmp(c->socket_path, PROTO_DEFAULT_SOCKET) == 0 && strcmp(c->metrics_listen, HUGEVMD_METRICS_LISTEN) == 0,
           "an empty file gives the defaults");
        config_free(c);

        c = load("[Daemon]\nMetricsListen=no\n[Pool 2048kB]\nSize=1G\n[Pool 2MB]\nPages=\n", &e);
        ok(c && !c->metrics_listen, "MetricsListen=no turns the endpoint off");
        ok(c && c->n_pools == 1 && !config_pool(c, 2048)->has_pages, "the same size written twice is one pool; Pages= (empty) resets");
        config_free(c);
}

static void test_dropins(void)
{
        char *d;
        if (asprintf(&d, "%s/hugevmd.conf.d", dir) < 0 || mkdir(d, 0755) < 0)
                abort();
        char *a = write_conf("hugevmd.conf.d/20-b.conf", "[Pool 2M]\nPages=30\n");
        char *b = write_conf("hugevmd.conf.d/10-a.conf", "[Pool 2M]\nPages=20\n[Daemon]\nRefreshSec=5\n");
        char *x = write_conf("hugevmd.conf.d/30-c.conf.disabled", "[Pool 2M]\nPages=99\n");
        struct config_errors e;
        struct config *c = load("[Pool 2M]\nPages=10\n", &e);
        ok(c && config_pool(c, 2048)->pages == 30, "drop-ins are read in lexical order after the main file; the last wins");
        ok(c && c->refresh_sec == 5, "a drop-in sets a [Daemon] key");
        ok(c && c->files[0] && c->files[1] && c->files[2] && !c->files[3] && strstr(c->files[1], "10-a.conf") &&
           strstr(c->files[2], "20-b.conf"), "files read: main, 10-a, 20-b; not *.conf.disabled");
        config_free(c);

        char *bad = write_conf("hugevmd.conf.d/15-bad.conf", "[Pool 2M]\nPages=lots\n");
        char want[1024];
        c = load("[Pool 2M]\nPages=10\n", &e);
        snprintf(want, sizeof want, "%s/hugevmd.conf.d/15-bad.conf:2: Pages=lots: not a page count (digits only)", dir);
        ok(!c && e.n == 1 && strcmp(e.lines[0], want) == 0, "an error in a drop-in names the drop-in and its line");
        config_errors_clear(&e);
        config_free(c);
        remove(bad);
        remove(a);
        remove(b);
        remove(x);
        rmdir(d);
        free(a);
        free(b);
        free(x);
        free(bad);
        free(d);
}

static void test_bad(void)
{
        refused("[Daemon]\nHVO=maybe\n", "2: HVO=maybe: not a boolean (yes or no)", "bad boolean");
        refused("[Daemon]\nColour=blue\n", "2: unknown key Colour= in [Daemon]", "unknown key in [Daemon]");
        refused("\n[Pool 2M]\nPages=1\nPagez=2\n", "4: unknown key Pagez= in a [Pool] section", "unknown key in [Pool]");
        /* Header errors point at the header's line, once, whatever keys follow. */
        refused("[Deamon]\nHVO=yes\nBogus=1\n", "1: unknown section [Deamon] (known: [Daemon], [Pool SIZE])", "unknown section");
        refused("[Daemon]\nHVO=yes\n\n[Pools]\n", "4: unknown section [Pools] (known: [Daemon], [Pool SIZE])",
                "an unknown section without keys");
        refused("[Pools]\n[Daemon]\nHVO=yes\n", "1: unknown section [Pools] (known: [Daemon], [Pool SIZE])",
                "an empty unknown section before a good one");
        refused("[Daemon]\n[Pool 4M]\n", "2: [Pool 4M]: hugepage size 4096kB is not available on this machine",
                "a [Pool] without keys of a size not on this machine");
        /* Indented, it is a header to inih only with no key before it: then the
         * handler reports it, at its first key. */
        refused("  [Bogus]\nMore=1\nMost=2\n", "2: unknown section [Bogus] (known: [Daemon], [Pool SIZE])",
                "an indented unknown header, reported once");
        refused("HVO=yes\n", "1: HVO= outside any section", "key before any section");
        refused("[Daemon]\nthis is not ini\n", "2: syntax error (expected [Section], Key=Value, or a comment)", "syntax error");
        refused("[Pool 4M]\nPages=1\n", "1: [Pool 4M]: hugepage size 4096kB is not available on this machine", "a size not on this machine");
        refused("[Pool banana]\nPages=1\nSize=2G\n", "1: [Pool banana]: not a hugepage size (write it like 2M, 2048kB or 1G)",
                "a section that is not a size, reported once");
        refused("[Pool 2M]\nPages=-4\n", "2: Pages=-4: not a page count (digits only)", "negative pages");
        refused("[Pool 2M]\nPages=99999999999999999999999\n", "2: Pages=99999999999999999999999: number too large", "overflowing pages");
        refused("[Pool 2M]\nSize=3M\n", "2: Size=3M is not a multiple of the 2048kB page size", "Size= not whole pages");
        refused("[Pool 2M]\nSize=lots\n", "2: Size=lots: not a size (write it like 512M or 1G)", "Size= not a size");
        refused("[Pool 2M]\nNode64.Pages=1\n", "2: Node64.Pages=: node 64 is beyond the 64 nodes hugevmd handles",
                "a node beyond what hugevmd handles");
        {
                /* A node this machine lacks: a warning, and the target kept. */
                struct config_errors e = { 0 };
                struct config *c = load("[Pool 2M]\nNode0.Pages=2\nNode7.Pages=1\n", &e);
                const struct target *t = c ? config_pool(c, 2048) : NULL;
                ok(c && e.n == 0 && c->warnings.n == 1 && strstr(c->warnings.lines[0], ":3: Node7.Pages=: node 7 does not exist") &&
                   t && t->node_mask == ((UINT64_C(1) << 0) | (UINT64_C(1) << 7)) && t->node_pages[7] == 1,
                   "a node not on this machine: accepted with a warning naming file:line, its target kept");
                config_free(c);
                config_errors_clear(&e);
        }
        refused("[Pool 2M]\nNode0.Colour=1\n", "2: unknown key Node0.Colour= in a [Pool] section (NodeN.Pages= or NodeN.Size=)", "bad node key");
        refused("[Pool 2M]\nPages=4\nNode0.Pages=1\n", "3: Node0.Pages= conflicts with the Pages=/Size= target of this pool; use one or the other",
                "whole-pool and per-node targets together");
        refused("[Pool 2M]\nNode1.Pages=4\nSize=2M\n", "3: Size= conflicts with the NodeN.Pages= targets of this pool; use one or the other",
                "per-node then whole-pool");
        refused("[Daemon]\nRefreshSec=0\n", "2: RefreshSec=0: needs whole seconds from 1 to 86400", "RefreshSec out of range");
        refused("[Daemon]\nSocket=relative.sock\n", "2: Socket=relative.sock: needs an absolute path shorter than 108 bytes", "relative socket path");
        refused("[Daemon]\nSocketGroup=no-such-group-hugevm\n", "2: SocketGroup=no-such-group-hugevm: no such group", "unknown group");
        refused("[Daemon]\nMetricsListen=localhost\n",
                "2: MetricsListen=localhost: needs ADDRESS:PORT (127.0.0.1:9464, [::1]:9464) or no", "listen without a port");
        refused("[Daemon]\nMetricsListen=127.0.0.1:70000\n",
                "2: MetricsListen=127.0.0.1:70000: needs ADDRESS:PORT (127.0.0.1:9464, [::1]:9464) or no", "port out of range");
        refused("[Daemon]\nStateDirectory=var/lib\n", "2: StateDirectory=var/lib: needs an absolute path", "relative state directory");

        struct config_errors e;
        struct config *c = load("[Daemon]\nHVO=1\nBogus=1\n[Pool 2M]\nPages=x\n", &e);
        ok(!c && e.n == 2, "every error of a file is reported, not only the first");
        config_errors_clear(&e);

        char *missing;
        if (asprintf(&missing, "%s/nope.conf", dir) < 0)
                abort();
        memset(&e, 0, sizeof e);
        ok(config_load(missing, false, ctx, &c, &e) == -EINVAL && e.n == 1 && strstr(e.lines[0], "nope.conf: cannot open: No such file or directory"),
           "a missing --config file is an error");
        config_errors_clear(&e);
        ok(config_load(missing, true, ctx, &c, &e) == 0 && e.n == 0, "a missing default config means defaults");
        config_free(c);
        free(missing);
}

/* inih reads at most INI_MAX_LINE - 1 bytes at a time (199 with Debian's
 * 200) and takes the rest of a longer line as the next one: a long comment
 * ending in Pages=999 set a target. Checked before inih sees the file. */
static void test_long_lines(void)
{
        char want[128], *text;
        struct config_errors e;
        struct config *c;

        /* The case: 208 bytes, the tail a key under [Pool 2M]. */
        text = with_long_line("[Pool 2M]\nPages=4\n", 208, "");
        snprintf(want, sizeof want, "hugevmd.conf:3: line longer than %d bytes", INI_MAX_LINE - 2);
        refused_all(text, (const char *const[]){ want }, 1, "a 208-byte comment line ending in Pages=999 is refused");
        free(text);
        text = with_long_line("[Pool 2M]\n", 300, "Pages=4\n");
        snprintf(want, sizeof want, "hugevmd.conf:2: line longer than %d bytes", INI_MAX_LINE - 2);
        refused_all(text, (const char *const[]){ want }, 1, "a 300-byte line is refused at its line");
        free(text);

        /* The longest line inih reads whole, and one byte more. */
        text = with_long_line("[Pool 2M]\n", INI_MAX_LINE - 2, "Pages=4\n");
        c = load(text, &e);
        ok(c && e.n == 0 && config_pool(c, 2048)->pages == 4, "a line of %d bytes is read whole (a comment)", INI_MAX_LINE - 2);
        config_free(c);
        config_errors_clear(&e);
        free(text);
        text = with_long_line("[Pool 2M]\n", INI_MAX_LINE - 1, "Pages=4\n");
        refused_all(text, (const char *const[]){ want }, 1, "a line of INI_MAX_LINE - 1 bytes is refused");
        free(text);
        /* Without a newline at the end of the file, and with CRLF. */
        text = with_long_line("[Pool 2M]\n", 300, "");
        text[strlen(text) - 1] = '\0';
        refused_all(text, (const char *const[]){ want }, 1, "a long last line without a newline is refused");
        free(text);
        {
                char crlf[INI_MAX_LINE + 16];
                memset(crlf, 'x', sizeof crlf);
                crlf[0] = '#';
                snprintf(crlf + INI_MAX_LINE - 2, sizeof crlf - (INI_MAX_LINE - 2), "\r\n[Daemon]\n");
                refused_all(crlf, (const char *const[]){ "hugevmd.conf:1: line longer than 198 bytes" }, 1,
                            "a CR counts: 198 bytes and CRLF is refused");
        }

        /* Every long line is reported, and nothing of the file is parsed. */
        text = with_long_line("[Pool 2M]\nPages=lots\n", 250, "[Daemon]\n");
        char *text2;
        if (asprintf(&text2, "%s%s", text, text) < 0)
                abort();
        char w3[128], w7[128];
        snprintf(w3, sizeof w3, "hugevmd.conf:3: line longer than %d bytes", INI_MAX_LINE - 2);
        snprintf(w7, sizeof w7, "hugevmd.conf:7: line longer than %d bytes", INI_MAX_LINE - 2);
        refused_all(text2, (const char *const[]){ w3, w7 }, 2, "every long line is reported; no key of the file is parsed");
        free(text);
        free(text2);

        /* A NUL byte would end a line early for inih. */
        {
                char nul[] = "[Pool 2M]\n#\0\nPages=7\n";
                char *path = write_conf("hugevmd.conf", "");
                FILE *f = fopen(path, "we");
                fwrite(nul, 1, sizeof nul - 1, f);
                fclose(f);
                memset(&e, 0, sizeof e);
                c = NULL;
                int r = config_load(path, false, ctx, &c, &e);
                snprintf(want, sizeof want, "%s/hugevmd.conf:2: holds a NUL byte", dir);
                ok(r == -EINVAL && e.n == 1 && strcmp(e.lines[0], want) == 0, "a NUL byte is refused at its line");
                config_free(c);
                config_errors_clear(&e);
                free(path);
        }

        /* In a drop-in, named by the drop-in's file:line. */
        char *d, *path;
        if (asprintf(&d, "%s/hugevmd.conf.d", dir) < 0 || mkdir(d, 0755) < 0)
                abort();
        text = with_long_line("[Pool 2M]\n", 300, "");
        path = write_conf("hugevmd.conf.d/50-long.conf", text);
        snprintf(want, sizeof want, "hugevmd.conf.d/50-long.conf:2: line longer than %d bytes", INI_MAX_LINE - 2);
        refused_all("[Pool 2M]\nPages=4\n", (const char *const[]){ want }, 1, "a long line in a drop-in is refused");
        remove(path);
        rmdir(d);
        free(path);
        free(text);
        free(d);
}

/* Only regular files are read: a FIFO or a device would block the loop (the
 * old fopen waited for a writer forever), a directory is not a config. */
static void test_not_regular(void)
{
        char *d, *p, want[512];
        struct config_errors e;
        struct config *c;
        if (asprintf(&d, "%s/hugevmd.conf.d", dir) < 0 || mkdir(d, 0755) < 0)
                abort();

        if (asprintf(&p, "%s/10-fifo.conf", d) < 0 || mkfifo(p, 0644) < 0)
                abort();
        refused_all("[Pool 2M]\nPages=4\n", (const char *const[]){ "hugevmd.conf.d/10-fifo.conf: is a FIFO, not a regular file" },
                    1, "a FIFO in hugevmd.conf.d is refused, not waited on");
        unlink(p);
        free(p);

        if (asprintf(&p, "%s/20-zero.conf", d) < 0 || symlink("/dev/zero", p) < 0)
                abort();
        refused_all("[Pool 2M]\nPages=4\n",
                    (const char *const[]){ "hugevmd.conf.d/20-zero.conf: is a character device, not a regular file" }, 1,
                    "a link to /dev/zero in hugevmd.conf.d is refused, not read forever");
        unlink(p);
        free(p);

        if (asprintf(&p, "%s/30-dir.conf", d) < 0 || mkdir(p, 0755) < 0)
                abort();
        refused_all("[Pool 2M]\nPages=4\n", (const char *const[]){ "hugevmd.conf.d/30-dir.conf: is a directory, not a regular file" },
                    1, "a directory named x.conf is refused, not skipped");
        rmdir(p);
        free(p);

        if (asprintf(&p, "%s/40-sock.conf", d) < 0)
                abort();
        {
                struct sockaddr_un sa = { .sun_family = AF_UNIX };
                int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
                snprintf(sa.sun_path, sizeof sa.sun_path, "%s", p);
                ok(fd >= 0 && strlen(p) < sizeof sa.sun_path && bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0,
                   "(a socket to read as a config file)");
                refused_all("[Pool 2M]\nPages=4\n",
                            (const char *const[]){ "hugevmd.conf.d/40-sock.conf: is a socket, not a regular file" }, 1,
                            "a socket in hugevmd.conf.d is named as one");
                if (fd >= 0)
                        close(fd);
        }
        unlink(p);
        free(p);

        /* A symlink to a regular file is a config file like any other. */
        char *real = write_conf("elsewhere.conf", "[Pool 2M]\nPages=6\n");
        if (asprintf(&p, "%s/50-link.conf", d) < 0 || symlink(real, p) < 0)
                abort();
        c = load("[Pool 2M]\nPages=4\n", &e);
        ok(c && config_pool(c, 2048)->pages == 6, "a symlink to a regular file is followed");
        config_free(c);
        config_errors_clear(&e);
        unlink(p);
        free(p);
        remove(real);
        free(real);

        /* The main file: a FIFO or a directory. */
        if (asprintf(&p, "%s/main-fifo.conf", dir) < 0 || mkfifo(p, 0644) < 0)
                abort();
        memset(&e, 0, sizeof e);
        c = NULL;
        snprintf(want, sizeof want, "%s: is a FIFO, not a regular file", p);
        ok(config_load(p, false, ctx, &c, &e) == -EINVAL && e.n == 1 && strcmp(e.lines[0], want) == 0,
           "a FIFO as the main file is refused");
        config_errors_clear(&e);
        unlink(p);
        free(p);
        memset(&e, 0, sizeof e);
        snprintf(want, sizeof want, "%s: is a directory, not a regular file", d);
        ok(config_load(d, true, ctx, &c, &e) == -EINVAL && e.n >= 1 && strcmp(e.lines[0], want) == 0,
           "a directory as the main file is refused (even the default path)");
        config_errors_clear(&e);

        /* hugevmd.conf.d that is not a directory is an error, not nothing. */
        rmdir(d);
        char *notdir = write_conf("hugevmd.conf.d", "x\n");
        snprintf(want, sizeof want, "hugevmd.conf.d: cannot read the drop-in directory: %s", strerror(ENOTDIR));
        refused_all("[Pool 2M]\nPages=4\n", (const char *const[]){ want }, 1, "a file as hugevmd.conf.d is refused");
        remove(notdir);
        free(notdir);
        free(d);
}

/* The one bound (target_check_bound): MemTotal in pages, from the config as
 * from pool.set. The fake machine has 2 GiB: 1024 pages of 2M, 2 of 1G. */
static void test_bound(void)
{
        struct config_errors e;
        struct config *c;
        char why[256];

        is_int((long long)target_max_pages(UINT64_C(2) << 30, 2048), 1024, "2 GiB hold 1024 pages of 2M");
        is_int((long long)target_max_pages(UINT64_C(2) << 30, 1048576), 2, "... and 2 of 1G");
        is_int((long long)target_max_pages(UINT64_MAX, 0), 0, "a size of 0 holds nothing (no division by zero)");
        is_int((long long)target_max_pages(UINT64_MAX, UINT64_MAX), 0, "an absurd size does not overflow");
        is_int(target_pages_check(UINT64_C(2) << 30, 2048, 1024, why, sizeof why), 0, "1024 pages of 2M fit 2 GiB");
        is_int(target_pages_check(UINT64_C(2) << 30, 2048, 1025, why, sizeof why), -ERANGE, "1025 do not");
        is_str(why, "1025 pages of 2048kB exceed this machine's memory (2.0 GiB, at most 1024 pages)",
               "the reason, in pool.set's words");
        struct target t = { .size_kb = 2048, .node_mask = 3, .node_pages = { 1, UINT64_MAX } };
        is_int(target_check_bound(&t, UINT64_C(2) << 30, why, sizeof why), -ERANGE, "a node's target is bounded too");
        is_str(why, "nodes.1: 18446744073709551615 pages of 2048kB exceed this machine's memory (2.0 GiB, at most 1024 pages)",
               "... and named");
        t = (struct target){ .size_kb = 2048, .has_pages = true, .pages = 1, .has_overcommit = true, .overcommit = 2000 };
        is_int(target_check_bound(&t, UINT64_C(2) << 30, why, sizeof why), -ERANGE, "overcommit is bounded too");
        ok(strncmp(why, "overcommit: 2000 pages", 22) == 0, "... and named (%s)", why);
        t.overcommit = 1024;
        is_int(target_check_bound(&t, UINT64_C(2) << 30, why, sizeof why), 0, "a target within memory passes");

        refused("[Pool 2M]\nPages=18446744073709551615\n",
                "2: Pages=18446744073709551615: 18446744073709551615 pages of 2048kB exceed this machine's memory "
                "(2.0 GiB, at most 1024 pages)", "Pages=18446744073709551615 is refused with file:line");
        refused("[Pool 2M]\nPages=1025\n", "2: Pages=1025: 1025 pages of 2048kB exceed this machine's memory "
                "(2.0 GiB, at most 1024 pages)", "one page more than MemTotal holds is refused");
        refused("[Pool 1G]\nSize=3G\n", "2: Size=3G: 3 pages of 1048576kB exceed this machine's memory "
                "(2.0 GiB, at most 2 pages)", "Size= beyond memory is refused");
        refused("[Pool 2M]\nNode1.Pages=5000\n", "2: Node1.Pages=5000: 5000 pages of 2048kB exceed this machine's memory "
                "(2.0 GiB, at most 1024 pages)", "NodeN.Pages= beyond memory is refused");
        refused("[Pool 2M]\nOvercommit=18446744073709551615\n", "2: Overcommit=18446744073709551615: 18446744073709551615 "
                "pages of 2048kB exceed this machine's memory (2.0 GiB, at most 1024 pages)", "Overcommit= beyond memory is refused");
        c = load("[Pool 2M]\nPages=1024\n[Pool 1G]\nSize=2G\n", &e);
        ok(c && config_pool(c, 2048)->pages == 1024 && config_pool(c, 1048576)->pages == 2, "targets of exactly MemTotal load");
        config_free(c);
        config_errors_clear(&e);
}

/* Mount= as /proc/mounts shows mount points, never through a symlink, one
 * pool per mount point. */
static void test_mount_paths(void)
{
        struct config_errors e;
        struct config *c;
        const struct { const char *in, *out; } norm[] = {
                { "/mnt/h/", "/mnt/h" }, { "//mnt//h", "/mnt/h" }, { "/mnt/./h/.", "/mnt/h" }, { "/mnt/h", "/mnt/h" },
        };
        for (size_t i = 0; i < sizeof norm / sizeof norm[0]; i++) {
                char text[256];
                snprintf(text, sizeof text, "[Pool 2M]\nMount=%s\n", norm[i].in);
                c = load(text, &e);
                is_str(c ? c->mounts[0].path : NULL, norm[i].out, "Mount=%s is normalized to %s", norm[i].in, norm[i].out);
                config_free(c);
                config_errors_clear(&e);
        }
        const char *bad[] = { "/mnt/x/..", "/mnt/../etc", "/.", "//", "/", "mnt/x" };
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                char text[256], want[256], what[64];
                snprintf(text, sizeof text, "[Pool 2M]\nMount=%s\n", bad[i]);
                snprintf(want, sizeof want, "2: Mount=%s: needs an absolute path (not /), without .. components", bad[i]);
                snprintf(what, sizeof what, "Mount=%s is refused", bad[i]);
                refused(text, want, what);
        }
        refused("[Pool 2M]\nMount=/mnt/h\n[Pool 1G]\nMount=/mnt/h/\n",
                "4: Mount=/mnt/h/: already the mount point of another [Pool] section", "/mnt/h beside /mnt/h/ is refused");
        refused("[Pool 2M]\nMount=/mnt//h\n[Pool 1G]\nMount=/mnt/./h\n",
                "4: Mount=/mnt/./h: already the mount point of another [Pool] section", "/mnt//h beside /mnt/./h is refused");

        /* Through a symlink: the mount would land on whatever it points to. */
        char target[4096];
        fake_dir(root, "/victim");
        fake_dir(root, "/tmp");
        snprintf(target, sizeof target, "%s/victim", root);
        fake_symlink(root, "/tmp/hp", target);
        fake_symlink(root, "/linkdir", "victim");
        fake_file(root, "/etc/afile", "%s", "x\n");
        refused("[Pool 2M]\nMount=/tmp/hp\nMountMode=0777\n",
                "2: Mount=/tmp/hp: /tmp/hp is a symbolic link; mount points are not followed through symlinks "
                "(write the path it points to)", "Mount= on a symlink is refused with file:line");
        refused("[Pool 2M]\nMount=/linkdir/sub/\n",
                "2: Mount=/linkdir/sub/: /linkdir is a symbolic link; mount points are not followed through symlinks "
                "(write the path it points to)", "Mount= below a symlink is refused, naming the link");
        refused("[Pool 2M]\nMount=/etc/afile/x\n", "2: Mount=/etc/afile/x: /etc/afile is not a directory",
                "Mount= below a file is refused");
        c = load("[Pool 2M]\nMount=/victim\n", &e);
        ok(c && strcmp(c->mounts[0].path, "/victim") == 0, "the directory itself is fine");
        config_free(c);
        config_errors_clear(&e);
        fake_remove(root, "/tmp/hp");
        fake_remove(root, "/linkdir");
}

/* add_error with no memory for its line, after realloc moved the list (item
 * 8 of issue 13): the list stays the new block, and the config is refused. */
static void test_add_error_oom(void)
{
        struct config_errors e;
        char want[1024];
        error_lines_left = 1;   /* the first line is made, the second is not */
        struct config *c = load("[Daemon]\nHVO=maybe\nColour=blue\nShape=round\n", &e);
        error_lines_left = -1;
        snprintf(want, sizeof want, "%s/hugevmd.conf:2: HVO=maybe: not a boolean (yes or no)", dir);
        ok(!c && e.n == 2 && strcmp(e.lines[0], want) == 0, "out of memory for one error line: the others are kept, intact");
        ok(e.n == 2 && strstr(e.lines[1], "hugevmd.conf:4: unknown key Shape="), "... the next one too");
        config_free(c);
        config_errors_clear(&e);

        error_lines_left = 0;   /* no line at all */
        c = load("[Daemon]\nHVO=maybe\n", &e);
        error_lines_left = -1;
        ok(!c && e.n == 0, "no memory for any error line: still refused");
        config_errors_clear(&e);
}

static void test_listen(void)
{
        char addr[64];
        uint16_t port;
        ok(config_parse_listen("127.0.0.1:9464", addr, sizeof addr, &port) == 0 && strcmp(addr, "127.0.0.1") == 0 && port == 9464,
           "IPv4 address and port");
        ok(config_parse_listen("[::1]:0", addr, sizeof addr, &port) == 0 && strcmp(addr, "::1") == 0 && port == 0, "IPv6 in brackets, port 0");
        ok(config_parse_listen("::1:80", addr, sizeof addr, &port) < 0, "IPv6 without brackets is refused");
        ok(config_parse_listen(":80", addr, sizeof addr, &port) < 0, "no address is refused");
}

int main(void)
{
        root = fake_root_new();
        fake_x86_64(root);
        if (vmm_ctx_new(root, NULL, &ctx) < 0) {
                printf("Bail out! vmm_ctx_new\n");
                return 1;
        }
        if (asprintf(&dir, "%s/etc", root) < 0 || mkdir(dir, 0755) < 0)
                return 1;
        fake_file(root, "/proc/meminfo", "MemTotal:        2097152 kB\nMemFree:         1048576 kB\n");
        alarm(60);   /* a read that blocks (a FIFO, /dev/zero) fails the test instead of hanging it */
        test_good();
        test_dropins();
        test_bad();
        test_long_lines();
        test_not_regular();
        test_bound();
        test_mount_paths();
        test_add_error_oom();
        test_listen();
        vmm_ctx_free(ctx);
        free(dir);
        fake_root_free(root);
        return tap_done();
}
