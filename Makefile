# pytorch-cuda: build pcgen, render and build the images, run the tests.
# `make help` lists the targets.

CC       ?= gcc
CFLAGS   ?= -O2 -g
WARN     := -std=c11 -D_GNU_SOURCE -pthread -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
            -Wformat=2 -Wno-format-nonliteral -Wno-format-truncation
LIBS     := -lyaml -ljansson -lcrypto -larchive -ldeflate -lcurl -lz -ldl -pthread
SANITIZE := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_SECONDS ?= 60

SRC      := $(filter-out generator/src/main.c,$(wildcard generator/src/*.c))
HDR      := $(wildcard generator/src/*.h)
UNIT     := $(wildcard generator/tests/unit/test_*.c)
FUZZ     := $(wildcard generator/tests/fuzz/fuzz_*.c)

OBJ      := $(SRC:generator/src/%.c=build/obj/%.o)
TOBJ     := $(SRC:generator/src/%.c=build/test/%.o)
UNITBIN  := $(UNIT:generator/tests/unit/%.c=build/test/%)
FUZZBIN  := $(FUZZ:generator/tests/fuzz/%.c=build/fuzz/%) build/fuzz/fuzz_image
SPDX_TOOLS := build/spdx-venv/bin/pyspdxtools

.PHONY: all help deps pcgen images check check-tsan test unit fuzz bench clean
.DELETE_ON_ERROR:

all: pcgen bin/pytorch-cuda-verify

help:
	@echo "make deps      install the Debian packages pcgen needs (idempotent)"
	@echo "make           build bin/pcgen"
	@echo "make images    render, lock, fetch, build and certify the matrix's images"
	@echo "make check     unit, case, drift, compat, bake, workflow, jobs and verifier tests (ASan+UBSan), no Docker"
	@echo "make check-tsan  the build -j scheduler, unit and suite (tests/jobs), under ThreadSanitizer"
	@echo "make test      make check, then the real pipeline on real images (Docker engine)"
	@echo "make fuzz      run each libFuzzer target FUZZ_SECONDS seconds (default $(FUZZ_SECONDS))"
	@echo "make bench     measure make images (cold, no-op), sizes, storage, publish bytes, build -j, writer vs docker build, one CI job's disk, cold build vs naive; bench/*results.txt"
	@echo "make clean     remove build/ and bin/"

# Debian packages the build and tests need; quick when everything is present.
DEB_PKGS := gcc make libyaml-dev libjansson-dev libssl-dev libarchive-dev libdeflate-dev zlib1g-dev libcurl4-openssl-dev clang libclang-rt-14-dev \
            jq python3-pip python3-venv python3-yaml python3-cryptography chromium openssh-client python3-websocket
deps: build/.deps
build/.deps: Makefile
	@mkdir -p build
	@missing=$$(for p in $(DEB_PKGS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null \
	    | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "deps: installing $$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi
	@touch $@

pcgen: bin/pcgen
bin/pcgen: build/obj/main.o $(OBJ) | build/.deps
	@mkdir -p bin
	$(CC) $(CFLAGS) -o $@ $^ $(LIBS)

build/obj/%.o: generator/src/%.c $(HDR) | build/.deps
	@mkdir -p build/obj
	$(CC) $(WARN) $(CFLAGS) -c -o $@ $<

# The test build: same sources, sanitizers on.
build/test/%.o: generator/src/%.c $(HDR) | build/.deps
	@mkdir -p build/test
	$(CC) $(WARN) -O1 -g $(SANITIZE) -c -o $@ $<

build/test/pcgen: build/test/main.o $(TOBJ)
	$(CC) $(SANITIZE) -o $@ $^ $(LIBS)

build/test/test_%: generator/tests/unit/test_%.c generator/tests/unit/check.h $(TOBJ) $(HDR)
	$(CC) $(WARN) -O1 -g $(SANITIZE) -Igenerator/src -o $@ $< $(TOBJ) $(LIBS)

build/fuzz/fuzz_%: generator/tests/fuzz/fuzz_%.c $(SRC) $(HDR) | build/.deps
	@mkdir -p build/fuzz
	clang $(filter-out -Wno-format-truncation,$(WARN)) -O1 -g -fsanitize=fuzzer,address,undefined -Igenerator/src -o $@ $< $(SRC) $(LIBS)

# Test doubles of the NVIDIA driver libraries (tests/fakes/fake_cuda.c), beside the real path.
FAKES := build/fakes/libcuda.so.1 build/fakes/libnvidia-ml.so.1
build/fakes/%: tests/fakes/fake_cuda.c
	@mkdir -p build/fakes
	$(CC) -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -O1 -g -shared -fPIC -Wl,-soname,$* -o $@ $<

# The in-image verifier (verify/): one binary for every CUDA; it links only libc and libdl
# and dlopens what it tests. verify-test runs verify/tests/run.sh on the plain and the
# sanitized build.
VERIFY_SRC := $(wildcard verify/*.c)
VERIFY_HDR := $(wildcard verify/*.h)
.PHONY: verify verify-test
verify: bin/pytorch-cuda-verify
bin/pytorch-cuda-verify: $(VERIFY_SRC) $(VERIFY_HDR)
	@mkdir -p bin
	$(CC) $(WARN) -O2 -o $@ $(VERIFY_SRC) -ldl
build/test/pytorch-cuda-verify: $(VERIFY_SRC) $(VERIFY_HDR)
	@mkdir -p build/test
	$(CC) $(WARN) -O1 -g $(SANITIZE) -o $@ $(VERIFY_SRC) -ldl
# The verifier's image.env parser, fuzzed like pcgen's parsers (seeds: verify/fuzz/seeds).
build/fuzz/fuzz_image: verify/fuzz/fuzz_image.c $(VERIFY_SRC) $(VERIFY_HDR) | build/.deps
	@mkdir -p build/fuzz
	clang $(filter-out -Wno-format-truncation,$(WARN)) -O1 -g -fsanitize=fuzzer,address,undefined -o $@ $< $(filter-out verify/main.c,$(VERIFY_SRC)) -ldl
verify-test: bin/pytorch-cuda-verify build/test/pytorch-cuda-verify $(FAKES)
	verify/tests/run.sh bin/pytorch-cuda-verify
	verify/tests/run.sh build/test/pytorch-cuda-verify

# The main job: render, pin, fetch, build and certify every reachable tag of matrix.yaml.
images: bin/pcgen bin/pytorch-cuda-verify
	@scripts/ensure-docker
	bin/pcgen render
	bin/pcgen lock
	bin/pcgen fetch
	bin/pcgen build
	bin/pcgen certify

unit: $(UNITBIN)
	@fail=0; for t in $(UNITBIN); do ASAN_OPTIONS=detect_leaks=1 $$t || fail=1; done; exit $$fail

# check: everything that needs no Docker engine; test: check plus the real pipeline on real
# images (tests/e2e/run.sh), as CI runs it.
check: build/test/pcgen build/test/pytorch-cuda-verify $(UNITBIN) $(FUZZBIN) $(FAKES)
	@PCGEN=build/test/pcgen VERIFY=build/test/pytorch-cuda-verify FUZZ_BINS="$(FUZZBIN)" \
	  UNIT_BINS="$(UNITBIN)" tests/run-tests

test: build/test/pcgen build/test/pytorch-cuda-verify bin/pcgen bin/pytorch-cuda-verify $(UNITBIN) $(FUZZBIN) $(FAKES) $(SPDX_TOOLS)
	@PCGEN=build/test/pcgen VERIFY=build/test/pytorch-cuda-verify FUZZ_BINS="$(FUZZBIN)" \
	  UNIT_BINS="$(UNITBIN)" PYSPDXTOOLS=$(SPDX_TOOLS) E2E=1 tests/run-tests

# The SPDX validator tests/writer runs on the images' SBOMs (docs/sbom.md): PyPI's spdx-tools,
# pinned, in a virtual environment of its own.
$(SPDX_TOOLS): | build/.deps
	rm -rf build/spdx-venv
	python3 -m venv build/spdx-venv
	build/spdx-venv/bin/pip install --quiet spdx-tools==0.8.5

# The threads of pcgen build -j under ThreadSanitizer (clang): the scheduler's unit test and
# tests/jobs/run.sh (fake docker, no engine). A report fails the run (halt_on_error).
TSAN := -fsanitize=thread -fno-omit-frame-pointer
build/tsan/pcgen: generator/src/main.c $(SRC) $(HDR) | build/.deps
	@mkdir -p build/tsan
	clang $(filter-out -Wno-format-truncation,$(WARN)) -O1 -g $(TSAN) -o $@ generator/src/main.c $(SRC) $(LIBS)
build/tsan/test_jobs: generator/tests/unit/test_jobs.c generator/tests/unit/check.h $(SRC) $(HDR) | build/.deps
	@mkdir -p build/tsan
	clang $(filter-out -Wno-format-truncation,$(WARN)) -O1 -g $(TSAN) -Igenerator/src -o $@ $< $(SRC) $(LIBS)
check-tsan: build/tsan/pcgen build/tsan/test_jobs
	TSAN_OPTIONS=halt_on_error=1 build/tsan/test_jobs
	TSAN_OPTIONS=halt_on_error=1 tests/jobs/run.sh build/tsan/pcgen

# A target that crashes fails the run after the others have had their turn; the input that
# crashed it is kept as build/fuzz/fuzz_NAME-crash-<sha1> (replay: build/fuzz/fuzz_NAME FILE).
fuzz: $(FUZZBIN)
	@fail=0; for f in $(FUZZBIN); do \
	  name=$$(basename $$f); corpus=build/fuzz/corpus-$$name; mkdir -p $$corpus; \
	  echo "fuzz: $$name for $(FUZZ_SECONDS)s"; \
	  seeds=generator/tests/fuzz/seeds/$${name#fuzz_}; [ -d $$seeds ] || seeds=verify/fuzz/seeds; \
	  rc=0; $$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 -close_fd_mask=2 \
	    -artifact_prefix=build/fuzz/$$name- $$corpus $$seeds >build/fuzz/$$name.log 2>&1 || rc=$$?; \
	  grep -E '^(stat::|==|SUMMARY|Done|artifact_prefix|Test unit written)' build/fuzz/$$name.log; \
	  [ $$rc = 0 ] || { echo "fuzz: $$name failed (exit $$rc), log build/fuzz/$$name.log"; fail=1; }; \
	done; exit $$fail

# Speed and size, measured (BENCHMARKS.md quotes bench/results.txt): cold and no-op make images,
# image sizes, bytes stored, the naive baseline; bytes uploaded by publish and re-publish; build
# -j; the image writer against docker build.
# Slow: it empties the pcgen cache.
bench: bin/pcgen bin/pytorch-cuda-verify build/bench/inflate
	bench/images.sh
	bench/publish.sh
	bench/jobs.sh
	bench/writer.sh
	bench/job.sh 2.6.0-cuda12.4-cudnn9-runtime 2.6.0-cuda12.4-cudnn9-devel
	bench/cold.sh

# zlib against libdeflate on a wheel's members (BENCHMARKS.md, "Cold build"): build/bench/inflate WHEEL
build/bench/inflate: bench/inflate.c | build/.deps
	@mkdir -p build/bench
	$(CC) $(WARN) -O2 -o $@ $< -lz -ldeflate

clean:
	rm -rf build bin
