# Tunnelbox build and test entry points. `make check` is the one command that sets up a fresh
# Debian 12 machine (installs the packages the real-world test tiers need) and runs every tier.
GO ?= go
export TUNNELBOX_LAB_REQUIRED ?= 1

.PHONY: all build check deps vet test fmt-check bench run

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
