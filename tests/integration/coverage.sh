#!/bin/bash
# What no other test covered, with the real hugevmd and hugevmctl on the fake
# kernel: a pool changed behind the daemon's back is put back and the change is
# reported with external: true; the notifications (progress, pool.changed,
# vmemmap.changed) field by field; Overcommit= and pool.set's overcommit
# (applied, persisted, put back when changed by hand, bounded); pool.set with
# nodes writing the per-node files (and node, keeping the other nodes); the
# MemTotal bound on pool.set; the idle timeout (HUGEVMD_IDLE_TIMEOUT_MS)
# closing an idle client with -32006 but not a subscriber. Expected values come
# from the test's own arithmetic; a check that something did NOT happen waits
# for a later event first (a notification, a log line), never a sleep.
# (MountUser=, MountGroup=, MountMinSize= need the real kernel's hugetlbfs:
# kernel/mount-options.sh.)
. "$top_srcdir/tests/integration/common.sh"

notify() { "$PYTHON" "$top_srcdir/tests/integration/notify.py" "$@"; }
call() { hv call "$sock" "$@"; }
notes=$tmp/notes
# listen: a subscriber writing to $notes; returns once it is subscribed.
listen() {
        : >"$notes"
        notify listen "$sock" >"$notes" 2>&1 &
        listener=$!
        extra_pids="${extra_pids:-} $listener"
        poll_until 10 grep -qx SUBSCRIBED "$notes"
}
mark() { notify lines "$notes"; }
# note_wait FROM METHOD FIELD=JSON...: the first such notification after line
# FROM (within 10 s): prints "LINE PARAMS"; on a timeout, what came instead.
note_wait() { local from=$1; shift; notify wait "$notes" "$from" 10 "$@"; }
# params_are PARAMS-JSON KEY=JSON...: PARAMS holds exactly these keys, with these values.
params_are() {
        "$PYTHON" - "$@" <<'EOF'
import json, sys
got = json.loads(sys.argv[1])
want = {k: json.loads(v) for k, v in (a.split("=", 1) for a in sys.argv[2:])}
if got != want:
    print("#   got  %s\n#   want %s" % (json.dumps(got, sort_keys=True), json.dumps(want, sort_keys=True)))
    sys.exit(1)
EOF
}
node_file() { echo "$root/sys/devices/system/node/node$1/hugepages/hugepages-$2/nr_hugepages"; }

# Two nodes of 2 GiB, 1.5 GiB of each for hugetlb: room for the 1000 2M pages
# below (interleaved, 500 a node).
make_fakeroot -s mem=2G -s hugemem=1536M
write_config <<EOF
HVO=no
[Pool 2M]
Pages=10
Overcommit=5
EOF
start_daemon
tap_ok $? "hugevmd starts" || { show_log; tap_done; exit 1; }
ctl wait --timeout 10 >/dev/null 2>&1
tap_is $? 0 "the configured pool converges"
listen
tap_ok $? "a subscriber is subscribed" || { cat "$notes"; show_log; tap_done; exit 1; }

# ---- Overcommit= in the config ------------------------------------------------
overcommit_file=$(pool_file 2048kB nr_overcommit_hugepages)
poll_until 5 file_is "$overcommit_file" 5
tap_ok $? "Overcommit=5: nr_overcommit_hugepages is 5"
tap_is "$(call M_POOL_GET '{@F_SIZE:"2M"}' | hv get F_RESULT.F_OVERCOMMIT)" 5 "Overcommit=5: pool.get says overcommit 5"

# ---- A pool changed behind the daemon's back ---------------------------------
# 10 pages, then someone writes 7: the daemon notices, says so (external:
# true), and writes its target back: progress from 7 to 10, then converged.
target=10 behind=7
m=$(mark)
echo $behind >"$(pool_file 2048kB nr_hugepages)"
r=$(note_wait "$m" N_POOL_CHANGED F_EXTERNAL=true)
tap_ok $? "a pool changed by hand: pool.changed with external: true" || echo "$r"
external_line=${r%% *}
params_are "${r#* }" "$P_F_SIZE=\"2048kB\"" "$P_F_NODE=null" "$P_F_STATE=\"$P_STATE_CONVERGING\"" \
        "$P_F_REASON=\"\"" "$P_F_EXTERNAL=true"
