/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"
#include "proto.h"

#include <stdlib.h>
#include <string.h>

const char *proto_error_name(int code)
{
        switch (code) {
        case PROTO_ERR_PARSE:            return "parse-error";
        case PROTO_ERR_INVALID_REQUEST:  return "invalid-request";
        case PROTO_ERR_METHOD_NOT_FOUND: return "method-not-found";
        case PROTO_ERR_INVALID_PARAMS:   return "invalid-params";
        case PROTO_ERR_INTERNAL:         return "internal-error";
        case PROTO_ERR_PERMISSION:       return "permission-denied";
        case PROTO_ERR_KERNEL:           return "kernel-refused";
        case PROTO_ERR_UNSUPPORTED:      return "unsupported";
        case PROTO_ERR_SHORTFALL:        return "shortfall";
        case PROTO_ERR_BUSY:             return "busy";
        case PROTO_ERR_LIMIT:            return "limit-exceeded";
        case PROTO_ERR_TIMEOUT:          return "timeout";
        case PROTO_ERR_CONFIG:           return "config-invalid";
        case PROTO_ERR_STATE:            return "state-not-saved";
        }
        return "unknown";
}

static json_object *envelope(void)
{
        json_object *o = json_object_new_object();
        if (o)
                json_object_object_add(o, PROTO_F_JSONRPC, json_object_new_string("2.0"));
        return o;
}

json_object *proto_request_new(const char *method, json_object *params, int64_t id)
{
        json_object *o = envelope();
        if (!o) {
                json_object_put(params);
                return NULL;
        }
        json_object_object_add(o, PROTO_F_METHOD, json_object_new_string(method));
        json_object_object_add(o, PROTO_F_PARAMS, params ? params : json_object_new_object());
        json_object_object_add(o, PROTO_F_ID, json_object_new_int64(id));
        return o;
}

json_object *proto_result_new(json_object *id, json_object *result)
{
        json_object *o = envelope();
        if (!o) {
                json_object_put(result);
                return NULL;
        }
        json_object_object_add(o, PROTO_F_RESULT, result);
        json_object_object_add(o, PROTO_F_ID, id ? json_object_get(id) : NULL);
        return o;
}

json_object *proto_error_new(json_object *id, int code, const char *message, json_object *data)
{
        json_object *o = envelope(), *err = json_object_new_object();
        if (!o || !err) {
                json_object_put(o);
                json_object_put(err);
                json_object_put(data);
                return NULL;
        }
        json_object_object_add(err, PROTO_F_CODE, json_object_new_int(code));
        json_object_object_add(err, PROTO_F_MESSAGE, json_object_new_string(message));
        if (data)
                json_object_object_add(err, PROTO_F_DATA, data);
        json_object_object_add(o, PROTO_F_ERROR, err);
        json_object_object_add(o, PROTO_F_ID, id ? json_object_get(id) : NULL);
        return o;
}

json_object *proto_notification_new(const char *method, json_object *params)
{
        json_object *o = envelope();
        if (!o) {
                json_object_put(params);
                return NULL;
        }
        json_object_object_add(o, PROTO_F_METHOD, json_object_new_string(method));
        json_object_object_add(o, PROTO_F_PARAMS, params ? params : json_object_new_object());
        return o;
}

char *proto_serialize_line(json_object *obj, size_t *ret_len)
{
        size_t len;
        const char *s = json_object_to_json_string_length(obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
        if (!s)
                return NULL;
        char *line = malloc(len + 2);
        if (!line)
                return NULL;
        memcpy(line, s, len);
        line[len] = '\n';
        line[len + 1] = '\0';
        if (ret_len)
                *ret_len = len + 1;
        return line;
}
