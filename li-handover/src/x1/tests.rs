//! Unit tests of the X1 codec (every message kind, the shared sample, malformed input,
//! property tests) and of the transport over real mutual TLS on 127.0.0.1.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use li_core::{
    DestinationId, E164Number, HandoverFormat, IpPrefix, Liid, MacAddress, TargetIdentifier,
    Timestamp, Xid,
};
use proptest::prelude::*;

use super::transport::{X1Client, X1ClientConfig, X1ServerConfig, serve};
use super::*;
use crate::tls::{DevPki, Refusal, TlsError, Validity};

fn ts(secs: u64, micros: u32) -> Timestamp {
    Timestamp::from_secs_micros(secs, micros).unwrap()
}

fn header() -> MessageHeader {
    MessageHeader {
        admf_identifier: "admf1".into(),
        ne_identifier: "mdf-1".into(),
        message_timestamp: ts(1_704_164_645, 123_456),
        version: X1Version::CURRENT,
        x1_transaction_id: "7b0bd1c9-3e0e-4d0b-9d8c-6c0a4b4f1a11".parse().unwrap(),
    }
}

fn xid(n: u8) -> Xid {
    Xid::new_v4_from_random([n; 16])
}

fn did(n: u8) -> DestinationId {
    DestinationId::new_v4_from_random([n; 16])
}

/// Every target kind the model maps.
fn all_targets() -> Vec<TargetIdentifier> {
    vec![
        TargetIdentifier::ipv4(Ipv4Addr::new(192, 0, 2, 1)),
        TargetIdentifier::ipv6("2001:db8::1".parse().unwrap()),
        TargetIdentifier::ip_prefix("198.51.100.0".parse().unwrap(), 24).unwrap(),
        TargetIdentifier::ip_prefix("2001:db8:1::".parse().unwrap(), 48).unwrap(),
        TargetIdentifier::mac([0x00, 0x11, 0x22, 0xaa, 0xbb, 0xcc]),
        TargetIdentifier::sip_uri("sip:alice@example.net;transport=tcp").unwrap(),
        TargetIdentifier::e164("+4930123456").unwrap(),
        TargetIdentifier::username("alice@isp.example").unwrap(),
    ]
}

fn task_full() -> TaskDetails {
    TaskDetails {
        xid: xid(1),
        targets: all_targets(),
        delivery_type: DeliveryType::X2AndX3,
        dids: vec![did(1), did(2)],
        mediation_details: vec![
            MediationDetails {
                liid: Liid::new(b"LIID-0001").unwrap(),
                delivery_type: MediationDeliveryType::Hi2AndHi3,
                start_time: Some(ts(1_704_067_200, 0)),
                end_time: Some(ts(1_735_689_599, 999_999)),
                dids: Some(vec![did(1)]),
            },
            MediationDetails {
                liid: Liid::new(b"LIID-0002").unwrap(),
                delivery_type: MediationDeliveryType::Hi2Only,
                start_time: None,
                end_time: None,
                dids: None,
            },
        ],
        correlation_id: Some(42),
        implicit_deactivation_allowed: Some(false),
        product_id: Some(xid(9)),
    }
}

fn task_minimal() -> TaskDetails {
    TaskDetails::new(
        xid(2),
        vec![TargetIdentifier::ipv4(Ipv4Addr::new(10, 0, 0, 1))],
        DeliveryType::X2Only,
        Vec::new(),
    )
}

fn destination(n: u8, address: DeliveryAddress) -> DestinationDetails {
    DestinationDetails {
        did: did(n),
        friendly_name: Some(format!("LEA <{n}> & \"co\"\r\n")),
        delivery_type: DeliveryType::X3Only,
        delivery_address: address,
    }
}

fn destinations() -> Vec<DestinationDetails> {
    vec![
        destination(
            1,
            DeliveryAddress::IpAddressPort {
                address: IpAddr::V4(Ipv4Addr::new(198, 51, 100, 7)),
                port: Port::Tcp(50_000),
            },
        ),
        DestinationDetails {
            friendly_name: None,
            ..destination(
                2,
                DeliveryAddress::IpAddressPort {
                    address: IpAddr::V6(Ipv6Addr::LOCALHOST),
                    port: Port::Udp(0),
                },
            )
        },
        destination(
            3,
            DeliveryAddress::E164Number(E164Number::new("+33123").unwrap()),
        ),
        destination(
            4,
            DeliveryAddress::Uri("https://lea.example/x2?a=1&b=2".into()),
        ),
    ]
}

fn every_request_body() -> Vec<RequestBody> {
    let mut bodies = vec![
        RequestBody::ActivateTask(task_full()),
        RequestBody::ActivateTask(task_minimal()),
        RequestBody::ModifyTask(task_full()),
        RequestBody::DeactivateTask(xid(3)),
        RequestBody::DeactivateAllTasks,
        RequestBody::RemoveDestination(did(4)),
        RequestBody::RemoveAllDestinations,
        RequestBody::GetTaskDetails(xid(5)),
        RequestBody::GetDestinationDetails(did(6)),
        RequestBody::GetNeStatus,
        RequestBody::GetAllDetails,
        RequestBody::ListAllDetails,
        RequestBody::GetAllTaskDetails,
        RequestBody::GetAllDestinationDetails,
        RequestBody::Ping,
        RequestBody::Keepalive,
    ];
    for d in destinations() {
        bodies.push(RequestBody::CreateDestination(d.clone()));
        bodies.push(RequestBody::ModifyDestination(d));
    }
    bodies
}

fn fault(code: i64) -> ErrorInformation {
    ErrorInformation {
        code,
        description: format!("fault {code}"),
    }
}

fn task_response() -> TaskResponseDetails {
    TaskResponseDetails {
        details: task_full(),
        status: TaskStatus {
            provisioning_status: ProvisioningStatus::Complete,
            faults: vec![fault(7), fault(-1)],
            time_of_last_intercept: Some(ts(1_704_164_000, 1)),
            amount_of_x2_data: Some(u64::MAX),
            amount_of_x3_data: Some(0),
            time_of_last_modification: Some(ts(1_704_000_000, 0)),
            number_of_modifications: Some(3),
        },
    }
}

fn destination_response(n: usize) -> DestinationResponseDetails {
    DestinationResponseDetails {
        details: destinations().swap_remove(n % 4),
        delivery_status: DestinationDeliveryStatus::DeliveryFault,
        faults: vec![fault(500)],
    }
}

