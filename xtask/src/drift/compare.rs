//! Comparing upstream's operation with ours: one walk over both trees pairs their nodes and
//! yields every difference with its place on both sides; the rules (`only_rule`,
//! `keyword_rule`, `required_rule`) say what each means for the client generated from our
//! fragment.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::Value;

use super::model::{Keywords, Kind, Node, Operation};
use super::resolve::Loc;

/// What a difference means for the client.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
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

use Class::{Additive, Breaking, Cosmetic};

impl Class {
    pub fn name(self) -> &'static str {
        match self {
            Breaking => "breaking",
            Additive => "additive",
            Cosmetic => "cosmetic",
        }
    }
}

/// One difference between upstream and ours (serialised as the JSON report lists it).
#[derive(Debug, Serialize)]
pub struct Difference {
    /// The operationId of the operation it was found in; `None` for the whole document.
    #[serde(skip)]
    pub operation: Option<String>,
    pub class: Class,
    /// Where, in words: `response 202 body › lastUpdated`.
    pub subject: String,
    pub description: String,
    /// What to do about it if it is unexplained.
    pub action: String,
    /// The spot upstream (it may be absent there: then where it would be).
    #[serde(flatten)]
    pub upstream: Loc,
    /// The spot in our fragment (or where it would be).
    #[serde(rename = "ours_pointer")]
    pub ours: String,
    /// The id of the deviation that explains it, once matched.
    pub explained_by: Option<String>,
    /// A stale deviation that covers its spot: `(id, what changed upstream there)`.
    #[serde(rename = "stale_deviation", serialize_with = "stale_id")]
    pub under_stale: Option<(String, String)>,
}

fn stale_id<S: serde::Serializer>(
    stale: &Option<(String, String)>,
    s: S,
) -> Result<S::Ok, S::Error> {
    stale.as_ref().map(|(id, _)| id).serialize(s)
}

/// Who produces the values a schema describes: the server (responses) or the client
/// (requests).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Direction {
    Request,
    Response,
}

use Direction::{Request, Response};

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

use Relation::{Incomparable, OursWider, UpstreamWider};

impl Relation {
    /// From whether ours accepts all upstream does, and whether upstream accepts all ours does.
    fn of(ours_accepts_all: bool, upstream_accepts_all: bool) -> Self {
        match (ours_accepts_all, upstream_accepts_all) {
            (true, _) => OursWider,
            (false, true) => UpstreamWider,
            (false, false) => Incomparable,
        }
    }
}

impl Direction {
    /// The rule behind most classes: accepting more than upstream is harmless in a response
    /// (the client decodes what the server sends) and so is accepting less in a request
    /// (the client sends what the server takes); anything else breaks.
    fn class(self, relation: Relation) -> Class {
        match (self, relation) {
            (Response, OursWider) | (Request, UpstreamWider) => Additive,
            _ => Breaking,
        }
    }
}

/// Which side has what differs; with the class, it says what to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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

/// Where the other objects hold nodes, in the order they are compared.
const HOLDERS: [&str; 6] = [
    "parameters",
    "requestBody",
    "responses",
    "headers",
    "content",
    "schema",
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
    let mut walk = Walk(Vec::new());
    let (u, o) = (&upstream.node, &ours.node);
    if (&upstream.method, &upstream.path) != (&ours.method, &ours.path) {
        let (um, om) = (upstream.method.to_uppercase(), ours.method.to_uppercase());
        let (up, op) = (&upstream.path, &ours.path);
        let text = format!("upstream serves it as {um} {up}, ours as {om} {op}");
        let at = (u.loc.clone(), o.loc.clone());
        walk.push(Breaking, Side::Both, "operation", at, text);
    }
    walk.node(pair("operation", Request, u, o));
    walk.security(upstream, ours);
    for difference in &mut walk.0 {
        difference.operation = Some(operation_id.to_string());
    }
    walk.0
}

/// Where the walk is: two paired nodes (upstream's `u`, ours `o`), the subject of their
/// differences, and who produces their values.
#[derive(Clone, Copy)]
struct Pair<'a> {
    subject: &'a str,
    direction: Direction,
    u: &'a Node,
    o: &'a Node,
}

fn pair<'a>(subject: &'a str, direction: Direction, u: &'a Node, o: &'a Node) -> Pair<'a> {
    Pair {
        subject,
        direction,
        u,
        o,
    }
}

/// Pairs of nodes found under one holder: the name, upstream's, ours.
type Pairs<'a> = Vec<(String, Option<&'a Node>, Option<&'a Node>)>;

struct Walk(Vec<Difference>);

impl Walk {
    fn push(&mut self, class: Class, side: Side, subject: &str, at: (Loc, Loc), text: String) {
        let action = match (class, side) {
            (Cosmetic, _) => COSMETIC,
            (_, Side::Upstream) => ADD,
            (_, Side::Ours) => REMOVE,
            (_, Side::Both) => CHANGE,
        };
        let (subject, action) = (subject.to_string(), action.to_string());
        self.0.push(Difference {
            operation: None,
            class,
            subject,
            description: text,
            action,
            upstream: at.0,
            ours: at.1.pointer,
            explained_by: None,
            under_stale: None,
        });
    }

