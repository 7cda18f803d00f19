#!/bin/bash
# hugevmctl's command-line habits (issue 14, item 8): short options and
# --version, errors in the operator's words, usage errors exit 2, relative
# amounts and "default" as a size, a status table that fits 80 columns with
# -o/--wide/--raw/--noheadings, and status without the daemon. Expected
# values come from the fake kernel's files and arithmetic here, never from
# hugevmctl itself.
. "$top_srcdir/tests/integration/common.sh"

# The default hugepage size is 1G here, so that "default" cannot pass as the
# smallest size; nodes of 4 GiB leave room for 1G pages.
make_fakeroot -s mem=4G -s hugemem=3G -s default_size=1G
write_config <<EOF
HVO=yes
[Pool 2M]
Pages=10
EOF
hp=$root/sys/kernel/mm/hugepages
node_file() { echo "$root/sys/devices/system/node/node$1/hugepages/hugepages-$2/nr_hugepages"; }
# Internal method names an operator never typed.
no_methods() { ! grep -Eq "pool\.(get|set)|vmemmap\.(get|set)|subscribe| failed:" "$1"; }

# ---- --version, short options, numbers that look like options ------------
want_version=$(sed -n 's/^#define PACKAGE_VERSION "\(.*\)"$/\1/p' "$top_builddir/config.h")
for opt in --version -V; do
        tap_is "$(ctl $opt 2>&1)" "hugevmctl $want_version" "$opt prints 'hugevmctl VERSION'"
done
ctl -h >"$tmp/out" 2>&1
tap_is $? 0 "-h exits 0"
for o in s/socket j/json n/node w/wait t/timeout o/output r/raw h/help V/version; do
        man_form=$(printf '\\fB\\-%s\\fR, \\fB\\-\\-%s\\fR' "${o%/*}" "${o#*/}")
        grep -qF -- "-${o%/*}, --${o#*/}" "$tmp/out" && grep -qF -- "$man_form" "$top_srcdir/man/hugevmctl.8"
        tap_ok $? "-${o%/*}, --${o#*/} is in --help and man/hugevmctl.8"
done
ctl set 2M 1 -x >/dev/null 2>"$tmp/err"
tap_is $? 2 "an unknown short option exits 2"
grep -qF "unknown option '-x'" "$tmp/err"
tap_ok $? "the unknown short option is named"
ctl status --json=yes >/dev/null 2>"$tmp/err"
tap_is $? 2 "a value for a flag exits 2"
grep -qF "option '--json' takes no value" "$tmp/err"
tap_ok $? "a value for a flag: said so"
ctl set 2M 1 --node >/dev/null 2>"$tmp/err"
tap_is $? 2 "--node without a value exits 2"
grep -qF "option '--node' needs a value" "$tmp/err"
tap_ok $? "a missing value: said so"
ctl set 2M -x1 >/dev/null 2>"$tmp/err"
tap_is $? 2 "set 2M -x1 exits 2 (options are still options)"

# ---- Usage errors named in the operator's words, no daemon needed ---------
ctl status -o PAGES,NOSUCH >"$tmp/out" 2>"$tmp/err"
tap_is $? 2 "status -o with an unknown column exits 2"
grep -qF "unknown column 'NOSUCH'" "$tmp/err"
tap_ok $? "the unknown column is named"
ctl set 2M 1 --raw >/dev/null 2>"$tmp/err"
tap_is $? 2 "--raw with set exits 2"
ctl status --wide -o SIZE >/dev/null 2>"$tmp/err"
tap_is $? 2 "--wide with -o exits 2"

# ---- status without the daemon: the kernel's pools, exit 3 ----------------
# Pools as the kernel holds them without hugevmd: 2 + 1 pages on nodes 0 and
# 1, one in use and one reserved by processes, overcommit 4, HVO on.
echo 2 >"$(node_file 0 2048kB)" && echo 1 >"$(node_file 1 2048kB)" &&
        fk_ctl "$root" hold 2048kB 0 1 && fk_ctl "$root" reserve 2048kB 1 &&
        echo 4 >"$hp/hugepages-2048kB/nr_overcommit_hugepages" && echo 1 >"$root/proc/sys/vm/hugetlb_optimize_vmemmap"
