/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"
#include "proto.h"

#include <stdlib.h>
#include <string.h>

/* Codes outside JSON-RPC's reserved range could collide with a -errno. */
#define PROTO_ERR_CHECK_(id, code, name) \
        _Static_assert((code) >= PROTO_CODE_MIN && (code) <= PROTO_CODE_MAX, \
                       "PROTO_ERR_" #id " is outside JSON-RPC's reserved range");
PROTO_ERRORS(PROTO_ERR_CHECK_)
#undef PROTO_ERR_CHECK_

#define PROTO_ERR_INFO_(id, code, name) { code, name },
const struct proto_error_info proto_errors[PROTO_ERROR_COUNT] = {
        PROTO_ERRORS(PROTO_ERR_INFO_)
};
#undef PROTO_ERR_INFO_

const char *proto_error_name(int code)
{
        /* A switch: two equal codes in the list fail to compile. */
        switch (code) {
#define PROTO_ERR_CASE_(id, code, name) case code: return name;
        PROTO_ERRORS(PROTO_ERR_CASE_)
#undef PROTO_ERR_CASE_
        }
        return "unknown";
}

#define PROTO_M_DEFINE_(id, c_name, name, role, params) const char PROTO_M_##id[] = name;
PROTO_METHODS(PROTO_M_DEFINE_)
#undef PROTO_M_DEFINE_

#define PROTO_PARAMS_(...) __VA_ARGS__
#define PROTO_METHOD_INFO_(id, c_name, name, role, params) \
        [PROTO_METHOD_##id] = { PROTO_M_##id, role, (const char *const []){ PROTO_PARAMS_ params NULL } },
const struct proto_method_info proto_methods[PROTO_METHOD_COUNT] = {
        PROTO_METHODS(PROTO_METHOD_INFO_)
};
#undef PROTO_METHOD_INFO_
#undef PROTO_PARAMS_

int proto_method_find(const char *name)
{
        for (size_t i = 0; name && i < PROTO_METHOD_COUNT; i++)
                if (strcmp(proto_methods[i].name, name) == 0)
                        return (int)i;
        return -1;
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

json_object *proto_get(json_object *o, const char *key)
{
        json_object *v = NULL;
        if (o && json_object_is_type(o, json_type_object))
                json_object_object_get_ex(o, key, &v);
        return v;
}

const char *proto_get_str(json_object *o, const char *key, const char *dflt)
{
        json_object *v = proto_get(o, key);
        return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : dflt;
}

bool proto_get_bool(json_object *o, const char *key, bool dflt)
{
        json_object *v = proto_get(o, key);
        return v && json_object_is_type(v, json_type_boolean) ? json_object_get_boolean(v) : dflt;
}

bool proto_has_int(json_object *o, const char *key)
{
        json_object *v = proto_get(o, key);
        return v && json_object_is_type(v, json_type_int);
}

int64_t proto_get_int(json_object *o, const char *key, int64_t dflt)
{
        return proto_has_int(o, key) ? json_object_get_int64(proto_get(o, key)) : dflt;
}

size_t proto_array_len(json_object *a)
{
        return a && json_object_is_type(a, json_type_array) ? json_object_array_length(a) : 0;
}
