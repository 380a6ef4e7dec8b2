#[kafka_streams::topology(application_id = "app")]
mod app {
    #[table(topic = "user-regions", store = "user-regions")]
    pub type Regions = (String, String);

    /// A row changing group must be removed from the old one: `subtract` is required.
    #[state_store(name = "users-per-region", group_by = by_region)]
    pub fn count(#[from(Regions)] _region: &String, _user: &String, users: &mut i64) {
        *users += 1;
    }

    pub fn by_region(user: &String, region: &String) -> (String, String) {
        (region.clone(), user.clone())
    }
}

fn main() {}
