#!/usr/bin/env bash
# Make sure the test suite's services are there: PostgreSQL, Redis and Chromium.
#
#   eval "$(.ci/services.sh)"     # what `make test` and .ci/run do
#   .ci/services.sh --stop        # stop the private servers this script started
#
# First it checks that each service is there or can be started, and stops at once, starting
# nothing, with one line saying what to install when one cannot (as root with apt-get it installs
# the packages instead: postgresql, redis-server, chromium). Then, for each server:
#   1. one already answering at TEST_DATABASE_URL / TEST_REDIS_URL is used as it is;
#   2. the private server this script started on an earlier run (state folder) is used again;
#   3. PostgreSQL, as root: this machine's cluster on the address's port, if down, is started
#      with pg_ctlcluster (and stopped again if it does not let the user in without a password);
#   4. otherwise a private server is started from the installed binaries, in the state folder:
#      a PostgreSQL cluster (initdb and pg_ctl, trust authentication, run as the postgres user
#      when root) or a redis-server, on the address's port when it is free, else on a free port.
# Chromium must be at CHROMIUM_PATH (default /usr/bin/chromium) unless --no-browser is given.
#
# On success it prints on stdout only shell `export` lines: TEST_DATABASE_URL and TEST_REDIS_URL
# (the addresses chosen) and CHROMIUM_PATH; progress goes to stderr. On failure it prints one
# line on stderr and exits 1, and stops whatever it had started on this run.
#
# Options:
#   --database-url URL   instead of TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/b2b)
#   --redis-url URL      instead of TEST_REDIS_URL (default redis://127.0.0.1:6379/15)
#   --state-dir DIR      instead of TEST_SERVICES_DIR (default $TMPDIR/b2b-test-services-<uid>)
#   --no-install         never run apt-get (or TEST_SERVICES_INSTALL=never)
#   --no-browser         do not require Chromium
#   --stop               stop the private servers of the state folder, then exit
# POSTGRES_BIN_DIRS: where to look for initdb and pg_ctl when they are not on PATH (default
# /usr/lib/postgresql/*/bin, newest version first).
set -uo pipefail

die() { # the one line, after stopping what this run started
  declare -F stop_started >/dev/null && stop_started 2>/dev/null
  printf 'services: %s\n' "$*" >&2
  exit 1
}
say() { printf 'services: %s\n' "$*" >&2; }

