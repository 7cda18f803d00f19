/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The hugevm control protocol, in one place: method names, field names, error
 * codes and limits. hugevmd and hugevmctl both spell every name from here.
 *
 * Transport: JSON-RPC 2.0 over a Unix stream socket, one compact JSON object per
 * line ('\n'). Every request with an "id" gets exactly one reply; requests
 * without an id are notifications and get none (except for errors that make the
 * id unknowable, answered with "id": null as JSON-RPC says). docs/protocol.md
 * documents the schema below with examples.
 */
#ifndef HUGEVM_PROTO_H
#define HUGEVM_PROTO_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Where hugevmd listens unless told otherwise (Socket=, --socket, HUGEVM_SOCKET). */
#define PROTO_DEFAULT_SOCKET  "/run/hugevmd/hugevmd.sock"

/* ---- Limits ------------------------------------------------------------- */
#define PROTO_MAX_LINE        65536u   /* bytes per request line, '\n' included */
#define PROTO_MAX_CLIENTS     128u     /* concurrent connections */
#define PROTO_ADMIN_RESERVED_CLIENTS 16u /* ... of which only root and AdminGroup members may take */
#define PROTO_MAX_CLIENTS_PER_UID    16u /* ... any other user may hold at once */
#define PROTO_IDLE_TIMEOUT_MS 300000u  /* closed this long after its last whole request (not subscribers, waits) */
#define PROTO_MAX_OUTBUF      (4u << 20) /* unsent reply bytes before a client is cut off */
#define PROTO_MAX_DEPTH       16       /* JSON nesting accepted */

/* ---- Error codes --------------------------------------------------------- */
/*
 * X(ID, code, "name"): PROTO_ERR_<ID> = code; "name" is proto_error_name(code),
 * the metrics' result label. JSON-RPC's own codes first, then hugevm's from
 * the range JSON-RPC leaves to servers (-32099..-32000). Every code stays in
 * JSON-RPC's reserved -32768..-32000 (checked in proto.c), so a code can never
 * be mistaken for a negative errno (-4095..-1) where both travel in an int.
 * docs/protocol.md's error table lists exactly these (tests/unit/test-protocol-doc).
 */
#define PROTO_ERRORS(X) \
        X(PARSE,            -32700, "parse-error")       /* not JSON */ \
        X(INVALID_REQUEST,  -32600, "invalid-request")   /* JSON, but not a JSON-RPC 2.0 request */ \
        X(METHOD_NOT_FOUND, -32601, "method-not-found") \
        X(INVALID_PARAMS,   -32602, "invalid-params") \
        X(INTERNAL,         -32603, "internal-error") \
        X(PERMISSION,       -32001, "permission-denied") /* peer's uid/gid may not call this */ \
        X(KERNEL,           -32002, "kernel-refused")    /* kernel refused; data.errno, data.path */ \
        X(UNSUPPORTED,      -32003, "unsupported")       /* no such hstate/node, no HVO on this kernel */ \
        X(SHORTFALL,        -32004, "shortfall")         /* wait: pools degraded (data.pools) */ \
        X(BUSY,             -32005, "busy")              /* too many clients, or waits on one connection */ \
        X(LIMIT,            -32006, "limit-exceeded")    /* line too long, idle timeout, unread output */ \
        X(TIMEOUT,          -32007, "timeout")           /* wait timed out (data.pools) */ \
        X(CONFIG,           -32008, "config-invalid")    /* reload: config invalid, old one kept (data.errors) */ \
        X(STATE,            -32009, "state-not-saved")   /* could not persist the state file */

#define PROTO_ERR_ENUM_(id, code, name) PROTO_ERR_##id = code,
enum proto_error {
        PROTO_ERRORS(PROTO_ERR_ENUM_)
};
#undef PROTO_ERR_ENUM_

/* The range every code lies in (JSON-RPC's reserved one). */
#define PROTO_CODE_MIN (-32768)
#define PROTO_CODE_MAX (-32000)

