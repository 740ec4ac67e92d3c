#!/usr/bin/env bash
# Builds bench/peers/sign_go against Debian's packaged AWS SDK for Go v2 sources, offline (GOPATH
# mode, no module downloads): apt-get install golang-go golang-github-aws-aws-sdk-go-v2-dev.
set -euo pipefail
out=${1:?usage: build_sign_go.sh OUTPUT_BINARY}
here=$(cd "$(dirname "$0")" && pwd)
[ -d /usr/share/gocode/src/github.com/aws/aws-sdk-go-v2 ] ||
  { echo "build_sign_go: apt-get install golang-go golang-github-aws-aws-sdk-go-v2-dev" >&2; exit 1; }
cache=$(mktemp -d)
trap 'rm -rf "$cache"' EXIT
GO111MODULE=off GOPATH=/usr/share/gocode GOCACHE="$cache" GOFLAGS= go build -o "$out" "$here/sign_go/main.go"
