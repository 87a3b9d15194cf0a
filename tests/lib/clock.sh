# Time for the tests' deadlines and durations (sourced by the host tier's
# host-lib.sh and the guests' scenario-lib.sh).
#
# It is read from /proc/uptime, the kernel's boot-time clock, which only
# moves forward. Bash's $SECONDS follows the wall clock instead: when the
# machine's clock was stepped (NTP, a VM's host) during a run, a test that
# took 1.4 s measured 16 s and failed.
# Both functions read the file with builtins only, so a fast polling loop
# starts no process.

# clock_now: whole seconds on that clock, printed.
clock_now() { local up; read -r up _ < /proc/uptime; echo "${up%.*}"; }

# clock_tenths: tenths of a second on that clock, in CLOCK_TENTHS.
# shellcheck disable=SC2034  # read by the caller
clock_tenths() { local up; read -r up _ < /proc/uptime; CLOCK_TENTHS=$(( 10#${up/./} / 10 )); }

# clock_before DEADLINE: true while the clock is below DEADLINE, in the whole
# seconds clock_now gives.
clock_before() { local up; read -r up _ < /proc/uptime; (( ${up%.*} < $1 )); }
