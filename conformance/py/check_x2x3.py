#!/usr/bin/env python3
"""Check X2/X3 (ETSI TS 103 221-2) PDUs against Wireshark's 5gli dissector (tshark -T pdml).

usage:
  check_x2x3.py ours   --tshark T --expected OUT.json --work DIR
      OUT.json is written by `li-conformance x2x3-pcap OUT.pcap` beside OUT.pcap. Checks:
        1. tshark on OUT.pcap as captured (coalesced PDUs, one PDU split across two segments):
           every PDU's header fields, the attributes tshark knows (types 5..18), the payload and
           the sub-protocol tshark dissects it as; IP/TCP checksums good; no TCP analysis
           warnings (so our sequence and acknowledgement numbers are right);
        2. tshark's own TCP reassembly (-z follow,tcp,raw, run without the 5gli decode-as,
           see follow_streams) gives exactly our byte stream;
        3. that stream, cut into PDUs here from the two length fields and written one PDU per
           segment into DIR/ours-one-pdu-per-segment.pcap, dissected again by tshark: every
           PDU, including the split one, field by field.
  check_x2x3.py sample --tshark T --pcap SAMPLE.pcap --ours OURS.jsonl
      OURS.jsonl is `li-conformance x2x3-decode SAMPLE.pcap`: our decoding of every PDU must
      equal what tshark shows for it, field by field.

tshark 4.0's packet-li5g.c (cites TS 103 221-2 V1.1.1) does not reassemble PDUs across TCP
segments: a PDU split across two segments is shown up to where the first segment ends and then
"[Malformed Packet: 5GLI]", and the segment holding its tail is dissected as a (garbage) PDU.
Step 1 therefore checks the split PDU's header and attributes only and skips the tail frame;
step 3 checks it whole. tshark 4.0 does not display attribute types 1..4 and 19..22 (nor
unknown ones); it skips them by their length, which steps 1 and 3 check by the attributes that
follow. Attribute values are compared as octets (PDML 'value') and as tshark shows them.

The last line is '<label>: N passed, M failed' (x2x3-ours / x2x3-sample); exit status 1 if any
check failed.
"""

import argparse
import calendar
import ipaddress
import json
import struct
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

PORT = 50000
# attribute types tshark 4.0 shows, with its field names
TSHARK_ATTRS = {
    5: "li5g.did", 6: "li5g.nfid", 7: "li5g.ipid", 8: "li5g.sq", 9: "li5g.ts",
    10: "li5g.srcip", 11: "li5g.dstip", 12: "li5g.srcipv6", 13: "li5g.dstipv6",
    14: "li5g.srcport", 15: "li5g.dstport", 16: "li5g.ipproto", 17: "li5g.mti", 18: "li5g.oti",
}
HEADER = {
    "li5g.ver": "version", "li5g.type": "pdu_type", "li5g.hl": "header_length",
    "li5g.pl": "payload_length", "li5g.pf": "payload_format", "li5g.pd": "payload_direction",
    "li5g.xid": "xid", "li5g.cid": "correlation_id",
}
TYPE_NAMES = {1: "X2", 2: "X3", 3: "Keepalive", 4: "KeepaliveAck"}


class Checker:
    def __init__(self, label):
        self.label = label
        self.passed = 0
        self.failed = 0

    def check(self, what, ok, detail=""):
        if ok:
            self.passed += 1
        else:
            self.failed += 1
            print(f"FAIL {what}{': ' + detail if detail else ''}")
        return ok

    def equal(self, what, got, want):
        return self.check(what, got == want, f"tshark {got!r}, expected {want!r}")

    def note(self, text):
        print(f"note {text}")

    def summary(self):
        print(f"{self.label}: {self.passed} passed, {self.failed} failed")
        return 1 if self.failed else 0


# ------------------------------------------------------------------ tshark

def run_tshark(tshark, pcap, *extra, decode_as=True):
    cmd = [tshark, "-n", "-r", str(pcap), *(["-d", f"tcp.port=={PORT},5gli"] if decode_as else []),
           "-o", "tcp.check_checksum:TRUE", "-o", "ip.check_checksum:TRUE", *extra]
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0:
        raise SystemExit(f"check_x2x3: {' '.join(cmd)} failed ({res.returncode}): {res.stderr.strip()}")
    return res.stdout


