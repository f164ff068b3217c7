#!/usr/bin/env bash
# make test-slurm: a throwaway single-node Slurm 22.05 with accounting (and PCP recording), a short
# real workload, its dumps, and the tests marked `slurm` run against it. Every daemon started here
# is stopped by its PID on the way out, whatever happens.
#
#   tests/live/run.sh [PYTHON]      (PYTHON: the interpreter with hpcpredict installed)
#
# HPCP_LIVE_KEEP=DIR keeps the dumps in DIR (default: a temporary folder removed at the end);
# HPCP_LIVE_HOLD=FILE keeps the cluster up before the tests until FILE is removed (development).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
PY=${1:-$REPO/.venv/bin/python}
PCP_SECONDS=${PCP_SECONDS:-5}  # each PCP job's length (disk-io: twice that)
PCP_REPEATS=${PCP_REPEATS:-5}  # rounds of the four PCP kinds

"$HERE/install.sh"

CLUSTER=$(mktemp -d /tmp/hpcp-slurm.XXXXXX)
chmod 0755 "$CLUSTER"
mkdir -p "$CLUSTER/log"
HPCP_LIVE=${HPCP_LIVE_KEEP:-$CLUSTER/live}
mkdir -p "$HPCP_LIVE"
export HPCP_LIVE
export SLURM_CONF="$CLUSTER/etc/slurm.conf"
MUNGE_SOCKET="$CLUSTER/munge/munge.socket"
source "$HERE/cluster.sh"
source "$HERE/pcp.sh"
source "$HERE/workload.sh"
DB_PORT=$(free_port); DBD_PORT=$(free_port); CTLD_PORT=$(free_port); SLURMD_PORT=$(free_port)
DB_PASS=$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')

finish() {
  local rc=$?
  set +e  # stop everything, whatever fails on the way
  stop_pcp_loop
  cancel_all_jobs 60
  stop_pmlogger
  stop_cluster
  if [ $rc -ne 0 ]; then
    echo "test-slurm: failed (exit $rc); logs of the daemons:" >&2
    for f in "$CLUSTER"/log/slurm*.log "$CLUSTER"/log/*.out; do [ -f "$f" ] && { echo "== $f" >&2; tail -n 15 "$f" >&2; }; done
  fi
  rm -rf "$CLUSTER"
  exit $rc
}
trap finish EXIT
trap 'exit 130' INT TERM

fields() { "$PY" -c "from $1 import $2; print($2)"; }
SACCT_FIELDS=$(fields hpcpredict.ingest.slurm SACCT_FIELDS)
SQUEUE_FORMAT=$(fields hpcpredict.queue.formats SQUEUE_FORMAT)
SQUEUE_FIELDS=$(fields hpcpredict.queue.formats SQUEUE_FIELDS)

t0=$(date +%s)
write_configs
start_munge
start_mariadb
start_slurm
add_users hpcpa hpcpb hpcpc  # hpcpc runs nothing in the workload (the refresh test's new user)
start_pmcd
t1=$(date +%s)
echo "test-slurm: cluster up in $((t1 - t0)) s ($(sinfo -V))"

START=$(date +%Y-%m-%dT%H:%M:%S)
# The plugin asks a port where nothing listens: every submission must go through unharmed.
export HPCPREDICT_URL=http://127.0.0.1:9/predict
start_pmlogger
submit_workload
start_pcp_loop
drive_workload
wait_workload 600
stop_pmlogger
dump_accounting
t2=$(date +%s)
echo "test-slurm: workload of $(wc -l <"$HPCP_LIVE/jobs.tsv") jobs done in $((t2 - t1)) s"

cd "$REPO"
if [ -n "${HPCP_LIVE_HOLD:-}" ]; then  # development: keep the cluster up until this file is removed
  echo "export SLURM_CONF=$SLURM_CONF HPCP_LIVE=$HPCP_LIVE" >"$HPCP_LIVE_HOLD"
  echo "test-slurm: holding the cluster; source $HPCP_LIVE_HOLD, remove it to stop"
  for _ in $(seq 3600); do [ -f "$HPCP_LIVE_HOLD" ] || break; sleep 1; done
fi
tests_rc=0
OMP_NUM_THREADS=1 "$PY" -m pytest -m slurm -q -p no:cacheprovider --durations=8 || tests_rc=$?
t3=$(date +%s)
# the live dump's figures, written by tests/live/test_live_pcp.py
[ -f "$HPCP_LIVE/summary.txt" ] && sed 's/^/test-slurm: /' "$HPCP_LIVE/summary.txt"
echo "test-slurm: setup $((t1 - t0)) s, workload $((t2 - t1)) s, tests $((t3 - t2)) s"
exit "$tests_rc"
