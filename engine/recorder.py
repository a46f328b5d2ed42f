"""Record exactly what the mixer outputs to a WAV file, with no Python on the audio thread.

The C mixer copies every mixed block (after the master gain) into a lock-free ring, the
record tap of engine/_cmixer.c; a Python thread here drains it every ``drain_interval_s``
(50 ms) into a soundfile WAV. Live (AudioStream) and offline (``Mixer.render``) alike.

Crash safety: the file streams to disk as it is recorded, under a visible temporary name
in the destination folder (``NAME.XXXXXXXX.recording.wav``); its header is rewritten and
the file fsync'd every ``header_interval_s`` (1 s), so a crash, a power cut or ``kill -9``
leaves a readable WAV holding everything up to the last second. close() fixes the header
a last time and moves the file to ``path``: fsync, ``os.replace`` (atomic within one file
system), fsync of the folder. An older file under ``path`` stays whole until then. The
format is RF64 with libsndfile's auto-downgrade: a plain WAV (WAVE_FORMAT_EXTENSIBLE)
below 4 GiB, RF64 past it (3.1 h of float stereo at 48 kHz), so a long set is not cut off.
Permissions follow the umask like any new file (0644 under the usual 022).

Overruns: the ring holds ``buffer_s`` seconds (4 s). If this thread falls behind by more
(a stalled disk), the mixer drops the frames that do not fit and counts them
(``frames_dropped``; the file then lacks them), but never waits: what is heard is
unaffected. ``first_frame`` is the stream frame of the file's first frame, so while
``frames_dropped`` is 0 a voice played with ``Mixer.play(start_frame=F)`` starts at index
``F - first_frame`` of the file.

Cheat sheet::

    with Recorder(mixer, "take.wav") as rec:    # start() ... close()
        mixer.play(hit, start_frame=mixer.frame + 480)
        mixer.render(48000)                      # or a running AudioStream
    rec.frames_written, rec.frames_dropped, rec.first_frame
"""

from __future__ import annotations

import math
import os
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import soundfile as sf

from .atomic import fsync_dir, umask_mode, unlink_quietly
from .errors import UserInputError
from .limits import check_float
from .mixer import MAX_RECORD_FRAMES

__all__ = ["Recorder", "SUBTYPES"]

SUBTYPES = ("FLOAT", "PCM_16", "PCM_24", "PCM_32", "DOUBLE")  # WAV sample formats (soundfile names)
IN_PROGRESS_SUFFIX = ".recording.wav"  # NAME.XXXXXXXX.recording.wav while recording
_STOP_TIMEOUT_S = 1.0  # a running stream acknowledges "stop" within one block
# libsndfile commands (sndfile.h), not bound by name in soundfile
_SFC_UPDATE_HEADER_NOW = 0x1060
_SFC_RF64_AUTO_DOWNGRADE = 0x1210


def _describe(err: BaseException) -> str:
    text = getattr(err, "strerror", None) or str(err) or type(err).__name__
    return " ".join(str(text).split())  # one line


