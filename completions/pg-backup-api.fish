# fish completion for pg-backup-api
# Generated from the command-line definition by cmd/gen-docs (make docs); do not edit.
# Install as pg-backup-api.fish in a directory of $fish_complete_path (e.g.
# /usr/share/fish/vendor_completions.d). Server, model, remote and backup names
# and operation IDs come from `pg-backup-api __complete KIND`.

# __pg_backup_api_sub PATH WORD: prints the command path that WORD leads to from PATH.
function __pg_backup_api_sub -a cmdpath word
    switch "$cmdpath:$word"
        case ':create'
            echo 'create'
        case ':list' ':ls'
            echo 'list'
        case ':inspect' ':show'
            echo 'inspect'
        case ':backups'
            echo 'backups'
        case ':cancel'
            echo 'cancel'
        case ':wait'
            echo 'wait'
        case ':logs'
            echo 'logs'
        case ':prune'
            echo 'prune'
        case ':serve'
            echo 'serve'
        case ':status'
            echo 'status'
        case ':doctor'
            echo 'doctor'
        case ':token'
            echo 'token'
        case ':version'
            echo 'version'
        case ':help' ':h'
            echo 'help'
        case 'create:recovery'
            echo 'create recovery'
        case 'create:backup'
            echo 'create backup'
        case 'create:keep'
            echo 'create keep'
        case 'create:drill'
            echo 'create drill'
        case 'create:delete'
            echo 'create delete'
        case 'create:config-switch'
            echo 'create config-switch'
        case 'create:config-update'
            echo 'create config-update'
        case 'backups:show'
            echo 'backups show'
        case 'token:create'
            echo 'token create'
        case '*'
            return 1
    end
end

# __pg_backup_api_valued PATH OPTION: succeeds when OPTION takes a value in PATH.
function __pg_backup_api_valued -a cmdpath opt
    switch "$cmdpath:$opt"
        case ':--config' ':--barman-config' ':--barman-command' ':--url' ':--remote' ':-r' ':--token' ':--ca-cert' ':--client-cert' ':--client-key' ':--output' ':-o' 'create:--payload' 'create:-p' 'create:--server' 'create:-s' 'create:--output' 'create:-o' 'create:--config' 'create:--barman-config' 'create:--url' 'create:--remote' 'create:-r' 'create:--token' 'create:--ca-cert' 'create:--client-cert' 'create:--client-key' 'create recovery:--server' 'create recovery:-s' 'create recovery:--backup-id' 'create recovery:-b' 'create recovery:--remote-ssh-command' 'create recovery:--destination-directory' 'create recovery:-d' 'create recovery:--target-time' 'create recovery:--target-lsn' 'create recovery:--target-xid' 'create recovery:--target-name' 'create recovery:--target-tli' 'create recovery:--target-action' 'create recovery:--jobs' 'create recovery:-j' 'create recovery:--bwlimit' 'create recovery:--tablespace' 'create recovery:--recovery-staging-path' 'create recovery:--staging-wal-directory' 'create recovery:--retry-times' 'create recovery:--retry-sleep' 'create recovery:--jobs-start-batch-period' 'create recovery:--jobs-start-batch-size' 'create recovery:--recovery-conf-filename' 'create recovery:--recovery-option-port' 'create recovery:--combine-mode' 'create recovery:--output' 'create recovery:-o' 'create recovery:--config' 'create recovery:--barman-config' 'create recovery:--url' 'create recovery:--remote' 'create recovery:-r' 'create recovery:--token' 'create recovery:--ca-cert' 'create recovery:--client-cert' 'create recovery:--client-key' 'create backup:--server' 'create backup:-s' 'create backup:--name' 'create backup:-n' 'create backup:--incremental' 'create backup:--reuse-backup' 'create backup:--jobs' 'create backup:-j' 'create backup:--bwlimit' 'create backup:--retry-times' 'create backup:--retry-sleep' 'create backup:--wait-timeout' 'create backup:--output' 'create backup:-o' 'create backup:--config' 'create backup:--barman-config' 'create backup:--url' 'create backup:--remote' 'create backup:-r' 'create backup:--token' 'create backup:--ca-cert' 'create backup:--client-cert' 'create backup:--client-key' 'create keep:--server' 'create keep:-s' 'create keep:--backup-id' 'create keep:-b' 'create keep:--target' 'create keep:-t' 'create keep:--output' 'create keep:-o' 'create keep:--config' 'create keep:--barman-config' 'create keep:--url' 'create keep:--remote' 'create keep:-r' 'create keep:--token' 'create keep:--ca-cert' 'create keep:--client-cert' 'create keep:--client-key' 'create drill:--server' 'create drill:-s' 'create drill:--backup-id' 'create drill:-b' 'create drill:--sql' 'create drill:--database' 'create drill:--user' 'create drill:--timeout' 'create drill:--target-time' 'create drill:--target-lsn' 'create drill:--target-xid' 'create drill:--target-name' 'create drill:--target-tli' 'create drill:--target-action' 'create drill:--jobs' 'create drill:-j' 'create drill:--output' 'create drill:-o' 'create drill:--config' 'create drill:--barman-config' 'create drill:--url' 'create drill:--remote' 'create drill:-r' 'create drill:--token' 'create drill:--ca-cert' 'create drill:--client-cert' 'create drill:--client-key' 'create delete:--server' 'create delete:-s' 'create delete:--backup-id' 'create delete:-b' 'create delete:--output' 'create delete:-o' 'create delete:--config' 'create delete:--barman-config' 'create delete:--url' 'create delete:--remote' 'create delete:-r' 'create delete:--token' 'create delete:--ca-cert' 'create delete:--client-cert' 'create delete:--client-key' 'create config-switch:--server' 'create config-switch:-s' 'create config-switch:--model-name' 'create config-switch:-m' 'create config-switch:--output' 'create config-switch:-o' 'create config-switch:--config' 'create config-switch:--barman-config' 'create config-switch:--url' 'create config-switch:--remote' 'create config-switch:-r' 'create config-switch:--token' 'create config-switch:--ca-cert' 'create config-switch:--client-cert' 'create config-switch:--client-key' 'create config-update:--changes' 'create config-update:-c' 'create config-update:--changes-file' 'create config-update:-f' 'create config-update:--output' 'create config-update:-o' 'create config-update:--config' 'create config-update:--barman-config' 'create config-update:--url' 'create config-update:--remote' 'create config-update:-r' 'create config-update:--token' 'create config-update:--ca-cert' 'create config-update:--client-cert' 'create config-update:--client-key' 'list:--server' 'list:-s' 'list:--type' 'list:-t' 'list:--status' 'list:--since' 'list:--limit' 'list:-n' 'list:--before' 'list:--output' 'list:-o' 'list:--config' 'list:--barman-config' 'list:--url' 'list:--remote' 'list:-r' 'list:--token' 'list:--ca-cert' 'list:--client-cert' 'list:--client-key' 'inspect:--server' 'inspect:-s' 'inspect:--output' 'inspect:-o' 'inspect:--config' 'inspect:--barman-config' 'inspect:--url' 'inspect:--remote' 'inspect:-r' 'inspect:--token' 'inspect:--ca-cert' 'inspect:--client-cert' 'inspect:--client-key' 'backups:--server' 'backups:-s' 'backups:--output' 'backups:-o' 'backups:--config' 'backups:--barman-config' 'backups:--url' 'backups:--remote' 'backups:-r' 'backups:--token' 'backups:--ca-cert' 'backups:--client-cert' 'backups:--client-key' 'backups show:--server' 'backups show:-s' 'backups show:--output' 'backups show:-o' 'backups show:--config' 'backups show:--barman-config' 'backups show:--url' 'backups show:--remote' 'backups show:-r' 'backups show:--token' 'backups show:--ca-cert' 'backups show:--client-cert' 'backups show:--client-key' 'cancel:--server' 'cancel:-s' 'cancel:--output' 'cancel:-o' 'cancel:--config' 'cancel:--barman-config' 'cancel:--url' 'cancel:--remote' 'cancel:-r' 'cancel:--token' 'cancel:--ca-cert' 'cancel:--client-cert' 'cancel:--client-key' 'wait:--server' 'wait:-s' 'wait:--output' 'wait:-o' 'wait:--timeout' 'wait:--config' 'wait:--barman-config' 'wait:--url' 'wait:--remote' 'wait:-r' 'wait:--token' 'wait:--ca-cert' 'wait:--client-cert' 'wait:--client-key' 'logs:--server' 'logs:-s' 'logs:--config' 'logs:--barman-config' 'logs:--url' 'logs:--remote' 'logs:-r' 'logs:--token' 'logs:--ca-cert' 'logs:--client-cert' 'logs:--client-key' 'prune:--older-than' 'prune:--server' 'prune:-s' 'prune:--output' 'prune:-o' 'prune:--config' 'prune:--barman-config' 'serve:--listen' 'serve:-l' 'serve:--port' 'serve:--max-body-bytes' 'serve:--log-format' 'serve:--config' 'serve:--barman-config' 'status:--port' 'status:--url' 'status:--timeout' 'status:--output' 'status:-o' 'status:--remote' 'status:-r' 'status:--token' 'status:--ca-cert' 'status:--client-cert' 'status:--client-key' 'status:--config' 'doctor:--config' 'doctor:--barman-config' 'doctor:--output' 'doctor:-o' 'token create:--permissions' 'version:--output' 'version:-o'
            return 0
    end
    return 1
