//! The scenarios of [`Case`], and the demo call.

use std::net::{IpAddr, SocketAddr};

use li_core::media::g711::Law;
use li_core::{IriType, MediaProtocol, PayloadDirection, TargetIdentifier};

use super::super::Error;
use super::audio::{SAMPLES_PER_PACKET, Tone};
use super::net::{Builder, Stream, at, plus_one};
use super::sip::{Leg, Media, Sdp, Ua};
use super::{
    CallEnd, Case, Content, MediaTruth, NAT_PRIVATE_V4, NAT_PUBLIC_V4, PEER_V4, PROXY_V4, SipIri,
    TARGET_URI, TARGET_V4, TARGET_V6, VoiceCapture,
};

const ALICE: &str = TARGET_URI;
const BOB: &str = "sip:bob@far.example";
const CAROL: &str = "sip:carol@voice.example";
const DAVE: &str = "sip:dave@far.example";
const SIP_PORT: u16 = 5060;
const TARGET_AUDIO: u16 = 4_000;
const TARGET_VIDEO: u16 = 4_002;
const PEER_AUDIO: u16 = 30_000;
const PEER_VIDEO: u16 = 30_002;

fn sa(ip: impl Into<IpAddr>, port: u16) -> SocketAddr {
    SocketAddr::new(ip.into(), port)
}

/// The demo's call: the capture, the target and what each direction carried.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DemoCall {
    /// The capture (one call, [`Case::CallFromTarget`]'s shape, four seconds of audio).
    pub capture: VoiceCapture,
    /// The target: the caller, [`TARGET_URI`].
    pub target: TargetIdentifier,
    /// What the target (the caller) sent: mu-law, payload type 0.
    pub from_target: (Tone, Law),
    /// What the far end sent to the target: A-law, payload type 8.
    pub to_target: (Tone, Law),
}

impl DemoCall {
    /// The linear PCM an agency decodes from one direction of the call (`FromTarget` or
    /// `ToTarget`), in RTP timestamp order: each packet's samples after companding,
    /// `law.decode(law.encode(tone.sample(n)))`. The demo has no gap, so this is exactly
    /// what a WAV file of that direction holds (8 kHz, 16-bit mono).
    pub fn expected_pcm(&self, direction: PayloadDirection) -> Vec<i16> {
        let mut packets: Vec<(u64, Tone, Law)> = self
            .capture
            .media_of(0)
            .filter(|(_, m)| m.direction == Some(direction))
            .filter_map(|(_, m)| m.rtp?.audio)
            .map(|(tone, law, first)| (first, tone, law))
            .collect();
        packets.sort_by_key(|p| p.0);
        packets
            .into_iter()
            .flat_map(|(first, tone, law)| tone.companded(law, first, SAMPLES_PER_PACKET))
            .collect()
    }
}

/// The shipped sample: the target calls, four seconds of G.711 both ways (mu-law from the
/// target, A-law to it), then hangs up. Sample `n` of each direction is
/// `tone.sample(n)`, sent as `law.encode(tone.sample(n))` at RTP timestamp
/// `first timestamp + n` (see [`super::RtpTruth`]).
///
/// ```
/// use li_capture::synth::voice::{Content, demo_call};
/// use li_core::media::rtp::RtpPacket;
///
/// let demo = demo_call()?;
/// let (tone, law) = demo.from_target;
/// for (frame, truth) in demo.capture.media_of(0) {
///     let Some(rtp) = truth.rtp else { continue }; // RTCP
///     let Some((_, _, first)) = rtp.audio.filter(|a| a.0 == tone) else { continue };
///     let udp_payload = &frame.ip[28..];
///     let packet = RtpPacket::parse(udp_payload)?;
///     let decoded: Vec<i16> = packet.payload.iter().map(|&c| law.decode(c)).collect();
///     assert_eq!(decoded, tone.companded(law, first, 160));
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn demo_call() -> Result<DemoCall, Error> {
    let mut b = Builder::new(0xdead_beef_0001);
    let mut run = CallRun::target_calls_bob(&mut b, "demo-3f1c9a@voice.example", true);
    run.setup(&mut b, 0);
    run.talk(&mut b, 1_050, 5_050);
    run.bye(&mut b, 5_100, true);
    Ok(DemoCall {
        capture: b.finish("demo call")?,
        target: super::target()?,
        from_target: (Tone::CALLER, Law::Ulaw),
        to_target: (Tone::CALLEE, Law::Alaw),
    })
}

