# ~/.bashrc of the workstation user. Interactive conveniences only.
#
# Nothing here prompts, unlocks, mounts or waits for anything: the vault is
# opened by `tazpod login` alone, before this file is read, and shells that
# tools start without a terminal must never block or print errors.

# Not interactive: nothing to do.
case $- in
  *i*) ;;
  *) return ;;
esac

HISTCONTROL=ignoreboth
HISTSIZE=10000
HISTFILESIZE=20000
shopt -s histappend checkwinsize

if [ -f /usr/share/bash-completion/bash_completion ]; then
  . /usr/share/bash-completion/bash_completion
fi

export EDITOR=nvim VISUAL=nvim PAGER=less LESS=-R

if command -v eza >/dev/null 2>&1; then
  alias ls='eza --group-directories-first'
  alias ll='eza -l --git --group-directories-first'
  alias la='eza -la --git --group-directories-first'
else
  alias ll='ls -l'
  alias la='ls -la'
fi

for tool in kubectl helm talosctl; do
  if command -v "$tool" >/dev/null 2>&1; then
    # shellcheck disable=SC1090
    . <("$tool" completion bash 2>/dev/null)
  fi
done
unset tool
if command -v kubectl >/dev/null 2>&1; then
  alias k=kubectl
  complete -o default -F __start_kubectl k
fi

if command -v starship >/dev/null 2>&1; then
  eval "$(starship init bash)"
fi
