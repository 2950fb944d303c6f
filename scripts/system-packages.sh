#!/bin/sh
# Install the Debian packages doorhunt needs, only those missing (safe to run again).
#   scripts/system-packages.sh run    what `doorhunt` itself uses
#   scripts/system-packages.sh test   plus what the test suite uses
set -eu

run_packages="python3 python3-venv python3-pip tcpdump iproute2 procps iptables"
# isc-dhcp-client: a real packaged holder of a DHCP packet filter, the sweep's negative case.
# yara: the YARA benchmark's baseline and agreement test; gcc-multilib: i386 test samples.
# auditd: the sensor coexists with it; chromium + fonts-noto-cjk: the UI tests and PDF reports
# (Korean glyphs).
test_packages="$run_packages gcc libc6-dev isc-dhcp-client yara gcc-multilib auditd chromium fonts-noto-cjk"

case "${1:-}" in
    run) wanted=$run_packages ;;
    test) wanted=$test_packages ;;
    *) echo "usage: $0 run|test" >&2; exit 2 ;;
esac

if ! command -v dpkg-query >/dev/null 2>&1; then
    echo "doorhunt: not a Debian system: install these yourself: $wanted" >&2
    exit 0
fi

missing=""
for package in $wanted; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $package"
    fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
    as_root=""
elif command -v sudo >/dev/null 2>&1; then
    as_root="sudo"
else
    echo "doorhunt: need root (or sudo) to install:$missing" >&2
    exit 1
fi
echo "doorhunt: installing:$missing"
$as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
# shellcheck disable=SC2086  # the package list is meant to split
$as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
