"""The findings' sentences about tested effects, from constructed comparison rows: an
effect is called significant only by its test (q <= 0.05 in a family, p <= 0.05 on
its own), the sentence says how many were tested, and it says so plainly when
nothing was found."""

import math

from behavstats.hooks import VECTOR_LAYER
from behavstats.report.comparisons import Compared, Row
from behavstats.report.findings import findings
from behavstats.report.rows import CHEESE

NAN = math.nan
LAYERS = {"embedder.block2.res1.resadd": "block 2, residual 1",
          "embedder.block2.res2.resadd": "block 2, residual 2",
          "embedder.block3.res1.resadd": "block 3, residual 1"}


def _row(quantity, condition, estimate, *, label="", low=NAN, high=NAN, n=40, p=NAN,
         q=NAN):
    return Compared(Row(label or quantity, quantity, condition), estimate, low, high, n, NAN,
                    p, q)


def _family(name, found, tests):
    return _row("significant_tests", name, found, n=tests)


def _text(section, rows):
    return " ".join(f.text for f in findings({section: rows}) if f.section == section)


def _cheese_vector(change, p):
    return _text("cheese_vector", [
        _row("p_cheese_median_before", CHEESE, 0.07),
        _row("p_cheese_median_after", CHEESE, 0.07),
        _row("p_cheese_change", CHEESE, change, low=change - 0.01, high=change + 0.01, p=p)])


def test_the_cheese_vector_lowers_p_cheese_only_when_its_test_says_so():
    text = _cheese_vector(-0.2, 0.0001)
    assert "lowers P(cheese)" in text and "p = 0.0001" in text
    text = _cheese_vector(0.0004, 0.4)
    assert "does not change P(cheese) significantly" in text and "lowers" not in text
    assert "p = 0.4" in text
    assert "does not change" in _cheese_vector(-0.3, NAN) and "no test" in _cheese_vector(
        -0.3, NAN)


def _sweep(estimates, found, tests=56):
    rows = [_row("p_cheese_change", f"{CHEESE} at {layer}", estimate, label=f"change of "
                 f"P(cheese), cheese vector x −1 at {LAYERS[layer]}", p=q / 2, q=q)
            for layer, (estimate, q) in zip(LAYERS, estimates, strict=True)]
    return _text("layer_sweep", [*rows, _family("layer x vector x coefficient x probability",
                                                found, tests)])


def test_the_layer_sweep_names_only_a_significant_lowering():
    """A positive change (even significant) or a larger insignificant one is never 'the
    layer where the vector lowers P(cheese) most'."""
    text = _sweep([(-0.3, 0.2), (0.0001, 0.001), (-0.1, 0.01)], 3)
    assert "lowers P(cheese) most at block 3, residual 1" in text
    assert "3 of 56 tests significant at q ≤ 0.05" in text
    assert "; at the published layer −0.30 (p = 0.10, q = 0.20)" in text
    text = _sweep([(-0.3, 0.2), (7e-05, 0.3), (-0.1, 0.06)], 0)
    assert text.startswith("At no layer does the cheese vector change P(cheese) "
                           "significantly (0 of 56 tests")
    assert "lowers" not in text
    text = _sweep([(-0.3, 0.2), (0.2, 0.001), (-0.1, 0.06)], 4)
    assert text.startswith("At no layer does the cheese vector lower P(cheese) "
                           "significantly (4 of 56 tests")


def _ablation(rows, found, tests=64):
    return _text("ablation", [
        *(_row("p_cheese_change", f"{method}-ablate channel {channel} at {VECTOR_LAYER}",
               estimate, label=f"change of P(cheese), {method}-ablate channel {channel} "
               f"(tracking score {score:.2f})", q=q)
          for method, channel, estimate, score, q in rows),
        _family("channel x method", found, tests)])


def test_the_ablation_sentence_counts_and_names_the_largest_significant_channel():
    text = _ablation([("zero", 7, -0.4, 0.1, 0.2), ("zero", 5, -0.12, 0.85, 0.003),
                      ("mean", 9, 0.05, 0.6, 0.04)], 2)
    assert "significantly in 2 of the 64 channel x method tests (q ≤ 0.05)" in text
    assert "the largest: zero-ablate channel 5 (tracking score 0.85), −0.12" in text
    assert "channel 7" not in text
    text = _ablation([("zero", 7, -0.4, 0.1, 0.2)], 0)
    assert "significantly in none of the 64 channel x method tests" in text
    assert "largest" not in text