tap_ok $? "the kernel's pools set up behind the daemon's back"
ctl --root "$root" status >"$tmp/out" 2>"$tmp/err"
tap_is $? 3 "status with the daemon down exits 3"
grep -qF "hugevmd is not running: showing the kernel's pools only" "$tmp/err"
tap_ok $? "status with the daemon down says so on stderr"
sed 's/^/# down: /' "$tmp/out"
# PAGES FREE RESV of the 2048kB pool and of its node 1, from the fake files.
want="$(cat "$hp/hugepages-2048kB/nr_hugepages") $(cat "$hp/hugepages-2048kB/free_hugepages") $(cat "$hp/hugepages-2048kB/resv_hugepages")"
tap_is "$(awk '$1 == "2048kB" && $2 == "all" { print $3, $4, $5 }' "$tmp/out")" "$want" \
        "daemon down: the 2048kB pool's pages, free and reserved from the kernel"
tap_is "$(awk '$1 == "1" { print $2; exit }' "$tmp/out")" "$(cat "$(node_file 1 2048kB)")" \
        "daemon down: node 1's pages from the kernel"
grep -q "^HVO: on" "$tmp/out"
tap_ok $? "daemon down: the HVO state from the kernel"
ctl --root "$root" --json status >"$tmp/out" 2>/dev/null
tap_is $? 3 "status --json with the daemon down exits 3"
tap_is "$(hv get F_POOLS.0.F_SIZE F_POOLS.0.F_OVERCOMMIT F_POOLS.0.F_NODES.0.F_PAGES <"$tmp/out" | tr '\n' ' ')" \
        "2048kB $(cat "$hp/hugepages-2048kB/nr_overcommit_hugepages") $(cat "$(node_file 0 2048kB)") " \
        "status --json with the daemon down: the kernel's pools as JSON"
# Nothing else reads the kernel without the daemon: the other commands still say unreachable.
ctl --root "$root" wait >/dev/null 2>"$tmp/err"
tap_is $? 3 "wait with the daemon down exits 3"
grep -qF "cannot wait for the pools: cannot connect to hugevmd" "$tmp/err"
tap_ok $? "wait with the daemon down: what was asked and why it failed"
fk_ctl "$root" release 2048kB 0 all && fk_ctl "$root" unreserve 2048kB 1 && echo 0 >"$hp/hugepages-2048kB/nr_hugepages"
tap_ok $? "the kernel's pools emptied again"

# ---- The real daemon ------------------------------------------------------
start_daemon
tap_ok $? "hugevmd starts and listens" || { show_log; tap_done; exit 1; }
ctl -s "$sock" -w -t 10 set 2M 10 >/dev/null 2>&1
ctl wait --timeout 10 >/dev/null 2>&1
tap_is "$(cat "$hp/hugepages-2048kB/nr_hugepages")" 10 "config target 10 written to sysfs"

# Short options do what the long ones do.
"$HUGEVMCTL" -s "$sock" -j status >"$tmp/out"
hv valid "$tmp/out"
tap_ok $? "-s SOCKET -j: status as JSON"
ctl -n 1 -w -t 10 set 1G 1 >"$tmp/out" 2>"$tmp/err"
tap_is $? 0 "set 1G 1 -n 1 -w -t 10 exits 0"
tap_is "$(cat "$(node_file 1 1048576kB)")" 1 "-n 1: the target went to node1's file"

