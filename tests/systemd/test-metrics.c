/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * daemon/api/metrics.c: rendering of STATUS documents (tests/systemd/data/NAME.json,
 * each with a .expect file of lines that must, or with "!" must not, appear),
 * the format checked by the real `promtool check metrics`, bounded counters,
 * the histogram, the HTTP endpoint and the atomic textfile.
 */
#include "config.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <glob.h>
#include <math.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "metrics.h"
#include "proto.h"
#include "tap.h"

static char *slurp(const char *path)
{
        FILE *f = fopen(path, "re");
        if (!f)
                return NULL;
        char *buf = NULL;
        size_t cap = 0, len = 0;
        for (;;) {
                if (cap - len < 4096) {
                        cap = cap ? cap * 2 : 8192;
                        char *n = realloc(buf, cap);
                        if (!n) {
                                free(buf);
                                fclose(f);
                                return NULL;
                        }
                        buf = n;
                }
                size_t got = fread(buf + len, 1, cap - len - 1, f);
                len += got;
                if (got == 0)
                        break;
        }
        fclose(f);
        buf[len] = '\0';
        return buf;
}

static bool has_line(const char *text, const char *line, bool prefix_only)
{
        size_t n = strlen(line);
        for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
                if (strncmp(p, line, n) == 0 && (prefix_only || p[n] == '\n' || p[n] == '\0'))
                        return true;
        return false;
}

static size_t count_prefix(const char *text, const char *prefix)
{
        size_t count = 0, n = strlen(prefix);
        for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
                if (strncmp(p, prefix, n) == 0)
                        count++;
        return count;
}

/* Every sample belongs to the family whose "# TYPE" came last (histograms:
 * name_bucket/_sum/_count), HELP comes right before TYPE, and no family is
 * announced twice. Returns NULL when fine, else a static reason. */
static const char *check_grouping(const char *text)
{
        static char why[512];
        char family[128] = "", type[32] = "", help_for[128] = "";
        char *copy = strdup(text), *save = NULL;
        char seen[8192] = " ";
        const char *bad = NULL;

        for (char *line = strtok_r(copy, "\n", &save); line && !bad; line = strtok_r(NULL, "\n", &save)) {
                char name[128];
                if (sscanf(line, "# HELP %127s", name) == 1) {
                        snprintf(help_for, sizeof(help_for), "%s", name);
                } else if (sscanf(line, "# TYPE %127s %31s", family, type) == 2) {
                        char key[160];
                        snprintf(key, sizeof(key), " %s ", family);
                        if (strcmp(help_for, family) != 0)
                                snprintf(why, sizeof(why), "TYPE %s without HELP before it", family), bad = why;
                        else if (strstr(seen, key))
                                snprintf(why, sizeof(why), "family %s announced twice", family), bad = why;
                        else if (strlen(seen) + strlen(key) < sizeof(seen))
                                strcat(seen, key + 1);
                } else if (line[0] == '#') {
                        snprintf(why, sizeof(why), "stray comment: %s", line), bad = why;
                } else {
                        size_t n = strcspn(line, "{ ");
                        snprintf(name, sizeof(name), "%.*s", (int)n, line);
                        bool match = strcmp(name, family) == 0;
                        if (!match && strcmp(type, "histogram") == 0) {
                                const char *suffix[] = { "_bucket", "_sum", "_count" };
                                for (size_t i = 0; i < 3 && !match; i++) {
                                        size_t fl = strlen(family);
                                        match = strncmp(name, family, fl) == 0 && strcmp(name + fl, suffix[i]) == 0;
                                }
                        }
                        if (!match)
                                snprintf(why, sizeof(why), "sample %s outside its family (in %s)", name, family), bad = why;
                }
        }
        free(copy);
        return bad;
}

/* The process_* lines (read from /proc/self at each render, so two renders
 * may differ there) removed in place. */
