/*
 * Exercises the endpoint functions of sypht.h from C against a running
 * emulator: v2 upload of bytes containing NUL, download and page image as
 * SyphtBytes, a workflow job, a tag, an entity, and the main error cases.
 *
 * Usage: api_abi API_BASE_URL TOKEN_URL CLIENT_ID CLIENT_SECRET
 * Exits 0 when every check passes, 1 otherwise, printing the failed check.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sypht.h"

static int failures = 0;

#define CHECK(cond)                                                       \
  do {                                                                    \
    if (!(cond)) {                                                        \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__,   \
              #cond);                                                     \
      failures++;                                                         \
    }                                                                     \
  } while (0)

/* Prints and frees the error of a failed call; returns its code. */
static int take_error(SyphtError *error) {
  int code = sypht_error_code(error);
  if (error != NULL) {
    fprintf(stderr, "  error %d: %s\n", code, sypht_error_message(error));
  }
  sypht_error_free(error);
  return code;
}

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: %s API_BASE TOKEN_URL CLIENT_ID SECRET\n",
            argv[0]);
    return 2;
  }
  SyphtError *error = NULL;
  SyphtClientOptions *options = sypht_client_options_new();
  CHECK(sypht_client_options_set_api_base(options, argv[1], &error) == 0);
  CHECK(sypht_client_options_set_auth_endpoint(options, argv[2], &error) ==
        0);
  CHECK(sypht_client_options_set_ignore_env(options, true, &error) == 0);
  SyphtClient *client =
      sypht_client_new_with_options(options, argv[3], argv[4], &error);
  sypht_client_options_free(options);
  if (client == NULL) {
    take_error(error);
    return 1;
  }

  /* A two-page PDF with NUL bytes in its body. */
  static const char head[] = "%PDF-1.4\n1 0 obj <</Type /Page>> endobj\n"
                             "2 0 obj <</Type /Page>> endobj\n";
  unsigned char document[sizeof head - 1 + 256 + 8];
  size_t length = 0;
  memcpy(document, head, sizeof head - 1);
  length += sizeof head - 1;
  for (int i = 0; i < 256; i++) {
    document[length++] = (unsigned char)i;
  }
  memcpy(document + length, "\n%%EOF\n\0", 8);
  length += 8;

  char *file_id = sypht_upload_v2_bytes(client, document, length,
                                        "from c.pdf", NULL, &error);
  CHECK(file_id != NULL);
  if (file_id == NULL) {
    take_error(error);
    sypht_client_free(client);
    return 1;
  }

  SyphtBytes *download = sypht_download_file(client, file_id, &error);
  CHECK(download != NULL);
  if (download != NULL) {
    CHECK(sypht_bytes_len(download) == length);
    if (sypht_bytes_len(download) == length) {
      CHECK(memcmp(sypht_bytes_data(download), document, length) == 0);
    }
    sypht_bytes_free(download);
  } else {
    take_error(error);
  }

  SyphtBytes *image = sypht_fetch_page_image(client, file_id, 2, &error);
  CHECK(image != NULL);
  if (image != NULL) {
    CHECK(sypht_bytes_len(image) > 8);
    CHECK(memcmp(sypht_bytes_data(image), "\x89PNG\r\n\x1a\n", 8) == 0);
    sypht_bytes_free(image);
  } else {
    take_error(error);
  }

  char inputs[256];
  snprintf(inputs, sizeof inputs,
           "{\"file_id\": \"%s\", \"product_ids\": [\"invoices\"]}", file_id);
  char *job =
      sypht_create_workflow_job(client, "sypht.extract", inputs, NULL, &error);
  CHECK(job != NULL);
  if (job != NULL) {
    CHECK(strstr(job, file_id) != NULL);
  } else {
    take_error(error);
  }
  sypht_free_string(job);

  char *results = sypht_wait_for_results(client, file_id, NULL, 10000, &error);
  CHECK(results != NULL);
  if (results != NULL) {
    CHECK(strstr(results, "FINALISED") != NULL);
  } else {
    take_error(error);
  }
  sypht_free_string(results);

  const char *tags[] = {"from c", "second/tag"};
  char *tagged = sypht_set_file_tags(client, file_id, tags, 2, NULL, &error);
  CHECK(tagged != NULL);
  if (tagged == NULL) {
    take_error(error);
  }
  sypht_free_string(tagged);
  char *listed = sypht_get_file_tags(client, file_id, NULL, &error);
  CHECK(listed != NULL);
  if (listed != NULL) {
    CHECK(strstr(listed, "second/tag") != NULL);
  } else {
    take_error(error);
  }
  sypht_free_string(listed);

  char *stored = sypht_set_entity(client, "supplier", "C 1/ü",
                                  "{\"name\": \"C supplier\"}", NULL, &error);
  CHECK(stored != NULL);
  if (stored == NULL) {
    take_error(error);
  }
  sypht_free_string(stored);
  char *entity = sypht_get_entity(client, "supplier", "C 1/ü", NULL, &error);
  CHECK(entity != NULL);
  if (entity != NULL) {
    CHECK(strstr(entity, "C supplier") != NULL);
  } else {
    take_error(error);
  }
  sypht_free_string(entity);

  /* Error cases: unknown file, NULL client, invalid JSON. */
  CHECK(sypht_download_file(client, "no-such-file", &error) == NULL);
  CHECK(sypht_error_http_status(error) == 404);
  CHECK(take_error(error) == SYPHT_ERROR_HTTP_STATUS);
  error = NULL;
  CHECK(sypht_get_file_metadata(NULL, file_id, &error) == NULL);
  CHECK(take_error(error) == SYPHT_ERROR_INVALID_ARGUMENT);
  error = NULL;
  CHECK(sypht_set_workflow_data(client, "key", "{oops", NULL, &error) ==
        NULL);
  CHECK(take_error(error) == SYPHT_ERROR_INVALID_ARGUMENT);

  sypht_free_string(file_id);
  sypht_client_free(client);
  if (failures > 0) {
    fprintf(stderr, "%d checks failed\n", failures);
    return 1;
  }
  return 0;
}
