/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The request envelope and strict parameter checks (no daemon state: unit-tested). */
#include "config.h"
#include "rpc.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "proto.h"

/* ---- strict JSON (RFC 8259) --------------------------------------------------
 * json-c accepts more than JSON (single quotes, NaN, Infinity, ...) even with
 * JSON_TOKENER_STRICT. Requests are checked against the grammar first, by this
 * small recursive-descent scanner: a client gets exactly JSON, and a string
 * with a NUL (\u0000) in it is refused as well, since C sees only its head. */

struct scan {
        const char *p, *end;
        unsigned depth;
        const char *error;
};

static void skip_ws(struct scan *s)
{
        while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
                s->p++;
}

static bool scan_fail(struct scan *s, const char *error)
{
        if (!s->error)
                s->error = error;
        return false;
}

static bool scan_literal(struct scan *s, const char *word)
{
        size_t n = strlen(word);
        if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n) != 0)
                return scan_fail(s, "not JSON (strings in double quotes; true, false, null; no comments)");
        s->p += n;
        return true;
}

static bool is_digit(char c)
{
        return c >= '0' && c <= '9';
}

static bool scan_number(struct scan *s)
{
        if (s->p < s->end && *s->p == '-')
                s->p++;
        if (s->p < s->end && *s->p == '0')
                s->p++;
        else if (s->p < s->end && is_digit(*s->p))
                while (s->p < s->end && is_digit(*s->p))
                        s->p++;
        else
                return scan_fail(s, "not a JSON number");
        if (s->p < s->end && is_digit(*s->p))
                return scan_fail(s, "a JSON number has no leading zeros");
        if (s->p < s->end && *s->p == '.') {
                s->p++;
                if (s->p == s->end || !is_digit(*s->p))
                        return scan_fail(s, "not a JSON number");
                while (s->p < s->end && is_digit(*s->p))
                        s->p++;
        }
        if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
                s->p++;
                if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
                        s->p++;
                if (s->p == s->end || !is_digit(*s->p))
                        return scan_fail(s, "not a JSON number");
                while (s->p < s->end && is_digit(*s->p))
                        s->p++;
        }
        return true;
}

/* One UTF-8 character starting at s->p (its lead byte c already taken):
 * RFC 3629, so no overlong forms, no surrogates, nothing above U+10FFFF. */
