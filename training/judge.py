"""The judge: how close a generator's one-shots come to its dataset's held-out split.

Cheat sheet::

    from ganshot.training.judge import judge_reference, judge, render_judged, scores, load_best
    ref = judge_reference("data/drums2x8", "presets/models/drums-v2-eval/classifier.safetensors", seed=0)
    judge(generator, ref, n=500, seed=0, latent_dim=100)  # {"fd_ratio": 3.68, "probe": 0.93, "is_ratio": 0.81}
    audio, labels = render_judged(generator, ref, 500, 0, 100)  # the very one-shots judge() scores
    figures, probs = scores(audio, ref)                           # figures of any float32[N, samples]
    load_best("runs/drums")    # RUN/best.json as a dict, or None when the run kept no best

The figures (the benches ``bench/quality_per_cpu_hour.py`` and ``bench/warm_start.py`` print them):

* ``fd_ratio``: Fréchet distance (classifier embedding) generated-vs-test over the train-vs-test
  floor; lower is better, 1 = as close as real train hits are to real test hits;
* ``probe``: k-fold accuracy of a linear real-vs-generated probe on the embedding (0.5 = indistinguishable);
* ``is_ratio``: Inception Score of the generated set over the real test split's.

The split is :func:`ganshot.training.evaluate.split_items`'s (seeded, grouped by source hit); a
conditional generator gets labels drawn in the real data's class proportions; latents are seeded,
so two judgements of one generator give the same figures.

In training (``train.judge_every = K > 0``; unconditional or class-conditional drum configs, not
pitch-conditional ones, which ``ganshot evaluate`` judges): every K generator steps and at the last
step, :class:`RunJudge` judges the EMA generator (the live one without EMA) on
``train.judge_samples`` one-shots, logs ``judge/fd_ratio``, ``judge/probe``, ``judge/is_ratio`` to
TensorBoard, appends ``{"step", "fd_ratio", "probe", "is_ratio"}`` as one line to ``RUN/judge.jsonl``,
and when ``fd_ratio`` is the lowest so far keeps that checkpoint as ``RUN/best/`` (swapped in whole,
never pruned) with ``RUN/best.json`` ``{"format": "ganshot-judge-best", "version": 1, "step",
"fd_ratio", "probe", "is_ratio"}``; ``--resume`` reads the best back. The classifier is
``train.judge_classifier``, or one trained on the run's train split at the start and kept as
``RUN/judge_classifier.safetensors`` (reused on ``--resume`` while the dataset is the same);
``judge_every`` may change on ``--resume``, ``judge_samples`` and ``judge_classifier`` may not (FD
is biased by the set size, each classifier has its own scale: best.json's figures would not compare).
Only the main process judges; the judge's randomness is its own (numpy, seeded), so a judged run
trains exactly like an unjudged one.
``ganshot export RUN -o OUT --best`` exports ``RUN/best/``.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch

from ganshot.engine.atomic import atomic_write_text
from ganshot.engine.errors import FormatError, UserInputError
from ganshot.engine.strict_json import read_json_file

__all__ = [
    "JudgeReference", "judge_reference", "render_judged", "scores", "judge", "RunJudge", "load_best", "check_judge_setup",
    "BEST_FORMAT", "BEST_VERSION", "BEST_FILE", "JUDGE_LOG", "JUDGE_CLASSIFIER_FILE", "FIGURES",
]  # fmt: skip

BEST_FORMAT, BEST_VERSION = "ganshot-judge-best", 1
BEST_FILE = "best.json"
JUDGE_LOG = "judge.jsonl"
JUDGE_CLASSIFIER_FILE = "judge_classifier.safetensors"
FIGURES = ("fd_ratio", "probe", "is_ratio")
MAX_BEST_BYTES = 1 << 16
MIN_TEST_ITEMS = 5  # the probe's folds each need a held-out real one-shot
RENDER_BATCH = 64


class JudgeReference(NamedTuple):
    """What every judgement compares against: the classifier and the real test split's figures."""

    classifier: object  # a DrumClassifier
    test_embeddings: np.ndarray  # float32[test items, EMBED_DIM]
    fd_floor: float  # Fréchet distance train-vs-test
    real_is: float  # Inception Score of the test split
    class_freq: np.ndarray  # float64[classes]: each class's share of the dataset
    classes: list


def _fingerprint(data_dir: Path) -> str:
    return hashlib.sha256((Path(data_dir) / "manifest.json").read_bytes()).hexdigest()


