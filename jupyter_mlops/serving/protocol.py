"""The Open Inference Protocol (v2) over REST: requests and responses as JSON, both ways.

Content types as MLServer names them: `pd` (one input per DataFrame column), `np` (one
tensor), `dict` (one tensor per key), `str` (a column of text). The client encodes what a
notebook passes and decodes the answer; the local model server does the reverse.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from ..errors import BadInput

_TO_V2 = {
    "bool": "BOOL",
    "uint8": "UINT8",
    "uint16": "UINT16",
    "uint32": "UINT32",
    "uint64": "UINT64",
    "int8": "INT8",
    "int16": "INT16",
    "int32": "INT32",
    "int64": "INT64",
    "float16": "FP16",
    "float32": "FP32",
    "float64": "FP64",
}
_FROM_V2 = {v: k for k, v in _TO_V2.items()}
#: The name MLServer gives the one output of a single-tensor answer.
OUTPUT = "output-1"


def datatype(dtype: Any) -> str:
    """The v2 datatype of a numpy dtype; text and objects travel as BYTES."""
    return _TO_V2.get(str(dtype), "BYTES")


def _plain(values: list[Any]) -> list[Any]:
    """JSON has no NaN: a missing number travels as null."""
    return [None if isinstance(v, float) and not math.isfinite(v) else v for v in values]


def _tensor(name: str, array: Any, content_type: str | None = "np") -> dict[str, Any]:
    kind = datatype(array.dtype)
    data = (
        [str(v) for v in array.reshape(-1).tolist()]
        if kind == "BYTES"
        else array.reshape(-1).tolist()
    )
    tensor: dict[str, Any] = {
        "name": name,
        "datatype": kind,
        "shape": list(array.shape),
        "data": _plain(data),
    }
    if kind == "BYTES":
        tensor["parameters"] = {"content_type": "str"}
    elif content_type:
        tensor["parameters"] = {"content_type": content_type}
    return tensor


def _column(name: str, series: Any) -> dict[str, Any]:
    import numpy as np

    values = series.to_numpy()
    text = str(series.dtype) in ("string", "category") or series.dtype.kind == "M"
    if text or datatype(values.dtype) == "BYTES":
        values = np.asarray([None if v is None else str(v) for v in series.tolist()], dtype=object)
    tensor = _tensor(name, values.reshape(-1, 1), content_type=None)
    return tensor


def encode_request(data: Any) -> dict[str, Any]:
    """A v2 inference request for a DataFrame (`pd`), an array or list (`np`), or a dict of
    columns or arrays (`dict`)."""
    import numpy as np
    import pandas as pd  # type: ignore[import-untyped]

    if isinstance(data, pd.Series):
        data = data.to_frame()
    if isinstance(data, pd.DataFrame):
        if data.empty:
            raise BadInput("the DataFrame has no rows to predict")
        inputs = [_column(str(col), data[col]) for col in data.columns]
        return {"parameters": {"content_type": "pd"}, "inputs": inputs}
    if isinstance(data, Mapping):
        if not data:
            raise BadInput("the dict has no inputs to predict")
        inputs = [_tensor(str(k), np.asarray(v)) for k, v in data.items()]
        return {"parameters": {"content_type": "dict"}, "inputs": inputs}
    if isinstance(data, (list, tuple, np.ndarray)):
        array = np.asarray(data)
        if array.size == 0:
            raise BadInput("the array has nothing to predict")
        return {"parameters": {"content_type": "np"}, "inputs": [_tensor("input-0", array)]}
    raise BadInput(
        f"cannot send a {type(data).__name__}: pass a DataFrame, an array (or list) or a dict"
    )


def as_columns(data: Any, metadata: Mapping[str, Any]) -> Any:
    """An array (or list) as a DataFrame named and typed after the model's column inputs, when
    the model takes columns (`pd`, as a column-based MLflow signature makes it) and the widths
    match; else the array as it is. A column-based model refuses a bare array."""
    import numpy as np
    import pandas as pd

    inputs = [i for i in metadata.get("inputs") or [] if isinstance(i, Mapping) and i.get("name")]
    takes = (metadata.get("parameters") or {}).get("content_type")
    if takes != "pd" or not inputs or not isinstance(data, (list, tuple, np.ndarray)):
        return data
    array = np.asarray(data)
    if array.ndim == 1 and len(inputs) > 1 and array.size == len(inputs):
        array = array.reshape(1, -1)  # one row
    if array.ndim == 1:
        array = array.reshape(-1, 1)
    if array.ndim != 2 or array.shape[1] != len(inputs):
        return data
    columns = {}
    for n, spec in enumerate(inputs):
        dtype = _FROM_V2.get(str(spec.get("datatype")), object)
        columns[str(spec["name"])] = array[:, n].astype(dtype)
    return pd.DataFrame(columns)


def _array(tensor: Mapping[str, Any]) -> Any:
    """A v2 tensor as a numpy array of its shape."""
    import numpy as np

    if not isinstance(tensor, Mapping) or "data" not in tensor:
        raise BadInput("a v2 tensor needs name, datatype, shape and data")
    kind = str(tensor.get("datatype", "FP64"))
    dtype = _FROM_V2.get(kind, object)
    data = tensor.get("data")
    try:
        flat = np.asarray(data if isinstance(data, list) else [data], dtype=dtype).reshape(-1)
    except (TypeError, ValueError) as exc:
        raise BadInput(
            f"tensor {tensor.get('name')!r} does not hold {kind} values: {exc}"
        ) from None
    shape = [int(n) for n in tensor.get("shape") or [flat.size]]
    if -1 in shape:
        known = math.prod(n for n in shape if n != -1) or 1
        shape = [flat.size // known if n == -1 else n for n in shape]
    if math.prod(shape) != flat.size:
        raise BadInput(f"tensor {tensor.get('name')!r}: {flat.size} values do not fill {shape}")
    return flat.reshape(shape)


def _series_values(tensor: Mapping[str, Any]) -> Any:
    array = _array(tensor)
    # A column travels as [rows, 1] (MLServer adds the second dimension); a DataFrame wants rows.
    return array.reshape(array.shape[0]) if array.ndim == 2 and array.shape[1] == 1 else array


def _frame(tensors: list[Mapping[str, Any]]) -> Any:
    import pandas as pd

    return pd.DataFrame({str(t.get("name")): list(_series_values(t)) for t in tensors})


def decode(body: Mapping[str, Any], key: str, default: str = "") -> Any:
    """The DataFrame, array or dict of arrays a request's `inputs` or a response's `outputs`
    hold, as their content type says (`default` when none says)."""
    tensors = body.get(key)
    if not isinstance(tensors, list) or not tensors:
        raise BadInput(f"the v2 message has no {key}")
    content = str((body.get("parameters") or {}).get("content_type") or default)
    if content == "pd":
        return _frame(tensors)
    if content == "dict" or (content != "np" and len(tensors) > 1):
        return {str(t.get("name")): _array(t) for t in tensors}
    return _array(tensors[0])


def decode_response(body: Mapping[str, Any]) -> Any:
    """The answer of a v2 inference: a DataFrame (`pd`), a dict of arrays, or one array; the
    column dimension the server added to a one-dimensional answer is taken off again."""
    decoded = decode(body, "outputs")
    if hasattr(decoded, "ndim") and decoded.ndim == 2 and decoded.shape[1] == 1:
        return decoded.reshape(decoded.shape[0])
    return decoded


def encode_response(
    output: Any, *, model_name: str, model_version: str, request_id: str
) -> dict[str, Any]:
    """A v2 inference response for what a model's `predict` returned."""
    import numpy as np
    import pandas as pd

    answer: dict[str, Any] = {
        "model_name": model_name,
        "model_version": model_version,
        "id": request_id,
    }
    if isinstance(output, pd.Series):
        output = output.to_numpy()
    if isinstance(output, pd.DataFrame):
        answer["parameters"] = {"content_type": "pd"}
        answer["outputs"] = [_column(str(c), output[c]) for c in output.columns]
        return answer
    if isinstance(output, Mapping):
        answer["parameters"] = {"content_type": "dict"}
        answer["outputs"] = [_tensor(str(k), np.asarray(v)) for k, v in output.items()]
        return answer
    array = np.asarray(output)
    if array.ndim == 0:
        array = array.reshape(1)
    if array.ndim == 1:
        array = array.reshape(-1, 1)  # a batch of one value each, as MLServer shapes it
    answer["parameters"] = {"content_type": "np"}
    answer["outputs"] = [_tensor(OUTPUT, array)]
    return answer
