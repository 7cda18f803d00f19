# The fake kernel from shell (tests/fakekernel/fakekernel.c): start one on a
# mount point, act as applications through its control file, read its model,
# stop it. Source it after tests/lib.sh; it defines functions only.
#
#   fk_usable || tap_skip_all_unless_ci "$fk_why"     built, /dev/fuse, fusermount3, root
#   fk_start MNT [-s KEY=VALUE | -c FILE]...  mount (returns once it serves)
#   fk_ctl MNT COMMAND...                  one control command; its status
#   fk_state MNT KEY                       one value of MNT/.fake/state
#   fk_stop MNT                            SIGTERM, wait for the unmount
#   fk_stop_all                            every one this shell started
#   pyw PATH TEXT                          one write(2), its result
#
# A tier that used a tree of plain files passes --root MNT instead; the
# kernel files are where fake_root put them, and a test changes the machine
# with fk_ctl (hold/release/memory/fragment...) instead of rewriting files.
FAKEKERNEL=${FAKEKERNEL:-${top_builddir:-.}/tests/fakekernel/fakekernel}
fk_mounts=

fk_usable() {
        fk_why=
        if [ ! -x "$FAKEKERNEL" ]; then fk_why="the fake kernel is not built (no libfuse3 at configure time?)"
        elif [ ! -c /dev/fuse ]; then fk_why="no /dev/fuse"
        elif ! command -v fusermount3 >/dev/null 2>&1; then fk_why="no fusermount3 (apt-get install fuse3)"
        elif [ "$(id -u)" -ne 0 ]; then fk_why="the fake kernel is mounted for every uid, which needs root"
        fi
        [ -z "$fk_why" ]
}

fk_start() { # fk_start MNT [ARGS...]
        local mnt=$1
        shift
        mkdir -p "$mnt" || return 1
        "$FAKEKERNEL" -p "$mnt.pid" "$@" "$mnt" || return 1
        fk_mounts="$fk_mounts $mnt"
}

fk_ctl() { # fk_ctl MNT COMMAND...
        local mnt=$1
        shift
        printf '%s\n' "$*" >"$mnt/.fake/control"
}

fk_state() { # fk_state MNT KEY
        awk -v k="$2" '$1 == k { $1 = ""; sub(/^ /, ""); print; found = 1; exit } END { exit !found }' "$1/.fake/state"
}

fk_stop() { # fk_stop MNT
        local mnt=$1 pid i=0
        pid=$(cat "$mnt.pid" 2>/dev/null) || pid=
        [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null
        while mountpoint -q "$mnt" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
        mountpoint -q "$mnt" 2>/dev/null && fusermount3 -u -z "$mnt" 2>/dev/null
        fk_mounts=$(printf '%s\n' $fk_mounts | grep -vxF "$mnt" | tr '\n' ' ')
        ! mountpoint -q "$mnt" 2>/dev/null
}

# pyw PATH TEXT: one write(2) of TEXT (python escapes: \n, \x00), as a
# program would make it; prints "ok BYTES", the errno's name, or "open ERRNO".
pyw() {
        python3 - "$1" "$2" <<'EOF'
import errno, os, sys
path, data = sys.argv[1], sys.argv[2].encode().decode("unicode_escape").encode("latin1")
try:
    fd = os.open(path, os.O_WRONLY)
except OSError as e:
    print("open", errno.errorcode[e.errno]); sys.exit()
try:
    print("ok", os.write(fd, data))
except OSError as e:
    print(errno.errorcode[e.errno])
os.close(fd)
EOF
}

fk_stop_all() {
        local m
        for m in $fk_mounts; do fk_stop "$m"; done
}
