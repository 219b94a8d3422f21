//! Tags on documents and tasks.
//!
//! Every function takes `company_id` before `error`: NULL uses the
//! client's cached company id (see `sypht_company_id`), and a string
//! overrides it for that call. Each returns the server's response body as
//! JSON text owned by the caller and freed with `sypht_free_string`
//! ("null" when the body was empty), or NULL on error. String arrays are
//! `len` pointers, and NULL with `len` 0 is an empty array.

use std::ffi::c_char;

use super::boundary::{arg_opt_str, arg_str, arg_str_array, as_strs, guard, json_out};
use super::client::{client_ref, SyphtClient};
use super::error::SyphtError;

/// Creates a tag named `name`; `description` may be NULL.
#[no_mangle]
pub extern "C" fn sypht_create_tag(
    client: *mut SyphtClient,
    name: *const c_char,
    description: *const c_char,
    company_id: *const c_char,
    error: *mut *mut SyphtError,
) -> *mut c_char {
    guard("sypht_create_tag", error, std::ptr::null_mut(), || {
        let client = client_ref(client)?;
        let name = arg_str(name, "name")?;
        let description = arg_opt_str(description, "description")?;
        let company = arg_opt_str(company_id, "company_id")?;
        json_out(&client.create_tag(name, description, company)?)
    })
}

/// Fetches a tag.
#[no_mangle]
pub extern "C" fn sypht_get_tag(
    client: *mut SyphtClient,
    tag: *const c_char,
    company_id: *const c_char,
    error: *mut *mut SyphtError,
) -> *mut c_char {
    guard("sypht_get_tag", error, std::ptr::null_mut(), || {
        let client = client_ref(client)?;
        let tag = arg_str(tag, "tag")?;
        json_out(&client.get_tag(tag, arg_opt_str(company_id, "company_id")?)?)
    })
}

/// Deletes a tag.
#[no_mangle]
pub extern "C" fn sypht_delete_tag(
    client: *mut SyphtClient,
    tag: *const c_char,
    company_id: *const c_char,
    error: *mut *mut SyphtError,
) -> *mut c_char {
    guard("sypht_delete_tag", error, std::ptr::null_mut(), || {
        let client = client_ref(client)?;
        let tag = arg_str(tag, "tag")?;
        json_out(&client.delete_tag(tag, arg_opt_str(company_id, "company_id")?)?)
    })
}

/// Lists the documents carrying `tag`.
#[no_mangle]
pub extern "C" fn sypht_get_tag_files(
    client: *mut SyphtClient,
    tag: *const c_char,
    company_id: *const c_char,
    error: *mut *mut SyphtError,
) -> *mut c_char {
    guard("sypht_get_tag_files", error, std::ptr::null_mut(), || {
        let client = client_ref(client)?;
        let tag = arg_str(tag, "tag")?;
        json_out(&client.get_tag_files(tag, arg_opt_str(company_id, "company_id")?)?)
    })
}

/// Replaces the documents carrying `tag` with the `file_ids_len` ids in
/// `file_ids`.
#[no_mangle]
pub extern "C" fn sypht_set_tag_files(
    client: *mut SyphtClient,
    tag: *const c_char,
    file_ids: *const *const c_char,
    file_ids_len: usize,
    company_id: *const c_char,
    error: *mut *mut SyphtError,
) -> *mut c_char {
    guard("sypht_set_tag_files", error, std::ptr::null_mut(), || {
        let client = client_ref(client)?;
        let tag = arg_str(tag, "tag")?;
        let file_ids = arg_str_array(file_ids, file_ids_len, "file_ids")?;
        let company = arg_opt_str(company_id, "company_id")?;
        json_out(&client.set_tag_files(tag, &as_strs(&file_ids), company)?)
    })
}

/// Adds the documents in `file_ids` to `tag`, keeping those already tagged.
#[no_mangle]
pub extern "C" fn sypht_add_tag_files(
    client: *mut SyphtClient,
    tag: *const c_char,
    file_ids: *const *const c_char,
    file_ids_len: usize,
    company_id: *const c_char,
    error: *mut *mut SyphtError,
) -> *mut c_char {
    guard("sypht_add_tag_files", error, std::ptr::null_mut(), || {
        let client = client_ref(client)?;
        let tag = arg_str(tag, "tag")?;
        let file_ids = arg_str_array(file_ids, file_ids_len, "file_ids")?;
        let company = arg_opt_str(company_id, "company_id")?;
        json_out(&client.add_tag_files(tag, &as_strs(&file_ids), company)?)
    })
}