def pdml_packets(tshark, pcap):
    """[(frame number, packet element)] of tshark -T pdml."""
    root = ET.fromstring(run_tshark(tshark, pcap, "-T", "pdml"))
    out = []
    for packet in root.iter("packet"):
        num = next(f for f in packet.iter("field") if f.get("name") == "num")
        out.append((int(num.get("show")), packet))
    return out


def li5g_pdus(packet):
    """The top-level 5gli protos of a packet as dicts in our JSON shape (plus 'shows' and
    'sub', the protocols dissected inside)."""
    pdus = []
    for proto in packet.findall("proto"):
        if proto.get("name") != "5gli":
            continue
        d = {"attributes": [], "sub": [p.get("name") for p in proto.iter("proto") if p is not proto]}
        for f in proto.findall("field"):
            name = f.get("name")
            if name in HEADER:
                key = HEADER[name]
                if key == "xid":
                    d[key] = f.get("show")
                elif key == "correlation_id":
                    d[key] = f.get("value")
                else:
                    d[key] = int(f.get("show"))
            elif name == "li5g.pld":
                d["payload"] = f.get("value", "")
            elif name.startswith("li5g."):
                kids = {k.get("name"): k.get("show") for k in f.findall("field")}
                d["attributes"].append({
                    "field": name,
                    "type": int(kids.get("li5g.attrType", -1)),
                    "length": int(kids.get("li5g.attrLen", -1)),
                    "hex": f.get("value", ""),
                    "show": f.get("show"),
                })
        pdus.append(d)
    return pdus


def is_malformed(packet):
    return any(p.get("name") == "_ws.malformed" for p in packet.iter("proto"))


def fields(packet, name):
    return [f for f in packet.iter("field") if f.get("name") == name]


# ------------------------------------------------------------------ comparison

def tshark_time(secs, nanos):
    t = time.gmtime(secs)
    return (f"{calendar.month_abbr[t.tm_mon]} {t.tm_mday:2d}, {t.tm_year} "
            f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d}.{nanos:09d} UTC")


def expected_show(a):
    """What tshark 4.0 shows for an attribute of ours (None: compare octets only)."""
    t, v = a["type"], a.get("value")
    if t in (8, 14, 15, 16):
        return str(v)
    if t == 9:
        return tshark_time(v["secs"], v["nanos"])
    if t in (10, 11):
        return v
    if t in (12, 13):
        return ipaddress.IPv6Address(v).compressed
    return None


def compare_pdu(c, where, got, want, whole=True):
    """Field-by-field: tshark's view `got` against our `want` (our JSON shape)."""
    name = TYPE_NAMES.get(want["pdu_type"], f"type {want['pdu_type']}")
    where = f"{where} ({name})"
    before = (c.passed, c.failed)
    for key in HEADER.values():
        c.equal(f"{where} {key}", got.get(key), want[key])
    shown = [a for a in want["attributes"] if a["type"] in TSHARK_ATTRS]
    c.equal(f"{where} attributes tshark shows (types)", [a["type"] for a in got["attributes"]],
            [a["type"] for a in shown])
    for i, (g, w) in enumerate(zip(got["attributes"], shown)):
        what = f"{where} attribute #{i} {w['name']} (type {w['type']})"
        c.equal(f"{what} field", g["field"], TSHARK_ATTRS[w["type"]])
        c.equal(f"{what} length", g["length"], w["length"])
        c.equal(f"{what} octets", g["hex"], w["hex"])
        want_show = expected_show(w)
        if want_show is not None:
            c.equal(f"{what} as shown", g["show"], want_show)
        if w["type"] in (17, 18):
            try:
                text = bytes.fromhex(g["hex"]).decode("utf-8")
            except ValueError as e:
                text = f"<{e}>"
            c.equal(f"{what} text", text, w["value"])
    if whole:
        c.equal(f"{where} payload", got.get("payload"), want["payload"])
    if c.failed == before[1]:
        shown_types = ",".join(str(a["type"]) for a in shown) or "-"
        print(f"ok   {where}: {c.passed - before[0]} checks (attribute types shown {shown_types}"
              f"{'' if whole else '; payload not in this frame'})")


# ------------------------------------------------------------------ mode: ours

