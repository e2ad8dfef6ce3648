#!/bin/sh
# pg-backup-api package: before removal (deb: remove, rpm: 0), stop and disable
# the service; nothing on upgrade. Running operations go on (KillMode=process).
set -e

case "$1" in
    remove|0) ;;
    *) exit 0 ;;
esac
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
    systemctl disable --now pg-backup-api.service >/dev/null 2>&1 || true
fi
exit 0
