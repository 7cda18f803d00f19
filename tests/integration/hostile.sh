#!/bin/bash
# A hostile local user (nobody, no group) against the real daemon: it holds
# every connection it can get and trickles bytes on them, yet root's status,
# set and wait are answered at once; its trickle keeps nothing open past the
# idle limit (counted on whole requests); 2000 connect()s in a row never find
# the listen backlog full.
. "$top_srcdir/tests/integration/common.sh"

[ "$(id -u)" = 0 ] || tap_skip_all "needs root to run the attacker as another uid"
command -v setpriv >/dev/null || tap_skip_all "setpriv (util-linux) is needed"
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
as_nobody test -r "$top_srcdir/tests/integration/attack.py" || tap_skip_all "nobody cannot read the source tree"
attack() { as_nobody "$PYTHON" "$top_srcdir/tests/integration/attack.py" "$@"; }

per_uid=$(sed -n 's/^#define PROTO_MAX_CLIENTS_PER_UID *\([0-9]*\)u.*/\1/p' "$top_srcdir/proto/proto.h")
max=$(sed -n 's/^#define PROTO_MAX_CLIENTS *\([0-9]*\)u.*/\1/p' "$top_srcdir/proto/proto.h")

make_fakeroot
write_config <<EOF
[Pool 2M]
Pages=4
EOF
HUGEVMD_IDLE_TIMEOUT_MS=2000 start_daemon
tap_ok $? "hugevmd starts (idle limit 2 s)" || { show_log; tap_done; exit 1; }

# ---- nobody takes every connection it can ----------------------------------
attack hold "$sock" "$max" >"$tmp/attack.out" 2>&1 &
attacker=$!
extra_pids=$attacker
poll_until 20 grep -q '^held' "$tmp/attack.out"
sed 's/^/# /' "$tmp/attack.out"
held=$(awk '/^held/ {print $2}' "$tmp/attack.out")
tap_is "$held" "$per_uid" "nobody holds no more than $per_uid of $max connections"
grep -q "per user" "$tmp/attack.out"
tap_ok $? "the refusal says the limit is per user"

# ---- root is served meanwhile --------------------------------------------
timeout 1 "$HUGEVMCTL" --socket "$sock" status >/dev/null 2>"$tmp/err"
tap_is $? 0 "root's status is answered within 1 s" || sed 's/^/# /' "$tmp/err"
timeout 1 "$HUGEVMCTL" --socket "$sock" set 2M 6 --wait --timeout 1 >/dev/null 2>"$tmp/err"
tap_is $? 0 "root's set --wait is answered within 1 s" || sed 's/^/# /' "$tmp/err"
tap_is "$(cat "$(pool_file 2048kB nr_hugepages)")" 6 "root's set reached the pool"
timeout 1 "$HUGEVMCTL" --socket "$sock" wait --timeout 1 >/dev/null 2>"$tmp/err"
tap_is $? 0 "root's wait is answered within 1 s" || sed 's/^/# /' "$tmp/err"
# More root connections than nobody may hold, all at once.
pids=()
for i in $(seq 1 $((per_uid * 2))); do
        "$HUGEVMCTL" --socket "$sock" status >/dev/null 2>&1 &
        pids+=($!)
done
fails=0
for pid in "${pids[@]}"; do wait "$pid" || fails=$((fails + 1)); done
tap_is "$fails" 0 "$((per_uid * 2)) concurrent root clients are all served"

# ---- trickled bytes are not requests: the idle limit closes them ------------
poll_until 30 grep -q '^closed' "$tmp/attack.out"
sed -n 's/^closed/# closed/p' "$tmp/attack.out"
tap_is "$(awk '/^closed/ {print $2}' "$tmp/attack.out")" "$per_uid" \
        "every trickling connection was closed by the idle limit"
wait "$attacker" 2>/dev/null
extra_pids=

# ---- a burst of connects finds the backlog open ------------------------------
attack burst "$sock" 2000 >"$tmp/burst.out" 2>&1
sed 's/^/# /' "$tmp/burst.out"
tap_is "$(awk '/^eagain/ {print $2}' "$tmp/burst.out")" 0 "2000 connect()s in a row: no EAGAIN"
"$HUGEVMCTL" --socket "$sock" status >/dev/null 2>&1
tap_is $? 0 "the daemon still answers after the burst"

stop_daemon
tap_is $? 0 "hugevmd exits 0"
daemon_log_clean
tap_done
