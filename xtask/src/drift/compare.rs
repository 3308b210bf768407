//! Comparing upstream's operation with ours: every difference, with where it is on both
//! sides and what it means for the client generated from our fragment.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::Value;

use super::model::{
    Additional, Annotations, Header, Items, MediaType, Operation, Parameter, RequestBody, Response,
    Schema, Security, Union, sorted_values,
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

impl Direction {
    fn class(self, relation: Relation) -> Class {
        match (self, relation) {
            (Direction::Response, Relation::OursWider)
            | (Direction::Request, Relation::UpstreamWider) => Class::Additive,
            _ => Class::Breaking,
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Direction::Request => "request",
            Direction::Response => "response",
        }
    }
}

/// Formats that progenitor decodes into a type of their own (anything else is a string).
const TYPED_FORMATS: [&str; 16] = [
    "date-time",
    "date",
    "uuid",
    "ip",
    "ipv4",
    "ipv6",
    "int8",
    "int16",
    "int32",
    "int64",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "float",
    "double",
];

const ADD: &str = "Add it to spec/webflow-cms-items.yaml if the client should use it, run `cargo xtask codegen`, \
                   or record a deviation";
const REMOVE: &str = "Remove it from spec/webflow-cms-items.yaml and run `cargo xtask codegen`, or record a \
                      deviation saying why ours keeps it";
const CHANGE: &str = "Change spec/webflow-cms-items.yaml to match upstream and run `cargo xtask codegen`, or \
                      record a deviation saying why ours differs";
const COSMETIC: &str = "Nothing required; copy upstream's wording if you like";

/// The action for a difference whose only remedy is following upstream.
fn change_or_nothing(class: Class) -> &'static str {
    if class == Class::Cosmetic {
        COSMETIC
    } else {
        CHANGE
    }
}

/// Compares the two operations; the differences come in document order, each tagged with
/// `operation_id`.
pub fn compare(operation_id: &str, upstream: &Operation, ours: &Operation) -> Vec<Difference> {
    let mut comparer = Comparer { out: Vec::new() };
    comparer.operation(upstream, ours);
    for difference in &mut comparer.out {
        difference.operation = Some(operation_id.to_string());
    }
    comparer.out
}

struct Comparer {
    out: Vec<Difference>,
}

fn code(value: &Value) -> String {
    format!("`{}`", value)
}

/// Up to this many values are listed in a description; longer lists are cut with "…".
const LISTED_VALUES: usize = 6;

fn list(values: &[Value]) -> String {
    let shown = values.iter().take(LISTED_VALUES).map(|v| {
        format!(
            "`{}`",
            v.as_str().map_or_else(|| v.to_string(), str::to_string)
        )
    });
    let mut text = shown.collect::<Vec<_>>().join(", ");
    if values.len() > LISTED_VALUES {
        text.push_str(&format!(", … ({} more)", values.len() - LISTED_VALUES));
    }
    text
}

fn types_text(schema: &Schema) -> String {
    if schema.types.is_empty() {
        "any type".into()
    } else {
        schema
            .types
            .iter()
            .map(|t| format!("`{t}`"))
            .collect::<Vec<_>>()
            .join(" or ")
    }
}

impl Comparer {
    fn push(
        &mut self,
        class: Class,
        subject: &str,
        upstream: &Loc,
        ours: &Loc,
        description: String,
        action: &str,
    ) {
        self.out.push(Difference {
            operation: None,
            class,
            subject: subject.to_string(),
            description,
            action: action.to_string(),
            upstream: upstream.clone(),
            ours: ours.pointer.clone(),
            explained_by: None,
            under_stale: None,
        });
    }

    fn operation(&mut self, upstream: &Operation, ours: &Operation) {
        let subject = "operation";
        if upstream.method != ours.method || upstream.path != ours.path {
            let description = format!(
                "upstream serves it as {} {}, ours as {} {}",
                upstream.method.to_uppercase(),
                upstream.path,
                ours.method.to_uppercase(),
                ours.path
            );
            self.push(
                Class::Breaking,
                subject,
                &upstream.loc,
                &ours.loc,
                description,
                CHANGE,
            );
        }
        self.annotations(
            subject,
            &upstream.annotations,
            &upstream.loc,
            &ours.annotations,
            &ours.loc,
        );
        self.parameters(&upstream.parameters, &ours.parameters, upstream, ours);
        self.request_body(
            upstream.request_body.as_ref(),
            ours.request_body.as_ref(),
            upstream,
            ours,
        );
        self.responses(upstream, ours);
        self.security(
            upstream.security.as_ref(),
            ours.security.as_ref(),
            upstream,
            ours,
        );
    }

