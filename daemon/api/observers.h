/* SPDX-License-Identifier: GPL-2.0-or-later */
/* sd_notify and the metrics follow the core's events. */
#ifndef HUGEVMD_OBSERVERS_H
#define HUGEVMD_OBSERVERS_H

struct daemon;

/* Subscribe the sd_notify and metrics observers. Negative errno. */
int observers_init(struct daemon *d);

#endif
