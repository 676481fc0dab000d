//! The family-neutral call state machine: which call events each SIP message of a target's
//! call stands for. The ATIS-1000678 ([`super::LaesCalls`]) and PacketCable
//! ([`super::PcespCalls`]) renderers turn the same events into their own messages, so what a
//! call is (begun, answered, content open, released; a `Begin` restarting it; every content
//! opening closed by the call's end; how many calls are remembered) is decided here once.
//!
//! The machine is driven by the probe's IRI types: `Begin` starts a call afresh (closing what
//! an earlier call under the same CIN left open), `Continue` goes on, `End` ends and forgets
//! it, `Report` is outside any call and keeps no state.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};

use li_core::{Cin, IriType, Timestamp};

use super::{TargetSide, sip_body, uri_key, uri_of};
use crate::lemf::sip::{self, SipHead, StartLine};

/// Calls whose state is kept at most; beyond, the state starts afresh (a later answer of a
/// forgotten call is then reported as an answer again).
pub(crate) const MAX_CALLS: usize = 65_536;

/// What one SIP message of a call stands for, in the order the renderers write it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CallEvent<'a> {
    /// The call's first INVITE, sent by the target.
    Origination {
        /// The `From` value.
        calling: Option<&'a str>,
        /// The `To` value.
        called: Option<&'a str>,
        /// The Request-URI: what the target dialled.
        request_uri: &'a str,
    },
    /// The call's first INVITE, towards the target.
    TerminationAttempt {
        /// The `From` value.
        calling: Option<&'a str>,
        /// The `To` value.
        called: Option<&'a str>,
    },
    /// The first 2xx to an INVITE.
    Answer {
        /// The `To` value of the 2xx.
        answering: Option<&'a str>,
    },
    /// Content delivery of the call starts (after the answer, when the task takes content).
    CcOpen,
    /// The media of the call change: a re-INVITE, an UPDATE, a later 2xx to an INVITE.
    MediaChange,
    /// The media change while content is open.
    CcChange,
    /// A 3xx to an INVITE: the call is forwarded.
    Redirection {
        /// The `To` value: the party the call was for.
        redirected_from: Option<&'a str>,
    },
    /// The call ends.
    Release {
        /// The status of a failure ending an unanswered call (code, reason phrase).
        cause: Option<(u16, &'a str)>,
        /// Whether the message is this event's own; `false` when an earlier call under a CIN
        /// begun again is released.
        signaled: bool,
    },
    /// Content delivery of the call ends.
    CcClose,
    /// A REGISTER or a response to one.
    Registration {
        /// The `To` value: the registering address of record.
        registering: Option<&'a str>,
    },
    /// Any other message (including unreadable ones and a first INVITE whose side is not
    /// known): reported as it is where the family can.
    Other,
}

/// One SIP message as the renderers see it, with what the call knows of its parties.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Signal<'a> {
    /// The call.
    pub(crate) cin: Cin,
    /// When the message was intercepted.
    pub(crate) time: Timestamp,
    /// The message verbatim.
    pub(crate) message: &'a [u8],
    /// Its start line and dialogue headers, when it is readable SIP.
    pub(crate) head: Option<&'a SipHead>,
    /// Which side of the call the target is (from the call's first INVITE).
    pub(crate) side: TargetSide,
    /// The call was released before this message (always `false` for the events closing an
    /// earlier call).
    pub(crate) released: bool,
    /// The hash of the caller's URI key (the first INVITE's `From`).
    caller: Option<u64>,
}

impl<'a> Signal<'a> {
    /// The message's body when it is an SDP (`Content-Type` `application/sdp`, or a body
    /// starting with `v=`).
    pub(crate) fn sdp(&self) -> Option<&'a [u8]> {
        sip_body::read(self.message).sdp
    }

    /// The message's first `Contact` value (a wildcard is none).
    pub(crate) fn contact(&self) -> Option<&'a str> {
        sip_body::read(self.message).contact
    }

    /// Whether the target sent this message: `Some(true)` for the target, `Some(false)` for
    /// the other party, `None` when the call does not tell (side unknown, no first INVITE,
    /// unreadable). A request is sent by its `From` party, a response by its `To` party,
    /// whichever way the request went.
    pub(crate) fn sent_by_target(&self) -> Option<bool> {
        let head = self.head?;
        let caller = self.caller?;
        let sender = match head.start {
            StartLine::Request { .. } => head.from.as_deref()?,
            StartLine::Response { .. } => head.to.as_deref()?,
        };
        let sender_is_caller = uri_hash(sender) == caller;
        match self.side {
            TargetSide::Caller => Some(sender_is_caller),
            TargetSide::Callee => Some(!sender_is_caller),
            TargetSide::Unknown => None,
        }
    }
}

/// What a family makes of the call events.
pub(crate) trait Render {
    /// What the family keeps per call beside the shared state (dropped with the call).
    type Call: Default;
    /// One message of the family.
    type Out;

