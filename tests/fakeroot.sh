# The one fake /sys + /proc tree for hugevmd --root in shell, sourced by the
# integration, stress and systemd tiers and by bench/run.sh (tests/unit/fake.c
# is its C twin). Source it; it defines functions only and needs bash.
#
# fake_root ROOT [KEY=VALUE...]: build the tree under ROOT. Every pool and node
# counter is 0. Defaults (an x86-64 host on Linux 6.18, HVO off):
#   sizes="2048 1048576"  hstates, in kB (any order)
#   nodes=2               NUMA nodes 0..nodes-1
#   blocks=16             memory blocks of 128 MiB: MemTotal and the memmap
#                         baseline follow (16 blocks: 2 GiB, 8192 pages)
#   memmap=BASE-192       nr_memmap_pages; boot=192 nr_memmap_boot_pages: by
#                         default their sum is the baseline (nothing saved yet)
#   hvo=0                 vm.hugetlb_optimize_vmemmap
#   release=6.18.0        arch=x86_64
#   cmdline="BOOT_IMAGE=/boot/vmlinuz-RELEASE root=/dev/vda ro quiet"
# "none" leaves a file or counter out, as older kernels do: hvo=none (no HVO
# sysctl), arch=none (before 6.1), memmap=none boot=none (before 6.11).
# Returns non-zero if a file cannot be written.

# fake_put FILE VALUE: FILE holds VALUE and a newline; parents are created.
fake_put() { mkdir -p "${1%/*}" && printf '%s\n' "$2" >"$1"; }

# fake_vmstat ROOT NR_MEMMAP_PAGES NR_MEMMAP_BOOT_PAGES: rewrite /proc/vmstat
# ("none" leaves that counter out). Tests call it again to show what the
# kernel would after HVO freed or gave back memmap pages.
fake_vmstat() {
        local free=262144 kb
        # nr_free_pages: MemFree in 4 KiB pages, so that the two files agree.
        kb=$(sed -n 's/^MemFree: *\([0-9]*\) kB$/\1/p' "$1/proc/meminfo" 2>/dev/null) && [ -n "$kb" ] && free=$((kb / 4))
        {
                echo "nr_free_pages $free"
                [ "$2" = none ] || echo "nr_memmap_pages $2"
                [ "$3" = none ] || echo "nr_memmap_boot_pages $3"
                printf 'htlb_buddy_alloc_success 0\nhtlb_buddy_alloc_fail 0\n'
        } >"$1/proc/vmstat"
}

fake_root() {
        local root=$1 kv
        local sizes="2048 1048576" nodes=2 blocks=16 memmap='' boot=192 hvo=0 release=6.18.0 arch=x86_64 cmdline=''
        shift
        for kv in "$@"; do
                case $kv in
                sizes=*) sizes=${kv#*=} ;;
                nodes=*) nodes=${kv#*=} ;;
                blocks=*) blocks=${kv#*=} ;;
                memmap=*) memmap=${kv#*=} ;;
                boot=*) boot=${kv#*=} ;;
                hvo=*) hvo=${kv#*=} ;;
                release=*) release=${kv#*=} ;;
                arch=*) arch=${kv#*=} ;;
                cmdline=*) cmdline=${kv#*=} ;;
                *) echo "fake_root: unknown setting '$kv'" >&2; return 2 ;;
                esac
        done
        # A 128 MiB block of 4 KiB pages needs 512 pages of 64-byte struct pages.
        [ -n "$memmap" ] || memmap=$((blocks * 512 - 192))
        [ -n "$cmdline" ] || cmdline="BOOT_IMAGE=/boot/vmlinuz-$release root=/dev/vda ro quiet"
        # shellcheck disable=SC2086 # one word per size
        sizes=$(printf '%s\n' $sizes | sort -n)

        local size node f smaller='' default=''
        for size in $sizes; do
                for f in nr_hugepages nr_hugepages_mempolicy nr_overcommit_hugepages free_hugepages \
                         resv_hugepages surplus_hugepages; do
                        fake_put "$root/sys/kernel/mm/hugepages/hugepages-${size}kB/$f" 0 || return
                done
                # The kernel offers demotion to the next smaller size (nothing reads it yet).
                if [ -n "$smaller" ]; then
                        fake_put "$root/sys/kernel/mm/hugepages/hugepages-${size}kB/demote" 0 || return
                        fake_put "$root/sys/kernel/mm/hugepages/hugepages-${size}kB/demote_size" "${smaller}kB" || return
                fi
                smaller=$size
                for ((node = 0; node < nodes; node++)); do
                        for f in nr_hugepages free_hugepages surplus_hugepages; do
                                fake_put "$root/sys/devices/system/node/node$node/hugepages/hugepages-${size}kB/$f" 0 || return
                        done
                done
                [ "$size" = 2048 ] && default=2048
        done
        for ((node = 0; node < nodes; node++)); do fake_put "$root/sys/devices/system/node/node$node/compact" "" || return; done
        # The kernel's list format: "0" for one node, "0-N" for more.
        fake_put "$root/sys/devices/system/node/online" "0$( ((nodes > 1)) && echo "-$((nodes - 1))")" || return
        fake_put "$root/sys/devices/system/memory/block_size_bytes" 8000000 || return
        for ((f = 0; f < blocks; f++)); do fake_put "$root/sys/devices/system/memory/memory$f/state" online || return; done

        [ "$hvo" = none ] || fake_put "$root/proc/sys/vm/hugetlb_optimize_vmemmap" "$hvo" || return
        fake_put "$root/proc/sys/vm/compact_memory" "" &&
                fake_put "$root/proc/sys/vm/nr_hugepages" 0 &&
                fake_put "$root/proc/sys/vm/nr_overcommit_hugepages" 0 &&
                fake_put "$root/proc/sys/kernel/osrelease" "$release" || return
        [ "$arch" = none ] || fake_put "$root/proc/sys/kernel/arch" "$arch" || return
        fake_put "$root/proc/cmdline" "$cmdline" || return
        # Hugepagesize (the default size, for hugetlbfs mounts without pagesize=): 2 MiB if present.
        [ -n "$default" ] || default=${sizes%%$'\n'*}
        printf '%-16s%8s kB\n' MemTotal: $((blocks * 131072)) MemFree: $((blocks * 65536)) >"$root/proc/meminfo" &&
                printf '%-16s%8s\n' HugePages_Total: 0 HugePages_Free: 0 HugePages_Rsvd: 0 HugePages_Surp: 0 >>"$root/proc/meminfo" &&
                printf '%-16s%8s kB\n' Hugepagesize: "$default" Hugetlb: 0 >>"$root/proc/meminfo" &&
                fake_vmstat "$root" "$memmap" "$boot"
}
