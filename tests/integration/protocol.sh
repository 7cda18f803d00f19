#!/bin/bash
# The control protocol spoken directly (python over the Unix socket): every
# method, every error code the daemon can produce, bad params, oversized and
# malformed lines, limits. Names and codes come from proto/proto.h.
. "$top_srcdir/tests/integration/common.sh"

make_fakeroot
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
        tap_is "$code" "$(hv const "$2")" "$1 -> $2"
        [ "$code" = "$(hv const "$2")" ] && produced="$produced$2 "
        [ "$code" = "$(hv const "$2")" ] || echo "#   reply: $3"
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

# ---- Every method --------------------------------------------------------
expect_result "status" "$(call M_STATUS)"
expect_result "status without params" "$(call M_STATUS)"
expect_result "pool.get 2M" "$(call M_POOL_GET '{@F_SIZE:"2M"}')"
expect_result "pool.set 2M 6" "$(call M_POOL_SET '{@F_SIZE:"2M",@F_PAGES:6}')"
expect_result "pool.set bytes as a string" "$(call M_POOL_SET '{@F_SIZE:"2048kB",@F_BYTES:"16M"}')"
expect_result "pool.set bytes as a number" "$(call M_POOL_SET '{@F_SIZE:"2MB",@F_BYTES:16777216}')"
expect_result "pool.set per node" "$(call M_POOL_SET '{@F_SIZE:"1G",@F_PAGES:1,@F_NODE:0,@F_PERSIST:false}')"
r=$(call M_POOL_SET '{@F_SIZE:"2M",@F_PAGES:100,@F_DRY_RUN:true}')
expect_result "pool.set dry run" "$r"
tap_is "$(printf '%s' "$r" | hv get F_RESULT.F_TARGET)" 100 "dry run result shows the would-be target"
tap_is "$(call M_POOL_GET '{@F_SIZE:"2M"}' | hv get F_RESULT.F_TARGET)" 8 "dry run changed nothing"
expect_result "vmemmap.get" "$(call M_VMEMMAP_GET)"
expect_result "vmemmap.set" "$(call M_VMEMMAP_SET '{@F_ENABLED:true}')"
expect_result "wait" "$(call M_WAIT '{@F_TIMEOUT_MS:5000}')"
expect_result "reload" "$(call M_RELOAD)"
expect_result "metrics" "$(call M_METRICS)"
r=$(call M_VERSION)
expect_result "version" "$r"
tap_is "$(printf '%s' "$r" | hv get F_RESULT.F_PROTOCOL)" "$(hv const VERSION)" "version: protocol number"
r=$(printf '%s\n' "{\"jsonrpc\":\"2.0\",\"method\":\"$(hv const M_SUBSCRIBE)\",\"id\":7}" | hv raw "$sock" 1)
tap_is "$(printf '%s\n' "$r" | head -1 | hv get F_RESULT.F_SUBSCRIBED F_ID | tr '\n' ' ')" "true 7 " "subscribe -> subscribed, id echoed"

# ---- Malformed lines and requests ----------------------------------------
r=$(printf 'this is not json\n' | hv raw "$sock" 1)
expect_error "a non-JSON line" ERR_PARSE "$(printf '%s\n' "$r" | head -1)"
tap_is "$(printf '%s\n' "$r" | head -1 | hv get F_ID)" null "parse error carries id null"
r=$(printf '{"jsonrpc":"2.0","method":@M_VERSION,"id":1\n' | HV_EXPAND=1 hv raw "$sock" 1)
expect_error "truncated JSON" ERR_PARSE "$(printf '%s\n' "$r" | head -1)"
r=$(printf '[1,2,3]\n' | hv raw "$sock" 1)
expect_error "a JSON array" ERR_INVALID_REQUEST "$(printf '%s\n' "$r" | head -1)"
r=$(printf '{"jsonrpc":"1.0","method":@M_VERSION,"id":1}\n' | HV_EXPAND=1 hv raw "$sock" 1)
expect_error "jsonrpc 1.0" ERR_INVALID_REQUEST "$(printf '%s\n' "$r" | head -1)"
r=$(printf '{"jsonrpc":"2.0","id":1}\n' | hv raw "$sock" 1)
expect_error "no method" ERR_INVALID_REQUEST "$(printf '%s\n' "$r" | head -1)"
r=$(printf '{"jsonrpc":"2.0","method":42,"id":1}\n' | hv raw "$sock" 1)
expect_error "method not a string" ERR_INVALID_REQUEST "$(printf '%s\n' "$r" | head -1)"
r=$(call no.such.method)
expect_error "unknown method" ERR_METHOD_NOT_FOUND "$r"
tap_is "$(printf '%s' "$r" | hv get F_ID)" 1 "unknown method: id echoed"
r=$(python3 -c 'print("[" * 100 + "]" * 100)' | hv raw "$sock" 1)
code=$(printf '%s\n' "$r" | head -1 | hv get F_ERROR.F_CODE)
[ "$code" = "$(hv const ERR_PARSE)" ] || [ "$code" = "$(hv const ERR_INVALID_REQUEST)" ]
tap_ok $? "JSON nested deeper than PROTO_MAX_DEPTH is refused ($code)"

