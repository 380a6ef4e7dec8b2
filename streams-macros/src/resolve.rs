//! What each node is, settled once from the graph: whether it reads a table of this
//! application and, for a join, which of the five joins it is. The checks and the expansion
//! read these instead of each re-deriving them from the upstream nodes.

use std::collections::HashMap;

use crate::model::{Node, NodeKind, TopologyDef};

/// The five joins `#[join]` declares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum JoinKind {
    /// `#[from(table)]` + `#[join(table = other)]`: by key (inner, left, outer).
    TableTable,
    /// Two tables by `foreign_key = fn(&V) -> OtherKey` (inner, left).
    ForeignKey,
    /// A stream looking its key up in a table (inner, left).
    StreamTable,
    /// Two streams within a window (inner, left, outer).
    StreamStream,
    /// A stream looking a computed key up in a global table (inner, left).
    StreamGlobal,
}

/// A node's settled kind.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Resolved {
    /// It reads a table of this application (not a global one): a table-table join, a
    /// derived table, a table aggregation, a sink of a table's updates.
    pub(crate) reads_table: bool,
    /// For a join, which one.
    pub(crate) join: Option<JoinKind>,
}

/// Per node of `def`, in its order. Upstream names that resolve to nothing count as streams
/// (the checks report them).
pub(crate) fn resolve(def: &TopologyDef) -> Vec<Resolved> {
    let by_name: HashMap<String, &Node> = def.nodes.iter().map(|n| (n.name.to_string(), n)).collect();
    def.nodes
        .iter()
        .map(|node| {
            let reads_table = node.from.iter().any(|upstream| {
                by_name
                    .get(&upstream.to_string())
                    .is_some_and(|n| n.kind.is_local_table())
            });
            let join = match &node.kind {
                NodeKind::Join {
                    window,
                    global_key,
                    foreign_key,
                    ..
                } => Some(if reads_table && foreign_key.is_some() {
                    JoinKind::ForeignKey
                } else if reads_table {
                    JoinKind::TableTable
                } else if global_key.is_some() {
                    JoinKind::StreamGlobal
                } else if window.is_some() {
                    JoinKind::StreamStream
                } else {
                    JoinKind::StreamTable
                }),
                _ => None,
            };
            Resolved { reads_table, join }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use quote::quote;

    use super::*;
    use crate::parse;

    /// The five joins, a table derivation and a plain node, each settled from its upstream.
    #[test]
    fn each_join_is_settled_from_what_it_reads() {
        let module: syn::ItemMod = syn::parse2(quote! {
            mod app {
                #[source(topic = "clicks")]
                pub type Clicks = (String, String);
                #[source(topic = "views")]
                pub type Views = (String, String);
                #[table(topic = "users", store = "users")]
                pub type Users = (String, String);
                #[table(topic = "teams", store = "teams")]
                pub type Teams = (String, String);
                #[table(topic = "directory", store = "directory", global)]
                pub type Directory = (String, String);

                #[join(table = Users)]
                pub fn stream_table(#[from(Clicks)] click: &String, user: &String) -> String { click.clone() }
                #[join(stream = Views, within = "1m")]
                pub fn stream_stream(#[from(Clicks)] click: &String, view: &String) -> String { click.clone() }
                pub fn user_of(user: &String, _click: &String) -> String { user.clone() }
                #[join(global = Directory, key = user_of)]
                pub fn stream_global(#[from(Clicks)] click: &String, entry: &String) -> String { click.clone() }
                #[join(table = Teams, store = "users-teams")]
                pub fn table_table(#[from(Users)] user: &String, team: &String) -> String { user.clone() }
                pub fn team_of(user: &String) -> String { user.clone() }
                #[join(table = Teams, foreign_key = team_of, store = "users-by-team")]
                pub fn foreign(#[from(Users)] user: &String, team: &String) -> String { user.clone() }
                #[sink(topic = "out", from = stream_table)]
                pub fn publish(value: String) -> String { value }
            }
        })
        .expect("module");
        let items = &module.content.expect("inline").1;
        let args = parse::parse_topology_args(quote!(application_id = "app")).expect("args");
        let mut errors = parse::Errors::default();
        let def = parse::parse_items(args, items, &mut errors);
        assert!(errors.is_empty(), "the module parses");
        let resolved = resolve(&def);
        let kind = |name: &str| {
            let i = def.nodes.iter().position(|n| n.name == name).expect(name);
            (resolved[i].reads_table, resolved[i].join)
        };
        assert_eq!(kind("stream_table"), (false, Some(JoinKind::StreamTable)));
        assert_eq!(kind("stream_stream"), (false, Some(JoinKind::StreamStream)));
        assert_eq!(kind("stream_global"), (false, Some(JoinKind::StreamGlobal)));
        assert_eq!(kind("table_table"), (true, Some(JoinKind::TableTable)));
        assert_eq!(kind("foreign"), (true, Some(JoinKind::ForeignKey)));
        assert_eq!(kind("publish"), (false, None));
    }
}
