#!/usr/bin/env python3
"""Writes the ATIS-1000013 test vectors of li-asn1 (tests/codec/atis.rs) with pycrate.

usage: gen_vectors.py [OUTDIR]   (default: this script's directory)

Run with the conformance venv's python (pycrate 0.8.1). The values are the project's own test
values; pycrate encodes them from the reconstructed modules in shared/standards/atis through
shared/tools/etsi-asn1/etsi_asn1.py (families atis-t1ias, atis-t1ias-opt, atis-t1ias-cc).
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TOOL = os.environ.get("ETSI_ASN1_TOOL", os.path.join(HERE, "../../../../../shared/tools/etsi-asn1"))
sys.path.insert(0, os.path.realpath(TOOL))
import etsi_asn1  # noqa: E402

CMII = (1, 2, 840, 113737, 2, 1, 1, 0, 0)
CMCC = (1, 2, 840, 113737, 2, 1, 1, 1, 0)
OPT = (1, 2, 840, 113737, 2, 1, 1, 0, 1)  # no public value: a test value


def t(s, frac=None):
    return ("2024", "01", "02", "03", "04", s, frac, "Z") if frac else ("2024", "01", "02", "03", "04", s, None, "Z")


def hdr(s, frac="678"):
    return {"caseId": "CASE-0002", "iAPSystemId": "BRAS-EAST-7", "timestamp": t(s, frac)}


V4 = ("ipV4", bytes([198, 51, 100, 7]))
V6 = ("ipV6", bytes.fromhex("20010db8000000000000000000000010"))
ADDR4 = {"address": V4, "allocationMethod": ("dynamic", 0)}
ADDR6 = {"address": V6, "allocationMethod": ("static", 0), "iPv6FlowLabel": "12345", "prefixLen": 64}
SIGNAL = {"protocol": ("radius", 0), "signal": [("octets", bytes.fromhex("0107616c696365")), ("integer", 1812)]}
METHOD = {"accessType": ("dsl", 0), "accessEquipmentID": "dslam-12/3/4", "partOfMultipleLogin": 0}
SUB = ("stringUTF8", "subscriber@isp.example")
DELIVERY = {"contentIdentifier": ("correlationID", b"\x00\x00\x00\x02"),
            "deliveryIdentifier": ("ccAddress", {"leaIPAddress": ("ipV4", bytes([192, 0, 2, 1])),
                                                 "leaPortNumber": "50000"}),
            "ccDeliveryFormat": ("atis-678-ASN1", CMCC)}
IP_PACKET = bytes.fromhex("4500001c0000400040110000c6336407c000020104d2162e00080000")


def cmii(name, fields):
    return {"protocolIdentifier": CMII, "iasMessage": (name, fields)}


def opt(name, fields):
    return {"protocolIdentifier": OPT, "iasMessage": (name, fields)}


VECTORS = [
    ("access-attempt", "atis-t1ias", cmii("access-Attempt", dict(
        hdr("01"), subscriberIdentity=SUB, accessMethod=METHOD,
        networkAccessNodeIdentity=("numeric", "0042"), protocolSignal=SIGNAL))),
    ("access-accepted", "atis-t1ias", cmii("access-Accepted", dict(
        hdr("02"), subscriberIdentity=SUB, accessMethod={"accessType": ("other", "fibre")},
        networkAccessNodeIdentity=("stringVS", "nas-1"), iPAddress=ADDR4,
        accessSessionID=("octets", b"\x12\x34"), accessSessionCharacteristics=("stringUTF8", "100M/20M"),
        location={"locationType": "civic", "location": "1 Main St"},
        protocolSignal={"protocol": ("other", "DHCP"), "signal": [("stringVS", "ack")]}))),
    ("access-failed", "atis-t1ias", cmii("access-Failed", dict(
        hdr("03"), subscriberIdentity=("integer", -5), iPAddress=ADDR6,
        reasonForTermination=("stringVS", "Auth-Failure"), protocolSignal=SIGNAL))),
    ("access-session-end", "atis-t1ias", cmii("access-Session-End", dict(
        hdr("04", None), subscriberIdentity=SUB, iPAddress=ADDR4, accessSessionID=("integer", 300),
        reasonForTermination=("stringVS", "User-Request"), protocolSignal=SIGNAL))),
    ("access-rejected", "atis-t1ias", cmii("access-Rejected", dict(
        hdr("05"), subscriberIdentity=SUB))),
    ("access-signaling-message-report", "atis-t1ias", cmii("access-Signaling-Message-Report", dict(
        hdr("06"), accessSessionID=("integer", 300),
        signalingMsg=[{"messageType": "radius", "message": "Accounting-Request Interim-Update"},
                      {"messageType": "diameter", "message": "CCR"}]))),
    ("session-start", "atis-t1ias", cmii("session-Start", dict(
        hdr("07"), subscriberIdentity=SUB, accessSessionID=("stringVS", "acct-42"),
        packetDataSessionID=("integer", 7), iPAddress=ADDR4, accessSessionCharacteristics=("numeric", "1 2"),
        location={"locationType": "cell", "location": "310-260-1-2"}, deliveryInformation=DELIVERY))),
    ("session-failed", "atis-t1ias", cmii("session-Failed", dict(
        hdr("08"), subscriberIdentity=SUB, accessSessionID=("stringVS", "acct-42"),
        reasonForTermination=("stringUTF8", "no address"),
    ))),
    ("session-end", "atis-t1ias", cmii("session-End", dict(
        hdr("09"), subscriberIdentity=SUB, packetDataSessionID=("integer", 7), iPAddress=ADDR6,
        reasonForTermination=("stringVS", "Lease-Expired")))),
    ("session-already-established", "atis-t1ias", cmii("session-Already-Established", dict(
        hdr("10"), subscriberIdentity=SUB, packetDataSessionID=("octets", b"\x07"), iPAddress=ADDR4,
        deliveryInformation=dict(DELIVERY, deliveryIdentifier=("cccId", ("sepCCCpair", {
            "sepXmitCCC": "0000ABCD", "sepRecvCCC": "0000ABCE"})), ccDeliveryFormat=("iasDatagram", 0))))),
    ("data-header-report", "atis-t1ias", cmii("data-Header-Report", dict(
        hdr("11"), contentIdentifier=("callID", {"main": "sess-7", "leg": "1"}),
        headerSet={"streamID": ("integer", 1), "sourceIPaddress": ADDR4, "destinationIPaddress": ADDR6,
                   "sourcePortNumber": "1234", "destinationPortNumber": "5678"}))),
    ("data-summary-report", "atis-t1ias", cmii("data-Summary-Report", dict(
        hdr("12"), contentIdentifier=("correlationID", b"\x00\x00\x00\x02"),
        streamSet={"streamID": ("stringVS", "s1"), "sourceIPaddress": ADDR4, "destinationIPaddress": ADDR4,
                   "packetCount": 123456789, "destinationPortNumber": "53"}))),
    ("opt-service-change", "atis-t1ias-opt", opt("serviceChange", dict(
        hdr("13"), subscriber="subscriber@isp.example", primaryAccountSubscriber="family@isp.example",
        interceptSubjectIPAddress=V4, serverIdentity="mail.isp.example",
        changesAttempted="add alias", resultofChangeAttempt="accepted"))),
    ("opt-vpn-security-establishment", "atis-t1ias-opt", opt("vpnSecurityEstablishment", dict(
        hdr("14"), sessionID="acct-42", subscriber="subscriber@isp.example", accessSessionIPAddress=V4,
        vpnSecurityAssociation="spi-0x1234", vpnSecurityAssociationProtocols=["ESP", "IKEv2"],
        localVPNEndpointIPAddress=V4, remoteVPNEndpointIPAddress=V6,
        localVPNEncryptionAlgorithms="AES-GCM-128", remoteVPNEncryptionAlgorithms="AES-GCM-128",
        localVPNEncryptionKeys=["00112233"], remoteVPNEncryptionKeys=["44556677", "8899aabb"]))),
    ("opt-vpn-security-release", "atis-t1ias-opt", opt("vpnSecurityRelease", dict(
        hdr("15"), vpnSecurityAssociation="spi-0x1234", vpnTerminationCause="rekey"))),
    ("opt-surveillance-activation", "atis-t1ias-opt", opt("surveillanceActivation", dict(
        hdr("16"), surveillanceStatus="active"))),
    ("opt-surveillance-continuation", "atis-t1ias-opt", opt("surveillanceContinuation", dict(
        hdr("17"), surveillanceStatus="continuing"))),
    ("opt-surveillance-change", "atis-t1ias-opt", opt("surveillanceChange", dict(
        hdr("18"), surveillanceStatus="content added"))),
    ("opt-surveillance-deactivation", "atis-t1ias-opt", opt("surveillanceDeActivation", dict(
        hdr("19"), surveillanceStatus="inactive"))),
    ("cc-apdu", "atis-t1ias-cc", {
        "ccDeliveryHeader": {"correlationInfo": {"caseId": "CASE-0002", "iapId": "BRAS-EAST-7",
                                                 "contentIdentifier": ("correlationID", b"\x00\x00\x00\x02")},
                             "timeStamp": t("20", "5"), "packetDirection": "toSubject",
                             "sequenceNumber": 4294967296},
        "payload": IP_PACKET}),
    ("cc-apdu-bare", "atis-t1ias-cc", {"payload": IP_PACKET}),
]


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else HERE
    for name, family, value in VECTORS:
        pdu = etsi_asn1._pdu(family)
        pdu.set_val(value)
        with open(os.path.join(out, name + ".ber"), "wb") as f:
            f.write(pdu.to_ber())
    print(f"wrote {len(VECTORS)} vectors to {out}")


if __name__ == "__main__":
    main()
