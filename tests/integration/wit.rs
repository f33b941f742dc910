//! The WIT in `wit/` is what the built component really imports and exports:
//! the component's embedded interface, decoded, against `wit/engine.wit`, function by function.

use std::collections::BTreeMap;

use wit_parser::decoding::{DecodedWasm, decode};
use wit_parser::{Resolve, Type, TypeDefKind, WorldItem, WorldKey};

/// A type written out structurally (names of records, variants and enums included).
fn ty(r: &Resolve, t: &Type) -> String {
    let Type::Id(id) = t else { return format!("{t:?}").to_lowercase() };
    let def = &r.types[*id];
    let name = def.name.clone().unwrap_or_default();
    match &def.kind {
        TypeDefKind::Type(inner) => ty(r, inner),
        TypeDefKind::List(t) => format!("list<{}>", ty(r, t)),
        TypeDefKind::Option(t) => format!("option<{}>", ty(r, t)),
        TypeDefKind::Result(res) => format!(
            "result<{}, {}>",
            res.ok.as_ref().map_or("_".into(), |t| ty(r, t)),
            res.err.as_ref().map_or("_".into(), |t| ty(r, t))
        ),
        TypeDefKind::Tuple(t) => format!("tuple<{}>", t.types.iter().map(|t| ty(r, t)).collect::<Vec<_>>().join(", ")),
        TypeDefKind::Record(rec) => {
            let f: Vec<String> = rec.fields.iter().map(|f| format!("{}: {}", f.name, ty(r, &f.ty))).collect();
            format!("record {name} {{{}}}", f.join(", "))
        }
        TypeDefKind::Variant(v) => {
            let c: Vec<String> = v
                .cases
                .iter()
                .map(|c| format!("{}({})", c.name, c.ty.as_ref().map_or(String::new(), |t| ty(r, t))))
                .collect();
            format!("variant {name} {{{}}}", c.join(", "))
        }
        TypeDefKind::Enum(e) => {
            format!("enum {name} {{{}}}", e.cases.iter().map(|c| c.name.clone()).collect::<Vec<_>>().join(", "))
        }
        TypeDefKind::Resource => format!("resource {name}"),
        TypeDefKind::Handle(wit_parser::Handle::Own(id)) => {
            format!("own<{}>", r.types[*id].name.clone().unwrap_or_default())
        }
        TypeDefKind::Handle(wit_parser::Handle::Borrow(id)) => {
            format!("borrow<{}>", r.types[*id].name.clone().unwrap_or_default())
        }
        other => format!("{other:?}"),
    }
}

/// Every function of every `rem:engine` interface in `world`'s imports or exports, as text.
fn surface(r: &Resolve, world: wit_parser::WorldId) -> BTreeMap<String, String> {
    let w = &r.worlds[world];
    let mut out = BTreeMap::new();
    for (side, items) in [("import", &w.imports), ("export", &w.exports)] {
        for (key, item) in items {
            let WorldItem::Interface { id, .. } = item else { continue };
            let iface = &r.interfaces[*id];
            let name = match key {
                WorldKey::Name(n) => n.clone(),
                WorldKey::Interface(_) => iface.name.clone().unwrap_or_default(),
            };
            let pkg = iface.package.map(|p| r.packages[p].name.to_string()).unwrap_or_default();
            if !pkg.starts_with("rem:engine") {
                continue;
            }
            for (fname, f) in &iface.functions {
                let params: Vec<String> = f.params.iter().map(|p| format!("{}: {}", p.name, ty(r, &p.ty))).collect();
                let result = f.result.as_ref().map_or(String::new(), |t| ty(r, t));
                out.insert(format!("{side} {pkg}/{name}.{fname}"), format!("({}) -> {result}", params.join(", ")));
            }
        }
    }
    out
}

#[test]
fn the_component_implements_exactly_the_wit_in_the_repository() {
    let mut source = Resolve::default();
    let (pkg, _) = source.push_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../wit")).unwrap();
    let world = source.select_world(&[pkg], Some("engine")).unwrap();
    let DecodedWasm::Component(built, built_world) = decode(rem_host::ENGINE_WASM).unwrap() else {
        panic!("the engine is not a component");
    };
    let want = surface(&source, world);
    let got = surface(&built, built_world);
    assert!(!want.is_empty());
    assert_eq!(got, want, "the built component and wit/engine.wit disagree");
    // Nothing else is imported but WASI.
    for (key, _) in &built.worlds[built_world].imports {
        let name = built.name_world_key(key);
        assert!(name.starts_with("rem:engine/") || name.starts_with("wasi:"), "unexpected import {name}");
    }
}
