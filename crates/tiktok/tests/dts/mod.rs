//! A reader of the hand-written `operations.d.ts`, just enough of TypeScript to learn each operation's
//! query, body and response shapes: interfaces (with `extends`), type aliases, object literals, unions
//! and intersections, `T[]` / `Array<T>`, `Partial` / `Omit`, `OpenEnum`, string literals. What it
//! cannot resolve is `Unknown` and is not compared.

use std::collections::BTreeMap;

/// The JSON shape a TypeScript type describes.
#[derive(Clone, Debug, PartialEq)]
pub enum Ts {
    Str,
    Num,
    Bool,
    List(Box<Ts>),
    /// Fields (name → type); index signatures and unresolved members are left out.
    Obj(BTreeMap<String, Ts>),
    /// `never`: nothing may be given.
    Never,
    /// `unknown`, `Loose`, records, generics it does not know.
    Unknown,
}

enum Decl {
    Interface { extends: Vec<String>, body: String },
    Alias(String),
}

pub struct Dts {
    decls: BTreeMap<String, Decl>,
}

/// Splits `text` at top-level occurrences of `sep` (outside brackets, strings and comments).
fn split_top(text: &str, seps: &[char]) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut depth = 0i32;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '/' if chars.peek() == Some(&'*') => {
                let mut prev = ' ';
                for d in chars.by_ref() {
                    if prev == '*' && d == '/' {
                        break;
                    }
                    prev = d;
                }
                continue;
            }
            '/' if chars.peek() == Some(&'/') => {
                for d in chars.by_ref() {
                    if d == '\n' {
                        break;
                    }
                }
                if depth == 0 && seps.contains(&'\n') {
                    out.push(std::mem::take(&mut cur));
                } else {
                    cur.push('\n');
                }
                continue;
            }
            '\'' | '"' | '`' => {
                cur.push(c);
                for d in chars.by_ref() {
                    cur.push(d);
                    if d == c {
                        break;
                    }
                }
                continue;
            }
            '{' | '(' | '[' | '<' => depth += 1,
            '}' | ')' | ']' | '>' => depth -= 1,
            _ => {}
        }
        if depth == 0 && seps.contains(&c) {
            out.push(std::mem::take(&mut cur));
        } else {
            cur.push(c);
        }
    }
    out.push(cur);
    out.into_iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

/// The text between the `{` at `open` and its matching `}`.
fn braced(text: &str, open: usize) -> &str {
    let mut depth = 0;
    for (i, c) in text[open..].char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return &text[open + 1..open + i];
                }
            }
            _ => {}
        }
    }
    &text[open + 1..]
}

/// `name?: type` members of an object body (index signatures skipped; a `|` line joins the previous).
pub fn members(body: &str) -> Vec<(String, String)> {
    let mut parts: Vec<String> = Vec::new();
    for p in split_top(body, &[';', '\n', ',']) {
        match parts.last_mut() {
            Some(last) if p.starts_with('|') || p.starts_with('&') || last.ends_with(':') => {
                last.push(' ');
                last.push_str(&p);
            }
            _ => parts.push(p),
        }
    }
    parts
        .into_iter()
        .filter_map(|m| {
            let m = m.strip_prefix("readonly ").unwrap_or(&m).trim().to_string();
            if m.starts_with('[') {
                return None;
            }
            let colon = m.find(':')?;
            let name = m[..colon]
                .trim()
                .trim_end_matches('?')
                .trim_matches('\'')
                .to_string();
            let ty = m[colon + 1..].trim().to_string();
            (!name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || "_.".contains(c)))
                .then_some((name, ty))
        })
        .collect()
}

impl Dts {
    pub fn parse(text: &str) -> Dts {
        let mut decls = BTreeMap::new();
        let lines: Vec<(usize, &str)> = text
            .split_inclusive('\n')
            .scan(0, |pos, l| {
                let at = *pos;
                *pos += l.len();
                Some((at, l))
            })
            .collect();
        for (i, (at, line)) in lines.iter().enumerate() {
            if let Some(rest) = line.strip_prefix("export interface ") {
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                let head = &rest[..rest.find('{').unwrap_or(rest.len())];
                let extends = head
                    .split_once(" extends ")
                    .map(|(_, e)| split_top(e, &[',']))
                    .unwrap_or_default();
                let open = at + line.find('{').unwrap_or(0);
                decls.insert(
                    name,
                    Decl::Interface {
                        extends,
                        body: braced(text, open).to_string(),
                    },
                );
            } else if let Some(rest) = line.strip_prefix("export type ") {
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                let Some(eq) = rest.find(" =") else { continue };
                let mut expr = rest[eq + 2..].to_string();
                for (_, next) in &lines[i + 1..] {
                    let t = next.trim();
                    if t.is_empty()
                        || next.starts_with("export ")
                        || next.starts_with("//")
                        || next.starts_with("/**")
                    {
                        break;
                    }
                    expr.push_str(next);
                }
                decls.insert(name, Decl::Alias(expr.trim().to_string()));
            }
        }
        Dts { decls }
    }

