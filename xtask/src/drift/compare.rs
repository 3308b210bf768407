//! Comparing upstream's operation with ours: every difference, with where it is on both
//! sides and what it means for the client generated from our fragment.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::Value;

use super::model::{
    Additional, Annotations, Items, MediaType, Operation, Response, Schema, Security, sorted_values,
};
use super::resolve::{Loc, parameter_token};

/// What a difference means for the client.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Class {
    /// The client fails against an API that behaves as upstream says (a response it
    /// cannot decode, a request upstream rejects, an input it cannot give).
    Breaking,
    /// The client keeps working, but no longer matches upstream: upstream offers
    /// something the client does not expose, or the two accept different sets of values
    /// in the harmless direction.
    Additive,
    /// Nothing on the wire changes: descriptions, examples, titles, vendor extensions,
    /// equivalent spellings.
    Cosmetic,
}

impl Class {
    pub fn name(self) -> &'static str {
        match self {
            Class::Breaking => "breaking",
            Class::Additive => "additive",
            Class::Cosmetic => "cosmetic",
        }
    }
}

use Class::{Additive, Breaking, Cosmetic};

/// One difference between upstream and ours.
#[derive(Debug)]
pub struct Difference {
    /// The operationId of the operation it was found in; `None` for the whole document.
    pub operation: Option<String>,
    pub class: Class,
    /// Where, in words: `response 202 body › lastUpdated`.
    pub subject: String,
    pub description: String,
    /// What to do about it if it is unexplained.
    pub action: String,
    /// The spot upstream (it may be absent there: then where it would be).
    pub upstream: Loc,
    /// The spot in our fragment (or where it would be).
    pub ours: String,
    /// The id of the deviation that explains it, once matched.
    pub explained_by: Option<String>,
    /// A stale deviation that covers its spot: `(id, what changed upstream there)`.
    pub under_stale: Option<(String, String)>,
}

/// Who produces the values a schema describes: the server (responses) or the client
/// (requests). A difference that widens what the client accepts is harmless in a
/// response and harmful in a request, and the other way round.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Direction {
    Request,
    Response,
}

/// How the sets of values accepted by the two sides relate, at one spot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Relation {
    /// Ours accepts everything upstream does, and more.
    OursWider,
    /// Upstream accepts everything ours does, and more.
    UpstreamWider,
    /// Each accepts something the other does not.
    Incomparable,
}

impl Relation {
    /// From whether ours accepts all upstream does, and whether upstream accepts all ours does.
    fn of(ours_accepts_all: bool, upstream_accepts_all: bool) -> Self {
        match (ours_accepts_all, upstream_accepts_all) {
            (true, _) => Relation::OursWider,
            (false, true) => Relation::UpstreamWider,
            (false, false) => Relation::Incomparable,
        }
    }
}

impl Direction {
    fn class(self, relation: Relation) -> Class {
        match (self, relation) {
            (Direction::Response, Relation::OursWider)
            | (Direction::Request, Relation::UpstreamWider) => Additive,
            _ => Breaking,
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Direction::Request => "request",
            Direction::Response => "response",
        }
    }
}

/// Which side has what differs; with the class, it says what to do.
#[derive(Clone, Copy)]
enum Side {
    Upstream,
    Ours,
    Both,
}

/// Formats that progenitor decodes into a type of their own (anything else is a string).
#[rustfmt::skip]
const TYPED_FORMATS: [&str; 16] = [
    "date-time", "date", "uuid", "ip", "ipv4", "ipv6", "int8", "int16", "int32", "int64",
    "uint8", "uint16", "uint32", "uint64", "float", "double",
];

const ADD: &str = "Add it to spec/webflow-cms-items.yaml if the client should use it, run `cargo xtask codegen`, \
                   or record a deviation";
const REMOVE: &str = "Remove it from spec/webflow-cms-items.yaml and run `cargo xtask codegen`, or record a \
                      deviation saying why ours keeps it";
const CHANGE: &str = "Change spec/webflow-cms-items.yaml to match upstream and run `cargo xtask codegen`, or \
                      record a deviation saying why ours differs";
const COSMETIC: &str = "Nothing required; copy upstream's wording if you like";

/// Compares the two operations; the differences come in document order, each tagged with
/// `operation_id`.
pub fn compare(operation_id: &str, upstream: &Operation, ours: &Operation) -> Vec<Difference> {
    let mut comparer = Comparer(Vec::new());
    comparer.operation(upstream, ours);
    for difference in &mut comparer.0 {
        difference.operation = Some(operation_id.to_string());
    }
    comparer.0
}

struct Comparer(Vec<Difference>);

/// Every key of either map, in order, with what each side has there.
fn pairs<'a, T>(
    upstream: &'a BTreeMap<String, T>,
    ours: &'a BTreeMap<String, T>,
) -> impl Iterator<Item = (&'a String, Option<&'a T>, Option<&'a T>)> {
    let keys: BTreeSet<&String> = upstream.keys().chain(ours.keys()).collect();
    keys.into_iter()
        .map(|key| (key, upstream.get(key), ours.get(key)))
}

fn code(value: &Value) -> String {
    format!("`{value}`")
}

/// A keyword's value, or `absent`.
fn shown(value: Option<&Value>) -> String {
    value.map_or_else(|| "absent".to_string(), code)
}

/// Up to this many values are listed in a description; longer lists are cut with "…".
const LISTED_VALUES: usize = 6;

fn list(values: &[Value]) -> String {
    let shown = values.iter().take(LISTED_VALUES).map(|v| match v.as_str() {
        Some(text) => format!("`{text}`"),
        None => code(v),
    });
    let mut text = shown.collect::<Vec<_>>().join(", ");
    if values.len() > LISTED_VALUES {
        text.push_str(&format!(", … ({} more)", values.len() - LISTED_VALUES));
    }
    text
}

