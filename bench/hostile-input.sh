#!/usr/bin/env bash
# bench/hostile-input.sh: `pcgen validate` on hostile matrices of up to 1 MiB (issue 13):
# wall and CPU seconds and bytes printed for each. Not a timed test (the machine's load
# decides wall time); generator/tests/unit/test_input.c checks that the output stays bounded.
# Usage: bench/hostile-input.sh [PCGEN] (default bin/pcgen). Prints; appends nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
pcgen=$(realpath "${1:-bin/pcgen}")
export PCGEN_DATA="$PWD/generator/data"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
python3 - "$dir" <<'PY'
import sys
d = sys.argv[1]
head = ('repository: myrepo/pytorch-cuda\nbase: debian-bookworm\npython: "3.11"\n'
        'cuda: ["12.4"]\nflavors: [runtime]\n')
def write(name, text): open(f'{d}/{name}.yaml', 'w').write(text)
# Each stays under 1 MiB and under ytree's 100,000 nodes, so the loader sees all of it.
write('duplicates-one-line', head + 'torch: [' + ', '.join(['"2.6.0"'] * 86000) + ']\n')
write('distinct-one-line', head + 'torch: [' + ', '.join('%d.%d' % divmod(i, 1000) for i in range(99000)) + ']\n')
write('keys-one-mapping', head + 'torch: ["2.6.0"]\nlabels: {' + ', '.join('k%d: 1' % i for i in range(49000)) + '}\n')
write('unknown-keys-escaped', head + 'torch: ["2.6.0"]\n' + ''.join('"\\e[%d-xxxxxxxxxx": 1\n' % i for i in range(40000)))
write('aliases', head + 'torch: ["2.6.0"]\naliases:\n' + ''.join('  - {name: "a%d-xxxxxxxxxx", cuda: pypi}\n' % i for i in range(19900)))
write('excludes', head + 'torch: ["2.6.0"]\nexclude:\n' + ''.join('  - {torch: "2.6.0", cuda: "12.%d"}\n' % i for i in range(19900)))
write('includes', head + 'torch: ["2.6.0"]\ninclude:\n' + ''.join('  - {torch: "2.6.0", cuda: "12.4"} #%d\n' % i for i in range(19900)))
write('huge-label-value', head + 'torch: ["2.6.0"]\nlabels:\n  org.example.x: "' + 'v' * 1040000 + '"\n')
PY
printf '%-22s %9s %7s %7s %9s\n' input bytes-in wall-s cpu-s bytes-out
for f in "$dir"/*.yaml; do
  /usr/bin/time -f '%e %U %S' -o "$dir/time" "$pcgen" validate "$f" >"$dir/out" 2>&1 || true
  read -r wall user sys < <(tail -n 1 "$dir/time")
  printf '%-22s %9d %7.2f %7.2f %9d\n' "$(basename "$f" .yaml)" "$(stat -c %s "$f")" "$wall" \
    "$(awk -v u="$user" -v s="$sys" 'BEGIN { print u + s }')" "$(stat -c %s "$dir/out")"
done
