#!/usr/bin/env bash
# End to end against a local moto_server (127.0.0.1 only): contain N instances and N users with
# containctl (plan + apply, settings mode auto) and with bench/peers/boto3_contain.py (sequential
# boto3), each on a freshly reset and reseeded server. Prints wall times, their ratio and
# containctl's peak RSS (from /usr/bin/time -v).
#   bench/peer_compare.sh [N] [BUILD_DIR] [SETTINGS_JSON] [LATENCY_MS]
# SETTINGS_JSON is merged into containctl's settings, e.g. '{"executor": {"per_account_region": 16}}'.
# LATENCY_MS puts bench/peers/latency_proxy.py in front of moto for both tools (seeding goes direct).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-10}
BIN=${2:-build}/containctl
EXTRA_SETTINGS=${3:-}
LATENCY_MS=${4:-0}
WORK=$(mktemp -d /tmp/containctl-peer.XXXXXX)
chmod 700 "$WORK"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
moto_server -H 127.0.0.1 -p "$PORT" >"$WORK/moto.log" 2>&1 &
MOTO_PID=$!
PROXY_PID=
cleanup() {
  kill "$MOTO_PID" $PROXY_PID 2>/dev/null || true
  wait "$MOTO_PID" $PROXY_PID 2>/dev/null || true
}
trap cleanup EXIT
for _ in $(seq 1 100); do curl -fs -o /dev/null "http://127.0.0.1:$PORT/moto-api/data.json" && break; sleep 0.1; done
EP="http://127.0.0.1:$PORT"
CALL_EP=$EP  # where the two tools send their calls
if [ "$LATENCY_MS" != 0 ]; then
  PPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  python3 bench/peers/latency_proxy.py "$PPORT" "$PORT" "$LATENCY_MS" >"$WORK/proxy.log" 2>&1 &
  PROXY_PID=$!
  for _ in $(seq 1 100); do curl -fs -o /dev/null "http://127.0.0.1:$PPORT/moto-api/data.json" && break; sleep 0.1; done
  CALL_EP="http://127.0.0.1:$PPORT"
fi
unset AWS_PROFILE AWS_SESSION_TOKEN

seed() { curl -fs -X POST "$EP/moto-api/reset" >/dev/null; python3 bench/peers/seed.py "$EP" "$N" "$WORK/seed.json"; }
field() { python3 -c "import json,sys; v=json.load(open('$WORK/seed.json'))['$1']; print(' '.join(v) if isinstance(v,list) else v)"; }

# containctl
seed
export AWS_ENDPOINT_URL="$CALL_EP" AWS_REGION=us-east-1 CONTAINCTL_STATE_DIR="$WORK/state"
AWS_ACCESS_KEY_ID=$(field responder_key) AWS_SECRET_ACCESS_KEY=$(field responder_secret)
export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
mkdir -p "$CONTAINCTL_STATE_DIR"
cat >"$CONTAINCTL_STATE_DIR/settings.json" <<JSON
{"organization": {"id": "o-bench", "mode": "auto", "auto_scope": "confirmed", "approvals_required": 1,
                  "actions": ["ec2-isolate", "iam-contain"]},
 "max_targets_per_run": 1000}
JSON
if [ -n "$EXTRA_SETTINGS" ]; then
  python3 - "$CONTAINCTL_STATE_DIR/settings.json" "$EXTRA_SETTINGS" <<'PY'
import json, sys
path, extra = sys.argv[1], json.loads(sys.argv[2])
s = json.load(open(path))
s.update(extra)
json.dump(s, open(path, "w"))
PY
fi
TARGETS=()
for a in $(field instance_arns) $(field user_arns); do TARGETS+=(--target "$a"); done
t0=$(date +%s.%N)
/usr/bin/time -v -o "$WORK/plan.time" "$BIN" plan "${TARGETS[@]}" --actions ec2-isolate,iam-contain -o "$WORK/plan.json" >"$WORK/plan.out"
/usr/bin/time -v -o "$WORK/apply.time" "$BIN" apply "$WORK/plan.json" >"$WORK/apply.out"
t1=$(date +%s.%N)
cc=$(python3 -c "print($t1-$t0)")
rss_plan=$(awk -F': ' '/Maximum resident/{print $2}' "$WORK/plan.time")
rss_apply=$(awk -F': ' '/Maximum resident/{print $2}' "$WORK/apply.time")
wall_plan=$(awk -F'): ' '/Elapsed \(wall clock\)/{print $2}' "$WORK/plan.time")
wall_apply=$(awk -F'): ' '/Elapsed \(wall clock\)/{print $2}' "$WORK/apply.time")
tail -3 "$WORK/apply.out"

# boto3, same targets on a fresh server
seed
py=$(python3 bench/peers/boto3_contain.py "$CALL_EP" "$WORK/seed.json" | python3 -c 'import json,sys; print(json.load(sys.stdin)["seconds"])')
echo "N=$N latency_ms=$LATENCY_MS containctl(plan+apply)=${cc}s boto3_sequential=${py}s ratio(containctl/boto3)=$(python3 -c "print(round($cc/$py,3))") containctl_peak_rss_kb: plan=$rss_plan apply=$rss_apply containctl_wall: plan=$wall_plan apply=$wall_apply"
rm -rf "$WORK"
