"""Stop signals for long-running subcommands: SIGTERM and SIGHUP stop like Ctrl-C.

A service manager (systemd), a session manager, ``kill`` and a closed terminal send
SIGTERM or SIGHUP; Python's default for them ends the process at once (exit 143/129) and
skips every ``finally``: a recording is lost. Inside :class:`StopSignals` the first of
SIGINT, SIGTERM and SIGHUP raises KeyboardInterrupt in the main thread, as Ctrl-C does,
so the command's own Ctrl-C path finishes the recording and closes the devices. Once the
command has begun stopping (:meth:`StopSignals.stopping`, or after that first signal),
further signals are counted and ignored: a second Ctrl-C or an impatient ``kill`` cannot
cut the clean-up short (``kill -9`` still can; the recording survives that up to its last
second, see engine/recorder.py).

Cheat sheet::

    with StopSignals() as stop:
        try:
            run()                 # SIGTERM / SIGHUP / Ctrl-C -> KeyboardInterrupt here
        except KeyboardInterrupt:
            pass
        finally:
            stop.stopping()       # from here on signals are ignored
            clean_up()
    stop.received                 # ["SIGTERM"]
"""

from __future__ import annotations

import signal
import threading

__all__ = ["StopSignals", "STOP_SIGNALS", "held_signals", "ignore_stop_signals"]

#: The signals that stop a serving command (those this platform has).
STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))


class StopSignals:
    """Turns ``signals`` into one KeyboardInterrupt for the main thread while active.

    Outside the main thread (where Python cannot install handlers) it does nothing.
    ``received`` lists the names of the signals that came, in order.
    """

    def __init__(self, signals=STOP_SIGNALS):
        self.signals = tuple(signals)
        self.received: list[str] = []
        self._stopping = False
        self._previous: dict = {}

    def __enter__(self) -> "StopSignals":
        if threading.current_thread() is threading.main_thread():
            for signum in self.signals:
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc) -> None:
        previous, self._previous = self._previous, {}
        for signum, handler in previous.items():
            signal.signal(signum, handler)

    def stopping(self) -> None:
        """The command is stopping: from now on stop signals are only counted."""
        self._stopping = True

    @property
    def is_stopping(self) -> bool:
        return self._stopping

    def _handle(self, signum, _frame) -> None:
        self.received.append(signal.Signals(signum).name)
        if self._stopping:
            return
        self._stopping = True
        raise KeyboardInterrupt(signal.Signals(signum).name)

    def __repr__(self) -> str:
        names = ", ".join(signal.Signals(s).name for s in self.signals)
        return f"StopSignals(signals=[{names}], received={self.received}, stopping={self._stopping})"


class held_signals:
    """``with held_signals():`` holds the stop signals back from this thread for the block (they are
    delivered, and counted by :class:`StopSignals`, when it ends). For C calls that must not see
    EINTR: PortAudio asserts when a second SIGTERM interrupts libjack while a JACK stream closes
    (pa_jack.c CleanUpStream: Assertion `err == 0' failed, exit -6)."""

    def __init__(self, signals=STOP_SIGNALS):
        self.signals = set(signals)
        self._previous = None

    def __enter__(self) -> "held_signals":
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.pthread_sigmask(signal.SIG_BLOCK, self.signals)
        return self

    def __exit__(self, *exc) -> None:
        if self._previous is not None:
            previous, self._previous = self._previous, None
            signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def ignore_stop_signals(signals=STOP_SIGNALS) -> None:
    """Ignore the stop signals from now on (main thread only): for a command that has stopped and
    only has to exit, so that the rest of a burst (SIGTERM, SIGTERM, SIGINT) cannot turn a clean
    stop into a KeyboardInterrupt in PortAudio's exit hook or an exit by signal."""
    if threading.current_thread() is threading.main_thread():
        for signum in signals:
            signal.signal(signum, signal.SIG_IGN)