    /// A wire keyword that differs, judged by `keyword_rule`, at the keyword (a schema's
    /// nullability and recursion: at the schema).
    fn keyword(&mut self, p: Pair, key: &str) {
        if value(p.u, key) != value(p.o, key) {
            self.judged(p, key);
        }
    }

    fn judged(&mut self, p: Pair, key: &str) {
        let Some((class, text)) = keyword_rule(p, key) else {
            return;
        };
        let (u, o) = (&p.u.loc, &p.o.loc);
        let at = match key {
            "nullable" | "$ref" => (u.clone(), o.clone()),
            _ => (u.child(key), o.child(key)),
        };
        self.push(class, Side::Both, p.subject, at, text);
    }

    /// What is compared as written: keywords the model does not interpret (breaking, to be
    /// checked by hand), or annotations (cosmetic).
    fn as_written(&mut self, p: Pair, notes: bool) {
        let (u, o) = if notes {
            (&p.u.notes, &p.o.notes)
        } else {
            (&p.u.other, &p.o.other)
        };
        for key in keys(u, o) {
            let (class, text) = match (notes, u.get(key), o.get(key)) {
                (_, a, b) if a == b => continue,
                (false, a, b) => {
                    let (a, b, what) = (shown(a), shown(b), "not modelled by the drift check");
                    let text = format!(
                        "keyword `{key}` is {a} upstream, {b} in ours ({what}: compare by hand)"
                    );
                    (Breaking, text)
                }
                (true, Some(_), Some(_)) => (Cosmetic, format!("`{key}` differs")),
                (true, Some(_), None) => (Cosmetic, format!("`{key}` only upstream")),
                (true, None, _) => (Cosmetic, format!("`{key}` only in ours")),
            };
            let at = (p.u.loc.child(key), p.o.loc.child(key));
            self.push(class, Side::Both, p.subject, at, text);
        }
    }

    /// A node only `side` holds, judged by `only_rule`.
    fn only(&mut self, p: Pair, side: Side, holder: &str, node: &Node) {
        let (class, template) = only_rule(p, side == Side::Upstream, holder, node);
        let facet = |key| {
            node.facets
                .get(key)
                .and_then(Value::as_str)
                .unwrap_or_default()
        };
        let text = match holder {
            "parameters" => template
                .replace("{in}", facet("in"))
                .replace("{param}", facet("name")),
            _ => template.replace("{name}", &node.name),
        };
        self.push(class, side, p.subject, place(p, side, holder, node), text);
    }

    /// A union branch only `side` has (the `index`th), named by its title or position.
    fn branch(&mut self, p: Pair, side: Side, holder: &str, node: &Node, index: usize) {
        let label = node.title().map(|t| format!("`{t}`"));
        let label = label.unwrap_or_else(|| format!("variant {}", index + 1));
        let noun = if p.direction == Request {
            "request"
        } else {
            "response"
        };
        let upstream = side == Side::Upstream;
        let (who, other) = if upstream {
            ("upstream", "ours")
        } else {
            ("ours", "upstream")
        };
        let text = format!("{who} allows a {noun} shape {other} does not: {label}");
        let class = p.direction.class(Relation::of(!upstream, upstream));
        self.push(class, side, p.subject, place(p, side, holder, node), text);
    }

    /// Two paired nodes: their keywords, annotations and what they hold.
    fn node(&mut self, p: Pair) {
        if p.u.kind == Kind::Schema {
            return self.schema(p);
        }
        self.keyword(p, "required");
        let parameter = p.u.kind == Kind::Parameter;
        if !parameter {
            self.as_written(p, true);
        }
        for holder in HOLDERS {
            self.held(p, holder);
        }
        if parameter {
            self.as_written(p, true);
        }
    }

    /// The nodes both sides hold under `holder`, paired, and those only one side holds.
    fn held(&mut self, p: Pair, holder: &str) {
        let direction = match holder {
            "parameters" | "requestBody" => Request,
            "responses" => Response,
            _ => p.direction,
        };
        let (ups, ours): (Vec<&Node>, Vec<&Node>) =
            (p.u.kids(holder).collect(), p.o.kids(holder).collect());
        let pairs = match holder {
            "parameters" => listed(&ups, &ours),
            "prefixItems" | "allOf" => positional(&ups, &ours),
            _ => named(p, holder, &ups, &ours),
        };
        let several = pairs.len() > 1;
        for (name, up, our) in &pairs {
            let subject = label(p, holder, name, up.or(*our), several);
            let parents = pair(&subject, direction, p.u, p.o);
            match (up, our) {
                (Some(up), Some(our)) => self.node(pair(&subject, direction, up, our)),
                (Some(node), None) => self.only(parents, Side::Upstream, holder, node),
                (None, Some(node)) => self.only(parents, Side::Ours, holder, node),
                (None, None) => {}
            }
            // A property only one side declares is judged whole, unless upstream requires
            // what only ours declares; a name neither side declares may still be required.
            let judged = match (up, our) {
                (Some(_), None) => true,
                (None, Some(_)) => !requires(p.u, name),
                _ => false,
            };
            if holder == "properties" && !judged && requires(p.u, name) != requires(p.o, name) {
                let (class, text) = required_rule(parents, name, our.and(*up));
                let at = (p.u.loc.child("required"), p.o.loc.child("required"));
                self.push(class, Side::Both, &subject, at, text);
            }
        }
    }