fn every_response_body() -> Vec<ResponseBody> {
    let mut bodies: Vec<ResponseBody> = AckKind::ALL
        .into_iter()
        .map(|kind| ResponseBody::Ok {
            kind,
            status: OkStatus::AcknowledgedAndCompleted,
        })
        .collect();
    bodies.extend([
        ResponseBody::Ok {
            kind: AckKind::ActivateTask,
            status: OkStatus::Acknowledged,
        },
        ResponseBody::GetTaskDetails(task_response()),
        ResponseBody::GetTaskDetails(TaskResponseDetails {
            details: task_minimal(),
            status: TaskStatus::new(ProvisioningStatus::AwaitingProvisioning),
        }),
        ResponseBody::GetDestinationDetails(destination_response(0)),
        ResponseBody::GetNeStatus(NeStatusDetails {
            status: NeStatus::Faults,
            faults: vec![fault(1), fault(2)],
        }),
        ResponseBody::GetAllDetails {
            ne_status: NeStatusDetails {
                status: NeStatus::Ok,
                faults: Vec::new(),
            },
            tasks: vec![task_response(), task_response()],
            destinations: (0..4).map(destination_response).collect(),
        },
        ResponseBody::GetAllDetails {
            ne_status: NeStatusDetails {
                status: NeStatus::Ok,
                faults: Vec::new(),
            },
            tasks: Vec::new(),
            destinations: Vec::new(),
        },
        ResponseBody::ListAllDetails {
            xids: vec![xid(1), xid(2)],
            dids: vec![did(1)],
        },
        ResponseBody::ListAllDetails {
            xids: Vec::new(),
            dids: Vec::new(),
        },
        ResponseBody::GetAllTaskDetails(vec![task_response()]),
        ResponseBody::GetAllTaskDetails(Vec::new()),
        ResponseBody::GetAllDestinationDetails(vec![destination_response(1)]),
        ResponseBody::Error(ErrorResponse {
            request_message_type: RequestMessageType::ActivateTask,
            error: ErrorInformation {
                code: error_code::MALFORMED_REQUEST,
                description: "X1Request/ActivateTaskRequest/taskDetails/xId: not a UUID".into(),
            },
            extended_request_message_type: None,
        }),
        ResponseBody::Error(ErrorResponse {
            request_message_type: RequestMessageType::ExtendedRequestMessageType,
            error: fault(i64::MIN),
            extended_request_message_type: Some("GetAllObjectDetails".into()),
        }),
    ]);
    bodies
}

fn sample_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/standards/samples/x1-ActivateTaskRequest.xml")
}

fn sample() -> String {
    let path = sample_path();
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("the shared X1 sample {} must exist: {e}", path.display()))
}

/// The error message of decoding `xml` as a request.
fn request_error(xml: &str) -> String {
    X1Request::from_xml(xml.as_bytes()).unwrap_err().to_string()
}

fn byte_of(haystack: &str, needle: &str) -> usize {
    haystack
        .find(needle)
        .unwrap_or_else(|| panic!("{needle:?} not in the document"))
}

#[test]
fn every_request_kind_round_trips() {
    for body in every_request_body() {
        let request = X1Request::single(header(), body);
        let xml = request.to_xml().unwrap();
        let decoded = X1Request::from_xml(&xml)
            .unwrap_or_else(|e| panic!("{e}\n{}", String::from_utf8_lossy(&xml)));
        assert_eq!(decoded, request);
        assert_eq!(decoded.to_xml().unwrap(), xml, "encoding is deterministic");
    }
}

#[test]
fn every_response_kind_round_trips() {
    for body in every_response_body() {
        let response = X1Response::single(header(), body);
        let xml = response.to_xml().unwrap();
        let decoded = X1Response::from_xml(&xml)
            .unwrap_or_else(|e| panic!("{e}\n{}", String::from_utf8_lossy(&xml)));
        assert_eq!(decoded, response);
    }
}

#[test]
fn containers_with_several_messages_round_trip_and_name_the_index() {
    let request = X1Request {
        messages: vec![
            RequestMessage {
                header: header(),
                body: RequestBody::Ping,
            },
            RequestMessage {
                header: header(),
                body: RequestBody::DeactivateTask(xid(1)),
            },
        ],
    };
    let xml = String::from_utf8(request.to_xml().unwrap()).unwrap();
    assert_eq!(X1Request::from_xml(xml.as_bytes()).unwrap(), request);
    let broken = xml.replace(&xid(1).to_string(), "nope");
    assert_eq!(
        request_error(&broken),
        format!(
            "X1Request/DeactivateTaskRequest[2]/xId: not a UUID at byte {}",
            byte_of(&broken, "nope")
        )
    );
    assert!(X1Request { messages: vec![] }.to_xml().is_err());
}

#[test]
fn the_shared_sample_decodes_field_by_field_and_re_encodes() {
    let text = sample();
    let request = X1Request::from_xml(text.as_bytes()).unwrap();
    let [message] = &request.messages[..] else {
        panic!("one message expected: {request:?}")
    };
    assert_eq!(message.header.admf_identifier, "admf1");
    assert_eq!(message.header.ne_identifier, "ne1");
    assert_eq!(
        message.header.message_timestamp,
        "2024-01-02T03:04:05Z".parse().unwrap()
    );
    assert_eq!(
        message.header.version,
        X1Version {
            minor: 22,
            patch: 1
        }
    );
    assert_eq!(
        message.header.x1_transaction_id.to_string(),
        "7b0bd1c9-3e0e-4d0b-9d8c-6c0a4b4f1a11"
    );
    let RequestBody::ActivateTask(task) = &message.body else {
        panic!("{:?}", message.body)
    };
    assert_eq!(task.xid.to_string(), "2b36a78b-b628-416d-bd22-65e63691aeb6");
    assert_eq!(
        task.targets,
        vec![TargetIdentifier::sip_uri("sip:alice@example.net").unwrap()]
    );
    assert_eq!(task.delivery_type, DeliveryType::X2AndX3);
    assert_eq!(
        task.dids,
        vec!["9a3f6e1e-1a2b-4c3d-8e9f-0a1b2c3d4e5f".parse().unwrap()]
    );
    assert_eq!(task.mediation_details, vec![]);
    let again = X1Request::from_xml(&request.to_xml().unwrap()).unwrap();
    assert_eq!(again, request);
}

#[test]
fn namespaces_are_matched_by_uri_not_prefix() {
    let text = sample();
    let expected = X1Request::from_xml(text.as_bytes()).unwrap();
    // Prefixed X1 elements, another prefix for xsi, the type as a prefixed QName.
    let prefixed = text
        .replace("<X1Request xmlns=", "<x:X1Request xmlns:x=")
        .replace("xmlns:xsi=", "xmlns:i=")
        .replace(
            "xsi:type=\"ActivateTaskRequest\"",
            "i:type=\"x:ActivateTaskRequest\"",
        )
        .replace("</X1Request>", "</x:X1Request>")
        .replace("<x1RequestMessage ", "<x:x1RequestMessage ")
        .replace("</x1RequestMessage>", "</x:x1RequestMessage>");
    let prefixed = regex_lite_prefix(&prefixed);
    assert_eq!(X1Request::from_xml(prefixed.as_bytes()).unwrap(), expected);

    // The right prefix bound to the wrong URI is refused.
    let wrong = text.replace("03221/X1/2017/10", "03221/X1/2099/10");
    assert_eq!(
        request_error(&wrong),
        "X1Request: expected the root element X1Request, found <X1Request> in a foreign \
         namespace at byte 39"
    );
    // An xsi:type whose prefix is not the XSI namespace is not a type.
    let fake_xsi = text.replace(
        "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"",
        "xmlns:xsi=\"urn:not-xsi\"",
    );
    assert!(request_error(&fake_xsi).contains("unexpected attribute xsi:type"));
}

