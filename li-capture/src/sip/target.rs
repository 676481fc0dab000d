//! Identities in a SIP message, and matching them against interception targets.
//!
//! [`SipMessage::identities`] lists every identity a message names, with the header it was
//! found in: the Request-URI, From, To, P-Asserted-Identity and P-Preferred-Identity (RFC
//! 3325), Diversion (RFC 5806), History-Info (RFC 7044), Contact (of a REGISTER only: the
//! binding being registered), and the `username` of the Authorization and
//! Proxy-Authorization credentials (RFC 3261 clause 22.4; in IMS, the private identity).
//!
//! [`SipTargets`] holds the targets of kinds [`TargetIdentifier::SipUri`],
//! [`TargetIdentifier::E164Number`] and [`TargetIdentifier::Username`] in a hash table keyed
//! by their normalised form (see [`uri`](super::uri) for the comparison rules), and says
//! which of them a message concerns and where. A lookup normalises the identity into a
//! stack buffer: matching allocates nothing but the caller's output vector.
//!
//! What matches what:
//!
//! | target | matches |
//! |---|---|
//! | `sip:` / `sips:` URI | a SIP or SIPS URI with the same user and host (and port, if the target has one); an Authorization `username` `user@host` with the same user and host |
//! | `tel:` E.164 number | a `tel:` URI with that global number; a SIP URI whose user part is that global number |
//! | `username:user@domain` | an Authorization or Proxy-Authorization `username` equal to it, whatever the `realm` (an IMS private identity carries its home domain); a `username` `user` (no `@`) whose `realm` is `domain` |
//! | `username:user` (no `@`) | an Authorization or Proxy-Authorization `username` `user` (no `@`), whatever the `realm`: for a network with one realm, where the carrier chose to name its subscribers so |
//!
//! A username target's domain, and a credentials' `realm`, are compared case-insensitively
//! (RFC 7542 clause 2.4: realms are case-insensitive); the user part is compared as
//! written. So `username:alice@example.net` catches `username="alice", realm="example.net"`
//! and `username="alice@example.net"` (any realm), not `username="alice",
//! realm="other.example"`; `username:alice` catches `username="alice"` in any realm, not
//! `username="alice@example.net"`.

use li_core::{TargetIdentifier, TargetKind};

use super::error::{Result, SipError};
use super::message::{HeaderName, Method, NameAddr, SipMessage, StartLine};
use super::uri::{
    GlobalNumber, KeyBuf, ListValues, Uri, split_byte, split_list, trim_lws, unquote,
    write_number_key, write_sip_key,
};
use crate::hash::FastMap;

/// Where in a message an identity was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum IdentitySource {
    /// The Request-URI.
    RequestUri,
    /// From.
    From,
    /// To.
    To,
    /// P-Asserted-Identity (RFC 3325).
    PAssertedIdentity,
    /// P-Preferred-Identity (RFC 3325).
    PPreferredIdentity,
    /// Diversion (RFC 5806).
    Diversion,
    /// History-Info (RFC 7044).
    HistoryInfo,
    /// Contact of a REGISTER.
    Contact,
    /// The `username` of Authorization.
    Authorization,
    /// The `username` of Proxy-Authorization.
    ProxyAuthorization,
}

impl IdentitySource {
    fn of_header(name: HeaderName, is_register: bool) -> Option<Self> {
        Some(match name {
            HeaderName::From => Self::From,
            HeaderName::To => Self::To,
            HeaderName::PAssertedIdentity => Self::PAssertedIdentity,
            HeaderName::PPreferredIdentity => Self::PPreferredIdentity,
            HeaderName::Diversion => Self::Diversion,
            HeaderName::HistoryInfo => Self::HistoryInfo,
            HeaderName::Contact if is_register => Self::Contact,
            HeaderName::Authorization => Self::Authorization,
            HeaderName::ProxyAuthorization => Self::ProxyAuthorization,
            _ => return None,
        })
    }
}

/// One identity named by a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Identity<'a> {
    /// Where it was found.
    pub source: IdentitySource,
    /// What it is.
    pub value: IdentityValue<'a>,
}

/// The text of an [`Identity`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdentityValue<'a> {
    /// A URI (any scheme), as written.
    Uri(&'a str),
    /// The `username` of credentials and their `realm` (if any), quotes removed.
    Username {
        /// The `username` auth-param.
        name: &'a str,
        /// The `realm` auth-param.
        realm: Option<&'a str>,
    },
}