    fn schema(&mut self, p: Pair) {
        let (u, o) = (p.u, p.o);
        match (u.facets.get("$ref"), o.facets.get("$ref")) {
            (Some(_), Some(_)) => return,
            (None, None) => {}
            _ => return self.keyword(p, "$ref"),
        }
        if union(u).is_some() || union(o).is_some() {
            return self.union(p);
        }
        // What the value is, the constraints that narrow it, the access flags.
        for key in ["type", "nullable", "format", "enum", "default"] {
            self.keyword(p, key);
        }
        for key in keys(&u.limits, &o.limits) {
            self.keyword(p, key);
        }
        for key in ["readOnly", "writeOnly"] {
            self.keyword(p, key);
        }
        self.held(p, "properties");
        match (additional(u), additional(o)) {
            (Err(up), Err(our)) if up.accepts_anything() && our.accepts_anything() => {}
            (Err(_), Err(_)) => self.held(p, "additionalProperties"),
            (Ok(up), Ok(our)) if up == our => {}
            _ => self.judged(p, "additionalProperties"),
        }
        match (items(u), items(o)) {
            (None, None) => {}
            (Some(up), Some(our)) if up == our => self.held(p, up.0),
            _ => {
                let subject = format!("{} › []", p.subject);
                let p = pair(&subject, p.direction, u, o);
                self.judged(p, "items");
            }
        }
        self.held(p, "allOf");
        self.as_written(p, false);
        self.as_written(p, true);
    }

    /// `oneOf`/`anyOf` on at least one side: branches are paired by title, then by
    /// likeness; a side without a union counts as a union of itself.
    fn union(&mut self, p: Pair) {
        let (u_union, o_union) = (union(p.u), union(p.o));
        let (uk, ok) = (u_union.as_ref().map(|u| u.0), o_union.as_ref().map(|o| o.0));
        let ups = u_union.map_or_else(|| vec![p.u], |u| u.1);
        let ours = o_union.map_or_else(|| vec![p.o], |o| o.1);
        if let (Some(uk), Some(ok)) = (uk, ok) {
            if uk != ok {
                let text =
                    format!("upstream combines the alternatives with `{uk}`, ours with `{ok}`");
                let at = (p.u.loc.child(uk), p.o.loc.child(ok));
                self.push(Additive, Side::Both, p.subject, at, text);
            }
            self.keyword(p, "nullable");
            self.as_written(p, true);
        }
        let pairs = pair_branches(&ups, &ours);
        let several = ups.len() > 1 || ours.len() > 1;
        for (ui, branch) in ups.iter().enumerate() {
            let Some(&(_, oi)) = pairs.iter().find(|(pu, _)| *pu == ui) else {
                self.branch(p, Side::Upstream, ok.unwrap_or(""), branch, ui);
                continue;
            };
            let title = branch.title().or(ours[oi].title());
            let label = title.map_or_else(|| format!("variant {}", ui + 1), str::to_string);
            let subject = match several {
                true => format!("{} › ({label})", p.subject),
                false => p.subject.to_string(),
            };
            self.schema(pair(&subject, p.direction, branch, ours[oi]));
        }
        for (oi, branch) in ours.iter().enumerate() {
            if !pairs.iter().any(|&(_, po)| po == oi) {
                let holder = uk.or(ok).unwrap_or("oneOf");
                self.branch(p, Side::Ours, holder, branch, oi);
            }
        }
    }

    /// Security alternatives, paired by their schemes; then the scopes of each scheme.
    fn security(&mut self, up_op: &Operation, our_op: &Operation) {
        let alternatives = |op: &Operation| op.security.as_ref().map(|s| s.alternatives.clone());
        let (ups, ours) = (
            alternatives(up_op).unwrap_or_default(),
            alternatives(our_op).unwrap_or_default(),
        );
        let place = |op: &Operation| op.security.as_ref().map(|s| s.loc.clone());
        let up_loc = place(up_op).unwrap_or_else(|| up_op.node.loc.child("security"));
        let our_loc = place(our_op).unwrap_or_else(|| our_op.node.loc.child("security"));
        let schemes =
            |a: &BTreeMap<String, BTreeSet<String>>| a.keys().cloned().collect::<Vec<_>>();
        for (ui, up) in ups.iter().enumerate() {
            let found = ours
                .iter()
                .enumerate()
                .find(|(_, our)| schemes(our) == schemes(up));
            let Some((oi, our)) = found else {
                let text = format!(
                    "upstream also accepts authentication by {}",
                    schemes(up).join(" + ")
                );
                self.push(
                    Additive,
                    Side::Upstream,
                    "security",
                    (up_loc.child(ui), our_loc.clone()),
                    text,
                );
                continue;
            };
            for (scheme, scopes) in up {
                let at = (
                    up_loc.child(ui).child(scheme),
                    our_loc.child(oi).child(scheme),
                );
                let added = quoted(scopes.difference(&our[scheme]));
                if !added.is_empty() {
                    let text = format!(
                        "upstream now requires scope {added} for {scheme}; tokens without it will be refused"
                    );
                    self.push(Breaking, Side::Both, "security", at.clone(), text);
                }
                let dropped = quoted(our[scheme].difference(scopes));
                if !dropped.is_empty() {
                    let text = format!("upstream no longer requires scope {dropped} for {scheme}");
                    self.push(Additive, Side::Both, "security", at, text);
                }
            }
        }
        for (oi, our) in ours.iter().enumerate() {
            if !ups.iter().any(|up| schemes(up) == schemes(our)) {
                let text = format!(
                    "upstream no longer accepts authentication by {}",
                    schemes(our).join(" + ")
                );
                self.push(
                    Breaking,
                    Side::Ours,
                    "security",
                    (up_loc.clone(), our_loc.child(oi)),
                    text,
                );
            }
        }
    }
}