fn types_text(schema: &Schema) -> String {
    if schema.types.is_empty() {
        return "any type".into();
    }
    let types: Vec<String> = schema.types.iter().map(|t| format!("`{t}`")).collect();
    types.join(" or ")
}

/// A union branch in a description: its title, else its position.
fn branch_label(branch: &Schema, index: usize) -> String {
    branch
        .title()
        .map_or_else(|| format!("variant {}", index + 1), |t| format!("`{t}`"))
}

impl Comparer {
    fn push(
        &mut self,
        class: Class,
        side: Side,
        subject: &str,
        up: &Loc,
        ours: &Loc,
        text: String,
    ) {
        let action = match (class, side) {
            (Cosmetic, _) => COSMETIC,
            (_, Side::Upstream) => ADD,
            (_, Side::Ours) => REMOVE,
            (_, Side::Both) => CHANGE,
        };
        self.0.push(Difference {
            operation: None,
            class,
            subject: subject.to_string(),
            description: text,
            action: action.to_string(),
            upstream: up.clone(),
            ours: ours.pointer.clone(),
            explained_by: None,
            under_stale: None,
        });
    }

    /// A difference in keyword `key` of two nodes both sides have.
    fn at(&mut self, class: Class, subject: &str, u: &Loc, o: &Loc, key: &str, text: String) {
        self.push(
            class,
            Side::Both,
            subject,
            &u.child(key),
            &o.child(key),
            text,
        );
    }

    /// `required: true` on one side only; `when` is for upstream's, then for ours.
    fn required(
        &mut self,
        subject: &str,
        u: (bool, &Loc),
        o: (bool, &Loc),
        when: [(Class, &str); 2],
    ) {
        let (class, text) = match (u.0, o.0) {
            (true, false) => when[0],
            (false, true) => when[1],
            _ => return,
        };
        self.at(class, subject, u.1, o.1, "required", text.to_string());
    }

    fn operation(&mut self, u: &Operation, o: &Operation) {
        if u.method != o.method || u.path != o.path {
            let (um, om) = (u.method.to_uppercase(), o.method.to_uppercase());
            let text = format!(
                "upstream serves it as {um} {}, ours as {om} {}",
                u.path, o.path
            );
            self.push(Breaking, Side::Both, "operation", &u.loc, &o.loc, text);
        }
        self.annotations("operation", &u.annotations, &u.loc, &o.annotations, &o.loc);
        self.parameters(u, o);
        self.request_body(u, o);
        for (status, ur, or) in pairs(&u.responses, &o.responses) {
            let subject = format!("response {status}");
            match (ur, or) {
                (Some(ur), Some(or)) => self.response(&subject, ur, or),
                (Some(ur), None) => {
                    let text = format!("upstream declares status {status}; ours does not");
                    let at = o.loc.child("responses").child(status);
                    self.push(Additive, Side::Upstream, &subject, &ur.loc, &at, text);
                }
                (None, Some(or)) => {
                    let text = format!("ours declares status {status}; upstream does not");
                    let at = u.loc.child("responses").child(status);
                    self.push(Breaking, Side::Ours, &subject, &at, &or.loc, text);
                }
                (None, None) => {}
            }
        }
        self.security(u, o);
    }

    fn parameters(&mut self, up: &Operation, our: &Operation) {
        for u in &up.parameters {
            let subject = format!("parameter `{}` ({})", u.name, u.location);
            let Some(o) = our.parameters.iter().find(|o| o.key() == u.key()) else {
                let (class, what) = match u.required {
                    true => (Breaking, "required"),
                    false => (Additive, "optional"),
                };
                let text = format!(
                    "upstream has a new {what} {} parameter `{}`",
                    u.location, u.name
                );
                let at = our.loc.child("parameters");
                self.push(class, Side::Upstream, &subject, &u.loc, &at, text);
                continue;
            };
            let when = [
                (Breaking, "upstream requires it; ours makes it optional"),
                (Additive, "upstream makes it optional; ours requires it"),
            ];
            self.required(&subject, (u.required, &u.loc), (o.required, &o.loc), when);
            let (us, os) = (u.schema.as_ref(), o.schema.as_ref());
            self.optional_schema(&subject, us, &u.loc, os, &o.loc, Direction::Request);
            self.annotations(&subject, &u.annotations, &u.loc, &o.annotations, &o.loc);
        }
        for o in &our.parameters {
            if up.parameters.iter().any(|u| u.key() == o.key()) {
                continue;
            }
            let subject = format!("parameter `{}` ({})", o.name, o.location);
            let at = up
                .loc
                .child("parameters")
                .child(parameter_token(&o.location, &o.name));
            let (location, name) = (&o.location, &o.name);
            let text =
                format!("upstream no longer has the {location} parameter `{name}` that ours sends");
            self.push(Breaking, Side::Ours, &subject, &at, &o.loc, text);
        }
    }

    fn request_body(&mut self, up: &Operation, our: &Operation) {
        let subject = "request body";
        match (&up.request_body, &our.request_body) {
            (None, None) => {}
            (Some(u), None) => {
                let class = if u.required { Breaking } else { Additive };
                let text = "upstream takes a request body; ours sends none".to_string();
                let at = our.loc.child("requestBody");
                self.push(class, Side::Upstream, subject, &u.loc, &at, text);
            }
            (None, Some(o)) => {
                let text = "upstream takes no request body; ours sends one".to_string();
                let at = up.loc.child("requestBody");
                self.push(Breaking, Side::Ours, subject, &at, &o.loc, text);
            }
            (Some(u), Some(o)) => {
                let when = [
                    (Breaking, "upstream requires a body; ours may send none"),
                    (
                        Additive,
                        "ours always sends a body; upstream marks it optional",
                    ),
                ];
                self.required(subject, (u.required, &u.loc), (o.required, &o.loc), when);
                self.annotations(subject, &u.annotations, &u.loc, &o.annotations, &o.loc);
                let (uc, oc) = (&u.content, &o.content);
                self.content(subject, uc, &u.loc, oc, &o.loc, Direction::Request);
            }
        }
    }

