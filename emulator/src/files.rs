//! File endpoints: page images, metadata, download, and company lookup.

use serde_json::json;

use crate::document::Storage;
use crate::http::{Body, Response};
use crate::router::{bad_request, not_found, Ctx};
use crate::util::iso_millis;

/// Handles `GET /result/image/{fileId}?page=N`, with 1-based pages. A
/// missing `page` means page 1.
pub fn result_image(ctx: &mut Ctx) -> Response {
    let file_id = ctx.segment(2).to_string();
    let page = match ctx.request.query_value("page") {
        None => 1,
        Some(text) => match text.parse::<i64>() {
            Ok(page) => page,
            Err(_) => return bad_request("invalid_parameter", &format!("page must be a whole number, not {text:?}")),
        },
    };
    let state = ctx.shared.state();
    let Some(record) = state.company_file(&ctx.caller().company_id, &file_id) else {
        return not_found("file", &file_id);
    };
    let page_count = record.document.page_count;
    if page < 1 || page > page_count as i64 {
        return Response::error(
            404,
            "not_found",
            &format!("page {page} not found: file {file_id} has pages 1 to {page_count}"),
        );
    }
    let sha256 = record.document.sha256.clone();
    drop(state);
    Response::new(200, "image/png", crate::png::page_image(&sha256, page as u32))
}

/// Handles `GET /app/docs/{fileId}`.
pub fn doc_metadata(ctx: &mut Ctx) -> Response {
    let file_id = ctx.segment(2).to_string();
    let state = ctx.shared.state();
    let Some(record) = state.company_file(&ctx.caller().company_id, &file_id) else {
        return not_found("file", &file_id);
    };
    let document = &record.document;
    Response::json(
        200,
        &json!({
            "fileId": record.file_id,
            "fileName": record.file_name,
            "sizeBytes": document.size,
            "sha256": document.sha256,
            "mimeType": document.kind.mime_type(),
            "uploadedAt": iso_millis(record.uploaded_at),
            "pageCount": document.page_count,
            "tags": record.tags,
            "companyId": record.company_id,
            "parentDocId": record.parent_doc_id,
        }),
    )
}

/// Handles `GET /app/docs/{fileId}/download`, returning the uploaded bytes.
pub fn doc_download(ctx: &mut Ctx) -> Response {
    let file_id = ctx.segment(2).to_string();
    let state = ctx.shared.state();
    let Some(record) = state.company_file(&ctx.caller().company_id, &file_id) else {
        return not_found("file", &file_id);
    };
    let document = std::sync::Arc::clone(&record.document);
    let file_name = record.file_name.replace(['"', '\\', '\r', '\n'], "_");
    drop(state);
    let body = match &document.storage {
        Storage::Memory(bytes) => Body::Bytes(bytes.clone()),
        // The spool file lives as long as the emulator, because records are
        // never removed.
        Storage::Disk(path) => Body::File { path: path.clone(), len: document.size },
    };
    let mut response = Response::new(200, document.kind.mime_type(), Vec::new());
    response.body = body;
    response.with_header("Content-Disposition", &format!("attachment; filename=\"{file_name}\""))
}

/// Handles `GET /app/company/byclientid/{clientId}`. Only the caller's own
/// client id is visible: the other configured client gets 403, and unknown
/// ids 404.
pub fn company_by_client_id(ctx: &mut Ctx) -> Response {
    let client_id = ctx.segment(3).to_string();
    let caller = ctx.caller();
    if client_id == caller.client_id {
        let short = &caller.company_id[..8];
        return Response::json(
            200,
            &json!({ "id": caller.company_id, "name": format!("Emulated Company {short}"), "clientId": client_id }),
        );
    }
    let config = &ctx.shared.config;
    if client_id == config.client_id || client_id == config.legacy_client_id {
        return Response::error(403, "forbidden", "this access token may only look up its own client id");
    }
    not_found("client", &client_id)
}
