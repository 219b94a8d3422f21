/*
 * smoke: links against an installed libsypht and runs one upload and one
 * results request against the endpoints in the SYPHT_* variables.
 *
 *   smoke FILE
 *
 * Checks that the header's version macros match the library, that the
 * progress callback reports the whole body and that the log callback
 * receives the token fetch. Prints the results JSON on success. Exits
 * with 1 and a message on stderr on the first failed check.
 */

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "sypht.h"

struct progress {
  uint64_t calls;
  uint64_t sent;
  uint64_t total;
};

static void on_progress(uint64_t sent, uint64_t total, void *user_data)
{
  struct progress *progress = user_data;

  progress->calls++;
  progress->sent = sent;
  progress->total = total;
}

static void on_log(int32_t level, const char *message, void *user_data)
{
  int *token_records = user_data;

  if (level == SYPHT_LOG_INFO && strstr(message, "access token") != NULL) {
    (*token_records)++;
  }
}

static int fail(const char *failed_call, SyphtError *error)
{
  fprintf(stderr, "smoke: %s: error %d (%s): %s\n", failed_call,
          (int)sypht_error_code(error),
          sypht_error_code_name(sypht_error_code(error)),
          sypht_error_message(error));
  sypht_error_free(error);
  return 1;
}

int main(int argc, char **argv)
{
  const char *products[] = {"invoices"};
  struct progress progress = {0, 0, 0};
  int token_records = 0;
  SyphtError *error = NULL;
  SyphtClient *client;
  char *file_id;
  char *results;
  char version[32];

  if (argc != 2) {
    fputs("usage: smoke FILE\n", stderr);
    return 2;
  }

  snprintf(version, sizeof version, "%d.%d.%d", SYPHT_VERSION_MAJOR,
           SYPHT_VERSION_MINOR, SYPHT_VERSION_PATCH);
  if (strcmp(version, SYPHT_VERSION_STRING) != 0 ||
      strcmp(version, sypht_version()) != 0) {
    fprintf(stderr, "smoke: version macros %s / %s differ from library %s\n",
            version, SYPHT_VERSION_STRING, sypht_version());
    return 1;
  }

  sypht_set_log_callback(on_log, &token_records);
  client = sypht_client_new(NULL, NULL, &error);
  if (client == NULL) {
    return fail("sypht_client_new failed", error);
  }
  file_id = sypht_upload_with_progress(client, argv[1], products, 1,
                                       on_progress, &progress, &error);
  if (file_id == NULL) {
    sypht_client_free(client);
    return fail("sypht_upload_with_progress failed", error);
  }
  results = sypht_get_results(client, file_id, &error);
  sypht_free_string(file_id);
  sypht_client_free(client);
  sypht_set_log_callback(NULL, NULL);
  if (results == NULL) {
    return fail("sypht_get_results failed", error);
  }

  if (progress.calls == 0 || progress.sent != progress.total) {
    fprintf(stderr, "smoke: progress ended at %llu of %llu bytes after %llu "
            "calls\n", (unsigned long long)progress.sent,
            (unsigned long long)progress.total,
            (unsigned long long)progress.calls);
    sypht_free_string(results);
    return 1;
  }
  if (token_records != 1) {
    fprintf(stderr, "smoke: %d log records of a token fetch, expected 1\n",
            token_records);
    sypht_free_string(results);
    return 1;
  }
  puts(results);
  sypht_free_string(results);
  return 0;
}
