#!/usr/bin/env bash
# Install Debian's Chromium for the browser tests (tests/test_admin_page.py).
# Idempotent: does nothing when /usr/bin/chromium is already there.
# Playwright's own browser download is not used (no network access to its CDN).
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
    echo "chromium already installed: $(/usr/bin/chromium --version 2>/dev/null || echo /usr/bin/chromium)"
    exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends chromium fonts-dejavu-core

/usr/bin/chromium --version
