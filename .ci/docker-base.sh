#!/usr/bin/env bash
# Builds the local base image CI (and offline developers) pass as BASE_IMAGE, since no registry
# can be pulled from: a Debian bookworm minbase from the Debian mirror (debootstrap) with git,
# ca-certificates and tini, plus the host's Node >= 20 binary and npm (Debian's nodejs is 18),
# and the user node (uid 1000) the public Node images have. Imported with `docker import`.
# The rootfs tar is cached under a content key (suite, packages, node version), so a re-run only
# imports (seconds). Usage: .ci/docker-base.sh [tag]   (default bot-bottle-ci-base:latest)
set -euo pipefail
tag="${1:-bot-bottle-ci-base:latest}"
cache="${BOT_BOTTLE_CI_CACHE:-/var/cache/bot-bottle-ci}"
pkgs="git,ca-certificates,tini,bash,curl"
node_bin="$(command -v node)"
node_ver="$("$node_bin" --version)"
npm_dir="$(dirname "$(dirname "$node_bin")")/lib/node_modules/npm"
key="$(printf 'bookworm minbase %s %s v2' "$pkgs" "$node_ver" | sha256sum | cut -c1-16)"
tarball="$cache/base-$key.tar"
if docker image inspect "$tag" --format '{{index .Config.Labels "bot-bottle.base-key"}}' 2>/dev/null | grep -qx "$key"; then
  echo "base image $tag is current ($key)"; exit 0
fi
mkdir -p "$cache"
if [ ! -s "$tarball" ]; then
  root="$(mktemp -d "$cache/rootfs.XXXXXX")"
  trap 'rm -rf "$root"' EXIT
  echo "debootstrap bookworm minbase (+ $pkgs) into $root"
  mkdir -p "$cache/debs"
  debootstrap --variant=minbase --cache-dir="$cache/debs" --include="$pkgs" bookworm "$root" http://deb.debian.org/debian >"$cache/debootstrap.log" 2>&1 \
    || { tail -20 "$cache/debootstrap.log"; exit 1; }
  install -m 0755 "$node_bin" "$root/usr/local/bin/node"
  if [ -d "$npm_dir" ]; then
    mkdir -p "$root/usr/local/lib/node_modules"
    cp -a "$npm_dir" "$root/usr/local/lib/node_modules/npm"
    ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
    ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"
  fi
  chroot "$root" /usr/sbin/groupadd -g 1000 node
  chroot "$root" /usr/sbin/useradd -m -u 1000 -g 1000 -s /bin/bash node
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
  tar -C "$root" -cf "$tarball.tmp" .
  mv "$tarball.tmp" "$tarball"
fi
echo "importing $tarball as $tag"
docker import --change "LABEL bot-bottle.base-key=$key" --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'CMD ["/bin/bash"]' "$tarball" "$tag" >/dev/null
echo "base image $tag ($key)"
