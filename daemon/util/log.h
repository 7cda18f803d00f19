/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hugevmd's logging: to the journal with structured fields (SIZE=, NODE=,
 * PAGES=) when stderr is connected to it (JOURNAL_STREAM), else one line per
 * message on stderr. Only the daemon logs; libvmemmap never does.
 */
#ifndef HUGEVMD_LOG_H
#define HUGEVMD_LOG_H

#include <stdint.h>
#include <syslog.h>

void log_setup(void);
/* Messages below this priority are dropped (default LOG_INFO). */
void log_set_max_level(int level);

void log_msg(int priority, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* size_label NULL, node < 0 or pages == UINT64_MAX leave that field out. */
void log_pool(int priority, const char *size_label, int node, uint64_t pages, const char *fmt, ...)
        __attribute__((format(printf, 5, 6)));

#define log_debug(...)   log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...)    log_msg(LOG_INFO, __VA_ARGS__)
#define log_notice(...)  log_msg(LOG_NOTICE, __VA_ARGS__)
#define log_warning(...) log_msg(LOG_WARNING, __VA_ARGS__)
#define log_error(...)   log_msg(LOG_ERR, __VA_ARGS__)

#endif
