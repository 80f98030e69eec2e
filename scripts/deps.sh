#!/usr/bin/env bash
# deps.sh PROGRAM=PACKAGE ...: make sure each program is on PATH. If one is
# missing and apt-get is usable (root, or sudo without a password), install
# its Debian package; otherwise stop with a message naming the packages.
set -euo pipefail

missing_pkgs=()
for spec in "$@"; do
  prog=${spec%%=*} pkg=${spec#*=}
  if [[ $prog == /* ]]; then [[ -e $prog ]] && continue; else command -v "$prog" >/dev/null 2>&1 && continue; fi
  missing_pkgs+=("$pkg")
done
[[ ${#missing_pkgs[@]} -eq 0 ]] && exit 0

sudo=""
if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo="sudo -n"; fi
fi
if command -v apt-get >/dev/null 2>&1 && { [[ $(id -u) -eq 0 ]] || [[ -n $sudo ]]; }; then
  echo "deps: installing ${missing_pkgs[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  # No daemon a package brings (nginx on port 80, icinga2, nrpe...) starts
  # on the machine's interfaces: invoke-rc.d asks policy-rc.d first, and
  # 101 is "not allowed". The tests start what they need on loopback.
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
    $sudo chmod 755 /usr/sbin/policy-rc.d
    trap '$sudo rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  $sudo apt-get update -qq >&2
  $sudo apt-get install -y -qq --no-install-recommends "${missing_pkgs[@]}" >&2
  exit 0
fi
echo "deps: missing packages: ${missing_pkgs[*]}. Install them (apt-get install ${missing_pkgs[*]}) and run again." >&2
exit 1