    /// Sees every message of a call before its events (not the `Report`s: no call).
    fn on_message(&mut self, _call: &mut Self::Call, _signal: &Signal<'_>) {}

    /// Appends the family's messages for `event` of `signal`'s call.
    fn on_event(
        &mut self,
        call: &mut Self::Call,
        signal: &Signal<'_>,
        event: CallEvent<'_>,
        out: &mut Vec<Self::Out>,
    );

    /// A call's state is dropped (its end, a restart, the [`MAX_CALLS`] bound).
    fn forget(&mut self, _call: Self::Call) {}
}

/// The state of one call; `X` is the renderer's part.
#[derive(Debug, Default)]
struct Call<X> {
    begun: bool,
    answered: bool,
    cc_open: bool,
    released: bool,
    side: TargetSide,
    caller: Option<u64>,
    data: X,
}

/// The calls of one (task, destination) (see the [module docs](self)).
#[derive(Debug)]
pub(crate) struct Calls<X> {
    calls: HashMap<Cin, Call<X>>,
}

impl<X> Default for Calls<X> {
    fn default() -> Self {
        Self {
            calls: HashMap::new(),
        }
    }
}

impl<X: Default> Calls<X> {
    /// How many calls have state.
    pub(crate) fn len(&self) -> usize {
        self.calls.len()
    }

    /// Runs one SIP message of call `cin` through the machine, `render` writing the family's
    /// messages for its events to `out`. `side` counts on a call's first INVITE;
    /// `with_content`: the task takes the call's content.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn on_sip<R: Render<Call = X>>(
        &mut self,
        render: &mut R,
        cin: Cin,
        time: Timestamp,
        iri_type: IriType,
        message: &[u8],
        side: TargetSide,
        with_content: bool,
        out: &mut Vec<R::Out>,
    ) {
        if self.calls.len() >= MAX_CALLS && !self.calls.contains_key(&cin) {
            for (_, call) in self.calls.drain() {
                render.forget(call.data);
            }
        }
        let head = sip::parse(message).ok();
        let mut signal = Signal {
            cin,
            time,
            message,
            head: head.as_ref(),
            side: TargetSide::Unknown,
            released: false,
            caller: None,
        };
        // A Begin starts the call afresh (a CIN seen again: a probe restarted, an IRI-End
        // lost): what the earlier one left open is closed first. A Report belongs to no call.
        let mut call = match iri_type {
            IriType::Report => Call::default(),
            IriType::Begin => {
                if let Some(earlier) = self.calls.remove(&cin) {
                    close_earlier(render, &signal, earlier, out);
                }
                Call::default()
            }
            _ => self.calls.remove(&cin).unwrap_or_default(),
        };
        let cseq_method = head
            .as_ref()
            .and_then(|h| h.cseq.as_deref())
            .and_then(|c| c.split_whitespace().nth(1))
            .map(str::to_ascii_uppercase);
        let (from, to) = (
            head.as_ref().and_then(|h| h.from.as_deref()),
            head.as_ref().and_then(|h| h.to.as_deref()),
        );
        // A Report is outside any call (a registration, a late message): it opens nothing.
        if iri_type == IriType::Report {
            let register = match head.as_ref().map(|h| &h.start) {
                Some(StartLine::Request { method, .. }) => method.eq_ignore_ascii_case("REGISTER"),
                Some(StartLine::Response { .. }) => cseq_method.as_deref() == Some("REGISTER"),
                None => false,
            };
            let event = if register {
                CallEvent::Registration { registering: to }
            } else {
                CallEvent::Other
            };
            render.on_event(&mut call.data, &signal, event, out);
            render.forget(call.data);
            return;
        }
        let first_invite = !call.begun
            && matches!(head.as_ref().map(|h| &h.start),
                Some(StartLine::Request { method, .. }) if method.eq_ignore_ascii_case("INVITE"));
        if first_invite {
            call.side = side;
            call.caller = from.map(uri_hash);
        }
        signal.side = call.side;
        signal.caller = call.caller;
        signal.released = call.released;
        render.on_message(&mut call.data, &signal);
        let mut emit =
            |call: &mut Call<X>, event| render.on_event(&mut call.data, &signal, event, out);

        let mut release_with: Option<Option<(u16, &str)>> = None;
        let mut media_change = false;
        match head.as_ref().map(|h| &h.start) {
            None => emit(&mut call, CallEvent::Other),
            Some(StartLine::Request { method, uri }) => {
                match method.to_ascii_uppercase().as_str() {
                    "INVITE" if !call.begun => {
                        call.begun = true;
                        let event = match call.side {
                            TargetSide::Caller => CallEvent::Origination {
                                calling: from,
                                called: to,
                                request_uri: uri,
                            },
                            TargetSide::Callee => CallEvent::TerminationAttempt {
                                calling: from,
                                called: to,
                            },
                            TargetSide::Unknown => CallEvent::Other,
                        };
                        emit(&mut call, event);
                    }
                    "INVITE" | "UPDATE" => media_change = true,
                    "BYE" => release_with = Some(None),
                    // A CANCEL may cross the 200 (RFC 3261 clause 9.1): the call is released by
                    // its IRI-End (the 487), not here.
                    "CANCEL" => emit(&mut call, CallEvent::Other),
                    "REGISTER" => emit(&mut call, CallEvent::Registration { registering: to }),
                    _ => emit(&mut call, CallEvent::Other),
                }
            }
            Some(StartLine::Response { code, reason }) => {
                let code = *code;
                match cseq_method.as_deref() {
                    Some("INVITE") if (200..300).contains(&code) && !call.answered => {
                        call.answered = true;
                        emit(&mut call, CallEvent::Answer { answering: to });
                        if with_content && !call.cc_open {
                            call.cc_open = true;
                            emit(&mut call, CallEvent::CcOpen);
                        }
                    }
                    Some("INVITE") if (200..300).contains(&code) => media_change = true,
                    Some("INVITE") if (300..400).contains(&code) => {
                        emit(
                            &mut call,
                            CallEvent::Redirection {
                                redirected_from: to,
                            },
                        );
                    }
                    // A failure ends the call only when the probe says it does (its IRI-End):
                    // a 401/407 challenge is followed by an authenticated INVITE, one fork's
                    // failure by another fork's answer.
                    Some("INVITE") if code >= 400 && !call.answered && iri_type == IriType::End => {
                        release_with = Some(Some((code, reason.as_str())));
                    }
                    Some("REGISTER") => {
                        emit(&mut call, CallEvent::Registration { registering: to });
                    }
                    _ => emit(&mut call, CallEvent::Other),
                }
            }
        }
        // Content also opens before the answer when media flows early (a 18x to the INVITE
        // with an SDP: ringback, announcements), and on the next message of a call answered
        // before the task took content (its scope widened mid-call): content is never sent
        // for a call no CCOpen named.
        if with_content && call.begun && !call.cc_open && !call.released {
            let early_media = matches!(
                head.as_ref().map(|h| &h.start),
                Some(StartLine::Response { code, .. }) if (180..190).contains(code)
            ) && cseq_method.as_deref() == Some("INVITE")
                && signal.sdp().is_some();
            if early_media || call.answered {
                call.cc_open = true;
                emit(&mut call, CallEvent::CcOpen);
            }
        }
        if media_change {
            emit(&mut call, CallEvent::MediaChange);
            if call.cc_open {
                emit(&mut call, CallEvent::CcChange);
            }
        }
        // A message-less end (timeout, window, deactivation) repeats the call's last SIP
        // message as its IRI-End: the call is released then.
        if release_with.is_none() && iri_type == IriType::End && call.begun && !call.released {
            release_with = Some(None);
        }
        match release_with {
            Some(cause) if !call.released => {
                call.released = true;
                emit(
                    &mut call,
                    CallEvent::Release {
                        cause,
                        signaled: true,
                    },
                );
            }
            // A second BYE (a retransmission): reported as it is.
            Some(_) => emit(&mut call, CallEvent::Other),
            None => {}
        }
        // Content delivery closes with the release, and at the latest with the call's end.
        if call.cc_open && (call.released || iri_type == IriType::End) {
            call.cc_open = false;
            emit(&mut call, CallEvent::CcClose);
        }
        if iri_type == IriType::End {
            render.forget(call.data);
        } else {
            self.calls.insert(cin, call);
        }
    }
}

