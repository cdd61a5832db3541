# Throwaway database servers (and the browser) for the test suite. Sourced by scripts/test.sh (bash).
#
# For each of PostgreSQL and MariaDB that is not already given through TESTMESH_TEST_POSTGRES_URL /
# TESTMESH_TEST_MYSQL_URL: install the Debian package when missing (as root), start a private
# instance on a free loopback port in a temp directory, export the URL, and stop it and remove the
# directory when the calling script exits. A server that cannot be started leaves its URL unset:
# the database tests then fail under CI=1 and skip locally.

testmesh_services_dirs=()
testmesh_services_stops=()

testmesh_services_log() { echo "services: $*" >&2; }

# A TCP port on 127.0.0.1 that nothing listens on.
testmesh_free_port() {
  local port
  for _ in $(seq 1 50); do
    port=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return 0
    fi
  done
  return 1
}

testmesh_pg_bin() {
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

testmesh_mariadbd() {
  command -v mariadbd || command -v mysqld || ls /usr/sbin/mariadbd /usr/sbin/mysqld 2>/dev/null | head -n 1
}

# Installs Debian packages quietly; refreshes the package lists only when the first try fails.
testmesh_apt_install() {
  if [ "$(id -u)" != 0 ]; then
    testmesh_services_log "not root: cannot install $*"
    return 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq "$@" >/dev/null 2>&1 && return 0
  apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq "$@" >/dev/null 2>&1
}

# Sends TERM to the process in a pid file and waits up to 20 s for it to go.
testmesh_stop_pid() {
  local pid
  pid=$(cat "$1" 2>/dev/null) || return 0
  kill "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 200); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -9 "$pid" 2>/dev/null || true
}

testmesh_services_stop() {
  local stop dir
  for stop in "${testmesh_services_stops[@]}"; do
    eval "$stop" >/dev/null 2>&1 || true
  done
  for dir in "${testmesh_services_dirs[@]}"; do
    rm -rf "$dir"
  done
}

testmesh_start_postgres() {
  local bin dir port
  bin=$(testmesh_pg_bin)
  if [ -z "$bin" ]; then
    testmesh_apt_install postgresql || { testmesh_services_log "cannot install postgresql"; return 1; }
    bin=$(testmesh_pg_bin)
  fi
  dir=$(mktemp -d /tmp/testmesh-pg.XXXXXX)
  testmesh_services_dirs+=("$dir")
  chown postgres: "$dir"
  port=$(testmesh_free_port) || return 1
  runuser -u postgres -- "$bin/initdb" -D "$dir/data" -U postgres -A trust --no-sync >"$dir/initdb.log" 2>&1 \
    || { testmesh_services_log "initdb failed: $(tail -n 3 "$dir/initdb.log")"; return 1; }
  runuser -u postgres -- "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
    start >/dev/null \
    || { testmesh_services_log "PostgreSQL did not start: $(tail -n 3 "$dir/server.log")"; return 1; }
  testmesh_services_stops+=("runuser -u postgres -- '$bin/pg_ctl' -D '$dir/data' -m immediate -w stop")
  export TESTMESH_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$port/postgres"
}

testmesh_start_mariadb() {
  local server dir port
  server=$(testmesh_mariadbd)
  if [ -z "$server" ]; then
    testmesh_apt_install mariadb-server || { testmesh_services_log "cannot install mariadb-server"; return 1; }
    server=$(testmesh_mariadbd)
  fi
  dir=$(mktemp -d /tmp/testmesh-mariadb.XXXXXX)
  testmesh_services_dirs+=("$dir")
  chown mysql: "$dir"
  port=$(testmesh_free_port) || return 1
  runuser -u mysql -- mariadb-install-db --no-defaults --datadir="$dir/data" --auth-root-authentication-method=socket \
    --skip-test-db >"$dir/install.log" 2>&1 \
    || { testmesh_services_log "mariadb-install-db failed: $(tail -n 3 "$dir/install.log")"; return 1; }
  runuser -u mysql -- "$server" --no-defaults --datadir="$dir/data" --socket="$dir/mysqld.sock" \
    --pid-file="$dir/mysqld.pid" --port="$port" --bind-address=127.0.0.1 --skip-name-resolve \
    --log-error="$dir/error.log" --innodb-buffer-pool-size=32M --innodb-log-file-size=16M \
    --innodb-flush-log-at-trx-commit=0 --skip-log-bin >/dev/null 2>&1 &
  # Stopped through its pid file and polled, not with `wait`: the trap may run inside another `wait`.
  testmesh_services_stops+=("testmesh_stop_pid '$dir/mysqld.pid'")
  local pid=$!
  for _ in $(seq 1 100); do
    mariadb-admin --no-defaults --socket="$dir/mysqld.sock" -uroot ping >/dev/null 2>&1 && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  mariadb --no-defaults --socket="$dir/mysqld.sock" -uroot -e "
    CREATE DATABASE testmesh;
    CREATE USER 'testmesh'@'%' IDENTIFIED BY 'testmesh';
    GRANT ALL PRIVILEGES ON *.* TO 'testmesh'@'%';" 2>"$dir/setup.log" \
    || { testmesh_services_log "MariaDB did not start: $(tail -n 3 "$dir/error.log" "$dir/setup.log")"; return 1; }
  export TESTMESH_TEST_MYSQL_URL="mysql://testmesh:testmesh@127.0.0.1:$port/testmesh"
}

if [ -z "${TESTMESH_SERVICES_STARTED:-}" ]; then
  TESTMESH_SERVICES_STARTED=1
  trap testmesh_services_stop EXIT
  testmesh_services_started_at=$(date +%s%N)
  if [ -z "${TESTMESH_TEST_POSTGRES_URL:-}" ]; then
    testmesh_start_postgres || unset TESTMESH_TEST_POSTGRES_URL
  fi
  if [ -z "${TESTMESH_TEST_MYSQL_URL:-}" ]; then
    testmesh_start_mariadb || unset TESTMESH_TEST_MYSQL_URL
  fi
  # Debian's Chromium for the dashboard's browser tests (driven over CDP; nothing is downloaded at
  # run time). Without it those tests fail under CI.
  if [ -z "${TESTMESH_CHROMIUM:-}" ] && [ ! -x /usr/bin/chromium ]; then
    testmesh_apt_install chromium || testmesh_services_log "Chromium could not be installed"
  fi
  testmesh_services_log "PostgreSQL ${TESTMESH_TEST_POSTGRES_URL:-unavailable}; MariaDB ${TESTMESH_TEST_MYSQL_URL:-unavailable} (ready in $((($(date +%s%N) - testmesh_services_started_at) / 1000000)) ms)"
fi
