//! The twelve call-data messages of PCESP version 3, each a SEQUENCE starting with the
//! [`CdcHeader`](crate::packetcable::CdcHeader).

use crate::packetcable::pcesp_message;
use crate::packetcable::types::{
    AlertingSignal, AudibleSignal, CallId, CcOpenOption, CccId, FlowDirection, OriginationInput,
    PartyId, RedirectedFromInfo, ResourceState, SubjectSignalInfo, TerminalDisplayInfo,
};

pcesp_message! {
    /// `Answer`: the call is answered.
    Answer, "Answer", reserved = [], {
        /// `callId [3]`.
        call_id: CallId = [3] "callId" typed required,
        /// `answering [4]`: the party that answered.
        answering: PartyId = [4] "answering" typed optional,
    }
}

pcesp_message! {
    /// `CCChange`: a call content stream changes.
    CcChange, "CCChange", reserved = [], {
        /// `callId [3]`.
        call_id: CallId = [3] "callId" typed required,
        /// `cCCId [4]`.
        ccc_id: CccId = [4] "cCCId" typed required,
        /// `subject [5]`: the subject's SDP.
        subject: String = [5] "subject" typed optional,
        /// `associate [6]`: the other party's SDP.
        associate: String = [6] "associate" typed optional,
        /// `flowDirection [7]`.
        flow_direction: FlowDirection = [7] "flowDirection" typed required,
        /// `resourceState [8]`.
        resource_state: ResourceState = [8] "resourceState" typed optional,
    }
}

pcesp_message! {
    /// `CCClose`: a call content stream ends.
    CcClose, "CCClose", reserved = [], {
        /// `cCCId [3]`.
        ccc_id: CccId = [3] "cCCId" typed required,
        /// `flowDirection [4]`.
        flow_direction: FlowDirection = [4] "flowDirection" typed required,
    }
}

pcesp_message! {
    /// `CCOpen`: a call content stream starts; `cCCId` renders the CCC identifier its
    /// datagrams carry.
    CcOpen, "CCOpen", reserved = [], {
        /// `ccOpenOption` (`ccOpenTime [3]` or `reserved0 [4]`).
        cc_open_option: CcOpenOption = [3 | 4] "ccOpenOption" typed required,
        /// `cCCId [5]`.
        ccc_id: CccId = [5] "cCCId" typed required,
        /// `subject [6]`: the subject's SDP.
        subject: String = [6] "subject" typed optional,
        /// `associate [7]`: the other party's SDP.
        associate: String = [7] "associate" typed optional,
        /// `flowDirection [8]`.
        flow_direction: FlowDirection = [8] "flowDirection" typed required,
    }
}

pcesp_message! {
    /// `MediaReport`: the media description of a call changes.
    MediaReport, "MediaReport", reserved = [], {
        /// `callId [3]`.
        call_id: CallId = [3] "callId" typed required,
        /// `subject [4]`: the subject's SDP.
        subject: String = [4] "subject" typed optional,
        /// `associate [5]`: the other party's SDP.
        associate: String = [5] "associate" typed optional,
    }
}

pcesp_message! {
    /// `NetworkSignal`: a signal the network applies to the subject (the module asks for at
    /// least one of the four).
    NetworkSignal, "NetworkSignal", reserved = [], {
        /// `callId [3]`.
        call_id: CallId = [3] "callId" typed required,
        /// `alertingSignal [4]`.
        alerting_signal: AlertingSignal = [4] "alertingSignal" typed optional,
        /// `subjectAudibleSignal [5]`.
        subject_audible_signal: AudibleSignal = [5] "subjectAudibleSignal" typed optional,
        /// `terminalDisplayInfo [6]`.
        terminal_display_info: TerminalDisplayInfo = [6] "terminalDisplayInfo" typed optional,
        /// `other [7]` (1..128): a signal the module does not define.
        other: String = [7] "other" vs(1) optional,
    }
}

pcesp_message! {
    /// `Origination`: the subject places a call. `reserved0 [8]` is written as NULL.
    Origination, "Origination", reserved = [8], {
        /// `callId [3]`.
        call_id: CallId = [3] "callId" typed required,
        /// `calling [4]`.
        calling: PartyId = [4] "calling" typed required,
        /// `called [5]`.
        called: PartyId = [5] "called" typed optional,
        /// `input` (`userinput [6]` or `translationinput [7]`).
        input: OriginationInput = [6 | 7] "input" typed required,
        /// `transitCarrierId [9]` (3..7).
        transit_carrier_id: String = [9] "transitCarrierId" vs(3) optional,
    }
}

pcesp_message! {
    /// `Redirection`: the call is forwarded. `reserved0 [6]` and `reserved1 [7]` are written
    /// as NULL.
    Redirection, "Redirection", reserved = [6, 7], {
        /// `old [3]`: the call before the redirection.
        old: CallId = [3] "old" typed required,
        /// `redirectedto [4]`.
        redirected_to: PartyId = [4] "redirectedto" typed required,
        /// `transitCarrierId [5]` (3..7).
        transit_carrier_id: String = [5] "transitCarrierId" vs(3) optional,
        /// `new [8]`: the call after it.
        new: CallId = [8] "new" typed optional,
        /// `redirectedfrom [9]`.
        redirected_from: PartyId = [9] "redirectedfrom" typed optional,
    }
}

pcesp_message! {
    /// `Release`: the call ends.
    Release, "Release", reserved = [], {
        /// `callId [3]`.
        call_id: CallId = [3] "callId" typed required,
    }
}

pcesp_message! {
    /// `ServiceInstance`: a feature is used on a call.
    ServiceInstance, "ServiceInstance", reserved = [], {
        /// `callId [3]`.
        call_id: CallId = [3] "callId" typed required,
        /// `relatedCallId [4]`.
        related_call_id: CallId = [4] "relatedCallId" typed optional,
        /// `serviceName [5]` (1..128).
        service_name: String = [5] "serviceName" vs(1) required,
        /// `firstCallCalling [6]`.
        first_call_calling: PartyId = [6] "firstCallCalling" typed optional,
        /// `secondCallCalling [7]`.
        second_call_calling: PartyId = [7] "secondCallCalling" typed optional,
        /// `called [8]`.
        called: PartyId = [8] "called" typed optional,
        /// `calling [9]`.
        calling: PartyId = [9] "calling" typed optional,
    }
}

pcesp_message! {
    /// `SubjectSignal`: the subject dials or signals.
    SubjectSignal, "SubjectSignal", reserved = [], {
        /// `callId [3]`.
        call_id: CallId = [3] "callId" typed optional,
        /// `signal [4]`.
        signal: SubjectSignalInfo = [4] "signal" typed required,
    }
}

pcesp_message! {
    /// `TerminationAttempt`: a call to the subject. `reserved0 [6]` is written as NULL.
    TerminationAttempt, "TerminationAttempt", reserved = [6], {
        /// `callId [3]`.
        call_id: CallId = [3] "callId" typed required,
        /// `calling [4]`.
        calling: PartyId = [4] "calling" typed optional,
        /// `called [5]`.
        called: PartyId = [5] "called" typed optional,
        /// `redirectedFromInfo [7]`.
        redirected_from_info: RedirectedFromInfo = [7] "redirectedFromInfo" typed optional,
    }
}