    fn response(&mut self, subject: &str, u: &Response, o: &Response) {
        self.annotations(subject, &u.annotations, &u.loc, &o.annotations, &o.loc);
        for (_, uh, oh) in pairs(&u.headers, &o.headers) {
            match (uh, oh) {
                (Some(uh), Some(oh)) => {
                    let subject = format!("{subject} header `{}`", uh.name);
                    let when = [
                        (
                            Additive,
                            "upstream always sends it; ours treats it as optional",
                        ),
                        (Breaking, "ours requires it; upstream may leave it out"),
                    ];
                    self.required(
                        &subject,
                        (uh.required, &uh.loc),
                        (oh.required, &oh.loc),
                        when,
                    );
                    let (ua, oa) = (&uh.annotations, &oh.annotations);
                    self.annotations(&subject, ua, &uh.loc, oa, &oh.loc);
                    let (us, os) = (uh.schema.as_ref(), oh.schema.as_ref());
                    self.optional_schema(&subject, us, &uh.loc, os, &oh.loc, Direction::Response);
                }
                (Some(uh), None) => {
                    let subject = format!("{subject} header `{}`", uh.name);
                    let text =
                        format!("upstream sends header `{}`; ours does not read it", uh.name);
                    let at = o.loc.child("headers").child(&uh.name);
                    self.push(Additive, Side::Upstream, &subject, &uh.loc, &at, text);
                }
                (None, Some(oh)) => {
                    let subject = format!("{subject} header `{}`", oh.name);
                    let (class, what) = match oh.required {
                        true => (Breaking, "requires"),
                        false => (Additive, "reads (as optional)"),
                    };
                    let text = format!(
                        "ours {what} header `{}`, which upstream does not declare",
                        oh.name
                    );
                    let at = u.loc.child("headers").child(&oh.name);
                    self.push(class, Side::Ours, &subject, &at, &oh.loc, text);
                }
                (None, None) => {}
            }
        }
        let subject = format!("{subject} body");
        self.content(
            &subject,
            &u.content,
            &u.loc,
            &o.content,
            &o.loc,
            Direction::Response,
        );
    }

    fn content(
        &mut self,
        subject: &str,
        upstream: &BTreeMap<String, MediaType>,
        up_loc: &Loc,
        ours: &BTreeMap<String, MediaType>,
        our_loc: &Loc,
        direction: Direction,
    ) {
        let several = pairs(upstream, ours).count() > 1;
        for (media_type, u, o) in pairs(upstream, ours) {
            let subject = match several {
                true => format!("{subject} ({media_type})"),
                false => subject.to_string(),
            };
            match (u, o) {
                (Some(u), Some(o)) => {
                    self.annotations(&subject, &u.annotations, &u.loc, &o.annotations, &o.loc);
                    let (us, os) = (u.schema.as_ref(), o.schema.as_ref());
                    self.optional_schema(&subject, us, &u.loc, os, &o.loc, direction);
                }
                (Some(u), None) => {
                    let text =
                        format!("upstream also uses media type `{media_type}`; ours does not");
                    let at = our_loc.child("content").child(media_type);
                    self.push(Additive, Side::Upstream, &subject, &u.loc, &at, text);
                }
                (None, Some(o)) => {
                    let text =
                        format!("ours uses media type `{media_type}`, which upstream does not");
                    let at = up_loc.child("content").child(media_type);
                    self.push(Breaking, Side::Ours, &subject, &at, &o.loc, text);
                }
                (None, None) => {}
            }
        }
    }

    fn optional_schema(
        &mut self,
        subject: &str,
        upstream: Option<&Schema>,
        up_parent: &Loc,
        ours: Option<&Schema>,
        our_parent: &Loc,
        direction: Direction,
    ) {
        match (upstream, ours) {
            (Some(u), Some(o)) => self.schema(subject, u, o, direction),
            (Some(u), None) => {
                let text = "upstream gives it a schema; ours has none".to_string();
                let at = our_parent.child("schema");
                self.push(Additive, Side::Upstream, subject, &u.loc, &at, text);
            }
            (None, Some(o)) => {
                let text = "ours gives it a schema; upstream has none".to_string();
                let class = direction.class(Relation::UpstreamWider);
                self.push(
                    class,
                    Side::Ours,
                    subject,
                    &up_parent.child("schema"),
                    &o.loc,
                    text,
                );
            }
            (None, None) => {}
        }
    }

    fn schema(&mut self, subject: &str, u: &Schema, o: &Schema, direction: Direction) {
        match (&u.recursive, &o.recursive) {
            (Some(_), Some(_)) => {}
            (None, None) if u.union().is_some() || o.union().is_some() => {
                self.union(subject, u, o, direction)
            }
            (None, None) => self.plain_schema(subject, u, o, direction),
            _ => {
                let text = "one side refers back to an enclosing schema and the other does not; \
                            compare by hand";
                self.push(
                    Breaking,
                    Side::Both,
                    subject,
                    &u.loc,
                    &o.loc,
                    text.to_string(),
                );
            }
        }
    }

