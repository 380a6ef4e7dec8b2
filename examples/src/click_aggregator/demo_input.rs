//! Deterministic demo clicks, so a run can be checked against counts computed independently.

use super::Click;

const URLS: [&str; 5] = ["/home", "/profile", "/search", "/cart", "/checkout"];

/// An endless, reproducible stream of clicks: event time advances one second per click,
/// starting at 2024-01-05T10:00:00Z, the seed walkthrough's morning.
#[derive(Clone, Debug)]
pub struct DemoClicks {
    users: u64,
    seq: u64,
}

/// 2024-01-05T10:00:00Z in epoch seconds.
pub(crate) const DEMO_START_SECS: i64 = 1_704_448_800;

impl DemoClicks {
    /// Clicks spread over `users` users named `user-0` … `user-{users-1}`.
    pub fn new(users: u64) -> Self {
        Self {
            users: users.max(1),
            seq: 0,
        }
    }
}

impl Iterator for DemoClicks {
    type Item = Click;

    fn next(&mut self) -> Option<Click> {
        let n = self.seq;
        self.seq += 1;
        let r = splitmix64(n);
        Some(Click {
            user_id: format!("user-{}", r % self.users),
            url: URLS[(r >> 32) as usize % URLS.len()].to_owned(),
            timestamp: DEMO_START_SECS + n as i64,
        })
    }
}

fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}
