"""The one-command study, its report and the interactive explorer."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from behavstats.cli.app import app, fail
from behavstats.cli.options import (
    Mode,
    PolicyOption,
    Quiet,
    Seed,
    folder,
    load,
    process_pool,
    usable_cores,
)


@app.command()
def study(
    out: Annotated[Path, folder("Study folder (re-running reuses finished parts).")],
    policy: PolicyOption = "default",
    quick: Annotated[bool, typer.Option(
        help="Shrink every size: a smoke run of about a minute.")] = False,
    workers: Annotated[int | None, typer.Option(
        min=1, show_default=False,
        help="Parallel processes, one torch thread each: the episodes' shards, then the "
             "other parts side by side (on 2 cores the default agent's episodes run 1.3x "
             "faster than in one process with two threads). At scale 4 each holds up to "
             "1.5 GB of base activations. 1: one part at a time, in this process. Default: "
             "the cores this process may use, at most 4.")] = None,
    seed: Seed = 0,
    mode: Mode = "hard",
    quiet: Quiet = False,
) -> None:
    """The whole study of a policy: evaluation, episodes, behavioural regression, cheese
    and top-right vectors, channels, retargeting, resampling, layer sweep, channel
    ablation, activation patching, probes, integrated gradients, value maps ->
    OUT/report.html."""
    from behavstats.report import write_report
    from behavstats.study import StudyConfig, quick_config, run_full_study

    net = load(policy)
    config = quick_config(seed, mode) if quick else StudyConfig(seed=seed, mode=mode)
    workers = workers or min(usable_cores(), 4)
    with process_pool(workers) as executor:
        outcomes = run_full_study(net, policy, out, config, executor=executor,
                                  workers=workers, progress=not quiet, log=typer.echo)
    total = sum(o.seconds for o in outcomes if not o.reused)
    typer.echo(f"report -> {write_report(out)} ({total:.0f} s computed, "
               f"{sum(o.reused for o in outcomes)} parts reused)")


@app.command()
def report(
    study_dir: Annotated[Path, typer.Argument(exists=True, file_okay=False,
                                              help="A folder written by behavstats study.")],
    markdown: Annotated[bool, typer.Option(
        help="Print the results table (the README's) as Markdown instead.")] = False,
) -> None:
    """Re-render STUDY_DIR/report.html from the saved results, or print its results
    table as Markdown."""
    from behavstats.report import markdown_table, write_report

    if markdown:
        typer.echo(markdown_table(study_dir), nl=False)
    else:
        typer.echo(f"-> {write_report(study_dir)}")


@app.command()
def explore(
    policy: PolicyOption = "default",
    host: Annotated[str, typer.Option(help="Address to bind (any other than 127.0.0.1 "
                                           "exposes the explorer to the network).")] =
    "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port (0: a free one).")] = 8000,
    no_browser: Annotated[bool, typer.Option("--no-browser", help="Do not open a browser.")] =
    False,
) -> None:
    """Interactive explorer: edit a maze in the browser and watch the vector field, the
    decision-square probabilities and the activations change under interventions."""
    from behavstats.explore.engine import Engine
    from behavstats.explore.server import Server

    server = Server(Engine(load(policy), name=policy), host=host, port=port)
    try:
        server.start()
    except RuntimeError as exc:
        fail(str(exc))
    typer.echo(f"behavstats explorer: {server.url} (Ctrl-C stops it)")
    if not no_browser:
        import webbrowser

        webbrowser.open(server.url)
    try:
        server.wait()
    except KeyboardInterrupt:
        server.stop()

