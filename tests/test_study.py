"""`behavstats study --quick` end to end on the shipped default policy: the report is
valid, complete, self-contained and shows the published figures; a re-run reuses."""

import base64
import html.parser
import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from behavstats.cli import app
from behavstats.interventions import ChannelResult, ResampleResult, RetargetResult
from behavstats.maps.patching import PatchingResult
from behavstats.policy import load_policy
from behavstats.report import SECTIONS
from behavstats.study import quick_config
from behavstats.study.pipeline import PARTS, run_parts
from behavstats.sweeps import AblationResult


class ReportParser(html.parser.HTMLParser):
    """Sections, images, links and tag balance of the report."""

    VOID = {"img", "br", "meta", "hr", "input", "link"}

    def __init__(self):
        super().__init__()
        self.sections, self.images, self.links, self.open = [], [], [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "section":
            self.sections.append(attrs["id"])
        if tag == "img":
            self.images.append(attrs.get("src", ""))
        if tag in ("a", "link", "script"):
            self.links.append(attrs.get("href") or attrs.get("src") or "")
        if tag not in self.VOID:
            self.open.append(tag)

    def handle_endtag(self, tag):
        assert self.open and self.open[-1] == tag, f"</{tag}> closes <{self.open[-1:]}>"
        self.open.pop()


@pytest.fixture(scope="module")
def study(quick_study):
    return quick_study


def test_report_parses_with_every_section_and_embedded_figures(study):
    out, _ = study
    parser = ReportParser()
    parser.feed((out / "report.html").read_text())
    parser.close()
    assert parser.open == []
    assert parser.sections == [key for key, _ in SECTIONS]
    assert len(parser.images) >= 8
    for src in parser.images:
        kind, data = src.split(",", 1)
        magic = {"data:image/png;base64": b"\x89PNG", "data:image/gif;base64": b"GIF8"}
        assert base64.b64decode(data)[:4] == magic[kind]
    assert all(not link.startswith(("http", "//")) for link in parser.links)
    # the published figures sit beside ours in every results section
    text = (out / "report.html").read_text()
    bodies = dict(part.split('"', 1) for part in text.split('<section id="')[1:])
    assert all("<th>published</th>" in bodies[key] for key, _ in SECTIONS
               if key not in ("fields", "reproduce"))


def test_report_shows_published_numbers_and_how_to_reproduce(study):
    out, _ = study
    text = (out / "report.html").read_text()
    for published in ("71%", "0.83", "0.81", "0.03"):  # cheese share, accuracy, vector
        assert published in text
    # the published four-feature model refitted on our episodes, beside its coefficients
    assert "the published four-feature L1 model" in text
    assert "VIF of Euclidean distance, decision square → cheese" in text
    record = json.loads((out / "study.json").read_text())
    assert record["policy"] == "default" and record["config"]["quick"] is True
    assert record["versions"]["torch"] in text and record["policy_fingerprint"] in text
    assert record["policy_scale"] == 1 and "IMPALA, scale 1, 626,256 parameters" in text
    for table in ("evaluation/success.parquet", "episodes/episodes.parquet",
                  "cheese_vector/decision.parquet", "retarget/by_size.parquet",
                  "layer_sweep/layer_sweep.csv", "ablation/ablation.csv", "probes/probes.csv"):
        assert (out / table).stat().st_size > 0


def test_a_figure_caption_counts_the_tests_of_its_own_family(study):
    """A part with several families of tests (the probes: flattened, spatial,
    early-decision) gives each figure the size of the family it marks."""
    from behavstats.report.sections import family, figure_specs
    from behavstats.study.folder import Study

    out, _ = study
    folder = Study.load(out)
    summary = folder.summary("probes")
    sizes = summary[summary["quantity"] == "significant_tests"].set_index("condition")["n"]
    assert len(sizes) >= 2  # the quick study's probes test two families at least
    for spec in figure_specs()["probes"]:
        if "{tests}" in spec.caption and spec.family in sizes.index:
            assert family(folder, "probes", spec.family) == \
                f"{sizes[spec.family]:,.0f} {spec.family}"


def test_each_input_is_computed_once(study):
    """Channel discovery runs once and feeds retargeting, resampling and the ablation's
    tracking scores; the evaluation takes its vanilla episodes from the episodes part
    instead of running them again."""
    out, _ = study
    discovery = ChannelResult.load(out / "channels").table
    assert RetargetResult.load(out / "retarget").channels.equals(discovery)
    assert ResampleResult.load(out / "resample").channels.equals(discovery)
    ablation = AblationResult.load(out / "ablation").ablation
    scores = discovery.set_index("channel")["score"]
    assert ablation["tracking_score"].equals(ablation["channel"].map(scores))
    patching = PatchingResult.load(out / "patching").patching.query("unit == 'channel'")
    effects = ablation[ablation["method"] == "mean"].set_index("channel")["estimate"]
    for column, source in (("tracking_score", scores), ("ablation_effect", effects)):
        assert (patching[column].to_numpy(float)
                == patching["channel"].astype(int).map(source).to_numpy(float)).all()
    assert (out / "evaluation" / "episodes" / "training").is_dir()
    assert not (out / "evaluation" / "episodes" / "vanilla").exists()


def test_second_run_reuses_every_finished_part(study):
    out, first = study
    assert first.count("computing") == len(PARTS)
    before = (out / "episodes" / "episodes.parquet").stat().st_mtime_ns
    again = CliRunner().invoke(app, ["study", "--quick", "--out", str(out)])
    assert again.exit_code == 0, again.output
    assert again.output.count("reusing finished part") == len(PARTS)
    assert "computing" not in again.output
    assert (out / "episodes" / "episodes.parquet").stat().st_mtime_ns == before


def test_parts_run_side_by_side_give_what_one_at_a_time_gives(study, tmp_path):
    """The quick study ran its parts side by side in two worker processes (one torch
    thread each); the same parts computed one at a time in this process write the same
    tables, up to float32 rounding (the thread count changes the order of torch's
    sums)."""
    out, _ = study
    names = ("channels", "ablation", "value_maps", "attribution")
    parts = [p for p in PARTS if p.name in names]
    run_parts(load_policy("default"), tmp_path, quick_config(), parts, log=lambda _: None)
    for name in names:
        tables = sorted(p.relative_to(out / name) for p in (out / name).rglob("*")
                        if p.suffix in (".parquet", ".csv"))
        assert tables, name
        for table in tables:
            read = pd.read_parquet if table.suffix == ".parquet" else pd.read_csv
            pd.testing.assert_frame_equal(read(tmp_path / name / table),
                                          read(out / name / table), rtol=1e-5, atol=1e-6)
