//! `cargo xtask codegen`: turns `spec/webflow-cms-items.yaml` into the committed
//! `webflow-api/src/generated.rs` with progenitor, and checks that the committed file is
//! up to date.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::panics;
use crate::spec_file::{self, SpecError};

/// The spec, relative to the workspace root.
pub const SPEC_PATH: &str = "spec/webflow-cms-items.yaml";
/// The generated client, relative to the workspace root.
pub const GENERATED_PATH: &str = "webflow-api/src/generated.rs";

/// Write the generated file, or only compare it (`--check`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Write,
    Check,
}

/// What `run` did.
#[derive(Debug)]
pub enum Outcome {
    UpToDate,
    Written,
    /// `--check` found a difference; `diff` is a unified diff from the file to what it should be.
    Stale {
        diff: String,
    },
}

/// The workspace root (the parent of this crate).
pub fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace root")
        .to_path_buf()
}

/// Generates the client from `spec` and writes it to `out` (or compares, in check mode).
/// On any error `out` is left untouched.
pub fn run(spec: &Path, out: &Path, mode: Mode) -> Result<Outcome, SpecError> {
    let contents = generate(spec)?;
    ensure_file_contents(out, &contents, mode)
}

/// The full text of the generated file for the spec at `spec`.
pub fn generate(spec: &Path) -> Result<String, SpecError> {
    let (text, value) = spec_file::read_document(spec)?;
    let fail = |cause: String| SpecError::new(spec, cause);

    let version = value.get("openapi").and_then(|v| v.as_str()).unwrap_or("");
    if !version.starts_with("3.0.") {
        let found = if version.is_empty() {
            "no `openapi` version".to_string()
        } else {
            format!("`openapi: {version}`")
        };
        return Err(fail(format!(
            "found {found}, but progenitor only reads OpenAPI 3.0.x. Write the fragment as \
             `openapi: 3.0.3` (use `nullable: true` instead of `type: [T, 'null']`)"
        )));
    }
    spec_file::check_refs(&value).map_err(&fail)?;
    let document: openapiv3::OpenAPI = serde_json::from_value(value)
        .map_err(|e| fail(format!("not a valid OpenAPI 3.0 document: {e}")))?;

    let tokens = generate_tokens(&document).map_err(&fail)?;
    let mut file: syn::File = syn::parse2(tokens)
        .map_err(|e| fail(format!("progenitor produced code that does not parse: {e}")))?;
    for item in &mut file.items {
        make_json_schema_optional(item);
    }
    mark_types_non_exhaustive(&mut file);
    hide_the_constructor_that_builds_its_own_http_client(&mut file);
    keep_generator_helpers_crate_private(&mut file);
    let calls = describe_operations(&document, &file).map_err(&fail)?;
    file.items.extend(calls);
    let body = prettyplease::unparse(&file);
    Ok(format!("{}{body}", header(spec, &text)))
}

/// The settings every generation uses. Changing them is a reviewed change like a spec edit.
fn settings() -> progenitor::GenerationSettings {
    let mut settings = progenitor::GenerationSettings::new();
    settings
        .with_interface(progenitor::InterfaceStyle::Builder)
        .with_tag(progenitor::TagStyle::Merged)
        // `webflow-api/src/transport.rs` implements `ClientHooks`: the generated client is
        // made per attempt, and its inner value is that attempt (what the attempt loop
        // decided, and what the answer said).
        .with_hooks(progenitor::HooksMode::Expected)
        .with_inner_type("crate::transport::Attempt".parse().expect("a Rust path"))
        // Turned into `#[cfg_attr(feature = "schemars", derive(...))]` by
        // `make_json_schema_optional`: only the schema snapshot tests need it.
        .with_derive(JSON_SCHEMA_DERIVE);
    settings
}

/// The derive progenitor is asked to add to every type; the library makes it optional.
const JSON_SCHEMA_DERIVE: &str = "schemars::JsonSchema";

