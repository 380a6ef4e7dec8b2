//! `#[repartition(partitions = n)]`: a transform's output written to its own repartition topic
//! and read back partitioned by the new key, so the aggregation after it needs no other.

use kafka_streams::codec::Utf8;
use kafka_streams::config::StreamsConfig;
use kafka_streams::testing::TestDriver;

#[kafka_streams::topology(application_id = "page-popularity")]
pub mod popularity {
    #[source(topic = "page-views", key_format = "utf8", value_format = "utf8")]
    pub type PageViews = (String, String);

    /// Views re-keyed by page, spread over 3 partitions (the input has 2).
    #[allow(clippy::ptr_arg)] // parameters have the stream's exact types
    #[repartition(partitions = 3)]
    pub fn by_page(#[from(PageViews)] user: &String, page: &String) -> (String, String) {
        (page.clone(), user.clone())
    }

    #[state_store(name = "views-per-page")]
    pub fn count(#[from(by_page)] _page: &String, _user: &String, views: &mut u64) {
        *views += 1;
    }
}

#[test]
fn a_repartition_declared_with_the_macros() -> kafka_streams::Result<()> {
    let config = StreamsConfig::builder(popularity::APPLICATION_ID).build()?;
    let driver = TestDriver::builder(popularity::topology()?, config)
        .partitions(2)
        .build()?;
    let views = driver.input_topic_with::<String, String>(popularity::topics::PAGE_VIEWS, Utf8, Utf8)?;
    for (user, page) in [("ann", "/a"), ("bob", "/a"), ("cy", "/b"), ("ann", "/a")] {
        views.pipe(user.to_owned(), page.to_owned())?;
    }
    assert_eq!(
        popularity::stores::ViewsPerPage::get(&driver, &"/a".to_owned())?,
        Some(3)
    );
    assert_eq!(
        popularity::stores::ViewsPerPage::get(&driver, &"/b".to_owned())?,
        Some(1)
    );
    let topics = driver.topics();
    assert!(
        topics.contains(&(popularity::topics::BY_PAGE_REPARTITION.to_owned(), 3)),
        "{topics:?}"
    );
    assert_eq!(
        popularity::topics::BY_PAGE_REPARTITION,
        "page-popularity-by-page-repartition"
    );
    // `describe()` names the topics as they are on the broker (not `<application.id>-…`).
    let described = popularity::describe();
    assert!(
        described.contains(popularity::topics::BY_PAGE_REPARTITION) && !described.contains("<application.id>"),
        "{described}"
    );
    // No second repartition before the aggregation: the keys are already partitioned.
    assert!(
        !topics.iter().any(|(t, _)| t.contains("views-per-page-repartition")),
        "{topics:?}"
    );
    Ok(())
}
