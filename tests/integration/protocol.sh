#!/bin/bash
# The control protocol spoken directly (python over the Unix socket): every
# method, every error code the daemon can produce, bad params, oversized and
# malformed lines, limits. Names and codes come from proto/proto.h.
. "$top_srcdir/tests/integration/common.sh"

# Room on node 0 for the 1G page set there (a node of 1 GiB, half of it for
# hugetlb, has none).
make_fakeroot -s mem=2G -s hugemem=1536M
write_config <<EOF
HVO=yes
[Pool 2M]
Pages=4
EOF
start_daemon
tap_ok $? "hugevmd starts" || { show_log; tap_done; exit 1; }
ctl wait --timeout 10 >/dev/null 2>&1

produced=" "
# expect_error WHAT CODE-NAME REPLY: the reply is that JSON-RPC error.
expect_error() {
        local code
        code=$(printf '%s' "$3" | hv get F_ERROR.F_CODE 2>/dev/null)
        local want; eval "want=\$P_$2"
        tap_is "$code" "$want" "$1 -> $2"
        [ "$code" = "$want" ] && produced="$produced$2 "
        [ "$code" = "$want" ] || echo "#   reply: $3"
}
# expect_result WHAT REPLY: a result (no error).
expect_result() {
        local res
        res=$(printf '%s' "$2" | hv get F_RESULT 2>/dev/null)
        [ -n "$res" ] && [ "$res" != MISSING ]
        tap_ok $? "$1 -> result"
        [ -n "$res" ] && [ "$res" != MISSING ] || echo "#   reply: $2"
}
call() { hv call "$sock" "$@"; }

# batch: run the cases on stdin over one connection, one TAP case each.
batch() {
        local rc desc
        while IFS= read -r line; do
                case $line in
                "#"*) echo "$line" ;;
                *) rc=${line%% *}; desc=${line#* }; tap_ok "$rc" "$desc"
                   [ "$rc" = 0 ] && [ "${desc##*-> }" != result ] && produced="$produced${desc##*-> } " ;;
                esac
        done < <(hv batch "$sock")
}

# ---- Every method --------------------------------------------------------
T=$'\t'
batch <<EOF
status${T}M_STATUS${T}{}${T}result
status without params${T}M_STATUS${T}${T}result
pool.get 2M${T}M_POOL_GET${T}{@F_SIZE:"2M"}${T}result
pool.set 2M 6${T}M_POOL_SET${T}{@F_SIZE:"2M",@F_PAGES:6}${T}result
pool.set bytes as a string${T}M_POOL_SET${T}{@F_SIZE:"2048kB",@F_BYTES:"16M"}${T}result
pool.set bytes as a number${T}M_POOL_SET${T}{@F_SIZE:"2MB",@F_BYTES:16777216}${T}result
pool.set per node, runtime${T}M_POOL_SET${T}{@F_SIZE:"1G",@F_PAGES:1,@F_NODE:0,@F_PERSIST:false}${T}result
vmemmap.get${T}M_VMEMMAP_GET${T}${T}result
vmemmap.set${T}M_VMEMMAP_SET${T}{@F_ENABLED:true}${T}result
wait${T}M_WAIT${T}{@F_TIMEOUT_MS:5000}${T}result
reload${T}M_RELOAD${T}${T}result
metrics${T}M_METRICS${T}${T}result
version${T}M_VERSION${T}${T}result
EOF
r=$(call M_POOL_SET '{@F_SIZE:"2M",@F_PAGES:100,@F_DRY_RUN:true}')
expect_result "pool.set dry run" "$r"
tap_is "$(printf '%s' "$r" | hv get F_RESULT.F_TARGET)" 100 "dry run result shows the would-be target"
tap_is "$(call M_POOL_GET '{@F_SIZE:"2M"}' | hv get F_RESULT.F_TARGET)" 8 "dry run changed nothing"
tap_is "$(call M_VERSION | hv get F_RESULT.F_PROTOCOL)" "$P_VERSION" "version: protocol number"
r=$(printf '%s\n' "{\"jsonrpc\":\"2.0\",\"method\":\"$P_M_SUBSCRIBE\",\"id\":7}" | hv raw "$sock" 5 1)
tap_is "$(printf '%s\n' "$r" | head -1 | hv get F_RESULT.F_SUBSCRIBED F_ID | tr '\n' ' ')" "true 7 " "subscribe -> subscribed, id echoed"