impl<'a> SipMessage<'a> {
    /// Every identity the message names, Request-URI first, then in header order; list
    /// headers are split, values that do not parse as a name-addr are skipped.
    ///
    /// ```
    /// use li_capture::sip::{IdentitySource, IdentityValue, SipMessage};
    ///
    /// let msg = SipMessage::parse(
    ///     b"INVITE tel:+4930123 SIP/2.0\r\nFrom: <sip:a@x.example>;tag=1\r\n\
    ///       P-Asserted-Identity: <sip:+4940555@x.example;user=phone>, <tel:+4940555>\r\n\r\n",
    /// )?;
    /// let ids: Vec<_> = msg.identities().map(|i| (i.source, i.value)).collect();
    /// assert_eq!(ids, [
    ///     (IdentitySource::RequestUri, IdentityValue::Uri("tel:+4930123")),
    ///     (IdentitySource::From, IdentityValue::Uri("sip:a@x.example")),
    ///     (IdentitySource::PAssertedIdentity, IdentityValue::Uri("sip:+4940555@x.example;user=phone")),
    ///     (IdentitySource::PAssertedIdentity, IdentityValue::Uri("tel:+4940555")),
    /// ]);
    /// # Ok::<(), li_capture::sip::SipError>(())
    /// ```
    pub fn identities(&self) -> Identities<'_, 'a> {
        Identities {
            msg: self,
            request_uri_done: false,
            is_register: self.method() == Some(Method::Register) && self.is_request(),
            next_header: 0,
            current: None,
        }
    }
}

/// Iterator over the identities of a message; see [`SipMessage::identities`].
#[derive(Clone, Debug)]
pub struct Identities<'m, 'a> {
    msg: &'m SipMessage<'a>,
    request_uri_done: bool,
    is_register: bool,
    next_header: usize,
    current: Option<(IdentitySource, ListValues<'a>)>,
}

impl<'a> Iterator for Identities<'_, 'a> {
    type Item = Identity<'a>;

    fn next(&mut self) -> Option<Identity<'a>> {
        if !self.request_uri_done {
            self.request_uri_done = true;
            if let StartLine::Request { uri, .. } = self.msg.start_line() {
                return Some(Identity {
                    source: IdentitySource::RequestUri,
                    value: IdentityValue::Uri(uri),
                });
            }
        }
        loop {
            if let Some((source, values)) = &mut self.current {
                for value in values.by_ref() {
                    if let Ok(addr) = NameAddr::parse(value) {
                        return Some(Identity {
                            source: *source,
                            value: IdentityValue::Uri(addr.uri),
                        });
                    }
                }
                self.current = None;
            }
            let header = self.msg.header_at(self.next_header)?;
            self.next_header += 1;
            let Some(source) = IdentitySource::of_header(header.name(), self.is_register) else {
                continue;
            };
            match source {
                IdentitySource::Authorization | IdentitySource::ProxyAuthorization => {
                    if let Some((name, realm)) = credentials_username(header.value()) {
                        return Some(Identity {
                            source,
                            value: IdentityValue::Username { name, realm },
                        });
                    }
                }
                // Not lists: a display name in From or To may hold an unquoted comma.
                IdentitySource::From | IdentitySource::To => {
                    if let Ok(addr) = NameAddr::parse(header.value()) {
                        return Some(Identity {
                            source,
                            value: IdentityValue::Uri(addr.uri),
                        });
                    }
                }
                _ => self.current = Some((source, split_list(header.value()))),
            }
        }
    }
}

/// The `username` auth-param of credentials (`Digest username="alice", realm=...`), and
/// their `realm` (none if absent or empty). Quoted values may hold commas.
fn credentials_username(value: &str) -> Option<(&str, Option<&str>)> {
    let value = trim_lws(value);
    let params = value
        .split_once(|c: char| c.is_ascii_whitespace())
        .map_or("", |(_, p)| p);
    let (mut username, mut realm) = (None, None);
    for p in split_list(params) {
        let Some((name, v)) = split_byte(p, b'=') else {
            continue;
        };
        let name = trim_lws(name);
        let slot = if name.eq_ignore_ascii_case("username") {
            &mut username
        } else if name.eq_ignore_ascii_case("realm") {
            &mut realm
        } else {
            continue;
        };
        if slot.is_none() {
            *slot = Some(unquote(trim_lws(v)));
        }
    }
    let username = username.filter(|u| !u.is_empty())?;
    Some((username, realm.filter(|r| !r.is_empty())))
}

