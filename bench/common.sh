# The benchmarks' shared part, sourced by bench/run and bench/memory with their arguments: the
# seconds per measurement (or --smoke: 1), the build, a work directory and the JVMs started in it,
# cleaned up on exit whatever happens, and the helpers that start a server, load it and stop it.
set -Eeuo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-10}"
smoke=false # --smoke: CI's check that the benchmark runs, one second per step
if [ "$seconds" = "--smoke" ]; then
    seconds=1
    smoke=true
fi
bash scripts/setup
command -v wrk >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
# STICKY_BENCH_BUILT: the build is there already (bench/run builds once for bench/memory too; CI has just built it)
[ -n "${STICKY_BENCH_BUILT:-}" ] || mvn -B -ntp -q -DskipTests package
sources=64

jar=agent/target/sticky.jar
cp="integration-tests/target/classes:$(ls integration-tests/target/app-libs/*.jar | tr '\n' ':')"
work=$(mktemp -d /tmp/sticky-bench.XXXXXX)
started=()
cleanup() {
    for pid in "${started[@]}"; do
        pkill -KILL -P "$pid" 2>/dev/null || true
        kill -KILL "$pid" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap cleanup EXIT
trap 'echo "$0: failed at line $LINENO: $BASH_COMMAND" >&2' ERR
gcc -O2 -shared -fPIC -o "$work/spread.so" bench/spread.c -ldl
gcc -O2 -o "$work/paced" bench/paced.c

# await_listening NAME N PID SECONDS: until the log of NAME has N "listening" lines; fails, with the log and
# the processes, if PID dies first or SECONDS pass.
await_listening() {
    local name=$1 lines=$2 p=$3 deadline=$(( $(date +%s) + $4 ))
    until [ "$(grep -c '^listening ' "$work/$name.log" || true)" -ge "$lines" ]; do
        kill -0 "$p" 2>/dev/null || { cat "$work/$name.log"; echo "$name died"; exit 1; }
        if [ "$(date +%s)" -gt "$deadline" ]; then
            tail -n 30 "$work/$name.log"; ps -o pid,stat,etime,time,args --ppid "$p" -p "$p" | cut -c1-160
            echo "$name: fewer than $lines 'listening' lines after $4 s"; exit 1
        fi
        sleep 0.025
    done
}

# start NAME EXPECTED_LISTENING_LINES COMMAND...: runs it, waits until it serves; sets $pid, $port, $startup_ms.
start() {
    local name=$1 lines=$2
    shift 2
    local begin=$(date +%s%N)
    "$@" > "$work/$name.log" 2>&1 &
    pid=$!
    started+=("$pid")
    await_listening "$name" "$lines" "$pid" 120 # a start on a loaded 2-core machine once took over 30 s
    port=$(grep -m1 '^listening ' "$work/$name.log" | cut -d' ' -f2)
    startup_ms=$(( ($(date +%s%N) - begin) / 1000000 ))
}

stop() {
    kill -TERM "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}

# load PORT SOURCES [header]: "requests/s p50_us p99_us" from wrk at saturation, from SOURCES addresses
load() {
    local out
    out=$(STICKY_BENCH_SOURCES=$2 LD_PRELOAD="$work/spread.so" \
        wrk -t2 -c64 -d"${duration:-$seconds}s" --latency ${3:+-H "$3"} "http://127.0.0.1:$1/" 2>&1)
    local rps=$(echo "$out" | awk '/Requests\/sec/ {printf "%d", $2}')
    echo "$rps $(echo "$out" | awk '$1=="50%" {print $2}' | us) $(echo "$out" | awk '$1=="99%" {print $2}' | us)"
}

# wrk's latencies (123.45us, 1.23ms, 2.00s) in microseconds
us() {
    awk '{ v=$1; if (v ~ /us$/) { sub(/us/,"",v); printf "%d", v } else if (v ~ /ms$/) { sub(/ms/,"",v); printf "%d", v*1000 } else { sub(/s/,"",v); printf "%d", v*1000000 } }'
}