def follow_streams(tshark, pcap):
    """tshark's reassembled TCP stream 0: ({0: bytes, 1: bytes}, {0: 'ip:port', 1: ...}).

    Without the 5gli decode-as: in tshark 4.0 a segment whose 5gli dissection throws (the
    first part of the split PDU) is left out of the follow output, which then says
    "[543 bytes missing in capture file]" (hex-encoded in raw mode)."""
    out = run_tshark(tshark, pcap, "-q", "-z", "follow,tcp,raw,0", decode_as=False)
    nodes = {0: b"", 1: b""}
    names = {}
    for line in out.splitlines():
        if line.startswith("Node "):
            n, addr = line[5:].split(": ", 1)
            names[int(n)] = addr.strip()
        elif line.startswith("\t") and line.strip():
            nodes[1] += bytes.fromhex(line.strip())
        elif line.strip() and all(ch in "0123456789abcdef" for ch in line.strip()):
            nodes[0] += bytes.fromhex(line.strip())
    return nodes, names


def split_pdus(stream):
    """Cut a byte stream into PDUs by Header Length + Payload Length (independently of the
    Rust framing code)."""
    pdus, at = [], 0
    while at + 12 <= len(stream):
        hl, pl = struct.unpack_from(">II", stream, at + 4)
        if hl < 40 or at + hl + pl > len(stream):
            break
        pdus.append(stream[at:at + hl + pl])
        at += hl + pl
    return pdus, len(stream) - at


def write_pcap(path, segments):
    """segments: [(src ip, sport, dst ip, dport, seq, payload)] -> classic pcap, Ethernet,
    checksums computed."""
    def csum(data):
        if len(data) % 2:
            data += b"\0"
        s = sum(struct.unpack(f">{len(data) // 2}H", data))
        while s >> 16:
            s = (s & 0xFFFF) + (s >> 16)
        return ~s & 0xFFFF

    out = bytearray(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
    for i, (src, sport, dst, dport, seq, payload) in enumerate(segments):
        s, d = ipaddress.IPv4Address(src).packed, ipaddress.IPv4Address(dst).packed
        tcp = struct.pack(">HHIIBBHHH", sport, dport, seq, 0, 0x50, 0x18, 65535, 0, 0) + payload
        tcp = tcp[:16] + struct.pack(">H", csum(s + d + struct.pack(">BBH", 0, 6, len(tcp)) + tcp)) + tcp[18:]
        ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), i + 1, 0, 64, 6, 0, s, d)
        ip = ip[:10] + struct.pack(">H", csum(ip)) + ip[12:]
        frame = b"\x02\0\0\0\0\x02" + b"\x02\0\0\0\0\x01" + b"\x08\x00" + ip + tcp
        out += struct.pack("<IIII", 1_704_164_645 + i, 0, len(frame), len(frame)) + frame
    Path(path).write_bytes(out)


