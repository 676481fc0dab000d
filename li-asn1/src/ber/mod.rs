//! A small BER core (ITU-T X.690): identifier octets, a definite-length minimal writer and a
//! tolerant, bounded reader.
//!
//! The reader accepts the BER forms vendors send: indefinite lengths, long-form lengths
//! (minimal or not, up to 8 length octets), constructed OCTET STRINGs and character strings,
//! and unknown elements in extensible SEQUENCEs (skipped by the typed decoders). It never
//! panics, never reads past its slice and limits nesting depth (default
//! [`DEFAULT_MAX_DEPTH`]) so hostile input cannot exhaust the stack. Resolving an indefinite
//! length walks the element's children; nested indefinite elements are walked again when
//! descended into, a cost bounded by the depth limit.
//!
//! The writer produces definite, minimal lengths. The one exception is an opaque element
//! ([`crate::Opaque`]) carried through unchanged: its content is written back as received.

mod reader;
mod writer;

use core::fmt;

pub(crate) use reader::is_printable_char;
pub use reader::{Reader, Tlv, first_component_tag, frame_len};
pub(crate) use writer::int_octets;
pub use writer::{Writer, encoded_len, length_len, write_length, write_tag};

/// Default limit on the nesting depth of constructed elements accepted by [`Reader`].
///
/// A TS 102 232 PS-PDU with IP access IRI nests about twelve levels; 64 leaves room for
/// vendor extensions while keeping recursion on hostile input shallow.
pub const DEFAULT_MAX_DEPTH: usize = 64;

/// The class of a tag (X.690 clause 8.1.2.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Class {
    /// UNIVERSAL types (INTEGER, SEQUENCE, ...).
    Universal,
    /// APPLICATION tags.
    Application,
    /// Context-specific tags (`[n]` in the modules).
    Context,
    /// PRIVATE tags.
    Private,
}

/// A BER tag: class, primitive/constructed form and number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Tag {
    /// The tag class.
    pub class: Class,
    /// True for the constructed form.
    pub constructed: bool,
    /// The tag number.
    pub number: u32,
}

impl Tag {
    /// UNIVERSAL 0, primitive: the end-of-contents marker of indefinite lengths.
    pub const END_OF_CONTENTS: Self = Self::universal(0);
    /// UNIVERSAL 1 BOOLEAN.
    pub const BOOLEAN: Self = Self::universal(1);
    /// UNIVERSAL 2 INTEGER.
    pub const INTEGER: Self = Self::universal(2);
    /// UNIVERSAL 4 OCTET STRING (primitive form).
    pub const OCTET_STRING: Self = Self::universal(4);
    /// UNIVERSAL 5 NULL.
    pub const NULL: Self = Self::universal(5);
    /// UNIVERSAL 6 OBJECT IDENTIFIER.
    pub const OBJECT_IDENTIFIER: Self = Self::universal(6);
    /// UNIVERSAL 10 ENUMERATED.
    pub const ENUMERATED: Self = Self::universal(10);
    /// UNIVERSAL 13 RELATIVE-OID.
    pub const RELATIVE_OID: Self = Self::universal(13);
    /// UNIVERSAL 16 SEQUENCE / SEQUENCE OF (constructed).
    pub const SEQUENCE: Self = Self {
        class: Class::Universal,
        constructed: true,
        number: 16,
    };

    /// A primitive UNIVERSAL tag.
    pub const fn universal(number: u32) -> Self {
        Self {
            class: Class::Universal,
            constructed: false,
            number,
        }
    }

    /// A primitive context-specific tag `[number]`.
    pub const fn context(number: u32) -> Self {
        Self {
            class: Class::Context,
            constructed: false,
            number,
        }
    }

    /// A constructed context-specific tag `[number]`.
    pub const fn context_constructed(number: u32) -> Self {
        Self {
            class: Class::Context,
            constructed: true,
            number,
        }
    }

    /// The same tag in constructed form.
    pub const fn into_constructed(self) -> Self {
        Self {
            constructed: true,
            ..self
        }
    }

    /// The context-specific tag number, whatever the form, or `None` for other classes.
    pub const fn context_number(self) -> Option<u32> {
        match self.class {
            Class::Context => Some(self.number),
            _ => None,
        }
    }

    /// True when class and number are equal, whatever the form.
    pub const fn same_type(self, other: Self) -> bool {
        self.number == other.number
            && matches!(
                (self.class, other.class),
                (Class::Universal, Class::Universal)
                    | (Class::Application, Class::Application)
                    | (Class::Context, Class::Context)
                    | (Class::Private, Class::Private)
            )
    }
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let class = match self.class {
            Class::Universal => "UNIVERSAL ",
            Class::Application => "APPLICATION ",
            Class::Context => "",
            Class::Private => "PRIVATE ",
        };
        let form = if self.constructed {
            " (constructed)"
        } else {
            ""
        };
        write!(f, "[{class}{}]{form}", self.number)
    }
}
