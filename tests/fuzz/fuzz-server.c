/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer harness: the control socket end to end. The fuzz input is sent
 * as raw bytes over a real Unix socket to the real server (daemon/api/server.c:
 * line framing, CRLF and blank-line tolerance, the last line without '\n',
 * limits, subscriptions, parked waits and their late replies) in front of the
 * real dispatcher and daemon on the fake machine of fuzz-daemon.h, all linked
 * from daemon/libhugevmd.a and assembled as main.c does; then the client
 * half-closes and reads every reply. Nothing is replaced.
 *
 * Properties (docs/DESIGN.md "Control protocol"):
 *   - every line the server sends is one complete JSON-RPC 2.0 message
 *     (check_line), '\n'-terminated;
 *   - the server answers a half-closed client and closes the connection,
 *     unless the client subscribed or a wait is pending;
 *   - when it closed, every request with an id got exactly one reply (a reply
 *     with that id; the count of replies with non-null ids equals the count
 *     of request lines with a string or integer id);
 *   - the loop closes cleanly and nothing leaks.
 */
#include "config.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

#define FUZZ_NAME "fuzz-server"
#include "fuzz-daemon.h"

#define MAX_SPINS 2000   /* loop turns without progress before giving up on EOF */

static char sock_path[PATH_MAX];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
        (void)argc;
        (void)argv;
        fuzz_daemon_init();
        snprintf(sock_path, sizeof(sock_path), "%s/run/hugevmd.sock", scratch); /* a plain directory */
        return 0;
}

/* Request lines with a string or integer id, framed as the server frames them. */
static size_t count_requests(const uint8_t *data, size_t size, bool *may_linger)
{
        size_t n = 0, start = 0;

        *may_linger = false;
        for (size_t pos = 0; pos <= size; pos++) {
                if (pos < size && data[pos] != '\n')
                        continue;
                if (pos == size && start == size)
                        break;
                struct expect e;
                const char *line = (const char *)data + start;
                size_t len = pos - start, s = 0;

                start = pos + 1;
                while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == ' ' || line[len - 1] == '\t'))
                        len--;
                while (s < len && (line[s] == ' ' || line[s] == '\t'))
                        s++;
                if (s == len)
                        continue;
                expect_of(line + s, len - s, &e);
                if (e.id)
                        n++;
                if (e.method && (!strcmp(e.method, PROTO_M_SUBSCRIBE) || !strcmp(e.method, PROTO_M_WAIT)))
                        *may_linger = true;
                json_object_put(e.req);
        }
        return n;
}

/* Every complete line received: a valid message; counts replies with an id. */
static size_t check_output(char *out, size_t len)
{
        size_t replies = 0, start = 0;

        CHECK(len == 0 || out[len - 1] == '\n', "output does not end with a newline: %.200s", out + start);
        for (size_t pos = 0; pos < len; pos++) {
                if (out[pos] != '\n')
                        continue;
                out[pos] = '\0';
                json_object *o = json_tokener_parse(out + start), *id;
                CHECK(o, "a line that is not JSON: %.300s", out + start);
                check_line(o, "server line");
                if (json_object_object_get_ex(o, PROTO_F_ID, &id) && id)
                        replies++;
                json_object_put(o);
                start = pos + 1;
        }
        return replies;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        struct daemon d;
        uv_loop_t loop;
        char *out = NULL;
        size_t out_len = 0, out_cap = 0, sent = 0;
        bool eof = false, may_linger;
        int fd;

        reset_machine();
        setup(&d, &loop, sock_path);

        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
        if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
                abort();

        /* Send, read and turn the loop until the server closes or stalls. */
        for (unsigned idle = 0; !eof && idle < MAX_SPINS;) {
                bool progress = false;

                if (sent < size) {
                        ssize_t k = send(fd, data + sent, size - sent, MSG_NOSIGNAL);
                        if (k > 0) {
                                sent += (size_t)k;
                                progress = true;
                                if (sent == size)
                                        shutdown(fd, SHUT_WR);
                        } else if (k < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
                                sent = size; /* the server closed on us (a limit) */
                } else if (size == 0 && sent == 0) {
                        shutdown(fd, SHUT_WR);
                        sent = 1; /* once */
                }
                for (;;) {
                        if (out_cap - out_len < 4096) {
                                out_cap = out_cap ? out_cap * 2 : 8192;
                                out = realloc(out, out_cap);
                                if (!out)
                                        abort();
                        }
                        ssize_t k = recv(fd, out + out_len, out_cap - out_len - 1, 0);
                        if (k > 0) {
                                out_len += (size_t)k;
                                progress = true;
                                continue;
                        }
                        if (k == 0 || (k < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
                                eof = true;
                        break;
                }
                uv_run(&loop, d.core.job_running ? UV_RUN_ONCE : UV_RUN_NOWAIT);
                idle = progress || d.core.job_running ? 0 : idle + 1;
        }
        close(fd);

        size_t requests = count_requests(data, size, &may_linger);
        if (out)
                out[out_len] = '\0';
        if (getenv("FUZZ_VERBOSE"))
                fprintf(stderr, "received:\n%s", out ? out : "");
        size_t replies = check_output(out ? out : (char *)"", out_len);
        if (getenv("FUZZ_VERBOSE"))
                fprintf(stderr, "%zu requests, %zu replies, %s\n", requests, replies, eof ? "closed" : "left open");
        CHECK(eof || may_linger, "the server kept a half-closed connection open without subscribe or wait");
        /* A refused client (a limit) gets one error with id null and no more. */
        if (eof && !strstr(out ? out : "", "\"code\":-32006"))
                CHECK(replies == requests, "%zu requests with an id, %zu replies with an id", requests, replies);
        else
                CHECK(replies <= requests, "%zu requests with an id, but %zu replies with an id", requests, replies);
        free(out);

        teardown(&d);
        return 0;
}
