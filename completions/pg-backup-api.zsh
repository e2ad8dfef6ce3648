#compdef pg-backup-api

# zsh completion for pg-backup-api
# Generated from the command-line definition by cmd/gen-docs (make docs); do not edit.
# Install as _pg-backup-api in a directory of $fpath (e.g. /usr/share/zsh/vendor-completions),
# or source it after compinit. Server, model, remote and backup names and
# operation IDs come from `pg-backup-api __complete KIND`.

# _pg-backup-api_dynamic KIND DESCRIPTION [SERVER]: asks the binary being completed,
# with the global options of the command line; any error completes nothing.
_pg-backup-api_dynamic() {
  local -a items expl
  items=(${(f)"$(${~_pg_backup_api_cmd:-pg-backup-api} "${_pg_backup_api_globals[@]}" __complete $1 "${@[3,-1]}" 2>/dev/null </dev/null)"})
  _wanted $1 expl $2 compadd -a items
}

_pg-backup-api__servers() { _pg-backup-api_dynamic servers 'server' }
_pg-backup-api__models() { _pg-backup-api_dynamic models 'model' }
_pg-backup-api__operations() { _pg-backup-api_dynamic operations 'operation' }
_pg-backup-api__backups() { _pg-backup-api_dynamic backups 'backup' "${opt_args[--server]:-${opt_args[-s]}}" }
_pg-backup-api__remotes() { _pg-backup-api_dynamic remotes 'remote' }

_pg-backup-api_commands() {
  local -a cmds
  cmds=(
    'create:register an operation and start Barman for it'
    'list:list operations, newest first'
    'ls:list operations, newest first'
    'inspect:show one operation: type, status, payload, times, exit code and Barman'\''s output'
    'show:show one operation: type, status, payload, times, exit code and Barman'\''s output'
    'backups:list a server'\''s backups and its recovery window, from Barman'\''s catalog'
    'cancel:stop a queued or running operation; it ends FAILED (phase cancelled)'
    'wait:block until an operation ends; exit 0 if DONE, 4 if FAILED, 7 if cancelled or timed out, 124 if --timeout passed first'
    'logs:print Barman'\''s output for an operation; -f follows it until the operation ends'
    'prune:remove the files of operations that finished long ago'
    'serve:serve the documented HTTP API over the same store and runners'
    'status:check that a pg-backup-api server answers; prints OK'
    'doctor:check the configuration, Barman, barman_home, remotes, and serve'\''s address and certificate'
    'token:manage bearer tokens for serve'
    'version:print the version, commit and build date'
    'help:show the list of commands, or the help of one command'
    'h:show the list of commands, or the help of one command'
  )
  _describe -t commands 'command' cmds
}

_pg-backup-api() {
  local curcontext=$curcontext state state_descr line ret=1
  typeset -A opt_args
  local _pg_backup_api_cmd=${words[1]}
  _arguments -s -S -C \
    '(--config)'--config='[our configuration FILE (TOML; default: the first found of $XDG_CONFIG_HOME/pg-backup-api/config.toml (or ~/.config/pg-backup-api/config.toml) and /etc/pg-backup-api.toml, never merged)]'':FILE:_files' \
    '(--barman-config)'--barman-config='[Barman'\''s configuration FILE (default: barman_config from the config file, else /etc/barman.conf)]'':FILE:_files' \
    '(--no-color)'--no-color'[no colour in tables (also when NO_COLOR is set, or TERM=dumb)]' \
    '(--require-barman-user)'--require-barman-user'[refuse to run as any user but Barman'\''s barman_user (default: warn)]' \
    '(--barman-command)'--barman-command='[COMMAND that runs Barman, split on spaces, never through a shell (default: barman)]'':COMMAND: ' \
    '(--url)'--url='[work through the pg-backup-api server at URL (e.g. https://barman1:7480) instead of the local store]'':URL: ' \
    '(--remote -r)'{-r+,--remote=}'[work through the server named NAME in the config file'\''s \[remotes.NAME\]; list, status, backups and inspect take several, NAME,NAME... or all]'':NAME:_pg-backup-api__remotes' \
    '(--token)'--token='[bearer TOKEN for --url]'':TOKEN: ' \
    '(--ca-cert)'--ca-cert='[CA certificate FILE that signed the server'\''s certificate]'':FILE:_files' \
    '(--client-cert)'--client-cert='[client certificate FILE for mutual TLS]'':FILE:_files' \
    '(--client-key)'--client-key='[client key FILE for mutual TLS]'':FILE:_files' \
    '(--output -o)'{-o+,--output=}'[output FORMAT: table, plain or json (default: table on a terminal, plain when piped)]'':FORMAT:(table plain json)' \
    '(- *)'{-h,--help}'[show help]' \
    '(- *)'{-v,--version}'[print the version]' \
    '(-)1: :_pg-backup-api_commands' \
    '(-)*:: :->args' && ret=0
  case $state in
  args)
    local -a _pg_backup_api_globals
    local o
    for o in --config --barman-config --barman-command --url --remote --token --ca-cert --client-cert --client-key --output; do
      (( ${+opt_args[$o]} )) && _pg_backup_api_globals+=($o ${opt_args[$o]})
    done
    curcontext=${curcontext%:*:*}:pg-backup-api-$words[1]:
    case $words[1] in
    create) _pg-backup-api_create && ret=0 ;;
    list|ls) _pg-backup-api_list && ret=0 ;;
    inspect|show) _pg-backup-api_inspect && ret=0 ;;
    backups) _pg-backup-api_backups && ret=0 ;;
    cancel) _pg-backup-api_cancel && ret=0 ;;
    wait) _pg-backup-api_wait && ret=0 ;;
    logs) _pg-backup-api_logs && ret=0 ;;
    prune) _pg-backup-api_prune && ret=0 ;;
    serve) _pg-backup-api_serve && ret=0 ;;
    status) _pg-backup-api_status && ret=0 ;;
    doctor) _pg-backup-api_doctor && ret=0 ;;
    token) _pg-backup-api_token && ret=0 ;;
    version) _pg-backup-api_version && ret=0 ;;
    help|h) _pg-backup-api_help && ret=0 ;;
    esac
    ;;
  esac
  return ret
}

_pg-backup-api_create_commands() {
  local -a cmds
  cmds=(
    'recovery:restore a backup to a remote host with barman recover'
    'backup:take a backup of a server now with barman backup (an extension)'
    'keep:keep a backup beyond the retention policy, or release it, with barman keep (an extension)'
    'drill:prove a backup restores: restore it on the Barman host, start PostgreSQL on it, run queries, remove it (an extension)'
    'delete:delete a backup with barman delete (an extension)'
    'config-switch:apply a model to a server, or remove the active one, with barman config-switch'
    'config-update:change server or model options with barman config-update'
  )
  _describe -t commands 'create operation' cmds
}

