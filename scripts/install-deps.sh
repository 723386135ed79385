#!/usr/bin/env bash
# Installs what nomine's build, demo and tests need on Debian 12, only when something is missing.
set -euo pipefail
packages=(docker.io busybox-static gcc libc6-dev libssl-dev librandomx-dev docker-registry skopeo apache2-utils openssl
  yara clamav tlsh-tools ssdeep zstd time etcd-server bpftrace apparmor postgresql chromium)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then echo "install-deps: missing Debian packages (${missing[*]}); run as root" >&2; exit 1; fi
  echo "install-deps: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# npm ci only when the lock file changed since the last install.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
