//! XML encoding and decoding of the X1 model (quick-xml), against the TS 103 221-1 XSD.
//!
//! Decoding first reads the document into a small tree (bounded by [`DecodeLimits`]), with
//! every element's namespace resolved by URI and its `xsi:type` resolved as a QName; typed
//! decoders then walk the XSD sequences in order, each step carrying the element path for
//! errors. Encoding writes the default namespace for X1 elements and the prefix
//! `etsi103280:` for the TS 103 280 elements inside its complex types.

use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use li_core::{DestinationId, E164Number, IpPrefix, Liid, TargetIdentifier, Timestamp, Xid};
use quick_xml::events::Event;
use quick_xml::name::{QName, ResolveResult};
use quick_xml::reader::NsReader;

use super::X1Error;
use super::model::{
    AckKind, DeliveryAddress, DeliveryType, DestinationDeliveryStatus, DestinationDetails,
    DestinationResponseDetails, ErrorInformation, ErrorResponse, MediationDeliveryType,
    MediationDetails, MessageHeader, NeStatus, NeStatusDetails, OkStatus, Port, RequestBody,
    RequestMessage, RequestMessageType, ResponseBody, ResponseMessage, TaskDetails,
    TaskResponseDetails, TaskStatus, TransactionId, X1Request, X1Response, X1Version,
};

/// The X1 namespace of TS 103 221-1 (all versions 1.x).
pub const X1_NAMESPACE: &str = "http://uri.etsi.org/03221/X1/2017/10";
/// The TS 103 280 common types namespace.
pub const COMMON_NAMESPACE: &str = "http://uri.etsi.org/03280/common/2017/07";
/// The TS 103 221-1 hashed identifier namespace.
pub const HASHED_ID_NAMESPACE: &str = "http://uri.etsi.org/03221/X1/2017/10/HashedID";
/// The XML Schema instance namespace (`xsi:type`).
pub const XSI_NAMESPACE: &str = "http://www.w3.org/2001/XMLSchema-instance";

/// Bounds on a document being decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DecodeLimits {
    /// Largest document accepted, in bytes.
    pub max_len: usize,
    /// Deepest element nesting accepted (the root is depth 1). The deepest X1 message
    /// (GetAllDetailsResponse with IPv4 CIDR targets) nests 9 deep.
    pub max_depth: usize,
}

impl DecodeLimits {
    /// 1 MiB and 32 levels.
    pub const DEFAULT: Self = Self {
        max_len: 1 << 20,
        max_depth: 32,
    };
}

impl Default for DecodeLimits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl X1Request {
    /// Decodes an `X1Request` document with [`DecodeLimits::DEFAULT`].
    pub fn from_xml(input: &[u8]) -> Result<Self, X1Error> {
        Self::from_xml_with_limits(input, &DecodeLimits::DEFAULT)
    }

    /// Decodes an `X1Request` document; the first malformed message's error is returned.
    pub fn from_xml_with_limits(input: &[u8], limits: &DecodeLimits) -> Result<Self, X1Error> {
        let messages = decode_request_outcomes(input, limits)?
            .into_iter()
            .map(|outcome| match outcome {
                Outcome::Decoded(message) => Ok(message),
                Outcome::Failed { error, .. } => Err(error),
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { messages })
    }

    /// Encodes the request as an XML document (UTF-8, with an XML declaration); fails if a
    /// value breaks a constraint of the XSD.
    pub fn to_xml(&self) -> Result<Vec<u8>, X1Error> {
        let mut w = Writer::new("X1Request");
        if self.messages.is_empty() {
            return Err(w.fail("", "an X1Request holds at least one message"));
        }
        for message in &self.messages {
            let xsi_type = request_xsi_type(&message.body);
            w.open_typed("x1RequestMessage", xsi_type);
            write_header(&mut w, &message.header)?;
            write_request_body(&mut w, &message.body)?;
            w.close();
        }
        Ok(w.finish())
    }
}

impl X1Response {
    /// Decodes an `X1Response` document with [`DecodeLimits::DEFAULT`].
    pub fn from_xml(input: &[u8]) -> Result<Self, X1Error> {
        Self::from_xml_with_limits(input, &DecodeLimits::DEFAULT)
    }

    /// Decodes an `X1Response` document.
    pub fn from_xml_with_limits(input: &[u8], limits: &DecodeLimits) -> Result<Self, X1Error> {
        let root = parse_tree(input, limits)?;
        let cx = Cx::root(&root.name);
        if root.ns != Ns::X1 || root.name != "X1Response" {
            let reason = if root.ns == Ns::X1 && root.name == "X1TopLevelErrorResponse" {
                "the peer answered X1TopLevelErrorResponse (it could not parse the request)"
                    .to_owned()
            } else {
                format!(
                    "expected the root element X1Response, found {}",
                    root.describe()
                )
            };
            return Err(cx.err(root.pos, reason));
        }
        let items = message_items(&cx, &root, "x1ResponseMessage")?;
        let messages = items
            .into_iter()
            .map(|(node, xsi_type, cx)| decode_response_message(&cx, node, xsi_type))
            .collect::<Result<_, _>>()?;
        Ok(Self { messages })
    }

    /// Encodes the response as an XML document; fails if a value breaks a constraint of the
    /// XSD.
    pub fn to_xml(&self) -> Result<Vec<u8>, X1Error> {
        let mut w = Writer::new("X1Response");
        if self.messages.is_empty() {
            return Err(w.fail("", "an X1Response holds at least one message"));
        }
        for message in &self.messages {
            let xsi_type = message.body.xsi_type();
            w.open_typed("x1ResponseMessage", xsi_type);
            write_header(&mut w, &message.header)?;
            write_response_body(&mut w, &message.body)?;
            w.close();
        }
        Ok(w.finish())
    }
}

/// One `x1RequestMessage` as the server sees it: decoded, or failed after its header was
/// read (so an `ErrorResponse` can be addressed).
#[derive(Debug)]
pub(crate) enum Outcome {
    /// The message decoded.
    Decoded(RequestMessage),
    /// The header decoded, the rest did not.
    Failed {
        /// The message's header.
        header: MessageHeader,
        /// The request type named by `xsi:type`, when it is one of the XSD's.
        kind: Option<RequestMessageType>,
        /// Why it failed.
        error: X1Error,
    },
}

/// Decodes an `X1Request` message by message. Errors that leave no header to answer to (not
/// XML, wrong root, a header that does not decode) fail the whole document.
pub(crate) fn decode_request_outcomes(
    input: &[u8],
    limits: &DecodeLimits,
) -> Result<Vec<Outcome>, X1Error> {
    let root = parse_tree(input, limits)?;
    let cx = Cx::root(&root.name);
    if root.ns != Ns::X1 || root.name != "X1Request" {
        let reason = format!(
            "expected the root element X1Request, found {}",
            root.describe()
        );
        return Err(cx.err(root.pos, reason));
    }
    let items = message_items(&cx, &root, "x1RequestMessage")?;
    let mut outcomes = Vec::with_capacity(items.len());
    for (node, xsi_type, cx) in items {
        let mut seq = Seq::new(&cx, node)?;
        let header = read_header(&mut seq)?;
        let kind = xsi_type.and_then(RequestMessageType::from_request_type);
        outcomes.push(match decode_request_body(&mut seq, xsi_type) {
            Ok(body) => Outcome::Decoded(RequestMessage { header, body }),
            Err(error) => Outcome::Failed {
                header,
                kind,
                error,
            },
        });
    }
    Ok(outcomes)
}

// ---------------------------------------------------------------------------------------
// The tree.

/// The namespace of an element, by URI.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ns {
    X1,
    Common,
    HashedId,
    Xsi,
    /// No namespace.
    None,
    /// Another namespace, or an undeclared prefix.
    Other,
}

impl Ns {
    fn of(resolved: &ResolveResult<'_>) -> Self {
        match resolved {
            ResolveResult::Bound(ns) => match ns.as_ref() {
                b if b == X1_NAMESPACE.as_bytes() => Self::X1,
                b if b == COMMON_NAMESPACE.as_bytes() => Self::Common,
                b if b == HASHED_ID_NAMESPACE.as_bytes() => Self::HashedId,
                b if b == XSI_NAMESPACE.as_bytes() => Self::Xsi,
                _ => Self::Other,
            },
            ResolveResult::Unbound => Self::None,
            ResolveResult::Unknown(_) => Self::Other,
        }
    }

