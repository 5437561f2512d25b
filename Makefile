# Réseau Pôles — every target builds .venv first, so each works alone on a fresh machine.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: install demo test lint bench schemas clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $@

install: $(STAMP)

# The whole network on this machine (./.demo); Ctrl-C stops it. DEMO_ARGS="--once" runs the
# scripted scenario instead; other options: --base-port, --data-dir, --seller-nodes.
DEMO_ARGS ?=
demo: $(STAMP)
	$(VENV)/bin/reseau-poles demo $(DEMO_ARGS)

# mypy's files and strictness: [tool.mypy] in pyproject.toml (its cache: .mypy_cache).
lint: $(STAMP)
	$(VENV)/bin/ruff check src tests bench tools
	$(VENV)/bin/ruff format --check src tests bench tools
	$(VENV)/bin/mypy

# SQLite always; PostgreSQL too when RESEAU_POLES_TEST_POSTGRES_URL names a server (.ci/run sets it).
# Four workers on two cores: the tests spend about 40 % of their time waiting on real servers,
# time-outs and deadlines; four keep both cores busy (the whole CI suite: 12.5 min -> 10.6 min).
TEST_WORKERS ?= 4
test: lint
	$(PY) -m pytest -q -n $(TEST_WORKERS)

# Each benchmark prints its figures next to a baseline measured in the same run.
# The portal's figures (bench/portal.py: Chromium on the demo network, about 3 minutes on a busy
# 2-core machine, so not in the list): make bench BENCHES=portal (docs/portal.md, « Mesures »).
BENCHES ?= signing network registry_lookup gateway discovery seller_search cli_start
bench: $(STAMP)
	@for b in $(BENCHES); do echo "== bench/$$b.py"; $(PY) bench/$$b.py || exit 1; done

# Load and soak of the demo network (bench/soak.py, not in BENCHES: about 13 minutes): its peak,
# then 70 % of it for 10 minutes; errors, p50/p95, memory growth, consistency of orders and stock.
# SOAK_ARGS="--duration 60" for a short run; figures in build/soak/results.json.
SOAK_ARGS ?=
.PHONY: soak
soak: $(STAMP)
	$(PY) bench/soak.py --json build/soak/results.json $(SOAK_ARGS)

# The long reliability suite (tests/reliability: faults on real processes, PostgreSQL restarted,
# 1,000+ generated cases per role); `make test` runs its short part. Figures for
# docs/reliability.md: build/reliability/results.jsonl, printed as tables at the end.
.PHONY: reliability
reliability: $(STAMP)
	rm -rf build/reliability
	RESEAU_POLES_RELIABILITY=full RESEAU_POLES_RELIABILITY_OUT=build/reliability \
		$(PY) -m pytest -q -n 2 -p no:cacheprovider tests/reliability
	$(PY) -m tests.reliability.report build/reliability/results.jsonl

schemas: $(STAMP)
	$(VENV)/bin/reseau-poles schemas export --out schemas

# The OpenAPI document of each role (openapi/), rebuilt from the applications with their
# examples; tests/test_openapi_drift.py fails until they are regenerated and committed.
.PHONY: openapi
openapi: $(STAMP)
	$(VENV)/bin/reseau-poles openapi export --dir openapi

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache .hypothesis
