#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# make bench: hugevm's benchmarks (issue 8). Prints figures as Markdown tables;
# nothing here passes or fails. docs/benchmarks.md has a real run and targets.
#
# Knobs (environment):
#   BENCH_PARTS="1 2 3 4 5"  which parts to run
#   BENCH_RUNS=5             runs per resize measurement (median)
#   BENCH_PAGES="1000 4000"  resize targets in 2 MiB pages (part 1)
#   BENCH_REQUESTS=2000      status requests per client (parts 2 and 5)
#   BENCH_IDLE_SEC=60        idle time before RSS/CPU are read (part 4)
#
# Part 1 changes the real 2 MiB pool and the HVO sysctl: it holds the
# real-kernel lock (/tmp/hugevm-realkernel.lock) for its whole duration and
# puts back nr_hugepages, nr_overcommit_hugepages and HVO on exit, also on
# failure or interrupt. The other parts change nothing on the machine.
# Part 5 runs the daemon on the fake kernel (tests/fakekernel, a FUSE mount:
# root, /dev/fuse and fusermount3), one mount per machine shape.
set -u
: "${top_builddir:?run through make bench}" "${top_srcdir:?run through make bench}"
HUGEVMD=$top_builddir/daemon/hugevmd
HUGEVMCTL=$top_builddir/ctl/hugevmctl
HVLOAD=$top_builddir/bench/hvload
# Time the programs, not libtool's wrapper scripts around them in a build tree.
real_bin() { if [ -x "${1%/*}/.libs/${1##*/}" ]; then echo "${1%/*}/.libs/${1##*/}"; else echo "$1"; fi; }
HUGEVMD=$(real_bin "$HUGEVMD") HUGEVMCTL=$(real_bin "$HUGEVMCTL") HVLOAD=$(real_bin "$HVLOAD")
export LD_LIBRARY_PATH=$top_builddir/libvmemmap/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
PARTS=${BENCH_PARTS:-1 2 3 4 5}
RUNS=${BENCH_RUNS:-5}
PAGES=${BENCH_PAGES:-1000 4000}
REQUESTS=${BENCH_REQUESTS:-2000}
IDLE_SEC=${BENCH_IDLE_SEC:-60}
. "$top_srcdir/tests/fakekernel/fakekernel.sh" # fk_start: the test tiers' fake kernel

POOL=/sys/kernel/mm/hugepages/hugepages-2048kB
HVO_SYSCTL=/proc/sys/vm/hugetlb_optimize_vmemmap
LOCK=/tmp/hugevm-realkernel.lock

tmp=$(mktemp -d /tmp/hugevm-bench.XXXXXX)
daemon_pid=
saved_pages= saved_overcommit= saved_hvo=

note() { printf '%s\n' "$*"; }
warn() { printf 'bench: %s\n' "$*" >&2; }

stop_daemon() {
        [ -n "$daemon_pid" ] || return 0
        kill -TERM "$daemon_pid" 2>/dev/null
        local i=0
        while kill -0 "$daemon_pid" 2>/dev/null && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
        kill -KILL "$daemon_pid" 2>/dev/null
        wait "$daemon_pid" 2>/dev/null
        daemon_pid=
}

# Put back what part 1 found, in an order that always works: HVO first (so
# the pool is restored with the HVO state it had), then the pool.
restore_kernel() {
        [ -n "$saved_pages" ] || return 0
        [ -n "$saved_hvo" ] && echo "$saved_hvo" >"$HVO_SYSCTL"
        echo "$saved_overcommit" >"$POOL/nr_overcommit_hugepages"
        echo "$saved_pages" >"$POOL/nr_hugepages"
        local now
        now=$(cat "$POOL/nr_hugepages")
        [ "$now" = "$saved_pages" ] || warn "could not restore nr_hugepages: $now, was $saved_pages"
        saved_pages=
}

