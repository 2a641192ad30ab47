//! The metrics every binding exports (OpenTelemetry in Python, Kotlin and JS;
//! Micrometer on the JVM), named once here in OpenTelemetry's style: dotted
//! names, UCUM units, low-cardinality attributes. The bindings build their
//! instruments from this table (through `metric_kinds` in uniffi and
//! WebAssembly) and feed them from the events ([`crate::Event`]), the lookup
//! counters and [`crate::Status`]; Rust has the events and the status.

/// How a metric is recorded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Instrument {
    /// A monotonic sum, added to as events arrive.
    Counter,
    /// A distribution of values, recorded as events arrive.
    Histogram,
    /// A monotonic sum read at collection time (no work per call).
    ObservableCounter,
    /// A current value read at collection time.
    ObservableGauge,
}

impl Instrument {
    /// `counter`, `histogram`, `observable_counter` or `observable_gauge`.
    pub fn code(self) -> &'static str {
        match self {
            Instrument::Counter => "counter",
            Instrument::Histogram => "histogram",
            Instrument::ObservableCounter => "observable_counter",
            Instrument::ObservableGauge => "observable_gauge",
        }
    }
}

/// One row of the metrics table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MetricKind {
    /// The metric's name.
    pub name: &'static str,
    /// How it is recorded.
    pub instrument: Instrument,
    /// Its unit (UCUM).
    pub unit: &'static str,
    /// What it measures.
    pub description: &'static str,
    /// Its attributes; `client` is the client's name (config `name`, else the
    /// provider).
    pub attributes: &'static [&'static str],
}

/// Every metric, with where its values come from in the description.
pub const METRICS: [MetricKind; 8] = [
    MetricKind {
        name: "tokenwell.token.requests",
        instrument: Instrument::Counter,
        unit: "{request}",
        description: "Token fetches, by outcome (ok or the error code) and reason (first, refresh, after_401, expired, adopted from the shared store).",
        attributes: &["client", "outcome", "reason"],
    },
    MetricKind {
        name: "tokenwell.token.request.duration",
        instrument: Instrument::Histogram,
        unit: "s",
        description: "How long token fetches took (the shared store's and the endpoint's time).",
        attributes: &["client", "outcome"],
    },
    MetricKind {
        name: "tokenwell.cache.lookups",
        instrument: Instrument::ObservableCounter,
        unit: "{lookup}",
        description: "Token lookups, by result: hit (a fresh cached token), stale (served while a refresh runs) or miss (the caller waited for a fetch).",
        attributes: &["client", "result"],
    },
    MetricKind {
        name: "tokenwell.token.remaining",
        instrument: Instrument::ObservableGauge,
        unit: "s",
        description: "The held token's remaining lifetime to its expiry (absent without a token).",
        attributes: &["client"],
    },
    MetricKind {
        name: "tokenwell.client.healthy",
        instrument: Instrument::ObservableGauge,
        unit: "1",
        description: "1 unless the client holds no usable token and its last fetch failed, then 0.",
        attributes: &["client"],
    },
    MetricKind {
        name: "tokenwell.store.lock",
        instrument: Instrument::Counter,
        unit: "{fetch}",
        description: "Fetches through the shared store, by the fleet lock's outcome: won, waited, adopted (the holder's token) or gave_up.",
        attributes: &["client", "outcome"],
    },
    MetricKind {
        name: "tokenwell.store.failures",
        instrument: Instrument::Counter,
        unit: "{failure}",
        description: "Shared-store calls that failed or timed out (each a cache miss).",
        attributes: &["client"],
    },
    MetricKind {
        name: "tokenwell.store.breaker.state",
        instrument: Instrument::ObservableGauge,
        unit: "1",
        description: "The shared store's circuit breaker: 0 closed, 1 half-open, 2 open (absent without a store).",
        attributes: &["client"],
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_dotted_and_carry_the_client() {
        let mut names: Vec<_> = METRICS.iter().map(|m| m.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), METRICS.len());
        for m in METRICS {
            assert!(m.name.starts_with("tokenwell.") && !m.name.contains(' '));
            assert_eq!(m.attributes.first(), Some(&"client"), "{}", m.name);
        }
    }
}
