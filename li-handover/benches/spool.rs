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

    // Group commit: 1,024 records per write and per fsync.
    let mut group = c.benchmark_group("spool_append_200B_group_commit_1024");
    group.throughput(Throughput::Elements(1024));
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("spool-bench-group");
    let _ = std::fs::remove_dir_all(&dir);
    let mut cfg = SpoolConfig::new(&dir);
    cfg.fsync = FsyncPolicy::Batch(1024);
    cfg.max_bytes = u64::MAX;
    cfg.ack_persist_every = 1 << 20;
    let (mut spool, _) = Spool::open(cfg).unwrap();
    let batch: Vec<&[u8]> = vec![&record; 1024];
    group.bench_function("fsync_per_batch", |b| {
        b.iter(|| {
            let ids = spool.append_batch(black_box(&batch)).unwrap();
            if ids.end % 65_536 < 1024 {
                spool.ack(ids.end - 1).unwrap();
                spool.persist_ack().unwrap();
            }
        })
    });
    group.finish();
    drop(spool);
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, bench);
criterion_main!(benches);