tap_ok $? "pool.changed (external): size 2048kB, node null, state converging, reason empty, external true"
r=$(note_wait "$external_line" N_PROGRESS F_CURRENT=$target)
tap_ok $? "then progress back to the target" || echo "$r"
params_are "${r#* }" "$P_F_SIZE=\"2048kB\"" "$P_F_NODE=null" "$P_F_FROM=$behind" "$P_F_CURRENT=$target" "$P_F_TARGET=$target"
tap_ok $? "progress: size 2048kB, node null, from $behind (what was written by hand), current $target, target $target"
r=$(note_wait "$external_line" N_POOL_CHANGED "F_STATE=\"$P_STATE_CONVERGED\"")
tap_ok $? "then pool.changed: converged" || echo "$r"
params_are "${r#* }" "$P_F_SIZE=\"2048kB\"" "$P_F_NODE=null" "$P_F_STATE=\"$P_STATE_CONVERGED\"" \
        "$P_F_REASON=\"\"" "$P_F_EXTERNAL=false"
tap_ok $? "pool.changed (our own write): converged, reason empty, external false"
tap_is "$(cat "$(pool_file 2048kB nr_hugepages)")" $target "the pool is put back to $target pages"
grep -q "The 2048kB pool changed behind hugevmd's back: $target -> $behind pages" "$log"
tap_ok $? "the log says the pool changed behind its back, $target -> $behind"
tap_is "$(notify list "$notes" "$m" N_POOL_CHANGED F_EXTERNAL=true | wc -l)" 1 \
        "exactly one external change reported (the daemon's own write back is not one)"

# ---- progress, field by field: a growth and a shrink ------------------------
# Every progress of one resize: the pool, node null, from where the episode
# started, the target, and current moving monotonically to the target.
progress_run() { # FROM-LINE FROM TARGET: check the progress notifications of one resize
        notify list "$notes" "$1" N_PROGRESS | "$PYTHON" -c '
import json, sys
P = dict(a.split("=", 1) for a in sys.argv[1:6])
start, target = int(sys.argv[6]), int(sys.argv[7])
seq = [json.loads(l.split(" ", 1)[1]) for l in sys.stdin if l.strip()]
bad = []
prev = start
for n in seq:
    if set(n) != {P["size"], P["node"], P["from"], P["current"], P["target"]}:
        bad.append("fields %s" % sorted(n))
        continue
    if n[P["size"]] != "2048kB" or n[P["node"]] is not None or n[P["from"]] != start or n[P["target"]] != target:
        bad.append("%s" % n)
    cur = n[P["current"]]
    if not (prev < cur <= target if target > start else target <= cur < prev):
        bad.append("current %d after %d" % (cur, prev))
    prev = cur
if not seq or prev != target:
    bad.append("%d notifications, last current %s" % (len(seq), prev))
print("%d notifications, currents %s" % (len(seq), [n.get(P["current"]) for n in seq]))
for b in bad:
    print("#   " + b)
sys.exit(1 if bad else 0)' size="$P_F_SIZE" node="$P_F_NODE" from="$P_F_FROM" current="$P_F_CURRENT" target="$P_F_TARGET" \
                "$2" "$3"
}
for step in "10 1000" "1000 400"; do
        set -- $step
        m=$(mark)
        call M_POOL_SET "{@F_SIZE:\"2M\",@F_PAGES:$2,@F_PERSIST:false}" >/dev/null
        ctl wait --timeout 10 >/dev/null 2>&1
        r=$(note_wait "$m" N_PROGRESS F_CURRENT=$2)
        tap_ok $? "resize $1 -> $2: a progress notification reaches $2" || echo "$r"
        r=$(progress_run "$m" "$1" "$2")
        tap_ok $? "resize $1 -> $2: every progress has size 2048kB, node null, from $1, target $2, current monotonic to $2"
        printf '%s\n' "$r" | sed 's/^\([^#]\)/# \1/'
        tap_is "$(cat "$(pool_file 2048kB nr_hugepages)")" "$2" "resize $1 -> $2: the pool holds $2 pages"
done
# The daemon's first shrink: nothing measured yet, so its first chunk is the
# documented 128 pages (docs/protocol.md): the first progress says 1000 - 128.
tap_is "$(notify list "$notes" "$m" N_PROGRESS | head -1 | cut -d' ' -f2- | hv get F_CURRENT)" $((1000 - 128)) \
        "the first shrink's first progress: current $((1000 - 128)) (a first chunk of 128 pages)"
r=$(note_wait "$m" N_POOL_CHANGED "F_STATE=\"$P_STATE_CONVERGING\"")
params_are "${r#* }" "$P_F_SIZE=\"2048kB\"" "$P_F_NODE=null" "$P_F_STATE=\"$P_STATE_CONVERGING\"" \
        "$P_F_REASON=\"\"" "$P_F_EXTERNAL=false"