# ---- Malformed lines and requests ----------------------------------------
r=$(printf 'this is not json\n' | hv raw "$sock" 5 1)
expect_error "a non-JSON line" ERR_PARSE "$(printf '%s\n' "$r" | head -1)"
tap_is "$(printf '%s\n' "$r" | head -1 | hv get F_ID)" null "parse error carries id null"
r=$(printf '{"jsonrpc":"2.0","method":@M_VERSION,"id":1\n' | HV_EXPAND=1 hv raw "$sock" 5 1)
expect_error "truncated JSON" ERR_PARSE "$(printf '%s\n' "$r" | head -1)"
r=$(printf '[1,2,3]\n' | hv raw "$sock" 5 1)
expect_error "a JSON array" ERR_INVALID_REQUEST "$(printf '%s\n' "$r" | head -1)"
r=$(printf '{"jsonrpc":"1.0","method":@M_VERSION,"id":1}\n' | HV_EXPAND=1 hv raw "$sock" 5 1)
expect_error "jsonrpc 1.0" ERR_INVALID_REQUEST "$(printf '%s\n' "$r" | head -1)"
r=$(printf '{"jsonrpc":"2.0","id":1}\n' | hv raw "$sock" 5 1)
expect_error "no method" ERR_INVALID_REQUEST "$(printf '%s\n' "$r" | head -1)"
r=$(printf '{"jsonrpc":"2.0","method":42,"id":1}\n' | hv raw "$sock" 5 1)
expect_error "method not a string" ERR_INVALID_REQUEST "$(printf '%s\n' "$r" | head -1)"
r=$(call no.such.method)
expect_error "unknown method" ERR_METHOD_NOT_FOUND "$r"
tap_is "$(printf '%s' "$r" | hv get F_ID)" 1 "unknown method: id echoed"
r=$("$PYTHON" -c 'print("[" * 100 + "]" * 100)' | hv raw "$sock" 5 1)
code=$(printf '%s\n' "$r" | head -1 | hv get F_ERROR.F_CODE)
[ "$code" = "$P_ERR_PARSE" ] || [ "$code" = "$P_ERR_INVALID_REQUEST" ]
tap_ok $? "JSON nested deeper than PROTO_MAX_DEPTH is refused ($code)"

# A notification (no id) gets no reply; two requests in one write get two
# replies in order; one request split over writes is read whole. (Replies come
# in order: the first one after a notification is the next request's.)
r=$(printf '{"jsonrpc":"2.0","method":@M_VERSION}\n{"jsonrpc":"2.0","method":@M_VERSION,"id":2}\n' | HV_EXPAND=1 hv raw "$sock" 5 1)
tap_is "$(printf '%s\n' "$r" | head -1 | hv get F_ID)" 2 "a request without id gets no reply (the first reply is the next request's, id 2)"
r=$(printf '{"jsonrpc":"2.0","method":@M_VERSION,"id":1}\n{"jsonrpc":"2.0","method":@M_VERSION,"id":2}\n' | HV_EXPAND=1 hv raw "$sock" 5 2)
tap_is "$(printf '%s\n' "$r" | head -2 | while read -r l; do printf '%s' "$l" | hv get F_ID; done | tr '\n' ' ')" "1 2 " \
        "pipelined requests: two replies, in order"
