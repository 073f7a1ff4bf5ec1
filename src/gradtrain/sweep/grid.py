"""The sweep grid: `KEY=V1,V2,...` and `KEY=range(START,STOP[,STEP])` tokens, and their product.

A token with one value is a plain override, the same for every trial. A token with several
values is an axis; the grid is every combination of the axes' values, the first axis varying
slowest. Each value stays the YAML text the user typed: the trial's override is `KEY=VALUE`,
read by the config layer exactly as `gradtrain run KEY=VALUE` would read it.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass

from gradtrain.config.errors import ConfigError, Problem, override_source

MAX_TRIALS = 10_000
_RANGE = re.compile(r"range\((?P<arguments>.*)\)", re.DOTALL)
_OPENERS, _CLOSERS = "[{(", "]})"


@dataclass(frozen=True)
class Axis:
    """One command-line token: a key and the values it takes, one override token per value."""

    token: str
    key: str
    values: tuple[str, ...]
    overrides: tuple[str, ...]

    @property
    def swept(self) -> bool:
        return len(self.values) > 1


Combination = tuple[tuple[str, str], ...]  # (key, value) for each swept axis, in command order


@dataclass(frozen=True)
class Grid:
    """Every token of a sweep command, in the order given."""

    axes: tuple[Axis, ...]

    @property
    def swept(self) -> tuple[Axis, ...]:
        return tuple(axis for axis in self.axes if axis.swept)

    def __len__(self) -> int:
        count = 1
        for axis in self.swept:
            count *= len(axis.values)
        return count

    def combinations(self) -> list[Combination]:
        """The swept values of every trial; one empty combination when nothing is swept."""
        swept = self.swept
        product = itertools.product(*(axis.values for axis in swept))
        return [tuple(zip((axis.key for axis in swept), values, strict=True)) for values in product]

    def overrides(self, combination: Combination) -> list[str]:
        """The override tokens of one trial, fixed and swept, in the order they were given."""
        chosen = dict(combination)
        tokens: list[str] = []
        for axis in self.axes:
            if axis.swept:
                tokens.append(f"{axis.key}={chosen[axis.key]}")
            else:
                tokens.extend(axis.overrides)
        return tokens


def parse_grid(tokens: Sequence[str]) -> Grid:
    """Read the sweep tokens; ConfigError naming each bad token, all of them at once."""
    axes: list[Axis] = []
    problems: list[Problem] = []
    first_token_of: dict[str, str] = {}
    for token in tokens:
        try:
            axis = parse_axis(token)
        except ConfigError as error:
            problems.extend(error.problems)
            continue
        if axis.key in first_token_of:
            earlier = first_token_of[axis.key]
            problems.append(
                _problem(token, axis.key, f"{axis.key} is also set by '{earlier}'; give it once")
            )
            continue
        first_token_of[axis.key] = token
        axes.append(axis)
    grid = Grid(tuple(axes))
    if not problems and len(grid) > MAX_TRIALS:
        shown = " ".join(axis.token for axis in grid.swept)
        problems.append(
            Problem(f"sweep '{shown}'", None, None, "", f"{len(grid)} trials; at most {MAX_TRIALS}")
        )
    if problems:
        raise ConfigError(problems)
    return grid


def parse_axis(token: str) -> Axis:
    """One token as an axis. A token without '=' passes through for load_config to report."""
    key, equals, text = token.partition("=")
    key = key.strip()
    if not equals or not key:
        return Axis(token, token, (text,), (token,))
    text = text.strip()
    match = _RANGE.fullmatch(text)
    if match is not None:
        values = _range_values(token, key, match.group("arguments"))
    else:
        values = split_values(text)
        if len(values) == 1:
            return Axis(token, key, (text,), (token,))
        for value in values:
            if not value:
                raise ConfigError(
                    [_problem(token, key, "an empty value in the list; e.g. optimizer.lr=0.1,0.01")]
                )
    repeated = sorted({value for value in values if values.count(value) > 1})
    if repeated:
        raise ConfigError(
            [_problem(token, key, f"the value {repeated[0]} is listed twice; list each once")]
        )
    return Axis(token, key, tuple(values), tuple(f"{key}={value}" for value in values))


def split_values(text: str) -> list[str]:
    """Split at the commas outside brackets and quotes: `[16],[16,16]` is two values."""
    values: list[str] = []
    depth = 0
    quote = ""
    start = 0
    for index, char in enumerate(text):
        if quote:
            if char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char in _OPENERS:
            depth += 1
        elif char in _CLOSERS:
            depth = max(0, depth - 1)
        elif char == "," and depth == 0:
            values.append(text[start:index].strip())
            start = index + 1
    values.append(text[start:].strip())
    return values


def _range_values(token: str, key: str, arguments: str) -> list[str]:
    usage = "range(START, STOP[, STEP]) takes integers, as Python's range does"
    try:
        numbers = [int(argument) for argument in arguments.split(",")]
    except ValueError:
        raise ConfigError(
            [_problem(token, key, f"{usage}; for other values list them: {key}=0.1,0.01")]
        ) from None
    if not 1 <= len(numbers) <= 3:
        raise ConfigError([_problem(token, key, usage)])
    if len(numbers) == 3 and numbers[2] == 0:
        raise ConfigError([_problem(token, key, "the STEP of range() cannot be 0")])
    numbers_in_range = range(*numbers)
    if not numbers_in_range:
        raise ConfigError([_problem(token, key, "this range is empty; is STOP past START?")])
    if len(numbers_in_range) > MAX_TRIALS:
        message = f"{len(numbers_in_range)} values; a sweep has at most {MAX_TRIALS} trials"
        raise ConfigError([_problem(token, key, message)])
    return [str(number) for number in numbers_in_range]


def _problem(token: str, key: str, message: str) -> Problem:
    return Problem(override_source(token), None, None, key, message)
