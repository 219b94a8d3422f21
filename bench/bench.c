/*
 * Drives libsypht through its C interface for the benchmarks run by
 * `make bench` (bench/run.sh). Each subcommand runs one scenario against
 * the server at BASE (API) and AUTH (token endpoint), both on loopback, and
 * prints one JSON object per measurement on stdout.
 *
 *   bench results BASE AUTH FILE_ID THREADS CALLS REPEATS
 *   bench upload  BASE AUTH FILE_ID PATH
 *   bench token   BASE AUTH FILE_ID THREADS SECONDS
 *   bench batch   BASE AUTH DIR COUNT CONCURRENCY
 */

#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "sypht.h"

static const char *const PRODUCTS[] = {"invoices"};

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *operation, SyphtError *error) {
    fprintf(stderr, "bench: %s failed: %s (code %d)\n", operation, sypht_error_message(error),
            sypht_error_code(error));
    sypht_error_free(error);
    exit(1);
}

static void check(int32_t code, const char *operation, SyphtError *error) {
    if (code != SYPHT_OK) {
        die(operation, error);
    }
}

/* Creates a client for BASE and AUTH that ignores SYPHT_* variables, so
 * nothing can send it to the real Sypht hosts. */
static SyphtClient *make_client(const char *base, const char *auth) {
    SyphtError *error = NULL;
    SyphtClientOptions *options = sypht_client_options_new();
    if (options == NULL) {
        fprintf(stderr, "bench: sypht_client_options_new returned NULL\n");
        exit(1);
    }
    check(sypht_client_options_set_ignore_env(options, true, &error), "set_ignore_env", error);
    check(sypht_client_options_set_api_base(options, base, &error), "set_api_base", error);
    check(sypht_client_options_set_auth_endpoint(options, auth, &error), "set_auth_endpoint", error);
    check(sypht_client_options_set_results_deadline_ms(options, 10000, &error), "set_results_deadline_ms", error);
    SyphtClient *client =
        sypht_client_new_with_options(options, "emulator-client-id", "emulator-client-secret", &error);
    sypht_client_options_free(options);
    if (client == NULL) {
        die("sypht_client_new_with_options", error);
    }
    check(sypht_client_authenticate(client, &error), "sypht_client_authenticate", error);
    return client;
}

/* Reads a "Name:   N kB" line of /proc/self/status, in KiB; -1 if absent. */
static long status_kib(const char *name) {
    FILE *file = fopen("/proc/self/status", "r");
    if (file == NULL) {
        return -1;
    }
    char line[256];
    size_t name_len = strlen(name);
    long value = -1;
    while (fgets(line, sizeof line, file) != NULL) {
        if (strncmp(line, name, name_len) == 0 && line[name_len] == ':') {
            value = strtol(line + name_len + 1, NULL, 10);
            break;
        }
    }
    fclose(file);
    return value;
}

/* Resets VmHWM to the current RSS (Linux 4.0 and later). Returns 0 on
 * success. */
static int reset_peak_rss(void) {
    FILE *file = fopen("/proc/self/clear_refs", "w");
    if (file == NULL) {
        return -1;
    }
    int ok = fputs("5", file) >= 0;
    return (fclose(file) == 0 && ok) ? 0 : -1;
}

/* Work shared by the threads of the results and token scenarios. */
struct results_work {
    SyphtClient *client;
    const char *file_id;
    long calls;          /* calls per thread, or 0 to run until `stop_at` */
    double stop_at;      /* monotonic deadline when calls is 0 */
    long done;
    long failed;
    char first_error[512];
};

static void *results_worker(void *arg) {
    struct results_work *work = arg;
    for (long i = 0; work->calls == 0 || i < work->calls; i++) {
        if (work->calls == 0 && (i & 15) == 0 && now_seconds() >= work->stop_at) {
            break;
        }
        SyphtError *error = NULL;
        char *fields = sypht_get_results(work->client, work->file_id, &error);
        if (fields == NULL) {
            if (work->failed == 0) {
                snprintf(work->first_error, sizeof work->first_error, "%s", sypht_error_message(error));
            }
            work->failed++;
            sypht_error_free(error);
        } else {
            sypht_free_string(fields);
        }
        work->done++;
    }
    return NULL;
}

