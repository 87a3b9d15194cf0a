# bench/vault in the test guest (run by bench/vault/run through the vm
# harness): TazPod's unlock and lock, through PID 1, beside the same kernel
# steps done by hand with the same image and PBKDF, alternating, N rounds.
# Then the last-session-exit latency: a login through the gate (`tazpod
# login` typed on a PTY by ptydrive), whose shell execs `stamp` (it prints
# CLOCK_MONOTONIC and exits at once), so the session ends at a known
# instant; PID 1's log (`mono_us` fields, the helper's step timings in
# vault.helper.done) splits the time until the vault is locked.
# Prints medians in microseconds as "bench NAME MEDIAN_US".
# timeout: 900
ROUNDS=${BENCH_ROUNDS:-7}
usec() { local t=${EPOCHREALTIME/./}; echo "$t"; }
# An even count's median is the mean of its two middle values.
median() { sort -n | awk '{a[NR]=$1} END {m=int((NR+1)/2); print (NR%2 ? a[m] : int((a[m]+a[m+1])/2))}'; }

write_init_config init.toml
# The level a container runs at, not the scenarios' debug: each line costs
# hundreds of µs under TCG, counted against TazPod alone. Every line read
# below is an info one.
sed -i 's/^log_level = "debug"$/log_level = "info"/' init.toml
grep -qx 'log_level = "info"' init.toml || fail "init.toml's log level was not set to info"
start_init init.toml init.log
printf 'pw\n' > pass
tazpod vault unlock --passphrase-stdin < pass >/dev/null   # creates and formats
tazpod vault lock >/dev/null
image=$VAULT_ENCLAVE/vault.img

# standby_pid: the pid of the helper PID 1 keeps pre-started for its next
# operation (found by its command line), or nothing; with --waiting, only
# once it has started and waits on its stdin (read(0, …): /proc/PID/syscall).
standby_pid() {
  local p cmd
  for p in /proc/[0-9]*; do
    cmd=$(tr '\0' ' ' < "$p/cmdline" 2>/dev/null) || continue
    [[ $cmd == *tazpod-vault-helper*' standby'* ]] || continue
    if [[ ${1:-} == --waiting && $(cut -d' ' -f1,2 "$p/syscall" 2>/dev/null) != "0 0x0" ]]; then
      continue
    fi
    echo "${p#/proc/}"
    return 0
  done
}

# settle: waits until the pre-started helper waits on its stdin. Its start
# after each answer (an exec, the libraries linked, ≈ 0.3 s under TCG) would
# otherwise overlap the next timed step, whichever side's.
settle() {
  local deadline=$(( $(clock_now) + 20 ))
  while clock_before "$deadline"; do
    [[ -n $(standby_pid --waiting) ]] && return 0
    nap 0.05
  done
  fail "no pre-started vault helper waiting on its stdin within 20 s"
}

through_tazpod() {
  settle
  s=$(usec); tazpod vault unlock --passphrase-stdin < pass >/dev/null; e=$(usec)
  echo $((e - s)) >> tazpod-unlock
  settle
  s=$(usec); tazpod vault lock >/dev/null; e=$(usec)
  echo $((e - s)) >> tazpod-lock
}

by_hand() {
  settle
  # By hand where the vault lives: in PID 1's private mount namespace (the
  # enclave is mounted only there); the clock is read inside it. (nsenter
  # leaves the working directory behind: results go to an absolute path.)
  # shellcheck disable=SC2016 # expanded by the inner bash, from its arguments
  in_vault_ns bash -c '
    set -euo pipefail
    usec() { local t=${EPOCHREALTIME/./}; echo "$t"; }
    s=$(usec)
    loop=$(losetup -f --show "$1")
    printf pw | cryptsetup open --key-file - "$loop" manual-bench
    mount -o nosuid,nodev /dev/mapper/manual-bench "$2"
    e=$(usec); echo $((e - s)) >> "$3/manual-unlock"
    s=$(usec)
    umount "$2"
    cryptsetup close manual-bench
    losetup -d "$loop"
    e=$(usec); echo $((e - s)) >> "$3/manual-lock"' manual "$image" "$VAULT_MNT" "$PWD"
}

# Each side goes first in every other round.
for i in $(seq "$ROUNDS"); do
  if (( i % 2 )); then through_tazpod; by_hand; else by_hand; through_tazpod; fi
done

# last FIELD REGEX: FIELD's value on the last line of init.log matching REGEX.
last() { grep -E "$2" init.log | tail -n1 | tr ' ' '\n' | sed -n "s/^$1=//p"; }
printf '%s\n' 'expect Vault passphrase:' 'send pw\r' 'expect $ ' \
  'send exec /usr/lib/tazpod-test/stamp\r' 'wait' > session.script
