"""The functions PyTorch keeps at its top level: gt.exp(x) is x.exp(), as torch.exp(x) is.

Each is made here from the Tensor method of its name, for every method Tensor's body marks
with `toplevel` (tensor.TOPLEVEL): it takes the tensor first and calls that method, so it
records the same graph. Adding a method so marked adds its function; nothing is listed here.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from .tensor import TOPLEVEL, Tensor, tensor_argument


def function_of(name: str) -> Callable[..., Any]:
    """gt.<name>: the Tensor method `name` as a function of its tensor, named `input`."""
    method = getattr(Tensor, name)

    def function(input: Tensor, *args: Any, **kwargs: Any) -> Any:
        return getattr(tensor_argument(input, name), name)(*args, **kwargs)

    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"gradtrain.{name}(input, ...) is input.{name}(...)." + (
        f"\n\n{inspect.cleandoc(method.__doc__)}" if method.__doc__ else ""
    )
    return function


__all__ = list(TOPLEVEL)
globals().update({name: function_of(name) for name in TOPLEVEL})
