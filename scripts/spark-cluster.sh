#!/usr/bin/env bash
# Scale-out, step 2: a Spark standalone cluster on this machine's loopback: one master and
# PHUSO_SPARK_WORKERS workers (default 2) of one core each, from the venv of spark-setup.sh.
#   bash scripts/spark-cluster.sh start    # prints the master URL (spark://127.0.0.1:PORT)
#   bash scripts/spark-cluster.sh stop     # stops what start started (by PID)
#   bash scripts/spark-cluster.sh url      # the running cluster's master URL
# Logs and work directories: target/spark-cluster/ (PHUSO_SPARK_CLUSTER_DIR to move them).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${PHUSO_SPARK_VENV:-$PWD/target/spark-venv}"
DIR="${PHUSO_SPARK_CLUSTER_DIR:-$PWD/target/spark-cluster}"
WORKERS="${PHUSO_SPARK_WORKERS:-2}"
WORKER_MEMORY="${PHUSO_SPARK_WORKER_MEMORY:-2g}"

free_port() { "$VENV/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Waits up to 90 s for a line in a log; names the log when it does not come.
wait_for() {
  local log=$1 pattern=$2 pid=$3
  for _ in $(seq 180); do
    grep -q "$pattern" "$log" 2>/dev/null && return 0
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "spark-cluster: $(basename "$log" .log) exited; its log $log ends:" >&2
      tail -20 "$log" >&2
      return 1
    fi
    sleep 0.5
  done
  echo "spark-cluster: no '$pattern' in $log after 90 s" >&2
  return 1
}

stop() {
  [ -d "$DIR" ] || return 0
  local pids=()
  for f in "$DIR"/*.pid; do
    [ -e "$f" ] || continue
    pids+=("$(cat "$f")")
  done
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do
    for _ in $(seq 40); do kill -0 "$p" 2>/dev/null || break; sleep 0.25; done
    kill -9 "$p" 2>/dev/null || true
  done
  rm -f "$DIR"/*.pid "$DIR/url"
}

case "${1:-}" in
  start)
    if [ ! -x "$VENV/bin/python" ]; then
      echo "spark-cluster: no venv at $VENV: run bash scripts/spark-setup.sh first" >&2
      exit 2
    fi
    stop
    mkdir -p "$DIR"
    SPARK_HOME="$("$VENV/bin/python" -c 'import os, pyspark; print(os.path.dirname(pyspark.__file__))')"
    export SPARK_HOME SPARK_LOCAL_IP=127.0.0.1 SPARK_LOG_DIR="$DIR" PYSPARK_PYTHON="$VENV/bin/python"
    # The master's REST submission server is off; its and the workers' web UIs take any free port.
    export SPARK_MASTER_OPTS="-Dspark.master.rest.enabled=false"
    port=$(free_port)
    "$SPARK_HOME/bin/spark-class" org.apache.spark.deploy.master.Master \
      --host 127.0.0.1 --port "$port" --webui-port 0 >"$DIR/master.log" 2>&1 &
    echo $! >"$DIR/master.pid"
    wait_for "$DIR/master.log" "I have been elected leader" "$(cat "$DIR/master.pid")" || { stop; exit 1; }
    url="spark://127.0.0.1:$port"
    for w in $(seq "$WORKERS"); do
      mkdir -p "$DIR/worker$w"
      "$SPARK_HOME/bin/spark-class" org.apache.spark.deploy.worker.Worker "$url" \
        --host 127.0.0.1 --cores 1 --memory "$WORKER_MEMORY" --webui-port 0 \
        --work-dir "$DIR/worker$w" >"$DIR/worker$w.log" 2>&1 &
      echo $! >"$DIR/worker$w.pid"
    done
    for w in $(seq "$WORKERS"); do
      wait_for "$DIR/worker$w.log" "Successfully registered with master" "$(cat "$DIR/worker$w.pid")" || { stop; exit 1; }
    done
    echo "$url" >"$DIR/url"
    echo "$url"
    ;;
  stop) stop ;;
  url) cat "$DIR/url" ;;
  *)
    echo "usage: bash scripts/spark-cluster.sh start|stop|url" >&2
    exit 2
    ;;
esac