cleanup() {
        stop_daemon
        restore_kernel
        fk_stop_all     # after the daemon: nothing may hold a mount
        rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# start_daemon ROOT CONF: hugevmd in the background on a temp socket; waits
# (bounded) for the socket.
start_daemon() {
        sock=$tmp/hugevmd.sock
        rm -f "$sock"
        "$HUGEVMD" --root "$1" --config "$2" --socket "$sock" --state-dir "$tmp/state" >>"$tmp/daemon.log" 2>&1 &
        daemon_pid=$!
        local i=0
        while [ $i -lt 200 ]; do
                [ -S "$sock" ] && return 0
                kill -0 "$daemon_pid" 2>/dev/null || break
                sleep 0.05
                i=$((i + 1))
        done
        warn "hugevmd did not start; its log:"
        tail -n 20 "$tmp/daemon.log" >&2
        daemon_pid=
        return 1
}

# A config that changes nothing on a real machine: HVO left as it is, no pool.
quiet_config() {
        printf '[Daemon]\nHVO=no\nMetricsListen=%s\nRefreshSec=10\n' "${1:-no}" >"$tmp/quiet.conf"
        echo "$tmp/quiet.conf"
}

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# Microseconds since the epoch, without a fork (bash 5 EPOCHREALTIME).
now_us() { local t=${EPOCHREALTIME/[.,]/}; echo "$t"; }

machine() {
        note "## Machine"
        note ""
        note "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
        note "- CPU: $(nproc) x $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)"
        note "- memory: $(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
        note "- kernel: $(uname -r)"
        note "- load average at start: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine shares the CPUs)"
        note "- hugevm: $("$HUGEVMCTL" version 2>/dev/null | head -n1)"
        note ""
}

# ---- 1. Resize: hugevmctl set --wait vs one raw sysfs write -------------------
# pool_to PAGES: raw write and read back (not timed).
pool_to() {
        echo "$1" >"$POOL/nr_hugepages"
        [ "$(cat "$POOL/nr_hugepages")" = "$1" ]
}

part_resize() {
        note "## 1. Resize: \`hugevmctl set 2M N --runtime --wait\` vs one sysfs write"
        note ""
        if [ "$(id -u)" != 0 ] || [ ! -w "$POOL/nr_hugepages" ]; then
                note "skipped: needs root and a writable $POOL"; note ""; return
        fi
        exec 9>"$LOCK"
        flock 9
        saved_pages=$(cat "$POOL/nr_hugepages")
        saved_overcommit=$(cat "$POOL/nr_overcommit_hugepages")
        saved_hvo=$(cat "$HVO_SYSCTL" 2>/dev/null)
        note "Growth from an empty pool to N pages, median of $RUNS runs, wall time in ms."
        note "hugevmctl's time is the whole command: connect, subscribe, pool.set, the daemon's"
        note "chunked writes and read-backs, wait until converged."
        note ""
        note "| HVO | pages | sysfs write (ms) | hugevmctl (ms) | ratio |"
        note "|---|---:|---:|---:|---:|"
        echo 0 >"$POOL/nr_overcommit_hugepages"
        local hvo n run t0 t1 raw ctl
        for hvo in off on; do
                if [ -z "$saved_hvo" ]; then
                        [ $hvo = on ] && { note "| on | - | no HVO sysctl on this kernel | | |"; continue; }
                else
                        echo $([ $hvo = on ] && echo 1 || echo 0) >"$HVO_SYSCTL"
                fi
                for n in $PAGES; do
                        raw=() ctl=()
                        # Raw writes first, with no daemon that could correct them.
                        for ((run = 0; run < RUNS; run++)); do
                                pool_to 0 || { warn "cannot empty the 2M pool"; return; }
                                t0=$(now_us)
                                echo "$n" >"$POOL/nr_hugepages"
                                t1=$(now_us)
                                [ "$(cat "$POOL/nr_hugepages")" = "$n" ] || warn "raw write reached $(cat "$POOL/nr_hugepages") of $n"
                                raw+=("$(( t1 - t0 ))")
                        done
                        pool_to 0
                        start_daemon / "$(quiet_config)" || return
                        for ((run = 0; run < RUNS; run++)); do
                                t0=$(now_us)
                                "$HUGEVMCTL" --socket "$sock" set 2M "$n" --runtime --wait >/dev/null 2>&1 ||
                                        warn "hugevmctl set 2M $n --wait failed (exit $?)"
                                t1=$(now_us)
                                [ "$(cat "$POOL/nr_hugepages")" = "$n" ] || warn "hugevmctl reached $(cat "$POOL/nr_hugepages") of $n"
                                ctl+=("$(( t1 - t0 ))")
                                "$HUGEVMCTL" --socket "$sock" set 2M 0 --runtime --wait >/dev/null 2>&1
                        done
                        stop_daemon
                        pool_to 0
                        raw=$(printf '%s\n' "${raw[@]}" | median)
                        ctl=$(printf '%s\n' "${ctl[@]}" | median)
                        note "$(awk -v h=$hvo -v n="$n" -v r="$raw" -v c="$ctl" \
                                'BEGIN { printf "| %s | %d | %.1f | %.1f | %.2f |", h, n, r / 1000, c / 1000, c / r }')"
                done
        done
        restore_kernel
        flock -u 9
        exec 9>&-
        note ""
}

# ---- 2. Control plane: status under 1, 8, 64 concurrent clients ----------------
load_row() { # LABEL hvload-output
        awk -v label="$1" '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
                printf "| %s | %d | %d | %s | %s | %s | %d |\n", label, v["clients"], v["requests"], v["rps"],
                       v["p50_us"], v["p99_us"], v["errors"] }' <<<"$2"
}