end

# __pg_backup_api_path: prints the command path of the command line being completed.
function __pg_backup_api_path
    set -l tokens (commandline -opc)
    set -e tokens[1]
    set -l cmdpath ''
    set -l valued 0
    for tok in $tokens
        if test $valued = 1
            set valued 0
            continue
        end
        switch $tok
            case '-*=*'
                continue
            case '-?*'
                __pg_backup_api_valued "$cmdpath" $tok; and set valued 1
                continue
        end
        set -l next (__pg_backup_api_sub "$cmdpath" $tok); and set cmdpath $next
    end
    echo $cmdpath
end

# __pg_backup_api_at PATH: succeeds when the command line is at command PATH.
function __pg_backup_api_at -a want
    set -l cmdpath (__pg_backup_api_path)
    test "$cmdpath" = "$want"
end

# __pg_backup_api_server: prints the value of the command line's --server, if any.
function __pg_backup_api_server
    set -l tokens (commandline -opc)
    set -l next 0
    for tok in $tokens
        if test $next = 1
            echo $tok
            return
        end
        switch $tok
            case --server -s
                set next 1
            case '--server=*'
                string replace -- --server= '' $tok
                return
        end
    end
end

# __pg_backup_api_dynamic KIND: asks the binary being completed, with the global
# options of the command line (and, for backups, the server given with
# --server); any error completes nothing.
function __pg_backup_api_dynamic -a kind
    set -l tokens (commandline -opc)
    set -l cmd $tokens[1]
    set -e tokens[1]
    set -l globals
    set -l extra
    if contains -- $kind backups
        set extra (__pg_backup_api_server)
    end
    set -l valued ''
    for tok in $tokens
        if test -n "$valued"
            set -a globals $valued $tok
            set valued ''
            continue
        end
        switch $tok
            case '--config' '--barman-config' '--barman-command' '--url' '--remote' '-r' '--token' '--ca-cert' '--client-cert' '--client-key' '--output' '-o'
                set valued $tok
            case '--config=*' '--barman-config=*' '--barman-command=*' '--url=*' '--remote=*' '--token=*' '--ca-cert=*' '--client-cert=*' '--client-key=*' '--output=*'
                set -a globals $tok
            case '-*'
                continue
            case '*'
                break
        end
    end
    $cmd $globals __complete $kind $extra 2>/dev/null </dev/null
end

complete -c pg-backup-api -f

# the application
complete -c pg-backup-api -n "__pg_backup_api_at ''" -a 'create' -d 'register an operation and start Barman for it'
complete -c pg-backup-api -n "__pg_backup_api_at ''" -a 'list' -d 'list operations, newest first'
complete -c pg-backup-api -n "__pg_backup_api_at ''" -a 'ls' -d 'list operations, newest first'
complete -c pg-backup-api -n "__pg_backup_api_at ''" -a 'inspect' -d 'show one operation: type, status, payload, times, exit code and Barman\'s output'
complete -c pg-backup-api -n "__pg_backup_api_at ''" -a 'show' -d 'show one operation: type, status, payload, times, exit code and Barman\'s output'
complete -c pg-backup-api -n "__pg_backup_api_at ''" -a 'backups' -d 'list a server\'s backups and its recovery window, from Barman\'s catalog'
complete -c pg-backup-api -n "__pg_backup_api_at ''" -a 'cancel' -d 'stop a queued or running operation; it ends FAILED (phase cancelled)'
complete -c pg-backup-api -n "__pg_backup_api_at ''" -a 'wait' -d 'block until an operation ends; exit 0 if DONE, 4 if FAILED, 7 if cancelled or timed out, 124 if --timeout passed first'
complete -c pg-backup-api -n "__pg_backup_api_at ''" -a 'logs' -d 'print Barman\'s output for an operation; -f follows it until the operation ends'
complete -c pg-backup-api -n "__pg_backup_api_at ''" -a 'prune' -d 'remove the files of operations that finished long ago'
complete -c pg-backup-api -n "__pg_backup_api_at ''" -a 'serve' -d 'serve the documented HTTP API over the same store and runners'
complete -c pg-backup-api -n "__pg_backup_api_at ''" -a 'status' -d 'check that a pg-backup-api server answers; prints OK'
complete -c pg-backup-api -n "__pg_backup_api_at ''" -a 'doctor' -d 'check the configuration, Barman, barman_home, remotes, and serve\'s address and certificate'
complete -c pg-backup-api -n "__pg_backup_api_at ''" -a 'token' -d 'manage bearer tokens for serve'
complete -c pg-backup-api -n "__pg_backup_api_at ''" -a 'version' -d 'print the version, commit and build date'
complete -c pg-backup-api -n "__pg_backup_api_at ''" -a 'help' -d 'show the list of commands, or the help of one command'
complete -c pg-backup-api -n "__pg_backup_api_at ''" -a 'h' -d 'show the list of commands, or the help of one command'
complete -c pg-backup-api -n "__pg_backup_api_at ''" -l config -r -F -d 'our configuration FILE (TOML; default: the first found of $XDG_CONFIG_HOME/pg-backup-api/config.toml (or ~/.config/pg-backup-api/config.toml) and /etc/pg-backup-api.toml, never merged)'
complete -c pg-backup-api -n "__pg_backup_api_at ''" -l barman-config -r -F -d 'Barman\'s configuration FILE (default: barman_config from the config file, else /etc/barman.conf)'
complete -c pg-backup-api -n "__pg_backup_api_at ''" -l no-color -d 'no colour in tables (also when NO_COLOR is set, or TERM=dumb)'
complete -c pg-backup-api -n "__pg_backup_api_at ''" -l require-barman-user -d 'refuse to run as any user but Barman\'s barman_user (default: warn)'
complete -c pg-backup-api -n "__pg_backup_api_at ''" -l barman-command -x -d 'COMMAND that runs Barman, split on spaces, never through a shell (default: barman)'
complete -c pg-backup-api -n "__pg_backup_api_at ''" -l url -x -d 'work through the pg-backup-api server at URL (e.g. https://barman1:7480) instead of the local store'
complete -c pg-backup-api -n "__pg_backup_api_at ''" -s r -l remote -x -a '(__pg_backup_api_dynamic remotes)' -d 'work through the server named NAME in the config file\'s [remotes.NAME]; list, status, backups and inspect take several, NAME,NAME... or all'
complete -c pg-backup-api -n "__pg_backup_api_at ''" -l token -x -d 'bearer TOKEN for --url'
complete -c pg-backup-api -n "__pg_backup_api_at ''" -l ca-cert -r -F -d 'CA certificate FILE that signed the server\'s certificate'
complete -c pg-backup-api -n "__pg_backup_api_at ''" -l client-cert -r -F -d 'client certificate FILE for mutual TLS'
complete -c pg-backup-api -n "__pg_backup_api_at ''" -l client-key -r -F -d 'client key FILE for mutual TLS'
complete -c pg-backup-api -n "__pg_backup_api_at ''" -s o -l output -x -a 'table plain json' -d 'output FORMAT: table, plain or json (default: table on a terminal, plain when piped)'
complete -c pg-backup-api -n "__pg_backup_api_at ''" -s h -l help -d 'show help'
complete -c pg-backup-api -n "__pg_backup_api_at ''" -s v -l version -d 'print the version'