impl<X: Default> Calls<X> {
    /// Ends every call that still has state at `time`, as a call ends without a message of
    /// its own: `Release` when it began and was not released, `CCClose` when its content is
    /// open; every call is forgotten. For a task that ends (deactivated at the mediator)
    /// while calls are open, so that the agency sees each call closed. In CIN order.
    pub(crate) fn close_all<R: Render<Call = X>>(
        &mut self,
        render: &mut R,
        time: Timestamp,
        out: &mut Vec<R::Out>,
    ) {
        let mut calls: Vec<(Cin, Call<X>)> = self.calls.drain().collect();
        calls.sort_by_key(|(cin, _)| *cin);
        for (cin, call) in calls {
            let signal = Signal {
                cin,
                time,
                message: &[],
                head: None,
                side: call.side,
                released: false,
                caller: call.caller,
            };
            close_earlier(render, &signal, call, out);
        }
    }
}

/// Releases what an earlier call under a CIN begun again left open.
fn close_earlier<R: Render>(
    render: &mut R,
    signal: &Signal<'_>,
    mut earlier: Call<R::Call>,
    out: &mut Vec<R::Out>,
) {
    let signal = Signal {
        side: earlier.side,
        caller: earlier.caller,
        released: false,
        ..*signal
    };
    if earlier.begun && !earlier.released {
        let event = CallEvent::Release {
            cause: None,
            signaled: false,
        };
        render.on_event(&mut earlier.data, &signal, event, out);
    }
    if earlier.cc_open {
        render.on_event(&mut earlier.data, &signal, CallEvent::CcClose, out);
    }
    render.forget(earlier.data);
}

/// A hash of the URI key of a `From`/`To` value: enough to tell a call's two parties apart
/// without keeping their text.
fn uri_hash(value: &str) -> u64 {
    let mut h = DefaultHasher::new();
    uri_key(&uri_of(value)).hash(&mut h);
    h.finish()
}
