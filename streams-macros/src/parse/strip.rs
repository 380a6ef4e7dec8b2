//! The strip pass: what the macro read is removed from the items it emits.

use syn::{FnArg, Item};

use super::{is_from_attribute, is_node_attribute};

/// Removes what the macro reads — node attributes on functions and type aliases, `#[from(..)]`
/// on parameters — so the user's items stay ordinary Rust (callable and testable on their own).
pub(crate) fn strip_node_attributes(items: &mut [Item]) {
    for item in items {
        match item {
            Item::Fn(f) => {
                f.attrs.retain(|a| !is_node_attribute(a));
                for input in &mut f.sig.inputs {
                    if let FnArg::Typed(pat) = input {
                        pat.attrs.retain(|a| !is_from_attribute(a));
                    }
                }
            }
            Item::Type(t) => t.attrs.retain(|a| !is_node_attribute(a)),
            _ => {}
        }
    }
}
