//! The typed X1 message model (TS 103 221-1 clause 6 and its XSD, version 1.22.1).

use core::fmt;
use core::str::FromStr;
use std::net::{IpAddr, SocketAddr};

use li_core::{
    DestinationId, E164Number, HandoverFormat, InterceptScope, Liid, TargetIdentifier, Timestamp,
    Xid,
};

/// An `X1Request` document: one or more request messages (XSD `RequestContainer`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct X1Request {
    /// The `x1RequestMessage` elements, in document order (at least one).
    pub messages: Vec<RequestMessage>,
}

/// An `X1Response` document: one or more response messages (XSD `ResponseContainer`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct X1Response {
    /// The `x1ResponseMessage` elements, in document order (at least one).
    pub messages: Vec<ResponseMessage>,
}

impl X1Request {
    /// A container holding one message.
    pub fn single(header: MessageHeader, body: RequestBody) -> Self {
        Self {
            messages: vec![RequestMessage { header, body }],
        }
    }
}

impl X1Response {
    /// A container holding one message.
    pub fn single(header: MessageHeader, body: ResponseBody) -> Self {
        Self {
            messages: vec![ResponseMessage { header, body }],
        }
    }
}

/// One `x1RequestMessage`: the common header (XSD `X1RequestMessage`) and the message its
/// `xsi:type` names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestMessage {
    /// admfIdentifier, neIdentifier, messageTimestamp, version, x1TransactionId.
    pub header: MessageHeader,
    /// The request proper.
    pub body: RequestBody,
}

/// One `x1ResponseMessage`: the common header (XSD `X1ResponseMessage`) and the message its
/// `xsi:type` names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResponseMessage {
    /// admfIdentifier, neIdentifier, messageTimestamp, version, x1TransactionId.
    pub header: MessageHeader,
    /// The response proper.
    pub body: ResponseBody,
}

/// The header every request and response message starts with (TS 103 221-1 clause 6.1).
///
/// `admf_identifier` and `ne_identifier` are XSD `xs:token`s: on decode their whitespace is
/// collapsed as XSD prescribes; on encode they must already be collapsed (no leading,
/// trailing or doubled spaces, no tabs or line breaks).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MessageHeader {
    /// The ADMF sending the request (or addressed by the response).
    pub admf_identifier: String,
    /// The network element (POI or MDF) addressed by the request (or answering).
    pub ne_identifier: String,
    /// When the message was sent (`QualifiedMicrosecondDateTime`, written in UTC).
    pub message_timestamp: Timestamp,
    /// The version of TS 103 221-1 the sender implements.
    pub version: X1Version,
    /// Pairs a response with its request (clause 5.2); a response repeats the request's.
    pub x1_transaction_id: TransactionId,
}

impl MessageHeader {
    /// The header of a response to `request`: the same identifiers, transaction id and
    /// version, with the time of the response.
    pub fn response_to(request: &Self, now: Timestamp) -> Self {
        Self {
            message_timestamp: now,
            ..request.clone()
        }
    }
}

/// The TS 103 221-1 version in a message header, `v1.<minor>.<patch>` (XSD `Version`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct X1Version {
    /// The middle number.
    pub minor: u32,
    /// The last number.
    pub patch: u32,
}

impl X1Version {
    /// The version of the XSD this module implements, v1.22.1.
    pub const CURRENT: Self = Self {
        minor: 22,
        patch: 1,
    };
}

impl fmt::Display for X1Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v1.{}.{}", self.minor, self.patch)
    }
}

impl FromStr for X1Version {
    type Err = &'static str;

    /// Parses `v1.<digits>.<digits>` (ASCII digits).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        const BAD: &str = "not a version v1.<minor>.<patch>";
        let rest = s.strip_prefix("v1.").ok_or(BAD)?;
        let (minor, patch) = rest.split_once('.').ok_or(BAD)?;
        let number = |t: &str| {
            if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
                return Err(BAD);
            }
            t.parse::<u32>().map_err(|_| "version number out of range")
        };
        Ok(Self {
            minor: number(minor)?,
            patch: number(patch)?,
        })
    }
}

/// The `x1TransactionId` of clause 5.2: a UUID chosen by the ADMF for each request.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TransactionId([u8; 16]);

impl TransactionId {
    /// The identifier with these 16 octets (network byte order).
    pub const fn from_bytes(bytes: [u8; 16]) -> Self {
        Self(bytes)
    }

    /// A random (version 4) identifier made from 16 caller-supplied random octets.
    pub const fn new_v4_from_random(random: [u8; 16]) -> Self {
        Self(*Xid::new_v4_from_random(random).as_bytes())
    }

    /// The 16 octets.
    pub const fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }
}

impl FromStr for TransactionId {
    type Err = li_core::Error;

    /// Parses the canonical `8-4-4-4-12` hexadecimal form, in either case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        // The UUID syntax is li-core's; only the type differs.
        s.parse::<Xid>().map(|x| Self(*x.as_bytes()))
    }
}

