"""--tail-gate-db and --no-bandwidth-extension on serve, render and export-kit: parsed, checked,
and handed to the Engine."""

from __future__ import annotations

import pytest

from ganshot.cli import build_parser


@pytest.mark.parametrize("command", ["serve", "render", "export-kit"])
@pytest.mark.parametrize("given, want", [(None, 6.0), ("off", None), ("OFF", None), ("12", 12.0), ("1", 1.0)])
def test_the_gate_margin_is_parsed(command, given, want):
    extra = {"serve": [], "render": ["kit.json", "--midi", "a.mid", "-o", "out.wav"], "export-kit": ["kit.json", "out"]}[command]
    argv = [command, *extra] + ([] if given is None else ["--tail-gate-db", given])
    assert build_parser().parse_args(argv).tail_gate_db == want


@pytest.mark.parametrize("bad", ["0.5", "25", "loud", "nan"])
def test_a_bad_margin_is_refused_in_one_line(bad, capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["serve", "--tail-gate-db", bad])
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert "--tail-gate-db" in err and ("or off" in err)


@pytest.mark.parametrize("given, want", [("off", None), ("9", 9.0)])
@pytest.mark.parametrize("extension", [True, False])
def test_the_engine_renders_with_it(tiny_bundle, given, want, extension):
    from ganshot._engine_cli import _engine
    from tests.support import kit_for

    argv = ["serve", "--tail-gate-db", given] + ([] if extension else ["--no-bandwidth-extension"])
    with _engine(build_parser().parse_args(argv), loaded=(tiny_bundle, kit_for(tiny_bundle))) as engine:
        assert engine.worker.post.tail_gate_db == want and engine.worker.post.extend_bandwidth == extension


@pytest.mark.parametrize("command", ["serve", "render", "export-kit"])
@pytest.mark.parametrize("given, want", [(None, 250.0), ("off", 0.0), ("0", 0.0), ("400", 400.0)])
def test_the_cut_fade_is_parsed_and_reaches_the_engine(tiny_bundle, command, given, want):
    from ganshot._engine_cli import _engine
    from tests.support import kit_for

    extra = {"serve": [], "render": ["kit.json", "--midi", "a.mid", "-o", "out.wav"], "export-kit": ["kit.json", "out"]}[command]
    args = build_parser().parse_args([command, *extra] + ([] if given is None else ["--cut-fade-ms", given]))
    assert args.cut_fade_ms == want
    if command == "serve":
        with _engine(args, loaded=(tiny_bundle, kit_for(tiny_bundle))) as engine:
            assert engine.worker.post.cut_fade_ms == want


@pytest.mark.parametrize("bad", ["-1", "1001", "long", "nan"])
def test_a_bad_cut_fade_is_refused_in_one_line(bad, capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["serve", "--cut-fade-ms", bad])
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert "--cut-fade-ms" in err and ("or off" in err or "cut fade" in err)
