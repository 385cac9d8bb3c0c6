#!/usr/bin/env bash
# local-cluster.sh -- a real single-node SLURM cluster on localhost for memdissect's SLURM
# tests: installs Debian's slurm-wlm and munge, writes slurm.conf and gres.conf with fake
# GPUs, starts munged, slurmctld and slurmd, and waits until the node is idle.
#
#   sudo tests/slurm/local-cluster.sh            # = start (idempotent)
#   sudo tests/slurm/local-cluster.sh stop       # stop the daemons it started, by PID
#   sudo tests/slurm/local-cluster.sh status
#
# No accounting daemon: sacct is moved aside, so the SLURM executor plugin checks job status
# with squeue by itself. Fake GPUs are gres files that link to /dev/null, so
# `--gpus=N` is scheduled and sets CUDA_VISIBLE_DEVICES while torch sees no CUDA device.
#
# Knobs (environment variables):
#   SLURM_NODE_CPUS      CPUs the node advertises (default 8; may exceed the real cores,
#                        so profiles/slurm's cpus_per_gpu fits)
#   SLURM_NODE_MEM_MB    memory the node advertises in MB (default 65536, likewise)
#   SLURM_FAKE_GPUS      number of fake GPUs (default 2: two GPU jobs at a time; 0 = none)
#   SLURM_FAKE_GPU_TYPE  GPU type name for the gpu_model resource (default: untyped)
#   SLURM_NODE_FEATURES  comma list of node features for `constraint` (default: none)
#   SLURM_PARTITIONS     comma list of partitions, the first is the default (default: debug)
#   SLURM_MIN_JOB_AGE    seconds finished jobs stay visible to squeue (default: 300)
#   SLURM_SKIP_INSTALL=1 do not call apt-get
#   SLURM_SMOKE_TEST=0   skip the srun smoke test
set -euo pipefail

ACTION="${1:-start}"
NODE=localhost
CONF_DIR=/etc/slurm
LOG_DIR=/var/log/slurm
FAKE_GPU_DIR=/var/lib/slurm/fake-gpu
CTLD_PID=/run/slurmctld.pid
SLURMD_PID=/run/slurmd.pid
MUNGE_PID=/run/munge/munged.pid
PKGS=(slurmctld slurmd slurm-client munge)

log() { printf '[local-cluster] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN{printf "%.1f", b-a}'; }

pid_alive() { # pidfile -> 0 if the process in it is alive
  [[ -s "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null
}

stop_pidfile() { # <pidfile> <name>
  local pf="$1" name="$2" pid i
  if ! pid_alive "$pf"; then rm -f "$pf"; return 0; fi
  pid="$(cat "$pf")"
  log "stopping $name (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  if kill -0 "$pid" 2>/dev/null; then
    log "$name did not stop within 30 s, sending SIGKILL to pid $pid"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$pf"
}

do_stop() {
  if pid_alive "$CTLD_PID"; then
    # cancel leftover jobs so no slurmstepd keeps running after slurmd is gone
    local jobs; jobs="$(timeout 10 squeue -h -o %i 2>/dev/null || true)"
    # shellcheck disable=SC2086
    if [[ -n "$jobs" ]]; then timeout 10 scancel $jobs 2>/dev/null || true; fi
  fi
  stop_pidfile "$SLURMD_PID" slurmd
  stop_pidfile "$CTLD_PID" slurmctld   # its child slurmscriptd exits with it
  stop_pidfile "$MUNGE_PID" munged
  log "stopped."
}

do_status() {
  local d
  for d in "munged:$MUNGE_PID" "slurmctld:$CTLD_PID" "slurmd:$SLURMD_PID"; do
    if pid_alive "${d#*:}"; then echo "${d%%:*}: running (pid $(cat "${d#*:}"))"
    else echo "${d%%:*}: not running"; fi
  done
  if pid_alive "$CTLD_PID"; then timeout 10 sinfo -N -o '%N %P %T %c %m %G %f' || true; fi
}

[[ "$(id -u)" == 0 ]] || die "must run as root"
case "$ACTION" in
  stop) do_stop; exit 0 ;;
  status) do_status; exit 0 ;;
  start) ;;
  *) die "usage: $0 [start|stop|status]" ;;
esac

T_ALL=$(now)

# ---------------------------------------------------------------- 1. install
missing=()
for p in "${PKGS[@]}"; do
  st="$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)"
  [[ "$st" == "install ok installed" ]] || missing+=("$p")
