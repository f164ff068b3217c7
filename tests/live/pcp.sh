# pmcd and a 1-second pmlogger during the workload (sourced by run.sh). The contract with the PCP
# tests: the archive is $HPCP_LIVE/pcp/<hostname>/YYYYMMDD.{0,index,meta}. A pmcd that already
# answers is reused and never stopped; one started here is stopped by its PID.

PMLOGGER_PID=

pmcd_answers() { pminfo -h local: kernel.all.load >/dev/null 2>&1; }

start_pmcd() {
  if pmcd_answers; then
    echo "test-slurm: reusing the pmcd already answering"
    return 0
  fi
  mkdir -p /run/pcp /var/log/pcp/pmcd
  chown pcp:pcp /run/pcp /var/log/pcp/pmcd 2>/dev/null || true
  /etc/init.d/pmcd start >"$CLUSTER/log/pmcd-start.log" 2>&1 || true
  wait_for 30 pmcd pminfo -h local: kernel.all.load
  started pmcd "$(cat /run/pcp/pmcd.pid)"
}

start_pmlogger() {
  local dir="$HPCP_LIVE/pcp/$(hostname)"
  mkdir -p "$dir"
  cat >"$CLUSTER/etc/pmlogger.config" <<'CONF'
log mandatory on 1 sec {
    hinv.ncpu mem.physmem
    kernel.all.load kernel.all.pswitch proc.nprocs
    kernel.all.cpu.user kernel.all.cpu.sys kernel.all.cpu.idle kernel.all.cpu.wait.total
    kernel.percpu.cpu.user kernel.percpu.cpu.sys
    mem.util.used mem.util.free mem.util.cached mem.util.dirty swap.used
    disk.all.read_bytes disk.all.write_bytes disk.dev.read_bytes disk.dev.write_bytes
    network.interface.in.bytes network.interface.out.bytes
    network.interface.in.packets network.interface.out.packets
}
CONF
  pmlogger -h local: -c "$CLUSTER/etc/pmlogger.config" -t 1sec -T 30min -l "$CLUSTER/log/pmlogger.log" \
    "$dir/$(date +%Y%m%d)" &
  PMLOGGER_PID=$!
  started pmlogger "$PMLOGGER_PID"
  wait_for 20 pmlogger test -s "$dir/$(date +%Y%m%d).index"
}

stop_pmlogger() {  # SIGINT makes pmlogger flush and close the archive
  [ -n "$PMLOGGER_PID" ] || return 0
  kill -INT "$PMLOGGER_PID" 2>/dev/null || true
  for _ in $(seq 40); do kill -0 "$PMLOGGER_PID" 2>/dev/null || break; sleep 0.25; done
  PMLOGGER_PID=
}
