"""Raw OSC datagrams, valid and malformed, shared by the parser tests and the UDP server tests.

Each malformed entry is ``name: (datagram, words of the reason it must be refused with)``.
"""

from __future__ import annotations

# /pad/trigger ,if 0 1.0  (what `oscsend localhost 9000 /pad/trigger if 0 1.0` sends)
TRIGGER = b"/pad/trigger\x00\x00\x00\x00,if\x00\x00\x00\x00\x00\x3f\x80\x00\x00"
# /status with no arguments
STATUS = b"/status\x00,\x00\x00\x00"
# a bundle, timetag "immediately", holding TRIGGER (28 bytes) and STATUS (12 bytes)
BUNDLE = (b"#bundle\x00" + b"\x00\x00\x00\x00\x00\x00\x00\x01"
          + b"\x00\x00\x00\x1c" + TRIGGER + b"\x00\x00\x00\x0c" + STATUS)
# every argument type: i f s b h d t S c r m T F N I
ALL_TYPES = (
    b"/all\x00\x00\x00\x00" b",ifsbhdtScrmTFNI\x00\x00\x00\x00"
    b"\xff\xff\xff\xfe"                      # i -2
    b"\x40\x20\x00\x00"                      # f 2.5
    b"hi\x00\x00"                            # s "hi"
    b"\x00\x00\x00\x03\x01\x02\x03\x00"      # b 3 bytes + 1 pad
    b"\x00\x00\x00\x01\x00\x00\x00\x00"      # h 2**32
    b"\x3f\xf8\x00\x00\x00\x00\x00\x00"      # d 1.5
    b"\x00\x00\x00\x00\x00\x00\x00\x01"      # t immediate
    b"sym\x00"                               # S "sym"
    b"\x00\x00\x00\x41"                      # c "A"
    b"\x11\x22\x33\x44"                      # r
    b"\x00\x90\x24\x7f"                      # m note-on
)
ALL_TYPES_ARGS = (-2, 2.5, "hi", b"\x01\x02\x03", 2**32, 1.5, 1, "sym", "A", 0x11223344, b"\x00\x90\x24\x7f",
                  True, False, None, float("inf"))


def nested_bundles(depth: int) -> bytes:
    """``depth`` bundles inside each other around STATUS (python-osc hits RecursionError near 2000)."""
    data = STATUS
    for _ in range(depth):
        data = b"#bundle\x00" + b"\x00" * 7 + b"\x01" + len(data).to_bytes(4, "big") + data
    return data


MALFORMED = {
    "empty": (b"", "empty datagram"),
    "truncated": (TRIGGER[:-4], "argument 1 (f) is truncated"),
    "misaligned": (TRIGGER + b"\x00", "not a multiple of 4"),
    "missing type tags": (b"/status\x00", "missing type tag string"),
    "unknown type tag": (b"/x\x00\x00,q\x00\x00", "unknown type tag 'q'"),
    "array type tag": (b"/x\x00\x00,[i]\x00\x00\x00\x00\x00\x00\x00\x01", "array"),
    "non-UTF-8 string": (b"/x\x00\x00,s\x00\x00\xff\xfe\x00\x00", "not valid UTF-8"),
    "non-UTF-8 address": (b"/\xff\x00\x00,\x00\x00\x00", "not valid UTF-8"),
    "address with a space": (b"/a b\x00\x00\x00\x00,\x00\x00\x00", "printable ASCII"),
    "not NUL-terminated": (b"/pad", "not NUL-terminated"),
    "non-NUL padding": (b"/x\x00\x01,\x00\x00\x00", "padded with non-NUL"),
    "bytes after the arguments": (b"/x\x00\x00,\x00\x00\x00\x00\x00\x00\x00", "left after the last argument"),
    "negative blob size": (b"/x\x00\x00,b\x00\x00\xff\xff\xff\xfc", "negative blob size"),
    "blob past the end": (b"/x\x00\x00,b\x00\x00\x00\x00\x00\x10", "runs past the end"),
    # the 24-byte bundle that makes python-osc 1.10.2 loop forever
    "negative bundle element size": (b"#bundle\x00" + b"\x00" * 7 + b"\x01" + b"\xff\xff\xff\xf0" + b"\x00" * 4,
                                     "negative bundle element size"),
    "bundle element past the end": (b"#bundle\x00" + b"\x00" * 7 + b"\x01" + b"\x00\x00\x01\x00" + STATUS,
                                    "runs past the end"),
    "zero bundle element size": (b"#bundle\x00" + b"\x00" * 7 + b"\x01" + b"\x00\x00\x00\x00", "size 0"),
    "bundle element size not aligned": (b"#bundle\x00" + b"\x00" * 7 + b"\x01" + b"\x00\x00\x00\x0b" + STATUS,
                                        "not a multiple of 4"),
    "bundle without timetag": (b"#bundle\x00\x00\x00\x00\x01", "no timetag"),
    "bad bundle header": (b"#bundlX\x00" + b"\x00" * 8, "not a '#bundle'"),
    "deep nesting": (nested_bundles(2000), "nested deeper than 8"),
    "oversized": (b"/x\x00\x00,\x00\x00\x00" + b"\x00" * 65536, "over the 65536-byte limit"),
    "random bytes": (bytes.fromhex("9c2f7e01d3a85b4466e1f00c"), "neither a message"),
}