# create
complete -c pg-backup-api -n "__pg_backup_api_at 'create'" -a 'recovery' -d 'restore a backup to a remote host with barman recover'
complete -c pg-backup-api -n "__pg_backup_api_at 'create'" -a 'backup' -d 'take a backup of a server now with barman backup (an extension)'
complete -c pg-backup-api -n "__pg_backup_api_at 'create'" -a 'keep' -d 'keep a backup beyond the retention policy, or release it, with barman keep (an extension)'
complete -c pg-backup-api -n "__pg_backup_api_at 'create'" -a 'drill' -d 'prove a backup restores: restore it on the Barman host, start PostgreSQL on it, run queries, remove it (an extension)'
complete -c pg-backup-api -n "__pg_backup_api_at 'create'" -a 'delete' -d 'delete a backup with barman delete (an extension)'
complete -c pg-backup-api -n "__pg_backup_api_at 'create'" -a 'config-switch' -d 'apply a model to a server, or remove the active one, with barman config-switch'
complete -c pg-backup-api -n "__pg_backup_api_at 'create'" -a 'config-update' -d 'change server or model options with barman config-update'
complete -c pg-backup-api -n "__pg_backup_api_at 'create'" -s p -l payload -r -F -d 'documented JSON payload FILE, or - for standard input'
complete -c pg-backup-api -n "__pg_backup_api_at 'create'" -s s -l server -x -a '(__pg_backup_api_dynamic servers)' -d 'server NAME for server operations (recovery, config_switch, backup, keep, delete, drill)'
complete -c pg-backup-api -n "__pg_backup_api_at 'create'" -s w -l wait -d 'block until the operation ends; exit 0 if DONE, 4 if FAILED'
complete -c pg-backup-api -n "__pg_backup_api_at 'create'" -l dry-run -d 'check everything a create checks and show the operation and Barman\'s command line, recording nothing (remotely: only with a server that offers dry runs)'
complete -c pg-backup-api -n "__pg_backup_api_at 'create'" -s o -l output -x -a 'table plain json' -d 'output FORMAT: table, plain or json (default: table on a terminal, plain when piped)'
complete -c pg-backup-api -n "__pg_backup_api_at 'create'" -l config -r -F -d 'our configuration FILE (TOML; default: the first found of $XDG_CONFIG_HOME/pg-backup-api/config.toml (or ~/.config/pg-backup-api/config.toml) and /etc/pg-backup-api.toml, never merged)'
complete -c pg-backup-api -n "__pg_backup_api_at 'create'" -l barman-config -r -F -d 'Barman\'s configuration FILE (default: barman_config from the config file, else /etc/barman.conf)'
complete -c pg-backup-api -n "__pg_backup_api_at 'create'" -l url -x -d 'work through the pg-backup-api server at URL (e.g. https://barman1:7480) instead of the local store'
complete -c pg-backup-api -n "__pg_backup_api_at 'create'" -s r -l remote -x -a '(__pg_backup_api_dynamic remotes)' -d 'work through the server named NAME in the config file\'s [remotes.NAME]; list, status, backups and inspect take several, NAME,NAME... or all'
complete -c pg-backup-api -n "__pg_backup_api_at 'create'" -l token -x -d 'bearer TOKEN for --url'
complete -c pg-backup-api -n "__pg_backup_api_at 'create'" -l ca-cert -r -F -d 'CA certificate FILE that signed the server\'s certificate'
complete -c pg-backup-api -n "__pg_backup_api_at 'create'" -l client-cert -r -F -d 'client certificate FILE for mutual TLS'
complete -c pg-backup-api -n "__pg_backup_api_at 'create'" -l client-key -r -F -d 'client key FILE for mutual TLS'
complete -c pg-backup-api -n "__pg_backup_api_at 'create'" -s h -l help -d 'show help'

# create recovery
complete -c pg-backup-api -n "__pg_backup_api_at 'create recovery'" -s s -l server -x -a '(__pg_backup_api_dynamic servers)' -d 'Barman server NAME'
complete -c pg-backup-api -n "__pg_backup_api_at 'create recovery'" -s b -l backup-id -x -a '(__pg_backup_api_dynamic backups)' -d 'backup ID, a backup name, or latest/last, oldest/first, auto (the newest, or the newest before --target-time or --target-lsn; the default with either)'
complete -c pg-backup-api -n "__pg_backup_api_at 'create recovery'" -l remote-ssh-command -x -d 'SSH COMMAND that reaches the target host, e.g. "ssh postgres@db1"'
complete -c pg-backup-api -n "__pg_backup_api_at 'create recovery'" -s d -l destination-directory -x -d 'absolute DIR on the target host to restore into'
complete -c pg-backup-api -n "__pg_backup_api_at 'create recovery'" -l target-time -x -d 'recover to this TIME, with a zone (RFC 3339, e.g. 2026-01-02T14:02:00+01:00)'
complete -c pg-backup-api -n "__pg_backup_api_at 'create recovery'" -l target-lsn -x -d 'recover to this WAL location LSN (X/X, e.g. 0/3000060)'
complete -c pg-backup-api -n "__pg_backup_api_at 'create recovery'" -l target-xid -x -d 'recover to this transaction XID'
complete -c pg-backup-api -n "__pg_backup_api_at 'create recovery'" -l target-name -x -d 'recover to this restore point NAME (pg_create_restore_point)'
complete -c pg-backup-api -n "__pg_backup_api_at 'create recovery'" -l target-immediate -d 'end recovery as soon as the backup is consistent'
complete -c pg-backup-api -n "__pg_backup_api_at 'create recovery'" -l target-tli -x -a 'current latest' -d 'recover along timeline TLI: a number, current or latest'
complete -c pg-backup-api -n "__pg_backup_api_at 'create recovery'" -l target-action -x -a 'pause shutdown promote' -d 'what PostgreSQL does at the target: ACTION pause, shutdown or promote (needs a target)'
complete -c pg-backup-api -n "__pg_backup_api_at 'create recovery'" -l exclusive -d 'stop just before the target (needs --target-time, --target-lsn or --target-xid)'
complete -c pg-backup-api -n "__pg_backup_api_at 'create recovery'" -l standby-mode -d 'start the restored cluster as a standby'
complete -c pg-backup-api -n "__pg_backup_api_at 'create recovery'" -l get-wal -d 'fetch WAL from Barman with get-wal during recovery (--get-wal=false: do not)'
complete -c pg-backup-api -n "__pg_backup_api_at 'create recovery'" -s j -l jobs -x -d 'copy with N parallel jobs (1-64)'
complete -c pg-backup-api -n "__pg_backup_api_at 'create recovery'" -l bwlimit -x -d 'limit the copy to KBPS kilobytes per second (0: no limit)'
complete -c pg-backup-api -n "__pg_backup_api_at 'create recovery'" -l tablespace -x -d 'relocate tablespace NAME to LOCATION on the target host: NAME:LOCATION, as Barman\'s, once per tablespace (or a JSON object of them, e.g. \'{"tbs1": "/srv/tbs1"}\')'
complete -c pg-backup-api -n "__pg_backup_api_at 'create recovery'" -l delta-restore -d 'copy only what differs from what the destination holds (--delta-restore=false: copy everything)'
complete -c pg-backup-api -n "__pg_backup_api_at 'create recovery'" -l recovery-staging-path -x -d 'stage a compressed backup in DIR on the target host (required to restore one)'
complete -c pg-backup-api -n "__pg_backup_api_at 'create recovery'" -l staging-wal-directory -x -d 'stage WAL files for PITR in DIR on the target host (default: barman_wal in the destination)'
complete -c pg-backup-api -n "__pg_backup_api_at 'create recovery'" -l network-compression -d 'compress the copy over the network (--network-compression=false: do not)'
complete -c pg-backup-api -n "__pg_backup_api_at 'create recovery'" -l retry-times -x -d 'retry a failed copy N times (0: never)'
complete -c pg-backup-api -n "__pg_backup_api_at 'create recovery'" -l retry-sleep -x -d 'wait SECONDS before retrying a failed copy'
complete -c pg-backup-api -n "__pg_backup_api_at 'create recovery'" -l jobs-start-batch-period -x -d 'start each batch of copy jobs over SECONDS'
complete -c pg-backup-api -n "__pg_backup_api_at 'create recovery'" -l jobs-start-batch-size -x -d 'start at most N copy jobs in one batch'
complete -c pg-backup-api -n "__pg_backup_api_at 'create recovery'" -l recovery-conf-filename -r -F -d 'write the recovery settings into FILE of the data directory (PostgreSQL 12 and later; default postgresql.auto.conf)'
complete -c pg-backup-api -n "__pg_backup_api_at 'create recovery'" -l recovery-option-port -x -d 'the PORT barman-wal-restore reaches Barman\'s ssh on, in the restore_command'
complete -c pg-backup-api -n "__pg_backup_api_at 'create recovery'" -l combine-mode -x -a 'copy link clone copy-file-range' -d 'how pg_combinebackup copies an incremental backup\'s files: MODE copy, link, clone or copy-file-range'
complete -c pg-backup-api -n "__pg_backup_api_at 'create recovery'" -l partial-wal -d 'copy .partial WAL files, the suffix stripped, into the restore (with get_wal off; Barman skips them otherwise)'
complete -c pg-backup-api -n "__pg_backup_api_at 'create recovery'" -l skip-archive-wal -d 'do not archive the WAL files waiting in the server\'s incoming and streaming directories before the restore'
complete -c pg-backup-api -n "__pg_backup_api_at 'create recovery'" -s w -l wait -d 'block until the operation ends; exit 0 if DONE, 4 if FAILED'
complete -c pg-backup-api -n "__pg_backup_api_at 'create recovery'" -l dry-run -d 'check everything a create checks and show the operation and Barman\'s command line, recording nothing (remotely: only with a server that offers dry runs)'
complete -c pg-backup-api -n "__pg_backup_api_at 'create recovery'" -s o -l output -x -a 'table plain json' -d 'output FORMAT: table, plain or json (default: table on a terminal, plain when piped)'
complete -c pg-backup-api -n "__pg_backup_api_at 'create recovery'" -l config -r -F -d 'our configuration FILE (TOML; default: the first found of $XDG_CONFIG_HOME/pg-backup-api/config.toml (or ~/.config/pg-backup-api/config.toml) and /etc/pg-backup-api.toml, never merged)'
complete -c pg-backup-api -n "__pg_backup_api_at 'create recovery'" -l barman-config -r -F -d 'Barman\'s configuration FILE (default: barman_config from the config file, else /etc/barman.conf)'
complete -c pg-backup-api -n "__pg_backup_api_at 'create recovery'" -l url -x -d 'work through the pg-backup-api server at URL (e.g. https://barman1:7480) instead of the local store'
complete -c pg-backup-api -n "__pg_backup_api_at 'create recovery'" -s r -l remote -x -a '(__pg_backup_api_dynamic remotes)' -d 'work through the server named NAME in the config file\'s [remotes.NAME]; list, status, backups and inspect take several, NAME,NAME... or all'
complete -c pg-backup-api -n "__pg_backup_api_at 'create recovery'" -l token -x -d 'bearer TOKEN for --url'
complete -c pg-backup-api -n "__pg_backup_api_at 'create recovery'" -l ca-cert -r -F -d 'CA certificate FILE that signed the server\'s certificate'
complete -c pg-backup-api -n "__pg_backup_api_at 'create recovery'" -l client-cert -r -F -d 'client certificate FILE for mutual TLS'
complete -c pg-backup-api -n "__pg_backup_api_at 'create recovery'" -l client-key -r -F -d 'client key FILE for mutual TLS'
complete -c pg-backup-api -n "__pg_backup_api_at 'create recovery'" -s h -l help -d 'show help'

