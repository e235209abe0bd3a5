//! `fairgig bench …`: benchmarks that print figures (never assert them).

use anyhow::Context;
use fairgig_pipeline::bench;
use fairgig_store::{test_support::TestDatabase, Store};

/// Queue throughput with 1, 2 and 8 workers, and 40-step chain latency
/// (median of 5), on SQLite and, when given, PostgreSQL.
pub async fn queue(tasks: usize, postgres: Option<String>) -> anyhow::Result<()> {
    let sqlite = TestDatabase::sqlite().context("temporary directory")?;
    let store = sqlite.store().await?;
    report("sqlite", &store, tasks).await?;
    store.close().await;
    if let Some(url) = postgres {
        let database = postgres_database(&url).await?;
        let store = database.store().await?;
        report("postgres", &store, tasks).await?;
        store.close().await;
        database.cleanup().await?;
    } else {
        println!("postgres: skipped (pass --postgres URL or set FAIRGIG_TEST_POSTGRES_URL)");
    }
    Ok(())
}

async fn postgres_database(url: &str) -> anyhow::Result<TestDatabase> {
    TestDatabase::postgres_on(url).await.context("creating a scratch PostgreSQL database")
}

async fn report(backend: &str, store: &Store, tasks: usize) -> anyhow::Result<()> {
    for workers in [1, 2, 8] {
        let per_second = bench::throughput(store, workers, tasks).await?;
        println!("{backend}: {tasks} no-op tasks, {workers} worker(s): {per_second:.0} tasks/s");
    }
    let mut latencies = Vec::new();
    for _ in 0..5 {
        latencies.push(bench::chain_latency(store).await?);
    }
    latencies.sort_by(f64::total_cmp);
    println!(
        "{backend}: 40-step sequential chain, submission to done: median {:.3} s (min {:.3}, max {:.3})",
        latencies[2], latencies[0], latencies[4]
    );
    Ok(())
}