impl fmt::Display for TransactionId {
    /// Writes the canonical lowercase form.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&Xid::from_bytes(self.0), f)
    }
}

impl fmt::Debug for TransactionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TransactionId({self})")
    }
}

/// The request messages this module models, by their `xsi:type` (clause 6.2 to 6.6).
///
/// Not modelled (a decode error naming the type, which the server answers with an
/// `ErrorResponse`): ReportTaskIssue, ReportDestinationIssue, ReportNEIssue (sent by the NE,
/// not to it), GetAllGenericObjectDetails and the generic object messages (CreateObject,
/// ModifyObject, GetObject, DeleteObject, ListObjectsOfType, DeleteAllObjects).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RequestBody {
    /// `ActivateTaskRequest` (6.2.1).
    ActivateTask(TaskDetails),
    /// `ModifyTaskRequest` (6.2.2): the task's complete new details.
    ModifyTask(TaskDetails),
    /// `DeactivateTaskRequest` (6.2.3).
    DeactivateTask(Xid),
    /// `DeactivateAllTasksRequest` (6.2.4).
    DeactivateAllTasks,
    /// `CreateDestinationRequest` (6.3.1).
    CreateDestination(DestinationDetails),
    /// `ModifyDestinationRequest` (6.3.2).
    ModifyDestination(DestinationDetails),
    /// `RemoveDestinationRequest` (6.3.3).
    RemoveDestination(DestinationId),
    /// `RemoveAllDestinationsRequest` (6.3.4).
    RemoveAllDestinations,
    /// `GetTaskDetailsRequest` (6.4.2).
    GetTaskDetails(Xid),
    /// `GetDestinationDetailsRequest` (6.4.3).
    GetDestinationDetails(DestinationId),
    /// `GetNEStatusRequest` (6.4.4).
    GetNeStatus,
    /// `GetAllDetailsRequest` (6.4.5).
    GetAllDetails,
    /// `ListAllDetailsRequest` (6.4.6).
    ListAllDetails,
    /// `GetAllTaskDetailsRequest` (6.4.7).
    GetAllTaskDetails,
    /// `GetAllDestinationDetailsRequest` (6.4.8).
    GetAllDestinationDetails,
    /// `PingRequest` (6.6.1).
    Ping,
    /// `KeepaliveRequest` (6.6.2).
    Keepalive,
}

impl RequestBody {
    /// The `RequestMessageType` of this request (as an `ErrorResponse` names it).
    pub fn message_type(&self) -> RequestMessageType {
        use RequestMessageType as T;
        match self {
            Self::ActivateTask(_) => T::ActivateTask,
            Self::ModifyTask(_) => T::ModifyTask,
            Self::DeactivateTask(_) => T::DeactivateTask,
            Self::DeactivateAllTasks => T::DeactivateAllTasks,
            Self::CreateDestination(_) => T::CreateDestination,
            Self::ModifyDestination(_) => T::ModifyDestination,
            Self::RemoveDestination(_) => T::RemoveDestination,
            Self::RemoveAllDestinations => T::RemoveAllDestinations,
            Self::GetTaskDetails(_) => T::GetTaskDetails,
            Self::GetDestinationDetails(_) => T::GetDestinationDetails,
            Self::GetNeStatus => T::GetNeStatus,
            Self::GetAllDetails => T::GetAllDetails,
            Self::ListAllDetails => T::ListAllDetails,
            Self::GetAllTaskDetails => T::GetAllTaskDetails,
            Self::GetAllDestinationDetails => T::GetAllDestinationDetails,
            Self::Ping => T::Ping,
            Self::Keepalive => T::Keepalive,
        }
    }
}

/// The response messages this module models, by their `xsi:type`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ResponseBody {
    /// Every response whose only content is `oK` (`ActivateTaskResponse`,
    /// `PingResponse` ...): which one is `kind`.
    Ok {
        /// Which request this acknowledges.
        kind: AckKind,
        /// Acknowledged only, or acknowledged and completed.
        status: OkStatus,
    },
    /// `GetTaskDetailsResponse` (6.4.2).
    GetTaskDetails(TaskResponseDetails),
    /// `GetDestinationDetailsResponse` (6.4.3).
    GetDestinationDetails(DestinationResponseDetails),
    /// `GetNEStatusResponse` (6.4.4).
    GetNeStatus(NeStatusDetails),
    /// `GetAllDetailsResponse` (6.4.5); `listOfGenericObjectResponseDetails` is not modelled.
    GetAllDetails {
        /// The NE's own status.
        ne_status: NeStatusDetails,
        /// Every task.
        tasks: Vec<TaskResponseDetails>,
        /// Every destination.
        destinations: Vec<DestinationResponseDetails>,
    },
    /// `ListAllDetailsResponse` (6.4.6); `ListOfGenericObjectIDs` is not modelled.
    ListAllDetails {
        /// Every task's XID.
        xids: Vec<Xid>,
        /// Every destination's DID.
        dids: Vec<DestinationId>,
    },
    /// `GetAllTaskDetailsResponse` (6.4.7). The optional list is always written; absent
    /// decodes as empty.
    GetAllTaskDetails(Vec<TaskResponseDetails>),
    /// `GetAllDestinationDetailsResponse` (6.4.8). The optional list is always written;
    /// absent decodes as empty.
    GetAllDestinationDetails(Vec<DestinationResponseDetails>),
    /// `ErrorResponse` (6.7).
    Error(ErrorResponse),
}

