/*
 * c_abi_check: exercises every function in sypht.h from C, for runs under
 * AddressSanitizer, UndefinedBehaviorSanitizer and Valgrind.
 *
 *   c_abi_check API_BASE_URL PDF_FILE
 *
 * API_BASE_URL is a local emulator, such as http://127.0.0.1:41234, that
 * accepts the client id "emulator-client-id" with the secret
 * "emulator-client-secret". PDF_FILE is uploaded from disk and from
 * memory. The program covers argument errors (NULL,
 * invalid UTF-8, empty, a 1 MB string), an error variable reused after
 * sypht_error_free, a full upload and results round trip, and four
 * threads sharing one client. It prints "N passed, M failed" and exits
 * with 1 when a check failed.
 */

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sypht.h"

enum { THREADS = 4, ROUNDS_PER_THREAD = 3 };

static const char CLIENT_ID[] = "emulator-client-id";
static const char CLIENT_SECRET[] = "emulator-client-secret";
static const char PDF[] = "%PDF-1.4\n";

/* The document to upload: its path and its bytes. */
static const char *pdf_path;
static unsigned char *pdf_data;
static size_t pdf_size;

static int passed;
static int failed;
static pthread_mutex_t tally_lock = PTHREAD_MUTEX_INITIALIZER;

/* Records one check; prints the failing expression and error message. */
static void check(int ok, const char *what, const SyphtError *error)
{
  pthread_mutex_lock(&tally_lock);
  if (ok) {
    passed++;
  } else {
    failed++;
    fprintf(stderr, "FAILED: %s (code %d: %s)\n", what,
            sypht_error_code(error), sypht_error_message(error));
  }
  pthread_mutex_unlock(&tally_lock);
}

/* Returns a client for the emulator at `base`, or NULL. */
static SyphtClient *new_client(const char *base)
{
  char auth[512];
  SyphtError *error = NULL;
  SyphtClientOptions *options = sypht_client_options_new();
  SyphtClient *client;

  snprintf(auth, sizeof auth, "%s/oauth2/token", base);
  check(sypht_client_options_set_ignore_env(options, true, &error) == 0,
        "set_ignore_env", error);
  check(sypht_client_options_set_api_base(options, base, &error) == 0,
        "set_api_base", error);
  check(sypht_client_options_set_auth_endpoint(options, auth, &error) == 0,
        "set_auth_endpoint", error);
  check(sypht_client_options_set_retries(options, 2, 10, 50, &error) == 0,
        "set_retries", error);
  check(sypht_client_options_set_read_timeout_ms(options, 10000, &error) == 0,
        "set_read_timeout_ms", error);
  check(sypht_client_options_set_call_deadline_ms(options, 30000, &error) == 0,
        "set_call_deadline_ms", error);
  check(sypht_client_options_set_results_deadline_ms(options, 10000,
                                                      &error) == 0,
        "set_results_deadline_ms", error);
  check(sypht_client_options_set_user_agent(options, "c_abi_check/1",
                                            &error) == 0,
        "set_user_agent", error);
  client = sypht_client_new_with_options(options, CLIENT_ID, CLIENT_SECRET,
                                         &error);
  check(client != NULL && error == NULL, "client_new_with_options", error);
  sypht_error_free(error);
  sypht_client_options_free(options);
  return client;
}

