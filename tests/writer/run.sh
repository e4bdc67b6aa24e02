#!/usr/bin/env bash
# tests/writer/run.sh PCGEN: the image writer (docs/image-writer.md) against `docker build`, on
# the real engine and the real wheels, for $WRITER_TAGS (default: torch 2.6.0 + CUDA 12.4,
# runtime and devel):
#   - both tags built with --engine docker, then with the writer (the default);
#   - the file trees of the two images are equal: every path with its type, mode, owner, size,
#     sha256 of content and symlink target (tests/writer/tree.py over `docker export`), and so
#     are ENV, LABELs, CMD, ENTRYPOINT, USER, WORKDIR and exposed ports;
#   - the image ID and the manifest digest do not change when the layout is written again with
#     the layers pcgen writes (ld.so.cache, COPY) made again from nothing, and the checkout's
#     files COPY takes made group-writable (a checkout under umask 002);
#   - `docker load` put the image in the engine (the runtime image is removed first, so it is
#     really sent), build/oci/<tag> is an OCI layout with Docker's manifest.json;
#   - the SBOM (docs/sbom.md) is in the image and beside the layout, the same bytes; PyPI's
#     spdx-tools validates it (and refuses a broken copy); its wheels are matrix.lock's, its dpkg
#     packages the image's; a devel tag's lists all its runtime's does;
#   - pcgen certify passes on the writer's images.
# Left out of the comparison, with the reason:
#   /var/cache/ldconfig/aux-cache  ldconfig's speed-up cache records inode numbers and ctimes of
#                                  the files it read (glibc elf/cache.c): never the same twice;
#                                  the writer keeps the base's, docker build's RUN ldconfig a new one
#   /etc/hostname /etc/hosts /etc/resolv.conf /.dockerenv: made by `docker create` in both
# Needs the Docker engine (scripts/ensure-docker). Images it makes are tagged pcgen-writer-test:*
# and removed at the end; the tags' own names point at the writer's images afterwards.
# Last line: "writer: N passed, N failed".
set -u
PCGEN=${1:?usage: tests/writer/run.sh PCGEN}
tags=(${WRITER_TAGS:-2.6.0-cuda12.4-cudnn9-runtime 2.6.0-cuda12.4-cudnn9-devel})
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
tmp=$(mktemp -d /tmp/pcgen-writer.XXXXXX)
. "$top/tests/lib/suite.sh"
ref() { "$PCGEN" plan --json | jq -r --arg t "$1" '.tags[] | select(.tag == $t) | .image'; }
skip=(/var/cache/ldconfig/aux-cache /etc/hostname /etc/hosts /etc/resolv.conf /.dockerenv)
tree() { local c; c=$(docker create "$1" true) || return 1
  docker export "$c" | python3 tests/writer/tree.py "${skip[@]}" >"$2"; local rc=$?; docker rm "$c" >/dev/null; return $rc; }
conf() { docker image inspect "$1" --format '{{json .Config.Env}} {{json .Config.Labels}} {{json .Config.Cmd}} {{json .Config.Entrypoint}} {{json .Config.User}} {{json .Config.WorkingDir}} {{json .Config.ExposedPorts}}'; }
same() { diff -u "$1" "$2" | head -n 40; cmp -s "$1" "$2"; }
cleanup() { for t in "${tags[@]}"; do docker rmi "pcgen-writer-test:$t-docker" "pcgen-writer-test:$t-writer" >/dev/null 2>&1; done; }

step "docker engine up" scripts/ensure-docker
for t in "${tags[@]}"; do eval "ref_${t//[.-]/_}=\$(ref \$t)"; done
r() { local v="ref_${1//[.-]/_}"; echo "${!v}"; }

# --- docker build: the reference
step "pcgen build --engine docker" "$PCGEN" build --engine docker "${tags[@]}"
for t in "${tags[@]}"; do docker tag "$(r "$t")" "pcgen-writer-test:$t-docker"; done

# --- the writer; a runtime image the engine has already would not be sent: remove the writer's
# own image of the last run (its ID is the layout's config digest)
for t in "${tags[@]}"; do
  cfg=$(jq -r '.[0].Config' "build/oci/$t/manifest.json" 2>/dev/null) && docker rmi -f "sha256:${cfg##*/}" >/dev/null 2>&1