impl ResponseBody {
    /// The message's `xsi:type` on the wire (`"ActivateTaskResponse"`, `"ErrorResponse"` ...).
    pub fn xsi_type(&self) -> &'static str {
        match self {
            ResponseBody::Ok { kind, .. } => kind.response_type(),
            ResponseBody::GetTaskDetails(_) => "GetTaskDetailsResponse",
            ResponseBody::GetDestinationDetails(_) => "GetDestinationDetailsResponse",
            ResponseBody::GetNeStatus(_) => "GetNEStatusResponse",
            ResponseBody::GetAllDetails { .. } => "GetAllDetailsResponse",
            ResponseBody::ListAllDetails { .. } => "ListAllDetailsResponse",
            ResponseBody::GetAllTaskDetails(_) => "GetAllTaskDetailsResponse",
            ResponseBody::GetAllDestinationDetails(_) => "GetAllDestinationDetailsResponse",
            ResponseBody::Error(_) => "ErrorResponse",
        }
    }
}

/// The requests answered by a bare `oK` (see [`ResponseBody::Ok`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AckKind {
    /// `ActivateTaskResponse`.
    ActivateTask,
    /// `ModifyTaskResponse`.
    ModifyTask,
    /// `DeactivateTaskResponse`.
    DeactivateTask,
    /// `DeactivateAllTasksResponse`.
    DeactivateAllTasks,
    /// `CreateDestinationResponse`.
    CreateDestination,
    /// `ModifyDestinationResponse`.
    ModifyDestination,
    /// `RemoveDestinationResponse`.
    RemoveDestination,
    /// `RemoveAllDestinationsResponse`.
    RemoveAllDestinations,
    /// `PingResponse`.
    Ping,
    /// `KeepaliveResponse`.
    Keepalive,
}

impl AckKind {
    /// Every kind.
    pub const ALL: [Self; 10] = [
        Self::ActivateTask,
        Self::ModifyTask,
        Self::DeactivateTask,
        Self::DeactivateAllTasks,
        Self::CreateDestination,
        Self::ModifyDestination,
        Self::RemoveDestination,
        Self::RemoveAllDestinations,
        Self::Ping,
        Self::Keepalive,
    ];

    /// The request this acknowledges.
    pub const fn request_type(self) -> RequestMessageType {
        use RequestMessageType as T;
        match self {
            Self::ActivateTask => T::ActivateTask,
            Self::ModifyTask => T::ModifyTask,
            Self::DeactivateTask => T::DeactivateTask,
            Self::DeactivateAllTasks => T::DeactivateAllTasks,
            Self::CreateDestination => T::CreateDestination,
            Self::ModifyDestination => T::ModifyDestination,
            Self::RemoveDestination => T::RemoveDestination,
            Self::RemoveAllDestinations => T::RemoveAllDestinations,
            Self::Ping => T::Ping,
            Self::Keepalive => T::Keepalive,
        }
    }

    /// The `xsi:type` of the response, e.g. `"ActivateTaskResponse"`.
    pub const fn response_type(self) -> &'static str {
        match self {
            Self::ActivateTask => "ActivateTaskResponse",
            Self::ModifyTask => "ModifyTaskResponse",
            Self::DeactivateTask => "DeactivateTaskResponse",
            Self::DeactivateAllTasks => "DeactivateAllTasksResponse",
            Self::CreateDestination => "CreateDestinationResponse",
            Self::ModifyDestination => "ModifyDestinationResponse",
            Self::RemoveDestination => "RemoveDestinationResponse",
            Self::RemoveAllDestinations => "RemoveAllDestinationsResponse",
            Self::Ping => "PingResponse",
            Self::Keepalive => "KeepaliveResponse",
        }
    }
}

/// XSD `OK`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OkStatus {
    /// `AcknowledgedAndCompleted`: done.
    AcknowledgedAndCompleted,
    /// `Acknowledged`: accepted, to be completed later.
    Acknowledged,
}