/// Prefixes every remaining unprefixed child element of the sample with `x:`.
fn regex_lite_prefix(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find('<') {
        out.push_str(&rest[..i]);
        let tag = &rest[i..];
        let (open, name_start) = if tag.starts_with("</") {
            ("</", 2)
        } else {
            ("<", 1)
        };
        let first = tag[name_start..].chars().next().unwrap();
        let name_end = tag[name_start..]
            .find(|c: char| !c.is_ascii_alphanumeric() && c != ':')
            .map_or(tag.len(), |e| e + name_start);
        let name = &tag[name_start..name_end];
        if first.is_ascii_alphabetic() && !name.contains(':') {
            out.push_str(open);
            out.push_str("x:");
            out.push_str(name);
            rest = &tag[name_end..];
        } else {
            out.push('<');
            rest = &tag[1..];
        }
    }
    out.push_str(rest);
    out
}

#[test]
fn malformed_requests_name_the_element_and_byte() {
    let text = sample();
    let bad_uuid = text.replace("2b36a78b-b628", "2b36a78b+b628");
    assert_eq!(
        request_error(&bad_uuid),
        format!(
            "X1Request/ActivateTaskRequest/taskDetails/xId: not a UUID at byte {}",
            byte_of(&bad_uuid, "2b36a78b+")
        )
    );

    let missing = text.replace("<deliveryType>X2andX3</deliveryType>", "");
    assert_eq!(
        request_error(&missing),
        format!(
            "X1Request/ActivateTaskRequest/taskDetails: missing <deliveryType>, found \
             <listOfDIDs> in the X1 namespace at byte {}",
            byte_of(&missing, "<listOfDIDs>")
        )
    );

    let bad_enum = text.replace(">X2andX3<", ">X2AndX3<");
    assert_eq!(
        request_error(&bad_enum),
        format!(
            "X1Request/ActivateTaskRequest/taskDetails/deliveryType: not one of X2Only, \
             X3Only, X2andX3 at byte {}",
            byte_of(&bad_enum, "X2AndX3")
        )
    );

    let imsi = text.replace(
        "<sipUri>sip:alice@example.net</sipUri>",
        "<imsi>262011234567890</imsi>",
    );
    let err = request_error(&imsi);
    assert_eq!(
        err,
        format!(
            "X1Request/ActivateTaskRequest/taskDetails/targetIdentifiers/targetIdentifier[1]: \
             target identifier kind imsi is not supported by this implementation at byte {}",
            byte_of(&imsi, "<imsi>")
        )
    );
    assert!(
        !err.contains("262011234567890"),
        "no target value in errors"
    );

    let bad_sip = text.replace("sip:alice@example.net", "sip:@example.net");
    let err = request_error(&bad_sip);
    assert!(
        err.starts_with(
            "X1Request/ActivateTaskRequest/taskDetails/targetIdentifiers/targetIdentifier[1]/\
             sipUri: not a SIP URI"
        ),
        "{err}"
    );
    assert!(
        err.ends_with(&format!("at byte {}", byte_of(&bad_sip, "sip:@"))),
        "{err}"
    );

    let extension = text.replace(
        "</listOfDIDs>",
        "</listOfDIDs><taskDetailsExtensions><Owner>x</Owner></taskDetailsExtensions>",
    );
    assert_eq!(
        request_error(&extension),
        format!(
            "X1Request/ActivateTaskRequest/taskDetails: unexpected element \
             <taskDetailsExtensions> in the X1 namespace (not in the XSD here, out of order, \
             or not supported by this implementation) at byte {}",
            byte_of(&extension, "<taskDetailsExtensions>")
        )
    );

    let no_type = text.replace(" xsi:type=\"ActivateTaskRequest\"", "");
    assert!(
        request_error(&no_type)
            .starts_with("X1Request/x1RequestMessage: x1RequestMessage has no xsi:type")
    );
    let report = text.replace("\"ActivateTaskRequest\"", "\"ReportTaskIssueRequest\"");
    assert!(
        request_error(&report).contains(
            "request type ReportTaskIssueRequest is not supported by this implementation"
        ),
    );

    let truncated = &text[..text.len() - 30];
    let err = request_error(truncated);
    assert!(err.starts_with("X1Request/x1RequestMessage"), "{err}");

    let bad_time = text.replace("2024-01-02T03:04:05.000000Z", "2024-13-02T03:04:05.000000Z");
    assert!(
        request_error(&bad_time)
            .starts_with("X1Request/ActivateTaskRequest/messageTimestamp: not a date-time"),
    );
    let bad_version = text.replace("v1.22.1", "1.22");
    assert_eq!(
        request_error(&bad_version),
        format!(
            "X1Request/ActivateTaskRequest/version: not a version v1.<minor>.<patch> at byte {}",
            byte_of(&bad_version, "1.22<")
        )
    );
    let text_in_complex = text.replace("<taskDetails>", "<taskDetails>hello");
    assert!(
        request_error(&text_in_complex)
            .starts_with("X1Request/ActivateTaskRequest/taskDetails: unexpected text")
    );
    let attribute = text.replace("<taskDetails>", "<taskDetails id=\"1\">");
    assert!(
        request_error(&attribute)
            .starts_with("X1Request/x1RequestMessage/taskDetails: unexpected attribute id")
    );
}

#[test]
fn hostile_documents_are_refused_with_a_reason() {
    let text = sample();
    let doctype = text.replace(
        "<X1Request ",
        "<!DOCTYPE x [<!ENTITY a \"aaaaaaaa\">]><X1Request ",
    );
    assert!(request_error(&doctype).contains("a DOCTYPE is not accepted"));
    let entity = text.replace("admf1", "&lol;");
    assert!(request_error(&entity).contains("unknown entity &lol;"));
    let escaped = text.replace("admf1", "adm&#102;&#x31;");
    let decoded = X1Request::from_xml(escaped.as_bytes()).unwrap();
    assert_eq!(decoded.messages[0].header.admf_identifier, "admf1");
    let nul = text.replace("admf1", "&#0;");
    assert!(
        request_error(&nul).contains("character reference"),
        "{}",
        request_error(&nul)
    );

    let mut latin1 = text.clone().into_bytes();
    let at = byte_of(&text, "admf1");
    latin1[at] = 0xe9;
    let err = X1Request::from_xml(&latin1).unwrap_err().to_string();
    assert_eq!(err, format!("(document): not UTF-8 at byte {at}"));

    let deep = format!(
        "<X1Request xmlns=\"{X1_NAMESPACE}\">{}{}</X1Request>",
        "<a>".repeat(40),
        "</a>".repeat(40)
    );
    let err = request_error(&deep);
    assert!(err.contains("elements nested deeper than 32"), "{err}");

    let big = vec![b' '; DecodeLimits::DEFAULT.max_len + 1];
    assert!(matches!(
        X1Request::from_xml(&big),
        Err(X1Error::TooLarge { limit, .. }) if limit == DecodeLimits::DEFAULT.max_len
    ));
    let small = DecodeLimits {
        max_len: 100,
        max_depth: 32,
    };
    assert!(matches!(
        X1Request::from_xml_with_limits(text.as_bytes(), &small),
        Err(X1Error::TooLarge { .. })
    ));

    assert_eq!(request_error(""), "(document): no root element at byte 0");
    let response = X1Response::from_xml(text.as_bytes())
        .unwrap_err()
        .to_string();
    assert!(
        response.starts_with("X1Request: expected the root element X1Response"),
        "{response}"
    );
    let extra = format!("{text}<X1Request/>");
    assert!(request_error(&extra).contains("content after the root element"));
    let mismatched = text.replace("</taskDetails>", "</taskDetail>");
    assert!(request_error(&mismatched).contains("malformed XML"));
}

