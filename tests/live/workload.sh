# The live workload (sourced by run.sh): few, short jobs covering the states and request shapes
# the readers must get right, and the PCP jobs of the contract with the PCP tests.
# Every submitted job is listed in $HPCP_LIVE/jobs.tsv (id, user, what) for the tests.

PCP_LOOP_PID=

JOBS_SOURCE=$(cd "$(dirname "${BASH_SOURCE[0]}")/jobs" && pwd)

submit() {  # submit USER WHAT SBATCH-ARGS...: submit, record, print the job id
  local user=$1 what=$2; shift 2
  local id
  id=$(cd "$WORK" && runuser -u "$user" -- env SLURM_CONF="$SLURM_CONF" PATH="$PATH" HPCPREDICT_URL="$HPCPREDICT_URL" sbatch --parsable \
         -o "$WORK/out/%j.out" "$@")
  id=${id%%;*}
  printf '%s\t%s\t%s\n' "$id" "$user" "$what" >>"$HPCP_LIVE/jobs.tsv"
  echo "$id"
}

job_state() { squeue -h -j "$1" -o %T 2>/dev/null | head -n1; }

wait_state() {  # wait_state JOB STATE SECONDS
  for _ in $(seq $(($3 * 2))); do
    [ "$(job_state "$1")" = "$2" ] && return 0
    sleep 0.5
  done
  echo "test-slurm: job $1 did not reach $2 within $3 s (it is $(job_state "$1"))" >&2
  return 1
}

submit_workload() {
  WORK="$CLUSTER/work"
  mkdir -p "$WORK/out" "$WORK/dir|with pipe"
  # The job scripts where every test user can read them (a checkout may be private to root).
  cp -r "$JOBS_SOURCE" "$WORK/jobs"
  JOBS_HERE="$WORK/jobs"
  chmod -R a+rX "$JOBS_HERE"
  chmod 1777 "$WORK" "$WORK/out" "$WORK/dir|with pipe"
  : >"$HPCP_LIVE/jobs.tsv"
  local a=hpcpa b=hpcpb
  # Long-running first, so that they run early (FIFO priority) while the rest queues.
  TIMEOUT_JOB=$(submit $a timeout -J timeout -t 1 --wrap "sleep 300")
  RUNNING_CANCEL=$(submit $b cancel-running -J cancel-running --wrap "sleep 120")
  # long enough to be caught running, short once requeued (Slurm delays a requeued job ~2 min)
  REQUEUE_JOB=$(submit $a requeue -J requeue --requeue \
    --wrap 'if [ "${SLURM_RESTART_COUNT:-0}" -ge 1 ]; then sleep 1; else sleep 120; fi')
  COMPLETED_JOB=$(submit root completed -J completed -t 2 --wrap "sleep 2")
  submit $a failed -J failed --wrap "sleep 1; exit 3" >/dev/null
  submit $b dependent -J after-ok --dependency=afterok:"$COMPLETED_JOB" --wrap "sleep 1" >/dev/null
  submit root begin-time -J begin-later --begin=now+20 --wrap "sleep 1" >/dev/null
  PENDING_CANCEL=$(submit $b cancel-pending -J cancel-pending --hold --wrap "sleep 1")
  HELD_JOB=$(submit root held -J held --hold --wrap "sleep 1")
  submit $a array -J array --array=1-5%2 --wrap "sleep 2" >/dev/null
  submit root steps -J steps -n2 "$JOBS_HERE/steps.sh" >/dev/null
  HET_JOB=$(submit $b het -J het "$JOBS_HERE/het.sh")
  submit $a gpu-gres -J gpu-gres --gres=gpu:fake:1 --wrap "sleep 1" >/dev/null
  submit root gpus -J gpus --gpus=2 -t 3 --wrap "sleep 1" >/dev/null
  submit $a mem-per-cpu -J mem-per-cpu -n2 --mem-per-cpu=300 --wrap "sleep 1" >/dev/null
  submit $b mem-per-node -J mem-per-node -n2 --mem=600 --wrap "sleep 1" >/dev/null
  submit root long-partition -J long-partition -p long -t 2-00:00:00 -n3 --wrap "sleep 1" >/dev/null
  submit $a name-spaces -J "name with spaces" --comment "a comment with spaces" --wrap "sleep 1" >/dev/null
  submit $b name-pipe -J "pipe|name" --comment "comment|with|pipes" --wrap "sleep 1" >/dev/null
  submit root name-quotes -J "quote'd \"name\"" --comment "it's \"quoted\"" --wrap "sleep 1" >/dev/null
  submit $a workdir-pipe -J workdir-pipe -D "$WORK/dir|with pipe" --wrap "sleep 1" >/dev/null
}