/// The rules for a node only one side holds (`upstream`: only upstream), as a sentence
/// with the node's `{name}` where it is held (a parameter's `{param}` and `{in}`).
fn only_rule(p: Pair, upstream: bool, holder: &str, node: &Node) -> (Class, &'static str) {
    let has = |key| node.facets.contains_key(key);
    let (request, required) = (p.direction == Request, requires(p.u, &node.name));
    match (holder, upstream) {
        ("parameters", true) if has("required") => (
            Breaking,
            "upstream has a new required {in} parameter `{param}`",
        ),
        ("parameters", true) => (
            Additive,
            "upstream has a new optional {in} parameter `{param}`",
        ),
        ("parameters", false) => (
            Breaking,
            "upstream no longer has the {in} parameter `{param}` that ours sends",
        ),
        ("requestBody", true) if has("required") => {
            (Breaking, "upstream takes a request body; ours sends none")
        }
        ("requestBody", true) => (Additive, "upstream takes a request body; ours sends none"),
        ("requestBody", false) => (Breaking, "upstream takes no request body; ours sends one"),
        ("responses", true) => (Additive, "upstream declares status {name}; ours does not"),
        ("responses", false) => (Breaking, "ours declares status {name}; upstream does not"),
        ("headers", true) => (
            Additive,
            "upstream sends header `{name}`; ours does not read it",
        ),
        ("headers", false) if has("required") => (
            Breaking,
            "ours requires header `{name}`, which upstream does not declare",
        ),
        ("headers", false) => (
            Additive,
            "ours reads (as optional) header `{name}`, which upstream does not declare",
        ),
        ("content", true) => (
            Additive,
            "upstream also uses media type `{name}`; ours does not",
        ),
        ("content", false) => (
            Breaking,
            "ours uses media type `{name}`, which upstream does not",
        ),
        ("schema", true) => (Additive, "upstream gives it a schema; ours has none"),
        ("schema", false) => (
            p.direction.class(UpstreamWider),
            "ours gives it a schema; upstream has none",
        ),
        ("allOf", true) => (Breaking, "upstream adds a schema to `allOf`"),
        ("allOf", false) => (Breaking, "ours adds a schema to `allOf`"),
        // Properties.
        (_, true) if request && has("readOnly") => (
            Cosmetic,
            "upstream lists read-only property `{name}`, which a request does not send; ours leaves it out",
        ),
        (_, true) if request && required => (
            Breaking,
            "upstream requires a new request property `{name}`; ours does not send it",
        ),
        (_, true) if request => (
            Additive,
            "upstream accepts a new optional request property `{name}`",
        ),
        (_, true) if has("writeOnly") => (
            Cosmetic,
            "upstream lists write-only property `{name}`, which a response does not carry",
        ),
        (_, true) if accepts_other(p.o) && required => (
            Additive,
            "upstream sends a new required property `{name}`; ours ignores it",
        ),
        (_, true) if accepts_other(p.o) => (
            Additive,
            "upstream sends a new optional property `{name}`; ours ignores it",
        ),
        (_, true) => (
            Breaking,
            "upstream sends a new property `{name}`, and ours rejects unknown properties",
        ),
        (_, false) if !request => (
            Breaking,
            "ours expects response property `{name}`, which upstream no longer declares",
        ),
        (_, false) if accepts_other(p.u) => (
            Additive,
            "ours sends property `{name}`, which upstream does not declare (it accepts other properties)",
        ),
        (_, false) => (
            Breaking,
            "ours sends property `{name}`, which upstream does not accept",
        ),
    }
}

