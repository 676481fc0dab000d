//! Spool appends of 200-octet records (the HI3 path's durability cost), with fsync batched
//! per 64 records, without fsync, and with an fsync per record.
#![allow(missing_docs, clippy::unwrap_used)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use li_handover::spool::{FsyncPolicy, Spool, SpoolConfig};

fn bench(c: &mut Criterion) {
    let record = [0x5au8; 200];
    let mut group = c.benchmark_group("spool_append_200B");
    group.throughput(Throughput::Elements(1));
    for (name, policy) in [
        ("fsync_batch_64", FsyncPolicy::Batch(64)),
        ("no_fsync", FsyncPolicy::Never),
        ("fsync_each", FsyncPolicy::Always),
    ] {
        let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("spool-bench-{name}"));
        let _ = std::fs::remove_dir_all(&dir);
        let mut cfg = SpoolConfig::new(&dir);
        cfg.fsync = policy;
        cfg.max_bytes = u64::MAX;
        cfg.ack_persist_every = 1 << 20;
        let (mut spool, _) = Spool::open(cfg).unwrap();
        group.bench_function(name, |b| {
            b.iter(|| {
                let id = spool.append(black_box(&record)).unwrap();
                // Delivery keeps up: acknowledge so segments are recycled and disk stays small.
                if id % 65_536 == 0 {
                    spool.ack(id).unwrap();
                    spool.persist_ack().unwrap();
                }
            })
        });
        drop(spool);
        let _ = std::fs::remove_dir_all(&dir);
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
