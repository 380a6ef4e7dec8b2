/// When a windowed aggregation sends its results downstream.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum EmitStrategy {
    /// After every update: a window's aggregate is emitted each time a record changes it (Kafka
    /// Streams' default, KTable semantics).
    #[default]
    OnWindowUpdate,
    /// Once per window, when it closes (stream time passes its end plus the grace period): only
    /// final results, stamped with the time of the window's latest record. Kafka Streams'
    /// `EmitStrategy.onWindowClose()`.
    OnWindowClose,
}