struct proto_error_info {
        int code;
        const char *name;
};
/* The list as data, in its order. */
#define PROTO_COUNT_(...) + 1
#define PROTO_ERROR_COUNT (0 PROTO_ERRORS(PROTO_COUNT_))
extern const struct proto_error_info proto_errors[PROTO_ERROR_COUNT];
/* Stable symbolic name of a code ("permission-denied"), or "unknown". */
const char *proto_error_name(int code);

/* ---- Reading replies and STATUS objects ------------------------------------
 * Tolerant getters, one set for every reader (hugevmctl, the metrics): a
 * missing member, a member of another type or an o that is not an object all
 * give the default. */
json_object *proto_get(json_object *o, const char *key);
const char *proto_get_str(json_object *o, const char *key, const char *dflt);
bool proto_get_bool(json_object *o, const char *key, bool dflt);
bool proto_has_int(json_object *o, const char *key);
int64_t proto_get_int(json_object *o, const char *key, int64_t dflt);
/* The length of an array, 0 for anything else. */
size_t proto_array_len(json_object *a);

/* ---- Methods ------------------------------------------------------------- */
/* Who may call a method, weakest first: a peer may call what needs its role or less. */
enum proto_role {
        PROTO_ROLE_NONE,        /* anyone who can connect */
        PROTO_ROLE_READ,        /* members of SocketGroup= */
        PROTO_ROLE_ADMIN,       /* root, the daemon's own uid, members of AdminGroup= */
};

/*
 * X(ID, c_name, "name", role, (params)): the method "name" is PROTO_M_<ID>,
 * index PROTO_METHOD_<ID>; c_name names its handler (m_<c_name> in the
 * daemon); params are the fields it accepts, each followed by a comma.
 * docs/protocol.md's method table lists exactly these (tests/unit/test-protocol-doc).
 */
#define PROTO_METHODS(X) \
        /* {} -> STATUS */ \
        X(STATUS,      status,      "status",      PROTO_ROLE_READ,  ()) \
        /* {size} -> POOL */ \
        X(POOL_GET,    pool_get,    "pool.get",    PROTO_ROLE_READ,  (PROTO_F_SIZE,)) \
        /* {size, pages|bytes|nodes, [node], [persist=true], [overcommit], [dry_run]} -> POOL */ \
        X(POOL_SET,    pool_set,    "pool.set",    PROTO_ROLE_ADMIN, (PROTO_F_SIZE, PROTO_F_PAGES, PROTO_F_BYTES, \
                                                                      PROTO_F_NODES, PROTO_F_NODE, PROTO_F_PERSIST, \
                                                                      PROTO_F_OVERCOMMIT, PROTO_F_DRY_RUN,)) \
        /* {[size, [node]]} -> POOL with size, else STATUS: back to the config */ \
        X(POOL_REVERT, pool_revert, "pool.revert", PROTO_ROLE_ADMIN, (PROTO_F_SIZE, PROTO_F_NODE,)) \
        /* {} -> VMEMMAP */ \
        X(VMEMMAP_GET, vmemmap_get, "vmemmap.get", PROTO_ROLE_READ,  ()) \
        /* {[size, [node]], [wait], [timeout_ms]} -> STATUS, or with size POOL */ \
        X(VMEMMAP_OPTIMIZE, vmemmap_optimize, "vmemmap.optimize", PROTO_ROLE_ADMIN, (PROTO_F_SIZE, PROTO_F_NODE, \
                                                                      PROTO_F_WAIT, PROTO_F_TIMEOUT_MS,)) \
        /* {enabled} -> VMEMMAP */ \
        X(VMEMMAP_SET, vmemmap_set, "vmemmap.set", PROTO_ROLE_ADMIN, (PROTO_F_ENABLED,)) \
        /* {[timeout_ms], [size, [node]]} -> STATUS when all converged; with size, */ \
        /* the POOL when it (its node) converged */ \
        X(WAIT,        wait,        "wait",        PROTO_ROLE_READ,  (PROTO_F_TIMEOUT_MS, PROTO_F_SIZE, PROTO_F_NODE, \
                                                                      PROTO_F_FAIL_FAST,)) \
        /* {} -> {subscribed:true}, then notifications */ \
        X(SUBSCRIBE,   subscribe,   "subscribe",   PROTO_ROLE_READ,  ()) \
        /* {} -> {reloaded:true} */ \
        X(RELOAD,      reload,      "reload",      PROTO_ROLE_ADMIN, ()) \
        /* {} -> {text} */ \
        X(METRICS,     metrics,     "metrics",     PROTO_ROLE_READ,  ()) \
        /* {} -> {version, protocol} */ \
        X(VERSION,     version,     "version",     PROTO_ROLE_NONE,  ())

