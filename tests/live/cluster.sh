# Start and stop the throwaway single-node Slurm (sourced by run.sh; facts: SLURM.md of the project).
# Every daemon runs from $CLUSTER (a temporary folder), in the foreground of a background job, and
# its PID goes to $CLUSTER/pids so that stop_cluster stops exactly what was started here.

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

wait_for() {  # wait_for SECONDS WHAT COMMAND...: poll until COMMAND succeeds
  local limit=$1 what=$2; shift 2
  local deadline=$(($(date +%s) + limit))
  while [ "$(date +%s)" -lt "$deadline" ]; do
    if timeout 10 "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.5
  done
  echo "test-slurm: $what did not answer within ${limit}s; its log:" >&2
  tail -n 20 "$CLUSTER"/log/* >&2 2>/dev/null || true
  return 1
}

started() { echo "$1 $2" >>"$CLUSTER/pids"; }  # started NAME PID

stop_cluster() {
  [ -f "$CLUSTER/pids" ] || return 0
  # Newest first: slurmd before slurmctld before slurmdbd before MariaDB before munge.
  tac "$CLUSTER/pids" | while read -r name pid; do
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
      if kill -0 "$pid" 2>/dev/null; then
        echo "test-slurm: $name ($pid) ignored TERM, killing it" >&2
        kill -KILL "$pid" 2>/dev/null || true
      fi
    fi
  done
  rm -f "$CLUSTER/pids"
}

start_munge() {
  mkdir -p "$CLUSTER/munge"
  chown munge:munge "$CLUSTER/munge"
  chmod 0755 "$CLUSTER/munge"
  runuser -u munge -- /usr/sbin/munged -F --socket="$MUNGE_SOCKET" --pid-file="$CLUSTER/munge/munged.pid" \
    --log-file="$CLUSTER/munge/munged.log" --seed-file="$CLUSTER/munge/munged.seed" >"$CLUSTER/log/munged.out" 2>&1 &
  started munged $!
  wait_for 20 munged sh -c "munge -n --socket='$MUNGE_SOCKET' | unmunge --socket='$MUNGE_SOCKET'"
}

start_mariadb() {
  local data="$CLUSTER/mariadb"
  mariadb-install-db --user=root --datadir="$data" --auth-root-authentication-method=socket >"$CLUSTER/log/mariadb-install.log" 2>&1
  mariadbd --no-defaults --user=root --datadir="$data" --socket="$data.sock" --bind-address=127.0.0.1 \
    --port="$DB_PORT" --skip-name-resolve --log-error="$CLUSTER/log/mariadb.log" --pid-file="$data.pid" &
  started mariadbd $!
  wait_for 60 mariadb mariadb --socket="$data.sock" -e 'select 1'
  mariadb --socket="$data.sock" -e "CREATE USER 'slurm'@'127.0.0.1' IDENTIFIED BY '$DB_PASS';
    GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1'; FLUSH PRIVILEGES;"
}

write_configs() {
  local here; here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
  mkdir -p "$CLUSTER/etc" "$CLUSTER/state" "$CLUSTER/spool" "$CLUSTER/log"
  cat >"$CLUSTER/etc/slurmdbd.conf" <<CONF
AuthType=auth/munge
AuthInfo=socket=$MUNGE_SOCKET
DbdHost=localhost
DbdAddr=127.0.0.1
DbdPort=$DBD_PORT
SlurmUser=root
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=$DB_PORT
StorageLoc=slurm_acct_db
StorageUser=slurm
StoragePass=$DB_PASS
LogFile=$CLUSTER/log/slurmdbd.log
PidFile=$CLUSTER/state/slurmdbd.pid
CONF
  chmod 600 "$CLUSTER/etc/slurmdbd.conf"
  cat >"$CLUSTER/etc/slurm.conf" <<CONF
ClusterName=hpcplive
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$CTLD_PORT
SlurmUser=root
AuthType=auth/munge
AuthInfo=socket=$MUNGE_SOCKET
StateSaveLocation=$CLUSTER/state
SlurmdSpoolDir=$CLUSTER/spool/%n
SlurmctldPidFile=$CLUSTER/state/slurmctld.pid
SlurmdPidFile=$CLUSTER/state/slurmd-%n.pid
SlurmctldLogFile=$CLUSTER/log/slurmctld.log
SlurmdLogFile=$CLUSTER/log/slurmd-%n.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
PrologFlags=Contain
JobAcctGatherType=jobacct_gather/linux
JobAcctGatherFrequency=task=2
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
AccountingStoragePort=$DBD_PORT
AccountingStoragePass=$MUNGE_SOCKET
AccountingStorageTRES=gres/gpu,gres/gpu:fake
MpiDefault=none
SchedulerType=sched/backfill
SchedulerParameters=bf_interval=5,sched_interval=10
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=500
ReturnToService=2
MinJobAge=600
KillWait=2
AccountingStoreFlags=job_comment
SlurmdParameters=config_overrides
GresTypes=gpu
CliFilterPlugins=cli_filter/lua
NodeName=localhost NodeAddr=127.0.0.1 Port=$SLURMD_PORT CPUs=4 Sockets=1 CoresPerSocket=4 ThreadsPerCore=1 RealMemory=8000 Gres=gpu:fake:2
PartitionName=debug Nodes=localhost Default=YES MaxTime=60 DefaultTime=5 State=UP
PartitionName=long Nodes=localhost MaxTime=UNLIMITED State=UP

CONF
  echo "NodeName=localhost Name=gpu Type=fake File=/dev/tty[0-1]" >"$CLUSTER/etc/gres.conf"
  # The example plugin, as a site installs it: every sbatch/srun of the workload goes through it.
  cp "$here/../../examples/slurm/cli_filter.lua" "$CLUSTER/etc/cli_filter.lua"
  mkdir -p "$CLUSTER/spool/localhost"
}

start_slurm() {
  slurmdbd -D >>"$CLUSTER/log/slurmdbd.out" 2>&1 &
  started slurmdbd $!
  wait_for 60 slurmdbd sacctmgr -n list cluster
  slurmctld -D -i -f "$CLUSTER/etc/slurm.conf" >>"$CLUSTER/log/slurmctld.out" 2>&1 &
  started slurmctld $!
  wait_for 60 slurmctld sh -c 'scontrol ping | grep -q UP'
  local node
  for node in localhost; do
    slurmd -D -N $node -f "$CLUSTER/etc/slurm.conf" >>"$CLUSTER/log/slurmd-$node.out" 2>&1 &
    started "slurmd-$node" $!
  done
  wait_for 60 slurmd sh -c '[ "$(sinfo -h -N -o %T | sort -u)" = idle ]'
}

add_users() {  # add_users USER...: Unix users (created when missing) with an account each
  sacctmgr -i add account science Description=tests Organization=hpcp >/dev/null
  sacctmgr -i add account physics Description=tests Organization=hpcp >/dev/null
  sacctmgr -i add user root account=science >/dev/null
  local account=science
  for user in "$@"; do
    id "$user" >/dev/null 2>&1 || useradd --no-create-home --shell /bin/sh "$user"
    sacctmgr -i add user "$user" account=$account >/dev/null
    account=physics
  done
}
