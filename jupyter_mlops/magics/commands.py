"""What `%k8s`, `%kserve` and `%katib` share: a command line read as a subcommand, its words and
options (kubectl-style, options anywhere), each option checked against the subcommand's own."""

from __future__ import annotations

import argparse
import shlex
from collections.abc import Callable, Mapping

from IPython.core.error import UsageError


def split(line: str) -> list[str]:
    """The line's words, as a shell splits them; a `UsageError` for an open quote."""
    try:
        return shlex.split(line)
    except ValueError as error:
        raise UsageError(f"cannot read the arguments: {error}") from None


def parse(
    parser: argparse.ArgumentParser,
    words: list[str],
    magic: str,
    options: Mapping[str, set[str] | frozenset[str]],
) -> tuple[argparse.Namespace, set[str]]:
    """The parsed line and the options given; a `UsageError` naming any option given that the
    subcommand does not take."""
    # Intermixed, so options may come before KIND and NAME as with kubectl.
    args: argparse.Namespace = parser.parse_intermixed_args(words)
    given = {k for k, v in vars(args).items() if v != parser.get_default(k)}
    given -= {"command", "words"}
    wrong = sorted(given - set(options[args.command]))
    if wrong:
        raise UsageError(f"{flags(wrong)} cannot be used with %{magic} {args.command}")
    return args, given


def flags(names: list[str]) -> str:
    return ", ".join("--" + name.replace("_", "-") for name in names)


def dispatch(target: object, args: argparse.Namespace) -> object:
    """Run `target._COMMAND(args, *words)`; the API's errors become the magic's own message."""
    from ..errors import MLOpsError

    command: Callable[..., object] = getattr(target, f"_{args.command}")
    try:
        return command(args, *args.words)
    except MLOpsError as error:
        raise UsageError(error.message) from None
