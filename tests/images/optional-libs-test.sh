#!/usr/bin/env bash
# tests/images/optional-libs-test.sh: tests/images/optional-libs against real ldd output of real
# shared objects built here (gcc; no Docker): a plugin of the list missing its host library
# passes; the same plugin missing another library, any other file missing that host library,
# and a missing library of a plain file are reported. Last line "optional-libs: N passed, N failed".
set -u
here=$(cd "$(dirname "$0")" && pwd)
dir=$(mktemp -d /tmp/optional-libs.XXXXXX)
passed=0 failed=0
ok() { passed=$((passed + 1)); echo "  ok   $*"; }
ko() { failed=$((failed + 1)); echo "  FAIL $*"; }
# A shared object named $1 that needs the sonames $2...: each built, linked, then removed.
mkso() {
  local name=$1; shift
  local libs=()
  for so in "$@"; do
    echo "int f_${so//[^a-z]/_}(void) { return 0; }" >"$dir/$so.c"
    gcc -shared -fPIC -Wl,-soname,"$so" -o "$dir/need/$so" "$dir/$so.c" || return 1
    libs+=("$dir/need/$so")
  done
  echo "int plugin(void) { return 1; }" >"$dir/p.c"
  gcc -shared -fPIC -Wl,--no-as-needed -o "$dir/lib/$name" "$dir/p.c" "${libs[@]}" || return 1
  rm -f "$dir"/need/*
}
# What tests/images/run.sh does in the container: "FILE SONAME" for each missing library.
missing() { for f in "$dir"/lib/*; do ldd "$f" | awk -v f="$f" '/not found/ { print f, $1 }'; done; }
expect() {
  local what=$1 want=$2; shift 2
  rm -rf "$dir/lib" "$dir/need"; mkdir -p "$dir/lib" "$dir/need"
  "$@" || { ko "$what: could not build the objects"; return; }
  out=$(missing | "$here/optional-libs"); rc=$?
  if [ "$rc" = "$want" ]; then ok "$what${out:+ ($out)}"; else ko "$what: exit $rc, want $want: $out"; fi
}
expect "nvshmem_bootstrap_mpi.so.3 without libmpi.so.40: optional" 0 \
  mkso nvshmem_bootstrap_mpi.so.3 libmpi.so.40
expect "libcufile_rdma.so.1 without libmlx5, librdmacm, libibverbs: optional" 0 \
  mkso libcufile_rdma.so.1 libmlx5.so.1 librdmacm.so.1 libibverbs.so.1
expect "a library without libcuda.so.1: optional" 0 mkso libtorch_cuda.so libcuda.so.1
expect "nvshmem_bootstrap_mpi.so.3 without libgone.so.1: reported" 1 \
  mkso nvshmem_bootstrap_mpi.so.3 libmpi.so.40 libgone.so.1
expect "libtorch_cuda.so without libmlx5.so.1: reported" 1 mkso libtorch_cuda.so libmlx5.so.1
# (a soname no host has: this machine may have a CUDA in ld.so.conf)
expect "libcublas.so.13 without libpcgen-absent.so.1: reported" 1 mkso libcublas.so.13 libpcgen-absent.so.1
rm -rf "$dir"
echo "optional-libs: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