    /// `oneOf`/`anyOf` on at least one side: branches are paired by title, then by
    /// likeness; a side without a union counts as a union of itself.
    fn union(&mut self, subject: &str, u: &Schema, o: &Schema, direction: Direction) {
        let (u_union, o_union) = (u.union(), o.union());
        let (u_branches, o_branches): (Vec<&Schema>, Vec<&Schema>) = (
            u_union.map_or_else(|| vec![u], |(_, b)| b.iter().collect()),
            o_union.map_or_else(|| vec![o], |(_, b)| b.iter().collect()),
        );
        if let (Some((uk, _)), Some((ok, _))) = (u_union, o_union) {
            if uk != ok {
                let text =
                    format!("upstream combines the alternatives with `{uk}`, ours with `{ok}`");
                self.push(
                    Additive,
                    Side::Both,
                    subject,
                    &u.loc.child(uk),
                    &o.loc.child(ok),
                    text,
                );
            }
            self.nullable(subject, u, o, direction);
            self.annotations(subject, &u.annotations, &u.loc, &o.annotations, &o.loc);
        }
        let pairs = pair_branches(&u_branches, &o_branches);
        let several = u_branches.len() > 1 || o_branches.len() > 1;
        let noun = direction.noun();
        for (ui, branch) in u_branches.iter().enumerate() {
            match pairs.iter().find(|(pu, _)| *pu == ui) {
                Some(&(_, oi)) => {
                    let label = (branch.title().or(o_branches[oi].title()))
                        .map_or_else(|| format!("variant {}", ui + 1), str::to_string);
                    let subject = match several {
                        true => format!("{subject} › ({label})"),
                        false => subject.to_string(),
                    };
                    self.schema(&subject, branch, o_branches[oi], direction);
                }
                None => {
                    let label = branch_label(branch, ui);
                    let at = o_union.map_or_else(|| o.loc.clone(), |(kind, _)| o.loc.child(kind));
                    let text = format!("upstream allows a {noun} shape ours does not: {label}");
                    let class = direction.class(Relation::UpstreamWider);
                    self.push(class, Side::Upstream, subject, &branch.loc, &at, text);
                }
            }
        }
        for (oi, branch) in o_branches.iter().enumerate() {
            if pairs.iter().any(|&(_, po)| po == oi) {
                continue;
            }
            let at = u
                .loc
                .child(u_union.or(o_union).map_or("oneOf", |(kind, _)| kind));
            let text = format!(
                "ours allows a {noun} shape upstream does not: {}",
                branch_label(branch, oi)
            );
            let class = direction.class(Relation::OursWider);
            self.push(class, Side::Ours, subject, &at, &branch.loc, text);
        }
    }

    fn nullable(&mut self, subject: &str, u: &Schema, o: &Schema, direction: Direction) {
        let (relation, text) = match (u.nullable, o.nullable) {
            (false, true) => (
                Relation::OursWider,
                "ours accepts `null`; upstream does not declare it nullable",
            ),
            (true, false) => (
                Relation::UpstreamWider,
                "upstream declares it nullable; ours does not accept `null`",
            ),
            _ => return,
        };
        let class = direction.class(relation);
        self.push(class, Side::Both, subject, &u.loc, &o.loc, text.to_string());
    }

    fn plain_schema(&mut self, subject: &str, u: &Schema, o: &Schema, direction: Direction) {
        let (ul, ol) = (&u.loc, &o.loc);
        if u.types != o.types {
            let relation = Relation::of(accepts_types(o, u), accepts_types(u, o));
            let text = format!(
                "type is {} upstream, {} in ours",
                types_text(u),
                types_text(o)
            );
            self.at(direction.class(relation), subject, ul, ol, "type", text);
        }
        self.nullable(subject, u, o, direction);
        if u.format != o.format {
            let typed =
                |f: &Option<String>| f.as_deref().is_some_and(|f| TYPED_FORMATS.contains(&f));
            let relation = Relation::of(!typed(&o.format), !typed(&u.format));
            let show =
                |f: &Option<String>| f.as_deref().map_or("none".into(), |f| format!("`{f}`"));
            let text = format!(
                "format is {} upstream, {} in ours",
                show(&u.format),
                show(&o.format)
            );
            self.at(direction.class(relation), subject, ul, ol, "format", text);
        }
        self.enumeration(subject, u, o, direction);
        if u.default != o.default {
            let show = |d: &Option<Value>| d.as_ref().map_or_else(|| "none".to_string(), code);
            let text = format!(
                "default is {} upstream, {} in ours",
                show(&u.default),
                show(&o.default)
            );
            // The server applies its default to an omitted input, and a generated request
            // type sends ours: both change what a request does. A response default only
            // fills in a missing field.
            let class = if direction == Direction::Request {
                Breaking
            } else {
                Cosmetic
            };
            self.at(class, subject, ul, ol, "default", text);
        }
        for (key, up, our) in pairs(&u.constraints, &o.constraints) {
            if up != our {
                let relation = match stricter(key, up, our) {
                    Some(Side::Upstream) => Relation::OursWider,
                    Some(_) => Relation::UpstreamWider,
                    None => Relation::Incomparable,
                };
                let text = format!("`{key}` is {} upstream, {} in ours", shown(up), shown(our));
                self.at(direction.class(relation), subject, ul, ol, key, text);
            }
        }
        for (flag, up, our) in [
            ("readOnly", u.read_only, o.read_only),
            ("writeOnly", u.write_only, o.write_only),
        ] {
            if up != our {
                let text = format!("`{flag}` is {up} upstream, {our} in ours");
                self.at(Cosmetic, subject, ul, ol, flag, text);
            }
        }
        self.properties(subject, u, o, direction);
        self.additional(subject, u, o, direction);
        self.items(subject, u, o, direction);
        for index in 0..u.all_of.len().max(o.all_of.len()) {
            let subject = format!("{subject} › (allOf {})", index + 1);
            match (u.all_of.get(index), o.all_of.get(index)) {
                (Some(ub), Some(ob)) => self.schema(&subject, ub, ob, direction),
                (Some(ub), None) => {
                    let text = "upstream adds a schema to `allOf`".to_string();
                    self.push(
                        Breaking,
                        Side::Upstream,
                        &subject,
                        &ub.loc,
                        &ol.child("allOf"),
                        text,
                    );
                }
                (None, Some(ob)) => {
                    let text = "ours adds a schema to `allOf`".to_string();
                    self.push(
                        Breaking,
                        Side::Ours,
                        &subject,
                        &ul.child("allOf"),
                        &ob.loc,
                        text,
                    );
                }
                (None, None) => {}
            }
        }
        for (key, up, our) in pairs(&u.other, &o.other) {
            if up != our {
                let text = format!(
                    "keyword `{key}` is {} upstream, {} in ours (not modelled by the drift check: \
                     compare by hand)",
                    shown(up),
                    shown(our)
                );
                self.at(Breaking, subject, ul, ol, key, text);
            }
        }
        self.annotations(subject, &u.annotations, ul, &o.annotations, ol);
    }