pub(super) fn generate(case: Case) -> Result<VoiceCapture, Error> {
    let mut b = Builder::new(0x5eed_0000 + case as u64);
    let name = match case {
        Case::CallFromTarget => {
            let mut run = CallRun::target_calls_bob(&mut b, "c1-a84b4c76e667@voice.example", true);
            run.setup(&mut b, 0);
            run.talk(&mut b, 1_050, 4_050);
            run.bye(&mut b, 4_100, true);
            // Meanwhile carol calls dave through the same proxy: nobody's.
            let mut other = CallRun::target_calls_bob(&mut b, "c1-other-5d2e@voice.example", false);
            let (carol, dave) = (
                IpAddr::from([192, 0, 2, 11]),
                IpAddr::from([198, 51, 100, 30]),
            );
            other.relocate(sa(carol, SIP_PORT), sa(PROXY_V4, SIP_PORT), carol, dave);
            other.leg.caller = Ua::new("Carol", CAROL, sa(carol, SIP_PORT));
            other.leg.callee = Ua::new("Dave", DAVE, sa(dave, SIP_PORT));
            other.leg.request_uri = DAVE.into();
            other.leg.to_uri = DAVE.into();
            (other.offer.user, other.answer.user) = ("carol", "dave");
            other.setup(&mut b, 500);
            other.talk(&mut b, 1_550, 4_550);
            other.bye(&mut b, 4_600, false);
            "call from the target, and another call meanwhile"
        }
        Case::CallToTarget => {
            let mut run = CallRun::bob_calls_target(&mut b, "c2-77ab01@far.example");
            run.leg.compact = true;
            run.setup(&mut b, 0);
            run.talk(&mut b, 1_050, 4_050);
            run.bye(&mut b, 4_100, false);
            "call to the target (compact headers)"
        }
        Case::ForwardedToTarget => {
            let mut run = CallRun::bob_calls_target(&mut b, "c3-fw0192@far.example");
            // The registrar retargeted the request to the target's contact: its AOR is
            // named only by History-Info (and the From/To are the original call's).
            run.leg.request_uri = format!("sip:alice@{TARGET_V4}:{SIP_PORT}");
            run.leg.to_uri = CAROL.into();
            run.leg.extra = vec![
                (
                    "Diversion".into(),
                    format!("<{CAROL}>;reason=unconditional;counter=1"),
                ),
                (
                    "History-Info".into(),
                    format!("<{CAROL}>;index=1, <{ALICE}>;index=1.1;cause=302"),
                ),
            ];
            run.setup(&mut b, 0);
            run.talk(&mut b, 1_050, 3_050);
            run.bye(&mut b, 3_100, true);
            "call to another user forwarded to the target"
        }
        Case::Cancelled => {
            let mut run = CallRun::target_calls_bob(&mut b, "c4-cancel55@voice.example", true);
            let offer = run.offer.render();
            run.sip(
                &mut b,
                0,
                true,
                run.leg.request("INVITE", 1, true, Some(&offer)),
                Iri::Auto,
            );
            run.sip(
                &mut b,
                30,
                false,
                run.leg.response(100, 1, "INVITE", true, None),
                Iri::Auto,
            );
            let ringing = run.leg.with_tag("f1a2");
            run.sip(
                &mut b,
                200,
                false,
                ringing.response(180, 1, "INVITE", true, None),
                Iri::Auto,
            );
            run.sip(
                &mut b,
                2_200,
                true,
                run.leg.request("CANCEL", 1, true, None),
                Iri::Auto,
            );
            run.sip(
                &mut b,
                2_230,
                false,
                run.leg.response(200, 1, "CANCEL", true, None),
                Iri::Auto,
            );
            run.sip(
                &mut b,
                2_250,
                false,
                ringing.response(487, 1, "INVITE", true, None),
                Iri::End,
            );
            run.sip(&mut b, 2_270, true, ringing.ack_of_failure(1), Iri::Report);
            "the target cancels its call"
        }
        Case::Busy => {
            let mut run = CallRun::bob_calls_target(&mut b, "c5-busy77@far.example");
            let offer = run.offer.render();
            run.sip(
                &mut b,
                0,
                true,
                run.leg.request("INVITE", 1, true, Some(&offer)),
                Iri::Auto,
            );
            run.sip(
                &mut b,
                20,
                false,
                run.leg.response(100, 1, "INVITE", true, None),
                Iri::Auto,
            );
            let busy = run.leg.with_tag("b0b5");
            run.sip(
                &mut b,
                60,
                false,
                busy.response(486, 1, "INVITE", true, None),
                Iri::End,
            );
            run.sip(&mut b, 90, true, busy.ack_of_failure(1), Iri::Report);
            "the target is busy"
        }
        Case::HoldResume => {
            let mut run = CallRun::target_calls_bob(&mut b, "c6-hold31@voice.example", true);
            run.setup(&mut b, 0);
            run.talk(&mut b, 1_050, 3_050);
            // Hold: the target sends only (music on hold), the far end receives only.
            run.reinvite(
                &mut b,
                3_100,
                2,
                true,
                |m| m.direction("sendonly"),
                |m| m.direction("recvonly"),
            );
            run.caller.run(&mut b, 3_250, 4_250);
            run.callee.rtcp_only(&mut b, 3_300, 4_250);
            // Both inactive: no RTP either way, RTCP goes on.
            run.reinvite(
                &mut b,
                4_300,
                3,
                true,
                |m| m.direction("inactive"),
                |m| m.direction("inactive"),
            );
            run.caller.rtcp_only(&mut b, 4_400, 5_400);
            run.callee.rtcp_only(&mut b, 4_450, 5_400);
            // Resumed.
            run.reinvite(
                &mut b,
                5_500,
                4,
                true,
                |m| m.direction("sendrecv"),
                |m| m.direction("sendrecv"),
            );
            run.talk(&mut b, 5_650, 7_650);
            run.bye(&mut b, 7_700, true);
            "hold (sendonly, inactive) and resume"
        }
        Case::MediaMoved => {
            let mut run = CallRun::target_calls_bob(&mut b, "c7-move44@voice.example", true);
            run.setup(&mut b, 0);
            run.talk(&mut b, 1_050, 3_050);
            // The far end re-offers its audio on a new port.
            let old = run.callee.src;
            let moved = sa(PEER_V4, PEER_AUDIO + 100);
            run.answer = run.answer.reoffer(vec![Media::audio(moved.port())]);
            let reoffer = run.answer.render();
            let answer = run.offer.reoffer(run.offer.media.clone());
            run.offer = answer.clone();
            let (r, a) = (reoffer, answer.render());
            let dialog = run.dialog();
            run.sip(
                &mut b,
                3_100,
                false,
                dialog.request("INVITE", 1, false, Some(&r)),
                Iri::Auto,
            );
            run.sip(
                &mut b,
                3_140,
                true,
                dialog.response(200, 1, "INVITE", false, Some(&a)),
                Iri::Auto,
            );
            run.sip(
                &mut b,
                3_170,
                false,
                dialog.request("ACK", 1, false, None),
                Iri::Auto,
            );
            run.callee.src = moved;
            run.callee.rtcp = Some((plus_one(moved), plus_one(run.callee.dst)));
            run.caller.dst = moved;
            run.caller.rtcp = Some((plus_one(run.caller.src), plus_one(moved)));
            run.talk(&mut b, 3_200, 5_200);
            // Afterwards, a stranger's datagrams to the port the call left: nobody's.
            let stranger = sa(IpAddr::from([203, 0, 113, 99]), 40_000);
            for i in 0..10u64 {
                let content = Content::Media(MediaTruth {
                    call: None,
                    stream: 0,
                    kind: MediaProtocol::Rtp,
                    from_caller: false,
                    direction: None,
                    rtp: None,
                });
                b.datagram(
                    (3_500 + i * 100) * 1_000 + 51,
                    stranger,
                    old,
                    &[0x80, 0, 0, i as u8, 0, 0, 0, 0, 1, 2, 3, 4, 0xff, 0xff],
                    content,
                );
            }
            run.bye(&mut b, 5_250, true);
            "the far end moves its media to a new port"
        }
        Case::Forked => {
            let mut run = CallRun::target_calls_bob(&mut b, "c8-fork21@voice.example", true);
            let offer = run.offer.render();
            run.sip(
                &mut b,
                0,
                true,
                run.leg.request("INVITE", 1, true, Some(&offer)),
                Iri::Auto,
            );
            run.sip(
                &mut b,
                30,
                false,
                run.leg.response(100, 1, "INVITE", true, None),
                Iri::Auto,
            );
            // Fork 1 (bob's desk phone) rings with early media (ringback).
            let desk = sa(IpAddr::from([198, 51, 100, 21]), 31_000);
            let fork1 = run.leg.with_tag("fork-1");
            let early = Sdp::new(
                "bobdesk",
                8_811_001,
                desk.ip(),
                vec![Media::audio(desk.port())],
            )
            .render();
            run.sip(
                &mut b,
                200,
                false,
                fork1.response(180, 1, "INVITE", true, Some(&early)),
                Iri::Auto,
            );
            let call = run.call;
            let mut ringback = Stream::audio(
                &mut b,
                desk,
                run.caller.src,
                Tone::CALLEE,
                Law::Alaw,
                call,
                false,
                true,
            );
            ringback.run(&mut b, 260, 1_460);
            // Fork 2 (bob's mobile) rings and answers.
            let fork2 = run.leg.with_tag("fork-2");
            run.sip(
                &mut b,
                300,
                false,
                fork2.response(180, 1, "INVITE", true, None),
                Iri::Auto,
            );
            let answer = run.answer.render();
            run.sip(
                &mut b,
                1_500,
                false,
                fork2.response(200, 1, "INVITE", true, Some(&answer)),
                Iri::Auto,
            );
            run.leg = fork2.clone();
            run.sip(
                &mut b,
                1_530,
                true,
                fork2.request("ACK", 1, true, None),
                Iri::Auto,
            );
            run.talk(&mut b, 1_550, 3_550);
            run.bye(&mut b, 3_600, true);
            "a forked call: two forks ring, one answers"
        }
        Case::TcpSegmented => {
            tcp_call(&mut b);
            "SIP over TCP across segments"
        }
        Case::Ipv6 => {
            let mut run = CallRun::target_calls_bob(&mut b, "c10-v6call@voice.example", true);
            let (alice, proxy, peer) = (
                IpAddr::from(TARGET_V6),
                IpAddr::from([0x2001, 0xdb8, 0xff, 0, 0, 0, 0, 1u16]),
                IpAddr::from([0x2001, 0xdb8, 0x20, 0, 0, 0, 0, 0x20u16]),
            );
            run.relocate(sa(alice, SIP_PORT), sa(proxy, SIP_PORT), alice, peer);
            run.setup(&mut b, 0);
            run.talk(&mut b, 1_050, 3_050);
            run.bye(&mut b, 3_100, true);
            "SIP and media over IPv6"
        }
        Case::NoBye => {
            let mut run = CallRun::target_calls_bob(&mut b, "c11-nobye@voice.example", true);
            run.setup(&mut b, 0);
            run.talk(&mut b, 1_050, 3_050);
            // No BYE is ever seen: the last packet is the call's last activity.
            let last = b.last_time();
            if let Some(call) = run.call {
                b.end_call(
                    call,
                    CallEnd::Silence {
                        last_activity: at(last)?,
                    },
                );
            }
            "a call that never sees a BYE"
        }
        Case::Register => {
            register(&mut b);
            "REGISTER"
        }
        Case::RetransmittedInvite => {
            let mut run = CallRun::target_calls_bob(&mut b, "c13-retx@voice.example", true);
            let invite = run
                .leg
                .request("INVITE", 1, true, Some(&run.offer.render()));
            run.sip(&mut b, 0, true, invite.clone(), Iri::Auto);
            run.sip(&mut b, 500, true, invite.clone(), Iri::Auto);
            run.sip(&mut b, 1_500, true, invite, Iri::Auto);
            run.answer_phase(&mut b, 1_530);
            run.talk(&mut b, 2_600, 4_600);
            run.bye(&mut b, 4_650, true);
            "a retransmitted INVITE"
        }
        Case::NatSdp => {
            let mut run = CallRun::target_calls_bob(&mut b, "c14-nat@voice.example", true);
            // The target's SIP and media leave the NAT from its public address, ports kept;
            // its SDP names its private address.
            run.relocate(
                sa(NAT_PUBLIC_V4, SIP_PORT),
                sa(PROXY_V4, SIP_PORT),
                IpAddr::from(NAT_PUBLIC_V4),
                IpAddr::from(PEER_V4),
            );
            run.offer.addr = IpAddr::from(NAT_PRIVATE_V4);
            // The far end sends from another port than it receives on (not symmetric RTP),
            // so that its packets are the call's only by the NAT binding.
            run.callee.src = sa(PEER_V4, PEER_AUDIO + 10);
            run.callee.rtcp = Some((sa(PEER_V4, PEER_AUDIO + 11), plus_one(run.callee.dst)));
            run.setup(&mut b, 0);
            run.talk(&mut b, 1_050, 3_050);
            run.bye(&mut b, 3_100, true);
            "the target behind a NAT"
        }
        Case::FragmentedInvite => {
            let mut run = CallRun::target_calls_bob(&mut b, "c15-bigsdp@voice.example", true);
            // ICE candidates make the offer too big for one packet.
            if let Some(audio) = run.offer.media.first_mut() {
                for i in 0..40u32 {
                    audio.attributes.push(format!(
                        "candidate:{i} 1 UDP {} 192.0.2.10 {} typ host generation 0 network-id {i}",
                        2_130_706_431 - i,
                        TARGET_AUDIO
                    ));
                }
            }
            run.setup(&mut b, 0);
            run.talk(&mut b, 1_050, 3_050);
            run.bye(&mut b, 3_100, true);
            "an INVITE in IP fragments"
        }
        Case::AudioVideo => {
            let mut run = CallRun::target_calls_bob(&mut b, "c16-video@voice.example", true);
            run.offer.media.push(Media::video(TARGET_VIDEO));
            run.answer.media.push(Media::video(PEER_VIDEO));
            let call = run.call;
            let mut out = Stream::audio(
                &mut b,
                sa(TARGET_V4, TARGET_VIDEO),
                sa(PEER_V4, PEER_VIDEO),
                Tone::CALLER,
                Law::Ulaw,
                call,
                true,
                true,
            )
            .into_video(1);
            let mut back = Stream::audio(
                &mut b,
                sa(PEER_V4, PEER_VIDEO),
                sa(TARGET_V4, TARGET_VIDEO),
                Tone::CALLEE,
                Law::Ulaw,
                call,
                false,
                true,
            )
            .into_video(1);
            run.setup(&mut b, 0);
            run.talk(&mut b, 1_050, 3_050);
            out.run(&mut b, 1_050, 3_050);
            back.run(&mut b, 1_070, 3_050);
            run.bye(&mut b, 3_100, true);
            "audio and video"
        }
        Case::ProxyTwoLegs => {
            two_legs(&mut b);
            "a call through a B2BUA: two legs, one SDP origin"
        }
        Case::NonTargetsAfter => {
            let mut run = CallRun::target_calls_bob(&mut b, "c18-first@voice.example", true);
            run.setup(&mut b, 0);
            run.talk(&mut b, 1_050, 3_050);
            run.bye(&mut b, 3_100, true);
            // Carol, on the same host, calls dave on bob's host: same addresses and ports.
            let mut other = CallRun::target_calls_bob(&mut b, "c18-second@voice.example", false);
            other.leg = Leg::new(
                "c18-second@voice.example",
                Ua::new("Carol", CAROL, sa(TARGET_V4, SIP_PORT)),
                Ua::new("Dave", DAVE, sa(PEER_V4, SIP_PORT)),
            );
            other.offer.user = "carol";
            other.answer.user = "dave";
            other.setup(&mut b, 6_000);
            other.talk(&mut b, 7_050, 9_050);
            other.bye(&mut b, 9_100, true);
            "two non-targets on the same hosts and ports after the target's call"
        }
    };
    b.finish(name)
}