done
if ((${#missing[@]})); then
  [[ "${SLURM_SKIP_INSTALL:-0}" == 1 ]] && die "missing packages: ${missing[*]}"
  T=$(now)
  export DEBIAN_FRONTEND=noninteractive
  policy="$(apt-cache policy slurmctld 2>/dev/null || true)"
  if [[ "$policy" != *Candidate:* || "$policy" == *"Candidate: (none)"* ]]; then
    apt-get update -q   # fresh machine without package lists
  fi
  # keep postinst from starting munge/slurm via systemd/init: we start them ourselves
  created_policy=0
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod 755 /usr/sbin/policy-rc.d
    created_policy=1
  fi
  apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null \
    || { [[ $created_policy == 1 ]] && rm -f /usr/sbin/policy-rc.d; die "apt-get install failed"; }
  [[ $created_policy == 1 ]] && rm -f /usr/sbin/policy-rc.d
  log "installed ${missing[*]} in $(since "$T") s"
fi
log "slurm $(dpkg-query -W -f='${Version}' slurmctld), munge $(dpkg-query -W -f='${Version}' munge)"

# No accounting daemon here, so sacct cannot answer: move it aside (a diversion that package
# upgrades respect), as on a cluster without accounting. The SLURM executor plugin then picks
# squeue for its status checks by itself, and a site profile needs no setting for it.
if [[ -e /usr/bin/sacct ]] && ! dpkg-divert --list /usr/bin/sacct | grep -q .; then
  dpkg-divert --local --rename --divert /usr/bin/sacct.no-accounting --add /usr/bin/sacct >/dev/null
  log "moved sacct aside (/usr/bin/sacct.no-accounting): this cluster has no accounting"
fi

# ---------------------------------------------------------------- 2. config
CPUS="${SLURM_NODE_CPUS:-8}"
MEM="${SLURM_NODE_MEM_MB:-65536}"
NGPU="${SLURM_FAKE_GPUS:-2}"
GTYPE="${SLURM_FAKE_GPU_TYPE:-}"
FEATURES="${SLURM_NODE_FEATURES:-}"
PARTS="${SLURM_PARTITIONS:-debug}"
MINJOBAGE="${SLURM_MIN_JOB_AGE:-300}"
# Memory default per allocated CPU for jobs without --mem (otherwise a job
# without --mem grabs the whole node and serialises everything).
DEFMEM=$(( MEM / CPUS )); (( DEFMEM > 1000 )) && DEFMEM=1000

mkdir -p "$CONF_DIR" "$LOG_DIR" /var/lib/slurm/slurmctld /var/lib/slurm/slurmd /run/munge
chown slurm:slurm "$LOG_DIR" /var/lib/slurm/slurmctld /var/lib/slurm/slurmd
chown munge:munge /run/munge; chmod 755 /run/munge

node_line="NodeName=$NODE NodeAddr=127.0.0.1 CPUs=$CPUS RealMemory=$MEM State=UNKNOWN"
[[ -n "$FEATURES" ]] && node_line+=" Features=$FEATURES"
gres_conf="AutoDetect=off"
gres_types="# no GRES"
if (( NGPU > 0 )); then
  gres_types="GresTypes=gpu"
  node_line+=" Gres=gpu:${GTYPE:+$GTYPE:}$NGPU"
  # slurmd requires each gres File to be a char/block device (a plain file is
  # rejected); symlinks to /dev/null pass the check and need no mknod.
  mkdir -p "$FAKE_GPU_DIR"
  for ((i = 0; i < NGPU; i++)); do ln -sfn /dev/null "$FAKE_GPU_DIR/nvidia$i"; done
  gres_conf+=$'\n'"NodeName=$NODE Name=gpu${GTYPE:+ Type=$GTYPE} File=$FAKE_GPU_DIR/nvidia[0-$((NGPU - 1))]"
fi

part_lines=""; first=1
IFS=',' read -r -a parts <<<"$PARTS"
for p in "${parts[@]}"; do
  part_lines+="PartitionName=$p Nodes=ALL Default=$([[ $first == 1 ]] && echo YES || echo NO) MaxTime=INFINITE State=UP"$'\n'
  first=0
done

slurm_conf="# generated by memdissect tests/slurm/local-cluster.sh -- single-node test cluster
ClusterName=memdissect-local
SlurmctldHost=$NODE
SlurmUser=slurm
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
MailProg=/bin/true
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SlurmdParameters=config_overrides
EnforcePartLimits=ALL
ReturnToService=2
MinJobAge=$MINJOBAGE
DefMemPerCPU=$DEFMEM
$gres_types
SlurmctldPidFile=$CTLD_PID
SlurmdPidFile=$SLURMD_PID
SlurmdSpoolDir=/var/lib/slurm/slurmd
StateSaveLocation=/var/lib/slurm/slurmctld
SlurmctldLogFile=$LOG_DIR/slurmctld.log
SlurmdLogFile=$LOG_DIR/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
$node_line
$part_lines"

changed=0
write_if_changed() { # file content
  if ! printf '%s\n' "$2" | cmp -s - "$1"; then
    printf '%s\n' "$2" > "$1"; changed=1
  fi
}
write_if_changed "$CONF_DIR/slurm.conf" "$slurm_conf"
write_if_changed "$CONF_DIR/gres.conf" "$gres_conf"
chmod 644 "$CONF_DIR/slurm.conf" "$CONF_DIR/gres.conf"

# ---------------------------------------------------------------- 3. daemons
T=$(now)
if ((changed)) && { pid_alive "$CTLD_PID" || pid_alive "$SLURMD_PID"; }; then
  log "configuration changed: restarting slurm daemons"
  stop_pidfile "$SLURMD_PID" slurmd
  stop_pidfile "$CTLD_PID" slurmctld
fi

if [[ ! -s /etc/munge/munge.key ]]; then
  log "creating munge key"
  runuser -u munge -- mungekey --create --force 2>/dev/null \
    || { dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 status=none; }
  chown munge:munge /etc/munge/munge.key; chmod 400 /etc/munge/munge.key
fi
if ! pid_alive "$MUNGE_PID"; then
  rm -f "$MUNGE_PID"
  runuser -u munge -- /usr/sbin/munged
fi
munge -n | unmunge >/dev/null || die "munge self-test failed"

fresh_ctld=0
if ! pid_alive "$CTLD_PID"; then
  # -c: start with clean state (no stale jobs, no DRAIN reasons from earlier runs)
  /usr/sbin/slurmctld -c
  fresh_ctld=1
fi
if ! pid_alive "$SLURMD_PID"; then
  /usr/sbin/slurmd -N "$NODE"
fi

state=""
for i in $(seq 1 120); do
  state="$(timeout 5 sinfo -h -n "$NODE" -o %T 2>/dev/null | head -1 || true)"
  case "$state" in
    idle|mixed|allocated|completing) break ;;
    *drain*|*inval*|down*|fail*)
      # with a fresh (-c) slurmctld this is a real config problem: fail fast
      ((fresh_ctld)) && break
      timeout 5 scontrol update nodename="$NODE" state=resume 2>/dev/null || true ;;
  esac
  sleep 0.5
done
case "$state" in
  idle|mixed|allocated|completing) ;;
  *)
    log "node did not become idle (state='$state')"
    timeout 5 scontrol show node "$NODE" 2>&1 | grep -E 'State|Reason' >&2 || true
    tail -n 20 "$LOG_DIR/slurmctld.log" "$LOG_DIR/slurmd.log" >&2 || true
    exit 1 ;;