    /// The members of interface `name` (its own body; `extends` not followed).
    pub fn interface_members(&self, name: &str) -> Vec<(String, String)> {
        match self.decls.get(name) {
            Some(Decl::Interface { body, .. }) => members(body),
            _ => Vec::new(),
        }
    }

    /// The shape of a type expression.
    pub fn resolve(&self, expr: &str) -> Ts {
        self.resolve_at(expr, 0)
    }

    fn resolve_at(&self, expr: &str, depth: usize) -> Ts {
        if depth > 24 {
            return Ts::Unknown;
        }
        let e = expr.trim().trim_start_matches('|').trim();
        let branches: Vec<String> = split_top(e, &['|'])
            .into_iter()
            .filter(|b| !matches!(b.as_str(), "undefined" | "null" | "(string & {})"))
            .collect();
        if branches.len() > 1 {
            let shapes: Vec<Ts> = branches.iter().map(|b| self.resolve_at(b, depth + 1)).collect();
            return union(shapes);
        }
        let Some(e) = branches.first().map(String::as_str) else {
            return Ts::Unknown;
        };
        let parts = split_top(e, &['&']);
        if parts.len() > 1 {
            return parts
                .iter()
                .map(|p| self.resolve_at(p, depth + 1))
                .fold(Ts::Obj(BTreeMap::new()), merge);
        }
        if let Some(inner) = e.strip_prefix('(').and_then(|x| x.strip_suffix(')')) {
            return self.resolve_at(inner, depth + 1);
        }
        if let Some(item) = e.strip_suffix("[]") {
            return Ts::List(Box::new(self.resolve_at(item, depth + 1)));
        }
        if e.starts_with('{') {
            return self.object(&e[1..e.len() - 1], depth);
        }
        if e.starts_with('\'') || e.starts_with('"') || e.starts_with('`') {
            return Ts::Str;
        }
        if let Some((name, args)) = e.split_once('<').filter(|_| e.ends_with('>')) {
            let args = split_top(&args[..args.len() - 1], &[',']);
            let arg = |i: usize| args.get(i).map(String::as_str).unwrap_or("unknown");
            return match name.trim() {
                "Array" => Ts::List(Box::new(self.resolve_at(arg(0), depth + 1))),
                "Partial" | "Readonly" => self.resolve_at(arg(0), depth + 1),
                "OpenEnum" => Ts::Str,
                "Omit" => match self.resolve_at(arg(0), depth + 1) {
                    Ts::Obj(mut f) => {
                        for k in split_top(arg(1), &['|']) {
                            f.remove(k.trim_matches('\''));
                        }
                        Ts::Obj(f)
                    }
                    other => other,
                },
                _ => Ts::Unknown,
            };
        }
        match e {
            "string" => Ts::Str,
            "number" => Ts::Num,
            "boolean" | "true" | "false" => Ts::Bool,
            "never" => Ts::Never,
            "unknown" | "any" | "object" => Ts::Unknown,
            name => match self.decls.get(name) {
                Some(Decl::Alias(a)) => self.resolve_at(a, depth + 1),
                Some(Decl::Interface { extends, body }) => {
                    let own = self.object(body, depth);
                    extends
                        .iter()
                        .map(|x| self.resolve_at(x, depth + 1))
                        .fold(own, merge)
                }
                None => Ts::Unknown,
            },
        }
    }

    fn object(&self, body: &str, depth: usize) -> Ts {
        // An object with only an index signature is a record: any fields.
        let list = members(body);
        if list.is_empty() && body.contains('[') {
            return Ts::Unknown;
        }
        Ts::Obj(
            list.into_iter()
                .map(|(k, t)| (k, self.resolve_at(&t, depth + 1)))
                .collect(),
        )
    }
}

fn merge(a: Ts, b: Ts) -> Ts {
    match (a, b) {
        (Ts::Obj(mut x), Ts::Obj(y)) => {
            x.extend(y);
            Ts::Obj(x)
        }
        (Ts::Obj(x), Ts::Unknown) | (Ts::Unknown, Ts::Obj(x)) => Ts::Obj(x),
        (a, _) => a,
    }
}

/// A union: one shape if all branches agree (objects: every branch's fields), else unknown.
fn union(shapes: Vec<Ts>) -> Ts {
    let mut it = shapes.into_iter().filter(|s| *s != Ts::Unknown);
    let Some(first) = it.next() else {
        return Ts::Unknown;
    };
    it.fold(first, |acc, s| match (acc, s) {
        (Ts::Obj(x), Ts::Obj(y)) => merge(Ts::Obj(x), Ts::Obj(y)),
        (a, b) if a == b => a,
        (Ts::List(a), Ts::List(b)) => Ts::List(Box::new(union(vec![*a, *b]))),
        _ => Ts::Unknown,
    })
}
