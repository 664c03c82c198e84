//! Placeholder: the admission controls are being written on their own branch.

use crate::audit::Context;
use crate::control::Control;
use crate::finding::Sink;

pub(crate) static CONTROLS: [&Control; 0] = [];

pub(crate) fn check(_context: &Context<'_>, _sink: &mut Sink) {}