/// How [`CallRun::sip`] marks a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Iri {
    /// Begin for the call's first message, Continue after.
    Auto,
    /// The call's last message.
    End,
    /// A late message of the call, after its end: a report under its CIN.
    Report,
}

/// One call as a scenario plays it: the leg, where its two ends are on the wire, its SDPs
/// and its two audio streams.
struct CallRun {
    leg: Leg,
    /// The caller's and callee's SIP addresses as the tap sees them.
    wire: (SocketAddr, SocketAddr),
    offer: Sdp,
    answer: Sdp,
    caller: Stream,
    callee: Stream,
    /// The truth's call (`None`: not the target's).
    call: Option<usize>,
    begun: bool,
    cseq: u32,
}

impl CallRun {
    /// The target calls bob, through its proxy; a call of the truth if `target` (else the
    /// same shape, nobody's).
    fn target_calls_bob(b: &mut Builder, call_id: &str, target: bool) -> Self {
        let call = target.then(|| b.call(&[call_id], true));
        let alice = Ua::new("Alice", ALICE, sa(TARGET_V4, SIP_PORT));
        let bob = Ua::new("Bob", BOB, sa(PEER_V4, SIP_PORT));
        let leg = Leg::new(call_id, alice, bob);
        let (a_rtp, b_rtp) = (sa(TARGET_V4, TARGET_AUDIO), sa(PEER_V4, PEER_AUDIO));
        let caller = Stream::audio(b, a_rtp, b_rtp, Tone::CALLER, Law::Ulaw, call, true, true);
        let callee = Stream::audio(b, b_rtp, a_rtp, Tone::CALLEE, Law::Alaw, call, false, true);
        Self {
            leg,
            wire: (sa(TARGET_V4, SIP_PORT), sa(PROXY_V4, SIP_PORT)),
            offer: Sdp::new(
                "alice",
                2_890_844_526,
                IpAddr::from(TARGET_V4),
                vec![Media::audio(TARGET_AUDIO)],
            ),
            answer: Sdp::new(
                "bob",
                2_808_844_564,
                IpAddr::from(PEER_V4),
                vec![Media::audio(PEER_AUDIO)],
            ),
            caller,
            callee,
            call,
            begun: false,
            cseq: 1,
        }
    }