# The PCP jobs (contract with tests/live/test_live_pcp.py): each alone on the node (--exclusive) so
# the node's counters are its own, submitted one after another (each once the one before it has
# ended) so that their submissions spread over the run and a temporal split has PCP jobs that ended
# before the held-out ones; PCP_REPEATS rounds of the four kinds. A disk-io job runs twice as long
# as the others (PCP_SECONDS): its disk traffic is what makes it long, so the disk family is what a
# model should learn it by.
pcp_loop() {
  local round kind id seconds script extra
  for round in $(seq "$PCP_REPEATS"); do
    for kind in disk-io cpu-loop mem-alloc net-loop; do
      seconds=$PCP_SECONDS
      extra=()
      case $kind in
        disk-io) seconds=$((2 * PCP_SECONDS)); script=disk-io.sh ;;
        cpu-loop) script=cpu-loop.sh ;;
        mem-alloc) script=mem-alloc.py; extra=(--mem=2000) ;;
        net-loop) script=net-loop.py ;;
      esac
      id=$(submit root "$kind" -J "$kind" --exclusive -t 2 "${extra[@]}" --export=ALL,DURATION="$seconds" "$JOBS_HERE/$script")
      # until it has ended (squeue lists pending, running and completing jobs only)
      while [ -n "$(squeue -h -j "$id" -o %i 2>/dev/null)" ]; do sleep 0.5; done
    done
  done
}

start_pcp_loop() {
  pcp_loop &
  PCP_LOOP_PID=$!
}

wait_pcp_loop() {  # wait_pcp_loop SECONDS
  [ -n "$PCP_LOOP_PID" ] || return 0
  local deadline=$(($(date +%s) + $1))
  while kill -0 "$PCP_LOOP_PID" 2>/dev/null; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
      echo "test-slurm: the PCP jobs were not done within $1 s" >&2
      return 1
    fi
    sleep 1
  done
  local rc=0
  wait "$PCP_LOOP_PID" || rc=$?
  PCP_LOOP_PID=
  return $rc
}

stop_pcp_loop() {
  [ -n "$PCP_LOOP_PID" ] || return 0
  kill "$PCP_LOOP_PID" 2>/dev/null || true
  wait "$PCP_LOOP_PID" 2>/dev/null || true
  PCP_LOOP_PID=
}

cancel_all_jobs() {  # cancel_all_jobs SECONDS: scancel every job, wait until none is left
  # (an interrupted run must leave no slurmstepd or job process behind when slurmd stops)
  command -v squeue >/dev/null && [ -n "${SLURM_CONF:-}" ] && [ -f "$SLURM_CONF" ] || return 0
  local ids
  ids=$(timeout 20 squeue -h -a -o %i 2>/dev/null) || return 0
  [ -n "$ids" ] || return 0
  echo "test-slurm: cancelling the jobs still queued or running" >&2
  scancel --full $ids 2>/dev/null || scancel $ids 2>/dev/null || true
  for _ in $(seq "$1"); do
    [ -z "$(timeout 20 squeue -h -a -o %i 2>/dev/null)" ] && return 0
    sleep 1
  done
  echo "test-slurm: jobs still listed after ${1}s: $(squeue -h -a -o '%i %T' | tr '\n' ' ')" >&2
}

