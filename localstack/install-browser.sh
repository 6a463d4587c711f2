#!/usr/bin/env bash
# Headless Chromium and its WebDriver (Debian packages) for the browser tests
# (tests/integration/test_browser.py). Idempotent: does nothing when both are there.
set -euo pipefail
if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "error: the browser tests need the Debian packages chromium and chromium-driver" >&2
    echo "fix: sudo apt-get update && sudo apt-get install -y --no-install-recommends chromium chromium-driver" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null
