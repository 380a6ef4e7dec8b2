use kafka_streams::processor::{Processor, ProcessorContext, Record};

#[derive(Default)]
pub struct Passthrough;

impl Processor<String, String> for Passthrough {
    type KeyOut = String;
    type ValueOut = String;

    fn process(&mut self, ctx: &mut ProcessorContext<'_, String, String>, r: Record<String, String>) -> kafka_streams::Result<()> {
        ctx.forward(r)
    }
}

#[kafka_streams::topology(application_id = "app")]
mod app {
    #[source(topic = "in")]
    pub type In = (String, String);

    /// Which stream does it read? `from` is missing.
    #[processor(stores(key_value(name = "seen", key = String, value = u64)))]
    pub type Pass = super::Passthrough;
}

fn main() {}
