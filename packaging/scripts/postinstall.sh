#!/bin/sh
# pg-backup-api package: after install or upgrade (deb: configure, rpm: 1 or 2).
# The service is never enabled or started here; an upgrade restarts it only
# when it was running (operations in progress survive: KillMode=process).
set -e

# A fresh install: /etc/pg-backup-api.toml may hold remote tokens and
# webhook secrets, so it is root:barman 0640. The package says so, but the
# barman group may not have existed when the file was unpacked (then it is
# root's). An upgrade leaves the file as the administrator has it.
fresh=no
case "$1" in
    configure) [ -z "$2" ] && fresh=yes ;;  # deb: no version replaced
    1) fresh=yes ;;  # rpm: first install
esac
if [ "$fresh" = yes ] && [ -f /etc/pg-backup-api.toml ] && getent group barman >/dev/null 2>&1; then
    chown root:barman /etc/pg-backup-api.toml || true
    chmod 0640 /etc/pg-backup-api.toml || true
fi

if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
    systemctl daemon-reload >/dev/null 2>&1 || true
    upgrade=no
    case "$1" in
        configure) [ -n "$2" ] && upgrade=yes ;;  # deb: $2 is the version replaced
        *) [ "$1" -ge 2 ] 2>/dev/null && upgrade=yes ;;  # rpm: 2 or more on upgrade
    esac
    if [ "$upgrade" = yes ]; then
        systemctl try-restart pg-backup-api.service >/dev/null 2>&1 || true
    fi
fi
exit 0