    fn enumeration(&mut self, subject: &str, u: &Schema, o: &Schema, direction: Direction) {
        let (class, text) = match (&u.enumeration, &o.enumeration) {
            (None, None) => return,
            (Some(values), None) => {
                let (n, listed) = (values.len(), list(&sorted_values(values)));
                let text =
                    format!("upstream allows only {n} values ({listed}); ours accepts any value");
                (Additive, text)
            }
            (None, Some(values)) => {
                let (n, listed) = (values.len(), list(&sorted_values(values)));
                let text =
                    format!("ours allows only {n} values ({listed}); upstream accepts any value");
                (direction.class(Relation::UpstreamWider), text)
            }
            (Some(up), Some(our)) => {
                let only = |a: &[Value], b: &[Value]| -> Vec<Value> {
                    sorted_values(a)
                        .into_iter()
                        .filter(|v| !b.contains(v))
                        .collect()
                };
                let (only_up, only_ours) = (only(up, our), only(our, up));
                if only_up.is_empty() && only_ours.is_empty() {
                    return;
                }
                let relation = Relation::of(only_up.is_empty(), only_ours.is_empty());
                let mut parts = Vec::new();
                if !only_up.is_empty() {
                    parts.push(format!("upstream adds {}", list(&only_up)));
                }
                if !only_ours.is_empty() {
                    parts.push(format!("upstream no longer has {}", list(&only_ours)));
                }
                let text = format!("enum values differ: {}", parts.join("; "));
                (direction.class(relation), text)
            }
        };
        self.at(class, subject, &u.loc, &o.loc, "enum", text);
    }

    /// Properties and `required` lists: every name either side declares under `properties`
    /// or lists under `required` (a name may be required without being declared: it then
    /// travels through `additionalProperties`).
    fn properties(&mut self, subject: &str, u: &Schema, o: &Schema, direction: Direction) {
        let names: BTreeSet<&String> = (u.properties.keys().chain(o.properties.keys()))
            .chain(u.required.iter().chain(&o.required))
            .collect();
        for name in names {
            let here = format!("{subject} › {name}");
            match (u.properties.get(name), o.properties.get(name)) {
                (Some(up), Some(our)) => {
                    self.schema(&here, up, our, direction);
                    self.requiredness(&here, name, u, o, Some(up), direction);
                }
                (Some(up), None) => {
                    let required = if u.required.contains(name) {
                        "required"
                    } else {
                        "optional"
                    };
                    let (class, text) = match direction {
                        Direction::Request if up.read_only => (
                            Cosmetic,
                            format!(
                                "upstream lists read-only property `{name}`, which a request does \
                                 not send; ours leaves it out"
                            ),
                        ),
                        Direction::Request if u.required.contains(name) => (
                            Breaking,
                            format!(
                                "upstream requires a new request property `{name}`; ours does \
                                 not send it"
                            ),
                        ),
                        Direction::Request => (
                            Additive,
                            format!("upstream accepts a new optional request property `{name}`"),
                        ),
                        Direction::Response if up.write_only => (
                            Cosmetic,
                            format!(
                                "upstream lists write-only property `{name}`, which a response \
                                 does not carry"
                            ),
                        ),
                        Direction::Response if o.additional.accepts_any() => (
                            Additive,
                            format!(
                                "upstream sends a new {required} property `{name}`; ours ignores it"
                            ),
                        ),
                        Direction::Response => (
                            Breaking,
                            format!(
                                "upstream sends a new property `{name}`, and ours rejects unknown \
                                 properties"
                            ),
                        ),
                    };
                    let at = o.loc.child("properties").child(name);
                    self.push(class, Side::Upstream, &here, &up.loc, &at, text);
                }
                (None, Some(our)) => {
                    let (class, text) = match direction {
                        Direction::Response => (
                            Breaking,
                            format!(
                                "ours expects response property `{name}`, which upstream no longer \
                                 declares"
                            ),
                        ),
                        Direction::Request if u.additional.accepts_any() => (
                            Additive,
                            format!(
                                "ours sends property `{name}`, which upstream does not declare (it \
                                 accepts other properties)"
                            ),
                        ),
                        Direction::Request => (
                            Breaking,
                            format!("ours sends property `{name}`, which upstream does not accept"),
                        ),
                    };
                    let at = u.loc.child("properties").child(name);
                    self.push(class, Side::Ours, &here, &at, &our.loc, text);
                    // Ours requiring it is covered above; upstream requiring it is news.
                    if u.required.contains(name) {
                        self.requiredness(&here, name, u, o, None, direction);
                    }
                }
                (None, None) => self.requiredness(&here, name, u, o, None, direction),
            }
        }
    }

