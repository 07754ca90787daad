# Tunnelbox build and test entry points. `make check` is the one command that sets up a fresh
# Debian 12 machine (installs the packages the real-world test tiers need) and runs every tier.
GO ?= go
export TUNNELBOX_LAB_REQUIRED ?= 1

.PHONY: all build check deps vet test fmt-check bench bench-lab run

all: build

build:
	$(GO) build ./...

run:
	$(GO) run ./cmd/tunnelbox

deps:
	bash lab/install-deps.sh

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

# Every tier: unit, golden transcripts, fuzz corpora replay, in-memory engines, netns + strongSwan,
# real clients (OpenSSH, netmiko, tmux), QEMU kernel. TUNNELBOX_LAB_REQUIRED=1 turns a skip of a
# real-world tier into a failure.
test:
	$(GO) test -count=1 -timeout 40m ./...

check: deps fmt-check vet test

bench:
	$(GO) test -run '^$$' -bench . -benchtime 1x ./...

# Lab benchmarks of issue 5 (setup rate with N=500 tunnels, iperf3 throughput), strongSwan and
# Tunnelbox side by side in one run, printed as a table with the ratios. Minutes long and root
# only: never part of check. Knobs: TUNNELBOX_BENCH_N, _ROUNDS, _SECONDS, _PIN, _ONLY, _OUT.
bench-lab: deps
	TUNNELBOX_BENCH_LAB=1 $(GO) test -count=1 -timeout 60m -run '^TestBenchLab$$' -v ./lab/bench/