/// Moves `schemars::JsonSchema` out of every `#[derive(...)]` (in `item` and the modules it
/// holds) into `#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]`, so the
/// library's default build does not compile schemars.
fn make_json_schema_optional(item: &mut syn::Item) {
    let attrs = match item {
        syn::Item::Struct(item) => &mut item.attrs,
        syn::Item::Enum(item) => &mut item.attrs,
        syn::Item::Mod(module) => {
            for inner in module.content.iter_mut().flat_map(|(_, items)| items) {
                make_json_schema_optional(inner);
            }
            return;
        }
        _ => return,
    };
    let mut had_json_schema = false;
    for attr in attrs.iter_mut() {
        if !attr.path().is_ident("derive") {
            continue;
        }
        let Ok(paths) = attr.parse_args_with(
            syn::punctuated::Punctuated::<syn::Path, syn::Token![,]>::parse_terminated,
        ) else {
            continue;
        };
        let total = paths.len();
        let kept: Vec<&syn::Path> = paths
            .iter()
            .filter(|path| quote_path(path) != JSON_SCHEMA_DERIVE)
            .collect();
        if kept.len() < total {
            had_json_schema = true;
            *attr = syn::parse_quote!(#[derive(#(#kept),*)]);
        }
    }
    if had_json_schema {
        attrs.push(syn::parse_quote!(
            #[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
        ));
    }
}

/// Adds `#[non_exhaustive]` to every struct and enum of `pub mod types` (not its `builder`
/// and `error` submodules): a field or variant Webflow adds later is then not a breaking
/// change. Users build values with constructors (`NewItem::new`), builders or serde.
fn mark_types_non_exhaustive(file: &mut syn::File) {
    let types = file.items.iter_mut().find_map(|item| match item {
        syn::Item::Mod(module) if module.ident == "types" => module.content.as_mut(),
        _ => None,
    });
    for item in types.into_iter().flat_map(|(_, items)| items) {
        let attrs = match item {
            syn::Item::Struct(item) => &mut item.attrs,
            syn::Item::Enum(item) => &mut item.attrs,
            _ => continue,
        };
        attrs.push(syn::parse_quote!(#[non_exhaustive]));
    }
}

/// Makes the generated `Client::new` crate-private: it builds a `reqwest::Client` of its
/// own (following redirects, and panicking without a process-wide TLS provider), which
/// bypasses the settings the crate relies on. `Client::new_with_client` stays public, with
/// the state from `ClientBuilder::build_state`.
fn hide_the_constructor_that_builds_its_own_http_client(file: &mut syn::File) {
    for item in &mut file.items {
        let syn::Item::Impl(block) = item else {
            continue;
        };
        let is_client =
            matches!(&*block.self_ty, syn::Type::Path(path) if path.path.is_ident("Client"));
        if !is_client || block.trait_.is_some() {
            continue;
        }
        for member in &mut block.items {
            if let syn::ImplItem::Fn(function) = member
                && function.sig.ident == "new"
            {
                function.vis = syn::parse_quote!(pub(crate));
            }
        }
    }
}

/// Keeps what typify generates for its own use out of the public API: the `builder()`
/// constructors of the types (their builders live in `types::builder`, which the generated
/// request builders use) become crate-private, and the string conversions of enums
/// (`FromStr`, `TryFrom<&str>`, `TryFrom<String>`, whose error is typify's
/// `ConversionError`) are dropped: values are built with the crate's constructors and serde.
fn keep_generator_helpers_crate_private(file: &mut syn::File) {
    let types = file.items.iter_mut().find_map(|item| match item {
        syn::Item::Mod(module) if module.ident == "types" => module.content.as_mut(),
        _ => None,
    });
    let Some((_, items)) = types else {
        return;
    };
    items.retain(|item| {
        let syn::Item::Impl(block) = item else {
            return true;
        };
        let Some((_, path, _)) = &block.trait_ else {
            return true;
        };
        let name = path.segments.last().map(|s| s.ident.to_string());
        let from_text = match name.as_deref() {
            Some("FromStr") => true,
            Some("TryFrom") => path
                .segments
                .last()
                .and_then(|segment| match &segment.arguments {
                    syn::PathArguments::AngleBracketed(arguments) => arguments.args.first(),
                    _ => None,
                })
                .is_some_and(|argument| match argument {
                    syn::GenericArgument::Type(syn::Type::Reference(reference)) => {
                        matches!(&*reference.elem, syn::Type::Path(p) if p.path.is_ident("str"))
                    }
                    syn::GenericArgument::Type(syn::Type::Path(p)) => {
                        p.path.segments.last().is_some_and(|s| s.ident == "String")
                    }
                    _ => false,
                }),
            _ => false,
        };
        !from_text
    });
    for item in items.iter_mut() {
        let syn::Item::Impl(block) = item else {
            continue;
        };
        if block.trait_.is_some() {
            continue;
        }
        for member in &mut block.items {
            if let syn::ImplItem::Fn(function) = member
                && function.sig.ident == "builder"
            {
                function.vis = syn::parse_quote!(pub(crate));
            }
        }
    }
}

/// For every operation of the spec, an `impl crate::operation::GeneratedCall` for its
/// generated request builder: the spec's operationId, whether the operation is idempotent
/// (from its HTTP method, or an `x-idempotent: true|false` extension), its response type,
/// and how to send one attempt. The hand-written layer reads these instead of keeping a
/// list of its own.
fn describe_operations(
    document: &openapiv3::OpenAPI,
    file: &syn::File,
) -> Result<Vec<syn::Item>, String> {
    let responses = builder_response_types(file);
    let mut items = Vec::new();
    for (path, item) in document.paths.iter() {
        let openapiv3::ReferenceOr::Item(item) = item else {
            return Err(format!(
                "the path {path} is a $ref, which codegen does not follow"
            ));
        };
        for (method, operation) in item.iter() {
            let Some(id) = operation.operation_id.as_deref() else {
                return Err(format!(
                    "{} {path} has no operationId",
                    method.to_uppercase()
                ));
            };
            let idempotent = match operation.extensions.get("x-idempotent") {
                Some(serde_json::Value::Bool(flag)) => *flag,
                Some(other) => {
                    return Err(format!(
                        "operation {id}: `x-idempotent` must be true or false, not {other}"
                    ));
                }
                None => matches!(method, "get" | "head" | "put" | "delete" | "options"),
            };
            let name = pascal_case(id);
            let Some(response) = responses.get(&name) else {
                return Err(format!(
                    "operation {id}: no generated request builder `{name}` with a `send` method"
                ));
            };
            let builder: syn::Ident = syn::parse_str(&name).map_err(|e| e.to_string())?;
            items.push(syn::parse_quote! {
                impl<'a> crate::operation::GeneratedCall<'a> for builder::#builder<'a> {
                    const OPERATION_ID: &'static str = #id;
                    const IDEMPOTENT: bool = #idempotent;
                    type Response = #response;
                    fn send_attempt(self) -> crate::operation::AttemptFuture<'a, Self::Response> {
                        ::std::boxed::Box::pin(builder::#builder::send(self))
                    }
                }
            });
        }
    }
    Ok(items)
}

/// The success type of each request builder's `send` (`ResponseValue<T>`), by builder name.
fn builder_response_types(file: &syn::File) -> std::collections::BTreeMap<String, syn::Type> {
    let mut found = std::collections::BTreeMap::new();
    let builders = file.items.iter().find_map(|item| match item {
        syn::Item::Mod(module) if module.ident == "builder" => module.content.as_ref(),
        _ => None,
    });
    for item in builders.into_iter().flat_map(|(_, items)| items) {
        let syn::Item::Impl(block) = item else {
            continue;
        };
        let syn::Type::Path(self_ty) = &*block.self_ty else {
            continue;
        };
        let Some(name) = self_ty.path.segments.last().map(|s| s.ident.to_string()) else {
            continue;
        };
        for member in &block.items {
            let syn::ImplItem::Fn(function) = member else {
                continue;
            };
            if function.sig.ident != "send" {
                continue;
            }
            if let syn::ReturnType::Type(_, ty) = &function.sig.output
                && let Some(success) = generic_argument(ty, "Result")
                && let Some(value) = generic_argument(&success, "ResponseValue")
            {
                found.insert(name.clone(), value);
            }
        }
    }
    found
}

/// The first type argument of `ty` when its last path segment is `name`: `Result<T, E>` → `T`.
fn generic_argument(ty: &syn::Type, name: &str) -> Option<syn::Type> {
    let syn::Type::Path(path) = ty else {
        return None;
    };
    let segment = path.path.segments.last().filter(|s| s.ident == name)?;
    let syn::PathArguments::AngleBracketed(arguments) = &segment.arguments else {
        return None;
    };
    arguments.args.iter().find_map(|argument| match argument {
        syn::GenericArgument::Type(ty) => Some(ty.clone()),
        _ => None,
    })
}

/// `create-item-live` → `CreateItemLive`, as progenitor names an operation's builder.
fn pascal_case(operation_id: &str) -> String {
    operation_id
        .split(['-', '_', ' '])
        .filter(|word| !word.is_empty())
        .map(|word| {
            let mut chars = word.chars();
            chars
                .next()
                .map(|first| first.to_uppercase().chain(chars).collect::<String>())
                .unwrap_or_default()
        })
        .collect()
}

/// A path as written, without spaces: `schemars::JsonSchema`.
fn quote_path(path: &syn::Path) -> String {
    let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
    let leading = if path.leading_colon.is_some() {
        "::"
    } else {
        ""
    };
    format!("{leading}{}", segments.join("::"))
}

/// Runs progenitor, turning its panics (it asserts on some shapes) into errors.
fn generate_tokens(document: &openapiv3::OpenAPI) -> Result<proc_macro2::TokenStream, String> {
    let settings = settings();
    match panics::catch_quietly(|| progenitor::Generator::new(&settings).generate_tokens(document))
    {
        Ok(Ok(tokens)) => Ok(tokens),
        Ok(Err(e)) => Err(format!("progenitor cannot generate a client from it: {e}")),
        Err(message) => Err(format!(
            "progenitor cannot generate a client from it (it stopped with \"{message}\"). A \
             common cause: the success statuses, or the error statuses, of an operation must \
             all share one schema"
        )),
    }
}

fn header(spec: &Path, text: &str) -> String {
    let normalized = text.replace("\r\n", "\n");
    let digest = Sha256::digest(normalized.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    let name = spec
        .strip_prefix(project_root())
        .unwrap_or(spec)
        .to_string_lossy()
        .replace('\\', "/");
    format!(
        "// @generated by `cargo xtask codegen` (progenitor) from {name}. DO NOT EDIT.\n\
         // spec sha256: {hex}\n\
         // To change this file, edit the spec (or xtask/src/codegen.rs) and run `cargo xtask codegen`.\n\n"
    )
}

/// Makes sure `path` holds `contents`: in write mode rewrites it atomically when it differs;
/// in check mode writes nothing and reports a unified diff.
pub fn ensure_file_contents(path: &Path, contents: &str, mode: Mode) -> Result<Outcome, SpecError> {
    let current = match std::fs::read_to_string(path) {
        Ok(text) => Some(text.replace("\r\n", "\n")),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(SpecError::new(path, format!("cannot read the file: {e}"))),
    };
    if current.as_deref() == Some(contents) {
        return Ok(Outcome::UpToDate);
    }
    match mode {
        Mode::Check => {
            let old = current.unwrap_or_default();
            let diff = similar::TextDiff::from_lines(old.as_str(), contents)
                .unified_diff()
                .context_radius(3)
                .header(
                    &format!("{} (committed)", path.display()),
                    &format!("{} (from the spec)", path.display()),
                )
                .to_string();
            Ok(Outcome::Stale { diff })
        }
        Mode::Write => {
            write_atomically(path, contents)?;
            Ok(Outcome::Written)
        }
    }
}

/// Writes to a temporary file beside `path`, then renames it over `path`, so a failure
/// never leaves a half-written file.
fn write_atomically(path: &Path, contents: &str) -> Result<(), SpecError> {
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temporary = path.with_file_name(format!(".{file_name}.tmp"));
    let result =
        std::fs::write(&temporary, contents).and_then(|()| std::fs::rename(&temporary, path));
    if let Err(e) = result {
        let _ = std::fs::remove_file(&temporary);
        return Err(SpecError::new(path, format!("cannot write the file: {e}")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The same check as `cargo xtask codegen --check`, so plain `cargo test` catches a
    /// stale generated file.
    #[test]
    fn generated_client_is_up_to_date() {
        let root = project_root();
        let contents = generate(&root.join(SPEC_PATH)).unwrap_or_else(|e| panic!("{e}"));
        match ensure_file_contents(&root.join(GENERATED_PATH), &contents, Mode::Check).unwrap() {
            Outcome::UpToDate => {}
            Outcome::Stale { diff } => panic!(
                "{diff}\n{GENERATED_PATH} is out of date with {SPEC_PATH}: run `cargo xtask codegen` \
                 and commit the result"
            ),
            Outcome::Written => unreachable!("check mode never writes"),
        }
    }

    #[test]
    fn generation_is_deterministic() {
        let spec = project_root().join(SPEC_PATH);
        let first = generate(&spec).unwrap();
        let second = generate(&spec).unwrap();
        assert!(first == second, "two runs on the same spec differ");
    }

    #[test]
    fn header_names_the_spec_its_hash_and_the_command() {
        let text = generate(&project_root().join(SPEC_PATH)).unwrap();
        let header: Vec<&str> = text.lines().take(3).collect();
        assert!(
            header[0].contains("@generated") && header[0].contains("DO NOT EDIT"),
            "{header:?}"
        );
        assert!(
            header[0].contains("spec/webflow-cms-items.yaml"),
            "{header:?}"
        );
        let hash = header[1].strip_prefix("// spec sha256: ").unwrap();
        assert_eq!(hash.len(), 64);
        assert!(header[2].contains("cargo xtask codegen"), "{header:?}");
    }

    /// A scratch directory with a spec file holding `spec_text` and an output file holding
    /// a sentinel, so a test can check the output is left untouched.
    struct Scratch {
        dir: PathBuf,
    }

    const SENTINEL: &str = "// committed generated file\n";

    impl Scratch {
        fn new(name: &str, spec_text: Option<&str>) -> Scratch {
            let dir =
                std::env::temp_dir().join(format!("xtask-codegen-{}-{name}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            if let Some(text) = spec_text {
                std::fs::write(dir.join("spec.yaml"), text).unwrap();
            }
            std::fs::write(dir.join("generated.rs"), SENTINEL).unwrap();
            Scratch { dir }
        }

        fn spec(&self) -> PathBuf {
            self.dir.join("spec.yaml")
        }

        fn out(&self) -> PathBuf {
            self.dir.join("generated.rs")
        }

        /// Runs codegen in write mode, expects an error, and checks the output is untouched.
        fn error(&self) -> String {
            let error =
                run(&self.spec(), &self.out(), Mode::Write).expect_err("bad input must fail");
            assert_eq!(
                std::fs::read_to_string(self.out()).unwrap(),
                SENTINEL,
                "output changed"
            );
            let leftovers: Vec<_> = std::fs::read_dir(&self.dir)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .filter(|name| name.ends_with(".tmp"))
                .collect();
            assert!(
                leftovers.is_empty(),
                "no temporary file is left behind: {leftovers:?}"
            );
            let message = error.to_string();
            assert!(
                message.starts_with(&self.spec().display().to_string()),
                "names the file: {message}"
            );
            assert!(!message.contains('\n'), "one paragraph: {message}");
            message
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }

    fn real_spec() -> String {
        std::fs::read_to_string(project_root().join(SPEC_PATH)).unwrap()
    }

    #[test]
    fn missing_spec_file() {
        let message = Scratch::new("missing", None).error();
        assert!(
            message.contains("cannot read the file") && message.contains("No such file"),
            "{message}"
        );
    }

    #[test]
    fn yaml_syntax_error_names_the_line() {
        let spec = "openapi: 3.0.3\ninfo: {title: x\npaths: {}\n";
        let message = Scratch::new("yaml", Some(spec)).error();
        assert!(
            message.contains("not valid YAML or JSON") && message.contains("line"),
            "{message}"
        );
    }

    #[test]
    fn openapi_3_1_is_refused_with_the_fix() {
        let spec = real_spec().replace("openapi: 3.0.3", "openapi: 3.1.0");
        let message = Scratch::new("v31", Some(&spec)).error();
        assert!(
            message.contains("found `openapi: 3.1.0`") && message.contains("3.0.3"),
            "{message}"
        );
    }

    #[test]
    fn unresolvable_ref_is_named_with_its_location() {
        let spec = real_spec().replace(
            "#/components/schemas/WebflowError",
            "#/components/schemas/WebflowErr",
        );
        let message = Scratch::new("ref", Some(&spec)).error();
        assert!(
            message.contains("`$ref: #/components/schemas/WebflowErr`"),
            "{message}"
        );
        assert!(
            message.contains("does not resolve") && message.contains("at #/components/responses/"),
            "{message}"
        );
    }

    #[test]
    fn document_that_is_not_openapi() {
        let message = Scratch::new(
            "not-openapi",
            Some("openapi: 3.0.3\nname: just a mapping\n"),
        )
        .error();
        assert!(
            message.contains("not a valid OpenAPI 3.0 document"),
            "{message}"
        );
    }

    #[test]
    fn upstream_tuple_form_details_items_is_refused() {
        let spec = real_spec().replace(
            "          items: {}\n",
            "          items:\n            - type: string\n            - type: object\n",
        );
        let message = Scratch::new("tuple", Some(&spec)).error();
        assert!(
            message.contains("not a valid OpenAPI 3.0 document"),
            "{message}"
        );
    }

    #[test]
    fn shape_progenitor_panics_on_is_an_error() {
        // 200 and 202 with different schemas: progenitor asserts there is one success type.
        let spec = real_spec().replacen(
            "        '200':\n          $ref: '#/components/responses/ItemsCreated'\n",
            "        '200':\n          $ref: '#/components/responses/BadRequest'\n",
            1,
        );
        let message = Scratch::new("panic", Some(&spec)).error();
        assert!(
            message.contains("progenitor cannot generate a client from it"),
            "{message}"
        );
        assert!(message.contains("share one schema"), "{message}");
    }

    #[test]
    fn check_mode_reports_a_diff_and_writes_nothing() {
        let scratch = Scratch::new("check", Some(&real_spec()));
        match run(&scratch.spec(), &scratch.out(), Mode::Check).unwrap() {
            Outcome::Stale { diff } => {
                assert!(diff.contains("-// committed generated file"), "{diff}");
                assert!(
                    diff.contains("+// @generated by `cargo xtask codegen`"),
                    "{diff}"
                );
            }
            other => panic!("expected a stale file, got {other:?}"),
        }
        assert_eq!(std::fs::read_to_string(scratch.out()).unwrap(), SENTINEL);
        assert!(matches!(
            run(&scratch.spec(), &scratch.out(), Mode::Write).unwrap(),
            Outcome::Written
        ));
        assert!(matches!(
            run(&scratch.spec(), &scratch.out(), Mode::Check).unwrap(),
            Outcome::UpToDate
        ));
    }

    #[test]
    fn a_new_response_property_changes_the_generated_client() {
        let spec = real_spec().replacen(
            "        fieldData:\n          $ref: '#/components/schemas/CollectionItemFieldData'\n",
            "        fieldData:\n          $ref: '#/components/schemas/CollectionItemFieldData'\n        \
             publishedBy:\n          type: string\n          nullable: true\n",
            1,
        );
        let scratch = Scratch::new("new-property", Some(&spec));
        std::fs::copy(project_root().join(GENERATED_PATH), scratch.out()).unwrap();
        match run(&scratch.spec(), &scratch.out(), Mode::Check).unwrap() {
            Outcome::Stale { diff } => {
                assert!(diff.contains("+        pub published_by:"), "{diff}")
            }
            other => panic!("expected a stale file, got {other:?}"),
        }
    }
}