static void drop_process(char *text)
{
        char *out = text;
        for (char *p = text; p && *p;) {
                char *end = strchr(p, '\n');
                size_t n = end ? (size_t)(end - p) + 1 : strlen(p);
                if (strncmp(p, "process_", 8) != 0 && strncmp(p, "# HELP process_", 15) != 0 &&
                    strncmp(p, "# TYPE process_", 15) != 0) {
                        memmove(out, p, n);
                        out += n;
                }
                p += n;
        }
        *out = '\0';
}

static bool have_promtool(void)
{
        return system("promtool --version >/dev/null 2>&1") == 0;
}

/* Runs `promtool check metrics` on text; true when it exits 0 and says
 * nothing (it prints lint warnings). Its output goes to TAP diagnostics. */
static bool promtool_ok(const char *text)
{
        char path[] = "/tmp/hugevm-metrics-XXXXXX";
        int fd = mkstemp(path);
        if (fd < 0)
                return false;
        FILE *f = fdopen(fd, "w");
        fputs(text, f);
        fclose(f);

        char cmd[256];
        snprintf(cmd, sizeof(cmd), "promtool check metrics < %s 2>&1", path);
        FILE *p = popen(cmd, "r");
        char out[4096] = "";
        size_t n = p ? fread(out, 1, sizeof(out) - 1, p) : 0;
        out[n] = '\0';
        int status = p ? pclose(p) : -1;
        unlink(path);
        if (n > 0)
                for (char *s = strtok(out, "\n"); s; s = strtok(NULL, "\n"))
                        printf("#   promtool: %s\n", s);
        return status == 0 && n == 0;
}

static void test_documents(const char *datadir, bool promtool)
{
        char pattern[4200];
        glob_t g;
        snprintf(pattern, sizeof(pattern), "%s/*.json", datadir);
        ok(glob(pattern, 0, NULL, &g) == 0 && g.gl_pathc >= 4, "found the STATUS documents in %s", datadir);

        struct metrics *m = NULL;
        is_int(metrics_new(&m), 0, "metrics_new");

        for (size_t i = 0; i < g.gl_pathc; i++) {
                const char *json = g.gl_pathv[i];
                const char *name = strrchr(json, '/') + 1;
                json_object *status = json_object_from_file(json);
                ok(status != NULL, "%s: parses", name);

                char *text = metrics_render(m, status);
                ok(text != NULL, "%s: renders", name);
                if (!text) {
                        json_object_put(status);
                        continue;
                }
                const char *why = check_grouping(text);
                ok(why == NULL, "%s: every family has HELP and TYPE and its samples together", name);
                if (why)
                        printf("#   %s\n", why);

                char expect_path[4200];
                snprintf(expect_path, sizeof(expect_path), "%.*s.expect", (int)(strlen(json) - 5), json);
                char *expect = slurp(expect_path);
                ok(expect != NULL, "%s: has %s", name, strrchr(expect_path, '/') + 1);
                char *save = NULL;
                for (char *line = expect ? strtok_r(expect, "\n", &save) : NULL; line;
                     line = strtok_r(NULL, "\n", &save)) {
                        if (line[0] == '!')
                                ok(!has_line(text, line + 1, true), "%s: no line starts with '%s'", name, line + 1);
                        else if (strncmp(line, "# HELP ", 7) == 0 || strncmp(line, "# TYPE ", 7) == 0 ||
                                 line[0] != '#')
                                ok(has_line(text, line, false), "%s: has '%s'", name, line);
                }
                free(expect);

                if (promtool)
                        ok(promtool_ok(text), "%s: promtool check metrics passes without warnings", name);
                else
                        printf("ok %d - %s: promtool check metrics # SKIP promtool not installed\n", ++tap_n, name);
                free(text);
                json_object_put(status);
        }
        globfree(&g);

        /* No STATUS at all (the daemon has not refreshed yet). */
        char *text = metrics_render(m, NULL);
        ok(text && has_line(text, "# TYPE hugevm_saved_bytes gauge", false) && !has_line(text, "hugevm_saved_bytes{", true),
           "NULL status renders the families without samples");
        free(text);
        metrics_free(m);
}

