/*
 * extract: upload a document to Sypht and print the extracted fields.
 *
 *   extract [--product NAME]... [--verbose] FILE
 *
 * The client reads its credentials from SYPHT_API_KEY
 * ("client_id:client_secret") and its endpoints from SYPHT_AUTH_ENDPOINT
 * and SYPHT_API_BASE_ENDPOINT, falling back to the real Sypht hosts when
 * those are unset. The results are printed to stdout as one line of JSON.
 *
 * Exit status: 0 on success, 1 when a libsypht call or writing the output
 * fails, 2 on a usage error.
 *
 * When stderr is a terminal and the file is larger than 1 MiB, a progress
 * bar is drawn on stderr during the upload.
 *
 * `make demo` at the top of the repository builds it against libsypht and
 * runs it on the sample invoice against the local emulator.
 */

/* isatty() and fileno() are POSIX, not C11. */
#define _POSIX_C_SOURCE 200809L

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/stat.h>
#include <unistd.h>

#include "sypht.h"

enum { EXIT_USAGE = 2 };

static const char *const DEFAULT_PRODUCT = "invoices";

struct arguments {
  const char **products; /* points into argv or at DEFAULT_PRODUCT */
  size_t product_count;
  bool verbose;
  const char *path;
};

static void print_usage(FILE *out)
{
  fputs("usage: extract [--product NAME]... [--verbose] FILE\n"
        "\n"
        "Upload FILE to Sypht and print the extracted fields as JSON.\n"
        "\n"
        "  --product NAME  extract with product NAME; repeat for more\n"
        "                  (default: invoices)\n"
        "  --verbose       print the whole results object: its timestamp\n"
        "                  and every field with all its details\n"
        "  -h, --help      show this help and exit\n"
        "\n"
        "Environment:\n"
        "  SYPHT_API_KEY            client_id:client_secret (required)\n"
        "  SYPHT_AUTH_ENDPOINT      token endpoint URL\n"
        "  SYPHT_API_BASE_ENDPOINT  API base URL\n",
        out);
}

/* Prints a usage error and returns the exit status for it. */
static int usage_error(const char *message, const char *value)
{
  if (value != NULL) {
    fprintf(stderr, "extract: %s: %s\n", message, value);
  } else {
    fprintf(stderr, "extract: %s\n", message);
  }
  fputs("Try 'extract --help' for more information.\n", stderr);
  return EXIT_USAGE;
}

/*
 * Parses the command line into `args`. Returns -1 to continue, or the exit
 * status to stop with (after --help or a usage error). The caller frees
 * args->products in every case.
 */
static int parse_arguments(int argc, char **argv, struct arguments *args)
{
  bool options_done = false;

  /* One slot per argument is enough. The extra slot keeps the size
   * non-zero when argc is 0. */
  args->products = malloc(((size_t)argc + 1) * sizeof *args->products);
  args->product_count = 0;
  args->verbose = false;
  args->path = NULL;
  if (args->products == NULL) {
    fputs("extract: out of memory\n", stderr);
    return EXIT_FAILURE;
  }

  for (int i = 1; i < argc; i++) {
    const char *arg = argv[i];

    if (options_done || arg[0] != '-' || strcmp(arg, "-") == 0) {
      if (args->path != NULL) {
        return usage_error("more than one FILE given", arg);
      }
      args->path = arg;
    } else if (strcmp(arg, "--") == 0) {
      options_done = true;
    } else if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
      print_usage(stdout);
      return EXIT_SUCCESS;
    } else if (strcmp(arg, "--verbose") == 0) {
      args->verbose = true;
    } else if (strcmp(arg, "--product") == 0) {
      if (i + 1 >= argc) {
        return usage_error("option --product requires a NAME", NULL);
      }
      i++;
      if (argv[i][0] == '\0') {
        return usage_error("option --product requires a non-empty NAME",
                           NULL);
      }
      args->products[args->product_count++] = argv[i];
    } else {
      return usage_error("unknown option", arg);
    }
  }

  if (args->path == NULL) {
    return usage_error("missing FILE", NULL);
  }
  if (args->product_count == 0) {
    args->products[0] = DEFAULT_PRODUCT;
    args->product_count = 1;
  }
  return -1;
}

/*
 * Prints "error CODE (NAME): MESSAGE" to stderr, followed by the HTTP status
 * when the server sent a response.
 */
static void print_error(const SyphtError *error)
{
  int32_t code = sypht_error_code(error);
  uint16_t http_status = sypht_error_http_status(error);

  fprintf(stderr, "error %d (%s): %s", (int)code,
          sypht_error_code_name(code), sypht_error_message(error));
  if (http_status != 0) {
    fprintf(stderr, " (HTTP status %u)", (unsigned)http_status);
  }
  fputc('\n', stderr);
}

/* Files above this size get a progress bar when stderr is a terminal. */
static const long long PROGRESS_MIN_BYTES = 1024 * 1024;

/* Draws "upload [#####     ]  42%" on stderr, redrawn in place. */
static void draw_progress(uint64_t sent, uint64_t total, void *user_data)
{
  enum { WIDTH = 40 };
  char bar[WIDTH + 1];
  int percent = total > 0 ? (int)(sent * 100 / total) : 100;
  int filled = percent * WIDTH / 100;

  (void)user_data;
  for (int i = 0; i < WIDTH; i++) {
    bar[i] = i < filled ? '#' : ' ';
  }
  bar[WIDTH] = '\0';
  fprintf(stderr, "\rupload [%s] %3d%%", bar, percent);
  if (sent >= total) {
    fputc('\n', stderr);
  }
}

/* True when a progress bar for `path` should be drawn on stderr. */
static bool wants_progress(const char *path)
{
  struct stat info;

  if (!isatty(fileno(stderr)) || stat(path, &info) != 0) {
    return false;
  }
  return (long long)info.st_size > PROGRESS_MIN_BYTES;
}

/*
 * Uploads the file, fetches its results and prints them. Returns the exit
 * status. Every libsypht object it creates is freed before it returns, on
 * success and on error.
 */
static int extract(const struct arguments *args)
{
  SyphtError *error = NULL;
  SyphtClient *client = NULL;
  char *file_id = NULL;
  char *results = NULL;
  int status = EXIT_FAILURE;

  client = sypht_client_new(NULL, NULL, &error);
  if (client == NULL) {
    goto done;
  }

  if (wants_progress(args->path)) {
    file_id = sypht_upload_with_progress(client, args->path, args->products,
                                         args->product_count, draw_progress,
                                         NULL, &error);
  } else {
    file_id = sypht_upload(client, args->path, args->products,
                           args->product_count, &error);
  }
  if (file_id == NULL) {
    goto done;
  }

  if (args->verbose) {
    results = sypht_get_results_verbose(client, file_id, &error);
  } else {
    results = sypht_get_results(client, file_id, &error);
  }
  if (results == NULL) {
    goto done;
  }

  if (puts(results) == EOF || fflush(stdout) == EOF) {
    perror("extract: writing the results to stdout failed");
    goto done;
  }
  status = EXIT_SUCCESS;

done:
  if (error != NULL) {
    print_error(error);
  }
  sypht_free_string(results);
  sypht_free_string(file_id);
  sypht_error_free(error);
  sypht_client_free(client);
  return status;
}

int main(int argc, char **argv)
{
  struct arguments args;
  int status = parse_arguments(argc, argv, &args);

  if (status == -1) {
    status = extract(&args);
  }
  free(args.products);
  return status;
}
