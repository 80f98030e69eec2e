# check_socat: Nagios/Icinga plugins that audit socat deployments.
# `make help` lists the targets.

SHELL       := /bin/bash
GO          ?= go
MODULE      := github.com/check-socat/check-socat
# The release (VERSION, the packages' version too) and the commit it was built from.
VERSION     ?= $(shell cat VERSION)
COMMIT      ?= $(shell git describe --always --dirty --abbrev=7 2>/dev/null || echo unknown)
LDFLAGS     := -s -w -X $(MODULE)/internal/version.Version=$(VERSION) -X $(MODULE)/internal/version.Commit=$(COMMIT)
BINARIES    := $(notdir $(wildcard cmd/*))
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
# nfpm is built from source at this version by `go run`, not downloaded as a binary.
NFPM        := github.com/goreleaser/nfpm/v2/cmd/nfpm@v2.45.2
FUZZTIME    ?= 5s
# Programs the end-to-end tests drive, as PROGRAM=DEBIAN_PACKAGE.
TEST_DEPS   := socat=socat openssl=openssl perl=perl-base sslscan=sslscan testssl=testssl.sh journalctl=systemd \
               /lib/systemd/systemd-journal-remote=systemd-journal-remote gzip=gzip /usr/bin/time=time ip=iproute2 \
               promtool=prometheus systemd-analyze=systemd tcpdump=tcpdump tshark=tshark /usr/sbin/setcap=libcap2-bin \
               setpriv=util-linux groff=groff-base /usr/sbin/nginx=nginx-light redis-server=redis-server \
               memcached=memcached /usr/sbin/dnsmasq=dnsmasq /usr/sbin/sshd=openssh-server ssh-keygen=openssh-client
INTEGRATION_DEPS := $(TEST_DEPS) nagios4=nagios4-core icinga2=icinga2-bin /usr/share/icinga2/include/itl=icinga2-common \
               nrpe=nagios-nrpe-server /usr/lib/nagios/plugins/check_nrpe=nagios-nrpe-plugin dpkg-deb=dpkg \
               prometheus-node-exporter=prometheus-node-exporter prometheus=prometheus promtool=prometheus \
               lintian=lintian sudo=sudo visudo=sudo curl=curl
BENCH_DEPS  := $(TEST_DEPS) /usr/lib/nagios/plugins/check_tcp=monitoring-plugins-basic /usr/bin/time=time \
               /usr/lib/nagios/plugins/check_ssl_cert=monitoring-plugins-contrib host=bind9-host \
               /usr/lib/nagios/plugins/check_http=monitoring-plugins-basic /usr/lib/nagios/plugins/check_ssh=monitoring-plugins-basic \
               /usr/lib/nagios/plugins/check_dig=monitoring-plugins-standard dig=bind9-dnsutils
# make oracles: check_socat_tls next to sslscan and testssl.sh on socat, s_server, stunnel4, nginx and
# gnutls-serv (in a network namespace of its own: unshare, nsenter).
ORACLES_DEPS := $(TEST_DEPS) stunnel4=stunnel4 /usr/sbin/nginx=nginx-light gnutls-serv=gnutls-bin \
               unshare=util-linux nsenter=util-linux

.DEFAULT_GOAL := help
.PHONY: help build test test-short fuzz lint demo bench clean deps package packaging-files integration oracles

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  make %-15s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

build: ## Build static binaries into bin/ (version from VERSION, commit from git)
	@mkdir -p bin
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o bin/ ./cmd/...

deps: ## Install socat, openssl, perl and sslscan if missing (apt-get)
	@scripts/deps.sh $(TEST_DEPS)

test: deps ## Unit tests and end-to-end tests against real socat, then a short fuzz run
	CGO_ENABLED=0 $(GO) test -count=1 -timeout 15m ./...
	@$(MAKE) --no-print-directory fuzz FUZZTIME=$(FUZZTIME)

test-short: ## The quick tier: unit tests and the binaries on their own, no real socat or engines (go test -short)
	CGO_ENABLED=0 $(GO) test -short -count=1 ./...

fuzz: ## Run every fuzz target for FUZZTIME each (default 5s)
	@GO=$(GO) FUZZTIME=$(FUZZTIME) scripts/fuzz.sh

lint: ## gofmt, go vet and staticcheck
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [[ -n $$out ]]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

demo: build deps ## Start a small socat lab on loopback and run the checks against it
	@scripts/demo.sh

bench: build ## Compare with the standard peers (check_tcp, check_procs, sslscan, testssl.sh, check_ssl_cert): median time, peak RSS, ratio
	@scripts/deps.sh $(BENCH_DEPS)
	$(GO) run ./tools/bench -bin bin -binaries "$(BINARIES)"

oracles: build ## Compare check_socat_tls's protocols and suites with sslscan and testssl.sh on 20 local TLS servers (slow)
	@scripts/deps.sh $(ORACLES_DEPS)
	$(GO) run ./tools/oracles -bin bin

packaging-files: build ## Regenerate packaging/icinga2/check_socat.conf from the binaries' flags
	BINARIES="$(BINARIES)" scripts/gen-icinga2.sh > packaging/icinga2/check_socat.conf

package: build ## Build the .deb and .rpm into dist/ (nfpm; man pages from the flags)
	BINARIES="$(BINARIES)" NFPM="$(GO) run $(NFPM)" scripts/package.sh

integration: package ## Install the .deb and run the checks inside Nagios 4, Icinga 2 and NRPE (root; installs them)
	@scripts/deps.sh $(INTEGRATION_DEPS)
	CGO_ENABLED=0 $(GO) test -count=1 -timeout 20m -tags integration ./integration/

clean: ## Remove build output
	rm -rf bin dist