#[test]
fn values_outside_the_xsd_are_not_encoded() {
    let mut h = header();
    h.admf_identifier = "admf  1".into();
    let err = X1Request::single(h, RequestBody::Ping)
        .to_xml()
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "X1Request/PingRequest/admfIdentifier: cannot encode: not an xs:token (no leading, \
         trailing or doubled spaces, no tabs or line breaks)"
    );

    let tcp1 = DestinationDetails {
        delivery_address: DeliveryAddress::IpAddressPort {
            address: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: Port::Tcp(1),
        },
        ..destinations().swap_remove(0)
    };
    let err = X1Request::single(header(), RequestBody::CreateDestination(tcp1))
        .to_xml()
        .unwrap_err();
    assert!(err.to_string().contains("TCPPort is 2..=65535"), "{err}");

    let mut task = task_minimal();
    task.targets = vec![TargetIdentifier::IpPrefix(
        IpPrefix::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), 0).unwrap(),
    )];
    let err = X1Request::single(header(), RequestBody::ActivateTask(task.clone()))
        .to_xml()
        .unwrap_err();
    assert!(
        err.to_string().contains("IPv6CIDR lengths are 1..=128"),
        "{err}"
    );

    task.targets = vec![TargetIdentifier::sip_uri("sip:a{b}@example.net").unwrap()];
    assert!(
        X1Request::single(header(), RequestBody::ActivateTask(task.clone()))
            .to_xml()
            .is_err()
    );
    task.targets = vec![];
    assert!(
        X1Request::single(header(), RequestBody::ActivateTask(task))
            .to_xml()
            .is_err()
    );

    let mut bad_name = destinations().swap_remove(0);
    bad_name.friendly_name = Some("bell \u{7}".into());
    let err = X1Request::single(header(), RequestBody::CreateDestination(bad_name))
        .to_xml()
        .unwrap_err();
    assert!(
        err.to_string().contains("U+0007 cannot appear in XML"),
        "{err}"
    );

    let mut liid = task_full();
    liid.mediation_details[0].liid = Liid::new(b"has space").unwrap();
    assert!(
        X1Request::single(header(), RequestBody::ActivateTask(liid))
            .to_xml()
            .is_err()
    );
}

#[test]
fn target_kinds_use_the_xsd_forms() {
    let mut task = task_minimal();
    task.targets = all_targets();
    let xml = String::from_utf8(
        X1Request::single(header(), RequestBody::ActivateTask(task))
            .to_xml()
            .unwrap(),
    )
    .unwrap();
    for expected in [
        "<ipv4Address>192.0.2.1</ipv4Address>",
        "<ipv6Address>2001:0db8:0000:0000:0000:0000:0000:0001</ipv6Address>",
        "<ipv4Cidr>",
        "<etsi103280:IPv4CIDR>198.51.100.0/24</etsi103280:IPv4CIDR>",
        "<ipv6Cidr>2001:0db8:0001:0000:0000:0000:0000:0000/48</ipv6Cidr>",
        "<macAddress>00:11:22:aa:bb:cc</macAddress>",
        "<sipUri>sip:alice@example.net;transport=tcp</sipUri>",
        "<e164Number>4930123456</e164Number>",
        "<nai>alice@isp.example</nai>",
    ] {
        assert!(xml.contains(expected), "{expected} missing in\n{xml}");
    }
    // Lenient reading: compressed IPv6, telUri, an IPv6 block inside ipv4Cidr, leading zeros.
    let text = sample();
    for (element, expected) in [
        (
            "<ipv6Address>2001:db8::1</ipv6Address>",
            all_targets()[1].clone(),
        ),
        (
            "<telUri>tel:+4930123456</telUri>",
            TargetIdentifier::e164("+4930123456").unwrap(),
        ),
        (
            &format!(
                "<ipv4Cidr><IPv6CIDR xmlns=\"{COMMON_NAMESPACE}\">2001:db8:1::/48</IPv6CIDR></ipv4Cidr>"
            ),
            all_targets()[3].clone(),
        ),
        (
            "<ipv4Address>192.000.002.001</ipv4Address>",
            all_targets()[0].clone(),
        ),
        (
            "<macAddress>00:11:22:aa:bb:cc</macAddress>",
            TargetIdentifier::MacAddress(MacAddress::new([0, 0x11, 0x22, 0xaa, 0xbb, 0xcc])),
        ),
    ] {
        let doc = text.replace("<sipUri>sip:alice@example.net</sipUri>", element);
        let request = X1Request::from_xml(doc.as_bytes()).unwrap();
        let RequestBody::ActivateTask(task) = &request.messages[0].body else {
            panic!()
        };
        assert_eq!(task.targets, vec![expected], "{element}");
    }
    // An IPv4 block in the TS 103 221-1 namespace instead of TS 103 280's is refused.
    let wrong_ns = text.replace(
        "<sipUri>sip:alice@example.net</sipUri>",
        "<ipv4Cidr><IPv4CIDR>10.0.0.0/8</IPv4CIDR></ipv4Cidr>",
    );
    assert!(
        request_error(&wrong_ns)
            .contains("missing <IPv6CIDR>, found <IPv4CIDR> in the X1 namespace"),
        "{}",
        request_error(&wrong_ns)
    );
    let host_bits = text.replace(
        "<sipUri>sip:alice@example.net</sipUri>",
        &format!(
            "<ipv4Cidr><IPv4CIDR xmlns=\"{COMMON_NAMESPACE}\">10.0.0.1/8</IPv4CIDR></ipv4Cidr>"
        ),
    );
    assert!(request_error(&host_bits).contains(
        "targetIdentifier[1]/ipv4Cidr/IPv4CIDR: prefix length out of range, or host bits set"
    ));
}