/// Defines a string enumeration of the XSD with `as_str` and `FromStr`.
macro_rules! xsd_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $text:literal,)+ }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vdoc])* $variant,)+
        }

        impl $name {
            /// Every value, in XSD order.
            pub const ALL: &'static [Self] = &[$(Self::$variant,)+];

            /// The XSD enumeration value.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text,)+
                }
            }
        }

        impl FromStr for $name {
            type Err = String;

            /// Parses the XSD enumeration value (exact, case-sensitive).
            fn from_str(s: &str) -> Result<Self, String> {
                match s {
                    $($text => Ok(Self::$variant),)+
                    _ => Err(format!(
                        "not one of {}",
                        [$($text),+].join(", ")
                    )),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

xsd_enum! {
    /// XSD `DeliveryType`: what the NE sends over X2/X3 for a task or destination.
    DeliveryType {
        /// `X2Only`: IRI only.
        X2Only = "X2Only",
        /// `X3Only`: content only.
        X3Only = "X3Only",
        /// `X2andX3`: both.
        X2AndX3 = "X2andX3",
    }
}

impl DeliveryType {
    /// The li-core scope: X2Only is IRI only, X2andX3 IRI and CC; X3Only (content without
    /// IRI) has no li-core scope and gives `None`.
    pub const fn scope(self) -> Option<InterceptScope> {
        match self {
            Self::X2Only => Some(InterceptScope::IriOnly),
            Self::X2AndX3 => Some(InterceptScope::IriAndCc),
            Self::X3Only => None,
        }
    }

    /// The delivery type of a li-core scope.
    pub const fn from_scope(scope: InterceptScope) -> Self {
        match scope {
            InterceptScope::IriOnly => Self::X2Only,
            InterceptScope::IriAndCc => Self::X2AndX3,
        }
    }
}

xsd_enum! {
    /// XSD `MediationDeliveryType`: what the MDF delivers over HI2/HI3.
    MediationDeliveryType {
        /// `HI2Only`.
        Hi2Only = "HI2Only",
        /// `HI3Only`.
        Hi3Only = "HI3Only",
        /// `HI2andHI3`.
        Hi2AndHi3 = "HI2andHI3",
    }
}

xsd_enum! {
    /// XSD `ProvisioningStatus` of a task (6.4.2.2).
    ProvisioningStatus {
        /// `awaitingProvisioning`.
        AwaitingProvisioning = "awaitingProvisioning",
        /// `failed`.
        Failed = "failed",
        /// `complete`.
        Complete = "complete",
    }
}

xsd_enum! {
    /// XSD `DestinationDeliveryStatus` (6.4.3.2).
    DestinationDeliveryStatus {
        /// `activeAndWorking`.
        ActiveAndWorking = "activeAndWorking",
        /// `deliveryFault`.
        DeliveryFault = "deliveryFault",
    }
}

xsd_enum! {
    /// XSD `NeStatus` (6.4.4).
    NeStatus {
        /// `OK`.
        Ok = "OK",
        /// `Faults`.
        Faults = "Faults",
    }
}

xsd_enum! {
    /// XSD `RequestMessageType`: which request an `ErrorResponse` answers (every value of the
    /// XSD, including requests this module does not model).
    RequestMessageType {
        /// `ActivateTask`.
        ActivateTask = "ActivateTask",
        /// `ModifyTask`.
        ModifyTask = "ModifyTask",
        /// `DeactivateTask`.
        DeactivateTask = "DeactivateTask",
        /// `DeactivateAllTasks`.
        DeactivateAllTasks = "DeactivateAllTasks",
        /// `GetTaskDetails`.
        GetTaskDetails = "GetTaskDetails",
        /// `CreateDestination`.
        CreateDestination = "CreateDestination",
        /// `ModifyDestination`.
        ModifyDestination = "ModifyDestination",
        /// `RemoveDestination`.
        RemoveDestination = "RemoveDestination",
        /// `RemoveAllDestinations`.
        RemoveAllDestinations = "RemoveAllDestinations",
        /// `GetDestinationDetails`.
        GetDestinationDetails = "GetDestinationDetails",
        /// `GetNEStatus`.
        GetNeStatus = "GetNEStatus",
        /// `GetAllDetails`.
        GetAllDetails = "GetAllDetails",
        /// `GetAllTaskDetails`.
        GetAllTaskDetails = "GetAllTaskDetails",
        /// `GetAllDestinationDetails`.
        GetAllDestinationDetails = "GetAllDestinationDetails",
        /// `GetAllGenericObjectDetails`.
        GetAllGenericObjectDetails = "GetAllGenericObjectDetails",
        /// `ListAllDetails`.
        ListAllDetails = "ListAllDetails",
        /// `ReportTaskIssue`.
        ReportTaskIssue = "ReportTaskIssue",
        /// `ReportDestinationIssue`.
        ReportDestinationIssue = "ReportDestinationIssue",
        /// `ReportNEIssue`.
        ReportNeIssue = "ReportNEIssue",
        /// `Ping`.
        Ping = "Ping",
        /// `Keepalive`.
        Keepalive = "Keepalive",
        /// `CreateObject`.
        CreateObject = "CreateObject",
        /// `ModifyObject`.
        ModifyObject = "ModifyObject",
        /// `GetObject`.
        GetObject = "GetObject",
        /// `DeleteObject`.
        DeleteObject = "DeleteObject",
        /// `ListObjectsOfType`.
        ListObjectsOfType = "ListObjectsOfType",
        /// `DeleteAllObjects`.
        DeleteAllObjects = "DeleteAllObjects",
        /// `ExtendedRequestMessageType` (see [`ErrorResponse::extended_request_message_type`]).
        ExtendedRequestMessageType = "ExtendedRequestMessageType",
    }
}

impl RequestMessageType {
    /// The request type named by a request's `xsi:type` (`"ActivateTaskRequest"` ->
    /// `ActivateTask`), if it is one of the XSD's.
    pub fn from_request_type(xsi_type: &str) -> Option<Self> {
        let name = xsi_type.strip_suffix("Request")?;
        name.parse()
            .ok()
            .filter(|t| *t != Self::ExtendedRequestMessageType)
    }
}

/// XSD `ErrorResponse` (6.7).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ErrorResponse {
    /// The request that failed.
    pub request_message_type: RequestMessageType,
    /// Why.
    pub error: ErrorInformation,
    /// `extensionInformation/extendedRequestMessageType` (with `extensionSpecification`
    /// TS133128, the only value the XSD allows), for requests defined by TS 133 128.
    pub extended_request_message_type: Option<String>,
}

/// XSD `ErrorInformation`: an error or fault code and its description. It is also the error
/// an NE's handler returns for a request it does not execute (the probe's and the mediator's
/// refusals), so what is refused and what is answered are one value.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{description} (X1 error {code})")]
pub struct ErrorInformation {
    /// `errorCode` (an `xs:integer`; values outside `i64` are refused on decode).
    pub code: i64,
    /// `errorDescription`.
    pub description: String,
}

/// Error codes this implementation puts in the `ErrorResponse`s it generates.
///
/// The TS 103 221-1 schema types `errorCode` as an open `xs:integer` and defines no values
/// for these cases, so these are ours, stable across releases; [`X1ErrorKind`] is their
/// typed form.
pub mod error_code {
    /// The request could not be decoded (malformed XML, schema violation, a value out of
    /// range); the description names the element and byte.
    pub const MALFORMED_REQUEST: i64 = 1000;
    /// The request is valid but uses a message, element or value this NE does not support.
    pub const UNSUPPORTED: i64 = 1001;
    /// The request was not executed because another message in the same `X1Request` was
    /// malformed (a container is executed entirely or not at all).
    pub const NOT_EXECUTED: i64 = 1002;
    /// The `admfIdentifier` is not one this NE accepts requests from.
    pub const ADMF_NOT_AUTHORISED: i64 = 1003;
    /// The handler failed (the description says why).
    pub const HANDLER_FAILED: i64 = 1004;
    /// The XID named by the request is not a task on this NE.
    pub const XID_UNKNOWN: i64 = 1010;
    /// The XID of an `ActivateTask` is already a task on this NE.
    pub const XID_EXISTS: i64 = 1011;
    /// A DID named by the request (the destination itself, or one a task lists) is not a
    /// destination on this NE.
    pub const DID_UNKNOWN: i64 = 1020;
    /// The DID of a `CreateDestination` is already a destination on this NE.
    pub const DID_EXISTS: i64 = 1021;
    /// The destination cannot be removed: a task still delivers to it.
    pub const DID_IN_USE: i64 = 1022;
    /// A target identifier of a kind this NE cannot intercept.
    pub const TARGET_UNSUPPORTED: i64 = 1030;
    /// A handover format or version this NE cannot produce.
    pub const FORMAT_UNSUPPORTED: i64 = 1031;
}

/// What an X1 `errorCode` means: the typed form of [`error_code`], so that an ADMF decides
/// on the code an NE answered, never on the words of its description.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum X1ErrorKind {
    /// [`error_code::MALFORMED_REQUEST`].
    MalformedRequest,
    /// [`error_code::UNSUPPORTED`].
    Unsupported,
    /// [`error_code::NOT_EXECUTED`].
    NotExecuted,
    /// [`error_code::ADMF_NOT_AUTHORISED`].
    AdmfNotAuthorised,
    /// [`error_code::HANDLER_FAILED`].
    HandlerFailed,
    /// [`error_code::XID_UNKNOWN`].
    XidUnknown,
    /// [`error_code::XID_EXISTS`].
    XidExists,
    /// [`error_code::DID_UNKNOWN`].
    DidUnknown,
    /// [`error_code::DID_EXISTS`].
    DidExists,
    /// [`error_code::DID_IN_USE`].
    DidInUse,
    /// [`error_code::TARGET_UNSUPPORTED`].
    TargetUnsupported,
    /// [`error_code::FORMAT_UNSUPPORTED`].
    FormatUnsupported,
}

impl X1ErrorKind {
    /// Every kind, in code order.
    pub const ALL: [Self; 12] = [
        Self::MalformedRequest,
        Self::Unsupported,
        Self::NotExecuted,
        Self::AdmfNotAuthorised,
        Self::HandlerFailed,
        Self::XidUnknown,
        Self::XidExists,
        Self::DidUnknown,
        Self::DidExists,
        Self::DidInUse,
        Self::TargetUnsupported,
        Self::FormatUnsupported,
    ];

    /// The `errorCode` value.
    pub const fn code(self) -> i64 {
        match self {
            Self::MalformedRequest => error_code::MALFORMED_REQUEST,
            Self::Unsupported => error_code::UNSUPPORTED,
            Self::NotExecuted => error_code::NOT_EXECUTED,
            Self::AdmfNotAuthorised => error_code::ADMF_NOT_AUTHORISED,
            Self::HandlerFailed => error_code::HANDLER_FAILED,
            Self::XidUnknown => error_code::XID_UNKNOWN,
            Self::XidExists => error_code::XID_EXISTS,
            Self::DidUnknown => error_code::DID_UNKNOWN,
            Self::DidExists => error_code::DID_EXISTS,
            Self::DidInUse => error_code::DID_IN_USE,
            Self::TargetUnsupported => error_code::TARGET_UNSUPPORTED,
            Self::FormatUnsupported => error_code::FORMAT_UNSUPPORTED,
        }
    }

    /// The kind of an `errorCode`; `None` for a code this implementation does not define
    /// (another vendor's NE): treat it as a failure of unknown cause.
    pub fn from_code(code: i64) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.code() == code)
    }

    /// The object the request named is not on the NE: deactivating or removing it is
    /// therefore already done.
    pub fn says_absent(self) -> bool {
        matches!(self, Self::XidUnknown | Self::DidUnknown)
    }

    /// The object the request would create is already on the NE.
    pub fn says_exists(self) -> bool {
        matches!(self, Self::XidExists | Self::DidExists)
    }
}