static void test_counters(bool promtool)
{
        struct metrics *m = NULL;
        metrics_new(&m);
        char line[256];

        for (int i = 0; i < 3; i++)
                metrics_count_request(m, PROTO_M_STATUS, "ok");
        metrics_count_request(m, PROTO_M_POOL_SET, proto_error_name(PROTO_ERR_PERMISSION));
        for (int i = 0; i < 1000; i++) {   /* a peer making up method names */
                snprintf(line, sizeof(line), "no.such.method.%d\"\n", i);
                metrics_count_request(m, line, "ok");
        }
        metrics_count_request(m, NULL, "not-a-result");
        metrics_count_request(m, PROTO_M_WAIT, "not-a-result");

        metrics_count_resize(m, "2048kB", "reached", 0.004);
        metrics_count_resize(m, "2048kB", "short", 0.3);
        metrics_count_resize(m, "2048kB", "error", NAN);
        metrics_count_resize(m, "1048576kB", "reached", 12.0);
        for (int i = 0; i < 40; i++) {   /* more sizes than any machine has */
                snprintf(line, sizeof(line), "%dkB", 1000000 + i);
                metrics_count_resize(m, line, "nonsense", -5.0);
        }
        metrics_count_resize(m, "bogus\"size", "reached", 1.0);

        char *text = metrics_render(m, NULL);
        ok(text != NULL, "render with counters");
        if (!text)
                return;

        snprintf(line, sizeof(line), "hugevm_requests_total{method=\"%s\",result=\"ok\"} 3", PROTO_M_STATUS);
        ok(has_line(text, line, false), "requests counted by method and result");
        snprintf(line, sizeof(line), "hugevm_requests_total{method=\"%s\",result=\"%s\"} 1", PROTO_M_POOL_SET,
                 proto_error_name(PROTO_ERR_PERMISSION));
        ok(has_line(text, line, false), "error results labelled by proto_error_name");
        ok(has_line(text, "hugevm_requests_total{method=\"unknown\",result=\"ok\"} 1000", false),
           "1000 made-up methods share one \"unknown\" series");
        ok(has_line(text, "hugevm_requests_total{method=\"unknown\",result=\"unknown\"} 1", false),
           "NULL method and made-up result are \"unknown\"");
        snprintf(line, sizeof(line), "hugevm_requests_total{method=\"%s\",result=\"unknown\"} 1", PROTO_M_WAIT);
        ok(has_line(text, line, false), "made-up result of a known method is \"unknown\"");
        is_int(count_prefix(text, "hugevm_requests_total{"), 5, "only the series that were counted exist");

        ok(has_line(text, "hugevm_resizes_total{size=\"2048kB\",result=\"reached\"} 1", false) &&
           has_line(text, "hugevm_resizes_total{size=\"2048kB\",result=\"short\"} 1", false) &&
           has_line(text, "hugevm_resizes_total{size=\"2048kB\",result=\"error\"} 1", false),
           "resizes counted by size and result");
        ok(has_line(text, "hugevm_resize_duration_seconds_bucket{size=\"2048kB\",le=\"0.001\"} 1", false),
           "NaN duration counted as 0 in the first bucket");
        ok(has_line(text, "hugevm_resize_duration_seconds_bucket{size=\"2048kB\",le=\"0.005\"} 2", false) &&
           has_line(text, "hugevm_resize_duration_seconds_bucket{size=\"2048kB\",le=\"0.25\"} 2", false) &&
           has_line(text, "hugevm_resize_duration_seconds_bucket{size=\"2048kB\",le=\"0.5\"} 3", false) &&
           has_line(text, "hugevm_resize_duration_seconds_bucket{size=\"2048kB\",le=\"+Inf\"} 3", false),
           "histogram buckets are cumulative");
        ok(has_line(text, "hugevm_resize_duration_seconds_count{size=\"2048kB\"} 3", false), "histogram count");
        const char *sum = strstr(text, "hugevm_resize_duration_seconds_sum{size=\"2048kB\"} ");
        ok(sum && fabs(strtod(strchr(sum, ' ') + 1, NULL) - 0.304) < 1e-9, "histogram sum");
        ok(has_line(text, "hugevm_resize_duration_seconds_bucket{size=\"1048576kB\",le=\"10\"} 0", false) &&
           has_line(text, "hugevm_resize_duration_seconds_bucket{size=\"1048576kB\",le=\"30\"} 1", false),
           "12 s lands in the 30 s bucket");
        ok(!strstr(text, "bogus"), "a malformed size label is not exported");
        is_int(count_prefix(text, "hugevm_resize_duration_seconds_count{"), 16,
               "size series are bounded (15 sizes + unknown)");
        ok(has_line(text, "hugevm_resize_duration_seconds_count{size=\"unknown\"} 28", false),
           "the overflow and the malformed size share \"unknown\"");
        ok(has_line(text, "hugevm_resizes_total{size=\"1000000kB\",result=\"unknown\"} 1", false),
           "a made-up resize result is \"unknown\"");
        const char *why = check_grouping(text);
        ok(why == NULL, "counters and histogram grouped under HELP and TYPE");
        if (why)
                printf("#   %s\n", why);
        if (promtool)
                ok(promtool_ok(text), "promtool check metrics passes on counters and histogram");
        else
                printf("ok %d - promtool on counters # SKIP promtool not installed\n", ++tap_n);
        free(text);
        metrics_free(m);
}

