"""`gradtrain sample`: text from a trained language model's run directory, seeded."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .toolkit import app, fail


@app.command()
def sample(
    run_dir: Annotated[
        Path, typer.Argument(metavar="RUN_DIR", help="The run directory of a text model.")
    ],
    prompt: Annotated[
        str | None,
        typer.Option("--prompt", help="Text the sample continues (default: a newline)."),
    ] = None,
    tokens: Annotated[
        int, typer.Option("--tokens", min=0, help="How many tokens to generate.")
    ] = 500,
    temperature: Annotated[
        float,
        typer.Option("--temperature", help="Above 0: below 1 surer, above 1 more random."),
    ] = 0.8,
    top_k: Annotated[
        int | None,
        typer.Option("--top-k", min=1, help="Draw only from the K likeliest tokens each step."),
    ] = 200,
    seed: Annotated[int, typer.Option("--seed", min=0, help="The same seed, the same text.")] = 0,
    checkpoint: Annotated[
        str | None,
        typer.Option(
            "--checkpoint",
            metavar="best|last",
            help="best (the default where the run wrote one) or last.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Print text sampled from a trained text model.

    The prompt, then what follows it."""
    from gradtrain.inference.sampling import SampleError, generate, load_text_model, prompt_ids

    if not temperature > 0:
        fail(f"--temperature is {temperature}; give a number above 0 (1 samples as trained)")
    if checkpoint not in (None, "best", "last"):
        fail(f"--checkpoint is {checkpoint!r}; give best or last")
    try:
        loaded = load_text_model(run_dir, checkpoint)  # type: ignore[arg-type]
        start = prompt_ids(loaded.tokenizer, prompt)
    except SampleError as error:
        fail(str(error))
    ids = generate(loaded.model, start, tokens, loaded.block_size, temperature, top_k, seed)
    typer.echo(loaded.tokenizer.decode(ids))
