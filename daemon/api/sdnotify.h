/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * systemd integration: sd_notify state messages, the watchdog timer on the
 * loop, and socket activation. Every function is a no-op (returning 0) when
 * not started by systemd (no NOTIFY_SOCKET / LISTEN_FDS).
 */
#ifndef HUGEVMD_SDNOTIFY_H
#define HUGEVMD_SDNOTIFY_H

#include <uv.h>

int sdnotify_ready(void);                                 /* READY=1 */
int sdnotify_status(const char *fmt, ...) __attribute__((format(printf, 1, 2))); /* STATUS=... */
int sdnotify_reloading(void);                             /* RELOADING=1 + MONOTONIC_USEC */
int sdnotify_stopping(void);                              /* STOPPING=1 */

/* If WATCHDOG_USEC is set for us, start a uv timer on loop that sends
 * WATCHDOG=1 every half interval. The timer is unref'ed so it never keeps the
 * loop alive. sdnotify_watchdog_stop() closes it. */
int sdnotify_watchdog_start(uv_loop_t *loop);
void sdnotify_watchdog_stop(void);

/* The socket passed by systemd (sd_listen_fds: exactly one AF_UNIX stream
 * socket), or -ENOENT when not socket-activated, or -EINVAL when what was
 * passed is not usable (wrong count or type). */
int sdnotify_listen_fd(void);

#endif
