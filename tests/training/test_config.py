"""Training configs: layering, overrides, strict keys and values, exact round trip."""

from __future__ import annotations

import pytest

from ganshot.engine.errors import FormatError
from ganshot.training.config import Config, config_to_toml, list_configs, load_config, save_config

SHIPPED = ["base", "drums_ddsp", "drums_specgan", "drums_v2", "pitched_64000", "pitched_harmonic", "pitched_small", "seed_64000", "wavegan_16k",
           "wavegan_32k", "wavegan_65k", "wavegan_small"]


def test_shipped_configs_are_listed_and_load():
    assert list_configs() == SHIPPED
    for name in SHIPPED:
        assert isinstance(load_config(name), Config)


def test_base_equals_the_dataclass_defaults():
    assert load_config("base") == Config()


def test_sizes():
    assert load_config("wavegan_16k").model.num_samples == 16384
    assert load_config("wavegan_32k").model.num_samples == 32768
    assert load_config("wavegan_65k").model.num_samples == 65536
    seed = load_config("seed_64000").model
    assert (seed.latent_dim, seed.num_samples, seed.sample_rate) == (500, 64000, 16000)
    small = load_config("wavegan_small")
    assert (small.model.d, small.train.batch_size, small.model.num_samples) == (16, 16, 16384)


def test_paper_hyper_parameters_are_the_defaults():
    t = load_config("wavegan_16k").train
    assert (t.critic_steps, t.gp_lambda, t.lr, t.betas) == (5, 10.0, 1e-4, (0.5, 0.9))


def test_user_file_inherits_a_shipped_name_and_a_relative_path(tmp_path):
    (tmp_path / "mine.toml").write_text('inherit = "wavegan_small"\n[model]\nconditional = true\n')
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "child.toml").write_text('inherit = "../mine.toml"\n[train]\nbatch_size = 4\n')
    cfg = load_config(tmp_path / "sub" / "child.toml")
    assert cfg.model.conditional is True
    assert cfg.model.d == 16  # from wavegan_small
    assert cfg.train.batch_size == 4
    assert cfg.train.critic_steps == 5  # from base


def test_overrides_are_read_as_toml():
    cfg = load_config("wavegan_16k", ["train.batch_size=8", "model.conditional=true", "train.betas=[0.0, 0.99]",
                                      "train.lr=2e-4", "train.amp=off", "model.latent_distribution=\"uniform\""])
    assert cfg.train.batch_size == 8
    assert cfg.model.conditional is True
    assert cfg.train.betas == (0.0, 0.99)
    assert cfg.train.lr == 2e-4
    assert cfg.train.amp == "off"
    assert cfg.model.latent_distribution == "uniform"


def test_integer_accepted_for_float():
    assert load_config("base", ["train.gp_lambda=5"]).train.gp_lambda == 5.0


@pytest.mark.parametrize(
    "override, named",
    [
        ("train.bogus=1", "train.bogus"),
        ("bogus.key=1", "bogus"),
        ("train.batch_size=0", "train.batch_size"),
        ("train.batch_size=2.5", "train.batch_size"),
        ("train.batch_size=true", "train.batch_size"),
        ("model.conditional=1", "model.conditional"),
        ("model.architecture=transformer", "model.architecture"),
        ("train.betas=[0.5]", "train.betas"),
        ("train.lr=nan", "train.lr"),
        ("train.amp=fp8", "train.amp"),
        ("batch_size=8", "SECTION.KEY"),
        ("train.batch_size", "SECTION.KEY=VALUE"),
    ],
)
def test_bad_overrides_name_the_key(override, named):
    with pytest.raises(FormatError) as info:
        load_config("base", [override])
    assert named in str(info.value)
    assert "\n" not in str(info.value)


def test_bad_files(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[model\n")
    with pytest.raises(FormatError, match="not valid TOML"):
        load_config(bad)
    bad.write_text('[model]\nwidth = 3\n')
    with pytest.raises(FormatError, match="model.width"):
        load_config(bad)
    bad.write_text('inherit = "nope"\n')
    with pytest.raises(FormatError, match="unknown config 'nope'"):
        load_config(bad)
    bad.write_text('inherit = "bad.toml"\n')
    with pytest.raises(FormatError, match="inherits itself"):
        load_config(bad)
    bad.write_text('version = 99\n')
    with pytest.raises(FormatError, match="version"):
        load_config(bad)
    with pytest.raises(FormatError, match="not found"):
        load_config(tmp_path / "missing.toml")
    with pytest.raises(FormatError, match="unknown config"):
        load_config("wavegan_1k")


@pytest.mark.parametrize("name", SHIPPED)
def test_save_config_round_trip(tmp_path, name):
    cfg = load_config(name, ["train.lr=3.5e-05", "model.conditional=true", "train.seed=12345678901"])
    path = save_config(cfg, tmp_path / "config.toml")
    assert load_config(path) == cfg
    assert "inherit" not in path.read_text()
    assert config_to_toml(load_config(path)) == path.read_text()