#[test]
fn delivery_type_maps_to_the_core_scope() {
    use li_core::InterceptScope;
    assert_eq!(DeliveryType::X2Only.scope(), Some(InterceptScope::IriOnly));
    assert_eq!(
        DeliveryType::X2AndX3.scope(),
        Some(InterceptScope::IriAndCc)
    );
    assert_eq!(DeliveryType::X3Only.scope(), None);
    for scope in [InterceptScope::IriOnly, InterceptScope::IriAndCc] {
        assert_eq!(DeliveryType::from_scope(scope).scope(), Some(scope));
    }
    assert_eq!(
        RequestMessageType::from_request_type("GetNEStatusRequest"),
        Some(RequestMessageType::GetNeStatus)
    );
    assert_eq!(RequestMessageType::from_request_type("Bogus"), None);
    for body in every_request_body() {
        let name = body.message_type().as_str();
        assert!(RequestMessageType::ALL.iter().any(|t| t.as_str() == name));
    }
}

// ---------------------------------------------------------------------------------------
// Property tests.

fn arb_ts() -> impl Strategy<Value = Timestamp> {
    (0u64..253_402_300_799, 0u32..1_000_000).prop_map(|(s, m)| ts(s, m))
}

fn arb_target() -> BoxedStrategy<TargetIdentifier> {
    prop_oneof![
        any::<[u8; 4]>().prop_map(|o| TargetIdentifier::ipv4(Ipv4Addr::from(o))),
        any::<[u8; 16]>().prop_map(|o| TargetIdentifier::ipv6(Ipv6Addr::from(o))),
        (any::<[u8; 4]>(), 0u8..=32).prop_map(|(o, len)| {
            let mask = u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
            let addr = Ipv4Addr::from(u32::from_be_bytes(o) & mask);
            TargetIdentifier::ip_prefix(IpAddr::V4(addr), len).unwrap()
        }),
        (any::<[u8; 16]>(), 1u8..=128).prop_map(|(o, len)| {
            let mask = u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0);
            let addr = Ipv6Addr::from(u128::from_be_bytes(o) & mask);
            TargetIdentifier::ip_prefix(IpAddr::V6(addr), len).unwrap()
        }),
        any::<[u8; 6]>().prop_map(TargetIdentifier::mac),
        "(sips?):[a-z0-9]{1,8}@[a-z]{1,8}\\.example(;[a-z]{1,5}=[a-z0-9]{1,5})?"
            .prop_map(|s| TargetIdentifier::sip_uri(&s).unwrap()),
        "[1-9][0-9]{0,14}".prop_map(|d| TargetIdentifier::e164(&format!("+{d}")).unwrap()),
        "[a-zA-Z0-9 <>&\"'.@é]{1,40}".prop_map(|u| TargetIdentifier::username(&u).unwrap()),
    ]
    .boxed()
}

fn arb_text() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 <>&\"'\r\n\t\u{e9}\u{1F600}]{0,30}"
}

fn arb_task() -> BoxedStrategy<TaskDetails> {
    let mediation = (
        "[!-~]{1,25}",
        0usize..3,
        proptest::option::of(arb_ts()),
        proptest::option::of(arb_ts()),
        proptest::option::of(proptest::collection::vec(any::<[u8; 16]>(), 0..3)),
    )
        .prop_map(|(liid, t, start, end, dids)| MediationDetails {
            liid: Liid::new(liid.as_bytes()).unwrap(),
            delivery_type: MediationDeliveryType::ALL[t],
            start_time: start,
            end_time: end,
            dids: dids.map(|d| d.into_iter().map(DestinationId::from_bytes).collect()),
        });
    (
        any::<[u8; 16]>(),
        proptest::collection::vec(arb_target(), 1..5),
        0usize..3,
        proptest::collection::vec(any::<[u8; 16]>(), 0..4),
        proptest::collection::vec(mediation, 0..3),
        proptest::option::of(any::<u64>()),
        proptest::option::of(any::<bool>()),
        proptest::option::of(any::<[u8; 16]>()),
    )
        .prop_map(
            |(x, targets, t, dids, mediation, corr, implicit, product)| TaskDetails {
                xid: Xid::from_bytes(x),
                targets,
                delivery_type: DeliveryType::ALL[t],
                dids: dids.into_iter().map(DestinationId::from_bytes).collect(),
                mediation_details: mediation,
                correlation_id: corr,
                implicit_deactivation_allowed: implicit,
                product_id: product.map(Xid::from_bytes),
            },
        )
        .boxed()
}

fn arb_destination() -> BoxedStrategy<DestinationDetails> {
    let address = prop_oneof![
        (any::<[u8; 4]>(), 2u16..).prop_map(|(a, p)| DeliveryAddress::IpAddressPort {
            address: IpAddr::V4(a.into()),
            port: Port::Tcp(p),
        }),
        (any::<[u8; 16]>(), any::<u16>()).prop_map(|(a, p)| DeliveryAddress::IpAddressPort {
            address: IpAddr::V6(a.into()),
            port: Port::Udp(p),
        }),
        "[1-9][0-9]{0,14}"
            .prop_map(|d| DeliveryAddress::E164Number(E164Number::new(&format!("+{d}")).unwrap())),
        "https://[a-z]{1,10}\\.example/[a-z&?=]{0,10}".prop_map(DeliveryAddress::Uri),
    ];
    (
        any::<[u8; 16]>(),
        proptest::option::of(arb_text()),
        0usize..3,
        address,
    )
        .prop_map(|(d, name, t, address)| DestinationDetails {
            did: DestinationId::from_bytes(d),
            friendly_name: name,
            delivery_type: DeliveryType::ALL[t],
            delivery_address: address,
        })
        .boxed()
}

fn arb_header() -> impl Strategy<Value = MessageHeader> {
    (
        "([!-~]{1,10}( [!-~]{1,10}){0,2})?",
        "[a-z0-9.-]{1,12}",
        arb_ts(),
        (any::<u32>(), any::<u32>()),
        any::<[u8; 16]>(),
    )
        .prop_map(|(admf, ne, t, (minor, patch), id)| MessageHeader {
            admf_identifier: admf,
            ne_identifier: ne,
            message_timestamp: t,
            version: X1Version { minor, patch },
            x1_transaction_id: TransactionId::from_bytes(id),
        })
}

fn arb_request_body() -> BoxedStrategy<RequestBody> {
    prop_oneof![
        arb_task().prop_map(RequestBody::ActivateTask),
        arb_task().prop_map(RequestBody::ModifyTask),
        arb_destination().prop_map(RequestBody::CreateDestination),
        arb_destination().prop_map(RequestBody::ModifyDestination),
        any::<[u8; 16]>().prop_map(|x| RequestBody::DeactivateTask(Xid::from_bytes(x))),
        any::<[u8; 16]>()
            .prop_map(|d| RequestBody::RemoveDestination(DestinationId::from_bytes(d))),
        Just(RequestBody::Ping),
    ]
    .boxed()
}

