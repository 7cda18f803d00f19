/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hugevmd: keeps every HugeTLB pool at its target with HVO on, and reports
 * what HVO saved. See docs/protocol.md and etc/hugevmd.conf.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "edges.h"
#include "log.h"
#include "metrics.h"
#include "proto.h"
#include "sdnotify.h"

static void usage(FILE *f)
{
        fprintf(f,
                "Usage: hugevmd [OPTIONS]\n"
                "Keep HugeTLB pools at their targets with HVO on, and report what it saved.\n\n"
                "  -c, --config PATH     configuration file (default " HUGEVMD_CONFIG_PATH ")\n"
                "                        drop-ins: <dir of PATH>/hugevmd.conf.d/*.conf\n"
                "  -r, --root DIR        read and write /sys and /proc under DIR (tests)\n"
                "  -s, --socket PATH     control socket (default: Socket= or " PROTO_DEFAULT_SOCKET ")\n"
                "      --state-dir DIR   state directory (default: StateDirectory= or " HUGEVMD_STATE_DIR ")\n"
                "  -f, --foreground      accepted for compatibility: hugevmd never forks\n"
                "      --check-config    validate the configuration, print the plan, exit\n"
                "  -v, --verbose         log debug messages\n"
                "  -V, --version         print the version\n"
                "  -h, --help            this text\n");
}

/* --check-config: what the daemon would do on this machine. */
static void print_plan(struct core *core, const char *socket_override)
{
        struct config *c = core->cfg;
        printf("Configuration OK:");
        for (char **f = c->files; f && *f; f++)
                printf(" %s", *f);
        printf("%s\n", c->files && c->files[0] ? "" : " (no file, defaults)");
        printf("HVO: %s", c->hvo ? "turn on at start" : "leave as is");
        printf(" (now %s)\n", !core->hvo.supported ? "unsupported by this kernel" : core->hvo.enabled ? "on" : "off");
        printf("Socket: %s\n", socket_override ? socket_override : c->socket_path);
        printf("State directory: %s\n", core_state_dir(core));
        printf("Refresh: every %u s\n", c->refresh_sec);
        printf("Metrics: %s%s%s\n", c->metrics_listen ? c->metrics_listen : "no HTTP endpoint",
               c->metrics_textfile ? ", textfile " : "", c->metrics_textfile ? c->metrics_textfile : "");
        for (size_t i = 0; i < core->n_pools; i++) {
                struct pool_rt *p = &core->pools[i];
                struct target t;
                struct vmm_pool cur = { 0 };
                core_effective_target(core, p->size_kb, &t);
                (void)vmm_pool_read(core->ctx, p->size_kb, &cur);
                printf("Pool %s: %" PRIu64 " pages now; ", p->label, cur.total);
                if (t.has_pages)
                        printf("target %" PRIu64 " pages%s", t.pages,
                               cur.total == t.pages ? " (already there)" : cur.total < t.pages ? " (would grow)" : " (would shrink)");
                else if (t.node_mask) {
                        printf("per-node targets:");
                        for (unsigned node = 0; node < HUGEVMD_MAX_NODES; node++)
                                if (t.node_mask & (UINT64_C(1) << node)) {
                                        struct vmm_node_pool np = { 0 };
                                        (void)vmm_node_pool_read(core->ctx, p->size_kb, node, &np);
                                        printf(" node%u %" PRIu64 " -> %" PRIu64, node, np.total, t.node_pages[node]);
                                }
                } else
                        printf("unmanaged (never touched)");
                if (t.has_overcommit)
                        printf("; overcommit %" PRIu64, t.overcommit);
                printf("%s\n", core_has_runtime_target(core, p->size_kb) ? " [runtime target from the state file]" : "");
        }
}

/* Close file descriptors inherited by accident (a shell's lock fd, a test
 * harness's pipes): a long-running daemon holding them can block others for
 * good. Keeps stdio and the sockets systemd passes (LISTEN_FDS for our pid). */