def judge_reference(data_dir, classifier_path=None, seed: int = 0, *, dataset=None, save_to=None) -> JudgeReference:
    """The reference of the dataset at ``data_dir`` split with ``seed``.

    ``classifier_path``: a classifier.safetensors; None = train one on the train split (saved to
    ``save_to`` when given). ``dataset``: the already loaded OneShotDataset of ``data_dir``.
    """
    from .classifier import load_classifier, save_classifier, train_classifier
    from .data import OneShotDataset
    from .evaluate import split_items
    from .metrics import frechet_distance, inception_score

    dataset = OneShotDataset(data_dir) if dataset is None else dataset
    train_idx, test_idx = split_items(dataset.manifest, seed=seed)
    if len(test_idx) < MIN_TEST_ITEMS:
        raise UserInputError(f"{data_dir}: the judge needs at least {MIN_TEST_ITEMS} held-out one-shots, the test "
                             f"split holds {len(test_idx)} (more hits per class, from more kits or notes)")
    audio, labels = dataset.audio.numpy(), dataset.labels.numpy()
    if classifier_path is not None:
        clf, _ = load_classifier(classifier_path)
    else:
        clf = train_classifier(audio[train_idx], labels[train_idx], dataset.classes, dataset.sample_rate)
        if save_to is not None:
            save_classifier(clf, save_to, dataset_sha256=_fingerprint(data_dir), extra={"split_seed": seed})
    p_test, e_test = clf.predict(audio[test_idx])
    _, e_train = clf.predict(audio[train_idx])
    floor = frechet_distance(e_train, e_test)
    freq = np.bincount(labels, minlength=len(dataset.classes)) / len(labels)
    return JudgeReference(clf, e_test, floor, inception_score(p_test, splits=1)[0], freq, dataset.classes)


def render_judged(generator, ref, n: int, seed: int, latent_dim: int) -> tuple[np.ndarray, np.ndarray | None]:
    """(audio float32[n, samples], class labels or None): the seeded one-shots every judge scores; a
    conditional generator gets labels drawn in the real data's class proportions."""
    freq = ref[4]
    rng = np.random.default_rng(seed)
    device = next(generator.parameters()).device
    z = torch.from_numpy(rng.standard_normal((n, latent_dim)).astype(np.float32)).to(device)
    labels = torch.from_numpy(rng.choice(len(freq), size=n, p=freq)).to(device) if generator.spec.conditional else None
    with torch.no_grad():
        audio = torch.cat([generator(z[i:i + RENDER_BATCH], None if labels is None else labels[i:i + RENDER_BATCH])
                           for i in range(0, n, RENDER_BATCH)]).float().cpu().numpy()
    return audio, None if labels is None else labels.cpu().numpy()


def scores(audio: np.ndarray, ref) -> tuple[dict, np.ndarray]:
    """({fd_ratio, probe, is_ratio}, the classifier's probabilities) of generated ``audio``."""
    from .metrics import frechet_distance, inception_score, probe_accuracy

    clf, e_test, floor, real_is, _, _ = ref
    probs, emb = clf.predict(audio)
    return {"fd_ratio": frechet_distance(emb, e_test) / floor, "probe": probe_accuracy(e_test, emb)["accuracy"],
            "is_ratio": inception_score(probs, splits=1)[0] / real_is}, probs


def judge(generator, ref, n: int, seed: int, latent_dim: int) -> dict:
    """``{"fd_ratio", "probe", "is_ratio"}`` of ``n`` seeded one-shots of ``generator`` (see the module)."""
    return scores(render_judged(generator, ref, n, seed, latent_dim)[0], ref)[0]


def load_best(run_dir) -> dict | None:
    """``RUN/best.json`` checked (format, version, a step and the figures), or None when there is none."""
    path = Path(run_dir) / BEST_FILE
    if not path.is_file():
        return None
    data = read_json_file(path, MAX_BEST_BYTES, "not a ganshot best-checkpoint record")
    if not isinstance(data, dict) or data.get("format") != BEST_FORMAT or data.get("version") != BEST_VERSION:
        found = (data.get("format"), data.get("version")) if isinstance(data, dict) else None
        raise FormatError(f"{path}: unknown best-checkpoint record {found!r} (this ganshot reads "
                          f"{BEST_FORMAT!r} version {BEST_VERSION})")
    step = data.get("step")
    if isinstance(step, bool) or not isinstance(step, int) or step < 0 or not all(
            isinstance(data.get(k), (int, float)) and not isinstance(data.get(k), bool) for k in FIGURES):
        raise FormatError(f"{path}: a best-checkpoint record needs a step and the figures {', '.join(FIGURES)}")
    return data


