/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hugevmctl's side of the control socket: connect, send requests, read
 * newline-terminated JSON messages with a deadline. Plain blocking I/O with
 * poll() for timeouts; replies are matched to requests by id, notifications
 * that arrive in between go to a callback. Requests can be queued and sent
 * together in one write (ctl_send, then ctl_await each reply).
 */
#ifndef HUGEVMCTL_CLIENT_H
#define HUGEVMCTL_CLIENT_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

#include "proto.h"

/* Bound on one incoming line: a reply never exceeds what the daemon is
 * allowed to queue for a client. */
#define CTL_MAX_REPLY_LINE PROTO_MAX_OUTBUF

struct ctl_conn {
        int fd;
        char *buf;          /* bytes received but not yet consumed */
        size_t len, cap;
        char *out;          /* queued request lines, not yet sent */
        size_t out_len;
        json_object *early; /* a reply that came before it was awaited */
        int64_t next_id;
};

/* Called for every message without our reply id (notifications). */
typedef void (*ctl_notify_fn)(json_object *msg, void *userdata);

/* 0, or a negative errno from socket()/connect(); -ENAMETOOLONG when the path
 * does not fit in sockaddr_un. */
int ctl_connect(const char *path, struct ctl_conn *ret);
void ctl_close(struct ctl_conn *c);

/* Read one message. timeout_ms < 0 waits forever. Returns 0 and a new object,
 * -ETIMEDOUT, -ECONNRESET (peer closed, also mid-line), -EMSGSIZE (line longer
 * than CTL_MAX_REPLY_LINE), -EBADMSG (not a JSON object), or another -errno. */
int ctl_read_message(struct ctl_conn *c, int timeout_ms, json_object **ret);

/* Queue a request (params owned, may be NULL); *ret_id is its id. Nothing is
 * sent until the next ctl_await: queued requests go out in one write, so the
 * daemon reads them together. 0 or -ENOMEM. */
int ctl_send(struct ctl_conn *c, const char *method, json_object *params, int64_t *ret_id);

/* Send what is queued, then read until the reply with this id arrives; other
 * messages go to notify (may be NULL). On 0, *ret_reply is the whole reply
 * envelope (result or error). Errors as ctl_read_message, plus -EPIPE when the
 * daemon went away while we were sending. */
int ctl_await(struct ctl_conn *c, int64_t id, int timeout_ms, ctl_notify_fn notify, void *userdata,
              json_object **ret_reply);

/* ctl_send and ctl_await in one. */
int ctl_call(struct ctl_conn *c, const char *method, json_object *params, int timeout_ms,
             ctl_notify_fn notify, void *userdata, json_object **ret_reply);

/* "page" or "pages", as the count n wants it: never "1 pages". */
static inline const char *ctl_pages(int64_t n)
{
        return n == 1 ? "page" : "pages";
}

/* "hugevmctl: <message>\n" on stderr: how every hugevmctl error looks. */
void ctl_errorf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