esac
log "daemons up, node '$NODE' is $state after $(since "$T") s"

# ---------------------------------------------------------------- 4. smoke test
if [[ "${SLURM_SMOKE_TEST:-1}" == 1 ]]; then
  T=$(now)
  out="$(timeout 60 srun -t 1 -N1 -n1 hostname)" || die "srun smoke test failed"
  if ((NGPU > 0)); then
    gpu_out="$(timeout 60 srun -t 1 --gpus=1 printenv CUDA_VISIBLE_DEVICES)" \
      || die "srun --gpus=1 smoke test failed"
    out+=" / --gpus=1 -> CUDA_VISIBLE_DEVICES=$gpu_out"
  fi
  log "smoke test ok ($out) in $(since "$T") s"
fi

timeout 10 sinfo -N -o '%N %P %T %c %m %G %f' >&2 || true
log "total $(since "$T_ALL") s"
cat >&2 <<EOF
[local-cluster] cluster is running. Logs: $LOG_DIR/{slurmctld,slurmd}.log
[local-cluster] Snakemake profile must contain:  executor: slurm / slurm-status-command: squeue
[local-cluster] to stop it:  sudo $0 stop
[local-cluster]   (= kill \$(cat $SLURMD_PID) \$(cat $CTLD_PID) \$(cat $MUNGE_PID), by PID)
EOF