/// Writes the key of a username: `U`, then the user part as written, then (with a domain:
/// the part after the last `@` of a `user@domain` username, or a credentials' realm) `@`
/// and the domain in lowercase. `false` if it does not fit.
#[must_use]
fn write_username_key(user: &str, domain: Option<&str>, key: &mut KeyBuf) -> bool {
    key.clear();
    key.push(b'U')
        && key.extend(user.as_bytes())
        && domain.is_none_or(|d| key.push(b'@') && key.extend_lowercase(d.as_bytes()))
}

/// The key of a username as written (`user@domain` split at its last `@`).
#[must_use]
fn write_written_username_key(username: &str, key: &mut KeyBuf) -> bool {
    match username.rsplit_once('@') {
        Some((user, domain)) => write_username_key(user, Some(domain), key),
        None => write_username_key(username, None, key),
    }
}

/// A target a message concerns, and where it was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TargetMatch<'t> {
    /// The target, as inserted.
    pub target: &'t TargetIdentifier,
    /// The header (or the Request-URI) it was found in.
    pub source: IdentitySource,
}

/// A set of SIP-relevant targets and the matcher over messages; see the [module
/// docs](self).
///
/// ```
/// use li_capture::sip::{IdentitySource, SipMessage, SipTargets};
///
/// let mut targets = SipTargets::new();
/// targets.insert("sip:alice@atlanta.example.com".parse()?)?;
/// targets.insert("tel:+4930123456".parse()?)?;
///
/// let msg = SipMessage::parse(
///     b"INVITE sip:+49-30-123456@gw.example;user=phone SIP/2.0\r\n\
///       From: \"Alice\" <sip:%61lice@ATLANTA.example.com>;tag=9\r\n\
///       To: <sip:+49-30-123456@gw.example;user=phone>\r\n\r\n",
/// )?;
/// let mut hits = Vec::new();
/// targets.match_message(&msg, &mut hits);
/// let found: Vec<_> = hits.iter().map(|h| (h.target.to_string(), h.source)).collect();
/// assert_eq!(found, [
///     ("tel:+4930123456".to_string(), IdentitySource::RequestUri),
///     ("sip:alice@atlanta.example.com".to_string(), IdentitySource::From),
///     ("tel:+4930123456".to_string(), IdentitySource::To),
/// ]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct SipTargets {
    /// Never holds an empty `Vec`.
    by_key: FastMap<Box<[u8]>, Vec<Entry>>,
}

#[derive(Clone, Debug)]
struct Entry {
    target: TargetIdentifier,
    /// The SIP URI target's port, compared when present.
    port: Option<u16>,
}

impl SipTargets {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a target; adding one already present changes nothing.
    ///
    /// Fails with [`SipError::UnsupportedTarget`] for a kind a SIP message cannot name (IP
    /// addresses, MAC addresses), and with [`SipError::InvalidUri`] for a SIP URI target
    /// this parser rejects.
    pub fn insert(&mut self, target: TargetIdentifier) -> Result<()> {
        let (key, port) = Self::key_of(&target)?;
        let entries = self.by_key.entry(key).or_default();
        if !entries.iter().any(|e| e.target == target) {
            entries.push(Entry { target, port });
        }
        Ok(())
    }

    /// Removes a target; `false` if it was not present.
    pub fn remove(&mut self, target: &TargetIdentifier) -> bool {
        let Ok((key, _)) = Self::key_of(target) else {
            return false;
        };
        let Some(entries) = self.by_key.get_mut(&key) else {
            return false;
        };
        let before = entries.len();
        entries.retain(|e| e.target != *target);
        let removed = entries.len() < before;
        if entries.is_empty() {
            self.by_key.remove(&key);
        }
        removed
    }

    /// The number of targets (counted: a step per distinct key).
    pub fn len(&self) -> usize {
        self.by_key.values().map(Vec::len).sum()
    }

