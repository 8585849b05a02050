//! S10 serial allocation: unique under concurrency, wrapping at 100,000,000 without reusing
//! identifiers still held by items, and never wrapping twice within 24 months.

use std::collections::HashSet;

use chrono::{DateTime, Duration, Utc};
use eposta_formats::s10::S10;
use eposta_kernel::db_run;
use eposta_kernel::testing::TestApp;
use eposta_postal::allocation::{self, COUNTRY, SERVICE_INDICATORS, allocate, set_counter};
use eposta_postal::domain::Product;

use super::{app, shipment};

async fn counter(t: &TestApp, si: &str) -> (i64, Option<DateTime<Utc>>) {
    let mut conn = t.app.db.conn().await.expect("connection");
    db_run!(&mut conn, |c| sqlx::query_as::<
        _,
        (i64, Option<DateTime<Utc>>),
    >(
        "SELECT next_serial, wrapped_at FROM s10_serials WHERE service_indicator = $1"
    )
    .bind(si)
    .fetch_one(&mut *c)
    .await)
    .expect("counter")
}

fn serials(ids: &[S10]) -> Vec<u32> {
    ids.iter().map(S10::serial).collect()
}

#[test]
fn every_product_has_a_service_indicator_we_may_issue() {
    let mut seen = HashSet::new();
    for p in Product::ALL {
        for insured in [false, true] {
            let si = allocation::service_indicator(p, insured);
            assert!(SERVICE_INDICATORS.contains(&si), "{si}");
            let id = S10::new(si, 12_345_678, COUNTRY).expect("valid");
            assert_eq!(S10::parse(id.as_str()).expect("valid").warning, None);
            seen.insert(si);
        }
    }
    assert_eq!(seen.len(), SERVICE_INDICATORS.len());
}

#[tokio::test]
async fn serials_are_unique_when_tasks_allocate_at_once() {
    let t = app().await;
    let mut tasks = Vec::new();
    for task in 0..8usize {
        let app = t.app.clone();
        tasks.push(tokio::spawn(async move {
            let mut got = Vec::new();
            for round in 0..15usize {
                // Two indicators, blocks of 1 to 7: interleaved on the same counters.
                let si = if (task + round) % 3 == 0 { "CA" } else { "RA" };
                got.extend(
                    allocate(&app, si, 1 + (task + round) % 7)
                        .await
                        .expect("allocated"),
                );
            }
            got
        }));
    }
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.expect("task"));
    }
    let distinct: HashSet<S10> = all.iter().copied().collect();
    assert_eq!(distinct.len(), all.len(), "no identifier twice");
    for id in &all {
        let checked = S10::parse(&id.grouped()).expect("every identifier validates");
        assert_eq!(checked.id, *id);
        assert_eq!(id.country(), "RS");
    }
    // Nothing failed, so the counters account for every serial, without gaps.
    for si in ["CA", "RA"] {
        let n = all.iter().filter(|id| id.service_indicator() == si).count();
        assert_eq!(counter(&t, si).await.0, n as i64, "{si}");
        let mut s = serials(
            &all.iter()
                .copied()
                .filter(|id| id.service_indicator() == si)
                .collect::<Vec<_>>(),
        );
        s.sort_unstable();
        assert_eq!(
            s,
            (0..n as u32).collect::<Vec<_>>(),
            "{si} serials from 0 up"
        );
    }
}

/// Books an item through the API and gives it the identifier `id`, as if it had been booked
/// under that identifier before the counter wrapped.
async fn item_holding(t: &TestApp, id: &S10) {
    let key = super::api_key(t, "Старе пошиљке", &["postal:book"]).await;
    let r = t
        .api(&key)
        .post_json("/api/v1/shipments", &shipment(0), &[])
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let booked = r.json()["tracking_number"]
        .as_str()
        .expect("booked")
        .to_owned();
    let mut conn = t.app.db.conn().await.expect("connection");
    let n = db_run!(&mut conn, |c| sqlx::query(
        "UPDATE postal_items SET tracking_number = $1 WHERE tracking_number = $2"
    )
    .bind(id.as_str())
    .bind(&booked)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))
    .expect("update");
    assert_eq!(n, 1);
}

#[tokio::test]
async fn the_counter_wraps_and_skips_identifiers_still_held() {
    let t = app().await;
    let held = S10::new("RA", 3, COUNTRY).expect("valid");
    item_holding(&t, &held).await;
    let mut tx = t.app.db.begin().await.expect("tx");
    set_counter(&mut tx, "RA", 99_999_990, None)
        .await
        .expect("set");
    tx.commit().await.expect("commit");

    // Exactly the last ten serials.
    let last = allocate(&t.app, "RA", 10).await.expect("allocated");
    assert_eq!(
        serials(&last),
        (99_999_990..100_000_000).collect::<Vec<_>>()
    );
    assert_eq!(last[9].as_str(), "RA999999995RS");

    // Nothing is left: the range starts again at 0, and RA000000035RS is still held.
    let wrapped = allocate(&t.app, "RA", 5).await.expect("allocated");
    assert_eq!(serials(&wrapped), [0, 1, 2, 4, 5]);
    assert!(!wrapped.contains(&held));
    assert_eq!(counter(&t, "RA").await, (6, Some(t.app.now())));
    for id in last.iter().chain(&wrapped) {
        S10::parse(id.as_str()).expect("valid");
    }

    // A month later the range is used up again: S10 numbers may not come back that soon.
    t.clock.advance(Duration::days(30));
    let mut tx = t.app.db.begin().await.expect("tx");
    set_counter(
        &mut tx,
        "RA",
        99_999_999,
        Some(t.app.now() - Duration::days(30)),
    )
    .await
    .expect("set");
    tx.commit().await.expect("commit");
    let refused = allocate(&t.app, "RA", 2).await;
    assert!(refused.is_err(), "{refused:?}");
    assert_eq!(counter(&t, "RA").await.0, 99_999_999, "nothing was taken");

    // 25 months after the last wrap it may wrap again; the held identifier is still skipped.
    t.clock.advance(Duration::days(25 * 31));
    let again = allocate(&t.app, "RA", 4).await.expect("allocated");
    assert_eq!(
        serials(&again),
        [0, 1, 2, 4],
        "one serial left at the end is skipped"
    );
}

#[tokio::test]
async fn a_counter_cannot_be_set_outside_the_range() {
    let t = app().await;
    let mut tx = t.app.db.begin().await.expect("tx");
    assert!(set_counter(&mut tx, "RA", 100_000_001, None).await.is_err());
    assert!(set_counter(&mut tx, "RA", -1, None).await.is_err());
    set_counter(&mut tx, "RA", 100_000_000, None)
        .await
        .expect("the end itself");
    tx.commit().await.expect("commit");
    let ids = allocate(&t.app, "RA", 1).await.expect("wraps at once");
    assert_eq!(serials(&ids), [0]);
}
