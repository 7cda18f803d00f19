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
#include "log.h"
#include "metrics.h"
#include "proto.h"
#include "sdnotify.h"
#include "state.h"

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

static void signal_cb(uv_signal_t *h, int signum)
{
        struct daemon *d = h->data;
        if (signum == SIGHUP) {
                struct config_errors errors = { 0 };
                log_info("SIGHUP: reloading the configuration");
                (void)daemon_reload(d, &errors);
                config_errors_clear(&errors);
                return;
        }
        log_info("%s: stopping", signum == SIGTERM ? "SIGTERM" : "SIGINT");
        daemon_stop(d);
}

void daemon_stop(struct daemon *d)
{
        if (d->stopping)
                return;
        d->stopping = true;
        sdnotify_stopping();
        server_stop(d);
        uv_timer_stop(&d->refresh_timer);
        uv_timer_stop(&d->retry_timer);
        /* Never abandon a worker thread: the running chunk finishes first. */
        if (!d->job_running)
                daemon_stop_continue(d);
        else
                log_info("Waiting for the running resize chunk to finish");
}

void daemon_stop_continue(struct daemon *d)
{
        if (d->n_persisted > 0) {
                int r = daemon_save_state(d);
                if (r < 0)
                        log_error("Cannot save state in %s: %s", daemon_state_dir(d), strerror(-r));
        }
        if (d->cfg->shrink_on_exit)
                for (size_t i = 0; i < d->n_pools; i++) {
                        struct pool_rt *p = &d->pools[i];
                        struct target t;
                        struct vmm_resize res;
                        daemon_effective_target(d, p->size_kb, &t);
                        if (!target_managed(&t))
                                continue;
                        int r = 0;
                        if (t.has_pages)
                                r = vmm_pool_set(d->ctx, p->size_kb, -1, 0, &res);
                        else
                                for (unsigned node = 0; node < HUGEVMD_MAX_NODES; node++)
                                        if (t.node_mask & (UINT64_C(1) << node)) {
                                                int k = vmm_pool_set(d->ctx, p->size_kb, (int)node, 0, &res);
                                                if (k < 0)
                                                        r = k;
                                        }
                        log_pool(r < 0 ? LOG_WARNING : LOG_INFO, p->label, -1, 0, "ShrinkOnExit: %s pool %s", p->label,
                                 r < 0 ? strerror(-r) : "emptied");
                }
        rpc_waits_free(d);
        sdnotify_watchdog_stop();
        reconcile_close(d);
        uv_close((uv_handle_t *)&d->sig_term, NULL);
        uv_close((uv_handle_t *)&d->sig_int, NULL);
        uv_close((uv_handle_t *)&d->sig_hup, NULL);
}

/* --check-config: what the daemon would do on this machine. */
static void print_plan(struct daemon *d)
{
        struct config *c = d->cfg;
        printf("Configuration OK:");
        for (char **f = c->files; f && *f; f++)
                printf(" %s", *f);
        printf("%s\n", c->files && c->files[0] ? "" : " (no file, defaults)");
        printf("HVO: %s", c->hvo ? "turn on at start" : "leave as is");
        printf(" (now %s)\n", !d->hvo.supported ? "unsupported by this kernel" : d->hvo.enabled ? "on" : "off");
        printf("Socket: %s\n", d->socket_override ? d->socket_override : c->socket_path);
        printf("State directory: %s\n", daemon_state_dir(d));
        printf("Refresh: every %u s\n", c->refresh_sec);
        printf("Metrics: %s%s%s\n", c->metrics_listen ? c->metrics_listen : "no HTTP endpoint",
               c->metrics_textfile ? ", textfile " : "", c->metrics_textfile ? c->metrics_textfile : "");
        for (size_t i = 0; i < d->n_pools; i++) {
                struct pool_rt *p = &d->pools[i];
                struct target t;
                struct vmm_pool cur = { 0 };
                daemon_effective_target(d, p->size_kb, &t);
                (void)vmm_pool_read(d->ctx, p->size_kb, &cur);
                printf("Pool %s: %" PRIu64 " pages now; ", p->label, cur.total);
                if (t.has_pages)
                        printf("target %" PRIu64 " pages%s", t.pages,
                               cur.total == t.pages ? " (already there)" : cur.total < t.pages ? " (would grow)" : " (would shrink)");
                else if (t.node_mask) {
                        printf("per-node targets:");
                        for (unsigned node = 0; node < HUGEVMD_MAX_NODES; node++)
                                if (t.node_mask & (UINT64_C(1) << node)) {
                                        struct vmm_node_pool np = { 0 };
                                        (void)vmm_node_pool_read(d->ctx, p->size_kb, node, &np);
                                        printf(" node%u %" PRIu64 " -> %" PRIu64, node, np.total, t.node_pages[node]);
                                }
                } else
                        printf("unmanaged (never touched)");
                if (t.has_overcommit)
                        printf("; overcommit %" PRIu64, t.overcommit);
                printf("%s\n", daemon_runtime_target(d, p->size_kb, false) ? " [runtime target from the state file]" : "");
        }
}