# A notification (no id) gets no reply; two requests in one write get two
# replies in order; one request split over writes is read whole.
r=$(printf '{"jsonrpc":"2.0","method":@M_VERSION}\n' | HV_EXPAND=1 hv raw "$sock" 1)
tap_is "$r" TIMEOUT "a request without id gets no reply"
r=$(printf '{"jsonrpc":"2.0","method":@M_VERSION,"id":1}\n{"jsonrpc":"2.0","method":@M_VERSION,"id":2}\n' | HV_EXPAND=1 hv raw "$sock" 1)
tap_is "$(printf '%s\n' "$r" | head -2 | while read -r l; do printf '%s' "$l" | hv get F_ID; done | tr '\n' ' ')" "1 2 " \
        "pipelined requests: two replies, in order"
r=$(python3 - "$sock" <<'EOF'
import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
for part in (b'{"jsonrpc":"2.', b'0","method":"vers', b'ion","id":9}', b'\n'):
    s.sendall(part); time.sleep(0.1)
print(s.makefile().readline().strip())
EOF
)
tap_is "$(printf '%s' "$r" | hv get F_ID)" 9 "a request split over four writes is answered"

# Oversized line: answered with a limit error, never a silent close.
max=$(hv const MAX_LINE)
r=$(python3 -c "import sys; sys.stdout.write('{\"x\":\"' + 'a' * $max + '\"}\n')" | hv raw "$sock" 2)
expect_error "a line longer than PROTO_MAX_LINE ($max)" ERR_LIMIT "$(printf '%s\n' "$r" | head -1)"
r=$(python3 -c "import sys; sys.stdout.write('a' * ($max * 4))" | hv raw "$sock" 2)
expect_error "$((max * 4)) bytes without a newline" ERR_LIMIT "$(printf '%s\n' "$r" | head -1)"

# ---- Bad params ----------------------------------------------------------
bad() { expect_error "$1" ERR_INVALID_PARAMS "$(call "$2" "$3")"; }
bad "pool.set negative pages" M_POOL_SET '{@F_SIZE:"2M",@F_PAGES:-5000}'
bad "pool.set pages as a string" M_POOL_SET '{@F_SIZE:"2M",@F_PAGES:"ten"}'
bad "pool.set pages a float" M_POOL_SET '{@F_SIZE:"2M",@F_PAGES:1.5}'
bad "pool.set pages 2^64" M_POOL_SET '{@F_SIZE:"2M",@F_PAGES:18446744073709551616}'
bad "pool.set pages huge" M_POOL_SET '{@F_SIZE:"2M",@F_PAGES:9223372036854775807}'
bad "pool.set no size" M_POOL_SET '{@F_PAGES:1}'
bad "pool.set size not a size" M_POOL_SET '{@F_SIZE:"3Q",@F_PAGES:1}'
bad "pool.set size a number" M_POOL_SET '{@F_SIZE:2,@F_PAGES:1}'
bad "pool.set neither pages nor bytes" M_POOL_SET '{@F_SIZE:"2M"}'
bad "pool.set both pages and bytes" M_POOL_SET '{@F_SIZE:"2M",@F_PAGES:1,@F_BYTES:"2M"}'
bad "pool.set bytes not a multiple" M_POOL_SET '{@F_SIZE:"2M",@F_BYTES:"3M"}'
bad "pool.set bytes negative" M_POOL_SET '{@F_SIZE:"2M",@F_BYTES:-2097152}'
bad "pool.set bytes bad text" M_POOL_SET '{@F_SIZE:"2M",@F_BYTES:"-5000"}'
bad "pool.set node negative" M_POOL_SET '{@F_SIZE:"2M",@F_PAGES:1,@F_NODE:-1}'
bad "pool.set node a string" M_POOL_SET '{@F_SIZE:"2M",@F_PAGES:1,@F_NODE:"zero"}'
bad "pool.set persist not a bool" M_POOL_SET '{@F_SIZE:"2M",@F_PAGES:1,@F_PERSIST:"yes"}'
bad "pool.set params an array" M_POOL_SET '[1]'
bad "pool.get no size" M_POOL_GET '{}'
bad "vmemmap.set enabled not a bool" M_VMEMMAP_SET '{@F_ENABLED:"yes"}'
bad "vmemmap.set no enabled" M_VMEMMAP_SET '{}'
bad "wait timeout negative" M_WAIT '{@F_TIMEOUT_MS:-1}'
bad "wait timeout a string" M_WAIT '{@F_TIMEOUT_MS:"soon"}'
tap_is "$(call M_POOL_GET '{@F_SIZE:"2M"}' | hv get F_RESULT.F_TARGET)" 8 "bad params changed nothing (target still 8)"

