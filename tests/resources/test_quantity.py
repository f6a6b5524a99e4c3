"""Quantities as the Kubernetes docs define them ("Meaning of memory": 128974848, 129e6,
129M, 128974848000m and 123Mi are about the same), and kubectl top's way of printing them."""

from __future__ import annotations

import pytest

from jupyter_mlops.errors import BadInput
from jupyter_mlops.kube.quantity import amount, cores, mebibytes, parse_quantity


def test_the_docs_equal_memory_amounts() -> None:
    values = [parse_quantity(t) for t in ("128974848", "129e6", "129M", "128974848000m")]
    assert values[0] == values[3] and abs(values[1] - values[0]) < 2**20
    assert values[1] == values[2] and parse_quantity("123Mi") == 123 * 2**20


def test_cpu_in_cores() -> None:
    assert parse_quantity("0.1") == parse_quantity("100m") == pytest.approx(0.1)
    assert parse_quantity("250000000n") == pytest.approx(0.25)
    assert (cores(0.25), cores(2.0), cores(0.0215)) == ("250m", "2", "22m")
    assert mebibytes(61 * 2**20) == "61Mi"


def test_amounts_print_in_the_largest_exact_unit() -> None:
    assert amount("requests.memory", 2**30) == "1Gi"
    assert amount("storage", 1536 * 2**20) == "1536Mi"
    assert amount("limits.cpu", 1.5) == "1500m" and amount("pods", 3) == "3"


@pytest.mark.parametrize("text", ["", "lots", "1.5 Gi", "2x", "Gi"])
def test_what_is_no_quantity_is_refused(text: str) -> None:
    with pytest.raises(BadInput, match="is not a Kubernetes quantity"):
        parse_quantity(text)
