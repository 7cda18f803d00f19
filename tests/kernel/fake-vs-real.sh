#!/bin/bash
# The fake kernel held against the real one: one sequence (grow, shrink,
# per-node write, HVO off/on, overcommit, pages held by processes with and
# without a reservation, a reservation left untouched, shrinking under it,
# release) runs on this machine's real 2 MiB pool and on a fake kernel
# (tests/fakekernel) of one node, and every counter is compared after every
# step; then invalid writes are compared errno by errno. Where the two differ
# the fake is wrong. Holds the real-kernel lock for its whole run and puts back
# the pool size, overcommit and HVO sysctl it found, also when it fails.
. "${top_srcdir:-.}/tests/lib.sh"
. "${top_srcdir:-.}/tests/fakekernel/fakekernel.sh"

HOLDER=${top_builddir:-.}/tests/fakekernel/fk-holder
hp=/sys/kernel/mm/hugepages/hugepages-2048kB
hvo=/proc/sys/vm/hugetlb_optimize_vmemmap

# A machine without what this needs skips; one that has it (root, a 2 MiB
# pool, HVO, the 6.11 counters) must run it under CI=true: anything else
# missing there is a failure, not a skip.
[ "$(id -u)" -eq 0 ] || tap_skip_all_unless_ci "needs root to change hugepage pools"
[ -d $hp ] || tap_skip_all_unless_ci "no 2048kB hstate"
[ -e $hvo ] || tap_skip_all_unless_ci "no $hvo (kernel without HVO)"
grep -q '^nr_memmap_pages ' /proc/vmstat || tap_skip_all_unless_ci "no nr_memmap counters (kernel before 6.11)"
must() { # must REASON: skip, or under CI=true fail (tests/lib.sh)
        tap_skip_all_unless_ci "$1"
}
fk_usable || must "$fk_why"
[ -x "$HOLDER" ] || must "$HOLDER is not built"
command -v python3 >/dev/null || must "python3 is needed for exact write(2) results"
[ "$(awk '$1 == "MemAvailable:" { print $2 }' /proc/meminfo)" -gt $((2 * 1024 * 1024)) ] ||
        must "less than 2 GiB available for a 500-page pool"

# One real-kernel user at a time: other tests measure exact counter deltas.
exec 9>/tmp/hugevm-realkernel.lock
flock -w 600 9 || must "could not get /tmp/hugevm-realkernel.lock within 600 s"

tmp=$(mktemp -d /tmp/hugevm-fvr.XXXXXX)
F=$tmp/fake
holders=()
saved_nr=$(cat $hp/nr_hugepages)
saved_over=$(cat $hp/nr_overcommit_hugepages)
saved_hvo=$(cat $hvo)
restore() {
        local p now
        for p in "${holders[@]}"; do kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
        echo "$saved_over" >$hp/nr_overcommit_hugepages
        echo "$saved_nr" >$hp/nr_hugepages
        echo "$saved_hvo" >$hvo
        now="$(cat $hp/nr_hugepages)/$(cat $hp/nr_overcommit_hugepages)/$(cat $hvo)"
        [ "$now" = "$saved_nr/$saved_over/$saved_hvo" ] ||
                echo "# WARNING: could not restore nr_hugepages/overcommit/HVO: now $now, was $saved_nr/$saved_over/$saved_hvo" >&2
        fk_stop_all
        rm -rf "$tmp"
}
trap restore EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
echo "# found: nr_hugepages=$saved_nr nr_overcommit_hugepages=$saved_over hugetlb_optimize_vmemmap=$saved_hvo"

# The pool must be ours alone: nothing in use, reserved or surplus.
echo 0 >$hp/nr_overcommit_hugepages
echo 0 >$hp/nr_hugepages
[ "$(cat $hp/nr_hugepages)/$(cat $hp/resv_hugepages)" = "0/0" ] ||
        must "the real 2 MiB pool does not empty (someone uses it): $(cat $hp/nr_hugepages) pages, $(cat $hp/resv_hugepages) reserved"

fk_start "$F" -s nodes=1 -s "release=$(uname -r)" -s mem=8G -s hugemem=4G -s hvo=0 || {
        echo "Bail out! the fake kernel does not start"
        exit 1
}
echo 0 >$hvo

