# ganshot: `make test` sets everything up and runs the test suite;
# `make quickstart` builds the drum dataset, trains a small WaveGAN and exports it.
VENV ?= .venv
PY := $(VENV)/bin/python
STEPS ?= 200

.PHONY: setup test quickstart bench clean

setup:
	bash scripts/setup.sh

test: setup
	$(PY) -m pytest

quickstart: setup
	$(VENV)/bin/ganshot dataset soundfont -o data/drums
	$(VENV)/bin/ganshot train wavegan_small --data data/drums --out runs/quickstart --steps $(STEPS)
	$(VENV)/bin/ganshot export runs/quickstart -o runs/quickstart/bundle

bench: setup
	$(PY) bench/train_speed.py

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
