#!/usr/bin/env bash
# Make sure the Debian packages the portal needs are present: install them when
# we can (root or passwordless sudo), otherwise say exactly what to install.
set -euo pipefail

# The CJK font for PDFs ships in static/fonts/, so no system font is needed.
runtime_packages=(
  libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0  # WeasyPrint
  poppler-utils                                                         # pdftoppm for PDF checks
)
browser_packages=(
  chromium                                # browser tests, bench/field.py
  nginx libnginx-mod-http-brotli-static   # docs/deploy.md's nginx, tests/ops/test_static_serving.py
)

case "${1:-runtime}" in
  runtime) wanted=("${runtime_packages[@]}") ;;
  browser) wanted=("${browser_packages[@]}") ;;
  *) echo "usage: $0 runtime|browser" >&2; exit 2 ;;
esac

if ! command -v dpkg-query >/dev/null 2>&1; then
  echo "Not a Debian-like system: please install the equivalents of: ${wanted[*]}" >&2
  exit 0
fi

missing=()
for package in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
  sudo=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  sudo=(sudo -n)
else
  echo "Missing system packages. Please run:" >&2
  echo "  sudo apt-get install ${missing[*]}" >&2
  exit 1
fi

echo "Installing ${missing[*]} ..."
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
