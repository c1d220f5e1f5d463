# vitc: the commands a developer and CI run. `make test` is the test command.
GO      ?= go
PYTHON  ?= /usr/bin/python3
BIN     ?= bin
# Full-size parity runs: random-weight checkpoints with the real shapes, checked against PyTorch.
PARITY_DIR   ?= $(CURDIR)/.parity
PARITY_ARCHS ?= vits14 vitb14
PARITY_BATCH ?= 2
# make compare: vitc against ONNX Runtime (onnxruntime-node, pinned in gen/testdata/bench) and
# PyTorch on the same random-weight finetuned checkpoints (PARITY_DIR's when present).
COMPARE_ARCHS   ?= vits14 vitb14 vitl14
COMPARE_BATCHES ?= 1 8
COMPARE_ITERS   ?=
COMPARE_ROUNDS  ?= 3
COMPARE_THREADS ?= 2
COMPARE_DIR     ?= $(PARITY_DIR)/bench
COMPARE_OUT     ?= gen/testdata/bench/results.md
NODE            ?= node
NPM             ?= npm

# The architectures with a program of their own (cmd/<arch>, made by go generate).
ARCH_PROGRAMS   := vits14 vitb14 vitl14 vith14 vith14_448 vith14_476
RELEASE_TARGETS ?= linux/amd64 linux/arm64 darwin/arm64
# Static executables: no cgo (pure-Go DNS and user lookups), paths trimmed, symbols stripped.
STATIC_BUILD     = CGO_ENABLED=0 $(GO) build -trimpath -ldflags='-s -w'

.PHONY: all build test js-deps fmt-check vet test-go test-arm64 generate check-generated parity fixtures fuzz clean release $(ARCH_PROGRAMS)

all: build

build:
	$(GO) build -o $(BIN)/vitc ./cmd/vitc

# make vitl14: the static program that runs the vitl14 models alone (bin/vitl14).
$(ARCH_PROGRAMS):
	$(STATIC_BUILD) -o $(BIN)/$@ ./cmd/$@

# make release: vitc and every architecture's program, static, for each of RELEASE_TARGETS,
# in bin/release/<os>-<arch>/.
release:
	@for t in $(RELEASE_TARGETS); do \
	  set -e; os=$${t%/*}; arch=$${t#*/}; \
	  for p in vitc $(ARCH_PROGRAMS); do \
	    echo "$$t $$p"; \
	    GOOS=$$os GOARCH=$$arch $(STATIC_BUILD) -o $(BIN)/release/$$os-$$arch/$$p ./cmd/$$p; \
	  done; \
	done

# The test command: formatting, vet, generated code up to date, the Go tests under the race
# detector, and a full-size parity run against PyTorch (needs Debian's python3-torch).
test: fmt-check vet check-generated js-deps test-go test-arm64 parity

# @huggingface/hub for gen/hub's cross-check with the JavaScript client (pinned by its lockfile).
js-deps:
	@test -d gen/hub/testdata/js/node_modules/@huggingface/hub || npm ci --prefix gen/hub/testdata/js --no-audit --no-fund