# ---- Application errors ----------------------------------------------------
expect_error "pool.set of a size the machine lacks" ERR_UNSUPPORTED "$(call M_POOL_SET '{@F_SIZE:"16M",@F_PAGES:1}')"
expect_error "pool.get of a size the machine lacks" ERR_UNSUPPORTED "$(call M_POOL_GET '{@F_SIZE:"32M"}')"
expect_error "pool.set on node 9" ERR_UNSUPPORTED "$(call M_POOL_SET '{@F_SIZE:"2M",@F_PAGES:1,@F_NODE:9}')"

chattr +i "$root/proc/sys/vm/hugetlb_optimize_vmemmap"
r=$(call M_VMEMMAP_SET '{@F_ENABLED:false}')
chattr -i "$root/proc/sys/vm/hugetlb_optimize_vmemmap"
expect_error "vmemmap.set refused by the kernel" ERR_KERNEL "$r"
tap_is "$(printf '%s' "$r" | hv get F_ERROR.F_DATA.F_ERRNO)" 1 "kernel error carries errno EPERM"

chattr +i "$(pool_file 1048576kB nr_hugepages)"
call M_POOL_SET '{@F_SIZE:"1G",@F_PAGES:3,@F_PERSIST:false}' >"$tmp/r"
r=$(call M_WAIT '{@F_TIMEOUT_MS:1500}')
code=$(printf '%s' "$r" | hv get F_ERROR.F_CODE)
case $code in
$(hv const ERR_TIMEOUT)) produced="${produced}ERR_TIMEOUT "; tap_ok 0 "wait on a stuck pool -> timeout" ;;
$(hv const ERR_SHORTFALL)) produced="${produced}ERR_SHORTFALL "; tap_ok 0 "wait on a stuck pool -> shortfall" ;;
*) tap_ok 1 "wait on a stuck pool -> timeout or shortfall"; echo "#   reply: $r" ;;
esac
# The stuck pool becomes degraded after its retries; then wait is a shortfall.
poll_until 20 sh -c "python3 '$top_srcdir/tests/integration/hv.py' call '$sock' M_POOL_GET '{@F_SIZE:\"1G\"}' | grep -q '\"$(hv const STATE_DEGRADED)\"'"
tap_ok $? "the stuck pool is marked degraded"
expect_error "wait with a degraded pool" ERR_SHORTFALL "$(call M_WAIT '{@F_TIMEOUT_MS:1500}')"
chattr -i "$(pool_file 1048576kB nr_hugepages)"
call M_POOL_SET '{@F_SIZE:"1G",@F_PAGES:0,@F_PERSIST:false}' >/dev/null

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
expect_error "connection $(( $(hv const MAX_CLIENTS) + 1 ))" ERR_BUSY "$(hv flood "$sock" "$(hv const MAX_CLIENTS)")"

# Every code in proto.h: produced above, or why not.
for name in $(grep -o '^ *PROTO_ERR_[A-Z_]*' "$top_srcdir/proto/proto.h" | sed 's/ *PROTO_//'); do
        case "$produced" in *" $name "*) ;; *) echo "# not produced here: $name" ;; esac
done
echo "# ERR_INTERNAL needs an allocation failure; ERR_PERMISSION is in auth.sh."

kill -0 "$daemon_pid"
tap_ok $? "daemon survived every malformed request"
expect_result "and still answers" "$(call M_VERSION)"
[ "$tap_failed" -eq 0 ] || show_log
tap_done