# create backup
complete -c pg-backup-api -n "__pg_backup_api_at 'create backup'" -s s -l server -x -a '(__pg_backup_api_dynamic servers)' -d 'Barman server NAME'
complete -c pg-backup-api -n "__pg_backup_api_at 'create backup'" -s n -l name -x -d 'a backup NAME that recoveries can use in place of its ID (Barman 3.4.1 and later)'
complete -c pg-backup-api -n "__pg_backup_api_at 'create backup'" -l immediate-checkpoint -d 'ask PostgreSQL for an immediate checkpoint rather than a spread one'
complete -c pg-backup-api -n "__pg_backup_api_at 'create backup'" -l incremental -x -d 'take an incremental backup on top of the backup ID (an ID, a name, latest or latest-full; backup_method postgres, PostgreSQL 17)'
complete -c pg-backup-api -n "__pg_backup_api_at 'create backup'" -l reuse-backup -x -a 'off copy link' -d 'reuse the previous backup\'s files: MODE off, copy or link (rsync backups)'
complete -c pg-backup-api -n "__pg_backup_api_at 'create backup'" -s j -l jobs -x -d 'copy with N parallel jobs (1-64; rsync backups)'
complete -c pg-backup-api -n "__pg_backup_api_at 'create backup'" -l bwlimit -x -d 'limit the copy to KBPS kilobytes per second (0: no limit)'
complete -c pg-backup-api -n "__pg_backup_api_at 'create backup'" -l retry-times -x -d 'retry a failed copy N times (0: never)'
complete -c pg-backup-api -n "__pg_backup_api_at 'create backup'" -l retry-sleep -x -d 'wait SECONDS before retrying a failed copy'
complete -c pg-backup-api -n "__pg_backup_api_at 'create backup'" -l wait-timeout -x -d 'wait at most SECONDS for the backup\'s WAL to be archived (0: no limit)'
complete -c pg-backup-api -n "__pg_backup_api_at 'create backup'" -l manifest -d 'write a backup manifest (rsync backups; --manifest=false: do not)'
complete -c pg-backup-api -n "__pg_backup_api_at 'create backup'" -s w -l wait -d 'block until the operation ends; exit 0 if DONE, 4 if FAILED'
complete -c pg-backup-api -n "__pg_backup_api_at 'create backup'" -l dry-run -d 'check everything a create checks and show the operation and Barman\'s command line, recording nothing (remotely: only with a server that offers dry runs)'
complete -c pg-backup-api -n "__pg_backup_api_at 'create backup'" -s o -l output -x -a 'table plain json' -d 'output FORMAT: table, plain or json (default: table on a terminal, plain when piped)'
complete -c pg-backup-api -n "__pg_backup_api_at 'create backup'" -l config -r -F -d 'our configuration FILE (TOML; default: the first found of $XDG_CONFIG_HOME/pg-backup-api/config.toml (or ~/.config/pg-backup-api/config.toml) and /etc/pg-backup-api.toml, never merged)'
complete -c pg-backup-api -n "__pg_backup_api_at 'create backup'" -l barman-config -r -F -d 'Barman\'s configuration FILE (default: barman_config from the config file, else /etc/barman.conf)'
complete -c pg-backup-api -n "__pg_backup_api_at 'create backup'" -l url -x -d 'work through the pg-backup-api server at URL (e.g. https://barman1:7480) instead of the local store'
complete -c pg-backup-api -n "__pg_backup_api_at 'create backup'" -s r -l remote -x -a '(__pg_backup_api_dynamic remotes)' -d 'work through the server named NAME in the config file\'s [remotes.NAME]; list, status, backups and inspect take several, NAME,NAME... or all'
complete -c pg-backup-api -n "__pg_backup_api_at 'create backup'" -l token -x -d 'bearer TOKEN for --url'
complete -c pg-backup-api -n "__pg_backup_api_at 'create backup'" -l ca-cert -r -F -d 'CA certificate FILE that signed the server\'s certificate'
complete -c pg-backup-api -n "__pg_backup_api_at 'create backup'" -l client-cert -r -F -d 'client certificate FILE for mutual TLS'
complete -c pg-backup-api -n "__pg_backup_api_at 'create backup'" -l client-key -r -F -d 'client key FILE for mutual TLS'
complete -c pg-backup-api -n "__pg_backup_api_at 'create backup'" -s h -l help -d 'show help'

# create keep
complete -c pg-backup-api -n "__pg_backup_api_at 'create keep'" -s s -l server -x -a '(__pg_backup_api_dynamic servers)' -d 'Barman server NAME'
complete -c pg-backup-api -n "__pg_backup_api_at 'create keep'" -s b -l backup-id -x -a '(__pg_backup_api_dynamic backups)' -d 'backup ID, a backup name, or latest/last, oldest/first, last-failed'
complete -c pg-backup-api -n "__pg_backup_api_at 'create keep'" -s t -l target -x -a 'full standalone' -d 'keep the backup with this recovery TARGET: full (it and the WAL to recover it to any later point) or standalone (only the WAL it needs to be consistent)'
complete -c pg-backup-api -n "__pg_backup_api_at 'create keep'" -l release -d 'remove the backup\'s keep instead, so that the retention policy applies to it again'
complete -c pg-backup-api -n "__pg_backup_api_at 'create keep'" -s w -l wait -d 'block until the operation ends; exit 0 if DONE, 4 if FAILED'
complete -c pg-backup-api -n "__pg_backup_api_at 'create keep'" -l dry-run -d 'check everything a create checks and show the operation and Barman\'s command line, recording nothing (remotely: only with a server that offers dry runs)'
complete -c pg-backup-api -n "__pg_backup_api_at 'create keep'" -s o -l output -x -a 'table plain json' -d 'output FORMAT: table, plain or json (default: table on a terminal, plain when piped)'
complete -c pg-backup-api -n "__pg_backup_api_at 'create keep'" -l config -r -F -d 'our configuration FILE (TOML; default: the first found of $XDG_CONFIG_HOME/pg-backup-api/config.toml (or ~/.config/pg-backup-api/config.toml) and /etc/pg-backup-api.toml, never merged)'
complete -c pg-backup-api -n "__pg_backup_api_at 'create keep'" -l barman-config -r -F -d 'Barman\'s configuration FILE (default: barman_config from the config file, else /etc/barman.conf)'
complete -c pg-backup-api -n "__pg_backup_api_at 'create keep'" -l url -x -d 'work through the pg-backup-api server at URL (e.g. https://barman1:7480) instead of the local store'
complete -c pg-backup-api -n "__pg_backup_api_at 'create keep'" -s r -l remote -x -a '(__pg_backup_api_dynamic remotes)' -d 'work through the server named NAME in the config file\'s [remotes.NAME]; list, status, backups and inspect take several, NAME,NAME... or all'
complete -c pg-backup-api -n "__pg_backup_api_at 'create keep'" -l token -x -d 'bearer TOKEN for --url'
complete -c pg-backup-api -n "__pg_backup_api_at 'create keep'" -l ca-cert -r -F -d 'CA certificate FILE that signed the server\'s certificate'
complete -c pg-backup-api -n "__pg_backup_api_at 'create keep'" -l client-cert -r -F -d 'client certificate FILE for mutual TLS'
complete -c pg-backup-api -n "__pg_backup_api_at 'create keep'" -l client-key -r -F -d 'client key FILE for mutual TLS'
complete -c pg-backup-api -n "__pg_backup_api_at 'create keep'" -s h -l help -d 'show help'

