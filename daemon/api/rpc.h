/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Strict parameter checks of the control protocol, separable for unit tests. */
#ifndef HUGEVMD_RPC_H
#define HUGEVMD_RPC_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto.h"

struct daemon;
struct client;

/* One request line from a peer of role (server.c sorts peers by their
 * credentials) -> its reply (NULL: none now, e.g. a parked wait or a notification). */
json_object *rpc_handle_line(struct daemon *d, struct client *c, enum proto_role role, const char *line, size_t len);

/* Parse one request line. On success returns 0 with *ret_req (an object with
 * a valid envelope) and *ret_id (borrowed from it, NULL for a notification).
 * On failure returns the proto error code and a message; *ret_req may hold
 * the parsed object to read the id from (put it). */
int rpc_parse_envelope(const char *line, size_t len, json_object **ret_req, json_object **ret_id,
                       const char **ret_method, json_object **ret_params, char *msg, size_t msg_len);

/* NULL if text is one JSON value (RFC 8259, no string holding a NUL), else
 * what is wrong with it. */
const char *rpc_json_strict_error(const char *text, size_t len);
/* How many bytes of s to quote in a message, at most max, without cutting a
 * UTF-8 character in two (use as "%.*s"). */
int rpc_quote_len(const char *s, size_t max);

/* Check that params has only the allowed keys (NULL-terminated). 0 or the
 * offending key in msg and PROTO_ERR_INVALID_PARAMS. */
int rpc_check_keys(json_object *params, const char *const *allowed, char *msg, size_t msg_len);

/* An optional non-negative integer param no larger than max: 0 absent (ret untouched,
 * *present false), 1 present and valid, or PROTO_ERR_INVALID_PARAMS with msg. */
int rpc_get_uint(json_object *params, const char *key, uint64_t max, uint64_t *ret, bool *present,
                 char *msg, size_t msg_len);
int rpc_get_bool(json_object *params, const char *key, bool *ret, bool *present, char *msg, size_t msg_len);

#endif
