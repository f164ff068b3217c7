#!/usr/bin/env bash
# Install the Debian packages of the throwaway cluster when any is missing (root and apt-get needed).
# PCP's post-install script starts pmcd through systemctl and fails without systemd; it is
# configured with a no-op systemctl first on PATH, so dpkg is never left half-configured (and a
# half-configured pcp left by an earlier install is finished the same way).
set -euo pipefail
PACKAGES=(slurm-wlm slurmdbd slurm-wlm-mysql-plugin munge mariadb-server pcp python3-pcp curl)
need=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
half=$(dpkg --audit 2>/dev/null || true)
if [ ${#need[@]} -eq 0 ] && [ -z "$half" ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "make test-slurm: needs root and apt-get to install ${need[*]:-the half-configured packages} (Debian 12); stopping" >&2
  exit 3
fi
shim=$(mktemp -d)
trap 'rm -rf "$shim"' EXIT
printf '#!/bin/sh\nexit 0\n' >"$shim/systemctl"
chmod +x "$shim/systemctl"
export PATH="$shim:$PATH" DEBIAN_FRONTEND=noninteractive
apt_get() { apt-get -o DPkg::Lock::Timeout=600 "$@"; }
if [ -n "$half" ]; then
  dpkg --configure -a
fi
if [ ${#need[@]} -gt 0 ]; then
  echo "installing ${need[*]}"
  apt_get update -qq
  apt_get install -y -qq "${need[@]}" >/dev/null || { dpkg --configure -a && apt_get install -y -qq -f >/dev/null; }
fi
