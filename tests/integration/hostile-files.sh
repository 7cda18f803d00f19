#!/bin/bash
# Hostile files against the real hugevmd and hugevmctl on a fake root (issue
# 13, items 2, 3, 4, 6 and 7): each one reproduced and refused, with nothing
# changed on the pools or in the state file.
#   2  lines longer than inih reads whole: refused with file:line, at start,
#      by --check-config, on reload (hugevmctl reload and SIGHUP);
#   3  Pages=18446744073709551615 in the config (file:line) or in the state
#      file (not used, kept aside): one bound, MemTotal, as pool.set has;
#   4  Mount= through a symlink that nobody planted (refused at load, and at
#      the mount when nobody swaps one in later: nothing mounted on its
#      target; status names the link), paths not normalized or twice;
#   6  a corrupt state file, or one nobody owns or anybody may write: not
#      used, kept aside as state.json.corrupt-*, never overwritten;
#   7  a FIFO, a link to /dev/zero or a directory in hugevmd.conf.d, a FIFO or
#      a directory as state.json: named for what they are, nothing blocks.
# A hugetlbfs the daemon mounts on the fake root is real (root, this kernel):
# every mount under the temp dir is unmounted on exit.
. "$top_srcdir/tests/integration/common.sh"

[ "$(id -u)" = 0 ] || tap_skip_all "needs root (files owned by nobody, real mounts)"
command -v setpriv >/dev/null || tap_skip_all "setpriv (util-linux) is needed"
command -v mountpoint >/dev/null || tap_skip_all "mountpoint (util-linux) is needed"
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }

unmount_all() {
        local m
        for m in $(awk -v t="$tmp/" 'index($5, t) == 1 { print $5 }' /proc/self/mountinfo | sort -r); do
                umount -l "$m" && echo "# unmounted $m"
        done
}
trap 'unmount_all; cleanup' EXIT

make_fakeroot_plain   # 2 GiB: at most 1024 pages of 2M
: >"$root/proc/mounts"
nr=$(pool_file 2048kB nr_hugepages)
dropins=$tmp/etc/hugevmd.conf.d
statefile=$state/state.json
mkdir -p "$dropins" "$state"

# A line of N bytes: a comment whose end is a key, as inih would cut it.
long_line() { printf '#%s%s' "$(head -c $(($1 - 10)) /dev/zero | tr '\0' x)" "Pages=999"; }
line208=$(long_line 208)
line300=$(long_line 300)

check_config() { timeout 10 "$HUGEVMD" --root "$root" --config "$conf" --check-config >"$tmp/out" 2>&1; }

# refuse_check DESCRIPTION WANT: --check-config on the config on stdin exits
# non-zero and names WANT (file:line: reason).
refuse_check() {
        write_config
        check_config
        local rc=$?
        tap_ok $((rc == 0 || rc == 124)) "--check-config exits non-zero ($rc): $1"
        grep -qF -- "$2" "$tmp/out"
        tap_ok $? "... naming '$2'" || sed 's/^/# /' "$tmp/out"
}

# refuse_start DESCRIPTION WANT: hugevmd refuses to start on the config on stdin.
refuse_start() {
        write_config
        : >"$log"
        start_daemon
        local started=$?
        [ $started -eq 0 ] && stop_daemon
        grep -qF -- "$2" "$log"
        tap_ok $((started == 0 ? 1 : $?)) "hugevmd refuses to start: $1" || show_log 5
}

# Every client call is bounded: a daemon whose loop blocks must fail the test, not hang it.
tctl() { timeout 5 "$HUGEVMCTL" --socket "$sock" "$@"; }
target() { tctl --json status | hv get F_POOLS.0.F_TARGET; }
log_has() { grep -qF -- "$1" "$log"; }
answers() { timeout 2 "$HUGEVMCTL" --socket "$sock" status >/dev/null 2>&1; }

