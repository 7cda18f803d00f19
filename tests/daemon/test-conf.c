/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hugevmd's config parser (daemon/conf.c) on a fake two-node x86-64 machine
 * with 2M and 1G pages: good files, drop-in order, and every kind of bad
 * input with its exact file:line message. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
        refused("[Pool 2M]\nNode7.Pages=1\n", "2: Node7.Pages=: node 7 does not exist on this machine", "a node not on this machine");
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
        test_good();
        test_dropins();
        test_bad();
        test_listen();
        vmm_ctx_free(ctx);
        free(dir);
        fake_root_free(root);
        return tap_done();
}
