//! The export archive, written entry by entry to a zip file on local disk (Lambda's /tmp,
//! sized by `EphemeralStorage`) and uploaded from there as a stream: rows are serialized one
//! at a time and objects copied chunk by chunk, so memory stays flat however much a person
//! has. Each row goes in the documented shape of its store (`records`), and the same row
//! and file are added to `index.html`, the page a person opens (`page`). Layout and schema:
//! docs/EXPORT_SCHEMA.md (also inside every archive).

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use zip::ZipWriter;
use zip::write::SimpleFileOptions;

use super::page::PageWriter;
use super::records;
use crate::clock::{UnixSeconds, rfc3339};
use crate::locale::Locale;

pub const SCHEMA_VERSION: u32 = 1;
const SCHEMA_DOC: &str = include_str!("../../../docs/EXPORT_SCHEMA.md");

/// One file of the archive, as listed in `manifest.json`.
#[derive(Debug, Clone)]
struct Entry {
    path: String,
    kind: &'static str,
    store: String,
    count: u64,
}

pub struct ArchiveWriter {
    zip: ZipWriter<File>,
    path: PathBuf,
    entries: Vec<Entry>,
    /// The JSON file being written: rows go into it until `end_rows`.
    open_rows: Option<Entry>,
    /// `index.html`, written alongside.
    page: PageWriter,
}

#[derive(Debug, thiserror::Error)]
#[error("writing the archive: {0}")]
pub struct ArchiveError(pub String);

fn err(error: impl std::fmt::Display) -> ArchiveError {
    ArchiveError(error.to_string())
}

impl ArchiveWriter {
    /// An archive at `path` whose page speaks `locale` (its body is assembled next to it,
    /// at `path` with the extension `page.part`).
    pub fn create(path: &Path, locale: Locale) -> Result<Self, ArchiveError> {
        let file = File::create(path).map_err(err)?;
        let page = PageWriter::create(&path.with_extension("page.part"), locale).map_err(err)?;
        Ok(Self {
            zip: ZipWriter::new(file),
            path: path.to_owned(),
            entries: Vec::new(),
            open_rows: None,
            page,
        })
    }

    fn options() -> SimpleFileOptions {
        SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .large_file(true)
    }

    /// Starts `data/<store>.json`, a JSON array written one row at a time.
    pub fn begin_rows(&mut self, store: &str) -> Result<(), ArchiveError> {
        self.end_rows()?;
        let path = format!("data/{store}.json");
        self.zip.start_file(&path, Self::options()).map_err(err)?;
        self.zip.write_all(b"[\n").map_err(err)?;
        self.page.begin_rows(store).map_err(err)?;
        self.open_rows = Some(Entry {
            path,
            kind: "rows",
            store: store.to_owned(),
            count: 0,
        });
        Ok(())
    }

    /// One stored item of the open store, written in the store's documented shape.
    pub fn row(&mut self, row: &Value) -> Result<(), ArchiveError> {
        let entry = self
            .open_rows
            .as_mut()
            .ok_or_else(|| ArchiveError("a row outside a rows file".into()))?;
        let record = records::shape(&entry.store, row);
        if entry.count > 0 {
            self.zip.write_all(b",\n").map_err(err)?;
        }
        serde_json::to_writer(&mut self.zip, &record).map_err(err)?;
        entry.count += 1;
        self.page.record(&record).map_err(err)
    }

    pub fn end_rows(&mut self) -> Result<(), ArchiveError> {
        if let Some(entry) = self.open_rows.take() {
            self.zip.write_all(b"\n]\n").map_err(err)?;
            self.entries.push(entry);
            self.page.end().map_err(err)?;
        }
        Ok(())
    }