r=$("$PYTHON" - "$sock" <<'EOF'
import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
for part in (b'{"jsonrpc":"2.', b'0","method":"vers', b'ion","id":9}', b'\n'):
    s.sendall(part); time.sleep(0.1)
print(s.makefile().readline().strip())
EOF
)
tap_is "$(printf '%s' "$r" | hv get F_ID)" 9 "a request split over four writes is answered"

# Oversized line: answered with a limit error, never a silent close.
max=$P_MAX_LINE
r=$("$PYTHON" -c "import sys; sys.stdout.write('{\"x\":\"' + 'a' * $max + '\"}\n')" | hv raw "$sock" 5 1)
expect_error "a line longer than PROTO_MAX_LINE ($max)" ERR_LIMIT "$(printf '%s\n' "$r" | head -1)"
r=$("$PYTHON" -c "import sys; sys.stdout.write('a' * ($max * 4))" | hv raw "$sock" 5 1)
expect_error "$((max * 4)) bytes without a newline" ERR_LIMIT "$(printf '%s\n' "$r" | head -1)"

# ---- Bad params ----------------------------------------------------------
batch <<EOF
pool.set negative pages${T}M_POOL_SET${T}{@F_SIZE:"2M",@F_PAGES:-5000}${T}ERR_INVALID_PARAMS
pool.set pages as a string${T}M_POOL_SET${T}{@F_SIZE:"2M",@F_PAGES:"ten"}${T}ERR_INVALID_PARAMS
pool.set pages a float${T}M_POOL_SET${T}{@F_SIZE:"2M",@F_PAGES:1.5}${T}ERR_INVALID_PARAMS
pool.set pages 2^64${T}M_POOL_SET${T}{@F_SIZE:"2M",@F_PAGES:18446744073709551616}${T}ERR_INVALID_PARAMS
pool.set pages huge${T}M_POOL_SET${T}{@F_SIZE:"2M",@F_PAGES:9223372036854775807}${T}ERR_INVALID_PARAMS
pool.set no size${T}M_POOL_SET${T}{@F_PAGES:1}${T}ERR_INVALID_PARAMS
pool.set size not a size${T}M_POOL_SET${T}{@F_SIZE:"3Q",@F_PAGES:1}${T}ERR_INVALID_PARAMS
pool.set size a number${T}M_POOL_SET${T}{@F_SIZE:2,@F_PAGES:1}${T}ERR_INVALID_PARAMS
pool.set neither pages nor bytes${T}M_POOL_SET${T}{@F_SIZE:"2M"}${T}ERR_INVALID_PARAMS
pool.set both pages and bytes${T}M_POOL_SET${T}{@F_SIZE:"2M",@F_PAGES:1,@F_BYTES:"2M"}${T}ERR_INVALID_PARAMS
pool.set bytes not a multiple${T}M_POOL_SET${T}{@F_SIZE:"2M",@F_BYTES:"3M"}${T}ERR_INVALID_PARAMS
pool.set bytes negative${T}M_POOL_SET${T}{@F_SIZE:"2M",@F_BYTES:-2097152}${T}ERR_INVALID_PARAMS
pool.set bytes bad text${T}M_POOL_SET${T}{@F_SIZE:"2M",@F_BYTES:"-5000"}${T}ERR_INVALID_PARAMS
pool.set node negative${T}M_POOL_SET${T}{@F_SIZE:"2M",@F_PAGES:1,@F_NODE:-1}${T}ERR_INVALID_PARAMS
pool.set node a string${T}M_POOL_SET${T}{@F_SIZE:"2M",@F_PAGES:1,@F_NODE:"zero"}${T}ERR_INVALID_PARAMS
pool.set persist not a bool${T}M_POOL_SET${T}{@F_SIZE:"2M",@F_PAGES:1,@F_PERSIST:"yes"}${T}ERR_INVALID_PARAMS
pool.set params an array${T}M_POOL_SET${T}[1]${T}ERR_INVALID_PARAMS
pool.get no size${T}M_POOL_GET${T}{}${T}ERR_INVALID_PARAMS
vmemmap.set enabled not a bool${T}M_VMEMMAP_SET${T}{@F_ENABLED:"yes"}${T}ERR_INVALID_PARAMS
vmemmap.set no enabled${T}M_VMEMMAP_SET${T}{}${T}ERR_INVALID_PARAMS
wait timeout negative${T}M_WAIT${T}{@F_TIMEOUT_MS:-1}${T}ERR_INVALID_PARAMS
wait timeout a string${T}M_WAIT${T}{@F_TIMEOUT_MS:"soon"}${T}ERR_INVALID_PARAMS
EOF
tap_is "$(call M_POOL_GET '{@F_SIZE:"2M"}' | hv get F_RESULT.F_TARGET)" 8 "bad params changed nothing (target still 8)"