_pg-backup-api_create() {
  local curcontext=$curcontext state state_descr line ret=1
  typeset -A opt_args
  _arguments -s -S -C \
    '(--payload -p)'{-p+,--payload=}'[documented JSON payload FILE, or - for standard input]'':FILE:_files' \
    '(--server -s)'{-s+,--server=}'[server NAME for server operations (recovery, config_switch, backup, keep, delete, drill)]'':NAME:_pg-backup-api__servers' \
    '(--wait -w)'{-w,--wait}'[block until the operation ends; exit 0 if DONE, 4 if FAILED]' \
    '(--dry-run)'--dry-run'[check everything a create checks and show the operation and Barman'\''s command line, recording nothing (remotely: only with a server that offers dry runs)]' \
    '(--output -o)'{-o+,--output=}'[output FORMAT: table, plain or json (default: table on a terminal, plain when piped)]'':FORMAT:(table plain json)' \
    '(--config)'--config='[our configuration FILE (TOML; default: the first found of $XDG_CONFIG_HOME/pg-backup-api/config.toml (or ~/.config/pg-backup-api/config.toml) and /etc/pg-backup-api.toml, never merged)]'':FILE:_files' \
    '(--barman-config)'--barman-config='[Barman'\''s configuration FILE (default: barman_config from the config file, else /etc/barman.conf)]'':FILE:_files' \
    '(--url)'--url='[work through the pg-backup-api server at URL (e.g. https://barman1:7480) instead of the local store]'':URL: ' \
    '(--remote -r)'{-r+,--remote=}'[work through the server named NAME in the config file'\''s \[remotes.NAME\]; list, status, backups and inspect take several, NAME,NAME... or all]'':NAME:_pg-backup-api__remotes' \
    '(--token)'--token='[bearer TOKEN for --url]'':TOKEN: ' \
    '(--ca-cert)'--ca-cert='[CA certificate FILE that signed the server'\''s certificate]'':FILE:_files' \
    '(--client-cert)'--client-cert='[client certificate FILE for mutual TLS]'':FILE:_files' \
    '(--client-key)'--client-key='[client key FILE for mutual TLS]'':FILE:_files' \
    '(- *)'{-h,--help}'[show help]' \
    '(-)1:: :_pg-backup-api_create_commands' \
    '(-)*:: :->args' && ret=0
  case $state in
  args)
    curcontext=${curcontext%:*:*}:pg-backup-api-create-$words[1]:
    case $words[1] in
    recovery) _pg-backup-api_create_recovery && ret=0 ;;
    backup) _pg-backup-api_create_backup && ret=0 ;;
    keep) _pg-backup-api_create_keep && ret=0 ;;
    drill) _pg-backup-api_create_drill && ret=0 ;;
    delete) _pg-backup-api_create_delete && ret=0 ;;
    config-switch) _pg-backup-api_create_config-switch && ret=0 ;;
    config-update) _pg-backup-api_create_config-update && ret=0 ;;
    esac
    ;;
  esac
  return ret
}

_pg-backup-api_create_recovery() {
  _arguments -s -S \
    '(--server -s)'{-s+,--server=}'[Barman server NAME]'':NAME:_pg-backup-api__servers' \
    '(--backup-id -b)'{-b+,--backup-id=}'[backup ID, a backup name, or latest/last, oldest/first, auto (the newest, or the newest before --target-time or --target-lsn; the default with either)]'':ID:_pg-backup-api__backups' \
    '(--remote-ssh-command)'--remote-ssh-command='[SSH COMMAND that reaches the target host, e.g. "ssh postgres@db1"]'':COMMAND: ' \
    '(--destination-directory -d)'{-d+,--destination-directory=}'[absolute DIR on the target host to restore into]'':DIR: ' \
    '(--target-time)'--target-time='[recover to this TIME, with a zone (RFC 3339, e.g. 2026-01-02T14:02:00+01:00)]'':TIME: ' \
    '(--target-lsn)'--target-lsn='[recover to this WAL location LSN (X/X, e.g. 0/3000060)]'':LSN: ' \
    '(--target-xid)'--target-xid='[recover to this transaction XID]'':XID: ' \
    '(--target-name)'--target-name='[recover to this restore point NAME (pg_create_restore_point)]'':NAME: ' \
    '(--target-immediate)'--target-immediate'[end recovery as soon as the backup is consistent]' \
    '(--target-tli)'--target-tli='[recover along timeline TLI: a number, current or latest]'':TLI:(current latest)' \
    '(--target-action)'--target-action='[what PostgreSQL does at the target: ACTION pause, shutdown or promote (needs a target)]'':ACTION:(pause shutdown promote)' \
    '(--exclusive)'--exclusive'[stop just before the target (needs --target-time, --target-lsn or --target-xid)]' \
    '(--standby-mode)'--standby-mode'[start the restored cluster as a standby]' \
    '(--get-wal)'--get-wal'[fetch WAL from Barman with get-wal during recovery (--get-wal=false: do not)]' \
    '(--jobs -j)'{-j+,--jobs=}'[copy with N parallel jobs (1-64)]'':N: ' \
    '(--bwlimit)'--bwlimit='[limit the copy to KBPS kilobytes per second (0: no limit)]'':KBPS: ' \
    '(--tablespace)'--tablespace='[relocate tablespace NAME to LOCATION on the target host: NAME:LOCATION, as Barman'\''s, once per tablespace (or a JSON object of them, e.g. '\''{"tbs1": "/srv/tbs1"}'\'')]'':NAME:LOCATION: ' \
    '(--delta-restore)'--delta-restore'[copy only what differs from what the destination holds (--delta-restore=false: copy everything)]' \
    '(--recovery-staging-path)'--recovery-staging-path='[stage a compressed backup in DIR on the target host (required to restore one)]'':DIR: ' \
    '(--staging-wal-directory)'--staging-wal-directory='[stage WAL files for PITR in DIR on the target host (default: barman_wal in the destination)]'':DIR: ' \
    '(--network-compression)'--network-compression'[compress the copy over the network (--network-compression=false: do not)]' \
    '(--retry-times)'--retry-times='[retry a failed copy N times (0: never)]'':N: ' \
    '(--retry-sleep)'--retry-sleep='[wait SECONDS before retrying a failed copy]'':SECONDS: ' \
    '(--jobs-start-batch-period)'--jobs-start-batch-period='[start each batch of copy jobs over SECONDS]'':SECONDS: ' \
    '(--jobs-start-batch-size)'--jobs-start-batch-size='[start at most N copy jobs in one batch]'':N: ' \
    '(--recovery-conf-filename)'--recovery-conf-filename='[write the recovery settings into FILE of the data directory (PostgreSQL 12 and later; default postgresql.auto.conf)]'':FILE:_files' \
    '(--recovery-option-port)'--recovery-option-port='[the PORT barman-wal-restore reaches Barman'\''s ssh on, in the restore_command]'':PORT: ' \
    '(--combine-mode)'--combine-mode='[how pg_combinebackup copies an incremental backup'\''s files: MODE copy, link, clone or copy-file-range]'':MODE:(copy link clone copy-file-range)' \
    '(--partial-wal)'--partial-wal'[copy .partial WAL files, the suffix stripped, into the restore (with get_wal off; Barman skips them otherwise)]' \
    '(--skip-archive-wal)'--skip-archive-wal'[do not archive the WAL files waiting in the server'\''s incoming and streaming directories before the restore]' \
    '(--wait -w)'{-w,--wait}'[block until the operation ends; exit 0 if DONE, 4 if FAILED]' \
    '(--dry-run)'--dry-run'[check everything a create checks and show the operation and Barman'\''s command line, recording nothing (remotely: only with a server that offers dry runs)]' \
    '(--output -o)'{-o+,--output=}'[output FORMAT: table, plain or json (default: table on a terminal, plain when piped)]'':FORMAT:(table plain json)' \
    '(--config)'--config='[our configuration FILE (TOML; default: the first found of $XDG_CONFIG_HOME/pg-backup-api/config.toml (or ~/.config/pg-backup-api/config.toml) and /etc/pg-backup-api.toml, never merged)]'':FILE:_files' \
    '(--barman-config)'--barman-config='[Barman'\''s configuration FILE (default: barman_config from the config file, else /etc/barman.conf)]'':FILE:_files' \
    '(--url)'--url='[work through the pg-backup-api server at URL (e.g. https://barman1:7480) instead of the local store]'':URL: ' \
    '(--remote -r)'{-r+,--remote=}'[work through the server named NAME in the config file'\''s \[remotes.NAME\]; list, status, backups and inspect take several, NAME,NAME... or all]'':NAME:_pg-backup-api__remotes' \
    '(--token)'--token='[bearer TOKEN for --url]'':TOKEN: ' \
    '(--ca-cert)'--ca-cert='[CA certificate FILE that signed the server'\''s certificate]'':FILE:_files' \
    '(--client-cert)'--client-cert='[client certificate FILE for mutual TLS]'':FILE:_files' \
    '(--client-key)'--client-key='[client key FILE for mutual TLS]'':FILE:_files' \
    '(- *)'{-h,--help}'[show help]'
}

