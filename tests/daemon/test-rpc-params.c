/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Request envelope and parameter checks (daemon/api/rpc-params.c). */
#include "config.h"

#include <string.h>

#include "proto.h"
#include "rpc.h"
#include "tap.h"

static int parse(const char *line, const char **method, char *msg, size_t len, json_object **id_out)
{
        json_object *req = NULL, *id = NULL, *params = NULL;
        int r = rpc_parse_envelope(line, strlen(line), &req, &id, method, &params, msg, len);
        if (id_out)
                *id_out = id ? json_object_get(id) : NULL;
        json_object_put(req);
        return r;
}

static void envelope(void)
{
        char msg[256];
        const char *m = NULL;
        json_object *id;

        is_int(parse("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"status\"}", &m, msg, sizeof msg, &id), 0, "a minimal request");
        ok(id && json_object_get_int(id) == 1, "its id is read");
        json_object_put(id);
        is_int(parse("{\"jsonrpc\":\"2.0\",\"id\":\"a\",\"method\":\"x\",\"params\":{}}", &m, msg, sizeof msg, NULL), 0, "string id, empty params");
        is_int(parse("{\"jsonrpc\":\"2.0\",\"method\":\"x\"}  \r", &m, msg, sizeof msg, NULL), 0, "a notification, trailing blanks");
        is_int(parse("not json", &m, msg, sizeof msg, NULL), PROTO_ERR_PARSE, "not JSON: parse error");
        is_int(parse("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"x\"", &m, msg, sizeof msg, NULL), PROTO_ERR_PARSE, "half an object: parse error");
        is_int(parse("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"x\"} {}", &m, msg, sizeof msg, NULL), PROTO_ERR_PARSE, "two objects on a line");
        is_int(parse("[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"x\"}]", &m, msg, sizeof msg, NULL), PROTO_ERR_INVALID_REQUEST, "batch refused");
        is_str(msg, "batch requests are not supported: send one object per line", "batch message");
        is_int(parse("42", &m, msg, sizeof msg, NULL), PROTO_ERR_INVALID_REQUEST, "a number is not a request");
        is_int(parse("{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"x\"}", &m, msg, sizeof msg, &id), PROTO_ERR_INVALID_REQUEST, "jsonrpc 1.0 refused");
        ok(id && json_object_get_int(id) == 1, "the id is known even when the envelope is bad");
        json_object_put(id);
        is_int(parse("{\"jsonrpc\":\"2.0\",\"id\":1}", &m, msg, sizeof msg, NULL), PROTO_ERR_INVALID_REQUEST, "no method");
        is_int(parse("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":7}", &m, msg, sizeof msg, NULL), PROTO_ERR_INVALID_REQUEST, "method not a string");
        is_int(parse("{\"jsonrpc\":\"2.0\",\"id\":[1],\"method\":\"x\"}", &m, msg, sizeof msg, NULL), PROTO_ERR_INVALID_REQUEST, "id an array");
        is_int(parse("{\"jsonrpc\":\"2.0\",\"id\":1.5,\"method\":\"x\"}", &m, msg, sizeof msg, NULL), PROTO_ERR_INVALID_REQUEST, "id a fraction");
        is_int(parse("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"x\",\"params\":[1]}", &m, msg, sizeof msg, NULL), PROTO_ERR_INVALID_PARAMS, "positional params");
        is_int(parse("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"x\",\"params\":3}", &m, msg, sizeof msg, NULL), PROTO_ERR_INVALID_REQUEST, "params a number");
        is_int(parse("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"x\",\"extra\":3}", &m, msg, sizeof msg, NULL), PROTO_ERR_INVALID_REQUEST, "unknown member");
        is_str(msg, "unknown member \"extra\" in the request", "unknown member named");
        char deep[200] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"x\",\"params\":{\"a\":";
        for (int i = 0; i < 20; i++)
                strcat(deep, "[");
        is_int(parse(deep, &m, msg, sizeof msg, NULL), PROTO_ERR_PARSE, "nesting beyond PROTO_MAX_DEPTH refused");
}

static void params(void)
{
        char msg[256];
        static const char *const allowed[] = { PROTO_F_SIZE, PROTO_F_PAGES, NULL };
        json_object *p = json_tokener_parse("{\"size\":\"2M\",\"pages\":5,\"neg\":-1,\"frac\":1.5,\"str\":\"5\",\"big\":99999999999999999999,\"b\":true,\"max\":10}");
        uint64_t v = 0;
        bool present, b;

        is_int(rpc_check_keys(p, allowed, msg, sizeof msg), PROTO_ERR_INVALID_PARAMS, "unknown keys refused");
        ok(strstr(msg, ": unknown parameter") != NULL, "and named: %s", msg);
        json_object *q = json_tokener_parse("{\"size\":\"2M\",\"pages\":5}");
        is_int(rpc_check_keys(q, allowed, msg, sizeof msg), 0, "known keys pass");
        json_object_put(q);

        ok(rpc_get_uint(p, "pages", 100, &v, &present, msg, sizeof msg) == 1 && present && v == 5, "an integer in range");
        ok(rpc_get_uint(p, "absent", 100, &v, &present, msg, sizeof msg) == 0 && !present, "absent is not an error");
        is_int(rpc_get_uint(p, "neg", 100, &v, &present, msg, sizeof msg), PROTO_ERR_INVALID_PARAMS, "negative refused");
        is_str(msg, "neg: must not be negative", "negative named");
        is_int(rpc_get_uint(p, "frac", 100, &v, &present, msg, sizeof msg), PROTO_ERR_INVALID_PARAMS, "fraction refused");
        is_str(msg, "frac: must be a non-negative integer", "fraction named");
        is_int(rpc_get_uint(p, "str", 100, &v, &present, msg, sizeof msg), PROTO_ERR_INVALID_PARAMS, "a string is not an integer");
        is_int(rpc_get_uint(p, "big", UINT64_MAX - 1, &v, &present, msg, sizeof msg), PROTO_ERR_INVALID_PARAMS, "beyond 64 bits refused");
        is_int(rpc_get_uint(p, "max", 9, &v, &present, msg, sizeof msg), PROTO_ERR_INVALID_PARAMS, "above the maximum refused");
        is_str(msg, "max: 10 is too large (at most 9)", "maximum named");
        ok(rpc_get_bool(p, "b", &b, &present, msg, sizeof msg) == 1 && b, "a boolean");
        is_int(rpc_get_bool(p, "pages", &b, &present, msg, sizeof msg), PROTO_ERR_INVALID_PARAMS, "a number is not a boolean");
        json_object_put(p);
}

/* Only JSON: what json-c would also take is refused with the reason. */
static void strict_json(void)
{
        static const struct { const char *text, *why; } refused[] = {
                { "{'jsonrpc':'2.0','id':1,'method':'status'}", "single quotes" },
                { "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"status\",}", "a trailing comma" },
                { "{\"jsonrpc\":\"2.0\",\"id\":01,\"method\":\"status\"}", "a leading zero" },
                { "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"status\"} /* c */", "a comment" },
                { "{\"jsonrpc\":\"2.0\",\"id\":NaN,\"method\":\"status\"}", "NaN" },
                { "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"version\\u0000x\"}", "a NUL inside the method name" },
                { "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"st\x01" "atus\"}", "a raw control character" },
                { "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"\xff\"}", "invalid UTF-8" },
                { "{\"jsonrpc\":\"2.0\",\"id\":\"\xc0\x80\",\"method\":\"version\"}", "an overlong NUL" },
                { "{\"jsonrpc\":\"2.0\",\"id\":\"\xed\xa0\x80\",\"method\":\"version\"}", "a UTF-16 surrogate" },
                { "{\"jsonrpc\":\"2.0\",\"id\":\"\xf4\x90\x80\x80\",\"method\":\"version\"}", "beyond U+10FFFF" },
        };
        char msg[256];
        const char *m = NULL;
        for (size_t i = 0; i < sizeof refused / sizeof *refused; i++)
                is_int(parse(refused[i].text, &m, msg, sizeof msg, NULL), PROTO_ERR_PARSE, "refused: %s (%s)", refused[i].why, msg);
        is_int(parse("{\"jsonrpc\":\"2.0\",\"id\":-0,\"method\":\"st\\u00e9\",\"params\":{\"a\":[1.5e3,true,null]}}",
                     &m, msg, sizeof msg, NULL), 0, "every JSON form passes the strict check");
        ok(rpc_json_strict_error("[1,[2,[3]]]", 11) == NULL, "nested arrays are JSON");
        ok(rpc_json_strict_error("1 2", 3) != NULL, "two values are not one");

        /* "é" is two bytes: a cut after its first byte steps back before it. */
        is_int(rpc_quote_len("ab\xc3\xa9" "cd", 3), 2, "a quote never ends inside a UTF-8 character");
        is_int(rpc_quote_len("ab\xc3\xa9" "cd", 4), 4, "... and keeps a whole one");
        is_int(rpc_quote_len("abc", 64), 3, "a short string is quoted whole");
}

int main(void)
{
        envelope();
        params();
        strict_json();
        return tap_done();
}
