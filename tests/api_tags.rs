//! Tags on documents and tasks, through Rust and through the C ABI,
//! including tag names and ids that need percent-encoding.

mod api_common;

use std::ptr;

use api_common::*;
use sypht::ffi::*;
use sypht::{ErrorKind, UploadV2Options};

fn upload(client: &sypht::Client, name: &str) -> String {
    client.upload_bytes_v2(&binary_pdf(), name, &UploadV2Options::default()).unwrap().file_id
}

#[test]
fn tag_lifecycle_with_files() {
    let emulator = emulator();
    let client = client(&emulator);
    let first = upload(&client, "first.pdf");
    let second = upload(&client, "second.pdf");

    let created = client.create_tag("reviewed", Some("checked by a person"), None).unwrap();
    assert!(contains_string(&created, "reviewed"), "{created}");
    let fetched = client.get_tag("reviewed", None).unwrap();
    assert!(contains_string(&fetched, "checked by a person"), "{fetched}");

    client.set_tag_files("reviewed", &[&first], None).unwrap();
    client.add_tag_files("reviewed", &[&second], None).unwrap();
    let files = client.get_tag_files("reviewed", None).unwrap();
    assert!(contains_string(&files, &first), "{files}");
    assert!(contains_string(&files, &second), "{files}");

    client.remove_tag_file("reviewed", &first, None).unwrap();
    let files = client.get_tag_files("reviewed", None).unwrap();
    assert!(!contains_string(&files, &first), "{files}");
    assert!(contains_string(&files, &second), "{files}");

    client.set_tag_files("reviewed", &[&first], None).unwrap();
    let files = client.get_tag_files("reviewed", None).unwrap();
    assert!(contains_string(&files, &first), "PUT replaces the set: {files}");
    assert!(!contains_string(&files, &second), "PUT replaces the set: {files}");

    client.delete_tag("reviewed", None).unwrap();
    let err = client.get_tag("reviewed", None).unwrap_err();
    assert_eq!(err.http_status(), Some(404));
}

#[test]
fn file_tags_set_and_add() {
    let emulator = emulator();
    let client = client(&emulator);
    let file_id = upload(&client, "tagged.pdf");
    client.set_file_tags(&file_id, &["alpha", "beta"], None).unwrap();
    client.add_file_tags(&file_id, &["gamma"], None).unwrap();
    let tags = client.get_file_tags(&file_id, None).unwrap();
    for tag in ["alpha", "beta", "gamma"] {
        assert!(contains_string(&tags, tag), "{tag} missing from {tags}");
    }
    client.set_file_tags(&file_id, &["delta"], None).unwrap();
    let tags = client.get_file_tags(&file_id, None).unwrap();
    assert!(contains_string(&tags, "delta"), "{tags}");
    assert!(!contains_string(&tags, "alpha"), "PUT replaces the tags: {tags}");
}

#[test]
fn awkward_tag_names_round_trip() {
    let emulator = emulator();
    let client = client(&emulator);
    let file_id = upload(&client, "awkward.pdf");
    for name in AWKWARD_IDS {
        client.create_tag(name, None, None).unwrap();
        let fetched = client.get_tag(name, None).unwrap();
        assert!(contains_string(&fetched, name), "{name:?}: {fetched}");
        client.add_tag_files(name, &[&file_id], None).unwrap();
        let files = client.get_tag_files(name, None).unwrap();
        assert!(contains_string(&files, &file_id), "{name:?}: {files}");
        client.remove_tag_file(name, &file_id, None).unwrap();
        client.delete_tag(name, None).unwrap();
    }
}

#[test]
fn company_override_is_used() {
    let emulator = emulator();
    let client = client(&emulator);
    let company = client.company_id().unwrap();
    client.create_tag("explicit", None, Some(&company)).unwrap();
    let fetched = client.get_tag("explicit", Some(&company)).unwrap();
    assert!(contains_string(&fetched, "explicit"), "{fetched}");
    let err = client.get_tag("explicit", Some("another-company")).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::HttpStatus);
    assert!(matches!(err.http_status(), Some(403) | Some(404)), "{err:?}");
    let err = client.get_tag("explicit", Some("")).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    assert!(err.message().contains("company_id"), "{err}");
}

#[test]
fn task_tags_batch_update() {
    let emulator = emulator();
    let client = client(&emulator);
    let file_id = upload(&client, "task.pdf");
    client.create_specification(&serde_json::json!({ "name": "spec-tags", "fields": [] })).unwrap();
    let task = client.create_task(&sypht::NewTask::new(file_id, "spec-tags"), None).unwrap();
    let task_id = ["id", "taskId", "task_id"]
        .iter()
        .find_map(|key| task.get(key).and_then(|v| v.as_str()))
        .unwrap_or_else(|| panic!("no task id in {task}"))
        .to_string();
    client.update_task_tags(&[&task_id], &["urgent", "second"], &[], None).unwrap();
    client.update_task_tags(&[&task_id], &[], &["second"], None).unwrap();
    let tags = client.get_task_tags(&task_id, None).unwrap();
    assert!(contains_string(&tags, "urgent"), "{tags}");
    assert!(!contains_string(&tags, "second"), "{tags}");
    let err = client.update_task_tags(&[], &["x"], &[], None).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
}

