//! Text gathered on the stack first, so a window's `Display` reaches its formatter in one
//! piece: `to_string()` of a windowed key (once per output record of a windowed aggregation in
//! many topologies) then allocates its string once instead of growing it for every part.

use std::fmt;

/// Up to `N` bytes of formatted text; a write that does not fit fails (the caller then formats
/// straight into its formatter).
pub(super) struct StackText<const N: usize> {
    buf: [u8; N],
    len: usize,
}

impl<const N: usize> StackText<N> {
    pub(super) fn new() -> Self {
        Self { buf: [0; N], len: 0 }
    }

    /// Appends `ascii` if it fits; `false` (and nothing appended) if not.
    pub(super) fn push_ascii(&mut self, ascii: &[u8]) -> bool {
        debug_assert!(ascii.is_ascii());
        let end = self.len + ascii.len();
        let Some(slot) = self.buf.get_mut(self.len..end) else {
            return false;
        };
        slot.copy_from_slice(ascii);
        self.len = end;
        true
    }

    pub(super) fn as_str(&self) -> &str {
        // Only whole `str`s and ASCII are ever copied in, so this never fails.
        std::str::from_utf8(&self.buf[..self.len]).unwrap_or_default()
    }
}

impl<const N: usize> fmt::Write for StackText<N> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len + s.len();
        let slot = self.buf.get_mut(self.len..end).ok_or(fmt::Error)?;
        slot.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::fmt::Write;

    use super::StackText;

    #[test]
    fn text_that_does_not_fit_is_refused_whole() {
        let mut text = StackText::<8>::new();
        write!(text, "user-{}", 42).unwrap();
        assert_eq!(text.as_str(), "user-42");
        assert!(write!(text, "ab").is_err());
        assert_eq!(
            text.as_str(),
            "user-42",
            "a write that does not fit leaves the text as it was"
        );
    }
}
