# bash completion for pg-backup-api  -*- shell-script -*-
#
# Generated from the command-line definition by cmd/gen-docs (make docs); do not edit.
# Install as /usr/share/bash-completion/completions/pg-backup-api, or source it.
# Server, model, remote and backup names and operation IDs come from
# `pg-backup-api __complete KIND`, which reads Barman's configuration, its catalog, the
# store and the config file with the global options given on the command line
# being completed.

# _pg_backup_api_sub PATH WORD: prints the command path that WORD leads to from PATH.
_pg_backup_api_sub() {
    case "$1:$2" in
    ':create') echo 'create' ;;
    ':list'|':ls') echo 'list' ;;
    ':inspect'|':show') echo 'inspect' ;;
    ':backups') echo 'backups' ;;
    ':cancel') echo 'cancel' ;;
    ':wait') echo 'wait' ;;
    ':logs') echo 'logs' ;;
    ':prune') echo 'prune' ;;
    ':serve') echo 'serve' ;;
    ':status') echo 'status' ;;
    ':doctor') echo 'doctor' ;;
    ':token') echo 'token' ;;
    ':version') echo 'version' ;;
    ':help'|':h') echo 'help' ;;
    'create:recovery') echo 'create recovery' ;;
    'create:backup') echo 'create backup' ;;
    'create:keep') echo 'create keep' ;;
    'create:drill') echo 'create drill' ;;
    'create:delete') echo 'create delete' ;;
    'create:config-switch') echo 'create config-switch' ;;
    'create:config-update') echo 'create config-update' ;;
    'backups:show') echo 'backups show' ;;
    'token:create') echo 'token create' ;;
    *) return 1 ;;
    esac
}

