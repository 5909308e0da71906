#!/usr/bin/env bash
# `npm run images`: builds the trainer and serving images from the same Dockerfiles Cloud Build
# uses, with podman (no Docker engine here) on a Debian base made by scripts/images-base.sh,
# prints name, size and digest, and writes bench/results/images.json.
# podman's layer cache makes an unchanged rebuild take seconds; a changed input rebuilds from
# the first layer it affects. The trainer's wheels are downloaded once per machine into a
# wheelhouse (scripts/images-wheels.sh) that the build installs from offline.
#   bash scripts/images.sh [trainer|serving]...     (default: both)
# IMAGES_RECORD=0 prints without writing images.json (the test script: results stay as measured).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/images-lib.sh

TRAINER_IMAGE=${DROPTUNE_TRAINER_IMAGE:-localhost/droptune-trainer:latest}
SERVING_IMAGE=${DROPTUNE_SERVING_IMAGE:-localhost/droptune-serving:latest}
which=("$@")
[ ${#which[@]} -gt 0 ] || which=(trainer serving)

bash scripts/images-base.sh
build_flags=("${CONTAINER_FLAGS[@]}" --pull=never --layers)
times=()
for image in "${which[@]}"; do
  start=$(date +%s)
  case "$image" in
    trainer)
      wheels=$(bash scripts/images-wheels.sh)
      from=()
      [ -z "$wheels" ] || from=(--volume "$wheels:/wheels:ro" --build-arg WHEELHOUSE=/wheels)
      say "building $TRAINER_IMAGE from training-image/Dockerfile (wheels from ${wheels:-PyPI})"
      podman_ build "${build_flags[@]}" "${from[@]}" -t "$TRAINER_IMAGE" training-image/ >&2
      ;;
    serving)
      say "building $SERVING_IMAGE from serving/Dockerfile"
      podman_ build "${build_flags[@]}" -f serving/Dockerfile -t "$SERVING_IMAGE" . >&2
      ;;
    *) say "unknown image '$image' (expected trainer or serving)"; exit 2 ;;
  esac
  times+=("$image=$(($(date +%s) - start))")
done
# No `image prune`: the build stages of serving/Dockerfile are untagged images, and pruning them
# would throw away the layer cache of the next build.
node --import tsx scripts/images-report.ts --trainer "$TRAINER_IMAGE" --serving "$SERVING_IMAGE" \
  --base "$BASE_IMAGE" --build-seconds "${times[*]}" --record "${IMAGES_RECORD:-1}"