    /// A name required on one side only. `up` is upstream's declaration of the property,
    /// `None` when upstream does not declare it under `properties`. Judged for the client:
    /// in a request, a newly required property is breaking (the client may not send it);
    /// in a response, a property ours requires and upstream does not is breaking (its
    /// absence would fail decoding), and the other way round harmless.
    fn requiredness(
        &mut self,
        subject: &str,
        name: &str,
        u: &Schema,
        o: &Schema,
        up: Option<&Schema>,
        direction: Direction,
    ) {
        let (up_required, our_required) = (u.required.contains(name), o.required.contains(name));
        if up_required == our_required {
            return;
        }
        let request = direction == Direction::Request;
        let (class, text) = if request && up.is_some_and(|up| up.read_only) {
            let text = format!(
                "`{name}` is read-only upstream, so whether it is required does not apply to a \
                 request"
            );
            (Cosmetic, text)
        } else if up_required {
            let upstream_says = match up {
                Some(_) => format!("upstream requires `{name}`"),
                None => {
                    format!("upstream requires `{name}` (without declaring it under `properties`)")
                }
            };
            if !request && !o.properties.contains_key(name) && !o.additional.accepts_any() {
                (
                    Breaking,
                    format!("{upstream_says}; ours rejects unknown properties"),
                )
            } else {
                let class = direction.class(Relation::OursWider);
                (class, format!("{upstream_says}; ours makes it optional"))
            }
        } else if up.is_some() {
            let text = format!("ours requires `{name}`; upstream makes it optional");
            (direction.class(Relation::UpstreamWider), text)
        } else {
            let relation = match request && !u.additional.accepts_any() {
                true => Relation::Incomparable,
                false => Relation::UpstreamWider,
            };
            let text =
                format!("ours requires `{name}`, which upstream neither declares nor requires");
            (direction.class(relation), text)
        };
        self.at(class, subject, &u.loc, &o.loc, "required", text);
    }

    fn additional(&mut self, subject: &str, u: &Schema, o: &Schema, direction: Direction) {
        let show = |a: &Additional| match a {
            Additional::Unspecified => "unspecified".to_string(),
            Additional::Bool(b) => format!("`{b}`"),
            Additional::Schema(s) if s.accepts_anything() => "`{}`".to_string(),
            Additional::Schema(_) => "a schema".to_string(),
        };
        let (up, our) = (&u.additional, &o.additional);
        let text = format!(
            "`additionalProperties` is {} upstream, {} in ours",
            show(up),
            show(our)
        );
        let key = "additionalProperties";
        match (up, our) {
            (Additional::Schema(up), Additional::Schema(our)) => {
                if !(up.accepts_anything() && our.accepts_anything()) {
                    self.schema(
                        &format!("{subject} › (other properties)"),
                        up,
                        our,
                        direction,
                    );
                }
            }
            (Additional::Unspecified, Additional::Unspecified) => {}
            (Additional::Bool(a), Additional::Bool(b)) if a == b => {}
            _ if up.accepts_any() && our.accepts_any() => {
                let text = format!("{text} (equivalent in JSON Schema)");
                self.at(Cosmetic, subject, &u.loc, &o.loc, key, text);
            }
            _ => {
                let relation = Relation::of(our.accepts_any(), up.accepts_any());
                self.at(
                    direction.class(relation),
                    subject,
                    &u.loc,
                    &o.loc,
                    key,
                    text,
                );
            }
        }
    }

    fn items(&mut self, subject: &str, u: &Schema, o: &Schema, direction: Direction) {
        let here = format!("{subject} › []");
        match (&u.items, &o.items) {
            (None, None) => {}
            (Some(Items::Each(up)), Some(Items::Each(our))) => {
                self.schema(&here, up, our, direction)
            }
            (Some(Items::Tuple(up)), Some(Items::Tuple(our))) if up.len() == our.len() => {
                for (index, (ub, ob)) in up.iter().zip(our).enumerate() {
                    self.schema(&format!("{subject} › [{index}]"), ub, ob, direction);
                }
            }
            (up, our) => {
                let describe = |items: &Option<Items>| match items {
                    None => "unspecified".to_string(),
                    Some(Items::Each(schema)) if schema.accepts_anything() => "any value".into(),
                    Some(Items::Each(schema)) => types_text(schema),
                    Some(Items::Tuple(schemas)) => {
                        format!("a list of {} schemas (tuple form)", schemas.len())
                    }
                };
                let accepts_any = |items: &Option<Items>| match items {
                    None => true,
                    Some(Items::Each(schema)) => schema.accepts_anything(),
                    Some(Items::Tuple(_)) => false,
                };
                let relation = Relation::of(accepts_any(our), accepts_any(up));
                let text = format!(
                    "list items are {} upstream, {} in ours",
                    describe(up),
                    describe(our)
                );
                self.at(
                    direction.class(relation),
                    &here,
                    &u.loc,
                    &o.loc,
                    "items",
                    text,
                );
            }
        }
    }