    /// Copies an S3 object into `files/<path>`, chunk by chunk as it arrives. A name without
    /// an extension (selfies are stored as `<generation id>`) gets the one of its type.
    pub async fn copy_object(
        &mut self,
        s3: &aws_sdk_s3::Client,
        bucket: &str,
        key: &str,
        store: &str,
        path: &str,
    ) -> Result<(), ArchiveError> {
        self.end_rows()?;
        let object = s3
            .get_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| ArchiveError(crate::aws::failure("GetObject", e)))?;
        let mut body = object.body;
        let first = body.try_next().await.map_err(err)?;
        let mut path = format!("files/{path}");
        let file_name = path.rsplit('/').next().unwrap_or_default();
        if !file_name.contains('.') {
            let extension = object
                .content_type
                .as_deref()
                .and_then(records::extension_of)
                .or_else(|| records::extension_sniffed(first.as_deref().unwrap_or_default()));
            if let Some(extension) = extension {
                path = format!("{path}.{extension}");
            }
        }
        // Images are already compressed: stored as they are.
        let options = Self::options().compression_method(zip::CompressionMethod::Stored);
        self.zip.start_file(&path, options).map_err(err)?;
        if let Some(chunk) = first {
            self.zip.write_all(&chunk).map_err(err)?;
        }
        while let Some(chunk) = body.try_next().await.map_err(err)? {
            self.zip.write_all(&chunk).map_err(err)?;
        }
        self.page.file(store, &path).map_err(err)?;
        self.entries.push(Entry {
            path,
            kind: "file",
            store: store.to_owned(),
            count: 1,
        });
        Ok(())
    }

    /// Writes `index.html`, the schema document and `manifest.json`, closes the zip;
    /// returns its path.
    pub fn finish(mut self, request_id: &str, now: UnixSeconds) -> Result<PathBuf, ArchiveError> {
        self.end_rows()?;
        self.zip
            .start_file("index.html", Self::options())
            .map_err(err)?;
        self.page
            .finish(&mut self.zip, &rfc3339(now))
            .map_err(err)?;
        self.zip
            .start_file("EXPORT_SCHEMA.md", Self::options())
            .map_err(err)?;
        self.zip.write_all(SCHEMA_DOC.as_bytes()).map_err(err)?;
        let files: Vec<Value> = self
            .entries
            .iter()
            .map(|e| json!({ "path": e.path, "kind": e.kind, "store": e.store, "count": e.count }))
            .collect();
        let manifest = json!({
            "schema_version": SCHEMA_VERSION,
            "request_id": request_id,
            "generated_at": rfc3339(now),
            "schema": "EXPORT_SCHEMA.md",
            "page": "index.html",
            "files": files,
        });
        self.zip
            .start_file("manifest.json", Self::options())
            .map_err(err)?;
        serde_json::to_writer_pretty(&mut self.zip, &manifest).map_err(err)?;
        self.zip.finish().map_err(err)?;
        Ok(self.path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn rows_files_and_the_manifest_make_one_readable_zip() {
        let path = std::env::temp_dir().join(format!("archive-test-{}.zip", uuid::Uuid::new_v4()));
        let mut archive = ArchiveWriter::create(&path, Locale::En).unwrap();
        archive.begin_rows("wallet").unwrap();
        archive.row(&json!({"wallet_id": "w1"})).unwrap();
        archive.begin_rows("generations").unwrap();
        for i in 0..3 {
            archive.row(&json!({"generation_id": i})).unwrap();
        }
        archive.begin_rows("lead").unwrap();
        let path = archive.finish("r1", 0).unwrap();

        let mut zip = zip::ZipArchive::new(File::open(&path).unwrap()).unwrap();
        let mut read = |name: &str| {
            let mut text = String::new();
            zip.by_name(name)
                .unwrap()
                .read_to_string(&mut text)
                .unwrap();
            serde_json::from_str::<Value>(&text).unwrap_or(Value::String(text))
        };
        assert_eq!(read("data/wallet.json"), json!([{"wallet_id": "w1"}]));
        assert_eq!(read("data/generations.json").as_array().unwrap().len(), 3);
        assert_eq!(read("data/lead.json"), json!([]));
        let manifest = read("manifest.json");
        assert_eq!(manifest["schema_version"], json!(SCHEMA_VERSION));
        assert_eq!(manifest["generated_at"], json!("1970-01-01T00:00:00Z"));
        let counts: Vec<(String, u64)> = manifest["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["path"].as_str().unwrap().to_owned(),
                    f["count"].as_u64().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            counts,
            [
                ("data/wallet.json".to_owned(), 1),
                ("data/generations.json".to_owned(), 3),
                ("data/lead.json".to_owned(), 0)
            ]
        );
        assert!(
            read("EXPORT_SCHEMA.md")
                .as_str()
                .unwrap()
                .contains("schema_version")
        );
        std::fs::remove_file(path).unwrap();
    }

    #[test]
    fn a_row_outside_a_rows_file_is_refused() {
        let path = std::env::temp_dir().join(format!("archive-test-{}.zip", uuid::Uuid::new_v4()));
        let mut archive = ArchiveWriter::create(&path, Locale::En).unwrap();
        assert!(archive.row(&json!({})).is_err());
        std::fs::remove_file(path).unwrap();
    }
}