    fn label(self) -> &'static str {
        match self {
            Self::X1 => "the X1 namespace",
            Self::Common => "the TS 103 280 namespace",
            Self::HashedId => "the HashedID namespace",
            Self::Xsi => "the XSI namespace",
            Self::None => "no namespace",
            Self::Other => "a foreign namespace",
        }
    }
}

/// One element of the document.
#[derive(Debug)]
struct Node {
    ns: Ns,
    name: String,
    /// `xsi:type`, resolved.
    xsi_type: Option<(Ns, String)>,
    /// The concatenated character data directly inside (entities resolved).
    text: String,
    /// Byte offset of the character data (or of the end of the start tag when none).
    text_pos: usize,
    /// Byte offset of the start tag.
    pos: usize,
    /// Byte offset of the end tag (or of the empty element tag).
    end_pos: usize,
    children: Vec<Node>,
}

impl Node {
    fn describe(&self) -> String {
        format!("<{}> in {}", self.name, self.ns.label())
    }

    fn is(&self, ns: Ns, name: &str) -> bool {
        self.ns == ns && self.name == name
    }
}

/// Reads `input` into a tree, checking well-formedness, size and depth.
fn parse_tree(input: &[u8], limits: &DecodeLimits) -> Result<Node, X1Error> {
    if input.len() > limits.max_len {
        return Err(X1Error::TooLarge {
            len: input.len(),
            limit: limits.max_len,
        });
    }
    let text = std::str::from_utf8(input).map_err(|e| X1Error::Decode {
        path: "(document)".to_owned(),
        reason: "not UTF-8".to_owned(),
        offset: e.valid_up_to(),
    })?;
    let mut reader = NsReader::from_str(text);
    let mut stack: Vec<Node> = Vec::new();
    let mut root: Option<Node> = None;
    let stack_path = |stack: &[Node]| -> String {
        if stack.is_empty() {
            "(document)".to_owned()
        } else {
            stack
                .iter()
                .map(|n| n.name.as_str())
                .collect::<Vec<_>>()
                .join("/")
        }
    };
    loop {
        let pos = to_usize(reader.buffer_position());
        let (ns, event) = match reader.read_resolved_event() {
            Ok((resolved, event)) => (Ns::of(&resolved), event),
            Err(e) => {
                return Err(X1Error::Decode {
                    path: stack_path(&stack),
                    reason: format!("malformed XML: {e}"),
                    offset: to_usize(reader.error_position()),
                });
            }
        };
        let fail = |stack: &[Node], reason: String| X1Error::Decode {
            path: stack_path(stack),
            reason,
            offset: pos,
        };
        match event {
            Event::Start(ref start) | Event::Empty(ref start) => {
                if root.is_some() {
                    return Err(fail(&stack, "content after the root element".to_owned()));
                }
                if stack.len() >= limits.max_depth {
                    return Err(fail(
                        &stack,
                        format!("elements nested deeper than {}", limits.max_depth),
                    ));
                }
                let name = String::from_utf8_lossy(start.local_name().as_ref()).into_owned();
                let mut xsi_type = None;
                for attr in start.attributes() {
                    let attr =
                        attr.map_err(|e| fail(&stack, format!("malformed attribute: {e}")))?;
                    if attr.key.as_namespace_binding().is_some() {
                        continue;
                    }
                    let (attr_ns, local) = reader.resolve_attribute(attr.key);
                    let attr_ns = Ns::of(&attr_ns);
                    match (attr_ns, local.as_ref()) {
                        (Ns::Xsi, b"type") => {
                            let value = String::from_utf8_lossy(&attr.value).into_owned();
                            let value = value.trim();
                            let (type_ns, type_local) =
                                reader.resolve_element(QName(value.as_bytes()));
                            let type_ns = Ns::of(&type_ns);
                            let type_local =
                                String::from_utf8_lossy(type_local.as_ref()).into_owned();
                            xsi_type = Some((type_ns, type_local));
                        }
                        (Ns::Xsi, b"schemaLocation" | b"noNamespaceSchemaLocation") => {}
                        _ => {
                            let mut path = stack_path(&stack);
                            path.push('/');
                            path.push_str(&name);
                            return Err(X1Error::Decode {
                                path,
                                reason: format!(
                                    "unexpected attribute {}",
                                    String::from_utf8_lossy(attr.key.as_ref())
                                ),
                                offset: pos,
                            });
                        }
                    }
                }
                let node = Node {
                    ns,
                    name,
                    xsi_type,
                    text: String::new(),
                    text_pos: to_usize(reader.buffer_position()),
                    pos,
                    end_pos: pos,
                    children: Vec::new(),
                };
                if matches!(event, Event::Start(_)) {
                    stack.push(node);
                } else {
                    attach(&mut stack, &mut root, node);
                }
            }
            Event::End(_) => {
                if let Some(mut node) = stack.pop() {
                    node.end_pos = pos;
                    attach(&mut stack, &mut root, node);
                }
            }
            Event::Text(t) => {
                let content = t
                    .xml_content()
                    .map_err(|e| fail(&stack, format!("bad text: {e}")))?;
                push_text(&mut stack, &content, pos)
                    .map_err(|reason| fail(&stack, reason.to_owned()))?;
            }
            Event::CData(t) => {
                let content = t
                    .xml_content()
                    .map_err(|e| fail(&stack, format!("bad CDATA: {e}")))?;
                push_text(&mut stack, &content, pos)
                    .map_err(|reason| fail(&stack, reason.to_owned()))?;
            }
            Event::GeneralRef(r) => {
                let resolved = match r.resolve_char_ref() {
                    Ok(Some(c)) => c,
                    Ok(None) => match r.as_ref() {
                        b"lt" => '<',
                        b"gt" => '>',
                        b"amp" => '&',
                        b"apos" => '\'',
                        b"quot" => '"',
                        other => {
                            let name = String::from_utf8_lossy(other);
                            return Err(fail(&stack, format!("unknown entity &{name};")));
                        }
                    },
                    Err(e) => return Err(fail(&stack, format!("bad character reference: {e}"))),
                };
                if !is_xml_char(resolved) {
                    return Err(fail(
                        &stack,
                        "character reference to a character XML does not allow".to_owned(),
                    ));
                }
                push_text(&mut stack, resolved.encode_utf8(&mut [0; 4]), pos)
                    .map_err(|reason| fail(&stack, reason.to_owned()))?;
            }
            Event::DocType(_) => {
                return Err(fail(&stack, "a DOCTYPE is not accepted".to_owned()));
            }
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
            Event::Eof => {
                if !stack.is_empty() {
                    return Err(fail(&stack, "document ends inside this element".to_owned()));
                }
                return root.ok_or_else(|| fail(&stack, "no root element".to_owned()));
            }
        }
    }
}

fn attach(stack: &mut [Node], root: &mut Option<Node>, node: Node) {
    match stack.last_mut() {
        Some(parent) => parent.children.push(node),
        None => *root = Some(node),
    }
}

/// Appends character data to the open element; outside the root only whitespace is allowed.
fn push_text(stack: &mut [Node], content: &str, pos: usize) -> Result<(), &'static str> {
    if !content.chars().all(is_xml_char) {
        return Err("a character XML does not allow");
    }
    match stack.last_mut() {
        Some(node) => {
            if node.text.is_empty() {
                node.text_pos = pos;
            }
            node.text.push_str(content);
            Ok(())
        }
        None if content.chars().all(is_xml_space) => Ok(()),
        None => Err("text outside the root element"),
    }
}

fn to_usize(pos: u64) -> usize {
    usize::try_from(pos).unwrap_or(usize::MAX)
}

fn is_xml_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

/// XML 1.0 `Char`.
fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

// ---------------------------------------------------------------------------------------
// Walking the tree.

/// The element path of the node being decoded, as a linked list on the stack.
struct Cx<'a> {
    parent: Option<&'a Cx<'a>>,
    name: &'a str,
    index: Option<usize>,
}

impl<'a> Cx<'a> {
    fn root(name: &'a str) -> Self {
        Self {
            parent: None,
            name,
            index: None,
        }
    }

    fn child(&'a self, name: &'a str) -> Self {
        Self {
            parent: Some(self),
            name,
            index: None,
        }
    }

    fn item(&'a self, name: &'a str, index: usize) -> Self {
        Self {
            parent: Some(self),
            name,
            index: Some(index),
        }
    }

    fn path(&self) -> String {
        let mut parts = Vec::new();
        let mut at = Some(self);
        while let Some(cx) = at {
            parts.push(match cx.index {
                Some(i) => format!("{}[{i}]", cx.name),
                None => cx.name.to_owned(),
            });
            at = cx.parent;
        }
        parts.reverse();
        parts.join("/")
    }

