#!/usr/bin/env bash
# Offline demo of tracker: two simulated endpoints on loopback, one run at concurrency 1 and
# at a higher level, the run's summary, and the report.
#
# The two endpoints are `tracker sim` with the built-in ILLUSTRATIVE profiles: invented
# parameters, not measurements of any real hardware (docs/sim.md). illustrative-fast wins
# for a single stream; at high concurrency its small batch saturates and illustrative-scaling
# wins. Nothing here prints that result: it comes out of the simulator's engine model.
#
# Needs no network and no file outside the repository. Settings (environment):
#   BIN (bin/tracker)  OUT (demo-out)
#   FAST_ADDR, SCALING_ADDR (127.0.0.1:0: free loopback ports, read back from the sims' output)
#   HIGH (32: the high concurrency level)
#   REQUESTS (32: requests per level, cycling through the 20 questions)
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${BIN:-bin/tracker}
OUT=${OUT:-demo-out}
FAST_ADDR=${FAST_ADDR:-127.0.0.1:0}
SCALING_ADDR=${SCALING_ADDR:-127.0.0.1:0}
REQUESTS=${REQUESTS:-32}
HIGH=${HIGH:-32}
MODEL=illustrative-model
DB="$OUT/tracker.db"

make --no-print-directory build BIN="$BIN"

mkdir -p "$OUT"
rm -f "$DB" "$DB-wal" "$DB-shm"

echo "== starting two simulated endpoints (illustrative profiles, not real hardware)"
"$BIN" sim --listen "$FAST_ADDR" --profile illustrative-fast \
	--listen "$SCALING_ADDR" --profile illustrative-scaling >"$OUT/sim.log" 2>&1 &
SIM_PID=$!
stop_sims() {
	if kill -0 "$SIM_PID" 2>/dev/null; then
		kill -TERM "$SIM_PID" 2>/dev/null || true
		wait "$SIM_PID" 2>/dev/null || true
	fi
	echo "== simulators stopped; what they served:"
	cat "$OUT/sim.log"
}
trap stop_sims EXIT

# Wait until both sims listen, and read their addresses from what they print
# ("sim NAME: model M on http://ADDR/v1").
FAST_URL= SCALING_URL=
for _ in $(seq 100); do
	if grep -q '^serving' "$OUT/sim.log" 2>/dev/null; then
		FAST_URL=$(sed -n 's|^sim illustrative-fast: .* on \(http://[^ ]*\)$|\1|p' "$OUT/sim.log")
		SCALING_URL=$(sed -n 's|^sim illustrative-scaling: .* on \(http://[^ ]*\)$|\1|p' "$OUT/sim.log")
		break
	fi
	if ! kill -0 "$SIM_PID" 2>/dev/null; then
		echo "demo: the simulators did not start:" >&2
		exit 1
	fi
	sleep 0.1
done
if [ -z "$FAST_URL" ] || [ -z "$SCALING_URL" ]; then
	echo "demo: simulators not listening after 10 s" >&2
	exit 1
fi
echo "   fast:    $FAST_URL (illustrative-fast)"
echo "   scaling: $SCALING_URL (illustrative-scaling)"

echo "== tracker run: $REQUESTS requests per level over 20 SQuAD-style questions, concurrency 1 and $HIGH"
"$BIN" --db "$DB" run \
	--endpoint "name=fast,url=$FAST_URL,model=$MODEL" \
	--endpoint "name=scaling,url=$SCALING_URL,model=$MODEL" \
	--dataset examples/squad-mini.jsonl --concurrency "1,$HIGH" --requests "$REQUESTS" --max-tokens 64 --label demo

echo "== who wins at each level (from v_summary)"
"$BIN" --db "$DB" query "SELECT concurrency, endpoint,
       round(mean_e2e_ms, 1) AS mean_e2e_ms, round(p50_ttft_ms, 1) AS p50_ttft_ms,
       round(output_tok_s, 1) AS output_tok_s, round(f1, 1) AS f1
FROM v_summary WHERE label = 'demo' ORDER BY concurrency, endpoint"
"$BIN" --db "$DB" query "SELECT f.concurrency,
       round(s.mean_e2e_ms / f.mean_e2e_ms, 2) AS fast_speedup_e2e,
       round(f.output_tok_s / s.output_tok_s, 2) AS fast_throughput_ratio,
       CASE WHEN f.mean_e2e_ms < s.mean_e2e_ms THEN 'fast' ELSE 'scaling' END AS lower_mean_latency,
       CASE WHEN f.output_tok_s > s.output_tok_s THEN 'fast' ELSE 'scaling' END AS higher_throughput
FROM v_summary f JOIN v_summary s ON s.run_id = f.run_id AND s.concurrency = f.concurrency
WHERE f.label = 'demo' AND f.endpoint = 'fast' AND s.endpoint = 'scaling' ORDER BY f.concurrency"

echo "== what the servers themselves reported at each level (their /metrics, scraped during the run: v_server_level)"
"$BIN" --db "$DB" query "SELECT concurrency, endpoint, family AS metric, round(mean, 1) AS mean, max
FROM v_server_level WHERE label = 'demo' AND family IN ('vllm:num_requests_running', 'vllm:num_requests_waiting')
ORDER BY concurrency, endpoint, family"

echo "== tracker report"
"$BIN" --db "$DB" report --out "$OUT/report"