# ---- The status table ------------------------------------------------------
ctl status >"$tmp/out" 2>"$tmp/err"
tap_is $? 0 "status exits 0"
sed 's/^/# status: /' "$tmp/out"
# (The SysV shm line holds the kernel's 20-digit default limits.)
tap_is "$(grep -v '^SysV shm:' "$tmp/out" | awk 'length($0) > 80' | wc -l)" 0 "status fits 80 columns"
header=$(head -n1 "$tmp/out")
[[ $header == SIZE* && $header == *BYTES* && $header != *OVERCOMMIT* ]]
tap_ok $? "the default header has BYTES, not OVERCOMMIT"
pages=$(cat "$hp/hugepages-2048kB/nr_hugepages")
want_bytes=$(awk -v p="$pages" 'BEGIN { printf "%.1f MiB", p * 2048 / 1024 }')
tap_is "$(awk '$1 == "2048kB" && $2 == "all"' "$tmp/out" | grep -cF " $want_bytes ")" 1 \
        "BYTES: $pages pages of 2 MiB are $want_bytes"
ctl status --wide >"$tmp/out"
header=$(head -n1 "$tmp/out")
for col in SURPLUS OVERCOMMIT SOURCE OPTIMIZED BYTES; do
        [[ $header == *" $col "* ]]
        tap_ok $? "--wide has $col"
done
sed 's/^/# wide: /' "$tmp/out"
ctl status -o SIZE,NODE,OVERCOMMIT,PAGES --noheadings >"$tmp/out"
tap_is "$(awk '$1 == "2048kB" { print $3, $4 }' "$tmp/out")" \
        "$(cat "$hp/hugepages-2048kB/nr_overcommit_hugepages") $pages" "-o SIZE,NODE,OVERCOMMIT,PAGES: those columns, in that order"
tap_is "$(wc -l <"$tmp/out")" 6 "--noheadings: the table alone, 2 sizes x (pool + 2 nodes)"
ctl status -o +OVERCOMMIT >"$tmp/out"
header=$(head -n1 "$tmp/out")
[[ $header == SIZE*BYTES*OVERCOMMIT ]]
tap_ok $? "-o +OVERCOMMIT: the default columns, then OVERCOMMIT"
ctl status --raw -o size,node,pages >"$tmp/out"
tap_is "$(sed -n 4p "$tmp/out")" "2048kB 1 $(cat "$(node_file 1 2048kB)")" \
        "--raw: single spaces, the size on node rows too (lower-case column names)"
tap_is "$(wc -l <"$tmp/out")" 7 "--raw: the header and the table alone"

# ---- Relative amounts and the default size --------------------------------
ctl set 2M +5 -w -t 10 >"$tmp/out" 2>"$tmp/err"
tap_is $? 0 "set 2M +5 exits 0"
tap_is "$(cat "$hp/hugepages-2048kB/nr_hugepages")" $((10 + 5)) "set 2M +5: target 10 + 5"
ctl set 2M -3 -w -t 10 >"$tmp/out" 2>"$tmp/err"
tap_is $? 0 "set 2M -3 exits 0"
tap_is "$(cat "$hp/hugepages-2048kB/nr_hugepages")" $((15 - 3)) "set 2M -3: target 15 - 3"
ctl set 2M +4M -w -t 10 >/dev/null 2>&1
tap_is "$(cat "$hp/hugepages-2048kB/nr_hugepages")" $((12 + 4 * 1024 / 2048)) "set 2M +4M: 4 MiB more of 2 MiB pages"
before=$(cat "$(node_file 1 1048576kB)")
ctl set 1G +1 -n 1 -w -t 10 >/dev/null 2>&1
tap_is "$(cat "$(node_file 1 1048576kB)")" $((before + 1)) "set 1G +1 --node 1: node 1's target + 1"
ctl set 2M -100 >"$tmp/out" 2>"$tmp/err"
tap_is $? 2 "set 2M -100 below 0 exits 2"
grep -qF "its target is 14 pages, fewer than 100" "$tmp/err"
tap_ok $? "below 0: the target and the amount are named"
sed 's/^/# stderr: /' "$tmp/err"
tap_is "$(ctl --json status | hv get F_POOLS.0.F_TARGET)" 14 "set 2M -100 changed nothing"
default_kb=$(sed -n 's/^Hugepagesize: *\([0-9]*\) kB$/\1/p' "$root/proc/meminfo")
ctl --root "$root" set default 3 -w -t 10 >"$tmp/out" 2>"$tmp/err"
tap_is $? 0 "set default 3 exits 0"
tap_is "$(cat "$hp/hugepages-${default_kb}kB/nr_hugepages")" 3 "set default: the ${default_kb}kB pool (Hugepagesize)"
tap_is "$(cat "$hp/hugepages-2048kB/nr_hugepages")" 14 "set default: not the 2048kB pool"
ctl --root "$root" set DEFAULT 3 --dry-run >"$tmp/out" 2>"$tmp/err"
tap_is "$(cat "$tmp/out")" "dry run: ${default_kb}kB already has 3 pages: nothing to change" "DEFAULT in capitals works too"

