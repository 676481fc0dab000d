//! X1 (ETSI TS 103 221-1) XML against the official XSD (conformance/run.sh step `x1_xsd`,
//! validated by `etsi_asn1.py x1-validate`, i.e. xmlschema with TS_103_221_01.xsd,
//! TS_103_280.xsd and TS_103_221_01_HashedID.xsd).
//!
//! `x1-write OUTDIR`        writes one document per request and response kind we produce
//!                          (`request-<xsi:type>[-variant].xml`, `response-...`), each with
//!                          every optional field we carry filled in, plus minimal variants.
//! `x1-reencode IN OUT`     decodes IN (an X1Request) with our decoder, encodes it to OUT, and
//!                          checks that OUT decodes to the same value.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::Path;
use std::process::ExitCode;

use li_core::{DestinationId, E164Number, HandoverFormat, Liid, TargetIdentifier, Timestamp, Xid};
use li_handover::x1::{
    AckKind, DeliveryAddress, DeliveryType, DestinationDeliveryStatus, DestinationDetails,
    DestinationResponseDetails, ErrorInformation, ErrorResponse, HiAddress, HiTransport,
    MediationDeliveryType, MediationDetails, MessageHeader, NeStatus, NeStatusDetails, OkStatus,
    Port, ProvisioningStatus, RequestBody, RequestMessageType, ResponseBody, TaskDetails,
    TaskResponseDetails, TaskStatus, TransactionId, X1Request, X1Response, X1Version, error_code,
};

type Error = Box<dyn std::error::Error>;

/// Entry of the `x1-*` subcommands.
pub fn main(cmd: &str, args: &[String]) -> ExitCode {
    let result = match (cmd, args) {
        ("x1-write", [out]) => write_all(Path::new(out)).map(|n| {
            eprintln!("li-conformance: wrote {n} X1 documents to {out}");
        }),
        ("x1-reencode", [input, output]) => reencode(Path::new(input), Path::new(output)),
        _ => Err("usage: li-conformance x1-write OUTDIR | x1-reencode IN.xml OUT.xml".into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("li-conformance: {e}");
            ExitCode::FAILURE
        }
    }
}

fn reencode(input: &Path, output: &Path) -> Result<(), Error> {
    let bytes = std::fs::read(input).map_err(|e| format!("{}: {e}", input.display()))?;
    let request = X1Request::from_xml(&bytes).map_err(|e| format!("{}: {e}", input.display()))?;
    let xml = request.to_xml()?;
    std::fs::write(output, &xml).map_err(|e| format!("{}: {e}", output.display()))?;
    let again = X1Request::from_xml(&xml)?;
    if again != request {
        return Err(format!(
            "{} re-encoded to {} decodes differently:\n{request:?}\n{again:?}",
            input.display(),
            output.display()
        )
        .into());
    }
    eprintln!(
        "li-conformance: {} decoded and re-encoded to {} ({} message(s))",
        input.display(),
        output.display(),
        request.messages.len()
    );
    Ok(())
}

fn write_all(dir: &Path) -> Result<usize, Error> {
    std::fs::create_dir_all(dir)?;
    let mut n = 0;
    for (variant, body) in requests() {
        let request = X1Request::single(header(), body);
        let kind = type_name(&request.to_xml()?)?;
        let name = file_name("request", &kind, variant);
        std::fs::write(dir.join(name), request.to_xml()?)?;
        n += 1;
    }
    // a container with several messages
    let several = X1Request {
        messages: requests()
            .into_iter()
            .take(3)
            .map(|(_, body)| li_handover::x1::RequestMessage {
                header: header(),
                body,
            })
            .collect(),
    };
    std::fs::write(dir.join("request-container-3.xml"), several.to_xml()?)?;
    n += 1;
    for (variant, body) in responses() {
        let response = X1Response::single(header(), body);
        let kind = type_name(&response.to_xml()?)?;
        let name = file_name("response", &kind, variant);
        std::fs::write(dir.join(name), response.to_xml()?)?;
        n += 1;
    }
    Ok(n)
}

fn file_name(side: &str, kind: &str, variant: &str) -> String {
    if variant.is_empty() {
        format!("{side}-{kind}.xml")
    } else {
        format!("{side}-{kind}-{variant}.xml")
    }
}

/// The `xsi:type` of the first message of an encoded document.
fn type_name(xml: &[u8]) -> Result<String, Error> {
    let text = std::str::from_utf8(xml)?;
    let start = text.find("xsi:type=\"").ok_or("no xsi:type")? + "xsi:type=\"".len();
    let len = text[start..].find('"').ok_or("unterminated xsi:type")?;
    Ok(text[start..start + len].to_owned())
}