    fn security(&mut self, up_op: &Operation, our_op: &Operation) {
        let subject = "security";
        let alternatives =
            |security: &Option<Security>| security.as_ref().map(|s| s.alternatives.clone());
        let ups = alternatives(&up_op.security).unwrap_or_default();
        let ours = alternatives(&our_op.security).unwrap_or_default();
        let place = |op: &Operation| {
            op.security
                .as_ref()
                .map_or(op.loc.child("security"), |s| s.loc.clone())
        };
        let (up_loc, our_loc) = (place(up_op), place(our_op));
        let schemes =
            |a: &BTreeMap<String, BTreeSet<String>>| a.keys().cloned().collect::<Vec<_>>();
        for (ui, up) in ups.iter().enumerate() {
            let up_at = up_loc.child(ui);
            let Some((oi, our)) = ours
                .iter()
                .enumerate()
                .find(|(_, our)| schemes(our) == schemes(up))
            else {
                let by = schemes(up).join(" + ");
                let text = format!("upstream also accepts authentication by {by}");
                self.push(Additive, Side::Upstream, subject, &up_at, &our_loc, text);
                continue;
            };
            for (scheme, scopes) in up {
                let (up_at, our_at) = (up_at.child(scheme), our_loc.child(oi).child(scheme));
                let quote = |s: Vec<&String>| {
                    s.iter()
                        .map(|s| format!("`{s}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                let added = quote(scopes.difference(&our[scheme]).collect());
                let dropped = quote(our[scheme].difference(scopes).collect());
                if !added.is_empty() {
                    let text = format!(
                        "upstream now requires scope {added} for {scheme}; tokens without it will \
                         be refused"
                    );
                    self.push(Breaking, Side::Both, subject, &up_at, &our_at, text);
                }
                if !dropped.is_empty() {
                    let text = format!("upstream no longer requires scope {dropped} for {scheme}");
                    self.push(Additive, Side::Both, subject, &up_at, &our_at, text);
                }
            }
        }
        for (oi, our) in ours.iter().enumerate() {
            if !ups.iter().any(|up| schemes(up) == schemes(our)) {
                let by = schemes(our).join(" + ");
                let text = format!("upstream no longer accepts authentication by {by}");
                self.push(
                    Breaking,
                    Side::Ours,
                    subject,
                    &up_loc,
                    &our_loc.child(oi),
                    text,
                );
            }
        }
    }

    /// Descriptions, examples, titles and vendor extensions: cosmetic.
    fn annotations(&mut self, subject: &str, u: &Annotations, ul: &Loc, o: &Annotations, ol: &Loc) {
        for (key, up, our) in pairs(u, o) {
            let text = match (up, our) {
                (Some(a), Some(b)) if a == b => continue,
                (Some(_), Some(_)) => format!("`{key}` differs"),
                (Some(_), None) => format!("`{key}` only upstream"),
                (None, _) => format!("`{key}` only in ours"),
            };
            self.at(Cosmetic, subject, ul, ol, key, text);
        }
    }
}

/// Pairs union branches: equal titles first, then each remaining upstream branch with the
/// remaining branch of ours that shares the most property names (ties: the earlier one).
fn pair_branches(upstream: &[&Schema], ours: &[&Schema]) -> Vec<(usize, usize)> {
    let mut pairs: Vec<(usize, usize)> = Vec::new();
    for (ui, u) in upstream.iter().enumerate() {
        let Some(title) = u.title() else { continue };
        let same: Vec<usize> = (0..ours.len())
            .filter(|&oi| ours[oi].title() == Some(title))
            .collect();
        if let [oi] = same[..]
            && !pairs.iter().any(|&(_, taken)| taken == oi)
        {
            pairs.push((ui, oi));
        }
    }
    for (ui, u) in upstream.iter().enumerate() {
        if pairs.iter().any(|&(taken, _)| taken == ui) {
            continue;
        }
        let likeness = |o: &Schema| {
            let shared = u
                .properties
                .keys()
                .filter(|name| o.properties.contains_key(*name));
            2 * shared.count() + usize::from(u.types == o.types)
        };
        let best = (0..ours.len())
            .filter(|oi| !pairs.iter().any(|&(_, taken)| taken == *oi))
            .max_by_key(|&oi| (likeness(ours[oi]), std::cmp::Reverse(oi)));
        if let Some(oi) = best {
            pairs.push((ui, oi));
        }
    }
    pairs
}

/// Whether every value of a type `inner` allows is of a type `outer` allows.
fn accepts_types(outer: &Schema, inner: &Schema) -> bool {
    let fits =
        |t: &String| outer.types.contains(t) || (t == "integer" && outer.types.contains("number"));
    outer.types.is_empty() || (!inner.types.is_empty() && inner.types.iter().all(fits))
}

/// Which side a constraint keyword makes stricter, when one is (an absent bound is no
/// bound, `true` is stricter than `false`; `pattern` and `multipleOf` of different values
/// are incomparable).
fn stricter(key: &str, upstream: Option<&Value>, ours: Option<&Value>) -> Option<Side> {
    let (up, our) = match (upstream, ours) {
        (Some(_), None) => return Some(Side::Upstream),
        (None, Some(_)) => return Some(Side::Ours),
        (Some(up), Some(our)) => (up, our),
        (None, None) => return None,
    };
    if let Value::Bool(up) = up {
        return Some(if *up { Side::Upstream } else { Side::Ours });
    }
    if key == "pattern" || key == "multipleOf" {
        return None;
    }
    let (up, our) = (up.as_f64()?, our.as_f64()?);
    let lower_bound = key.starts_with("min");
    Some(if (up > our) == lower_bound {
        Side::Upstream
    } else {
        Side::Ours
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use openapiv3::{OpenAPI, ReferenceOr};
    use serde::Deserialize;

    use super::*;
    use crate::drift::downgrade::downgrade;
    use crate::drift::model::Reader;

    /// A schema read as the check reads a document's (after the pre-pass, with openapiv3).
    fn read(schema: Value) -> Schema {
        let mut raw = json!({"openapi": "3.1.0", "info": {"title": "t", "version": "1"},
            "paths": {}, "components": {"schemas": {"s": schema}}});
        downgrade(&mut raw);
        let api = OpenAPI::deserialize(&raw).unwrap();
        let schema =
            ReferenceOr::<openapiv3::Schema>::deserialize(&raw["components"]["schemas"]["s"]);
        let mut reader = Reader::new(&api, &raw);
        reader
            .schema(&schema.unwrap(), &Loc::document("/s"))
            .unwrap()
    }

    /// The differences between two schemas in `direction`, as `(class, description)`.
    fn differences(upstream: Value, ours: Value, direction: Direction) -> Vec<(Class, String)> {
        let (u, o) = (read(upstream), read(ours));
        let mut comparer = Comparer(Vec::new());
        comparer.schema("s", &u, &o, direction);
        comparer
            .0
            .into_iter()
            .filter(|d| d.class != Class::Cosmetic)
            .map(|d| (d.class, d.description))
            .collect()
    }

    #[test]
    fn nullable_spellings_are_equal() {
        let ours = json!({"type": "string", "nullable": true});
        for upstream in [
            json!({"type": ["string", "null"]}),
            json!({"type": "string", "nullable": true}),
            json!({"oneOf": [{"type": "string"}, {"type": "null"}]}),
        ] {
            assert_eq!(differences(upstream, ours.clone(), Direction::Response), []);
        }
    }

    #[test]
    fn a_new_value_of_a_closed_response_enum_breaks_decoding() {
        let found = differences(
            json!({"enum": ["a", "b", "c"]}),
            json!({"enum": ["a", "b"]}),
            Direction::Response,
        );
        assert_eq!(
            found,
            [(
                Class::Breaking,
                "enum values differ: upstream adds `c`".to_string()
            )]
        );
    }

    #[test]
    fn a_new_value_of_a_request_enum_is_additive() {
        let found = differences(
            json!({"enum": ["a", "b", "c"]}),
            json!({"enum": ["a", "b"]}),
            Direction::Request,
        );
        assert_eq!(
            found,
            [(
                Class::Additive,
                "enum values differ: upstream adds `c`".to_string()
            )]
        );
    }

    #[test]
    fn a_response_property_that_became_required_in_ours_only_breaks() {
        let upstream = json!({"type": "object", "properties": {"a": {"type": "string"}}});
        let ours =
            json!({"type": "object", "required": ["a"], "properties": {"a": {"type": "string"}}});
        let found = differences(upstream, ours, Direction::Response);
        assert_eq!(
            found,
            [(
                Class::Breaking,
                "ours requires `a`; upstream makes it optional".to_string()
            )]
        );
    }

    #[test]
    fn a_request_name_required_upstream_without_a_declaration_breaks() {
        let upstream = json!({"type": "object", "required": ["name", "category"],
            "properties": {"name": {"type": "string"}}, "additionalProperties": true});
        let ours = json!({"type": "object", "required": ["name"],
            "properties": {"name": {"type": "string"}}, "additionalProperties": {}});
        let found = differences(upstream, ours, Direction::Request);
        assert_eq!(
            found,
            [(
                Class::Breaking,
                "upstream requires `category` (without declaring it under `properties`); ours makes it optional"
                    .to_string()
            )]
        );
    }

    #[test]
    fn a_request_property_no_longer_required_upstream_is_additive() {
        let upstream = json!({"type": "object", "properties": {"a": {"type": "string"}}});
        let ours =
            json!({"type": "object", "required": ["a"], "properties": {"a": {"type": "string"}}});
        let found = differences(upstream, ours, Direction::Request);
        assert_eq!(
            found,
            [(
                Class::Additive,
                "ours requires `a`; upstream makes it optional".to_string()
            )]
        );
    }

    #[test]
    fn a_response_name_required_upstream_only_is_additive_unless_ours_rejects_it() {
        let upstream = json!({"type": "object", "required": ["a"]});
        let found = differences(
            upstream.clone(),
            json!({"type": "object"}),
            Direction::Response,
        );
        assert_eq!(
            found,
            [(
                Class::Additive,
                "upstream requires `a` (without declaring it under `properties`); ours makes it optional"
                    .to_string()
            )]
        );
        let closed = json!({"type": "object", "additionalProperties": false});
        let found: Vec<Class> = differences(upstream, closed, Direction::Response)
            .into_iter()
            .map(|(class, _)| class)
            .collect();
        assert_eq!(found, [Class::Breaking, Class::Breaking]);
    }

    #[test]
    fn a_response_name_only_ours_requires_breaks() {
        let found = differences(
            json!({"type": "object"}),
            json!({"type": "object", "required": ["a"]}),
            Direction::Response,
        );
        assert_eq!(
            found,
            [(
                Class::Breaking,
                "ours requires `a`, which upstream neither declares nor requires".to_string()
            )]
        );
    }

    #[test]
    fn a_new_property_is_breaking_when_ours_rejects_unknown_properties() {
        let upstream = json!({"type": "object", "properties": {"a": {"type": "string"}}});
        let ours = json!({"type": "object", "additionalProperties": false});
        let found = differences(upstream, ours, Direction::Response);
        assert_eq!(
            found,
            [
                (
                    Class::Breaking,
                    "upstream sends a new property `a`, and ours rejects unknown properties"
                        .to_string()
                ),
                (
                    Class::Breaking,
                    "`additionalProperties` is unspecified upstream, `false` in ours".to_string()
                ),
            ]
        );
    }

    #[test]
    fn integers_fit_in_numbers_but_not_the_other_way_round() {
        let number = json!({"type": "number"});
        let integer = json!({"type": "integer"});
        let widened = differences(integer.clone(), number.clone(), Direction::Response);
        assert_eq!(
            widened,
            [(
                Class::Additive,
                "type is `integer` upstream, `number` in ours".to_string()
            )]
        );
        let narrowed = differences(number, integer, Direction::Response);
        assert_eq!(
            narrowed,
            [(
                Class::Breaking,
                "type is `number` upstream, `integer` in ours".to_string()
            )]
        );
    }

    #[test]
    fn a_tighter_upstream_bound_on_a_request_breaks() {
        let found = differences(
            json!({"type": "array", "maxItems": 50}),
            json!({"type": "array", "maxItems": 100}),
            Direction::Request,
        );
        assert_eq!(
            found,
            [(
                Class::Breaking,
                "`maxItems` is `50` upstream, `100` in ours".to_string()
            )]
        );
    }
}
