#!/usr/bin/env bash
# Sets up and runs every test suite: TypeScript (vitest), the trainer (pytest), lint and types.
# Ends with one line `N passed, N failed[, N skipped]` counting every test of every suite.
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
status=0

bash scripts/ensure-test-tools.sh || { echo "test tools could not be installed" >&2; status=1; }
[ -d node_modules ] || npm ci --no-audit --no-fund >&2 || status=1

# The trainer's environment first: the TypeScript end-to-end tests run the trainer too.
bash scripts/py-env.sh || { echo "the trainer's Python environment could not be created" >&2; status=1; }

# The cloud images, built here from their Dockerfiles (podman): the container and rehearsal
# suites in vitest run them. Cached by podman; a fresh machine downloads the torch/CUDA wheels.
echo "== images (podman) ==" >&2
IMAGES_RECORD=0 bash scripts/images.sh >&2 || { echo "the trainer and serving images could not be built" >&2; status=1; }

echo "== lint (biome) ==" >&2
npx --no-install biome check . >&2 || { echo "lint failed" >&2; status=1; }
echo "== import boundaries ==" >&2
npx --no-install tsx scripts/check-boundaries.ts || { echo "boundary check failed" >&2; status=1; }
echo "== file sizes (at most 400 lines, STYLE.md 1) ==" >&2
npx --no-install tsx scripts/check-file-size.ts || { echo "file size check failed" >&2; status=1; }
echo "== trainer types (mypy --strict, training-image/pyproject.toml) ==" >&2
(cd training-image && ../.venv/bin/python -m mypy) >&2 || { echo "trainer type check failed" >&2; status=1; }
echo "== types (tsc) ==" >&2
npx --no-install tsc --noEmit -p tsconfig.json >&2 || { echo "type check failed" >&2; status=1; }

echo "== TypeScript tests (vitest) ==" >&2
npx --no-install vitest run --reporter=default --reporter=json --outputFile.json="$out/vitest.json" || status=1

echo "== trainer tests (pytest) ==" >&2
PYTEST_ADDOPTS="--junitxml=$out/pytest.xml" bash scripts/test-py.sh || status=1

node - "$out" <<'JS' || status=1
const fs = require('node:fs');
const dir = process.argv[2];
let passed = 0, failed = 0, skipped = 0;
const vitest = `${dir}/vitest.json`;
if (fs.existsSync(vitest)) {
  const r = JSON.parse(fs.readFileSync(vitest, 'utf8'));
  passed += r.numPassedTests; failed += r.numFailedTests;
  skipped += r.numPendingTests + r.numTodoTests;
  // A suite that failed to load has no tests counted: count it as one failure so it shows.
  failed += r.testResults.filter((t) => t.status === 'failed' && t.assertionResults.length === 0).length;
} else { failed += 1; console.error('vitest wrote no report'); }
const junit = `${dir}/pytest.xml`;
if (fs.existsSync(junit)) {
  const x = fs.readFileSync(junit, 'utf8');
  const suite = /<testsuite\b[^>]*>/.exec(x)?.[0] ?? '';
  const attr = (n) => Number(new RegExp(`\\b${n}="(\\d+)"`).exec(suite)?.[1] ?? 0);
  const tests = attr('tests'), fails = attr('failures') + attr('errors'), skips = attr('skipped');
  passed += tests - fails - skips; failed += fails; skipped += skips;
} else { failed += 1; console.error('pytest wrote no report'); }
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
if (failed > 0) process.exit(1);
JS
exit $status