# create drill
complete -c pg-backup-api -n "__pg_backup_api_at 'create drill'" -s s -l server -x -a '(__pg_backup_api_dynamic servers)' -d 'Barman server NAME'
complete -c pg-backup-api -n "__pg_backup_api_at 'create drill'" -s b -l backup-id -x -a '(__pg_backup_api_dynamic backups)' -d 'backup ID, a backup name, or latest/last, oldest/first (default: the newest DONE backup)'
complete -c pg-backup-api -n "__pg_backup_api_at 'create drill'" -l sql -x -d 'a QUERY that must succeed, or "QUERY => EXPECTED" whose first value must be EXPECTED (the last " => " splits); repeat for more'
complete -c pg-backup-api -n "__pg_backup_api_at 'create drill'" -l database -x -d 'the DB the queries run in (default postgres)'
complete -c pg-backup-api -n "__pg_backup_api_at 'create drill'" -l user -x -d 'the ROLE the queries run as (default postgres)'
complete -c pg-backup-api -n "__pg_backup_api_at 'create drill'" -l timeout -x -d 'stop the drill after DURATION (default: runner.drill_timeout, else 2h)'
complete -c pg-backup-api -n "__pg_backup_api_at 'create drill'" -l target-time -x -d 'recover to this TIME, with a zone (RFC 3339, e.g. 2026-01-02T14:02:00+01:00)'
complete -c pg-backup-api -n "__pg_backup_api_at 'create drill'" -l target-lsn -x -d 'recover to this WAL location LSN (X/X, e.g. 0/3000060)'
complete -c pg-backup-api -n "__pg_backup_api_at 'create drill'" -l target-xid -x -d 'recover to this transaction XID'
complete -c pg-backup-api -n "__pg_backup_api_at 'create drill'" -l target-name -x -d 'recover to this restore point NAME (pg_create_restore_point)'
complete -c pg-backup-api -n "__pg_backup_api_at 'create drill'" -l target-immediate -d 'end recovery as soon as the backup is consistent'
complete -c pg-backup-api -n "__pg_backup_api_at 'create drill'" -l target-tli -x -a 'current latest' -d 'recover along timeline TLI: a number, current or latest'
complete -c pg-backup-api -n "__pg_backup_api_at 'create drill'" -l target-action -x -a 'promote' -d 'what PostgreSQL does at the target: ACTION promote only, which a drill with a target gives anyway (needs a target)'
complete -c pg-backup-api -n "__pg_backup_api_at 'create drill'" -l exclusive -d 'stop just before the target (needs --target-time, --target-lsn or --target-xid)'
complete -c pg-backup-api -n "__pg_backup_api_at 'create drill'" -s j -l jobs -x -d 'copy with N parallel jobs (1-64)'
complete -c pg-backup-api -n "__pg_backup_api_at 'create drill'" -s w -l wait -d 'block until the operation ends; exit 0 if DONE, 4 if FAILED'
complete -c pg-backup-api -n "__pg_backup_api_at 'create drill'" -l dry-run -d 'check everything a create checks and show the operation and Barman\'s command line, recording nothing (remotely: only with a server that offers dry runs)'
complete -c pg-backup-api -n "__pg_backup_api_at 'create drill'" -s o -l output -x -a 'table plain json' -d 'output FORMAT: table, plain or json (default: table on a terminal, plain when piped)'
complete -c pg-backup-api -n "__pg_backup_api_at 'create drill'" -l config -r -F -d 'our configuration FILE (TOML; default: the first found of $XDG_CONFIG_HOME/pg-backup-api/config.toml (or ~/.config/pg-backup-api/config.toml) and /etc/pg-backup-api.toml, never merged)'
complete -c pg-backup-api -n "__pg_backup_api_at 'create drill'" -l barman-config -r -F -d 'Barman\'s configuration FILE (default: barman_config from the config file, else /etc/barman.conf)'
complete -c pg-backup-api -n "__pg_backup_api_at 'create drill'" -l url -x -d 'work through the pg-backup-api server at URL (e.g. https://barman1:7480) instead of the local store'
complete -c pg-backup-api -n "__pg_backup_api_at 'create drill'" -s r -l remote -x -a '(__pg_backup_api_dynamic remotes)' -d 'work through the server named NAME in the config file\'s [remotes.NAME]; list, status, backups and inspect take several, NAME,NAME... or all'
complete -c pg-backup-api -n "__pg_backup_api_at 'create drill'" -l token -x -d 'bearer TOKEN for --url'
complete -c pg-backup-api -n "__pg_backup_api_at 'create drill'" -l ca-cert -r -F -d 'CA certificate FILE that signed the server\'s certificate'
complete -c pg-backup-api -n "__pg_backup_api_at 'create drill'" -l client-cert -r -F -d 'client certificate FILE for mutual TLS'
complete -c pg-backup-api -n "__pg_backup_api_at 'create drill'" -l client-key -r -F -d 'client key FILE for mutual TLS'
complete -c pg-backup-api -n "__pg_backup_api_at 'create drill'" -s h -l help -d 'show help'

# create delete
complete -c pg-backup-api -n "__pg_backup_api_at 'create delete'" -s s -l server -x -a '(__pg_backup_api_dynamic servers)' -d 'Barman server NAME'
complete -c pg-backup-api -n "__pg_backup_api_at 'create delete'" -s b -l backup-id -x -a '(__pg_backup_api_dynamic backups)' -d 'backup ID, a backup name, or latest/last, oldest/first, last-failed'
complete -c pg-backup-api -n "__pg_backup_api_at 'create delete'" -s w -l wait -d 'block until the operation ends; exit 0 if DONE, 4 if FAILED'
complete -c pg-backup-api -n "__pg_backup_api_at 'create delete'" -l dry-run -d 'check everything a create checks and show the operation and Barman\'s command line, recording nothing (remotely: only with a server that offers dry runs)'
complete -c pg-backup-api -n "__pg_backup_api_at 'create delete'" -s o -l output -x -a 'table plain json' -d 'output FORMAT: table, plain or json (default: table on a terminal, plain when piped)'
complete -c pg-backup-api -n "__pg_backup_api_at 'create delete'" -l config -r -F -d 'our configuration FILE (TOML; default: the first found of $XDG_CONFIG_HOME/pg-backup-api/config.toml (or ~/.config/pg-backup-api/config.toml) and /etc/pg-backup-api.toml, never merged)'
complete -c pg-backup-api -n "__pg_backup_api_at 'create delete'" -l barman-config -r -F -d 'Barman\'s configuration FILE (default: barman_config from the config file, else /etc/barman.conf)'
complete -c pg-backup-api -n "__pg_backup_api_at 'create delete'" -l url -x -d 'work through the pg-backup-api server at URL (e.g. https://barman1:7480) instead of the local store'
complete -c pg-backup-api -n "__pg_backup_api_at 'create delete'" -s r -l remote -x -a '(__pg_backup_api_dynamic remotes)' -d 'work through the server named NAME in the config file\'s [remotes.NAME]; list, status, backups and inspect take several, NAME,NAME... or all'
complete -c pg-backup-api -n "__pg_backup_api_at 'create delete'" -l token -x -d 'bearer TOKEN for --url'
complete -c pg-backup-api -n "__pg_backup_api_at 'create delete'" -l ca-cert -r -F -d 'CA certificate FILE that signed the server\'s certificate'
complete -c pg-backup-api -n "__pg_backup_api_at 'create delete'" -l client-cert -r -F -d 'client certificate FILE for mutual TLS'
complete -c pg-backup-api -n "__pg_backup_api_at 'create delete'" -l client-key -r -F -d 'client key FILE for mutual TLS'
complete -c pg-backup-api -n "__pg_backup_api_at 'create delete'" -s h -l help -d 'show help'

# create config-switch
complete -c pg-backup-api -n "__pg_backup_api_at 'create config-switch'" -s s -l server -x -a '(__pg_backup_api_dynamic servers)' -d 'Barman server NAME'
complete -c pg-backup-api -n "__pg_backup_api_at 'create config-switch'" -s m -l model-name -x -a '(__pg_backup_api_dynamic models)' -d 'MODEL to apply'
complete -c pg-backup-api -n "__pg_backup_api_at 'create config-switch'" -l reset -d 'remove the server\'s active model'
complete -c pg-backup-api -n "__pg_backup_api_at 'create config-switch'" -s w -l wait -d 'block until the operation ends; exit 0 if DONE, 4 if FAILED'
complete -c pg-backup-api -n "__pg_backup_api_at 'create config-switch'" -l dry-run -d 'check everything a create checks and show the operation and Barman\'s command line, recording nothing (remotely: only with a server that offers dry runs)'
complete -c pg-backup-api -n "__pg_backup_api_at 'create config-switch'" -s o -l output -x -a 'table plain json' -d 'output FORMAT: table, plain or json (default: table on a terminal, plain when piped)'
complete -c pg-backup-api -n "__pg_backup_api_at 'create config-switch'" -l config -r -F -d 'our configuration FILE (TOML; default: the first found of $XDG_CONFIG_HOME/pg-backup-api/config.toml (or ~/.config/pg-backup-api/config.toml) and /etc/pg-backup-api.toml, never merged)'
complete -c pg-backup-api -n "__pg_backup_api_at 'create config-switch'" -l barman-config -r -F -d 'Barman\'s configuration FILE (default: barman_config from the config file, else /etc/barman.conf)'
complete -c pg-backup-api -n "__pg_backup_api_at 'create config-switch'" -l url -x -d 'work through the pg-backup-api server at URL (e.g. https://barman1:7480) instead of the local store'
complete -c pg-backup-api -n "__pg_backup_api_at 'create config-switch'" -s r -l remote -x -a '(__pg_backup_api_dynamic remotes)' -d 'work through the server named NAME in the config file\'s [remotes.NAME]; list, status, backups and inspect take several, NAME,NAME... or all'
complete -c pg-backup-api -n "__pg_backup_api_at 'create config-switch'" -l token -x -d 'bearer TOKEN for --url'
complete -c pg-backup-api -n "__pg_backup_api_at 'create config-switch'" -l ca-cert -r -F -d 'CA certificate FILE that signed the server\'s certificate'
complete -c pg-backup-api -n "__pg_backup_api_at 'create config-switch'" -l client-cert -r -F -d 'client certificate FILE for mutual TLS'
complete -c pg-backup-api -n "__pg_backup_api_at 'create config-switch'" -l client-key -r -F -d 'client key FILE for mutual TLS'
complete -c pg-backup-api -n "__pg_backup_api_at 'create config-switch'" -s h -l help -d 'show help'