/* One HTTP/1.0 exchange with the endpoint; malloc'ed raw response or NULL. */
static char *http(int family, uint16_t port, const char *request)
{
        union {
                struct sockaddr sa;
                struct sockaddr_in in;
                struct sockaddr_in6 in6;
        } sa = { 0 };
        socklen_t len;
        if (family == AF_INET) {
                sa.in.sin_family = AF_INET;
                sa.in.sin_port = htons(port);
                sa.in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
                len = sizeof(sa.in);
        } else {
                sa.in6.sin6_family = AF_INET6;
                sa.in6.sin6_port = htons(port);
                sa.in6.sin6_addr = in6addr_loopback;
                len = sizeof(sa.in6);
        }
        int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return NULL;
        struct timeval tv = { .tv_sec = 5 };
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        if (connect(fd, &sa.sa, len) < 0 || write(fd, request, strlen(request)) != (ssize_t)strlen(request)) {
                close(fd);
                return NULL;
        }
        size_t cap = 1 << 16, used = 0;
        char *buf = malloc(cap);
        ssize_t n;
        while (buf && (n = read(fd, buf + used, cap - used - 1)) > 0) {
                used += (size_t)n;
                if (cap - used < 1024) {
                        char *b = realloc(buf, cap *= 2);
                        if (!b) {
                                free(buf);
                                buf = NULL;
                        } else
                                buf = b;
                }
        }
        close(fd);
        if (buf)
                buf[used] = '\0';
        return buf;
}

static int http_status(const char *resp)
{
        int code = 0;
        return resp && sscanf(resp, "HTTP/1.%*d %d", &code) == 1 ? code : -1;
}

static bool http_header(const char *resp, const char *header)
{
        const char *end = resp ? strstr(resp, "\r\n\r\n") : NULL;
        size_t n = strlen(header);
        for (const char *p = resp; p && end && p < end; p = strstr(p, "\r\n"), p = p ? p + 2 : NULL)
                if (strncasecmp(p, header, n) == 0 && p[n] == '\r')
                        return true;
        return false;
}

