# scripts/lib/common.sh - shared by scripts/run and scripts/test.
# Installs what is missing (Debian, as root), builds out of tree, and
# instantiates conf/httpd.conf.in.

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD="$TOP/build"
HTTPD=/usr/sbin/apache2
HTTPD_MODDIR=/usr/lib/apache2/modules
PY=/usr/bin/python3   # Debian's python3, for python3-* packages

DEPS="gcc make autoconf automake libtool pkg-config ca-certificates
      apache2 apache2-dev libapr1-dev libaprutil1-dev
      libcurl4-openssl-dev libjson-c-dev libssl-dev libpq-dev
      python3 python3-pytest python3-jsonschema curl
      postgresql apache2-utils python3-psycopg2
      chromium fonts-liberation"

log() { printf '==> %s\n' "$*" >&2; }

ensure_deps() {
    local missing=() p
    for p in $DEPS; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' \
            || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    log "installing: ${missing[*]}"
    if [ "$(id -u)" -ne 0 ]; then
        echo "missing packages (${missing[*]}); run as root or install them" >&2
        return 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # The apache2 package would start a system httpd on :80 where an init
    # system exists; policy-rc.d keeps package installs from starting daemons.
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    rm -f /usr/sbin/policy-rc.d
}

# build DIR [configure args...]: configure once, then make.
build_in() {
    local dir=$1; shift
    if [ ! -x "$TOP/configure" ] || [ "$TOP/configure.ac" -nt "$TOP/configure" ] \
       || [ "$TOP/Makefile.am" -nt "$TOP/Makefile.in" ]; then
        log "autoreconf"
        (cd "$TOP" && autoreconf -fi >/dev/null 2>&1) || (cd "$TOP" && autoreconf -fi)
    fi
    mkdir -p "$dir"
    if [ ! -f "$dir/Makefile" ] || [ "$TOP/configure" -nt "$dir/config.status" ]; then
        log "configure in ${dir#$TOP/} $*"
        (cd "$dir" && "$TOP/configure" --quiet "$@" >/dev/null) || return 1
    fi
    log "make in ${dir#$TOP/}"
    make -C "$dir" -s -j"$(nproc)" >/dev/null || make -C "$dir" -j1 V=1
}

module_path() { echo "$BUILD/.libs/mod_aura.so"; }
admin_path() { echo "$BUILD/aura-admin"; }

# Debian keeps PostgreSQL's server programs off PATH; the newest installed.
pg_bindir() {
    ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1
}

# mkconf ROOT LISTEN: write ROOT/httpd.conf from conf/httpd.conf.in.
mkconf() {
    local root=$1 listen=$2 user group
    if [ "$(id -u)" -eq 0 ]; then user=www-data; group=www-data
    else user=$(id -un); group=$(id -gn); fi
    mkdir -p "$root"/{logs,run,htdocs,conf.d}
    chmod 0755 "$root" "$root"/htdocs
    # Logs hold request ids, key ids and client addresses: not for every
    # local user. httpd creates new files under umask 027 (scripts/run);
    # files of an earlier run keep their mode unless set here.
    chmod 0750 "$root"/logs
    find "$root"/logs -maxdepth 1 -type f -exec chmod 0640 {} +
    sed -e "s|@ROOT@|$root|g" -e "s|@LISTEN@|$listen|g" \
        -e "s|@MODULE@|$(module_path)|g" -e "s|@MODDIR@|$HTTPD_MODDIR|g" \
        -e "s|@CONFDIR@|$TOP/conf|g" -e "s|@USER@|$user|g" -e "s|@GROUP@|$group|g" \
        "$TOP/conf/httpd.conf.in" > "$root/httpd.conf"
}

# --- a local PostgreSQL for scripts/run ------------------------------------
# Data in $PGDIR/data, a unix socket only (listen_addresses='') in
# $PGDIR/run. As root the server runs as the postgres OS user and the
# socket directory is 0750 postgres:www-data: root, postgres and the httpd
# user reach it, nobody else (authentication is trust: the directory is the
# access control).

as_postgres() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# pg_local_start DIR: initdb on first use, start, create the aura database.
pg_local_start() {
    PGDIR=$1 PGBIN=$(pg_bindir)
    PGRUN="$PGDIR/run"
    [ -x "$PGBIN/pg_ctl" ] || { echo "PostgreSQL server programs not found" >&2; return 1; }
    mkdir -p "$PGRUN"
    if [ "$(id -u)" -eq 0 ]; then
        chown postgres:postgres "$PGDIR"
        chown postgres:www-data "$PGRUN"; chmod 0750 "$PGRUN"
    else
        chmod 0700 "$PGRUN"
    fi
    if [ ! -f "$PGDIR/data/PG_VERSION" ]; then
        log "initdb $PGDIR/data"
        as_postgres "$PGBIN/initdb" -D "$PGDIR/data" -U aura --auth=trust \
            -E UTF8 --locale=C >/dev/null
        printf "\n# scripts/run: unix socket only\nlisten_addresses = ''\nunix_socket_directories = '%s'\n" \
            "$PGRUN" >> "$PGDIR/data/postgresql.conf"
    fi
    if as_postgres "$PGBIN/pg_ctl" -D "$PGDIR/data" status >/dev/null 2>&1; then
        log "PostgreSQL already running in ${PGDIR#$TOP/} (left from an earlier run)"
    else
        as_postgres "$PGBIN/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/postgresql.log" \
            -w -t 60 start >/dev/null || { tail -20 "$PGDIR/postgresql.log" >&2; return 1; }
    fi
    "$PGBIN/psql" -h "$PGRUN" -U aura -d postgres -Atqc \
        "SELECT 1 FROM pg_database WHERE datname = 'aura'" | grep -q 1 \
        || "$PGBIN/createdb" -h "$PGRUN" -U aura aura
}

pg_local_stop() {
    [ -n "${PGDIR:-}" ] && [ -f "$PGDIR/data/postmaster.pid" ] || return 0
    as_postgres "$PGBIN/pg_ctl" -D "$PGDIR/data" -m fast -w -t 60 stop >/dev/null \
        && log "PostgreSQL stopped"
}
