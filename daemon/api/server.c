/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The control socket: a libuv pipe server. Every resource a peer controls has
 * a limit (line length, client count, idle time, unsent output), and every
 * limit is answered with a JSON-RPC error line before the connection closes.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"
#include "proto.h"
#include "rpc.h"
#include "sdnotify.h"
#include "server.h"
#include "status.h"
#include "waits.h"

#define CLOSE_GRACE_MS 5000u   /* a peer that never reads its last error is cut after this */
/* Fairness: one client's pipelined requests are answered at most this many per
 * loop iteration; the rest wait (the client not read meanwhile) while others
 * are served. */
#define LINES_PER_TURN 16u
/* Backpressure: above this much unsent output a client's requests wait (and it
 * is not read) until it has read its replies; PROTO_MAX_OUTBUF stays the hard
 * cut-off for output no request asked for (notifications to a subscriber). */
#define OUTBUF_HIGH_WATER (PROTO_MAX_OUTBUF / 4)
#define ACCEPTS_PER_TURN 16u
/* Connections: no one user can hold them all. Root and AdminGroup members
 * may use every one of PROTO_MAX_CLIENTS; everyone else shares all but
 * PROTO_ADMIN_RESERVED_CLIENTS of them, at most PROTO_MAX_CLIENTS_PER_UID each. */

struct client {
        uv_pipe_t pipe;
        uv_timer_t timer;        /* idle timeout, later the close grace period */
        uv_shutdown_t shutdown_req;
        struct daemon *d;
        struct client *next, *prev;
        char *buf;               /* bytes of the line being received */
        size_t len;
        enum proto_role role;
        uid_t uid;
        pid_t pid;
        bool subscribed;
        bool closing;            /* no more requests; flushing or closed */
        bool closed;
        bool eof;
        bool reading;            /* uv_read_start in force */
        bool pump_due;           /* complete lines wait for the pump (idle handle) */
        int holds;               /* pending async replies (wait) */
        size_t queued;           /* memory of writes handed to uv_write, not yet done (data and request) */
        int open_handles;
};

struct server {
        uv_pipe_t listener;
        uv_idle_t pump;          /* runs while some client has requests waiting */
        int open_handles;        /* listener and pump: freed when both closed */
        bool listening;
        char *bound_path;        /* unlinked at exit; NULL when socket-activated */
        dev_t bound_dev;         /* ... if it is still our socket (not a successor's) */
        ino_t bound_ino;
        struct client *clients;
        unsigned n_clients;
        /* Accepts per turn of the loop: libuv accepts until the backlog is
         * empty, which with a SOMAXCONN backlog and a connect storm starves
         * every other client; past the limit the rest wait for the next turn. */
        unsigned accepts_this_turn;
        uint64_t accept_turn;    /* uv_now() of that turn */
        bool accept_pending;     /* a connection waits to be accepted (pump) */
        uint64_t idle_ms;
        /* One read buffer for all clients: read_cb copies what arrived into
         * the client's line buffer at once, so no client needs its own (10,000
         * connections at once would otherwise pin 160 MiB). */
        char rbuf[16384];
};

struct write_req {
        uv_write_t req;
        struct client *c;
        size_t len;
        char data[];
};

static void client_close(struct client *c);
static void client_close_after_flush(struct client *c);
static void client_schedule(struct client *c);
static void accept_one(struct daemon *d);
static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf);
static void read_cb(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf);

static void client_handle_closed(uv_handle_t *h)
{
        struct client *c = h->data;
        if (--c->open_handles == 0) {
                free(c->buf);
                free(c);
        }
}

static void client_close(struct client *c)
{
        if (c->closed)
                return;
        c->closed = c->closing = true;
        struct server *s = c->d->server;
        if (c->prev)
                c->prev->next = c->next;
        else if (s->clients == c)
                s->clients = c->next;
        if (c->next)
                c->next->prev = c->prev;
        s->n_clients--;
        waits_drop_client(c->d, c);
        uv_close((uv_handle_t *)&c->pipe, client_handle_closed);
        uv_close((uv_handle_t *)&c->timer, client_handle_closed);
}