impl ErrorInformation {
    /// An error of `kind` described by `description`.
    pub fn new(kind: X1ErrorKind, description: impl Into<String>) -> Self {
        Self {
            code: kind.code(),
            description: description.into(),
        }
    }

    /// The typed meaning of the code, if this implementation defines it.
    pub fn kind(&self) -> Option<X1ErrorKind> {
        X1ErrorKind::from_code(self.code)
    }
}

/// XSD `TaskDetails` (6.2.1.2).
///
/// Carried: xId, targetIdentifiers, deliveryType, listOfDIDs (dId only),
/// listOfMediationDetails, correlationID, implicitDeactivationAllowed, productID.
/// Refused on decode (not ignored: each could change what is intercepted or where it goes):
/// `dSId` destination sets, listOfServiceTypes, taskDetailsExtensions,
/// listOfTrafficPolicyReferences.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskDetails {
    /// The task.
    pub xid: Xid,
    /// What to intercept (at least one); see [`crate::x1`] for the mapping of XSD kinds.
    pub targets: Vec<TargetIdentifier>,
    /// X2, X3 or both.
    pub delivery_type: DeliveryType,
    /// Where X2/X3 for the task go (may be empty).
    pub dids: Vec<DestinationId>,
    /// MDF only: the LIIDs and HI delivery of the task (absent and empty are the same).
    pub mediation_details: Vec<MediationDetails>,
    /// `correlationID`.
    pub correlation_id: Option<u64>,
    /// `implicitDeactivationAllowed`.
    pub implicit_deactivation_allowed: Option<bool>,
    /// `productID`.
    pub product_id: Option<Xid>,
}

