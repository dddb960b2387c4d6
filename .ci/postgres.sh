#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests: sourced by .ci/run (and usable by hand).
#   source .ci/postgres.sh && pg_start   # installs PostgreSQL if needed, exports TRACKER_TEST_POSTGRES
#   pg_stop                              # stops the cluster and removes its directory
# The cluster lives in a temporary directory owned by the `postgres` user (initdb refuses to
# run as root), listens on 127.0.0.1 only, on a free port, with trust authentication for
# loopback connections and nothing else; no socket file outside its directory.

pg_bindir() {
	local d
	d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
	echo "$d"
}

pg_install() {
	if [ -z "$(pg_bindir)" ]; then
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq && apt-get install -y -qq postgresql >/dev/null
	fi
	id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
}

# pg_free_port prints a TCP port nobody listens on (the kernel picks it).
pg_free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()' 2>/dev/null ||
		echo $((20000 + RANDOM % 20000))
}

pg_start() {
	pg_install
	local bin
	bin=$(pg_bindir)
	PG_TMP=$(mktemp -d /tmp/tracker-pg.XXXXXX)
	chown postgres "$PG_TMP"
	chmod 700 "$PG_TMP"
	runuser -u postgres -- "$bin/initdb" -D "$PG_TMP/data" -U postgres --auth=trust --no-sync -E UTF8 --locale=C.UTF-8 >"$PG_TMP/initdb.log" 2>&1 ||
		{ cat "$PG_TMP/initdb.log"; return 1; }
	# Loopback only, trust only there: pg_hba.conf replaced whole.
	printf 'host all all 127.0.0.1/32 trust\n' >"$PG_TMP/data/pg_hba.conf"
	local port tries=0
	while :; do
		port=$(pg_free_port)
		if runuser -u postgres -- "$bin/pg_ctl" -D "$PG_TMP/data" -l "$PG_TMP/server.log" -w -t 30 \
			-o "-c listen_addresses=127.0.0.1 -p $port -k $PG_TMP -c fsync=off -c max_connections=200" start >/dev/null; then
			break
		fi
		tries=$((tries + 1))
		if [ "$tries" -ge 5 ]; then
			cat "$PG_TMP/server.log"
			return 1
		fi
	done
	PG_BIN=$bin
	export TRACKER_TEST_POSTGRES="postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
	echo "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port (TRACKER_TEST_POSTGRES)"
}

pg_stop() {
	[ -n "${PG_TMP:-}" ] || return 0
	runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_TMP/data" -m immediate -w stop >/dev/null 2>&1 || true
	rm -rf "$PG_TMP"
	PG_TMP=
}
