# Crash injection (the vm scenarios vault_crash_*), sourced after
# scenario-lib.sh: a "container" (tazpod init as PID 1 of its own PID and
# mount namespaces, the vault in persistent mode on a volume) is SIGKILLed
# at a named step of an unlock or a lock, or while a user writes into the
# vault, and restarted; every restart must recover with nothing leaked and
# nothing lost of what was synced.
#
# The steps are the crash points of the test-only helper
# (/usr/lib/tazpod-test/tazpod-vault-helper-crash, vault/crash_point.h): a
# helper that reaches the step named in $CRASH_DIR/point writes
# $CRASH_DIR/reached and stops itself (SIGSTOP) until it is killed.
#
# What was synced is kept outside the vault, in the scenario's directory:
# chunk.N (random data) and sums (their sha256, as `sha256sum` prints them,
# relative to the vault). `crash_verify` compares the vault with them.

CRASH_HELPER=/usr/lib/tazpod-test/tazpod-vault-helper-crash
CRASH_DIR=/run/tazpod-crash
CRASH_VOLUME=/volume
CRASH_CHUNK_BYTES=$((256 << 10))
CRASH_SYNCED_BYTES=0
CRASH_STARTS=0

# crash_setup: the volume, the configuration (init.toml) and an empty record.
crash_setup() {
  mkdir -p "$CRASH_VOLUME" "$CRASH_DIR"
  mount -t tmpfs -o size=96m tmpfs "$CRASH_VOLUME"
  rm -f "$CRASH_DIR/point" "$CRASH_DIR/reached"
  # shellcheck disable=SC2034  # both read by scenario-lib.sh's vault helpers
  VAULT_HELPER=$CRASH_HELPER
  # shellcheck disable=SC2034
  VAULT_MODE_ARGS=(--mode persistent --image "$CRASH_VOLUME/vault.img" --image-size $((48 << 20)))
  write_init_config init.toml
  trap crash_cleanup_on_failure EXIT
  sed -i "/^\[vault\]/a mode = \"persistent\"\nimage = \"$CRASH_VOLUME/vault.img\"\nimage_size = \"48M\"" init.toml
  : > sums
}

# A failed check leaves a container running: kill it, and undo what it
# attached, so that the harness's leak check reports only real leaks.
crash_cleanup_on_failure() {
  if [[ -n ${INIT_PID:-} ]] && kill -KILL "$INIT_PID" 2>/dev/null; then wait "$CRASH_UNSHARE" || true; fi
  vault recover >/dev/null 2>&1 || true
  umount "$CRASH_VOLUME" 2>/dev/null || true
}

# crash_teardown: the last container stopped cleanly, the volume unmounted.
crash_teardown() {
  crash_stop
  INIT_PID=''
  trap - EXIT
  expect_eq "$(crash_attached)" "mapping=no loop=no mount=no" "attached after the last shutdown"
  umount "$CRASH_VOLUME"
  echo "crash: $CRASH_STARTS starts, $CRASH_SYNCED_BYTES bytes synced, 0 lost, 0 leaks"
}

# crash_start: starts the container; INIT_PID is its PID 1 as seen from
# here. Waits until start-up recovery is done and the control socket
# listens, then checks that nothing is attached but what recovery left
# (nothing) and that no half-made image survived.
crash_start() {
  CRASH_STARTS=$((CRASH_STARTS + 1))
  CRASH_LOG=init.$CRASH_STARTS.log
  unshare --pid --fork --mount-proc tazpod init --config init.toml 2>"$CRASH_LOG" &
  CRASH_UNSHARE=$!
  INIT_PID=''
  local deadline=$(( $(clock_now) + 30 ))
  until [[ -n $INIT_PID ]]; do
    read -r INIT_PID _ 2>/dev/null <"/proc/$CRASH_UNSHARE/task/$CRASH_UNSHARE/children" || true
    clock_before "$deadline" || fail "start $CRASH_STARTS: no PID 1 under unshare"
    [[ -n $INIT_PID ]] || nap 0.05
  done
  wait_log "$CRASH_LOG" 'vault.recover.(done|failed)' 60
  wait_log "$CRASH_LOG" 'control.listen' 20
  has_line_matching "$CRASH_LOG" 'vault.recover.done' || fail "start $CRASH_STARTS: recovery failed: $(cat "$CRASH_LOG")"
  expect_eq "$(crash_attached)" "mapping=no loop=no mount=no" "attached after start $CRASH_STARTS"
  [[ ! -e $CRASH_VOLUME/vault.img.creating ]] || fail "start $CRASH_STARTS: a half-made image survived recovery"
}

