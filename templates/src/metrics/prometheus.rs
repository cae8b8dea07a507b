//! The recorder behind the `metrics` macros: counters, gauges and
//! histograms, rendered in Prometheus' text format (version 0.0.4).
//!
//! It stands in for metrics-exporter-prometheus, whose nineteen crates
//! (summaries, idle expiry, push gateways, lock-free maps) this server has no
//! use for but every first `cargo build` paid for. Every histogram has
//! Prometheus' default buckets, which suit request and tool durations in
//! seconds.

use std::{
    collections::{BTreeMap, HashMap},
    fmt::Write as _,
    sync::{
        Arc, RwLock,
        atomic::{AtomicU64, Ordering},
    },
};

use metrics::{
    Counter, Gauge, Histogram, HistogramFn, Key, KeyName, Metadata, Recorder, SharedString, Unit,
};

/// Prometheus' default buckets, in seconds.
pub const BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The series recorded so far; clones share them.
#[derive(Clone, Default)]
pub struct Registry(Arc<Series>);

#[derive(Default)]
struct Series {
    counters: Table<AtomicU64>,
    gauges: Table<AtomicU64>,
    histograms: Table<Buckets>,
    help: RwLock<HashMap<String, String>>,
}

/// One metric kind's series by name and labels. Lookups take the read lock
/// only; a series is inserted once, on its first use.
struct Table<T>(RwLock<HashMap<Key, Arc<T>>>);

impl<T> Default for Table<T> {
    fn default() -> Self {
        Self(RwLock::default())
    }
}

impl<T: Default> Table<T> {
    fn get(&self, key: &Key) -> Arc<T> {
        if let Some(series) = self.0.read().unwrap_or_else(|e| e.into_inner()).get(key) {
            return Arc::clone(series);
        }
        let mut table = self.0.write().unwrap_or_else(|e| e.into_inner());
        Arc::clone(table.entry(key.clone()).or_default())
    }

    /// The series by name, then by rendered labels, so the output is stable.
    fn sorted(&self) -> BTreeMap<String, BTreeMap<String, (Key, Arc<T>)>> {
        let mut sorted: BTreeMap<String, BTreeMap<String, _>> = BTreeMap::new();
        for (key, series) in self.0.read().unwrap_or_else(|e| e.into_inner()).iter() {
            sorted
                .entry(sanitize(key.name(), true))
                .or_default()
                .insert(labels(key, None), (key.clone(), Arc::clone(series)));
        }
        sorted
    }
}

/// A histogram: a count per bucket (not cumulative), one more for values
/// above the last bound, and the sum of the values (`f64` bits).
#[derive(Default)]
struct Buckets {
    counts: [AtomicU64; BUCKETS.len() + 1],
    sum: AtomicU64,
}

impl HistogramFn for Buckets {
    fn record(&self, value: f64) {
        let bucket = BUCKETS
            .iter()
            .position(|bound| value <= *bound)
            .unwrap_or(BUCKETS.len());
        self.counts[bucket].fetch_add(1, Ordering::Relaxed);
        let _ = self
            .sum
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |sum| {
                Some((f64::from_bits(sum) + value).to_bits())
            });
    }
}

impl Recorder for Registry {
    fn describe_counter(&self, key: KeyName, _: Option<Unit>, description: SharedString) {
        self.describe(key, description);
    }

    fn describe_gauge(&self, key: KeyName, _: Option<Unit>, description: SharedString) {
        self.describe(key, description);
    }

    fn describe_histogram(&self, key: KeyName, _: Option<Unit>, description: SharedString) {
        self.describe(key, description);
    }

    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
        Counter::from_arc(self.0.counters.get(key))
    }

    fn register_gauge(&self, key: &Key, _: &Metadata<'_>) -> Gauge {
        Gauge::from_arc(self.0.gauges.get(key))
    }

    fn register_histogram(&self, key: &Key, _: &Metadata<'_>) -> Histogram {
        Histogram::from_arc(self.0.histograms.get(key))
    }
}

impl Registry {
    fn describe(&self, key: KeyName, description: SharedString) {
        let mut help = self.0.help.write().unwrap_or_else(|e| e.into_inner());
        help.insert(sanitize(key.as_str(), true), description.into_owned());
    }

    /// Every series, in Prometheus' text format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let help = self
            .0
            .help
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let header = |out: &mut String, name: &str, kind: &str| {
            if let Some(text) = help.get(name) {
                let text = text.replace('\\', r"\\").replace('\n', r"\n");
                let _ = writeln!(out, "# HELP {name} {text}");
            }
            let _ = writeln!(out, "# TYPE {name} {kind}");
        };
        for (name, series) in self.0.counters.sorted() {
            header(&mut out, &name, "counter");
            for (labels, (_, counter)) in series {
                let _ = writeln!(out, "{name}{labels} {}", counter.load(Ordering::Relaxed));
            }
        }
        for (name, series) in self.0.gauges.sorted() {
            header(&mut out, &name, "gauge");
            for (labels, (_, gauge)) in series {
                let value = f64::from_bits(gauge.load(Ordering::Relaxed));
                let _ = writeln!(out, "{name}{labels} {}", number(value));
            }
        }
        for (name, series) in self.0.histograms.sorted() {
            header(&mut out, &name, "histogram");
            for (labels, (key, buckets)) in series {
                let mut cumulative = 0;
                for (index, count) in buckets.counts.iter().enumerate() {
                    cumulative += count.load(Ordering::Relaxed);
                    let bound = BUCKETS.get(index).map_or("+Inf".to_owned(), |b| number(*b));
                    let with_le = self::labels(&key, Some(&bound));
                    let _ = writeln!(out, "{name}_bucket{with_le} {cumulative}");
                }
                let sum = f64::from_bits(buckets.sum.load(Ordering::Relaxed));
                let _ = writeln!(out, "{name}_sum{labels} {}", number(sum));
                let _ = writeln!(out, "{name}_count{labels} {cumulative}");
            }
        }
        out
    }
}

