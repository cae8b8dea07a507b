//! Counting the values of a JSON message before anything builds a tree of
//! it: rmcp parses every message into `serde_json::Value`s, which for 1 MiB
//! of tiny values (`[0,0,0,...]`) takes about 80 MiB. The count streams
//! through the bytes and allocates nothing.

use std::{cell::Cell, fmt};

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// Why a message was not counted to the end.
#[derive(Debug, PartialEq, Eq)]
pub enum Uncounted {
    /// More values than the limit.
    TooMany,
    /// Not one JSON value.
    Invalid,
}

/// The values in `body`, which must be one JSON value, itself included (an
/// object or array is one, and so is each of its members); at most `limit`.
pub fn count(body: &[u8], limit: usize) -> Result<usize, Uncounted> {
    let seen = Cell::new(0);
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    Count { seen: &seen, limit }
        .deserialize(&mut deserializer)
        .and_then(|()| deserializer.end())
        .map(|()| seen.get())
        .map_err(|_| {
            if seen.get() > limit {
                Uncounted::TooMany
            } else {
                Uncounted::Invalid
            }
        })
}

#[derive(Clone, Copy)]
struct Count<'a> {
    seen: &'a Cell<usize>,
    limit: usize,
}

impl Count<'_> {
    /// One more value; an error past the limit stops the parse there.
    fn one<E: de::Error>(self) -> Result<(), E> {
        self.seen.set(self.seen.get() + 1);
        if self.seen.get() > self.limit {
            return Err(E::custom("too many JSON values"));
        }
        Ok(())
    }
}

impl<'de> DeserializeSeed<'de> for Count<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Count<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        self.one()
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        self.one()
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        self.one()
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        self.one()
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        self.one()
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.one()
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        self.one()?;
        while seq.next_element_seed(self)?.is_some() {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        self.one()?;
        while map.next_key::<IgnoredAny>()?.is_some() {
            map.next_value_seed(self)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_counts_containers_included() {
        let message = br#"{"a":[1,2.5,"x",null,true,{"b":{}}],"c":-3}"#;
        // The object, the array and its 6 members, `b`'s object, and `c`.
        assert_eq!(count(message, 10), Ok(10));
        assert_eq!(count(message, 9), Err(Uncounted::TooMany));
    }

    #[test]
    fn what_is_not_one_json_value_is_invalid_not_too_many() {
        for body in [&b"{"[..], b"{} {}", b"[1,]", b"", b"{\"a\":1}x"] {
            assert_eq!(count(body, 10), Err(Uncounted::Invalid), "{body:?}");
        }
    }

    #[test]
    fn a_megabyte_of_tiny_values_stops_at_the_limit() {
        let mut body = b"[0".to_vec();
        body.extend(b",0".repeat(500_000));
        body.push(b']');
        assert_eq!(count(&body, 10_000), Err(Uncounted::TooMany));
    }
}