/// Removes `tag` from the document `file_id`.
#[no_mangle]
pub extern "C" fn sypht_remove_tag_file(
    client: *mut SyphtClient,
    tag: *const c_char,
    file_id: *const c_char,
    company_id: *const c_char,
    error: *mut *mut SyphtError,
) -> *mut c_char {
    guard("sypht_remove_tag_file", error, std::ptr::null_mut(), || {
        let client = client_ref(client)?;
        let tag = arg_str(tag, "tag")?;
        let file_id = arg_str(file_id, "file_id")?;
        json_out(&client.remove_tag_file(tag, file_id, arg_opt_str(company_id, "company_id")?)?)
    })
}

/// Lists the tags on the document `file_id`.
#[no_mangle]
pub extern "C" fn sypht_get_file_tags(
    client: *mut SyphtClient,
    file_id: *const c_char,
    company_id: *const c_char,
    error: *mut *mut SyphtError,
) -> *mut c_char {
    guard("sypht_get_file_tags", error, std::ptr::null_mut(), || {
        let client = client_ref(client)?;
        let file_id = arg_str(file_id, "file_id")?;
        json_out(&client.get_file_tags(file_id, arg_opt_str(company_id, "company_id")?)?)
    })
}

/// Replaces the tags on the document `file_id` with the `tags_len` names in
/// `tags`.
#[no_mangle]
pub extern "C" fn sypht_set_file_tags(
    client: *mut SyphtClient,
    file_id: *const c_char,
    tags: *const *const c_char,
    tags_len: usize,
    company_id: *const c_char,
    error: *mut *mut SyphtError,
) -> *mut c_char {
    guard("sypht_set_file_tags", error, std::ptr::null_mut(), || {
        let client = client_ref(client)?;
        let file_id = arg_str(file_id, "file_id")?;
        let tags = arg_str_array(tags, tags_len, "tags")?;
        let company = arg_opt_str(company_id, "company_id")?;
        json_out(&client.set_file_tags(file_id, &as_strs(&tags), company)?)
    })
}

/// Adds the names in `tags` to the document `file_id`, keeping its other
/// tags.
#[no_mangle]
pub extern "C" fn sypht_add_file_tags(
    client: *mut SyphtClient,
    file_id: *const c_char,
    tags: *const *const c_char,
    tags_len: usize,
    company_id: *const c_char,
    error: *mut *mut SyphtError,
) -> *mut c_char {
    guard("sypht_add_file_tags", error, std::ptr::null_mut(), || {
        let client = client_ref(client)?;
        let file_id = arg_str(file_id, "file_id")?;
        let tags = arg_str_array(tags, tags_len, "tags")?;
        let company = arg_opt_str(company_id, "company_id")?;
        json_out(&client.add_file_tags(file_id, &as_strs(&tags), company)?)
    })
}

/// Adds the tags in `add` and removes those in `remove` on each task in
/// `task_ids` (which must not be empty).
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub extern "C" fn sypht_update_task_tags(
    client: *mut SyphtClient,
    task_ids: *const *const c_char,
    task_ids_len: usize,
    add: *const *const c_char,
    add_len: usize,
    remove: *const *const c_char,
    remove_len: usize,
    company_id: *const c_char,
    error: *mut *mut SyphtError,
) -> *mut c_char {
    guard("sypht_update_task_tags", error, std::ptr::null_mut(), || {
        let client = client_ref(client)?;
        let task_ids = arg_str_array(task_ids, task_ids_len, "task_ids")?;
        let add = arg_str_array(add, add_len, "add")?;
        let remove = arg_str_array(remove, remove_len, "remove")?;
        let company = arg_opt_str(company_id, "company_id")?;
        json_out(&client.update_task_tags(&as_strs(&task_ids), &as_strs(&add), &as_strs(&remove), company)?)
    })
}

/// Lists the tags on the task `task_id`.
#[no_mangle]
pub extern "C" fn sypht_get_task_tags(
    client: *mut SyphtClient,
    task_id: *const c_char,
    company_id: *const c_char,
    error: *mut *mut SyphtError,
) -> *mut c_char {
    guard("sypht_get_task_tags", error, std::ptr::null_mut(), || {
        let client = client_ref(client)?;
        let task_id = arg_str(task_id, "task_id")?;
        json_out(&client.get_task_tags(task_id, arg_opt_str(company_id, "company_id")?)?)
    })
}
