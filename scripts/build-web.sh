#!/usr/bin/env bash
# Builds the dashboard front end (web/ → web/dist/), which the wirewatch binary embeds.
# Installs the npm packages from the lock file when they are missing or out of date.
set -euo pipefail
cd "$(dirname "$0")/../web"
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
npm run --silent build
