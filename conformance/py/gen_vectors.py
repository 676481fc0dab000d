#!/usr/bin/env python3
"""Generate PS-PDU (ETSI TS 102 232-1) test vectors with pycrate, an encoder independent of ours.

usage: gen_vectors.py OUTDIR [--segment N]

For each vector NAME it writes into OUTDIR:
  NAME.ber             pycrate's encoding (definite lengths, minimal length octets, primitive strings)
  NAME.json            the value, as etsi_asn1.py decode prints it: _jsonable(PS_PDU.get_val())
  NAME.indefinite.ber  every constructed TLV with the indefinite length
  NAME.longform.ber    every length as 0x84 + 4 octets
  NAME.segmented.ber   every OCTET STRING longer than N (default 4) bytes as a constructed string
                       of universal OCTET STRING segments of at most N bytes (only when the vector
                       has such a string; every vector has, since the LIID is 9 bytes)
  NAME.all.ber         the three combined: constructed TLVs indefinite, primitive TLVs long-form,
                       segmented strings constructed with a definite long-form length
  NAME.all-indef.ber   as all, the segmented strings too with the indefinite length
and OUTDIR/INDEX.txt (one line per vector: name, variants, description).
Every variant is checked before it is written: its normalized form (segments joined, lengths
minimal and definite) equals NAME.ber, and pycrate decodes it to the value of NAME.json; the
all-indef variants get only the first check, as pycrate 0.8.1 cannot decode an indefinite-length
constructed OCTET STRING (it takes the end-of-contents octets for a segment with a bad tag).
The octet strings to segment are found from the schema (ber_rewrite.octet_string_paths), so
under IMPLICIT tags LIID, operatorIdentifier, iPPackets, targetUsername, iPBinaryAddress, ...
are all segmented.

Schemas: etsi_asn1.py is imported from $SHARED_DIR/tools/etsi-asn1 (SHARED_DIR defaults to
$ETSI_SCHEMAS/../.., else ../shared beside the repository root); it compiles the modules in
$ETSI_SCHEMAS (default: SHARED_DIR/standards/etsi).

JSON shape of each ASN.1 type (pycrate 0.8.1 get_val() through etsi_asn1._jsonable; checked by
check_shapes() below on every run, so this table cannot go stale silently):

  ASN.1 type                      JSON                          example
  SEQUENCE / SET                  object of the PRESENT         {"sequenceNumber": 7, ...}
                                  components only, by name      (absent OPTIONAL: no key at all)
  SEQUENCE OF                     array                         [ {...}, {...} ]
  CHOICE                          [alternative name, value]     ["iPCC", {...}]
  ENUMERATED                      the identifier, a string      "fromTarget", "iRI-Begin"
  INTEGER                         a number, exact (may be       42, 1099511627776, 4294967295
                                  > 2^53: compare as integers)
  BOOLEAN                         true / false                  true
  NULL                            0                             ["tRIPayload", ["keep-alive", 0]]
  OCTET STRING                    lower-case hex string         "4c4949442d30303031" ("" if empty)
  PrintableString, UTF8String,    the string                    "DE", "user@example.net"
  IA5String
  OBJECT IDENTIFIER               array of arcs                 [0, 4, 0, 2, 2, 5, 1, 43]
  RELATIVE-OID                    array of arcs                 [5, 3, 18, 2]
  GeneralizedTime                 array of 8 parts, each a      "20240102030405.678Z" ->
                                  string or null:                 ["2024","01","02","03","04","05","678","Z"]
                                  [YYYY, MM, DD, hh, mm, ss,    "20240102030405Z" ->
                                   fraction, zone]                ["2024","01","02","03","04","05",null,"Z"]
                                  mm, ss absent -> null;        "20240102030405+0100" ->
                                  fraction = the digits after     ["2024","01","02","03","04","05",null,"+0100"]
                                  '.' or ',' exactly as sent    "20240102030405" (local) ->
                                  (no trimming), else null;       ["2024","01","02","03","04","05",null,null]
                                  zone "Z", "+hhmm", "-hh"...   "202401020304Z" ->
                                  as sent, else null              ["2024","01","02","03","04",null,null,"Z"]

The whole PDU is one such value: {"pSHeader": {...}, "payload": [kind, value]}.
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import ber_rewrite  # noqa: E402

etsi_asn1 = ber_rewrite.load_etsi_asn1()

VARIANTS = ("indefinite", "longform", "segmented", "all", "all-indef")

# ----------------------------------------------------------------------------- building blocks

LI_PS_DOMAIN_ID = (0, 4, 0, 2, 2, 5, 1, 43)  # li-psDomainId, version43
IPCC_OID = (5, 3, 18, 2)                     # iPCCObjId  {li-ps(5) iPAccess(3) version18(18) cC(2)}
IPIRI_OID = (5, 3, 18, 1)                    # iPIRIObjId {li-ps(5) iPAccess(3) version18(18) iRI(1)}

TS_FRAC = ("2024", "01", "02", "03", "04", "05", "678", "Z")     # 20240102030405.678Z
TS_PLAIN = ("2024", "01", "02", "03", "04", "06", None, "Z")     # 20240102030406Z
TS_OFFSET = ("2024", "01", "02", "05", "04", "07", None, "+0100")  # 20240102050407+0100
TS_MICRO = ("2024", "01", "02", "03", "04", "05", "123456", "Z")  # 20240102030405.123456Z

MICRO = {"seconds": 1704164645, "microSeconds": 678901}


def header(seq, full=True, **over):
    """A PSHeader; full=True: every field of LI-PS-PDU version43 PSHeader except the opaque
    cINExtension / eTSI671NEID; full=False: the mandatory ones only."""
    if not full:
        h = {
            "li-psDomainId": LI_PS_DOMAIN_ID,
            "lawfulInterceptionIdentifier": b"LIID-0002",
            "communicationIdentifier": {"networkIdentifier": {"operatorIdentifier": b"OP"}},
            "sequenceNumber": seq,
        }
    else:
        h = {
            "li-psDomainId": LI_PS_DOMAIN_ID,
            "lawfulInterceptionIdentifier": b"LIID-0001",
            "authorizationCountryCode": "DE",
            "communicationIdentifier": {
                "networkIdentifier": {"operatorIdentifier": b"OPERATOR-1",
                                      "networkElementIdentifier": b"NE-BRAS-0001"},
                "communicationIdentityNumber": 42,
                "deliveryCountryCode": "DE"},
            "sequenceNumber": seq,
            "timeStamp": TS_FRAC,
            "interceptionPointID": "IPT-0001",
            "microSecondTimeStamp": MICRO,
            "timeStampQualifier": "timeOfInterception",
            "extendedInterceptionPointID": b"ext-ipid:bras-01/port-7",
            "networkFunctionIdentifier": b"nf:upf-0001",
        }
    h.update(over)
    return h


def _csum(hdr):
    s = sum(int.from_bytes(hdr[i:i + 2], "big") for i in range(0, len(hdr), 2))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def udp_packet(total_len, src=(192, 0, 2, 10), dst=(198, 51, 100, 20), sport=49152, dport=53):
    """A deterministic IPv4/UDP packet of total_len bytes (valid IPv4 header checksum)."""
    payload_len = total_len - 28
    payload = bytes((i * 7 + 3) & 0xFF for i in range(payload_len))
    udp = sport.to_bytes(2, "big") + dport.to_bytes(2, "big") + (8 + payload_len).to_bytes(2, "big") + b"\0\0"
    ip = bytearray(b"\x45\x00" + total_len.to_bytes(2, "big") + b"\x12\x34\x40\x00\x40\x11\x00\x00"
                   + bytes(src) + bytes(dst))
    ip[10:12] = _csum(bytes(ip)).to_bytes(2, "big")
    pkt = bytes(ip) + udp + payload
    assert len(pkt) == total_len
    return pkt


def ipcc(packet):
    return ("iPCC", {"iPCCObjId": IPCC_OID, "iPCCContents": ("iPPackets", packet)})


def cc_pdu(seq, payloads, full=True, **hdr):
    return {"pSHeader": header(seq, full, **hdr), "payload": ("cCPayloadSequence", payloads)}


def iri_pdu(seq, payloads, full=True, **hdr):
    return {"pSHeader": header(seq, full, **hdr), "payload": ("iRIPayloadSequence", payloads)}


def tri_pdu(seq, alternative, value, full=True):
    return {"pSHeader": header(seq, full), "payload": ("tRIPayload", (alternative, value))}


def ipv4(addr, **extra):
    d = {"iP-type": "iPV4", "iP-value": ("iPBinaryAddress", bytes(addr))}
    d.update(extra)
    return d


def ipv6(addr_hex, **extra):
    d = {"iP-type": "iPV6", "iP-value": ("iPBinaryAddress", bytes.fromhex(addr_hex))}
    d.update(extra)
    return d


IPMMIRI_OID = (5, 5, 14, 1)
IPMMCC_OID = (5, 5, 14, 2)
SIP_INVITE = (b"INVITE sip:bob@example.net SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776\r\n"
              b"Call-ID: a84b4c76e66710@pc33.example.com\r\nCSeq: 314159 INVITE\r\nContent-Length: 0\r\n\r\n")


def ipmmiri(contents, **extra):
    d = {"iPMMIRIObjId": IPMMIRI_OID, "iPMMIRIContents": contents}
    d.update(extra)
    return ("iPMMIRI", d)


def ipmmcc(contents, **extra):
    d = {"iPMMCCObjId": IPMMCC_OID, "mMCCContents": contents}
    d.update(extra)
    return ("iPMMCC", d)


def ipiri(contents):
    return ("iPIRI", {"iPIRIObjId": IPIRI_OID, "iPIRIContents": contents})


def ipiri_basic(event, **extra):
    c = {"accessEventType": event, "targetUsername": b"user@example.net",
         "internetAccessType": "xDSL", "iPVersion": "iPV4",
         "targetIPAddress": ipv4((192, 0, 2, 77), **{"iP-assignment": "dynamic"})}
    c.update(extra)
    return c


# TS 102 232-3 version18 IPIRIContents with every field but location [24]
IPIRI_ALL = {
    "accessEventType": "accessAccept",
    "targetUsername": b"user@example.net",
    "internetAccessType": "fTTx",                       # extension value
    "iPVersion": "iPV4andV6",
    # every IPAddress field; iPv6PrefixLength on an IPv4 address is odd but schema-valid
    "targetIPAddress": ipv4((192, 0, 2, 77), **{"iP-assignment": "dynamic", "iPv6PrefixLength": 64,
                                                 "iPv4SubnetMask": b"\xff\xff\xff\xf8",
                                                 "iP-NAT-translated": False}),
    "targetNetworkID": "00:11:22:33:44:55",
    "targetCPEID": "cpe-router-ABC123",
    "targetLocation": "wlan-ap-17",
    "pOPPortNumber": 4294967295,
    "callBackNumber": "+4930123456",
    "startTime": TS_PLAIN,
    "endTime": TS_FRAC,
    "endReason": "regularLogoff",
    "octetsReceived": 123456789,
    "octetsTransmitted": 5 * 2 ** 32 + 17,              # > 2^32
    "rawAAAData": bytes.fromhex("0201002c" "00112233445566778899aabbccddeeff"
                                "011275736572406578616d706c652e6e6574"),
    "expectedEndTime": TS_OFFSET,
    "pOPPhoneNumber": "+49301234",
    "pOPIdentifier": ("printableIDType", "pop-berlin-1"),
    "pOPIPAddress": {"iP-type": "iPV4", "iP-value": ("iPTextAddress", "198.51.100.1"),
                     "iP-assignment": "static"},
    "nationalIPIRIParameters": {"countryCode": "DE"},
    "additionalIPAddress": ipv6("20010db8000085a30000000000000001",
                                **{"iP-assignment": "dynamic", "iPv6PrefixLength": 56,
                                   "iP-NAT-translated": True}),
    "authenticationType": "radiusAAA",
    "otherTargetIdentifiers": [
        ("iPAddress", ipv4((192, 0, 2, 128), **{"iPv4SubnetMask": b"\xff\xff\xff\x80"})),
        ("iPAddress", {"iP-type": "iPV6", "iP-value": ("iPTextAddress", "2001:db8:1::/48")}),
    ],
    "pOPPortID": b"eth 0/1/2:100.200",
    "framedRoutes": [("framedRoute", b"192.0.2.0/24 0.0.0.0 1"),
                     ("framedRoute", b"2001:db8:2::/48 :: 1")],
}


def vectors():
    """(name, description, PS-PDU value) of every vector."""
    small = udp_packet(60)
    big = udp_packet(1400)
    v = []
    # --- CC (TS 102 232-3 IPCC)
    v.append(("cc-ippackets-small", "CC, every PSHeader field, one CCPayload with every field, 60-byte iPPackets",
              cc_pdu(7, [{"payloadDirection": "fromTarget", "timeStamp": TS_FRAC,
                          "cCContents": ipcc(small), "microSecondTimeStamp": MICRO,
                          "timeStampQualifier": "timeOfInterception"}])))
    v.append(("cc-ippackets-1400", "CC, every PSHeader field, 1400-byte iPPackets, CCPayload fields",
              cc_pdu(8, [{"payloadDirection": "toTarget", "timeStamp": TS_MICRO,
                          "cCContents": ipcc(big),
                          "microSecondTimeStamp": {"seconds": 1704164645, "microSeconds": 123456},
                          "timeStampQualifier": "timeOfMediation"}])))
    v.append(("cc-minimal", "CC, mandatory PSHeader fields only, CCPayload with cCContents only",
              cc_pdu(0, [{"cCContents": ipcc(small)}], full=False)))
    v.append(("cc-sequence-2", "CC, cCPayloadSequence of 2 CCPayloads (toTarget, extension indeterminate)",
              cc_pdu(4294967295, [
                  {"payloadDirection": "toTarget", "timeStamp": TS_FRAC, "cCContents": ipcc(small)},
                  {"payloadDirection": "indeterminate", "timeStamp": TS_PLAIN,
                   "cCContents": ipcc(udp_packet(100, src=(198, 51, 100, 20), dst=(192, 0, 2, 10))),
                   "timeStampQualifier": "timeOfAggregation"}])))
    v.append(("cc-truncated", "CC, iPTruncatedPacket with originalLength",
              cc_pdu(9, [{"payloadDirection": "combined",
                          "cCContents": ("iPCC", {"iPCCObjId": IPCC_OID, "iPCCContents": (
                              "iPTruncatedPacket", {"truncatedPacket": big[:96], "originalLength": 1400})})}])))
    v.append(("cc-truncated-nolength", "CC, iPTruncatedPacket without originalLength, mandatory header",
              cc_pdu(10, [{"payloadDirection": "notapplicable",
                           "cCContents": ("iPCC", {"iPCCObjId": IPCC_OID, "iPCCContents": (
                               "iPTruncatedPacket", {"truncatedPacket": small[:20]})})}], full=False)))
    # --- IRI (TS 102 232-3 IPIRI), one per iRIType; pOPIdentifier alternatives spread over them
    v.append(("iri-begin", "IRI iRI-Begin, accessAccept, pOPIdentifier macAddressType",
              iri_pdu(100, [{"iRIType": "iRI-Begin", "timeStamp": TS_FRAC, "iRIContents": ipiri(ipiri_basic(
                  "accessAccept", startTime=TS_PLAIN,
                  pOPIdentifier=("macAddressType", bytes.fromhex("020000a1b2c3"))))}])))
    v.append(("iri-continue", "IRI iRI-Continue, interimUpdate, pOPIdentifier ipAddressType",
              iri_pdu(101, [{"iRIType": "iRI-Continue", "timeStamp": TS_PLAIN, "iRIContents": ipiri(ipiri_basic(
                  "interimUpdate", octetsReceived=1000, octetsTransmitted=2 ** 32,
                  pOPIdentifier=("ipAddressType", ipv4((198, 51, 100, 1)))))}])))
    v.append(("iri-end", "IRI iRI-End, accessEnd (extension value), endTime/endReason, pOPIdentifier printableIDType",
              iri_pdu(102, [{"iRIType": "iRI-End", "timeStamp": TS_FRAC, "iRIContents": ipiri(ipiri_basic(
                  "accessEnd", endTime=TS_FRAC, endReason="connectionTimeout",
                  pOPIdentifier=("printableIDType", "pop-1")))}])))
    v.append(("iri-report", "IRI iRI-Report, accessAttempt, no targetIPAddress, IPv6",
              iri_pdu(103, [{"iRIType": "iRI-Report", "timeStamp": TS_PLAIN, "iRIContents": ipiri({
                  "accessEventType": "accessAttempt", "targetUsername": b"user@example.net",
                  "internetAccessType": "wirelessLAN", "iPVersion": "iPV6"})}])))
    v.append(("iri-all-fields", "IRI, every IPIRIContents field but location, every IRIPayload field, full header",
              iri_pdu(104, [{"iRIType": "iRI-Begin", "timeStamp": TS_FRAC, "iRIContents": ipiri(IPIRI_ALL),
                             "microSecondTimeStamp": MICRO, "timeStampQualifier": "timeOfMediation",
                             "sessionDirection": "fromTarget", "payloadDirection": "toTarget"}])))
    v.append(("iri-sequence-2", "IRI, iRIPayloadSequence of 2 IRIPayloads, the second without iRIType/timeStamp",
              iri_pdu(105, [
                  {"iRIType": "iRI-Continue", "timeStamp": TS_FRAC,
                   "iRIContents": ipiri(ipiri_basic("interimUpdate"))},
                  {"iRIContents": ipiri(ipiri_basic("startOfInterceptionWithSessionActive",
                                                    iPVersion="iPV6",
                                                    targetIPAddress=ipv6("20010db8000000000000000000000002",
                                                                         **{"iPv6PrefixLength": 64})))}],
                  full=False)))
    # --- IP multimedia (TS 102 232-5 IPMMIRI [11] / IPMMCC [12])
    rtp = bytes.fromhex("80000001000000a0deadbeef") + bytes(range(160))
    v.append(("ipmm-iri-sip", "IRI iRI-Begin, iPMMIRI sIPMessage (IPv4), additionalSignalling sipHeaderLine",
              iri_pdu(300, [{"iRIType": "iRI-Begin", "timeStamp": TS_FRAC, "iRIContents": ipmmiri(
                  ("sIPMessage", {"iPSourceAddress": ipv4((192, 0, 2, 10)),
                                  "iPDestinationAddress": ipv4((198, 51, 100, 1)),
                                  "sIPContent": SIP_INVITE}),
                  additionalSignalling=[("sipHeaderLine", b"Contact: tel:+123456789")])}])))
    v.append(("ipmm-iri-only-sip", "IRI iRI-Report, iPMMIRI iRIOnlySIPMessage (IPv6), mandatory header",
              iri_pdu(301, [{"iRIType": "iRI-Report", "iRIContents": ipmmiri(
                  ("iRIOnlySIPMessage", {
                      "iPSourceAddress": ipv6("20010db8000000000000000000000010", **{"iPv6PrefixLength": 128}),
                      "iPDestinationAddress": ipv6("20010db8ffff00000000000000000001", **{"iPv6PrefixLength": 128}),
                      "sIPContent": b"MESSAGE sip:bob@example.net SIP/2.0\r\nContent-Length: 0\r\n\r\n"}))}],
                  full=False)))
    v.append(("ipmm-iri-h323", "IRI iRI-Continue, iPMMIRI h323Message h245MessageContent",
              iri_pdu(302, [{"iRIType": "iRI-Continue", "iRIContents": ipmmiri(
                  ("h323Message", {"iPSourceAddress": ipv4((192, 0, 2, 10)),
                                   "iPDestinationAddress": ipv4((198, 51, 100, 1)),
                                   "h323Content": ("h245MessageContent", bytes(range(24)))}))}])))
    v.append(("ipmm-iri-national-xcap", "IRI, iRIPayloadSequence: nationalIPMMIRIParameters and xCAPMessage",
              iri_pdu(303, [{"iRIType": "iRI-Report", "iRIContents": ipmmiri(
                                 ("nationalIPMMIRIParameters", {"countryCode": "DE"}))},
                            {"iRIType": "iRI-Report", "iRIContents": ipmmiri(
                                 ("xCAPMessage", b"GET /xcap-root/ HTTP/1.1\r\n\r\n"))}])))
    v.append(("ipmm-cc-rtp", "CC, iPMMCC rtpFrame with streamIdentifier and mMCCprotocol rTP",
              cc_pdu(304, [{"payloadDirection": "fromTarget", "cCContents": ipmmcc(
                  rtp, frameType="rtpFrame", streamIdentifier=b"m=audio 49170 RTP/AVP 0",
                  mMCCprotocol="rTP")}])))
    v.append(("ipmm-cc-minimal", "CC, iPMMCC with iPMMCCObjId and mMCCContents only (a pre-v2.3.2 peer)",
              cc_pdu(305, [{"cCContents": ipmmcc(rtp)}], full=False)))
    v.append(("ipmm-cc-sequence-2", "CC, 2 CCPayloads: iPMMCC msrpFrame/mSRP and udptlFrame/uDPTL",
              cc_pdu(306, [{"payloadDirection": "toTarget", "cCContents": ipmmcc(
                               b"MSRP a786hjs2 SEND\r\n-------a786hjs2$\r\n", frameType="msrpFrame",
                               mMCCprotocol="mSRP")},
                           {"payloadDirection": "fromTarget", "cCContents": ipmmcc(
                               bytes(range(40)), frameType="udptlFrame", mMCCprotocol="uDPTL")}])))
    # --- TRI
    v.append(("tri-keep-alive", "TRI keep-alive", tri_pdu(200, "keep-alive", 0)))
    v.append(("tri-keep-alive-response", "TRI keep-aliveResponse", tri_pdu(201, "keep-aliveResponse", 0)))
    v.append(("tri-test-pdu", "TRI testPDU", tri_pdu(202, "testPDU", 0)))
    v.append(("tri-padding-pdu", "TRI paddingPDU (64 octets)", tri_pdu(203, "paddingPDU", bytes(range(64)))))
    v.append(("tri-first-segment", "TRI firstSegmentFlag", tri_pdu(204, "firstSegmentFlag", 0)))
    v.append(("tri-last-segment", "TRI lastSegmentFlag", tri_pdu(205, "lastSegmentFlag", 0)))
    v.append(("tri-cin-reset", "TRI cINReset (extension alternative)", tri_pdu(206, "cINReset", 0)))
    v.append(("tri-operator-lea-message", "TRI operatorLeaMessage (extension alternative)",
              tri_pdu(207, "operatorLeaMessage",
                      {"messagePriority": "informational", "message": b"maintenance window 02:00-03:00 UTC"})))
    v.append(("tri-keep-alive-minimal", "TRI keep-alive, mandatory header only",
              tri_pdu(0, "keep-alive", 0, full=False)))
    return v


# ----------------------------------------------------------------------------- JSON shapes

def _at(value, path):
    for p in path:
        value = value[p]
    return value


# (ASN.1 type, vector, path into its JSON value, the JSON pycrate gives): the table in the
# module docstring and in conformance/README.md, checked on every run
SHAPES = [
    ("SEQUENCE (absent OPTIONAL: no key)", "cc-minimal", ("pSHeader", "communicationIdentifier"),
     {"networkIdentifier": {"operatorIdentifier": "4f50"}}),
    ("SEQUENCE OF", "iri-all-fields", ("payload", 1, 0, "iRIContents", 1, "iPIRIContents", "framedRoutes"),
     [["framedRoute", b"192.0.2.0/24 0.0.0.0 1".hex()], ["framedRoute", b"2001:db8:2::/48 :: 1".hex()]]),
    ("CHOICE", "iri-end", ("payload", 1, 0, "iRIContents", 1, "iPIRIContents", "pOPIdentifier"),
     ["printableIDType", "pop-1"]),
    ("ENUMERATED", "cc-sequence-2", ("payload", 1, 1, "payloadDirection"), "indeterminate"),
    ("INTEGER", "cc-sequence-2", ("pSHeader", "sequenceNumber"), 4294967295),
    ("INTEGER (> 2^32)", "iri-all-fields", ("payload", 1, 0, "iRIContents", 1, "iPIRIContents", "octetsTransmitted"),
     5 * 2 ** 32 + 17),
    ("BOOLEAN", "iri-all-fields", ("payload", 1, 0, "iRIContents", 1, "iPIRIContents", "additionalIPAddress",
                                   "iP-NAT-translated"), True),
    ("NULL", "tri-keep-alive", ("payload",), ["tRIPayload", ["keep-alive", 0]]),
    ("OCTET STRING", "cc-ippackets-small", ("pSHeader", "lawfulInterceptionIdentifier"), b"LIID-0001".hex()),
    ("PrintableString", "cc-ippackets-small", ("pSHeader", "authorizationCountryCode"), "DE"),
    ("UTF8String", "iri-all-fields", ("payload", 1, 0, "iRIContents", 1, "iPIRIContents", "targetCPEID"),
     "cpe-router-ABC123"),
    ("IA5String", "iri-all-fields", ("payload", 1, 0, "iRIContents", 1, "iPIRIContents", "pOPIPAddress", "iP-value"),
     ["iPTextAddress", "198.51.100.1"]),
    ("OBJECT IDENTIFIER", "cc-minimal", ("pSHeader", "li-psDomainId"), list(LI_PS_DOMAIN_ID)),
    ("RELATIVE-OID", "cc-minimal", ("payload", 1, 0, "cCContents", 1, "iPCCObjId"), list(IPCC_OID)),
    ("GeneralizedTime with fraction", "cc-ippackets-small", ("pSHeader", "timeStamp"), list(TS_FRAC)),
    ("GeneralizedTime without fraction", "iri-all-fields",
     ("payload", 1, 0, "iRIContents", 1, "iPIRIContents", "startTime"), list(TS_PLAIN)),
    ("GeneralizedTime with offset", "iri-all-fields",
     ("payload", 1, 0, "iRIContents", 1, "iPIRIContents", "expectedEndTime"), list(TS_OFFSET)),
]


def check_shapes(values):
    """Assert the documented JSON shapes against the decoded vectors; also the GeneralizedTime
    forms that no vector carries (no seconds, no zone, comma fraction) on a decoded PDU."""
    for what, name, path, want in SHAPES:
        got = _at(values[name], path)
        if got != want:
            raise SystemExit(f"JSON shape of {what} changed: {name} {path}: want {want!r}, got {got!r}")
    ps = etsi_asn1._module()
    base = {"pSHeader": header(1, full=False), "payload": ("tRIPayload", ("keep-alive", 0))}
    ps.set_val(base)
    der = ps.to_ber()
    for text, want in [(b"202401020304Z", ["2024", "01", "02", "03", "04", None, None, "Z"]),
                       (b"20240102030405", ["2024", "01", "02", "03", "04", "05", None, None]),
                       (b"20240102030405,50Z", ["2024", "01", "02", "03", "04", "05", "50", "Z"])]:
        # splice a timeStamp [5] after sequenceNumber [4] into the minimal header
        tlv = ber_rewrite.parse(der)[0]
        hdr = tlv.children[0]
        hdr.children.append(ber_rewrite.Tlv(2, False, 5, content=text))
        ps.from_ber(ber_rewrite.encode([tlv]))
        got = etsi_asn1._jsonable(ps.get_val())["pSHeader"]["timeStamp"]
        if got != want:
            raise SystemExit(f"JSON shape of GeneralizedTime {text!r} changed: want {want}, got {got}")


# ----------------------------------------------------------------------------- main

def main(argv):
    import argparse
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("outdir")
    ap.add_argument("--segment", type=int, default=4, help="segment size of the segmented variants")
    args = ap.parse_args(argv)
    os.makedirs(args.outdir, exist_ok=True)
    ps = etsi_asn1._module()
    values, index, files = {}, [], 0
    for name, desc, value in vectors():
        ps.set_val(value)
        ber = ps.to_ber()
        ps.from_ber(ber)
        decoded = etsi_asn1._jsonable(ps.get_val())
        # the value must survive the round trip as given (a typo in a field name would not)
        ps.set_val(value)
        if etsi_asn1._jsonable(ps.get_val()) != decoded:
            raise SystemExit(f"{name}: value changed in a pycrate round trip")
        values[name] = decoded
        with open(os.path.join(args.outdir, name + ".ber"), "wb") as f:
            f.write(ber)
        with open(os.path.join(args.outdir, name + ".json"), "w") as f:
            f.write(json.dumps(decoded) + "\n")
        files += 2
        paths = ber_rewrite.octet_string_paths(ps, ber)
        if ber_rewrite.normalize(ber, paths.__contains__) != ber:
            raise SystemExit(f"{name}: pycrate's encoding is not the normalized form")
        made = []
        for mode in VARIANTS:
            if mode == "segmented" and not ber_rewrite.count_segmentable(ber, paths.__contains__, args.segment):
                continue
            out = ber_rewrite.rewrite(ber, mode, is_octet_string=paths.__contains__, segment=args.segment)
            if out == ber:
                raise SystemExit(f"{name}: variant {mode} is identical to the original")
            try:
                ber_rewrite.verify(ps, ber, out, paths.__contains__,
                                   with_pycrate=mode not in ber_rewrite.PYCRATE_CANNOT)
            except ber_rewrite.RewriteError as e:
                raise SystemExit(f"{name}.{mode}: {e}")
            with open(os.path.join(args.outdir, f"{name}.{mode}.ber"), "wb") as f:
                f.write(out)
            made.append(mode)
            files += 1
        index.append(f"{name}\t{','.join(made)}\t{desc}")
    check_shapes(values)
    with open(os.path.join(args.outdir, "INDEX.txt"), "w") as f:
        f.write("# name\tvariants\tdescription (generated by conformance/py/gen_vectors.py)\n")
        f.write("\n".join(index) + "\n")
    print(f"gen_vectors: {len(index)} vectors, {files} files in {args.outdir}; JSON shapes checked")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
