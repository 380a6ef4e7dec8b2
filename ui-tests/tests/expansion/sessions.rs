//! `#[windowed(session(..), merge = ..)]`: session windows declared with the macros, on the
//! broker-free test driver, read back through the generated store accessor.

use kafka_streams::codec::Utf8;
use kafka_streams::config::StreamsConfig;
use kafka_streams::testing::TestDriver;

#[kafka_streams::topology(application_id = "reading-sessions")]
pub mod reading {
    #[source(topic = "page-views", key_format = "utf8", value_format = "utf8")]
    pub type PageViews = (String, String);

    /// Pages a reader viewed, per session of activity (30 minutes of inactivity end one).
    #[allow(clippy::ptr_arg)] // parameters have the stream's exact types
    #[windowed(session(inactivity_gap = "30m"), merge = concat)]
    #[state_store(name = "reading-sessions")]
    pub fn pages(#[from(PageViews)] _reader: &String, page: &String, pages: &mut Vec<String>) {
        pages.push(page.clone());
    }

    pub fn concat(mut a: Vec<String>, b: Vec<String>) -> Vec<String> {
        a.extend(b);
        a
    }
}

#[test]
fn session_windows_declared_with_the_macros() -> kafka_streams::Result<()> {
    const MIN: i64 = 60_000;
    let config = StreamsConfig::builder(reading::APPLICATION_ID).build()?;
    let driver = TestDriver::builder(reading::topology()?, config)
        .partitions(2)
        .build()?;
    let views = driver.input_topic_with::<String, String>(reading::topics::PAGE_VIEWS, Utf8, Utf8)?;
    views.pipe_at("ann".into(), "/a".into(), 0)?;
    views.pipe_at("ann".into(), "/b".into(), 20 * MIN)?;
    views.pipe_at("ann".into(), "/c".into(), 80 * MIN)?;
    // Bridges the two sessions (within 30 min of both): they merge, `concat` joins their pages.
    views.pipe_at("ann".into(), "/d".into(), 50 * MIN)?;
    let sessions = reading::stores::ReadingSessions::fetch(&driver, &"ann".to_owned())?;
    assert_eq!(sessions.len(), 1);
    let (window, pages) = &sessions[0];
    assert_eq!((window.start_ms, window.end_ms), (0, 80 * MIN));
    assert_eq!(pages, &["/a", "/b", "/c", "/d"]);
    Ok(())
}
