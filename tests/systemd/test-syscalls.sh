#!/bin/bash
# hugevmd.service's SystemCallFilter= against what the real daemon does:
# strace follows hugevmd (all threads) through start, HVO on, a pool resize,
# every read and change method, a reload, metrics over HTTP and a stop, and
# every system call it made must be in the unit's allow list and in none of
# its deny lists, as this machine's systemd-analyze expands them.
. "$top_srcdir/tests/systemd/daemon-env.sh"
command -v strace >/dev/null || tap_skip_all "strace not installed"
command -v systemd-analyze >/dev/null || tap_skip_all "systemd-analyze not installed (Debian package systemd)"
[ -x "$HUGEVMCTL" ] || tap_skip_all "hugevmctl is not built yet ($HUGEVMCTL)"
unit=$top_srcdir/systemd/hugevmd.service.in

# expand SET...: the system calls in these filter sets, recursively.
expand() {
        local s
        for s in "$@"; do
                case $s in @*) ;; *) echo "$s"; continue ;; esac   # a call, not a set
                systemd-analyze syscall-filter --no-pager "$s" 2>/dev/null | awk 'NR > 1 && $1 !~ /^#/ && NF { print $1 }' |
                        while read -r call; do
                                case $call in @*) expand "$call" ;; *) echo "$call" ;; esac
                        done
        done
}
allow=$(sed -n 's/^SystemCallFilter=\([^~]\)/\1/p' "$unit" | tr '\n' ' ')
deny=$(sed -n 's/^SystemCallFilter=~//p' "$unit" | tr '\n' ' ')
[ -n "$allow" ] && [ -n "$deny" ]; tap_ok $? "the unit has an allow list ($allow) and a deny list ($deny)"
# As systemd merges the lines: in order, a plain one adds, a ~ one takes away.
: >"$tmp/allowed"
while read -r line; do
        case $line in
        "~"*) expand ${line#\~} | sort -u >"$tmp/set"; comm -23 "$tmp/allowed" "$tmp/set" >"$tmp/next" ;;
        *) { cat "$tmp/allowed"; expand $line; } | sort -u >"$tmp/next" ;;
        esac
        mv "$tmp/next" "$tmp/allowed"
done < <(sed -n 's/^SystemCallFilter=//p' "$unit")
expand $deny | sort -u | comm -23 - "$tmp/allowed" >"$tmp/denied"
[ "$(wc -l <"$tmp/allowed")" -gt 100 ]; tap_ok $? "systemd-analyze expands the allow list ($(wc -l <"$tmp/allowed") calls)"
# Re-optimization (vmm_pool_replace) runs only on the real root, which this
# test does not touch: its calls, checked by name.
missing=$(printf '%s\n' memfd_create fallocate set_mempolicy | sort | comm -23 - "$tmp/allowed" | tr '\n' ' ')
tap_is "$missing" "" "re-optimization's calls (memfd_create, fallocate, set_mempolicy) are allowed"

make_fakeroot
port=$(free_port)
write_config "127.0.0.1:$port"
sock=$tmp/hugevmd.sock
# LeakSanitizer cannot run under ptrace: in a sanitizer build, leaks are
# other tests' business.
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
        strace -f -qq -o "$tmp/trace" "$HUGEVMD" --root "$root" --config "$conf" --socket "$sock" >"$log" 2>&1 &
tracer=$!
pids_to_kill=$tracer
poll_until 20 test -S "$sock"; tap_ok $? "hugevmd started under strace"
daemon=$(cat /proc/$tracer/task/*/children 2>/dev/null | awk '{ print $1; exit }')

ctl() { "$HUGEVMCTL" --socket "$sock" "$@" >/dev/null 2>&1; }
ctl wait --timeout 20; tap_ok $? "pools converged"
ctl status && ctl version && ctl metrics && ctl vmemmap status && ctl set 2M 32 --wait --timeout 20 &&
        ctl vmemmap off && ctl vmemmap on && ctl reload
tap_ok $? "read and change requests answered"
python3 - "$port" <<'PY'
import sys, urllib.request
urllib.request.urlopen("http://127.0.0.1:%s/metrics" % sys.argv[1], timeout=5).read()
PY
tap_ok $? "metrics scraped"
pool=$root/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
target=$(cat "$pool")
reloads() { grep -c "Configuration reloaded" "$log"; }
n_reloads=$(reloads)
kill -HUP "$daemon"
poll_until 10 eval '[ "$(reloads)" -gt "$n_reloads" ]'; tap_ok $? "SIGHUP: configuration reloaded"
# A periodic refresh after the reload (RefreshSec=1): the pool shrunk behind
# the daemon's back is seen and grown back, with no request to wake it.
echo 8 >"$pool"
poll_until 10 eval '[ "$(cat "$pool")" = "$target" ]'
tap_ok $? "a refresh after the reload converges the pool changed behind its back (to $target)"
kill -TERM "$daemon"
for _ in $(seq 100); do kill -0 "$tracer" 2>/dev/null || break; sleep 0.1; done
wait "$tracer"
tap_is "$?" 0 "hugevmd stopped cleanly"

# Calls made once the real binary runs: after the last successful execve of a
# hugevmd (before it: strace's exec, and libtool's wrapper script in a build tree).
start=$(awk '/execve\(.*hugevmd.*= 0$/ { n = NR } END { print n + 0 }' "$tmp/trace")
awk -v start="$start" 'NR > start { sub(/^[0-9]+ +/, ""); if (match($0, /^[a-z_0-9]+\(/)) print substr($0, 1, RLENGTH - 1) }' \
        "$tmp/trace" | sort -u >"$tmp/used"
[ "$(wc -l <"$tmp/used")" -gt 20 ]; tap_ok $? "trace holds the daemon's calls ($(wc -l <"$tmp/used") distinct)"
outside=$(comm -23 "$tmp/used" "$tmp/allowed" | tr '\n' ' ')
tap_is "$outside" "" "every call is in $allow"
denied=$(comm -12 "$tmp/used" "$tmp/denied" | tr '\n' ' ')
tap_is "$denied" "" "no call is in $deny"
# MemoryDenyWriteExecute=: no writable+executable mapping, no mprotect to executable.
wx=$(awk -v start="$start" 'NR > start && (/^[0-9]+ +mprotect\(.*PROT_EXEC/ ||
        /^[0-9]+ +mmap\(.*(PROT_WRITE\|PROT_EXEC|PROT_EXEC\|PROT_WRITE)/)' "$tmp/trace" | head -3)
tap_is "$wx" "" "no W+X memory (MemoryDenyWriteExecute=)"
# RestrictAddressFamilies=: only the families the unit allows.
allowed_af=$(sed -n 's/^RestrictAddressFamilies=//p' "$unit")
families=$(awk -v start="$start" 'NR > start && match($0, /socket\(AF_[A-Z0-9]+/) {
        print substr($0, RSTART + 7, RLENGTH - 7) }' "$tmp/trace" | sort -u | tr '\n' ' ')
bad_af=
for af in $families; do [[ " $allowed_af " == *" $af "* ]] || bad_af="$bad_af $af"; done
tap_is "$bad_af" "" "address families used ($families) are in RestrictAddressFamilies=$allowed_af"
echo "# calls: $(tr '\n' ' ' <"$tmp/used")"
[ "$tap_failed" -eq 0 ] || show_log
tap_done