/* Runs `threads` workers; returns the wall time in seconds. */
static double run_results(struct results_work *works, int threads) {
    pthread_t ids[64];
    double start = now_seconds();
    for (int t = 0; t < threads; t++) {
        if (pthread_create(&ids[t], NULL, results_worker, &works[t]) != 0) {
            fprintf(stderr, "bench: pthread_create failed\n");
            exit(1);
        }
    }
    for (int t = 0; t < threads; t++) {
        pthread_join(ids[t], NULL);
    }
    return now_seconds() - start;
}

static int compare_doubles(const void *a, const void *b) {
    double x = *(const double *)a;
    double y = *(const double *)b;
    return (x > y) - (x < y);
}

static int parse_threads(const char *text) {
    int threads = atoi(text);
    if (threads < 1 || threads > 64) {
        fprintf(stderr, "bench: THREADS must be from 1 to 64, not %s\n", text);
        exit(2);
    }
    return threads;
}

/* Times CALLS results calls split over THREADS threads, REPEATS times, and
 * reports the median rate. */
static int bench_results(char **argv) {
    const char *file_id = argv[4];
    int threads = parse_threads(argv[5]);
    long calls = atol(argv[6]);
    int repeats = atoi(argv[7]);
    if (calls < threads || repeats < 1 || repeats > 15) {
        fprintf(stderr, "bench: CALLS must be at least THREADS and REPEATS from 1 to 15\n");
        return 2;
    }
    SyphtClient *client = make_client(argv[2], argv[3]);
    struct results_work works[64];
    double rates[15];
    long failed = 0;
    char first_error[512] = "";

    /* A warm-up round opens one pooled connection per thread. */
    for (int round = -1; round < repeats; round++) {
        for (int t = 0; t < threads; t++) {
            works[t] = (struct results_work){.client = client, .file_id = file_id, .calls = calls / threads};
        }
        double seconds = run_results(works, threads);
        long done = 0;
        for (int t = 0; t < threads; t++) {
            done += works[t].done;
            if (works[t].failed > 0 && failed == 0) {
                memcpy(first_error, works[t].first_error, sizeof first_error);
            }
            failed += works[t].failed;
        }
        if (round >= 0) {
            rates[round] = (double)done / seconds;
        }
    }
    double sorted[15];
    memcpy(sorted, rates, sizeof(double) * (size_t)repeats);
    qsort(sorted, (size_t)repeats, sizeof(double), compare_doubles);
    printf("{\"threads\": %d, \"calls\": %ld, \"repeats\": %d, \"calls_per_second\": %.1f, \"rates\": [",
           threads, calls, repeats, sorted[repeats / 2]);
    for (int i = 0; i < repeats; i++) {
        printf("%s%.1f", i ? ", " : "", rates[i]);
    }
    printf("], \"failed\": %ld}\n", failed);
    if (failed > 0) {
        fprintf(stderr, "bench: %ld results calls failed; first: %s\n", failed, first_error);
    }
    sypht_client_free(client);
    return failed > 0 ? 1 : 0;
}

/* Uploads PATH once and reports how far the peak RSS rose above the RSS of
 * the idle, authenticated client. */
static int bench_upload(char **argv) {
    const char *file_id = argv[4];
    const char *path = argv[5];
    struct stat info;
    if (stat(path, &info) != 0) {
        fprintf(stderr, "bench: cannot stat %s: %s\n", path, strerror(errno));
        return 1;
    }
    SyphtClient *client = make_client(argv[2], argv[3]);
    SyphtError *error = NULL;
    char *fields = sypht_get_results(client, file_id, &error);
    if (fields == NULL) {
        die("warm-up sypht_get_results", error);
    }
    sypht_free_string(fields);

    long idle_rss = status_kib("VmRSS");
    int reset = reset_peak_rss();
    long idle_peak = status_kib("VmHWM");
    double start = now_seconds();
    char *new_id = sypht_upload(client, path, PRODUCTS, 1, &error);
    double seconds = now_seconds() - start;
    if (new_id == NULL) {
        die("sypht_upload", error);
    }
    long peak = status_kib("VmHWM");
    /* Without a reset, VmHWM still contains the peak of start-up. */
    long baseline = reset == 0 ? idle_rss : idle_peak;
    printf("{\"bytes\": %lld, \"seconds\": %.3f, \"idle_rss_kib\": %ld, \"peak_rss_kib\": %ld, "
           "\"peak_rise_kib\": %ld, \"peak_reset\": %s}\n",
           (long long)info.st_size, seconds, idle_rss, peak, peak - baseline, reset == 0 ? "true" : "false");
    sypht_free_string(new_id);
    sypht_client_free(client);
    return 0;
}