static void test_http(void)
{
        struct metrics *m = NULL;
        uint16_t port = 0;
        metrics_new(&m);

        is_int(metrics_http_start(m, "127.0.0.1", 0, &port), 0, "HTTP server starts on 127.0.0.1, port 0");
        ok(port > 0, "the kernel's port is returned (%u)", port);
        is_int(metrics_http_start(m, "127.0.0.1", 0, NULL), -EALREADY, "a second start is refused");

        char *resp = http(AF_INET, port, "GET /metrics HTTP/1.0\r\n\r\n");
        is_int(http_status(resp), 503, "503 before anything is published");
        free(resp);

        json_object *status = json_tokener_parse("{\"converged\":true,\"pools\":[{\"size\":\"2048kB\",\"pages\":7}]}");
        is_int(metrics_publish(m, status), 0, "publish");
        metrics_count_request(m, PROTO_M_STATUS, "ok");   /* after publish: not in the served text */
        char *want = NULL;
        {
                struct metrics *fresh = NULL;
                metrics_new(&fresh);
                want = metrics_render(fresh, status);
                metrics_free(fresh);
        }

        resp = http(AF_INET, port, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        is_int(http_status(resp), 200, "GET /metrics: 200");
        ok(http_header(resp, "Content-Type: text/plain; version=0.0.4; charset=utf-8"),
           "served as the Prometheus text format 0.0.4");
        char *body = resp ? strstr(resp, "\r\n\r\n") : NULL;
        if (body && want) {
                drop_process(body);
                drop_process(want);
        }
        ok(body && want && strcmp(body + 4, want) == 0, "body is the published text, byte for byte (process_* aside)");
        free(resp);

        resp = http(AF_INET, port, "HEAD /metrics HTTP/1.0\r\n\r\n");
        is_int(http_status(resp), 200, "HEAD /metrics: 200");
        free(resp);
        resp = http(AF_INET, port, "GET / HTTP/1.0\r\n\r\n");
        is_int(http_status(resp), 404, "GET /: 404");
        free(resp);
        resp = http(AF_INET, port, "GET /metrics/x HTTP/1.0\r\n\r\n");
        is_int(http_status(resp), 404, "GET /metrics/x: 404");
        free(resp);
        resp = http(AF_INET, port, "POST /metrics HTTP/1.0\r\nContent-Length: 3\r\n\r\nabc");
        is_int(http_status(resp), 405, "POST /metrics: 405");
        ok(http_header(resp, "Allow: GET, HEAD"), "405 names the allowed methods");
        free(resp);
        resp = http(AF_INET, port, "DELETE /metrics HTTP/1.0\r\n\r\n");
        is_int(http_status(resp), 405, "DELETE /metrics: 405");
        free(resp);

        /* Only the given address: IPv6 loopback on the same port is not served. */
        resp = http(AF_INET6, port, "GET /metrics HTTP/1.0\r\n\r\n");
        ok(resp == NULL || http_status(resp) < 0, "not reachable on ::1 when bound to 127.0.0.1");
        free(resp);

        struct metrics *other = NULL;
        metrics_new(&other);
        is_int(metrics_http_start(other, "127.0.0.1", port, NULL), -EADDRINUSE, "a busy port gives -EADDRINUSE");
        is_int(metrics_http_start(other, "localhost", 0, NULL), -EINVAL, "a host name is refused (numeric only)");
        is_int(metrics_http_start(other, "127.0.0.1:80", 0, NULL), -EINVAL, "addr:port is refused");
        uint16_t port6 = 0;
        int r = metrics_http_start(other, "::1", 0, &port6);
        if (r == -EADDRNOTAVAIL || r == -EAFNOSUPPORT) {
                printf("ok %d - IPv6 endpoint # SKIP no IPv6 loopback here\n", ++tap_n);
        } else {
                is_int(r, 0, "HTTP server starts on ::1");
                resp = http(AF_INET6, port6, "GET /metrics HTTP/1.0\r\n\r\n");
                is_int(http_status(resp), 503, "::1 serves (503: nothing published there)");
                free(resp);
        }
        metrics_free(other);

        metrics_free(m);   /* stops the server */
        resp = http(AF_INET, port, "GET /metrics HTTP/1.0\r\n\r\n");
        ok(resp == NULL, "metrics_free stops the server");
        free(resp);
        free(want);
        json_object_put(status);
}

static void test_textfile(void)
{
        char dir[] = "/tmp/hugevm-textfile-XXXXXX", path[256];
        ok(mkdtemp(dir) != NULL, "temp dir");
        snprintf(path, sizeof(path), "%s/hugevm.prom", dir);

        struct metrics *m = NULL;
        metrics_new(&m);
        is_int(metrics_write_textfile(m, path), -ENODATA, "nothing published: -ENODATA");

        json_object *status = json_tokener_parse("{\"pools\":[{\"size\":\"2048kB\",\"saved_bytes\":28672}]}");
        metrics_publish(m, status);
        mode_t old = umask(077);   /* as under the unit's UMask= */
        is_int(metrics_write_textfile(m, path), 0, "textfile written");
        umask(old);

        char *text = slurp(path), *want = metrics_render(m, status);
        if (text && want) {
                drop_process(text);
                drop_process(want);
        }
        ok(text && want && strcmp(text, want) == 0, "textfile holds the published text (process_* aside)");
        struct stat st;
        ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0644, "textfile is world-readable for node_exporter");

        json_object_object_add(status, PROTO_F_CONVERGED, json_object_new_boolean(1));
        metrics_publish(m, status);
        is_int(metrics_write_textfile(m, path), 0, "textfile replaced");
        free(text);
        text = slurp(path);
        ok(text && has_line(text, "hugevm_converged 1", false), "replacement has the new text");

        DIR *d = opendir(dir);
        int entries = 0;
        for (struct dirent *e; d && (e = readdir(d));)
                if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
                        entries++;
        if (d)
                closedir(d);
        is_int(entries, 1, "no temp file left behind");

        char missing[300];
        snprintf(missing, sizeof(missing), "%s/no-such-dir/hugevm.prom", dir);
        is_int(metrics_write_textfile(m, missing), -ENOENT, "missing directory: -ENOENT");
        is_int(metrics_write_textfile(m, "/tmp/"), -EISDIR, "a directory path: -EISDIR");

        unlink(path);
        rmdir(dir);
        free(text);
        free(want);
        json_object_put(status);
        metrics_free(m);
}

