//! Function signatures: parameters (by reference or owned) and what a return type means.

use syn::spanned::Spanned;
use syn::{FnArg, GenericArgument, ItemFn, PathArguments, ReturnType, Type};

use crate::model::{Param, Shape, StatelessFn};

use super::errors::Errors;

pub(super) fn params(item: &ItemFn, errors: &mut Errors) -> Option<Vec<(Param, bool)>> {
    let mut out = Vec::new();
    for input in &item.sig.inputs {
        let FnArg::Typed(pat) = input else {
            errors.at(input.span(), "node functions are free functions; remove `self`");
            return None;
        };
        out.push(param(&pat.ty));
    }
    Some(out)
}

/// A parameter's type with a leading `&`/`&mut` removed; the flag says `&mut`.
pub(super) fn param(ty: &Type) -> (Param, bool) {
    match ty {
        Type::Reference(r) => (
            Param {
                ty: (*r.elem).clone(),
                by_ref: true,
                span: ty.span(),
            },
            r.mutability.is_some(),
        ),
        other => (
            Param {
                ty: other.clone(),
                by_ref: false,
                span: other.span(),
            },
            false,
        ),
    }
}

/// A stateless function: `(value)` or `(key, value)`, with its output shape.
pub(super) fn stateless(
    item: &ItemFn,
    params: &[(Param, bool)],
    what: &str,
    errors: &mut Errors,
) -> Option<StatelessFn> {
    let (key, value) = match params {
        [(value, false)] => (None, value.clone()),
        [(key, false), (value, false)] => (Some(key.clone()), value.clone()),
        _ => {
            errors.at(
                item.sig.paren_token.span.join(),
                format!("{what} takes `(value)` or `(key, value)`, by value or by shared reference"),
            );
            return None;
        }
    };
    let (shape, fallible) = shape(&item.sig.output);
    Some(StatelessFn {
        key,
        value,
        shape,
        fallible,
        repartition: None,
        split: None,
    })
}

/// The operation a return type means, and whether it is wrapped in `Result<_, E>`.
pub(super) fn shape(output: &ReturnType) -> (Shape, bool) {
    let ReturnType::Type(_, ty) = output else {
        return (Shape::Peek, false);
    };
    match result_ok_type(ty) {
        Some(ok) => (shape_of(&ok), true),
        None => (shape_of(ty), false),
    }
}

/// `T` of `Result<T, E>` (by the last path segment, two type arguments).
pub(super) fn result_ok_type(ty: &Type) -> Option<Type> {
    let Type::Path(p) = ty else { return None };
    let last = p.path.segments.last()?;
    if last.ident != "Result" {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    match (args.args.len(), args.args.first()?) {
        (2, GenericArgument::Type(t)) => Some(t.clone()),
        _ => None,
    }
}

pub(super) fn shape_of(ty: &Type) -> Shape {
    match ty {
        Type::Tuple(t) if t.elems.is_empty() => Shape::Peek,
        Type::Tuple(t) if t.elems.len() == 2 => Shape::KeyValue(t.elems[0].clone(), t.elems[1].clone()),
        Type::Path(p) if p.qself.is_none() && p.path.is_ident("bool") => Shape::Filter,
        other => {
            if let Some(inner) = single_generic(other, "Option") {
                match pair(&inner) {
                    Some((k, v)) => Shape::OptionKeyValue(k, v),
                    None => Shape::OptionValue(inner),
                }
            } else if let Some(inner) = single_generic(other, "Vec") {
                match pair(&inner) {
                    Some((k, v)) => Shape::ManyKeyValues(k, v),
                    None => Shape::ManyValues(inner),
                }
            } else {
                Shape::Value(other.clone())
            }
        }
    }
}

pub(super) fn pair(ty: &Type) -> Option<(Type, Type)> {
    match ty {
        Type::Tuple(t) if t.elems.len() == 2 => Some((t.elems[0].clone(), t.elems[1].clone())),
        _ => None,
    }
}

/// `T` of `Wrapper<T>` (by the last path segment).
pub(crate) fn single_generic(ty: &Type, wrapper: &str) -> Option<Type> {
    let Type::Path(p) = ty else { return None };
    let last = p.path.segments.last()?;
    if last.ident != wrapper {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    match args.args.first()? {
        GenericArgument::Type(t) if args.args.len() == 1 => Some(t.clone()),
        _ => None,
    }
}
