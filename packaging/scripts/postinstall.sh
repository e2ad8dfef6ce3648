#!/bin/sh
# pg-backup-api package: after install or upgrade (deb: configure, rpm: 1 or 2).
# The service is never enabled or started here; an upgrade restarts it only
# when it was running (operations in progress survive: KillMode=process).
set -e

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
