# ~/.profile: read by login shells (`tazpod login` starts one). Environment
# only; the interactive settings are in ~/.bashrc.
export PATH="$HOME/.local/bin:$PATH"
if [ -n "${BASH_VERSION:-}" ] && [ -f "$HOME/.bashrc" ]; then
  . "$HOME/.bashrc"
fi
