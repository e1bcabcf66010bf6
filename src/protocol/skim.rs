//! Skimming an event: parsing only the fields that ingestion indexes and groups on (about a
//! tenth of a typical event: no frame variables, source context, breadcrumbs, request
//! bodies or modules), into the same `Value` shape the full parse gives, so that
//! [`super::event::normalize`] and `grouping::group` compute exactly what they compute on the
//! whole event. The whole event is stored as it came and normalized when it is read back
//! (see `store::payload::decompress_payload`). Pure.

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// Which part of a JSON value to keep. Lists are transparent: a list under a `Fields` node
/// keeps those fields of each of its items.
#[derive(Clone, Copy)]
enum Keep {
    All,
    Fields(&'static [(&'static str, Keep)]),
}

const FRAME: Keep = Keep::Fields(&[
    ("filename", Keep::All),
    ("abs_path", Keep::All),
    ("function", Keep::All),
    ("raw_function", Keep::All),
    ("module", Keep::All),
    ("package", Keep::All),
    ("context_line", Keep::All),
    ("in_app", Keep::All),
    ("platform", Keep::All),
]);
const STACKTRACE: Keep = Keep::Fields(&[("frames", FRAME)]);
const EXCEPTION_FIELDS: &[(&str, Keep)] = &[
    ("type", Keep::All),
    ("value", Keep::All),
    ("module", Keep::All),
    ("mechanism", Keep::Fields(&[("handled", Keep::All), ("type", Keep::All)])),
    ("stacktrace", STACKTRACE),
];
const EXCEPTION: Keep = Keep::Fields(&[
    ("values", Keep::Fields(EXCEPTION_FIELDS)),
    ("type", Keep::All),
    ("value", Keep::All),
    ("module", Keep::All),
    ("mechanism", Keep::Fields(&[("handled", Keep::All), ("type", Keep::All)])),
    ("stacktrace", STACKTRACE),
]);
const THREAD_FIELDS: &[(&str, Keep)] = &[("crashed", Keep::All), ("current", Keep::All), ("stacktrace", STACKTRACE)];
const THREADS: Keep = Keep::Fields(&[
    ("values", Keep::Fields(THREAD_FIELDS)),
    ("crashed", Keep::All),
    ("current", Keep::All),
    ("stacktrace", STACKTRACE),
]);
const CONTEXT: Keep =
    Keep::Fields(&[("name", Keep::All), ("model", Keep::All), ("family", Keep::All), ("version", Keep::All)]);

/// The event fields normalization and grouping read (everything else is skipped).
const EVENT: Keep = Keep::Fields(&[
    ("event_id", Keep::All),
    ("timestamp", Keep::All),
    ("level", Keep::All),
    ("platform", Keep::All),
    ("logger", Keep::All),
    ("transaction", Keep::All),
    ("server_name", Keep::All),
    ("dist", Keep::All),
    ("culprit", Keep::All),
    ("release", Keep::All),
    ("environment", Keep::All),
    ("tags", Keep::All),
    ("user", Keep::All),
    ("fingerprint", Keep::All),
    ("logentry", Keep::All),
    ("message", Keep::All),
    ("exception", EXCEPTION),
    ("threads", THREADS),
    ("stacktrace", STACKTRACE),
    ("request", Keep::Fields(&[("url", Keep::All)])),
    ("contexts", Keep::Fields(&[("os", CONTEXT), ("browser", CONTEXT), ("runtime", CONTEXT), ("device", CONTEXT)])),
]);

/// The skimmed event, or `None` when the payload needs the full, lenient path: not strict
/// JSON (Python's `NaN`), not an object, or a legacy `sentry.interfaces.*` key (whose
/// renaming depends on fields skimming drops).
pub fn skim(payload: &[u8]) -> Option<Value> {
    if memchr::memmem::find(payload, b"sentry.interfaces.").is_some() {
        return None;
    }
    let mut de = serde_json::Deserializer::from_slice(payload);
    let value = Skim(EVENT).deserialize(&mut de).ok()?;
    de.end().ok()?;
    value.is_object().then_some(value)
}

struct Skim(Keep);

impl<'de> DeserializeSeed<'de> for Skim {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        match self.0 {
            Keep::All => serde::Deserialize::deserialize(deserializer),
            Keep::Fields(_) => deserializer.deserialize_any(self),
        }
    }
}

impl<'de> Visitor<'de> for Skim {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let Keep::Fields(fields) = self.0 else { unreachable!("Keep::All deserializes a whole Value") };
        let mut out = Map::new();
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            match fields.iter().find(|(name, _)| *name == key) {
                Some(&(_, keep)) => {
                    let v = map.next_value_seed(Skim(keep))?;
                    out.insert(key.into_owned(), v);
                }
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(Value::Object(out))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        while let Some(v) = seq.next_element_seed(Skim(self.0))? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map(Value::Number).unwrap_or(Value::Null))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
}
