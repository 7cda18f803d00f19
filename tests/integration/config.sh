#!/bin/bash
# Configuration errors: hugevmd refuses to start on a bad file and names
# file:line; --check-config validates; a reload with a bad file (method or
# SIGHUP) leaves the running configuration in force.
. "$top_srcdir/tests/integration/common.sh"

make_fakeroot

# refuse_case DESCRIPTION WANT-IN-OUTPUT: the config on stdin is refused.
refuse_case() {
        write_config
        : >"$log"
        start_daemon
        local started=$?
        tap_ok $((! started)) "refused to start: $1"
        [ $started -eq 0 ] && stop_daemon
        tap_ok $((daemon_status == 0)) "non-zero exit status: $1 ($daemon_status)"
        grep -qF -- "$2" "$log"
        tap_ok $? "message names '$2': $1"
        grep -qF -- "$2" "$log" || show_log 5
}
refuse_case "unknown key" "hugevmd.conf:6:" <<EOF
HVO=yes
Frobnicate=1
EOF
refuse_case "bad page count" "hugevmd.conf:7:" <<EOF
HVO=yes
[Pool 2M]
Pages=12x
EOF
refuse_case "negative page count" "hugevmd.conf:7:" <<EOF
HVO=yes
[Pool 2M]
Pages=-5000
EOF
# A bad section header is reported at its own line.
refuse_case "size this machine lacks" "hugevmd.conf:6:" <<EOF
HVO=yes
[Pool 16M]
Pages=1
EOF
# A node this machine lacks is only warned about (integration/declared.sh);
# one beyond what hugevmd can hold is refused.
refuse_case "node beyond the 64 hugevmd handles" "hugevmd.conf:7: Node64.Pages=: node 64 is beyond" <<EOF
HVO=yes
[Pool 2M]
Node64.Pages=1
EOF
refuse_case "not a boolean" "hugevmd.conf:5:" <<EOF
HVO=perhaps
EOF
refuse_case "unknown section" "hugevmd.conf:6:" <<EOF
HVO=yes
[Pools 2M]
Pages=1
EOF
refuse_case "unknown section without keys" "hugevmd.conf:6: unknown section [Pools]" <<EOF
HVO=yes
[Pools]
EOF
refuse_case "syntax error" "hugevmd.conf:6:" <<EOF
HVO=yes
this line is not ini
EOF

# A drop-in is named by its own file:line.
mkdir -p "$tmp/etc/hugevmd.conf.d"
printf '[Pool 2M]\nPages=oops\n' >"$tmp/etc/hugevmd.conf.d/50-bad.conf"
refuse_case "bad drop-in" "50-bad.conf:2:" <<EOF
HVO=yes
EOF
rm -f "$tmp/etc/hugevmd.conf.d/50-bad.conf"

# Missing config file given explicitly.
rm -f "$conf"
"$HUGEVMD" --root "$root" --config "$tmp/etc/none.conf" --socket "$sock" --foreground >"$tmp/out" 2>&1 &
pid=$!
poll_until 5 sh -c "! kill -0 $pid 2>/dev/null"
tap_ok $? "a missing --config file: refused"
wait $pid
tap_ok $(($? == 0)) "a missing --config file: non-zero exit"
grep -q "none.conf" "$tmp/out"
tap_ok $? "a missing --config file is named"

# --check-config
write_config <<EOF
HVO=yes
[Pool 2M]
Pages=12
EOF
"$HUGEVMD" --root "$root" --config "$conf" --check-config >"$tmp/out" 2>&1
tap_is $? 0 "--check-config on a good file exits 0"
grep -q "2048kB" "$tmp/out"
tap_ok $? "--check-config prints what it would do"
sed 's/^/# /' "$tmp/out"
tap_is "$(cat "$(pool_file 2048kB nr_hugepages)")" 0 "--check-config changed nothing"
printf 'Pages=1x\n' >>"$conf"
"$HUGEVMD" --root "$root" --config "$conf" --check-config >"$tmp/out" 2>&1
tap_ok $(($? == 0)) "--check-config on a bad file exits non-zero"
grep -q "hugevmd.conf:8:" "$tmp/out"
tap_ok $? "--check-config names file:line"

# ---- Reload with a bad file keeps the old config -------------------------
write_config <<EOF
HVO=yes
[Pool 2M]
Pages=10
EOF
: >"$log"
start_daemon
tap_ok $? "hugevmd starts on a good config" || show_log
ctl wait --timeout 10 >/dev/null 2>&1
tap_is "$(cat "$(pool_file 2048kB nr_hugepages)")" 10 "target 10 reached"

write_config <<EOF
HVO=yes
[Pool 2M]
Pages=20
Bogus=1
EOF
ctl reload >"$tmp/out" 2>"$tmp/err"
tap_is $? 1 "hugevmctl reload of a bad file exits 1"
grep -q "hugevmd.conf:8:" "$tmp/err"
tap_ok $? "hugevmctl reload shows file:line"
sed 's/^/# /' "$tmp/err"
ctl wait --timeout 5 >/dev/null 2>&1   # anything a reload set in motion is over
tap_is "$(ctl --json status | hv get F_POOLS.0.F_TARGET)" 10 "old target 10 still in force after a bad reload"
tap_is "$(cat "$(pool_file 2048kB nr_hugepages)")" 10 "pool untouched by a bad reload"

errors_before=$(grep -c "hugevmd.conf:8:" "$log")
kill -HUP "$daemon_pid"
# The reload happened once its errors are logged again.
poll_until 5 sh -c "[ \$(grep -c 'hugevmd.conf:8:' '$log') -gt $errors_before ]"
kill -0 "$daemon_pid"
tap_ok $? "SIGHUP with a bad file: daemon keeps running"
tap_is "$(ctl --json status | hv get F_POOLS.0.F_TARGET)" 10 "SIGHUP with a bad file: old target stays"
grep -q "hugevmd.conf:8:" "$log"
tap_ok $? "SIGHUP with a bad file: file:line logged"

write_config <<EOF
HVO=yes
[Pool 2M]
Pages=14
EOF
kill -HUP "$daemon_pid"
poll_until 5 file_is "$(pool_file 2048kB nr_hugepages)" 14
tap_ok $? "SIGHUP with a fixed file: new target 14 applied"
write_config <<EOF
HVO=yes
[Pool 2M]
Pages=16
EOF
ctl reload >/dev/null 2>&1
tap_is $? 0 "hugevmctl reload of a good file exits 0"
poll_until 5 file_is "$(pool_file 2048kB nr_hugepages)" 16
tap_ok $? "reload: new target 16 applied"

stop_daemon
tap_is $? 0 "hugevmd exits 0 on SIGTERM"
daemon_log_clean
tap_ok $? "no sanitizer report in the daemon log"
[ "$tap_failed" -eq 0 ] || show_log
tap_done
