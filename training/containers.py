"""Read the files packed inside Enlightenment `.edj` (Eet) and Qt `.rcc` archives.

Two desktop packages of the photo corpus store their photos inside such archives:
enlightenment-data keeps each wallpaper as a JPEG in an Eet file, gcompris-qt-data
keeps its pictures in Qt resource files. Both readers are pure Python (struct and
zlib) and return the stored bytes unchanged, so a photo's sha256 is that of the
JPEG or WebP file its authors made.

Eet (version 2, big-endian): a 12-byte header (magic 0x1EE70F42, entry count,
dictionary count), then per entry six 32-bit ints: data offset, stored size,
unpacked size, name offset, name size (with its NUL), flags (bit 0 compressed,
bit 1 ciphered, bit 2 alias; bits 3 and up the compression the writer asked for:
10 and 11 are LZ4, any other value a zlib level, as in eet_lib.c).

Qt rcc (versions 1-3, big-endian): "qres", version, tree offset, data offset,
names offset (and, from version 3, a flags word). Tree nodes are 14 bytes (22 from
version 2, which adds a modification time): name offset, flags (1 zlib, 2
directory, 4 zstd), then either child count + first child index (directories) or
locale + data offset (files). A name is a 16-bit length, a 32-bit hash and UTF-16BE
text; file data is a 32-bit length then the bytes (zlib data starts with its 32-bit
unpacked size).
"""

import struct
import zlib

EET_MAGIC = 0x1EE70F42
EET_LZ4 = (10, 11)  # EET_COMPRESSION_VERYFAST and SUPERFAST; the others are zlib levels
RCC_MAGIC = b"qres"


class ContainerError(ValueError):
    """An archive is damaged or uses a feature these readers do not support."""


def _unpack(fmt, data, offset, what):
    size = struct.calcsize(fmt)
    if offset < 0 or offset + size > len(data):
        raise ContainerError(f"truncated archive: {what} at byte {offset} is past the end")
    return struct.unpack_from(fmt, data, offset)


def _slice(data, offset, size, what):
    if offset < 0 or size < 0 or offset + size > len(data):
        raise ContainerError(f"truncated archive: {what} ({size} bytes at {offset}) "
                             "is past the end")
    return data[offset:offset + size]


def _inflate(payload, unpacked, what):
    try:
        payload = zlib.decompress(payload)
    except zlib.error as error:
        raise ContainerError(f"{what} is damaged: {error}") from error
    if len(payload) != unpacked:
        raise ContainerError(f"{what} unpacks to {len(payload)} bytes, its header says {unpacked}")
    return payload


def read_eet(data, wanted=None):
    """dict entry name -> bytes of an Eet archive given as bytes (aliases skipped).

    `wanted`: the entry names to unpack (default all); only those need a supported
    compression (edje files keep their sources LZ4-packed, their images plain).
    """
    magic, count, _ = _unpack(">III", data, 0, "header")
    if magic != EET_MAGIC:
        raise ContainerError(f"not an Eet v2 file (magic {magic:#010x}, "
                             f"expected {EET_MAGIC:#010x})")
    entries = {}
    for index in range(count):
        offset, stored, unpacked, name_at, name_size, flags = _unpack(
            ">6I", data, 12 + 24 * index, f"entry {index}")
        name = _slice(data, name_at, name_size, f"name of entry {index}")
        name = name.split(b"\0", 1)[0].decode("utf-8")
        if flags & 0b100 or (wanted is not None and name not in wanted):
            continue  # an alias's data is the name of another entry
        if flags & 0b10:
            raise ContainerError(f"entry {name!r} is ciphered")
        payload = _slice(data, offset, stored, f"data of {name!r}")
        if flags & 0b1:
            kind = (flags >> 3) & 0xFF
            if kind in EET_LZ4:
                raise ContainerError(f"entry {name!r} is LZ4-compressed (kind {kind}), "
                                     "which this reader does not support")
            payload = _inflate(payload, unpacked, f"entry {name!r}")
        entries[name] = payload
    return entries


def _rcc_name(data, names_at, offset):
    (length,) = _unpack(">H", data, names_at + offset, "name length")
    raw = _slice(data, names_at + offset + 6, 2 * length, "name")
    return raw.decode("utf-16-be")


def _rcc_payload(data, data_at, offset, flags, path):
    (size,) = _unpack(">I", data, data_at + offset, f"size of {path!r}")
    payload = _slice(data, data_at + offset + 4, size, f"data of {path!r}")
    if flags & 0x4:
        raise ContainerError(f"{path!r} is zstd-compressed, which this reader does not support")
    if flags & 0x1:
        (unpacked,) = _unpack(">I", payload, 0, f"unpacked size of {path!r}")
        payload = _inflate(payload[4:], unpacked, repr(path))
    return payload


def read_rcc(data):
    """dict resource path ("dir/sub/file.webp") -> bytes of a Qt rcc archive given as bytes."""
    if data[:4] != RCC_MAGIC:
        raise ContainerError(f"not a Qt resource file (starts with {data[:4]!r}, expected 'qres')")
    version, tree_at, data_at, names_at = _unpack(">IIII", data, 4, "header")
    if version not in (1, 2, 3):
        raise ContainerError(f"Qt resource format version {version} is not supported (1 to 3)")
    node_size = 14 if version == 1 else 22
    files, pending, seen = {}, [(0, "")], set()
    while pending:
        node, prefix = pending.pop()
        if node in seen:
            raise ContainerError(f"the resource tree loops back to node {node}")
        seen.add(node)
        at = tree_at + node * node_size
        name_offset, flags = _unpack(">IH", data, at, f"tree node {node}")
        name = "" if node == 0 else _rcc_name(data, names_at, name_offset)
        path = f"{prefix}/{name}" if prefix else name
        if flags & 0x2:
            count, first = _unpack(">II", data, at + 6, f"directory node {node}")
            if tree_at + (first + count) * node_size > len(data):
                raise ContainerError(f"truncated archive: directory node {node} lists "
                                     f"{count} children from node {first}, past the end")
            pending.extend((first + i, path) for i in range(count))
        else:
            (offset,) = _unpack(">I", data, at + 10, f"file node {node}")
            files[path] = _rcc_payload(data, data_at, offset, flags, path)
    return files