    /// Bob calls the target; its proxy delivers the INVITE.
    fn bob_calls_target(b: &mut Builder, call_id: &str) -> Self {
        let call = b.call(&[call_id], false);
        let alice = Ua::new("Alice", ALICE, sa(TARGET_V4, SIP_PORT));
        let bob = Ua::new("Bob", BOB, sa(PEER_V4, SIP_PORT));
        let leg = Leg::new(call_id, bob, alice);
        let (a_rtp, b_rtp) = (sa(TARGET_V4, TARGET_AUDIO), sa(PEER_V4, PEER_AUDIO));
        let caller = Stream::audio(
            b,
            b_rtp,
            a_rtp,
            Tone::CALLER,
            Law::Ulaw,
            Some(call),
            true,
            false,
        );
        let callee = Stream::audio(
            b,
            a_rtp,
            b_rtp,
            Tone::CALLEE,
            Law::Alaw,
            Some(call),
            false,
            false,
        );
        Self {
            leg,
            wire: (sa(PROXY_V4, SIP_PORT), sa(TARGET_V4, SIP_PORT)),
            offer: Sdp::new(
                "bob",
                2_808_844_564,
                IpAddr::from(PEER_V4),
                vec![Media::audio(PEER_AUDIO)],
            ),
            answer: Sdp::new(
                "alice",
                2_890_844_526,
                IpAddr::from(TARGET_V4),
                vec![Media::audio(TARGET_AUDIO)],
            ),
            caller,
            callee,
            call: Some(call),
            begun: false,
            cseq: 1,
        }
    }