static void write_cb(uv_write_t *req, int status)
{
        struct write_req *w = (struct write_req *)req;
        struct client *c = w->c;
        bool was_over = c->queued >= OUTBUF_HIGH_WATER;
        c->queued -= sizeof *w + w->len;
        free(w);
        if (status < 0 && !c->closed)
                client_close(c);
        else if (was_over && c->queued < OUTBUF_HIGH_WATER)
                client_schedule(c);   /* it read its replies: serve it again */
}

/* Queue raw bytes; false if the peer is gone or over its output limit. */
static bool client_write(struct client *c, const char *line, size_t len, bool over_limit_ok)
{
        if (c->closed)
                return false;
        /* Small notifications cost more in requests than in bytes: count both,
         * so the limit bounds the memory a client that never reads can pin. */
        if (!over_limit_ok && c->queued + sizeof(struct write_req) + len > PROTO_MAX_OUTBUF)
                return false;
        struct write_req *w = malloc(sizeof *w + len);
        if (!w)
                return false;
        memcpy(w->data, line, len);
        w->c = c;
        w->len = len;
        uv_buf_t b = uv_buf_init(w->data, (unsigned)len);
        int r = uv_write(&w->req, (uv_stream_t *)&c->pipe, &b, 1, write_cb);
        if (r < 0) {
                free(w);
                client_close(c);
                return false;
        }
        c->queued += sizeof *w + len;
        return true;
}

/* A limit answered: an error line with id null, then close once it is out. */
static void client_refuse(struct client *c, int code, const char *message)
{
        json_object *e = proto_error_new(NULL, code, message, NULL);
        size_t len;
        char *line = e ? proto_serialize_line(e, &len) : NULL;
        json_object_put(e);
        if (line)
                client_write(c, line, len, true);
        free(line);
        client_close_after_flush(c);
}

static void send_line(struct client *c, const char *line, size_t len)
{
        if (c->closing)
                return;
        if (!client_write(c, line, len, false) && !c->closed)
                client_refuse(c, PROTO_ERR_LIMIT, "too much unread output: this client does not read its replies");
}

void server_send(struct client *c, json_object *obj)
{
        size_t len;
        char *line = obj ? proto_serialize_line(obj, &len) : NULL;
        json_object_put(obj);
        if (line)
                send_line(c, line, len);
        free(line);
}

/* What the core publishes, told to every subscribed client. */
static void on_event(void *data, struct core *core, const struct core_event *ev)
{
        struct daemon *d = data;
        (void)core;
        json_object *obj = status_notification(ev);
        size_t len;
        char *line = obj && d->server ? proto_serialize_line(obj, &len) : NULL;
        json_object_put(obj);
        if (!line)
                return;
        for (struct client *c = d->server->clients, *next; c; c = next) {
                next = c->next;
                if (!c->closing && (c->subscribed || waits_client_follows(d, c, ev->pool)))
                        send_line(c, line, len);
        }
        free(line);
}

bool server_client_gone(const struct client *c)
{
        return c->closed;
}

void server_client_set_subscribed(struct client *c)
{
        c->subscribed = true;
}

static void maybe_finish_eof(struct client *c);

void server_client_hold(struct client *c, int delta)
{
        c->holds += delta;
        if (c->holds == 0)
                maybe_finish_eof(c);
}

static void shutdown_cb(uv_shutdown_t *req, int status)
{
        client_close(req->data);
}

static void grace_timer_cb(uv_timer_t *t)
{
        client_close(t->data);
}

static void client_close_after_flush(struct client *c)
{
        if (c->closing)
                return;
        c->closing = true;
        uv_read_stop((uv_stream_t *)&c->pipe);
        uv_timer_start(&c->timer, grace_timer_cb, CLOSE_GRACE_MS, 0);
        c->shutdown_req.data = c;
        if (uv_shutdown(&c->shutdown_req, (uv_stream_t *)&c->pipe, shutdown_cb) < 0)
                client_close(c);
}

/* After the peer's EOF: stay for pending waits and subscriptions, else leave. */
static void maybe_finish_eof(struct client *c)
{
        /* Lines still buffered (paused for fairness or backpressure) come first. */
        if (c->eof && !c->closing && c->holds == 0 && !c->subscribed && !memchr(c->buf ? c->buf : "", '\n', c->len))
                client_close_after_flush(c);
}

