#!/bin/sh
# Times conform's validator, @medplum/core 4.5.2 and fhir (FHIR.js) 4.12.0 on
# the same 705 clinical R4 examples in one run.
# Usage: bench/validate/run.sh   (from anywhere; needs go, node and npm)
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
out="$root/bench/results/validate"
mkdir -p "$out"
(cd bench/validate && npm install --no-audit --no-fund --loglevel=error >/dev/null)
go test ./bench/validate -run TestExport -count=1 -export "$out" >/dev/null
node bench/validate/peers.js "$out" 5 > "$out/js.json"
go test ./bench/validate -run '^$' -bench 'Clinical$' -benchtime 10x -count 5 > "$out/go.txt"
go test ./bench/validate -run '^$' -bench 'ClinicalOneWorker' -cpu 1 -benchtime 10x -count 5 > "$out/go1.txt"
cat "$out/go.txt" "$out/go1.txt" "$out/js.json"
best() {
	awk -v unit="$2" '/^Benchmark/ { for (i = 1; i < NF; i++) if ($(i+1) == unit && $i > best) best = $i } END { printf "%d", best }' "$1"
}
printf '%-28s %14s %16s %16s\n' peer resources/s resources/cpu-s flagged-invalid
printf '%-28s %14s %16s %16s\n' "conform (2 workers)" "$(best "$out/go.txt" resources/s)" "$(best "$out/go.txt" resources/cpu-s)" "$(best "$out/go.txt" flagged-invalid)"
printf '%-28s %14s %16s %16s\n' "conform (1 core)" "$(best "$out/go1.txt" resources/s)" "$(best "$out/go1.txt" resources/cpu-s)" "$(best "$out/go1.txt" flagged-invalid)"
sed 's/.*"peer":"\([^"]*\)".*"resources_per_sec":\([0-9]*\).*"resources_per_cpu_sec":\([0-9]*\).*"flagged_invalid":\([0-9]*\).*/\1|\2|\3|\4/' "$out/js.json" |
	while IFS='|' read -r peer rate cpu invalid; do
		printf '%-28s %14s %16s %16s\n' "$peer" "$rate" "$cpu" "$invalid"
	done
