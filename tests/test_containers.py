"""The Eet (.edj) and Qt rcc readers, on tiny archives written here from the format notes
in training/containers.py (the writers below are what tests/test_photo_corpus.py packs)."""

import struct
import zlib

import pytest

from training.containers import EET_MAGIC, ContainerError, read_eet, read_rcc

# Eet flags: bit 0 compressed, bit 1 ciphered, bit 2 alias, bits 3+ the compression asked for
PLAIN, ALIAS = 0, 0b100
ZLIB_LEVEL_9 = 1 | 9 << 3  # eet_lib.c stores the zlib level there (1 to 9)
LZ4 = 1 | 10 << 3          # EET_COMPRESSION_VERYFAST


def eet_archive(entries):
    """Eet v2 bytes of `entries`: (name, flags, payload). Compressed payloads are stored
    zlib-packed whatever their kind (an LZ4 one is never inflated: the reader refuses it)."""
    stored = [zlib.compress(payload) if flags & 1 else payload for _, flags, payload in entries]
    names = [name.encode() + b"\0" for name, _, _ in entries]
    name_at = 12 + 24 * len(entries)
    data_at = name_at + sum(map(len, names))
    directory = b""
    for (_, flags, payload), name, blob in zip(entries, names, stored, strict=True):
        directory += struct.pack(">6I", data_at, len(blob), len(payload), name_at, len(name),
                                 flags)
        name_at += len(name)
        data_at += len(blob)
    return (struct.pack(">III", EET_MAGIC, len(entries), 0) + directory + b"".join(names)
            + b"".join(stored))


def rcc_archive(tree, version=3):
    """Qt rcc bytes of `tree`: name -> dict (a directory), bytes (a plain file) or
    ("zlib", bytes) (stored as qCompress does: 32-bit unpacked size, then zlib data).
    Nodes are laid out breadth first, each directory's children contiguous, as rcc does."""
    nodes, records, names, data = [("", tree)], [], b"", b""
    for index, (name, content) in enumerate(nodes):  # grows while it is walked
        name_offset = len(names)
        if index:
            names += struct.pack(">HI", len(name), 0) + name.encode("utf-16-be")
        if isinstance(content, dict):
            record = struct.pack(">IHII", name_offset, 2, len(content), len(nodes))
            nodes.extend(content.items())
        else:
            flags, payload = (0, content) if isinstance(content, bytes) else (1, content[1])
            if flags:
                payload = struct.pack(">I", len(payload)) + zlib.compress(payload)
            record = struct.pack(">IHHHI", name_offset, flags, 0, 0, len(data))
            data += struct.pack(">I", len(payload)) + payload
        records.append(record + (bytes(8) if version >= 2 else b""))  # modification time
    header_size = 24 if version >= 3 else 20
    data_at = header_size
    names_at = data_at + len(data)
    tree_at = names_at + len(names)
    header = b"qres" + struct.pack(">IIII", version, tree_at, data_at, names_at)
    if version >= 3:
        header += struct.pack(">I", 0)  # flags: no zstd
    return header + data + names + b"".join(records)


# --- Eet ---------------------------------------------------------------------------------

JPEG_BYTES = b"\xff\xd8\xff\xe0 not really a jpeg \xff\xd9"
TEXT = b"collections { group { name: wallpaper; } }" * 20


def eet_sample():
    return eet_archive([("edje/images/0", PLAIN, JPEG_BYTES),
                        ("edje/file", ZLIB_LEVEL_9, TEXT),
                        ("edje/images/alias", ALIAS, b"edje/images/0\0"),
                        ("edje_sources", LZ4, b"lz4 packed sources")])


def test_eet_round_trips_plain_and_zlib_entries_and_skips_aliases_and_unwanted_lz4():
    archive = eet_sample()
    entries = read_eet(archive, {"edje/images/0", "edje/file", "edje/images/alias"})
    assert entries == {"edje/images/0": JPEG_BYTES, "edje/file": TEXT}
    assert read_eet(archive, {"edje/images/0"}) == {"edje/images/0": JPEG_BYTES}


@pytest.mark.parametrize("wanted", [None, {"edje_sources"}])
def test_eet_lz4_entry_raises_when_wanted(wanted):
    with pytest.raises(ContainerError, match="'edje_sources' is LZ4-compressed"):
        read_eet(eet_sample(), wanted)


def test_eet_zlib_at_any_level_is_read():
    """Real edje files mark zlib entries with their level (1 = EET_COMPRESSION_DEFAULT)."""
    for level in (0, 1, 6, 9):
        archive = eet_archive([("a", 1 | level << 3, TEXT)])
        assert read_eet(archive) == {"a": TEXT}


