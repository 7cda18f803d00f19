/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The request envelope and strict parameter checks (no daemon state: unit-tested). */
#include "config.h"
#include "rpc.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "proto.h"

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
                        snprintf(msg, msg_len, "unknown member \"%s\" in the request", key);
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
                        snprintf(msg, msg_len, "%s: unknown parameter", key);
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

