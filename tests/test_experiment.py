"""Experiments as settings objects: one home per default, results that carry their
settings and their saved summary, a study config of settings whose parts' cache keys
follow them."""

from __future__ import annotations

import json
from dataclasses import FrozenInstanceError, replace

import pandas as pd
import pytest
from typer.testing import CliRunner

from behavstats.cli import app
from behavstats.experiments import Channels, CheeseVector, Regression, Retarget
from behavstats.interventions import ChannelResult
from behavstats.study import StudyConfig, quick_config
from behavstats.study.pipeline import PARTS


def test_settings_are_frozen_values_that_round_trip_through_json():
    settings = Retarget(channel_sets={"given": [55, 42]}, max_targets=None, seed=3)
    with pytest.raises(FrozenInstanceError):
        settings.seed = 4
    assert settings.channel_sets == {"given": (55, 42)}  # lists become tuples
    again = Retarget.from_dict(json.loads(json.dumps(settings.to_dict())))
    assert again == settings and again.to_dict() == settings.to_dict()
    assert CheeseVector(coeffs=[-1, 1]) == CheeseVector(coeffs=(-1.0, 1.0))
    # a result's params hold more than the settings: from_dict ignores the rest
    assert CheeseVector.from_dict({"near": 3, "n_used": 40}) == CheeseVector(near=3)


def test_a_result_carries_its_settings_and_reports_its_saved_summary(make_policy, tmp_path):
    settings = Channels(placements=1, seed=5)
    result = settings.run(make_policy(0), range(3), tmp_path)
    assert result.settings == settings
    loaded = ChannelResult.load(tmp_path)
    assert loaded.settings == settings
    pd.testing.assert_frame_equal(loaded.summary(), result.summary())
    # the saved summary is what a report of the folder shows: not recomputed by the
    # code installed now (here: a saved number that differs from a recomputation)
    saved = pd.read_parquet(tmp_path / "summary.parquet")
    saved.loc[0, "estimate"] = 123.0
    saved.to_parquet(tmp_path / "summary.parquet")
    assert ChannelResult.load(tmp_path).summary().loc[0, "estimate"] == 123.0


def test_the_command_line_shows_the_settings_defaults():
    runner = CliRunner()
    shown = runner.invoke(app, ["cheese-vector", "--help"], terminal_width=200).output
    assert "-2,-1,-0.5,0.5,1,2" in shown  # CheeseVector.coeffs, written once
    shown = runner.invoke(app, ["retarget", "--help"], terminal_width=200).output
    assert "1000:1100" in shown and "[default: 20]" in shown


def test_the_study_holds_one_settings_object_per_part():
    config = quick_config(seed=7, mode="easy")
    assert StudyConfig.from_dict(json.loads(json.dumps(config.as_dict()))) == config
    assert config.regression == Regression(n_splits=5, n_subsets=10, n_pairs=10)
    # the study's seed, mode and step limit apply to every part
    assert config.settings_of("cheese_vector") == CheeseVector(seed=7, mode="easy")
    assert config.settings_of("evaluation").max_steps == config.max_steps == 150
    assert config.settings_of("regression").seed == 7


def test_a_parts_cache_key_follows_its_settings_only():
    config = StudyConfig()
    edited = replace(config, cheese_vector=CheeseVector(coeffs=(-1.0,)))
    changed = {p.name for p in PARTS if p.settings(config) != p.settings(edited)}
    assert changed == {"cheese_vector"}
    retargeted = replace(config, channels=Channels(placements=2))
    changed = {p.name for p in PARTS if p.settings(config) != p.settings(retargeted)}
    assert changed == {"channels"}  # its readers follow through their inputs' settings