/* PROTO_METHOD_STATUS, ...: a method's index in proto_methods[]. */
#define PROTO_METHOD_ENUM_(id, c_name, name, role, params) PROTO_METHOD_##id,
enum proto_method {
        PROTO_METHODS(PROTO_METHOD_ENUM_)
};
#undef PROTO_METHOD_ENUM_
#define PROTO_METHOD_COUNT (0 PROTO_METHODS(PROTO_COUNT_))

/* PROTO_M_STATUS, ...: the names, spelled once (in the list; defined in proto.c). */
#define PROTO_M_DECLARE_(id, c_name, name, role, params) extern const char PROTO_M_##id[];
PROTO_METHODS(PROTO_M_DECLARE_)
#undef PROTO_M_DECLARE_

struct proto_method_info {
        const char *name;
        enum proto_role role;
        const char *const *params;      /* NULL-terminated */
};
/* Indexed by enum proto_method. */
extern const struct proto_method_info proto_methods[PROTO_METHOD_COUNT];
/* The index of a method name, or -1. */
int proto_method_find(const char *name);

/* Notifications sent to subscribers (no id). */
#define PROTO_N_PROGRESS      "progress"      /* {size, node, from, current, target} */
#define PROTO_N_POOL_CHANGED  "pool.changed"  /* {size, node, state, reason, external} */
#define PROTO_N_VMEMMAP       "vmemmap.changed" /* {enabled} */

#define PROTO_VERSION 1

/* ---- Field names --------------------------------------------------------- */
#define PROTO_F_JSONRPC     "jsonrpc"
#define PROTO_F_ID          "id"
#define PROTO_F_METHOD      "method"
#define PROTO_F_PARAMS      "params"
#define PROTO_F_RESULT      "result"
#define PROTO_F_ERROR       "error"
#define PROTO_F_CODE        "code"
#define PROTO_F_MESSAGE     "message"
#define PROTO_F_DATA        "data"

/* params */
#define PROTO_F_SIZE        "size"        /* string as operators write it ("2M", "2048kB") */
#define PROTO_F_PAGES       "pages"       /* integer >= 0 */
#define PROTO_F_BYTES       "bytes"       /* integer >= 0 or string ("4G") */
#define PROTO_F_NODE        "node"        /* integer node id (pool.set: with pages or bytes; wait: with size) */
#define PROTO_F_PERSIST     "persist"     /* bool, default true */
#define PROTO_F_DRY_RUN     "dry_run"     /* bool */
#define PROTO_F_ENABLED     "enabled"     /* bool */
#define PROTO_F_TIMEOUT_MS  "timeout_ms"  /* integer, wait */
#define PROTO_F_FAIL_FAST   "fail_fast"   /* bool, wait: a degraded pool ends it */
#define PROTO_F_WAIT        "wait"        /* bool, vmemmap.optimize: answer when done */

/* STATUS: {version, hvo: VMEMMAP, pools: [POOL...], measured: MEASURED, shm: SHM, converged} */
#define PROTO_F_VERSION     "version"
#define PROTO_F_PROTOCOL    "protocol"
#define PROTO_F_HVO         "hvo"
#define PROTO_F_POOLS       "pools"
#define PROTO_F_MEASURED    "measured"
#define PROTO_F_CONVERGED   "converged"   /* bool: every pool converged */