static void check_argument_errors(SyphtClient *client)
{
  static const char invalid_utf8[] = "bad-\xff-name.pdf";
  const char *products[] = {"invoices"};
  SyphtClientOptions *options = sypht_client_options_new();
  SyphtError *error = NULL;
  char *big = malloc(1024 * 1024 + 1);
  char *text;

  memset(big, 'x', 1024 * 1024);
  big[1024 * 1024] = '\0';

  check(sypht_client_options_set_api_base(NULL, "https://x", &error) ==
            SYPHT_ERROR_INVALID_ARGUMENT,
        "set_api_base NULL options", error);
  /* `error` still points at the freed error: each call must overwrite it. */
  sypht_error_free(error);
  check(sypht_client_options_set_api_base(options, NULL, &error) ==
            SYPHT_ERROR_INVALID_ARGUMENT,
        "set_api_base NULL url", error);
  sypht_error_free(error);
  check(sypht_client_options_set_user_agent(options, invalid_utf8, &error) ==
            SYPHT_ERROR_INVALID_UTF8,
        "set_user_agent invalid UTF-8", error);
  sypht_error_free(error);
  check(sypht_client_options_set_ca_pem(options, "", &error) ==
            SYPHT_ERROR_CONFIG,
        "set_ca_pem empty", error);
  sypht_error_free(error);
  check(sypht_client_options_set_ca_pem(options, big, &error) ==
            SYPHT_ERROR_CONFIG,
        "set_ca_pem 1 MB", error);
  sypht_error_free(error);
  check(sypht_client_options_set_ca_file(options, "/nonexistent/ca.pem",
                                         &error) == SYPHT_ERROR_IO,
        "set_ca_file missing", error);
  sypht_error_free(error);
  check(sypht_client_options_set_auth_flow(options, 42, &error) ==
            SYPHT_ERROR_INVALID_ARGUMENT,
        "set_auth_flow 42", error);
  sypht_error_free(error);
  check(sypht_client_options_set_connect_timeout_ms(options, 0, &error) ==
            SYPHT_ERROR_INVALID_ARGUMENT,
        "set_connect_timeout_ms 0", error);
  sypht_error_free(error);
  check(sypht_client_options_set_max_response_bytes(options, 0, &error) ==
            SYPHT_ERROR_INVALID_ARGUMENT,
        "set_max_response_bytes 0", error);
  sypht_error_free(error);
  check(sypht_client_options_set_audience(options, big, &error) == 0 &&
            error == NULL,
        "set_audience 1 MB", error);
  check(sypht_client_options_set_allow_insecure_http(options, false,
                                                     &error) == 0,
        "set_allow_insecure_http", error);
  check(sypht_client_options_set_request_timeout_ms(options, 5000,
                                                    &error) == 0,
        "set_request_timeout_ms", error);
  check(sypht_client_options_set_auth_flow(options, SYPHT_AUTH_FLOW_LEGACY,
                                           &error) == 0,
        "set_auth_flow legacy", error);

  check(sypht_client_new(NULL, "secret", &error) == NULL &&
            sypht_error_code(error) == SYPHT_ERROR_INVALID_ARGUMENT,
        "client_new NULL id", error);
  sypht_error_free(error);
  check(sypht_client_new_with_options(NULL, NULL, NULL, &error) == NULL &&
            sypht_error_code(error) == SYPHT_ERROR_INVALID_ARGUMENT,
        "client_new_with_options NULL options", error);
  sypht_error_free(error);
  check(sypht_client_authenticate(NULL, &error) ==
            SYPHT_ERROR_INVALID_ARGUMENT,
        "authenticate NULL client", error);
  sypht_error_free(error);

  text = sypht_upload(client, "", products, 1, &error);
  check(text == NULL && sypht_error_code(error) ==
                            SYPHT_ERROR_INVALID_ARGUMENT,
        "upload empty path", error);
  sypht_error_free(error);
  text = sypht_upload(client, "/nonexistent/file.pdf", products, 1, &error);
  check(text == NULL && sypht_error_code(error) == SYPHT_ERROR_IO,
        "upload missing file", error);
  sypht_error_free(error);
  text = sypht_upload_bytes(client, NULL, 5, "a.pdf", products, 1, &error);
  check(text == NULL && sypht_error_code(error) ==
                            SYPHT_ERROR_INVALID_ARGUMENT,
        "upload_bytes NULL data", error);
  sypht_error_free(error);
  text = sypht_upload_bytes(client, (const uint8_t *)PDF, sizeof PDF - 1,
                            invalid_utf8, products, 1, &error);
  check(text == NULL && sypht_error_code(error) == SYPHT_ERROR_INVALID_UTF8,
        "upload_bytes invalid UTF-8 name", error);
  sypht_error_free(error);
  text = sypht_upload_bytes(client, (const uint8_t *)PDF, sizeof PDF - 1,
                            "a.pdf", NULL, 1, &error);
  check(text == NULL && sypht_error_code(error) ==
                            SYPHT_ERROR_INVALID_ARGUMENT,
        "upload_bytes NULL products", error);
  sypht_error_free(error);
  text = sypht_get_results(client, "", &error);
  check(text == NULL && sypht_error_code(error) ==
                            SYPHT_ERROR_INVALID_ARGUMENT,
        "get_results empty id", error);
  sypht_error_free(error);
  text = sypht_get_results_verbose(client, NULL, &error);
  check(text == NULL && sypht_error_code(error) ==
                            SYPHT_ERROR_INVALID_ARGUMENT,
        "get_results_verbose NULL id", error);
  sypht_error_free(error);

  /* Accessors and free functions accept NULL. */
  check(sypht_error_code(NULL) == 0, "error_code NULL", NULL);
  check(strcmp(sypht_error_message(NULL), "") == 0, "error_message NULL",
        NULL);
  check(sypht_error_http_status(NULL) == 0, "error_http_status NULL", NULL);
  check(sypht_error_result_status(NULL) == NULL, "error_result_status NULL",
        NULL);
  check(strcmp(sypht_error_code_name(-7), "unknown error code") == 0,
        "error_code_name -7", NULL);
  check(strcmp(sypht_version(), SYPHT_VERSION_STRING) == 0, "version", NULL);
  sypht_error_free(NULL);
  sypht_free_string(NULL);
  sypht_client_free(NULL);
  sypht_client_options_free(NULL);

  sypht_client_options_free(options);
  free(big);
}

