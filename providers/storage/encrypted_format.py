"""The CRENC2 encrypted-object format: AES-256-GCM in frames, each sealed and read on its own.

Files are encrypted and decrypted one frame (1 MiB by default) at a time, never whole.

Format ``CRENC2`` version 2 (all integers big-endian)::

    header  (35 bytes)
        magic        6 bytes   b"CRENC2"
        version      1 byte    0x02
        frame_size   4 bytes   plaintext bytes per frame, 1 .. 64 MiB
        salt        16 bytes   os.urandom(16), fresh for every object
        nonce_prefix 8 bytes   os.urandom(8), fresh for every object
    frames  (one or more, numbered i = 0, 1, 2, ...)
        length       4 bytes   len(ciphertext || tag) = plaintext length + 16
        ciphertext   length - 16 bytes
        tag          16 bytes  the GCM tag

    object key = HKDF-SHA256(ikm=key, salt=salt, info=b"cloudrender CRENC2 v2", 32 bytes)
    nonce(i)   = nonce_prefix || i as 4 bytes              (96 bits)
    name       = the object's storage key, UTF-8 (e.g. b"jobs/<id>/output.mp4")
    aad(i)     = header || len(name) as 4 bytes || name || i as 4 bytes || final flag
                 (final flag: 1 byte, 0x01 last frame, else 0x00)

Each object is sealed under its own AES-256 key derived from the configured one: the frame
counter keeps nonces unique within an object, and the 128-bit salt keeps object keys apart. A
random 64-bit nonce prefix alone would leave nonce reuse across objects (fatal for GCM) to a
birthday bound of about 2^32 objects per key; the derived keys remove that limit.

Every frame but the last carries exactly ``frame_size`` plaintext bytes; the last carries
1 .. ``frame_size`` bytes, or 0 only when the whole file is empty (one empty final frame).
Binding the header, the frame number and the final flag into each tag is what makes
tampering with the header, reordering or splicing frames (even from another object under
the same key), truncating at a frame boundary or appending frames fail authentication.
Binding the storage key (new in CRENC2) makes an object copied or moved to another key fail
too: whoever can write to the store cannot swap one job's video for another's. Nothing binds
an object to a point in time or to one store, so an older version of the same key, or the same
key copied from another store under the same master key, still decrypts (see
docs/security.md). CRENC1 objects (no key binding) are refused with a message saying so.

A plaintext of ``n`` bytes is stored in ``35 + n + 20 * max(1, ceil(n / frame_size))`` bytes.
"""

from __future__ import annotations

import base64
import binascii
import os
import string
from typing import IO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from providers.storage.base import StorageError, write_atomic

__all__ = [
    "DEFAULT_FRAME_SIZE",
    "FRAME_OVERHEAD",
    "HEADER_SIZE",
    "KEY_SIZE",
    "MAGIC",
    "MAX_FRAME_SIZE",
    "RETIRED_MAGIC",
    "VERSION",
    "check_frame_size",
    "check_key",
    "decrypt_file",
    "decrypt_stream",
    "encrypt_file",
    "encrypt_stream",
    "key_from_text",
    "parse_header",
    "plaintext_size",
    "read_full",
]

MAGIC = b"CRENC2"
VERSION = 2
#: The first format, which did not bind objects to their keys: recognised only to refuse it.
RETIRED_MAGIC = b"CRENC1"
KEY_SIZE = 32
DEFAULT_FRAME_SIZE = 1 << 20
#: Readers allocate a whole frame, so a forged header must not be able to ask for gigabytes.
MAX_FRAME_SIZE = 64 << 20
SALT_SIZE = 16
NONCE_PREFIX_SIZE = 8
HEADER_SIZE = len(MAGIC) + 1 + 4 + SALT_SIZE + NONCE_PREFIX_SIZE
_KDF_INFO = b"cloudrender CRENC2 v2"
TAG_SIZE = 16
LENGTH_SIZE = 4
FRAME_OVERHEAD = LENGTH_SIZE + TAG_SIZE
#: The counter is the low 32 bits of the nonce; wrapping it would reuse a nonce.
MAX_FRAMES = 1 << 32

_HEX_DIGITS = frozenset(string.hexdigits)