explicit_database_url=${TEST_DATABASE_URL:-}
database_url=${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/b2b}
redis_url=${TEST_REDIS_URL:-redis://127.0.0.1:6379/15}
state_dir=${TEST_SERVICES_DIR:-${TMPDIR:-/tmp}/b2b-test-services-$EUID}
install=${TEST_SERVICES_INSTALL:-auto}
chromium=${CHROMIUM_PATH:-/usr/bin/chromium}
pg_bin_dirs=${POSTGRES_BIN_DIRS:-/usr/lib/postgresql/*/bin}
browser=yes
action=start
started=() # what this run started, stopped again if it fails

while [ $# -gt 0 ]; do
  case $1 in
    --database-url | --redis-url | --state-dir)
      [ $# -ge 2 ] || die "$1 needs a value"
      case $1 in
        --database-url) database_url=$2 explicit_database_url=$2 ;;
        --redis-url) redis_url=$2 ;;
        --state-dir) state_dir=$2 ;;
      esac
      shift
      ;;
    --no-install) install=never ;;
    --no-browser) browser=no ;;
    --stop) action=stop ;;
    -h | --help)
      while IFS= read -r line; do
        [[ $line == "#!"* ]] && continue
        [[ $line == "#"* ]] || break
        line=${line#\#}
        printf '%s\n' "${line# }"
      done <"$0"
      exit 0
      ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
  shift
done
[[ $install == auto || $install == never ]] ||
  die "TEST_SERVICES_INSTALL must be auto or never, not $install"

# --- addresses -------------------------------------------------------------------------------

# postgres://user[:password]@host[:port]/name
pg_re='^(postgres|postgresql)://([^:@/]+)(:([^@/]*))?@([^:/]+)(:([0-9]+))?/([^/?]+)$'
[[ $database_url =~ $pg_re ]] ||
  die "the database URL must look like postgres://user@host:port/name, not $database_url"
pg_scheme=${BASH_REMATCH[1]} pg_user=${BASH_REMATCH[2]} pg_password=${BASH_REMATCH[4]}
pg_host=${BASH_REMATCH[5]} pg_port=${BASH_REMATCH[7]:-5432} pg_name=${BASH_REMATCH[8]}
# redis://[:password@]host[:port][/db]
redis_re='^redis://(:([^@/]*)@)?([^:/@]+)(:([0-9]+))?(/([0-9]+))?$'
[[ $redis_url =~ $redis_re ]] ||
  die "the Redis URL must look like redis://host:port/db, not $redis_url"
redis_password=${BASH_REMATCH[2]} redis_host=${BASH_REMATCH[3]}
redis_port=${BASH_REMATCH[5]:-6379} redis_db=${BASH_REMATCH[7]:-0}

is_local() { [[ $1 == 127.0.0.1 || $1 == localhost || $1 == ::1 ]]; }

pg_url_for() { # port
  local auth=$pg_user
  [ -n "$pg_password" ] && auth="$pg_user:$pg_password"
  printf '%s://%s@%s:%s/%s' "$pg_scheme" "$auth" "$pg_host" "$1" "$pg_name"
}
redis_url_for() { # port
  local auth=""
  [ -n "$redis_password" ] && auth=":$redis_password@"
  printf 'redis://%s%s:%s/%s' "$auth" "$redis_host" "$1" "$redis_db"
}

# --- probes: bash only, so that they work whatever is on PATH --------------------------------

port_open() { # host port: something accepts connections there
  (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

redis_answers() { # host port: a Redis server answers PING (or asks for its password)
  local reply=""
  {
    exec 3<>"/dev/tcp/$1/$2" &&
      printf 'PING\r\n' >&3 &&
      IFS= read -r -t 3 reply <&3
    exec 3<&- 3>&-
  } 2>/dev/null
  [[ $reply == "+PONG"* || $reply == "-NOAUTH"* ]]
}

read_file() { # file: its first line, or nothing
  local value=""
  [ -r "$1" ] && IFS= read -r value <"$1"
  printf '%s' "$value"
}

reserved_ports=()
free_port() { # the first port from $1 up where nothing listens and no cluster is configured
  local port=$1 taken
  while [ "$port" -lt 65535 ]; do
    for taken in "${reserved_ports[@]}" ""; do [ "$taken" = "$port" ] && break; done
    if [ "$taken" != "$port" ] && ! port_open 127.0.0.1 "$port"; then
      echo "$port"
      return 0
    fi
    port=$((port + 1))
  done
  return 1
}

wait_for() { # seconds command...: try every half second until the command succeeds
  local tries=$(($1 * 2))
  shift
  while [ $tries -gt 0 ]; do
    "$@" && return 0
    sleep 0.5
    tries=$((tries - 1))
  done
  return 1
}

need_state_dir() {
  [ -d "$state_dir" ] || mkdir -p "$state_dir" 2>/dev/null ||
    die "cannot create the state folder $state_dir (choose another with --state-dir)"
  chmod 755 "$state_dir" 2>/dev/null # the postgres user must reach its cluster inside
}

# --- PostgreSQL --------------------------------------------------------------------------------

pg_data=$state_dir/postgres

pg_bin() { # program: PostgreSQL's program on PATH, else in POSTGRES_BIN_DIRS (newest first)
  local dir dirs=()
  if command -v "$1" >/dev/null 2>&1; then
    command -v "$1"
    return 0
  fi
  # shellcheck disable=SC2206 # the setting is a glob
  dirs=($pg_bin_dirs)
  for ((i = ${#dirs[@]} - 1; i >= 0; i--)); do # the glob sorts 15 before 16: newest last
    dir=${dirs[i]}
    [ -x "$dir/$1" ] && { echo "$dir/$1"; return 0; }
  done
  return 1
}

pg_login() { # port: the URL's user gets in (checked with psql when there is one)
  local psql
  if psql=$(pg_bin psql); then
    PGPASSWORD=$pg_password PGCONNECT_TIMEOUT=5 "$psql" -w -X -q -A -t -h "$pg_host" \
      -p "$1" -U "$pg_user" -d postgres -c 'select 1' >/dev/null 2>&1
  else
    port_open "$pg_host" "$1"
  fi
}

as_cluster_owner() { # command...: PostgreSQL's server programs refuse to run as root
  if [ "$EUID" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

machine_clusters() { # "version name port status" for each of Debian's clusters
  command -v pg_lsclusters >/dev/null 2>&1 || return 0
  pg_lsclusters --no-header 2>/dev/null | while read -r ver name port status _; do
    echo "$ver $name $port $status"
  done
}

pg_can_start() { # whether ensure_postgres has something to work with
  pg_login "$pg_port" && return 0
  is_local "$pg_host" || return 0 # not ours to start: ensure_postgres says so
  [ -f "$pg_data/PG_VERSION" ] && pg_bin pg_ctl >/dev/null && return 0
  pg_bin initdb >/dev/null && pg_bin pg_ctl >/dev/null && return 0
  [ "$EUID" -eq 0 ] && command -v pg_ctlcluster >/dev/null 2>&1 &&
    [ -n "$(machine_clusters)" ]
}

start_private_pg() { # port
  local pg_ctl
  pg_ctl=$(pg_bin pg_ctl) || return 1
  echo "$1" >"$state_dir/postgres.port"
  started+=(private-postgres)
  as_cluster_owner "$pg_ctl" -D "$pg_data" -l "$pg_data/server.log" -w -t 60 \
    -o "-p $1 -c listen_addresses=127.0.0.1 -c unix_socket_directories=$pg_data -c fsync=off" \
    start >/dev/null 2>&1 && wait_for 30 pg_login "$1"
}

ensure_postgres() { # sets pg_chosen_port
  local port initdb refused="" ver name cport status
  pg_login "$pg_port" && { pg_chosen_port=$pg_port; return; }
  port_open "$pg_host" "$pg_port" && refused=yes
  if ! is_local "$pg_host" || { [ -n "$refused" ] && [ -n "$explicit_database_url" ]; }; then
    [ -n "$refused" ] &&
      die "PostgreSQL at $pg_host:$pg_port does not let $pg_user in without a password"
    die "PostgreSQL does not answer at $pg_host:$pg_port"
  fi
  need_state_dir
  # shellcheck disable=SC2207
  reserved_ports=($(machine_clusters | while read -r _ _ cport _; do echo "$cport"; done))

  # 2. the private cluster of an earlier run
  if [ -f "$pg_data/PG_VERSION" ]; then
    port=$(read_file "$state_dir/postgres.port")
    [ -n "$port" ] && pg_login "$port" && { pg_chosen_port=$port; return; }
    port=$(free_port "${port:-$pg_port}") || die "no free port for PostgreSQL"
    say "starting the private PostgreSQL cluster in $pg_data on port $port"
    start_private_pg "$port" ||
      die "the private PostgreSQL cluster in $pg_data did not start (see $pg_data/server.log)"
    pg_chosen_port=$port
    return
  fi

  # 3. this machine's cluster on the wanted port, if it is down (root only)
  if [ "$EUID" -eq 0 ] && [ -z "$refused" ] && command -v pg_ctlcluster >/dev/null 2>&1; then
    while read -r ver name cport status; do
      [ "$cport" = "$pg_port" ] && [ "$status" = down ] || continue
      say "starting this machine's PostgreSQL cluster $ver/$name (pg_ctlcluster)"
      started+=("cluster $ver $name")
      if pg_ctlcluster --skip-systemctl-redirect "$ver" "$name" start >/dev/null 2>&1 &&
        wait_for 30 pg_login "$pg_port"; then
        pg_chosen_port=$pg_port
        return
      fi
      say "cluster $ver/$name does not let $pg_user in without a password: stopping it again"
      pg_ctlcluster --skip-systemctl-redirect "$ver" "$name" stop >/dev/null 2>&1
      unset 'started[${#started[@]}-1]'
    done < <(machine_clusters)
  fi

  # 4. a private cluster from the installed binaries
  initdb=$(pg_bin initdb) || die "PostgreSQL's initdb is not installed"
  if [ "$EUID" -eq 0 ]; then
    id postgres >/dev/null 2>&1 ||
      die "initdb cannot run as root and there is no postgres user to run it as"
    runuser -u postgres -- test -x "$state_dir" ||
      die "the postgres user cannot reach $state_dir: choose another --state-dir"
  fi
  port=$(free_port "$pg_port") || die "no free port for PostgreSQL"
  say "creating a private PostgreSQL cluster in $pg_data (port $port, trust authentication)"
  mkdir -p "$pg_data" && chmod 700 "$pg_data" || die "cannot create $pg_data"
  [ "$EUID" -eq 0 ] && chown postgres: "$pg_data"
  if ! as_cluster_owner "$initdb" -D "$pg_data" -U "$pg_user" --auth=trust -E UTF8 \
    --no-sync >"$state_dir/initdb.log" 2>&1; then
    rm -rf "$pg_data"
    die "initdb failed (see $state_dir/initdb.log)"
  fi
  start_private_pg "$port" ||
    die "the private PostgreSQL cluster did not start (see $pg_data/server.log)"
  pg_chosen_port=$port
}

# --- Redis ---------------------------------------------------------------------------------------

redis_pidfile=$state_dir/redis.pid

redis_can_start() {
  redis_answers "$redis_host" "$redis_port" || ! is_local "$redis_host" ||
    redis_answers 127.0.0.1 "$(read_file "$state_dir/redis.port")" ||
    command -v redis-server >/dev/null 2>&1
}

ensure_redis() { # sets redis_chosen_port
  local port
  redis_answers "$redis_host" "$redis_port" && { redis_chosen_port=$redis_port; return; }
  is_local "$redis_host" || die "Redis does not answer at $redis_host:$redis_port"
  port=$(read_file "$state_dir/redis.port")
  [ -n "$port" ] && redis_answers 127.0.0.1 "$port" && { redis_chosen_port=$port; return; }
  need_state_dir
  reserved_ports=()
  port=$(free_port "$redis_port") || die "no free port for Redis"
  say "starting a private redis-server on port $port"
  echo "$port" >"$state_dir/redis.port"
  started+=(private-redis)
  redis-server --daemonize yes --bind 127.0.0.1 --port "$port" --save "" --appendonly no \
    --dir "$state_dir" --pidfile "$redis_pidfile" --logfile "$state_dir/redis.log" \
    >/dev/null 2>&1 && wait_for 20 redis_answers 127.0.0.1 "$port" ||
    die "redis-server did not start on port $port (see $state_dir/redis.log)"
  redis_chosen_port=$port
}

# --- stopping ------------------------------------------------------------------------------------

stop_private_pg() {
  local pg_ctl
  [ -f "$pg_data/postmaster.pid" ] && pg_ctl=$(pg_bin pg_ctl) || return 0
  as_cluster_owner "$pg_ctl" -D "$pg_data" -m fast -w stop >/dev/null 2>&1 &&
    say "stopped the private PostgreSQL cluster in $pg_data"
}

stop_private_redis() {
  local pid
  pid=$(read_file "$redis_pidfile")
  if [ -n "$pid" ] && kill "$pid" 2>/dev/null; then
    wait_for 10 eval "! kill -0 $pid 2>/dev/null"
    say "stopped the private redis-server (pid $pid)"
  fi
  rm -f "$redis_pidfile" "$state_dir/redis.port"
}

stop_started() { # on failure: stop what this run started, newest first
  local i what
  for ((i = ${#started[@]} - 1; i >= 0; i--)); do
    what=${started[i]}
    case $what in
      private-postgres) stop_private_pg ;;
      private-redis) stop_private_redis ;;
      cluster\ *)
        read -r _ ver name <<<"$what"
        pg_ctlcluster --skip-systemctl-redirect "$ver" "$name" stop >/dev/null 2>&1
        ;;
    esac
  done
  started=()
}

if [ "$action" = stop ]; then
  stop_private_pg
  stop_private_redis
  exit 0
fi

# --- what is missing, before anything is started -------------------------------------------------

missing() { # sets missing_names, missing_packages and missing_settings
  missing_names=() missing_packages=() missing_settings=()
  if ! pg_can_start; then
    missing_names+=(PostgreSQL) missing_packages+=(postgresql)
    missing_settings+=(TEST_DATABASE_URL)
  fi
  if ! redis_can_start; then
    missing_names+=(Redis) missing_packages+=(redis-server) missing_settings+=(TEST_REDIS_URL)
  fi
  if [ $browser = yes ] && [ ! -x "$chromium" ]; then
    missing_names+=(Chromium) missing_packages+=(chromium) missing_settings+=(CHROMIUM_PATH)
  fi
}

joined() { # a, b and c
  case $# in
    1) printf '%s' "$1" ;;
    2) printf '%s and %s' "$1" "$2" ;;
    *) printf '%s, %s and %s' "$1" "$2" "$3" ;;
  esac
}

missing
if [ ${#missing_packages[@]} -gt 0 ] && [ "$install" = auto ] && [ "$EUID" -eq 0 ] &&
  command -v apt-get >/dev/null 2>&1; then
  need_state_dir
  say "installing ${missing_packages[*]} with apt-get (log: $state_dir/apt.log)"
  export DEBIAN_FRONTEND=noninteractive
  { apt-get -o DPkg::Lock::Timeout=600 update -qq &&
    apt-get -o DPkg::Lock::Timeout=600 install -y -qq "${missing_packages[@]}"; } \
    >"$state_dir/apt.log" 2>&1 ||
    die "apt-get install ${missing_packages[*]} failed (see $state_dir/apt.log)"
  missing
fi
if [ ${#missing_packages[@]} -gt 0 ]; then
  die "install $(joined "${missing_names[@]}") (apt-get install ${missing_packages[*]})," \
    "or set $(joined "${missing_settings[@]}") to yours"
fi

ensure_postgres
ensure_redis
printf 'export TEST_DATABASE_URL=%q\n' "$(pg_url_for "$pg_chosen_port")"
printf 'export TEST_REDIS_URL=%q\n' "$(redis_url_for "$redis_chosen_port")"
[ $browser = yes ] && printf 'export CHROMIUM_PATH=%q\n' "$chromium"
say "PostgreSQL at $pg_host:$pg_chosen_port, Redis at $redis_host:$redis_chosen_port$(
  [ $browser = yes ] && printf ', Chromium at %s' "$chromium")"
exit 0
