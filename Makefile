# Sluice: the front Makefile.  ./configure writes the real one into
# objs/ (nginx's way); this one configures when needed and delegates.
#
#   make            build objs/sluice (and dynamic modules)
#   make run        install missing packages, build, run in the foreground
#   make test       every suite: style, unit, integration, then again
#                   under ASan+UBSan (objs-san/)
#   make fuzz       libFuzzer targets for FUZZ_SECONDS each (objs-fuzz/)
#   make bench      the benchmarks in t/bench, figures only

OBJS ?=		objs
SAN_OBJS ?=	objs-san
FUZZ_OBJS ?=	objs-fuzz
PYTHON ?=	/usr/bin/python3
PYTEST ?=	$(PYTHON) -m pytest -q -p no:cacheprovider t/integration
JOBS ?=		$(shell nproc 2>/dev/null || echo 2)
FUZZ_SECONDS ?=	60

# ASan+UBSan: leaks are checked in the unit tests; the broker's reports
# are written to files the integration fixture fails on
SAN_UNIT_ENV = ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

.PHONY: all build run test deps configure check-style unit integration \
	san san-build san-unit san-integration fuzz bench clean

all: build

deps:
	@sh auto/deps

configure:
	@sh auto/reconf $(OBJS)

build: configure
	@$(MAKE) --no-print-directory -j$(JOBS) -f $(OBJS)/Makefile build

run: deps build
	mkdir -p logs data
	$(OBJS)/sluice -p $(CURDIR)/ -c conf/broker.conf -g 'daemon off;'

test: deps
	@$(MAKE) --no-print-directory build
	@$(MAKE) --no-print-directory check-style
	@$(MAKE) --no-print-directory unit
	@$(MAKE) --no-print-directory integration
	@$(MAKE) --no-print-directory san

check-style:
	sh t/check_style.sh

unit: configure
	@$(MAKE) --no-print-directory -j$(JOBS) -f $(OBJS)/Makefile unit-build
	@$(MAKE) --no-print-directory -f $(OBJS)/Makefile unit

integration: build
	SLUICE_BIN=$(OBJS)/sluice $(PYTEST)

san: san-build san-unit san-integration

san-build:
	@sh auto/reconf $(SAN_OBJS) --with-sanitizers
	@$(MAKE) --no-print-directory -j$(JOBS) -f $(SAN_OBJS)/Makefile build
	@$(MAKE) --no-print-directory -j$(JOBS) -f $(SAN_OBJS)/Makefile unit-build

san-unit: san-build
	@$(SAN_UNIT_ENV) $(MAKE) --no-print-directory -f $(SAN_OBJS)/Makefile unit

san-integration: san-build
	SLUICE_BIN=$(SAN_OBJS)/sluice $(PYTEST)

fuzz:
	@sh auto/reconf $(FUZZ_OBJS) --with-cc=clang --with-fuzzer
	@$(MAKE) --no-print-directory -j$(JOBS) -f $(FUZZ_OBJS)/Makefile fuzzers
	@$(MAKE) --no-print-directory -f $(FUZZ_OBJS)/Makefile fuzz-run \
		FUZZ_SECONDS=$(FUZZ_SECONDS)

bench: build
	SLUICE_BIN=$(OBJS)/sluice sh t/bench/run

clean:
	rm -rf $(OBJS) $(SAN_OBJS) $(FUZZ_OBJS)