# _pg_backup_api_valued PATH OPTION: succeeds when OPTION takes a value in PATH.
_pg_backup_api_valued() {
    case "$1:$2" in
    ':--config'|':--barman-config'|':--barman-command'|':--url'|':--remote'|':-r'|':--token'|':--ca-cert'|':--client-cert'|':--client-key'|':--output'|':-o') return 0 ;;
    'create:--payload'|'create:-p'|'create:--server'|'create:-s'|'create:--output'|'create:-o'|'create:--config'|'create:--barman-config'|'create:--url'|'create:--remote'|'create:-r'|'create:--token'|'create:--ca-cert'|'create:--client-cert'|'create:--client-key') return 0 ;;
    'create recovery:--server'|'create recovery:-s'|'create recovery:--backup-id'|'create recovery:-b'|'create recovery:--remote-ssh-command'|'create recovery:--destination-directory'|'create recovery:-d'|'create recovery:--target-time'|'create recovery:--target-lsn'|'create recovery:--target-xid'|'create recovery:--target-name'|'create recovery:--target-tli'|'create recovery:--target-action'|'create recovery:--jobs'|'create recovery:-j'|'create recovery:--bwlimit'|'create recovery:--tablespace'|'create recovery:--recovery-staging-path'|'create recovery:--staging-wal-directory'|'create recovery:--retry-times'|'create recovery:--retry-sleep'|'create recovery:--jobs-start-batch-period'|'create recovery:--jobs-start-batch-size'|'create recovery:--recovery-conf-filename'|'create recovery:--recovery-option-port'|'create recovery:--combine-mode'|'create recovery:--output'|'create recovery:-o'|'create recovery:--config'|'create recovery:--barman-config'|'create recovery:--url'|'create recovery:--remote'|'create recovery:-r'|'create recovery:--token'|'create recovery:--ca-cert'|'create recovery:--client-cert'|'create recovery:--client-key') return 0 ;;
    'create backup:--server'|'create backup:-s'|'create backup:--name'|'create backup:-n'|'create backup:--incremental'|'create backup:--reuse-backup'|'create backup:--jobs'|'create backup:-j'|'create backup:--bwlimit'|'create backup:--retry-times'|'create backup:--retry-sleep'|'create backup:--wait-timeout'|'create backup:--output'|'create backup:-o'|'create backup:--config'|'create backup:--barman-config'|'create backup:--url'|'create backup:--remote'|'create backup:-r'|'create backup:--token'|'create backup:--ca-cert'|'create backup:--client-cert'|'create backup:--client-key') return 0 ;;
    'create keep:--server'|'create keep:-s'|'create keep:--backup-id'|'create keep:-b'|'create keep:--target'|'create keep:-t'|'create keep:--output'|'create keep:-o'|'create keep:--config'|'create keep:--barman-config'|'create keep:--url'|'create keep:--remote'|'create keep:-r'|'create keep:--token'|'create keep:--ca-cert'|'create keep:--client-cert'|'create keep:--client-key') return 0 ;;
    'create drill:--server'|'create drill:-s'|'create drill:--backup-id'|'create drill:-b'|'create drill:--sql'|'create drill:--database'|'create drill:--user'|'create drill:--timeout'|'create drill:--target-time'|'create drill:--target-lsn'|'create drill:--target-xid'|'create drill:--target-name'|'create drill:--target-tli'|'create drill:--target-action'|'create drill:--jobs'|'create drill:-j'|'create drill:--output'|'create drill:-o'|'create drill:--config'|'create drill:--barman-config'|'create drill:--url'|'create drill:--remote'|'create drill:-r'|'create drill:--token'|'create drill:--ca-cert'|'create drill:--client-cert'|'create drill:--client-key') return 0 ;;
    'create delete:--server'|'create delete:-s'|'create delete:--backup-id'|'create delete:-b'|'create delete:--output'|'create delete:-o'|'create delete:--config'|'create delete:--barman-config'|'create delete:--url'|'create delete:--remote'|'create delete:-r'|'create delete:--token'|'create delete:--ca-cert'|'create delete:--client-cert'|'create delete:--client-key') return 0 ;;
    'create config-switch:--server'|'create config-switch:-s'|'create config-switch:--model-name'|'create config-switch:-m'|'create config-switch:--output'|'create config-switch:-o'|'create config-switch:--config'|'create config-switch:--barman-config'|'create config-switch:--url'|'create config-switch:--remote'|'create config-switch:-r'|'create config-switch:--token'|'create config-switch:--ca-cert'|'create config-switch:--client-cert'|'create config-switch:--client-key') return 0 ;;
    'create config-update:--changes'|'create config-update:-c'|'create config-update:--changes-file'|'create config-update:-f'|'create config-update:--output'|'create config-update:-o'|'create config-update:--config'|'create config-update:--barman-config'|'create config-update:--url'|'create config-update:--remote'|'create config-update:-r'|'create config-update:--token'|'create config-update:--ca-cert'|'create config-update:--client-cert'|'create config-update:--client-key') return 0 ;;
    'list:--server'|'list:-s'|'list:--type'|'list:-t'|'list:--status'|'list:--since'|'list:--limit'|'list:-n'|'list:--before'|'list:--output'|'list:-o'|'list:--config'|'list:--barman-config'|'list:--url'|'list:--remote'|'list:-r'|'list:--token'|'list:--ca-cert'|'list:--client-cert'|'list:--client-key') return 0 ;;
    'inspect:--server'|'inspect:-s'|'inspect:--output'|'inspect:-o'|'inspect:--config'|'inspect:--barman-config'|'inspect:--url'|'inspect:--remote'|'inspect:-r'|'inspect:--token'|'inspect:--ca-cert'|'inspect:--client-cert'|'inspect:--client-key') return 0 ;;
    'backups:--server'|'backups:-s'|'backups:--output'|'backups:-o'|'backups:--config'|'backups:--barman-config'|'backups:--url'|'backups:--remote'|'backups:-r'|'backups:--token'|'backups:--ca-cert'|'backups:--client-cert'|'backups:--client-key') return 0 ;;
    'backups show:--server'|'backups show:-s'|'backups show:--output'|'backups show:-o'|'backups show:--config'|'backups show:--barman-config'|'backups show:--url'|'backups show:--remote'|'backups show:-r'|'backups show:--token'|'backups show:--ca-cert'|'backups show:--client-cert'|'backups show:--client-key') return 0 ;;
    'cancel:--server'|'cancel:-s'|'cancel:--output'|'cancel:-o'|'cancel:--config'|'cancel:--barman-config'|'cancel:--url'|'cancel:--remote'|'cancel:-r'|'cancel:--token'|'cancel:--ca-cert'|'cancel:--client-cert'|'cancel:--client-key') return 0 ;;
    'wait:--server'|'wait:-s'|'wait:--output'|'wait:-o'|'wait:--timeout'|'wait:--config'|'wait:--barman-config'|'wait:--url'|'wait:--remote'|'wait:-r'|'wait:--token'|'wait:--ca-cert'|'wait:--client-cert'|'wait:--client-key') return 0 ;;
    'logs:--server'|'logs:-s'|'logs:--config'|'logs:--barman-config'|'logs:--url'|'logs:--remote'|'logs:-r'|'logs:--token'|'logs:--ca-cert'|'logs:--client-cert'|'logs:--client-key') return 0 ;;
    'prune:--older-than'|'prune:--server'|'prune:-s'|'prune:--output'|'prune:-o'|'prune:--config'|'prune:--barman-config') return 0 ;;
    'serve:--listen'|'serve:-l'|'serve:--port'|'serve:--max-body-bytes'|'serve:--log-format'|'serve:--config'|'serve:--barman-config') return 0 ;;
    'status:--port'|'status:--url'|'status:--timeout'|'status:--output'|'status:-o'|'status:--remote'|'status:-r'|'status:--token'|'status:--ca-cert'|'status:--client-cert'|'status:--client-key'|'status:--config') return 0 ;;
    'doctor:--config'|'doctor:--barman-config'|'doctor:--output'|'doctor:-o') return 0 ;;
    'token create:--permissions') return 0 ;;
    'version:--output'|'version:-o') return 0 ;;
    esac
    return 1
}