fn arb_faults() -> impl Strategy<Value = Vec<ErrorInformation>> {
    proptest::collection::vec(
        (any::<i64>(), arb_text())
            .prop_map(|(code, description)| ErrorInformation { code, description }),
        0..3,
    )
}

fn arb_response_body() -> BoxedStrategy<ResponseBody> {
    let status = (
        0usize..3,
        arb_faults(),
        proptest::option::of(arb_ts()),
        proptest::option::of(any::<u64>()),
        proptest::option::of(any::<u64>()),
        proptest::option::of(arb_ts()),
        proptest::option::of(any::<u64>()),
    )
        .prop_map(|(p, faults, a, b, c, d, e)| TaskStatus {
            provisioning_status: ProvisioningStatus::ALL[p],
            faults,
            time_of_last_intercept: a,
            amount_of_x2_data: b,
            amount_of_x3_data: c,
            time_of_last_modification: d,
            number_of_modifications: e,
        });
    let task = (arb_task(), status)
        .prop_map(|(details, status)| TaskResponseDetails { details, status })
        .boxed();
    let dest = (arb_destination(), any::<bool>(), arb_faults())
        .prop_map(|(details, ok, faults)| DestinationResponseDetails {
            details,
            delivery_status: if ok {
                DestinationDeliveryStatus::ActiveAndWorking
            } else {
                DestinationDeliveryStatus::DeliveryFault
            },
            faults,
        })
        .boxed();
    prop_oneof![
        (0usize..10, any::<bool>()).prop_map(|(k, done)| ResponseBody::Ok {
            kind: AckKind::ALL[k],
            status: if done {
                OkStatus::AcknowledgedAndCompleted
            } else {
                OkStatus::Acknowledged
            },
        }),
        task.clone().prop_map(ResponseBody::GetTaskDetails),
        dest.clone().prop_map(ResponseBody::GetDestinationDetails),
        (
            arb_faults(),
            proptest::collection::vec(task, 0..2),
            proptest::collection::vec(dest, 0..2)
        )
            .prop_map(
                |(faults, tasks, destinations)| ResponseBody::GetAllDetails {
                    ne_status: NeStatusDetails {
                        status: NeStatus::Faults,
                        faults,
                    },
                    tasks,
                    destinations,
                }
            ),
        (
            0usize..28,
            any::<i64>(),
            arb_text(),
            proptest::option::of("[a-zA-Z]{1,20}")
        )
            .prop_map(
                |(t, code, description, ext)| ResponseBody::Error(ErrorResponse {
                    request_message_type: RequestMessageType::ALL[t],
                    error: ErrorInformation { code, description },
                    extended_request_message_type: ext,
                })
            ),
    ]
    .boxed()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn requests_round_trip(
        messages in proptest::collection::vec((arb_header(), arb_request_body()), 1..3)
    ) {
        let request = X1Request {
            messages: messages
                .into_iter()
                .map(|(header, body)| RequestMessage { header, body })
                .collect(),
        };
        let xml = request.to_xml().unwrap();
        prop_assert_eq!(X1Request::from_xml(&xml).unwrap(), request);
    }

    #[test]
    fn responses_round_trip(header in arb_header(), body in arb_response_body()) {
        let response = X1Response::single(header, body);
        let xml = response.to_xml().unwrap();
        prop_assert_eq!(X1Response::from_xml(&xml).unwrap(), response);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = X1Request::from_xml(&bytes);
        let _ = X1Response::from_xml(&bytes);
    }

    #[test]
    fn mutated_documents_never_panic(
        cut in 0usize..2000,
        at in 0usize..2000,
        insert in "[<>&;/=\"a-z:# ]{0,6}",
    ) {
        let xml = String::from_utf8(
            X1Request::single(header(), RequestBody::ActivateTask(task_full())).to_xml().unwrap(),
        )
        .unwrap();
        let mut bytes = xml.into_bytes();
        let at = at.min(bytes.len());
        bytes.splice(at..at, insert.bytes());
        bytes.truncate(bytes.len().saturating_sub(cut % 50));
        // whatever decodes re-encodes, to a document that decodes to the same value
        if let Ok(request) = X1Request::from_xml(&bytes) {
            let again = request.to_xml().unwrap();
            prop_assert_eq!(X1Request::from_xml(&again).unwrap(), request);
        }
        let _ = X1Response::from_xml(&bytes);
    }
}

// ---------------------------------------------------------------------------------------
// Transport, over real mutual TLS on 127.0.0.1.

const WAIT: Duration = Duration::from_secs(10);

struct Pki {
    pki: DevPki,
    ne: crate::tls::Identity,
    admf: crate::tls::Identity,
}

fn pki() -> Pki {
    let pki = DevPki::new("X1 test CA").unwrap();
    let ne = pki
        .issue("mdf-1", &["mdf.test"], &[], Validity::Default)
        .unwrap();
    let admf = pki.issue("admf1", &[], &[], Validity::Default).unwrap();
    Pki { pki, ne, admf }
}

/// Answers Ping with OK, ActivateTask with OK after checking the task, anything else with an
/// ErrorResponse; counts the calls.
fn handler(calls: Arc<std::sync::atomic::AtomicUsize>) -> Arc<dyn X1Handler> {
    Arc::new(move |request: X1Request, peer: X1Peer| {
        let calls = Arc::clone(&calls);
        async move {
            calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            assert_eq!(peer.identity.as_deref(), Some("admf1"));
            X1Response {
                messages: request
                    .messages
                    .into_iter()
                    .map(|m| {
                        let body = match &m.body {
                            RequestBody::Ping => ResponseBody::Ok {
                                kind: AckKind::Ping,
                                status: OkStatus::AcknowledgedAndCompleted,
                            },
                            RequestBody::ActivateTask(task) => {
                                ResponseBody::GetTaskDetails(TaskResponseDetails {
                                    details: task.clone(),
                                    status: TaskStatus::new(ProvisioningStatus::Complete),
                                })
                            }
                            other => ResponseBody::Error(ErrorResponse {
                                request_message_type: other.message_type(),
                                error: fault(9),
                                extended_request_message_type: None,
                            }),
                        };
                        ResponseMessage {
                            header: MessageHeader::response_to(&m.header, ts(1_800_000_000, 0)),
                            body,
                        }
                    })
                    .collect(),
            }
        }
    })
}

struct Server {
    addr: SocketAddr,
    stop: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
    calls: Arc<std::sync::atomic::AtomicUsize>,
}

async fn start(p: &Pki, config: X1ServerConfig) -> Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(p.pki.server_config(&p.ne).unwrap());
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let task = tokio::spawn(serve(
        listener,
        acceptor,
        handler(Arc::clone(&calls)),
        config,
        stopped,
    ));
    Server {
        addr,
        stop,
        task,
        calls,
    }
}

fn client(p: &Pki, addr: SocketAddr) -> X1Client {
    let connector = tokio_rustls::TlsConnector::from(p.pki.client_config(&p.admf).unwrap());
    X1Client::new(connector, addr, "mdf.test")
}

