/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <errno.h>

#include "core.h"

int core_subscribe(struct core *core, core_observer_fn fn, void *data)
{
        struct core_observers *o = &core->observers;
        if (o->n >= CORE_MAX_OBSERVERS)
                return -ENOSPC;
        o->list[o->n].fn = fn;
        o->list[o->n].data = data;
        o->n++;
        return 0;
}

void core_publish(struct core *core, const struct core_event *ev)
{
        for (size_t i = 0; i < core->observers.n; i++)
                core->observers.list[i].fn(core->observers.list[i].data, core, ev);
}