part_control() {
        note "## 2. Control plane: \`status\` requests, persistent connections"
        note ""
        note "hugevmd on this machine's /sys and /proc (no pool managed), bench/hvload as the"
        note "client, $REQUESTS requests per client; client and daemon share the CPUs."
        note ""
        start_daemon / "$(quiet_config)" || return
        "$HVLOAD" --socket "$sock" --clients 4 --requests 200 >/dev/null   # warm up
        note "| run | clients | requests | requests/s | p50 (µs) | p99 (µs) | errors |"
        note "|---|---:|---:|---:|---:|---:|---:|"
        local c out
        for c in 1 8 64; do
                out=$("$HVLOAD" --socket "$sock" --clients $c --requests "$REQUESTS") || warn "hvload with $c clients failed"
                load_row "real root" "$out"
        done
        stop_daemon
        note ""
}

# ---- 3. hugevmctl status vs hugeadm --pool-list ---------------------------------
part_cli() {
        note "## 3. CLI wall time: \`hugevmctl status\` vs \`hugeadm --pool-list\`"
        note ""
        local hugeadm
        hugeadm=$(command -v hugeadm)
        start_daemon / "$(quiet_config)" || return
        if [ -z "$hugeadm" ]; then
                note "hugeadm not installed (Debian: libhugetlbfs-bin): only hugevmctl measured."
        fi
        if command -v hyperfine >/dev/null && command -v python3 >/dev/null; then
                local cmds=("$HUGEVMCTL --socket $sock status")
                [ -n "$hugeadm" ] && cmds+=("$hugeadm --pool-list")
                hyperfine -N --warmup 10 --runs 100 --export-json "$tmp/cli.json" "${cmds[@]}" >/dev/null 2>&1 ||
                        hyperfine --warmup 10 --runs 100 --export-json "$tmp/cli.json" "${cmds[@]}" >/dev/null 2>&1
                note "hyperfine, 100 runs after 10 warm-up runs."
                note ""
                note "| command | mean (ms) | median (ms) | min (ms) | stddev (ms) |"
                note "|---|---:|---:|---:|---:|"
                python3 - "$tmp/cli.json" "$sock" <<'PY'
import json, sys
for r in json.load(open(sys.argv[1]))["results"]:
    cmd = r["command"].replace(" --socket " + sys.argv[2], "").split("/")[-1]
    print("| `%s` | %.2f | %.2f | %.2f | %.2f |" % (cmd, r["mean"] * 1e3, r["median"] * 1e3, r["min"] * 1e3, r["stddev"] * 1e3))
PY
        else
                note "hyperfine not installed: loop of 100 runs each, median."
                note ""
                note "| command | median (ms) |"
                note "|---|---:|"
                local cmd i t0 t1 times
                for cmd in "$HUGEVMCTL --socket $sock status" ${hugeadm:+"$hugeadm --pool-list"}; do
                        times=()
                        for ((i = 0; i < 100; i++)); do
                                t0=$(now_us); $cmd >/dev/null 2>&1; t1=$(now_us)
                                times+=("$(( t1 - t0 ))")
                        done
                        local shown=${cmd/ --socket $sock/}
                        note "| \`${shown##*/}\` | $(printf '%s\n' "${times[@]}" | median | awk '{ printf "%.2f", $1 / 1000 }') |"
                done
        fi
        stop_daemon
        note ""
}