# ---- 2: lines longer than inih reads whole --------------------------------
refuse_check "a 300-byte line" "hugevmd.conf:6: line longer than 198 bytes" <<EOF
[Pool 2M]
$line300
Pages=4
EOF
refuse_start "a 208-byte comment ending in Pages=999 (issue 13's case)" "hugevmd.conf:7: line longer than 198 bytes" <<EOF
[Pool 2M]
Pages=4
$line208
EOF
tap_is "$(cat "$nr")" 0 "the pool was not touched"

# ---- 3: one bound for a target, from the config ----------------------------
refuse_check "Pages=18446744073709551615" \
        "hugevmd.conf:6: Pages=18446744073709551615: 18446744073709551615 pages of 2048kB exceed this machine's memory (2.0 GiB, at most 1024 pages)" <<EOF
[Pool 2M]
Pages=18446744073709551615
EOF
refuse_check "Node1.Pages=1025 (one page more than MemTotal)" "hugevmd.conf:6: Node1.Pages=1025: 1025 pages of 2048kB exceed" <<EOF
[Pool 2M]
Node1.Pages=1025
EOF

# ---- 4: mount points, at load ------------------------------------------------
chmod 755 "$root" && mkdir -p "$root/tmp" "$root/victim" && chmod 1777 "$root/tmp"
as_nobody ln -s "$root/victim" "$root/tmp/hp"
tap_ok $? "nobody plants /tmp/hp -> /victim"
refuse_check "Mount= through a symlink nobody planted" \
        "hugevmd.conf:7: Mount=/tmp/hp: /tmp/hp is a symbolic link; mount points are not followed through symlinks" <<EOF
[Pool 2M]
Pages=4
Mount=/tmp/hp
MountMode=0777
EOF
refuse_start "Mount= through a symlink" "hugevmd.conf:7: Mount=/tmp/hp: /tmp/hp is a symbolic link" <<EOF
[Pool 2M]
Pages=4
Mount=/tmp/hp
MountMode=0777
EOF
mountpoint -q "$root/victim"
tap_ok $((!$?)) "nothing is mounted on the link's target"
for bad in /mnt/x/.. /. // /mnt/../etc; do
        refuse_check "Mount=$bad" "hugevmd.conf:6: Mount=$bad: needs an absolute path (not /), without .. components" <<EOF
[Pool 2M]
Mount=$bad
EOF
done
refuse_check "/mnt/h beside /mnt/h/" "hugevmd.conf:8: Mount=/mnt/h/: already the mount point of another [Pool] section" <<EOF
[Pool 2M]
Mount=/mnt/h
[Pool 1G]
Mount=/mnt/h/
EOF

# ---- 2 and 7 on a running daemon: reload keeps what runs ---------------------
write_config <<EOF
[Pool 2M]
Pages=4
EOF
: >"$log"
start_daemon
tap_ok $? "hugevmd starts on a good config" || { show_log; tap_done; exit 1; }
poll_until 5 file_is "$nr" 4
tap_ok $? "the 2M pool reaches its target 4"
tctl set 1G 1 >/dev/null 2>&1
tap_is $? 0 "a persisted 1G target makes a state file"
cp "$statefile" "$tmp/state.before"

