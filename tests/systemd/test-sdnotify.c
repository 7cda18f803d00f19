/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * daemon/api/sdnotify.c against the real sd-daemon protocol: a datagram socket of
 * our own as NOTIFY_SOCKET, WATCHDOG_USEC on a real libuv loop, and
 * LISTEN_FDS with real sockets on fd 3.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "sdnotify.h"
#include "tap.h"

static int notify_fd = -1;

/* Next datagram on our NOTIFY_SOCKET, or "" when none is waiting. */
static const char *next_message(void)
{
        static char buf[4096];
        ssize_t n = recv(notify_fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
        buf[n > 0 ? n : 0] = '\0';
        return buf;
}

static void set_listen_env(int nfds)
{
        char pid[32], n[32];
        snprintf(pid, sizeof(pid), "%d", (int)getpid());
        snprintf(n, sizeof(n), "%d", nfds);
        setenv("LISTEN_PID", pid, 1);
        setenv("LISTEN_FDS", n, 1);
}

/* Put a socket of this kind on fd 3 (and fd 4 when two are passed). */
static void put_socket_on_fd3(int domain, int type, bool do_listen)
{
        int fd = socket(domain, type | SOCK_CLOEXEC, 0);
        if (do_listen) {
                if (domain == AF_UNIX) {
                        struct sockaddr_un sa = { .sun_family = AF_UNIX };   /* autobind: abstract name */
                        bind(fd, (struct sockaddr *)&sa, sizeof(sa_family_t));
                }
                listen(fd, 4);
        }
        if (fd != 3) {   /* SD_LISTEN_FDS_START */
                dup2(fd, 3);
                close(fd);
        }
}

static void test_listen_fd(void)
{
        unsetenv("LISTEN_PID");
        unsetenv("LISTEN_FDS");
        is_int(sdnotify_listen_fd(), -ENOENT, "not socket-activated: -ENOENT");

        put_socket_on_fd3(AF_UNIX, SOCK_STREAM, true);
        set_listen_env(1);
        is_int(sdnotify_listen_fd(), 3, "one listening AF_UNIX stream socket: fd 3");
        ok(fcntl(3, F_GETFD) & FD_CLOEXEC, "the passed socket gets close-on-exec");
        is_int(sdnotify_listen_fd(), 3, "asking twice gives the same fd");

        put_socket_on_fd3(AF_UNIX, SOCK_STREAM, false);
        is_int(sdnotify_listen_fd(), -EINVAL, "a socket that is not listening: -EINVAL");
        put_socket_on_fd3(AF_UNIX, SOCK_DGRAM, false);
        is_int(sdnotify_listen_fd(), -EINVAL, "a datagram socket: -EINVAL");
        put_socket_on_fd3(AF_INET, SOCK_STREAM, true);
        is_int(sdnotify_listen_fd(), -EINVAL, "a TCP socket: -EINVAL");

        put_socket_on_fd3(AF_UNIX, SOCK_STREAM, true);
        dup2(3, 4);
        set_listen_env(2);
        is_int(sdnotify_listen_fd(), -EINVAL, "two sockets: -EINVAL");
        close(4);

        set_listen_env(1);
        setenv("LISTEN_PID", "1", 1);
        is_int(sdnotify_listen_fd(), -ENOENT, "LISTEN_PID of another process: -ENOENT");
        close(3);
        unsetenv("LISTEN_PID");
        unsetenv("LISTEN_FDS");
}

static void test_without_systemd(void)
{
        unsetenv("NOTIFY_SOCKET");
        unsetenv("WATCHDOG_USEC");
        unsetenv("WATCHDOG_PID");
        is_int(sdnotify_ready(), 0, "no NOTIFY_SOCKET: ready is a no-op");
        is_int(sdnotify_status("x %d", 1), 0, "no NOTIFY_SOCKET: status is a no-op");
        is_int(sdnotify_reloading(), 0, "no NOTIFY_SOCKET: reloading is a no-op");
        is_int(sdnotify_stopping(), 0, "no NOTIFY_SOCKET: stopping is a no-op");
        uv_loop_t loop;
        uv_loop_init(&loop);
        is_int(sdnotify_watchdog_start(&loop), 0, "no WATCHDOG_USEC: no watchdog");
        sdnotify_watchdog_stop();
        uv_loop_close(&loop);
}

static void test_messages(void)
{
        is_int(sdnotify_ready(), 1, "ready sent");
        is_str(next_message(), "READY=1", "READY=1");
        ok(sdnotify_status("converging %s %d/%d", "2048kB", 512, 1024) > 0, "status sent");
        is_str(next_message(), "STATUS=converging 2048kB 512/1024", "STATUS= carries the formatted text");
        sdnotify_status("two\nlines");
        is_str(next_message(), "STATUS=two lines", "a newline cannot start a second assignment");

        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        unsigned long long before = (unsigned long long)ts.tv_sec * 1000000ULL + (unsigned long long)ts.tv_nsec / 1000;
        ok(sdnotify_reloading() > 0, "reloading sent");
        unsigned long long usec = 0;
        const char *msg = next_message();
        ok(sscanf(msg, "RELOADING=1\nMONOTONIC_USEC=%llu", &usec) == 1, "RELOADING=1, then MONOTONIC_USEC= on the next line");
        ok(usec >= before && usec < before + 1000000, "MONOTONIC_USEC is now on CLOCK_MONOTONIC");

        ok(sdnotify_stopping() > 0, "stopping sent");
        is_str(next_message(), "STOPPING=1", "STOPPING=1");
        is_str(next_message(), "", "nothing else was sent");
}

static int n_watchdog;
static void count_pings(uv_timer_t *t)
{
        (void)t;
        for (const char *m; *(m = next_message());)
                if (strcmp(m, "WATCHDOG=1") == 0)
                        n_watchdog++;
}

static void test_watchdog(void)
{
        char pid[32];
        snprintf(pid, sizeof(pid), "%d", (int)getpid());
        uv_loop_t loop;
        uv_loop_init(&loop);

        setenv("WATCHDOG_USEC", "40000", 1);   /* 40 ms: pings every 20 ms */
        setenv("WATCHDOG_PID", "1", 1);
        is_int(sdnotify_watchdog_start(&loop), 0, "WATCHDOG_PID of another process: no watchdog");
        setenv("WATCHDOG_PID", pid, 1);
        is_int(sdnotify_watchdog_start(&loop), 1, "watchdog started");
        is_int(sdnotify_watchdog_start(&loop), -EALREADY, "a second start is refused");

        uint64_t t0 = uv_hrtime();
        uv_run(&loop, UV_RUN_DEFAULT);
        ok(uv_hrtime() - t0 < 10000000, "the watchdog timer alone does not keep the loop running");

        /* 210 ms of loop: a ping at 0 ms and every 20 ms after. */
        uv_timer_t sampler, stop;
        uv_timer_init(&loop, &sampler);
        uv_timer_init(&loop, &stop);
        uv_timer_start(&sampler, count_pings, 5, 5);
        uv_unref((uv_handle_t *)&sampler);
        uv_timer_start(&stop, count_pings, 210, 0);
        uv_run(&loop, UV_RUN_DEFAULT);
        ok(n_watchdog >= 6 && n_watchdog <= 12, "WATCHDOG=1 about every half interval (%d in 210 ms)", n_watchdog);

        sdnotify_watchdog_stop();
        uv_timer_stop(&sampler);
        count_pings(NULL);   /* drain what was sent before the stop */
        int before = n_watchdog;
        /* Pings come from the loop: not a pause (the loop would not run in
         * it, so even a timer left running could not ping), but the loop run
         * until its own timer has seen three ping times pass. */
        uv_timer_start(&stop, count_pings, 70, 0);
        uv_run(&loop, UV_RUN_DEFAULT);
        count_pings(NULL);
        is_int(n_watchdog, before, "no ping after sdnotify_watchdog_stop (loop run through 3 ping times)");
        uv_close((uv_handle_t *)&sampler, NULL);
        uv_close((uv_handle_t *)&stop, NULL);
        uv_run(&loop, UV_RUN_DEFAULT);
        is_int(uv_loop_close(&loop), 0, "every handle closed (the timer is freed in its close callback)");

        setenv("WATCHDOG_USEC", "nonsense", 1);
        uv_loop_init(&loop);
        ok(sdnotify_watchdog_start(&loop) < 0, "a malformed WATCHDOG_USEC is an error");
        uv_loop_close(&loop);
        unsetenv("WATCHDOG_USEC");
        unsetenv("WATCHDOG_PID");
}

int main(void)
{
        test_listen_fd();   /* first: it owns fds 3 and 4 */
        test_without_systemd();

        char dir[] = "/tmp/hugevm-notify-XXXXXX";
        if (!mkdtemp(dir))
                skip_all("no temp dir");
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/notify", dir);
        notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        ok(notify_fd >= 0 && bind(notify_fd, (struct sockaddr *)&sa, sizeof(sa)) == 0, "NOTIFY_SOCKET bound");
        setenv("NOTIFY_SOCKET", sa.sun_path, 1);

        test_messages();
        test_watchdog();

        close(notify_fd);
        unlink(sa.sun_path);
        rmdir(dir);
        return tap_done();
}
