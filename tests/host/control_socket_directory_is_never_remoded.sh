# The control socket's directory is made 0750 root:GROUP only when init
# makes it. An existing one is used as it is, or refused when others than
# root may write to it: a socket configured in a shared directory (/tmp,
# /run) must not change that directory's mode.
. "$TAZPOD_HOST_LIB"
dir=$(mktemp -d)
cd "$dir"

config() {
  printf '[vault]\nenabled = false\n[session]\nuser = "root"\nsocket = "%s"\n[health]\nhttp = false\n' "$1" > "$2"
}

# Shared, like /tmp: refused, and left 1777. The probes give the reason.
mkdir -m 1777 shared
config "$dir/shared/control.sock" shared.toml
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
printf '[health]\nhttp = true\nlisten = "127.0.0.1:%s"\n' "$port" > shared.toml.health
sed -i '/^\[health\]/,$d' shared.toml && cat shared.toml.health >> shared.toml
start_init_ns shared.log --config shared.toml -- sleep 1000
wait_for_log shared.log 'init\.component\.failed component=control .*may be written by others than root'
expect_eq "$(stat -c %a shared)" 1777 "mode of the shared directory"
[[ ! -e shared/control.sock ]] || fail "a socket was made in the shared directory"
wait_for_log shared.log 'health\.http\.listen'
exec 3<>"/dev/tcp/127.0.0.1/$port"
printf 'GET /healthz HTTP/1.0\r\n\r\n' >&3
healthz=$(cat <&3)
exec 3<&-
[[ $healthz == *"control_socket failed: $dir/shared may be written by others than root"* ]] ||
  fail "/healthz does not give the control socket's reason: $healthz"
kill -TERM "$NS_INIT"; wait_exit "$NS_UNSHARE"

# Root's and not writable by others: used, its mode kept.
mkdir -m 0755 own
config "$dir/own/control.sock" own.toml
start_init_ns own.log --config own.toml -- sleep 1000
for _ in $(seq 100); do [[ -S own/control.sock ]] && break; sleep 0.05; done
[[ -S own/control.sock ]] || fail "no socket in a directory of root's own: $(cat own.log)"
expect_eq "$(stat -c %a own)" 755 "mode of the existing directory"
expect_eq "$(stat -c %a own/control.sock)" 660 "mode of the socket"
kill -TERM "$NS_INIT"; wait_exit "$NS_UNSHARE"

# Made by init: 0750.
config "$dir/made/control.sock" made.toml
start_init_ns made.log --config made.toml -- sleep 1000
for _ in $(seq 100); do [[ -S made/control.sock ]] && break; sleep 0.05; done
[[ -S made/control.sock ]] || fail "no socket in the directory init made: $(cat made.log)"
expect_eq "$(stat -c %a made)" 750 "mode of the directory init made"
kill -TERM "$NS_INIT"; wait_exit "$NS_UNSHARE"
echo "ok: the socket's directory is init's own or left as it is"