tap_ok $? "pool.changed on pool.set: converging, reason empty, external false"

# ---- vmemmap.changed: {enabled} -----------------------------------------------
hvo_file=$root/proc/sys/vm/hugetlb_optimize_vmemmap
m=$(mark)
call M_VMEMMAP_SET '{@F_ENABLED:true}' >/dev/null
r=$(note_wait "$m" N_VMEMMAP)
tap_ok $? "vmemmap.set on: a vmemmap.changed notification" || echo "$r"
params_are "${r#* }" "$P_F_ENABLED=true"
tap_ok $? "vmemmap.changed: exactly {enabled: true}"
tap_is "$(cat "$hvo_file")" 1 "the sysctl is 1"
m=$(mark)
echo 0 >"$hvo_file"
r=$(note_wait "$m" N_VMEMMAP)
tap_ok $? "HVO turned off by hand: a vmemmap.changed notification" || echo "$r"
params_are "${r#* }" "$P_F_ENABLED=false"
tap_ok $? "vmemmap.changed: exactly {enabled: false}"
grep -q "HVO was turned off behind hugevmd's back" "$log"
tap_ok $? "the log says HVO was turned off behind its back"

# ---- pool.changed with a reason: a write the kernel refuses ------------------
# The 1G pool's next write fails with EPERM: the pool degrades, and says why.
eperm=$("$PYTHON" -c 'import errno, os; print(os.strerror(errno.EPERM))')
fk_ctl "$root" fail write /sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages EPERM 1
m=$(mark)
call M_POOL_SET '{@F_SIZE:"1G",@F_PAGES:1,@F_PERSIST:false}' >/dev/null
r=$(note_wait "$m" N_POOL_CHANGED "F_STATE=\"$P_STATE_DEGRADED\"")
tap_ok $? "a refused write: pool.changed degraded" || echo "$r"
params_are "${r#* }" "$P_F_SIZE=\"1048576kB\"" "$P_F_NODE=null" "$P_F_STATE=\"$P_STATE_DEGRADED\"" \
        "$P_F_REASON=\"writing nr_hugepages failed: $eperm\"" "$P_F_EXTERNAL=false"
tap_ok $? "pool.changed (refused): size 1048576kB, node null, degraded, reason 'writing nr_hugepages failed: $eperm', external false"
tap_is "$(cat "$(pool_file 1048576kB nr_hugepages)")" 0 "the refused write left the 1G pool empty"
m=$(mark)
call M_POOL_SET '{@F_SIZE:"1G",@F_PAGES:0,@F_PERSIST:false}' >/dev/null
r=$(note_wait "$m" N_POOL_CHANGED "F_SIZE=\"1048576kB\"" "F_STATE=\"$P_STATE_CONVERGED\"")
tap_ok $? "target 0: pool.changed converged" || echo "$r"

# ---- pool.set's overcommit ----------------------------------------------------
r=$(call M_POOL_SET '{@F_SIZE:"2M",@F_OVERCOMMIT:9}')
tap_is "$(printf '%s' "$r" | hv get F_RESULT.F_SIZE)" 2048kB "pool.set overcommit 9 alone is accepted" || echo "# $r"
poll_until 5 file_is "$overcommit_file" 9
tap_ok $? "pool.set overcommit 9: nr_overcommit_hugepages is 9"
tap_is "$(call M_POOL_GET '{@F_SIZE:"2M"}' | hv get F_RESULT.F_OVERCOMMIT F_RESULT.F_TARGET | tr '\n' ' ')" "9 400 " \
        "pool.get: overcommit 9, the page target (400) untouched"
"$PYTHON" -c '
import json, sys
doc = json.load(open(sys.argv[1]))
pools = [p for p in doc["pools"] if p.get("size_kb") == 2048]
sys.exit(0 if pools and pools[0].get("overcommit") == 9 else 1)' "$state/state.json"
tap_ok $? "the state file holds overcommit 9 for 2048kB"
echo 2 >"$overcommit_file"
poll_until 5 file_is "$overcommit_file" 9
tap_ok $? "overcommit changed by hand (2) is put back to 9"
ctl metrics | grep -q '^hugevm_pool_overcommit_pages{size="2048kB"} 9$'
tap_ok $? "metrics: hugevm_pool_overcommit_pages of 2048kB is 9"

