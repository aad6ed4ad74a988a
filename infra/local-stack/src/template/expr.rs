//! CloudFormation values that may be intrinsic functions (`!Ref`, `!GetAtt`, `!Sub`, `!Join`),
//! in both the short-tag and the `Fn::` mapping spelling.

use std::collections::BTreeMap;

use serde_norway::Value;

/// A template value before resolution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    /// A plain scalar (strings, numbers and booleans all become their text).
    Literal(String),
    /// `!Ref Name`: a parameter, a pseudo parameter or a resource.
    Ref(String),
    /// `!GetAtt Resource.Attribute`.
    GetAtt { resource: String, attribute: String },
    /// `!Sub "text ${Var}"`, optionally with its own variables.
    Sub {
        template: String,
        variables: BTreeMap<String, Expr>,
    },
    /// `!Join [delimiter, [parts]]`.
    Join { delimiter: String, parts: Vec<Expr> },
    /// Anything else (`!If`, `!Select`, mappings...): kept so that parsing never fails on
    /// values we never need; resolving one is an error naming it.
    Unsupported(String),
}

impl Expr {
    /// Reads a YAML value as an expression.
    pub fn from_value(value: &Value) -> Expr {
        match value {
            Value::String(s) => Expr::Literal(s.clone()),
            Value::Number(n) => Expr::Literal(n.to_string()),
            Value::Bool(b) => Expr::Literal(b.to_string()),
            Value::Tagged(tagged) => {
                let tag = tagged.tag.to_string();
                intrinsic(tag.trim_start_matches('!'), &tagged.value)
                    .unwrap_or(Expr::Unsupported(tag))
            }
            Value::Mapping(map) if map.len() == 1 => long_form(map),
            Value::Null => Expr::Unsupported("null".to_owned()),
            Value::Sequence(_) => Expr::Unsupported("a list".to_owned()),
            Value::Mapping(_) => Expr::Unsupported("a mapping".to_owned()),
        }
    }

    /// The literal text, if this is a plain scalar.
    pub fn as_literal(&self) -> Option<&str> {
        match self {
            Expr::Literal(s) => Some(s),
            _ => None,
        }
    }
}

/// `{ "Fn::Sub": ... }` / `{ Ref: ... }`.
fn long_form(map: &serde_norway::Mapping) -> Expr {
    let Some((Value::String(key), value)) = map.iter().next() else {
        return Expr::Unsupported("a mapping".to_owned());
    };
    let name = if key == "Ref" {
        "Ref"
    } else if let Some(name) = key.strip_prefix("Fn::") {
        name
    } else {
        return Expr::Unsupported("a mapping".to_owned());
    };
    intrinsic(name, value).unwrap_or_else(|| Expr::Unsupported(key.clone()))
}

/// Builds the intrinsic `name` from its argument; `None` when unknown or malformed.
fn intrinsic(name: &str, arg: &Value) -> Option<Expr> {
    match name {
        "Ref" => arg.as_str().map(|s| Expr::Ref(s.to_owned())),
        "GetAtt" => get_att(arg),
        "Sub" => sub(arg),
        "Join" => join(arg),
        _ => None,
    }
}

fn get_att(arg: &Value) -> Option<Expr> {
    let (resource, attribute) = match arg {
        // `!GetAtt Res.Attr`; attributes such as `Endpoint.Address` contain dots themselves.
        Value::String(s) => s.split_once('.')?,
        Value::Sequence(seq) => match seq.as_slice() {
            [resource, attribute] => (resource.as_str()?, attribute.as_str()?),
            _ => return None,
        },
        _ => return None,
    };
    Some(Expr::GetAtt {
        resource: resource.to_owned(),
        attribute: attribute.to_owned(),
    })
}

fn sub(arg: &Value) -> Option<Expr> {
    match arg {
        Value::String(s) => Some(Expr::Sub {
            template: s.clone(),
            variables: BTreeMap::new(),
        }),
        Value::Sequence(seq) => match seq.as_slice() {
            [Value::String(s), Value::Mapping(vars)] => {
                let variables = vars
                    .iter()
                    .map(|(k, v)| Some((k.as_str()?.to_owned(), Expr::from_value(v))))
                    .collect::<Option<_>>()?;
                Some(Expr::Sub {
                    template: s.clone(),
                    variables,
                })
            }
            _ => None,
        },
        _ => None,
    }
}

fn join(arg: &Value) -> Option<Expr> {
    match arg.as_sequence()?.as_slice() {
        [Value::String(delimiter), Value::Sequence(parts)] => Some(Expr::Join {
            delimiter: delimiter.clone(),
            parts: parts.iter().map(Expr::from_value).collect(),
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(yaml: &str) -> Expr {
        let value: Value = serde_norway::from_str(yaml).expect("yaml");
        Expr::from_value(&value)
    }

    #[test]
    fn short_and_long_forms_agree() {
        assert_eq!(parse("!Ref Stage"), Expr::Ref("Stage".into()));
        assert_eq!(parse("{ Ref: Stage }"), Expr::Ref("Stage".into()));
        let att = Expr::GetAtt {
            resource: "T".into(),
            attribute: "Arn".into(),
        };
        assert_eq!(parse("!GetAtt T.Arn"), att);
        assert_eq!(parse("!GetAtt [T, Arn]"), att);
        assert_eq!(parse("{ 'Fn::GetAtt': [T, Arn] }"), att);
    }

    #[test]
    fn sub_with_variables_and_join() {
        let Expr::Sub {
            template,
            variables,
        } = parse("!Sub ['${A}-x', { A: !Ref B }]")
        else {
            panic!("not a Sub");
        };
        assert_eq!(template, "${A}-x");
        assert_eq!(variables["A"], Expr::Ref("B".into()));
        assert_eq!(
            parse("!Join [',', [a, !Ref B]]"),
            Expr::Join {
                delimiter: ",".into(),
                parts: vec![Expr::Literal("a".into()), Expr::Ref("B".into())]
            }
        );
    }

    #[test]
    fn scalars_are_literals_and_unknown_tags_are_kept() {
        assert_eq!(parse("128"), Expr::Literal("128".into()));
        assert_eq!(parse("true"), Expr::Literal("true".into()));
        assert_eq!(parse("!If [C, a, b]"), Expr::Unsupported("!If".into()));
    }
}
