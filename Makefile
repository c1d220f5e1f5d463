# vitc: the commands a developer and CI run. `make test` is the test command.
GO      ?= go
PYTHON  ?= /usr/bin/python3
BIN     ?= bin
# Full-size parity runs: random-weight checkpoints with the real shapes, checked against PyTorch.
PARITY_DIR   ?= $(CURDIR)/.parity
PARITY_ARCHS ?= vits14 vitb14
PARITY_BATCH ?= 2

.PHONY: all build test fmt-check vet test-go test-arm64 generate check-generated parity fixtures fuzz clean

all: build

build:
	$(GO) build -o $(BIN)/vitc ./cmd/vitc

# The test command: formatting, vet, generated code up to date, the Go tests under the race
# detector, and a full-size parity run against PyTorch (needs Debian's python3-torch).
test: fmt-check vet check-generated test-go test-arm64 parity

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

# Rewrite the small test fixtures (checked in) from our reference ViT.
fixtures:
	$(PYTHON) gen/testdata/make_fixtures.py

fuzz:
	$(GO) test -run XXX -fuzz FuzzOpen -fuzztime 60s ./gen/checkpoint/
	$(GO) test -run XXX -fuzz FuzzReadHeader -fuzztime 60s ./runtime/wfile/
	$(GO) test -run XXX -fuzz FuzzRead -fuzztime 60s ./runtime/npy/

clean:
	rm -rf $(BIN) $(PARITY_DIR)