    /// Moves a target-calls-bob call to other addresses: the SIP ends on the wire, the
    /// target's media host and the far end's.
    fn relocate(
        &mut self,
        target_sip: SocketAddr,
        proxy: SocketAddr,
        target: IpAddr,
        peer: IpAddr,
    ) {
        self.wire = (target_sip, proxy);
        self.leg.caller.sip = target_sip;
        self.leg.callee.sip = sa(peer, SIP_PORT);
        self.offer.addr = target;
        self.answer.addr = peer;
        let (a_rtp, b_rtp) = (sa(target, TARGET_AUDIO), sa(peer, PEER_AUDIO));
        self.caller.src = a_rtp;
        self.caller.dst = b_rtp;
        self.caller.rtcp = Some((plus_one(a_rtp), plus_one(b_rtp)));
        self.callee.src = b_rtp;
        self.callee.dst = a_rtp;
        self.callee.rtcp = Some((plus_one(b_rtp), plus_one(a_rtp)));
    }

    /// The leg in its confirmed dialog.
    fn dialog(&self) -> Leg {
        if self.leg.to_tag.is_some() {
            self.leg.clone()
        } else {
            self.leg.with_tag("d1a10g")
        }
    }

    fn iri(&mut self, iri: Iri) -> Option<SipIri> {
        let call = self.call?;
        Some(match iri {
            Iri::Report => SipIri::Report {
                late_of: Some(call),
            },
            Iri::End => SipIri::Call {
                call,
                iri: IriType::End,
            },
            Iri::Auto if self.begun => SipIri::Call {
                call,
                iri: IriType::Continue,
            },
            Iri::Auto => {
                self.begun = true;
                SipIri::Call {
                    call,
                    iri: IriType::Begin,
                }
            }
        })
    }