# _pg_backup_api_spec PATH: sets cmds (subcommands), opts (options) and args (what
# its arguments are: a kind of __complete, commands or nothing).
_pg_backup_api_spec() {
    cmds= opts= args=
    case $1 in
    '')
        cmds='create list ls inspect show backups cancel wait logs prune serve status doctor token version help h'
        opts='--config --barman-config --no-color --require-barman-user --barman-command --url --remote --token --ca-cert --client-cert --client-key --output --help --version'
        ;;
    'create')
        cmds='recovery backup keep drill delete config-switch config-update'
        opts='--payload --server --wait --dry-run --output --config --barman-config --url --remote --token --ca-cert --client-cert --client-key --help'
        ;;
    'create recovery')
        opts='--server --backup-id --remote-ssh-command --destination-directory --target-time --target-lsn --target-xid --target-name --target-immediate --target-tli --target-action --exclusive --standby-mode --get-wal --jobs --bwlimit --tablespace --delta-restore --recovery-staging-path --staging-wal-directory --network-compression --retry-times --retry-sleep --jobs-start-batch-period --jobs-start-batch-size --recovery-conf-filename --recovery-option-port --combine-mode --partial-wal --skip-archive-wal --wait --dry-run --output --config --barman-config --url --remote --token --ca-cert --client-cert --client-key --help'
        ;;
    'create backup')
        opts='--server --name --immediate-checkpoint --incremental --reuse-backup --jobs --bwlimit --retry-times --retry-sleep --wait-timeout --manifest --wait --dry-run --output --config --barman-config --url --remote --token --ca-cert --client-cert --client-key --help'
        ;;
    'create keep')
        opts='--server --backup-id --target --release --wait --dry-run --output --config --barman-config --url --remote --token --ca-cert --client-cert --client-key --help'
        ;;
    'create drill')
        opts='--server --backup-id --sql --database --user --timeout --target-time --target-lsn --target-xid --target-name --target-immediate --target-tli --target-action --exclusive --jobs --wait --dry-run --output --config --barman-config --url --remote --token --ca-cert --client-cert --client-key --help'
        ;;
    'create delete')
        opts='--server --backup-id --wait --dry-run --output --config --barman-config --url --remote --token --ca-cert --client-cert --client-key --help'
        ;;
    'create config-switch')
        opts='--server --model-name --reset --wait --dry-run --output --config --barman-config --url --remote --token --ca-cert --client-cert --client-key --help'
        ;;
    'create config-update')
        opts='--changes --changes-file --wait --dry-run --output --config --barman-config --url --remote --token --ca-cert --client-cert --client-key --help'
        ;;
    'list')
        opts='--server --instance --all --type --status --since --limit --before --output --config --barman-config --url --remote --token --ca-cert --client-cert --client-key --help'
        ;;
    'inspect')
        opts='--server --instance --follow --output --config --barman-config --url --remote --token --ca-cert --client-cert --client-key --help'
        args=operations
        ;;
    'backups')
        cmds='show'
        opts='--server --output --config --barman-config --url --remote --token --ca-cert --client-cert --client-key --help'
        ;;
    'backups show')
        opts='--server --output --config --barman-config --url --remote --token --ca-cert --client-cert --client-key --help'
        args=backups
        ;;
    'cancel')
        opts='--server --instance --wait --output --config --barman-config --url --remote --token --ca-cert --client-cert --client-key --help'
        args=operations
        ;;
    'wait')
        opts='--server --instance --output --timeout --config --barman-config --url --remote --token --ca-cert --client-cert --client-key --help'
        args=operations
        ;;
    'logs')
        opts='--server --instance --follow --config --barman-config --url --remote --token --ca-cert --client-cert --client-key --help'
        args=operations
        ;;
    'prune')
        opts='--older-than --dry-run --server --instance --output --config --barman-config --help'
        ;;
    'serve')
        opts='--listen --port --max-body-bytes --log-format --insecure --config --barman-config --help'
        ;;
    'status')
        opts='--port --url --timeout --output --remote --token --ca-cert --client-cert --client-key --config --help'
        ;;
    'doctor')
        opts='--config --barman-config --output --help'
        ;;
    'token')
        cmds='create'
        opts='--help'
        ;;
    'token create')
        opts='--permissions --help'
        ;;
    'version')
        opts='--output --help'
        ;;
    'help')
        opts='--help'
        args=commands
        ;;
    esac
}

