//! The PacketCable call-data state machine on SIP texts built here.
