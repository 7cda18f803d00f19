/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * systemd integration through libsystemd's sd-daemon: notify messages, the
 * watchdog and socket activation. Without NOTIFY_SOCKET / WATCHDOG_USEC /
 * LISTEN_FDS everything is a no-op, so the daemon runs the same by hand.
 *
 * The notify functions return what sd_notify() returns: > 0 when the message
 * was sent, 0 when there is no NOTIFY_SOCKET, a negative errno on failure.
 */
#include "config.h"
#include "sdnotify.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <systemd/sd-daemon.h>
#include <time.h>

int sdnotify_ready(void)
{
        return sd_notify(0, "READY=1");
}

int sdnotify_status(const char *fmt, ...)
{
        char *text = NULL;
        va_list ap;
        va_start(ap, fmt);
        int n = vasprintf(&text, fmt, ap);
        va_end(ap);
        if (n < 0)
                return -ENOMEM;
        /* The notify protocol is one VAR=value per line: a newline in the text
         * would end STATUS= early and start a bogus assignment. */
        for (char *p = text; *p; p++)
                if (*p == '\n')
                        *p = ' ';
        int r = sd_notifyf(0, "STATUS=%s", text);
        free(text);
        return r;
}

int sdnotify_reloading(void)
{
        /* MONOTONIC_USEC lets systemd (253+, Type=notify-reload) tell this
         * reload apart from an earlier one; older versions ignore it. */
        struct timespec ts;
        if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0)
                return -errno;
        unsigned long long usec = (unsigned long long)ts.tv_sec * 1000000ULL + (unsigned long long)ts.tv_nsec / 1000ULL;
        return sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu", usec);
}

int sdnotify_stopping(void)
{
        return sd_notify(0, "STOPPING=1");
}

/* ---- watchdog ------------------------------------------------------------ */

/* One daemon, one loop, one watchdog. */
static uv_timer_t *watchdog_timer;

static void watchdog_ping(uv_timer_t *t)
{
        (void)t;
        /* Sent from the loop itself: if the loop hangs, the pings stop and
         * systemd restarts us. */
        (void)sd_notify(0, "WATCHDOG=1");
}

static void watchdog_closed(uv_handle_t *h)
{
        free(h);
}

int sdnotify_watchdog_start(uv_loop_t *loop)
{
        uint64_t usec = 0;
        int r = sd_watchdog_enabled(0, &usec);
        if (r <= 0)
                return r;   /* 0: no watchdog asked for; < 0: bad WATCHDOG_USEC/PID */
        if (watchdog_timer)
                return -EALREADY;

        uv_timer_t *t = malloc(sizeof(*t));
        if (!t)
                return -ENOMEM;
        r = uv_timer_init(loop, t);
        if (r < 0) {
                free(t);
                return r;
        }
        /* Half the interval, as sd_watchdog_enabled(3) recommends; never 0,
         * which libuv would take as "do not repeat". */
        uint64_t period_ms = usec / 2000;
        if (period_ms == 0)
                period_ms = 1;
        r = uv_timer_start(t, watchdog_ping, 0, period_ms);
        if (r < 0) {
                uv_close((uv_handle_t *)t, watchdog_closed);
                return r;
        }
        uv_unref((uv_handle_t *)t);   /* never what keeps the loop alive */
        watchdog_timer = t;
        return 1;
}

void sdnotify_watchdog_stop(void)
{
        if (!watchdog_timer)
                return;
        uv_timer_stop(watchdog_timer);
        uv_close((uv_handle_t *)watchdog_timer, watchdog_closed);
        watchdog_timer = NULL;
}

/* ---- socket activation --------------------------------------------------- */

int sdnotify_listen_fd(void)
{
        /* Keep LISTEN_* in the environment: sd_listen_fds() checks LISTEN_PID,
         * so a child we might spawn never mistakes them for its own. */
        int n = sd_listen_fds(0);
        if (n < 0)
                return n;
        if (n == 0)
                return -ENOENT;
        if (n != 1)
                return -EINVAL;   /* hugevmd.socket passes exactly one */

        int fd = SD_LISTEN_FDS_START;
        int r = sd_is_socket_unix(fd, SOCK_STREAM, 1 /* listening */, NULL, 0);
        if (r < 0)
                return r;
        if (r == 0)
                return -EINVAL;
        /* systemd passes it without close-on-exec. */
        int flags = fcntl(fd, F_GETFD);
        if (flags < 0 || fcntl(fd, F_SETFD, flags | FD_CLOEXEC) < 0)
                return -errno;
        return fd;
}