/// The rules for a wire keyword the two nodes spell differently: a sentence of its own,
/// or `<keyword> is <upstream's> upstream, <ours> in ours` and the class it means.
fn keyword_rule(p: Pair, key: &str) -> Option<(Class, String)> {
    let (u, o, direction) = (p.u, p.o, p.direction);
    let (up, our) = (value(u, key), value(o, key));
    let by = |ours_accepts_all, upstream_accepts_all| {
        direction.class(Relation::of(ours_accepts_all, upstream_accepts_all))
    };
    let (class, [up_text, our_text]) = match key {
        // `required: true` of a parameter, a request body or a header.
        "required" => {
            let text = match (u.kind, up.is_some()) {
                (Kind::Parameter, true) => "upstream requires it; ours makes it optional",
                (Kind::Parameter, false) => "upstream makes it optional; ours requires it",
                (Kind::RequestBody, true) => "upstream requires a body; ours may send none",
                (Kind::RequestBody, false) => {
                    "ours always sends a body; upstream marks it optional"
                }
                (_, true) => "upstream always sends it; ours treats it as optional",
                (_, false) => "ours requires it; upstream may leave it out",
            };
            return Some((by(up.is_some(), our.is_some()), text.to_string()));
        }
        "$ref" => {
            let text = "one side refers back to an enclosing schema and the other does not; \
                        compare by hand";
            return Some((Breaking, text.to_string()));
        }
        "nullable" => {
            let text = match our.is_some() {
                true => "ours accepts `null`; upstream does not declare it nullable",
                false => "upstream declares it nullable; ours does not accept `null`",
            };
            return Some((by(our.is_some(), up.is_some()), text.to_string()));
        }
        "enum" => return enumeration(up, our, direction),
        "type" => (
            by(accepts_types(o, u), accepts_types(u, o)),
            [u, o].map(types_text),
        ),
        "format" => (by(!typed(our), !typed(up)), [up, our].map(format_text)),
        // The server applies its default to an omitted input, and a generated request type
        // sends ours: both change what a request does. A response default only fills in a
        // missing field.
        "default" if direction == Request => (Breaking, [up, our].map(or_none)),
        "default" => (Cosmetic, [up, our].map(or_none)),
        "readOnly" | "writeOnly" => (Cosmetic, [up, our].map(|v| v.is_some().to_string())),
        "additionalProperties" if accepts_other(u) && accepts_other(o) => {
            (Cosmetic, [u, o].map(additional_text))
        }
        "additionalProperties" => {
            let class = by(accepts_other(o), accepts_other(u));
            (class, [u, o].map(additional_text))
        }
        "items" => (by(any_item(o), any_item(u)), [u, o].map(items_text)),
        // The constraints that narrow the values: `minLength`, `maximum`, `pattern`...
        _ => {
            let class = match stricter(key, up, our) {
                Some(Side::Upstream) => by(true, false),
                Some(_) => by(false, true),
                None => by(false, false),
            };
            (class, [up, our].map(shown))
        }
    };
    let what = match key {
        "type" | "format" | "default" => format!("{key} is"),
        "items" => "list items are".to_string(),
        _ => format!("`{key}` is"),
    };
    let mut text = format!("{what} {up_text} upstream, {our_text} in ours");
    if key == "additionalProperties" && class == Cosmetic {
        text.push_str(" (equivalent in JSON Schema)");
    }
    Some((class, text))
}

/// The rules for a property name required on one side only (`declared`: upstream's
/// declaration of it, when both sides declare it). In a request, a newly required property
/// is breaking (the client may not send it); in a response, a property ours requires and
/// upstream does not is breaking (its absence would fail decoding), and the other way
/// round harmless.
fn required_rule(p: Pair, name: &str, declared: Option<&Node>) -> (Class, String) {
    let (u, o, direction) = (p.u, p.o, p.direction);
    let request = direction == Request;
    if request && declared.is_some_and(|d| d.facets.contains_key("readOnly")) {
        let text = format!(
            "`{name}` is read-only upstream, so whether it is required does not apply to a request"
        );
        (Cosmetic, text)
    } else if requires(u, name) {
        let says = match declared {
            Some(_) => format!("upstream requires `{name}`"),
            None => format!("upstream requires `{name}` (without declaring it under `properties`)"),
        };
        let undeclared = !o.kids("properties").any(|p| p.name == name);
        if !request && undeclared && !accepts_other(o) {
            (Breaking, format!("{says}; ours rejects unknown properties"))
        } else {
            (
                direction.class(OursWider),
                format!("{says}; ours makes it optional"),
            )
        }
    } else if declared.is_some() {
        let text = format!("ours requires `{name}`; upstream makes it optional");
        (direction.class(UpstreamWider), text)
    } else {
        let relation = if request && !accepts_other(u) {
            Incomparable
        } else {
            UpstreamWider
        };
        let text = format!("ours requires `{name}`, which upstream neither declares nor requires");
        (direction.class(relation), text)
    }
}

/// Enum values: a closed set on one side only (only upstream's: the client accepts more),
/// or two sets.
fn enumeration(
    up: Option<&Value>,
    our: Option<&Value>,
    direction: Direction,
) -> Option<(Class, String)> {
    let (up, our) = (up.and_then(Value::as_array), our.and_then(Value::as_array));
    let (class, closed, values, open) = match (up, our) {
        (Some(values), None) => (Additive, "upstream", values, "ours"),
        (None, Some(values)) => (direction.class(UpstreamWider), "ours", values, "upstream"),
        (None, None) => return None,
        (Some(up), Some(our)) => {
            let only = |a: &[Value], b: &[Value]| -> Vec<Value> {
                a.iter().filter(|v| !b.contains(v)).cloned().collect()
            };
            let (added, dropped) = (only(up, our), only(our, up));
            let mut parts = Vec::new();
            if !added.is_empty() {
                parts.push(format!("upstream adds {}", list(&added)));
            }
            if !dropped.is_empty() {
                parts.push(format!("upstream no longer has {}", list(&dropped)));
            }
            let relation = Relation::of(added.is_empty(), dropped.is_empty());
            let text = format!("enum values differ: {}", parts.join("; "));
            return (!parts.is_empty()).then_some((direction.class(relation), text));
        }
    };
    let (n, listed) = (values.len(), list(values));
    let text = format!("{closed} allows only {n} values ({listed}); {open} accepts any value");
    Some((class, text))
}