#[test]
fn c_tag_functions() {
    let emulator = emulator();
    let rust_client = client(&emulator);
    let file_id = upload(&rust_client, "c tags.pdf");
    let client = c_client(&emulator);
    let tag = cstring("c tag/with slash");
    let description = cstring("from C");
    let c_file = cstring(&file_id);
    let files = [c_file.as_ptr()];

    let mut error = ptr::null_mut();
    c_json(sypht_create_tag(client, tag.as_ptr(), description.as_ptr(), ptr::null(), &mut error), error);
    let mut error = ptr::null_mut();
    let fetched = c_json(sypht_get_tag(client, tag.as_ptr(), ptr::null(), &mut error), error);
    assert!(contains_string(&fetched, "from C"), "{fetched}");
    let mut error = ptr::null_mut();
    c_json(sypht_set_tag_files(client, tag.as_ptr(), files.as_ptr(), 1, ptr::null(), &mut error), error);
    let mut error = ptr::null_mut();
    c_json(sypht_add_tag_files(client, tag.as_ptr(), files.as_ptr(), 1, ptr::null(), &mut error), error);
    let mut error = ptr::null_mut();
    let listed = c_json(sypht_get_tag_files(client, tag.as_ptr(), ptr::null(), &mut error), error);
    assert!(contains_string(&listed, &file_id), "{listed}");
    let mut error = ptr::null_mut();
    c_json(sypht_remove_tag_file(client, tag.as_ptr(), c_file.as_ptr(), ptr::null(), &mut error), error);

    let names = [cstring("one"), cstring("two")];
    let name_ptrs: Vec<_> = names.iter().map(|n| n.as_ptr()).collect();
    let mut error = ptr::null_mut();
    c_json(sypht_set_file_tags(client, c_file.as_ptr(), name_ptrs.as_ptr(), 1, ptr::null(), &mut error), error);
    let mut error = ptr::null_mut();
    c_json(sypht_add_file_tags(client, c_file.as_ptr(), name_ptrs[1..].as_ptr(), 1, ptr::null(), &mut error), error);
    let mut error = ptr::null_mut();
    let tags = c_json(sypht_get_file_tags(client, c_file.as_ptr(), ptr::null(), &mut error), error);
    assert!(contains_string(&tags, "one"), "{tags}");
    assert!(contains_string(&tags, "two"), "{tags}");

    let mut error = ptr::null_mut();
    c_json(sypht_delete_tag(client, tag.as_ptr(), ptr::null(), &mut error), error);
    let mut error = ptr::null_mut();
    let (_, status) =
        c_err(sypht_get_tag(client, tag.as_ptr(), ptr::null(), &mut error), error, SYPHT_ERROR_HTTP_STATUS);
    assert_eq!(status, 404);

    // Tag names that are not UTF-8 are rejected with their own code.
    let not_utf8 = std::ffi::CString::new(vec![b'a', 0xff, b'b']).unwrap();
    let mut error = ptr::null_mut();
    c_err(sypht_get_tag(client, not_utf8.as_ptr(), ptr::null(), &mut error), error, SYPHT_ERROR_INVALID_UTF8);

    // A NULL array with a non-zero length is rejected before any request.
    let mut error = ptr::null_mut();
    let text = sypht_set_tag_files(client, tag.as_ptr(), ptr::null(), 2, ptr::null(), &mut error);
    c_err(text, error, SYPHT_ERROR_INVALID_ARGUMENT);
    sypht_client_free(client);
}

#[test]
fn c_task_tags() {
    let emulator = emulator();
    let rust_client = client(&emulator);
    let file_id = upload(&rust_client, "c task.pdf");
    rust_client.create_specification(&serde_json::json!({ "name": "spec-c", "fields": [] })).unwrap();
    let task = rust_client.create_task(&sypht::NewTask::new(file_id, "spec-c"), None).unwrap();
    let task_id =
        ["id", "taskId", "task_id"].iter().find_map(|k| task.get(k).and_then(|v| v.as_str())).unwrap().to_string();
    let client = c_client(&emulator);
    let c_task = cstring(&task_id);
    let tasks = [c_task.as_ptr()];
    let urgent = cstring("urgent");
    let add = [urgent.as_ptr()];
    let mut error = ptr::null_mut();
    c_json(
        sypht_update_task_tags(client, tasks.as_ptr(), 1, add.as_ptr(), 1, ptr::null(), 0, ptr::null(), &mut error),
        error,
    );
    let mut error = ptr::null_mut();
    let tags = c_json(sypht_get_task_tags(client, c_task.as_ptr(), ptr::null(), &mut error), error);
    assert!(contains_string(&tags, "urgent"), "{tags}");
    let mut error = ptr::null_mut();
    let text = sypht_update_task_tags(client, ptr::null(), 0, add.as_ptr(), 1, ptr::null(), 0, ptr::null(), &mut error);
    c_err(text, error, SYPHT_ERROR_INVALID_ARGUMENT);
    sypht_client_free(client);
}