impl Server {
    async fn stop(self) {
        self.stop.send(true).unwrap();
        tokio::time::timeout(WAIT, self.task)
            .await
            .unwrap()
            .unwrap()
            .unwrap();
    }

    fn calls(&self) -> usize {
        self.calls.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// POSTs raw bytes over mutual TLS and returns (status, body).
async fn post_raw(p: &Pki, addr: SocketAddr, method: &str, body: &[u8]) -> (u16, String) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let connector = tokio_rustls::TlsConnector::from(p.pki.client_config(&p.admf).unwrap());
    let mut tls = crate::tls::connect(&connector, "mdf.test", tcp, "raw X1")
        .await
        .unwrap();
    let head = format!(
        "{method} /X1 HTTP/1.1\r\nhost: mdf.test\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    );
    tls.write_all(head.as_bytes()).await.unwrap();
    let _ = tls.write_all(body).await;
    let mut out = Vec::new();
    let _ = tokio::time::timeout(WAIT, tls.read_to_end(&mut out))
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text
        .get(9..12)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no HTTP status in {text:?}"));
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

#[tokio::test]
async fn requests_and_responses_cross_the_wire_over_mutual_tls() {
    let p = pki();
    let server = start(&p, X1ServerConfig::default()).await;
    let client = client(&p, server.addr);

    let ping = X1Request::single(header(), RequestBody::Ping);
    let response = client.send(&ping).await.unwrap();
    assert_eq!(
        response,
        X1Response::single(
            MessageHeader::response_to(&header(), ts(1_800_000_000, 0)),
            ResponseBody::Ok {
                kind: AckKind::Ping,
                status: OkStatus::AcknowledgedAndCompleted,
            }
        )
    );

    let activate = X1Request::single(header(), RequestBody::ActivateTask(task_full()));
    let response = client.send(&activate).await.unwrap();
    let ResponseBody::GetTaskDetails(details) = &response.messages[0].body else {
        panic!("{response:?}")
    };
    assert_eq!(details.details, task_full());
    assert_eq!(server.calls(), 2);
    server.stop().await;
}

#[tokio::test]
async fn a_malformed_request_gets_an_error_response_naming_the_place() {
    let p = pki();
    let server = start(&p, X1ServerConfig::default()).await;
    let text = sample().replace("2b36a78b-b628", "2b36a78b+b628");
    let (status, body) = post_raw(&p, server.addr, "POST", text.as_bytes()).await;
    assert_eq!(status, 200, "{body}");
    let response = X1Response::from_xml(body.as_bytes()).unwrap();
    let [message] = &response.messages[..] else {
        panic!("{response:?}")
    };
    assert_eq!(message.header.admf_identifier, "admf1");
    assert_eq!(
        message.header.x1_transaction_id.to_string(),
        "7b0bd1c9-3e0e-4d0b-9d8c-6c0a4b4f1a11"
    );
    let ResponseBody::Error(error) = &message.body else {
        panic!("{message:?}")
    };
    assert_eq!(error.request_message_type, RequestMessageType::ActivateTask);
    assert_eq!(error.error.code, error_code::MALFORMED_REQUEST);
    assert_eq!(
        error.error.description,
        format!(
            "X1Request/ActivateTaskRequest/taskDetails/xId: not a UUID at byte {}",
            byte_of(&text, "2b36a78b+")
        )
    );

    // An unsupported target kind: UNSUPPORTED, and the handler never ran.
    let imsi = sample().replace(
        "<sipUri>sip:alice@example.net</sipUri>",
        "<imsi>262011234567890</imsi>",
    );
    let (status, body) = post_raw(&p, server.addr, "POST", imsi.as_bytes()).await;
    assert_eq!(status, 200);
    let response = X1Response::from_xml(body.as_bytes()).unwrap();
    let ResponseBody::Error(error) = &response.messages[0].body else {
        panic!("{response:?}")
    };
    assert_eq!(error.error.code, error_code::UNSUPPORTED);

    // Not even a header: HTTP 400 with the reason.
    let (status, body) = post_raw(&p, server.addr, "POST", b"<oops").await;
    assert_eq!(status, 400);
    assert!(
        body.starts_with("malformed X1 request: (document): malformed XML"),
        "{body}"
    );
    let (status, body) = post_raw(&p, server.addr, "GET", b"").await;
    assert_eq!(status, 405, "{body}");
    assert_eq!(server.calls(), 0);
    server.stop().await;
}

#[tokio::test]
async fn the_server_limits_the_body_and_the_client_reports_http_errors() {
    let p = pki();
    let config = X1ServerConfig {
        max_body_len: 300,
        ..X1ServerConfig::default()
    };
    let server = start(&p, config).await;
    let request = X1Request::single(header(), RequestBody::ActivateTask(task_full()));
    let err = client(&p, server.addr).send(&request).await.unwrap_err();
    let X1Error::Status { status, body } = &err else {
        panic!("{err}")
    };
    assert_eq!(*status, 413);
    assert_eq!(body, "X1 request body larger than 300 bytes");
    assert_eq!(server.calls(), 0);
    server.stop().await;
}

#[tokio::test]
async fn allow_lists_refuse_other_admfs_and_certificates() {
    let p = pki();
    let config = X1ServerConfig {
        allowed_admfs: Some(vec!["admf2".into()]),
        ..X1ServerConfig::default()
    };
    let server = start(&p, config).await;
    let response = client(&p, server.addr)
        .send(&X1Request::single(header(), RequestBody::Ping))
        .await
        .unwrap();
    let ResponseBody::Error(error) = &response.messages[0].body else {
        panic!("{response:?}")
    };
    assert_eq!(error.error.code, error_code::ADMF_NOT_AUTHORISED);
    assert_eq!(error.request_message_type, RequestMessageType::Ping);
    assert_eq!(server.calls(), 0);
    server.stop().await;

    let refused = Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = Arc::clone(&refused);
    let config = X1ServerConfig {
        allowed_identities: Some(vec!["admf-other".into()]),
        on_refused: Some(Arc::new(move |peer, why: &str| {
            sink.lock().unwrap().push((peer, why.to_owned()));
        })),
        ..X1ServerConfig::default()
    };
    let server = start(&p, config).await;
    let err = client(&p, server.addr)
        .send(&X1Request::single(header(), RequestBody::Ping))
        .await
        .unwrap_err();
    assert!(matches!(err, X1Error::Http { .. }), "{err}");
    assert_eq!(server.calls(), 0);
    server.stop().await;
    // The observer (the audit log) hears of it too.
    let refused = refused.lock().unwrap();
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert!(
        refused[0].1.contains("not in the X1 allow-list"),
        "{refused:?}"
    );
}

#[tokio::test]
async fn a_client_certificate_from_another_ca_is_refused_and_logged() {
    let (log, _guard) = crate::testlog::capture_warnings(|| {
        let _ = transport::log_probe();
    });
    let p = pki();
    let server = start(&p, X1ServerConfig::default()).await;
    let rogue = DevPki::new("rogue CA").unwrap();
    let rogue_admf = rogue.issue("admf1", &[], &[], Validity::Default).unwrap();
    let config = crate::tls::client_config(
        p.pki.ca_pem.as_bytes(),
        rogue_admf.cert_pem.as_bytes(),
        rogue_admf.key_pem.as_bytes(),
    )
    .unwrap();
    let client = X1Client::new(
        tokio_rustls::TlsConnector::from(config),
        server.addr,
        "mdf.test",
    )
    .with_config(X1ClientConfig {
        request_timeout: WAIT,
        ..X1ClientConfig::default()
    });
    let err = client
        .send(&X1Request::single(header(), RequestBody::Ping))
        .await
        .unwrap_err();
    let X1Error::Tls(TlsError::Handshake { reason, .. }) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(
        *reason,
        Refusal::PeerAlert(rustls::AlertDescription::UnknownCA)
    );
    assert_eq!(server.calls(), 0);
    // The server logs the refusal on its own task, maybe after the client saw it.
    let lines = tokio::time::timeout(
        WAIT,
        log.wait_for_warning(|l| l.contains("X1 listener: TLS handshake")),
    )
    .await
    .expect("no refusal line logged");
    let line = lines
        .iter()
        .find(|l| l.starts_with("X1 listener: TLS handshake with 127.0.0.1:"))
        .unwrap_or_else(|| panic!("no refusal line in {lines:?}"));
    assert!(
        line.contains("failed: peer certificate is not issued by a trusted CA (unknown CA)"),
        "{line}"
    );
    server.stop().await;
}

#[tokio::test]
async fn the_client_times_out_and_shutdown_stops_the_server() {
    let p = pki();
    // A listener that never answers the handshake.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let client = client(&p, silent.local_addr().unwrap()).with_config(X1ClientConfig {
        connect_timeout: Duration::from_millis(200),
        ..X1ClientConfig::default()
    });
    let err = client
        .send(&X1Request::single(header(), RequestBody::Ping))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            X1Error::Timeout {
                what: "X1 connect",
                ..
            }
        ),
        "{err}"
    );

    let server = start(&p, X1ServerConfig::default()).await;
    let addr = server.addr;
    server.stop().await;
    let err = self::client(&p, addr)
        .send(&X1Request::single(header(), RequestBody::Ping))
        .await
        .unwrap_err();
    assert!(matches!(err, X1Error::Io { .. }), "{err}");
}

