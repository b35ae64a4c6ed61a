# Thin wrapper over CMake.  `make demo` sets up, builds and runs the bundled
# example; `make check` runs every test; `make check-full` the slow suites.
BUILD ?= build
JOBS  ?= $(shell nproc)

.PHONY: all setup build demo check check-full bench clean
all: build

setup:
	scripts/setup.sh

$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) -G Ninja

build: $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

demo: setup build
	scripts/demo.sh

check: setup build
	scripts/check.sh

check-full: setup build
	scripts/check.sh --full

bench: setup build
	bench/run.sh

clean:
	rm -rf $(BUILD)
