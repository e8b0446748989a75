# heat-softorch: the quick start is `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
AGENT_VENV ?= .venv-agent
NATIVE_AGENT_VENV ?= .venv-native-agent
RUN ?= .run
PIP_FLAGS ?= -q --disable-pip-version-check
PYTEST_ARGS ?=
# `make up`: a private local Heat with the plugin, under $(UP_DIR);
# ZK_NODES=3 for a ZooKeeper ensemble.
UP_DIR ?= $(RUN)/up
ZK_NODES ?= 1

.PHONY: all deps venv agent-venv native-agent-venv test unit demo up down bench bench-scale bench-fabric bench-shapes genconfig pep8 clean

all: test

deps:
	tools/install-system-deps.sh

# The engine side: Heat, the plugin (editable) and the test tools, pinned together.
$(VENV)/.stamp: setup.cfg requirements.txt test-requirements.txt upper-constraints.txt
	[ -x $(VENV)/bin/python ] || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install $(PIP_FLAGS) -c upper-constraints.txt -r test-requirements.txt -e '.[engine]'
	touch $@

# What a VM gets: `pip install heat-softorch`, no extra. Functional and
# end-to-end tests run their agents from here, which proves the agent needs
# nothing of Heat, oslo or networkx.
$(AGENT_VENV)/.stamp: setup.cfg requirements.txt $(shell find heat_softorch -name '*.py')
	[ -x $(AGENT_VENV)/bin/python ] || $(PYTHON) -m venv $(AGENT_VENV)
	$(AGENT_VENV)/bin/pip install $(PIP_FLAGS) -c upper-constraints.txt --force-reinstall --no-deps .
	$(AGENT_VENV)/bin/pip install $(PIP_FLAGS) -c upper-constraints.txt .
	touch $@

# What a Heat-ready image holds for Heat's own software deployments
# (os-collect-config and heat-agents' hooks): LocalServers with
# user_data_format SOFTWARE_CONFIG run it.
$(NATIVE_AGENT_VENV)/.stamp: tools/native-agent.sh tools/native-agent/* upper-constraints.txt
	PYTHON=$(PYTHON) PIP_FLAGS="$(PIP_FLAGS)" tools/native-agent.sh install $(NATIVE_AGENT_VENV)
	touch $@

venv: $(VENV)/.stamp
agent-venv: $(AGENT_VENV)/.stamp
native-agent-venv: $(NATIVE_AGENT_VENV)/.stamp

test: deps venv agent-venv native-agent-venv
	SOFTORCH_AGENT_VENV=$(abspath $(AGENT_VENV)) NATIVE_AGENT_VENV=$(abspath $(NATIVE_AGENT_VENV)) $(VENV)/bin/pytest $(PYTEST_ARGS) tests

unit: venv
	$(VENV)/bin/pytest $(PYTEST_ARGS) tests/unit

# The main job: the three-tier example on a private Heat, created, served,
# updated and deleted with the openstack client; everything stopped after.
demo: deps venv agent-venv native-agent-venv
	VENV=$(abspath $(VENV)) SOFTORCH_AGENT_VENV=$(abspath $(AGENT_VENV)) NATIVE_AGENT_VENV=$(abspath $(NATIVE_AGENT_VENV)) $(VENV)/bin/python tools/demo.py

# A private cloud: Keystone, Heat (API + engine, convergence) with
# heat-softorch, ZooKeeper, MariaDB and RabbitMQ on free loopback ports,
# everything under $(UP_DIR). NATIVE_POLLING_INTERVAL (30 s, as in an
# image) for LocalServers running Heat's own software deployments.
up: deps venv agent-venv native-agent-venv
	VENV=$(abspath $(VENV)) AGENT_VENV=$(abspath $(AGENT_VENV)) NATIVE_AGENT_VENV=$(abspath $(NATIVE_AGENT_VENV)) \
	    ZK_NODES=$(ZK_NODES) tools/localheat.sh up $(UP_DIR)

# Stops exactly what `make up` started (pidfiles), LocalServers included.
down:
	@tools/localheat.sh down $(UP_DIR)

# The benchmark suite (not tests): real ZooKeeper, agents and Heat, then
# softorch against Heat's own software deployments on make up's cloud;
# writes benchmarks/results.json and doc/benchmarks.md (~11 minutes on 2
# cores). BENCH_QUICK=1 for a smoke run.
BENCH_ENV = SOFTORCH_AGENT_VENV=$(abspath $(AGENT_VENV)) NATIVE_AGENT_VENV=$(abspath $(NATIVE_AGENT_VENV))
bench: deps venv agent-venv native-agent-venv
	$(BENCH_ENV) $(VENV)/bin/python benchmarks/run.py

# The same with the 1,000-component stacks and the native 30-deep chain at
# 30 s in full (about an hour on 2 cores): writes
# benchmarks/results-scale.json, whose figures `make bench` reports.
bench-scale: deps venv agent-venv native-agent-venv
	$(BENCH_ENV) $(VENV)/bin/python benchmarks/run.py --scale

# ZooKeeper's round trip and the agent-to-agent handoff alone, printed.
bench-fabric: deps venv agent-venv
	SOFTORCH_AGENT_VENV=$(abspath $(AGENT_VENV)) $(VENV)/bin/python -m benchmarks.fabric_only

# Heat's own cost of softorch's dependency scheme (OS::Heat::None stacks).
bench-shapes: deps venv agent-venv
	SOFTORCH_AGENT_VENV=$(abspath $(AGENT_VENV)) $(VENV)/bin/python benchmarks/heat_shapes.py

genconfig: venv
	$(VENV)/bin/oslo-config-generator --config-file etc/heat-softorch/softorch-config-generator.conf

# flake8 in a venv of its own: in Heat's, neutron-lib's hacking plugin
# fails to load.
pep8:
	[ -x .venv-pep8/bin/flake8 ] || { $(PYTHON) -m venv .venv-pep8 && .venv-pep8/bin/pip $(PIP_FLAGS) install flake8; }
	.venv-pep8/bin/flake8 heat_softorch tests tools benchmarks

clean:
	rm -rf $(RUN) build dist *.egg-info .pytest_cache
