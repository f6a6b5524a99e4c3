"""`%mlops`: the product's own commands (status now; more as the API grows)."""

from __future__ import annotations

from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring

from ..errors import MLOpsError


@magics_class
class MLOpsMagics(Magics):
    """`%mlops status`: what is configured and what answers, from the same API as the sidebar."""

    @magic_arguments()
    @argument(
        "command",
        choices=["status"],
        help="status: show the namespace and whether cluster, pipelines and MLflow answer.",
    )
    @line_magic
    def mlops(self, line: str) -> Any:
        """Show jupyter-mlops state. Usage: %mlops status"""
        parse_argstring(self.mlops, line)  # bad input raises UsageError with the usage line
        from ..checks import status
        from ..config import configure

        try:
            # The kernel's `%config MLOpsConfig.…` values apply through the shell as parent.
            return status(configure(parent=self.shell))
        except MLOpsError as exc:
            raise UsageError(exc.message) from None