/// Where a node only `side` has is, and where the other side would have it: under the
/// other parent's `holder` (`""`: the parent itself), by name in a map; ours' parameters
/// are listed by position, so a new one would be in the list.
fn place(p: Pair, side: Side, holder: &str, node: &Node) -> (Loc, Loc) {
    let parent = if side == Side::Upstream { p.o } else { p.u };
    let mut at = match holder {
        "" => parent.loc.clone(),
        _ => parent.loc.child(holder),
    };
    let by_name = matches!(holder, "responses" | "headers" | "content" | "properties");
    if by_name || (holder == "parameters" && side == Side::Ours) {
        at = at.child(&node.name);
    }
    match side {
        Side::Upstream => (node.loc.clone(), at),
        _ => (at, node.loc.clone()),
    }
}

/// Parameters, paired by `parameter_token`: upstream's in order, then those only ours has.
fn listed<'a>(ups: &[&'a Node], ours: &[&'a Node]) -> Pairs<'a> {
    let find = |list: &[&'a Node], name: &str| list.iter().copied().find(|n| n.name == name);
    let only_ours = ours.iter().filter(|o| find(ups, &o.name).is_none());
    let only_ours = only_ours.map(|o| (o.name.clone(), None, Some(*o)));
    let ups = ups
        .iter()
        .map(|u| (u.name.clone(), Some(*u), find(ours, &u.name)));
    ups.chain(only_ours).collect()
}

/// List items, paired by position.
fn positional<'a>(ups: &[&'a Node], ours: &[&'a Node]) -> Pairs<'a> {
    let at = |i: usize| (i.to_string(), ups.get(i).copied(), ours.get(i).copied());
    (0..ups.len().max(ours.len())).map(at).collect()
}

/// Map entries, paired by name in name order (header names ignore case); for properties,
/// every name either side requires, declared or not.
fn named<'a>(p: Pair<'a>, holder: &str, ups: &[&'a Node], ours: &[&'a Node]) -> Pairs<'a> {
    let key = |n: &Node| match holder {
        "headers" => n.name.to_ascii_lowercase(),
        _ => n.name.clone(),
    };
    let mut names: BTreeSet<String> = ups.iter().chain(ours).map(|n| key(n)).collect();
    if holder == "properties" {
        names.extend(required(p.u).chain(required(p.o)).map(str::to_string));
    }
    let find = |list: &[&'a Node], name: &str| list.iter().copied().find(|n| key(n) == name);
    let pair = |name: String| (find(ups, &name), find(ours, &name), name);
    names
        .into_iter()
        .map(pair)
        .map(|(up, our, name)| (name, up, our))
        .collect()
}

/// How a node is named where it is held: the subject of its differences.
fn label(p: Pair, holder: &str, name: &str, node: Option<&Node>, several: bool) -> String {
    let facet = |key| node.and_then(|n| n.facets.get(key)).and_then(Value::as_str);
    let (s, written) = (p.subject, node.map_or(name, |n| &n.name));
    match holder {
        "parameters" => {
            let (name, location) = (
                facet("name").unwrap_or_default(),
                facet("in").unwrap_or_default(),
            );
            format!("parameter `{name}` ({location})")
        }
        "requestBody" => "request body".into(),
        "responses" => format!("response {name}"),
        "headers" => format!("{s} header `{written}`"),
        "content" => {
            let body = if p.u.kind == Kind::Response {
                " body"
            } else {
                ""
            };
            let media = if several {
                format!(" ({name})")
            } else {
                String::new()
            };
            format!("{s}{body}{media}")
        }
        "properties" => format!("{s} › {name}"),
        "additionalProperties" => format!("{s} › (other properties)"),
        "items" => format!("{s} › []"),
        "prefixItems" => format!("{s} › [{name}]"),
        "allOf" => format!(
            "{s} › (allOf {})",
            name.parse::<usize>().unwrap_or_default() + 1
        ),
        _ => s.to_string(),
    }
}

/// A wire keyword's value.
fn value<'a>(node: &'a Node, key: &str) -> Option<&'a Value> {
    node.facets.get(key).or_else(|| node.limits.get(key))
}

/// Every key of either map, in order.
fn keys<'a>(a: &'a Keywords, b: &'a Keywords) -> BTreeSet<&'a String> {
    a.keys().chain(b.keys()).collect()
}

/// `oneOf` or `anyOf`, and its branches.
fn union(schema: &Node) -> Option<(&'static str, Vec<&Node>)> {
    ["oneOf", "anyOf"].into_iter().find_map(|keyword| {
        let branches: Vec<&Node> = schema.kids(keyword).collect();
        (!branches.is_empty()).then_some((keyword, branches))
    })
}

/// `additionalProperties` as written: absent or a boolean (`Ok`), or a schema (`Err`).
fn additional(schema: &Node) -> Result<Option<bool>, &Node> {
    match schema.kids("additionalProperties").next() {
        Some(held) => Err(held),
        None => Ok(schema
            .facets
            .get("additionalProperties")
            .and_then(Value::as_bool)),
    }
}

/// Whether any extra property is accepted (progenitor treats `true` and `{}` differently
/// even though JSON Schema does not, so they are compared as written first).
fn accepts_other(schema: &Node) -> bool {
    match additional(schema) {
        Ok(allowed) => allowed.unwrap_or(true),
        Err(held) => held.accepts_anything(),
    }
}