/* Uploads the document (from disk when `from_file`, else from memory) and
 * checks that its results come back. */
static void round_trip(SyphtClient *client, int from_file)
{
  const char *products[] = {"invoices"};
  SyphtError *error = NULL;
  char *file_id;
  char *results;

  if (from_file) {
    file_id = sypht_upload(client, pdf_path, products, 1, &error);
  } else {
    file_id = sypht_upload_bytes(client, pdf_data, pdf_size,
                                 "c_abi_check.pdf", products, 1, &error);
  }
  check(file_id != NULL && error == NULL, "upload", error);
  if (file_id == NULL) {
    sypht_error_free(error);
    return;
  }
  if (from_file) {
    results = sypht_get_results_verbose(client, file_id, &error);
    check(results != NULL && strstr(results, "\"fields\"") != NULL,
          "get_results_verbose", error);
  } else {
    results = sypht_get_results(client, file_id, &error);
    check(results != NULL && strstr(results, "document.sha256") != NULL,
          "get_results", error);
  }
  sypht_error_free(error);
  sypht_free_string(results);
  sypht_free_string(file_id);
}

/* Reads the whole file at `path` into pdf_data. Returns 0 on success. */
static int read_pdf(const char *path)
{
  FILE *file = fopen(path, "rb");
  long size;

  if (file == NULL || fseek(file, 0, SEEK_END) != 0 ||
      (size = ftell(file)) <= 0 || fseek(file, 0, SEEK_SET) != 0) {
    if (file != NULL) {
      fclose(file);
    }
    return -1;
  }
  pdf_size = (size_t)size;
  pdf_data = malloc(pdf_size);
  if (pdf_data == NULL || fread(pdf_data, 1, pdf_size, file) != pdf_size) {
    fclose(file);
    return -1;
  }
  fclose(file);
  pdf_path = path;
  return 0;
}

static void *worker(void *client)
{
  for (int i = 0; i < ROUNDS_PER_THREAD; i++) {
    round_trip(client, i % 2);
  }
  return NULL;
}

int main(int argc, char **argv)
{
  SyphtClient *client;
  SyphtError *error = NULL;
  pthread_t threads[THREADS];

  if (argc != 3) {
    fputs("usage: c_abi_check API_BASE_URL PDF_FILE\n", stderr);
    return 2;
  }
  if (read_pdf(argv[2]) != 0) {
    fprintf(stderr, "c_abi_check: cannot read %s\n", argv[2]);
    return 2;
  }
  client = new_client(argv[1]);
  if (client == NULL) {
    fprintf(stderr, "0 passed, %d failed\n", failed + 1);
    return 1;
  }
  check(sypht_client_authenticate(client, &error) == 0 && error == NULL,
        "authenticate", error);
  sypht_error_free(error);
  check_argument_errors(client);
  round_trip(client, 0);
  for (int i = 0; i < THREADS; i++) {
    check(pthread_create(&threads[i], NULL, worker, client) == 0,
          "pthread_create", NULL);
  }
  for (int i = 0; i < THREADS; i++) {
    pthread_join(threads[i], NULL);
  }
  sypht_client_free(client);
  free(pdf_data);

  printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
