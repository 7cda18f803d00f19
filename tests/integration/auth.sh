#!/bin/bash
# Authorization by SO_PEERCRED: root may do everything, SocketGroup may read,
# AdminGroup may change, everyone else is refused with a clear error. The
# socket is world-accessible here, so every refusal comes from the daemon.
. "$top_srcdir/tests/integration/common.sh"

[ "$(id -u)" = 0 ] || tap_skip_all "needs root to run the client as another uid"
command -v setpriv >/dev/null || tap_skip_all "setpriv (util-linux) is needed"
getent group nogroup >/dev/null || tap_skip_all "no group 'nogroup' for the SocketGroup case"

# The client runs as nobody; it must be able to read the build tree.
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
as_nobody test -x "$HUGEVMCTL" || tap_skip_all "nobody cannot run $HUGEVMCTL (build tree not readable)"
nctl() { as_nobody "$HUGEVMCTL" --socket "$sock" "$@"; }
nhv() { as_nobody env top_srcdir="$top_srcdir" "$PYTHON" "$top_srcdir/tests/integration/hv.py" "$@"; }

make_fakeroot
write_config <<EOF
HVO=yes
[Pool 2M]
Pages=4
EOF
start_daemon
tap_ok $? "hugevmd starts" || { show_log; tap_done; exit 1; }

# ---- No group at all: refused (version is open to everyone) --------------
nctl status >"$tmp/out" 2>"$tmp/err"
tap_is $? 1 "status as nobody exits 1"
grep -q "permission-denied" "$tmp/err"
tap_ok $? "status as nobody: permission denied is named"
sed 's/^/# /' "$tmp/err"
perm=$P_ERR_PERMISSION
tap_is "$(nhv call "$sock" M_STATUS | hv get F_ERROR.F_CODE)" "$perm" "status as nobody -> ERR_PERMISSION"
tap_is "$(nhv call "$sock" M_POOL_SET '{@F_SIZE:"2M",@F_PAGES:100}' | hv get F_ERROR.F_CODE)" "$perm" \
        "pool.set as nobody -> ERR_PERMISSION"
tap_is "$(nhv call "$sock" M_SUBSCRIBE | hv get F_ERROR.F_CODE)" "$perm" "subscribe as nobody -> ERR_PERMISSION"
nctl set 2M 100 >/dev/null 2>&1
tap_is $? 1 "set as nobody exits 1"
tap_is "$(cat "$(pool_file 2048kB nr_hugepages)")" 4 "nobody's set changed nothing"
nctl version >"$tmp/out" 2>&1
tap_is $? 0 "version as nobody is allowed"
ctl status >/dev/null 2>&1
tap_is $? 0 "root may read"

# ---- SocketGroup=nogroup: nobody may read, not change ---------------------
write_config <<EOF
HVO=yes
SocketGroup=nogroup
[Pool 2M]
Pages=4
EOF
stop_daemon
start_daemon
tap_ok $? "hugevmd restarts with SocketGroup=nogroup" || show_log
nctl status >/dev/null 2>&1
tap_is $? 0 "status as a SocketGroup member exits 0"
nctl --json metrics >"$tmp/out" 2>&1
tap_is $? 0 "metrics as a SocketGroup member exits 0"
nctl set 2M 100 >/dev/null 2>"$tmp/err"
tap_is $? 1 "set as a SocketGroup member (not admin) exits 1"
grep -q "permission-denied" "$tmp/err"
tap_ok $? "the refusal says permission denied"
tap_is "$(nhv call "$sock" M_VMEMMAP_SET '{@F_ENABLED:false}' | hv get F_ERROR.F_CODE)" "$perm" \
        "vmemmap.set as a reader -> ERR_PERMISSION"
tap_is "$(nhv call "$sock" M_RELOAD | hv get F_ERROR.F_CODE)" "$perm" "reload as a reader -> ERR_PERMISSION"
tap_is "$(cat "$root/proc/sys/vm/hugetlb_optimize_vmemmap")" 1 "HVO untouched by a reader"

# ---- AdminGroup=nogroup: nobody may change too ----------------------------
write_config <<EOF
HVO=yes
SocketGroup=nogroup
AdminGroup=nogroup
[Pool 2M]
Pages=4
EOF
ctl reload >/dev/null 2>&1
tap_is $? 0 "root reloads with AdminGroup=nogroup"
nctl set 2M 6 --runtime --wait --timeout 10 >"$tmp/out" 2>"$tmp/err"
tap_is $? 0 "set as an AdminGroup member exits 0"
tap_is "$(cat "$(pool_file 2048kB nr_hugepages)")" 6 "the admin's target reached sysfs"

stop_daemon
tap_is $? 0 "hugevmd exits 0 on SIGTERM"
daemon_log_clean
tap_ok $? "no sanitizer report in the daemon log"
[ "$tap_failed" -eq 0 ] || show_log
tap_done