    fn parameters(
        &mut self,
        upstream: &[Parameter],
        ours: &[Parameter],
        up_op: &Operation,
        our_op: &Operation,
    ) {
        for u in upstream {
            let subject = format!("parameter `{}` ({})", u.name, u.location);
            match ours.iter().find(|o| o.key() == u.key()) {
                None => {
                    let (class, what) = if u.required {
                        (Class::Breaking, "required")
                    } else {
                        (Class::Additive, "optional")
                    };
                    let at = our_op.loc.child("parameters");
                    let description = format!(
                        "upstream has a new {what} {} parameter `{}`",
                        u.location, u.name
                    );
                    self.push(class, &subject, &u.loc, &at, description, ADD);
                }
                Some(o) => {
                    if u.required && !o.required {
                        let description =
                            "upstream requires it; ours makes it optional".to_string();
                        self.push(
                            Class::Breaking,
                            &subject,
                            &u.loc.child("required"),
                            &o.loc.child("required"),
                            description,
                            CHANGE,
                        );
                    } else if !u.required && o.required {
                        let description =
                            "upstream makes it optional; ours requires it".to_string();
                        self.push(
                            Class::Additive,
                            &subject,
                            &u.loc.child("required"),
                            &o.loc.child("required"),
                            description,
                            CHANGE,
                        );
                    }
                    self.optional_schema(
                        &subject,
                        u.schema.as_ref(),
                        &u.loc,
                        o.schema.as_ref(),
                        &o.loc,
                        Direction::Request,
                    );
                    self.annotations(&subject, &u.annotations, &u.loc, &o.annotations, &o.loc);
                }
            }
        }
        for o in ours
            .iter()
            .filter(|o| !upstream.iter().any(|u| u.key() == o.key()))
        {
            let subject = format!("parameter `{}` ({})", o.name, o.location);
            let at = up_op
                .loc
                .child("parameters")
                .child(parameter_token(&o.location, &o.name));
            let description = format!(
                "upstream no longer has the {} parameter `{}` that ours sends",
                o.location, o.name
            );
            self.push(Class::Breaking, &subject, &at, &o.loc, description, REMOVE);
        }
    }

    fn request_body(
        &mut self,
        upstream: Option<&RequestBody>,
        ours: Option<&RequestBody>,
        up_op: &Operation,
        our_op: &Operation,
    ) {
        let subject = "request body";
        match (upstream, ours) {
            (None, None) => {}
            (Some(u), None) => {
                let class = if u.required {
                    Class::Breaking
                } else {
                    Class::Additive
                };
                let description = "upstream takes a request body; ours sends none".to_string();
                self.push(
                    class,
                    subject,
                    &u.loc,
                    &our_op.loc.child("requestBody"),
                    description,
                    ADD,
                );
            }
            (None, Some(o)) => {
                let description = "upstream takes no request body; ours sends one".to_string();
                self.push(
                    Class::Breaking,
                    subject,
                    &up_op.loc.child("requestBody"),
                    &o.loc,
                    description,
                    REMOVE,
                );
            }
            (Some(u), Some(o)) => {
                if u.required && !o.required {
                    let description = "upstream requires a body; ours may send none".to_string();
                    self.push(
                        Class::Breaking,
                        subject,
                        &u.loc.child("required"),
                        &o.loc.child("required"),
                        description,
                        CHANGE,
                    );
                } else if !u.required && o.required {
                    let description =
                        "ours always sends a body; upstream marks it optional".to_string();
                    self.push(
                        Class::Additive,
                        subject,
                        &u.loc.child("required"),
                        &o.loc.child("required"),
                        description,
                        CHANGE,
                    );
                }
                self.annotations(subject, &u.annotations, &u.loc, &o.annotations, &o.loc);
                self.content(
                    subject,
                    &u.content,
                    &u.loc,
                    &o.content,
                    &o.loc,
                    Direction::Request,
                );
            }
        }
    }

    fn responses(&mut self, upstream: &Operation, ours: &Operation) {
        let statuses: BTreeSet<&String> = upstream
            .responses
            .keys()
            .chain(ours.responses.keys())
            .collect();
        for status in statuses {
            let subject = format!("response {status}");
            match (upstream.responses.get(status), ours.responses.get(status)) {
                (Some(u), Some(o)) => self.response(&subject, u, o),
                (Some(u), None) => {
                    let at = ours.loc.child("responses").child(status);
                    let description = format!("upstream declares status {status}; ours does not");
                    self.push(Class::Additive, &subject, &u.loc, &at, description, ADD);
                }
                (None, Some(o)) => {
                    let at = upstream.loc.child("responses").child(status);
                    let description = format!("ours declares status {status}; upstream does not");
                    self.push(Class::Breaking, &subject, &at, &o.loc, description, REMOVE);
                }
                (None, None) => {}
            }
        }
    }