    fn err(&self, offset: usize, reason: impl Into<String>) -> X1Error {
        X1Error::Decode {
            path: self.path(),
            reason: reason.into(),
            offset,
        }
    }
}

/// A cursor over the children of a complex-typed element, consumed in XSD sequence order.
struct Seq<'n, 'c> {
    cx: &'c Cx<'c>,
    node: &'n Node,
    next: usize,
}

impl<'n, 'c> Seq<'n, 'c> {
    fn new(cx: &'c Cx<'c>, node: &'n Node) -> Result<Self, X1Error> {
        if !node.text.chars().all(is_xml_space) {
            return Err(cx.err(node.text_pos, "unexpected text in element-only content"));
        }
        Ok(Self { cx, node, next: 0 })
    }

    fn peek(&self) -> Option<&'n Node> {
        self.node.children.get(self.next)
    }

    fn opt(&mut self, ns: Ns, name: &str) -> Option<&'n Node> {
        let node = self.peek().filter(|n| n.is(ns, name))?;
        self.next += 1;
        Some(node)
    }

    fn req(&mut self, ns: Ns, name: &str) -> Result<&'n Node, X1Error> {
        self.opt(ns, name).ok_or_else(|| {
            let (offset, found) = match self.peek() {
                Some(n) => (n.pos, format!(", found {}", n.describe())),
                None => (self.node.end_pos, String::new()),
            };
            self.cx.err(offset, format!("missing <{name}>{found}"))
        })
    }

    fn many(&mut self, ns: Ns, name: &str) -> Vec<&'n Node> {
        let mut out = Vec::new();
        while let Some(n) = self.opt(ns, name) {
            out.push(n);
        }
        out
    }

    fn end(self) -> Result<(), X1Error> {
        match self.peek() {
            None => Ok(()),
            Some(n) => Err(self.cx.err(
                n.pos,
                format!(
                    "unexpected element {} (not in the XSD here, out of order, or not \
                     supported by this implementation)",
                    n.describe()
                ),
            )),
        }
    }
}

