/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"
#include "client.h"
#include "clock.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int ctl_connect(const char *path, struct ctl_conn *ret)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        if (strlen(path) >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        memcpy(sa.sun_path, path, strlen(path) + 1);

        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
                int r = -errno;
                close(fd);
                return r;
        }
        *ret = (struct ctl_conn){ .fd = fd, .next_id = 1 };
        return 0;
}

void ctl_close(struct ctl_conn *c)
{
        if (c->fd >= 0)
                close(c->fd);
        c->fd = -1;
        free(c->buf);
        c->buf = NULL;
        c->len = c->cap = 0;
        free(c->out);
        c->out = NULL;
        c->out_len = 0;
        json_object_put(c->early);
        c->early = NULL;
}

/* Milliseconds left until deadline (-1: none), for poll(). */
static int remaining_ms(int64_t deadline)
{
        if (deadline < 0)
                return -1;
        int64_t left = deadline - clock_ms();
        return left < 0 ? 0 : (int)(left > 1000000000 ? 1000000000 : left);
}

static int send_all(int fd, const char *p, size_t n)
{
        while (n > 0) {
                /* MSG_NOSIGNAL: a daemon that went away is an error, not SIGPIPE. */
                ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
                if (w < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                p += w;
                n -= (size_t)w;
        }
        return 0;
}

/* Take one complete line out of the buffer, if there is one. */
static char *take_line(struct ctl_conn *c)
{
        char *nl = memchr(c->buf, '\n', c->len);
        if (!nl)
                return NULL;
        size_t n = (size_t)(nl - c->buf);
        char *line = malloc(n + 1);
        if (!line)
                return NULL;
        memcpy(line, c->buf, n);
        line[n] = '\0';
        memmove(c->buf, nl + 1, c->len - n - 1);
        c->len -= n + 1;
        return line;
}

static int read_line(struct ctl_conn *c, int64_t deadline, char **ret)
{
        for (;;) {
                if (c->len > 0 && memchr(c->buf, '\n', c->len)) {
                        char *line = take_line(c);
                        if (!line)
                                return -ENOMEM;
                        *ret = line;
                        return 0;
                }
                if (c->len >= CTL_MAX_REPLY_LINE)
                        return -EMSGSIZE;

                struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
                int p = poll(&pfd, 1, remaining_ms(deadline));
                if (p < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (p == 0)
                        return -ETIMEDOUT;

                if (c->cap - c->len < 4096) {
                        size_t cap = c->cap ? c->cap * 2 : 8192;
                        if (cap > CTL_MAX_REPLY_LINE + 1)
                                cap = CTL_MAX_REPLY_LINE + 1;
                        char *b = realloc(c->buf, cap);
                        if (!b)
                                return -ENOMEM;
                        c->buf = b;
                        c->cap = cap;
                }
                ssize_t n = read(c->fd, c->buf + c->len, c->cap - c->len);
                if (n < 0) {
                        if (errno == EINTR || errno == EAGAIN)
                                continue;
                        return -errno;
                }
                /* EOF, with or without a partial line: the daemon is gone. */
                if (n == 0)
                        return -ECONNRESET;
                c->len += (size_t)n;
        }
}

static int read_message_until(struct ctl_conn *c, int64_t deadline, json_object **ret)
{
        char *line = NULL;
        int r = read_line(c, deadline, &line);
        if (r < 0)
                return r;
        json_object *o = json_tokener_parse(line);
        free(line);
        if (!o || !json_object_is_type(o, json_type_object)) {
                json_object_put(o);
                return -EBADMSG;
        }
        *ret = o;
        return 0;
}

int ctl_read_message(struct ctl_conn *c, int timeout_ms, json_object **ret)
{
        return read_message_until(c, timeout_ms < 0 ? -1 : clock_ms() + timeout_ms, ret);
}

int ctl_send(struct ctl_conn *c, const char *method, json_object *params, int64_t *ret_id)
{
        int64_t id = c->next_id++;
        json_object *req = proto_request_new(method, params, id);
        if (!req)
                return -ENOMEM;
        size_t len;
        char *line = proto_serialize_line(req, &len);
        json_object_put(req);
        if (!line)
                return -ENOMEM;
        char *out = realloc(c->out, c->out_len + len);
        if (!out) {
                free(line);
                return -ENOMEM;
        }
        memcpy(out + c->out_len, line, len);
        free(line);
        c->out = out;
        c->out_len += len;
        *ret_id = id;
        return 0;
}

static int flush_out(struct ctl_conn *c)
{
        int r = c->out_len > 0 ? send_all(c->fd, c->out, c->out_len) : 0;
        free(c->out);
        c->out = NULL;
        c->out_len = 0;
        return r;
}

/* A reply with "id": null is an error the daemon could not tie to a request;
 * it can only be about the one we await. */
static bool is_reply_to(json_object *msg, int64_t id)
{
        json_object *mid;
        return json_object_object_get_ex(msg, PROTO_F_ID, &mid) &&
               (json_object_is_type(mid, json_type_null) ||
                (json_object_is_type(mid, json_type_int) && json_object_get_int64(mid) == id));
}

/* A reply to some other request of ours (notifications have no id). */
static bool is_other_reply(json_object *msg)
{
        json_object *mid;
        return json_object_object_get_ex(msg, PROTO_F_ID, &mid) && json_object_is_type(mid, json_type_int) &&
               !json_object_object_get_ex(msg, PROTO_F_METHOD, NULL);
}

int ctl_await(struct ctl_conn *c, int64_t id, int timeout_ms, ctl_notify_fn notify, void *userdata,
              json_object **ret_reply)
{
        int r = flush_out(c);
        if (r < 0)
                return r;
        if (c->early && is_reply_to(c->early, id)) {
                *ret_reply = c->early;
                c->early = NULL;
                return 0;
        }

        int64_t deadline = timeout_ms < 0 ? -1 : clock_ms() + timeout_ms;
        for (;;) {
                json_object *msg;
                r = read_message_until(c, deadline, &msg);
                if (r < 0)
                        return r;
                if (is_reply_to(msg, id)) {
                        *ret_reply = msg;
                        return 0;
                }
                /* Replies may come out of order: keep it for its own ctl_await. */
                if (is_other_reply(msg)) {
                        json_object_put(c->early);
                        c->early = msg;
                        continue;
                }
                if (notify)
                        notify(msg, userdata);
                json_object_put(msg);
        }
}

int ctl_call(struct ctl_conn *c, const char *method, json_object *params, int timeout_ms,
             ctl_notify_fn notify, void *userdata, json_object **ret_reply)
{
        int64_t id;
        int r = ctl_send(c, method, params, &id);
        if (r < 0)
                return r;
        return ctl_await(c, id, timeout_ms, notify, userdata, ret_reply);
}

void ctl_errorf(const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        fputs("hugevmctl: ", stderr);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
        va_end(ap);
}
