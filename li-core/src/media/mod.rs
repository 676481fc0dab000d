//! Call media as the suite handles it: the RTP header ([`rtp`]) and G.711 audio
//! ([`g711`]), shared by the agency side (which turns a call's media into audio an analyst
//! can play) and the synthetic calls of tests and the demo.

pub mod g711;
pub mod rtp;
