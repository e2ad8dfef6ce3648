#!/bin/sh
# pg-backup-api package: after removal or purge, let systemd forget the unit.
set -e

if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
    systemctl daemon-reload >/dev/null 2>&1 || true
fi
exit 0
