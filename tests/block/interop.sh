#!/bin/bash
# interop.sh EMU_IMG - runs emu-img and qemu-img/qemu-io side by side on
# temporary images and fails on any disagreement.  Exit 77 (skipped) only
# when qemu-img is not installed.
set -u
EMU=$(realpath "${1:?usage: interop.sh path/to/emu-img}")
if ! command -v qemu-img >/dev/null || ! command -v qemu-io >/dev/null; then
    echo "SKIP: qemu-img/qemu-io not installed (Debian package qemu-utils)"
    exit 77
fi
T=$(mktemp -d /tmp/emu-interop.XXXXXX)
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 1
pass=0 fail=0
ok() { echo "ok:   $*"; pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }
# run DESC CMD... : the command must succeed
run() { local d=$1; shift; if "$@" >out.txt 2>&1; then ok "$d"; else bad "$d"; sed 's/^/    /' out.txt; fi; }
# same DESC CMD-A CMD-B : both commands print the same thing (and exit alike)
same() {
    local d=$1
    bash -c "$2" >a.txt 2>&1; local ra=$?
    bash -c "$3" >b.txt 2>&1; local rb=$?
    if [[ $ra == "$rb" ]] && cmp -s a.txt b.txt; then ok "$d"; else
        bad "$d (exit $ra vs $rb)"; diff a.txt b.txt | head -20 | sed 's/^/    /'; fi
}
qcheck() { run "qemu-img check $1" qemu-img check "$1"; }
qio_read() { run "qemu-io reads $2 at $3+$4 in $1" qemu-io -f qcow2 -c "read -P $2 $3 $4" "$1"; }
# Python one-off to poke a refcount (cluster index, new value) in a qcow2 image.
set_refcount() {
    python3 - "$1" "$2" "$3" <<'PY'
import struct, sys
f = open(sys.argv[1], 'r+b'); idx = int(sys.argv[2]); val = int(sys.argv[3])
h = f.read(104); cb = struct.unpack('>I', h[20:24])[0]; rt = struct.unpack('>Q', h[48:56])[0]
order = struct.unpack('>I', h[96:100])[0]; cs = 1 << cb
per = cs * 8 // (1 << order)
f.seek(rt + 8 * (idx // per)); rb = struct.unpack('>Q', f.read(8))[0]
assert rb and order == 4
f.seek(rb + 2 * (idx % per)); f.write(struct.pack('>H', val))
PY
}

echo "== create: emu-img images as qemu-img sees them"
"$EMU" create -f qcow2 e.qcow2 10G >/dev/null && qemu-img create -f qcow2 q.qcow2 10G >/dev/null
qcheck e.qcow2
run "emu-img create output is byte-identical to qemu-img create" cmp e.qcow2 q.qcow2
same "create message" "'$EMU' create -f qcow2 m1.qcow2 1G" "qemu-img create -f qcow2 m1.qcow2 1G"
same "info (human)" "qemu-img info e.qcow2" "'$EMU' info e.qcow2"
same "info (json)" "qemu-img info --output=json e.qcow2" "'$EMU' info --output=json e.qcow2"
same "check on a fresh image" "qemu-img check e.qcow2" "'$EMU' check e.qcow2"
for o in cluster_size=4k compression_type=zstd lazy_refcounts=on compat=0.10 cluster_size=2M \
         cluster_size=512,refcount_bits=16; do
    "$EMU" create -q -f qcow2 -o "$o" o.qcow2 3G
    qcheck o.qcow2
    same "info -o $o" "qemu-img info --output=json o.qcow2" "'$EMU' info --output=json o.qcow2"
done
"$EMU" create -q -f raw r.raw 64M
same "info raw" "qemu-img info -f raw r.raw" "'$EMU' info -f raw r.raw"

echo "== backing files"
"$EMU" create -q -f qcow2 base.qcow2 256M
mkdir -p sub
"$EMU" create -q -f qcow2 -b ../base.qcow2 -F qcow2 sub/ov.qcow2
qcheck sub/ov.qcow2
same "info --backing-chain (human)" "qemu-img info --backing-chain sub/ov.qcow2" \
    "'$EMU' info --backing-chain sub/ov.qcow2"
same "info --backing-chain (json)" "qemu-img info --output=json --backing-chain sub/ov.qcow2" \
    "'$EMU' info --output=json --backing-chain sub/ov.qcow2"

echo "== data written by emu, read by qemu"
"$EMU" bench -q -w -c 1 -s 4096 -o 0 --pattern=0x11 e.qcow2
"$EMU" bench -q -w -c 3 -s 100000 -o 70000 --pattern=0x22 e.qcow2
"$EMU" bench -q -w -c 16 -s 1M -o 1G --pattern=0x33 e.qcow2
"$EMU" bench -q -w -c 1 -s 512 -o 1000448 --pattern=0x44 e.qcow2
qio_read e.qcow2 0x11 0 4096
qio_read e.qcow2 0x22 70000 300000
qio_read e.qcow2 0x33 1G 16M
qio_read e.qcow2 0x44 1000448 512
qio_read e.qcow2 0 4096 65904
qcheck e.qcow2
same "map (json) of an emu-written image" "qemu-img map --output=json e.qcow2" \
    "'$EMU' map --output=json e.qcow2"
same "map (human)" "qemu-img map e.qcow2" "'$EMU' map e.qcow2"
same "check of an emu-written image" "qemu-img check e.qcow2" "'$EMU' check e.qcow2"
# Overlay written by emu: copy-on-write from the backing file.
qemu-io -f qcow2 -c "write -P 0x55 0 1M" base.qcow2 >/dev/null
"$EMU" bench -q -w -c 1 -s 1000 -o 5000 --pattern=0x66 sub/ov.qcow2
qio_read sub/ov.qcow2 0x55 0 5000
qio_read sub/ov.qcow2 0x66 5000 1000
qio_read sub/ov.qcow2 0x55 6000 1042576
qcheck sub/ov.qcow2
same "map (json) of an overlay" "qemu-img map --output=json sub/ov.qcow2" \
    "'$EMU' map --output=json sub/ov.qcow2"

echo "== images made by qemu, read by emu"
qemu-img create -q -f qcow2 qd.qcow2 512M
qemu-io -f qcow2 -c "write -P 0x77 0 3M" -c "write -P 0x78 100M 4k" -c "write -z 1M 64k" \
    -c "write -P 0x79 300M 70000" qd.qcow2 >/dev/null
qemu-img create -q -f qcow2 -b qd.qcow2 -F qcow2 qov.qcow2
qemu-io -f qcow2 -c "write -P 0x7a 2M 1M" -c "discard 0 64k" qov.qcow2 >/dev/null
qemu-img convert -O raw qov.qcow2 qov.raw
for img in qd.qcow2 qov.qcow2; do
    same "compare $img vs raw (both tools)" "qemu-img compare $img qov.raw >/dev/null; \
        qemu-img compare -f qcow2 -F raw $img qd.qcow2" "'$EMU' compare $img qov.raw >/dev/null; \
        '$EMU' compare -f qcow2 -F raw $img qd.qcow2"
done
run "emu-img compare overlay vs qemu's raw" "$EMU" compare qov.qcow2 qov.raw
for c in zlib zstd; do
    qemu-img convert -c -O qcow2 -o compression_type=$c qov.qcow2 qc-$c.qcow2
    run "emu-img compare: qemu $c-compressed image" "$EMU" compare qc-$c.qcow2 qov.raw
    run "qemu-img compare: qemu $c-compressed image" qemu-img compare qc-$c.qcow2 qov.raw
    "$EMU" convert -O raw qc-$c.qcow2 ec-$c.raw
    run "emu-img convert of a $c-compressed image is byte-identical" cmp ec-$c.raw qov.raw
    same "check of a $c-compressed image" "qemu-img check qc-$c.qcow2" "'$EMU' check qc-$c.qcow2"
    same "map (json) of a $c-compressed image" "qemu-img map --output=json qc-$c.qcow2" \
        "'$EMU' map --output=json qc-$c.qcow2"
    same "map (human) refuses compressed clusters" "qemu-img map qc-$c.qcow2 2>/dev/null" \
        "'$EMU' map qc-$c.qcow2 2>/dev/null"
done
qemu-img create -q -f qcow2 -o compat=0.10 v2.qcow2 64M
qemu-io -f qcow2 -c "write -P 0x31 1M 1M" v2.qcow2 >/dev/null
qemu-img convert -O raw v2.qcow2 v2.raw
run "emu-img reads a version 2 image" "$EMU" compare v2.qcow2 v2.raw
same "info of a version 2 image" "qemu-img info v2.qcow2" "'$EMU' info v2.qcow2"
same "compare mismatch report" "qemu-img compare qd.qcow2 qov.qcow2" \
    "'$EMU' compare qd.qcow2 qov.qcow2"

echo "== emu-img convert, read back by qemu"
"$EMU" convert -O qcow2 qov.qcow2 ce.qcow2
qcheck ce.qcow2
run "qemu-img compare after emu-img convert" qemu-img compare ce.qcow2 qov.raw
"$EMU" convert -c -O qcow2 qov.qcow2 cez.qcow2
qcheck cez.qcow2
run "qemu-img compare after emu-img convert -c (zlib)" qemu-img compare cez.qcow2 qov.raw
"$EMU" convert -c -O qcow2 -o compression_type=zstd,cluster_size=16k qov.qcow2 cezs.qcow2
qcheck cezs.qcow2
run "qemu-img compare after emu-img convert -c (zstd, 16k clusters)" \
    qemu-img compare cezs.qcow2 qov.raw
"$EMU" convert -O raw qov.qcow2 ce.raw
run "emu-img convert to raw equals qemu-img's" cmp ce.raw qov.raw
run "raw output is sparse" test "$(du -k ce.raw | cut -f1)" -lt 20000
same "info of an emu-converted image" "qemu-img info --output=json ce.qcow2 | grep -v actual-size" \
    "'$EMU' info --output=json ce.qcow2 | grep -v actual-size"

echo "== check and repair"
cp qd.qcow2 leak.qcow2
end=$(( ($(stat -c %s leak.qcow2) + 65535) / 65536 ))
truncate -s $(( (end + 1) * 65536 )) leak.qcow2   # one more cluster, counted but unused
set_refcount leak.qcow2 "$end" 1
same "check finds a leak (output and exit code 3)" "qemu-img check leak.qcow2" \
    "'$EMU' check leak.qcow2"
run "emu-img check -r leaks" "$EMU" check -r leaks leak.qcow2
qcheck leak.qcow2
cp qd.qcow2 bad.qcow2
set_refcount bad.qcow2 5 0
same "check finds a refcount error (output and exit code 2)" "qemu-img check bad.qcow2" \
    "'$EMU' check bad.qcow2"
run "emu-img check -r all" "$EMU" check -r all bad.qcow2
qcheck bad.qcow2
run "data intact after repair" qemu-img compare bad.qcow2 qd.qcow2
run "emu-img writes after repair" "$EMU" bench -q -w -c 8 -s 64k -o 50M --pattern=0x12 bad.qcow2
qcheck bad.qcow2
qio_read bad.qcow2 0x12 50M 512k

echo "== dirty and corrupt bits"
qemu-img create -q -f qcow2 -o lazy_refcounts=on dirty.qcow2 64M
qemu-io -f qcow2 -c "write -P 0x61 0 1M" dirty.qcow2 >/dev/null
set_refcount dirty.qcow2 5 0   # stale refcounts, as after a crash with lazy refcounts
python3 -c "import sys; f=open('dirty.qcow2','r+b'); f.seek(79); f.write(bytes([1]))"
run "info shows the dirty image" bash -c "'$EMU' info dirty.qcow2 | grep -q 'cleanly shut down: no'"
run "emu-img writes to a dirty image (refcounts rebuilt first)" \
    "$EMU" bench -q -w -c 1 -s 64k -o 2M --pattern=0x62 dirty.qcow2
qcheck dirty.qcow2
run "dirty bit cleared" bash -c "! qemu-img info --output=json dirty.qcow2 | grep -q '\"dirty-flag\": true'"
qio_read dirty.qcow2 0x61 0 1M
qio_read dirty.qcow2 0x62 2M 64k
cp qd.qcow2 corrupt.qcow2
python3 -c "import sys; f=open('corrupt.qcow2','r+b'); f.seek(79); f.write(bytes([2]))"
run "a corrupt image is refused read/write" bash -c \
    "! '$EMU' bench -q -w -c 1 -s 4k corrupt.qcow2 2>err.txt && grep -q corrupt err.txt"
run "a corrupt image still reads" "$EMU" compare corrupt.qcow2 qd.qcow2
run "check -r all clears the corrupt bit" "$EMU" check -r all corrupt.qcow2
run "corrupt bit cleared" bash -c "qemu-img info corrupt.qcow2 | grep -q 'corrupt: false'"

echo "== internal snapshots (copy-on-write of shared clusters)"
qemu-img create -q -f qcow2 sn.qcow2 64M
qemu-io -f qcow2 -c "write -P 0x10 0 2M" sn.qcow2 >/dev/null
qemu-img snapshot -c snap1 sn.qcow2
same "check of an image with a snapshot" "qemu-img check sn.qcow2" "'$EMU' check sn.qcow2"
"$EMU" bench -q -w -c 3 -s 100000 -o 50000 --pattern=0x20 sn.qcow2
qcheck sn.qcow2
qio_read sn.qcow2 0x20 50000 300000
qio_read sn.qcow2 0x10 350000 1000000
qemu-img snapshot -a snap1 sn.qcow2
qio_read sn.qcow2 0x10 0 2M
qcheck sn.qcow2

echo "== resize"
cp qd.qcow2 rs.qcow2
run "emu-img resize +1G" "$EMU" resize rs.qcow2 +1G
qcheck rs.qcow2
run "virtual size after resize" bash -c "qemu-img info rs.qcow2 | grep -q '(1610612736 bytes)'"
run "data intact after resize" qemu-img compare -s rs.qcow2 rs.qcow2
"$EMU" bench -q -w -c 1 -s 64k -o 1500M --pattern=0x13 rs.qcow2
qio_read rs.qcow2 0x13 1500M 64k
qcheck rs.qcow2
run "emu-img resize --shrink" "$EMU" resize --shrink rs.qcow2 512M
qcheck rs.qcow2
run "data intact after shrink" qemu-img compare rs.qcow2 qd.qcow2
run "refuses to shrink without --shrink" bash -c "! '$EMU' resize rs.qcow2 -1M 2>/dev/null"
"$EMU" create -q -f raw rr.raw 1M && "$EMU" resize -f raw rr.raw +1M >/dev/null
run "raw resize" test "$(stat -c %s rr.raw)" = 2097152

echo "== bad input"
head -c 50 q.qcow2 > trunc.qcow2
run "truncated header is refused with a clear error" bash -c \
    "! '$EMU' info trunc.qcow2 2>err.txt && grep -q truncated err.txt"
cp q.qcow2 loopa.qcow2
"$EMU" create -q -f qcow2 -b loopa.qcow2 -F qcow2 loopb.qcow2
qemu-img rebase -u -b loopb.qcow2 -F qcow2 loopa.qcow2
run "backing file loop is refused" bash -c \
    "! '$EMU' info --backing-chain loopb.qcow2 2>err.txt && grep -qi loop err.txt"
cp e.qcow2 ro.qcow2 && sum1=$(md5sum < ro.qcow2)
"$EMU" info ro.qcow2 >/dev/null; "$EMU" check ro.qcow2 >/dev/null; "$EMU" map ro.qcow2 >/dev/null
"$EMU" compare ro.qcow2 e.qcow2 >/dev/null; "$EMU" convert -O raw ro.qcow2 ro.raw
run "read-only commands never write the image" test "$(md5sum < ro.qcow2)" = "$sum1"

# Parallel requests (bench -d 64: a thread pool, qcow2 data moved outside its
# lock) must leave the same image as serial ones.  100000-byte requests
# straddle clusters, and -S 2048 < -s 3000 makes neighbours overlap, so
# allocations and partial-cluster writes race.
"$EMU" create -q -f qcow2 par.qcow2 256M; "$EMU" create -q -f qcow2 ser.qcow2 256M
for d in 64:par 1:ser; do
    "$EMU" bench -q -w -d "${d%%:*}" -c 600 -s 100000 --pattern=0x5e "${d#*:}.qcow2"
    "$EMU" bench -q -w -d "${d%%:*}" -c 400 -s 3000 -S 2048 -o 70M --pattern=0x61 "${d#*:}.qcow2"
done
run "parallel and serial writes leave the same data" qemu-img compare par.qcow2 ser.qcow2
qcheck par.qcow2
"$EMU" convert -O raw par.qcow2 par.raw
run "parallel convert to raw reads back the same" qemu-img compare -f raw -F qcow2 par.raw ser.qcow2

echo "$pass passed, $fail failed"
[[ $fail == 0 ]]