# ---- pool.set with nodes ------------------------------------------------------
# The 400 pages are the nodes' sum: the growth to 1000 interleaved them 500
# and 500, the shrink to 400 took them round robin, 300 from each: 200 a node.
n0=3 n1=2 had=$((400 / 2))
tap_is "$(cat "$(node_file 0 2048kB)") $(cat "$(node_file 1 2048kB)")" "$had $had" "the 400 pages are $had on each node"
m=$(mark)
r=$(call M_POOL_SET "{@F_SIZE:\"2M\",@F_NODES:{\"0\":$n0,\"1\":$n1}}")
tap_is "$(printf '%s' "$r" | hv get F_RESULT.F_TARGET F_RESULT.F_NODES.0.F_TARGET F_RESULT.F_NODES.1.F_TARGET | tr '\n' ' ')" \
        "null $n0 $n1 " "pool.set nodes {0:$n0, 1:$n1}: whole target null, node targets $n0 and $n1" || echo "# $r"
call M_WAIT '{@F_SIZE:"2M",@F_TIMEOUT_MS:10000}' | hv get F_RESULT.F_STATE | grep -qx "$P_STATE_CONVERGED"
tap_ok $? "wait: the per-node pool converges"
tap_is "$(cat "$(node_file 0 2048kB)") $(cat "$(node_file 1 2048kB)")" "$n0 $n1" "node0 and node1 nr_hugepages are $n0 and $n1"
for node in 0 1; do
        want=$([ $node = 0 ] && echo $n0 || echo $n1)
        r=$(note_wait "$m" N_PROGRESS F_NODE=$node F_CURRENT=$want)
        params_are "${r#* }" "$P_F_SIZE=\"2048kB\"" "$P_F_NODE=$node" "$P_F_FROM=$had" "$P_F_CURRENT=$want" "$P_F_TARGET=$want"
        tap_ok $? "progress for node $node: size 2048kB, node $node, from $had, current $want, target $want" || echo "$r"
done
"$PYTHON" -c '
import json, sys
doc = json.load(open(sys.argv[1]))
pools = [p for p in doc["pools"] if p.get("size_kb") == 2048]
sys.exit(0 if pools and pools[0].get("nodes") == {"0": int(sys.argv[2]), "1": int(sys.argv[3])} else 1)' \
        "$state/state.json" $n0 $n1
tap_ok $? "the state file holds nodes {0: $n0, 1: $n1}"
# node: one node's target, the others kept; nodes: replaces them all.
call M_POOL_SET '{@F_SIZE:"2M",@F_PAGES:1,@F_NODE:0,@F_PERSIST:false}' >/dev/null
call M_WAIT '{@F_SIZE:"2M",@F_TIMEOUT_MS:10000}' >/dev/null
tap_is "$(cat "$(node_file 0 2048kB)") $(cat "$(node_file 1 2048kB)")" "1 $n1" "pool.set node 0 pages 1: node0 is 1, node1 kept at $n1"
call M_POOL_SET '{@F_SIZE:"2M",@F_NODES:{"1":4},@F_PERSIST:false}' >/dev/null
call M_WAIT '{@F_SIZE:"2M",@F_TIMEOUT_MS:10000}' >/dev/null
r=$(call M_POOL_GET '{@F_SIZE:"2M"}')
tap_is "$(printf '%s' "$r" | hv get F_RESULT.F_NODES.0.F_TARGET F_RESULT.F_NODES.1.F_TARGET | tr '\n' ' ')" "null 4 " \
        "pool.set nodes {1:4} replaces the targets: node 0 none, node 1 4"
tap_is "$(cat "$(node_file 0 2048kB)") $(cat "$(node_file 1 2048kB)")" "1 4" "node1 nr_hugepages is 4, node0 left as it was (1)"

