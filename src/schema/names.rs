//! Schema names as identifiers in generated code: the one mapping `chanval schema codegen`
//! uses, here so that the schema check can report a name that maps to a keyword or to the same
//! identifier as another (`vendor id` and `vendor_id`) before any code is generated. No
//! allocation: identifiers are compared as they are produced.

/// Words that are keywords (or reserved) in Rust, C or C++: such a name gets a trailing `_` in
/// generated code.
pub(crate) const KEYWORDS: &[&str] = &[
    // Rust, strict and reserved.
    "abstract",
    "as",
    "async",
    "await",
    "become",
    "box",
    "break",
    "const",
    "continue",
    "crate",
    "do",
    "dyn",
    "else",
    "enum",
    "extern",
    "false",
    "final",
    "fn",
    "for",
    "gen",
    "if",
    "impl",
    "in",
    "let",
    "loop",
    "macro",
    "match",
    "mod",
    "move",
    "mut",
    "override",
    "priv",
    "pub",
    "ref",
    "return",
    "self",
    "static",
    "struct",
    "super",
    "trait",
    "true",
    "try",
    "type",
    "typeof",
    "unsafe",
    "unsized",
    "use",
    "virtual",
    "where",
    "while",
    "yield",
    "union",
    // C (C99, C11, C23).
    "auto",
    "case",
    "char",
    "default",
    "double",
    "float",
    "goto",
    "inline",
    "int",
    "long",
    "register",
    "restrict",
    "short",
    "signed",
    "sizeof",
    "switch",
    "typedef",
    "unsigned",
    "void",
    "volatile",
    "bool",
    "alignas",
    "alignof",
    "constexpr",
    "nullptr",
    "static_assert",
    "thread_local",
    "typeof_unqual",
    // C++.
    "and",
    "and_eq",
    "asm",
    "bitand",
    "bitor",
    "catch",
    "char8_t",
    "char16_t",
    "char32_t",
    "class",
    "compl",
    "concept",
    "const_cast",
    "consteval",
    "constinit",
    "co_await",
    "co_return",
    "co_yield",
    "decltype",
    "delete",
    "dynamic_cast",
    "explicit",
    "export",
    "friend",
    "mutable",
    "namespace",
    "new",
    "noexcept",
    "not",
    "not_eq",
    "operator",
    "or",
    "or_eq",
    "private",
    "protected",
    "public",
    "reinterpret_cast",
    "requires",
    "static_cast",
    "template",
    "this",
    "throw",
    "typeid",
    "typename",
    "using",
    "wchar_t",
    "xor",
    "xor_eq",
];

/// The characters of `name` in snake case: ASCII letters lowered, digits kept, everything else
/// `_`, with a leading `_` when the name is empty or starts with a digit.
pub(crate) fn snake_chars(name: &str) -> impl Iterator<Item = char> + '_ {
    let lead = name.chars().next().is_none_or(|c| c.is_ascii_digit());
    lead.then_some('_').into_iter().chain(name.chars().map(|c| {
        if c.is_ascii_alphanumeric() {
            c.to_ascii_lowercase()
        } else {
            '_'
        }
    }))
}

/// Whether two names give the same identifier.
pub(crate) fn same_identifier(a: &str, b: &str) -> bool {
    snake_chars(a).eq(snake_chars(b))
}

/// Whether `name`'s identifier is a keyword (see [`KEYWORDS`]) or a bare `_`.
pub(crate) fn is_keyword(name: &str) -> bool {
    snake_chars(name).all(|c| c == '_') || KEYWORDS.iter().any(|k| snake_chars(name).eq(k.chars()))
}
