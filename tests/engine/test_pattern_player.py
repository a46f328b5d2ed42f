"""The live pattern player on a fake frame clock: hits land on the bar grid to the sample, changes
wait for the next bar line not yet committed, bundles generate off the caller's thread (newest wins
per slot), bad sources are refused with one line."""

from __future__ import annotations

import pytest

from ganshot.engine.errors import FormatError, GanshotError, UserInputError
from ganshot.engine.pattern_player import PatternPlayer
from ganshot.engine.pattern_source import LoopPattern, loop_from_midi, resolve_source
from ganshot.engine.pattern_transport import BarGrid, bar_hits
from tests.support.patterns import fixed_pattern_bundle, seed_with_sign, write_midi

RATE = 48000
LOOKAHEAD = 9600  # 0.2 s
KICK, SNARE, HAT = 36, 38, 42
TPB = 480


class Clock:
    def __init__(self, frame: int = 1000):
        self.frame = frame

    def __call__(self) -> int:
        return self.frame


class Hits:
    """A fake Engine.trigger_note: records (frame, note, velocity)."""

    def __init__(self):
        self.played = []

    def __call__(self, note, velocity, at_frame):
        self.played.append((at_frame, note, velocity))
        return 1


def make_player(root, tempo_bpm=120.0, clock=None):
    clock = clock or Clock()
    hits = Hits()
    return PatternPlayer(RATE, hits, clock, root=root, tempo_bpm=tempo_bpm), clock, hits


def run_until(player, clock, frame, step=997):
    """Advance the fake mixer clock to ``frame`` in uneven steps, ticking the scheduler each time."""
    while clock.frame < frame:
        clock.frame = min(frame, clock.frame + step)
        player.tick()


def drum_midi(path, beats, note, bars=1, meter=(4, 4)):
    events = []
    for beat in beats:
        tick = int(round(beat * TPB))
        events += [(tick, "note_on", 9, note, 100), (tick + 60, "note_off", 9, note, 0)]
    end = int(bars * meter[0] * 4 / meter[1] * TPB)
    events += [(end, "note_off", 9, 0, 0)]  # the loop's end: a note-off of nothing
    return write_midi(path, [events], meta=[(0, "meter", meter)])


def grid(origin, tempo_bpm, beats):
    return [origin + int(round(b * 60 * RATE / tempo_bpm)) for b in beats]


def test_a_loop_starts_at_the_first_bar_line_and_every_hit_is_on_the_grid(tmp_path):
    drum_midi(tmp_path / "four.mid", [0, 1, 2, 3.5], KICK)
    player, clock, hits = make_player(tmp_path, tempo_bpm=137.0)  # 137 bpm: frames per beat not whole
    player.play(0, "four.mid")
    origin = clock.frame + LOOKAHEAD
    run_until(player, clock, origin + 5 * 4 * 21023)
    frames = [f for f, note, _ in hits.played]
    beats = [bar * 4 + b for bar in range(6) for b in (0, 1, 2, 3.5)]
    expected = [f for f in grid(origin, 137.0, beats) if f < clock.frame + LOOKAHEAD]
    assert frames == expected and len(frames) >= 20  # each hit once, sample-exact, nothing late
    assert player.status()["running"] and player.status()["slots"][0]["playing"] == "four.mid"