    /// A message over UDP at `t` ms from the caller's end (or the callee's).
    fn sip(
        &mut self,
        b: &mut Builder,
        t: u64,
        from_caller: bool,
        text: Vec<u8>,
        iri: Iri,
    ) -> usize {
        let (src, dst) = if from_caller {
            self.wire
        } else {
            (self.wire.1, self.wire.0)
        };
        let truth = self.iri(iri);
        let index = b.sip_udp(t, src, dst, text, truth);
        if iri == Iri::End
            && let Some(call) = self.call
        {
            b.end_call(call, CallEnd::Message(index));
        }
        index
    }

    /// INVITE, 100, 180, 200 with the answer, ACK: from `t` to `t` + 1,030 ms.
    fn setup(&mut self, b: &mut Builder, t: u64) {
        let offer = self.offer.render();
        let invite = self.leg.request("INVITE", self.cseq, true, Some(&offer));
        self.sip(b, t, true, invite, Iri::Auto);
        self.answer_phase(b, t + 30);
    }

    /// 100, 180, 200 with the answer, ACK, from `t` ms.
    fn answer_phase(&mut self, b: &mut Builder, t: u64) {
        let cseq = self.cseq;
        self.sip(
            b,
            t,
            false,
            self.leg.response(100, cseq, "INVITE", true, None),
            Iri::Auto,
        );
        let dialog = self.dialog();
        self.sip(
            b,
            t + 170,
            false,
            dialog.response(180, cseq, "INVITE", true, None),
            Iri::Auto,
        );
        let answer = self.answer.render();
        self.sip(
            b,
            t + 970,
            false,
            dialog.response(200, cseq, "INVITE", true, Some(&answer)),
            Iri::Auto,
        );
        self.sip(
            b,
            t + 1_000,
            true,
            dialog.request("ACK", cseq, true, None),
            Iri::Auto,
        );
        self.leg = dialog;
    }

    /// Both directions talk from `from` to `to` ms.
    fn talk(&mut self, b: &mut Builder, from: u64, to: u64) {
        self.caller.run(b, from, to);
        self.callee.run(b, from + 10, to);
    }

    /// A re-INVITE from the caller (`from_caller`) changing both directions' media, its 200
    /// and ACK, at `t` ms.
    fn reinvite(
        &mut self,
        b: &mut Builder,
        t: u64,
        cseq: u32,
        from_caller: bool,
        offer: impl Fn(Media) -> Media,
        answer: impl Fn(Media) -> Media,
    ) {
        let (mine, theirs) = if from_caller {
            (&self.offer, &self.answer)
        } else {
            (&self.answer, &self.offer)
        };
        let new_offer = mine.reoffer(mine.media.iter().cloned().map(&offer).collect());
        let new_answer = theirs.reoffer(theirs.media.iter().cloned().map(&answer).collect());
        let (o, a) = (new_offer.render(), new_answer.render());
        let dialog = self.dialog();
        self.sip(
            b,
            t,
            from_caller,
            dialog.request("INVITE", cseq, from_caller, Some(&o)),
            Iri::Auto,
        );
        self.sip(
            b,
            t + 40,
            !from_caller,
            dialog.response(200, cseq, "INVITE", from_caller, Some(&a)),
            Iri::Auto,
        );
        self.sip(
            b,
            t + 70,
            from_caller,
            dialog.request("ACK", cseq, from_caller, None),
            Iri::Auto,
        );
        if from_caller {
            (self.offer, self.answer) = (new_offer, new_answer);
        } else {
            (self.answer, self.offer) = (new_offer, new_answer);
        }
    }