def key_from_text(text: str) -> bytes:
    """Parse a 32-byte AES-256 key from 64 hex characters or base64; never echoes the text."""
    stripped = text.strip()
    if len(stripped) == 2 * KEY_SIZE and all(c in _HEX_DIGITS for c in stripped):
        return bytes.fromhex(stripped)
    # Accept the URL-safe alphabet and missing padding too: keys get pasted from many tools.
    normal = stripped.replace("-", "+").replace("_", "/").rstrip("=")
    try:
        key = base64.b64decode(normal + "=" * (-len(normal) % 4), validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != KEY_SIZE:
        # The text is a secret: say only its shape, never its content (not even in a cause).
        raise StorageError(
            f"encryption key must be {2 * KEY_SIZE} hex characters or base64 of {KEY_SIZE} "
            f"bytes (AES-256); the given text has {len(stripped)} characters and is neither"
        )
    return key


def plaintext_size(stored_size: int, frame_size: int = DEFAULT_FRAME_SIZE) -> int:
    """Plaintext length of an object stored in ``stored_size`` bytes; ValueError if impossible."""
    check_frame_size(frame_size)
    body = stored_size - HEADER_SIZE
    if body >= FRAME_OVERHEAD:
        full, rest = divmod(body, frame_size + FRAME_OVERHEAD)
        if rest == 0:
            return full * frame_size  # the last frame was full
        if rest > FRAME_OVERHEAD:
            return full * frame_size + rest - FRAME_OVERHEAD
        # Only an empty file ends in an empty frame: other last frames hold 1+ bytes.
        if rest == FRAME_OVERHEAD and full == 0:
            return 0
    raise ValueError(f"{stored_size} bytes fits no encrypted object with {frame_size}-byte frames")


def encrypt_file(
    src: str, dst: str, key: bytes, *, object_key: str, frame_size: int = DEFAULT_FRAME_SIZE
) -> None:
    """Encrypt ``src`` into ``dst`` (written atomically), sealed as the object ``object_key``."""
    key = check_key(key)
    check_frame_size(frame_size)
    with open(src, "rb") as source:
        write_atomic(
            dst, lambda out: encrypt_stream(source, out, key, frame_size, object_key=object_key)
        )


def decrypt_file(src: str, dst: str, key: bytes, *, object_key: str) -> None:
    """Decrypt ``src``, sealed as ``object_key``, into ``dst``, which appears only if all verifies.

    On any failure (wrong key, tampering, truncation, sealed under another object key, not
    encrypted) StorageError naming ``object_key`` is raised and ``dst`` is left as it was;
    unreadable or unwritable files raise OSError.
    """
    key = check_key(key)
    with open(src, "rb") as source:
        write_atomic(dst, lambda out: decrypt_stream(source, out, key, object_key))


def check_key(key: bytes) -> bytes:
    """The key as bytes if it is a valid AES-256 key; StorageError (without the key) otherwise."""
    if not isinstance(key, bytes | bytearray):
        raise StorageError(
            f"encryption key must be {KEY_SIZE} bytes, not {type(key).__name__}; "
            "parse text keys with key_from_text"
        )
    if len(key) != KEY_SIZE:
        raise StorageError(
            f"encryption key must be {KEY_SIZE} bytes (AES-256), got {len(key)} bytes"
        )
    return bytes(key)


def check_frame_size(frame_size: int) -> None:
    """Refuse frame sizes the format cannot carry or readers would refuse."""
    if not 1 <= frame_size <= MAX_FRAME_SIZE:
        raise StorageError(
            f"encryption frame size must be 1 to {MAX_FRAME_SIZE} bytes, got {frame_size}"
        )


def _new_header(frame_size: int) -> bytes:
    """The header of a new object, with a fresh salt and nonce prefix."""
    randomness = os.urandom(SALT_SIZE + NONCE_PREFIX_SIZE)
    return MAGIC + bytes([VERSION]) + frame_size.to_bytes(4, "big") + randomness


def parse_header(header: bytes, name: str) -> int:
    """The frame size a header declares, or StorageError saying what is wrong with it."""
    if header[: len(RETIRED_MAGIC)] == RETIRED_MAGIC:
        raise StorageError(
            f"object {name!r} is in the retired {RETIRED_MAGIC.decode()} format, which does not "
            f"bind an object to its storage key; this build reads only {MAGIC.decode()}: "
            "render or upload it again",
            key=name,
        )
    if len(header) < len(MAGIC) or header[: len(MAGIC)] != MAGIC:
        raise StorageError(
            f"object {name!r} is not encrypted by cloudrender (no {MAGIC.decode()} header)",
            key=name,
        )
    if len(header) == len(MAGIC):
        raise _auth_error(name, "the header is cut short")
    version = header[len(MAGIC)]
    if version != VERSION:
        raise StorageError(
            f"object {name!r} uses cloudrender encryption format version {version}; this "
            f"build reads only version {VERSION}",
            key=name,
        )
    if len(header) < HEADER_SIZE:
        raise _auth_error(name, "the header is cut short")
    frame_size = int.from_bytes(header[len(MAGIC) + 1 : len(MAGIC) + 5], "big")
    if not 1 <= frame_size <= MAX_FRAME_SIZE:
        raise _auth_error(name, "the header declares an impossible frame size")
    return frame_size


def _object_cipher(key: bytes, header: bytes) -> AESGCM:
    """The AEAD for one object: its own key, derived from the master key and the header's salt."""
    salt = header[HEADER_SIZE - NONCE_PREFIX_SIZE - SALT_SIZE : HEADER_SIZE - NONCE_PREFIX_SIZE]
    derived = HKDF(algorithm=SHA256(), length=KEY_SIZE, salt=salt, info=_KDF_INFO).derive(key)
    return AESGCM(derived)


def _nonce(prefix: bytes, index: int) -> bytes:
    """The 96-bit GCM nonce of frame ``index``."""
    return prefix + index.to_bytes(4, "big")


def _aad_prefix(header: bytes, object_key: str) -> bytes:
    """The part of every frame's associated data that is the same for the whole object."""
    # surrogatepass: any str key encodes, and always to the same bytes, on both sides.
    name = object_key.encode("utf-8", "surrogatepass")
    return header + len(name).to_bytes(4, "big") + name


def _aad(prefix: bytes, index: int, final: bool) -> bytes:
    """What a frame's tag binds besides its ciphertext: header, storage key, position, finality."""
    return prefix + index.to_bytes(4, "big") + (b"\x01" if final else b"\x00")


def _auth_error(name: str, detail: str) -> StorageError:
    """The one error for any integrity failure: a wrong key, tampering and a swap look alike."""
    return StorageError(
        f"object {name!r} failed authentication: wrong key or tampered, or not the object "
        f"stored under this key ({detail})",
        key=name,
    )


def encrypt_stream(
    source: IO[bytes], out: IO[bytes], key: bytes, frame_size: int, *, object_key: str
) -> None:
    """Write everything readable from ``source`` to ``out``, sealed as the object ``object_key``."""
    header = _new_header(frame_size)
    aead = _object_cipher(key, header)
    prefix = header[-NONCE_PREFIX_SIZE:]
    bound = _aad_prefix(header, object_key)
    out.write(header)
    chunk = read_full(source, frame_size)
    index = 0
    while True:
        # Read one frame ahead: only a full frame can be followed by more data, and the last
        # frame must be known as last when it is sealed.
        following = read_full(source, frame_size) if len(chunk) == frame_size else b""
        final = not following
        if index >= MAX_FRAMES:
            raise StorageError(
                f"file too large to encrypt with frames of {frame_size} bytes; use larger frames"
            )
        sealed = aead.encrypt(_nonce(prefix, index), chunk, _aad(bound, index, final))
        out.write(len(sealed).to_bytes(LENGTH_SIZE, "big"))
        out.write(sealed)
        if final:
            return
        chunk = following
        index += 1


def decrypt_stream(source: IO[bytes], out: IO[bytes], key: bytes, name: str) -> None:
    """Write the plaintext of ``source``, sealed as the object ``name``, verifying each frame."""
    header = read_full(source, HEADER_SIZE)
    frame_size = parse_header(header, name)
    aead = _object_cipher(key, header)
    prefix = header[-NONCE_PREFIX_SIZE:]
    bound = _aad_prefix(header, name)
    length_field = read_full(source, LENGTH_SIZE)
    index = 0
    while True:
        if len(length_field) != LENGTH_SIZE:
            raise _auth_error(name, f"the object ends before frame {index}")
        length = int.from_bytes(length_field, "big")
        if not TAG_SIZE <= length <= frame_size + TAG_SIZE:
            raise _auth_error(name, f"frame {index} has an impossible length")
        sealed = read_full(source, length)
        if len(sealed) != length:
            raise _auth_error(name, f"the object ends inside frame {index}")
        # Finality is decided by where the data ends, and the tag must agree: a copy cut at a
        # frame boundary or with frames appended fails here.
        length_field = read_full(source, LENGTH_SIZE)
        final = not length_field
        if not final and length != frame_size + TAG_SIZE:
            raise _auth_error(name, f"frame {index} is short but not the last")
        if index >= MAX_FRAMES:
            raise _auth_error(name, "too many frames")
        try:
            plain = aead.decrypt(_nonce(prefix, index), sealed, _aad(bound, index, final))
        except InvalidTag:
            raise _auth_error(name, f"frame {index} did not verify") from None
        out.write(plain)
        if final:
            return
        index += 1


def read_full(source: IO[bytes], size: int) -> bytes:
    """Exactly ``size`` bytes, or fewer only at the end of the data (pipes return short reads)."""
    data = source.read(size)
    if len(data) == size or not data:
        return data
    parts = [data]
    missing = size - len(data)
    while missing:
        more = source.read(missing)
        if not more:
            break
        parts.append(more)
        missing -= len(more)
    return b"".join(parts)
