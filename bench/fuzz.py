"""Fuzz bench: every parser that takes outside input, fed seeded mutations of valid inputs. Not a test.

Targets (each a function of one ``bytes``):

- ``osc``: a UDP datagram -> ``validate.parse_datagram`` -> every message's timetag through
  ``schedule`` and its arguments through the address table's ``coerce`` (what the OSC server
  does before an Engine command); the server's quick path (``FAST_PARSER``, ``FAST_COERCERS``)
  must give the same message, values and refusals, else it is an escape;
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
(tests/test_fuzz_seeded.py), and every input a fuzz run ever found (tests/fuzz_corpus/).

``--engine atheris`` (where atheris installs: the dev extra) fuzzes coverage-guided instead:
libFuzzer mutates the same seeds (with a dictionary of the formats' keys, addresses and
tokens) while atheris instruments ganshot's bytecode, one child process per target. The same
wrapper counts refusals, escapes and hangs (an input taking over ``--hang-ms``, 1 s, timed
again to rule out the scheduler); libFuzzer's own ``-timeout`` (30 s) is the backstop for an
input that never returns. Rows add libFuzzer's coverage: ``cov`` (code edges reached),
``ft`` (features) and the corpus it grew.

    python bench/fuzz.py --count 20000
    python bench/fuzz.py --target osc --count 1000000
    nice python bench/fuzz.py --engine atheris --count 1000000 --keep /tmp/fuzz-findings
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import random
import re
import shutil
import struct
import subprocess
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
    from ganshot.bridges.osc.addresses import ADDRESSES, coerce, schedule
    from ganshot.bridges.osc.fast_path import FAST_COERCERS, FAST_PARSER
    from ganshot.bridges.osc.validate import IMMEDIATE, OscError, flatten, parse_datagram
    from ganshot.engine.bundle import MAX_MODEL_JSON_BYTES, parse_model_json
    from ganshot.engine.kit import load_kit
    from ganshot.engine.strict_json import read_json_file

    MAX_KITSET_BYTES = 1 << 20

    def osc(data: bytes) -> None:  # the server's path, and its quick path checked against the full one
        quick = FAST_PARSER.parse(data)
        try:
            messages = list(flatten(parse_datagram(data, 65536, 8)))
        except OscError:
            if quick is not None:
                raise AssertionError(f"the fast parser took a datagram the full parser refuses: {quick!r}") from None
            raise
        if quick is not None and (len(messages) != 1 or repr(messages[0][1]) != repr(quick)):
            raise AssertionError(f"fast parser {quick!r} != full parser {messages!r}")
        now = time.time()
        for timetag, message in messages:
            if timetag != IMMEDIATE:
                schedule(timetag, now, 10.0)
            spec = ADDRESSES.get(message.address)
            if spec is None:
                raise OscError("unknown address")
            fast = FAST_COERCERS.get((message.address, message.tags))
            if fast is None:
                coerce(spec, message)
                continue
            answers = []
            for check in (fast, lambda m: coerce(spec, m)):
                try:
                    answers.append(repr(check(message)))
                except OscError as err:
                    answers.append(OscError(str(err)))
            if repr(answers[0]) != repr(answers[1]):
                raise AssertionError(f"fast coercer {answers[0]!r} != coerce {answers[1]!r} for {message!r}")
            if isinstance(answers[1], OscError):
                raise answers[1]

    scratch = Path(tempfile.mkdtemp(prefix="ganshot-fuzz-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None))
    atexit.register(shutil.rmtree, scratch, True)  # each call leaves a folder in RAM otherwise

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


def refusals() -> tuple:
    """The exceptions that are ganshot's promised refusals of bad input."""
    from ganshot.bridges.osc.validate import OscError
    from ganshot.engine.errors import GanshotError

    return GanshotError, OscError


def corpus_dir() -> Path:
    """Inputs fuzz runs found (escapes, hangs), one folder per target; the tests run them all."""
    return Path(__file__).resolve().parents[1] / "tests" / "fuzz_corpus"


def run(name: str, count: int, seed: int, hang_ms: float = 1000.0, keep=None) -> dict:
    """Fuzz target ``name`` with ``count`` inputs; returns the figures."""
    refusal = refusals()
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
        except refusal:
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