static void idle_timer_cb(uv_timer_t *t)
{
        struct client *c = t->data;
        if (c->closing)
                return;
        if (c->subscribed || c->holds > 0) {
                uv_timer_again(t);
                return;
        }
        char msg[128];
        snprintf(msg, sizeof msg, "idle for %llu ms: closing the connection", (unsigned long long)c->d->server->idle_ms);
        client_refuse(c, PROTO_ERR_LIMIT, msg);
}

static void handle_line(struct client *c, char *line, size_t len)
{
        /* Tolerate CRLF and blank lines. */
        while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == ' ' || line[len - 1] == '\t'))
                len--;
        size_t start = 0;
        while (start < len && (line[start] == ' ' || line[start] == '\t'))
                start++;
        if (start == len)
                return;
        /* Idle time counts from the last whole request: bytes trickled
         * without a newline keep no connection alive. */
        uv_timer_again(&c->timer);
        line[len] = '\0';
        json_object *reply = rpc_handle_line(c->d, c, c->role, line + start, len - start);
        if (reply)
                server_send(c, reply);
}

static void refuse_long_line(struct client *c)
{
        char msg[128];
        snprintf(msg, sizeof msg, "request line longer than %u bytes", PROTO_MAX_LINE);
        client_refuse(c, PROTO_ERR_LIMIT, msg);
}

/* Answer at most LINES_PER_TURN complete lines, and none while the client's
 * unsent output is above the high-water mark. True if complete lines remain. */
static bool process_buffer(struct client *c)
{
        size_t off = 0;
        unsigned done = 0;
        bool more = false;
        while (!c->closing && off < c->len) {
                char *nl = memchr(c->buf + off, '\n', c->len - off);
                if (!nl) {
                        if (c->len - off >= PROTO_MAX_LINE) {
                                refuse_long_line(c);
                                return false;
                        }
                        break;
                }
                size_t n = (size_t)(nl - (c->buf + off));
                if (n + 1 > PROTO_MAX_LINE) {
                        refuse_long_line(c);
                        return false;
                }
                if (done == LINES_PER_TURN || c->queued >= OUTBUF_HIGH_WATER) {
                        more = true;
                        break;
                }
                handle_line(c, c->buf + off, n);
                done++;
                off += n + 1;
        }
        if (c->closing)
                return false;
        if (off > 0) {   /* (buf is still NULL for a client that sent nothing) */
                memmove(c->buf, c->buf + off, c->len - off);
                c->len -= off;
        }
        return more;
}

static void client_set_reading(struct client *c, bool on)
{
        if (on == c->reading || c->closing)
                return;
        if (on && uv_read_start((uv_stream_t *)&c->pipe, alloc_cb, read_cb) < 0) {
                client_close(c);
                return;
        }
        if (!on)
                uv_read_stop((uv_stream_t *)&c->pipe);
        c->reading = on;
}

/* Serve what the client sent, a bounded amount: read more only once every
 * complete line is answered and its output is below the high-water mark. */
static void client_pump(struct client *c)
{
        if (c->closing)
                return;
        bool more = process_buffer(c);
        if (c->closing)
                return;
        bool blocked = c->queued >= OUTBUF_HIGH_WATER;
        if (more && !blocked)
                client_schedule(c);   /* the rest next iteration, after the others */
        client_set_reading(c, !c->eof && !more && !blocked);
        if (c->eof && !more)
                maybe_finish_eof(c);
}

static void pump_cb(uv_idle_t *idle)
{
        struct daemon *d = idle->data;
        bool any = false;
        if (d->server->accept_pending) {
                d->server->accept_pending = false;
                d->server->accepts_this_turn = 1;
                d->server->accept_turn = uv_now(d->loop);
                accept_one(d);   /* and uv_accept watches the listener again */
        }
        for (struct client *c = d->server->clients, *next; c; c = next) {
                next = c->next;
                if (!c->pump_due)
                        continue;
                c->pump_due = false;
                client_pump(c);
                any = any || c->pump_due;
        }
        if (!any)
                uv_idle_stop(idle);
}

