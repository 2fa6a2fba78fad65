"""Maps over the maze: attributions and value maps."""