/* POOL: {size ("2048kB"), size_bytes, pages, free, reserved, surplus, overcommit,
 *        target (null if none), source, config_target, absent_nodes, state, reason,
 *        optimized_pages, saved_bytes,
 *        saved_exact, model_optimized_pages, model_saved_bytes, nodes: [NODE...],
 *        mounts: [MOUNT...]}
 * model_*: the ledger's model alone; optimized_pages/saved_bytes: measured by
 * the kernel's memmap counters where they pin this size down (saved_exact),
 * else the model. */
#define PROTO_F_SIZE_BYTES      "size_bytes"
#define PROTO_F_FREE            "free"
#define PROTO_F_RESERVED        "reserved"
#define PROTO_F_SURPLUS         "surplus"
#define PROTO_F_OVERCOMMIT      "overcommit"
#define PROTO_F_TARGET          "target"
#define PROTO_F_STATE           "state"       /* PROTO_STATE_* */
#define PROTO_F_REASON          "reason"      /* human text, "" when converged */
#define PROTO_F_OPTIMIZED_PAGES "optimized_pages"
#define PROTO_F_SAVED_BYTES     "saved_bytes"
#define PROTO_F_SAVED_EXACT     "saved_exact" /* bool: true = measured, false = the model's estimate */
#define PROTO_F_MODEL_OPTIMIZED "model_optimized_pages"
#define PROTO_F_NODES           "nodes"
#define PROTO_F_RETRIES         "retries"
#define PROTO_F_SOURCE          "source"        /* PROTO_SOURCE_*: where the target comes from */
#define PROTO_F_CONFIG_TARGET   "config_target" /* the config's (declared) target, null if none */
#define PROTO_F_ABSENT_NODES    "absent_nodes"  /* [node...]: config targets for nodes not on this machine */
#define PROTO_F_REPLACED        "replaced"      /* pool.set: the target kind it replaced, "" if none */
#define PROTO_F_UNOPTIMIZED     "unoptimized_pages"   /* pages HVO did not optimize (model), free and in use */
#define PROTO_F_UNOPT_IN_USE    "unoptimized_in_use"  /* ... of them held by applications */
#define PROTO_F_REOPTIMIZED     "reoptimized_pages"   /* pages re-optimized since the daemon started */
#define PROTO_F_REOPT_PENDING   "reoptimizing"        /* bool: vmemmap.optimize asked and not finished */
#define PROTO_F_REOPT_REASON    "reoptimize_reason"   /* why re-optimization stopped or cannot go on, "" */
#define PROTO_F_DEMOTED         "demoted_pages"       /* pages the pool gained by demotion (Demote=yes) since the daemon started */
/* POOL and NODE: forecast: {now, after_compaction, expect, short, why} or null (at or above
 * the target, unmanaged, or the kernel's free lists unreadable); docs/protocol.md "Forecast". */
#define PROTO_F_FORECAST        "forecast"
#define PROTO_F_FC_NOW          "now"                 /* pages the free lists give now, without compaction */
#define PROTO_F_FC_AFTER        "after_compaction"    /* pages free + movable memory can give after compaction */
#define PROTO_F_FC_EXPECT       "expect"              /* min(target, pages + after_compaction) */
#define PROTO_F_FC_SHORT        "short"               /* target - expect */
#define PROTO_F_FC_WHY          "why"                 /* "424 MiB unmovable", "424 MiB not free", "" */

/* NODE: {node, pages, free, surplus, target (null if none), config_target, state, reason, retries,
 *        optimized_pages, saved_bytes, saved_exact, model_optimized_pages, model_saved_bytes} */

/* MOUNT: {path, options (as the kernel's mount table shows them; null if not mounted),
 *         configured (a Mount= of the config), reason ("" when fine)} */
#define PROTO_F_MOUNTS          "mounts"
#define PROTO_F_OPTIONS         "options"
#define PROTO_F_CONFIGURED      "configured"

