//! Building blocks of the reference binaries: the mediation function, the audit log, the
//! warrant store, metrics exposition and the shipped sample capture.

pub mod admf;
pub mod cli;
pub mod demo;
pub mod lemf;
pub mod mediator;
pub mod metrics;
pub mod probe;
pub mod sample;
pub mod store;

/// The first item that appears again later in `items` (a DID named twice in a task would
/// get every record twice).
pub(crate) fn first_repeated<T: PartialEq>(items: &[T]) -> Option<&T> {
    items
        .iter()
        .enumerate()
        .find(|(i, item)| items.iter().skip(i + 1).any(|other| other == *item))
        .map(|(_, item)| item)
}