_pg-backup-api_create_backup() {
  _arguments -s -S \
    '(--server -s)'{-s+,--server=}'[Barman server NAME]'':NAME:_pg-backup-api__servers' \
    '(--name -n)'{-n+,--name=}'[a backup NAME that recoveries can use in place of its ID (Barman 3.4.1 and later)]'':NAME: ' \
    '(--immediate-checkpoint)'--immediate-checkpoint'[ask PostgreSQL for an immediate checkpoint rather than a spread one]' \
    '(--incremental)'--incremental='[take an incremental backup on top of the backup ID (an ID, a name, latest or latest-full; backup_method postgres, PostgreSQL 17)]'':ID: ' \
    '(--reuse-backup)'--reuse-backup='[reuse the previous backup'\''s files: MODE off, copy or link (rsync backups)]'':MODE:(off copy link)' \
    '(--jobs -j)'{-j+,--jobs=}'[copy with N parallel jobs (1-64; rsync backups)]'':N: ' \
    '(--bwlimit)'--bwlimit='[limit the copy to KBPS kilobytes per second (0: no limit)]'':KBPS: ' \
    '(--retry-times)'--retry-times='[retry a failed copy N times (0: never)]'':N: ' \
    '(--retry-sleep)'--retry-sleep='[wait SECONDS before retrying a failed copy]'':SECONDS: ' \
    '(--wait-timeout)'--wait-timeout='[wait at most SECONDS for the backup'\''s WAL to be archived (0: no limit)]'':SECONDS: ' \
    '(--manifest)'--manifest'[write a backup manifest (rsync backups; --manifest=false: do not)]' \
    '(--wait -w)'{-w,--wait}'[block until the operation ends; exit 0 if DONE, 4 if FAILED]' \
    '(--dry-run)'--dry-run'[check everything a create checks and show the operation and Barman'\''s command line, recording nothing (remotely: only with a server that offers dry runs)]' \
    '(--output -o)'{-o+,--output=}'[output FORMAT: table, plain or json (default: table on a terminal, plain when piped)]'':FORMAT:(table plain json)' \
    '(--config)'--config='[our configuration FILE (TOML; default: the first found of $XDG_CONFIG_HOME/pg-backup-api/config.toml (or ~/.config/pg-backup-api/config.toml) and /etc/pg-backup-api.toml, never merged)]'':FILE:_files' \
    '(--barman-config)'--barman-config='[Barman'\''s configuration FILE (default: barman_config from the config file, else /etc/barman.conf)]'':FILE:_files' \
    '(--url)'--url='[work through the pg-backup-api server at URL (e.g. https://barman1:7480) instead of the local store]'':URL: ' \
    '(--remote -r)'{-r+,--remote=}'[work through the server named NAME in the config file'\''s \[remotes.NAME\]; list, status, backups and inspect take several, NAME,NAME... or all]'':NAME:_pg-backup-api__remotes' \
    '(--token)'--token='[bearer TOKEN for --url]'':TOKEN: ' \
    '(--ca-cert)'--ca-cert='[CA certificate FILE that signed the server'\''s certificate]'':FILE:_files' \
    '(--client-cert)'--client-cert='[client certificate FILE for mutual TLS]'':FILE:_files' \
    '(--client-key)'--client-key='[client key FILE for mutual TLS]'':FILE:_files' \
    '(- *)'{-h,--help}'[show help]'
}