# ---- Application errors ----------------------------------------------------
batch <<EOF
pool.set of a size the machine lacks${T}M_POOL_SET${T}{@F_SIZE:"16M",@F_PAGES:1}${T}ERR_UNSUPPORTED
pool.get of a size the machine lacks${T}M_POOL_GET${T}{@F_SIZE:"32M"}${T}ERR_UNSUPPORTED
pool.set on node 9${T}M_POOL_SET${T}{@F_SIZE:"2M",@F_PAGES:1,@F_NODE:9}${T}ERR_UNSUPPORTED
EOF

# The sysctl's next write fails with EPERM.
fk_ctl "$root" fail write /proc/sys/vm/hugetlb_optimize_vmemmap EPERM 1
r=$(call M_VMEMMAP_SET '{@F_ENABLED:false}')
expect_error "vmemmap.set refused by the kernel" ERR_KERNEL "$r"
tap_is "$(printf '%s' "$r" | hv get F_ERROR.F_DATA.F_ERRNO)" 1 "kernel error carries errno EPERM"

# No memory left for more pages on either node: the kernel's write succeeds
# short, the pool stays where it is.
fk_ctl "$root" memory 0 0 && fk_ctl "$root" memory 1 0
call M_POOL_SET '{@F_SIZE:"2M",@F_PAGES:12,@F_PERSIST:false}' >"$tmp/r"
r=$(call M_WAIT '{@F_TIMEOUT_MS:1000}')
code=$(printf '%s' "$r" | hv get F_ERROR.F_CODE)
case $code in
$P_ERR_TIMEOUT) produced="${produced}ERR_TIMEOUT "; tap_ok 0 "wait on a stuck pool -> ERR_TIMEOUT" ;;
$P_ERR_SHORTFALL) produced="${produced}ERR_SHORTFALL "; tap_ok 0 "wait on a stuck pool -> ERR_SHORTFALL" ;;
*) tap_ok 1 "wait on a stuck pool -> ERR_TIMEOUT or ERR_SHORTFALL"; echo "#   reply: $r" ;;
esac
# After its retries the stuck pool is degraded; then a wait is a shortfall.
poll_until 30 sh -c "'$PYTHON' '$top_srcdir/tests/integration/hv.py' call '$sock' M_POOL_GET '{@F_SIZE:\"2M\"}' | grep -q '\"$P_STATE_DEGRADED\"'"
tap_ok $? "the stuck pool is marked degraded"
expect_error "wait with a degraded pool" ERR_SHORTFALL "$(call M_WAIT '{@F_TIMEOUT_MS:1000}')"
tap_is "$(cat "$(pool_file 2048kB nr_hugepages)")" 8 "the stuck pool kept its 8 pages"
fk_ctl "$root" memory 0 256M && fk_ctl "$root" memory 1 256M
call M_POOL_SET '{@F_SIZE:"2M",@F_PAGES:8,@F_PERSIST:false}' >/dev/null
expect_result "wait once there is memory again" "$(call M_WAIT '{@F_TIMEOUT_MS:10000}')"

