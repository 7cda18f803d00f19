/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"
#include "log.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include <systemd/sd-journal.h>

static bool to_journal;
static int max_level = LOG_INFO;

/* stderr goes to the journal when its device:inode equals JOURNAL_STREAM. */
void log_setup(void)
{
        const char *e = getenv("JOURNAL_STREAM");
        struct stat st;
        unsigned long long dev, ino;

        to_journal = false;
        if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2)
                return;
        if (fstat(STDERR_FILENO, &st) < 0)
                return;
        to_journal = (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void log_set_max_level(int level)
{
        max_level = level;
}

static const char *level_name(int priority)
{
        switch (priority) {
        case LOG_DEBUG:   return "debug";
        case LOG_INFO:    return "info";
        case LOG_NOTICE:  return "notice";
        case LOG_WARNING: return "warning";
        default:          return "error";
        }
}

static void log_emit(int priority, const char *size_label, int node, uint64_t pages, const char *msg)
{
        if (priority > max_level)
                return;
        if (to_journal) {
                /* Only the fields that apply: sd_journal_sendv takes a variable list. */
                char message[2100], prio[32], size_f[64], node_f[32], pages_f[48];
                char ident[] = "SYSLOG_IDENTIFIER=hugevmd";
                struct iovec iov[6];
                int n = 0;
                snprintf(message, sizeof message, "MESSAGE=%s", msg);
                snprintf(prio, sizeof prio, "PRIORITY=%d", priority);
                iov[n++] = (struct iovec){ message, strlen(message) };
                iov[n++] = (struct iovec){ prio, strlen(prio) };
                iov[n++] = (struct iovec){ ident, strlen(ident) };
                if (size_label) {
                        snprintf(size_f, sizeof size_f, "SIZE=%s", size_label);
                        iov[n++] = (struct iovec){ size_f, strlen(size_f) };
                }
                if (node >= 0) {
                        snprintf(node_f, sizeof node_f, "NODE=%d", node);
                        iov[n++] = (struct iovec){ node_f, strlen(node_f) };
                }
                if (pages != UINT64_MAX) {
                        snprintf(pages_f, sizeof pages_f, "PAGES=%" PRIu64, pages);
                        iov[n++] = (struct iovec){ pages_f, strlen(pages_f) };
                }
                sd_journal_sendv(iov, n);
                return;
        }
        fprintf(stderr, "hugevmd: %s: %s\n", level_name(priority), msg);
}

void log_msg(int priority, const char *fmt, ...)
{
        char buf[2048];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(buf, sizeof buf, fmt, ap);
        va_end(ap);
        log_emit(priority, NULL, -1, UINT64_MAX, buf);
}

void log_pool(int priority, const char *size_label, int node, uint64_t pages, const char *fmt, ...)
{
        char buf[2048];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(buf, sizeof buf, fmt, ap);
        va_end(ap);
        log_emit(priority, size_label, node, pages, buf);
}
