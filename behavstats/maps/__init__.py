"""Localised causal and attribution maps: which channels and cells of a layer matter."""