fn ts(secs: u64, micros: u32) -> Timestamp {
    Timestamp::from_secs_micros(secs, micros).expect("in range")
}

fn header() -> MessageHeader {
    MessageHeader {
        admf_identifier: "admf1".into(),
        ne_identifier: "mdf-1".into(),
        message_timestamp: ts(1_704_164_645, 123_456),
        version: X1Version::CURRENT,
        x1_transaction_id: TransactionId::new_v4_from_random([0x5a; 16]),
    }
}

fn xid(n: u8) -> Xid {
    Xid::new_v4_from_random([n; 16])
}

fn did(n: u8) -> DestinationId {
    DestinationId::new_v4_from_random([n; 16])
}

fn task_full() -> TaskDetails {
    TaskDetails {
        xid: xid(1),
        targets: vec![
            TargetIdentifier::ipv4(Ipv4Addr::new(192, 0, 2, 1)),
            TargetIdentifier::ipv6("2001:db8::1".parse().expect("v6")),
            TargetIdentifier::ip_prefix("198.51.100.0".parse().expect("v4"), 24).expect("prefix"),
            TargetIdentifier::ip_prefix("0.0.0.0".parse().expect("v4"), 0).expect("prefix"),
            TargetIdentifier::ip_prefix("2001:db8:1::".parse().expect("v6"), 48).expect("prefix"),
            TargetIdentifier::mac([0x00, 0x11, 0x22, 0xaa, 0xbb, 0xcc]),
            TargetIdentifier::sip_uri("sips:alice@example.net;transport=tcp").expect("sip"),
            TargetIdentifier::e164("+4930123456").expect("e164"),
            TargetIdentifier::username("alice@isp.example").expect("nai"),
        ],
        delivery_type: DeliveryType::X2AndX3,
        dids: vec![did(1), did(2)],
        mediation_details: vec![MediationDetails {
            liid: Liid::new(b"LIID-0001").expect("liid"),
            delivery_type: MediationDeliveryType::Hi2AndHi3,
            start_time: Some(ts(1_704_067_200, 0)),
            end_time: Some(ts(1_735_689_599, 999_999)),
            dids: Some(vec![did(1)]),
        }],
        correlation_id: Some(42),
        implicit_deactivation_allowed: Some(true),
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

fn destinations() -> Vec<(&'static str, DestinationDetails)> {
    let base = |n: u8, address| DestinationDetails {
        did: did(n),
        friendly_name: Some(format!("LEA {n} <x2> & \"friends\"")),
        delivery_type: DeliveryType::X2AndX3,
        delivery_address: address,
    };
    vec![
        (
            "ipv4-tcp",
            base(
                1,
                DeliveryAddress::IpAddressPort {
                    address: IpAddr::V4(Ipv4Addr::new(198, 51, 100, 7)),
                    port: Port::Tcp(50_000),
                },
            ),
        ),
        (
            "ipv6-udp",
            DestinationDetails {
                friendly_name: None,
                delivery_type: DeliveryType::X3Only,
                ..base(
                    2,
                    DeliveryAddress::IpAddressPort {
                        address: IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 7)),
                        port: Port::Udp(0),
                    },
                )
            },
        ),
        (
            "e164",
            base(
                3,
                DeliveryAddress::E164Number(E164Number::new("+33123").expect("e164")),
            ),
        ),
        (
            "uri",
            base(
                4,
                DeliveryAddress::Uri("https://lea.example/x2?a=1&b=2".into()),
            ),
        ),
        (
            // an agency's HI address as the ADMF sends it: transport, address and the
            // agency's handover format in one URI
            "hi-address",
            base(
                5,
                HiAddress {
                    transport: HiTransport::Tls,
                    addr: SocketAddr::new(
                        IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 9)),
                        6001,
                    ),
                    format: HandoverFormat::Etsi102232 {
                        ps_pdu_version: 20,
                        ip_access_version: 9,
                        ip_multimedia_version: 14,
                    },
                }
                .to_x1()
                .expect("a TLS address has an X1 form"),
            ),
        ),
    ]
}