    /// Whether there is no target.
    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }

    /// Appends to `out` every (target, source) the message concerns, each pair once, in
    /// the order of [`SipMessage::identities`]. `out` is not cleared.
    pub fn match_message<'t>(&'t self, msg: &SipMessage<'_>, out: &mut Vec<TargetMatch<'t>>) {
        if self.is_empty() {
            return;
        }
        let mut key = KeyBuf::new();
        for identity in msg.identities() {
            self.match_with(&identity, &mut key, out);
        }
    }

    /// Appends to `out` the targets one identity matches (each once).
    pub fn match_identity<'t>(&'t self, identity: &Identity<'_>, out: &mut Vec<TargetMatch<'t>>) {
        if !self.is_empty() {
            self.match_with(identity, &mut KeyBuf::new(), out);
        }
    }

    fn match_with<'t>(
        &'t self,
        identity: &Identity<'_>,
        key: &mut KeyBuf,
        out: &mut Vec<TargetMatch<'t>>,
    ) {
        let source = identity.source;
        match identity.value {
            IdentityValue::Uri(text) => match Uri::parse(text) {
                Ok(Uri::Sip(uri)) => {
                    if write_sip_key(uri.user(), uri.host(), key) {
                        let port = uri.effective_port();
                        self.lookup(key, source, out, |e| e.port.is_none_or(|p| p == port));
                    }
                    if let Some(number) = uri.global_number() {
                        self.lookup_number(&number, key, source, out);
                    }
                }
                Ok(Uri::Tel(tel)) => {
                    if let Some(number) = tel.global_number() {
                        self.lookup_number(&number, key, source, out);
                    }
                }
                Ok(Uri::Other { .. }) | Err(_) => {}
            },
            IdentityValue::Username { name: user, realm } => {
                // `user@domain` as written (any realm), or `user` in any realm; and `user`
                // with its realm as the domain of a `user@domain` target.
                if write_written_username_key(user, key) {
                    self.lookup(key, source, out, |_| true);
                }
                if !user.contains('@')
                    && let Some(realm) = realm
                    && write_username_key(user, Some(realm), key)
                {
                    self.lookup(key, source, out, |_| true);
                }
                if let Some((u, host)) = user.rsplit_once('@')
                    && !u.is_empty()
                    && !host.is_empty()
                    && write_sip_key(Some(u), host, key)
                {
                    self.lookup(key, source, out, |_| true);
                }
            }
        }
    }

    fn lookup_number<'t>(
        &'t self,
        number: &GlobalNumber,
        key: &mut KeyBuf,
        source: IdentitySource,
        out: &mut Vec<TargetMatch<'t>>,
    ) {
        if write_number_key(number, key) {
            self.lookup(key, source, out, |_| true);
        }
    }

    fn lookup<'t>(
        &'t self,
        key: &KeyBuf,
        source: IdentitySource,
        out: &mut Vec<TargetMatch<'t>>,
        accept: impl Fn(&Entry) -> bool,
    ) {
        let Some(entries) = self.by_key.get(key.as_bytes()) else {
            return;
        };
        for entry in entries.iter().filter(|e| accept(e)) {
            let hit = TargetMatch {
                target: &entry.target,
                source,
            };
            if !out
                .iter()
                .any(|m| std::ptr::eq(m.target, hit.target) && m.source == source)
            {
                out.push(hit);
            }
        }
    }

    /// The normalised key of a target, and its port for a SIP URI with one.
    fn key_of(target: &TargetIdentifier) -> Result<(Box<[u8]>, Option<u16>)> {
        let mut key = KeyBuf::new();
        let too_long = SipError::InvalidUri {
            offset: 0,
            reason: "longer than the matcher's key buffer",
        };
        match target {
            TargetIdentifier::SipUri(uri) => {
                let parsed = super::uri::SipUriRef::parse(uri.as_str())?;
                if !write_sip_key(parsed.user(), parsed.host(), &mut key) {
                    return Err(too_long);
                }
                Ok((key.as_bytes().into(), parsed.port()))
            }
            TargetIdentifier::E164Number(number) => {
                let number = GlobalNumber::parse(&format!("+{}", number.digits())).ok_or(
                    SipError::UnsupportedTarget {
                        kind: TargetKind::E164Number,
                    },
                )?;
                if !write_number_key(&number, &mut key) {
                    return Err(too_long);
                }
                Ok((key.as_bytes().into(), None))
            }
            TargetIdentifier::Username(user) => {
                if !write_written_username_key(user.as_str(), &mut key) {
                    return Err(too_long);
                }
                Ok((key.as_bytes().into(), None))
            }
            other => Err(SipError::UnsupportedTarget { kind: other.kind() }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use IdentitySource as S;

    fn target(text: &str) -> TargetIdentifier {
        text.parse().unwrap()
    }

    fn targets(list: &[&str]) -> SipTargets {
        let mut set = SipTargets::new();
        for t in list {
            set.insert(target(t)).unwrap();
        }
        set
    }

    /// (target text, source) pairs the message matches.
    fn hits(set: &SipTargets, data: &[u8]) -> Vec<(String, IdentitySource)> {
        let msg = SipMessage::parse(data).unwrap();
        let mut out = Vec::new();
        set.match_message(&msg, &mut out);
        out.iter()
            .map(|m| (m.target.to_string(), m.source))
            .collect()
    }

    const REGISTER: &[u8] = b"REGISTER sip:ims.example SIP/2.0\r\n\
        Via: SIP/2.0/UDP [2001:db8::9]:5060;branch=z9hG4bKreg\r\n\
        From: <sip:+4915112345678@ims.example>;tag=r1\r\n\
        To: <sip:+4915112345678@ims.example>\r\n\
        Contact: <sip:ue@[2001:db8::9]:5060>;expires=600, <sip:alt@ue.example>\r\n\
        Authorization: Digest username=\"262011234567890@ims.example\", realm=\"ims.example\", \
        nonce=\"n, with comma\", uri=\"sip:ims.example\", response=\"0\"\r\n\
        Call-ID: reg1\r\nCSeq: 2 REGISTER\r\n\r\n";

    #[test]
    fn identities_of_a_register() {
        let msg = SipMessage::parse(REGISTER).unwrap();
        let ids: Vec<_> = msg.identities().map(|i| (i.source, i.value)).collect();
        assert_eq!(
            ids,
            [
                (S::RequestUri, IdentityValue::Uri("sip:ims.example")),
                (
                    S::From,
                    IdentityValue::Uri("sip:+4915112345678@ims.example")
                ),
                (S::To, IdentityValue::Uri("sip:+4915112345678@ims.example")),
                (S::Contact, IdentityValue::Uri("sip:ue@[2001:db8::9]:5060")),
                (S::Contact, IdentityValue::Uri("sip:alt@ue.example")),
                (
                    S::Authorization,
                    IdentityValue::Username {
                        name: "262011234567890@ims.example",
                        realm: Some("ims.example")
                    }
                ),
            ]
        );
    }

    #[test]
    fn identities_of_a_diverted_invite() {
        let msg = SipMessage::parse(
            b"INVITE sip:voicemail@vm.example SIP/2.0\r\n\
              From: \"Caller, The\" <sip:caller@a.example>;tag=1\r\n\
              To: <tel:+44-20-7946-0000>\r\n\
              P-Asserted-Identity: \"C\" <sip:caller@a.example>, <tel:+4930111>\r\n\
              P-Preferred-Identity: <sip:pref@a.example>\r\n\
              Diversion: <sip:+442079460000@b.example;user=phone>;reason=no-answer;counter=1\r\n\
              History-Info: <sip:bob@b.example?Reason=SIP%3Bcause%3D302>;index=1,\r\n\
              \x20<sip:voicemail@vm.example>;index=1.1\r\n\
              Contact: <sip:caller@192.0.2.4>\r\n\
              Proxy-Authorization: Digest realm=\"a\", username=\"caller\"\r\n\r\n",
        )
        .unwrap();
        let ids: Vec<_> = msg.identities().map(|i| (i.source, i.value)).collect();
        let uri = IdentityValue::Uri;
        assert_eq!(
            ids,
            [
                (S::RequestUri, uri("sip:voicemail@vm.example")),
                (S::From, uri("sip:caller@a.example")),
                (S::To, uri("tel:+44-20-7946-0000")),
                (S::PAssertedIdentity, uri("sip:caller@a.example")),
                (S::PAssertedIdentity, uri("tel:+4930111")),
                (S::PPreferredIdentity, uri("sip:pref@a.example")),
                (S::Diversion, uri("sip:+442079460000@b.example;user=phone")),
                (
                    S::HistoryInfo,
                    uri("sip:bob@b.example?Reason=SIP%3Bcause%3D302")
                ),
                (S::HistoryInfo, uri("sip:voicemail@vm.example")),
                // No Contact: this is not a REGISTER.
                (
                    S::ProxyAuthorization,
                    IdentityValue::Username {
                        name: "caller",
                        realm: Some("a")
                    }
                ),
            ]
        );
        // A response has no Request-URI identity.
        let msg = SipMessage::parse(b"SIP/2.0 200 OK\r\nTo: <sip:b@x>;tag=2\r\n\r\n").unwrap();
        assert_eq!(msg.identities().count(), 1);
    }

    #[test]
    fn sip_uri_targets() {
        let set = targets(&[
            "sip:alice@atlanta.example.com",
            "sips:carol@chicago.example.com:5061",
        ]);
        assert_eq!(set.len(), 2);
        let data = b"INVITE sip:carol@Chicago.Example.com SIP/2.0\r\n\
            From: <sips:%61lice@ATLANTA.example.com;transport=tls>;tag=1\r\n\
            To: <sip:carol@chicago.example.com:5070>\r\n\r\n";
        assert_eq!(
            hits(&set, data),
            [
                // Port 5061 in the target: a sip: URI without port defaults to 5060.
                ("sip:alice@atlanta.example.com".into(), S::From),
            ]
        );
        let data = b"INVITE sips:carol@chicago.example.com SIP/2.0\r\nTo: <sip:carol@chicago.example.com:5061>\r\n\r\n";
        assert_eq!(
            hits(&set, data),
            [
                ("sips:carol@chicago.example.com:5061".into(), S::RequestUri),
                ("sips:carol@chicago.example.com:5061".into(), S::To),
            ]
        );
        // The user part is case-sensitive; another host is another identity.
        let data = b"INVITE sip:Alice@atlanta.example.com SIP/2.0\r\nFrom: <sip:alice@biloxi.example.com>\r\n\r\n";
        assert!(hits(&set, data).is_empty());
    }

    #[test]
    fn e164_targets_in_tel_and_sip_uris() {
        let set = targets(&["tel:+4915112345678", "tel:+442079460000"]);
        assert_eq!(
            hits(&set, REGISTER),
            [
                ("tel:+4915112345678".into(), S::From),
                ("tel:+4915112345678".into(), S::To),
            ]
        );
        let data = b"INVITE tel:+44-20-7946-0000;phone-context=x SIP/2.0\r\n\
            To: <sip:+44(20)7946.0000@gw.example;user=phone>\r\n\
            Diversion: <sip:+4915112345678;isub=1@gw.example;user=phone>;reason=busy\r\n\
            From: <sip:02079460000@gw.example;user=phone>\r\n\r\n";
        assert_eq!(
            hits(&set, data),
            [
                ("tel:+442079460000".into(), S::RequestUri),
                ("tel:+442079460000".into(), S::To),
                ("tel:+4915112345678".into(), S::Diversion),
            ]
        );
    }

    #[test]
    fn usernames_in_credentials() {
        let set = targets(&[
            "username:262011234567890@ims.example",
            "sip:262011234567890@ims.example",
        ]);
        assert_eq!(
            hits(&set, REGISTER),
            [
                (
                    "username:262011234567890@ims.example".into(),
                    S::Authorization
                ),
                ("sip:262011234567890@ims.example".into(), S::Authorization),
            ]
        );
    }

    #[test]
    fn each_target_and_source_once() {
        let set = targets(&["sip:a@x.example"]);
        let data = b"MESSAGE sip:a@x.example SIP/2.0\r\n\
            P-Asserted-Identity: <sip:a@x.example>, <sip:a@X.example>\r\n\
            P-Asserted-Identity: <sip:a@x.example;user=ip>\r\n\r\n";
        assert_eq!(
            hits(&set, data),
            [
                ("sip:a@x.example".into(), S::RequestUri),
                ("sip:a@x.example".into(), S::PAssertedIdentity),
            ]
        );
    }

    #[test]
    fn insert_and_remove() {
        let mut set = SipTargets::new();
        assert!(set.is_empty());
        assert_eq!(
            set.insert(target("ipv4:192.0.2.1")),
            Err(SipError::UnsupportedTarget {
                kind: TargetKind::Ipv4Address
            })
        );
        set.insert(target("sip:a@x")).unwrap();
        set.insert(target("sip:a@x")).unwrap();
        set.insert(target("sip:a@x;transport=tcp")).unwrap();
        assert_eq!(
            set.len(),
            2,
            "a second target with the same key is kept apart"
        );
        let data = b"OPTIONS sip:a@x SIP/2.0\r\n\r\n";
        assert_eq!(hits(&set, data).len(), 2);
        assert!(set.remove(&target("sip:a@x")));
        assert!(!set.remove(&target("sip:a@x")));
        assert!(!set.remove(&target("ipv4:192.0.2.1")));
        assert_eq!(
            hits(&set, data),
            [("sip:a@x;transport=tcp".into(), S::RequestUri)]
        );
        assert!(set.remove(&target("sip:a@x;transport=tcp")));
        assert!(set.is_empty() && set.by_key.is_empty());
        assert!(hits(&set, data).is_empty());
    }

    #[test]
    fn match_identity_directly() {
        let set = targets(&["tel:+12015550123"]);
        let mut out = Vec::new();
        let id = Identity {
            source: S::PAssertedIdentity,
            value: IdentityValue::Uri("tel:+1-201-555-0123"),
        };
        set.match_identity(&id, &mut out);
        assert_eq!(out.len(), 1);
        let garbage = Identity {
            source: S::From,
            value: IdentityValue::Uri("not a uri"),
        };
        set.match_identity(&garbage, &mut out);
        assert_eq!(out.len(), 1);
    }

    #[test]
    fn credentials_username_forms() {
        assert_eq!(
            credentials_username("Digest username=\"a\",realm=\"r\""),
            Some(("a", Some("r")))
        );
        assert_eq!(
            credentials_username("Digest realm=\"r, s\", USERNAME = b"),
            Some(("b", Some("r, s")))
        );
        assert_eq!(
            credentials_username("Digest nonce=\"x, realm=y\", username=a, REALM = z"),
            Some(("a", Some("z")))
        );
        assert_eq!(
            credentials_username("Digest username=a, realm=\"\""),
            Some(("a", None))
        );
        assert_eq!(credentials_username("Digest username=a"), Some(("a", None)));
        assert_eq!(credentials_username("Digest realm=\"r\""), None);
        assert_eq!(credentials_username("Digest username=\"\""), None);
        assert_eq!(credentials_username("Basic"), None);
    }

    /// Digest credentials of a REGISTER (any value of the header after `Digest `).
    fn with_credentials(credentials: &str) -> Vec<u8> {
        format!(
            "REGISTER sip:registrar.example SIP/2.0\r\nFrom: <sip:x@y.example>;tag=1\r\n\
             Authorization: Digest {credentials}\r\n\r\n"
        )
        .into_bytes()
    }

    #[test]
    fn username_targets_and_the_realm() {
        let set = targets(&["username:alice@Example.NET", "username:bob"]);
        let alice = || vec![("username:alice@Example.NET".to_string(), S::Authorization)];
        let bob = || vec![("username:bob".to_string(), S::Authorization)];
        let none = Vec::<(String, IdentitySource)>::new;
        for (credentials, want) in [
            // `user@domain`: the user in the domain's realm (any case), quoted or not,
            // whatever the order and the commas quoted beside.
            (
                r#"username="alice", realm="example.net", nonce="n""#,
                alice(),
            ),
            (
                r#"realm="EXAMPLE.net", nonce="a, b", username="alice""#,
                alice(),
            ),
            ("username=alice,realm=example.net", alice()),
            // ... or the whole NAI in any realm.
            (
                r#"username="alice@example.net", realm="ims.example""#,
                alice(),
            ),
            (r#"username="alice@EXAMPLE.NET""#, alice()),
            // Not the same user in another realm, nor without one.
            (r#"username="alice", realm="other.example""#, none()),
            (r#"username="alice", realm="example.net.other""#, none()),
            (r#"username="alice""#, none()),
            (r#"username="alice", realm="x, example.net""#, none()),
            (r#"username="Alice", realm="example.net""#, none()),
            (
                r#"username="alice@other.example", realm="example.net""#,
                none(),
            ),
            // A username target without `@`: that user in any realm, not a NAI.
            (r#"username="bob", realm="anywhere.example""#, bob()),
            (r#"username="bob""#, bob()),
            (r#"username="bob@example.net", realm="example.net""#, none()),
        ] {
            assert_eq!(
                hits(&set, &with_credentials(credentials)),
                want,
                "{credentials}"
            );
        }
    }
}