def test_a_new_pattern_replaces_the_old_at_the_next_bar_line(tmp_path):
    drum_midi(tmp_path / "kick.mid", [0, 1, 2, 3], KICK)
    drum_midi(tmp_path / "snare.mid", [1, 3], SNARE)
    player, clock, hits = make_player(tmp_path)
    player.play(0, "kick.mid")
    origin = clock.frame + LOOKAHEAD
    bar = 4 * 24000
    run_until(player, clock, origin + bar + bar // 2)  # halfway through bar 1
    player.play(0, "snare.mid")  # bar 2 is not committed yet: it switches there
    run_until(player, clock, origin + 4 * bar)
    kicks = [f for f, n, _ in hits.played if n == KICK]
    snares = [f for f, n, _ in hits.played if n == SNARE]
    assert kicks == grid(origin, 120.0, range(8))  # bars 0 and 1 only
    assert snares == [f for f in grid(origin, 120.0, [9, 11, 13, 15, 17]) if f < clock.frame + LOOKAHEAD]


def test_a_change_inside_the_lookahead_of_a_bar_line_waits_for_the_bar_after(tmp_path):
    drum_midi(tmp_path / "kick.mid", [0], KICK)
    player, clock, hits = make_player(tmp_path)
    player.play(0, "kick.mid")
    origin = clock.frame + LOOKAHEAD
    bar = 96000
    run_until(player, clock, origin + bar - 4800)  # 0.1 s before bar 1: its hits are committed
    player.stop(0)
    run_until(player, clock, origin + 4 * bar)
    assert [f for f, _, _ in hits.played] == [origin, origin + bar]  # bar 1 still plays; silent from bar 2
    assert player.status()["slots"][0]["playing"] is None


def test_tempo_changes_at_the_next_bar_line(tmp_path):
    drum_midi(tmp_path / "beat.mid", [0, 1, 2, 3], KICK)
    player, clock, hits = make_player(tmp_path, tempo_bpm=120.0)
    player.play(0, "beat.mid")
    origin = clock.frame + LOOKAHEAD
    run_until(player, clock, origin + 30000)
    player.set_tempo(90.0)
    run_until(player, clock, origin + 96000 + 3 * 128000)
    frames = [f for f, _, _ in hits.played]
    bar1 = origin + 96000  # bar 1 begins where 120 bpm puts it, then 90 bpm: 32000 frames a beat
    assert frames[:8] == grid(origin, 120.0, range(4)) + grid(bar1, 90.0, range(4))
    assert frames[8:12] == grid(bar1, 90.0, range(4, 8))
    assert player.status()["tempo_bpm"] == 90.0


def test_stop_all_stops_the_transport_and_the_next_play_starts_a_fresh_grid(tmp_path):
    drum_midi(tmp_path / "kick.mid", [0, 2], KICK)
    player, clock, hits = make_player(tmp_path)
    player.play(0, "kick.mid")
    player.play(1, "kick.mid")
    origin = clock.frame + LOOKAHEAD
    run_until(player, clock, origin + 20000)
    player.stop()
    run_until(player, clock, origin + 3 * 96000)
    assert not player.status()["running"]
    assert [f for f, _, _ in hits.played] == [f for f in grid(origin, 120.0, [0, 0, 2, 2])]
    hits.played.clear()
    player.play(0, "kick.mid")
    again = clock.frame + LOOKAHEAD
    run_until(player, clock, again + 1000)
    assert [f for f, _, _ in hits.played] == [again]


def test_a_stalled_scheduler_skips_the_hits_it_missed(tmp_path):
    drum_midi(tmp_path / "beat.mid", [0, 1, 2, 3], KICK)
    player, clock, hits = make_player(tmp_path)
    player.play(0, "beat.mid")
    origin = clock.frame + LOOKAHEAD
    clock.frame = origin
    player.tick()  # beat 0 is handed over
    clock.frame = origin + 2 * 24000 + 10  # the scheduler slept through beats 1 and 2
    player.tick()
    assert [f for f, _, _ in hits.played] == grid(origin, 120.0, [0, 3, 4, 5])[:len(hits.played)]
    assert player.status()["missed"] == 2 and all(f >= clock.frame for f, _, _ in hits.played[1:])


def test_bar_hits_loops_a_three_four_pattern_over_its_own_length():
    loop = LoopPattern("waltz", None, 1, 3.0, ((0.0, KICK, 1.0), (1.0, HAT, 0.5), (2.0, HAT, 0.5)))
    played = [bar * 4 + beat for bar in range(3) for beat, _, _ in bar_hits(loop, 0, bar)]
    assert played == list(range(12))  # every beat: the 3-beat loop runs across the 4/4 bars
    assert [n for bar in range(3) for _, n, _ in bar_hits(loop, 0, bar)][:4] == [KICK, HAT, HAT, KICK]
    assert bar_hits(loop, 5, 4) == []  # before it starts


def test_the_grid_is_sample_exact_over_an_hour():
    g = BarGrid(RATE, 133.0, 777)
    bar = 133 * 60 // 4 * 60  # an hour of bars, roughly
    assert g.frame_of(bar) == 777 + round(bar * 4 * 60 * RATE / 133.0)
    assert g.bar_at(g.frame_of(bar)) == bar and g.bar_at(g.frame_of(bar) - 1) == bar - 1


@pytest.fixture(scope="module")
def fixed_bundle(tmp_path_factory):
    root = tmp_path_factory.mktemp("patterns")
    fixed_pattern_bundle(root, "fixed")
    return root


def test_a_new_seed_is_heard_from_the_next_bar(fixed_bundle):
    kick_seed, snare_seed = seed_with_sign(8, True), seed_with_sign(8, False)
    player, clock, hits = make_player(fixed_bundle)
    assert player.play(0, "fixed", kick_seed) == "bundle"
    assert hits.played == [] and player.generate_pending() == 1  # the generation thread's work
    origin = clock.frame + LOOKAHEAD
    run_until(player, clock, origin + 96000 + 1000)
    player.play(0, "fixed", snare_seed)  # regenerate: bar 2 is the next bar line not committed
    player.generate_pending()
    run_until(player, clock, origin + 4 * 96000 - LOOKAHEAD - 1)  # hands over everything before bar 4
    assert [(f, n) for f, n, _ in hits.played] == [(origin, KICK), (origin + 96000, KICK),
                                                  (origin + 2 * 96000, SNARE), (origin + 3 * 96000, SNARE)]
    assert player.status()["slots"][0]["playing"] == f"fixed seed {snare_seed}"


def test_a_pattern_not_ready_for_its_bar_starts_a_bar_later_and_the_old_one_plays_on(fixed_bundle):
    kick_seed, snare_seed = seed_with_sign(8, True), seed_with_sign(8, False)
    player, clock, hits = make_player(fixed_bundle)
    player.play(0, "fixed", kick_seed)
    player.generate_pending()
    origin = clock.frame + LOOKAHEAD
    run_until(player, clock, origin + 20000)
    player.play(0, "fixed", snare_seed)  # wanted for bar 1 ...
    run_until(player, clock, origin + 96000 - 100)  # ... but generation ran only after bar 1 was committed
    player.generate_pending()
    run_until(player, clock, origin + 3 * 96000 + 10)
    assert [n for _, n, _ in hits.played] == [KICK, KICK, SNARE, SNARE]
    status = player.status()
    assert status["late"] == 1


def test_a_flood_of_plays_to_one_slot_generates_once_newest_wins(fixed_bundle):
    player, clock, hits = make_player(fixed_bundle)
    for seed in range(200):
        player.play(3, "fixed", seed)
    assert player.status()["coalesced"] == 199
    assert player.generate_pending() == 1
    assert player.status()["slots"][3]["next"]["pattern"] == "fixed seed 199"


@pytest.mark.parametrize("slot", [-1, 8, 3.5, "0"])
def test_slots_out_of_range_are_refused(tmp_path, slot):
    drum_midi(tmp_path / "kick.mid", [0], KICK)
    player, _, _ = make_player(tmp_path)
    with pytest.raises(UserInputError, match="slot must be"):
        player.play(slot, "kick.mid")
    with pytest.raises(UserInputError, match="slot must be"):
        player.stop(slot)


def test_sources_outside_the_folder_or_of_no_known_kind_are_refused(tmp_path):
    (tmp_path / "inside").mkdir()
    (tmp_path / "inside" / "notes.txt").write_text("x")
    drum_midi(tmp_path / "outside.mid", [0], KICK)
    for text, reason in (("../outside.mid", "must lie inside the patterns folder"), ("missing.mid", "no such MIDI file"),
                         ("notes.txt", "neither a patterns bundle folder"), ("", "must be a patterns bundle folder"),
                         (".", "neither a patterns bundle folder")):
        with pytest.raises(UserInputError, match=reason):
            resolve_source(tmp_path / "inside", text)


@pytest.mark.parametrize("make, reason", [
    (lambda p: p.write_bytes(b"MThd\x00\x00\x00\x06garbage"), "not a readable MIDI file"),
    (lambda p: p.write_bytes(b"RIFF" + bytes(60)), "not a readable MIDI file"),
    (lambda p: p.write_bytes(b"MThd" + bytes(70 * 1024)), r"huge \(71,684 bytes"),
    (lambda p: write_midi(p, [[]], meta=[(0, "meter", (4, 4))]), "no notes"),
    (lambda p: write_midi(p, [[(0, "note_on", 9, 36, 100), (60, "note_off", 9, 36, 0)]],
                          meta=[(0, "meter", (4, 4)), (1920, "meter", (3, 4))]), r"changes meter \(3/4, 4/4\)"),
    (lambda p: write_midi(p, [[(65 * 1920, "note_on", 9, 36, 100), (65 * 1920 + 60, "note_off", 9, 36, 0)]]),
     "66 bars long; a live loop has at most 64"),
])
def test_bad_midi_files_are_refused_with_one_clear_line(tmp_path, make, reason):
    path = tmp_path / "bad.mid"
    make(path)
    player, _, hits = make_player(tmp_path)
    with pytest.raises(FormatError, match=reason) as refused:
        player.play(0, "bad.mid")
    assert "\n" not in str(refused.value) and str(path) in str(refused.value)
    assert not player.status()["running"] and hits.played == []


def test_a_midi_loop_reads_its_meter_and_length(tmp_path):
    loop = loop_from_midi(drum_midi(tmp_path / "waltz.mid", [0, 1, 2, 3, 4.5], HAT, bars=2, meter=(3, 4)))
    assert (loop.bars, loop.beats_per_bar, loop.loop_beats) == (2, 3.0, 6.0)
    assert [h[0] for h in loop.hits] == [0, 1, 2, 3, 4.5] and loop.hits[0][2] == pytest.approx(100 / 127)


def test_a_bad_bundle_fails_on_the_generation_thread_and_says_so_in_status(tmp_path):
    bundle = tmp_path / "broken"
    bundle.mkdir()
    (bundle / "model.json").write_text('{"format": "ganshot-model", "version": 1}')
    player, clock, hits = make_player(tmp_path)
    player.play(0, "broken", 1)  # cheap checks pass: a folder with a model.json
    player.generate_pending()
    status = player.status()
    assert status["errors"] == 1 and "audio model bundle" in status["last_error"]
    assert status["slots"][0]["state"].startswith("failed: ") and not status["running"]
    with pytest.raises(GanshotError):
        player.set_tempo(10.0)


class Releases:
    """A fake Engine.note_off: records (frame, note)."""

    def __init__(self):
        self.released = []

    def __call__(self, note, at_frame):
        self.released.append((at_frame, note))
        return 1


def test_melodic_notes_end_with_note_offs_on_their_frames_and_drum_hits_have_none(tmp_path):
    # a bar of 4/4: a drum hit on beat 0, C4 held 1.5 beats from beat 1, E4 from beat 3 held past the loop's end
    events = [(0, "note_on", 9, KICK, 100), (60, "note_off", 9, KICK, 0),
              (480, "note_on", 0, 60, 90), (1200, "note_off", 0, 60, 0),
              (1440, "note_on", 1, 64, 80), (2400, "note_off", 1, 64, 0)]
    write_midi(tmp_path / "tune.mid", [events], meta=[(0, "meter", (4, 4))])
    loop = loop_from_midi(tmp_path / "tune.mid")
    assert loop.bars == 1  # E4's end past the bar does not add a bar: it wraps
    assert loop.hits == ((0.0, KICK, 100 / 127), (1.0, 60, 90 / 127), (1.0, 64, 0.0), (2.5, 60, 0.0), (3.0, 64, 80 / 127))
    clock, hits, releases = Clock(), Hits(), Releases()
    player = PatternPlayer(RATE, hits, clock, root=tmp_path, tempo_bpm=120.0, release=releases)
    player.play(0, "tune.mid")
    origin = clock.frame + LOOKAHEAD
    run_until(player, clock, origin + 2 * 96000)
    beat = 24000  # frames at 120 bpm
    on = [(origin + bar * 96000 + int(b * beat), n) for bar in range(2) for b, n in ((0, KICK), (1, 60), (3, 64))]
    assert [(f, n) for f, n, _ in hits.played][:6] == on
    offs = [(origin + bar * 96000 + int(b * beat), n) for bar in range(2) for b, n in ((1, 64), (2.5, 60))]
    assert releases.released[:4] == offs  # the first bar's E4 note-off releases nothing that sounds: harmless
    assert all(n != KICK for _, n in releases.released)
    assert player.status()["hits"] == len(hits.played)  # note-offs are not counted as hits


def test_a_melodic_bundle_loop_has_a_note_off_per_note():
    from types import SimpleNamespace

    from ganshot.engine.pattern_source import loop_from_pattern

    bundle = SimpleNamespace(name="chorales", drums=False, steps_per_bar=16, row_notes=[60, 62, 64])
    pattern = SimpleNamespace(seed=5, onset=[0] * 32, notes=[(0, 0, 4, 100), (12, 2, 8, 90), (30, 1, 6, 80)])
    loop = loop_from_pattern(bundle, pattern)
    assert (loop.bars, loop.loop_beats) == (2, 8.0)
    offs = sorted((beat, note) for beat, note, velocity in loop.hits if velocity == 0.0)
    assert offs == [(1.0, 60), (1.0, 62), (5.0, 64)]  # 30 + 6 steps wrap to step 4 = beat 1
    drums = loop_from_pattern(SimpleNamespace(**{**vars(bundle), "drums": True}), pattern)
    assert all(velocity > 0 for _, _, velocity in drums.hits)