for i in $(seq "$ROUNDS"); do
  locks=$(grep -c 'vault.state from=locking to=locked' init.log || true)
  /usr/lib/tazpod-test/ptydrive session.script -- tazpod login 2> session.transcript ||
    { cat session.transcript; exit 1; }
  wait_log_count init.log 'vault.state from=locking to=locked' $((locks + 1)) 60
  exit_us=$(( $(grep -ao 't1 [0-9]*' session.transcript | tail -n1 | cut -d' ' -f2) / 1000 ))
  close=$(last mono_us 'session.close .*sessions=0')
  handed=$(last handed_us 'vault.helper.done operation=lock')
  done_us=$(last mono_us 'vault.helper.done operation=lock')
  locked=$(last mono_us 'vault.state from=locking to=locked')
  declare -A h=()
  for k in t_start_us t_end_us probe_us hooks_us holders_us sync_us umount_us deactivate_us detach_us; do
    h[$k]=$(last "$k" 'vault.helper.done operation=lock')
  done
  kernel=$(( h[umount_us] + h[deactivate_us] + h[detach_us] ))
  steps=$(( kernel + h[probe_us] + h[hooks_us] + h[holders_us] + h[sync_us] ))
  echo $(( locked - exit_us )) >> exit-total
  echo "$kernel" >> exit-kernel
  echo $(( locked - exit_us - kernel )) >> exit-overhead
  echo $(( close - exit_us )) >> exit-wake          # the session's exit reaches PID 1
  echo $(( handed - close )) >> exit-gate           # gate and state machine to the helper hand-off
  echo $(( h[t_start_us] - handed )) >> exit-handoff  # fork+exec+link (or a standby's wake)
  echo "${h[probe_us]}" >> exit-probe
  echo "${h[hooks_us]}" >> exit-hooks
  echo "${h[holders_us]}" >> exit-holders
  echo "${h[sync_us]}" >> exit-sync
  echo $(( h[t_end_us] - h[t_start_us] - steps )) >> exit-report   # the helper's result probe and line
  echo $(( done_us - h[t_end_us] )) >> exit-collect  # helper exit, reap, result read
  echo $(( locked - done_us )) >> exit-finish
  echo "round $i: total=$(( locked - exit_us )) kernel=$kernel overhead=$(( locked - exit_us - kernel ))" \
    "wake=$(( close - exit_us )) gate=$(( handed - close )) handoff=$(( h[t_start_us] - handed ))" \
    "probe=${h[probe_us]} hooks=${h[hooks_us]} holders=${h[holders_us]} sync=${h[sync_us]}" \
    "report=$(( h[t_end_us] - h[t_start_us] - steps )) collect=$(( done_us - h[t_end_us] ))" \
    "finish=$(( locked - done_us ))" >&2
done

for f in tazpod-unlock manual-unlock tazpod-lock manual-lock exit-total exit-kernel exit-overhead exit-wake \
         exit-gate exit-handoff exit-probe exit-hooks exit-holders exit-sync exit-report exit-collect exit-finish; do
  echo "bench $f $(median < $f)"
done

# Memory of what waits between operations: PID 1, and the standby helper it
# keeps pre-started (exec'd, linked, blocked on its stdin). Private_Dirty
# (relocations, heap, stacks) is what only swap or the exit gives back; USS
# adds clean file pages no other process maps (here: its libraries), which
# the kernel may drop under pressure; Pss splits shared pages among users.
# smaps_rollup fields in kB.
rollup() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/smaps_rollup"; }
# Once it waits on its stdin: sampled while it still loads its libraries,
# it would show less than it holds.
settle
standby=$(standby_pid --waiting)
[[ -n $standby ]] || fail "no standby vault helper found"
for who in pid1:"$INIT_PID" standby:"$standby"; do
  name=${who%%:*} pid=${who#*:}
  uss=$(( $(rollup "$pid" Private_Clean) + $(rollup "$pid" Private_Dirty) ))
  echo "bench mem-$name-uss-kb $uss"
  echo "bench mem-$name-pss-kb $(rollup "$pid" Pss)"
  echo "bench mem-$name-rss-kb $(rollup "$pid" Rss)"
  echo "bench mem-$name-dirty-kb $(rollup "$pid" Private_Dirty)"
done
kill -TERM "$INIT_PID"; wait "$INIT_PID" || true
vault_remove_enclave