impl TaskDetails {
    /// Details with the mandatory fields only.
    pub fn new(
        xid: Xid,
        targets: Vec<TargetIdentifier>,
        delivery_type: DeliveryType,
        dids: Vec<DestinationId>,
    ) -> Self {
        Self {
            xid,
            targets,
            delivery_type,
            dids,
            mediation_details: Vec::new(),
            correlation_id: None,
            implicit_deactivation_allowed: None,
            product_id: None,
        }
    }
}

/// XSD `MediationDetails`: one LIID of a task at the MDF.
///
/// mediationDetailsExtensions, serviceScopingOptions and listOfTrafficPolicyReferences are
/// refused on decode.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MediationDetails {
    /// `LIID` (TS 103 280: 1 to 25 printable ASCII characters; the 26..50 hex digit form is
    /// refused, as [`Liid`] holds at most 25 octets).
    pub liid: Liid,
    /// HI2, HI3 or both.
    pub delivery_type: MediationDeliveryType,
    /// `StartTime`.
    pub start_time: Option<Timestamp>,
    /// `EndTime`.
    pub end_time: Option<Timestamp>,
    /// `listOfDIDs` (dId only); `None` when absent.
    pub dids: Option<Vec<DestinationId>>,
}

/// XSD `DestinationDetails` (6.3.1.2). destinationDetailsExtensions are refused on decode.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DestinationDetails {
    /// The destination.
    pub did: DestinationId,
    /// `friendlyName`.
    pub friendly_name: Option<String>,
    /// What the destination receives.
    pub delivery_type: DeliveryType,
    /// Where it is.
    pub delivery_address: DeliveryAddress,
}

