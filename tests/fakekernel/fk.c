/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The fake kernel from C: see fk.h. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fk.h"

#define FK_MAX_STARTED 8
#define FK_START_MS 10000   /* the mount is up within this, or the start failed */
#define FK_STOP_MS 5000     /* SIGTERM to exit, then SIGKILL */

static struct fk *started[FK_MAX_STARTED];

static void sleep_ms(unsigned ms)
{
        struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

const char *fk_program(void)
{
        static char path[PATH_MAX];
        const char *env = getenv("FAKEKERNEL"), *top = getenv("top_builddir");

        if (env && *env)
                return env;
        if (top && *top) {
                snprintf(path, sizeof(path), "%s/tests/fakekernel/fakekernel", top);
                return path;
        }
#ifdef FK_FAKEKERNEL
        return FK_FAKEKERNEL;
#else
        return NULL;
#endif
}

static int in_path(const char *name)
{
        const char *p = getenv("PATH");
        char dir[PATH_MAX];

        if (!p || !*p)
                p = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
        while (*p) {
                size_t n = strcspn(p, ":");

                snprintf(dir, sizeof(dir), "%.*s/%s", (int)n, n ? p : ".", name);
                if (access(dir, X_OK) == 0)
                        return 1;
                p += n + (p[n] == ':');
        }
        return 0;
}

static int have_dev_fuse(void)
{
        struct stat st;

        return stat("/dev/fuse", &st) == 0 && S_ISCHR(st.st_mode);
}

const char *fk_unusable(const char *bin)
{
        if (!bin)
                bin = fk_program();
        if (!bin || access(bin, X_OK) < 0)
                return "the fake kernel is not built (no libfuse3 at configure time?)";
        if (!have_dev_fuse())
                return "no /dev/fuse";
        if (!in_path("fusermount3"))
                return "no fusermount3 (apt-get install fuse3)";
        if (geteuid() != 0)
                return "the fake kernel is mounted for every uid, which needs root";
        return NULL;
}

int fk_ci_must_run(void)
{
        const char *ci = getenv("CI");

        return ci && strcmp(ci, "true") == 0 && geteuid() == 0 && have_dev_fuse();
}

/* Is mnt a mount point (another device than its parent)? 1, 0, or -errno. */
static int mounted(const char *mnt)
{
        char parent[PATH_MAX + 4];
        struct stat a, b;

        snprintf(parent, sizeof(parent), "%s/..", mnt);
        if (stat(mnt, &a) < 0 || stat(parent, &b) < 0)
                return -errno;
        return a.st_dev != b.st_dev;
}

/* execv's argv is char *const[]: the strings are not written. */
static char *unconst(const char *s)
{
        char *r;

        memcpy(&r, &s, sizeof(r));
        return r;
}

static void stop_all(void)
{
        for (size_t i = 0; i < FK_MAX_STARTED; i++)
                if (started[i])
                        fk_stop(started[i]);
}

int fk_start(struct fk *fk, const char *bin, const char *mnt, const char *const *settings, char *err, size_t errlen)
{
        static int registered;
        char state[PATH_MAX + 16];
        char **argv;
        size_t n = 0, k = 0;
        pid_t parent = getpid(), pid;
        int status;

        memset(fk, 0, sizeof(*fk));
        if (!bin)
                bin = fk_program();
        if (!bin) {
                snprintf(err, errlen, "no fake kernel program (set FAKEKERNEL)");
                return -ENOENT;
        }
        if (mkdir(mnt, 0755) < 0 && errno != EEXIST) {
                int r = -errno;
                snprintf(err, errlen, "mkdir %s: %s", mnt, strerror(errno));
                return r;
        }
        if (!realpath(mnt, fk->mnt)) {
                int r = -errno;
                snprintf(err, errlen, "%s: %s", mnt, strerror(errno));
                return r;
        }
        snprintf(fk->pidfile, sizeof(fk->pidfile), "%s.pid", fk->mnt);
        snprintf(state, sizeof(state), "%s/.fake/state", fk->mnt);
        if (mounted(fk->mnt) > 0) {
                snprintf(err, errlen, "%s is already a mount point", fk->mnt);
                return -EBUSY;
        }
        while (settings && settings[n])
                n++;
        argv = calloc(2 * n + 6, sizeof(*argv));
        if (!argv) {
                snprintf(err, errlen, "out of memory");
                return -ENOMEM;
        }
        argv[k++] = unconst(bin);
        argv[k++] = unconst("-f");
        argv[k++] = unconst("-p");
        argv[k++] = unconst(fk->pidfile);
        for (size_t i = 0; i < n; i++) {
                argv[k++] = unconst("-s");
                argv[k++] = unconst(settings[i]);
        }
        argv[k++] = unconst(fk->mnt);
        argv[k] = NULL;

        fflush(NULL);
        pid = fork();
        if (pid < 0) {
                int r = -errno;
                free(argv);
                snprintf(err, errlen, "fork: %s", strerror(errno));
                return r;
        }
        if (pid == 0) {
                /* When the caller dies, so does its fake (and unmounts). */
                int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

                if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != parent)
                        _exit(127);
                if (fd >= 0 && fd != 0) {
                        dup2(fd, 0);
                        close(fd);
                }
                execv(bin, argv);
                fprintf(stderr, "fk: exec %s: %s\n", bin, strerror(errno));
                _exit(127);
        }
        free(argv);

        for (unsigned ms = 0;; ms++) {
                pid_t w = waitpid(pid, &status, WNOHANG);

                if (w == pid) {
                        snprintf(err, errlen, "%s exited (%s %d) before it served %s", bin,
                                 WIFEXITED(status) ? "status" : "signal",
                                 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), fk->mnt);
                        return -ECHILD;
                }
                if (mounted(fk->mnt) > 0 && access(state, R_OK) == 0)
                        break;
                if (ms >= FK_START_MS) {
                        kill(pid, SIGKILL);
                        waitpid(pid, &status, 0);
                        snprintf(err, errlen, "%s did not serve %s within %u ms", bin, fk->mnt, FK_START_MS);
                        return -ETIMEDOUT;
                }
                sleep_ms(1);
        }
        fk->pid = pid;
        for (size_t i = 0; i < FK_MAX_STARTED; i++)
                if (!started[i]) {
                        started[i] = fk;
                        break;
                }
        if (!registered) {
                registered = 1;
                atexit(stop_all);
        }
        return 0;
}