done
step "pcgen build (the writer)" "$PCGEN" build "${tags[@]}"
for t in "${tags[@]}"; do
  docker tag "$(r "$t")" "pcgen-writer-test:$t-writer"
  cfg=$(jq -r '.[0].Config' "build/oci/$t/manifest.json")
  step "$t: the engine's image is the layout's (ID = config digest)" \
    test "$(docker image inspect -f '{{.Id}}' "$(r "$t")")" = "sha256:${cfg##*/}"
  step "$t: OCI layout (oci-layout, index.json -> manifest -> config, every blob's sha256)" bash -c "
    cd build/oci/$t && jq -e '.imageLayoutVersion == \"1.0.0\"' oci-layout && m=\$(jq -r '.manifests[0].digest' index.json) &&
    jq -e '.config.mediaType == \"application/vnd.oci.image.config.v1+json\"' blobs/sha256/\${m#sha256:} &&
    for b in \$(jq -r '.config.digest, .layers[].digest' blobs/sha256/\${m#sha256:}); do
      echo \"\${b#sha256:}  blobs/sha256/\${b#sha256:}\"; done | sha256sum -c --quiet"
done

# --- the same image, two ways
for t in "${tags[@]}"; do
  tree "pcgen-writer-test:$t-docker" "$tmp/$t.docker.tree" && tree "pcgen-writer-test:$t-writer" "$tmp/$t.writer.tree"
  step "$t: file trees equal ($(wc -l <"$tmp/$t.writer.tree") entries: path, type, mode, owner, size, sha256, link)" \
    same "$tmp/$t.docker.tree" "$tmp/$t.writer.tree"
  step "$t: the tree holds ld.so.cache and the verifier" bash -c "grep -q '^/etc/ld.so.cache f ' $tmp/$t.writer.tree && grep -q '^/usr/local/bin/pytorch-cuda-verify f 0755 ' $tmp/$t.writer.tree"
  conf "pcgen-writer-test:$t-docker" >"$tmp/$t.docker.conf"; conf "pcgen-writer-test:$t-writer" >"$tmp/$t.writer.conf"
  step "$t: ENV, LABELs, CMD, ENTRYPOINT, USER, WORKDIR, ports equal" same "$tmp/$t.docker.conf" "$tmp/$t.writer.conf"
done

# --- the SBOM (docs/sbom.md): in both images (the trees above are equal), the same bytes beside
# the layout, valid for PyPI's spdx-tools, and listing what the image holds
spdx=${PYSPDXTOOLS:-build/spdx-venv/bin/pyspdxtools}
[ -x "$spdx" ] || make -s "$spdx" >/dev/null || true
sbom=/usr/share/doc/pytorch-cuda/sbom.spdx.json
for t in "${tags[@]}"; do
  doc=build/oci/$t/sbom.spdx.json
  step "$t: $sbom in the image is $doc" \
    grep -qx "$sbom f 0644 0 0 $(stat -c %s "$doc" 2>/dev/null) $(sha256sum "$doc" | cut -d' ' -f1)" "$tmp/$t.writer.tree"
  step "$t: pyspdxtools validates the SBOM" "$spdx" -i "$doc"
  jq '(.packages[] | select(.name == "torch") | .licenseDeclared) = "BSD 3-Clause License"' "$doc" >"$tmp/broken.spdx.json"
  step "$t: pyspdxtools refuses it with a license that is not an SPDX expression" bash -c "! '$spdx' -i '$tmp/broken.spdx.json'"
  step "$t: every wheel of the SBOM is matrix.lock's (name, version, sha256); torch among them" bash -c "
    jq -r '.packages[] | select(.SPDXID | startswith(\"SPDXRef-pypi-\")) | \"\\(.name) \\(.versionInfo) \\(.checksums[0].checksumValue)\"' $doc | sort -u >$tmp/sbom.wheels &&
    jq -r '.sets[].wheels[] | \"\\(.name) \\(.version) \\(.sha256)\"' matrix.lock | sort -u >$tmp/lock.wheels &&
    grep -q '^torch ' $tmp/sbom.wheels && test -z \"\$(comm -23 $tmp/sbom.wheels $tmp/lock.wheels)\""
  step "$t: the SBOM lists each package the image's dpkg status has installed" bash -c "
    docker run --rm --network none --entrypoint cat '$(r "$t")' /var/lib/dpkg/status |
      awk '/^Package:/{p=\$2} /^Status: install ok installed/{print p}' | sort >$tmp/dpkg.image &&
    jq -r '.packages[] | select(.SPDXID | startswith(\"SPDXRef-dpkg-\")) | .name' $doc | sort >$tmp/dpkg.sbom &&
    test \$(wc -l <$tmp/dpkg.image) -gt 50 && diff $tmp/dpkg.image $tmp/dpkg.sbom"
done
if [ "${#tags[@]}" -ge 2 ]; then
  step "${tags[1]}: its SBOM lists everything ${tags[0]}'s does, and more" bash -c "
    jq -r '.packages[].SPDXID' build/oci/${tags[0]}/sbom.spdx.json | grep -v '^SPDXRef-image\$' | sort >$tmp/ids0 &&
    jq -r '.packages[].SPDXID' build/oci/${tags[1]}/sbom.spdx.json | sort >$tmp/ids1 &&
    test -z \"\$(comm -23 $tmp/ids0 $tmp/ids1)\" && test \$(wc -l <$tmp/ids1) -gt \$(wc -l <$tmp/ids0)"
fi

# --- same inputs, same digests: write again, with pcgen's own step layers made from nothing
for t in "${tags[@]}"; do
  id1=$(jq -r '.[0].Config' "build/oci/$t/manifest.json"); m1=$(jq -r '.manifests[0].digest' "build/oci/$t/index.json")
  echo "$id1 $m1" >"$tmp/$t.ids"
done
mkdir -p "$tmp/steps"
for t in "${tags[@]}"; do
  for b in build/oci/"$t"/blobs/sha256/*; do
    find "${PCGEN_CACHE:-$HOME/.cache/pytorch-cuda}/layers" -maxdepth 1 -name 'step-*.tar' -samefile "$b" -exec mv {} "$tmp/steps/" \;
  done
done
step "step layers moved aside ($(ls "$tmp/steps" | wc -l))" test "$(ls "$tmp/steps" | wc -l)" -ge 3
rm -rf build/oci/"${tags[0]}" build/oci/"${tags[1]:-none}"
for t in "${tags[@]}"; do rm -f "results/builds/$t.json"; done
# ... into an engine without them: the images the writer made are removed (by ID), so both are
# loaded again; docker is wrapped to record what each `docker load` is sent
for t in "${tags[@]}"; do read -r id1 m1 <"$tmp/$t.ids"; docker rmi -f "sha256:${id1##*/}" >/dev/null 2>&1; done
mkdir -p "$tmp/loads"
real_docker=$(command -v docker)
cat >"$tmp/docker" <<EOF
#!/usr/bin/env bash
# docker, but each load's stream is listed in $tmp/loads/N (tests/writer/run.sh)
if [ "\${1:-}" = load ]; then
  n=\$(ls "$tmp/loads" | wc -l)
  tee >(tar -t >"$tmp/loads/\$((n + 1))") | "$real_docker" "\$@"
  rc=\${PIPESTATUS[1]}
  wait \$!
  exit \$rc
fi
exec "$real_docker" "\$@"
EOF
chmod +x "$tmp/docker"
# ... and from files as a checkout made under umask 002 has them (group-writable): COPY keeps a
# file's mode, so the build context's own files are made 0644 (0755 if executable), else the
# image ID would depend on the machine's umask
modes=$(for t in "${tags[@]}"; do stat -c '%a %n' "images/$t/image.env"; done; stat -c '%a %n' bin/pytorch-cuda-verify)
for t in "${tags[@]}"; do chmod g+w "images/$t/image.env"; done
chmod g+w bin/pytorch-cuda-verify
step "pcgen build (the writer, again, its images removed, the context's files group-writable)" \
  env PCGEN_DOCKER="$tmp/docker" "$PCGEN" build "${tags[@]}"
while read -r m f; do chmod "$m" "$f"; done <<<"$modes"
for t in "${tags[@]}"; do
  read -r id1 m1 <"$tmp/$t.ids"
  step "$t: same image ID twice (${id1##*/})" test "$(jq -r '.[0].Config' "build/oci/$t/manifest.json")" = "$id1"
  step "$t: same manifest digest twice (${m1#sha256:})" test "$(jq -r '.manifests[0].digest' "build/oci/$t/index.json")" = "$m1"
  step "$t: the engine's image, loaded again, is that ID" test "$(docker image inspect -f '{{.Id}}' "$(r "$t")")" = "sha256:${id1##*/}"
done
# one docker load per image; the devel one is sent its own layers only, every one of them (its
# last layer, COPY of the verifier, is the same blob as a runtime layer below it, in another chain)
step "one docker load per tag ($(ls "$tmp/loads" | wc -l) for ${#tags[@]})" test "$(ls "$tmp/loads" | wc -l)" -eq "${#tags[@]}"
if [ ${#tags[@]} -eq 2 ] && [ -f "$tmp/loads/2" ]; then
  m=build/oci/${tags[1]}/manifest.json
  nrt=$(jq '.[0].Layers | length' "build/oci/${tags[0]}/manifest.json")
  jq -r --argjson n "$nrt" '.[0].Layers[$n:][]' "$m" | sort -u >"$tmp/own"
  jq -r '.[0].Layers[]' "$m" | sort -u | comm -12 - <(sort -u "$tmp/loads/2") >"$tmp/sent"
  step "${tags[1]}: docker load got exactly the $(wc -l <"$tmp/own") layers above ${tags[0]}'s" same "$tmp/own" "$tmp/sent"
fi
rm -rf "$tmp/steps"

step "pcgen certify (the writer's images)" "$PCGEN" certify "${tags[@]}"
cleanup
if [ "$failed" -eq 0 ]; then rm -rf "$tmp"; else echo "  kept $tmp"; fi
finish writer
