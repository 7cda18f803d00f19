/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Two files for the rest of a node, both off by default:
 *   ConvergedFile= the managed pools, one "SIZE NODE PAGES" line per node,
 *                  rewritten only when every pool is converged and the content
 *                  differs from the file's: a systemd path unit on it restarts
 *                  kubelet exactly once per converged change, never mid-resize
 *                  (systemd/hugevm-kubelet-restart.path, docs/systemd.md);
 *   FeatureFile=   a Node Feature Discovery local feature file ("key=value"
 *                  lines: sizes, HVO, pages per size and node, saved bytes),
 *                  rewritten whenever its content changes.
 * Both are written atomically (temp file and rename) and compared with what
 * the file holds, so a restarted hugevmd does not rewrite an unchanged file.
 */
#ifndef HUGEVMD_NODEFEATURES_H
#define HUGEVMD_NODEFEATURES_H

#include <stddef.h>

struct core;
struct daemon;

/* Subscribe the observer. Negative errno. */
int features_init(struct daemon *d);

/* The texts written (for tests): 0, or -ENOSPC if len is too small. */
int features_converged_text(const struct core *core, char *buf, size_t len);
int features_nfd_text(const struct core *core, char *buf, size_t len);

#endif
