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
#include <stdint.h>

/* Where hugevmd listens unless told otherwise (Socket=, --socket, HUGEVM_SOCKET). */
#define PROTO_DEFAULT_SOCKET  "/run/hugevmd/hugevmd.sock"

/* ---- Limits ------------------------------------------------------------- */
#define PROTO_MAX_LINE        65536u   /* bytes per request line, '\n' included */
#define PROTO_MAX_CLIENTS     128u     /* concurrent connections */
#define PROTO_IDLE_TIMEOUT_MS 300000u  /* idle connection closed after (not subscribers) */
#define PROTO_MAX_OUTBUF      (4u << 20) /* unsent reply bytes before a client is cut off */
#define PROTO_MAX_DEPTH       16       /* JSON nesting accepted */

/* ---- Error codes (JSON-RPC standard, then hugevm's own) ------------------ */
enum proto_error {
        PROTO_ERR_PARSE            = -32700, /* not JSON */
        PROTO_ERR_INVALID_REQUEST  = -32600, /* JSON, but not a JSON-RPC 2.0 request */
        PROTO_ERR_METHOD_NOT_FOUND = -32601,
        PROTO_ERR_INVALID_PARAMS   = -32602,
        PROTO_ERR_INTERNAL         = -32603,
        PROTO_ERR_PERMISSION       = -32001, /* peer's uid/gid may not call this */
        PROTO_ERR_KERNEL           = -32002, /* kernel refused; data.errno, data.path */
        PROTO_ERR_UNSUPPORTED      = -32003, /* no such hstate/node, no HVO on this kernel */
        PROTO_ERR_SHORTFALL        = -32004, /* wait: pools did not converge (data: pools) */
        PROTO_ERR_BUSY             = -32005, /* too many clients, or a reload in progress */
        PROTO_ERR_LIMIT            = -32006, /* line too long, idle timeout */
        PROTO_ERR_TIMEOUT          = -32007, /* wait timed out */
        PROTO_ERR_CONFIG           = -32008, /* reload: config invalid, old one kept (data.errors) */
        PROTO_ERR_STATE            = -32009, /* could not persist the state file */
};
/* Stable symbolic name of a code ("permission-denied"), or "unknown". */
const char *proto_error_name(int code);

/* ---- Methods ------------------------------------------------------------- */
/* Read methods need the SocketGroup (or root); change methods the AdminGroup. */
#define PROTO_M_STATUS        "status"        /* read:   {} -> STATUS */
#define PROTO_M_POOL_GET      "pool.get"      /* read:   {size} -> POOL */
#define PROTO_M_POOL_SET      "pool.set"      /* change: {size, pages|bytes|nodes, [node], [persist=true], [overcommit], [dry_run]} -> POOL */
#define PROTO_M_VMEMMAP_GET   "vmemmap.get"   /* read:   {} -> VMEMMAP */
#define PROTO_M_VMEMMAP_SET   "vmemmap.set"   /* change: {enabled} -> VMEMMAP */
#define PROTO_M_WAIT          "wait"          /* read:   {[timeout_ms]} -> STATUS when all converged */
#define PROTO_M_SUBSCRIBE     "subscribe"     /* read:   {} -> {subscribed:true}, then notifications */
#define PROTO_M_RELOAD        "reload"        /* change: {} -> {reloaded:true} */
#define PROTO_M_METRICS       "metrics"       /* read:   {} -> {text} */
#define PROTO_M_VERSION       "version"       /* none:   {} -> {version, protocol} */

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
#define PROTO_F_NODE        "node"        /* integer node id */
#define PROTO_F_PERSIST     "persist"     /* bool, default true */
#define PROTO_F_DRY_RUN     "dry_run"     /* bool */
#define PROTO_F_ENABLED     "enabled"     /* bool */
#define PROTO_F_TIMEOUT_MS  "timeout_ms"  /* integer, wait */

/* STATUS: {version, hvo: VMEMMAP, pools: [POOL...], measured: MEASURED, shm: SHM, converged} */
#define PROTO_F_VERSION     "version"
#define PROTO_F_PROTOCOL    "protocol"
#define PROTO_F_HVO         "hvo"
#define PROTO_F_POOLS       "pools"
#define PROTO_F_MEASURED    "measured"
#define PROTO_F_CONVERGED   "converged"   /* bool: every pool converged */

/* POOL: {size ("2048kB"), size_bytes, pages, free, reserved, surplus, overcommit,
 *        target (null if none), state, reason, optimized_pages, saved_bytes,
 *        saved_exact, nodes: [NODE...], mounts: [MOUNT...]} */
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
#define PROTO_F_SAVED_EXACT     "saved_exact" /* bool: false = estimated split */
#define PROTO_F_NODES           "nodes"
#define PROTO_F_RETRIES         "retries"

/* NODE: {node, pages, free, surplus, target (null if none), state, reason, retries} */

/* MOUNT: {path, options (as /proc/mounts shows them; null if not mounted),
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
 *           saved_pages_per_hugepage, saved_bytes_per_hugepage}]} */
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

#define PROTO_STATE_CONVERGED   "converged"
#define PROTO_STATE_CONVERGING  "converging"
#define PROTO_STATE_DEGRADED    "degraded"
#define PROTO_STATE_UNMANAGED   "unmanaged"  /* no target set */

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
