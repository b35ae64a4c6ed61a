#!/bin/bash
# bench/block/run.sh - block layer and emu-img speed against qemu-img, on the
# same images and file system (files under /var/tmp; about 2 minutes).
#   EMU_IMG=build/bin/emu-img bench/block/run.sh [REPEATS]
# Each figure is the best of REPEATS (default 5) runs, page cache warm; the two
# sides of a comparison run alternately so that machine load hurts both alike.
#  1. sequential write/read of 512 MiB of a 1 GiB qcow2 image, 64 KiB and 1 MiB
#     requests: emu-img bench vs qemu-img bench (-w / without -w), same
#     request count, size and step; timed by each tool up to the last request
#  2. random 4 KiB reads and writes through the block layer on a fully
#     allocated qcow2 image vs the same pattern on a raw file (the bound)
#  3. convert of a 1 GiB sparse qcow2 image (256 MiB of data) to qcow2 and
#     to raw: emu-img convert vs qemu-img convert (wall time)
# Ratios > 1 mean emu is faster (for the raw bound: qcow2 speed / raw speed).
# The last column is CPU time (user+system) of both sides: on a loaded machine
# it is steadier than wall time.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
EMU=$(realpath "${EMU_IMG:-$root/build/bin/emu-img}")
REP=${1:-5}
command -v qemu-img >/dev/null || { echo "qemu-img not installed (qemu-utils)"; exit 77; }
D=$(mktemp -d /var/tmp/emu-bench-block.XXXXXX)
trap 'rm -rf "$D"' EXIT
cd "$D"

# secs CMD...: "WALL CPU" of one run: WALL as the tool reports it ("Run
# completed in X seconds"), CPU the user+system seconds the process used
secs() {
    local o
    o=$( { /usr/bin/time -f "cpu %U %S" "$@" >cmd.out; } 2>&1 )
    local w c
    w=$(sed -n 's/^Run completed in \([0-9.]*\) seconds.*/\1/p' cmd.out)
    c=$(sed -n 's/^cpu \([0-9.]*\) \([0-9.]*\)$/\1 + \2/p' <<<"$o" | bc -l)
    echo "$w $c"
}
# wall CMD...: "WALL CPU" of one run, WALL measured around the command
wall() {
    rm -f out.img
    local s e o
    s=$(date +%s.%N)
    o=$( { /usr/bin/time -f "cpu %U %S" "$@" >/dev/null; } 2>&1 )
    e=$(date +%s.%N)
    echo "$(echo "$e - $s" | bc -l) $(sed -n 's/^cpu \([0-9.]*\) \([0-9.]*\)$/\1 + \2/p' <<<"$o" | bc -l)"
}
min() { if [[ -z $1 ]] || (($(echo "$2 < $1" | bc -l))); then echo "$2"; else echo "$1"; fi; }
# duel "CMD-A" "CMD-B": runs A and B alternately REP times (so that a busy
# machine hurts both alike); prints best wall and best CPU time of A, then of B
duel() {
    local aw= ac= bw= bc_= w c
    for ((i = 0; i < REP; i++)); do
        read -r w c < <(eval "$1"); aw=$(min "$aw" "$w"); ac=$(min "$ac" "$c")
        read -r w c < <(eval "$2"); bw=$(min "$bw" "$w"); bc_=$(min "$bc_" "$c")
    done
    echo "$aw $ac $bw $bc_"
}
mbps() { echo "scale=0; $1 / 1048576 / $2" | bc -l; }
ratio() { echo "scale=2; $1 / $2" | bc -l; }
row() { printf "%-40s %9s %9s %7s %11s\n" "$@"; }
cpu() { printf "%.2f/%.2f" "$1" "$2"; }

echo "emu-img: $EMU"
echo "qemu-img: $(qemu-img --version | head -1)"
echo "files in $D ($(df -h --output=fstype,source "$D" | tail -1 | xargs)), best of $REP"
echo
row "sequential (1 GiB qcow2)" "emu MB/s" "qemu MB/s" "ratio" "CPU s e/q"
for sz in 64k 1M; do
    unit=$([[ $sz == 1M ]] && echo 1048576 || echo 65536)
    n=$((512 * 1048576 / unit)) bytes=$((512 * 1048576))   # 512 MiB per run
    # Writes: a fresh image for every run of each tool.
    read -r we ce wq cq < <(duel "rm -f e.qcow2; '$EMU' create -q -f qcow2 e.qcow2 1G; secs '$EMU' bench -w -c $n -s $sz e.qcow2" \
                           "rm -f q.qcow2; qemu-img create -q -f qcow2 q.qcow2 1G; secs qemu-img bench -w -c $n -s $sz q.qcow2")
    row "write, $sz requests (allocating)" "$(mbps $bytes $we)" "$(mbps $bytes $wq)" "$(ratio $wq $we)" "$(cpu $ce $cq)"
    read -r re ce rq cq < <(duel "secs '$EMU' bench -c $n -s $sz e.qcow2" "secs qemu-img bench -c $n -s $sz e.qcow2")
    row "read, $sz requests" "$(mbps $bytes $re)" "$(mbps $bytes $rq)" "$(ratio $rq $re)" "$(cpu $ce $cq)"
    read -r we ce wq cq < <(duel "secs '$EMU' bench -w -c $n -s $sz e.qcow2" "secs qemu-img bench -w -c $n -s $sz e.qcow2")
    row "rewrite, $sz requests (allocated)" "$(mbps $bytes $we)" "$(mbps $bytes $wq)" "$(ratio $wq $we)" "$(cpu $ce $cq)"
done

echo
row "random 4 KiB, 1 GiB image, 100k reqs" "qcow2 MB/s" "raw MB/s" "ratio" "CPU s q/r"
"$EMU" bench -q -w -c 1024 -s 1M --pattern=0x5a e.qcow2   # every cluster allocated, not zero
"$EMU" create -q -f raw r.raw 1G   # the bound: a raw file written the same way
"$EMU" bench -q -w -f raw -c 1024 -s 1M --pattern=0x5a r.raw
sync; cat e.qcow2 r.raw >/dev/null   # both written back and in the page cache
n=100000 bytes=$((100000 * 4096))
for mode in read write; do
    w=; [[ $mode == write ]] && w=-w
    read -r tq cq tr cr < <(duel "secs '$EMU' bench $w --random -c $n -s 4k e.qcow2" \
                           "secs '$EMU' bench $w --random -f raw -c $n -s 4k r.raw")
    row "$mode (emu block layer)" "$(mbps $bytes $tq)" "$(mbps $bytes $tr)" "$(ratio $tr $tq)" "$(cpu $cq $cr)"
done

echo
row "convert 1 GiB sparse qcow2 (256 MiB)" "emu s" "qemu s" "ratio" "CPU s e/q"
rm -f e.qcow2 r.raw
"$EMU" create -q -f qcow2 src.qcow2 1G
"$EMU" bench -q -w -c 64 -s 4M -S 16M --pattern=0x5c src.qcow2
for fmt in qcow2 raw; do
    read -r te ce tq cq < <(duel "wall '$EMU' convert -O $fmt src.qcow2 out.img" \
                           "wall qemu-img convert -O $fmt src.qcow2 out.img")
    row "to $fmt" "$(printf %.3f $te)" "$(printf %.3f $tq)" "$(ratio $tq $te)" "$(cpu $ce $cq)"
done
"$EMU" convert -O qcow2 src.qcow2 out.img && qemu-img compare -q src.qcow2 out.img
echo "(emu-img convert output verified with qemu-img compare)"