# ---------------------------------------------------------------- counters
# snap ROOT: every counter, as "name value"; the vmstat ones as deltas from
# the start (the two machines' absolute memmap sizes differ).
counters="nr_hugepages free_hugepages resv_hugepages surplus_hugepages nr_overcommit_hugepages nr_hugepages_mempolicy"
node_counters="nr_hugepages free_hugepages surplus_hugepages"
meminfo_keys="HugePages_Total HugePages_Free HugePages_Rsvd HugePages_Surp Hugetlb"
vmstat_keys="nr_memmap_pages+nr_memmap_boot_pages nr_hugetlb htlb_buddy_alloc_success htlb_buddy_alloc_fail"
raw() { # raw ROOT: absolute values
        local r=$1 f
        for f in $counters; do echo "$f $(cat "$r$hp/$f")"; done
        for f in $node_counters; do echo "node0/$f $(cat "$r/sys/devices/system/node/node0/hugepages/hugepages-2048kB/$f")"; done
        awk -v keys="$meminfo_keys" 'BEGIN { n = split(keys, k, " "); for (i = 1; i <= n; i++) want[k[i] ":"] = 1 }
                want[$1] { sub(":", "", $1); print "meminfo/" $1, $2 }' "$r/proc/meminfo"
        echo "sysctl/nr_hugepages $(cat "$r/proc/sys/vm/nr_hugepages")"
        echo "sysctl/nr_overcommit_hugepages $(cat "$r/proc/sys/vm/nr_overcommit_hugepages")"
        echo "sysctl/hugetlb_optimize_vmemmap $(cat "$r$hvo")"
        awk '$1 == "nr_memmap_pages" || $1 == "nr_memmap_boot_pages" { s += $2 }
                $1 == "nr_memmap_pages" { m = $2 } $1 == "nr_memmap_boot_pages" { b = $2 }
                $1 == "nr_hugetlb" || $1 ~ /^htlb_buddy_alloc_/ { print "vmstat/" $1, $2 }
                END { print "vmstat/nr_memmap_pages+nr_memmap_boot_pages", s; print "vmstat/nr_memmap_pages", m;
                      print "vmstat/nr_memmap_boot_pages", b }' "$r/proc/vmstat"
}
declare -A start_real start_fake
while read -r k v; do start_real[$k]=$v; done < <(raw "")
while read -r k v; do start_fake[$k]=$v; done < <(raw "$F")
snap() { # snap ROOT: the compared view (vmstat as deltas; the memmap split apart)
        local r=$1 k v
        while read -r k v; do
                case $k in
                vmstat/nr_memmap_pages | vmstat/nr_memmap_boot_pages) continue ;;
                vmstat/*) if [ -z "$r" ]; then v=$((v - ${start_real[$k]})); else v=$((v - ${start_fake[$k]})); fi
                          k="$k(delta)" ;;
                esac
                echo "$k $v"
        done < <(raw "$r")
}
memmap_split() { # memmap_split ROOT: "nr_memmap_pages delta / nr_memmap_boot_pages delta"
        local m b
        m=$(awk '$1 == "nr_memmap_pages" { print $2 }' "$1/proc/vmstat")
        b=$(awk '$1 == "nr_memmap_boot_pages" { print $2 }' "$1/proc/vmstat")
        if [ -z "$1" ]; then
                echo "$((m - ${start_real[vmstat/nr_memmap_pages]})) $((b - ${start_real[vmstat/nr_memmap_boot_pages]}))"
        else
                echo "$((m - ${start_fake[vmstat/nr_memmap_pages]})) $((b - ${start_fake[vmstat/nr_memmap_boot_pages]}))"
        fi
}
echo "# counters compared after every step (real 2 MiB pool vs the fake's):"
snap "" | awk '{ print "#   " $1 }'
echo "#   nr_memmap_pages(delta) alone, where the real nr_memmap_boot_pages did not move"

# The real kernel frees an optimized surplus page from a workqueue when a
# process lets go of it: wait until its counters stand still.
settle() {
        local a b i=0
        a=$(raw "")
        while [ $i -lt 50 ]; do
                sleep 0.1
                b=$(raw "")
                [ "$a" = "$b" ] && return 0
                a=$b
                i=$((i + 1))
        done
}

mismatch=
both() { # both FILE TEXT: the same write on both; a different result is a mismatch
        local r f
        r=$(pyw "$1" "$2")
        f=$(pyw "$F$1" "$2")
        [ "$r" = "$f" ] || mismatch="$mismatch write '$2' to $1: real '$r', fake '$f';"
}
hold() { # hold MAP TOUCH [-n]: a process on the real kernel; the same on the fake
        local map=$1 touch=$2 flag=${3:-} i=0 out=$tmp/holder.${#holders[@]}
        $HOLDER $flag 2048 "$map" "$touch" >"$out" 2>&1 &
        holders+=($!)
        while ! grep -q ready "$out" && kill -0 "${holders[-1]}" 2>/dev/null && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
        grep -q ready "$out" || mismatch="$mismatch the real holder failed: $(cat "$out");"
        if [ "$flag" = -n ]; then
                fk_ctl "$F" hold 2048kB 0 "$touch" noreserve
        else
                [ "$map" -gt "$touch" ] && fk_ctl "$F" reserve 2048kB $((map - touch))
                fk_ctl "$F" hold 2048kB 0 "$touch"
        fi || mismatch="$mismatch the fake's hold failed: $(cat "$F/.fake/control");"
}
release() { # release MAP TOUCH: the oldest holder exits (pages go back in address order)
        local map=$1 touch=$2 pid=${holders[0]}
        kill -TERM "$pid"
        wait "$pid" 2>/dev/null
        holders=("${holders[@]:1}")
        fk_ctl "$F" release 2048kB 0 "$touch"
        [ "$map" -gt "$touch" ] && fk_ctl "$F" unreserve 2048kB $((map - touch))
}
nsteps=0
step() { # step DESCRIPTION: every counter, real against fake
        local real fake
        settle
        real=$(snap "")
        fake=$(snap "$F")
        nsteps=$((nsteps + 1))
        if [ "$real" = "$fake" ] && [ -z "$mismatch" ]; then
                tap_ok 0 "$1"
        else
                tap_ok 1 "$1"
                [ -n "$mismatch" ] && echo "#   $mismatch"
                diff <(echo "$real") <(echo "$fake") | sed -n 's/^</#   real:/p; s/^>/#   fake:/p'
        fi
        mismatch=
        # nr_memmap_pages alone: equal where the real kernel did not take pages
        # off nr_memmap_boot_pages (vmemmap it optimizes for the first time
        # since boot came from memblock: -8 boot, +1 runtime per 2 MiB page).
        read -r rm rb <<<"$(memmap_split "")"
        read -r fm fb <<<"$(memmap_split "$F")"
        if [ "$rb" = 0 ]; then
                tap_is "$fm" "$rm" "  nr_memmap_pages delta ($rm)"
        else
                tap_is "$((fm + fb))" "$((rm + rb))" "  nr_memmap_pages + boot delta ($((rm + rb))); real split $rm/$rb, fake $fm/$fb"
        fi
}

# ---------------------------------------------------------------- sequence
step "start: empty pools, HVO off"
both $hvo 1
both $hp/nr_hugepages 400
step "HVO on, grow 0 -> 400"
both $hp/nr_hugepages 150
step "shrink to 150"
both $hvo 0
both $hp/nr_hugepages 300
step "HVO off, grow to 300"
both $hvo 1
both $hp/nr_hugepages 500
step "HVO on, grow to 500"
both $hp/nr_hugepages 100
step "shrink to 100 (100 optimized pages stay)"
both /sys/devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages 120
step "node 0 := 120"
both /proc/sys/vm/nr_hugepages 100
step "/proc/sys/vm/nr_hugepages := 100"
both $hp/nr_overcommit_hugepages 10
step "overcommit 10"
both $hvo 0
hold 105 105
step "HVO off, a process maps and touches 105 pages (5 surplus)"
release 105 105
step "it exits: the 5 surplus pages (gathered first) go back"
hold 105 105 -n
step "a process fallocates 105 pages (no reservation: 100 free, then 5 surplus)"
release 105 105
step "it exits: the first 5 given back (optimized pool pages) are freed"
both $hvo 1
both $hp/nr_hugepages 200
step "HVO on, grow to 200"
hold 10 4
step "a process maps 10 pages and touches 4 (6 reserved)"
both $hp/nr_hugepages 0
step "shrink to 0 under it: reserved and used pages stay, as surplus"
both $hp/nr_hugepages 20
step "grow to 20 under it: surplus pages become persistent first"
release 10 4
step "it exits: used pages freed, the reservation returned"
both $hp/nr_overcommit_hugepages 0
hold 3 3
step "overcommit 0, a process takes 3 of the 20"
both $hp/nr_hugepages 1
step "shrink to 1 with 3 in use: 3 stay, 2 surplus"
release 3 3
step "it exits"
both $hp/nr_hugepages 0
both $hvo 0
step "empty again, HVO off"

# ---------------------------------------------------------------- errno
# Writes the kernel rejects (or takes oddly), compared result by result.
node0=/sys/devices/system/node/node0/hugepages/hugepages-2048kB
gig=/sys/kernel/mm/hugepages/hugepages-1048576kB
cases=(
        "$hp/nr_hugepages|abc" "$hp/nr_hugepages| 5" "$hp/nr_hugepages|5 " "$hp/nr_hugepages|-1" "$hp/nr_hugepages|0x10"
        "$hp/nr_hugepages|99999999999999999999" "$hp/nr_hugepages|5\n\n" "$hp/nr_hugepages|+0" "$hp/nr_hugepages|0\x00x"
        "$hp/free_hugepages|1" "$hp/resv_hugepages|1" "$node0/nr_hugepages|abc" "$node0/free_hugepages|0"
        "$hp/nr_overcommit_hugepages|-1" "$hp/nr_overcommit_hugepages|x"
        "$hvo|abc" "$hvo|1x" "$hvo|99999999999" "$hvo|0 1" "$hvo| 0"
        "/proc/sys/vm/compact_memory|2" "/proc/sys/vm/compact_memory|0" "/proc/sys/vm/compact_memory|1x"
        "/proc/sys/vm/nr_hugepages|-1" "/proc/sys/vm/nr_hugepages|abc" "/proc/sys/vm/nr_hugepages|99999999999999999999"
        "/proc/sys/vm/nr_hugepages|0 0" "/proc/sys/vm/nr_overcommit_hugepages|x"
)
[ -d $gig ] && cases+=("$gig/nr_overcommit_hugepages|1" "$gig/demote_size|4M" "$gig/demote_size|abc" "$gig/demote|abc")
for c in "${cases[@]}"; do
        file=${c%%|*} text=${c#*|}
        r=$(pyw "$file" "$text")
        f=$(pyw "$F$file" "$text")
        tap_is "$f" "$r" "write '$text' to $file: $r"
done
step "after the invalid writes"
echo "# $nsteps steps compared"
tap_done