# create config-update
complete -c pg-backup-api -n "__pg_backup_api_at 'create config-update'" -s c -l changes -x -d 'the changes as a JSON array'
complete -c pg-backup-api -n "__pg_backup_api_at 'create config-update'" -s f -l changes-file -r -F -d 'read the changes from FILE, or - for standard input'
complete -c pg-backup-api -n "__pg_backup_api_at 'create config-update'" -s w -l wait -d 'block until the operation ends; exit 0 if DONE, 4 if FAILED'
complete -c pg-backup-api -n "__pg_backup_api_at 'create config-update'" -l dry-run -d 'check everything a create checks and show the operation and Barman\'s command line, recording nothing (remotely: only with a server that offers dry runs)'
complete -c pg-backup-api -n "__pg_backup_api_at 'create config-update'" -s o -l output -x -a 'table plain json' -d 'output FORMAT: table, plain or json (default: table on a terminal, plain when piped)'
complete -c pg-backup-api -n "__pg_backup_api_at 'create config-update'" -l config -r -F -d 'our configuration FILE (TOML; default: the first found of $XDG_CONFIG_HOME/pg-backup-api/config.toml (or ~/.config/pg-backup-api/config.toml) and /etc/pg-backup-api.toml, never merged)'
complete -c pg-backup-api -n "__pg_backup_api_at 'create config-update'" -l barman-config -r -F -d 'Barman\'s configuration FILE (default: barman_config from the config file, else /etc/barman.conf)'
complete -c pg-backup-api -n "__pg_backup_api_at 'create config-update'" -l url -x -d 'work through the pg-backup-api server at URL (e.g. https://barman1:7480) instead of the local store'
complete -c pg-backup-api -n "__pg_backup_api_at 'create config-update'" -s r -l remote -x -a '(__pg_backup_api_dynamic remotes)' -d 'work through the server named NAME in the config file\'s [remotes.NAME]; list, status, backups and inspect take several, NAME,NAME... or all'
complete -c pg-backup-api -n "__pg_backup_api_at 'create config-update'" -l token -x -d 'bearer TOKEN for --url'
complete -c pg-backup-api -n "__pg_backup_api_at 'create config-update'" -l ca-cert -r -F -d 'CA certificate FILE that signed the server\'s certificate'
complete -c pg-backup-api -n "__pg_backup_api_at 'create config-update'" -l client-cert -r -F -d 'client certificate FILE for mutual TLS'
complete -c pg-backup-api -n "__pg_backup_api_at 'create config-update'" -l client-key -r -F -d 'client key FILE for mutual TLS'
complete -c pg-backup-api -n "__pg_backup_api_at 'create config-update'" -s h -l help -d 'show help'

# list
complete -c pg-backup-api -n "__pg_backup_api_at 'list'" -s s -l server -x -a '(__pg_backup_api_dynamic servers)' -d 'only the operations of server NAME'
complete -c pg-backup-api -n "__pg_backup_api_at 'list'" -l instance -d 'only instance operations (config_update)'
complete -c pg-backup-api -n "__pg_backup_api_at 'list'" -s a -l all -d 'every scope (the default)'
complete -c pg-backup-api -n "__pg_backup_api_at 'list'" -s t -l type -x -a 'recovery config_switch config_update backup keep delete drill' -d 'only operations of TYPE (recovery, config_switch, config_update, backup, keep, delete, drill; repeatable)'
complete -c pg-backup-api -n "__pg_backup_api_at 'list'" -l status -x -a 'DONE FAILED IN_PROGRESS queued running lost cancelled timeout' -d 'only operations in STATUS (DONE, FAILED, IN_PROGRESS, or a phase such as queued, running, lost, cancelled, timeout; repeatable)'
complete -c pg-backup-api -n "__pg_backup_api_at 'list'" -l since -x -d 'only operations started within AGE (e.g. 90m, 24h, 7d) or since a date (2026-11-25, 2026-11-25T08:00)'
complete -c pg-backup-api -n "__pg_backup_api_at 'list'" -s n -l limit -x -d 'at most N operations, the newest'
complete -c pg-backup-api -n "__pg_backup_api_at 'list'" -l before -x -d 'only operations older than operation ID (the oldest one of the previous page, to walk a long list in pages with --limit)'
complete -c pg-backup-api -n "__pg_backup_api_at 'list'" -s o -l output -x -a 'table plain json' -d 'output FORMAT: table, plain or json (default: table on a terminal, plain when piped)'
complete -c pg-backup-api -n "__pg_backup_api_at 'list'" -l config -r -F -d 'our configuration FILE (TOML; default: the first found of $XDG_CONFIG_HOME/pg-backup-api/config.toml (or ~/.config/pg-backup-api/config.toml) and /etc/pg-backup-api.toml, never merged)'
complete -c pg-backup-api -n "__pg_backup_api_at 'list'" -l barman-config -r -F -d 'Barman\'s configuration FILE (default: barman_config from the config file, else /etc/barman.conf)'
complete -c pg-backup-api -n "__pg_backup_api_at 'list'" -l url -x -d 'work through the pg-backup-api server at URL (e.g. https://barman1:7480) instead of the local store'
complete -c pg-backup-api -n "__pg_backup_api_at 'list'" -s r -l remote -x -a '(__pg_backup_api_dynamic remotes)' -d 'work through the server named NAME in the config file\'s [remotes.NAME]; list, status, backups and inspect take several, NAME,NAME... or all'
complete -c pg-backup-api -n "__pg_backup_api_at 'list'" -l token -x -d 'bearer TOKEN for --url'
complete -c pg-backup-api -n "__pg_backup_api_at 'list'" -l ca-cert -r -F -d 'CA certificate FILE that signed the server\'s certificate'
complete -c pg-backup-api -n "__pg_backup_api_at 'list'" -l client-cert -r -F -d 'client certificate FILE for mutual TLS'
complete -c pg-backup-api -n "__pg_backup_api_at 'list'" -l client-key -r -F -d 'client key FILE for mutual TLS'
complete -c pg-backup-api -n "__pg_backup_api_at 'list'" -s h -l help -d 'show help'

# inspect
complete -c pg-backup-api -n "__pg_backup_api_at 'inspect'" -s s -l server -x -a '(__pg_backup_api_dynamic servers)' -d 'the operation belongs to server NAME (as SERVER/ID does)'
complete -c pg-backup-api -n "__pg_backup_api_at 'inspect'" -l instance -d 'the operation is an instance operation'
complete -c pg-backup-api -n "__pg_backup_api_at 'inspect'" -s f -l follow -d 'then stream Barman\'s output until the operation ends (like logs -f)'
complete -c pg-backup-api -n "__pg_backup_api_at 'inspect'" -s o -l output -x -a 'table plain json' -d 'output FORMAT: table, plain or json (default: table on a terminal, plain when piped)'
complete -c pg-backup-api -n "__pg_backup_api_at 'inspect'" -l config -r -F -d 'our configuration FILE (TOML; default: the first found of $XDG_CONFIG_HOME/pg-backup-api/config.toml (or ~/.config/pg-backup-api/config.toml) and /etc/pg-backup-api.toml, never merged)'
complete -c pg-backup-api -n "__pg_backup_api_at 'inspect'" -l barman-config -r -F -d 'Barman\'s configuration FILE (default: barman_config from the config file, else /etc/barman.conf)'
complete -c pg-backup-api -n "__pg_backup_api_at 'inspect'" -l url -x -d 'work through the pg-backup-api server at URL (e.g. https://barman1:7480) instead of the local store'
complete -c pg-backup-api -n "__pg_backup_api_at 'inspect'" -s r -l remote -x -a '(__pg_backup_api_dynamic remotes)' -d 'work through the server named NAME in the config file\'s [remotes.NAME]; list, status, backups and inspect take several, NAME,NAME... or all'
complete -c pg-backup-api -n "__pg_backup_api_at 'inspect'" -l token -x -d 'bearer TOKEN for --url'
complete -c pg-backup-api -n "__pg_backup_api_at 'inspect'" -l ca-cert -r -F -d 'CA certificate FILE that signed the server\'s certificate'
complete -c pg-backup-api -n "__pg_backup_api_at 'inspect'" -l client-cert -r -F -d 'client certificate FILE for mutual TLS'
complete -c pg-backup-api -n "__pg_backup_api_at 'inspect'" -l client-key -r -F -d 'client key FILE for mutual TLS'
complete -c pg-backup-api -n "__pg_backup_api_at 'inspect'" -s h -l help -d 'show help'
complete -c pg-backup-api -n "__pg_backup_api_at 'inspect'" -a '(__pg_backup_api_dynamic operations)'