/// The agency's transport and handover format travel in the X1 deliveryAddress and read
/// back the same; what a mediator cannot reach (UDP, another scheme, a host name) or
/// cannot understand (another parameter, a format that is none) reads back as an error
/// naming it, and an address without a format is the ETSI default.
#[test]
fn hi_address_round_trips_through_the_delivery_address() {
    let addr: SocketAddr = "192.0.2.7:6000".parse().unwrap();
    let v6: SocketAddr = "[2001:db8::7]:6001".parse().unwrap();
    let formats = [
        HandoverFormat::etsi_default(),
        HandoverFormat::Etsi102232 {
            ps_pdu_version: 20,
            ip_access_version: 9,
            ip_multimedia_version: 14,
        },
        HandoverFormat::PacketCable { version: 7 },
    ];
    for transport in [
        HiTransport::Configured,
        HiTransport::Tls,
        HiTransport::PlainTcp,
    ] {
        for addr in [addr, v6] {
            for format in formats {
                let hi = HiAddress {
                    transport,
                    addr,
                    format,
                };
                match hi.to_x1() {
                    Some(x1) => assert_eq!(HiAddress::from_x1(&x1), Ok(hi)),
                    None => assert!(
                        transport == HiTransport::Configured
                            && format != HandoverFormat::etsi_default(),
                        "{hi:?}"
                    ),
                }
            }
        }
    }
    let tls = |format| HiAddress {
        transport: HiTransport::Tls,
        addr: v6,
        format,
    };
    assert_eq!(
        tls(HandoverFormat::Atis1000013 { version: 3 }).to_x1(),
        Some(DeliveryAddress::Uri(
            "tls://[2001:db8::7]:6001?handover=atis-1000013:3".into()
        ))
    );
    assert_eq!(
        HiAddress::from_x1(&DeliveryAddress::Uri("tls://[2001:db8::7]:6001".into())),
        Ok(tls(HandoverFormat::etsi_default()))
    );
    let uri = |u: &str| DeliveryAddress::Uri(u.into());
    assert_eq!(
        HiAddress::from_x1(&DeliveryAddress::IpAddressPort {
            address: addr.ip(),
            port: Port::Udp(6000),
        }),
        Err(HiAddressError::NotTcp)
    );
    assert!(matches!(
        HiAddress::from_x1(&uri("https://192.0.2.7:6000")),
        Err(HiAddressError::Scheme { .. })
    ));
    assert!(matches!(
        HiAddress::from_x1(&uri("tls://lea.example:6000")),
        Err(HiAddressError::NotIpAndPort { .. })
    ));
    for parameter in ["tls=1", "handover=etsi-102232:43:18&handover=packetcable:7"] {
        let err =
            HiAddress::from_x1(&uri(&format!("tcp://192.0.2.7:6000?{parameter}"))).unwrap_err();
        assert!(
            matches!(&err, HiAddressError::Parameter { parameter: p, .. } if parameter.ends_with(p.as_str())),
            "{parameter}: {err}"
        );
    }
    let err = HiAddress::from_x1(&uri("tcp://192.0.2.7:6000?handover=etsi:43")).unwrap_err();
    assert!(matches!(err, HiAddressError::Format { .. }), "{err}");
    assert!(err.to_string().contains("\"etsi:43\""), "{err}");
}

/// Every typed kind has its own code and reads back from it; a code of another vendor's NE
/// has no kind (the ADMF treats it as a failure of unknown cause, never as "absent").
#[test]
fn x1_error_kinds_round_trip_through_their_codes() {
    let mut codes = std::collections::BTreeSet::new();
    for kind in X1ErrorKind::ALL {
        assert!(codes.insert(kind.code()), "{kind:?} shares its code");
        assert_eq!(X1ErrorKind::from_code(kind.code()), Some(kind));
        let info = ErrorInformation::new(kind, "why");
        assert_eq!(info.kind(), Some(kind));
    }
    assert_eq!(X1ErrorKind::from_code(42), None);
    let absent: Vec<_> = X1ErrorKind::ALL
        .into_iter()
        .filter(|k| k.says_absent())
        .collect();
    assert_eq!(absent, [X1ErrorKind::XidUnknown, X1ErrorKind::DidUnknown]);
    let exists: Vec<_> = X1ErrorKind::ALL
        .into_iter()
        .filter(|k| k.says_exists())
        .collect();
    assert_eq!(exists, [X1ErrorKind::XidExists, X1ErrorKind::DidExists]);
}
