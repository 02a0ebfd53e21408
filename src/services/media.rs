//! Uploaded images: checked by their first bytes (never by name or claimed type), size
//! and alt text bounded, written under `<data_dir>/media/` with a random name.

use std::path::{Path, PathBuf};

use chrono::Utc;
use sea_orm::{ActiveValue::Set, DatabaseConnection};

use crate::{
    db::{entities::media, queries},
    error::{AppError, AppResult},
};

/// Largest accepted file.
pub const MAX_MEDIA_BYTES: usize = 10 * 1024 * 1024;
/// Longest alt text, in characters.
pub const MAX_ALT_CHARS: usize = 1_500;
/// Most images on one post (Mastodon shows four).
pub const MAX_ATTACHMENTS: usize = 4;

/// An image someone wants to attach.
#[derive(Clone)]
pub struct Upload {
    /// The file's bytes.
    pub bytes: Vec<u8>,
    /// What the image shows, for people who cannot see it.
    pub alt: String,
}

impl std::fmt::Debug for Upload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upload").field("bytes", &self.bytes.len()).field("alt", &self.alt).finish()
    }
}

/// An image type we accept: (media type, file extension).
pub fn sniff(bytes: &[u8]) -> Option<(&'static str, &'static str)> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(("image/png", "png"))
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(("image/jpeg", "jpg"))
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some(("image/gif", "gif"))
    } else if bytes.len() >= 12 && bytes.starts_with(b"RIFF") && bytes.get(8..12) == Some(b"WEBP".as_slice()) {
        Some(("image/webp", "webp"))
    } else {
        None
    }
}

/// The media type for a stored file name, judged by its extension (which we chose).
pub fn media_type_of_name(file_name: &str) -> Option<&'static str> {
    match file_name.rsplit_once('.')?.1 {
        "png" => Some("image/png"),
        "jpg" => Some("image/jpeg"),
        "gif" => Some("image/gif"),
        "webp" => Some("image/webp"),
        _ => None,
    }
}

/// Whether a name can be one we generated: no path tricks can pass.
pub fn is_stored_name(file_name: &str) -> bool {
    file_name.len() <= 64
        && file_name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
        && file_name.matches('.').count() == 1
        && !file_name.starts_with('.')
        && media_type_of_name(file_name).is_some()
}

/// The folder media files live in.
pub fn media_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("media")
}

/// Checks uploads before anything is written.
pub fn validate(uploads: &[Upload]) -> AppResult<()> {
    if uploads.len() > MAX_ATTACHMENTS {
        return Err(AppError::unprocessable(format!("at most {MAX_ATTACHMENTS} images per post")));
    }
    for (n, upload) in uploads.iter().enumerate() {
        let n = n + 1;
        if upload.bytes.len() > MAX_MEDIA_BYTES {
            return Err(AppError::unprocessable(format!("image {n} is larger than 10 MiB")));
        }
        if sniff(&upload.bytes).is_none() {
            return Err(AppError::unprocessable(format!("image {n} is not a PNG, JPEG, GIF or WebP file")));
        }
        if upload.alt.chars().count() > MAX_ALT_CHARS {
            return Err(AppError::unprocessable(format!(
                "the alt text of image {n} is longer than {MAX_ALT_CHARS} characters"
            )));
        }
    }
    Ok(())
}

/// Files written for one post, removed again if the post is not stored.
pub struct Written {
    dir: PathBuf,
    rows: Vec<media::ActiveModel>,
    names: Vec<String>,
    kept: bool,
}

impl Written {
    /// The rows to insert, for the post `post_id`, uploaded by `actor_id`.
    pub fn rows(&self, post_id: i64, actor_id: i64) -> Vec<media::ActiveModel> {
        self.rows
            .iter()
            .cloned()
            .map(|mut row| {
                row.post_id = Set(Some(post_id));
                row.actor_id = Set(actor_id);
                row
            })
            .collect()
    }

    /// The post was stored: keep the files.
    pub fn keep(mut self) {
        self.kept = true;
    }
}

impl Drop for Written {
    fn drop(&mut self) {
        if !self.kept {
            for name in &self.names {
                let _ = std::fs::remove_file(self.dir.join(name));
            }
        }
    }
}

/// Writes validated uploads to `dir` under random names.
#[tracing::instrument(skip_all, fields(images = uploads.len()))]
pub async fn write(dir: &Path, uploads: Vec<Upload>) -> AppResult<Written> {
    let mut written = Written { dir: dir.to_owned(), rows: Vec::new(), names: Vec::new(), kept: false };
    if uploads.is_empty() {
        return Ok(written);
    }
    tokio::fs::create_dir_all(dir).await.map_err(AppError::internal)?;
    for upload in uploads {
        let (media_type, ext) = sniff(&upload.bytes).ok_or_else(|| AppError::unprocessable("not an image"))?;
        let name = format!("{}.{ext}", uuid::Uuid::new_v4());
        tokio::fs::write(dir.join(&name), &upload.bytes).await.map_err(AppError::internal)?;
        written.names.push(name.clone());
        written.rows.push(media::ActiveModel {
            file_name: Set(name),
            media_type: Set(media_type.to_owned()),
            size: Set(i64::try_from(upload.bytes.len()).unwrap_or(i64::MAX)),
            alt_text: Set(upload.alt.trim().to_owned()),
            created_at: Set(Utc::now()),
            ..Default::default()
        });
    }
    Ok(written)
}

/// The stored file `file_name`, when it may be served: it belongs to a published post that
/// is not deleted.
pub async fn servable(db: &DatabaseConnection, file_name: &str) -> AppResult<Option<media::Model>> {
    if !is_stored_name(file_name) {
        return Ok(None);
    }
    Ok(match queries::posts::media_by_file(db, file_name).await? {
        Some((row, Some(post))) if post.deleted_at.is_none() && post.published_at.is_some() => Some(row),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn only_real_images_pass_whatever_they_are_called() {
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n...."), Some(("image/png", "png")));
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0]), Some(("image/jpeg", "jpg")));
        assert_eq!(sniff(b"GIF89a.."), Some(("image/gif", "gif")));
        assert_eq!(sniff(b"RIFF\0\0\0\0WEBPVP8 "), Some(("image/webp", "webp")));
        for bad in [&b"<svg xmlns=...>"[..], b"<html>", b"%PDF-1.4", b"RIFF\0\0\0\0WAVE", b""] {
            assert_eq!(sniff(bad), None);
        }
    }

    #[test]
    fn stored_names_cannot_escape_the_folder() {
        assert!(is_stored_name("0b4f7a9e-1c2d-4e5f-8a9b-0c1d2e3f4a5b.png"));
        for bad in ["../etc/passwd", "a/b.png", ".png", "x.svg", "x.png.html", "X.PNG", "x"] {
            assert!(!is_stored_name(bad), "{bad}");
        }
    }

    #[test]
    fn limits_are_explained() {
        let png = b"\x89PNG\r\n\x1a\n".to_vec();
        let too_many = vec![Upload { bytes: png.clone(), alt: String::new() }; 5];
        assert!(validate(&too_many).unwrap_err().message.contains("at most 4"));
        let long_alt = [Upload { bytes: png, alt: "a".repeat(1_501) }];
        assert!(validate(&long_alt).unwrap_err().message.contains("alt text"));
        let svg = [Upload { bytes: b"<svg/>".to_vec(), alt: String::new() }];
        assert!(validate(&svg).unwrap_err().message.contains("not a PNG"));
    }
}
