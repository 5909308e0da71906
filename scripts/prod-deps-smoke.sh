#!/usr/bin/env bash
# Production dependencies are enough to run droptune: copies this checkout (tracked and
# not-ignored files) to a temp folder, installs only `dependencies` there (`npm ci --omit=dev`),
# then starts `droptune up` from the copy, waits for it to say it is ready, checks that the web
# page (built by esbuild at start) and the control API answer, lists runs and models with the
# CLI, and stops it with SIGTERM. A runtime package kept in devDependencies fails here with the
# missing module's name. The trainer's Python environment is not what this checks: the copy
# gets a light venv that reuses this checkout's .venv packages (scripts/py-env.sh makes it first).
# Progress goes to stderr; exits non-zero on the first failure.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
copy="$(mktemp -d "${TMPDIR:-/tmp}/droptune-prod-XXXXXX")"
up_pid=""
cleanup() {
  if [ -n "$up_pid" ] && kill -0 "$up_pid" 2>/dev/null; then kill -TERM "$up_pid" 2>/dev/null || true; wait "$up_pid" 2>/dev/null || true; fi
  rm -rf "$copy"
}
trap cleanup EXIT
log() { printf 'prod-deps: %s\n' "$*" >&2; }

# The light venv's packages and the KServe venv come from here (cheap when up to date).
bash "$root/scripts/py-env.sh"

log "copying the checkout to $copy"
(cd "$root" && git ls-files -z --cached --others --exclude-standard | xargs -0 -I{} sh -c 'test -e "{}" && printf "%s\0" "{}"' | tar --null -T - -cf -) | tar -xf - -C "$copy"
# A checkout may link these to shared folders (git lists a link as a file): never install into those.
rm -rf "$copy/node_modules" "$copy/.venv" "$copy/.venv-kserve"

log "npm ci --omit=dev"
(cd "$copy" && npm ci --omit=dev --no-audit --no-fund --prefer-offline >&2)
if [ -e "$copy/node_modules/vitest" ] || [ -e "$copy/node_modules/typescript" ]; then
  log "devDependencies were installed: the check would prove nothing"; exit 1
fi

# A venv whose stamp matches, so `up` does not install PyTorch again into the copy.
python="$("$root/.venv/bin/python" -c 'import sys; print(sys.executable)')"
site_root="$("$root/.venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
"$python" -m venv --without-pip "$copy/.venv"
site_copy="$("$copy/.venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
# An `import` line in a .pth runs at start-up: addsitedir also reads that venv's own .pth files.
printf 'import site; site.addsitedir(%s)\n' "'$site_root'" > "$site_copy/zz-checkout-venv.pth"
cp "$root/.venv/.droptune-requirements.sha256" "$copy/.venv/"
ln -s "$root/.venv-kserve" "$copy/.venv-kserve"

home="$copy/.droptune-home"
out="$copy/up.log"
log "droptune up (from the copy, production dependencies only)"
(cd "$copy" && DROPTUNE_HOME="$home" exec node cli/bin.js up --port 0 >"$out" 2>&1) &
up_pid=$!
# Wait for the ready line, or for `up` to end (tail stops with it, and grep then fails). The
# follower is a process substitution: nothing waits for it once grep has its line.
if ! timeout 300 grep -q -m1 '^web page ' <(tail --pid="$up_pid" -n +1 -f "$out"); then
  log "droptune up did not become ready:"; cat "$out" >&2; exit 1
fi
api_url="$(sed -n 's/^control API  \(http:[^ ]*\).*/\1/p' "$out" | head -1)"
log "ready at $api_url"

(cd "$copy" && API_URL="$api_url" TOKEN_FILE="$home/api-token" node --input-type=module -e '
  import { readFileSync } from "node:fs";
  const api = process.env.API_URL;
  const token = readFileSync(process.env.TOKEN_FILE, "utf8").trim();
  const page = await fetch(`${api}/`);
  const html = await page.text();
  if (page.status !== 200 || !html.includes("app.js")) throw new Error(`web page: ${page.status} ${html.slice(0, 200)}`);
  const app = await fetch(`${api}/app.js`);
  if (app.status !== 200 || (await app.text()).length < 1000) throw new Error(`app.js: ${app.status}`);
  const models = await fetch(`${api}/v1/models`, { headers: { authorization: `Bearer ${token}` } });
  if (models.status !== 200) throw new Error(`GET /v1/models: ${models.status} ${await models.text()}`);
')
(cd "$copy" && DROPTUNE_HOME="$home" node cli/bin.js runs >&2 && DROPTUNE_HOME="$home" node cli/bin.js models >&2)

kill -TERM "$up_pid"
status=0
wait "$up_pid" || status=$?
up_pid=""
if [ "$status" -ne 0 ]; then log "droptune up exited with $status on SIGTERM:"; cat "$out" >&2; exit 1; fi
log "ok: droptune up runs on production dependencies only"