# ---- The MemTotal bound ---------------------------------------------------------
# bound_checks WHEN: pool.set refuses one page more than MemTotal holds.
human_gib() { "$PYTHON" -c 'import sys; print("%.1f GiB" % (int(sys.argv[1]) / 1048576))' "$1"; }
bound_checks() {
        local kb max2 max1 r mem
        kb=$(awk '$1 == "MemTotal:" {print $2}' "$root/proc/meminfo")
        max2=$((kb / 2048)) max1=$((kb / 1048576)) mem=$(human_gib "$kb")
        r=$(call M_POOL_SET "{@F_SIZE:\"2M\",@F_PAGES:$max2,@F_DRY_RUN:true}")
        tap_is "$(printf '%s' "$r" | hv get F_RESULT.F_TARGET)" $max2 "$1: 2M pages $max2 (MemTotal $kb kB / 2048 kB) accepted"
        r=$(call M_POOL_SET "{@F_SIZE:\"2M\",@F_PAGES:$((max2 + 1)),@F_DRY_RUN:true}")
        tap_is "$(printf '%s' "$r" | hv get F_ERROR.F_CODE F_ERROR.F_MESSAGE | tr '\n' '|')" \
                "$P_ERR_INVALID_PARAMS|$P_F_PAGES: $((max2 + 1)) pages of 2048kB exceed this machine's memory ($mem, at most $max2 pages)|" \
                "$1: 2M pages $((max2 + 1)) refused with -32602 naming the memory ($mem)"
        r=$(call M_POOL_SET "{@F_SIZE:\"1G\",@F_PAGES:$((max1 + 1)),@F_DRY_RUN:true}")
        tap_is "$(printf '%s' "$r" | hv get F_ERROR.F_CODE F_ERROR.F_MESSAGE | tr '\n' '|')" \
                "$P_ERR_INVALID_PARAMS|$P_F_PAGES: $((max1 + 1)) pages of 1048576kB exceed this machine's memory ($mem, at most $max1 pages)|" \
                "$1: 1G pages $((max1 + 1)) refused (at most $max1)"
        r=$(call M_POOL_SET "{@F_SIZE:\"2M\",@F_NODES:{\"0\":$((max2 + 1))},@F_DRY_RUN:true}")
        tap_is "$(printf '%s' "$r" | hv get F_ERROR.F_CODE)" "$P_ERR_INVALID_PARAMS" "$1: nodes {0: $((max2 + 1))} refused"
        r=$(call M_POOL_SET "{@F_SIZE:\"2M\",@F_OVERCOMMIT:$((max2 + 1)),@F_DRY_RUN:true}")
        tap_is "$(printf '%s' "$r" | hv get F_ERROR.F_CODE)" "$P_ERR_INVALID_PARAMS" "$1: overcommit $((max2 + 1)) refused"
        r=$(call M_POOL_SET "{@F_SIZE:\"1G\",@F_BYTES:\"$((max1 + 1))G\",@F_DRY_RUN:true}")
        tap_is "$(printf '%s' "$r" | hv get F_ERROR.F_CODE F_ERROR.F_MESSAGE | tr '\n' '|')" \
                "$P_ERR_INVALID_PARAMS|$P_F_BYTES: $(((max1 + 1) << 30)) exceeds this machine's memory ($mem)|" \
                "$1: 1G bytes $((max1 + 1))G refused naming the memory"
}
bound_checks "MemTotal $(awk '$1 == "MemTotal:" {print $2}' "$root/proc/meminfo") kB"
tap_is "$(cat "$(pool_file 2048kB nr_hugepages)")" $((1 + 4)) "dry runs and refusals left the pool alone (the nodes' 1 + 4 pages)"

stop_daemon
tap_is "$daemon_status" 0 "hugevmd exits 0"

# ---- Restarted: another MemTotal, the idle timeout ----------------------------
# The machine boots again with two nodes of 1792 MiB (3.5 GiB): the bound
# follows MemTotal as read at start. Overcommit: the persisted 9, not the
# config's 5 (the new boot has 0, so it must be written).
fk_stop "$root" || { echo "Bail out! the fake kernel on $root does not stop"; exit 1; }
make_fakeroot -s mem=1792M
mem_kb=$((2 * 1792 * 1024))
tap_is "$(awk '$1 == "MemTotal:" {print $2}' "$root/proc/meminfo") $(cat "$overcommit_file")" "$mem_kb 0" \
        "the machine rebooted: MemTotal $mem_kb kB, overcommit 0"
idle_ms=1500
: >"$log"
HUGEVMD_IDLE_TIMEOUT_MS=$idle_ms start_daemon
tap_ok $? "hugevmd restarts with HUGEVMD_IDLE_TIMEOUT_MS=$idle_ms and MemTotal $mem_kb kB" || { show_log; tap_done; exit 1; }
poll_until 5 file_is "$overcommit_file" 9
tap_ok $? "after the restart overcommit is the persisted 9 (not the config's 5)"
bound_checks "MemTotal $mem_kb kB"
listen
tap_ok $? "a subscriber is subscribed"