# bad_reload DESCRIPTION WANT: hugevmctl reload exits 1 naming WANT; then
# SIGHUP logs it; the target, the pool and the state file are as before.
bad_reload() {
        tctl reload >"$tmp/out" 2>"$tmp/err"
        local rc=$?
        tap_is $rc 1 "hugevmctl reload exits 1: $1"
        grep -qF -- "$2" "$tmp/err"
        tap_ok $? "... naming '$2'" || sed 's/^/# /' "$tmp/err"
        : >"$log"
        kill -HUP "$daemon_pid"
        poll_until 5 log_has "$2"
        tap_ok $? "SIGHUP: logged, naming '$2'"
        poll_until 5 log_has "Configuration not reloaded"
        answers
        tap_ok $? "... and the daemon still answers"
        tap_is "$(target)" 4 "... the 2M target is still 4"
        tap_is "$(cat "$nr")" 4 "... the pool is untouched"
        cmp -s "$statefile" "$tmp/state.before"
        tap_ok $? "... the state file is unchanged"
}
printf '[Pool 2M]\n%s\n' "$line208" >"$dropins/50-long.conf"
bad_reload "a drop-in with a 208-byte line ending in Pages=999" "50-long.conf:2: line longer than 198 bytes"
rm -f "$dropins/50-long.conf"
mkfifo "$dropins/60-fifo.conf"
bad_reload "a FIFO in hugevmd.conf.d" "60-fifo.conf: is a FIFO, not a regular file"
rm -f "$dropins/60-fifo.conf"
ln -s /dev/zero "$dropins/70-zero.conf"
bad_reload "a link to /dev/zero in hugevmd.conf.d" "70-zero.conf: is a character device, not a regular file"
rm -f "$dropins/70-zero.conf"
mkdir "$dropins/80-dir.conf"
bad_reload "a directory named 80-dir.conf" "80-dir.conf: is a directory, not a regular file"
check_config
tap_ok $(($? == 0)) "--check-config exits non-zero on a directory named x.conf"
rmdir "$dropins/80-dir.conf"
tctl set 2M 1025 >/dev/null 2>"$tmp/err"
rc=$?
tap_ok $((rc == 0 || rc == 124)) "pool.set refuses 1025 pages (exit $rc)"
grep -q "1025 pages of 2048kB exceed this machine's memory (2.0 GiB, at most 1024 pages)" "$tmp/err"
tap_ok $? "... in the same words as the config and the state file" || sed 's/^/# /' "$tmp/err"
tap_is "$(target)" 4 "... the target is still 4"
t0=$(date +%s%N)
stop_daemon
tap_is $? 0 "SIGTERM: exit 0 within $((($(date +%s%N) - t0) / 1000000)) ms (nothing blocks the loop)"

# ---- 3, 6, 7: state files the daemon must not use --------------------------
# bad_state DESCRIPTION WANT: with the state file as prepared (a persisted 2M
# target of 7, if it were used), hugevmd starts, logs WANT, restores nothing
# (the config's 4 is in force), keeps the file aside unchanged; a new
# persisted target then makes a new state.json beside it.
bad_state() {
        rm -f "$state"/state.json.corrupt-*
        cp -a "$statefile" "$tmp/state.refused" 2>/dev/null || rm -f "$tmp/state.refused"
        : >"$log"
        start_daemon
        tap_ok $? "hugevmd starts: $1" || { show_log 5; stop_daemon; rm -rf "$statefile" "$tmp/state.refused"; return; }
        poll_until 5 log_has "$2"
        tap_ok $? "... logging '$2'" || show_log 5
        tap_is "$(target)" 4 "... the state file's target is not used (config's 4)"
        poll_until 5 file_is "$nr" 4
        tap_ok $? "... the pool is at 4"
        local aside
        aside=$(ls -d "$state"/state.json.corrupt-* 2>/dev/null)
        tap_is "$(echo "$aside" | grep -c .)" 1 "... kept aside as ${aside##*/}"
        [ -e "$statefile" ] || [ -L "$statefile" ]
        tap_ok $((!$?)) "... state.json is gone"
        tctl set 2M 6 >/dev/null 2>&1
        tap_is $? 0 "... a new persisted target is accepted"
        [ -f "$statefile" ] && hv valid "$statefile"
        tap_ok $? "... and written to a new state.json"
        if [ -f "$tmp/state.refused" ] && [ ! -L "$tmp/state.refused" ]; then
                cmp -s "$aside" "$tmp/state.refused"
                tap_ok $? "... the kept-aside file is the refused one, unchanged"
        fi
        stop_daemon
        rm -rf "$statefile" "$tmp/state.refused"
}
write_config <<EOF
[Pool 2M]
Pages=4
EOF
valid7='{"version":1,"pools":[{"size_kb":2048,"pages":7}]}'
printf '{"version":1,"pools":[{"size_kb":2048,"pages":18446744073709551615}]}\n' >"$statefile"
chmod 644 "$statefile"
bad_state "pages=18446744073709551615 in the state file" \
        "pools[0].pages: 18446744073709551615 pages of 2048kB exceed this machine's memory (2.0 GiB, at most 1024 pages)"
