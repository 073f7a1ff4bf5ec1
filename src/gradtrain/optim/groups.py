"""Param groups by what a parameter is: weight decay for the matrices, none for biases and norms.

`optimizer.no_decay: [bias, norm]` in a config, as nanoGPT and most transformer recipes
group their parameters: every parameter named `*.bias`, and every parameter of a
normalization layer (LayerNorm, BatchNorm, GroupNorm, RMSNorm), trains without weight decay.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from gradtrain.nn import Module
from gradtrain.nn.normalization import GroupNorm, LayerNorm, RMSNorm, _BatchNorm

NORM_LAYERS = (LayerNorm, _BatchNorm, GroupNorm, RMSNorm)
KINDS = ("bias", "norm")


def excluded_names(model: Module, no_decay: Iterable[str]) -> set[str]:
    """The names of the model's parameters that the kinds in `no_decay` leave undecayed."""
    kinds = set(no_decay)
    unknown = kinds - set(KINDS)
    if unknown:
        raise ValueError(f"no_decay takes {' and '.join(KINDS)}, not {', '.join(sorted(unknown))}")
    names: set[str] = set()
    if "bias" in kinds:
        names |= {name for name, _ in model.named_parameters() if name.rsplit(".", 1)[-1] == "bias"}
    if "norm" in kinds:
        for prefix, module in model.named_modules():
            if isinstance(module, NORM_LAYERS):
                names |= {
                    f"{prefix}.{name}" if prefix else name for name, _ in module.named_parameters()
                }
    return names


def weight_decay_groups(model: Module, no_decay: Iterable[str]) -> list[dict[str, Any]]:
    """Two param groups: the decayed parameters (the optimizer's weight_decay), then the ones
    `no_decay` names with weight_decay 0; one group when it names none."""
    excluded = excluded_names(model, no_decay)
    parameters = list(model.named_parameters())
    decayed = [parameter for name, parameter in parameters if name not in excluded]
    undecayed = [parameter for name, parameter in parameters if name in excluded]
    groups: list[dict[str, Any]] = [{"params": decayed}] if decayed else []
    if undecayed:
        groups.append({"params": undecayed, "weight_decay": 0.0})
    return groups
