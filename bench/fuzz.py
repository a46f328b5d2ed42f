"""Fuzz bench: every parser that takes outside input, fed seeded mutations of valid inputs. Not a test.

Targets (each a function of one ``bytes``):

- ``osc``: a UDP datagram -> ``validate.parse_datagram`` -> every message through the
  address table's ``coerce`` (what the OSC server does before an Engine command);
- ``kit``: a kit JSON file -> ``kit.load_kit``;
- ``kitset``: a kit-set JSON file -> ``strict_json.read_json_file`` -> ``kitset.parse_kitset``;
- ``model``: a model.json file -> ``read_json_file`` -> ``bundle.parse_model_json``;
- ``midi``: a byte stream, cut into messages of 1..4 bytes -> ``MidiServer.feed`` and the
  dispatch thread's ``handle`` (parse, map, Engine commands on a recording fake engine).

A refusal is what the code promises for bad input: ganshot's own errors (GanshotError:
one-line UserInputError / FormatError / IntegrityError, OscError). Anything else escaping
is a bug (``escaped``, with the first few inputs saved); an input that takes longer than
``--hang-ms`` counts as a hang. Inputs are mutations of a small valid corpus (bit flips,
byte changes, interesting integers, truncation, splices, repeats, random bytes), seeded, so a
run is reproducible: ``--seed``. The tests run a small share of the same generator
(tests/test_fuzz_seeded.py); ``python bench/fuzz.py --count 1000000`` is the full run.

    python bench/fuzz.py --count 20000
    python bench/fuzz.py --target osc --count 1000000
"""

from __future__ import annotations

import argparse
import json
import os
import random
import struct
import sys
import tempfile
import time
import traceback
from pathlib import Path

INTERESTING = [b"\x00", b"\xff", b"\x7f", b"\x80", b"\x00\x00\x00\x00", b"\xff\xff\xff\xff", b"\x7f\xff\xff\xff",
               b"\x80\x00\x00\x00", b"\x00\x00\x10\x00", b"-1", b"1e999", b"NaN", b"null", b"[]", b"{}", b'"', b"\\u0000"]


def _osc_message(address: str, tags: str, *args) -> bytes:
    """One OSC message, encoded by the bridge's own encoder."""
    from ganshot.bridges.osc.validate import encode_message

    return encode_message(address, tags, args)


def _osc_bundle(*elements: bytes, timetag: int = 1) -> bytes:
    return b"#bundle\x00" + struct.pack(">Q", timetag) + b"".join(struct.pack(">i", len(e)) + e for e in elements)


def corpus() -> dict[str, list[bytes]]:
    """Valid (or nearly valid) seeds per target."""
    model = Path(__file__).resolve().parents[1] / "presets" / "models"
    models = [p.read_bytes() for p in sorted(model.glob("*/model.json"))][:2] or [b'{"format": "ganshot-model"}']
    kits = Path(__file__).resolve().parents[1] / "presets" / "kits"
    kit_seeds = [p.read_bytes() for p in sorted(kits.glob("*.json"))][:2]
    trigger = _osc_message("/pad/trigger", "if", 3, 0.8)
    return {
        "osc": [trigger, _osc_message("/pad/knob", "iif", 1, 2, -0.5), _osc_message("/kit/load", "s", "a.json"),
                _osc_message("/pad/z", "i" + "f" * 8, 0, *[0.1] * 8), _osc_message("/status", ""),
                _osc_bundle(trigger, _osc_message("/note", "ii", 38, 100), timetag=(1 << 32) + 5),
                _osc_bundle(_osc_bundle(trigger)), _osc_message("/model/load", "s", "drums-v1")],
        "kit": kit_seeds or [b'{"format": "ganshot-kit", "version": 1}'],
        "kitset": [json.dumps({"format": "ganshot-kitset", "version": 1, "name": "live",
                               "kits": ["a.json", "sub/b.json"]}).encode()],
        "model": models,
        "midi": [bytes([0x99, 36, 100, 0x89, 36, 0, 0xB0, 21, 64, 0xB0, 53, 1, 0xE0, 0, 64, 0xC0, 1, 0xF8, 0xFE]),
                 bytes([0xF0, 1, 2, 3, 0xF7, 0x90, 60, 127, 0xB0, 120, 0, 0xB0, 20, 3])],
    }


def mutate(data: bytes, rng: random.Random, seeds: list[bytes]) -> bytes:
    """One to four random edits of ``data``."""
    out = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        kind = rng.randrange(8)
        at = rng.randrange(len(out) + 1)
        if kind == 0 and out:
            out[min(at, len(out) - 1)] ^= 1 << rng.randrange(8)  # bit flip
        elif kind == 1 and out:
            out[min(at, len(out) - 1)] = rng.randrange(256)  # byte
        elif kind == 2:
            out[at:at] = rng.choice(INTERESTING)  # an interesting value
        elif kind == 3:
            del out[at:at + rng.randint(1, 16)]  # cut
        elif kind == 4:
            out = out[:at]  # truncate
        elif kind == 5:
            other = rng.choice(seeds)
            cut = rng.randrange(len(other) + 1)
            out[at:] = other[cut:]  # splice with another seed
        elif kind == 6 and out:
            piece = out[at:at + rng.randint(1, 32)]
            out[at:at] = piece * rng.randint(1, 64)  # repeat (deep nesting, long strings)
        else:
            out[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 16)))  # random bytes
    return bytes(out[:70000])


