#!/usr/bin/env bash
# Installs the Debian packages the test tiers need, only when something is missing.
# Runs `apt-get update` at most once. Safe to run again.
set -euo pipefail
pkgs=(
  iproute2 iputils-ping procps psmisc
  strongswan-charon strongswan-swanctl libcharon-extra-plugins libstrongswan-extra-plugins libstrongswan-standard-plugins util-linux
  tshark openssh-client sshpass expect tmux iperf3 python3-netmiko python3-textfsm
  # lab/vm: Debian's stock kernel (it has ESP) under QEMU; kmod for depmod, busybox for the initramfs
  qemu-system-x86 busybox-static kmod cpio xz-utils
)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "install-deps: missing packages ${missing[*]} and not root; install them first" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
echo 'wireshark-common wireshark-common/install-setuid boolean false' | debconf-set-selections
apt-get -o DPkg::Lock::Timeout=300 update -qq
apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# charon must not run as a system service: the lab starts its own per namespace.
systemctl disable --now strongswan-starter 2>/dev/null || true