static bool scan_utf8(struct scan *s, unsigned char c)
{
        unsigned n;
        uint32_t cp, min;
        if (c >= 0xC2 && c <= 0xDF)
                n = 1, cp = c & 0x1F, min = 0x80;
        else if (c >= 0xE0 && c <= 0xEF)
                n = 2, cp = c & 0x0F, min = 0x800;
        else if (c >= 0xF0 && c <= 0xF4)
                n = 3, cp = c & 0x07, min = 0x10000;
        else
                return scan_fail(s, "invalid UTF-8 inside a JSON string");
        for (unsigned i = 0; i < n; i++, s->p++) {
                if (s->p == s->end || ((unsigned char)*s->p & 0xC0) != 0x80)
                        return scan_fail(s, "invalid UTF-8 inside a JSON string");
                cp = cp << 6 | ((unsigned char)*s->p & 0x3F);
        }
        if (cp < min || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
                return scan_fail(s, "invalid UTF-8 inside a JSON string (overlong, a surrogate or beyond U+10FFFF)");
        return true;
}

static bool scan_string(struct scan *s)
{
        s->p++;   /* the opening quote */
        while (s->p < s->end) {
                unsigned char c = (unsigned char)*s->p++;
                if (c == '"')
                        return true;
                if (c < 0x20)
                        return scan_fail(s, "a control character inside a JSON string");
                if (c >= 0x80) {
                        if (!scan_utf8(s, c))
                                return false;
                        continue;
                }
                if (c != '\\')
                        continue;
                if (s->p == s->end)
                        break;
                c = (unsigned char)*s->p++;
                if (c == 'u') {
                        if (s->end - s->p < 4 || !isxdigit((unsigned char)s->p[0]) || !isxdigit((unsigned char)s->p[1]) ||
                            !isxdigit((unsigned char)s->p[2]) || !isxdigit((unsigned char)s->p[3]))
                                return scan_fail(s, "a bad \\u escape in a JSON string");
                        if (memcmp(s->p, "0000", 4) == 0)
                                return scan_fail(s, "a NUL (\\u0000) inside a string");
                        s->p += 4;
                } else if (!strchr("\"\\/bfnrt", c))
                        return scan_fail(s, "a bad escape in a JSON string");
        }
        return scan_fail(s, "an unterminated JSON string");
}

static bool scan_value(struct scan *s);

/* Object or array: open and close are its brackets; objects have "key": value members. */
static bool scan_container(struct scan *s, char close, bool object)
{
        if (++s->depth > PROTO_MAX_DEPTH)
                return scan_fail(s, "JSON nested too deeply");
        s->p++;
        skip_ws(s);
        if (s->p < s->end && *s->p == close) {
                s->p++;
                s->depth--;
                return true;
        }
        for (;;) {
                skip_ws(s);
                if (object) {
                        if (s->p == s->end || *s->p != '"')
                                return scan_fail(s, "an object key must be a string in double quotes");
                        if (!scan_string(s))
                                return false;
                        skip_ws(s);
                        if (s->p == s->end || *s->p++ != ':')
                                return scan_fail(s, "':' expected after an object key");
                }
                if (!scan_value(s))
                        return false;
                skip_ws(s);
                if (s->p < s->end && *s->p == ',') {
                        s->p++;
                        continue;
                }
                if (s->p < s->end && *s->p == close) {
                        s->p++;
                        s->depth--;
                        return true;
                }
                return scan_fail(s, object ? "',' or '}' expected (no trailing commas)" : "',' or ']' expected (no trailing commas)");
        }
}

static bool scan_value(struct scan *s)
{
        skip_ws(s);
        if (s->p == s->end)
                return scan_fail(s, "a JSON value expected");
        switch (*s->p) {
        case '{': return scan_container(s, '}', true);
        case '[': return scan_container(s, ']', false);
        case '"': return scan_string(s);
        case 't': return scan_literal(s, "true");
        case 'f': return scan_literal(s, "false");
        case 'n': return scan_literal(s, "null");
        default:
                if (*s->p == '-' || is_digit(*s->p))
                        return scan_number(s);
                return scan_literal(s, "\x01");   /* fails with the generic message */
        }
}

const char *rpc_json_strict_error(const char *text, size_t len)
{
        struct scan s = { .p = text, .end = text + len };
        if (scan_value(&s)) {
                skip_ws(&s);
                if (s.p != s.end)
                        return "trailing data after the JSON value";
                return NULL;
        }
        return s.error;
}

int rpc_quote_len(const char *s, size_t max)
{
        size_t n = strnlen(s, max);
        if (n == max && s[n] != '\0')
                /* Step back over continuation bytes to the start of the cut character. */
                while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
                        n--;
        return (int)n;
}

int rpc_parse_envelope(const char *line, size_t len, json_object **ret_req, json_object **ret_id,
                       const char **ret_method, json_object **ret_params, char *msg, size_t msg_len)
{
        struct json_tokener *tok = json_tokener_new_ex(PROTO_MAX_DEPTH);
        json_object *req, *v;
        *ret_req = NULL;
        *ret_id = NULL;
        if (!tok) {
                snprintf(msg, msg_len, "out of memory");
                return PROTO_ERR_INTERNAL;
        }
        const char *strict = rpc_json_strict_error(line, len);
        if (strict) {
                json_tokener_free(tok);
                snprintf(msg, msg_len, "parse error: %s", strict);
                return PROTO_ERR_PARSE;
        }
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
        req = json_tokener_parse_ex(tok, line, (int)len);
        enum json_tokener_error jerr = json_tokener_get_error(tok);
        size_t used = json_tokener_get_parse_end(tok);
        if (!req && jerr == json_tokener_continue) {
                /* A bare number may still grow: the end of the line ends it. */
                req = json_tokener_parse_ex(tok, "", 1);
                jerr = json_tokener_get_error(tok);
                used = len;
        }
        json_tokener_free(tok);
        if (!req || jerr != json_tokener_success) {
                json_object_put(req);
                snprintf(msg, msg_len, "parse error: %s", req ? "incomplete JSON" : json_tokener_error_desc(jerr));
                return PROTO_ERR_PARSE;
        }
        for (; used < len; used++)
                if (line[used] != ' ' && line[used] != '\t' && line[used] != '\r') {
                        json_object_put(req);
                        snprintf(msg, msg_len, "parse error: trailing data after the JSON value");
                        return PROTO_ERR_PARSE;
                }
        if (json_object_is_type(req, json_type_array)) {
                json_object_put(req);
                snprintf(msg, msg_len, "batch requests are not supported: send one object per line");
                return PROTO_ERR_INVALID_REQUEST;
        }
        if (!json_object_is_type(req, json_type_object)) {
                json_object_put(req);
                snprintf(msg, msg_len, "a request must be a JSON object");
                return PROTO_ERR_INVALID_REQUEST;
        }
        *ret_req = req;
        /* The id first, so later errors can carry it. */
        if (json_object_object_get_ex(req, PROTO_F_ID, &v)) {
                if (v && !json_object_is_type(v, json_type_string) && !json_object_is_type(v, json_type_int)) {
                        snprintf(msg, msg_len, "\"%s\" must be a string, an integer or null", PROTO_F_ID);
                        return PROTO_ERR_INVALID_REQUEST;
                }
                *ret_id = v ? v : NULL;
                if (!v) {
                        /* "id": null is a request whose reply carries null. */
                        *ret_id = NULL;
                }
        }
        if (!json_object_object_get_ex(req, PROTO_F_JSONRPC, &v) || !json_object_is_type(v, json_type_string) ||
            strcmp(json_object_get_string(v), "2.0") != 0) {
                snprintf(msg, msg_len, "\"%s\" must be \"2.0\"", PROTO_F_JSONRPC);
                return PROTO_ERR_INVALID_REQUEST;
        }
        if (!json_object_object_get_ex(req, PROTO_F_METHOD, &v) || !json_object_is_type(v, json_type_string)) {
                snprintf(msg, msg_len, "\"%s\" must be a string", PROTO_F_METHOD);
                return PROTO_ERR_INVALID_REQUEST;
        }
        *ret_method = json_object_get_string(v);
        *ret_params = NULL;
        if (json_object_object_get_ex(req, PROTO_F_PARAMS, &v) && v) {
                if (json_object_is_type(v, json_type_array)) {
                        snprintf(msg, msg_len, "\"%s\" must be an object (named parameters)", PROTO_F_PARAMS);
                        return PROTO_ERR_INVALID_PARAMS;
                }
                if (!json_object_is_type(v, json_type_object)) {
                        snprintf(msg, msg_len, "\"%s\" must be an object", PROTO_F_PARAMS);
                        return PROTO_ERR_INVALID_REQUEST;
                }
                *ret_params = v;
        }
        json_object_object_foreach(req, key, val) {
                (void)val;
                if (strcmp(key, PROTO_F_JSONRPC) && strcmp(key, PROTO_F_ID) && strcmp(key, PROTO_F_METHOD) &&
                    strcmp(key, PROTO_F_PARAMS)) {
                        snprintf(msg, msg_len, "unknown member \"%.*s\" in the request", rpc_quote_len(key, 64), key);
                        return PROTO_ERR_INVALID_REQUEST;
                }
        }
        return 0;
}

int rpc_check_keys(json_object *params, const char *const *allowed, char *msg, size_t msg_len)
{
        if (!params)
                return 0;
        json_object_object_foreach(params, key, val) {
                (void)val;
                bool ok = false;
                for (const char *const *a = allowed; *a; a++)
                        ok = ok || strcmp(*a, key) == 0;
                if (!ok) {
                        snprintf(msg, msg_len, "%.*s: unknown parameter", rpc_quote_len(key, 64), key);
                        return PROTO_ERR_INVALID_PARAMS;
                }
        }
        return 0;
}

int rpc_get_uint(json_object *params, const char *key, uint64_t max, uint64_t *ret, bool *present,
                 char *msg, size_t msg_len)
{
        json_object *v;
        *present = false;
        if (!params || !json_object_object_get_ex(params, key, &v))
                return 0;
        if (!v || !json_object_is_type(v, json_type_int)) {
                snprintf(msg, msg_len, "%s: must be a non-negative integer", key);
                return PROTO_ERR_INVALID_PARAMS;
        }
        /* json-c clamps what does not fit 64 bits; both ends count as out of range. */
        errno = 0;
        int64_t s = json_object_get_int64(v);
        if (s < 0) {
                snprintf(msg, msg_len, "%s: must not be negative", key);
                return PROTO_ERR_INVALID_PARAMS;
        }
        uint64_t u = json_object_get_uint64(v);
        if (u > max || u == UINT64_MAX || s == INT64_MAX) {
                if (u == UINT64_MAX || s == INT64_MAX)
                        snprintf(msg, msg_len, "%s: too large (at most %" PRIu64 ")", key, max);
                else
                        snprintf(msg, msg_len, "%s: %" PRIu64 " is too large (at most %" PRIu64 ")", key, u, max);
                return PROTO_ERR_INVALID_PARAMS;
        }
        *ret = u;
        *present = true;
        return 1;
}

int rpc_get_bool(json_object *params, const char *key, bool *ret, bool *present, char *msg, size_t msg_len)
{
        json_object *v;
        *present = false;
        if (!params || !json_object_object_get_ex(params, key, &v))
                return 0;
        if (!v || !json_object_is_type(v, json_type_boolean)) {
                snprintf(msg, msg_len, "%s: must be true or false", key);
                return PROTO_ERR_INVALID_PARAMS;
        }
        *ret = json_object_get_boolean(v);
        *present = true;
        return 1;
}

