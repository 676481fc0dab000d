#!/usr/bin/env python3
"""Re-encode a BER byte stream in other, still valid, BER forms (X.690 clause 8).

A decoder that only handles the definite, short-form, primitive encodings a given encoder happens
to produce is not a BER decoder. This module parses a stream of back-to-back TLVs into a tree and
re-emits it with the same abstract value in one of these forms:

  indefinite  every constructed TLV with the indefinite length form (0x80 ... 00 00, X.690 8.1.3.6)
  longform    every length in the long form with 4 length octets (0x84 b3 b2 b1 b0), even when the
              short form would do (X.690 8.1.3.5; BER allows more octets than needed)
  segmented   every primitive TLV that the caller says is an OCTET STRING (a predicate on its tag
              path) and that is longer than SEGMENT bytes becomes a constructed TLV with the same
              tag, whose contents are universal OCTET STRING (0x04) segments of at most SEGMENT
              bytes each (X.690 8.7.3); under IMPLICIT tags only the schema knows which primitive
              TLVs are octet strings, hence the predicate
  all         the three at once: constructed TLVs indefinite, primitive TLVs long-form, the
              segmented strings constructed with a definite long-form length
  all-indef   as all, but the segmented strings too have the indefinite length (the most
              general form; pycrate 0.8.1 cannot decode it: it takes the end-of-contents octets
              inside a constructed OCTET STRING for a segment with a bad tag, so check this mode
              with normalize() rather than with pycrate)

The tag path of a TLV is the tuple of (class, number) of the TLVs from the outermost one down to
it, itself included; class is 0 universal, 1 application, 2 context-specific, 3 private. For
example the LIID in a PS-PDU is ((0, 16), (2, 1), (2, 1)).

Library:
  parse(data) -> [Tlv]                   top-level TLVs of a stream
  split(data) -> [bytes]                 raw bytes of each top-level TLV
  rewrite(data, mode, is_octet_string=None, segment=4) -> bytes
  octet_string_paths(asn1_type, data)    the tag paths of the OCTET STRING TLVs in data, found by
                                          walking data against a pycrate type (e.g. the PS-PDU)
  normalize(data, is_octet_string)       joins the segments of segmented strings at octet-string
                                          paths and re-encodes everything definite and minimal:
                                          a check of a rewrite that does not need pycrate
  check_same_value(asn1_type, original, rewritten)
                                          decode both with pycrate; raise RewriteError unless the
                                          values are equal (one TLV each)
  verify(asn1_type, original, rewritten, is_octet_string, with_pycrate=True)
                                          both checks above, PDU by PDU, for whole streams

CLI:
  ber_rewrite.py MODE IN OUT [--segment N] [--path P]... [--ps-pdu]
      MODE: indefinite | longform | segmented | all | all-indef.
      --path P     a tag path whose primitive TLVs are octet strings, written as tags joined by
                   '.', each a class letter (U, A, C, P) and a number: U16.C1.C1 is the LIID
      --ps-pdu     take the octet-string paths from the ETSI PS-PDU schema and check that the
                   output decodes (pycrate; for all-indef only normalize()) to the same value as
                   the input; loads etsi_asn1.py
                   from $SHARED_DIR/tools/etsi-asn1 (SHARED_DIR defaults to ETSI_SCHEMAS/../..,
                   or to ../shared beside the repository root)
"""
import os
import sys

MODES = ("indefinite", "longform", "segmented", "all", "all-indef")

# X.690 8.1.2: class bits
UNIVERSAL, APPLICATION, CONTEXT, PRIVATE = 0, 1, 2, 3
CLASS_LETTERS = "UACP"
OCTET_STRING = (UNIVERSAL, 4)


class RewriteError(Exception):
    """Malformed input, or a rewritten encoding that does not decode to the original value."""


class Tlv:
    """One TLV: class, constructed flag, tag number, and either children or primitive content."""

    __slots__ = ("cls", "constructed", "number", "children", "content")

    def __init__(self, cls, constructed, number, children=None, content=b""):
        self.cls, self.constructed, self.number = cls, constructed, number
        self.children, self.content = children, content

    @property
    def tag(self):
        return (self.cls, self.number)

    def __repr__(self):
        inner = f"{len(self.children)} children" if self.constructed else f"{len(self.content)} bytes"
        return f"Tlv({CLASS_LETTERS[self.cls]}{self.number}, {inner})"


# ------------------------------------------------------------------ parsing