class _RecordingEngine:
    """Enough of an Engine for the MIDI dispatch path: accepts every command, keeps nothing."""

    def __init__(self):
        from ganshot.engine.kit import Kit, ModelRef, Pad

        self.kit = Kit(name="fuzz", model=ModelRef(name="m", sha256="0" * 64),
                       pads=tuple(Pad(note=36 + i, name=f"p{i}", seed=i) for i in range(16)))
        self.focus, self.learn_target, self.stream, self.calls = 0, None, None, 0

    def __getattr__(self, name):
        def command(*args, **kwargs):
            self.calls += 1
        return command


def targets() -> dict:
    """name -> function(bytes); each raises only ganshot's errors for bad input."""
    from ganshot.bridges.midi.kitset import parse_kitset
    from ganshot.bridges.midi.mapping import MidiMapper
    from ganshot.bridges.midi.server import MidiServer
    from ganshot.bridges.osc.addresses import ADDRESSES, coerce
    from ganshot.bridges.osc.validate import OscError, flatten, parse_datagram
    from ganshot.engine.bundle import MAX_MODEL_JSON_BYTES, parse_model_json
    from ganshot.engine.kit import load_kit
    from ganshot.engine.strict_json import read_json_file

    MAX_KITSET_BYTES = 1 << 20

    def osc(data: bytes) -> None:
        for _, message in flatten(parse_datagram(data, 65536, 8)):
            spec = ADDRESSES.get(message.address)
            if spec is None:
                raise OscError("unknown address")
            coerce(spec, message)

    scratch = Path(tempfile.mkdtemp(prefix="ganshot-fuzz-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None))

    def through_file(name: str, data: bytes) -> Path:  # the way real input arrives: a file
        path = scratch / name
        path.write_bytes(data)
        return path

    def kit(data: bytes) -> None:
        load_kit(through_file("kit.json", data))

    def kitset(data: bytes) -> None:
        path = through_file("set.json", data)
        parse_kitset(read_json_file(path, MAX_KITSET_BYTES, "kit set"), path.parent)

    def model(data: bytes) -> None:
        parse_model_json(read_json_file(through_file("model.json", data), MAX_MODEL_JSON_BYTES, "model description"))

    engine = _RecordingEngine()
    server = MidiServer(engine, MidiMapper(), queue_size=4096)

    def midi(data: bytes) -> None:
        rng = random.Random(data[:8])
        at = 0
        while at < len(data):
            size = rng.randint(1, 4)
            server.feed(data[at:at + size])  # never raises: counted
            at += size
        while not server._queue.empty():
            message, arrival = server._queue.get_nowait()
            server.handle(message, arrival)  # never raises: counted as errors/rejected
        if server._counters.get("errors") or server._counters.get("feed_errors"):
            raise AssertionError(f"MIDI internal error counted: {server.counters()}")

    return {"osc": osc, "kit": kit, "kitset": kitset, "model": model, "midi": midi}


def run(name: str, count: int, seed: int, hang_ms: float = 1000.0, keep=None) -> dict:
    """Fuzz target ``name`` with ``count`` inputs; returns the figures."""
    from ganshot.bridges.osc.validate import OscError
    from ganshot.engine.errors import GanshotError

    target, seeds = targets()[name], corpus()[name]
    rng = random.Random(f"{name}-{seed}")
    refused = escaped = hangs = 0
    slowest, first_escapes = 0.0, []
    started = time.perf_counter()
    for i in range(count):
        data = mutate(rng.choice(seeds), rng, seeds) if i else seeds[0]
        t0 = time.perf_counter()
        try:
            target(data)
        except (GanshotError, OscError):
            refused += 1
        except RecursionError as err:  # a bug as well, but named apart
            escaped += 1
            first_escapes.append((data, f"RecursionError: {err}"))
        except Exception as err:  # noqa: BLE001 - what the bench counts
            escaped += 1
            if len(first_escapes) < 5:
                first_escapes.append((data, "".join(traceback.format_exception_only(type(err), err)).strip()))
        took = time.perf_counter() - t0
        slowest = max(slowest, took)
        hangs += took * 1000 > hang_ms
    elapsed = time.perf_counter() - started
    if keep is not None:
        for k, (data, why) in enumerate(first_escapes):
            (Path(keep) / f"{name}-{k}.bin").write_bytes(data)
            (Path(keep) / f"{name}-{k}.txt").write_text(why + "\n")
    return {"target": name, "inputs": count, "refused": refused, "accepted": count - refused - escaped,
            "escaped": escaped, "hangs": hangs, "slowest_ms": slowest * 1000, "per_s": count / elapsed,
            "escapes": [why for _, why in first_escapes]}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", action="append", choices=("osc", "kit", "kitset", "model", "midi"))
    parser.add_argument("--count", type=int, default=20000, help="inputs per target")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--hang-ms", type=float, default=1000.0)
    parser.add_argument("--keep", default=None, help="folder for the inputs that escaped")
    args = parser.parse_args(argv)
    if args.keep:
        os.makedirs(args.keep, exist_ok=True)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"ganshot fuzz bench: seed {args.seed}, {args.count} inputs per target, {os.cpu_count()} CPUs, "
          f"load average {load:.1f}")
    print(f"{'target':8} {'inputs':>9} {'accepted':>9} {'refused':>9} {'escaped':>8} {'hangs':>6} "
          f"{'slowest ms':>11} {'inputs/s':>9}")
    bad = 0
    for name in args.target or ("osc", "kit", "kitset", "model", "midi"):
        r = run(name, args.count, args.seed, args.hang_ms, args.keep)
        bad += r["escaped"] + r["hangs"]
        print(f"{name:8} {r['inputs']:9d} {r['accepted']:9d} {r['refused']:9d} {r['escaped']:8d} {r['hangs']:6d} "
              f"{r['slowest_ms']:11.2f} {r['per_s']:9.0f}")
        for why in r["escapes"]:
            print(f"    escaped: {why}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