/// A message element, its `xsi:type` local name and its path context.
type MessageItem<'n, 'c> = (&'n Node, Option<&'n str>, Cx<'c>);

/// The children of a container root: each message element with its `xsi:type` local name
/// and its path context (named by the type).
fn message_items<'n, 'c>(
    cx: &'c Cx<'c>,
    root: &'n Node,
    element: &'c str,
) -> Result<Vec<MessageItem<'n, 'c>>, X1Error>
where
    'n: 'c,
{
    let mut seq = Seq::new(cx, root)?;
    let nodes = seq.many(Ns::X1, element);
    seq.end()?;
    if nodes.is_empty() {
        return Err(cx.err(root.end_pos, format!("missing <{element}>")));
    }
    let several = nodes.len() > 1;
    let mut items = Vec::with_capacity(nodes.len());
    for (i, node) in nodes.into_iter().enumerate() {
        let xsi_type = match &node.xsi_type {
            Some((Ns::X1, name)) => Some(name.as_str()),
            Some(_) => {
                let here = cx.child(element);
                return Err(here.err(node.pos, "xsi:type is not a type of the X1 namespace"));
            }
            None => None,
        };
        let name = xsi_type.unwrap_or(element);
        let item = if several {
            cx.item(name, i + 1)
        } else {
            cx.child(name)
        };
        items.push((node, xsi_type, item));
    }
    Ok(items)
}

fn read_header(seq: &mut Seq<'_, '_>) -> Result<MessageHeader, X1Error> {
    let cx = seq.cx;
    let admf_identifier = token(seq.req(Ns::X1, "admfIdentifier")?);
    let ne_identifier = token(seq.req(Ns::X1, "neIdentifier")?);
    let message_timestamp = timestamp(cx, seq.req(Ns::X1, "messageTimestamp")?)?;
    let node = seq.req(Ns::X1, "version")?;
    let version = simple(cx, node)?
        .parse::<X1Version>()
        .map_err(|reason| cx.child("version").err(node.text_pos, reason))?;
    let node = seq.req(Ns::X1, "x1TransactionId")?;
    let x1_transaction_id = uuid::<TransactionId>(cx, node)?;
    Ok(MessageHeader {
        admf_identifier,
        ne_identifier,
        message_timestamp,
        version,
        x1_transaction_id,
    })
}

fn decode_request_body(
    seq: &mut Seq<'_, '_>,
    xsi_type: Option<&str>,
) -> Result<RequestBody, X1Error> {
    let cx = seq.cx;
    let Some(xsi_type) = xsi_type else {
        return Err(cx.err(
            seq.node.pos,
            "x1RequestMessage has no xsi:type naming the request",
        ));
    };
    let body = match xsi_type {
        "ActivateTaskRequest" | "ModifyTaskRequest" => {
            let node = seq.req(Ns::X1, "taskDetails")?;
            let details = task_details(&cx.child("taskDetails"), node)?;
            if xsi_type == "ActivateTaskRequest" {
                RequestBody::ActivateTask(details)
            } else {
                RequestBody::ModifyTask(details)
            }
        }
        "DeactivateTaskRequest" => RequestBody::DeactivateTask(uuid(cx, seq.req(Ns::X1, "xId")?)?),
        "GetTaskDetailsRequest" => RequestBody::GetTaskDetails(uuid(cx, seq.req(Ns::X1, "xId")?)?),
        "CreateDestinationRequest" | "ModifyDestinationRequest" => {
            let node = seq.req(Ns::X1, "destinationDetails")?;
            let details = destination_details(&cx.child("destinationDetails"), node)?;
            if xsi_type == "CreateDestinationRequest" {
                RequestBody::CreateDestination(details)
            } else {
                RequestBody::ModifyDestination(details)
            }
        }
        "RemoveDestinationRequest" => {
            RequestBody::RemoveDestination(uuid(cx, seq.req(Ns::X1, "dId")?)?)
        }
        "GetDestinationDetailsRequest" => {
            RequestBody::GetDestinationDetails(uuid(cx, seq.req(Ns::X1, "dId")?)?)
        }
        "DeactivateAllTasksRequest" => RequestBody::DeactivateAllTasks,
        "RemoveAllDestinationsRequest" => RequestBody::RemoveAllDestinations,
        "GetNEStatusRequest" => RequestBody::GetNeStatus,
        "GetAllDetailsRequest" => RequestBody::GetAllDetails,
        "ListAllDetailsRequest" => RequestBody::ListAllDetails,
        "GetAllTaskDetailsRequest" => RequestBody::GetAllTaskDetails,
        "GetAllDestinationDetailsRequest" => RequestBody::GetAllDestinationDetails,
        "PingRequest" => RequestBody::Ping,
        "KeepaliveRequest" => RequestBody::Keepalive,
        other => {
            let reason = if RequestMessageType::from_request_type(other).is_some() {
                format!("request type {other} is not supported by this implementation")
            } else {
                format!("xsi:type {other} is not an X1 request type")
            };
            return Err(cx.err(seq.node.pos, reason));
        }
    };
    Ok(body)
}

fn decode_response_message(
    cx: &Cx<'_>,
    node: &Node,
    xsi_type: Option<&str>,
) -> Result<ResponseMessage, X1Error> {
    let mut seq = Seq::new(cx, node)?;
    let header = read_header(&mut seq)?;
    let Some(xsi_type) = xsi_type else {
        return Err(cx.err(
            node.pos,
            "x1ResponseMessage has no xsi:type naming the response",
        ));
    };
    let body = if let Some(kind) = AckKind::ALL
        .into_iter()
        .find(|k| k.response_type() == xsi_type)
    {
        let node = seq.req(Ns::X1, "oK")?;
        let status = match simple(cx, node)?.trim() {
            "AcknowledgedAndCompleted" => OkStatus::AcknowledgedAndCompleted,
            "Acknowledged" => OkStatus::Acknowledged,
            _ => {
                return Err(cx.child("oK").err(
                    node.text_pos,
                    "not one of AcknowledgedAndCompleted, Acknowledged",
                ));
            }
        };
        ResponseBody::Ok { kind, status }
    } else {
        match xsi_type {
            "GetTaskDetailsResponse" => {
                let node = seq.req(Ns::X1, "taskResponseDetails")?;
                ResponseBody::GetTaskDetails(task_response(&cx.child("taskResponseDetails"), node)?)
            }
            "GetDestinationDetailsResponse" => {
                let node = seq.req(Ns::X1, "destinationResponseDetails")?;
                let cx = cx.child("destinationResponseDetails");
                ResponseBody::GetDestinationDetails(destination_response(&cx, node)?)
            }
            "GetNEStatusResponse" => {
                let node = seq.req(Ns::X1, "neStatusDetails")?;
                ResponseBody::GetNeStatus(ne_status(&cx.child("neStatusDetails"), node)?)
            }
            "GetAllDetailsResponse" => {
                let node = seq.req(Ns::X1, "neStatusDetails")?;
                let ne = ne_status(&cx.child("neStatusDetails"), node)?;
                let node = seq.req(Ns::X1, "listOfTaskResponseDetails")?;
                let tasks = task_responses(&cx.child("listOfTaskResponseDetails"), node)?;
                let node = seq.req(Ns::X1, "listOfDestinationResponseDetails")?;
                let cx2 = cx.child("listOfDestinationResponseDetails");
                let destinations = destination_responses(&cx2, node)?;
                skip_empty(cx, &mut seq, "listOfGenericObjectResponseDetails")?;
                ResponseBody::GetAllDetails {
                    ne_status: ne,
                    tasks,
                    destinations,
                }
            }
            "ListAllDetailsResponse" => {
                let node = seq.req(Ns::X1, "ListOfXIDs")?;
                let xids = id_list(&cx.child("ListOfXIDs"), node, "xId")?;
                let node = seq.req(Ns::X1, "ListOfDIDs")?;
                let dids = did_list(&cx.child("ListOfDIDs"), node)?;
                skip_empty(cx, &mut seq, "ListOfGenericObjectIDs")?;
                ResponseBody::ListAllDetails { xids, dids }
            }
            "GetAllTaskDetailsResponse" => {
                let tasks = match seq.opt(Ns::X1, "listOfTaskResponseDetails") {
                    Some(node) => task_responses(&cx.child("listOfTaskResponseDetails"), node)?,
                    None => Vec::new(),
                };
                ResponseBody::GetAllTaskDetails(tasks)
            }
            "GetAllDestinationDetailsResponse" => {
                let destinations = match seq.opt(Ns::X1, "listOfDestinationResponseDetails") {
                    Some(node) => {
                        let cx = cx.child("listOfDestinationResponseDetails");
                        destination_responses(&cx, node)?
                    }
                    None => Vec::new(),
                };
                ResponseBody::GetAllDestinationDetails(destinations)
            }
            "ErrorResponse" => ResponseBody::Error(error_response(cx, &mut seq)?),
            other => {
                return Err(cx.err(
                    node.pos,
                    format!(
                        "response type {other} is not an X1 response type supported by this \
                         implementation"
                    ),
                ));
            }
        }
    };
    seq.end()?;
    Ok(ResponseMessage { header, body })
}

/// An optional list element that is accepted only when it has no entries.
fn skip_empty(cx: &Cx<'_>, seq: &mut Seq<'_, '_>, name: &str) -> Result<(), X1Error> {
    if let Some(node) = seq.opt(Ns::X1, name) {
        Seq::new(&cx.child(name), node)?.end()?;
    }
    Ok(())
}

fn error_response(cx: &Cx<'_>, seq: &mut Seq<'_, '_>) -> Result<ErrorResponse, X1Error> {
    let node = seq.req(Ns::X1, "requestMessageType")?;
    let request_message_type = enumeration(cx, node)?;
    let node = seq.req(Ns::X1, "errorInformation")?;
    let error = error_information(&cx.child("errorInformation"), node)?;
    let extended_request_message_type = match seq.opt(Ns::X1, "extensionInformation") {
        Some(node) => {
            let cx = cx.child("extensionInformation");
            let mut inner = Seq::new(&cx, node)?;
            let spec = inner.req(Ns::X1, "extensionSpecification")?;
            if simple(&cx, spec)? != "TS133128" {
                return Err(cx
                    .child("extensionSpecification")
                    .err(spec.text_pos, "not TS133128"));
            }
            let ext = inner.req(Ns::X1, "extendedRequestMessageType")?;
            let value = simple(&cx, ext)?.to_owned();
            inner.end()?;
            Some(value)
        }
        None => None,
    };
    Ok(ErrorResponse {
        request_message_type,
        error,
        extended_request_message_type,
    })
}

fn error_information(cx: &Cx<'_>, node: &Node) -> Result<ErrorInformation, X1Error> {
    let mut seq = Seq::new(cx, node)?;
    let code_node = seq.req(Ns::X1, "errorCode")?;
    let code = integer::<i64>(cx, code_node)?;
    let description = simple(cx, seq.req(Ns::X1, "errorDescription")?)?.to_owned();
    seq.end()?;
    Ok(ErrorInformation { code, description })
}

fn faults(cx: &Cx<'_>, node: &Node) -> Result<Vec<ErrorInformation>, X1Error> {
    let mut seq = Seq::new(cx, node)?;
    let items = seq.many(Ns::X1, "unresolvedFault");
    seq.end()?;
    items
        .into_iter()
        .enumerate()
        .map(|(i, n)| error_information(&cx.item("unresolvedFault", i + 1), n))
        .collect()
}

fn ne_status(cx: &Cx<'_>, node: &Node) -> Result<NeStatusDetails, X1Error> {
    let mut seq = Seq::new(cx, node)?;
    let status: NeStatus = enumeration(cx, seq.req(Ns::X1, "neStatus")?)?;
    let list = seq.req(Ns::X1, "listOfFaults")?;
    let faults = faults(&cx.child("listOfFaults"), list)?;
    seq.end()?;
    Ok(NeStatusDetails { status, faults })
}

fn task_responses(cx: &Cx<'_>, node: &Node) -> Result<Vec<TaskResponseDetails>, X1Error> {
    let mut seq = Seq::new(cx, node)?;
    let items = seq.many(Ns::X1, "taskResponseDetails");
    seq.end()?;
    items
        .into_iter()
        .enumerate()
        .map(|(i, n)| task_response(&cx.item("taskResponseDetails", i + 1), n))
        .collect()
}

fn destination_responses(
    cx: &Cx<'_>,
    node: &Node,
) -> Result<Vec<DestinationResponseDetails>, X1Error> {
    let mut seq = Seq::new(cx, node)?;
    let items = seq.many(Ns::X1, "destinationResponseDetails");
    seq.end()?;
    items
        .into_iter()
        .enumerate()
        .map(|(i, n)| destination_response(&cx.item("destinationResponseDetails", i + 1), n))
        .collect()
}

fn task_response(cx: &Cx<'_>, node: &Node) -> Result<TaskResponseDetails, X1Error> {
    let mut seq = Seq::new(cx, node)?;
    let details = task_details(&cx.child("taskDetails"), seq.req(Ns::X1, "taskDetails")?)?;
    let status_node = seq.req(Ns::X1, "taskStatus")?;
    seq.end()?;
    let cx = cx.child("taskStatus");
    let mut seq = Seq::new(&cx, status_node)?;
    let provisioning_status = enumeration(&cx, seq.req(Ns::X1, "provisioningStatus")?)?;
    let list = seq.req(Ns::X1, "listOfFaults")?;
    let faults = faults(&cx.child("listOfFaults"), list)?;
    let time_of_last_intercept = seq
        .opt(Ns::X1, "timeOfLastIntercept")
        .map(|n| timestamp(&cx, n))
        .transpose()?;
    let amount_of_x2_data = seq
        .opt(Ns::X1, "amountOfX2Data")
        .map(|n| integer::<u64>(&cx, n))
        .transpose()?;
    let amount_of_x3_data = seq
        .opt(Ns::X1, "amountOfX3Data")
        .map(|n| integer::<u64>(&cx, n))
        .transpose()?;
    let time_of_last_modification = seq
        .opt(Ns::X1, "timeOfLastModification")
        .map(|n| timestamp(&cx, n))
        .transpose()?;
    let number_of_modifications = seq
        .opt(Ns::X1, "numberOfModifications")
        .map(|n| integer::<u64>(&cx, n))
        .transpose()?;
    seq.end()?;
    Ok(TaskResponseDetails {
        details,
        status: TaskStatus {
            provisioning_status,
            faults,
            time_of_last_intercept,
            amount_of_x2_data,
            amount_of_x3_data,
            time_of_last_modification,
            number_of_modifications,
        },
    })
}

fn destination_response(cx: &Cx<'_>, node: &Node) -> Result<DestinationResponseDetails, X1Error> {
    let mut seq = Seq::new(cx, node)?;
    let details_node = seq.req(Ns::X1, "destinationDetails")?;
    let details = destination_details(&cx.child("destinationDetails"), details_node)?;
    let status_node = seq.req(Ns::X1, "destinationStatus")?;
    seq.end()?;
    let cx = cx.child("destinationStatus");
    let mut seq = Seq::new(&cx, status_node)?;
    let delivery_status: DestinationDeliveryStatus =
        enumeration(&cx, seq.req(Ns::X1, "destinationDeliveryStatus")?)?;
    let list = seq.req(Ns::X1, "listOfFaults")?;
    let faults = faults(&cx.child("listOfFaults"), list)?;
    seq.end()?;
    Ok(DestinationResponseDetails {
        details,
        delivery_status,
        faults,
    })
}

fn task_details(cx: &Cx<'_>, node: &Node) -> Result<TaskDetails, X1Error> {
    let mut seq = Seq::new(cx, node)?;
    let xid = uuid::<Xid>(cx, seq.req(Ns::X1, "xId")?)?;
    let list = seq.req(Ns::X1, "targetIdentifiers")?;
    let targets = target_identifiers(&cx.child("targetIdentifiers"), list)?;
    let delivery_type: DeliveryType = enumeration(cx, seq.req(Ns::X1, "deliveryType")?)?;
    let dids = did_list(&cx.child("listOfDIDs"), seq.req(Ns::X1, "listOfDIDs")?)?;
    let mediation_details = match seq.opt(Ns::X1, "listOfMediationDetails") {
        Some(list) => {
            let cx = cx.child("listOfMediationDetails");
            let mut inner = Seq::new(&cx, list)?;
            let items = inner.many(Ns::X1, "mediationDetails");
            inner.end()?;
            items
                .into_iter()
                .enumerate()
                .map(|(i, n)| mediation_details(&cx.item("mediationDetails", i + 1), n))
                .collect::<Result<_, _>>()?
        }
        None => Vec::new(),
    };
    let correlation_id = seq
        .opt(Ns::X1, "correlationID")
        .map(|n| integer::<u64>(cx, n))
        .transpose()?;
    let implicit_deactivation_allowed = seq
        .opt(Ns::X1, "implicitDeactivationAllowed")
        .map(|n| boolean(cx, n))
        .transpose()?;
    let product_id = seq
        .opt(Ns::X1, "productID")
        .map(|n| uuid::<Xid>(cx, n))
        .transpose()?;
    seq.end()?;
    Ok(TaskDetails {
        xid,
        targets,
        delivery_type,
        dids,
        mediation_details,
        correlation_id,
        implicit_deactivation_allowed,
        product_id,
    })
}

fn mediation_details(cx: &Cx<'_>, node: &Node) -> Result<MediationDetails, X1Error> {
    let mut seq = Seq::new(cx, node)?;
    let liid_node = seq.req(Ns::X1, "LIID")?;
    let text = simple(cx, liid_node)?.trim();
    let liid_cx = cx.child("LIID");
    if text.is_empty() || !text.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
        return Err(liid_cx.err(liid_node.text_pos, "not a LIID (1..25 printable ASCII)"));
    }
    let liid = Liid::new(text.as_bytes()).map_err(|_| {
        liid_cx.err(
            liid_node.text_pos,
            "LIID longer than 25 characters (the 26..50 hex digit form is not supported)",
        )
    })?;
    let delivery_type: MediationDeliveryType = enumeration(cx, seq.req(Ns::X1, "deliveryType")?)?;
    let start_time = seq
        .opt(Ns::X1, "StartTime")
        .map(|n| timestamp(cx, n))
        .transpose()?;
    let end_time = seq
        .opt(Ns::X1, "EndTime")
        .map(|n| timestamp(cx, n))
        .transpose()?;
    let dids = seq
        .opt(Ns::X1, "listOfDIDs")
        .map(|n| did_list(&cx.child("listOfDIDs"), n))
        .transpose()?;
    seq.end()?;
    Ok(MediationDetails {
        liid,
        delivery_type,
        start_time,
        end_time,
        dids,
    })
}

