#!/usr/bin/env bash
# Best effort: install Debian's headless Chromium and its WebDriver for the browser tests
# (tests/test_report.py::test_report_renders_in_headless_chromium needs chromium;
# tests/test_app.py's browser test also needs chromedriver), which are skipped without them.
# Acts only when one is missing, this is root on a Debian-like system with apt-get, and
# CRITMIN_NO_APT is unset; never fails the build.
set -u
have() { command -v "$1" >/dev/null 2>&1; }
missing=()
have chromium || have chromium-browser || missing+=(chromium)
have chromedriver || missing+=(chromium-driver)
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ -n "${CRITMIN_NO_APT:-}" ] || [ "$(id -u)" != 0 ] || ! have apt-get; then
  echo "note: ${missing[*]} not found; the browser tests will be skipped" \
       "(as root on Debian, 'make test' installs them; or: apt-get install ${missing[*]})" >&2
  exit 0
fi
echo "installing Debian's ${missing[*]} for the browser tests (CRITMIN_NO_APT=1 skips this)" >&2
export DEBIAN_FRONTEND=noninteractive
if ! { timeout 120 apt-get update -qq \
       && timeout 240 apt-get install -y -qq --no-install-recommends "${missing[@]}"; } \
     >/dev/null; then
  echo "note: could not install ${missing[*]}; the browser tests will be skipped" >&2
fi
exit 0
