"""The JACK server fixture of tests/engine, shared with the CLI tests (ganshot serve)."""

from tests.engine.conftest import jack_server  # noqa: F401  (a fixture: pytest finds it by name)