_pg-backup-api_create_keep() {
  _arguments -s -S \
    '(--server -s)'{-s+,--server=}'[Barman server NAME]'':NAME:_pg-backup-api__servers' \
    '(--backup-id -b)'{-b+,--backup-id=}'[backup ID, a backup name, or latest/last, oldest/first, last-failed]'':ID:_pg-backup-api__backups' \
    '(--target -t)'{-t+,--target=}'[keep the backup with this recovery TARGET: full (it and the WAL to recover it to any later point) or standalone (only the WAL it needs to be consistent)]'':TARGET:(full standalone)' \
    '(--release)'--release'[remove the backup'\''s keep instead, so that the retention policy applies to it again]' \
    '(--wait -w)'{-w,--wait}'[block until the operation ends; exit 0 if DONE, 4 if FAILED]' \
    '(--dry-run)'--dry-run'[check everything a create checks and show the operation and Barman'\''s command line, recording nothing (remotely: only with a server that offers dry runs)]' \
    '(--output -o)'{-o+,--output=}'[output FORMAT: table, plain or json (default: table on a terminal, plain when piped)]'':FORMAT:(table plain json)' \
    '(--config)'--config='[our configuration FILE (TOML; default: the first found of $XDG_CONFIG_HOME/pg-backup-api/config.toml (or ~/.config/pg-backup-api/config.toml) and /etc/pg-backup-api.toml, never merged)]'':FILE:_files' \
    '(--barman-config)'--barman-config='[Barman'\''s configuration FILE (default: barman_config from the config file, else /etc/barman.conf)]'':FILE:_files' \
    '(--url)'--url='[work through the pg-backup-api server at URL (e.g. https://barman1:7480) instead of the local store]'':URL: ' \
    '(--remote -r)'{-r+,--remote=}'[work through the server named NAME in the config file'\''s \[remotes.NAME\]; list, status, backups and inspect take several, NAME,NAME... or all]'':NAME:_pg-backup-api__remotes' \
    '(--token)'--token='[bearer TOKEN for --url]'':TOKEN: ' \
    '(--ca-cert)'--ca-cert='[CA certificate FILE that signed the server'\''s certificate]'':FILE:_files' \
    '(--client-cert)'--client-cert='[client certificate FILE for mutual TLS]'':FILE:_files' \
    '(--client-key)'--client-key='[client key FILE for mutual TLS]'':FILE:_files' \
    '(- *)'{-h,--help}'[show help]'
}

_pg-backup-api_create_drill() {
  _arguments -s -S \
    '(--server -s)'{-s+,--server=}'[Barman server NAME]'':NAME:_pg-backup-api__servers' \
    '(--backup-id -b)'{-b+,--backup-id=}'[backup ID, a backup name, or latest/last, oldest/first (default: the newest DONE backup)]'':ID:_pg-backup-api__backups' \
    '(--sql)'--sql='[a QUERY that must succeed, or "QUERY => EXPECTED" whose first value must be EXPECTED (the last " => " splits); repeat for more]'':QUERY: ' \
    '(--database)'--database='[the DB the queries run in (default postgres)]'':DB: ' \
    '(--user)'--user='[the ROLE the queries run as (default postgres)]'':ROLE: ' \
    '(--timeout)'--timeout='[stop the drill after DURATION (default: runner.drill_timeout, else 2h)]'':DURATION: ' \
    '(--target-time)'--target-time='[recover to this TIME, with a zone (RFC 3339, e.g. 2026-01-02T14:02:00+01:00)]'':TIME: ' \
    '(--target-lsn)'--target-lsn='[recover to this WAL location LSN (X/X, e.g. 0/3000060)]'':LSN: ' \
    '(--target-xid)'--target-xid='[recover to this transaction XID]'':XID: ' \
    '(--target-name)'--target-name='[recover to this restore point NAME (pg_create_restore_point)]'':NAME: ' \
    '(--target-immediate)'--target-immediate'[end recovery as soon as the backup is consistent]' \
    '(--target-tli)'--target-tli='[recover along timeline TLI: a number, current or latest]'':TLI:(current latest)' \
    '(--target-action)'--target-action='[what PostgreSQL does at the target: ACTION promote only, which a drill with a target gives anyway (needs a target)]'':ACTION:(promote)' \
    '(--exclusive)'--exclusive'[stop just before the target (needs --target-time, --target-lsn or --target-xid)]' \
    '(--jobs -j)'{-j+,--jobs=}'[copy with N parallel jobs (1-64)]'':N: ' \
    '(--wait -w)'{-w,--wait}'[block until the operation ends; exit 0 if DONE, 4 if FAILED]' \
    '(--dry-run)'--dry-run'[check everything a create checks and show the operation and Barman'\''s command line, recording nothing (remotely: only with a server that offers dry runs)]' \
    '(--output -o)'{-o+,--output=}'[output FORMAT: table, plain or json (default: table on a terminal, plain when piped)]'':FORMAT:(table plain json)' \
    '(--config)'--config='[our configuration FILE (TOML; default: the first found of $XDG_CONFIG_HOME/pg-backup-api/config.toml (or ~/.config/pg-backup-api/config.toml) and /etc/pg-backup-api.toml, never merged)]'':FILE:_files' \
    '(--barman-config)'--barman-config='[Barman'\''s configuration FILE (default: barman_config from the config file, else /etc/barman.conf)]'':FILE:_files' \
    '(--url)'--url='[work through the pg-backup-api server at URL (e.g. https://barman1:7480) instead of the local store]'':URL: ' \
    '(--remote -r)'{-r+,--remote=}'[work through the server named NAME in the config file'\''s \[remotes.NAME\]; list, status, backups and inspect take several, NAME,NAME... or all]'':NAME:_pg-backup-api__remotes' \
    '(--token)'--token='[bearer TOKEN for --url]'':TOKEN: ' \
    '(--ca-cert)'--ca-cert='[CA certificate FILE that signed the server'\''s certificate]'':FILE:_files' \
    '(--client-cert)'--client-cert='[client certificate FILE for mutual TLS]'':FILE:_files' \
    '(--client-key)'--client-key='[client key FILE for mutual TLS]'':FILE:_files' \
    '(- *)'{-h,--help}'[show help]'
}