# backups
complete -c pg-backup-api -n "__pg_backup_api_at 'backups'" -a 'show' -d 'show one backup: by ID, by name, or latest, oldest, last-failed'
complete -c pg-backup-api -n "__pg_backup_api_at 'backups'" -s s -l server -x -a '(__pg_backup_api_dynamic servers)' -d 'the Barman server NAME (required)'
complete -c pg-backup-api -n "__pg_backup_api_at 'backups'" -s o -l output -x -a 'table plain json' -d 'output FORMAT: table, plain or json (default: table on a terminal, plain when piped)'
complete -c pg-backup-api -n "__pg_backup_api_at 'backups'" -l config -r -F -d 'our configuration FILE (TOML; default: the first found of $XDG_CONFIG_HOME/pg-backup-api/config.toml (or ~/.config/pg-backup-api/config.toml) and /etc/pg-backup-api.toml, never merged)'
complete -c pg-backup-api -n "__pg_backup_api_at 'backups'" -l barman-config -r -F -d 'Barman\'s configuration FILE (default: barman_config from the config file, else /etc/barman.conf)'
complete -c pg-backup-api -n "__pg_backup_api_at 'backups'" -l url -x -d 'work through the pg-backup-api server at URL (e.g. https://barman1:7480) instead of the local store'
complete -c pg-backup-api -n "__pg_backup_api_at 'backups'" -s r -l remote -x -a '(__pg_backup_api_dynamic remotes)' -d 'work through the server named NAME in the config file\'s [remotes.NAME]; list, status, backups and inspect take several, NAME,NAME... or all'
complete -c pg-backup-api -n "__pg_backup_api_at 'backups'" -l token -x -d 'bearer TOKEN for --url'
complete -c pg-backup-api -n "__pg_backup_api_at 'backups'" -l ca-cert -r -F -d 'CA certificate FILE that signed the server\'s certificate'
complete -c pg-backup-api -n "__pg_backup_api_at 'backups'" -l client-cert -r -F -d 'client certificate FILE for mutual TLS'
complete -c pg-backup-api -n "__pg_backup_api_at 'backups'" -l client-key -r -F -d 'client key FILE for mutual TLS'
complete -c pg-backup-api -n "__pg_backup_api_at 'backups'" -s h -l help -d 'show help'

# backups show
complete -c pg-backup-api -n "__pg_backup_api_at 'backups show'" -s s -l server -x -a '(__pg_backup_api_dynamic servers)' -d 'the Barman server NAME (required)'
complete -c pg-backup-api -n "__pg_backup_api_at 'backups show'" -s o -l output -x -a 'table plain json' -d 'output FORMAT: table, plain or json (default: table on a terminal, plain when piped)'
complete -c pg-backup-api -n "__pg_backup_api_at 'backups show'" -l config -r -F -d 'our configuration FILE (TOML; default: the first found of $XDG_CONFIG_HOME/pg-backup-api/config.toml (or ~/.config/pg-backup-api/config.toml) and /etc/pg-backup-api.toml, never merged)'
complete -c pg-backup-api -n "__pg_backup_api_at 'backups show'" -l barman-config -r -F -d 'Barman\'s configuration FILE (default: barman_config from the config file, else /etc/barman.conf)'
complete -c pg-backup-api -n "__pg_backup_api_at 'backups show'" -l url -x -d 'work through the pg-backup-api server at URL (e.g. https://barman1:7480) instead of the local store'
complete -c pg-backup-api -n "__pg_backup_api_at 'backups show'" -s r -l remote -x -a '(__pg_backup_api_dynamic remotes)' -d 'work through the server named NAME in the config file\'s [remotes.NAME]; list, status, backups and inspect take several, NAME,NAME... or all'
complete -c pg-backup-api -n "__pg_backup_api_at 'backups show'" -l token -x -d 'bearer TOKEN for --url'
complete -c pg-backup-api -n "__pg_backup_api_at 'backups show'" -l ca-cert -r -F -d 'CA certificate FILE that signed the server\'s certificate'
complete -c pg-backup-api -n "__pg_backup_api_at 'backups show'" -l client-cert -r -F -d 'client certificate FILE for mutual TLS'
complete -c pg-backup-api -n "__pg_backup_api_at 'backups show'" -l client-key -r -F -d 'client key FILE for mutual TLS'
complete -c pg-backup-api -n "__pg_backup_api_at 'backups show'" -s h -l help -d 'show help'
complete -c pg-backup-api -n "__pg_backup_api_at 'backups show'" -a '(__pg_backup_api_dynamic backups)'

# cancel
complete -c pg-backup-api -n "__pg_backup_api_at 'cancel'" -s s -l server -x -a '(__pg_backup_api_dynamic servers)' -d 'the operation belongs to server NAME (as SERVER/ID does)'
complete -c pg-backup-api -n "__pg_backup_api_at 'cancel'" -l instance -d 'the operation is an instance operation'
complete -c pg-backup-api -n "__pg_backup_api_at 'cancel'" -s w -l wait -d 'wait until the operation has ended'
complete -c pg-backup-api -n "__pg_backup_api_at 'cancel'" -s o -l output -x -a 'table plain json' -d 'output FORMAT: table, plain or json (default: table on a terminal, plain when piped)'
complete -c pg-backup-api -n "__pg_backup_api_at 'cancel'" -l config -r -F -d 'our configuration FILE (TOML; default: the first found of $XDG_CONFIG_HOME/pg-backup-api/config.toml (or ~/.config/pg-backup-api/config.toml) and /etc/pg-backup-api.toml, never merged)'
complete -c pg-backup-api -n "__pg_backup_api_at 'cancel'" -l barman-config -r -F -d 'Barman\'s configuration FILE (default: barman_config from the config file, else /etc/barman.conf)'
complete -c pg-backup-api -n "__pg_backup_api_at 'cancel'" -l url -x -d 'work through the pg-backup-api server at URL (e.g. https://barman1:7480) instead of the local store'
complete -c pg-backup-api -n "__pg_backup_api_at 'cancel'" -s r -l remote -x -a '(__pg_backup_api_dynamic remotes)' -d 'work through the server named NAME in the config file\'s [remotes.NAME]; list, status, backups and inspect take several, NAME,NAME... or all'
complete -c pg-backup-api -n "__pg_backup_api_at 'cancel'" -l token -x -d 'bearer TOKEN for --url'
complete -c pg-backup-api -n "__pg_backup_api_at 'cancel'" -l ca-cert -r -F -d 'CA certificate FILE that signed the server\'s certificate'
complete -c pg-backup-api -n "__pg_backup_api_at 'cancel'" -l client-cert -r -F -d 'client certificate FILE for mutual TLS'
complete -c pg-backup-api -n "__pg_backup_api_at 'cancel'" -l client-key -r -F -d 'client key FILE for mutual TLS'
complete -c pg-backup-api -n "__pg_backup_api_at 'cancel'" -s h -l help -d 'show help'
complete -c pg-backup-api -n "__pg_backup_api_at 'cancel'" -a '(__pg_backup_api_dynamic operations)'

# wait
complete -c pg-backup-api -n "__pg_backup_api_at 'wait'" -s s -l server -x -a '(__pg_backup_api_dynamic servers)' -d 'the operation belongs to server NAME (as SERVER/ID does)'
complete -c pg-backup-api -n "__pg_backup_api_at 'wait'" -l instance -d 'the operation is an instance operation'
complete -c pg-backup-api -n "__pg_backup_api_at 'wait'" -s o -l output -x -a 'table plain json' -d 'output FORMAT: table, plain or json (default: table on a terminal, plain when piped)'
complete -c pg-backup-api -n "__pg_backup_api_at 'wait'" -l timeout -x -d 'give up waiting after DURATION (e.g. 90s, 30m) and exit 124; the operation goes on (default: wait as long as it runs)'
complete -c pg-backup-api -n "__pg_backup_api_at 'wait'" -l config -r -F -d 'our configuration FILE (TOML; default: the first found of $XDG_CONFIG_HOME/pg-backup-api/config.toml (or ~/.config/pg-backup-api/config.toml) and /etc/pg-backup-api.toml, never merged)'
complete -c pg-backup-api -n "__pg_backup_api_at 'wait'" -l barman-config -r -F -d 'Barman\'s configuration FILE (default: barman_config from the config file, else /etc/barman.conf)'
complete -c pg-backup-api -n "__pg_backup_api_at 'wait'" -l url -x -d 'work through the pg-backup-api server at URL (e.g. https://barman1:7480) instead of the local store'
complete -c pg-backup-api -n "__pg_backup_api_at 'wait'" -s r -l remote -x -a '(__pg_backup_api_dynamic remotes)' -d 'work through the server named NAME in the config file\'s [remotes.NAME]; list, status, backups and inspect take several, NAME,NAME... or all'
complete -c pg-backup-api -n "__pg_backup_api_at 'wait'" -l token -x -d 'bearer TOKEN for --url'
complete -c pg-backup-api -n "__pg_backup_api_at 'wait'" -l ca-cert -r -F -d 'CA certificate FILE that signed the server\'s certificate'
complete -c pg-backup-api -n "__pg_backup_api_at 'wait'" -l client-cert -r -F -d 'client certificate FILE for mutual TLS'
complete -c pg-backup-api -n "__pg_backup_api_at 'wait'" -l client-key -r -F -d 'client key FILE for mutual TLS'
complete -c pg-backup-api -n "__pg_backup_api_at 'wait'" -s h -l help -d 'show help'
complete -c pg-backup-api -n "__pg_backup_api_at 'wait'" -a '(__pg_backup_api_dynamic operations)'

