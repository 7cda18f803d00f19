# Sourced by bench/run.sh: build a fake /sys + /proc tree for hugevmd --root.
# make_fakeroot ROOT NODES SIZE_KB... : NODES NUMA nodes, one hstate per SIZE_KB,
# HVO off, 16 memory blocks of 128 MiB, Linux 6.18 on ARCH (default x86_64).
make_fakeroot() {
        local root=$1 nodes=$2 size node f
        shift 2
        put() { mkdir -p "${1%/*}" && printf '%s\n' "$2" >"$1"; }
        for size in "$@"; do
                for f in nr_hugepages nr_hugepages_mempolicy nr_overcommit_hugepages free_hugepages \
                         resv_hugepages surplus_hugepages; do
                        put "$root/sys/kernel/mm/hugepages/hugepages-${size}kB/$f" 0
                done
                for ((node = 0; node < nodes; node++)); do
                        for f in nr_hugepages free_hugepages surplus_hugepages; do
                                put "$root/sys/devices/system/node/node$node/hugepages/hugepages-${size}kB/$f" 0
                        done
                done
        done
        for ((node = 0; node < nodes; node++)); do put "$root/sys/devices/system/node/node$node/compact" ""; done
        put "$root/sys/devices/system/node/online" "0-$((nodes - 1))"
        put "$root/sys/devices/system/memory/block_size_bytes" 8000000
        for node in $(seq 0 15); do put "$root/sys/devices/system/memory/memory$node/state" online; done
        put "$root/proc/sys/vm/hugetlb_optimize_vmemmap" 0
        put "$root/proc/sys/vm/compact_memory" ""
        put "$root/proc/sys/vm/nr_hugepages" 0
        put "$root/proc/sys/vm/nr_overcommit_hugepages" 0
        put "$root/proc/sys/kernel/osrelease" 6.18.0
        put "$root/proc/sys/kernel/arch" "${ARCH:-x86_64}"
        put "$root/proc/cmdline" "BOOT_IMAGE=/boot/vmlinuz-6.18.0 root=/dev/vda ro quiet"
        printf 'nr_free_pages 262144\nnr_memmap_pages 8000\nnr_memmap_boot_pages 192\n' >"$root/proc/vmstat"
        printf 'MemTotal: 2097152 kB\nMemFree: 1048576 kB\nHugetlb: 0 kB\n' >"$root/proc/meminfo"
}