/// XSD `DeliveryAddress`. The `emailAddress` alternative is refused on decode.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DeliveryAddress {
    /// `ipAddressAndPort` (TS 103 280 `IPAddressPort`).
    IpAddressPort {
        /// IPv4 or IPv6 address.
        address: IpAddr,
        /// TCP or UDP port.
        port: Port,
    },
    /// `e164Number`.
    E164Number(E164Number),
    /// `uri` (`xs:anyURI`; on encode: non-empty, no whitespace or control characters).
    Uri(String),
}

/// TS 103 280 `Port`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Port {
    /// `TCPPort`: 2..=65535 (TS 103 280 excludes 0 and 1).
    Tcp(u16),
    /// `UDPPort`: 0..=65535.
    Udp(u16),
}

/// How a mediator connects to an agency's HI address, as written in an X1 destination's
/// `deliveryAddress`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum HiTransport {
    /// As the mediator is configured: TLS when it has `hi_tls`, plain TCP otherwise (an X1
    /// `ipAddressAndPort`, which says nothing).
    #[default]
    Configured,
    /// TLS (X1 `uri` `tls://ip:port`); refused when the mediator has no `hi_tls`.
    Tls,
    /// Plain TCP (X1 `uri` `tcp://ip:port`), even when the mediator has `hi_tls`.
    PlainTcp,
    /// UDP datagrams (X1 `uri` `udp://ip:port`): only PacketCable call content (HI3) travels
    /// so; the mediator refuses it for anything else.
    Udp,
}

/// An agency's HI address as an X1 destination carries it: how the mediator connects
/// ([`HiTransport`]), where, and the handover format the agency expects — the one place the
/// format travels from the warrant store to the mediator's encoder.
///
/// Written as a `deliveryAddress` `uri` `tls://ip:port?handover=<format>`,
/// `tcp://ip:port?handover=<format>` or `udp://...` (PacketCable call content; the format in [`HandoverFormat`]'s text form,
/// e.g. `etsi-102232:43:18`). TS 103 221-1 defines no element for a handover format, and its
/// extension elements must be declared by a schema an agency's validator does not have; a URI
/// parameter keeps every message valid against the ETSI schema alone. An `ipAddressAndPort`
/// (TCP) is [`HiTransport::Configured`] with [`HandoverFormat::etsi_default`], as an NE of
/// another vendor provisions it.
///
/// ```
/// use li_core::HandoverFormat;
/// use li_handover::x1::{DeliveryAddress, HiAddress, HiTransport};
///
/// let lea = HiAddress {
///     transport: HiTransport::Tls,
///     addr: "192.0.2.7:6000".parse()?,
///     format: HandoverFormat::etsi_default(),
/// };
/// let x1 = lea.to_x1().expect("a TLS address has an X1 form");
/// assert_eq!(x1, DeliveryAddress::Uri("tls://192.0.2.7:6000?handover=etsi-102232:43:18".into()));
/// assert_eq!(HiAddress::from_x1(&x1)?, lea);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HiAddress {
    /// TLS, plain TCP, or as the mediator is configured.
    pub transport: HiTransport,
    /// The agency's IP address and TCP port.
    pub addr: SocketAddr,
    /// The handover format the agency expects.
    pub format: HandoverFormat,
}

/// Why an X1 `deliveryAddress` is not an HI address a mediator can deliver to.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HiAddressError {
    /// A UDP port, an `e164Number` or an `emailAddress`.
    #[error(
        "the delivery address must be an IP address and TCP port, or a tls://, tcp:// or udp:// URI"
    )]
    NotTcp,
    /// A URI of another scheme.
    #[error("delivery address URI {uri:?}: the scheme must be tls://, tcp:// or udp://")]
    Scheme {
        /// The URI (at most 64 characters of it).
        uri: String,
    },
    /// The URI's authority is not `ip:port` (an IPv6 address in brackets); host names are
    /// not resolved.
    #[error("delivery address URI {uri:?}: expected an IP address and port")]
    NotIpAndPort {
        /// The URI (at most 64 characters of it).
        uri: String,
    },
    /// A URI parameter other than `handover`, or `handover` twice.
    #[error("delivery address URI {uri:?}: unknown or repeated parameter {parameter:?}")]
    Parameter {
        /// The URI (at most 64 characters of it).
        uri: String,
        /// The parameter (at most 64 characters of it).
        parameter: String,
    },
    /// The `handover` parameter is not a handover format's text.
    #[error("delivery address URI {uri:?}: {source}")]
    Format {
        /// The URI (at most 64 characters of it).
        uri: String,
        /// What is wrong with the format text.
        source: li_core::Error,
    },
}

