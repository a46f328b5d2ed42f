# ganshot: `make serve` sets everything up and plays the embedded default kit live;
# `make test` sets everything up and runs the whole test suite (what CI runs, with CI=true:
# a missing jackd or pd fails there instead of skipping); `make test-fast` runs the quick part
# (engine, bridges, CLI; no JACK, nothing marked slow) in about a minute;
# `make quickstart` builds the drum dataset, trains a small WaveGAN and exports it.
VENV ?= .venv
PY := $(VENV)/bin/python
STEPS ?= 200

.PHONY: setup serve test test-fast quickstart bench clean

setup:
	bash scripts/setup.sh

serve: setup
	$(VENV)/bin/ganshot serve --demo $(SERVE_ARGS)

test: setup
	$(PY) -m pytest

test-fast: setup
	$(PY) -m pytest -m "not slow and not jack and not gpu" tests/engine tests/bridges tests/cli tests/test_readme.py

quickstart: setup
	$(VENV)/bin/ganshot dataset soundfont -o data/drums
	$(VENV)/bin/ganshot train wavegan_small --data data/drums --out runs/quickstart --steps $(STEPS)
	$(VENV)/bin/ganshot export runs/quickstart -o runs/quickstart/bundle

bench: setup
	$(PY) bench/render_speed.py
	$(PY) bench/realtime.py
	$(PY) bench/osc.py
	$(PY) bench/midi.py
	$(PY) bench/train_speed.py

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