/// `items`: one schema for every element (`items`), or a tuple (`prefixItems`), and how
/// many schemas.
fn items(schema: &Node) -> Option<(&'static str, usize)> {
    ["items", "prefixItems"].into_iter().find_map(|keyword| {
        let n = schema.kids(keyword).count();
        (n > 0).then_some((keyword, n))
    })
}

/// Whether the progenitor type of a string of this format is not a plain string.
fn typed(format: Option<&Value>) -> bool {
    format
        .and_then(Value::as_str)
        .is_some_and(|f| TYPED_FORMATS.contains(&f))
}

fn format_text(format: Option<&Value>) -> String {
    let format = format.and_then(Value::as_str);
    format.map_or("none".into(), |f| format!("`{f}`"))
}

fn or_none(value: Option<&Value>) -> String {
    value.map_or_else(|| "none".to_string(), code)
}

fn additional_text(schema: &Node) -> String {
    match additional(schema) {
        Ok(None) => "unspecified".to_string(),
        Ok(Some(allowed)) => format!("`{allowed}`"),
        Err(held) if held.accepts_anything() => "`{}`".to_string(),
        Err(_) => "a schema".to_string(),
    }
}

fn any_item(schema: &Node) -> bool {
    match items(schema) {
        None => true,
        Some(("items", _)) => schema.kids("items").all(Node::accepts_anything),
        Some(_) => false,
    }
}

fn items_text(schema: &Node) -> String {
    match items(schema) {
        None => "unspecified".to_string(),
        Some(("items", _)) if any_item(schema) => "any value".into(),
        Some(("items", _)) => schema.kids("items").map(types_text).collect(),
        Some((_, n)) => format!("a list of {n} schemas (tuple form)"),
    }
}

fn required(schema: &Node) -> impl Iterator<Item = &str> {
    let list = schema.facets.get("required").and_then(Value::as_array);
    list.into_iter().flatten().filter_map(Value::as_str)
}

fn requires(schema: &Node, name: &str) -> bool {
    required(schema).any(|r| r == name)
}

