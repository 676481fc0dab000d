#!/usr/bin/env python3
"""Writes the PacketCable PCESP test vectors of li-asn1 (tests/packetcable/vectors.rs) with pycrate.

usage: gen_vectors.py [OUTDIR]   (default: this script's directory)

Run with the conformance venv's python (pycrate 0.8.1). The values are the project's own test
values; pycrate encodes them from shared/standards/packetcable/PCESP.asn (version 3) through
shared/tools/etsi-asn1/etsi_asn1.py (family pcesp). One CdcPdu per file, one file per Message
alternative, plus variants (sepCCCpair, the reserved ccOpenOption, translationinput).
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TOOL = os.environ.get("ETSI_ASN1_TOOL", os.path.join(HERE, "../../../../../shared/tools/etsi-asn1"))
sys.path.insert(0, os.path.realpath(TOOL))
import etsi_asn1  # noqa: E402


def t(s, frac="25"):
    return ("2024", "01", "02", "03", "04", s, frac, "Z")


def hdr(s, frac="25"):
    return {"caseId": "CASE-PC-0001", "accessingElementId": "CMS-12", "eventTime": t(s, frac)}


CALL = {"sequencenumber": "1704164645,7", "systemidentity": "CMS-12"}
CALL2 = {"sequencenumber": "1704164700,8", "systemidentity": "CMS-12"}
ALICE = {"dn": "13035550100", "ipAddress": "192.0.2.10", "context": "sip:alice@example.com"}
BOB = {"dn": "13035550199", "userProvided": "13035550198", "genericName": "Bob Smith"}
CAROL = {"trunkId": "T-42", "genericAddress": "carol@example.net", "genericDigits": "5550123", "port": "5060"}
SDP_A = "v=0\r\no=alice 1 1 IN IP4 192.0.2.10\r\nc=IN IP4 192.0.2.10\r\nm=audio 49170 RTP/AVP 0\r\n"
SDP_B = "v=0\r\no=bob 2 2 IN IP4 198.51.100.1\r\nc=IN IP4 198.51.100.1\r\nm=audio 3456 RTP/AVP 0\r\n"


def pdu(name, fields):
    return {"protocolVersion": "io3", "message": (name, fields)}


VECTORS = [
    ("answer", pdu("answer", dict(hdr("01"), callId=CALL, answering=BOB))),
    ("ccclose", pdu("ccclose", dict(hdr("02"), cCCId=("combCCC", "010200AB"),
                                     flowDirection="downstream-and-upstream"))),
    ("ccopen", pdu("ccopen", dict(hdr("03"), ccOpenOption=("ccOpenTime", [CALL, CALL2]),
                                   cCCId=("combCCC", "010200AB"), subject=SDP_A, associate=SDP_B,
                                   flowDirection="downstream-and-upstream"))),
    ("ccopen-sep-reserved", pdu("ccopen", dict(hdr("04", None), ccOpenOption=("reserved0", 0),
                                               cCCId=("sepCCCpair", {"sepXmitCCC": "0000ABCD",
                                                                     "sepRecvCCC": "0000ABCE"}),
                                               flowDirection="upstream"))),
    ("origination", pdu("origination", dict(hdr("05"), callId=CALL, calling=ALICE, called=BOB,
                                             input=("userinput", "5550199"), reserved0=0,
                                             transitCarrierId="0288"))),
    ("origination-translation", pdu("origination", dict(hdr("06"), callId=CALL, calling=ALICE,
                                                         input=("translationinput", "+13035550199"),
                                                         reserved0=0))),
    ("redirection", pdu("redirection", dict(hdr("07"), old=CALL, redirectedto=CAROL,
                                             transitCarrierId="0333", reserved0=0, reserved1=0,
                                             new=CALL2, redirectedfrom=BOB))),
    ("release", pdu("release", dict(hdr("08"), callId=CALL))),
    ("terminationattempt", pdu("terminationattempt", dict(
        hdr("09"), callId=CALL, calling=BOB, called=ALICE, reserved0=0,
        redirectedFromInfo={"lastRedirecting": CAROL, "originalCalled": {"dn": "13035550111"},
                            "numRedirections": 2}))),
    ("ccchange", pdu("ccchange", dict(hdr("10"), callId=CALL, cCCId=("combCCC", "010200AC"),
                                       subject=SDP_A, associate=SDP_B, flowDirection="downstream",
                                       resourceState="committed"))),
    ("networksignal", pdu("networksignal", dict(
        hdr("11"), callId=CALL, alertingSignal="callWaitingPattern1", subjectAudibleSignal="ringbackTone",
        terminalDisplayInfo={"generalDisplay": "Incoming call", "callingNumber": "13035550199",
                             "callingName": "Bob Smith", "messageWaitingNotif": "2 new"},
        other="custom-signal"))),
    ("subjectsignal", pdu("subjectsignal", dict(
        hdr("12"), callId=CALL, signal={"switchhookFlash": "flash", "dialedDigits": "*69",
                                        "otherSignalingInformation": "hookflash-2"}))),
    ("mediareport", pdu("mediareport", dict(hdr("13"), callId=CALL, subject=SDP_A, associate=SDP_B))),
    ("serviceinstance", pdu("serviceinstance", dict(
        hdr("14"), callId=CALL, relatedCallId=CALL2, serviceName="Three-Way Calling",
        firstCallCalling=ALICE, secondCallCalling=BOB, called=CAROL, calling=ALICE))),
]


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else HERE
    p = etsi_asn1._pdu("pcesp")
    for name, value in VECTORS:
        p.set_val(value)
        with open(os.path.join(out, name + ".ber"), "wb") as f:
            f.write(p.to_ber())
    print(f"wrote {len(VECTORS)} vectors to {out}")


if __name__ == "__main__":
    main()