# crash_attached: what the kernel has attached for the vault, as
# scenario-lib.sh's vault_attached says, but with the mount looked for in
# the container's vault namespace from inside its PID namespace (its /proc
# is the container's own).
crash_attached() { vault_attached in_live_container_vault; }

# in_live_container_vault CMD...: in_vault, when the container is running;
# fails without running CMD when it is not.
in_live_container_vault() {
  [[ -n ${INIT_PID:-} ]] && kill -0 "$INIT_PID" 2>/dev/null && in_vault "$@"
}

# crash_stop: a clean shutdown (SIGTERM to PID 1).
crash_stop() {
  kill -TERM "$INIT_PID"
  wait "$CRASH_UNSHARE" || true
}

# ctr CMD...: runs CMD in the container, as `docker exec` would.
ctr() { nsenter --target "$INIT_PID" --pid --mount -- "$@"; }

# in_vault CMD...: runs CMD in the container, where the vault is mounted.
in_vault() {
  find_vault_ns
  nsenter --target "$INIT_PID" --pid --mount="$VAULT_NS" -- "$@"
}

ctr_unlock() { printf 'crash passphrase\n' | ctr tazpod vault unlock --passphrase-stdin; }
ctr_lock() { ctr tazpod vault lock; }

# crash_status: the vault's state as PID 1 reports it.
crash_status() { ctr tazpod vault status; }

# crash_verify: every synced chunk is in the vault, whole.
crash_verify() {
  local got
  # shellcheck disable=SC2016  # $1 is the inner shell's argument
  got=$(in_vault sh -c 'cd "$1" && if ls chunk.* >/dev/null 2>&1; then sha256sum chunk.*; fi' _ "$VAULT_MNT")
  expect_eq "$got" "$(<sums)" "the synced chunks after start $CRASH_STARTS"
}