def mode_ours(args):
    c = Checker("x2x3-ours")
    doc = json.loads(Path(args.expected).read_text())
    pcap = Path(args.expected).with_suffix(".pcap")
    packets = pdml_packets(args.tshark, pcap)
    tails = set(doc["tail_frames"])
    by_frame = {}
    for p in doc["pdus"]:
        by_frame.setdefault(p["frame"], []).append(p)

    # 1. as captured
    print(f"-- 1. tshark on {pcap.name} as captured ({len(packets)} frames)")
    for frame, packet in packets:
        for f in fields(packet, "tcp.checksum.status") + fields(packet, "ip.checksum.status"):
            c.equal(f"frame {frame} {f.get('name')} (1 = good)", f.get("show"), "1")
        flags = [f.get("showname") for f in packet.iter("field") if f.get("name") == "tcp.analysis.flags"]
        c.check(f"frame {frame} no TCP analysis warning", not flags, "; ".join(flags))
        got = li5g_pdus(packet)
        if frame in tails:
            c.note(f"frame {frame} starts inside a PDU: tshark 4.0 dissects it as {len(got)} garbage "
                   f"PDU(s){' [Malformed Packet]' if is_malformed(packet) else ''} (no reassembly); skipped")
            continue
        want = by_frame.get(frame, [])
        if not c.equal(f"frame {frame} number of 5GLI PDUs", len(got), len(want)):
            continue
        split_here = any(w["split"] for w in want)
        c.equal(f"frame {frame} malformed only where a PDU is cut", is_malformed(packet), split_here)
        for k, (g, w) in enumerate(zip(got, want)):
            where = f"frame {frame} PDU {k}"
            compare_pdu(c, where, g, w["pdu"], whole=not w["split"])
            if w["split"]:
                c.note(f"{where}: split across frames {frame} and the next; header and attributes "
                       f"checked here, the payload in step 3")
            elif w["payload_protocol"]:
                c.check(f"{where} payload dissected as {w['payload_protocol']}",
                        w["payload_protocol"] in g["sub"], f"sub-protocols {g['sub']}")

    # 2. tshark's reassembly of the connection
    print("-- 2. tshark -z follow,tcp,raw,0")
    nodes, names = follow_streams(args.tshark, pcap)
    flows = list(doc["stream"])
    for n in (0, 1):
        flow = next((f for f in flows if f.startswith(names.get(n, "?") + "->")), None)
        if c.check(f"follow node {n} ({names.get(n)}) is one of our flows", flow is not None, str(flows)):
            if c.equal(f"follow node {n} ({flow}) stream octets", nodes[n].hex(), doc["stream"][flow]):
                print(f"ok   follow node {n} {flow}: {len(nodes[n])} octets, our stream exactly")

    # 3. the reassembled stream, one PDU per segment, dissected again
    print("-- 3. tshark on the reassembled stream, one PDU per segment")
    segments, wanted = [], []
    for n in (0, 1):
        flow = next((f for f in flows if f.startswith(names.get(n, "?") + "->")), None)
        if flow is None:
            continue
        (src, sport), (dst, dport) = [(a.rsplit(":", 1)[0], int(a.rsplit(":", 1)[1])) for a in flow.split("->")]
        pdus, left = split_pdus(nodes[n])
        c.equal(f"{flow} octets left after the last whole PDU", left, 0)
        seq = 1
        for p in pdus:
            segments.append((src, sport, dst, dport, seq, p))
            seq += len(p)
        wanted += [p for p in doc["pdus"] if p["flow"] == flow]
    out = Path(args.work) / "ours-one-pdu-per-segment.pcap"
    write_pcap(out, segments)
    packets = pdml_packets(args.tshark, out)
    c.equal("number of PDUs in the re-segmented stream", len(packets), len(wanted))
    for (frame, packet), w in zip(packets, wanted):
        got = li5g_pdus(packet)
        if not c.equal(f"re-segmented frame {frame}: one 5GLI PDU", len(got), 1):
            continue
        where = f"re-segmented frame {frame}{' (the split PDU)' if w['split'] else ''}"
        c.check(f"{where} not malformed", not is_malformed(packet))
        compare_pdu(c, where, got[0], w["pdu"])
        if w["payload_protocol"]:
            c.check(f"{where} payload dissected as {w['payload_protocol']}",
                    w["payload_protocol"] in got[0]["sub"], f"sub-protocols {got[0]['sub']}")
    return c.summary()


# ------------------------------------------------------------------ mode: sample

def mode_sample(args):
    c = Checker("x2x3-sample")
    ours = [json.loads(l) for l in Path(args.ours).read_text().splitlines() if l.strip()]
    for o in ours:
        c.check(f"our decoder: frame {o.get('frame')}", "error" not in o, o.get("error", ""))
    ours = [o for o in ours if "pdu" in o]
    theirs = []
    for frame, packet in pdml_packets(args.tshark, args.pcap):
        if is_malformed(packet):
            c.note(f"tshark marks frame {frame} malformed")
        for k, pdu in enumerate(li5g_pdus(packet)):
            theirs.append((frame, k, pdu))
    c.equal("number of PDUs (tshark vs ours)", len(theirs), len(ours))
    for (frame, k, got), o in zip(theirs, ours):
        c.equal(f"frame {frame} PDU {k} starts in the same frame", o["frame"], frame)
        compare_pdu(c, f"sample frame {frame} PDU {k}", got, o["pdu"])
    return c.summary()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mode", choices=["ours", "sample"])
    ap.add_argument("--tshark", default="tshark")
    ap.add_argument("--expected", help="ours: OUT.json of x2x3-pcap")
    ap.add_argument("--work", default=".", help="ours: directory for the re-segmented pcap")
    ap.add_argument("--pcap", help="sample: the pcap")
    ap.add_argument("--ours", help="sample: x2x3-decode output for it")
    args = ap.parse_args()
    if args.mode == "ours":
        if not args.expected:
            ap.error("ours needs --expected")
        return mode_ours(args)
    if not (args.pcap and args.ours):
        ap.error("sample needs --pcap and --ours")
    return mode_sample(args)


if __name__ == "__main__":
    sys.exit(main())
