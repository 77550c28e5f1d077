//! Columns added to a table later (the `smtp_*` columns of `messages`)
//! read as null from Parquet parts written before them.

use std::fs::File;

use datafusion::arrow::array::RecordBatch;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use depeer_store::{BatchLimits, Store};

use crate::{add_all, json, scalar_i64};

#[test]
fn parts_written_before_the_smtp_columns_read_them_as_null() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    add_all(&store, 0..3, BatchLimits::default());
    drop(store);
    // Rewrite every messages part without the smtp_* columns, as an older
    // depeer wrote it.
    let mut parts = Vec::new();
    for day in std::fs::read_dir(dir.path().join("tables/messages")).unwrap() {
        for f in std::fs::read_dir(day.unwrap().path()).unwrap() {
            parts.push(f.unwrap().path());
        }
    }
    assert!(!parts.is_empty());
    for p in &parts {
        let reader = ParquetRecordBatchReaderBuilder::try_new(File::open(p).unwrap())
            .unwrap()
            .build()
            .unwrap();
        let batches: Vec<RecordBatch> = reader.map(Result::unwrap).collect();
        let keep: Vec<usize> = batches[0]
            .schema()
            .fields()
            .iter()
            .enumerate()
            .filter(|(_, f)| !f.name().starts_with("smtp_"))
            .map(|(i, _)| i)
            .collect();
        assert!(
            keep.len() < batches[0].num_columns(),
            "the part had smtp_ columns"
        );
        let old: Vec<RecordBatch> = batches.iter().map(|b| b.project(&keep).unwrap()).collect();
        let mut w = ArrowWriter::try_new(File::create(p).unwrap(), old[0].schema(), None).unwrap();
        for b in &old {
            w.write(b).unwrap();
        }
        w.close().unwrap();
    }
    assert_eq!(scalar_i64(dir.path(), "SELECT count(*) FROM messages"), 3);
    assert_eq!(
        scalar_i64(
            dir.path(),
            "SELECT count(*) FROM messages WHERE smtp_peer_ip IS NULL AND smtp_rcpt_to IS NULL"
        ),
        3
    );
    let rows =
        json(&depeer_store::sql(dir.path(), "SELECT sha256, smtp_helo FROM messages").unwrap());
    assert_eq!(rows.as_array().unwrap().len(), 3);
    // And the store still opens, reads and takes new messages.
    let store = Store::open(dir.path()).unwrap();
    add_all(&store, 3..5, BatchLimits::default());
    assert_eq!(scalar_i64(dir.path(), "SELECT count(*) FROM messages"), 5);
}
