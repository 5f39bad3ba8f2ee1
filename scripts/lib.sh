# Shared by the scripts: paths, messages, bounded waits. Sourced, not run.
SUNBEAM_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export SUNBEAM_ROOT

say() { printf '==> %s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# as_root CMD...: runs CMD as root (directly, or through sudo when not root).
as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# wait_for SECONDS DESCRIPTION CMD...: retries CMD every half second until it
# succeeds or SECONDS pass; returns 1 on time-out.
wait_for() {
  local seconds=$1 what=$2; shift 2
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      printf 'timed out after %ss waiting for %s\n' "$seconds" "$what" >&2
      return 1
    fi
    sleep 0.5
  done
}

# phase NAME CMD...: runs CMD and prints how long it took.
# Runs a command as a named, timed phase and returns its exit status (also
# when called as `phase ... || status=1`, where `set -e` does not apply).
phase() {
  local name=$1; shift
  local start=$SECONDS rc=0
  say "$name"
  "$@" || rc=$?
  say "$name: $((SECONDS - start)) s$([ $rc -eq 0 ] || echo ", exit $rc")"
  return $rc
}
