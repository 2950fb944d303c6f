#!/bin/sh
# Reproduce src/doorhunt/web/static/vendor/: each pinned front-end library fetched from the
# npm registry with `npm pack NAME@VERSION`, checked against the tarball's SHA-256 recorded
# here, and its distribution file and licence copied in. Needs node/npm and network; users of
# doorhunt never run this (the files are in the package).
#   scripts/vendor-web.sh          fetch and copy
#   scripts/vendor-web.sh --check  fetch and compare with what is vendored
set -eu
cd "$(dirname "$0")/.."
vendor=src/doorhunt/web/static/vendor
check=no
[ "${1:-}" = "--check" ] && check=yes

work=$(mktemp -d /tmp/doorhunt-vendor.XXXXXX)
trap 'rm -rf "$work"' EXIT

# name version tarball-sha256 file-in-package destination
fetch() {
    name=$1 version=$2 sha=$3 source=$4 destination=$5
    (cd "$work" && npm pack --silent "$name@$version" >/dev/null)
    tarball="$work/$name-$version.tgz"
    actual=$(sha256sum "$tarball" | cut -d' ' -f1)
    if [ "$actual" != "$sha" ]; then
        echo "vendor-web: $name@$version: tarball SHA-256 $actual, expected $sha" >&2
        exit 1
    fi
    mkdir -p "$work/$name"
    tar -xzf "$tarball" -C "$work/$name"
    if [ "$check" = yes ]; then
        cmp "$work/$name/package/$source" "$vendor/$destination"
        cmp "$work/$name/package/LICENSE" "$vendor/$(dirname "$destination")/LICENSE"
        echo "vendor-web: $name@$version matches"
    else
        mkdir -p "$vendor/$(dirname "$destination")"
        cp "$work/$name/package/$source" "$vendor/$destination"
        cp "$work/$name/package/LICENSE" "$vendor/$(dirname "$destination")/LICENSE"
        echo "vendor-web: $name@$version -> $vendor/$destination"
    fi
}

fetch cytoscape 3.35.0 058a81a7534777ea68dc737e9b77bd5b701e00acd9bee246245a576eeeac32e6 \
    dist/cytoscape.esm.min.mjs cytoscape/cytoscape.esm.min.mjs
[ "$check" = yes ] || (cd "$vendor" && sha256sum cytoscape/cytoscape.esm.min.mjs cytoscape/LICENSE)