_pg-backup-api_create_delete() {
  _arguments -s -S \
    '(--server -s)'{-s+,--server=}'[Barman server NAME]'':NAME:_pg-backup-api__servers' \
    '(--backup-id -b)'{-b+,--backup-id=}'[backup ID, a backup name, or latest/last, oldest/first, last-failed]'':ID:_pg-backup-api__backups' \
    '(--wait -w)'{-w,--wait}'[block until the operation ends; exit 0 if DONE, 4 if FAILED]' \
    '(--dry-run)'--dry-run'[check everything a create checks and show the operation and Barman'\''s command line, recording nothing (remotely: only with a server that offers dry runs)]' \
    '(--output -o)'{-o+,--output=}'[output FORMAT: table, plain or json (default: table on a terminal, plain when piped)]'':FORMAT:(table plain json)' \
    '(--config)'--config='[our configuration FILE (TOML; default: the first found of $XDG_CONFIG_HOME/pg-backup-api/config.toml (or ~/.config/pg-backup-api/config.toml) and /etc/pg-backup-api.toml, never merged)]'':FILE:_files' \
    '(--barman-config)'--barman-config='[Barman'\''s configuration FILE (default: barman_config from the config file, else /etc/barman.conf)]'':FILE:_files' \
    '(--url)'--url='[work through the pg-backup-api server at URL (e.g. https://barman1:7480) instead of the local store]'':URL: ' \
    '(--remote -r)'{-r+,--remote=}'[work through the server named NAME in the config file'\''s \[remotes.NAME\]; list, status, backups and inspect take several, NAME,NAME... or all]'':NAME:_pg-backup-api__remotes' \
    '(--token)'--token='[bearer TOKEN for --url]'':TOKEN: ' \
    '(--ca-cert)'--ca-cert='[CA certificate FILE that signed the server'\''s certificate]'':FILE:_files' \
    '(--client-cert)'--client-cert='[client certificate FILE for mutual TLS]'':FILE:_files' \
    '(--client-key)'--client-key='[client key FILE for mutual TLS]'':FILE:_files' \
    '(- *)'{-h,--help}'[show help]'
}

_pg-backup-api_create_config-switch() {
  _arguments -s -S \
    '(--server -s)'{-s+,--server=}'[Barman server NAME]'':NAME:_pg-backup-api__servers' \
    '(--model-name -m)'{-m+,--model-name=}'[MODEL to apply]'':MODEL:_pg-backup-api__models' \
    '(--reset)'--reset'[remove the server'\''s active model]' \
    '(--wait -w)'{-w,--wait}'[block until the operation ends; exit 0 if DONE, 4 if FAILED]' \
    '(--dry-run)'--dry-run'[check everything a create checks and show the operation and Barman'\''s command line, recording nothing (remotely: only with a server that offers dry runs)]' \
    '(--output -o)'{-o+,--output=}'[output FORMAT: table, plain or json (default: table on a terminal, plain when piped)]'':FORMAT:(table plain json)' \
    '(--config)'--config='[our configuration FILE (TOML; default: the first found of $XDG_CONFIG_HOME/pg-backup-api/config.toml (or ~/.config/pg-backup-api/config.toml) and /etc/pg-backup-api.toml, never merged)]'':FILE:_files' \
    '(--barman-config)'--barman-config='[Barman'\''s configuration FILE (default: barman_config from the config file, else /etc/barman.conf)]'':FILE:_files' \
    '(--url)'--url='[work through the pg-backup-api server at URL (e.g. https://barman1:7480) instead of the local store]'':URL: ' \
    '(--remote -r)'{-r+,--remote=}'[work through the server named NAME in the config file'\''s \[remotes.NAME\]; list, status, backups and inspect take several, NAME,NAME... or all]'':NAME:_pg-backup-api__remotes' \
    '(--token)'--token='[bearer TOKEN for --url]'':TOKEN: ' \
    '(--ca-cert)'--ca-cert='[CA certificate FILE that signed the server'\''s certificate]'':FILE:_files' \
    '(--client-cert)'--client-cert='[client certificate FILE for mutual TLS]'':FILE:_files' \
    '(--client-key)'--client-key='[client key FILE for mutual TLS]'':FILE:_files' \
    '(- *)'{-h,--help}'[show help]'
}

_pg-backup-api_create_config-update() {
  _arguments -s -S \
    '(--changes -c)'{-c+,--changes=}'[the changes as a JSON array]'':JSON: ' \
    '(--changes-file -f)'{-f+,--changes-file=}'[read the changes from FILE, or - for standard input]'':FILE:_files' \
    '(--wait -w)'{-w,--wait}'[block until the operation ends; exit 0 if DONE, 4 if FAILED]' \
    '(--dry-run)'--dry-run'[check everything a create checks and show the operation and Barman'\''s command line, recording nothing (remotely: only with a server that offers dry runs)]' \
    '(--output -o)'{-o+,--output=}'[output FORMAT: table, plain or json (default: table on a terminal, plain when piped)]'':FORMAT:(table plain json)' \
    '(--config)'--config='[our configuration FILE (TOML; default: the first found of $XDG_CONFIG_HOME/pg-backup-api/config.toml (or ~/.config/pg-backup-api/config.toml) and /etc/pg-backup-api.toml, never merged)]'':FILE:_files' \
    '(--barman-config)'--barman-config='[Barman'\''s configuration FILE (default: barman_config from the config file, else /etc/barman.conf)]'':FILE:_files' \
    '(--url)'--url='[work through the pg-backup-api server at URL (e.g. https://barman1:7480) instead of the local store]'':URL: ' \
    '(--remote -r)'{-r+,--remote=}'[work through the server named NAME in the config file'\''s \[remotes.NAME\]; list, status, backups and inspect take several, NAME,NAME... or all]'':NAME:_pg-backup-api__remotes' \
    '(--token)'--token='[bearer TOKEN for --url]'':TOKEN: ' \
    '(--ca-cert)'--ca-cert='[CA certificate FILE that signed the server'\''s certificate]'':FILE:_files' \
    '(--client-cert)'--client-cert='[client certificate FILE for mutual TLS]'':FILE:_files' \
    '(--client-key)'--client-key='[client key FILE for mutual TLS]'':FILE:_files' \
    '(- *)'{-h,--help}'[show help]'
}