static void client_schedule(struct client *c)
{
        if (c->closing || !c->d->server)
                return;
        c->pump_due = true;
        uv_idle_start(&c->d->server->pump, pump_cb);
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
        struct client *c = h->data;
        struct server *s = c->d->server;
        *buf = uv_buf_init(s->rbuf, sizeof s->rbuf);
}

static void read_cb(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
        struct client *c = stream->data;
        if (c->closing)
                return;
        if (nread > 0) {
                /* Bounded: the buffer never exceeds PROTO_MAX_LINE + one read. */
                char *nb = realloc(c->buf, c->len + (size_t)nread + 1);
                if (!nb) {
                        client_refuse(c, PROTO_ERR_INTERNAL, "out of memory");
                        return;
                }
                c->buf = nb;
                memcpy(c->buf + c->len, buf->base, (size_t)nread);
                c->len += (size_t)nread;
                client_pump(c);
                return;
        }
        if (nread == UV_EOF) {
                client_set_reading(c, false);
                c->eof = true;
                /* A last line without '\n' is still a request (the buffer
                 * may also hold complete lines not answered yet). */
                if (c->len > 0 && c->buf[c->len - 1] != '\n') {
                        c->buf[c->len] = '\n';   /* room: realloc'ed len + 1 */
                        c->len++;
                }
                client_pump(c);
                return;
        }
        if (nread < 0)
                client_close(c);
}

static bool in_groups(gid_t want, gid_t primary, const gid_t *groups, int n)
{
        if (primary == want)
                return true;
        for (int i = 0; i < n; i++)
                if (groups[i] == want)
                        return true;
        return false;
}

/* The peer's supplementary groups (SO_PEERGROUPS), as many as it has; NULL
 * with *n = 0 when the kernel cannot say. free() the list. */
static gid_t *peer_groups(int fd, int *n)
{
        socklen_t len = 64 * sizeof(gid_t);
        gid_t *groups = NULL;
        *n = 0;
#ifdef SO_PEERGROUPS
        for (int tries = 0; tries < 3; tries++) {
                gid_t *g = realloc(groups, len ? len : sizeof(gid_t));
                if (!g)
                        break;
                groups = g;
                if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) == 0) {
                        *n = (int)(len / sizeof(gid_t));
                        return groups;
                }
                if (errno != ERANGE)   /* ERANGE: len now says how much it needs */
                        break;
        }
#endif
        free(groups);
        return NULL;
}

static enum proto_role peer_role(struct daemon *d, int fd, uid_t *ret_uid, pid_t *ret_pid)
{
        struct ucred cred;
        socklen_t len = sizeof cred;
        const struct config *cfg = d->core.cfg;

        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
                return PROTO_ROLE_NONE;
        *ret_uid = cred.uid;
        *ret_pid = cred.pid;
        if (cred.uid == 0 || cred.uid == geteuid())
                return PROTO_ROLE_ADMIN;
        int n;
        gid_t *groups = peer_groups(fd, &n);
        enum proto_role role = PROTO_ROLE_NONE;
        if (cfg->has_admin_gid && in_groups(cfg->admin_gid, cred.gid, groups, n))
                role = PROTO_ROLE_ADMIN;
        else if (cfg->has_socket_gid && in_groups(cfg->socket_gid, cred.gid, groups, n))
                role = PROTO_ROLE_READ;
        free(groups);
        return role;
}

/* Whether c may have a connection slot; if not, msg says why. Clients on
 * their way out (refused, timed out) hold no slot. */
static bool admit(const struct server *s, const struct client *c, char *msg, size_t len)
{
        unsigned all = 0, same_uid = 0;
        for (const struct client *o = s->clients; o; o = o->next)
                if (o != c && !o->closing) {
                        all++;
                        same_uid += o->uid == c->uid;
                }
        if (all >= PROTO_MAX_CLIENTS) {
                snprintf(msg, len, "too many clients (limit %u): try again later", PROTO_MAX_CLIENTS);
                return false;
        }
        if (c->role == PROTO_ROLE_ADMIN)
                return true;
        if (all >= PROTO_MAX_CLIENTS - PROTO_ADMIN_RESERVED_CLIENTS) {
                snprintf(msg, len, "too many clients (the last %u of %u are kept for root and the AdminGroup): try again later",
                         PROTO_ADMIN_RESERVED_CLIENTS, PROTO_MAX_CLIENTS);
                return false;
        }
        if (same_uid >= PROTO_MAX_CLIENTS_PER_UID) {
                snprintf(msg, len, "too many connections from uid %u (limit %u per user): try again later",
                         (unsigned)c->uid, PROTO_MAX_CLIENTS_PER_UID);
                return false;
        }
        return true;
}

