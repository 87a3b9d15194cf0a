# bench/vault in the test guest (run by bench/vault/run through the vm
# harness): TazPod's unlock and lock, through PID 1, beside the same kernel
# steps done by hand with the same image and PBKDF, alternating, N rounds.
# Prints medians in microseconds as "bench NAME MEDIAN_US".
# timeout: 900
ROUNDS=${BENCH_ROUNDS:-7}
usec() { local t=${EPOCHREALTIME/./}; echo "$t"; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

write_init_config init.toml
start_init init.toml init.log
printf 'pw\n' > pass
tazpod vault unlock --passphrase-stdin < pass >/dev/null   # creates and formats
tazpod vault lock >/dev/null
image=$VAULT_ENCLAVE/vault.img

for _ in $(seq "$ROUNDS"); do
  s=$(usec); tazpod vault unlock --passphrase-stdin < pass >/dev/null; e=$(usec)
  echo $((e - s)) >> tazpod-unlock
  s=$(usec); tazpod vault lock >/dev/null; e=$(usec)
  echo $((e - s)) >> tazpod-lock

  s=$(usec)
  loop=$(losetup -f --show "$image")
  printf 'pw' | cryptsetup open --key-file - "$loop" manual-bench
  mount -o nosuid,nodev /dev/mapper/manual-bench "$VAULT_MNT"
  e=$(usec); echo $((e - s)) >> manual-unlock
  s=$(usec)
  umount "$VAULT_MNT"
  cryptsetup close manual-bench
  losetup -d "$loop"
  e=$(usec); echo $((e - s)) >> manual-lock
done

for f in tazpod-unlock manual-unlock tazpod-lock manual-lock; do
  echo "bench $f $(median < $f)"
done
kill -TERM "$INIT_PID"; wait "$INIT_PID" || true
vault_remove_enclave