    fn response(&mut self, subject: &str, u: &Response, o: &Response) {
        self.annotations(subject, &u.annotations, &u.loc, &o.annotations, &o.loc);
        let names: BTreeSet<&String> = u.headers.keys().chain(o.headers.keys()).collect();
        for name in names {
            match (u.headers.get(name), o.headers.get(name)) {
                (Some(uh), Some(oh)) => self.header(subject, uh, oh),
                (Some(uh), None) => {
                    let subject = format!("{subject} header `{}`", uh.name);
                    let at = o.loc.child("headers").child(&uh.name);
                    let description =
                        format!("upstream sends header `{}`; ours does not read it", uh.name);
                    self.push(Class::Additive, &subject, &uh.loc, &at, description, ADD);
                }
                (None, Some(oh)) => {
                    let subject = format!("{subject} header `{}`", oh.name);
                    let at = u.loc.child("headers").child(&oh.name);
                    let (class, what) = if oh.required {
                        (Class::Breaking, "requires")
                    } else {
                        (Class::Additive, "reads (as optional)")
                    };
                    let description = format!(
                        "ours {what} header `{}`, which upstream does not declare",
                        oh.name
                    );
                    self.push(class, &subject, &at, &oh.loc, description, REMOVE);
                }
                (None, None) => {}
            }
        }
        self.content(
            &format!("{subject} body"),
            &u.content,
            &u.loc,
            &o.content,
            &o.loc,
            Direction::Response,
        );
    }

