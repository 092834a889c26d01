# bash completion for adaspringctl (install as /usr/share/bash-completion/completions/adaspringctl)
_adaspringctl_models() {
  # Loaded model names, asked from the daemon quietly (nothing when it is not running).
  adaspringctl "${global_opts[@]}" models --json 2>/dev/null |
    grep -o '"name":"[^"]*"' | cut -d'"' -f4
}

# Works with or without the bash-completion package (which provides _init_completion and
# _filedir); without it, plain file completion is used.
_adaspringctl_files() {
  if declare -F _filedir >/dev/null; then
    _filedir "$@"
  elif [[ $1 == -d ]]; then
    COMPREPLY=($(compgen -d -- "$cur"))
  else
    COMPREPLY=($(compgen -f -- "$cur"))
  fi
}

_adaspringctl() {
  local cur prev words cword
  if declare -F _init_completion >/dev/null; then
    _init_completion || return
  else
    words=("${COMP_WORDS[@]}")
    cword=$COMP_CWORD
    cur=${COMP_WORDS[COMP_CWORD]}
    prev=${COMP_WORDS[COMP_CWORD - 1]}
  fi

  local commands="status context sessions models watch infer profile override demo"
  local globals="--socket --admin-socket --json --timeout --help"
  local -a global_opts=()
  local cmd="" sub="" i
  for ((i = 1; i < cword; i++)); do
    case "${words[i]}" in
      --socket | --admin-socket | --timeout)
        global_opts+=("${words[i]}" "${words[i + 1]}")
        ((i++))
        ;;
      -*) ;;
      *)
        if [[ -z $cmd ]]; then
          cmd=${words[i]}
        elif [[ -z $sub ]]; then
          sub=${words[i]}
        fi
        ;;
    esac
  done

  case "$prev" in
    --socket | --admin-socket)
      _adaspringctl_files
      return
      ;;
    --input | --labels | --scenario | --daemon)
      _adaspringctl_files
      return
      ;;
    --models-dir | --data-dir | --out)
      _adaspringctl_files -d
      return
      ;;
    --model)
      COMPREPLY=($(compgen -W "$(_adaspringctl_models)" -- "$cur"))
      return
      ;;
    --on-ac)
      COMPREPLY=($(compgen -W "true false" -- "$cur"))
      return
      ;;
    --timeout | --count | --index | --top-k | --seconds | --budget-ms | --config | --app | \
      --memory-limit-mb | --memory-available-mb | --battery-pct | --temp-c | --cpu-busy | \
      --power-w | --duration | --app-nice | --daemon-rt-priority | --app-rt-priority | \
      --cpu-wakeup-latency-us)
      return
      ;;
    --policies)
      COMPREPLY=($(compgen -W "adaptive static_full static_compressed" -- "$cur"))
      return
      ;;
  esac

  local words_for=""
  case "$cmd" in
    "") words_for="$commands $globals --version" ;;
    status | context | sessions) words_for="$globals" ;;
    models)
      case "$sub" in
        "") words_for="list load unload $globals" ;;
        load) [[ $cur != -* ]] && { _adaspringctl_files; return; } ; words_for="$globals" ;;
        unload) [[ $cur != -* ]] && words_for="$(_adaspringctl_models)" || words_for="--force $globals" ;;
        *) words_for="$globals" ;;
      esac
      ;;
    watch) words_for="--all-samples --count --seconds $globals" ;;
    infer)
      words_for="--model --input --index --count --top-k --labels --config --budget-ms --app $globals"
      ;;
    profile) [[ $cur != -* && -z $sub ]] && words_for="$(_adaspringctl_models)" || words_for="--force $globals" ;;
    override)
      case "$sub" in
        "") words_for="set clear" ;;
        set)
          words_for="--memory-limit-mb --memory-available-mb --battery-pct --on-ac --temp-c --cpu-busy --power-w $globals"
          ;;
        *) words_for="$globals" ;;
      esac
      ;;
    demo)
      words_for="--duration --out --scenario --daemon --models-dir --data-dir --policies --quiet"
      words_for+=" --app-nice --daemon-rt-priority --app-rt-priority --cpu-wakeup-latency-us $globals"
      ;;
  esac
  COMPREPLY=($(compgen -W "$words_for" -- "$cur"))
}
complete -F _adaspringctl adaspringctl