static void close_stray_fds(void)
{
        unsigned first = 3;
        const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
        uint64_t p, n;
        if (pid && fds && vmm_count_parse(pid, &p) == 0 && p == (uint64_t)getpid() &&
            vmm_count_parse(fds, &n) == 0 && n < 64)
                first += (unsigned)n;
        (void)close_range(first, ~0U, 0);
}

struct args {
        const char *config_path, *root, *socket, *state_dir;
        bool config_missing_ok, check;
};

/* 0 to go on, else main's exit code + 1 (so that a clean --help returns 0). */
static int parse_args(int argc, char **argv, struct args *a)
{
        enum { OPT_STATE_DIR = 256, OPT_CHECK };
        static const struct option options[] = {
                { "config", required_argument, NULL, 'c' },
                { "root", required_argument, NULL, 'r' },
                { "socket", required_argument, NULL, 's' },
                { "state-dir", required_argument, NULL, OPT_STATE_DIR },
                { "foreground", no_argument, NULL, 'f' },
                { "check-config", no_argument, NULL, OPT_CHECK },
                { "verbose", no_argument, NULL, 'v' },
                { "version", no_argument, NULL, 'V' },
                { "help", no_argument, NULL, 'h' },
                {}
        };
        int opt;
        *a = (struct args){ .config_path = HUGEVMD_CONFIG_PATH, .root = "/", .config_missing_ok = true };
        while ((opt = getopt_long(argc, argv, "c:r:s:fvVh", options, NULL)) != -1)
                switch (opt) {
                case 'c': a->config_path = optarg; a->config_missing_ok = false; break;
                case 'r': a->root = optarg; break;
                case 's': a->socket = optarg; break;
                case OPT_STATE_DIR: a->state_dir = optarg; break;
                case 'f': break;
                case OPT_CHECK: a->check = true; break;
                case 'v': log_set_max_level(LOG_DEBUG); break;
                case 'V': printf("hugevmd %s (protocol %d)\n", PACKAGE_VERSION, PROTO_VERSION); return 1;
                case 'h': usage(stdout); return 1;
                default: usage(stderr); return 3;
                }
        if (optind < argc) {
                fprintf(stderr, "hugevmd: unexpected argument '%s'\n", argv[optind]);
                usage(stderr);
                return 3;
        }
        return 0;
}

int main(int argc, char **argv)
{
        static struct daemon dd;   /* big (every node's ledger): not on the stack */
        struct daemon *d = &dd;
        struct args a;
        uv_loop_t loop;
        int r = parse_args(argc, argv, &a);
        if (r)
                return r - 1;
        close_stray_fds();
        log_setup();
        signal(SIGPIPE, SIG_IGN);

        struct config_errors errors = { 0 };
        r = core_open(&d->core, a.root, a.config_path, a.config_missing_ok, a.state_dir, &errors);
        if (r < 0) {
                for (size_t i = 0; i < errors.n; i++)
                        log_error("%s", errors.lines[i]);
                if (errors.n)
                        log_error("Refusing to start with an invalid configuration (%zu error%s)", errors.n, errors.n == 1 ? "" : "s");
                config_errors_clear(&errors);
                return 1;
        }
        d->socket_override = a.socket;
        uv_loop_init(&loop);
        d->loop = &loop;
        core_init(&d->core, &loop);

        if (a.check) {
                print_plan(&d->core, d->socket_override);
                reconcile_close(&d->core);
                uv_run(&loop, UV_RUN_DEFAULT);
        } else if (edges_start(d, d->socket_override ? d->socket_override : d->core.cfg->socket_path, EDGES_ALL) < 0) {
                d->exit_code = 1;
                daemon_stop(d);
                uv_run(&loop, UV_RUN_DEFAULT);
        } else {
                /* The socket is ours: no other hugevmd runs here (core_start cleans the state directory). */
                core_start(&d->core);
                sdnotify_ready();
                sdnotify_watchdog_start(&loop);
                uv_run(&loop, UV_RUN_DEFAULT);
                log_info("Stopped");
        }
        r = d->exit_code;
        metrics_free(d->metrics);
        uv_loop_close(&loop);
        core_free(&d->core);
        return r;
}