    /// BYE from the caller (or the callee) at `t` ms and its 200: the call's end.
    fn bye(&mut self, b: &mut Builder, t: u64, from_caller: bool) {
        let dialog = self.dialog();
        let cseq = if from_caller { self.cseq + 10 } else { 1 };
        self.sip(
            b,
            t,
            from_caller,
            dialog.request("BYE", cseq, from_caller, None),
            Iri::Auto,
        );
        self.sip(
            b,
            t + 30,
            !from_caller,
            dialog.response(200, cseq, "BYE", from_caller, None),
            Iri::End,
        );
    }
}

/// The target's call over TCP to its proxy: the INVITE across three segments, 100 and 180
/// in one segment, the 200 across two, the ACK and the BYE in one, the BYE's 200 alone.
fn tcp_call(b: &mut Builder) {
    let mut run = CallRun::target_calls_bob(b, "c9-tcp0077@voice.example", true);
    run.leg.transport = "TCP";
    let (alice, proxy) = run.wire;
    let call = run.call;
    let mark = |iri: IriType| call.map(|call| SipIri::Call { call, iri });
    let offer = run.offer.render();
    let invite = run.leg.request("INVITE", 1, true, Some(&offer));
    let cuts = [200, invite.len() - 40];
    // At 10 ms: the connection's handshake takes the 3 ms before.
    b.sip_tcp(
        10,
        alice,
        proxy,
        vec![(invite, mark(IriType::Begin))],
        &cuts,
    );
    let dialog = run.leg.with_tag("tcp7d1a");
    let trying = run.leg.response(100, 1, "INVITE", true, None);
    let ringing = dialog.response(180, 1, "INVITE", true, None);
    b.sip_tcp(
        200,
        proxy,
        alice,
        vec![
            (trying, mark(IriType::Continue)),
            (ringing, mark(IriType::Continue)),
        ],
        &[],
    );
    let answer = run.answer.render();
    let ok = dialog.response(200, 1, "INVITE", true, Some(&answer));
    let cut = ok.len() / 2;
    b.sip_tcp(
        1_000,
        proxy,
        alice,
        vec![(ok, mark(IriType::Continue))],
        &[cut],
    );
    let ack = dialog.request("ACK", 1, true, None);
    b.sip_tcp(
        1_030,
        alice,
        proxy,
        vec![(ack, mark(IriType::Continue))],
        &[],
    );
    run.talk(b, 1_050, 3_050);
    // The BYE across two segments, its 200 in one.
    let bye = dialog.request("BYE", 2, true, None);
    let bye_len = bye.len();
    b.sip_tcp(
        3_100,
        alice,
        proxy,
        vec![(bye, mark(IriType::Continue))],
        &[bye_len / 3],
    );
    let ok_bye = dialog.response(200, 2, "BYE", true, None);
    let end = b.sip_tcp(3_130, proxy, alice, vec![(ok_bye, mark(IriType::End))], &[]);
    if let (Some(call), Some(&m)) = (call, end.first()) {
        b.end_call(call, CallEnd::Message(m));
    }
}