class Recorder:
    """Writes what ``mixer`` outputs between start() and close() to the WAV file ``path``.

    ``subtype``: one of SUBTYPES ("FLOAT", 32-bit float, is bit for bit what the mixer
    made; PCM subtypes clip to ±1). ``buffer_s``: seconds of audio the ring holds between
    drains; ``drain_interval_s``: how often the writer thread empties it;
    ``header_interval_s``: how often the header on disk is brought up to date (what a
    crash keeps). Two channels at the mixer's sample rate. One Recorder records once:
    start(), then close(). ``partial_path`` is the file being written until close().
    """

    def __init__(self, mixer, path: str | os.PathLike, subtype: str = "FLOAT", buffer_s: float = 4.0,
                 drain_interval_s: float = 0.05, header_interval_s: float = 1.0):
        self.mixer = mixer
        self.path = self._check_path(path)
        if not isinstance(subtype, str) or subtype.upper() not in SUBTYPES:
            raise UserInputError(f"subtype must be one of {', '.join(SUBTYPES)}, got {subtype!r}")
        self.subtype = subtype.upper()
        if isinstance(buffer_s, bool) or not isinstance(buffer_s, (int, float)) or not math.isfinite(buffer_s):
            raise UserInputError(f"buffer_s must be a number of seconds, got {buffer_s!r}")
        self.capacity_frames = max(1, int(round(buffer_s * mixer.sample_rate)))
        if not buffer_s > 0 or self.capacity_frames > MAX_RECORD_FRAMES:
            raise UserInputError(f"buffer_s must be > 0 and hold at most {MAX_RECORD_FRAMES} frames, got {buffer_s!r}")
        self.drain_interval_s = check_float(drain_interval_s, "drain_interval_s", 0, 60, low_open=True)
        self.header_interval_s = check_float(header_interval_s, "header_interval_s", 0, 3600, low_open=True)
        self.header_updates = 0
        self._frames_on_disk = 0
        self._next_header = 0.0
        self.frames_written = 0
        self._frames_dropped = 0
        self._first_frame: int | None = None
        self._started = self._closed = False
        self._fd = self._tmp = self._file = self._thread = None
        self._error: BaseException | None = None
        self._stop = threading.Event()
        self._write_lock = threading.Lock()  # the writer thread and close() take turns

    # -- life cycle ---------------------------------------------------------------
    def start(self) -> None:
        """Create the in-progress file and switch the mixer's record tap on."""
        if self._closed:
            raise RuntimeError("this Recorder is closed; make a new one to record again")
        if self._started:
            raise RuntimeError(f"this Recorder is already recording to {self.path}")
        try:
            self._fd, tmp_name = tempfile.mkstemp(prefix=f"{self.path.stem}.", suffix=IN_PROGRESS_SUFFIX,
                                                  dir=self.path.parent)
        except OSError as err:
            raise UserInputError(f"cannot write a recording in {self.path.parent}: {err.strerror or err}") from None
        self._tmp = Path(tmp_name)
        try:
            os.fchmod(self._fd, umask_mode())  # mkstemp's 0600 would make the final file private
            self._file = sf.SoundFile(self._fd, "w", samplerate=self.mixer.sample_rate, channels=2, format="RF64",
                                      subtype=self.subtype, closefd=False)
            sf._snd.sf_command(self._file._file, _SFC_RF64_AUTO_DOWNGRADE, sf._ffi.NULL, 1)  # WAV below 4 GiB
            self._next_header = time.monotonic() + self.header_interval_s
            self.mixer.record_start(self.capacity_frames)
        except BaseException:
            self._discard()
            raise
        self._started = True
        self._thread = threading.Thread(target=self._run, name=f"ganshot-recorder {self.path.name}", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop recording, write the rest and move the file to ``path``. Idempotent; a
        Recorder closed without start() writes nothing. Raises UserInputError (one line)
        if writing failed (a full disk): what reached the disk stays, readable, in
        ``partial_path``, which the message names; ``path`` is left untouched."""
        if self._closed:
            return
        self._closed = True
        if not self._started:
            return
        try:
            # False only for a stream attached but not running: then no block is mixed
            # and none is lost; its ring is freed when the stream closes.
            self.mixer.record_stop(_STOP_TIMEOUT_S)
            self._stop.set()
            self._thread.join()
            self._drain()  # the tail: complete once the mixer acknowledged the stop
            info = self.mixer.record_info()
            self._first_frame, self._frames_dropped = info["first_frame"], info["frames_dropped"]
            self.mixer.record_release()
            if self._error is not None:
                raise self._error
            self._file.close()  # the final header
            os.fsync(self._fd)
            os.close(self._fd)
            self._fd = None
            os.replace(self._tmp, self.path)
            self._tmp = None
            self._frames_on_disk = self.frames_written
            fsync_dir(self.path.parent)
        except Exception as err:  # e.g. a full disk: keep what was written
            raise UserInputError(f"recording to {self.path} failed: {_describe(err)}{self._keep_partial()}") from None
        except BaseException:  # interrupted: what is on disk stays readable
            self._keep_partial()
            raise

    def __enter__(self) -> "Recorder":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- state ------------------------------------------------------------------------
    @property
    def partial_path(self) -> Path | None:
        """The in-progress file (readable up to its last header update) until close()."""
        return self._tmp

    @property
    def frames_on_disk(self) -> int:
        """Frames a crash now would leave readable in ``partial_path``."""
        return self._frames_on_disk

    @property
    def recording(self) -> bool:
        return self._started and not self._closed

    @property
    def frames_dropped(self) -> int:
        """Frames the mixer could not put in the full ring: missing from the file."""
        return self.mixer.record_info()["frames_dropped"] if self.recording else self._frames_dropped

    @property
    def first_frame(self) -> int | None:
        """The stream frame of the file's first frame (None until the mixer mixed a block)."""
        return self.mixer.record_info()["first_frame"] if self.recording else self._first_frame

    # -- internals ------------------------------------------------------------------
    def _run(self) -> None:
        while not self._stop.wait(self.drain_interval_s):
            self._drain()
            if time.monotonic() >= self._next_header:
                self._next_header = time.monotonic() + self.header_interval_s
                self._sync_header()

    def _sync_header(self) -> None:
        """Rewrite the header for the frames written so far and fsync: what a crash keeps."""
        with self._write_lock:
            if self._error is not None or self._file is None or self._file.closed:
                return
            try:
                sf._snd.sf_command(self._file._file, _SFC_UPDATE_HEADER_NOW, sf._ffi.NULL, 0)
                os.fsync(self._fd)
                self._frames_on_disk = self.frames_written
                self.header_updates += 1
            except Exception as err:  # e.g. an I/O error: reported by close()
                self._error = err

    def _drain(self) -> None:
        with self._write_lock:
            if self._error is not None:
                return  # stop writing; the ring fills and drops, the audio plays on
            try:
                while True:
                    frames = self.mixer.record_read()
                    if not len(frames):
                        return
                    if self.subtype != "FLOAT" and self.subtype != "DOUBLE":
                        np.clip(frames, -1.0, 1.0, out=frames)  # libsndfile would wrap around
                    self._file.write(frames)
                    self.frames_written += len(frames)
            except Exception as err:  # e.g. a full disk: reported by close()
                self._error = err

    def _keep_partial(self) -> str:
        """After a write failure: close the in-progress file as it is (its header as fixed
        as the disk allows) and say where it is; one with nothing recorded is removed."""
        kept = self._tmp if self._frames_on_disk > 0 or self.frames_written > 0 else None
        if kept is not None:
            self._tmp = None  # _discard() leaves it alone
        self._discard()
        return f"; what was recorded is in {kept}" if kept is not None else ""

    def _discard(self) -> None:
        """Drop the in-progress file after a failure (the final name is never touched)."""
        if self._file is not None and not self._file.closed:
            try:
                self._file.close()
            except Exception:
                pass
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        if self._tmp is not None:
            unlink_quietly(self._tmp)
            self._tmp = None
        if self._started:
            self.mixer.record_stop(_STOP_TIMEOUT_S)
            self.mixer.record_release()

    @staticmethod
    def _check_path(path) -> Path:
        if not isinstance(path, (str, os.PathLike)) or not str(path).strip():
            raise UserInputError(f"the recording path must be a file name, got {path!r}")
        path = Path(path).expanduser()
        if path.suffix.lower() != ".wav":
            raise UserInputError(f"the recording is a WAV file: {path} must end in .wav")
        if path.is_dir():
            raise UserInputError(f"cannot record to {path}: it is a folder")
        folder = path.parent
        if not folder.is_dir():
            raise UserInputError(f"cannot record to {path}: folder {folder} does not exist")
        if not os.access(folder, os.W_OK | os.X_OK):
            raise UserInputError(f"cannot record to {path}: folder {folder} is not writable")
        return path

    def __repr__(self) -> str:
        state = "closed" if self._closed else ("recording" if self._started else "not started")
        return (f"Recorder(path='{self.path}', subtype={self.subtype}, sample_rate={self.mixer.sample_rate}, "
                f"capacity_frames={self.capacity_frames}, frames_written={self.frames_written}, {state})")
