"""Small zip helpers for the checkpoint fixtures: read a torch.save archive's entries, and write
them back as a plain zip (Python's zipfile) or as a ZIP64 archive with every ZIP64 record
(per-entry extra fields with 0xffffffff markers, the ZIP64 end record and its locator), the form
torch.save takes for archives over 4 GiB."""

import struct
import zipfile
import zlib


def entries(path):
    """[(name, bytes)] of an archive, in order."""
    with zipfile.ZipFile(path) as z:
        return [(i.filename, z.read(i.filename)) for i in z.infolist()]


def data_offsets(path):
    """{name: byte offset of its data}, from the local headers."""
    offsets = {}
    with open(path, "rb") as f, zipfile.ZipFile(path) as z:
        for i in z.infolist():
            f.seek(i.header_offset)
            head = f.read(30)
            n_name, n_extra = struct.unpack("<HH", head[26:30])
            offsets[i.filename] = i.header_offset + 30 + n_name + n_extra
    return offsets


def write_plain(path, items, compress=False, extra=None):
    """A zip written by Python's zipfile. `extra` maps a name to the extra-field bytes of its
    local and central headers (to move its data to an odd offset)."""
    method = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with zipfile.ZipFile(path, "w", method) as z:
        for name, data in items:
            info = zipfile.ZipInfo(name, date_time=(2025, 1, 1, 0, 0, 0))
            info.compress_type = method
            if extra and name in extra:
                info.extra = extra[name]
            z.writestr(info, data)


def write_zip64(path, items, align=64):
    """Every entry with ZIP64 sizes and offsets, data aligned to `align` bytes (as torch does,
    through a padding extra field), then the ZIP64 end record, its locator and the classic end
    record full of 0xffff / 0xffffffff markers."""
    out = bytearray()
    central = bytearray()
    for name, data in items:
        n = name.encode()
        crc = zlib.crc32(data) & 0xFFFFFFFF
        offset = len(out)
        z64_local = struct.pack("<HHQQ", 0x0001, 16, len(data), len(data))
        base = offset + 30 + len(n) + len(z64_local)
        pad = (-(base + 4)) % align
        pad_field = struct.pack("<HH", 0x4246, pad) + b"Z" * pad   # "FB", as torch pads
        local_extra = z64_local + pad_field
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 45, 0, 0, 0, 0x21, crc,
                           0xFFFFFFFF, 0xFFFFFFFF, len(n), len(local_extra))
        out += n + local_extra + data
        z64 = struct.pack("<HHQQQ", 0x0001, 24, len(data), len(data), offset)
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 45, 45, 0, 0, 0, 0x21, crc,
                               0xFFFFFFFF, 0xFFFFFFFF, len(n), len(z64), 0, 0, 0, 0,
                               0xFFFFFFFF)
        central += n + z64
    cd_offset = len(out)
    out += central
    eocd64 = len(out)
    out += struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, len(items), len(items),
                       len(central), cd_offset)
    out += struct.pack("<IIQI", 0x07064B50, 0, eocd64, 1)
    out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    with open(path, "wb") as f:
        f.write(out)