def check_judge_setup(run_dir, cfg) -> None:
    """Refuse, with one line, a run that cannot be judged: a pitch-conditional model, a missing
    ``train.judge_classifier``, an unknown ``RUN/best.json``."""
    if cfg.model.pitch_conditional:
        raise UserInputError("config: train.judge_every must be 0 for a pitch-conditional model (it is judged by "
                             "`ganshot evaluate`, not during training)")
    path = cfg.train.judge_classifier
    if path and not Path(path).expanduser().is_file():
        raise UserInputError(f"config: train.judge_classifier: no classifier file at {path}")
    load_best(run_dir)


class RunJudge:
    """Judges a training run's generator and keeps its best checkpoint (see the module docstring)."""

    def __init__(self, run_dir, ref: JudgeReference, every: int, n: int, seed: int, latent_dim: int) -> None:
        self.run_dir, self.ref, self.every, self.n, self.seed = Path(run_dir), ref, every, n, seed
        self.latent_dim = latent_dim
        self.best = load_best(self.run_dir)

    @classmethod
    def prepare(cls, run_dir, data_dir, dataset, cfg, say=print) -> RunJudge:
        """The judge of a run with ``cfg`` (``train.judge_every > 0``) on the loaded ``dataset``."""
        t, run_dir = cfg.train, Path(run_dir)
        check_judge_setup(run_dir, cfg)
        path, save_to = (Path(t.judge_classifier).expanduser(), None) if t.judge_classifier else (None, None)
        if path is None:
            own = run_dir / JUDGE_CLASSIFIER_FILE
            if own.is_file() and _trained_on(own) == _fingerprint(data_dir):
                path = own
                say(f"ganshot: judging with {own}")
            else:
                save_to = own
                say(f"ganshot: training the judge's classifier on the train split (saved as {own})")
        ref = judge_reference(data_dir, path, t.seed, dataset=dataset, save_to=save_to)
        return cls(run_dir, ref, t.judge_every, t.judge_samples, t.seed, cfg.model.latent_dim)

    def due(self, step: int, last_step: int) -> bool:
        return step % self.every == 0 or step == last_step

    def __call__(self, step: int, generator, keep_best, monitor=None) -> dict:
        """Judge ``generator`` (eval mode, no grad; its mode restored) at ``step``; log and record it,
        and call ``keep_best()`` (which writes ``RUN/best/``) when it is the best so far."""
        was_training = generator.training
        generator.eval()
        try:
            figures = judge(generator, self.ref, self.n, self.seed, self.latent_dim)
        except UserInputError:  # NaN/Inf one-shots (a diverged run): no figures, never the best
            figures = dict.fromkeys(FIGURES)
        finally:
            generator.train(was_training)
        record = {"step": int(step), **{k: float(v) if v is not None and np.isfinite(v) else None
                                        for k, v in figures.items()}}
        if None in record.values():
            self._append(record)
            return record
        if monitor is not None and getattr(monitor, "writer", None) is not None:
            for key in FIGURES:
                monitor.writer.add_scalar(f"judge/{key}", record[key], step)
            monitor.writer.flush()
        self._append(record)
        if self.best is None or record["fd_ratio"] < self.best["fd_ratio"]:
            keep_best()
            self.best = {"format": BEST_FORMAT, "version": BEST_VERSION, **record}
            atomic_write_text(self.run_dir / BEST_FILE, json.dumps(self.best, indent=1, allow_nan=False) + "\n")
        return record

    def _append(self, record: dict) -> None:
        with open(self.run_dir / JUDGE_LOG, "a", encoding="utf-8") as log:  # one whole line per write
            log.write(json.dumps(record, allow_nan=False) + "\n")
            log.flush()
            os.fsync(log.fileno())

    def __repr__(self) -> str:
        return f"RunJudge(every={self.every}, n={self.n}, seed={self.seed}, best={self.best and self.best['step']})"


def _trained_on(path: Path) -> str | None:
    """The dataset fingerprint a classifier file records (None when unreadable)."""
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="pt") as handle:
            return (handle.metadata() or {}).get("dataset_sha256")
    except Exception:  # an unreadable file is retrained and overwritten
        return None
