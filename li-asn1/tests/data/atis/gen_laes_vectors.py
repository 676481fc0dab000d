#!/usr/bin/env python3
"""Writes the ATIS-1000678 (T1.678) test vectors of li-asn1 (tests/atis/laes_vectors.rs) with pycrate.

usage: gen_laes_vectors.py [OUTDIR]   (default: this script's directory)

Run with the conformance venv's python (pycrate 0.8.1). The values are the project's own test
values; pycrate encodes them from the reconstructed modules in shared/standards/atis through
shared/tools/etsi-asn1/etsi_asn1.py (families atis-t1678 and atis-t1678-cc). Every one of the 24
LaesMessage alternatives is covered, with the components the module offers filled in.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TOOL = os.environ.get("ETSI_ASN1_TOOL", os.path.join(HERE, "../../../../../shared/tools/etsi-asn1"))
sys.path.insert(0, os.path.realpath(TOOL))
import etsi_asn1  # noqa: E402

VOP = (1, 2, 840, 113737, 2, 1, 0, 0, 0, 1)
CCOID = (1, 2, 840, 113737, 2, 1, 0, 1, 1)


def t(s, frac="25"):
    return ("2024", "03", "04", "05", "06", s, frac, "Z")


def hdr(s, iap=True):
    h = {"caseId": "LIID-0042", "timestamp": t(s)}
    if iap:
        h["iAPSystemId"] = "SBC-WEST-2"
    return h


CALL = {"main": "3c26700857f0@192.0.2.10", "leg": "2"}
ALICE = {"uri": ["sip:alice@example.com", "tel:+15551230001"],
         "sipHeader": ["From: <sip:alice@example.com>;tag=1928301774"]}
BOB = {"uri": ["sip:bob@example.net"], "dn": "5551230002", "ipAddress": ("ipV4", bytes([198, 51, 100, 20]))}
FULL = {"esn": "ABCDEF01", "imei": "490154203237518", "tei": "tei-1", "spid": "spid-123", "imsi": "310150123456789",
        "min": "5551230003", "dn": "5551230003", "userProvided": "up", "appearanceId": "app-1",
        "callingCardNum": "4111", "ipAddress": ("ipV6", bytes.fromhex("20010db8000000000000000000000020")),
        "x121": "31340", "trunkId": "trunk-7", "subaddress": b"\x50\x01", "genericAddress": ["addr-1", "addr-2"],
        "genericDigits": ["123"], "genericName": ["Zoë"], "port": "5060", "context": "ctx",
        "isdnHighLayer": b"\x91\x81", "isdnLowLayer": b"\x88\x90", "uri": ["sip:carol@example.org"],
        "sipHeader": ["Contact: <sip:carol@192.0.2.30>"], "nai": "carol@example.org", "mac802": "00:11:22:33:44:55",
        "fqdn": "carol.example.org"}
SDP = "v=0\r\no=bob 2 2 IN IP4 198.51.100.20\r\ns=-\r\nc=IN IP4 198.51.100.20\r\nt=0 0\r\nm=audio 50000 RTP/AVP 0\r\n"
MEDIA = {"bearerCapability": ("speech", 0), "characteristics": ("sdp", SDP), "status": "granted"}
MEDIA_H323 = {"bearerCapability": ("bearerCapInfoElement", b"\x80\x90\xa3"),
              "characteristics": ("h323Media", {"h323MediaParameterType": "openLogicalChannel",
                                                "h323MediaParameter": b"\x01\x02"}), "status": "requested"}
MEDIA_OTHER = {"bearerCapability": ("f3100HzAudio", 0),
               "characteristics": ("other", {"type": (1, 3, 6, 1, 4, 1, 99999, 1), "value": b"\xca\xfe"})}
INVITE = (b"INVITE sip:bob@example.net SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds\r\n"
          b"Call-ID: 3c26700857f0@192.0.2.10\r\nContent-Length: 0\r\n\r\n")
SIG = [{"signalingProt": "SIP", "sigMsg": INVITE}]
PSP = ("sip", {"sipHeader": ["Call-ID: 3c26700857f0@192.0.2.10", "CSeq: 1 INVITE"],
               "sipBody": {"sipBodyHeader": ["Content-Type: application/sdp"], "sipBodyContents": SDP.encode()}})
PSP_H323 = ("h323", {"h225CS": [b"\x05\x04"], "h245": [b"\x02\x00"]})
CONTENT = ("correlationID", b"\x00\x00\x01\x07")
CCC = ("cccId", ("sepCCCpair", {"sepXmitCCC": "00000107", "sepRecvCCC": "00000108"}))
ADDR = ("ccAddress", {"leaIPAddress": ("ipV4", bytes([203, 0, 113, 9])), "leaPortNumber": 40000})
IP_PACKET = bytes.fromhex("4500002c00004000401100000a0000c6c633641ec3501f400018000080000001000000a0deadbeef00112233")


def enh(name, fields):
    return {"protocolIdentifier": VOP, "laesMessage": (name, fields)}


def enhanced(name, fields):
    return ("enhancedProtocol", enh(name, fields))


VECTORS = [
    ("laes-origination", enhanced("origination", dict(
        hdr("01"), callId=CALL, calling=ALICE, called=BOB, input=("translationInput", ("generic", "5551230002")),
        location={"locationType": "civic", "location": "1 Main St"}, transitCarrierId="0288", subjectMedia=MEDIA,
        originationCause="normal", protocolSpecificParameters=PSP, signalingMsg=SIG,
        forkedCalls=[{"forkedCallID": {"main": "3c26700857f0@192.0.2.10", "leg": "3"}, "calledParty": BOB}]))),
    ("laes-term-attempt", enhanced("termAttempt", dict(
        hdr("02"), callId=CALL, calling=ALICE, called=BOB, associateMedia=MEDIA,
        redirectedFromInfo={"lastRedirecting": BOB, "originalCalled": FULL, "numRedirections": 2},
        signalingMsg=SIG))),
    ("laes-answer", ("laesMessage", ("answer", dict(
        hdr("03", iap=False), callId={"main": "3c26700857f0@192.0.2.10"}, answering=FULL,
        location={"locationType": "cell", "location": "310-260-1-2"}, answeringMedia=MEDIA_H323,
        protocolSpecificParameters=PSP_H323)))),
    ("laes-redirection", enhanced("redirection", dict(
        hdr("04"), callId=CALL, newCallId={"main": "new-call@192.0.2.10"}, redirectedFrom=BOB,
        redirectedTo={"uri": ["sip:voicemail@example.net"]}, transitCarrierId="0288", subjectMedia=MEDIA,
        associateMedia=MEDIA_OTHER, visitedSystemIdentity="visited-1", signalingMsg=SIG))),
    ("laes-release", enhanced("release", dict(
        hdr("05"), callId=CALL, location={"locationType": "civic", "location": "1 Main St"},
        cause={"signalingType": "SIP", "cause": ("sip", ["Reason: Q.850;cause=16"])}, contactAddresses=ALICE,
        signalingMsg=[{"signalingProt": "SIP", "sigMsg": b"BYE sip:bob@example.net SIP/2.0\r\n\r\n"}]))),
    ("laes-serving-system", enhanced("servingSystem", dict(
        hdr("06"), systemIdentity="REG-1", networkAddress="192.0.2.1", requestId={"main": "reg-1@192.0.2.10"},
        registrationType="registration", registering=ALICE, requesting=ALICE, registrar={"fqdn": "registrar.example.com"},
        requestAddressInfo=("sip", ["Contact: <sip:alice@192.0.2.10>"]),
        responseAddressInfo=("generic", [{"address": ALICE, "expirationPeriod": 3600}]),
        failureReason={"signalingType": "SIP", "cause": ("generic", "none")},
        expirationPeriod=("sip", "Expires: 3600"), protocolSpecificParameters=PSP, signalingMsg=SIG))),
    ("laes-serving-system-generic", enhanced("servingSystem", dict(
        hdr("07"), registrationType="deregistration", expirationPeriod=("generic", 0)))),
    ("laes-media-and-address-reporting", enhanced("mediaAndAddressReporting", dict(
        hdr("08"), callId=CALL, subjectMedia=MEDIA, associateMedia=[MEDIA, MEDIA_OTHER], redirectedToPartyMedia=MEDIA,
        subjectContactAddresses=ALICE, associateContactAddresses=BOB, redirectedToPartyContactAddresses=BOB,
        protocolSpecificParameters=PSP, signalingMsg=SIG))),
    ("laes-cc-open", enhanced("ccOpen", dict(
        hdr("09"), contentIdentifier=CONTENT, deliveryIdentifier=CCC, ccDeliveryFormat=("cc-APDU", CCOID),
        subjectMedia=MEDIA, associateMedia=MEDIA, protocolSpecificParameters=PSP, signalingMsg=SIG))),
    ("laes-cc-open-address", enhanced("ccOpen", dict(
        hdr("10"), contentIdentifier=("callID", CALL), deliveryIdentifier=ADDR, ccDeliveryFormat=("scte", "SCTE-24")))),
    ("laes-cc-change", enhanced("ccChange", dict(
        hdr("11"), contentIdentifier=CONTENT, deliveryIdentifier=("cccId", ("indCCC", "00000109")),
        subjectMedia=MEDIA, associateMedia=MEDIA_H323, signalingMsg=SIG))),
    ("laes-cc-close", enhanced("ccClose", dict(
        hdr("12"), contentIdentifier=CONTENT, deliveryIdentifier=("cccId", ("combCCC", "00000107")),
        protocolSpecificParameters=PSP, signalingMsg=SIG))),
    ("laes-cc-unavailable", enhanced("ccUnavailable", dict(
        hdr("13"), callId=CALL, unavailabilityReason="media encrypted end to end", signalingMsg=SIG))),
    ("laes-surveillance-status", enhanced("surveillanceStatus", dict(
        caseId="LIID-0042", reportingSystemId="MEDIATOR-1", timestamp=t("14"),
        statusEventType="activation", currentStatus="fullyActive"))),
    ("laes-conn-test", ("laesMessage", ("connTest", {"timestamp": t("15"), "iAPSystemId": "MEDIATOR-1",
                                                     "memo": "keepalive 7"}))),
    ("laes-direct-signal-reporting", enhanced("directSignalReporting", dict(
        hdr("16"), correlationID=b"\x00\x00\x01\x07", protocolSpecificParameters=PSP,
        signalingMsg=SIG + [{"signalingProt": "SIP", "sigMsg": b"SIP/2.0 180 Ringing\r\n\r\n"}]))),
    ("laes-change", enhanced("change", dict(
        hdr("17"), previous={"call-identities": [CALL, {"main": "other@192.0.2.10"}]},
        resulting={"call-identities": [{"main": "merged@192.0.2.10"}], "deliveryIdentifier": CCC},
        protocolSpecificParameters=PSP, signalingMsg=SIG))),
    ("laes-null-6", enhanced("null-6", 0)),
    ("laes-conf-party-change", enhanced("confPartyChange", dict(
        hdr("18"), callId=[CALL], communicatingParties=[ALICE, BOB], removedParties=[FULL], joinedParties=[BOB],
        signalingMsg=SIG))),
    ("laes-connection", enhanced("connection", dict(
        hdr("19"), callId=[CALL, {"main": "other@192.0.2.10"}], connectedParties=[ALICE], newParties=[BOB],
        connectedMedia=MEDIA, protocolSpecificParameters=PSP))),
    ("laes-connection-break", enhanced("connectionBreak", dict(
        hdr("20"), callId=[CALL], removedParties=[BOB], remainingParties=[ALICE], droppedParties=[FULL],
        suspendedMedia=MEDIA, signalingMsg=SIG))),
    ("laes-dialed-digit-extraction", enhanced("dialedDgtExtrn", dict(
        hdr("21"), callId=CALL, digits="1234#", protocolSpecificParameters=PSP))),
    ("laes-network-signal", enhanced("networkSignal", dict(
        hdr("22"), callId=CALL, signaledToPartyId=ALICE, subjectContactAddresses=ALICE, associateContactAddresses=BOB,
        associateMedia=MEDIA, alertingSignal="callWaitingPattern1", subjectAudibleSignal="ringbackTone",
        terminalDisplayInfo={"generalDisplay": "Call from Bob", "callingNumber": "5551230002", "callingName": "Bob"},
        other="other signal", refer=("sip", ["Refer-To: <sip:carol@example.org>"]), signalingMsg=SIG))),
    ("laes-subject-signal", enhanced("subjectSignal", dict(
        hdr("23"), callId=CALL, signalingPartyId=ALICE, signaledPartyId=BOB,
        input=("userInput", ("specific", {"uri": ["sip:carol@example.org"]})), subjectMedia=MEDIA,
        signal={"switchhookFlash": "flash", "dialedDigits": "*72", "featureKey": "F1",
                "otherSignalingInformation": "hold", "refer": ("h323", b"\x01\x02\x03")},
        protocolSpecificParameters=PSP, signalingMsg=SIG))),
    ("laes-feature-management", enhanced("featureManagement", dict(
        hdr("24"), subscriberId=ALICE, featureId="call-forward-unconditional", managementType="activation",
        activationInfo="to sip:voicemail@example.net", failureReason="none"))),
    ("laes-uu-content", enhanced("uuContent", dict(
        hdr("25"), callId=CALL, content=("sip", {"sipBody": {"sipBodyHeader": ["Content-Type: text/plain"],
                                                              "sipBodyContents": b"hello"}}),
        protocolSpecificParameters=PSP, signalingMsg=SIG))),
    ("laes-cc-apdu", "atis-t1678-cc", {
        "ccDeliveryHeader": {"correlationInfo": {"caseId": "LIID-0042", "iapId": "SBC-WEST-2",
                                                 "contentIdentifier": CONTENT},
                             "timeStamp": t("26", "000001"), "packetDirection": "toSubject",
                             "sequenceNumber": 70000},
        "payload": IP_PACKET}),
    ("laes-cc-apdu-call-id", "atis-t1678-cc", {
        "ccDeliveryHeader": {"correlationInfo": {"contentIdentifier": ("callID", CALL)}},
        "payload": IP_PACKET}),
]


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else HERE
    for vector in VECTORS:
        name, family, value = vector if len(vector) == 3 else (vector[0], "atis-t1678", vector[1])
        pdu = etsi_asn1._pdu(family)
        pdu.set_val(value)
        with open(os.path.join(out, name + ".ber"), "wb") as f:
            f.write(pdu.to_ber())
    print(f"wrote {len(VECTORS)} vectors to {out}")


if __name__ == "__main__":
    main()