/// The target registers: challenged, then accepted with its binding; bob's REGISTER to the
/// same registrar in between is nobody's.
fn register(b: &mut Builder) {
    let alice = Ua::new("Alice", ALICE, sa(TARGET_V4, SIP_PORT));
    let registrar = Ua::new("Registrar", "sip:voice.example", sa(PROXY_V4, SIP_PORT));
    let mut leg = Leg::new("reg-5a1ce@voice.example", alice.clone(), registrar.clone());
    leg.request_uri = "sip:voice.example".into();
    leg.to_uri = ALICE.into();
    let wire = (alice.sip, registrar.sip);
    let expires = ("Expires", "3600".to_string());
    let report = Some(SipIri::Report { late_of: None });
    b.sip_udp(
        0,
        wire.0,
        wire.1,
        leg.request_with("REGISTER", 1, true, None, std::slice::from_ref(&expires)),
        report,
    );
    let challenged = leg.with_tag("reg401");
    b.sip_udp(
        40,
        wire.1,
        wire.0,
        challenged.response(401, 1, "REGISTER", true, None),
        report,
    );
    let auth = (
        "Authorization",
        "Digest username=\"alice\", realm=\"voice.example\", nonce=\"4f2a\", \
         uri=\"sip:voice.example\", response=\"0123456789abcdef0123456789abcdef\""
            .to_string(),
    );
    b.sip_udp(
        100,
        wire.0,
        wire.1,
        leg.request_with("REGISTER", 2, true, None, &[expires.clone(), auth]),
        report,
    );
    // Someone else's REGISTER from another host.
    let bob = Ua::new(
        "Bob",
        "sip:bob@voice.example",
        sa(IpAddr::from([192, 0, 2, 77]), SIP_PORT),
    );
    let mut other = Leg::new("reg-b0b@voice.example", bob.clone(), registrar);
    other.request_uri = "sip:voice.example".into();
    other.to_uri = "sip:bob@voice.example".into();
    b.sip_udp(
        120,
        bob.sip,
        wire.1,
        other.request_with("REGISTER", 1, true, None, std::slice::from_ref(&expires)),
        None,
    );
    b.sip_udp(
        150,
        wire.1,
        bob.sip,
        other
            .with_tag("regb0b")
            .response(200, 1, "REGISTER", true, None),
        None,
    );
    let accepted = leg.with_tag("reg200");
    let contact = (
        "Contact",
        format!("<sip:alice@{}>;expires=3600", super::sip::host_port(wire.0)),
    );
    let mut ok = accepted.response(200, 2, "REGISTER", true, None);
    // The 200 lists the binding: insert the Contact before Content-Length.
    let text = String::from_utf8_lossy(&ok).into_owned();
    let with_contact = text.replacen(
        "Content-Length",
        &format!("{}: {}\r\nContent-Length", contact.0, contact.1),
        1,
    );
    ok = with_contact.into_bytes();
    b.sip_udp(180, wire.1, wire.0, ok, report);
}

/// The target calls bob through a B2BUA: leg 1 (target to B2BUA) and leg 2 (B2BUA to bob,
/// another Call-ID, an anonymous From, the target's SDP passed on unchanged).
fn two_legs(b: &mut Builder) {
    let mut one = CallRun::target_calls_bob(b, "leg1-9a8b@voice.example", true);
    let call = one.call;
    if let Some(c) = call
        && let Some(truth) = b.call_mut(c)
    {
        truth.call_ids.push("leg2-b2b-4471@b2bua.example".into());
    }
    let b2bua = Ua::new("", "sip:+15550100@b2bua.example", sa(PROXY_V4, 5_080));
    let bob = Ua::new("Bob", BOB, sa(PEER_V4, SIP_PORT));
    let mut two = CallRun {
        leg: Leg::new("leg2-b2b-4471@b2bua.example", b2bua.clone(), bob.clone()),
        wire: (b2bua.sip, bob.sip),
        offer: one.offer.clone(),
        answer: one.answer.clone(),
        caller: one.caller.clone(),
        callee: one.callee.clone(),
        call,
        begun: true,
        cseq: 1,
    };
    let offer = one.offer.render();
    let answer = one.answer.render();
    one.sip(
        b,
        0,
        true,
        one.leg.request("INVITE", 1, true, Some(&offer)),
        Iri::Auto,
    );
    one.sip(
        b,
        20,
        false,
        one.leg.response(100, 1, "INVITE", true, None),
        Iri::Auto,
    );
    two.sip(
        b,
        40,
        true,
        two.leg.request("INVITE", 1, true, Some(&offer)),
        Iri::Auto,
    );
    two.sip(
        b,
        60,
        false,
        two.leg.response(100, 1, "INVITE", true, None),
        Iri::Auto,
    );
    let d2 = two.leg.with_tag("bob-leg2");
    let d1 = one.leg.with_tag("b2b-leg1");
    two.sip(
        b,
        200,
        false,
        d2.response(180, 1, "INVITE", true, None),
        Iri::Auto,
    );
    one.sip(
        b,
        220,
        false,
        d1.response(180, 1, "INVITE", true, None),
        Iri::Auto,
    );
    two.sip(
        b,
        1_000,
        false,
        d2.response(200, 1, "INVITE", true, Some(&answer)),
        Iri::Auto,
    );
    two.sip(b, 1_020, true, d2.request("ACK", 1, true, None), Iri::Auto);
    one.sip(
        b,
        1_040,
        false,
        d1.response(200, 1, "INVITE", true, Some(&answer)),
        Iri::Auto,
    );
    one.sip(b, 1_060, true, d1.request("ACK", 1, true, None), Iri::Auto);
    one.talk(b, 1_100, 3_100);
    one.sip(b, 3_150, true, d1.request("BYE", 2, true, None), Iri::Auto);
    two.sip(b, 3_170, true, d2.request("BYE", 2, true, None), Iri::Auto);
    two.sip(
        b,
        3_200,
        false,
        d2.response(200, 2, "BYE", true, None),
        Iri::Auto,
    );
    one.sip(
        b,
        3_220,
        false,
        d1.response(200, 2, "BYE", true, None),
        Iri::End,
    );
}