/// A metric (`colon`) or label name with every character Prometheus does
/// not allow there made `_`.
fn sanitize(raw: &str, colon: bool) -> String {
    let allowed = |c: char| c.is_ascii_alphanumeric() || c == '_' || (colon && c == ':');
    let mut name: String = raw
        .chars()
        .map(|c| if allowed(c) { c } else { '_' })
        .collect();
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        name.insert(0, '_');
    }
    name
}

/// `{a="1",b="2"}` (with `le` last when given), or nothing without labels.
fn labels(key: &Key, le: Option<&str>) -> String {
    let mut pairs: Vec<String> = key
        .labels()
        .map(|label| {
            let value = label
                .value()
                .replace('\\', r"\\")
                .replace('"', "\\\"")
                .replace('\n', r"\n");
            format!("{}=\"{value}\"", sanitize(label.key(), false))
        })
        .collect();
    if let Some(le) = le {
        pairs.push(format!("le=\"{le}\""));
    }
    if pairs.is_empty() {
        String::new()
    } else {
        format!("{{{}}}", pairs.join(","))
    }
}

/// A value as Prometheus writes one: `+Inf`, `-Inf`, `NaN`, or the shortest
/// decimal that reads back the same.
fn number(value: f64) -> String {
    if value.is_nan() {
        "NaN".to_owned()
    } else if value.is_infinite() {
        if value > 0.0 { "+Inf" } else { "-Inf" }.to_owned()
    } else {
        value.to_string()
    }
}

#[cfg(test)]
mod tests {
    use metrics::{Label, Recorder as _};

    use super::*;

    fn key(name: &'static str, labels: &[(&'static str, &'static str)]) -> Key {
        let labels: Vec<Label> = labels.iter().map(|(k, v)| Label::new(*k, *v)).collect();
        Key::from_parts(name, labels)
    }

    const METADATA: Metadata<'static> = Metadata::new("test", metrics::Level::INFO, None);

    #[test]
    fn counters_and_gauges_render_sorted_with_help_and_type() {
        let registry = Registry::default();
        registry.describe_counter("requests_total".into(), None, "Requests answered.".into());
        let ok = key("requests_total", &[("status", "200")]);
        let missing = key("requests_total", &[("status", "404")]);
        registry.register_counter(&missing, &METADATA).increment(1);
        registry.register_counter(&ok, &METADATA).increment(2);
        registry.register_counter(&ok, &METADATA).increment(3);
        registry
            .register_gauge(&key("keys", &[]), &METADATA)
            .set(2.5);
        assert_eq!(
            registry.render(),
            "# HELP requests_total Requests answered.\n\
             # TYPE requests_total counter\n\
             requests_total{status=\"200\"} 5\n\
             requests_total{status=\"404\"} 1\n\
             # TYPE keys gauge\n\
             keys 2.5\n"
        );
    }

    #[test]
    fn histograms_count_each_value_once_in_cumulative_buckets() {
        let registry = Registry::default();
        let duration = registry.register_histogram(&key("d", &[("tool", "t")]), &METADATA);
        for value in [0.001, 0.005, 0.3, 11.0] {
            duration.record(value);
        }
        let text = registry.render();
        let line = |suffix: &str| {
            text.lines()
                .find(|line| line.starts_with(&format!("d{suffix}")))
                .unwrap_or_else(|| panic!("no d{suffix} in {text}"))
                .rsplit(' ')
                .next()
                .unwrap()
                .to_owned()
        };
        assert_eq!(line("_bucket{tool=\"t\",le=\"0.005\"}"), "2");
        assert_eq!(line("_bucket{tool=\"t\",le=\"0.25\"}"), "2");
        assert_eq!(line("_bucket{tool=\"t\",le=\"0.5\"}"), "3");
        assert_eq!(line("_bucket{tool=\"t\",le=\"10\"}"), "3");
        assert_eq!(line("_bucket{tool=\"t\",le=\"+Inf\"}"), "4");
        assert_eq!(line("_count{tool=\"t\"}"), "4");
        assert_eq!(
            line("_sum{tool=\"t\"}"),
            (0.001 + 0.005 + 0.3 + 11.0).to_string()
        );
        assert!(text.contains("# TYPE d histogram\n"), "{text}");
    }

    #[test]
    fn names_and_label_values_are_escaped() {
        let registry = Registry::default();
        let odd = key("9 bad-name", &[("route", "a\"b\\c\nd")]);
        registry.register_counter(&odd, &METADATA).increment(1);
        assert_eq!(
            registry.render(),
            "# TYPE _9_bad_name counter\n_9_bad_name{route=\"a\\\"b\\\\c\\nd\"} 1\n"
        );
    }
}
