"""Training maze agents: behavioural cloning from a shortest-path expert (warm start)
and PPO, both on the `rand_region` training distribution."""
