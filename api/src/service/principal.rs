//! Who is acting on a request.

/// The caller, as established by the HTTP handler from its credentials.
///
/// Only anonymous callers exist until identity lands (volunteers by phone and one-time code,
/// staff by password and TOTP, hospitals by client credentials); services already take a
/// principal so that adding those is a change of this type, not of every signature.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Principal {
    #[default]
    Anonymous,
}