# _pg_backup_api_value PATH OPTION: completes the value of OPTION into COMPREPLY.
_pg_backup_api_value() {
    case "$1:$2" in
    ':--config'|':--barman-config'|':--ca-cert'|':--client-cert'|':--client-key'|'create:--payload'|'create:-p'|'create:--config'|'create:--barman-config'|'create:--ca-cert'|'create:--client-cert'|'create:--client-key'|'create recovery:--recovery-conf-filename'|'create recovery:--config'|'create recovery:--barman-config'|'create recovery:--ca-cert'|'create recovery:--client-cert'|'create recovery:--client-key'|'create backup:--config'|'create backup:--barman-config'|'create backup:--ca-cert'|'create backup:--client-cert'|'create backup:--client-key'|'create keep:--config'|'create keep:--barman-config'|'create keep:--ca-cert'|'create keep:--client-cert'|'create keep:--client-key'|'create drill:--config'|'create drill:--barman-config'|'create drill:--ca-cert'|'create drill:--client-cert'|'create drill:--client-key'|'create delete:--config'|'create delete:--barman-config'|'create delete:--ca-cert'|'create delete:--client-cert'|'create delete:--client-key'|'create config-switch:--config'|'create config-switch:--barman-config'|'create config-switch:--ca-cert'|'create config-switch:--client-cert'|'create config-switch:--client-key'|'create config-update:--changes-file'|'create config-update:-f'|'create config-update:--config'|'create config-update:--barman-config'|'create config-update:--ca-cert'|'create config-update:--client-cert'|'create config-update:--client-key'|'list:--config'|'list:--barman-config'|'list:--ca-cert'|'list:--client-cert'|'list:--client-key'|'inspect:--config'|'inspect:--barman-config'|'inspect:--ca-cert'|'inspect:--client-cert'|'inspect:--client-key'|'backups:--config'|'backups:--barman-config'|'backups:--ca-cert'|'backups:--client-cert'|'backups:--client-key'|'backups show:--config'|'backups show:--barman-config'|'backups show:--ca-cert'|'backups show:--client-cert'|'backups show:--client-key'|'cancel:--config'|'cancel:--barman-config'|'cancel:--ca-cert'|'cancel:--client-cert'|'cancel:--client-key'|'wait:--config'|'wait:--barman-config'|'wait:--ca-cert'|'wait:--client-cert'|'wait:--client-key'|'logs:--config'|'logs:--barman-config'|'logs:--ca-cert'|'logs:--client-cert'|'logs:--client-key'|'prune:--config'|'prune:--barman-config'|'serve:--config'|'serve:--barman-config'|'status:--ca-cert'|'status:--client-cert'|'status:--client-key'|'status:--config'|'doctor:--config'|'doctor:--barman-config')
        _pg_backup_api_files ;;
    ':--remote'|':-r'|'create:--remote'|'create:-r'|'create recovery:--remote'|'create recovery:-r'|'create backup:--remote'|'create backup:-r'|'create keep:--remote'|'create keep:-r'|'create drill:--remote'|'create drill:-r'|'create delete:--remote'|'create delete:-r'|'create config-switch:--remote'|'create config-switch:-r'|'create config-update:--remote'|'create config-update:-r'|'list:--remote'|'list:-r'|'inspect:--remote'|'inspect:-r'|'backups:--remote'|'backups:-r'|'backups show:--remote'|'backups show:-r'|'cancel:--remote'|'cancel:-r'|'wait:--remote'|'wait:-r'|'logs:--remote'|'logs:-r'|'status:--remote'|'status:-r')
        _pg_backup_api_dynamic remotes ;;
    ':--output'|':-o'|'create:--output'|'create:-o'|'create recovery:--output'|'create recovery:-o'|'create backup:--output'|'create backup:-o'|'create keep:--output'|'create keep:-o'|'create drill:--output'|'create drill:-o'|'create delete:--output'|'create delete:-o'|'create config-switch:--output'|'create config-switch:-o'|'create config-update:--output'|'create config-update:-o'|'list:--output'|'list:-o'|'inspect:--output'|'inspect:-o'|'backups:--output'|'backups:-o'|'backups show:--output'|'backups show:-o'|'cancel:--output'|'cancel:-o'|'wait:--output'|'wait:-o'|'prune:--output'|'prune:-o'|'status:--output'|'status:-o'|'doctor:--output'|'doctor:-o'|'version:--output'|'version:-o')
        _pg_backup_api_words 'table plain json' ;;
    'create:--server'|'create:-s'|'create recovery:--server'|'create recovery:-s'|'create backup:--server'|'create backup:-s'|'create keep:--server'|'create keep:-s'|'create drill:--server'|'create drill:-s'|'create delete:--server'|'create delete:-s'|'create config-switch:--server'|'create config-switch:-s'|'list:--server'|'list:-s'|'inspect:--server'|'inspect:-s'|'backups:--server'|'backups:-s'|'backups show:--server'|'backups show:-s'|'cancel:--server'|'cancel:-s'|'wait:--server'|'wait:-s'|'logs:--server'|'logs:-s'|'prune:--server'|'prune:-s')
        _pg_backup_api_dynamic servers ;;
    'create recovery:--backup-id'|'create recovery:-b'|'create keep:--backup-id'|'create keep:-b'|'create drill:--backup-id'|'create drill:-b'|'create delete:--backup-id'|'create delete:-b')
        _pg_backup_api_dynamic backups ;;
    'create recovery:--target-tli'|'create drill:--target-tli')
        _pg_backup_api_words 'current latest' ;;
    'create recovery:--target-action')
        _pg_backup_api_words 'pause shutdown promote' ;;
    'create recovery:--combine-mode')
        _pg_backup_api_words 'copy link clone copy-file-range' ;;
    'create backup:--reuse-backup')
        _pg_backup_api_words 'off copy link' ;;
    'create keep:--target'|'create keep:-t')
        _pg_backup_api_words 'full standalone' ;;
    'create drill:--target-action')
        _pg_backup_api_words 'promote' ;;
    'create config-switch:--model-name'|'create config-switch:-m')
        _pg_backup_api_dynamic models ;;
    'list:--type'|'list:-t')
        _pg_backup_api_words 'recovery config_switch config_update backup keep delete drill' ;;
    'list:--status')
        _pg_backup_api_words 'DONE FAILED IN_PROGRESS queued running lost cancelled timeout' ;;
    'serve:--log-format')
        _pg_backup_api_words 'text json' ;;
    esac
}