    fn header(&mut self, subject: &str, u: &Header, o: &Header) {
        let subject = format!("{subject} header `{}`", u.name);
        if u.required != o.required {
            let (class, description) = if o.required {
                (
                    Class::Breaking,
                    "ours requires it; upstream may leave it out",
                )
            } else {
                (
                    Class::Additive,
                    "upstream always sends it; ours treats it as optional",
                )
            };
            self.push(
                class,
                &subject,
                &u.loc.child("required"),
                &o.loc.child("required"),
                description.into(),
                CHANGE,
            );
        }
        self.annotations(&subject, &u.annotations, &u.loc, &o.annotations, &o.loc);
        self.optional_schema(
            &subject,
            u.schema.as_ref(),
            &u.loc,
            o.schema.as_ref(),
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
        let media_types: BTreeSet<&String> = upstream.keys().chain(ours.keys()).collect();
        for media_type in media_types {
            let subject_here = if media_types_count(upstream, ours) > 1 {
                format!("{subject} ({media_type})")
            } else {
                subject.to_string()
            };
            match (upstream.get(media_type), ours.get(media_type)) {
                (Some(u), Some(o)) => {
                    self.annotations(
                        &subject_here,
                        &u.annotations,
                        &u.loc,
                        &o.annotations,
                        &o.loc,
                    );
                    self.optional_schema(
                        &subject_here,
                        u.schema.as_ref(),
                        &u.loc,
                        o.schema.as_ref(),
                        &o.loc,
                        direction,
                    );
                }
                (Some(u), None) => {
                    let at = our_loc.child("content").child(media_type);
                    let description =
                        format!("upstream also uses media type `{media_type}`; ours does not");
                    self.push(
                        Class::Additive,
                        &subject_here,
                        &u.loc,
                        &at,
                        description,
                        ADD,
                    );
                }
                (None, Some(o)) => {
                    let at = up_loc.child("content").child(media_type);
                    let description =
                        format!("ours uses media type `{media_type}`, which upstream does not");
                    self.push(
                        Class::Breaking,
                        &subject_here,
                        &at,
                        &o.loc,
                        description,
                        REMOVE,
                    );
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
                let description = "upstream gives it a schema; ours has none".to_string();
                self.push(
                    Class::Additive,
                    subject,
                    &u.loc,
                    &our_parent.child("schema"),
                    description,
                    ADD,
                );
            }
            (None, Some(o)) => {
                let description = "ours gives it a schema; upstream has none".to_string();
                let class = direction.class(Relation::UpstreamWider);
                self.push(
                    class,
                    subject,
                    &up_parent.child("schema"),
                    &o.loc,
                    description,
                    REMOVE,
                );
            }
            (None, None) => {}
        }
    }

    fn schema(&mut self, subject: &str, u: &Schema, o: &Schema, direction: Direction) {
        match (&u.recursive, &o.recursive) {
            (Some(_), Some(_)) => return,
            (Some(_), None) | (None, Some(_)) => {
                let description = "one side refers back to an enclosing schema and the other does not; compare by hand".into();
                self.push(
                    Class::Breaking,
                    subject,
                    &u.loc,
                    &o.loc,
                    description,
                    CHANGE,
                );
                return;
            }
            (None, None) => {}
        }
        if u.union.is_some() || o.union.is_some() {
            self.union(subject, u, o, direction);
        } else {
            self.plain_schema(subject, u, o, direction);
        }
    }

    /// `oneOf`/`anyOf` on at least one side: branches are paired by title, then by
    /// likeness; a side without a union counts as a union of itself.
    fn union(&mut self, subject: &str, u: &Schema, o: &Schema, direction: Direction) {
        let single_u = [u];
        let single_o = [o];
        let u_branches: Vec<&Schema> = match &u.union {
            Some(union) => union.branches().iter().collect(),
            None => single_u.to_vec(),
        };
        let o_branches: Vec<&Schema> = match &o.union {
            Some(union) => union.branches().iter().collect(),
            None => single_o.to_vec(),
        };
        if let (Some(uk), Some(ok)) = (&u.union, &o.union) {
            if uk.keyword() != ok.keyword() {
                let description = format!(
                    "upstream combines the alternatives with `{}`, ours with `{}`",
                    uk.keyword(),
                    ok.keyword()
                );
                self.push(
                    Class::Additive,
                    subject,
                    &u.loc.child(uk.keyword()),
                    &o.loc.child(ok.keyword()),
                    description,
                    CHANGE,
                );
            }
            self.nullable(subject, u, o, direction);
            self.annotations(subject, &u.annotations, &u.loc, &o.annotations, &o.loc);
        }
        let pairs = pair_branches(&u_branches, &o_branches);
        let mut matched_o = BTreeSet::new();
        for (ui, branch) in u_branches.iter().enumerate() {
            match pairs.iter().find(|(pu, _)| *pu == ui) {
                Some((_, oi)) => {
                    matched_o.insert(*oi);
                    let label = branch
                        .title()
                        .or(o_branches[*oi].title())
                        .map(str::to_string)
                        .unwrap_or_else(|| format!("variant {}", ui + 1));
                    let subject = if u_branches.len() > 1 || o_branches.len() > 1 {
                        format!("{subject} › ({label})")
                    } else {
                        subject.to_string()
                    };
                    self.schema(&subject, branch, o_branches[*oi], direction);
                }
                None => {
                    let label = branch
                        .title()
                        .map_or_else(|| format!("variant {}", ui + 1), |t| format!("`{t}`"));
                    let at = match &o.union {
                        Some(union) => o.loc.child(union.keyword()),
                        None => o.loc.clone(),
                    };
                    let description = format!(
                        "upstream allows a {} shape ours does not: {label}",
                        direction.noun()
                    );
                    let class = direction.class(Relation::UpstreamWider);
                    self.push(class, subject, &branch.loc, &at, description, ADD);
                }
            }
        }
        for (oi, branch) in o_branches
            .iter()
            .enumerate()
            .filter(|(oi, _)| !matched_o.contains(oi))
        {
            let label = branch
                .title()
                .map_or_else(|| format!("variant {}", oi + 1), |t| format!("`{t}`"));
            let at = match &u.union {
                Some(union) => u.loc.child(union.keyword()),
                None => u
                    .loc
                    .child(o.union.as_ref().map_or("oneOf", Union::keyword)),
            };
            let description = format!(
                "ours allows a {} shape upstream does not: {label}",
                direction.noun()
            );
            let class = direction.class(Relation::OursWider);
            self.push(class, subject, &at, &branch.loc, description, REMOVE);
        }
    }

    fn nullable(&mut self, subject: &str, u: &Schema, o: &Schema, direction: Direction) {
        if u.nullable == o.nullable {
            return;
        }
        let (relation, description) = if o.nullable {
            (
                Relation::OursWider,
                "ours accepts `null`; upstream does not declare it nullable",
            )
        } else {
            (
                Relation::UpstreamWider,
                "upstream declares it nullable; ours does not accept `null`",
            )
        };
        self.push(
            direction.class(relation),
            subject,
            &u.loc,
            &o.loc,
            description.into(),
            CHANGE,
        );
    }

    fn plain_schema(&mut self, subject: &str, u: &Schema, o: &Schema, direction: Direction) {
        if u.types != o.types {
            let relation = match (accepts_types(o, u), accepts_types(u, o)) {
                (true, _) => Relation::OursWider,
                (false, true) => Relation::UpstreamWider,
                (false, false) => Relation::Incomparable,
            };
            let description = format!(
                "type is {} upstream, {} in ours",
                types_text(u),
                types_text(o)
            );
            self.push(
                direction.class(relation),
                subject,
                &u.loc.child("type"),
                &o.loc.child("type"),
                description,
                CHANGE,
            );
        }
        self.nullable(subject, u, o, direction);
        if u.format != o.format {
            let typed =
                |f: &Option<String>| f.as_deref().is_some_and(|f| TYPED_FORMATS.contains(&f));
            let relation = match (typed(&u.format), typed(&o.format)) {
                (_, false) => Relation::OursWider,
                (false, true) => Relation::UpstreamWider,
                (true, true) => Relation::Incomparable,
            };
            let show = |f: &Option<String>| {
                f.as_deref()
                    .map_or_else(|| "none".to_string(), |f| format!("`{f}`"))
            };
            let description = format!(
                "format is {} upstream, {} in ours",
                show(&u.format),
                show(&o.format)
            );
            let class = direction.class(relation);
            self.push(
                class,
                subject,
                &u.loc.child("format"),
                &o.loc.child("format"),
                description,
                CHANGE,
            );
        }
        self.enumeration(subject, u, o, direction);
        if u.default != o.default {
            let show = |d: &Option<Value>| d.as_ref().map_or_else(|| "none".to_string(), code);
            let description = format!(
                "default is {} upstream, {} in ours",
                show(&u.default),
                show(&o.default)
            );
            // The server applies its default to an omitted input, and a generated request
            // type sends ours: both change what a request does. A response default only
            // fills in a missing field.
            let class = if direction == Direction::Request {
                Class::Breaking
            } else {
                Class::Cosmetic
            };
            let action = change_or_nothing(class);
            self.push(
                class,
                subject,
                &u.loc.child("default"),
                &o.loc.child("default"),
                description,
                action,
            );
        }
        self.constraints(subject, u, o, direction);
        for (flag, up, our) in [
            ("readOnly", u.read_only, o.read_only),
            ("writeOnly", u.write_only, o.write_only),
        ] {
            if up != our {
                let description = format!("`{flag}` is {up} upstream, {our} in ours");
                self.push(
                    Class::Cosmetic,
                    subject,
                    &u.loc.child(flag),
                    &o.loc.child(flag),
                    description,
                    COSMETIC,
                );
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
                    let description = "upstream adds a schema to `allOf`".to_string();
                    self.push(
                        Class::Breaking,
                        &subject,
                        &ub.loc,
                        &o.loc.child("allOf"),
                        description,
                        ADD,
                    );
                }
                (None, Some(ob)) => {
                    let description = "ours adds a schema to `allOf`".to_string();
                    self.push(
                        Class::Breaking,
                        &subject,
                        &u.loc.child("allOf"),
                        &ob.loc,
                        description,
                        REMOVE,
                    );
                }
                (None, None) => {}
            }
        }
        let other_keys: BTreeSet<&String> = u.other.keys().chain(o.other.keys()).collect();
        for key in other_keys {
            if u.other.get(key) != o.other.get(key) {
                let show = |v: Option<&Value>| v.map_or_else(|| "absent".to_string(), code);
                let description = format!(
                    "keyword `{key}` is {} upstream, {} in ours (not modelled by the drift check: compare by hand)",
                    show(u.other.get(key)),
                    show(o.other.get(key))
                );
                self.push(
                    Class::Breaking,
                    subject,
                    &u.loc.child(key),
                    &o.loc.child(key),
                    description,
                    CHANGE,
                );
            }
        }
        self.annotations(subject, &u.annotations, &u.loc, &o.annotations, &o.loc);
    }

    fn enumeration(&mut self, subject: &str, u: &Schema, o: &Schema, direction: Direction) {
        let (up_at, our_at) = (u.loc.child("enum"), o.loc.child("enum"));
        match (&u.enumeration, &o.enumeration) {
            (None, None) => {}
            (Some(values), None) => {
                let description = format!(
                    "upstream allows only {} values ({}); ours accepts any value",
                    values.len(),
                    list(&sorted_values(values))
                );
                self.push(
                    Class::Additive,
                    subject,
                    &up_at,
                    &our_at,
                    description,
                    CHANGE,
                );
            }
            (None, Some(values)) => {
                let description = format!(
                    "ours allows only {} values ({}); upstream accepts any value",
                    values.len(),
                    list(&sorted_values(values))
                );
                self.push(
                    direction.class(Relation::UpstreamWider),
                    subject,
                    &up_at,
                    &our_at,
                    description,
                    CHANGE,
                );
            }
            (Some(up), Some(our)) => {
                let only_up: Vec<Value> = sorted_values(up)
                    .into_iter()
                    .filter(|v| !our.contains(v))
                    .collect();
                let only_ours: Vec<Value> = sorted_values(our)
                    .into_iter()
                    .filter(|v| !up.contains(v))
                    .collect();
                let relation = match (only_up.is_empty(), only_ours.is_empty()) {
                    (true, true) => return,
                    (true, false) => Relation::OursWider,
                    (false, true) => Relation::UpstreamWider,
                    (false, false) => Relation::Incomparable,
                };
                let mut parts = Vec::new();
                if !only_up.is_empty() {
                    parts.push(format!("upstream adds {}", list(&only_up)));
                }
                if !only_ours.is_empty() {
                    parts.push(format!("upstream no longer has {}", list(&only_ours)));
                }
                let description = format!("enum values differ: {}", parts.join("; "));
                self.push(
                    direction.class(relation),
                    subject,
                    &up_at,
                    &our_at,
                    description,
                    CHANGE,
                );
            }
        }
    }

    fn constraints(&mut self, subject: &str, u: &Schema, o: &Schema, direction: Direction) {
        let keys: BTreeSet<&String> = u.constraints.keys().chain(o.constraints.keys()).collect();
        for key in keys {
            let (up, our) = (u.constraints.get(key), o.constraints.get(key));
            if up == our {
                continue;
            }
            let relation = match stricter(key, up, our) {
                Some(Side::Upstream) => Relation::OursWider,
                Some(Side::Ours) => Relation::UpstreamWider,
                None => Relation::Incomparable,
            };
            let show = |v: Option<&Value>| v.map_or_else(|| "absent".to_string(), code);
            let description = format!("`{key}` is {} upstream, {} in ours", show(up), show(our));
            self.push(
                direction.class(relation),
                subject,
                &u.loc.child(key),
                &o.loc.child(key),
                description,
                CHANGE,
            );
        }
    }

    /// Properties and `required` lists: every name either side declares under `properties`
    /// or lists under `required` (a name may be required without being declared: it then
    /// travels through `additionalProperties`).
    fn properties(&mut self, subject: &str, u: &Schema, o: &Schema, direction: Direction) {
        let names: BTreeSet<&String> = u
            .properties
            .keys()
            .chain(o.properties.keys())
            .chain(&u.required)
            .chain(&o.required)
            .collect();
        for name in names {
            let here = format!("{subject} › {name}");
            match (u.properties.get(name), o.properties.get(name)) {
                (Some(up), Some(our)) => {
                    self.schema(&here, up, our, direction);
                    self.requiredness(&here, name, u, o, Some(up), direction);
                }
                (Some(up), None) => {
                    let at = o.loc.child("properties").child(name);
                    let required = u.required.contains(name);
                    let (class, description) = match direction {
                        Direction::Request if up.read_only => (
                            Class::Cosmetic,
                            format!(
                                "upstream lists read-only property `{name}`, which a request does not send; ours leaves it out"
                            ),
                        ),
                        Direction::Request if required => (
                            Class::Breaking,
                            format!(
                                "upstream requires a new request property `{name}`; ours does not send it"
                            ),
                        ),
                        Direction::Request => (
                            Class::Additive,
                            format!("upstream accepts a new optional request property `{name}`"),
                        ),
                        Direction::Response if up.write_only => (
                            Class::Cosmetic,
                            format!(
                                "upstream lists write-only property `{name}`, which a response does not carry"
                            ),
                        ),
                        Direction::Response if o.additional.accepts_any() => (
                            Class::Additive,
                            format!(
                                "upstream sends a new {} property `{name}`; ours ignores it",
                                if required { "required" } else { "optional" }
                            ),
                        ),
                        Direction::Response => (
                            Class::Breaking,
                            format!(
                                "upstream sends a new property `{name}`, and ours rejects unknown properties"
                            ),
                        ),
                    };
                    let action = if class == Class::Cosmetic {
                        COSMETIC
                    } else {
                        ADD
                    };
                    self.push(class, &here, &up.loc, &at, description, action);
                }
                (None, Some(our)) => {
                    let at = u.loc.child("properties").child(name);
                    let (class, description) = match direction {
                        Direction::Response => (
                            Class::Breaking,
                            format!(
                                "ours expects response property `{name}`, which upstream no longer declares"
                            ),
                        ),
                        Direction::Request if u.additional.accepts_any() => (
                            Class::Additive,
                            format!(
                                "ours sends property `{name}`, which upstream does not declare (it accepts other properties)"
                            ),
                        ),
                        Direction::Request => (
                            Class::Breaking,
                            format!("ours sends property `{name}`, which upstream does not accept"),
                        ),
                    };
                    self.push(class, &here, &at, &our.loc, description, REMOVE);
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
        let read_only_in_request =
            direction == Direction::Request && up.is_some_and(|up| up.read_only);
        let (class, description) = if read_only_in_request {
            (
                Class::Cosmetic,
                format!(
                    "`{name}` is read-only upstream, so whether it is required does not apply to a request"
                ),
            )
        } else if up_required {
            let upstream_says = match up {
                Some(_) => format!("upstream requires `{name}`"),
                None => {
                    format!("upstream requires `{name}` (without declaring it under `properties`)")
                }
            };
            if direction == Direction::Response
                && !o.properties.contains_key(name)
                && !o.additional.accepts_any()
            {
                (
                    Class::Breaking,
                    format!("{upstream_says}; ours rejects unknown properties"),
                )
            } else {
                (
                    direction.class(Relation::OursWider),
                    format!("{upstream_says}; ours makes it optional"),
                )
            }
        } else {
            match up {
                Some(_) => (
                    direction.class(Relation::UpstreamWider),
                    format!("ours requires `{name}`; upstream makes it optional"),
                ),
                None => {
                    let relation = if direction == Direction::Request && !u.additional.accepts_any()
                    {
                        Relation::Incomparable
                    } else {
                        Relation::UpstreamWider
                    };
                    (
                        direction.class(relation),
                        format!(
                            "ours requires `{name}`, which upstream neither declares nor requires"
                        ),
                    )
                }
            }
        };
        let action = change_or_nothing(class);
        self.push(
            class,
            subject,
            &u.loc.child("required"),
            &o.loc.child("required"),
            description,
            action,
        );
    }

    fn additional(&mut self, subject: &str, u: &Schema, o: &Schema, direction: Direction) {
        let (up_at, our_at) = (
            u.loc.child("additionalProperties"),
            o.loc.child("additionalProperties"),
        );
        let show = |a: &Additional| match a {
            Additional::Unspecified => "unspecified".to_string(),
            Additional::Bool(b) => format!("`{b}`"),
            Additional::Schema(s) if s.accepts_anything() => "`{}`".to_string(),
            Additional::Schema(_) => "a schema".to_string(),
        };
        let description = format!(
            "`additionalProperties` is {} upstream, {} in ours",
            show(&u.additional),
            show(&o.additional)
        );
        match (&u.additional, &o.additional) {
            (Additional::Schema(up), Additional::Schema(our))
                if !(up.accepts_anything() && our.accepts_anything()) =>
            {
                self.schema(
                    &format!("{subject} › (other properties)"),
                    up,
                    our,
                    direction,
                );
            }
            (Additional::Unspecified, Additional::Unspecified)
            | (Additional::Bool(true), Additional::Bool(true))
            | (Additional::Bool(false), Additional::Bool(false)) => {}
            (Additional::Schema(_), Additional::Schema(_)) => {}
            (up, our) => {
                let relation = match (up.accepts_any(), our.accepts_any()) {
                    (true, true) => {
                        let description = format!("{description} (equivalent in JSON Schema)");
                        self.push(
                            Class::Cosmetic,
                            subject,
                            &up_at,
                            &our_at,
                            description,
                            COSMETIC,
                        );
                        return;
                    }
                    (false, true) => Relation::OursWider,
                    (true, false) => Relation::UpstreamWider,
                    (false, false) => Relation::Incomparable,
                };
                self.push(
                    direction.class(relation),
                    subject,
                    &up_at,
                    &our_at,
                    description,
                    CHANGE,
                );
            }
        }
    }

    fn items(&mut self, subject: &str, u: &Schema, o: &Schema, direction: Direction) {
        let here = format!("{subject} › []");
        let (up_at, our_at) = (u.loc.child("items"), o.loc.child("items"));
        let accepts_any = |items: &Option<Items>| match items {
            None => true,
            Some(Items::Each(schema)) => schema.accepts_anything(),
            Some(Items::Tuple(_)) => false,
        };
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
                    Some(Items::Each(schema)) if schema.accepts_anything() => {
                        "any value".to_string()
                    }
                    Some(Items::Each(schema)) => types_text(schema),
                    Some(Items::Tuple(schemas)) => {
                        format!("a list of {} schemas (tuple form)", schemas.len())
                    }
                };
                let relation = match (accepts_any(up), accepts_any(our)) {
                    (_, true) => Relation::OursWider,
                    (true, false) => Relation::UpstreamWider,
                    (false, false) => Relation::Incomparable,
                };
                let description = format!(
                    "list items are {} upstream, {} in ours",
                    describe(up),
                    describe(our)
                );
                self.push(
                    direction.class(relation),
                    &here,
                    &up_at,
                    &our_at,
                    description,
                    CHANGE,
                );
            }
        }
    }

    fn security(
        &mut self,
        upstream: Option<&Security>,
        ours: Option<&Security>,
        up_op: &Operation,
        our_op: &Operation,
    ) {
        let subject = "security";
        let empty = Vec::new();
        let up_alternatives = upstream.map_or(&empty, |s| &s.alternatives);
        let our_alternatives = ours.map_or(&empty, |s| &s.alternatives);
        let up_loc = upstream.map_or_else(|| up_op.loc.child("security"), |s| s.loc.clone());
        let our_loc = ours.map_or_else(|| our_op.loc.child("security"), |s| s.loc.clone());
        let schemes =
            |a: &BTreeMap<String, BTreeSet<String>>| a.keys().cloned().collect::<Vec<_>>();
        for (ui, up) in up_alternatives.iter().enumerate() {
            let up_at = up_loc.child(ui);
            match our_alternatives
                .iter()
                .enumerate()
                .find(|(_, our)| schemes(our) == schemes(up))
            {
                None => {
                    let description = format!(
                        "upstream also accepts authentication by {}",
                        schemes(up).join(" + ")
                    );
                    self.push(Class::Additive, subject, &up_at, &our_loc, description, ADD);
                }
                Some((oi, our)) => {
                    for (scheme, scopes) in up {
                        let our_scopes = &our[scheme];
                        let (up_at, our_at) =
                            (up_at.child(scheme), our_loc.child(oi).child(scheme));
                        let added: Vec<&String> = scopes.difference(our_scopes).collect();
                        let dropped: Vec<&String> = our_scopes.difference(scopes).collect();
                        let quote = |s: &[&String]| {
                            s.iter()
                                .map(|s| format!("`{s}`"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        };
                        if !added.is_empty() {
                            let description = format!(
                                "upstream now requires scope {} for {scheme}; tokens without it will be refused",
                                quote(&added)
                            );
                            self.push(
                                Class::Breaking,
                                subject,
                                &up_at,
                                &our_at,
                                description,
                                CHANGE,
                            );
                        }
                        if !dropped.is_empty() {
                            let description = format!(
                                "upstream no longer requires scope {} for {scheme}",
                                quote(&dropped)
                            );
                            self.push(
                                Class::Additive,
                                subject,
                                &up_at,
                                &our_at,
                                description,
                                CHANGE,
                            );
                        }
                    }
                }
            }
        }
        for (oi, our) in our_alternatives.iter().enumerate() {
            if !up_alternatives.iter().any(|up| schemes(up) == schemes(our)) {
                let description = format!(
                    "upstream no longer accepts authentication by {}",
                    schemes(our).join(" + ")
                );
                self.push(
                    Class::Breaking,
                    subject,
                    &up_loc,
                    &our_loc.child(oi),
                    description,
                    REMOVE,
                );
            }
        }
    }

    /// Descriptions, examples, titles and vendor extensions: cosmetic.
    fn annotations(
        &mut self,
        subject: &str,
        upstream: &Annotations,
        up_loc: &Loc,
        ours: &Annotations,
        our_loc: &Loc,
    ) {
        let keys: BTreeSet<&String> = upstream.keys().chain(ours.keys()).collect();
        for key in keys {
            let description = match (upstream.get(key), ours.get(key)) {
                (Some(u), Some(o)) if u == o => continue,
                (Some(_), Some(_)) => format!("`{key}` differs"),
                (Some(_), None) => format!("`{key}` only upstream"),
                (None, Some(_)) => format!("`{key}` only in ours"),
                (None, None) => continue,
            };
            self.push(
                Class::Cosmetic,
                subject,
                &up_loc.child(key),
                &our_loc.child(key),
                description,
                COSMETIC,
            );
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
                .filter(|name| o.properties.contains_key(*name))
                .count();
            2 * shared + usize::from(u.types == o.types)
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

fn media_types_count(
    upstream: &BTreeMap<String, MediaType>,
    ours: &BTreeMap<String, MediaType>,
) -> usize {
    upstream
        .keys()
        .chain(ours.keys())
        .collect::<BTreeSet<_>>()
        .len()
}

/// Whether every value of a type `inner` allows is of a type `outer` allows.
fn accepts_types(outer: &Schema, inner: &Schema) -> bool {
    if outer.types.is_empty() {
        return true;
    }
    if inner.types.is_empty() {
        return false;
    }
    inner
        .types
        .iter()
        .all(|t| outer.types.contains(t) || (t == "integer" && outer.types.contains("number")))
}

enum Side {
    Upstream,
    Ours,
}

/// Which side a constraint keyword makes stricter, when one is (an absent bound is no
/// bound; `pattern` and `multipleOf` of different values are incomparable).
fn stricter(key: &str, upstream: Option<&Value>, ours: Option<&Value>) -> Option<Side> {
    let number = |v: Option<&Value>| v.and_then(Value::as_f64);
    match (upstream, ours) {
        (Some(_), None) => return Some(Side::Upstream),
        (None, Some(_)) => return Some(Side::Ours),
        _ => {}
    }
    match key {
        "uniqueItems" => {
            if upstream == Some(&Value::Bool(true)) {
                Some(Side::Upstream)
            } else {
                Some(Side::Ours)
            }
        }
        "pattern" | "multipleOf" => None,
        _ => {
            let (up, our) = (number(upstream)?, number(ours)?);
            let lower_bound = key.starts_with("min") || key == "exclusiveMinimum";
            if (up > our) == lower_bound {
                Some(Side::Upstream)
            } else {
                Some(Side::Ours)
            }
        }
    }
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
        let mut comparer = Comparer { out: Vec::new() };
        comparer.schema("s", &u, &o, direction);
        comparer
            .out
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
