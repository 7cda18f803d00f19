#!/bin/bash
# The daemon's default groups are the shipped units' (issue 14, item 6):
# systemd/sysusers.d/hugevmd.conf creates "hugevm" (may read) and
# "hugevm-admin" (may change), and with no SocketGroup=/AdminGroup= in the
# configuration their members are let in. Without those groups only root is,
# and the refusal says that neither key is set. Also: with no configuration
# file at all (the default path missing), the daemon leaves HVO as it is.
. "$top_srcdir/tests/integration/common.sh"

[ "$(id -u)" = 0 ] || tap_skip_all "needs root to run the client as another uid and to create groups"
command -v setpriv >/dev/null || tap_skip_all "setpriv (util-linux) is needed"
command -v groupadd >/dev/null && command -v groupdel >/dev/null || tap_skip_all "groupadd/groupdel are needed"

# Groups this test created, removed at exit (the machine is left as found).
created_groups=
groups_cleanup() {
        local g
        for g in $created_groups; do groupdel "$g" 2>/dev/null; done
        created_groups=
}
trap 'groups_cleanup; cleanup' EXIT

# as_user GROUPS CMD...: run as nobody, primary group nogroup, with exactly
# these supplementary gids (comma-separated, may be empty).
as_user() {
        local g=$1
        shift
        if [ -n "$g" ]; then
                setpriv --reuid=65534 --regid=65534 --groups="$g" "$@"
        else
                setpriv --reuid=65534 --regid=65534 --clear-groups "$@"
        fi
}
as_user "" test -x "$HUGEVMCTL" || tap_skip_all "nobody cannot run $HUGEVMCTL (build tree not readable)"
uctl() { local g=$1; shift; as_user "$g" "$HUGEVMCTL" --socket "$sock" "$@"; }

make_fakeroot
write_config <<EOF
HVO=yes
[Pool 2M]
Pages=4
EOF

# ---- Neither group exists: only root, and the refusal says why -------------
if getent group hugevm >/dev/null || getent group hugevm-admin >/dev/null; then
        tap_skip "groups hugevm/hugevm-admin exist on this machine: the no-group refusal cannot be shown"
        tap_skip "(same)"
        tap_skip "(same)"
else
        start_daemon
        tap_ok $? "hugevmd starts with no SocketGroup=/AdminGroup= and no hugevm groups" || show_log
        uctl "" status >"$tmp/out" 2>"$tmp/err"
        tap_is $? 1 "status as nobody is refused (exit 1)"
        sed 's/^/# /' "$tmp/err"
        grep -q "neither SocketGroup= nor AdminGroup= is set" "$tmp/err"
        tap_ok $? "the refusal says that neither SocketGroup= nor AdminGroup= is set"
        stop_daemon
fi

# With a group named, the refusal does not claim that none is.
write_config <<EOF
HVO=yes
SocketGroup=root
[Pool 2M]
Pages=4
EOF
start_daemon
tap_ok $? "hugevmd starts with SocketGroup=root" || show_log
uctl "" status >"$tmp/out" 2>"$tmp/err"
tap_is $? 1 "status as nobody (not in root) is refused"
grep -q "permission-denied\|permission denied" "$tmp/err" && ! grep -q "neither SocketGroup" "$tmp/err"
tap_ok $? "... as permission denied, without 'neither ... is set'" || sed 's/^/# /' "$tmp/err"
stop_daemon

# ---- The groups of the shipped units: hugevm reads, hugevm-admin changes -----
for g in hugevm hugevm-admin; do
        if ! getent group "$g" >/dev/null; then
                groupadd --system "$g" && created_groups+="$g "
        fi
done
getent group hugevm >/dev/null && getent group hugevm-admin >/dev/null || tap_skip_all "cannot create groups hugevm, hugevm-admin"
gid_read=$(getent group hugevm | cut -d: -f3)
gid_admin=$(getent group hugevm-admin | cut -d: -f3)
echo "# hugevm is gid $gid_read, hugevm-admin is gid $gid_admin (created here: ${created_groups:-none})"

write_config <<EOF
HVO=yes
[Pool 2M]
Pages=4
EOF
start_daemon
tap_ok $? "hugevmd starts with no SocketGroup=/AdminGroup=" || show_log
uctl "$gid_read" status >"$tmp/out" 2>"$tmp/err"
tap_is $? 0 "a member of hugevm (the default SocketGroup) may read status" || sed 's/^/# /' "$tmp/err"
uctl "$gid_read" set 2M 6 --runtime >"$tmp/out" 2>"$tmp/err"
tap_is $? 1 "a member of hugevm may not change a pool"
tap_is "$(cat "$(pool_file 2048kB nr_hugepages)")" 4 "... and the pool stays at 4"
uctl "" status >"$tmp/out" 2>"$tmp/err"
tap_is $? 1 "nobody without the groups is still refused"
! grep -q "neither SocketGroup" "$tmp/err"
tap_ok $? "... without 'neither ... is set' (the default groups are in force)" || sed 's/^/# /' "$tmp/err"
uctl "$gid_admin" set 2M 6 --runtime --wait --timeout 10 >"$tmp/out" 2>"$tmp/err"
tap_is $? 0 "a member of hugevm-admin (the default AdminGroup) may change a pool" || sed 's/^/# /' "$tmp/err"
tap_is "$(cat "$(pool_file 2048kB nr_hugepages)")" 6 "... and the pool follows"
stop_daemon

# Key= resets to the default, which is the group again.
write_config <<EOF
HVO=yes
SocketGroup=
AdminGroup=
[Pool 2M]
Pages=4
EOF
start_daemon
tap_ok $? "hugevmd starts with SocketGroup= and AdminGroup= empty" || show_log
uctl "$gid_read" status >/dev/null 2>"$tmp/err"
tap_is $? 0 "SocketGroup= (empty) is the default: hugevm may read" || sed 's/^/# /' "$tmp/err"
stop_daemon

# An explicit group replaces the default.
write_config <<EOF
HVO=yes
SocketGroup=root
AdminGroup=root
[Pool 2M]
Pages=4
EOF
start_daemon
tap_ok $? "hugevmd starts with SocketGroup=root AdminGroup=root" || show_log
uctl "$gid_read" status >/dev/null 2>&1
tap_is $? 1 "with SocketGroup=root, a member of hugevm only is refused"
stop_daemon

# ---- No configuration file at all: HVO left as it is -------------------------
# The built-in default path is /etc/hugevmd/hugevmd.conf (the Debian package's
# conffile); this machine's own file, if any, is not touched.
if [ -e /etc/hugevmd/hugevmd.conf ] || [ -e /etc/hugevmd/hugevmd.conf.d ]; then
        tap_skip "/etc/hugevmd/hugevmd.conf exists here: the no-file default cannot be shown"
else
        out=$("$HUGEVMD" --root "$root" --state-dir "$state" --check-config 2>&1)
        printf '%s\n' "$out" | sed 's/^/# /'
        printf '%s\n' "$out" | grep -q "^HVO: leave as is"
        tap_ok $? "with no configuration file, --check-config says HVO: leave as is"
fi

daemon_log_clean
tap_ok $? "no sanitizer report"
tap_done
