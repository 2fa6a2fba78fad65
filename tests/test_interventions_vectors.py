"""The vector algebra, pinned at the exact observation a vector was computed from, and
the random control and the hook hygiene of the batched engine."""

import numpy as np
import pytest
import torch

from behavstats.engine import probs
from behavstats.env import render
from behavstats.hooks import VECTOR_LAYER, AddVector, run_with_cache
from behavstats.interventions.forward import added
from behavstats.interventions.vectors import (
    cheese_vectors,
    corridor_is_empty,
    random_like,
    top_right_vectors,
)
from behavstats.maze.edits import carve_top_right_corridor, remove_cheese
from behavstats.policy import move_probs, preprocess

LATER = "embedder.fc"


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def policy(make_policy):
    return make_policy(0)


@pytest.fixture(scope="module")
def mazes(mazes_by_level):
    return mazes_by_level([6, 17])  # 9x9 with a decision square; 25x25 (fills the world)


def _edited_and_target(policy, edited_obs, target_obs, vector, coeff):
    """(probs, cache) of edited_obs under coeff * vector, and of target_obs unedited."""
    (logits, _), cache = run_with_cache(policy, preprocess(edited_obs), [VECTOR_LAYER, LATER],
                                        AddVector(VECTOR_LAYER, vector, coeff=coeff))
    (logits0, _), cache0 = run_with_cache(policy, preprocess(target_obs), [VECTOR_LAYER, LATER])
    return (move_probs(logits), cache), (move_probs(logits0), cache0)


def test_subtracting_the_cheese_vector_where_it_was_computed_removes_the_cheese(policy, mazes):
    maze = mazes[6]
    vector = cheese_vectors(policy, [maze])[0]
    assert vector.abs().max() > 1e-3  # the cheese does change the activations
    obs = render([(maze, maze.start), (remove_cheese(maze), maze.start)])
    (p, cache), (p0, cache0) = _edited_and_target(policy, obs[:1], obs[1:], vector, -1.0)
    # the edited layer holds the no-cheese activations (up to float rounding) ...
    torch.testing.assert_close(cache[VECTOR_LAYER], cache0[VECTOR_LAYER], rtol=0, atol=1e-6)
    # ... and so does everything downstream, down to the move probabilities
    torch.testing.assert_close(cache[LATER], cache0[LATER], rtol=0, atol=1e-5)
    torch.testing.assert_close(p, p0, rtol=0, atol=1e-6)
    # the batched engine, with a per-row coefficient, agrees
    both = probs(policy, obs, added(VECTOR_LAYER, (vector[None], np.zeros(2, int),
                                                   np.array([-1.0, 0.0]))), index=[0, 1])
    np.testing.assert_allclose(both[0], both[1], atol=1e-6)
    np.testing.assert_allclose(both[1], p0[0].numpy(), atol=1e-6)


def test_adding_the_top_right_vector_where_it_was_computed_opens_the_corridor(policy, mazes):
    maze = mazes[6]
    vector = top_right_vectors(policy, [maze])[0]
    assert vector.abs().max() > 1e-3
    carved = carve_top_right_corridor(maze)
    obs = render([(maze, maze.start), (carved, maze.start)])
    (p, cache), (p0, cache0) = _edited_and_target(policy, obs[:1], obs[1:], vector, 1.0)
    torch.testing.assert_close(cache[VECTOR_LAYER], cache0[VECTOR_LAYER], rtol=0, atol=1e-6)
    torch.testing.assert_close(p, p0, rtol=0, atol=1e-6)


def test_a_maze_filling_the_world_has_no_corridor_and_a_zero_top_right_vector(policy, mazes):
    full, small = mazes[17], mazes[6]
    assert full.maze_dim == full.world_dim == 25
    assert corridor_is_empty(full) and not corridor_is_empty(small)
    vectors = top_right_vectors(policy, [full, small])
    assert torch.count_nonzero(vectors[0]) == 0
    assert torch.count_nonzero(vectors[1]) > 0


def test_random_control_keeps_every_magnitude_and_randomises_signs():
    vector = torch.randn(8, 16, 16, generator=torch.Generator().manual_seed(1))
    control = random_like(vector, np.random.default_rng(5))
    torch.testing.assert_close(control.abs(), vector.abs(), rtol=0, atol=0)
    same_sign = (torch.sign(control) == torch.sign(vector)).float().mean().item()
    assert 0.4 < same_sign < 0.6
    torch.testing.assert_close(random_like(vector, np.random.default_rng(5)), control,
                               rtol=0, atol=0)
    assert not torch.equal(random_like(vector, np.random.default_rng(6)), control)


def test_a_failing_intervention_leaves_no_hook(policy, mazes):
    maze = mazes[6]
    obs = render([(maze, maze.start)])
    wrong = torch.zeros(3, 3, 3)
    with pytest.raises(ValueError):
        probs(policy, obs, [AddVector(VECTOR_LAYER, wrong)])
    assert all(not m._forward_hooks for m in policy.modules())