fn did_list(cx: &Cx<'_>, node: &Node) -> Result<Vec<DestinationId>, X1Error> {
    id_list(cx, node, "dId")
}

fn id_list<T: FromStr>(cx: &Cx<'_>, node: &Node, item: &str) -> Result<Vec<T>, X1Error> {
    let mut seq = Seq::new(cx, node)?;
    let items = seq.many(Ns::X1, item);
    seq.end()?;
    items
        .into_iter()
        .enumerate()
        .map(|(i, n)| uuid_at(&cx.item(item, i + 1), n))
        .collect()
}

fn target_identifiers(cx: &Cx<'_>, node: &Node) -> Result<Vec<TargetIdentifier>, X1Error> {
    let mut seq = Seq::new(cx, node)?;
    let items = seq.many(Ns::X1, "targetIdentifier");
    seq.end()?;
    if items.is_empty() {
        return Err(cx.err(node.end_pos, "missing <targetIdentifier>"));
    }
    items
        .into_iter()
        .enumerate()
        .map(|(i, n)| target_identifier(&cx.item("targetIdentifier", i + 1), n))
        .collect()
}

fn target_identifier(cx: &Cx<'_>, node: &Node) -> Result<TargetIdentifier, X1Error> {
    let mut seq = Seq::new(cx, node)?;
    let Some(kind) = seq.peek() else {
        return Err(cx.err(node.end_pos, "empty targetIdentifier"));
    };
    // a choice: exactly one child
    seq.next = 1;
    seq.end()?;
    if kind.ns != Ns::X1 {
        return Err(cx.err(kind.pos, format!("unexpected element {}", kind.describe())));
    }
    let kcx = cx.child(&kind.name);
    let at = kind.text_pos;
    let bad = |reason: &str| kcx.err(at, reason.to_owned());
    let target = match kind.name.as_str() {
        "ipv4Address" => TargetIdentifier::Ipv4Address(
            parse_ipv4(simple(cx, kind)?.trim()).ok_or_else(|| bad("not an IPv4 address"))?,
        ),
        "ipv6Address" => TargetIdentifier::Ipv6Address(
            simple(cx, kind)?
                .trim()
                .parse()
                .map_err(|_| bad("not an IPv6 address"))?,
        ),
        "ipv4Cidr" => {
            let mut inner = Seq::new(&kcx, kind)?;
            let (choice, v6) = match inner.opt(Ns::Common, "IPv4CIDR") {
                Some(n) => (n, false),
                None => (inner.req(Ns::Common, "IPv6CIDR")?, true),
            };
            inner.end()?;
            let ccx = kcx.child(if v6 { "IPv6CIDR" } else { "IPv4CIDR" });
            let prefix = parse_cidr(simple(&kcx, choice)?.trim(), v6)
                .map_err(|reason| ccx.err(choice.text_pos, reason))?;
            TargetIdentifier::IpPrefix(prefix)
        }
        "ipv6Cidr" => {
            TargetIdentifier::IpPrefix(parse_cidr(simple(cx, kind)?.trim(), true).map_err(bad)?)
        }
        "macAddress" => TargetIdentifier::MacAddress(
            simple(cx, kind)?
                .trim()
                .parse()
                .map_err(|_| bad("not a MAC address"))?,
        ),
        "sipUri" => {
            let text = simple(cx, kind)?.trim();
            let rest = text
                .strip_prefix("sips:")
                .or_else(|| text.strip_prefix("sip:"))
                .unwrap_or_default();
            if !rest.chars().all(is_uri_pattern_char) {
                return Err(bad("not a SIP URI: a character outside TS 103 280 SIPURI"));
            }
            TargetIdentifier::sip_uri(text).map_err(|e| bad(&format!("not a SIP URI: {e}")))?
        }
        "e164Number" => {
            let digits = simple(cx, kind)?.trim();
            TargetIdentifier::E164Number(
                E164Number::new(&format!("+{digits}"))
                    .map_err(|_| bad("not an international E.164 number (1..15 digits)"))?,
            )
        }
        "telUri" => {
            let text = simple(cx, kind)?.trim();
            let number = text
                .strip_prefix("tel:")
                .and_then(|n| E164Number::new(n).ok())
                .ok_or_else(|| {
                    bad("only global tel: URIs (tel:+ then 1..15 digits) are supported")
                })?;
            TargetIdentifier::E164Number(number)
        }
        "nai" => TargetIdentifier::username(simple(cx, kind)?)
            .map_err(|e| bad(&format!("not a usable NAI: {e}")))?,
        other => {
            return Err(cx.err(
                kind.pos,
                format!("target identifier kind {other} is not supported by this implementation"),
            ));
        }
    };
    Ok(target)
}