def test_eet_wrong_magic_truncation_and_damage_are_clear_errors():
    archive = eet_sample()
    with pytest.raises(ContainerError, match="not an Eet v2 file"):
        read_eet(b"\x00" * 4 + archive[4:])
    with pytest.raises(ContainerError, match="truncated archive: header"):
        read_eet(archive[:8])
    with pytest.raises(ContainerError, match="truncated archive: name of entry 0"):
        read_eet(archive[:12 + 24 * 4])  # the directory, no names
    with pytest.raises(ContainerError, match=r"truncated archive: data of 'edje_sources'"):
        read_eet(archive[:-3], {"edje_sources"})
    damaged = bytearray(eet_archive([("a", ZLIB_LEVEL_9, TEXT)]))
    damaged[-8:] = b"\xff" * 8
    with pytest.raises(ContainerError, match="entry 'a' is damaged"):
        read_eet(bytes(damaged))


def test_eet_unpacked_size_must_match_the_header():
    archive = bytearray(eet_archive([("a", ZLIB_LEVEL_9, TEXT)]))
    struct.pack_into(">I", archive, 12 + 8, len(TEXT) + 1)  # entry 0's unpacked size
    with pytest.raises(ContainerError, match=f"unpacks to {len(TEXT)} bytes"):
        read_eet(bytes(archive))


def test_eet_ciphered_entry_raises():
    with pytest.raises(ContainerError, match="'secret' is ciphered"):
        read_eet(eet_archive([("secret", 0b10, b"xx")]))


# --- Qt rcc ------------------------------------------------------------------------------

WEBP_BYTES = b"RIFF\x10\x00\x00\x00WEBPVP8 fake"
RCC_TREE = {"gcompris": {"data": {"fish.webp": ("zlib", WEBP_BYTES * 30),
                                  "words": {"hand.jpg": JPEG_BYTES}}},
            "readme.txt": b"plain"}
RCC_FILES = {"gcompris/data/fish.webp": WEBP_BYTES * 30,
             "gcompris/data/words/hand.jpg": JPEG_BYTES, "readme.txt": b"plain"}


@pytest.mark.parametrize("version", [1, 2, 3])
def test_rcc_round_trips_nested_plain_and_zlib_files(version):
    assert read_rcc(rcc_archive(RCC_TREE, version)) == RCC_FILES


def test_rcc_wrong_magic_version_and_truncation_are_clear_errors():
    archive = rcc_archive(RCC_TREE)
    with pytest.raises(ContainerError, match="not a Qt resource file"):
        read_rcc(b"qrez" + archive[4:])
    with pytest.raises(ContainerError, match="version 4 is not supported"):
        read_rcc(b"qres" + struct.pack(">I", 4) + archive[8:])
    with pytest.raises(ContainerError, match="truncated archive"):
        read_rcc(archive[:-30])  # the tree's last nodes are gone
    with pytest.raises(ContainerError, match="truncated archive: header"):
        read_rcc(archive[:10])


def test_rcc_looping_tree_raises():
    archive = bytearray(rcc_archive(RCC_TREE, 2))
    (tree_at,) = struct.unpack_from(">I", archive, 8)
    struct.pack_into(">II", archive, tree_at + 6, 1, 0)  # the root's one child is the root
    with pytest.raises(ContainerError, match="loops back to node 0"):
        read_rcc(bytes(archive))


def test_rcc_directory_claiming_billions_of_children_fails_fast():
    archive = bytearray(rcc_archive(RCC_TREE, 2))
    (tree_at,) = struct.unpack_from(">I", archive, 8)
    struct.pack_into(">I", archive, tree_at + 6, 2**32 - 1)
    with pytest.raises(ContainerError, match="lists 4294967295 children"):
        read_rcc(bytes(archive))


def test_rcc_zstd_and_damaged_zlib_files_raise():
    archive = bytearray(rcc_archive({"a.webp": ("zlib", WEBP_BYTES)}, 2))
    tree_at, data_at = struct.unpack_from(">II", archive, 8)
    damaged = bytearray(archive)
    damaged[data_at + 8:data_at + 12] = b"\xff" * 4  # after the two sizes: the zlib header
    with pytest.raises(ContainerError, match="'a.webp' is damaged"):
        read_rcc(bytes(damaged))
    struct.pack_into(">H", archive, tree_at + 22 + 4, 4)  # node 1's flags: zstd
    with pytest.raises(ContainerError, match="zstd-compressed"):
        read_rcc(bytes(archive))