/* Take one pending connection off the listener and admit or refuse it. */
static void accept_one(struct daemon *d)
{
        struct server *s = d->server;
        struct client *c = calloc(1, sizeof *c);
        if (!c) {
                /* libuv watches the listener again only once this one is
                 * accepted: try again on the next turn. */
                s->accept_pending = true;
                uv_idle_start(&s->pump, pump_cb);
                return;
        }
        c->d = d;
        uv_pipe_init(d->loop, &c->pipe, 0);
        uv_timer_init(d->loop, &c->timer);
        c->pipe.data = c->timer.data = c;
        c->open_handles = 2;
        c->next = s->clients;
        if (s->clients)
                s->clients->prev = c;
        s->clients = c;
        s->n_clients++;
        if (uv_accept((uv_stream_t *)&s->listener, (uv_stream_t *)&c->pipe) < 0) {
                client_close(c);
                return;
        }
        uv_os_fd_t fd;
        if (uv_fileno((uv_handle_t *)&c->pipe, &fd) == 0)
                c->role = peer_role(d, fd, &c->uid, &c->pid);
        char msg[160];
        if (!admit(s, c, msg, sizeof msg)) {
                client_refuse(c, PROTO_ERR_BUSY, msg);
                return;
        }
        uv_timer_start(&c->timer, idle_timer_cb, s->idle_ms, s->idle_ms);
        client_set_reading(c, true);
}

static void connection_cb(uv_stream_t *listener, int status)
{
        struct daemon *d = listener->data;
        struct server *s = d->server;
        if (status < 0) {
                log_warning("Accepting a connection failed: %s", uv_strerror(status));
                return;
        }
        uint64_t now = uv_now(d->loop);
        if (now != s->accept_turn) {
                s->accept_turn = now;
                s->accepts_this_turn = 0;
        }
        if (++s->accepts_this_turn > ACCEPTS_PER_TURN) {
                /* Not accepted: libuv stops watching the listener until the
                 * pump accepts it, after the other clients had their turn. */
                s->accept_pending = true;
                uv_idle_start(&s->pump, pump_cb);
                return;
        }
        accept_one(d);
}

