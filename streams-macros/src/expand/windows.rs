//! Window declarations as builder calls.

use proc_macro2::TokenStream;
use quote::quote;

use crate::model::{Window, WindowKind};

pub(super) fn window_expr(rt: &syn::Path, window: &Window) -> TokenStream {
    let grace = window
        .grace_ms
        .map(|ms| quote! { .grace(::std::time::Duration::from_millis(#ms)) });
    match &window.kind {
        WindowKind::Tumbling { size_ms } => quote! {
            #rt::window::TimeWindows::of(::std::time::Duration::from_millis(#size_ms)) #grace
        },
        WindowKind::Hopping { size_ms, advance_ms } => quote! {
            #rt::window::TimeWindows::of(::std::time::Duration::from_millis(#size_ms))
                .advance_by(::std::time::Duration::from_millis(#advance_ms))
                #grace
        },
        WindowKind::Session { inactivity_gap_ms } => quote! {
            #rt::window::SessionWindows::with_inactivity_gap(::std::time::Duration::from_millis(#inactivity_gap_ms))
                #grace
        },
        WindowKind::Sliding { time_difference_ms } => quote! {
            #rt::window::SlidingWindows::with_time_difference(::std::time::Duration::from_millis(#time_difference_ms))
                #grace
        },
    }
}

pub(super) fn window_size_ms(window: &Window) -> u64 {
    match window.kind {
        WindowKind::Tumbling { size_ms } | WindowKind::Hopping { size_ms, .. } => size_ms,
        WindowKind::Sliding { time_difference_ms } => time_difference_ms,
        WindowKind::Session { inactivity_gap_ms } => inactivity_gap_ms,
    }
}
