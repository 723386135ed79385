#!/usr/bin/env bash
# Starts the services the demo and the tests use, when they are not running: the Docker Engine (no bridge and no
# iptables: this machine has no network for containers; they run with --network none or host).
set -euo pipefail
if ! docker info >/dev/null 2>&1; then
  if [ "$(id -u)" != 0 ]; then echo "start-services: dockerd is not running and we are not root" >&2; exit 1; fi
  echo "start-services: starting dockerd" >&2
  nohup dockerd --bridge=none --iptables=false >/var/log/nomine-dockerd.log 2>&1 &
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 0.5; done
  docker info >/dev/null 2>&1 || { echo "start-services: dockerd did not start; see /var/log/nomine-dockerd.log" >&2; exit 1; }
fi
# The eBPF sensor's tracepoints live in tracefs; some machines do not mount it.
if [ "$(id -u)" = 0 ] && [ -d /sys/kernel/tracing ] && [ -z "$(ls -A /sys/kernel/tracing 2>/dev/null)" ]; then
  mount -t tracefs nodev /sys/kernel/tracing || echo "start-services: could not mount tracefs; the agent will use the /proc sensor" >&2
fi
