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
# PostgreSQL for the server's tests and benchmark: Debian's cluster (created when there is none, started when it is
# down), a role and database `nomine_test` whose random password is made on the first start, and its URL in a
# root-only file the tests read. Run twice, it changes nothing.
postgres_url_file=/var/lib/nomine-test/postgres-url
if [ "$(id -u)" = 0 ] && command -v pg_lsclusters >/dev/null 2>&1; then
  if [ -z "$(pg_lsclusters -h)" ]; then
    version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
    echo "start-services: creating the PostgreSQL $version cluster" >&2
    pg_createcluster "$version" main >/dev/null
  fi
  read -r pg_version pg_cluster pg_port pg_status _ < <(pg_lsclusters -h | head -n 1)
  if [ "$pg_status" != online ]; then
    echo "start-services: starting PostgreSQL $pg_version/$pg_cluster" >&2
    pg_ctlcluster "$pg_version" "$pg_cluster" start
  fi
  install -d -m 0700 /var/lib/nomine-test
  if [ -s "$postgres_url_file" ]; then
    pg_password=$(sed -E 's|^postgres://[^:]+:([^@]+)@.*$|\1|' "$postgres_url_file")
  else
    pg_password=$(openssl rand -hex 24)
  fi
  # The password goes through psql's stdin, never its arguments (ps shows those). The role may create databases:
  # every test server gets a fresh one.
  runuser -u postgres -- psql -X -q -p "$pg_port" -v ON_ERROR_STOP=1 -d postgres >/dev/null <<SQL
select 'create role nomine_test login createdb' where not exists (select from pg_roles where rolname = 'nomine_test') \gexec
alter role nomine_test with login createdb password '$pg_password';
select 'create database nomine_test owner nomine_test' where not exists (select from pg_database where datname = 'nomine_test') \gexec
SQL
  (umask 077 && printf 'postgres://nomine_test:%s@127.0.0.1:%s/nomine_test\n' "$pg_password" "$pg_port" >"$postgres_url_file.new" && mv "$postgres_url_file.new" "$postgres_url_file")
elif [ "$(id -u)" != 0 ]; then
  echo "start-services: not root: PostgreSQL left as it is (the PostgreSQL tests read NOMINE_TEST_POSTGRES_URL)" >&2
fi
