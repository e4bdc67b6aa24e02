#!/usr/bin/env bash
# tests/lean/run.sh PCGEN: `pcgen build --lean` (docs/building.md, "Lean builds (CI)") on the real
# engine and the real wheels, for $LEAN_TAGS (default: torch 2.6.0 + CUDA 12.4, runtime and devel)
# under a test repository (pcgen-lean-test/pytorch-cuda, the matrix's copy with only its
# repository changed), in a cache of its own: hard links to the shared cache's wheels, .debs,
# base and layers but pcgen's step layers (so nothing is downloaded, and what --lean removes
# there frees nothing of the shared cache). After `pcgen build --lean TAGS`:
#   - the cache holds no wheel of the tags' lock sets and no tar of a layer of their manifests;
#   - build/oci/<tag> holds no layer blob (only the config and manifest), build/context/<tag>
#     is gone;
#   - the engine has each tag as the image ID its layout and its build record name, and the
#     untagged images of the one-layer-at-a-time loads are gone;
#   - pcgen certify passes on each tag;
#   - pcgen publish (writer) to a local docker-registry takes the layer tars back from the
#     engine, and the registry holds each tag's manifest as its certificate names it.
# Needs the Docker engine (scripts/ensure-docker) and the tags' wheels in the shared cache
# (bin/pcgen fetch TAGS). The test repository's images are removed at the end.
# Last line: "lean: N passed, N failed".
set -u
PCGEN=${1:?usage: tests/lean/run.sh PCGEN}
PCGEN=$(realpath "$PCGEN")
tags=(${LEAN_TAGS:-2.6.0-cuda12.4-cudnn9-runtime 2.6.0-cuda12.4-cudnn9-devel})
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
shared=${PCGEN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pytorch-cuda}
tmp=$(mktemp -d /tmp/pcgen-lean.XXXXXX)
passed=0 failed=0
ok() { passed=$((passed + 1)); echo "  ok   $1"; }
ko() { failed=$((failed + 1)); echo "  FAIL $1"; }
check() { local what=$1; shift
  if "$@" >"$tmp/out" 2>&1; then ok "$what"; else ko "$what"; tail -n 20 "$tmp/out" | sed 's/^/       /'; fi; }
repo=pcgen-lean-test/pytorch-cuda
sed "s|^repository: .*|repository: $repo|" matrix.yaml >"$tmp/matrix.yaml"
plan() { "$PCGEN" plan --json "$tmp/matrix.yaml"; }
refs=$(plan | jq -r --args '.tags[] | select(.tag | IN($ARGS.positional[])) | .image, .aliases[]?' "${tags[@]}")
# The checkout's build/oci, build/context and results/builds belong to the suites around this
# one (tests/registry publishes the layouts tests/e2e wrote): --lean would empty every layout
# holding a link to a tar it loads, so they wait beside, renamed (same file system: no copy),
# and come back at the end.
saved=(build/oci build/context results/builds)
for d in "${saved[@]}"; do rm -rf "$d.lean-saved"; [ -e "$d" ] && mv "$d" "$d.lean-saved"; done
reg_pid=""
cleanup() {
  [ -z "$reg_pid" ] || { kill -9 "$reg_pid" 2>/dev/null; wait "$reg_pid" 2>/dev/null; }
  for r in $refs; do docker rmi "$r" >/dev/null 2>&1; done
  for d in "${saved[@]}"; do
    rm -rf "$d"
    [ -e "$d.lean-saved" ] && mv "$d.lean-saved" "$d"
  done
  rm -rf "$tmp"
}
trap cleanup EXIT

export PCGEN_CACHE=$tmp/cache
mkdir -p "$PCGEN_CACHE"
for d in sha256 debs base layers; do
  [ -d "$shared/$d" ] && cp -al "$shared/$d" "$PCGEN_CACHE/"
done
# pcgen's own step layers (COPY, ldconfig) are made again: tags share identical ones under
# different keys, and one left by another tag would look like this build's
rm -f "$PCGEN_CACHE"/layers/step-*
for r in $refs; do docker rmi "$r" >/dev/null 2>&1; done
dangling_before=$(docker images -q --no-trunc -f dangling=true | sort)

# the wheels of the tags' lock sets, as matrix.lock pins them ("sha256/file")
set_ids=$(for t in "${tags[@]}"; do
  plan | jq -r --arg t "$t" '.tags[] | select(.tag == $t) | "torch-\(.torch.version)-cu\(.torch.pypi_cuda | sub("\\."; ""))-py\(.python) \(.flavor) cuda-devel-\(.cuda.version)-py\(.python)"' |
    awk '{ print $1; if ($2 == "devel") print $3 }'
done | sort -u)
jq -r --args '.sets[] | select(.id | IN($ARGS.positional[])) | .wheels[] | "\(.sha256)/\(.file)"' $set_ids <matrix.lock >"$tmp/wheels"
wheels_present() { local n=0; while read -r w; do [ -e "$PCGEN_CACHE/sha256/$w" ] && n=$((n + 1)); done <"$tmp/wheels"; echo $n; }

check "the sets' $(wc -l <"$tmp/wheels") wheels are in the test cache before" test "$(wheels_present)" -eq "$(wc -l <"$tmp/wheels")"
check "pcgen build --lean ${tags[*]}" "$PCGEN" build --lean --matrix "$tmp/matrix.yaml" "${tags[@]}"
cp "$tmp/out" "$tmp/build.out"
check "no wheel of the tags' sets is left in the cache" test "$(wheels_present)" -eq 0
# the tags' layers: every layer digest of their manifests (the staged ones, pcgen's COPY and
# ldconfig steps, the base); the cache holds other tags' layers too (links to the shared cache)
for t in "${tags[@]}"; do
  m=$(jq -r '.manifests[0].digest' "build/oci/$t/index.json" 2>/dev/null | sed 's/^sha256://')
  [ -z "$m" ] || jq -r '.layers[].digest' "build/oci/$t/blobs/sha256/$m" | sed 's/^sha256://'