fn requests() -> Vec<(&'static str, RequestBody)> {
    let mut out = vec![
        ("full", RequestBody::ActivateTask(task_full())),
        ("minimal", RequestBody::ActivateTask(task_minimal())),
        ("", RequestBody::ModifyTask(task_full())),
        ("", RequestBody::DeactivateTask(xid(3))),
        ("", RequestBody::DeactivateAllTasks),
        ("", RequestBody::RemoveDestination(did(4))),
        ("", RequestBody::RemoveAllDestinations),
        ("", RequestBody::GetTaskDetails(xid(5))),
        ("", RequestBody::GetDestinationDetails(did(6))),
        ("", RequestBody::GetNeStatus),
        ("", RequestBody::GetAllDetails),
        ("", RequestBody::ListAllDetails),
        ("", RequestBody::GetAllTaskDetails),
        ("", RequestBody::GetAllDestinationDetails),
        ("", RequestBody::Ping),
        ("", RequestBody::Keepalive),
    ];
    for (variant, d) in destinations() {
        out.push((variant, RequestBody::CreateDestination(d.clone())));
        out.push((variant, RequestBody::ModifyDestination(d)));
    }
    out
}

fn fault(code: i64) -> ErrorInformation {
    ErrorInformation {
        code,
        description: format!("fault {code} <&>"),
    }
}

fn task_response(details: TaskDetails, full: bool) -> TaskResponseDetails {
    let status = if full {
        TaskStatus {
            provisioning_status: ProvisioningStatus::Complete,
            faults: vec![fault(7), fault(-1)],
            time_of_last_intercept: Some(ts(1_704_164_000, 1)),
            amount_of_x2_data: Some(u64::MAX),
            amount_of_x3_data: Some(0),
            time_of_last_modification: Some(ts(1_704_000_000, 0)),
            number_of_modifications: Some(3),
        }
    } else {
        TaskStatus::new(ProvisioningStatus::AwaitingProvisioning)
    };
    TaskResponseDetails { details, status }
}

fn destination_response(details: DestinationDetails) -> DestinationResponseDetails {
    DestinationResponseDetails {
        details,
        delivery_status: DestinationDeliveryStatus::ActiveAndWorking,
        faults: vec![fault(500)],
    }
}

fn responses() -> Vec<(&'static str, ResponseBody)> {
    let mut out: Vec<(&'static str, ResponseBody)> = AckKind::ALL
        .into_iter()
        .map(|kind| {
            (
                "",
                ResponseBody::Ok {
                    kind,
                    status: OkStatus::AcknowledgedAndCompleted,
                },
            )
        })
        .collect();
    let ne = NeStatusDetails {
        status: NeStatus::Faults,
        faults: vec![fault(1)],
    };
    out.extend([
        (
            "acknowledged",
            ResponseBody::Ok {
                kind: AckKind::ActivateTask,
                status: OkStatus::Acknowledged,
            },
        ),
        (
            "full",
            ResponseBody::GetTaskDetails(task_response(task_full(), true)),
        ),
        (
            "minimal",
            ResponseBody::GetTaskDetails(task_response(task_minimal(), false)),
        ),
        (
            "",
            ResponseBody::GetDestinationDetails(destination_response(
                destinations().swap_remove(0).1,
            )),
        ),
        ("", ResponseBody::GetNeStatus(ne.clone())),
        (
            "full",
            ResponseBody::GetAllDetails {
                ne_status: ne,
                tasks: vec![
                    task_response(task_full(), true),
                    task_response(task_minimal(), false),
                ],
                destinations: destinations()
                    .into_iter()
                    .map(|(_, d)| destination_response(d))
                    .collect(),
            },
        ),
        (
            "empty",
            ResponseBody::GetAllDetails {
                ne_status: NeStatusDetails {
                    status: NeStatus::Ok,
                    faults: Vec::new(),
                },
                tasks: Vec::new(),
                destinations: Vec::new(),
            },
        ),
        (
            "",
            ResponseBody::ListAllDetails {
                xids: vec![xid(1), xid(2)],
                dids: vec![did(1)],
            },
        ),
        (
            "",
            ResponseBody::GetAllTaskDetails(vec![task_response(task_full(), true)]),
        ),
        (
            "",
            ResponseBody::GetAllDestinationDetails(
                destinations()
                    .into_iter()
                    .map(|(_, d)| destination_response(d))
                    .collect(),
            ),
        ),
        (
            "",
            ResponseBody::Error(ErrorResponse {
                request_message_type: RequestMessageType::ActivateTask,
                error: ErrorInformation {
                    code: error_code::MALFORMED_REQUEST,
                    description: "X1Request/ActivateTaskRequest/taskDetails/xId: not a UUID at \
                                  byte 412"
                        .into(),
                },
                extended_request_message_type: None,
            }),
        ),
        (
            "extension",
            ResponseBody::Error(ErrorResponse {
                request_message_type: RequestMessageType::ExtendedRequestMessageType,
                error: fault(error_code::UNSUPPORTED),
                extended_request_message_type: Some("GetAllObjectDetails".into()),
            }),
        ),
    ]);
    out
}