# A wait that times out while a pool is still converging: each page the kernel
# allocates takes 20 ms here, so a growth by 20 pages is still under way when
# the zero-timeout wait sent in the same write arrives.
fk_ctl "$root" delay 20000
r=$(printf '{"jsonrpc":"2.0","method":@M_POOL_SET,"params":{@F_SIZE:"2M",@F_PAGES:28,@F_PERSIST:false},"id":1}\n{"jsonrpc":"2.0","method":@M_WAIT,"params":{@F_TIMEOUT_MS:0},"id":2}\n' |
        HV_EXPAND=1 hv raw "$sock" 5 2 | tail -1)
expect_error "wait {timeout_ms: 0} on a converging pool" ERR_TIMEOUT "$r"
fk_ctl "$root" delay 0
call M_POOL_SET '{@F_SIZE:"2M",@F_PAGES:8,@F_PERSIST:false}' >/dev/null

# State directory not writable: a persisted change is refused, not lost silently.
mkdir -p "$state" && chattr +i "$state"
expect_error "pool.set when the state file cannot be written" ERR_STATE "$(call M_POOL_SET '{@F_SIZE:"2M",@F_PAGES:9}')"
chattr -i "$state"

# Reload with a bad config: config error, old config kept.
cp "$conf" "$tmp/good.conf"
printf '[Pool 2M]\nPages=twelve\n' >>"$conf"
r=$(call M_RELOAD)
expect_error "reload of a bad config" ERR_CONFIG "$r"
printf '%s' "$r" | hv get F_ERROR.F_DATA.F_ERRORS | grep -q "hugevmd.conf:[0-9]"
tap_ok $? "config error names file:line"
cp "$tmp/good.conf" "$conf"

# Too many clients: the extra one is told, not dropped.
read -r which reply < <(hv flood "$sock" "$P_MAX_CLIENTS")
tap_is "$which" $((P_MAX_CLIENTS + 1)) "the first connection refused is number $((P_MAX_CLIENTS + 1))"
expect_error "connection $((P_MAX_CLIENTS + 1))" ERR_BUSY "$reply"

# Pipelining: a client that sends 5000 requests in one go and reads nothing
# for a second is paused at a high-water mark (backpressure), not cut off at
# PROTO_MAX_OUTBUF; another client is answered meanwhile; once it reads, every
# request is answered exactly once, in order, the half-sent last one (ended by
# EOF) too, and then the connection closes.
hv pipeline "$sock" 5000 >"$tmp/pipeline"
grep '^#' "$tmp/pipeline"
read -r lat n order eof bytes < <(grep -v '^#' "$tmp/pipeline")
tap_is "$n" 5000 "pipelined: 5000 requests, 5000 replies"
tap_is "$order" yes "pipelined: replies in order, each id once, no error"
tap_is "$eof" yes "pipelined: EOF after the last reply"
tap_ok $((!(${bytes:-0} > P_MAX_OUTBUF))) "pipelined: the replies (${bytes:-0} bytes) exceed PROTO_MAX_OUTBUF, yet no cut-off"
tap_ok $((!(${lat:--1} >= 0 && ${lat:--1} < 1000))) "another client is answered meanwhile (in ${lat:--1} ms)"

# Every code of proto.h's PROTO_ERRORS: produced above, or why not.
for name in $(hv env | sed -n 's/^P_\(ERR_[A-Z_]*\)=.*/\1/p'); do
        case "$produced" in *" $name "*) ;; *) echo "# not produced here: $name" ;; esac
done
echo "# ERR_INTERNAL needs an allocation failure; ERR_PERMISSION is in auth.sh."

kill -0 "$daemon_pid"
tap_ok $? "daemon survived every malformed request"
expect_result "and still answers" "$(call M_VERSION)"
stop_daemon
tap_is $? 0 "hugevmd exits 0 on SIGTERM"
daemon_log_clean
tap_ok $? "no sanitizer report in the daemon log"
[ "$tap_failed" -eq 0 ] || show_log
tap_done