/* Issue 14: page sizes, retries, the last configuration load, hugevm_up,
 * process_* and the textfile at stop. */
static void test_more(bool promtool)
{
        struct metrics *m = NULL;
        metrics_new(&m);
        json_object *status = json_tokener_parse("{\"pools\":[{\"size\":\"2048kB\",\"size_bytes\":2097152,\"pages\":3},"
                                                 "{\"size\":\"1048576kB\",\"size_bytes\":1073741824,\"pages\":0}]}");
        char *text = metrics_render(m, status);
        ok(text && has_line(text, "hugevm_page_size_bytes{size=\"2048kB\"} 2097152", false) &&
           has_line(text, "hugevm_page_size_bytes{size=\"1048576kB\"} 1073741824", false),
           "hugevm_page_size_bytes per pool, from size_bytes");
        ok(text && has_line(text, "hugevm_up 1", false), "hugevm_up 1");
        ok(text && has_line(text, "# TYPE hugevm_config_last_reload_successful gauge", false) &&
           !has_line(text, "hugevm_config_last_reload_successful ", true) &&
           !has_line(text, "hugevm_config_last_reload_success_timestamp_seconds ", true),
           "no configuration load recorded: the families without samples");
        ok(text && has_line(text, "# TYPE hugevm_pool_retries_total counter", false) &&
           !has_line(text, "hugevm_pool_retries_total{", true), "no pool told: no retries series");
        free(text);

        metrics_set_retries(m, "2048kB", 0);
        metrics_set_retries(m, "1048576kB", 2);
        metrics_set_retries(m, "1048576kB", 5);
        double before = (double)time(NULL);
        metrics_count_reload(m, true);
        double after = (double)time(NULL);
        text = metrics_render(m, status);
        ok(text && has_line(text, "hugevm_pool_retries_total{size=\"2048kB\"} 0", false) &&
           has_line(text, "hugevm_pool_retries_total{size=\"1048576kB\"} 5", false),
           "retries per pool, 0 included, as last set");
        is_int(count_prefix(text, "hugevm_resize_duration_seconds_count{"), 0, "no histogram for pools that never resized");
        ok(text && has_line(text, "hugevm_config_last_reload_successful 1", false), "a successful load: 1");
        const char *ts = text ? strstr(text, "\nhugevm_config_last_reload_success_timestamp_seconds ") : NULL;
        double at = ts ? strtod(strchr(ts + 1, ' ') + 1, NULL) : 0;
        ok(at >= before && at <= after, "... stamped with the wall clock (%.0f)", at);

        /* The fds of this process, counted as ls would: the render's own listing aside. */
        int fds = 0;
        DIR *d = opendir("/proc/self/fd");
        for (struct dirent *e; d && (e = readdir(d));)
                fds += e->d_name[0] != '.';
        if (d)
                closedir(d);
        fds--;   /* the DIR's own */
        free(text);
        metrics_count_reload(m, false);
        text = metrics_render(m, status);
        ok(text && has_line(text, "hugevm_config_last_reload_successful 0", false), "a refused reload: 0");
        const char *ts2 = text ? strstr(text, "\nhugevm_config_last_reload_success_timestamp_seconds ") : NULL;
        ok(ts2 && strtod(strchr(ts2 + 1, ' ') + 1, NULL) == at, "... the success timestamp stays");

        static const char *const process[] = {
                "process_cpu_seconds_total ", "process_resident_memory_bytes ", "process_virtual_memory_bytes ",
                "process_start_time_seconds ", "process_open_fds ", "process_max_fds ",
        };
        for (size_t i = 0; i < sizeof(process) / sizeof(process[0]); i++)
                ok(text && has_line(text, process[i], true), "a sample of %.*s", (int)strlen(process[i]) - 1, process[i]);
        const char *open_fds = text ? strstr(text, "\nprocess_open_fds ") : NULL;
        is_int(open_fds ? atoi(strchr(open_fds + 1, ' ') + 1) : -1, fds, "process_open_fds counts /proc/self/fd");
        const char *why = check_grouping(text);
        ok(why == NULL, "new families grouped under HELP and TYPE");
        if (why)
                printf("#   %s\n", why);
        if (promtool)
                ok(promtool_ok(text), "promtool check metrics passes on the new families");
        else
                printf("ok %d - promtool on the new families # SKIP promtool not installed\n", ++tap_n);
        free(text);

        char dir[] = "/tmp/hugevm-down-XXXXXX", path[256];
        ok(mkdtemp(dir) != NULL, "temp dir");
        snprintf(path, sizeof(path), "%s/hugevm.prom", dir);
        metrics_publish(m, status);
        metrics_write_textfile(m, path);
        mode_t old = umask(077);
        is_int(metrics_write_textfile_down(path), 0, "textfile marked down");
        umask(old);
        text = slurp(path);
        ok(text && has_line(text, "hugevm_up 0", false) && count_prefix(text, "hugevm_") == 1 &&
           count_prefix(text, "#") == 2, "it holds hugevm_up 0 (HELP, TYPE) and nothing else");
        struct stat st;
        ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0644, "still world-readable");
        free(text);
        unlink(path);
        rmdir(dir);
        json_object_put(status);
        metrics_free(m);
}

int main(void)
{
        const char *srcdir = getenv("top_srcdir");
        char datadir[4096];
        snprintf(datadir, sizeof(datadir), "%s/tests/systemd/data", srcdir ? srcdir : "..");
        bool promtool = have_promtool();

        test_documents(datadir, promtool);
        test_counters(promtool);
        test_http();
        test_textfile();
        test_more(promtool);
        return tap_done();
}
