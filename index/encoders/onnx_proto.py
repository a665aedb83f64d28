"""Write an ONNX model file without the ``onnx`` package: the few protobuf messages the encoder graph uses.

The ``onnx`` package would add 25 MB to the install and 21 MB to a process that builds the graph
(each start of a dyno, whose disk is ephemeral); the messages below are plain protobuf, field
numbers from ``onnx.proto`` (ModelProto, GraphProto, NodeProto, AttributeProto, TensorProto,
ValueInfoProto). ``tests/test_onnx_encoder.py`` parses the result with ``onnx`` and runs its checker.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

import numpy as np

FLOAT, UINT8, INT32, INT64 = 1, 2, 6, 7  # TensorProto.DataType
_TENSOR_TYPES = {np.dtype(np.float32): FLOAT, np.dtype(np.uint8): UINT8, np.dtype(np.int64): INT64}
_ATTRIBUTE_FLOAT, _ATTRIBUTE_INT, _ATTRIBUTE_INTS = 1, 2, 7  # AttributeProto.AttributeType


def _varint(value: int) -> bytes:
    value &= (1 << 64) - 1  # a negative int64 is written as its 64-bit two's complement
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _int(field: int, value: int) -> bytes:
    return _varint(field << 3) + _varint(value)


def _bytes(field: int, data: bytes) -> bytes:
    return _varint(field << 3 | 2) + _varint(len(data)) + data


def _text(field: int, text: str) -> bytes:
    return _bytes(field, text.encode())


def tensor(name: str, array: np.ndarray) -> bytes:
    """TensorProto: dims, data type, name and the little-endian raw data."""
    array = np.ascontiguousarray(array)
    little = array.astype(array.dtype.newbyteorder("<"), copy=False)
    dims = b"".join(_int(1, size) for size in array.shape)
    return dims + _int(2, _TENSOR_TYPES[array.dtype]) + _text(8, name) + _bytes(9, little.tobytes())


def _attribute(name: str, value: int | float | Sequence[int]) -> bytes:
    if isinstance(value, float):
        return _text(1, name) + _varint(2 << 3 | 5) + struct.pack("<f", value) + _int(20, _ATTRIBUTE_FLOAT)
    if isinstance(value, int):
        return _text(1, name) + _int(3, value) + _int(20, _ATTRIBUTE_INT)
    return _text(1, name) + b"".join(_int(8, item) for item in value) + _int(20, _ATTRIBUTE_INTS)


def node(
    op_type: str, inputs: Sequence[str], outputs: Sequence[str], name: str, domain: str = "", **attributes
) -> bytes:
    """NodeProto; attributes are ints, floats or lists of ints; an input "" is an omitted optional input."""
    body = b"".join(_text(1, item) for item in inputs) + b"".join(_text(2, item) for item in outputs)
    body += _text(3, name) + _text(4, op_type)
    body += b"".join(_bytes(5, _attribute(key, value)) for key, value in sorted(attributes.items()))
    return body + _text(7, domain)


def value_info(name: str, element_type: int, shape: Sequence[int | str]) -> bytes:
    """ValueInfoProto of a tensor; a str in ``shape`` is a named (dynamic) dimension."""
    dims = b"".join(_bytes(1, _int(1, size) if isinstance(size, int) else _text(2, size)) for size in shape)
    tensor_type = _int(1, element_type) + _bytes(2, dims)
    return _text(1, name) + _bytes(2, _bytes(1, tensor_type))


def model(
    name: str,
    nodes: Sequence[bytes],
    initialisers: Sequence[bytes],
    inputs: Sequence[bytes],
    outputs: Sequence[bytes],
    opsets: dict[str, int],
    ir_version: int,
    producer: str,
) -> bytes:
    """ModelProto holding one graph."""
    graph = b"".join(_bytes(1, item) for item in nodes) + _text(2, name)
    graph += b"".join(_bytes(5, item) for item in initialisers)
    graph += b"".join(_bytes(11, item) for item in inputs) + b"".join(_bytes(12, item) for item in outputs)
    opset_ids = b"".join(_bytes(8, _text(1, domain) + _int(2, version)) for domain, version in opsets.items())
    return _int(1, ir_version) + _text(2, producer) + _bytes(7, graph) + opset_ids