snapshot_queue() {  # the queue as each of the three formats shows it, at one moment
  local now part
  # Nothing starts while the formats are taken one after the other: the partitions are DOWN
  # (queued jobs stay queued, running ones run on), and UP again after.
  for part in debug long; do scontrol update PartitionName=$part State=DOWN; done
  sleep 1
  now=$(date +%Y-%m-%dT%H:%M:%S)
  squeue -a --json >"$HPCP_LIVE/squeue.json"
  squeue -a --states=PENDING --format="$SQUEUE_FORMAT" >"$HPCP_LIVE/squeue.txt"
  squeue -a --states=PENDING -O "$SQUEUE_FIELDS" >"$HPCP_LIVE/squeue-fields.txt"
  # Pending at this instant, whatever the reason (held, dependency, begin time included).
  sacct -a --state=PENDING -S "$now" -E "$now" --parsable2 --format="$SACCT_FIELDS" >"$HPCP_LIVE/sacct-pending.txt"
  # What docs/queue.md used to recommend: only the eligible pending jobs.
  sacct -a --state=PENDING --parsable2 --format="$SACCT_FIELDS" >"$HPCP_LIVE/sacct-pending-eligible.txt"
  # Every job of the window with its current state: the reader keeps the PENDING ones.
  sacct -a -S "$START" -E now --parsable2 --format="$SACCT_FIELDS" >"$HPCP_LIVE/sacct-queue.txt"
  # The reference: one line per pending job, array task and het component, as squeue says.
  squeue -a -r --states=PENDING -h -o %i >"$HPCP_LIVE/squeue-ids.txt"
  echo "$now" >"$HPCP_LIVE/queue-time.txt"
  for part in debug long; do scontrol update PartitionName=$part State=UP; done
}

drive_workload() {  # the state changes a user or an admin makes while the jobs run
  sleep 2  # some jobs start, array tasks wait on the throttle
  snapshot_queue
  scancel "$PENDING_CANCEL" "$HET_JOB"  # the het job would hold the queue for ever (jobs/het.sh)
  wait_state "$RUNNING_CANCEL" RUNNING 60 && sleep 2 && scancel "$RUNNING_CANCEL"
  wait_state "$REQUEUE_JOB" RUNNING 60 && scontrol requeue "$REQUEUE_JOB"
  scontrol release "$HELD_JOB"
}

wait_workload() {  # until the PCP jobs are done, the queue is empty and accounting has every end
  local limit=$1
  wait_pcp_loop "$limit"
  for _ in $(seq "$limit"); do
    [ -z "$(squeue -h -a -o %i)" ] && break
    sleep 1
  done
  if [ -n "$(squeue -h -a -o %i)" ]; then
    echo "test-slurm: jobs still queued after ${limit}s:" >&2
    squeue -a >&2
    return 1
  fi
  for _ in $(seq 30); do
    sacct -a -n -X -S "$START" -o State | grep -qE 'PENDING|RUNNING|REQUEUED|COMPLETING' || return 0
    sleep 1
  done
}

# Every state by name: a window query without --state leaves out jobs that never became eligible
# (held, then cancelled) — seen on 22.05.
SACCT_STATES=CA,CD,DL,F,NF,OOM,PD,PR,R,RQ,RS,RV,S,TO,BF

dump_accounting() {
  local window=(-a -S "$START" -E now --state="$SACCT_STATES" --parsable2)
  sacct "${window[@]}" --format="$SACCT_FIELDS" >"$HPCP_LIVE/sacct.txt"
  sacct "${window[@]}" --delimiter=$'\x1f' --format="$SACCT_FIELDS" >"$HPCP_LIVE/sacct.usv"
  sacct "${window[@]}" --format="JobID,JobIDRaw,JobName,Comment,SubmitLine,WorkDir,State" >"$HPCP_LIVE/sacct-text.txt"
  local id
  for id in $(cut -f1 "$HPCP_LIVE/jobs.tsv"); do
    scontrol show job -d "$id" 2>/dev/null || true
  done >"$HPCP_LIVE/scontrol.txt"
}