# crash_next_chunk: makes the next chunk of random data here; its name
# (chunk.NNN, so that a glob lists them in order) in CRASH_CHUNK.
crash_next_chunk() {
  local recorded=()
  mapfile -t recorded <sums
  printf -v CRASH_CHUNK 'chunk.%03d' $(( ${#recorded[@]} + 1 ))
  head -c "$CRASH_CHUNK_BYTES" /dev/urandom > "$CRASH_CHUNK"
}

# crash_record: CRASH_CHUNK is in the vault and synced: from now on it must
# survive every crash.
crash_record() {
  sha256sum "$CRASH_CHUNK" >> sums
  CRASH_SYNCED_BYTES=$((CRASH_SYNCED_BYTES + CRASH_CHUNK_BYTES))
}

# crash_add_chunk [nosync]: writes one more chunk into the vault and records
# it. Synced by default; `nosync` leaves it to the lock that follows (which
# syncs or unmounts before any crash point of a lock).
crash_add_chunk() {
  crash_next_chunk
  if [[ ${1:-} == nosync ]]; then
    in_vault cp "$PWD/$CRASH_CHUNK" "$VAULT_MNT/$CRASH_CHUNK"
  else
    in_vault dd if="$PWD/$CRASH_CHUNK" of="$VAULT_MNT/$CRASH_CHUNK" bs=64k conv=fsync 2>/dev/null
  fi
  crash_record
}

# crash_arm STEP: the next helper to reach STEP stops there.
crash_arm() {
  rm -f "$CRASH_DIR/reached"
  echo "$1" > "$CRASH_DIR/point"
}

crash_disarm() { rm -f "$CRASH_DIR/point" "$CRASH_DIR/reached"; }

# crash_wait_reached STEP: waits until a helper stopped at STEP; its pid
# here (not in the container's namespace) in CRASH_STOPPED.
crash_wait_reached() {
  local deadline=$(( $(clock_now) + 60 )) f pid pids stat step=''
  until [[ -f $CRASH_DIR/reached ]]; do
    clock_before "$deadline" || fail "no helper reached $1 within 60 s: $(cat "$CRASH_LOG")"
    nap 0.05
  done
  read -r step _ <"$CRASH_DIR/reached" || true
  expect_eq "$step" "$1" "the step the helper stopped at"
  crash_disarm
  # The stopped helper is a child of PID 1, in state T.
  deadline=$(( $(clock_now) + 10 ))
  for (( ;; )); do
    for f in /proc/"$INIT_PID"/task/*/children; do
      pids=()
      read -r -a pids 2>/dev/null <"$f" || true
      for pid in ${pids[@]+"${pids[@]}"}; do
        stat=''
        read -r stat 2>/dev/null <"/proc/$pid/stat" || continue
        stat=${stat##*) }
        if [[ ${stat%% *} == T ]]; then CRASH_STOPPED=$pid; return 0; fi
      done
    done
    clock_before "$deadline" || fail "the helper that reached $1 is not stopped"
    nap 0.05
  done
}

# crash_operation_at STEP OP: arms STEP and runs OP (ctr_unlock or
# ctr_lock) in the background (CRASH_CLIENT) until its helper stops there
# (CRASH_STOPPED).
crash_operation_at() {
  crash_arm "$1"
  "$2" > client.out 2>&1 &
  CRASH_CLIENT=$!
  crash_wait_reached "$1"
}

# crash_kill_pid1: SIGKILL of PID 1: the kernel kills everything in its PID
# namespace (the stopped helper, the client, any writer), and its mount
# namespaces go with them, as when a container is killed.
crash_kill_pid1() {
  kill -KILL "$INIT_PID"
  wait "$CRASH_UNSHARE" || true
  [[ -z ${CRASH_CLIENT:-} ]] || wait "$CRASH_CLIENT" 2>/dev/null || true
  CRASH_CLIENT=''
}

# crash_kill_helper: SIGKILL of the stopped helper alone; PID 1 lives on and
# answers the client with an error. Prints the client's answer.
crash_kill_helper() {
  local rc=0
  kill -KILL "$CRASH_STOPPED"
  wait "$CRASH_CLIENT" || rc=$?
  [[ $rc -ne 0 ]] || fail "the operation whose helper was killed succeeded: $(cat client.out)"
  echo "client after the helper was killed (exit $rc): $(cat client.out)"
}

# crash_expect_one_vault: attached exactly once (a leak would show as a
# second loop device or mapping).
crash_expect_one_vault() {
  expect_eq "$(crash_attached)" "mapping=yes loop=yes mount=yes" "attached after the recovering unlock"
  count_loops
  count_mappings
  expect_eq "$LOOPS" 1 "loop devices"
  expect_eq "$MAPPINGS" 1 "device-mapper mappings"
}

# crash_unlock_points STEP PID1_RESTARTS HELPER_RESTARTS: a step of an
# unlock of an existing vault. Each cycle: a synced chunk is in the vault
# and it is locked; the unlock stops at STEP; PID 1 (or the helper) is
# SIGKILLed; the container restarts (or the next unlock recovers); the
# unlock works, every synced chunk is whole, nothing is attached twice.
crash_unlock_points() {
  local step=$1 i
  crash_setup
  crash_start
  ctr_unlock
  crash_add_chunk
  ctr_lock
  for (( i = 1; i <= $2; i++ )); do
    crash_operation_at "$step" ctr_unlock
    crash_kill_pid1
    crash_start
    expect_eq "$(crash_status)" "state=locked busy=false" "state after restart $i"
    ctr_unlock
    crash_expect_one_vault
    crash_verify
    crash_add_chunk
    ctr_lock
    echo "[${SECONDS}s] restart $i after SIGKILL of PID 1 at $step: recovered"
  done
  for (( i = 1; i <= $3; i++ )); do
    crash_operation_at "$step" ctr_unlock
    crash_kill_helper
    [[ $(crash_status) == state=failed* ]] || fail "state after the helper was killed: $(crash_status)"
    ctr_unlock
    crash_expect_one_vault
    crash_verify
    crash_add_chunk
    ctr_lock
    expect_eq "$(crash_attached)" "mapping=no loop=no mount=no" "attached after the lock"
    echo "[${SECONDS}s] helper SIGKILLed at $step ($i): the next unlock recovered"
  done
  crash_teardown
}

# crash_lock_points STEP PID1_RESTARTS HELPER_RESTARTS [holder]: a step of
# a lock. Each cycle: the vault is unlocked and a chunk written (not
# synced: the lock syncs or unmounts before its first crash point); the
# lock stops at STEP; PID 1 (or the helper) is SIGKILLed; the container
# restarts (or the next lock finishes the job, or every second time the
# next unlock recovers first); every chunk is whole.
# `holder`: a process keeps the vault busy, so the lock takes its
# syncfs-and-end-the-holders path.
crash_lock_points() {
  local step=$1 holder=${4:-} holder_pid='' i
  crash_setup
  crash_start
  ctr_unlock
  for (( i = 1; i <= $2 + $3; i++ )); do
    crash_add_chunk nosync
    if [[ -n $holder ]]; then
      rm -f holding
      # shellcheck disable=SC2016  # the inner shell's arguments
      in_vault sh -c 'cd "$1" && : > "$2" && exec sleep 1000' _ "$VAULT_MNT" "$PWD/holding" &
      holder_pid=$!
      wait_file holding 60 "the holder to enter the vault"
    fi
    crash_operation_at "$step" ctr_lock
    if (( i <= $2 )); then
      crash_kill_pid1
      crash_start
      expect_eq "$(crash_status)" "state=locked busy=false" "state after restart $i"
      echo "[${SECONDS}s] restart $i after SIGKILL of PID 1 at $step: recovered"
    else
      crash_kill_helper
      [[ $(crash_status) == state=failed* ]] || fail "state after the helper was killed: $(crash_status)"
      if (( (i - $2) % 2 == 1 )); then
        ctr_lock
        expect_eq "$(crash_attached)" "mapping=no loop=no mount=no" "attached after the lock that finished the job"
        echo "[${SECONDS}s] helper SIGKILLed at $step ($((i - $2))): the next lock finished the job"
      else
        # A login comes first instead: its unlock recovers, then unlocks
        # (below), rather than being refused as "already unlocked".
        echo "[${SECONDS}s] helper SIGKILLed at $step ($((i - $2))): the next unlock recovers"
      fi
    fi
    ctr_unlock
    # The holder was ended by the crash, the lock, or the unlock's recovery.
    if [[ -n $holder_pid ]]; then wait "$holder_pid" || true; fi
    holder_pid=''
    crash_expect_one_vault
    crash_verify
  done
  ctr_lock
  crash_teardown
}

# crash_first_unlock_point STEP PID1_RESTARTS HELPER_RESTARTS: the first
# unlock, stopped at STEP (unlock.mkfs, unlock.mount), before the new image
# takes the vault's name. After each crash the vault is absent again (no
# vault.img, no half-made image, nothing attached), and the next first
# unlock creates it, its root the user's (0700). Nothing was synced into
# that vault yet: what is checked is that no half vault survives.
crash_first_unlock_point() {
  local step=$1 i
  crash_setup
  crash_start
  for (( i = 1; i <= $2; i++ )); do
    expect_eq "$(crash_status)" "state=absent busy=false" "state before crash $i"
    crash_operation_at "$step" ctr_unlock
    [[ -e $CRASH_VOLUME/vault.img.creating && ! -e $CRASH_VOLUME/vault.img ]] ||
      fail "at $step the image must still be vault.img.creating: $(ls -l "$CRASH_VOLUME")"
    crash_kill_pid1
    crash_start
    [[ ! -e $CRASH_VOLUME/vault.img ]] || fail "restart $i: a vault.img after a crash before it was complete"
    echo "[${SECONDS}s] restart $i after SIGKILL of PID 1 at $step: absent again"
  done
  for (( i = 1; i <= $3; i++ )); do
    expect_eq "$(crash_status)" "state=absent busy=false" "state before helper crash $i"
    crash_operation_at "$step" ctr_unlock
    crash_kill_helper
    [[ $(crash_status) == state=failed* ]] || fail "state after the helper was killed: $(crash_status)"
    crash_first_unlock_creates_a_working_vault
    echo "[${SECONDS}s] helper SIGKILLed at $step ($i): the next unlock recovered and created the vault"
    # Absent again for the next round: a new container on an empty volume.
    crash_stop
    rm "$CRASH_VOLUME/vault.img"
    : > sums
    crash_start
  done
  crash_first_unlock_creates_a_working_vault
  crash_teardown
}

# crash_first_unlock_creates_a_working_vault: the next unlock creates the
# vault, attached once, its root the user's; a chunk synced into it is there
# after a lock and a second unlock.
crash_first_unlock_creates_a_working_vault() {
  ctr_unlock
  crash_expect_one_vault
  crash_expect_root_is_the_users
  crash_add_chunk
  ctr_lock
  crash_verify_locked_cycle
}

# crash_expect_root_is_the_users: the unlocked vault's root belongs to the
# session user, dev, and to no one else.
crash_expect_root_is_the_users() {
  expect_eq "$(in_vault stat -c '%U %a' "$VAULT_MNT")" "dev 700" "the owner and mode of the vault's root"
}

# crash_verify_locked_cycle: the vault is locked; unlocked again, every
# synced chunk is there; locked again.
crash_verify_locked_cycle() {
  expect_eq "$(crash_attached)" "mapping=no loop=no mount=no" "attached after the lock"
  ctr_unlock
  crash_verify
  ctr_lock
}

# crash_write_point PID1_RESTARTS: PID 1 SIGKILLed while a user's process
# writes into the vault. The writer writes a chunk, fsyncs it (the synced
# prefix), then keeps appending to the same file; once it is seen to
# append, PID 1 is killed. After the restart the prefix must be whole.
crash_write_point() {
  local i writer size grown deadline
  crash_setup
  crash_start
  ctr_unlock
  for (( i = 1; i <= $1; i++ )); do
    crash_next_chunk
    rm -f synced
    # shellcheck disable=SC2016  # the inner shell's arguments
    in_vault sh -c 'dd if="$1" of="$2" bs=64k conv=fsync 2>/dev/null && : > "$3" &&
                    while :; do head -c 65536 /dev/urandom >> "$2"; done' \
      _ "$PWD/$CRASH_CHUNK" "$VAULT_MNT/stream" "$PWD/synced" &
    writer=$!
    wait_file synced 60 "the writer to sync"
    # During the write: the file grows past its synced prefix.
    size=$(in_vault stat -c %s "$VAULT_MNT/stream")
    grown=$size
    deadline=$(( $(clock_now) + 60 ))
    until (( grown > size )); do
      clock_before "$deadline" || fail "the writer did not append within 60 s"
      nap 0.05
      grown=$(in_vault stat -c %s "$VAULT_MNT/stream")
    done
    crash_kill_pid1
    wait "$writer" 2>/dev/null || true
    crash_start
    expect_eq "$(crash_status)" "state=locked busy=false" "state after restart $i"
    ctr_unlock
    crash_expect_one_vault
    expect_eq "$(in_vault head -c "$CRASH_CHUNK_BYTES" "$VAULT_MNT/stream" | sha256sum | cut -d' ' -f1)" \
      "$(sha256sum "$CRASH_CHUNK" | cut -d' ' -f1)" "the synced prefix after restart $i"
    # Kept as a chunk, so that every later restart checks it too.
    # shellcheck disable=SC2016  # the inner shell's arguments
    in_vault sh -c 'head -c "$1" "$2/stream" > "$2/$3" && rm "$2/stream" && sync' \
      _ "$CRASH_CHUNK_BYTES" "$VAULT_MNT" "$CRASH_CHUNK"
    crash_record
    crash_verify
    echo "[${SECONDS}s] restart $i after SIGKILL of PID 1 during a write: the synced prefix is whole ($size bytes written by then)"
  done
  ctr_lock
  crash_teardown
}
