#!/bin/sh
# Times conform's FHIRPath engine and fhirpath.js 5.2.2 on the same workload in
# one run: every R4 base invariant of the 705 clinical examples.
# Usage: bench/fhirpath/run.sh   (from anywhere; needs go, node and npm)
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
out="$root/bench/results/fhirpath"
mkdir -p "$out"
# fhirpath 5.2.2 asks for @lhncbc/ucum-lhc ^7.1.10, which the registry may not
# carry; package.json pins 7.1.9 through overrides.
(cd bench/fhirpath && npm install --no-audit --no-fund --loglevel=error >/dev/null)
go test ./bench/fhirpath -run TestWorkload -count=1 -export "$out" >/dev/null
node bench/fhirpath/fhirpath-js.js "$out" 5 > "$out/js.json"
go test ./bench/fhirpath -run '^$' -bench ClinicalInvariants -benchtime 3525x -count 5 -benchmem > "$out/go.txt"
cat "$out/go.txt"
cat "$out/js.json"
best() {
	awk -v unit="$1" '/BenchmarkClinicalInvariants/ { for (i = 1; i < NF; i++) if ($(i+1) == unit && $i > best) best = $i } END { printf "%d", best }' "$out/go.txt"
}
go_rate=$(best resources/s)
go_cpu=$(best resources/cpu-s)
js_rate=$(sed 's/.*"resources_per_sec":\([0-9]*\).*/\1/' "$out/js.json")
js_cpu=$(sed 's/.*"resources_per_cpu_sec":\([0-9]*\).*/\1/' "$out/js.json")
echo "wall: conform $go_rate resources/s, fhirpath.js $js_rate resources/s (best of 5 each)"
echo "cpu:  conform $go_cpu resources/cpu-s, fhirpath.js $js_cpu resources/cpu-s (best of 5 each)"
awk -v g="$go_rate" -v j="$js_rate" -v gc="$go_cpu" -v jc="$js_cpu" 'BEGIN { printf "conform is %.1fx fhirpath.js by wall time, %.1fx by CPU time\n", g / j, gc / jc }'