def _parse_one(data, off, depth=0):
    """Parse the TLV at data[off:]; return (Tlv, offset after it)."""
    if depth > 64:
        raise RewriteError("nesting deeper than 64 levels")
    end = len(data)
    if off >= end:
        raise RewriteError(f"truncated tag at offset {off}")
    b0 = data[off]
    off += 1
    cls, constructed, number = b0 >> 6, bool(b0 & 0x20), b0 & 0x1F
    if number == 0x1F:  # high tag number form, X.690 8.1.2.4
        number = 0
        while True:
            if off >= end:
                raise RewriteError("truncated high tag number")
            b = data[off]
            off += 1
            number = (number << 7) | (b & 0x7F)
            if not b & 0x80:
                break
    if off >= end:
        raise RewriteError(f"truncated length at offset {off}")
    lb = data[off]
    off += 1
    if lb == 0x80:  # indefinite
        if not constructed:
            raise RewriteError(f"indefinite length on a primitive TLV at offset {off - 2}")
        children = []
        while True:
            if off + 2 <= end and data[off] == 0 and data[off + 1] == 0:
                return Tlv(cls, True, number, children=children), off + 2
            child, off = _parse_one(data, off, depth + 1)
            children.append(child)
    if lb & 0x80:
        n = lb & 0x7F
        if n == 0x7F or off + n > end:
            raise RewriteError(f"bad long-form length at offset {off - 1}")
        length = int.from_bytes(data[off:off + n], "big")
        off += n
    else:
        length = lb
    if off + length > end:
        raise RewriteError(f"length {length} at offset {off} runs past the end ({end})")
    content = data[off:off + length]
    stop = off + length
    if not constructed:
        return Tlv(cls, False, number, content=bytes(content)), stop
    children, pos = [], off
    while pos < stop:
        child, pos = _parse_one(data[:stop], pos, depth + 1)
        children.append(child)
    return Tlv(cls, True, number, children=children), stop


def split(data):
    """Split a stream of back-to-back TLVs into the raw bytes of each top-level TLV."""
    data = bytes(data)
    out, off = [], 0
    while off < len(data):
        _, end = _parse_one(data, off)
        out.append(data[off:end])
        off = end
    return out


def parse(data):
    """Parse a stream of back-to-back TLVs into a list of Tlv trees."""
    data = bytes(data)
    out, off = [], 0
    while off < len(data):
        tlv, off = _parse_one(data, off)
        out.append(tlv)
    return out


# ------------------------------------------------------------------ encoding

def _tag_octets(cls, constructed, number):
    first = (cls << 6) | (0x20 if constructed else 0)
    if number < 31:
        return bytes([first | number])
    groups = []
    while True:
        groups.append(number & 0x7F)
        number >>= 7
        if not number:
            break
    groups.reverse()
    return bytes([first | 0x1F] + [g | 0x80 for g in groups[:-1]] + [groups[-1]])


def _length_octets(n, longform):
    if longform:
        if n >= 1 << 32:
            raise RewriteError(f"length {n} does not fit 4 octets")
        return b"\x84" + n.to_bytes(4, "big")
    if n < 0x80:
        return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def _encode(tlv, path, opts):
    indefinite, longform, is_octet_string, segment, indef_segmented = opts
    path = path + (tlv.tag,)
    if not tlv.constructed:
        content = tlv.content
        if is_octet_string is not None and len(content) > segment and is_octet_string(path):
            segments = [Tlv(UNIVERSAL, False, 4, content=content[i:i + segment])
                        for i in range(0, len(content), segment)]
            # the segments are not octet strings at a schema path of their own: never re-segment
            seg_opts = (indefinite, longform, None, segment, indef_segmented)
            body = b"".join(_encode(s, path, seg_opts) for s in segments)
            return _wrap(tlv.cls, True, tlv.number, body, indef_segmented, longform)
        return _wrap(tlv.cls, False, tlv.number, content, False, longform)
    body = b"".join(_encode(c, path, opts) for c in tlv.children)
    return _wrap(tlv.cls, True, tlv.number, body, indefinite, longform)


def _wrap(cls, constructed, number, body, indefinite, longform):
    tag = _tag_octets(cls, constructed, number)
    if constructed and indefinite:
        return tag + b"\x80" + body + b"\x00\x00"
    return tag + _length_octets(len(body), longform) + body


def encode(tlvs, indefinite=False, longform=False, is_octet_string=None, segment=4,
           indef_segmented=False):
    """Encode Tlv trees; the flags select the forms (all False gives the minimal definite form).
    indefinite applies to the constructed TLVs of the input, indef_segmented to the constructed
    TLVs that segmentation creates."""
    if segment < 1:
        raise ValueError("segment must be >= 1")
    opts = (indefinite, longform, is_octet_string, segment, indef_segmented)
    return b"".join(_encode(t, (), opts) for t in tlvs)


