#!/bin/sh
# The benchmark's baseline: what the public BPFDoor check scripts do, their way (BPFDOOR.md §6):
# `ss -0bp` per namespace and a grep for magic values, inode -> pid by grepping
# /proc/*/fdinfo/* for each socket inode, environ and exe checks per process with grep and
# readlink, and the PID-file listing. For measuring only; not a detector.
netns_list="host $(ls /run/netns 2>/dev/null)"
for ns in $netns_list; do
    if [ "$ns" = host ]; then run=""; else run="ip netns exec $ns"; fi
    $run ss -0bp > /tmp/.baseline-ss.$$ 2>/dev/null
    # magic values as ss prints them (decimal k): 0x5293, 0x7255, 0x39393939, 0x8d6c, 0x9f4f
    if grep -E -q "21139|29269|960051513|36204|40783" /tmp/.baseline-ss.$$; then
        echo "[$ns] suspicious BPF filter found"
    fi
    for inode in $($run cat /proc/net/packet | awk 'NR > 1 {print $9}'); do
        for file in $(grep -l "ino:[[:space:]]*$inode\$" /proc/[0-9]*/fdinfo/* 2>/dev/null); do
            pid=$(echo "$file" | cut -d/ -f3)
            echo "[$ns] packet socket inode $inode held by pid $pid"
        done
    done
done
rm -f /tmp/.baseline-ss.$$
for dir in /proc/[0-9]*; do
    pid=${dir#/proc/}
    if grep -aq "HISTFILE=/dev/null" "$dir/environ" 2>/dev/null; then
        echo "pid $pid: HISTFILE=/dev/null"
    fi
    exe=$(readlink "$dir/exe" 2>/dev/null)
    case "$exe" in
        *"(deleted)"*) echo "pid $pid: deleted executable $exe" ;;
        /dev/shm/*) echo "pid $pid: runs from /dev/shm" ;;
    esac
done
for file in /var/run/*.pid /var/run/*.lock; do
    [ -f "$file" ] || continue
    if [ "$(stat -c %s "$file")" = 0 ] && [ "$(stat -c %a "$file")" = 644 ]; then
        echo "suspicious empty pid file: $file"
    fi
done