/* Calls results from THREADS threads for SECONDS seconds on one client;
 * the server counts the token requests. */
static int bench_token(char **argv) {
    const char *file_id = argv[4];
    int threads = parse_threads(argv[5]);
    double seconds = atof(argv[6]);
    if (seconds <= 0 || seconds > 600) {
        fprintf(stderr, "bench: SECONDS must be above 0 and at most 600\n");
        return 2;
    }
    SyphtClient *client = make_client(argv[2], argv[3]);
    struct results_work works[64];
    double stop_at = now_seconds() + seconds;
    for (int t = 0; t < threads; t++) {
        works[t] = (struct results_work){.client = client, .file_id = file_id, .calls = 0, .stop_at = stop_at};
    }
    double elapsed = run_results(works, threads);
    long done = 0;
    long failed = 0;
    for (int t = 0; t < threads; t++) {
        done += works[t].done;
        if (works[t].failed > 0 && failed == 0) {
            fprintf(stderr, "bench: first failed call: %s\n", works[t].first_error);
        }
        failed += works[t].failed;
    }
    printf("{\"threads\": %d, \"seconds\": %.3f, \"calls\": %ld, \"failed\": %ld}\n", threads, elapsed, done, failed);
    sypht_client_free(client);
    return failed > 0 ? 1 : 0;
}

/* Processes DIR/doc-000.pdf .. DIR/doc-(COUNT-1).pdf with
 * sypht_process_batch and reports documents per second. */
static int bench_batch(char **argv) {
    const char *dir = argv[4];
    long count = atol(argv[5]);
    long concurrency = atol(argv[6]);
    if (count < 1 || count > 100000 || concurrency < 1) {
        fprintf(stderr, "bench: COUNT must be from 1 to 100000 and CONCURRENCY at least 1\n");
        return 2;
    }

    char **paths = calloc((size_t)count, sizeof *paths);
    if (paths == NULL) {
        fprintf(stderr, "bench: out of memory\n");
        return 1;
    }
    for (long i = 0; i < count; i++) {
        if (asprintf(&paths[i], "%s/doc-%03ld.pdf", dir, i) < 0) {
            fprintf(stderr, "bench: out of memory\n");
            return 1;
        }
    }

    SyphtClient *client = make_client(argv[2], argv[3]);
    SyphtError *error = NULL;
    double start = now_seconds();
    char *json = sypht_process_batch(client, (const char *const *)paths, (size_t)count, PRODUCTS, 1,
                                     (size_t)concurrency, &error);
    double seconds = now_seconds() - start;
    if (json == NULL) {
        die("sypht_process_batch", error);
    }

    long failed = 0;
    for (const char *at = json; (at = strstr(at, "\"error\":")) != NULL; at++) {
        failed++;
    }
    printf("{\"documents\": %ld, \"concurrency\": %ld, \"seconds\": %.3f, \"documents_per_second\": %.2f, "
           "\"failed\": %ld}\n",
           count, concurrency, seconds, (double)count / seconds, failed);
    if (failed > 0) {
        fprintf(stderr, "bench: %ld documents failed: %.400s\n", failed, json);
    }

    sypht_free_string(json);
    sypht_client_free(client);
    for (long i = 0; i < count; i++) {
        free(paths[i]);
    }
    free(paths);
    return failed > 0 ? 1 : 0;
}

int main(int argc, char **argv) {
    struct {
        const char *name;
        int argc;
        int (*run)(char **argv);
    } commands[] = {
        {"results", 8, bench_results},
        {"upload", 6, bench_upload},
        {"token", 7, bench_token},
        {"batch", 7, bench_batch},
    };
    for (size_t i = 0; argc > 1 && i < sizeof commands / sizeof commands[0]; i++) {
        if (strcmp(argv[1], commands[i].name) == 0) {
            if (argc != commands[i].argc) {
                fprintf(stderr, "bench: %s takes %d arguments; see the usage at the top of bench/bench.c\n",
                        commands[i].name, commands[i].argc - 2);
                return 2;
            }
            return commands[i].run(argv);
        }
    }
    fprintf(stderr, "usage: bench results|upload|token|batch BASE AUTH ...; see bench/bench.c\n");
    return 2;
}
