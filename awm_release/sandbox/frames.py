"""Data-only frames between processes: a 4-byte length, then one msgpack value.

Everything a sandboxed process sends is decoded as plain data (msgpack has no code paths: no pickle, no
object hooks), bounded in size, and then checked by the receiver against the shape it expects.
"""

from __future__ import annotations

import asyncio
import struct
from typing import Any, BinaryIO

import msgpack

HEADER = struct.Struct(">I")
MAX_FRAME = 1 << 30  # a frame this large is a bug or an attack, never an answer


class ProtocolError(Exception):
    """A peer sent something that is not a well-formed frame of the expected shape."""


def encode(value: Any) -> bytes:
    body = msgpack.packb(value, use_bin_type=True)
    return HEADER.pack(len(body)) + body


def decode(body: bytes) -> Any:
    try:
        return msgpack.unpackb(body, raw=False, strict_map_key=True)
    except Exception as exc:  # msgpack raises several types for malformed input
        raise ProtocolError(f"undecodable frame ({type(exc).__name__})") from None


async def read_frame(reader: asyncio.StreamReader, limit: int = MAX_FRAME) -> Any | None:
    """The next value, or None at a clean end of stream; ProtocolError for a torn or oversized frame."""
    try:
        header = await reader.readexactly(HEADER.size)
    except asyncio.IncompleteReadError as exc:
        if exc.partial:
            raise ProtocolError("stream ended inside a frame header") from None
        return None
    size = HEADER.unpack(header)[0]
    if size > limit:
        raise ProtocolError(f"frame of {size} bytes exceeds the {limit}-byte limit")
    try:
        return decode(await reader.readexactly(size))
    except asyncio.IncompleteReadError:
        raise ProtocolError("stream ended inside a frame") from None


def read_frame_sync(stream: BinaryIO, limit: int = MAX_FRAME) -> Any | None:
    """Blocking twin of read_frame for the sandboxed fork servers, which run no event loop."""
    header = stream.read(HEADER.size)
    if not header:
        return None
    if len(header) < HEADER.size:
        raise ProtocolError("stream ended inside a frame header")
    size = HEADER.unpack(header)[0]
    if size > limit:
        raise ProtocolError(f"frame of {size} bytes exceeds the {limit}-byte limit")
    body = stream.read(size)
    if len(body) < size:
        raise ProtocolError("stream ended inside a frame")
    return decode(body)


def write_frame_sync(stream: BinaryIO, value: Any) -> None:
    stream.write(encode(value))
    stream.flush()