_pg_backup_api_words() {
    local IFS=$' \t\n'
    COMPREPLY=($(compgen -W "$1" -- "$cur"))
}

_pg_backup_api_files() {
    compopt -o filenames 2>/dev/null
    local IFS=$'\n'
    COMPREPLY=($(compgen -f -- "$cur"))
}

# _pg_backup_api_dynamic KIND: asks the binary being completed, with the global
# options of the command line (and, for backups, the server given with
# --server); any error completes nothing.
_pg_backup_api_dynamic() {
    local c
    local -a extra=()
    case $1 in
    backups) [[ -n $server ]] && extra=("$server") ;;
    esac
    COMPREPLY=()
    while IFS= read -r c; do
        [[ -n $c && $c == "$cur"* ]] && COMPREPLY+=("$c")
    done < <("${COMP_WORDS[0]}" "${globals[@]}" __complete "$1" "${extra[@]}" 2>/dev/null </dev/null)
}

_pg_backup_api() {
    local cur=${COMP_WORDS[COMP_CWORD]} path= w next valued= positional=0 i server=
    local cmds opts args
    local -a globals=()
    COMPREPLY=()
    for ((i = 1; i < COMP_CWORD; i++)); do
        w=${COMP_WORDS[i]}
        if [[ -n $valued ]]; then
            # --option=value arrives as three words when = breaks words.
            [[ $w == = ]] && continue
            if [[ -z $path ]]; then
                case $valued in
                --config|--barman-config|--barman-command|--url|--remote|-r|--token|--ca-cert|--client-cert|--client-key|--output|-o) globals+=("$valued" "$w") ;;
                esac
            fi
            case $valued in
            --server|-s) server=$w ;;
            esac
            valued=
            continue
        fi
        case $w in
        -*=*)
            [[ -z $path ]] && globals+=("$w")
            [[ $w == --server=* ]] && server=${w#*=}
            continue
            ;;
        -?*)
            _pg_backup_api_valued "$path" "$w" && valued=$w
            continue
            ;;
        esac
        if next=$(_pg_backup_api_sub "$path" "$w"); then
            path=$next
            positional=0
        else
            positional=$((positional + 1))
        fi
    done
    if [[ -n $valued ]]; then
        [[ $cur == = ]] && cur=
        _pg_backup_api_value "$path" "$valued"
        return 0
    fi
    _pg_backup_api_spec "$path"
    if [[ $cur == -* ]]; then
        _pg_backup_api_words "$opts"
    elif [[ -n $cmds && $positional == 0 ]]; then
        _pg_backup_api_words "$cmds"
    elif [[ $args == commands && $positional == 0 ]]; then
        _pg_backup_api_spec ''
        _pg_backup_api_words "$cmds"
    elif [[ -n $args && $args != commands && $positional == 0 ]]; then
        _pg_backup_api_dynamic "$args"
    else
        _pg_backup_api_words "$opts"
    fi
    return 0
}

complete -F _pg_backup_api pg-backup-api
