#!/usr/bin/env bash
# The LiveGrains chaos harness: one command, bounded in time, loopback only.
#
#   bash bench/chaos.sh [--duration 120] [--mode kill|rolling|pause|coldstart|none] [--directory default|distributed]
#                       [--gateway-mode cohosted|client] [--concurrency 16] [--rooms 8] [--kill-interval 20] [--no-redis-kill]
#                       [--silos 3] [--gateways 2] [--ready-to-run]
#
# Builds Release if needed, starts its own redis-server (free port, AOF with appendfsync always, temp dir), 3 LiveGrains.Silo
# and 2 LiveGrains.Gateway (co-hosted: each runs a silo too) on free loopback ports, drives mixed load through both gateways while it
# kill -9s a random silo every 20 s (and restarts it) and once kill -9s Redis (and restarts it), then checks the whole
# recorded history. Prints the summary; exits 1 on any violation. Every process it starts is stopped on exit,
# also on Ctrl-C or a failure (the harness owns them as child processes). Results: docs/chaos.md.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dll="$root/bench/LiveGrains.Chaos/bin/Release/net10.0/LiveGrains.Chaos.dll"

if ! command -v redis-server >/dev/null; then
  echo "installing redis-server..." >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq redis-server >&2 || { apt-get update -qq >&2 && apt-get install -y -qq redis-server >&2; }
fi

echo "building chaos harness, silo and gateway (Release)..." >&2
dotnet build "$root/bench/LiveGrains.Chaos" -c Release -nologo -v quiet -clp:"ErrorsOnly;NoSummary" >&2

# timeout bounds the whole run (load + settle + check) even if something hangs; SIGINT lets the harness clean up.
duration=120
prev=""
args=()
ready_to_run=0
for arg in "$@"; do
  [[ "$prev" == "--duration" ]] && duration="$arg"
  prev="$arg"
  if [[ "$arg" == "--ready-to-run" ]]; then ready_to_run=1; else args+=("$arg"); fi
done
set -- "${args[@]+"${args[@]}"}"

# --ready-to-run: the nodes run from a ReadyToRun publish, as the images in infra/docker build them (precompiled
# assemblies start with less CPU: what a cold start of several nodes on few cores waits for). Takes a few minutes once.
if (( ready_to_run )); then
  out="$root/artifacts/chaos-nodes"
  for project in LiveGrains.Silo LiveGrains.Gateway; do
    echo "publishing $project ReadyToRun into $out/$project..." >&2
    dotnet publish "$root/src/$project" -c Release -r linux-x64 --self-contained false -p:PublishReadyToRun=true \
      -o "$out/$project" -nologo -v quiet -clp:"ErrorsOnly;NoSummary" >&2
  done
  export CHAOS_NODES_DIRECTORY="$out"
fi
limit=$(( ${duration%.*} + 600 ))
exec timeout --signal=INT --kill-after=60 "$limit" dotnet "$dll" "$@"
