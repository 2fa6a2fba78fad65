"""Localised causal and attribution maps over the maze: activation patching, integrated
gradients and value maps (which channels and cells of a layer matter, and where)."""