impl HiAddress {
    /// The X1 `deliveryAddress` of this address: `ipAddressAndPort` for
    /// [`HiTransport::Configured`] with the default format, a `tls://`, `tcp://` or `udp://`
    /// URI with the `handover` parameter for TLS, plain TCP or UDP. `None` for
    /// [`HiTransport::Configured`] with another format, which X1 cannot say.
    pub fn to_x1(&self) -> Option<DeliveryAddress> {
        let scheme = match self.transport {
            HiTransport::Configured if self.format == HandoverFormat::etsi_default() => {
                return Some(DeliveryAddress::IpAddressPort {
                    address: self.addr.ip(),
                    port: Port::Tcp(self.addr.port()),
                });
            }
            HiTransport::Configured => return None,
            HiTransport::Tls => "tls",
            HiTransport::PlainTcp => "tcp",
            HiTransport::Udp => "udp",
        };
        Some(DeliveryAddress::Uri(format!(
            "{scheme}://{}?handover={}",
            self.addr, self.format
        )))
    }

    /// The HI address an X1 `deliveryAddress` describes, as [`HiAddress::to_x1`] writes it;
    /// a URI without the `handover` parameter is [`HandoverFormat::etsi_default`].
    ///
    /// # Errors
    ///
    /// A [`HiAddressError`] naming what is wrong (UDP, another scheme, a host name, an
    /// unknown parameter, a format text that is not one).
    pub fn from_x1(address: &DeliveryAddress) -> Result<Self, HiAddressError> {
        let uri = match address {
            DeliveryAddress::IpAddressPort {
                address,
                port: Port::Tcp(port),
            } => {
                return Ok(Self {
                    transport: HiTransport::Configured,
                    addr: SocketAddr::new(*address, *port),
                    format: HandoverFormat::etsi_default(),
                });
            }
            DeliveryAddress::Uri(uri) => uri.as_str(),
            _ => return Err(HiAddressError::NotTcp),
        };
        let excerpt = || uri.chars().take(64).collect::<String>();
        let (transport, rest) = if let Some(rest) = uri.strip_prefix("tls://") {
            (HiTransport::Tls, rest)
        } else if let Some(rest) = uri.strip_prefix("tcp://") {
            (HiTransport::PlainTcp, rest)
        } else if let Some(rest) = uri.strip_prefix("udp://") {
            (HiTransport::Udp, rest)
        } else {
            return Err(HiAddressError::Scheme { uri: excerpt() });
        };
        let (authority, query) = rest.split_once('?').unwrap_or((rest, ""));
        let addr = authority
            .parse()
            .map_err(|_| HiAddressError::NotIpAndPort { uri: excerpt() })?;
        let mut format = None;
        for parameter in query.split('&').filter(|p| !p.is_empty()) {
            match parameter.split_once('=') {
                Some(("handover", text)) if format.is_none() => {
                    format = Some(text.parse().map_err(|source| HiAddressError::Format {
                        uri: excerpt(),
                        source,
                    })?);
                }
                _ => {
                    return Err(HiAddressError::Parameter {
                        uri: excerpt(),
                        parameter: parameter.chars().take(64).collect(),
                    });
                }
            }
        }
        Ok(Self {
            transport,
            addr,
            format: format.unwrap_or_else(HandoverFormat::etsi_default),
        })
    }
}

/// XSD `TaskResponseDetails`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskResponseDetails {
    /// The task as provisioned.
    pub details: TaskDetails,
    /// Its status.
    pub status: TaskStatus,
}

/// XSD `TaskStatus` (6.4.2.2). taskStatusExtensions are refused on decode; the `xs:integer`
/// counters are non-negative here (negative values are refused on decode).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskStatus {
    /// Provisioning state.
    pub provisioning_status: ProvisioningStatus,
    /// `listOfFaults` (may be empty).
    pub faults: Vec<ErrorInformation>,
    /// `timeOfLastIntercept`.
    pub time_of_last_intercept: Option<Timestamp>,
    /// `amountOfX2Data`.
    pub amount_of_x2_data: Option<u64>,
    /// `amountOfX3Data`.
    pub amount_of_x3_data: Option<u64>,
    /// `timeOfLastModification`.
    pub time_of_last_modification: Option<Timestamp>,
    /// `numberOfModifications`.
    pub number_of_modifications: Option<u64>,
}

impl TaskStatus {
    /// A status with the mandatory fields only.
    pub fn new(provisioning_status: ProvisioningStatus) -> Self {
        Self {
            provisioning_status,
            faults: Vec::new(),
            time_of_last_intercept: None,
            amount_of_x2_data: None,
            amount_of_x3_data: None,
            time_of_last_modification: None,
            number_of_modifications: None,
        }
    }
}

/// XSD `DestinationResponseDetails`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DestinationResponseDetails {
    /// The destination as provisioned.
    pub details: DestinationDetails,
    /// `destinationStatus/destinationDeliveryStatus`.
    pub delivery_status: DestinationDeliveryStatus,
    /// `destinationStatus/listOfFaults`.
    pub faults: Vec<ErrorInformation>,
}

/// XSD `NeStatusDetails`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NeStatusDetails {
    /// OK or Faults.
    pub status: NeStatus,
    /// `listOfFaults`.
    pub faults: Vec<ErrorInformation>,
}