fn destination_details(cx: &Cx<'_>, node: &Node) -> Result<DestinationDetails, X1Error> {
    let mut seq = Seq::new(cx, node)?;
    let did = uuid::<DestinationId>(cx, seq.req(Ns::X1, "dId")?)?;
    let friendly_name = seq
        .opt(Ns::X1, "friendlyName")
        .map(|n| simple(cx, n).map(str::to_owned))
        .transpose()?;
    let delivery_type: DeliveryType = enumeration(cx, seq.req(Ns::X1, "deliveryType")?)?;
    let address_node = seq.req(Ns::X1, "deliveryAddress")?;
    let delivery_address = delivery_address(&cx.child("deliveryAddress"), address_node)?;
    seq.end()?;
    Ok(DestinationDetails {
        did,
        friendly_name,
        delivery_type,
        delivery_address,
    })
}

fn delivery_address(cx: &Cx<'_>, node: &Node) -> Result<DeliveryAddress, X1Error> {
    let mut seq = Seq::new(cx, node)?;
    let address = if let Some(n) = seq.opt(Ns::X1, "ipAddressAndPort") {
        let cx = cx.child("ipAddressAndPort");
        let mut inner = Seq::new(&cx, n)?;
        let addr_node = inner.req(Ns::Common, "address")?;
        let port_node = inner.req(Ns::Common, "port")?;
        inner.end()?;
        let acx = cx.child("address");
        let mut choice = Seq::new(&acx, addr_node)?;
        let address = if let Some(v4) = choice.opt(Ns::Common, "IPv4Address") {
            IpAddr::V4(parse_ipv4(simple(&acx, v4)?.trim()).ok_or_else(|| {
                acx.child("IPv4Address")
                    .err(v4.text_pos, "not an IPv4 address")
            })?)
        } else {
            let v6 = choice.req(Ns::Common, "IPv6Address")?;
            IpAddr::V6(simple(&acx, v6)?.trim().parse::<Ipv6Addr>().map_err(|_| {
                acx.child("IPv6Address")
                    .err(v6.text_pos, "not an IPv6 address")
            })?)
        };
        choice.end()?;
        let pcx = cx.child("port");
        let mut choice = Seq::new(&pcx, port_node)?;
        let port = if let Some(tcp) = choice.opt(Ns::Common, "TCPPort") {
            let port = integer::<u16>(&pcx, tcp)?;
            if port < 2 {
                return Err(pcx
                    .child("TCPPort")
                    .err(tcp.text_pos, "TCP port must be 2..=65535"));
            }
            Port::Tcp(port)
        } else {
            Port::Udp(integer::<u16>(&pcx, choice.req(Ns::Common, "UDPPort")?)?)
        };
        choice.end()?;
        DeliveryAddress::IpAddressPort { address, port }
    } else if let Some(n) = seq.opt(Ns::X1, "e164Number") {
        let digits = simple(cx, n)?.trim();
        DeliveryAddress::E164Number(E164Number::new(&format!("+{digits}")).map_err(|_| {
            cx.child("e164Number").err(
                n.text_pos,
                "not an international E.164 number (1..15 digits)",
            )
        })?)
    } else if let Some(n) = seq.opt(Ns::X1, "uri") {
        let uri = simple(cx, n)?.trim();
        if uri.is_empty() || uri.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(cx.child("uri").err(
                n.text_pos,
                "a URI is non-empty, without whitespace or controls",
            ));
        }
        DeliveryAddress::Uri(uri.to_owned())
    } else {
        let (offset, found) = match seq.peek() {
            Some(n) => (n.pos, n.describe()),
            None => (node.end_pos, "nothing".to_owned()),
        };
        return Err(cx.err(
            offset,
            format!("expected ipAddressAndPort, e164Number or uri, found {found}"),
        ));
    };
    seq.end()?;
    Ok(address)
}

/// The text of a simple-typed element (no child elements).
fn simple<'n>(cx: &Cx<'_>, node: &'n Node) -> Result<&'n str, X1Error> {
    match node.children.first() {
        Some(child) => Err(cx.child(&node.name).err(
            child.pos,
            format!("unexpected element {} in a simple value", child.describe()),
        )),
        None => Ok(&node.text),
    }
}

/// An `xs:token` value, whitespace-collapsed.
fn token(node: &Node) -> String {
    node.text
        .split_ascii_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn uuid<T: FromStr>(cx: &Cx<'_>, node: &Node) -> Result<T, X1Error> {
    uuid_at(&cx.child(&node.name), node)
}

fn uuid_at<T: FromStr>(cx: &Cx<'_>, node: &Node) -> Result<T, X1Error> {
    if let Some(child) = node.children.first() {
        return Err(cx.err(child.pos, "unexpected element in a simple value"));
    }
    node.text
        .trim()
        .parse()
        .map_err(|_| cx.err(node.text_pos, "not a UUID"))
}

fn timestamp(cx: &Cx<'_>, node: &Node) -> Result<Timestamp, X1Error> {
    simple(cx, node)?.trim().parse().map_err(|_| {
        cx.child(&node.name).err(
            node.text_pos,
            "not a date-time YYYY-MM-DDThh:mm:ss.ffffff with Z or an offset (1970..9999)",
        )
    })
}

fn integer<T: FromStr>(cx: &Cx<'_>, node: &Node) -> Result<T, X1Error> {
    let text = simple(cx, node)?.trim();
    let digits = text.strip_prefix('+').unwrap_or(text);
    let reason = if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        if text.starts_with('-') && text.len() > 1 {
            match text.parse::<T>() {
                Ok(v) => return Ok(v),
                Err(_) => "negative or out of range",
            }
        } else {
            "not an integer"
        }
    } else {
        match digits.parse::<T>() {
            Ok(v) => return Ok(v),
            Err(_) => "integer out of range",
        }
    };
    Err(cx.child(&node.name).err(node.text_pos, reason))
}

fn boolean(cx: &Cx<'_>, node: &Node) -> Result<bool, X1Error> {
    match simple(cx, node)?.trim() {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        _ => Err(cx
            .child(&node.name)
            .err(node.text_pos, "not a boolean (true, false, 1, 0)")),
    }
}

fn enumeration<T: FromStr<Err = String>>(cx: &Cx<'_>, node: &Node) -> Result<T, X1Error> {
    simple(cx, node)?
        .trim()
        .parse()
        .map_err(|reason| cx.child(&node.name).err(node.text_pos, reason))
}

/// TS 103 280 `IPv4Address`: four decimal octets, leading zeros allowed (up to 3 digits).
fn parse_ipv4(text: &str) -> Option<Ipv4Addr> {
    let mut octets = [0u8; 4];
    let mut parts = text.split('.');
    for octet in &mut octets {
        let part = parts.next()?;
        if part.is_empty() || part.len() > 3 || !part.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        *octet = part.parse().ok()?;
    }
    parts.next().is_none().then_some(Ipv4Addr::from(octets))
}

fn parse_cidr(text: &str, v6: bool) -> Result<IpPrefix, &'static str> {
    let (addr, len) = text
        .split_once('/')
        .ok_or("not a CIDR block address/length")?;
    let addr: IpAddr = if v6 {
        IpAddr::V6(addr.parse().map_err(|_| "not an IPv6 CIDR block")?)
    } else {
        IpAddr::V4(parse_ipv4(addr).ok_or("not an IPv4 CIDR block")?)
    };
    if len.is_empty() || len.len() > 3 || !len.bytes().all(|b| b.is_ascii_digit()) {
        return Err("prefix length is not a number");
    }
    let len: u8 = len.parse().map_err(|_| "prefix length out of range")?;
    if v6 && len == 0 {
        return Err("IPv6CIDR lengths are 1..=128");
    }
    IpPrefix::new(addr, len).map_err(|_| "prefix length out of range, or host bits set")
}

// ---------------------------------------------------------------------------------------
// Encoding.

/// Writes an indented document, keeping the element path for errors.
struct Writer {
    out: String,
    /// Open elements: (element name, name in error paths).
    path: Vec<(String, String)>,
}