# -- coverage-guided (atheris / libFuzzer) -------------------------------------------------------
JSON_TOKENS = ["true", "false", "null", "1e999", "-0", "NaN", "Infinity", "1.5e-400", "\\u0000", "\\ud800", '":',
               "[[[[[[[[", "{\"\":{\"\":", "9" * 40]


MAX_LEN = {"osc": 4096, "midi": 256}  # bytes per input; JSON targets: 4 kB or twice their largest seed


def dictionary(name: str) -> list[bytes]:
    """libFuzzer dictionary tokens for ``name``: its format's keys, values, addresses."""
    if name == "osc":
        from ganshot.bridges.osc.addresses import ADDRESSES

        pad = lambda b: b + b"\x00" * (4 - len(b) % 4)  # noqa: E731 - OSC strings end on 4 bytes
        return [pad(a.encode()) for a in ADDRESSES] + [pad(b"," + t.encode()) for t in ("if", "iif", "s", "i", "f", "")] \
            + [b"#bundle\x00"]
    if name == "midi":
        return [bytes([s]) for s in (0x90, 0x99, 0x80, 0xB0, 0xC0, 0xE0, 0xF0, 0xF7, 0xF8, 0xFF)]
    tokens: set[str] = set(JSON_TOKENS)

    def walk(value) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                tokens.add(json.dumps(key))
                walk(inner)
        elif isinstance(value, list):
            for inner in value[:8]:
                walk(inner)
        elif isinstance(value, str) and len(value) < 64:
            tokens.add(json.dumps(value))
    for seed in corpus()[name]:
        walk(json.loads(seed))
    return sorted(t.encode() for t in tokens)


def atheris_child(name: str, count: int, hang_ms: float, workdir: Path) -> None:
    """Runs in its own process: libFuzzer drives ``name`` for ``count`` inputs and exits the process."""
    import atheris

    with atheris.instrument_imports(include=["ganshot"]):
        target = targets()[name]
    refusal = refusals()
    stats = {"target": name, "inputs": 0, "refused": 0, "escaped": 0, "hangs": 0, "slowest_ms": 0.0,
             "escapes": [], "seconds": 0.0}
    started = time.perf_counter()

    def timed(data: bytes) -> tuple[float, str | None]:
        t0 = time.perf_counter()
        try:
            target(data)
            why = None
        except refusal:
            why = ""
        except Exception as err:  # noqa: BLE001 - what the bench counts (RecursionError too)
            why = "".join(traceback.format_exception_only(type(err), err)).strip()
        return time.perf_counter() - t0, why

    def save(kind: str, data: bytes, why: str) -> None:
        k = stats[kind]
        if k <= 5:
            (workdir / f"{name}-{kind}-{k}.bin").write_bytes(data)
            (workdir / f"{name}-{kind}-{k}.txt").write_text(why + "\n")
            stats["escapes"].append(f"{kind}: {why[:300]}")

    def one(data: bytes) -> None:
        took, why = timed(data)
        if took * 1000 > hang_ms and timed(data)[0] * 1000 > hang_ms:  # slow twice: not the scheduler
            stats["hangs"] += 1
            save("hangs", data, f"{took * 1000:.0f} ms")
        stats["slowest_ms"] = max(stats["slowest_ms"], took * 1000)
        stats["inputs"] += 1
        if why == "":
            stats["refused"] += 1
        elif why:
            stats["escaped"] += 1
            save("escaped", data, why)
        if stats["inputs"] % 2000 == 0 or stats["inputs"] >= count:
            stats["seconds"] = time.perf_counter() - started
            (workdir / f"{name}.json").write_text(json.dumps(stats))
        if stats["inputs"] >= count:
            os._exit(0)  # libFuzzer's own -runs also counts its internal re-runs

    seeds, found = workdir / f"{name}-seeds", workdir / f"{name}-corpus"
    seeds.mkdir(exist_ok=True)
    found.mkdir(exist_ok=True)
    for k, seed in enumerate(corpus()[name]):
        (seeds / f"seed-{k}").write_bytes(seed)
    for k, old in enumerate(sorted((corpus_dir() / name).glob("*.bin")) if (corpus_dir() / name).is_dir() else []):
        (seeds / f"found-{k}").write_bytes(old.read_bytes())
    with open(workdir / f"{name}.dict", "w") as out:
        for token in dictionary(name):
            out.write('"' + "".join(chr(b) if 32 <= b < 127 and b not in b'"\\' else f"\\x{b:02x}" for b in token) + '"\n')
    max_len = MAX_LEN.get(name) or max(4096, 2 * max(len(seed) for seed in corpus()[name]))
    atheris.Setup([sys.argv[0], f"-runs={count * 2}", "-timeout=30", "-rss_limit_mb=4096", f"-max_len={max_len}",
                   "-len_control=0",
                   f"-dict={workdir / f'{name}.dict'}", f"-artifact_prefix={workdir}/{name}-", "-print_final_stats=1",
                   str(found), str(seeds)], one)
    atheris.Fuzz()