def test_the_probe_sentence_counts_the_probes_that_beat_their_control():
    text = _text("probes", [_family("layer x target", 5, 42)])
    assert text.startswith("5 of the 42 layer x target probes beat their control task at "
                           "q ≤ 0.05")
    assert _text("probes", [_family("layer x target", 0, 42)]).startswith("None of the 42")


def test_the_spatial_and_early_decision_sentences():
    from behavstats.sweeps.probes import early_condition

    cheese = f"cheese_cell at {VECTOR_LAYER}"
    start = early_condition("first_observation", VECTOR_LAYER)
    text = _text("probes", [
        _row("spatial_probe_hit", cheese, 0.92, low=0.85, high=0.97, n=75),
        _row("chance_hit", cheese, 0.18), _row("spatial_probe_random_network", cheese, 0.56),
        _row("early_probe_auc", start, 0.76, low=0.66, high=0.85, n=116),
        _row("early_probe_selectivity", start, 0.2, n=116, p=0.001, q=0.006),
        _row("early_probe_auc", early_condition("decision_square", VECTOR_LAYER), 0.7),
        _row("early_probe_auc", early_condition("maze_features", ""), 0.82)])
    assert "in 0.92 [0.85, 0.97] of 75 held-out mazes (chance 0.18)" in text
    assert "randomly initialised network, which sees the cheese's sprite too, in 0.56" in text
    assert ("from its first observation, before any move, with AUC 0.76 [0.66, 0.85] on 116 "
            "decision mazes (against its control task: p = 0.001, q = 0.006)") in text
    assert "decision square 0.7" in text and "maze features 0.82" in text
    # without the decision-square row the early sentence is left out, not half-written
    assert "first observation" not in _text("probes", [
        _row("early_probe_auc", start, 0.76), _row("early_probe_selectivity", start, 0.2)])


def test_the_patching_sentence_names_each_directions_own_channel():
    moved = "cheese_moved, denoising, p_cheese"
    rows = [
        _row("restoration", f"{moved}: channel 15", 0.14, low=0.05, high=0.27, n=34,
             p=0.003, q=0.02, label="restoration, clean channel into the corrupted run: "
                                    "channel 15 (tracking score 0.98)"),
        _row("restoration", f"{moved}: channel 20", 0.04,
             label="restoration, clean channel into the corrupted run: channel 20"),
        _row("restoration", "cheese_moved, noising, p_cheese: channel 26", 0.5, n=34,
             p=0.001, q=0.003, label="restoration, corrupted channel into the clean run: "
                                     "channel 26 (tracking score 0.1)"),
        _row("cell_mass_near_cheese", moved, 0.84, low=0.77, high=0.91, n=34),
        _row("cell_share_near_cheese", moved, 0.067, n=34)]
    text = _text("patching", rows)
    assert ("the clean channel 15 (tracking score 0.98) restores 0.14 [0.05, 0.27] of "
            "P(cheese) at the decision square on its own (p = 0.003, q = 0.02)") in text
    assert "the corrupted channel 26 alone carries 0.50 of the change" in text
    assert "within a cell of a cheese" in text and "on 34 mazes" in text
    # without the cell map's rows the sentence is left out, not half-written
    assert _text("patching", rows[:3]) == ""


def test_the_attribution_sentence_reports_completeness():
    where = "logit_diff, cheese_removed"
    text = _text("attribution", [
        _row("output_difference", where, 5.08, low=1.43, high=9.99, n=9),
        _row("cheese_share", f"{where}, {VECTOR_LAYER}", 0.56, n=9),
        _row("within_tolerance", f"{where}, {VECTOR_LAYER}", 1.0, n=9)])
    assert "a change of 5.08 [1.43, 9.99] on 9 mazes" in text
    assert "add up to the change within 5% on 1.00 of the mazes" in text  # a share