# ---- 4. Idle cost -----------------------------------------------------------------
part_idle() {
        note "## 4. Daemon at rest: RSS and CPU after ${IDLE_SEC} s idle"
        note ""
        local conf=$tmp/idle.conf
        # As shipped: metrics endpoint on (an ephemeral port), refresh every 10 s, no pool managed.
        printf '[Daemon]\nHVO=no\nMetricsListen=127.0.0.1:0\nRefreshSec=10\n' >"$conf"
        start_daemon / "$conf" || return
        local hz before after t0 t1
        hz=$(getconf CLK_TCK)
        sleep 1
        before=$(awk '{ print $14 + $15 }' "/proc/$daemon_pid/stat"); t0=$(now_us)
        sleep "$IDLE_SEC"
        after=$(awk '{ print $14 + $15 }' "/proc/$daemon_pid/stat"); t1=$(now_us)
        note "| RSS (VmRSS) | peak (VmHWM) | CPU time in ${IDLE_SEC} s | CPU |"
        note "|---:|---:|---:|---:|"
        awk -v b="$before" -v a="$after" -v hz="$hz" -v us=$(( t1 - t0 )) '
                /^VmRSS/ { rss = $2 } /^VmHWM/ { hwm = $2 }
                END { printf "| %.1f MiB | %.1f MiB | %d ms | %.3f %% |\n", rss / 1024, hwm / 1024,
                             (a - b) * 1000 / hz, (a - b) / hz / (us / 1e6) * 100 }' "/proc/$daemon_pid/status"
        stop_daemon
        note ""
        note "CPU from utime+stime in /proc/PID/stat (${hz} ticks/s), after 1 s of start-up."
        note ""
}

# ---- 5. Status cost as the machine grows (the fake kernel) -------------------------
part_scale() {
        note "## 5. Status cost as the machine grows (the fake kernel)"
        note ""
        # The fake kernel is a check program of tests/: build it if it is not yet.
        [ -x "$FAKEKERNEL" ] || make -C "$top_builddir/tests" -s fakekernel/fakekernel >/dev/null 2>&1
        if ! fk_usable; then
                note "skipped: $fk_why"; note ""; return
        fi
        note "Every size managed (target 0, converged), so every pool and node carries a target;"
        note "$REQUESTS/nodes requests per client (at least 20). The machine is the fake kernel"
        note "(tests/fakekernel): every file the daemon reads is a FUSE round trip to it, so"
        note "the figures include that cost (a real sysfs read is cheaper)."
        note ""
        note "| nodes | sizes | status reply (bytes) | 1 client: p50 (µs) | 1 client: requests/s | 8 clients: requests/s |"
        note "|---:|---:|---:|---:|---:|---:|"
        local nodes sizes root conf out1 out8 bytes s req
        for nodes in 1 8 64; do
                for sizes in "2048 1048576" "64 2048 32768 1048576"; do
                        root=$tmp/root-$nodes-${sizes// /-}
                        fk_start "$root" -s nodes="$nodes" -s sizes="${sizes// /,}" \
                                -s arch="$([ "$(wc -w <<<"$sizes")" = 4 ] && echo aarch64 || echo x86_64)" ||
                                { warn "cannot start the fake kernel on $root"; return; }
                        conf=$tmp/scale.conf
                        printf '[Daemon]\nHVO=no\nMetricsListen=no\n' >"$conf"
                        for s in $sizes; do printf '[Pool %skB]\nPages=0\n' "$s" >>"$conf"; done
                        start_daemon "$root" "$conf" || return
                        bytes=$("$HUGEVMCTL" --socket "$sock" --json status | tr -d ' \n' | wc -c)
                        "$HVLOAD" --socket "$sock" --clients 1 --requests 20 >/dev/null
                        # Fewer requests where each costs more: a bounded run time.
                        req=$(( REQUESTS / nodes > 20 ? REQUESTS / nodes : 20 ))
                        out1=$("$HVLOAD" --socket "$sock" --clients 1 --requests "$req")
                        out8=$("$HVLOAD" --socket "$sock" --clients 8 --requests "$req")
                        stop_daemon
                        fk_stop "$root"
                        awk -v n="$nodes" -v s="$(wc -w <<<"$sizes")" -v b="$bytes" -v o1="$out1" -v o8="$out8" 'BEGIN {
                                split(o1, a, " "); for (i in a) { split(a[i], kv, "="); v1[kv[1]] = kv[2] }
                                split(o8, a, " "); for (i in a) { split(a[i], kv, "="); v8[kv[1]] = kv[2] }
                                printf "| %d | %d | ~%d | %s | %s | %s |\n", n, s, b, v1["p50_us"], v1["rps"], v8["rps"] }'
                done
        done
        note ""
        note "Sizes: 2 = 2048kB + 1048576kB; 4 = 64kB + 2048kB + 32768kB + 1048576kB (arm64's set)."
        note "Reply size is of the pretty-printed JSON with whitespace removed."
        note ""
}

[ -x "$HUGEVMD" ] && [ -x "$HUGEVMCTL" ] && [ -x "$HVLOAD" ] || { warn "build first (make, make -C bench hvload)"; exit 1; }
machine
for p in $PARTS; do
        case $p in
        1) part_resize ;;
        2) part_control ;;
        3) part_cli ;;
        4) part_idle ;;
        5) part_scale ;;
        *) warn "unknown part $p" ;;
        esac
done
exit 0