printf '{"version":1,"pools":[{"size_kb":2048,"pages":7}' >"$statefile"
chmod 644 "$statefile"
bad_state "a truncated state file" "state.json: not valid JSON"
echo "$valid7" >"$statefile"
chown 65534:65534 "$statefile" && chmod 666 "$statefile"
bad_state "a state file owned by nobody, mode 0666" "state.json: owned by uid 65534, not by the daemon's (0): not trusted"
echo "$valid7" >"$statefile"
chmod 666 "$statefile"
bad_state "root's state file with mode 0666" "state.json: writable by others (mode 0666): not trusted"
mkfifo "$statefile"
bad_state "a FIFO as state.json (start does not wait for a writer)" "state.json: is a FIFO, not a regular file"
mkdir "$statefile"
bad_state "a directory as state.json" "state.json: is a directory, not a regular file"
grep -q "larger than" "$log"
tap_ok $((!$?)) "... not reported as too large"

# ---- 4: a symlink swapped in after the config was checked ------------------
# nobody squats the mount point with a file (the mount fails and is retried
# at every refresh), then swaps the directory for a link to /victim.
rm -f "$root/tmp/hp"
as_nobody mkdir "$root/tmp/hp" && as_nobody touch "$root/tmp/hp/squat"
write_config <<EOF
[Pool 2M]
Pages=4
Mount=/tmp/hp
MountMode=0777
EOF
: >"$log"
start_daemon
tap_ok $? "hugevmd starts with Mount=/tmp/hp, a directory nobody filled" || show_log 5
poll_until 5 log_has "Mount=/tmp/hp: cannot mount hugetlbfs at /tmp/hp: Directory not empty"
tap_ok $? "the mount is refused: not empty (retried at every refresh)"
as_nobody sh -c 'mv "$1/tmp/hp" "$1/tmp/hp.old" && ln -s "$1/victim" "$1/tmp/hp"' sh "$root"
tap_ok $? "nobody swaps /tmp/hp for a link to /victim"
poll_until 5 log_has "cannot mount hugetlbfs at /tmp/hp: /tmp/hp is a symbolic link"
tap_ok $? "the retry refuses the link, naming it" || show_log 5
mountpoint -q "$root/victim"
tap_ok $((!$?)) "nothing is mounted on /victim"
reason=$(tctl --json status | hv get F_POOLS.0.F_MOUNTS.0.F_PATH F_POOLS.0.F_MOUNTS.0.F_REASON | tr '\n' ' ')
echo "# status: $reason"
case $reason in "/tmp/hp cannot mount hugetlbfs at /tmp/hp: /tmp/hp is a symbolic link"*) r=0 ;; *) r=1 ;; esac
tap_ok $r "status names the link as the reason, not \"not mounted\""
stop_daemon

# The same Mount= machinery mounts for real where no link is in the way.
write_config <<EOF
[Pool 2M]
Pages=4
Mount=/mnt/hp-2M
MountMode=0770
EOF
: >"$log"
start_daemon
tap_ok $? "hugevmd starts with Mount=/mnt/hp-2M" || show_log 5
poll_until 5 log_has "Mounted hugetlbfs for 2048kB pages at /mnt/hp-2M"
tap_ok $? "it mounts hugetlbfs there (fsopen, fsmount, move_mount)" || show_log 5
line=$(awk -v m="$root/mnt/hp-2M" '$2 == m' /proc/mounts)
echo "# /proc/mounts: $line"
echo "$line" | grep -Eq "^hugetlbfs .* hugetlbfs rw,nosuid,nodev,.*mode=770,pagesize=2M"
tap_ok $? "hugetlbfs, nosuid, nodev, mode=770, pagesize=2M"
stop_daemon
tap_is "$daemon_status" 0 "hugevmd exits 0"
unmount_all
daemon_log_clean
tap_ok $? "no sanitizer report in the daemon log"
tap_done