_pg-backup-api_list() {
  _arguments -s -S \
    '(--server -s)'{-s+,--server=}'[only the operations of server NAME]'':NAME:_pg-backup-api__servers' \
    '(--instance)'--instance'[only instance operations (config_update)]' \
    '(--all -a)'{-a,--all}'[every scope (the default)]' \
    '(--type -t)'{-t+,--type=}'[only operations of TYPE (recovery, config_switch, config_update, backup, keep, delete, drill; repeatable)]'':TYPE:(recovery config_switch config_update backup keep delete drill)' \
    '(--status)'--status='[only operations in STATUS (DONE, FAILED, IN_PROGRESS, or a phase such as queued, running, lost, cancelled, timeout; repeatable)]'':STATUS:(DONE FAILED IN_PROGRESS queued running lost cancelled timeout)' \
    '(--since)'--since='[only operations started within AGE (e.g. 90m, 24h, 7d) or since a date (2026-11-25, 2026-11-25T08:00)]'':AGE: ' \
    '(--limit -n)'{-n+,--limit=}'[at most N operations, the newest]'':N: ' \
    '(--before)'--before='[only operations older than operation ID (the oldest one of the previous page, to walk a long list in pages with --limit)]'':ID: ' \
    '(--output -o)'{-o+,--output=}'[output FORMAT: table, plain or json (default: table on a terminal, plain when piped)]'':FORMAT:(table plain json)' \
    '(--config)'--config='[our configuration FILE (TOML; default: the first found of $XDG_CONFIG_HOME/pg-backup-api/config.toml (or ~/.config/pg-backup-api/config.toml) and /etc/pg-backup-api.toml, never merged)]'':FILE:_files' \
    '(--barman-config)'--barman-config='[Barman'\''s configuration FILE (default: barman_config from the config file, else /etc/barman.conf)]'':FILE:_files' \
    '(--url)'--url='[work through the pg-backup-api server at URL (e.g. https://barman1:7480) instead of the local store]'':URL: ' \
    '(--remote -r)'{-r+,--remote=}'[work through the server named NAME in the config file'\''s \[remotes.NAME\]; list, status, backups and inspect take several, NAME,NAME... or all]'':NAME:_pg-backup-api__remotes' \
    '(--token)'--token='[bearer TOKEN for --url]'':TOKEN: ' \
    '(--ca-cert)'--ca-cert='[CA certificate FILE that signed the server'\''s certificate]'':FILE:_files' \
    '(--client-cert)'--client-cert='[client certificate FILE for mutual TLS]'':FILE:_files' \
    '(--client-key)'--client-key='[client key FILE for mutual TLS]'':FILE:_files' \
    '(- *)'{-h,--help}'[show help]'
}

_pg-backup-api_inspect() {
  _arguments -s -S \
    '(--server -s)'{-s+,--server=}'[the operation belongs to server NAME (as SERVER/ID does)]'':NAME:_pg-backup-api__servers' \
    '(--instance)'--instance'[the operation is an instance operation]' \
    '(--follow -f)'{-f,--follow}'[then stream Barman'\''s output until the operation ends (like logs -f)]' \
    '(--output -o)'{-o+,--output=}'[output FORMAT: table, plain or json (default: table on a terminal, plain when piped)]'':FORMAT:(table plain json)' \
    '(--config)'--config='[our configuration FILE (TOML; default: the first found of $XDG_CONFIG_HOME/pg-backup-api/config.toml (or ~/.config/pg-backup-api/config.toml) and /etc/pg-backup-api.toml, never merged)]'':FILE:_files' \
    '(--barman-config)'--barman-config='[Barman'\''s configuration FILE (default: barman_config from the config file, else /etc/barman.conf)]'':FILE:_files' \
    '(--url)'--url='[work through the pg-backup-api server at URL (e.g. https://barman1:7480) instead of the local store]'':URL: ' \
    '(--remote -r)'{-r+,--remote=}'[work through the server named NAME in the config file'\''s \[remotes.NAME\]; list, status, backups and inspect take several, NAME,NAME... or all]'':NAME:_pg-backup-api__remotes' \
    '(--token)'--token='[bearer TOKEN for --url]'':TOKEN: ' \
    '(--ca-cert)'--ca-cert='[CA certificate FILE that signed the server'\''s certificate]'':FILE:_files' \
    '(--client-cert)'--client-cert='[client certificate FILE for mutual TLS]'':FILE:_files' \
    '(--client-key)'--client-key='[client key FILE for mutual TLS]'':FILE:_files' \
    '(- *)'{-h,--help}'[show help]' \
    '1: :_pg-backup-api__operations'
}

_pg-backup-api_backups_commands() {
  local -a cmds
  cmds=(
    'show:show one backup: by ID, by name, or latest, oldest, last-failed'
  )
  _describe -t commands 'backups operation' cmds
}

_pg-backup-api_backups() {
  local curcontext=$curcontext state state_descr line ret=1
  typeset -A opt_args
  _arguments -s -S -C \
    '(--server -s)'{-s+,--server=}'[the Barman server NAME (required)]'':NAME:_pg-backup-api__servers' \
    '(--output -o)'{-o+,--output=}'[output FORMAT: table, plain or json (default: table on a terminal, plain when piped)]'':FORMAT:(table plain json)' \
    '(--config)'--config='[our configuration FILE (TOML; default: the first found of $XDG_CONFIG_HOME/pg-backup-api/config.toml (or ~/.config/pg-backup-api/config.toml) and /etc/pg-backup-api.toml, never merged)]'':FILE:_files' \
    '(--barman-config)'--barman-config='[Barman'\''s configuration FILE (default: barman_config from the config file, else /etc/barman.conf)]'':FILE:_files' \
    '(--url)'--url='[work through the pg-backup-api server at URL (e.g. https://barman1:7480) instead of the local store]'':URL: ' \
    '(--remote -r)'{-r+,--remote=}'[work through the server named NAME in the config file'\''s \[remotes.NAME\]; list, status, backups and inspect take several, NAME,NAME... or all]'':NAME:_pg-backup-api__remotes' \
    '(--token)'--token='[bearer TOKEN for --url]'':TOKEN: ' \
    '(--ca-cert)'--ca-cert='[CA certificate FILE that signed the server'\''s certificate]'':FILE:_files' \
    '(--client-cert)'--client-cert='[client certificate FILE for mutual TLS]'':FILE:_files' \
    '(--client-key)'--client-key='[client key FILE for mutual TLS]'':FILE:_files' \
    '(- *)'{-h,--help}'[show help]' \
    '(-)1:: :_pg-backup-api_backups_commands' \
    '(-)*:: :->args' && ret=0
  case $state in
  args)
    curcontext=${curcontext%:*:*}:pg-backup-api-backups-$words[1]:
    case $words[1] in
    show) _pg-backup-api_backups_show && ret=0 ;;
    esac
    ;;
  esac
  return ret
}

