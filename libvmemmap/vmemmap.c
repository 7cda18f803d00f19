/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Implementation pending: see vmemmap.h for the contract. */
#include "config.h"
#include "vmemmap.h"
