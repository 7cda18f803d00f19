/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Prints the protocol's half of the request fuzzers' dictionaries (libFuzzer
 * format) from proto/proto.h: the envelope, every method name and every
 * param a method accepts. run.sh appends it to fuzz-rpc.dict and
 * fuzz-server.dict, which hold only what proto.h does not (JSON tokens,
 * sizes, odd bytes), so a new method or param is fuzzed without a hand edit.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "proto.h"

/* One entry: prefix, the name as a JSON string, suffix; escaped for the dict. */
static void entry(const char *prefix, const char *name, const char *suffix)
{
        char text[256];
        snprintf(text, sizeof text, "%s\"%s\"%s", prefix, name, suffix);
        putchar('"');
        for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
                if (*p == '"' || *p == '\\')
                        printf("\\%c", *p);
                else if (*p < 0x20 || *p >= 0x7f)
                        printf("\\x%02x", *p);
                else
                        putchar(*p);
        }
        printf("\"\n");
}

/* Did a method before method i, or param p's predecessors, name it already? */
static int named_before(size_t i, const char *const *p)
{
        for (size_t j = 0; j <= i; j++)
                for (const char *const *q = proto_methods[j].params; *q && q != p; q++)
                        if (strcmp(*q, *p) == 0)
                                return 1;
        return 0;
}

int main(void)
{
        printf("# generated from proto/proto.h by tests/fuzz/proto-dict.c\n");
        entry("", PROTO_F_JSONRPC, ":\"2.0\"");
        entry("", PROTO_F_ID, ":");
        entry("", PROTO_F_METHOD, ":");
        entry("", PROTO_F_PARAMS, ":");
        for (size_t i = 0; i < PROTO_METHOD_COUNT; i++)
                entry("", proto_methods[i].name, "");
        /* Each param once, where a method first names it. */
        for (size_t i = 0; i < PROTO_METHOD_COUNT; i++)
                for (const char *const *p = proto_methods[i].params; *p; p++)
                        if (!named_before(i, p))
                                entry("", *p, ":");
        return 0;
}