_pg-backup-api_backups_show() {
  _arguments -s -S \
    '(--server -s)'{-s+,--server=}'[the Barman server NAME (required)]'':NAME:_pg-backup-api__servers' \
    '(--output -o)'{-o+,--output=}'[output FORMAT: table, plain or json (default: table on a terminal, plain when piped)]'':FORMAT:(table plain json)' \
    '(--config)'--config='[our configuration FILE (TOML; default: the first found of $XDG_CONFIG_HOME/pg-backup-api/config.toml (or ~/.config/pg-backup-api/config.toml) and /etc/pg-backup-api.toml, never merged)]'':FILE:_files' \
    '(--barman-config)'--barman-config='[Barman'\''s configuration FILE (default: barman_config from the config file, else /etc/barman.conf)]'':FILE:_files' \
    '(--url)'--url='[work through the pg-backup-api server at URL (e.g. https://barman1:7480) instead of the local store]'':URL: ' \
    '(--remote -r)'{-r+,--remote=}'[work through the server named NAME in the config file'\''s \[remotes.NAME\]; list, status, backups and inspect take several, NAME,NAME... or all]'':NAME:_pg-backup-api__remotes' \
    '(--token)'--token='[bearer TOKEN for --url]'':TOKEN: ' \
    '(--ca-cert)'--ca-cert='[CA certificate FILE that signed the server'\''s certificate]'':FILE:_files' \
    '(--client-cert)'--client-cert='[client certificate FILE for mutual TLS]'':FILE:_files' \
    '(--client-key)'--client-key='[client key FILE for mutual TLS]'':FILE:_files' \
    '(- *)'{-h,--help}'[show help]' \
    '1: :_pg-backup-api__backups'
}

_pg-backup-api_cancel() {
  _arguments -s -S \
    '(--server -s)'{-s+,--server=}'[the operation belongs to server NAME (as SERVER/ID does)]'':NAME:_pg-backup-api__servers' \
    '(--instance)'--instance'[the operation is an instance operation]' \
    '(--wait -w)'{-w,--wait}'[wait until the operation has ended]' \
    '(--output -o)'{-o+,--output=}'[output FORMAT: table, plain or json (default: table on a terminal, plain when piped)]'':FORMAT:(table plain json)' \
    '(--config)'--config='[our configuration FILE (TOML; default: the first found of $XDG_CONFIG_HOME/pg-backup-api/config.toml (or ~/.config/pg-backup-api/config.toml) and /etc/pg-backup-api.toml, never merged)]'':FILE:_files' \
    '(--barman-config)'--barman-config='[Barman'\''s configuration FILE (default: barman_config from the config file, else /etc/barman.conf)]'':FILE:_files' \
    '(--url)'--url='[work through the pg-backup-api server at URL (e.g. https://barman1:7480) instead of the local store]'':URL: ' \
    '(--remote -r)'{-r+,--remote=}'[work through the server named NAME in the config file'\''s \[remotes.NAME\]; list, status, backups and inspect take several, NAME,NAME... or all]'':NAME:_pg-backup-api__remotes' \
    '(--token)'--token='[bearer TOKEN for --url]'':TOKEN: ' \
    '(--ca-cert)'--ca-cert='[CA certificate FILE that signed the server'\''s certificate]'':FILE:_files' \
    '(--client-cert)'--client-cert='[client certificate FILE for mutual TLS]'':FILE:_files' \
    '(--client-key)'--client-key='[client key FILE for mutual TLS]'':FILE:_files' \
    '(- *)'{-h,--help}'[show help]' \
    '1: :_pg-backup-api__operations'
}

_pg-backup-api_wait() {
  _arguments -s -S \
    '(--server -s)'{-s+,--server=}'[the operation belongs to server NAME (as SERVER/ID does)]'':NAME:_pg-backup-api__servers' \
    '(--instance)'--instance'[the operation is an instance operation]' \
    '(--output -o)'{-o+,--output=}'[output FORMAT: table, plain or json (default: table on a terminal, plain when piped)]'':FORMAT:(table plain json)' \
    '(--timeout)'--timeout='[give up waiting after DURATION (e.g. 90s, 30m) and exit 124; the operation goes on (default: wait as long as it runs)]'':DURATION: ' \
    '(--config)'--config='[our configuration FILE (TOML; default: the first found of $XDG_CONFIG_HOME/pg-backup-api/config.toml (or ~/.config/pg-backup-api/config.toml) and /etc/pg-backup-api.toml, never merged)]'':FILE:_files' \
    '(--barman-config)'--barman-config='[Barman'\''s configuration FILE (default: barman_config from the config file, else /etc/barman.conf)]'':FILE:_files' \
    '(--url)'--url='[work through the pg-backup-api server at URL (e.g. https://barman1:7480) instead of the local store]'':URL: ' \
    '(--remote -r)'{-r+,--remote=}'[work through the server named NAME in the config file'\''s \[remotes.NAME\]; list, status, backups and inspect take several, NAME,NAME... or all]'':NAME:_pg-backup-api__remotes' \
    '(--token)'--token='[bearer TOKEN for --url]'':TOKEN: ' \
    '(--ca-cert)'--ca-cert='[CA certificate FILE that signed the server'\''s certificate]'':FILE:_files' \
    '(--client-cert)'--client-cert='[client certificate FILE for mutual TLS]'':FILE:_files' \
    '(--client-key)'--client-key='[client key FILE for mutual TLS]'':FILE:_files' \
    '(- *)'{-h,--help}'[show help]' \
    '1: :_pg-backup-api__operations'
}

_pg-backup-api_logs() {
  _arguments -s -S \
    '(--server -s)'{-s+,--server=}'[the operation belongs to server NAME (as SERVER/ID does)]'':NAME:_pg-backup-api__servers' \
    '(--instance)'--instance'[the operation is an instance operation]' \
    '(--follow -f)'{-f,--follow}'[stream the output as Barman writes it, until the operation ends]' \
    '(--config)'--config='[our configuration FILE (TOML; default: the first found of $XDG_CONFIG_HOME/pg-backup-api/config.toml (or ~/.config/pg-backup-api/config.toml) and /etc/pg-backup-api.toml, never merged)]'':FILE:_files' \
    '(--barman-config)'--barman-config='[Barman'\''s configuration FILE (default: barman_config from the config file, else /etc/barman.conf)]'':FILE:_files' \
    '(--url)'--url='[work through the pg-backup-api server at URL (e.g. https://barman1:7480) instead of the local store]'':URL: ' \
    '(--remote -r)'{-r+,--remote=}'[work through the server named NAME in the config file'\''s \[remotes.NAME\]; list, status, backups and inspect take several, NAME,NAME... or all]'':NAME:_pg-backup-api__remotes' \
    '(--token)'--token='[bearer TOKEN for --url]'':TOKEN: ' \
    '(--ca-cert)'--ca-cert='[CA certificate FILE that signed the server'\''s certificate]'':FILE:_files' \
    '(--client-cert)'--client-cert='[client certificate FILE for mutual TLS]'':FILE:_files' \
    '(--client-key)'--client-key='[client key FILE for mutual TLS]'':FILE:_files' \
    '(- *)'{-h,--help}'[show help]' \
    '1: :_pg-backup-api__operations'
}