def run_atheris(name: str, count: int, hang_ms: float, workdir: Path) -> dict:
    """One target in a child process; its figures, with libFuzzer's last coverage line."""
    log = workdir / f"{name}.log"
    with open(log, "wb") as err:
        child = subprocess.run([sys.executable, __file__, "--atheris-child", name, "--count", str(count),
                                "--hang-ms", str(hang_ms), "--keep", str(workdir)], stdout=err, stderr=err)
    stats_path = workdir / f"{name}.json"
    r = json.loads(stats_path.read_text()) if stats_path.exists() else {"target": name, "inputs": 0, "refused": 0,
                                                                      "escaped": 0, "hangs": 0, "slowest_ms": 0.0,
                                                                      "escapes": [], "seconds": 1.0}
    text = log.read_text(errors="replace")
    cov = re.findall(r"cov: (\d+) ft: (\d+) corp: (\d+)/", text)
    r["cov"], r["ft"], r["corpus"] = (int(x) for x in cov[-1]) if cov else (0, 0, 0)
    r["accepted"] = r["inputs"] - r["refused"] - r["escaped"]
    r["per_s"] = r["inputs"] / max(r["seconds"], 1e-9)
    if child.returncode != 0 or r["inputs"] < count:  # a libFuzzer timeout, a crash or an out-of-memory
        r["escaped"] += 1
        r["escapes"].append(f"child exited {child.returncode} after {r['inputs']} inputs: see {log}: "
                            + " | ".join(text.strip().splitlines()[-3:]))
    return r


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", action="append", choices=("osc", "kit", "kitset", "model", "midi"))
    parser.add_argument("--count", type=int, default=20000, help="inputs per target")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--hang-ms", type=float, default=1000.0)
    parser.add_argument("--keep", default=None, help="folder for the inputs that escaped")
    parser.add_argument("--engine", choices=("mutate", "atheris"), default="mutate",
                        help="mutate: the seeded mutator; atheris: coverage-guided libFuzzer (the dev extra)")
    parser.add_argument("--atheris-child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.keep:
        os.makedirs(args.keep, exist_ok=True)
    if args.atheris_child:
        atheris_child(args.atheris_child, args.count, args.hang_ms, Path(args.keep))
    workdir = Path(args.keep or tempfile.mkdtemp(prefix="ganshot-atheris-"))
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    how = f"atheris (libFuzzer, coverage-guided; findings in {workdir})" if args.engine == "atheris" else \
        f"seeded mutator, seed {args.seed}"
    print(f"ganshot fuzz bench: {how}, {args.count} inputs per target, hang > {args.hang_ms:g} ms, "
          f"{os.cpu_count()} CPUs, load average {load:.1f}", flush=True)
    cov_head = f" {'cov':>6} {'ft':>6} {'corpus':>6}" if args.engine == "atheris" else ""
    print(f"{'target':8} {'inputs':>9} {'accepted':>9} {'refused':>9} {'escaped':>8} {'hangs':>6} "
          f"{'slowest ms':>11} {'inputs/s':>9}" + cov_head, flush=True)
    bad = 0
    for name in args.target or ("osc", "kit", "kitset", "model", "midi"):
        if args.engine == "atheris":
            r = run_atheris(name, args.count, args.hang_ms, workdir)
        else:
            r = run(name, args.count, args.seed, args.hang_ms, args.keep)
        bad += r["escaped"] + r["hangs"]
        cov = f" {r['cov']:6d} {r['ft']:6d} {r['corpus']:6d}" if args.engine == "atheris" else ""
        print(f"{name:8} {r['inputs']:9d} {r['accepted']:9d} {r['refused']:9d} {r['escaped']:8d} {r['hangs']:6d} "
              f"{r['slowest_ms']:11.2f} {r['per_s']:9.0f}" + cov, flush=True)
        for why in r["escapes"]:
            print(f"    escaped: {why}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