static void load_state(struct daemon *d)
{
        struct target targets[HUGEVMD_MAX_POOLS];
        size_t n = 0;
        char err[512] = "";
        const char *dir = daemon_state_dir(d);
        int r = state_load(dir, targets, HUGEVMD_MAX_POOLS, &n, err, sizeof err);
        if (r == -ENOENT)
                return;
        if (r == -EBADMSG) {
                log_warning("Ignoring the state file: %s", err);
                return;
        }
        if (r < 0) {
                log_warning("Cannot read the state file in %s: %s; ignoring it", dir, strerror(-r));
                return;
        }
        for (size_t i = 0; i < n; i++) {
                struct pool_rt *p = daemon_pool(d, targets[i].size_kb);
                if (!p) {
                        log_warning("State file: size %" PRIu64 "kB is not on this machine; ignoring its target", targets[i].size_kb);
                        continue;
                }
                uint64_t bad = targets[i].node_mask;
                for (size_t k = 0; k < d->n_nodes; k++)
                        if (d->nodes[k] < HUGEVMD_MAX_NODES)
                                bad &= ~(UINT64_C(1) << d->nodes[k]);
                if (bad) {
                        log_warning("State file: %s names nodes not on this machine; ignoring its target", p->label);
                        continue;
                }
                d->persisted[d->n_persisted++] = targets[i];
                d->runtime[d->n_runtime++] = targets[i];
                log_pool(LOG_INFO, p->label, -1, targets[i].has_pages ? targets[i].pages : UINT64_MAX,
                         "Restored the runtime target of %s from the state file", p->label);
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

int main(int argc, char **argv)
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
        struct daemon dd = { 0 }, *d = &dd;
        bool check = false;
        const char *root = "/";
        int opt, r;

        d->config_path = HUGEVMD_CONFIG_PATH;
        d->config_missing_ok = true;
        while ((opt = getopt_long(argc, argv, "c:r:s:fvVh", options, NULL)) != -1)
                switch (opt) {
                case 'c': d->config_path = optarg; d->config_missing_ok = false; break;
                case 'r': root = optarg; break;
                case 's': d->socket_override = optarg; break;
                case OPT_STATE_DIR: d->state_dir_override = optarg; break;
                case 'f': break;
                case OPT_CHECK: check = true; break;
                case 'v': log_set_max_level(LOG_DEBUG); break;
                case 'V': printf("hugevmd %s (protocol %d)\n", PACKAGE_VERSION, PROTO_VERSION); return 0;
                case 'h': usage(stdout); return 0;
                default: usage(stderr); return 2;
                }
        if (optind < argc) {
                fprintf(stderr, "hugevmd: unexpected argument '%s'\n", argv[optind]);
                usage(stderr);
                return 2;
        }
        close_stray_fds();
        log_setup();
        signal(SIGPIPE, SIG_IGN);
        d->root = (char *)root;

        if ((r = vmm_ctx_new(root, NULL, &d->ctx)) < 0 || (r = vmm_ctx_new(root, NULL, &d->worker_ctx)) < 0) {
                log_error("Cannot open the kernel interface under %s: %s", root, strerror(-r));
                return 1;
        }
        struct config_errors errors = { 0 };
        r = config_load(d->config_path, d->config_missing_ok, d->ctx, &d->cfg, &errors);
        if (r < 0) {
                for (size_t i = 0; i < errors.n; i++)
                        log_error("%s", errors.lines[i]);
                log_error("Refusing to start with an invalid configuration (%zu error%s)", errors.n, errors.n == 1 ? "" : "s");
                config_errors_clear(&errors);
                vmm_ctx_free(d->ctx);
                vmm_ctx_free(d->worker_ctx);
                return 1;
        }

        uv_loop_t loop;
        uv_loop_init(&loop);
        d->loop = &loop;
        reconcile_init(d);
        load_state(d);

        if (check) {
                print_plan(d);
                reconcile_close(d);
                uv_run(&loop, UV_RUN_DEFAULT);
                r = 0;
                goto out_early;
        }

        if ((r = metrics_new(&d->metrics)) < 0) {
                log_error("Cannot set up metrics: %s", strerror(-r));
                d->metrics = NULL;
        }
        /* HVO before any growth, so the pages the reconciler adds are optimized. */
        if (d->cfg->hvo && d->hvo.supported && !d->hvo.enabled) {
                r = vmm_hvo_set(d->ctx, true);
                if (r < 0)
                        log_error("Cannot turn HVO on: %s; pools will grow without it", strerror(-r));
                else
                        log_notice("Turned HVO on");
                (void)vmm_hvo_read(d->ctx, &d->hvo);
        } else if (d->cfg->hvo && !d->hvo.supported)
                log_notice("HVO is not supported by this kernel; pools are managed without it");

        uv_signal_init(&loop, &d->sig_term);
        uv_signal_init(&loop, &d->sig_int);
        uv_signal_init(&loop, &d->sig_hup);
        d->sig_term.data = d->sig_int.data = d->sig_hup.data = d;
        uv_signal_start(&d->sig_term, signal_cb, SIGTERM);
        uv_signal_start(&d->sig_int, signal_cb, SIGINT);
        uv_signal_start(&d->sig_hup, signal_cb, SIGHUP);

        r = server_start(d, d->socket_override ? d->socket_override : d->cfg->socket_path);
        if (r == 0)
                state_cleanup(daemon_state_dir(d));   /* the socket is ours: no other hugevmd saves there */
        if (r < 0) {
                d->exit_code = 1;
                daemon_stop(d);
                uv_run(&loop, UV_RUN_DEFAULT);
                goto out;
        }
        if (d->metrics && d->cfg->metrics_listen) {
                char addr[64];
                uint16_t port = 0, bound = 0;
                if (config_parse_listen(d->cfg->metrics_listen, addr, sizeof addr, &port) == 0) {
                        r = metrics_http_start(d->metrics, addr, port, &bound);
                        if (r < 0)
                                log_warning("Cannot serve metrics on %s: %s; continuing without the HTTP endpoint",
                                            d->cfg->metrics_listen, strerror(-r));
                        else
                                log_info("Serving metrics on http://%s:%u/metrics", addr, bound);
                }
        }

        host_apply(d);
        reconcile_refresh(d);
        sdnotify_ready();
        sdnotify_watchdog_start(&loop);
        reconcile_start_timer(d);
        reconcile_kick(d);

        uv_run(&loop, UV_RUN_DEFAULT);
        log_info("Stopped");
out:
        r = d->exit_code;
        metrics_free(d->metrics);
out_early:
        uv_loop_close(&loop);
        config_free(d->cfg);
        host_free(d);
        free(d->nodes);
        vmm_ctx_free(d->ctx);
        vmm_ctx_free(d->worker_ctx);
        return r;
}
