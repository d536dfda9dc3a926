#!/usr/bin/env bash
# Install what the browser tests (tests/test_app_browser.py) need, from Debian's packages:
# Chromium (driven by pip's playwright with executable_path=/usr/bin/chromium; no browser
# is downloaded by playwright) and a CJK font so the page's Chinese renders as glyphs.
# Idempotent and quiet: does nothing when both are already installed.
set -euo pipefail

need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
dpkg -s fonts-noto-cjk >/dev/null 2>&1 || need+=(fonts-noto-cjk)
[ "${#need[@]}" -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    echo "install_browser.sh: need root to apt-get install ${need[*]}" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
echo "install_browser.sh: installed ${need[*]}"
