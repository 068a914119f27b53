#!/usr/bin/env bash
# tests/clients/install.sh - install the pinned client packages (official
# SDKs and CLIs, and playwright-core for the admin console's browser test,
# package-lock.json) into tests/clients/node_modules. playwright-core
# downloads no browser: the test drives Debian's chromium (scripts/lib/
# common.sh installs it).
# Idempotent: does nothing when node_modules matches the lock file; runs
# `npm ci` when it is missing or stale. Installs Node.js and npm with
# apt-get (as root) when they are missing. Packages come from the npm
# registry only.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
STAMP="$HERE/node_modules/.aura-lock-sha256"

log() { printf '==> clients: %s\n' "$*" >&2; }

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "clients: node/npm missing; run as root or install nodejs and npm" >&2
        exit 1
    fi
    log "installing nodejs npm (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    pkgs=(nodejs)
    # NodeSource's nodejs ships npm; Debian's does not.
    apt-cache show nodejs 2>/dev/null | grep -q '^Version:.*nodesource' || pkgs+=(npm)
    apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
fi

want=$(sha256sum "$HERE/package-lock.json" | cut -d' ' -f1)
have=$(cat "$STAMP" 2>/dev/null || true)
if [ -d "$HERE/node_modules" ] && [ "$want" = "$have" ] \
   && [ -x "$HERE/node_modules/.bin/codex" ] && [ -x "$HERE/node_modules/.bin/claude" ] \
   && [ -f "$HERE/node_modules/playwright-core/package.json" ]; then
    exit 0
fi

log "npm ci ($(node --version), npm $(npm --version))"
cd "$HERE"
# No update checks or telemetry from npm itself.
export NPM_CONFIG_UPDATE_NOTIFIER=false NPM_CONFIG_AUDIT=false NPM_CONFIG_FUND=false
npm ci --no-audit --no-fund --loglevel=error

# Claude Code's postinstall copies its platform binary over bin/claude.exe;
# an npm that skips install scripts leaves the placeholder: run it then.
if ! "$HERE/node_modules/.bin/claude" --version >/dev/null 2>&1; then
    log "running @anthropic-ai/claude-code's install.cjs"
    (cd "$HERE/node_modules/@anthropic-ai/claude-code" && node install.cjs)
fi
"$HERE/node_modules/.bin/claude" --version >/dev/null
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
HOME=$tmp CODEX_HOME=$tmp "$HERE/node_modules/.bin/codex" --version >/dev/null 2>&1
printf '%s\n' "$want" > "$STAMP"
log "installed: $(cd "$HERE" && node -e 'const l=require("./package-lock.json");console.log(Object.keys(l.packages[""].dependencies).map(n=>n+"@"+l.packages["node_modules/"+n].version).join(" "))')"