/* SHM: {group (vm.hugetlb_shm_group), shmmax (bytes), shmall (pages), reason}; numbers null if unreadable */
#define PROTO_F_SHM             "shm"
#define PROTO_F_GROUP           "group"
#define PROTO_F_SHMMAX          "shmmax"
#define PROTO_F_SHMALL          "shmall"

/* VMEMMAP: {supported, enabled, boot_param ("on"|"off"|null), kernel, reserve_pages,
 *           page_size, struct_page_size, sizes: [{size, eligible, vmemmap_pages,
 *           saved_bytes_per_hugepage}]} */
#define PROTO_F_SUPPORTED       "supported"
#define PROTO_F_BOOT_PARAM      "boot_param"
#define PROTO_F_KERNEL          "kernel"
#define PROTO_F_RESERVE_PAGES   "reserve_pages"
#define PROTO_F_PAGE_SIZE       "page_size"
#define PROTO_F_STRUCT_PAGE     "struct_page_size"
#define PROTO_F_SIZES           "sizes"
#define PROTO_F_ELIGIBLE        "eligible"
#define PROTO_F_VMEMMAP_PAGES   "vmemmap_pages"
#define PROTO_F_SAVED_PER_PAGE  "saved_bytes_per_hugepage"

/* MEASURED: {available, baseline_pages, current_pages, saved_pages, saved_bytes,
 *            model_saved_bytes, agrees} */
#define PROTO_F_AVAILABLE       "available"
#define PROTO_F_BASELINE_PAGES  "baseline_pages"
#define PROTO_F_CURRENT_PAGES   "current_pages"
#define PROTO_F_SAVED_PAGES     "saved_pages"
#define PROTO_F_MODEL_SAVED     "model_saved_bytes"
#define PROTO_F_AGREES          "agrees"

/* progress / notifications */
#define PROTO_F_FROM            "from"
#define PROTO_F_CURRENT         "current"
#define PROTO_F_EXTERNAL        "external"  /* bool: change made behind the daemon's back */
#define PROTO_F_TEXT            "text"
#define PROTO_F_ERRORS          "errors"
#define PROTO_F_ERRNO           "errno"
#define PROTO_F_PATH            "path"
#define PROTO_F_SUBSCRIBED      "subscribed" /* subscribe result */
#define PROTO_F_RELOADED        "reloaded"   /* reload result */
#define PROTO_F_OVERRIDES       "overrides"  /* reload result: ["2048kB: override 256 pages in force, config says 512"] */

#define PROTO_STATE_CONVERGED   "converged"
#define PROTO_STATE_CONVERGING  "converging"
#define PROTO_STATE_DEGRADED    "degraded"
#define PROTO_STATE_UNMANAGED   "unmanaged"  /* no target set */

/* Where a pool's target comes from (POOL.source) */
#define PROTO_SOURCE_CONFIG     "config"    /* the config file: declared state */
#define PROTO_SOURCE_OVERRIDE   "override"  /* a pool.set kept in the state file */
#define PROTO_SOURCE_RUNTIME    "runtime"   /* a pool.set with persist false */
#define PROTO_SOURCE_NONE       "none"      /* no target: unmanaged */

/* ---- Helpers shared by daemon and client --------------------------------- */
/* Each returns a new json object (caller puts it) or NULL on allocation failure. */
json_object *proto_request_new(const char *method, json_object *params /* owned, may be NULL */, int64_t id);
json_object *proto_result_new(json_object *id /* borrowed, may be NULL */, json_object *result /* owned */);
json_object *proto_error_new(json_object *id /* borrowed */, int code, const char *message,
                             json_object *data /* owned, may be NULL */);
json_object *proto_notification_new(const char *method, json_object *params /* owned */);

/* Serialize compactly and append '\n'. malloc'ed; *ret_len excludes the NUL. */
char *proto_serialize_line(json_object *obj, size_t *ret_len);

#endif