fmt-check:
	@out=$$(gofmt -l $$(find . -name '*.go' -not -path './.parity/*')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

test-go:
	$(GO) test -race -timeout 30m ./...

# The arm64 (NEON) kernels and whole tiny models on arm64, under qemu-user; and the pure-Go
# build (-tags purego) that every platform can fall back to.
test-arm64:
	@command -v qemu-aarch64 >/dev/null || { echo "test-arm64 needs qemu-user: apt-get install -y qemu-user"; exit 1; }
	GOARCH=arm64 $(GO) vet ./asm/ ./runtime/... ./gen/compile/
	GOARCH=arm64 $(GO) test -exec qemu-aarch64 -count=1 ./asm/ ./gen/compile/
	$(GO) vet -tags purego ./asm/
	$(GO) test -tags purego -count=1 ./asm/ ./gen/compile/

generate:
	$(GO) generate ./...

# Generated packages must be what the generator makes now (also TestGoldenPackages).
check-generated:
	$(GO) test -count=1 -run TestGoldenPackages ./gen/codegen/

# make parity PARITY_ARCHS="vits14 vitb14": per architecture, a pretrained and a finetuned
# random-weight checkpoint in the hub's layout (zip, float32) and the same in the legacy non-zip
# format with float16 weights, run by PyTorch and by vitc; fails unless
# max|vitc - torch| <= 2e-5 * max|torch|.
parity: build
	@$(PYTHON) -c 'import torch' 2>/dev/null || { echo "parity needs PyTorch: apt-get install -y python3-torch (run with $(PYTHON))"; exit 1; }
	@mkdir -p $(PARITY_DIR)
	@for a in $(PARITY_ARCHS); do \
	  set -e; \
	  if [ ! -f "$(PARITY_DIR)/$$a.done" ]; then \
	    $(PYTHON) gen/testdata/parity.py --arch $$a --out $(PARITY_DIR) --batch $(PARITY_BATCH) --legacy-f16; \
	    touch "$(PARITY_DIR)/$$a.done"; \
	  fi; \
	  for kind in pretrained finetuned pretrained_legacy_f16 finetuned_legacy_f16; do \
	    VITC_CACHE=$(PARITY_DIR)/cache $(BIN)/vitc run --model $(PARITY_DIR)/$${a}_$$kind.pth \
	      --input $(PARITY_DIR)/$${a}_input.npy --output $(PARITY_DIR)/$${a}_$$kind.vitc.npy; \
	    printf '%s %s: ' $$a $$kind; \
	    $(PYTHON) gen/testdata/compare.py $(PARITY_DIR)/$${a}_$$kind.vitc.npy $(PARITY_DIR)/$${a}_$$kind.expected.npy; \
	  done; \
	done

# make compare COMPARE_ARCHS="vits14 vitb14" COMPARE_BATCHES="1 8" [COMPARE_ITERS=N]
# [COMPARE_ROUNDS=R]: per architecture and batch, back to back: R interleaved rounds (default 3) of
# vitc bench (best kernel, then VITC_KERNEL=avx2) and ONNX Runtime 1.30 on the model exported
# with torch.onnx.export (opset 14), then PyTorch once, each on COMPARE_THREADS threads, median
# of N passes (default 10 for vits14, 5 for larger), a row the median of its rounds; checks that
# ORT and vitc give PyTorch's logits; an OpenBLAS sgemm 2048^3 line. Writes COMPARE_OUT (Markdown).
.PHONY: compare
compare: build
	@$(PYTHON) -c 'import torch' 2>/dev/null || { echo "compare needs PyTorch: apt-get install -y python3-torch (run with $(PYTHON))"; exit 1; }
	@test -d gen/testdata/bench/node_modules/onnxruntime-node || \
	  (cd gen/testdata/bench && ONNXRUNTIME_NODE_INSTALL=skip $(NPM) ci --no-audit --no-fund)
	$(PYTHON) gen/testdata/bench/compare.py --archs "$(COMPARE_ARCHS)" --batches "$(COMPARE_BATCHES)" \
	  $(if $(COMPARE_ITERS),--iters $(COMPARE_ITERS)) --rounds $(COMPARE_ROUNDS) --threads $(COMPARE_THREADS) --vitc $(BIN)/vitc --node $(NODE) \
	  --parity-dir $(PARITY_DIR) --work-dir $(COMPARE_DIR) --out $(COMPARE_OUT) \
	  --command 'make compare COMPARE_ARCHS="$(COMPARE_ARCHS)" COMPARE_BATCHES="$(COMPARE_BATCHES)"$(if $(COMPARE_ITERS), COMPARE_ITERS=$(COMPARE_ITERS))$(if $(filter-out 3,$(COMPARE_ROUNDS)), COMPARE_ROUNDS=$(COMPARE_ROUNDS))$(if $(filter-out 2,$(COMPARE_THREADS)), COMPARE_THREADS=$(COMPARE_THREADS))'

# make edge [EDGE_ARCHS="vits14 vitb14"]: one-file deployment against PyTorch in one run: per
# architecture, vitc build's file (size, forward time, time from process start to the top-5 of a
# photo, peak RSS) and PyTorch's torch.load + first forward on the same checkpoint (needs
# python3-torch, python3-torchvision, python3-pil). Writes EDGE_OUT (Markdown).
EDGE_ARCHS ?= vits14 vitb14
EDGE_RUNS  ?= 5
EDGE_OUT   ?= gen/testdata/bench/edge.md
.PHONY: edge
edge: build
	$(PYTHON) gen/testdata/bench/edge.py --archs "$(EDGE_ARCHS)" --runs $(EDGE_RUNS) --vitc $(BIN)/vitc \
	  --parity-dir $(PARITY_DIR) --out $(EDGE_OUT) --command 'make edge EDGE_ARCHS="$(EDGE_ARCHS)"'

# make quality [QUALITY_ARCHS="vits14 vitb14 vitl14"]: vitc quality (bf16 and int8 against
# float32: agreement, logit errors, speed, size) per architecture on the random-weight finetuned
# checkpoints and the photographs of runtime/imageio/testdata. Writes QUALITY_OUT (Markdown).
QUALITY_ARCHS ?= vits14 vitb14 vitl14
QUALITY_OUT   ?= gen/testdata/bench/quality.md
# Where vith14_finetuned.pth is (torch_ref.py checkpoint --arch vith14 --out DIR; 2.5 GB): the
# H/14 rows, @448 and @476 compiled from it with --image.
QUALITY_BIG_DIR ?= $(PARITY_DIR)/big
.PHONY: quality
quality: build
	$(PYTHON) gen/testdata/bench/quality.py --archs "$(QUALITY_ARCHS)" --vitc $(BIN)/vitc \
	  --parity-dir $(PARITY_DIR) --big-dir $(QUALITY_BIG_DIR) --out $(QUALITY_OUT) \
	  --command 'make quality QUALITY_ARCHS="$(QUALITY_ARCHS)"$(if $(filter-out $(PARITY_DIR)/big,$(QUALITY_BIG_DIR)), QUALITY_BIG_DIR=$(QUALITY_BIG_DIR))'

# Rewrite the small test fixtures (checked in) from our reference ViT.
fixtures:
	$(PYTHON) gen/testdata/make_fixtures.py

fuzz:
	$(GO) test -run XXX -fuzz FuzzOpen -fuzztime 60s ./gen/checkpoint/
	$(GO) test -run XXX -fuzz FuzzReadHeader -fuzztime 60s ./runtime/wfile/
	$(GO) test -run XXX -fuzz FuzzRead -fuzztime 60s ./runtime/npy/

clean:
	rm -rf $(BIN) $(PARITY_DIR)