impl Writer {
    fn new(root: &'static str) -> Self {
        let mut out = String::with_capacity(1024);
        out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let _ = write!(
            out,
            "<{root} xmlns=\"{X1_NAMESPACE}\" xmlns:xsi=\"{XSI_NAMESPACE}\" \
             xmlns:etsi103280=\"{COMMON_NAMESPACE}\">"
        );
        Self {
            out,
            path: vec![(root.to_owned(), root.to_owned())],
        }
    }

    fn indent(&mut self) {
        self.out.push('\n');
        for _ in 0..self.path.len() {
            self.out.push_str("  ");
        }
    }

    fn open(&mut self, name: &str) {
        self.indent();
        let _ = write!(self.out, "<{name}>");
        self.path.push((name.to_owned(), name.to_owned()));
    }

    /// Opens a message element, named by its type in error paths.
    fn open_typed(&mut self, name: &str, xsi_type: &str) {
        self.indent();
        let _ = write!(self.out, "<{name} xsi:type=\"{xsi_type}\">");
        self.path.push((name.to_owned(), xsi_type.to_owned()));
    }

    fn close(&mut self) {
        if let Some((name, _)) = self.path.pop() {
            self.indent();
            let _ = write!(self.out, "</{name}>");
        }
    }

    fn leaf(&mut self, name: &str, value: &str) -> Result<(), X1Error> {
        if let Some(bad) = value.chars().find(|c| !is_xml_char(*c)) {
            return Err(self.fail(
                name,
                &format!("character U+{:04X} cannot appear in XML", u32::from(bad)),
            ));
        }
        self.indent();
        let _ = write!(self.out, "<{name}>");
        for c in value.chars() {
            match c {
                '&' => self.out.push_str("&amp;"),
                '<' => self.out.push_str("&lt;"),
                '>' => self.out.push_str("&gt;"),
                '\r' => self.out.push_str("&#13;"),
                c => self.out.push(c),
            }
        }
        let _ = write!(self.out, "</{name}>");
        Ok(())
    }

    fn fail(&self, field: &str, reason: &str) -> X1Error {
        let mut path = self
            .path
            .iter()
            .map(|(_, label)| label.as_str())
            .collect::<Vec<_>>()
            .join("/");
        if !field.is_empty() {
            path.push('/');
            path.push_str(field);
        }
        X1Error::Encode {
            path,
            reason: reason.to_owned(),
        }
    }

    fn finish(mut self) -> Vec<u8> {
        while !self.path.is_empty() {
            self.close();
        }
        self.out.push('\n');
        self.out.into_bytes()
    }
}

fn request_xsi_type(body: &RequestBody) -> &'static str {
    match body {
        RequestBody::ActivateTask(_) => "ActivateTaskRequest",
        RequestBody::ModifyTask(_) => "ModifyTaskRequest",
        RequestBody::DeactivateTask(_) => "DeactivateTaskRequest",
        RequestBody::DeactivateAllTasks => "DeactivateAllTasksRequest",
        RequestBody::CreateDestination(_) => "CreateDestinationRequest",
        RequestBody::ModifyDestination(_) => "ModifyDestinationRequest",
        RequestBody::RemoveDestination(_) => "RemoveDestinationRequest",
        RequestBody::RemoveAllDestinations => "RemoveAllDestinationsRequest",
        RequestBody::GetTaskDetails(_) => "GetTaskDetailsRequest",
        RequestBody::GetDestinationDetails(_) => "GetDestinationDetailsRequest",
        RequestBody::GetNeStatus => "GetNEStatusRequest",
        RequestBody::GetAllDetails => "GetAllDetailsRequest",
        RequestBody::ListAllDetails => "ListAllDetailsRequest",
        RequestBody::GetAllTaskDetails => "GetAllTaskDetailsRequest",
        RequestBody::GetAllDestinationDetails => "GetAllDestinationDetailsRequest",
        RequestBody::Ping => "PingRequest",
        RequestBody::Keepalive => "KeepaliveRequest",
    }
}

fn write_header(w: &mut Writer, header: &MessageHeader) -> Result<(), X1Error> {
    for (name, value) in [
        ("admfIdentifier", &header.admf_identifier),
        ("neIdentifier", &header.ne_identifier),
    ] {
        if !is_token(value) {
            return Err(w.fail(
                name,
                "not an xs:token (no leading, trailing or doubled spaces, no tabs or line breaks)",
            ));
        }
        w.leaf(name, value)?;
    }
    w.leaf("messageTimestamp", &header.message_timestamp.to_string())?;
    w.leaf("version", &header.version.to_string())?;
    w.leaf("x1TransactionId", &header.x1_transaction_id.to_string())
}

fn write_request_body(w: &mut Writer, body: &RequestBody) -> Result<(), X1Error> {
    match body {
        RequestBody::ActivateTask(details) | RequestBody::ModifyTask(details) => {
            w.open("taskDetails");
            write_task_details(w, details)?;
            w.close();
        }
        RequestBody::DeactivateTask(xid) | RequestBody::GetTaskDetails(xid) => {
            w.leaf("xId", &xid.to_string())?;
        }
        RequestBody::CreateDestination(details) | RequestBody::ModifyDestination(details) => {
            w.open("destinationDetails");
            write_destination_details(w, details)?;
            w.close();
        }
        RequestBody::RemoveDestination(did) | RequestBody::GetDestinationDetails(did) => {
            w.leaf("dId", &did.to_string())?;
        }
        RequestBody::DeactivateAllTasks
        | RequestBody::RemoveAllDestinations
        | RequestBody::GetNeStatus
        | RequestBody::GetAllDetails
        | RequestBody::ListAllDetails
        | RequestBody::GetAllTaskDetails
        | RequestBody::GetAllDestinationDetails
        | RequestBody::Ping
        | RequestBody::Keepalive => {}
    }
    Ok(())
}

fn write_response_body(w: &mut Writer, body: &ResponseBody) -> Result<(), X1Error> {
    match body {
        ResponseBody::Ok { status, .. } => w.leaf(
            "oK",
            match status {
                OkStatus::AcknowledgedAndCompleted => "AcknowledgedAndCompleted",
                OkStatus::Acknowledged => "Acknowledged",
            },
        )?,
        ResponseBody::GetTaskDetails(task) => write_task_response(w, task)?,
        ResponseBody::GetDestinationDetails(dest) => write_destination_response(w, dest)?,
        ResponseBody::GetNeStatus(ne) => write_ne_status(w, ne)?,
        ResponseBody::GetAllDetails {
            ne_status,
            tasks,
            destinations,
        } => {
            write_ne_status(w, ne_status)?;
            write_task_responses(w, tasks)?;
            write_destination_responses(w, destinations)?;
        }
        ResponseBody::ListAllDetails { xids, dids } => {
            w.open("ListOfXIDs");
            for xid in xids {
                w.leaf("xId", &xid.to_string())?;
            }
            w.close();
            w.open("ListOfDIDs");
            for did in dids {
                w.leaf("dId", &did.to_string())?;
            }
            w.close();
        }
        ResponseBody::GetAllTaskDetails(tasks) => write_task_responses(w, tasks)?,
        ResponseBody::GetAllDestinationDetails(destinations) => {
            write_destination_responses(w, destinations)?;
        }
        ResponseBody::Error(error) => {
            w.leaf("requestMessageType", error.request_message_type.as_str())?;
            w.open("errorInformation");
            write_error_information(w, &error.error)?;
            w.close();
            if let Some(ext) = &error.extended_request_message_type {
                w.open("extensionInformation");
                w.leaf("extensionSpecification", "TS133128")?;
                w.leaf("extendedRequestMessageType", ext)?;
                w.close();
            }
        }
    }
    Ok(())
}

fn write_error_information(w: &mut Writer, info: &ErrorInformation) -> Result<(), X1Error> {
    w.leaf("errorCode", &info.code.to_string())?;
    w.leaf("errorDescription", &info.description)
}

fn write_faults(w: &mut Writer, faults: &[ErrorInformation]) -> Result<(), X1Error> {
    w.open("listOfFaults");
    for fault in faults {
        w.open("unresolvedFault");
        write_error_information(w, fault)?;
        w.close();
    }
    w.close();
    Ok(())
}

fn write_ne_status(w: &mut Writer, ne: &NeStatusDetails) -> Result<(), X1Error> {
    w.open("neStatusDetails");
    w.leaf("neStatus", ne.status.as_str())?;
    write_faults(w, &ne.faults)?;
    w.close();
    Ok(())
}

fn write_task_responses(w: &mut Writer, tasks: &[TaskResponseDetails]) -> Result<(), X1Error> {
    w.open("listOfTaskResponseDetails");
    for task in tasks {
        write_task_response(w, task)?;
    }
    w.close();
    Ok(())
}