static int write_text(const char *path, const char *text)
{
        size_t len = strlen(text);
        int fd = open(path, O_WRONLY | O_CLOEXEC), r = 0;
        ssize_t k;

        if (fd < 0)
                return -errno;
        k = write(fd, text, len);
        if (k < 0)
                r = -errno;
        else if ((size_t)k != len)
                r = -EIO;
        if (close(fd) < 0 && r == 0)
                r = -errno;
        return r;
}

/* The whole of a small file (malloc'd, NUL-terminated) or NULL with errno. */
static char *read_text(const char *path)
{
        size_t len = 0, cap = 8192;
        char *buf = malloc(cap);
        int fd = open(path, O_RDONLY | O_CLOEXEC);

        if (fd < 0 || !buf) {
                int e = fd < 0 ? errno : ENOMEM;
                free(buf);
                if (fd >= 0)
                        close(fd);
                errno = e;
                return NULL;
        }
        for (;;) {
                ssize_t k;

                if (cap - len < 4096) {
                        char *nb = realloc(buf, cap * 2);
                        if (!nb) {
                                free(buf);
                                close(fd);
                                errno = ENOMEM;
                                return NULL;
                        }
                        buf = nb;
                        cap *= 2;
                }
                k = read(fd, buf + len, cap - len - 1);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0) {
                        int e = errno;
                        free(buf);
                        close(fd);
                        errno = e;
                        return NULL;
                }
                if (k == 0)
                        break;
                len += (size_t)k;
        }
        close(fd);
        buf[len] = '\0';
        return buf;
}

int fk_write(const struct fk *fk, const char *rel, const char *text)
{
        char path[PATH_MAX * 2];

        while (*rel == '/')
                rel++;
        snprintf(path, sizeof(path), "%s/%s", fk->mnt, rel);
        return write_text(path, text);
}

int fk_ctl(const struct fk *fk, char *err, size_t errlen, const char *fmt, ...)
{
        char line[1024], path[PATH_MAX + 16];
        va_list ap;
        int r;

        va_start(ap, fmt);
        vsnprintf(line, sizeof(line) - 1, fmt, ap);
        va_end(ap);
        strcat(line, "\n");
        snprintf(path, sizeof(path), "%s/.fake/control", fk->mnt);
        r = write_text(path, line);
        if (err && errlen) {
                char *why = r < 0 ? read_text(path) : NULL;

                snprintf(err, errlen, "%s", why ? why : r < 0 ? strerror(-r) : "ok");
                err[strcspn(err, "\n")] = '\0';
                free(why);
        }
        return r;
}

int fk_state(const struct fk *fk, const char *key, char *buf, size_t len)
{
        char path[PATH_MAX + 16], *text;
        size_t klen = strlen(key);
        int r = -ENOENT;

        snprintf(path, sizeof(path), "%s/.fake/state", fk->mnt);
        text = read_text(path);
        if (!text)
                return -errno;
        for (char *l = text; *l;) {
                char *eol = strchr(l, '\n');

                if (eol)
                        *eol = '\0';
                if (strncmp(l, key, klen) == 0 && l[klen] == ' ') {
                        snprintf(buf, len, "%s", l + klen + 1);
                        r = 0;
                        break;
                }
                if (!eol)
                        break;
                l = eol + 1;
        }
        free(text);
        return r;
}

int fk_state_u64(const struct fk *fk, const char *key, uint64_t *v)
{
        char buf[256], *end;
        int r = fk_state(fk, key, buf, sizeof(buf));

        if (r < 0)
                return r;
        errno = 0;
        unsigned long long x = strtoull(buf, &end, 10);
        if (errno || end == buf || *end || buf[0] == '-')
                return -EINVAL;
        *v = x;
        return 0;
}

int fk_stop(struct fk *fk)
{
        int status;

        for (size_t i = 0; i < FK_MAX_STARTED; i++)
                if (started[i] == fk)
                        started[i] = NULL;
        if (fk->pid > 0) {
                kill(fk->pid, SIGTERM);
                for (unsigned ms = 0; waitpid(fk->pid, &status, WNOHANG) == 0; ms++) {
                        if (ms == FK_STOP_MS) {
                                kill(fk->pid, SIGKILL);
                                waitpid(fk->pid, &status, 0);
                                break;
                        }
                        sleep_ms(1);
                }
                fk->pid = 0;
        }
        if (!fk->mnt[0] || mounted(fk->mnt) <= 0)
                return 0;
        /* It died without unmounting: lazily, as fakekernel.sh's fk_stop. */
        pid_t pid = fork();
        if (pid == 0) {
                execlp("fusermount3", "fusermount3", "-u", "-z", fk->mnt, (char *)NULL);
                _exit(127);
        }
        if (pid > 0)
                waitpid(pid, &status, 0);
        unlink(fk->pidfile);
        return mounted(fk->mnt) > 0 ? -EBUSY : 0;
}