def rewrite(data, mode, is_octet_string=None, segment=4):
    """Re-encode a BER stream in MODE (see MODES). is_octet_string(path) -> bool selects the
    primitive TLVs to segment (modes segmented and all); None segments nothing."""
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}; one of {', '.join(MODES)}")
    combined = mode in ("all", "all-indef")
    seg = is_octet_string if mode == "segmented" or combined else None
    return encode(parse(data), indefinite=mode == "indefinite" or combined,
                  longform=mode == "longform" or combined, is_octet_string=seg, segment=segment,
                  indef_segmented=mode == "all-indef")


def normalize(data, is_octet_string=None):
    """Parse data, join the segments of every constructed TLV at an octet-string path (all of whose
    children are universal OCTET STRINGs) into one primitive TLV, and re-encode everything with
    minimal definite lengths. For pycrate-made input this is the identity, so
    normalize(rewrite(x, ...), p) == x checks a rewrite without any ASN.1 decoder."""

    def join(t, path):
        path = path + (t.tag,)
        if not t.constructed:
            return t
        if (is_octet_string is not None and is_octet_string(path)
                and all(c.tag == OCTET_STRING and not c.constructed for c in t.children)):
            return Tlv(t.cls, False, t.number, content=b"".join(c.content for c in t.children))
        return Tlv(t.cls, True, t.number, children=[join(c, path) for c in t.children])
    return encode([join(t, ()) for t in parse(data)])


def count_segmentable(data, is_octet_string, segment=4):
    """How many primitive TLVs of data the segmented mode would split."""
    n = 0

    def walk(t, path):
        nonlocal n
        path = path + (t.tag,)
        if t.constructed:
            for c in t.children:
                walk(c, path)
        elif len(t.content) > segment and is_octet_string(path):
            n += 1
    for t in parse(data):
        walk(t, ())
    return n


# ------------------------------------------------------------------ schema-driven octet string paths (pycrate)

_CONSTRUCTED_TYPES = ("SEQUENCE", "SET", "CHOICE", "SEQUENCE OF", "SET OF")


def _tags_of(typ):
    """Outer tags of a pycrate type as (class, number) pairs, [] for an untagged CHOICE/open type."""
    return [(c, n) for (c, n) in typ._tagc]


def _first_tags(typ):
    """The tags a TLV of this type can start with (an untagged CHOICE: its alternatives')."""
    tags = _tags_of(typ)
    if tags:
        return {tags[0]}
    if typ.TYPE == "CHOICE":
        out = set()
        for alt in typ._cont.values():
            out |= _first_tags(alt)
        return out
    return set()


def _walk_type(typ, tlv, path, found):
    """Walk a TLV against a pycrate type; add the tag paths of OCTET STRING TLVs to found."""
    tags = _tags_of(typ)
    path = path + (tlv.tag,)
    # explicit tags (and the tag of a tagged CHOICE) wrap one inner TLV each
    inner_levels = len(tags) - 1 if tags else 0
    if typ.TYPE == "CHOICE" and tags:
        inner_levels = len(tags)
    for _ in range(inner_levels):
        if not tlv.constructed or len(tlv.children) != 1:
            return
        tlv = tlv.children[0]
        path = path + (tlv.tag,)
    if typ.TYPE == "CHOICE":
        for alt in typ._cont.values():
            if tlv.tag in _first_tags(alt):
                # the alternative's own TLV is tlv itself: step back so _walk_type re-adds it
                _walk_type(alt, tlv, path[:-1], found)
                return
        return
    if typ.TYPE == "OCTET STRING":
        found.add(path)
        return
    if typ.TYPE not in _CONSTRUCTED_TYPES or not tlv.constructed:
        return
    if typ.TYPE in ("SEQUENCE OF", "SET OF"):
        for child in tlv.children:
            _walk_type(typ._cont, child, path, found)
        return
    comps = list(typ._cont.values())
    for child in tlv.children:
        for comp in comps:
            if child.tag in _first_tags(comp):
                _walk_type(comp, child, path, found)
                break


def octet_string_paths(asn1_type, data):
    """Tag paths (see module doc) of the OCTET STRING TLVs in the BER stream data, found by
    walking each top-level TLV against the pycrate type asn1_type."""
    found = set()
    for tlv in parse(data):
        _walk_type(asn1_type, tlv, (), found)
    return found