fn write_destination_responses(
    w: &mut Writer,
    destinations: &[DestinationResponseDetails],
) -> Result<(), X1Error> {
    w.open("listOfDestinationResponseDetails");
    for dest in destinations {
        write_destination_response(w, dest)?;
    }
    w.close();
    Ok(())
}

fn write_task_response(w: &mut Writer, task: &TaskResponseDetails) -> Result<(), X1Error> {
    w.open("taskResponseDetails");
    w.open("taskDetails");
    write_task_details(w, &task.details)?;
    w.close();
    w.open("taskStatus");
    let status = &task.status;
    w.leaf("provisioningStatus", status.provisioning_status.as_str())?;
    write_faults(w, &status.faults)?;
    if let Some(t) = status.time_of_last_intercept {
        w.leaf("timeOfLastIntercept", &t.to_string())?;
    }
    if let Some(n) = status.amount_of_x2_data {
        w.leaf("amountOfX2Data", &n.to_string())?;
    }
    if let Some(n) = status.amount_of_x3_data {
        w.leaf("amountOfX3Data", &n.to_string())?;
    }
    if let Some(t) = status.time_of_last_modification {
        w.leaf("timeOfLastModification", &t.to_string())?;
    }
    if let Some(n) = status.number_of_modifications {
        w.leaf("numberOfModifications", &n.to_string())?;
    }
    w.close();
    w.close();
    Ok(())
}

fn write_destination_response(
    w: &mut Writer,
    dest: &DestinationResponseDetails,
) -> Result<(), X1Error> {
    w.open("destinationResponseDetails");
    w.open("destinationDetails");
    write_destination_details(w, &dest.details)?;
    w.close();
    w.open("destinationStatus");
    w.leaf("destinationDeliveryStatus", dest.delivery_status.as_str())?;
    write_faults(w, &dest.faults)?;
    w.close();
    w.close();
    Ok(())
}

fn write_task_details(w: &mut Writer, task: &TaskDetails) -> Result<(), X1Error> {
    w.leaf("xId", &task.xid.to_string())?;
    if task.targets.is_empty() {
        return Err(w.fail(
            "targetIdentifiers",
            "a task has at least one target identifier",
        ));
    }
    w.open("targetIdentifiers");
    for target in &task.targets {
        w.open("targetIdentifier");
        write_target(w, target)?;
        w.close();
    }
    w.close();
    w.leaf("deliveryType", task.delivery_type.as_str())?;
    write_dids(w, &task.dids)?;
    if !task.mediation_details.is_empty() {
        w.open("listOfMediationDetails");
        for m in &task.mediation_details {
            w.open("mediationDetails");
            let liid = m.liid.as_bytes();
            if !liid.iter().all(|b| (0x21..=0x7e).contains(b)) {
                return Err(w.fail("LIID", "a LIID on X1 is printable ASCII without spaces"));
            }
            w.leaf("LIID", &String::from_utf8_lossy(liid))?;
            w.leaf("deliveryType", m.delivery_type.as_str())?;
            if let Some(t) = m.start_time {
                w.leaf("StartTime", &t.to_string())?;
            }
            if let Some(t) = m.end_time {
                w.leaf("EndTime", &t.to_string())?;
            }
            if let Some(dids) = &m.dids {
                write_dids(w, dids)?;
            }
            w.close();
        }
        w.close();
    }
    if let Some(id) = task.correlation_id {
        w.leaf("correlationID", &id.to_string())?;
    }
    if let Some(allowed) = task.implicit_deactivation_allowed {
        w.leaf(
            "implicitDeactivationAllowed",
            if allowed { "true" } else { "false" },
        )?;
    }
    if let Some(product) = task.product_id {
        w.leaf("productID", &product.to_string())?;
    }
    Ok(())
}

fn write_dids(w: &mut Writer, dids: &[DestinationId]) -> Result<(), X1Error> {
    w.open("listOfDIDs");
    for did in dids {
        w.leaf("dId", &did.to_string())?;
    }
    w.close();
    Ok(())
}

fn write_target(w: &mut Writer, target: &TargetIdentifier) -> Result<(), X1Error> {
    match target {
        TargetIdentifier::Ipv4Address(a) => w.leaf("ipv4Address", &a.to_string()),
        TargetIdentifier::Ipv6Address(a) => w.leaf("ipv6Address", &ipv6_full(*a)),
        TargetIdentifier::IpPrefix(p) => match p.addr() {
            IpAddr::V4(a) => {
                w.open("ipv4Cidr");
                w.leaf("etsi103280:IPv4CIDR", &format!("{a}/{}", p.prefix_len()))?;
                w.close();
                Ok(())
            }
            IpAddr::V6(a) => {
                if p.prefix_len() == 0 {
                    return Err(w.fail("ipv6Cidr", "TS 103 280 IPv6CIDR lengths are 1..=128"));
                }
                w.leaf("ipv6Cidr", &format!("{}/{}", ipv6_full(a), p.prefix_len()))
            }
        },
        TargetIdentifier::MacAddress(m) => w.leaf("macAddress", &m.to_string()),
        TargetIdentifier::SipUri(uri) => {
            let text = uri.as_str();
            let rest = text
                .strip_prefix("sips:")
                .or_else(|| text.strip_prefix("sip:"))
                .unwrap_or(text);
            if rest.is_empty() || !rest.chars().all(is_uri_pattern_char) {
                return Err(w.fail(
                    "sipUri",
                    "TS 103 280 SIPURI allows only letters, digits and !#$%&'()*+,-./:;=?@[]_~",
                ));
            }
            w.leaf("sipUri", text)
        }
        TargetIdentifier::E164Number(n) => w.leaf("e164Number", n.digits()),
        TargetIdentifier::Username(u) => w.leaf("nai", u.as_str()),
        _ => Err(w.fail(
            "targetIdentifier",
            "this target kind has no TS 103 221-1 representation here",
        )),
    }
}

fn write_destination_details(w: &mut Writer, dest: &DestinationDetails) -> Result<(), X1Error> {
    w.leaf("dId", &dest.did.to_string())?;
    if let Some(name) = &dest.friendly_name {
        w.leaf("friendlyName", name)?;
    }
    w.leaf("deliveryType", dest.delivery_type.as_str())?;
    w.open("deliveryAddress");
    match &dest.delivery_address {
        DeliveryAddress::IpAddressPort { address, port } => {
            w.open("ipAddressAndPort");
            w.open("etsi103280:address");
            match address {
                IpAddr::V4(a) => w.leaf("etsi103280:IPv4Address", &a.to_string())?,
                IpAddr::V6(a) => w.leaf("etsi103280:IPv6Address", &ipv6_full(*a))?,
            }
            w.close();
            w.open("etsi103280:port");
            match *port {
                Port::Tcp(p) if p < 2 => {
                    return Err(w.fail("TCPPort", "TS 103 280 TCPPort is 2..=65535"));
                }
                Port::Tcp(p) => w.leaf("etsi103280:TCPPort", &p.to_string())?,
                Port::Udp(p) => w.leaf("etsi103280:UDPPort", &p.to_string())?,
            }
            w.close();
            w.close();
        }
        DeliveryAddress::E164Number(n) => w.leaf("e164Number", n.digits())?,
        DeliveryAddress::Uri(uri) => {
            if uri.is_empty() || uri.chars().any(|c| c.is_whitespace() || c.is_control()) {
                return Err(w.fail("uri", "a URI is non-empty, without whitespace or controls"));
            }
            w.leaf("uri", uri)?;
        }
    }
    w.close();
    Ok(())
}

/// The full form TS 103 280 `IPv6Address` requires: eight groups of four lowercase digits.
fn ipv6_full(addr: Ipv6Addr) -> String {
    addr.segments()
        .iter()
        .map(|s| format!("{s:04x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// `xs:token`: no leading/trailing space, no doubled space, no tab, CR or LF.
fn is_token(s: &str) -> bool {
    !s.starts_with(' ') && !s.ends_with(' ') && !s.contains("  ") && !s.contains(['\t', '\r', '\n'])
}

/// The character class of the TS 103 280 SIPURI/TELURI patterns after the scheme:
/// `[a-zA-Z0-9!#$&-;=?-\[\]_~%]`.
fn is_uri_pattern_char(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || matches!(c, '!' | '#' | '$' | '&'..=';' | '=' | '?'..='[' | ']' | '_' | '~' | '%')
}