# One whole request, then silence: the reply, then -32006 with id null about
# idle_ms later, then EOF. A client that sent only part of a line is closed
# idle_ms after its last whole request (here: its connect), the bytes do not
# count. Waits (pacing) happen in the client; nothing is concluded from them.
r=$("$PYTHON" - "$sock" "$idle_ms" <<'EOF'
import importlib.util, json, os, socket, sys, time
spec = importlib.util.spec_from_file_location("hv", os.path.join(os.environ["top_srcdir"], "tests/integration/hv.py"))
hv = importlib.util.module_from_spec(spec); spec.loader.exec_module(hv); P = hv.P
sock, idle = sys.argv[1], int(sys.argv[2])
def req(rid):
    return (json.dumps({P["F_JSONRPC"]: "2.0", P["F_METHOD"]: P["M_VERSION"], P["F_ID"]: rid}) + "\n").encode()
# 1. idle after a whole request
s = socket.socket(socket.AF_UNIX); s.connect(sock)
s.sendall(req(1))
first = hv.read_lines(s, 10, want=1)[0]
t0 = time.monotonic()
lines = hv.read_lines(s, idle / 1000 + 10)
ms = (time.monotonic() - t0) * 1000
err = json.loads(lines[0]) if lines and lines[0].startswith("{") else {}
e = err.get(P["F_ERROR"], {})
print("\t".join(str(x) for x in (P["F_RESULT"] in json.loads(first), e.get(P["F_CODE"]), e.get(P["F_MESSAGE"]),
                                   json.dumps(err.get(P["F_ID"], "MISSING")), int(ms), lines[-1] if lines else "NOTHING")))
# 2. half a line 60% into the idle time: closed at idle_ms after the connect
s = socket.socket(socket.AF_UNIX); s.connect(sock)
t0 = time.monotonic()
time.sleep(idle * 0.6 / 1000)
s.sendall(b'{"jsonrpc":"2.0","id":2,"meth')
lines = hv.read_lines(s, idle / 1000 + 10)
ms = (time.monotonic() - t0) * 1000
err = json.loads(lines[0]) if lines and lines[0].startswith("{") else {}
print("\t".join(str(x) for x in (err.get(P["F_ERROR"], {}).get(P["F_CODE"]), int(ms), lines[-1] if lines else "NOTHING")))
EOF
)
printf '%s\n' "$r" | sed 's/^/# /'
IFS=$'\t' read -r answered code msg id ms last <<<"$(printf '%s\n' "$r" | sed -n 1p)"
tap_is "$answered $code" "True $P_ERR_LIMIT" "idle client: answered, then error $P_ERR_LIMIT (limit exceeded)"
tap_is "$msg|$id" "idle for $idle_ms ms: closing the connection|null" "idle client: the message names the idle time, id null"
[ "${ms:-0}" -ge $((idle_ms - 100)) ] && [ "${ms:-0}" -lt $((idle_ms + 3000)) ]
tap_ok $? "idle client: closed ${ms:-?} ms after its last request (HUGEVMD_IDLE_TIMEOUT_MS=$idle_ms)"
tap_is "$last" EOF "idle client: the connection is closed after the error"
IFS=$'\t' read -r code ms last <<<"$(printf '%s\n' "$r" | sed -n 2p)"
tap_is "$code $last" "$P_ERR_LIMIT EOF" "a client that sent part of a line only: closed with $P_ERR_LIMIT"
[ "${ms:-0}" -ge $((idle_ms - 100)) ] && [ "${ms:-0}" -lt $((idle_ms * 16 / 10 - 100)) ]
tap_ok $? "part of a line does not count: closed ${ms:-?} ms after connecting (the idle time $idle_ms ms, not $((idle_ms * 16 / 10)))"
# The subscriber has been silent longer than the idle time by now (the two
# clients above were closed for less): it still gets the next notification.
m=$(mark)
call M_VMEMMAP_SET '{@F_ENABLED:true}' >/dev/null
r=$(note_wait "$m" N_VMEMMAP F_ENABLED=true)
tap_ok $? "a subscriber silent for longer than the idle time is not closed: it gets vmemmap.changed" || echo "$r"
grep -qx EOF "$notes" || grep -q "$P_ERR_LIMIT" "$notes"
tap_ok $((! $?)) "the subscriber got no error and no EOF"

kill "$listener" 2>/dev/null
stop_daemon
tap_is "$daemon_status" 0 "hugevmd exits 0"
daemon_log_clean
tap_ok $? "no sanitizer report in the daemon log"
[ "$tap_failed" -eq 0 ] || show_log 40
tap_done
