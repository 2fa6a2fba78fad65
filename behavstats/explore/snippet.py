"""The Python that computes a view's fields with the library ("copy Python")."""

from __future__ import annotations

from behavstats.explore.state import View


def python_snippet(view: View, policy: str, side: int) -> str:
    """Code that rebuilds the view's maze and interventions and computes its original
    and patched vector fields and decision-square probabilities, as the explorer does;
    `policy` is what `load_policy` is given, `side` the intervention layer's map side."""
    edits, spec = view.edits, view.interventions
    lines = [
        "from behavstats.hooks import Ablate, AddVector, SetCell",
        "from behavstats.interventions.vectors import cheese_vectors, top_right_vectors",
        "from behavstats.maze import maze_to_activation_cell",
        "from behavstats.maze.edits import move_cheese, move_mouse, remove_cheese, "
        "toggle_walls",
        "from behavstats.maze.levels import maze_for_level",
        "from behavstats.policy import load_policy",
        "from behavstats.vfield import decision_probs, field_cells, vector_field",
        "",
        f"policy = load_policy({policy!r})",
        f"maze = maze_for_level({view.level}, {view.mode!r})",
    ]
    if edits.walls:
        lines.append(f"maze = toggle_walls(maze, {[tuple(c) for c in edits.walls]})")
    if edits.mouse is not None:
        lines.append(f"maze = move_mouse(maze, {tuple(edits.mouse)})")
    if edits.remove_cheese:
        lines.append("maze = remove_cheese(maze)")
    elif edits.cheese is not None:
        lines.append(f"maze = move_cheese(maze, {tuple(edits.cheese)})")
    lines += [f"layer = {spec.layer!r}", "edits = []"]
    if spec.cheese_vector.coeff:
        source = ("maze" if spec.cheese_vector.level is None
                  else f"maze_for_level({spec.cheese_vector.level}, {view.mode!r})")
        lines.append(f"edits.append(AddVector(layer, cheese_vectors(policy, [{source}], "
                     f"layer)[0], coeff={spec.cheese_vector.coeff!r}))")
    if spec.top_right:
        lines.append("edits.append(AddVector(layer, top_right_vectors(policy, [maze], "
                     f"layer)[0], coeff={spec.top_right!r}))")
    if spec.clamp is not None:
        x, y = spec.clamp.cell
        lines += [f"row, col = maze_to_activation_cell({x}, {y}, maze.maze_dim, "
                  f"maze.world_dim, {side})",
                  f"edits.append(SetCell(layer, [{spec.clamp.channel}], row, col, "
                  f"{spec.clamp.value!r}))"]
    if spec.ablate is not None:
        channels = sorted(set(spec.ablate.channels))
        if spec.ablate.mean:
            lines += ["from behavstats.env import render",
                      "from behavstats.engine import activations",
                      "cells = [(maze, c) for c in field_cells(maze)]",
                      "mean = activations(policy, render(cells), layer).mean(0)  "
                      "# over this maze's field cells",
                      f"edits.append(Ablate(layer, {channels}, mean))"]
        else:
            lines.append(f"edits.append(Ablate(layer, {channels}))")
    lines += ["",
              "original = vector_field(policy, maze)",
              "patched = vector_field(policy, maze, edits) if edits else original",
              "print(decision_probs(original), decision_probs(patched))"]
    return "\n".join(lines) + "\n"