fn types(schema: &Node) -> Vec<&str> {
    match schema.facets.get("type") {
        Some(Value::String(only)) => vec![only],
        Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

fn types_text(schema: &Node) -> String {
    let types: Vec<String> = types(schema).iter().map(|t| format!("`{t}`")).collect();
    match types.is_empty() {
        true => "any type".into(),
        false => types.join(" or "),
    }
}

/// Whether every value of a type `inner` allows is of a type `outer` allows.
fn accepts_types(outer: &Node, inner: &Node) -> bool {
    let (outer, inner) = (types(outer), types(inner));
    let fits = |t: &&str| outer.contains(t) || (*t == "integer" && outer.contains(&"number"));
    outer.is_empty() || (!inner.is_empty() && inner.iter().all(fits))
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

/// Pairs union branches: equal titles first, then each remaining upstream branch with the
/// remaining branch of ours that shares the most property names (ties: the earlier one).
fn pair_branches(upstream: &[&Node], ours: &[&Node]) -> Vec<(usize, usize)> {
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
    let names = |s: &Node| {
        s.kids("properties")
            .map(|p| p.name.clone())
            .collect::<BTreeSet<_>>()
    };
    for (ui, u) in upstream.iter().enumerate() {
        if pairs.iter().any(|&(taken, _)| taken == ui) {
            continue;
        }
        let likeness = |o: &Node| {
            2 * names(u).intersection(&names(o)).count() + usize::from(types(u) == types(o))
        };
        let free = (0..ours.len()).filter(|oi| !pairs.iter().any(|&(_, taken)| taken == *oi));
        if let Some(oi) = free.max_by_key(|&oi| (likeness(ours[oi]), std::cmp::Reverse(oi))) {
            pairs.push((ui, oi));
        }
    }
    pairs
}

fn code(value: &Value) -> String {
    format!("`{value}`")
}

/// A keyword's value, or `absent`.
fn shown(value: Option<&Value>) -> String {
    value.map_or_else(|| "absent".to_string(), code)
}

/// Scope names, quoted, for a sentence.
fn quoted<'a>(scopes: impl Iterator<Item = &'a String>) -> String {
    scopes
        .map(|s| format!("`{s}`"))
        .collect::<Vec<_>>()
        .join(", ")
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
#[cfg(test)]
mod tests {
    use serde_json::json;

    use openapiv3::{OpenAPI, ReferenceOr};
    use serde::Deserialize;

    use super::*;
    use crate::drift::downgrade::downgrade;
    use crate::drift::model::Reader;

    /// A schema read as the check reads a document's (after the pre-pass, with openapiv3).
    fn read(schema: Value) -> Node {
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

    /// The breaking and additive differences between two schemas in `direction`, as
    /// `(class, description)`.
    fn differences(upstream: Value, ours: Value, direction: Direction) -> Vec<(Class, String)> {
        let (u, o) = (read(upstream), read(ours));
        let mut comparer = Walk(Vec::new());
        comparer.schema(pair("s", direction, &u, &o));
        comparer
            .0
            .into_iter()
            .filter(|d| d.class != Class::Cosmetic)
            .map(|d| (d.class, d.description))
            .collect()
    }

    /// Asserts that the two schemas differ exactly as `expected` says (cosmetic ones aside).
    fn expect(upstream: Value, ours: Value, direction: Direction, expected: &[(Class, &str)]) {
        let expected: Vec<(Class, String)> =
            expected.iter().map(|(c, t)| (*c, t.to_string())).collect();
        assert_eq!(differences(upstream, ours, direction), expected);
    }

    #[test]
    fn nullable_spellings_are_equal() {
        let ours = json!({"type": "string", "nullable": true});
        for upstream in [
            json!({"type": ["string", "null"]}),
            json!({"type": "string", "nullable": true}),
            json!({"oneOf": [{"type": "string"}, {"type": "null"}]}),
        ] {
            expect(upstream, ours.clone(), Response, &[]);
        }
    }

    #[test]
    fn a_new_value_of_a_closed_response_enum_breaks_decoding() {
        let (upstream, ours) = (
            json!({"enum": ["a", "b", "c"]}),
            json!({"enum": ["a", "b"]}),
        );
        let text = "enum values differ: upstream adds `c`";
        expect(upstream, ours, Response, &[(Breaking, text)]);
    }

    #[test]
    fn a_new_value_of_a_request_enum_is_additive() {
        let (upstream, ours) = (
            json!({"enum": ["a", "b", "c"]}),
            json!({"enum": ["a", "b"]}),
        );
        let text = "enum values differ: upstream adds `c`";
        expect(upstream, ours, Request, &[(Additive, text)]);
    }

    #[test]
    fn a_response_property_that_became_required_in_ours_only_breaks() {
        let upstream = json!({"type": "object", "properties": {"a": {"type": "string"}}});
        let ours =
            json!({"type": "object", "required": ["a"], "properties": {"a": {"type": "string"}}});
        let text = "ours requires `a`; upstream makes it optional";
        expect(upstream, ours, Response, &[(Breaking, text)]);
    }

    #[test]
    fn a_request_name_required_upstream_without_a_declaration_breaks() {
        let upstream = json!({"type": "object", "required": ["name", "category"],
            "properties": {"name": {"type": "string"}}, "additionalProperties": true});
        let ours = json!({"type": "object", "required": ["name"],
            "properties": {"name": {"type": "string"}}, "additionalProperties": {}});
        let text = "upstream requires `category` (without declaring it under `properties`); ours \
                    makes it optional";
        expect(upstream, ours, Request, &[(Breaking, text)]);
    }

    #[test]
    fn a_request_property_no_longer_required_upstream_is_additive() {
        let upstream = json!({"type": "object", "properties": {"a": {"type": "string"}}});
        let ours =
            json!({"type": "object", "required": ["a"], "properties": {"a": {"type": "string"}}});
        let text = "ours requires `a`; upstream makes it optional";
        expect(upstream, ours, Request, &[(Additive, text)]);
    }

    #[test]
    fn a_response_name_required_upstream_only_is_additive_unless_ours_rejects_it() {
        let upstream = json!({"type": "object", "required": ["a"]});
        let text = "upstream requires `a` (without declaring it under `properties`); ours makes it \
                    optional";
        expect(
            upstream.clone(),
            json!({"type": "object"}),
            Response,
            &[(Additive, text)],
        );
        let closed = json!({"type": "object", "additionalProperties": false});
        let found = differences(upstream, closed, Response);
        let classes: Vec<Class> = found.into_iter().map(|(class, _)| class).collect();
        assert_eq!(classes, [Breaking, Breaking]);
    }

    #[test]
    fn a_response_name_only_ours_requires_breaks() {
        let (upstream, ours) = (
            json!({"type": "object"}),
            json!({"type": "object", "required": ["a"]}),
        );
        let text = "ours requires `a`, which upstream neither declares nor requires";
        expect(upstream, ours, Response, &[(Breaking, text)]);
    }

    #[test]
    fn a_new_property_is_breaking_when_ours_rejects_unknown_properties() {
        let upstream = json!({"type": "object", "properties": {"a": {"type": "string"}}});
        let ours = json!({"type": "object", "additionalProperties": false});
        let new = "upstream sends a new property `a`, and ours rejects unknown properties";
        let closed = "`additionalProperties` is unspecified upstream, `false` in ours";
        expect(
            upstream,
            ours,
            Response,
            &[(Breaking, new), (Breaking, closed)],
        );
    }

    #[test]
    fn integers_fit_in_numbers_but_not_the_other_way_round() {
        let (number, integer) = (json!({"type": "number"}), json!({"type": "integer"}));
        let widened = "type is `integer` upstream, `number` in ours";
        expect(
            integer.clone(),
            number.clone(),
            Response,
            &[(Additive, widened)],
        );
        let narrowed = "type is `number` upstream, `integer` in ours";
        expect(number, integer, Response, &[(Breaking, narrowed)]);
    }

    #[test]
    fn a_tighter_upstream_bound_on_a_request_breaks() {
        let upstream = json!({"type": "array", "maxItems": 50});
        let ours = json!({"type": "array", "maxItems": 100});
        let text = "`maxItems` is `50` upstream, `100` in ours";
        expect(upstream, ours, Request, &[(Breaking, text)]);
    }
}