# logs
complete -c pg-backup-api -n "__pg_backup_api_at 'logs'" -s s -l server -x -a '(__pg_backup_api_dynamic servers)' -d 'the operation belongs to server NAME (as SERVER/ID does)'
complete -c pg-backup-api -n "__pg_backup_api_at 'logs'" -l instance -d 'the operation is an instance operation'
complete -c pg-backup-api -n "__pg_backup_api_at 'logs'" -s f -l follow -d 'stream the output as Barman writes it, until the operation ends'
complete -c pg-backup-api -n "__pg_backup_api_at 'logs'" -l config -r -F -d 'our configuration FILE (TOML; default: the first found of $XDG_CONFIG_HOME/pg-backup-api/config.toml (or ~/.config/pg-backup-api/config.toml) and /etc/pg-backup-api.toml, never merged)'
complete -c pg-backup-api -n "__pg_backup_api_at 'logs'" -l barman-config -r -F -d 'Barman\'s configuration FILE (default: barman_config from the config file, else /etc/barman.conf)'
complete -c pg-backup-api -n "__pg_backup_api_at 'logs'" -l url -x -d 'work through the pg-backup-api server at URL (e.g. https://barman1:7480) instead of the local store'
complete -c pg-backup-api -n "__pg_backup_api_at 'logs'" -s r -l remote -x -a '(__pg_backup_api_dynamic remotes)' -d 'work through the server named NAME in the config file\'s [remotes.NAME]; list, status, backups and inspect take several, NAME,NAME... or all'
complete -c pg-backup-api -n "__pg_backup_api_at 'logs'" -l token -x -d 'bearer TOKEN for --url'
complete -c pg-backup-api -n "__pg_backup_api_at 'logs'" -l ca-cert -r -F -d 'CA certificate FILE that signed the server\'s certificate'
complete -c pg-backup-api -n "__pg_backup_api_at 'logs'" -l client-cert -r -F -d 'client certificate FILE for mutual TLS'
complete -c pg-backup-api -n "__pg_backup_api_at 'logs'" -l client-key -r -F -d 'client key FILE for mutual TLS'
complete -c pg-backup-api -n "__pg_backup_api_at 'logs'" -s h -l help -d 'show help'
complete -c pg-backup-api -n "__pg_backup_api_at 'logs'" -a '(__pg_backup_api_dynamic operations)'

# prune
complete -c pg-backup-api -n "__pg_backup_api_at 'prune'" -l older-than -x -d 'AGE such as 30d, 72h or 90m'
complete -c pg-backup-api -n "__pg_backup_api_at 'prune'" -l dry-run -d 'list what would be removed, remove nothing'
complete -c pg-backup-api -n "__pg_backup_api_at 'prune'" -s s -l server -x -a '(__pg_backup_api_dynamic servers)' -d 'only the operations of server NAME'
complete -c pg-backup-api -n "__pg_backup_api_at 'prune'" -l instance -d 'only instance operations'
complete -c pg-backup-api -n "__pg_backup_api_at 'prune'" -s o -l output -x -a 'table plain json' -d 'output FORMAT: table, plain or json (default: table on a terminal, plain when piped)'
complete -c pg-backup-api -n "__pg_backup_api_at 'prune'" -l config -r -F -d 'our configuration FILE (TOML; default: the first found of $XDG_CONFIG_HOME/pg-backup-api/config.toml (or ~/.config/pg-backup-api/config.toml) and /etc/pg-backup-api.toml, never merged)'
complete -c pg-backup-api -n "__pg_backup_api_at 'prune'" -l barman-config -r -F -d 'Barman\'s configuration FILE (default: barman_config from the config file, else /etc/barman.conf)'
complete -c pg-backup-api -n "__pg_backup_api_at 'prune'" -s h -l help -d 'show help'

# serve
complete -c pg-backup-api -n "__pg_backup_api_at 'serve'" -s l -l listen -x -d 'ADDR to listen on (default: serve.listen from the config file, else 127.0.0.1:7480)'
complete -c pg-backup-api -n "__pg_backup_api_at 'serve'" -l port -x -d 'listen on 127.0.0.1:N, as the reference implementation\'s --port'
complete -c pg-backup-api -n "__pg_backup_api_at 'serve'" -l max-body-bytes -x -d 'largest accepted request body in BYTES (default: serve.max_body_bytes, else 1 MiB)'
complete -c pg-backup-api -n "__pg_backup_api_at 'serve'" -l log-format -x -a 'text json' -d 'FORMAT of the log on standard error, and of the runners\' runner.err: text or json, one object per line (default: serve.log_format, else text)'
complete -c pg-backup-api -n "__pg_backup_api_at 'serve'" -l insecure -d 'allow listening on a non-loopback address with no authentication (tokens or client_ca) configured, and accept bearer tokens over plain HTTP from clients not on loopback'
complete -c pg-backup-api -n "__pg_backup_api_at 'serve'" -l config -r -F -d 'our configuration FILE (TOML; default: the first found of $XDG_CONFIG_HOME/pg-backup-api/config.toml (or ~/.config/pg-backup-api/config.toml) and /etc/pg-backup-api.toml, never merged)'
complete -c pg-backup-api -n "__pg_backup_api_at 'serve'" -l barman-config -r -F -d 'Barman\'s configuration FILE (default: barman_config from the config file, else /etc/barman.conf)'
complete -c pg-backup-api -n "__pg_backup_api_at 'serve'" -s h -l help -d 'show help'

# status
complete -c pg-backup-api -n "__pg_backup_api_at 'status'" -l port -x -d 'check port N on 127.0.0.1 (HTTPS when serve.tls_cert is set)'
complete -c pg-backup-api -n "__pg_backup_api_at 'status'" -l url -x -d 'check the server at URL (default: serve.listen of the config file, else http://127.0.0.1:7480)'
complete -c pg-backup-api -n "__pg_backup_api_at 'status'" -l timeout -x -d 'give up after DURATION (with several remotes: on each)'
complete -c pg-backup-api -n "__pg_backup_api_at 'status'" -s o -l output -x -a 'table plain json' -d 'output FORMAT: table, plain or json (default: table on a terminal, plain when piped)'
complete -c pg-backup-api -n "__pg_backup_api_at 'status'" -s r -l remote -x -a '(__pg_backup_api_dynamic remotes)' -d 'work through the server named NAME in the config file\'s [remotes.NAME]; list, status, backups and inspect take several, NAME,NAME... or all'
complete -c pg-backup-api -n "__pg_backup_api_at 'status'" -l token -x -d 'bearer TOKEN for --url'
complete -c pg-backup-api -n "__pg_backup_api_at 'status'" -l ca-cert -r -F -d 'CA certificate FILE that signed the server\'s certificate'
complete -c pg-backup-api -n "__pg_backup_api_at 'status'" -l client-cert -r -F -d 'client certificate FILE for mutual TLS'
complete -c pg-backup-api -n "__pg_backup_api_at 'status'" -l client-key -r -F -d 'client key FILE for mutual TLS'
complete -c pg-backup-api -n "__pg_backup_api_at 'status'" -l config -r -F -d 'our configuration FILE (TOML; default: the first found of $XDG_CONFIG_HOME/pg-backup-api/config.toml (or ~/.config/pg-backup-api/config.toml) and /etc/pg-backup-api.toml, never merged)'
complete -c pg-backup-api -n "__pg_backup_api_at 'status'" -s h -l help -d 'show help'

# doctor
complete -c pg-backup-api -n "__pg_backup_api_at 'doctor'" -l config -r -F -d 'our configuration FILE (TOML; default: the first found of $XDG_CONFIG_HOME/pg-backup-api/config.toml (or ~/.config/pg-backup-api/config.toml) and /etc/pg-backup-api.toml, never merged)'
complete -c pg-backup-api -n "__pg_backup_api_at 'doctor'" -l barman-config -r -F -d 'Barman\'s configuration FILE (default: barman_config from the config file, else /etc/barman.conf)'
complete -c pg-backup-api -n "__pg_backup_api_at 'doctor'" -s o -l output -x -a 'table plain json' -d 'output FORMAT: table, plain or json (default: table on a terminal, plain when piped)'
complete -c pg-backup-api -n "__pg_backup_api_at 'doctor'" -s h -l help -d 'show help'

# token
complete -c pg-backup-api -n "__pg_backup_api_at 'token'" -a 'create' -d 'print a new token once, and the lines that make serve accept it'
complete -c pg-backup-api -n "__pg_backup_api_at 'token'" -s h -l help -d 'show help'

# token create
complete -c pg-backup-api -n "__pg_backup_api_at 'token create'" -l permissions -x -d 'what the token may do: a comma-separated LIST of read, recover, configure, delete, admin'
complete -c pg-backup-api -n "__pg_backup_api_at 'token create'" -s h -l help -d 'show help'

# version
complete -c pg-backup-api -n "__pg_backup_api_at 'version'" -s o -l output -x -a 'table plain json' -d 'output FORMAT: table, plain or json (default: table on a terminal, plain when piped)'
complete -c pg-backup-api -n "__pg_backup_api_at 'version'" -s h -l help -d 'show help'

# help
complete -c pg-backup-api -n "__pg_backup_api_at 'help'" -s h -l help -d 'show help'
complete -c pg-backup-api -n "__pg_backup_api_at 'help'" -a 'create list ls inspect show backups cancel wait logs prune serve status doctor token version help h'