static int bind_path(struct daemon *d, const char *path)
{
        struct server *s = d->server;
        struct stat st;
        /* libuv would cut a longer path and bind the short name instead. */
        if (strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
                log_error("Socket path %s is %zu bytes long; a socket path has at most %zu", path, strlen(path),
                          sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
                return -ENAMETOOLONG;
        }
        char *dir = strdup(path), *slash;
        if (!dir)
                return -ENOMEM;
        slash = strrchr(dir, '/');
        if (slash && slash != dir) {
                *slash = '\0';
                if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
                        int r = -errno;
                        log_error("Cannot create the socket directory %s: %s", dir, strerror(errno));
                        free(dir);
                        return r;
                }
        }
        free(dir);
        /* A stale socket from an earlier run is replaced; a live one is not. */
        if (lstat(path, &st) == 0) {
                if (!S_ISSOCK(st.st_mode)) {
                        log_error("%s exists and is not a socket", path);
                        return -EEXIST;
                }
                int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
                struct sockaddr_un sa = { .sun_family = AF_UNIX };
                snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
                if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0) {
                        close(fd);
                        log_error("Another hugevmd is already listening on %s", path);
                        return -EADDRINUSE;
                }
                if (fd >= 0)
                        close(fd);
                unlink(path);
        }
        /*
         * bind() makes the file, listen() makes it answer: a client that sees
         * the file in between is refused (ECONNREFUSED), and before chmod a
         * non-root one gets EACCES. So bind and listen under a temporary name
         * and rename(2) it into place: the path appears ready to accept. (The
         * temporary name is also what libuv unlinks when the handle closes, so
         * it can never remove a successor's socket.) If the temporary name
         * would not fit in sun_path, bind the path itself, listen at once.
         */
        char staged[sizeof(((struct sockaddr_un *)0)->sun_path)];
        int n = snprintf(staged, sizeof staged, "%s.%ld.tmp", path, (long)getpid());
        bool use_staged = n > 0 && (size_t)n < sizeof staged;
        const char *bind_at = use_staged ? staged : path;
        if (use_staged)
                unlink(staged);   /* left by a crashed daemon with our pid */
        int r = uv_pipe_bind(&s->listener, bind_at);
        if (r < 0) {
                log_error("Cannot bind %s: %s", bind_at, uv_strerror(r));
                return r;
        }
        r = uv_listen((uv_stream_t *)&s->listener, SOMAXCONN, connection_cb);
        if (r < 0) {
                log_error("Cannot listen on %s: %s", bind_at, uv_strerror(r));
                if (use_staged)
                        unlink(staged);
                return r;
        }
        /* Anyone may connect; SO_PEERCRED decides what they may do, and says so. */
        if (chmod(bind_at, 0666) < 0) {
                r = -errno;
                log_error("Cannot make the socket %s reachable (chmod): %s", bind_at, strerror(errno));
                unlink(bind_at);
                return r;
        }
        if (use_staged && rename(staged, path) < 0) {
                r = -errno;
                log_error("Cannot move the socket %s to %s: %s", staged, path, strerror(errno));
                unlink(staged);
                return r;
        }
        s->bound_path = strdup(path);
        if (lstat(path, &st) == 0) {
                s->bound_dev = st.st_dev;
                s->bound_ino = st.st_ino;
        }
        return 0;
}

int server_start(struct daemon *d, const char *socket_path)
{
        struct server *s = calloc(1, sizeof *s);
        const char *idle = getenv("HUGEVMD_IDLE_TIMEOUT_MS");   /* tests only */
        uint64_t v;
        if (!s)
                return -ENOMEM;
        int r = core_subscribe(&d->core, on_event, d);
        if (r < 0) {
                free(s);
                return r;
        }
        d->server = s;
        s->idle_ms = PROTO_IDLE_TIMEOUT_MS;
        if (idle && vmm_count_parse(idle, &v) == 0 && v > 0)
                s->idle_ms = v;
        uv_pipe_init(d->loop, &s->listener, 0);
        s->listener.data = d;
        uv_idle_init(d->loop, &s->pump);
        s->pump.data = d;
        s->open_handles = 2;

        int fd = sdnotify_listen_fd();
        if (fd >= 0) {
                r = uv_pipe_open(&s->listener, fd);
                if (r < 0) {
                        log_error("Cannot use the socket passed by systemd: %s", uv_strerror(r));
                        return r;
                }
                log_info("Listening on the socket passed by systemd");
        } else if (fd == -EINVAL) {
                log_error("The sockets passed by systemd are not one AF_UNIX stream socket");
                return fd;
        } else {
                r = bind_path(d, socket_path);   /* listens too */
                if (r < 0)
                        return r;
                log_info("Listening on %s", socket_path);
                s->listening = true;
                return 0;
        }
        r = uv_listen((uv_stream_t *)&s->listener, SOMAXCONN, connection_cb);
        if (r < 0) {
                log_error("Cannot listen: %s", uv_strerror(r));
                return r;
        }
        s->listening = true;
        return 0;
}

static void listener_closed(uv_handle_t *h)
{
        struct daemon *d = h->data;
        if (--d->server->open_handles > 0)
                return;
        free(d->server->bound_path);
        free(d->server);
        d->server = NULL;
}

void server_stop(struct daemon *d)
{
        struct server *s = d->server;
        if (!s)
                return;
        while (s->clients)
                client_close(s->clients);
        struct stat st;
        if (s->bound_path && lstat(s->bound_path, &st) == 0 && st.st_dev == s->bound_dev && st.st_ino == s->bound_ino)
                unlink(s->bound_path);
        uv_close((uv_handle_t *)&s->pump, listener_closed);
        uv_close((uv_handle_t *)&s->listener, listener_closed);
}
