"""The GM percussion table: complete, in range, folded into the 16 classes."""

import pytest

from ganshot.engine.errors import UserInputError
from ganshot.engine import gm_drums
from ganshot.engine.gm_drums import CLASSES, GM_DRUMS, MAX_NOTE, MIN_NOTE, note_class, note_name, notes_of_class


def test_table_covers_35_to_81_exactly():
    assert (MIN_NOTE, MAX_NOTE) == (35, 81)
    assert sorted(GM_DRUMS) == list(range(35, 82))
    assert all(label in CLASSES for _, label in GM_DRUMS.values())


def test_classes_order_and_every_class_used():
    assert CLASSES == (
        "kick", "snare", "clap", "rimshot", "closed_hat", "pedal_hat", "open_hat", "low_tom", "mid_tom",
        "high_tom", "crash", "ride", "other_cymbal", "shaker_tambourine", "hand_percussion", "other",
    )  # fmt: skip
    used = {label for _, label in GM_DRUMS.values()}
    assert used == set(CLASSES)


@pytest.mark.parametrize(
    "note, label",
    [(35, "kick"), (36, "kick"), (37, "rimshot"), (38, "snare"), (39, "clap"), (40, "snare"), (41, "low_tom"),
     (42, "closed_hat"), (44, "pedal_hat"), (46, "open_hat"), (47, "mid_tom"), (50, "high_tom"), (49, "crash"),
     (51, "ride"), (53, "ride"), (52, "other_cymbal"), (54, "shaker_tambourine"), (70, "shaker_tambourine"),
     (56, "hand_percussion"), (64, "hand_percussion"), (81, "other")],
)  # fmt: skip
def test_known_notes(note, label):
    assert note_class(note) == label


def test_names():
    assert note_name(36) == "Bass Drum 1"
    assert note_name(42) == "Closed Hi-Hat"
    assert note_name(81) == "Open Triangle"


@pytest.mark.parametrize("bad", [34, 82, 0, 127, -1, 36.0, True, "36", None])
def test_outside_range_raises(bad):
    with pytest.raises(UserInputError):
        note_class(bad)
    with pytest.raises(UserInputError):
        note_name(bad)


def test_notes_of_class():
    assert notes_of_class("snare") == (38, 40)
    assert notes_of_class("low_tom") == (41, 43)
    assert sum(len(notes_of_class(c)) for c in CLASSES) == 47
    with pytest.raises(UserInputError):
        notes_of_class("cowbell")


def test_drum_channel_is_midi_channel_10():
    assert gm_drums.DRUM_CHANNEL == 9