done | sort -u >"$tmp/digests"
tars_left() {
  local f
  for f in "$PCGEN_CACHE"/layers/*.tar; do
    [ -e "$f" ] || continue
    if [ -f "$f.sha256" ]; then d=$(cat "$f.sha256")
    elif [ "$(stat -c %s "$f")" -lt 67108864 ]; then d=$(sha256sum "$f" | cut -d' ' -f1)  # a step layer: small
    else continue; fi
    grep -qx "$d" "$tmp/digests" && echo "$f"
  done
}
check "the manifests name the tags' layers ($(wc -l <"$tmp/digests"))" test "$(wc -l <"$tmp/digests")" -gt 10
tars_left >"$tmp/left"
check "no tar of the tags' layers is left in the cache" test ! -s "$tmp/left"
sed 's/^/       left: /' "$tmp/left"
for t in "${tags[@]}"; do
  layout=build/oci/$t
  check "$t: build/oci/$t holds its index and config but no layer blob" \
    test -f "$layout/index.json" -a -n "$(find "$layout/blobs" -type f 2>/dev/null)" -a -z "$(find "$layout/blobs" -type f -size +1M 2>/dev/null)"
  check "$t: build/context/$t is gone" test ! -e "build/context/$t"
  ref=$(plan | jq -r --arg t "$t" '.tags[] | select(.tag == $t) | .image')
  cfg=$(jq -r '.manifests[0].digest' "$layout/index.json" 2>/dev/null | sed 's/^sha256://' |
    xargs -r -I{} jq -r .config.digest "$layout/blobs/sha256/{}")
  rec=$(jq -r .image_id "results/builds/$t.json" 2>/dev/null)
  id=$(docker image inspect -f '{{.Id}}' "$ref" 2>/dev/null)
  check "$t: the engine's image ($id) is the layout's config and the build record's" \
    test -n "$cfg" -a "$id" = "$cfg" -a "$rec" = "$cfg"
  check "$t: pcgen certify" "$PCGEN" certify --matrix "$tmp/matrix.yaml" "$t"
  check "$t: its certificate passes" jq -e '.result == "certified"' "results/certificates/${id#sha256:}.json"
done
# Publishing with the writer after --lean: the layer tars come back from the engine (docker save,
# engine_layers.h), each checked against its diff_id, compressed into the test cache and removed
# again; the registry then holds the manifest pcgen computed and the certificate names.
if command -v docker-registry >/dev/null; then
  . "$top/tests/registry/lib.sh"
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  check "a registry (docker-registry) on 127.0.0.1:$port" serve_registry "$tmp/registry.yml" "$tmp/storage" "$port" "$tmp/registry.log"
  # as on a CI runner, no layer was compressed before (the test cache's links to the shared
  # cache's compressed blobs go; the shared cache keeps them)
  rm -rf "$PCGEN_CACHE/layers/gz"
  check "pcgen publish (writer) ${tags[*]} after --lean" \
    "$PCGEN" publish --to "127.0.0.1:$port" --matrix "$tmp/matrix.yaml" --report "$tmp/report.json" "${tags[@]}"
  cp "$tmp/out" "$tmp/publish.out"
  grep 'taken back' "$tmp/publish.out" | sed 's/^/       /'
  # the first tag: every layer of its manifest (each once); a later one: those it does not share
  t=${tags[0]}
  m=$(jq -r '.manifests[0].digest' "build/oci/$t/index.json" | sed 's/^sha256://')
  n=$(jq '.layers | map(.digest) | unique | length' "build/oci/$t/blobs/sha256/$m")
  check "publish took $t's $n layer tars back from the engine" \
    grep -q "^publish: $t: $n layer tars taken back from the engine" "$tmp/publish.out"
  for t in "${tags[@]}"; do
    ref=$(plan | jq -r --arg t "$t" '.tags[] | select(.tag == $t) | .image')
    id=$(docker image inspect -f '{{.Id}}' "$ref" 2>/dev/null)
    cert=$(jq -r '.manifest_digest // empty' "results/certificates/${id#sha256:}.json" 2>/dev/null)
    local_digest=sha256:$(sha256sum "build/oci/$t/push-manifest.json" 2>/dev/null | cut -d' ' -f1)
    held=$(curl -sf -I -H 'Accept: application/vnd.oci.image.manifest.v1+json' "http://127.0.0.1:$port/v2/$repo/manifests/$t" |
      tr -d '\r' | sed -n 's/^[Dd]ocker-[Cc]ontent-[Dd]igest: //p')
    check "$t: the registry holds $held, the certificate's ($cert) and push-manifest.json's" \
      test -n "$held" -a "$held" = "$cert" -a "$held" = "$local_digest"
    check "$t: no layer tar or temporary is left in build/oci/$t" \
      test -z "$(find "build/oci/$t/blobs" -type f \( -size +1M -o -name '*.engine-*' \) 2>/dev/null)"
  done
else
  echo "  (publish after --lean not tried: no docker-registry)"
fi
check "the untagged images of the one-layer loads are gone" \
  test "$(docker images -q --no-trunc -f dangling=true | sort | comm -13 <(echo "$dangling_before") - | wc -l)" -eq 0
grep '^build --lean' "$tmp/build.out" | sed 's/^/  /'
echo "lean: $passed passed, $failed failed"
[ "$failed" = 0 ]