# ---- Words: 1 page, nothing to change --------------------------------------
ctl set 1G 1 --runtime -w -t 10 >"$tmp/out" 2>"$tmp/err"
tap_is $? 0 "set 1G 1 exits 0"
grep -q "1 of target 1 page, converged" "$tmp/out"
tap_ok $? "one page is '1 page'"
grep -q "1 pages" "$tmp/out" "$tmp/err"
tap_ok $((! $?)) "never '1 pages'"
ctl set 2M 14 --dry-run >"$tmp/out" 2>"$tmp/err"
tap_is $? 0 "a dry run that changes nothing exits 0"
tap_is "$(cat "$tmp/out")" "dry run: 2048kB already has 14 pages: nothing to change" "a dry run that changes nothing says so"
ctl set 2M +2 --dry-run >"$tmp/out" 2>"$tmp/err"
grep -qF "from 14 pages to $((14 + 2)) pages" "$tmp/out"
tap_ok $? "a dry run that changes something says from and to"

# ---- Usage errors the daemon finds: exit 2, in the operator's words ---------
ctl set 4M 1 >"$tmp/out" 2>"$tmp/err"
tap_is $? 2 "set 4M 1 (no such size here) exits 2"
grep -qF "cannot set the 4M pool to 1 page: 4M is not a hugepage size on this machine" "$tmp/err"
tap_ok $? "no such size: what was asked and why it failed"
no_methods "$tmp/err"
tap_ok $? "no such size: no method names"
sed 's/^/# stderr: /' "$tmp/err"
ctl set 4M +1 >"$tmp/out" 2>"$tmp/err"
tap_is $? 2 "set 4M +1 exits 2"
no_methods "$tmp/err"
tap_ok $? "set 4M +1: no method names"
ctl set 2M 1 --node 5 >"$tmp/out" 2>"$tmp/err"
tap_is $? 2 "set --node 5 (no such node here) exits 2"
grep -qF "cannot set the 2M pool on node 5 to 1 page: node 5 does not exist on this machine" "$tmp/err"
tap_ok $? "no such node: what was asked and why it failed"
sed 's/^/# stderr: /' "$tmp/err"

# A daemon that goes away mid-reply: the request in words, no method name.
rm -f "$tmp/fake.sock"
hv serve "$tmp/fake.sock" close >/dev/null &
serve_pid=$!
poll_until 5 test -S "$tmp/fake.sock"
"$HUGEVMCTL" -s "$tmp/fake.sock" wait >/dev/null 2>"$tmp/err"
tap_is $? 3 "wait on a daemon that closes exits 3"
kill $serve_pid 2>/dev/null # if hugevmctl never connected, it still waits
wait $serve_pid
grep -qF "cannot wait for the pools: hugevmd at $tmp/fake.sock closed the connection" "$tmp/err"
tap_ok $? "a daemon gone: the request in words"
no_methods "$tmp/err"
tap_ok $? "a daemon gone: no method names"

kill -0 "$daemon_pid"
tap_ok $? "daemon still running"
stop_daemon
tap_is $? 0 "SIGTERM: hugevmd exits 0"
[ "$tap_failed" -eq 0 ] || show_log
tap_done
