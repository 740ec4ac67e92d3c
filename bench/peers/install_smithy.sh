#!/usr/bin/env bash
# Installs the AWS SDK for JavaScript v3's SigV4 signer (@smithy/signature-v4, pinned) from the npm
# registry into DIR, for bench/sign_compare.py --smithy DIR. Benchmark-only; nothing is committed.
set -euo pipefail
dir=${1:?usage: install_smithy.sh DIR}
command -v npm >/dev/null || { echo "install_smithy: npm not found (apt-get install nodejs npm)" >&2; exit 1; }
mkdir -p "$dir"
if [ ! -d "$dir/node_modules/@smithy/signature-v4" ]; then
  npm install --prefix "$dir" --no-audit --no-fund --loglevel=error \
    @smithy/signature-v4@5.7.5 @smithy/hash-node@4.5.2 @smithy/protocol-http@5.6.2
fi
echo "$dir/node_modules"