_pg-backup-api_prune() {
  _arguments -s -S \
    '(--older-than)'--older-than='[AGE such as 30d, 72h or 90m]'':AGE: ' \
    '(--dry-run)'--dry-run'[list what would be removed, remove nothing]' \
    '(--server -s)'{-s+,--server=}'[only the operations of server NAME]'':NAME:_pg-backup-api__servers' \
    '(--instance)'--instance'[only instance operations]' \
    '(--output -o)'{-o+,--output=}'[output FORMAT: table, plain or json (default: table on a terminal, plain when piped)]'':FORMAT:(table plain json)' \
    '(--config)'--config='[our configuration FILE (TOML; default: the first found of $XDG_CONFIG_HOME/pg-backup-api/config.toml (or ~/.config/pg-backup-api/config.toml) and /etc/pg-backup-api.toml, never merged)]'':FILE:_files' \
    '(--barman-config)'--barman-config='[Barman'\''s configuration FILE (default: barman_config from the config file, else /etc/barman.conf)]'':FILE:_files' \
    '(- *)'{-h,--help}'[show help]'
}

_pg-backup-api_serve() {
  _arguments -s -S \
    '(--listen -l)'{-l+,--listen=}'[ADDR to listen on (default: serve.listen from the config file, else 127.0.0.1:7480)]'':ADDR: ' \
    '(--port)'--port='[listen on 127.0.0.1:N, as the reference implementation'\''s --port]'':N: ' \
    '(--max-body-bytes)'--max-body-bytes='[largest accepted request body in BYTES (default: serve.max_body_bytes, else 1 MiB)]'':BYTES: ' \
    '(--log-format)'--log-format='[FORMAT of the log on standard error, and of the runners'\'' runner.err: text or json, one object per line (default: serve.log_format, else text)]'':FORMAT:(text json)' \
    '(--insecure)'--insecure'[allow listening on a non-loopback address with no authentication (tokens or client_ca) configured, and accept bearer tokens over plain HTTP from clients not on loopback]' \
    '(--config)'--config='[our configuration FILE (TOML; default: the first found of $XDG_CONFIG_HOME/pg-backup-api/config.toml (or ~/.config/pg-backup-api/config.toml) and /etc/pg-backup-api.toml, never merged)]'':FILE:_files' \
    '(--barman-config)'--barman-config='[Barman'\''s configuration FILE (default: barman_config from the config file, else /etc/barman.conf)]'':FILE:_files' \
    '(- *)'{-h,--help}'[show help]'
}

_pg-backup-api_status() {
  _arguments -s -S \
    '(--port)'--port='[check port N on 127.0.0.1 (HTTPS when serve.tls_cert is set)]'':N: ' \
    '(--url)'--url='[check the server at URL (default: serve.listen of the config file, else http://127.0.0.1:7480)]'':URL: ' \
    '(--timeout)'--timeout='[give up after DURATION (with several remotes: on each)]'':DURATION: ' \
    '(--output -o)'{-o+,--output=}'[output FORMAT: table, plain or json (default: table on a terminal, plain when piped)]'':FORMAT:(table plain json)' \
    '(--remote -r)'{-r+,--remote=}'[work through the server named NAME in the config file'\''s \[remotes.NAME\]; list, status, backups and inspect take several, NAME,NAME... or all]'':NAME:_pg-backup-api__remotes' \
    '(--token)'--token='[bearer TOKEN for --url]'':TOKEN: ' \
    '(--ca-cert)'--ca-cert='[CA certificate FILE that signed the server'\''s certificate]'':FILE:_files' \
    '(--client-cert)'--client-cert='[client certificate FILE for mutual TLS]'':FILE:_files' \
    '(--client-key)'--client-key='[client key FILE for mutual TLS]'':FILE:_files' \
    '(--config)'--config='[our configuration FILE (TOML; default: the first found of $XDG_CONFIG_HOME/pg-backup-api/config.toml (or ~/.config/pg-backup-api/config.toml) and /etc/pg-backup-api.toml, never merged)]'':FILE:_files' \
    '(- *)'{-h,--help}'[show help]'
}

_pg-backup-api_doctor() {
  _arguments -s -S \
    '(--config)'--config='[our configuration FILE (TOML; default: the first found of $XDG_CONFIG_HOME/pg-backup-api/config.toml (or ~/.config/pg-backup-api/config.toml) and /etc/pg-backup-api.toml, never merged)]'':FILE:_files' \
    '(--barman-config)'--barman-config='[Barman'\''s configuration FILE (default: barman_config from the config file, else /etc/barman.conf)]'':FILE:_files' \
    '(--output -o)'{-o+,--output=}'[output FORMAT: table, plain or json (default: table on a terminal, plain when piped)]'':FORMAT:(table plain json)' \
    '(- *)'{-h,--help}'[show help]'
}

_pg-backup-api_token_commands() {
  local -a cmds
  cmds=(
    'create:print a new token once, and the lines that make serve accept it'
  )
  _describe -t commands 'token operation' cmds
}

_pg-backup-api_token() {
  local curcontext=$curcontext state state_descr line ret=1
  typeset -A opt_args
  _arguments -s -S -C \
    '(- *)'{-h,--help}'[show help]' \
    '(-)1:: :_pg-backup-api_token_commands' \
    '(-)*:: :->args' && ret=0
  case $state in
  args)
    curcontext=${curcontext%:*:*}:pg-backup-api-token-$words[1]:
    case $words[1] in
    create) _pg-backup-api_token_create && ret=0 ;;
    esac
    ;;
  esac
  return ret
}

_pg-backup-api_token_create() {
  _arguments -s -S \
    '(--permissions)'--permissions='[what the token may do: a comma-separated LIST of read, recover, configure, delete, admin]'':LIST: ' \
    '(- *)'{-h,--help}'[show help]'
}

_pg-backup-api_version() {
  _arguments -s -S \
    '(--output -o)'{-o+,--output=}'[output FORMAT: table, plain or json (default: table on a terminal, plain when piped)]'':FORMAT:(table plain json)' \
    '(- *)'{-h,--help}'[show help]'
}

_pg-backup-api_help() {
  _arguments -s -S \
    '(- *)'{-h,--help}'[show help]' \
    '1: :_pg-backup-api_commands'
}

if [[ $zsh_eval_context[-1] == loadautofunc ]]; then
  # autoloaded from $fpath
  _pg-backup-api "$@"
else
  # sourced
  compdef _pg-backup-api pg-backup-api
fi