def check_same_value(asn1_type, original, rewritten):
    """Decode both encodings with pycrate's asn1_type; raise RewriteError unless equal."""
    asn1_type.from_ber(original)
    want = asn1_type.get_val()
    try:
        asn1_type.from_ber(rewritten)
    except Exception as e:  # pycrate raises several unrelated exception classes
        raise RewriteError(f"pycrate cannot decode the rewritten encoding: {e}") from e
    got = asn1_type.get_val()
    if got != want:
        raise RewriteError(f"rewritten encoding decodes to another value:\n  want {want!r}\n  got  {got!r}")
    return want


def verify(asn1_type, original, rewritten, is_octet_string, with_pycrate=True):
    """Check that rewritten encodes the same values as original, PDU by PDU: their normalized
    forms must be equal, and (with_pycrate) pycrate must decode each rewritten PDU to the value
    of the original one. Returns the list of pycrate values (empty without pycrate)."""
    if normalize(rewritten, is_octet_string) != normalize(original, is_octet_string):
        raise RewriteError("rewritten encoding does not normalize to the original")
    ins, outs = split(original), split(rewritten)
    if len(ins) != len(outs):
        raise RewriteError(f"TLV count changed: {len(ins)} -> {len(outs)}")
    if not with_pycrate:
        return []
    return [check_same_value(asn1_type, a, b) for a, b in zip(ins, outs)]


# modes whose output pycrate 0.8.1 cannot decode although it is valid BER (see module doc)
PYCRATE_CANNOT = ("all-indef",)


# ------------------------------------------------------------------ CLI

def _parse_path(spec):
    out = []
    for part in spec.split("."):
        if len(part) < 2 or part[0].upper() not in CLASS_LETTERS or not part[1:].isdigit():
            raise ValueError(f"bad tag {part!r} in path {spec!r} (want e.g. U16.C1.C1)")
        out.append((CLASS_LETTERS.index(part[0].upper()), int(part[1:])))
    return tuple(out)


def shared_dir():
    """The shared/ directory: $SHARED_DIR, else $ETSI_SCHEMAS/../.., else ../shared beside the repo."""
    if os.environ.get("SHARED_DIR"):
        return os.path.abspath(os.environ["SHARED_DIR"])
    if os.environ.get("ETSI_SCHEMAS"):
        return os.path.abspath(os.path.join(os.environ["ETSI_SCHEMAS"], "..", ".."))
    repo = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
    return os.path.abspath(os.path.join(repo, "..", "shared"))


def load_etsi_asn1():
    """Import shared/tools/etsi-asn1/etsi_asn1.py. Its schema directory is ETSI_SCHEMAS, defaulting
    (as in CI) to shared/standards/etsi of the same shared/ directory."""
    shared = shared_dir()
    os.environ.setdefault("ETSI_SCHEMAS", os.path.join(shared, "standards", "etsi"))
    tool = os.path.join(shared, "tools", "etsi-asn1")
    if not os.path.isfile(os.path.join(tool, "etsi_asn1.py")):
        raise SystemExit(f"etsi_asn1.py not found in {tool} (set SHARED_DIR or ETSI_SCHEMAS)")
    if tool not in sys.path:
        sys.path.insert(0, tool)
    import etsi_asn1
    return etsi_asn1


def main(argv):
    import argparse
    ap = argparse.ArgumentParser(description="Re-encode a BER stream in another valid BER form.")
    ap.add_argument("mode", choices=MODES)
    ap.add_argument("input")
    ap.add_argument("output")
    ap.add_argument("--segment", type=int, default=4, help="segment size in bytes (default 4)")
    ap.add_argument("--path", action="append", default=[], help="octet string tag path, e.g. U16.C1.C1")
    ap.add_argument("--ps-pdu", action="store_true", help="use the ETSI PS-PDU schema and verify")
    args = ap.parse_args(argv)
    data = open(args.input, "rb").read()
    paths = {_parse_path(p) for p in args.path}
    pdu = None
    if args.ps_pdu:
        pdu = load_etsi_asn1()._module()
        paths |= octet_string_paths(pdu, data)
    out = rewrite(data, args.mode, is_octet_string=paths.__contains__, segment=args.segment)
    if pdu is not None:
        verify(pdu, data, out, paths.__contains__, with_pycrate=args.mode not in PYCRATE_CANNOT)
    with open(args.output, "wb") as f:
        f.write(out)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except RewriteError as e:
        print(f"ber_rewrite: {e}", file=sys.stderr)
        sys.exit(1)
