/*
 * sypht.hpp: header-only C++17 wrapper of the libsypht C interface in
 * sypht.h.
 *
 * - sypht::Client owns a SyphtClient and frees it in its destructor. It is
 *   movable, not copyable. A moved-from client throws sypht::Error with
 *   SYPHT_ERROR_INVALID_ARGUMENT on every call.
 * - Every failed call throws sypht::Error, which carries the libsypht
 *   error code, the HTTP status (0 when there was no response) and the
 *   message. Every C string and error is freed inside the wrapper.
 * - Progress and log handlers may throw: the wrapper catches the exception
 *   before it reaches libsypht, because an exception unwinding through the
 *   library aborts the process. A progress handler's exception is thrown
 *   again once the upload call has returned; a log handler's is dropped.
 * - A Client may be shared by many threads, as the C client may.
 */

#ifndef SYPHT_HPP
#define SYPHT_HPP

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "sypht.h"

namespace sypht {

/* The failure of a libsypht call. */
class Error : public std::runtime_error {
 public:
  Error(int32_t code, uint16_t http_status, const std::string &message,
        std::string result_status = {})
      : std::runtime_error(message),
        code_(code),
        http_status_(http_status),
        result_status_(std::move(result_status)) {}

  /* The error code, one of the SYPHT_ERROR_* values. */
  int32_t code() const noexcept { return code_; }

  /* The library's short description of the code, such as
   * "authentication failed". */
  const char *code_name() const noexcept {
    return sypht_error_code_name(code_);
  }

  /* The HTTP status of the response behind the error, or 0. */
  uint16_t http_status() const noexcept { return http_status_; }

  /* The last processing status of SYPHT_ERROR_NOT_FINALISED errors, such
   * as "IN PROGRESS"; empty for other errors. */
  const std::string &result_status() const noexcept { return result_status_; }

 private:
  int32_t code_;
  uint16_t http_status_;
  std::string result_status_;
};

/* Receives upload progress: request body bytes sent so far and total. */
using ProgressHandler = std::function<void(uint64_t sent, uint64_t total)>;

/* Receives a log record: a SYPHT_LOG_* level and the message. */
using LogHandler = std::function<void(int32_t level, const std::string &message)>;

namespace detail {

struct ErrorDeleter {
  void operator()(SyphtError *error) const noexcept { sypht_error_free(error); }
};

struct StringDeleter {
  void operator()(char *string) const noexcept { sypht_free_string(string); }
};

struct OptionsDeleter {
  void operator()(SyphtClientOptions *options) const noexcept {
    sypht_client_options_free(options);
  }
};

struct ClientDeleter {
  void operator()(SyphtClient *client) const noexcept { sypht_client_free(client); }
};

/* Copies `error` into a sypht::Error, frees it and throws. */
[[noreturn]] inline void throw_error(SyphtError *error) {
  std::unique_ptr<SyphtError, ErrorDeleter> owned(error);
  if (!owned) {
    throw Error(SYPHT_ERROR_INTERNAL, 0,
                "a libsypht call failed without reporting an error");
  }
  const char *status = sypht_error_result_status(owned.get());
  throw Error(sypht_error_code(owned.get()), sypht_error_http_status(owned.get()),
              sypht_error_message(owned.get()), status != nullptr ? status : "");
}

/* Throws when `code` is not SYPHT_OK. */
inline void check(int32_t code, SyphtError *error) {
  if (code != SYPHT_OK) {
    throw_error(error);
  }
}

/* Copies a string returned by libsypht and frees it, or throws when it is
 * NULL. */
inline std::string take_string(char *string, SyphtError *error) {
  if (string == nullptr) {
    throw_error(error);
  }
  std::unique_ptr<char, StringDeleter> owned(string);
  return std::string(owned.get());
}

/* Returns value.c_str(), rejecting strings that C would cut short at a
 * NUL byte. */
inline const char *c_string(const std::string &value, const char *name) {
  if (value.find('\0') != std::string::npos) {
    throw Error(SYPHT_ERROR_INVALID_ARGUMENT, 0,
                std::string("argument ") + name + " contains a NUL byte");
  }
  return value.c_str();
}

inline std::vector<const char *> c_strings(const std::vector<std::string> &values,
                                           const char *name) {
  std::vector<const char *> pointers;
  pointers.reserve(values.size());
  for (const std::string &value : values) {
    pointers.push_back(c_string(value, name));
  }
  return pointers;
}

inline uint64_t millis(std::chrono::milliseconds duration, const char *name) {
  if (duration.count() < 0) {
    throw Error(SYPHT_ERROR_INVALID_ARGUMENT, 0,
                std::string(name) + " must not be negative");
  }
  return static_cast<uint64_t>(duration.count());
}

/* The user_data of one upload's progress callback. */
struct ProgressCall {
  const ProgressHandler *handler;
  std::exception_ptr exception;
};

extern "C" inline void sypht_cpp_progress_trampoline(uint64_t sent, uint64_t total,
                                           void *user_data) noexcept {
  auto *call = static_cast<ProgressCall *>(user_data);
  if (call->exception) {
    return;
  }
  try {
    (*call->handler)(sent, total);
  } catch (...) {
    call->exception = std::current_exception();
  }
}

extern "C" inline void sypht_cpp_log_trampoline(int32_t level, const char *message,
                                      void *user_data) noexcept {
  try {
    (*static_cast<const LogHandler *>(user_data))(level, message);
  } catch (...) {
    /* There is no caller to hand the exception to. */
  }
}

/* The installed log handler, owned here so its user_data stays valid. */
struct LogState {
  std::mutex mutex;
  std::unique_ptr<LogHandler> handler;
};

inline LogState &log_state() {
  static LogState state;
  return state;
}

}  // namespace detail

/* Settings for a Client. Unset settings fall back to the SYPHT_*
 * environment variables, then to the library defaults. */
class ClientOptions {
 public:
  ClientOptions() : options_(sypht_client_options_new()) {
    if (!options_) {
      throw Error(SYPHT_ERROR_INTERNAL, 0, "sypht_client_options_new failed");
    }
  }

  ClientOptions &api_base(const std::string &url) {
    return set(sypht_client_options_set_api_base, url, "url");
  }
  ClientOptions &auth_endpoint(const std::string &url) {
    return set(sypht_client_options_set_auth_endpoint, url, "url");
  }
  ClientOptions &audience(const std::string &audience) {
    return set(sypht_client_options_set_audience, audience, "audience");
  }
  ClientOptions &user_agent(const std::string &user_agent) {
    return set(sypht_client_options_set_user_agent, user_agent, "user_agent");
  }
  ClientOptions &ca_pem(const std::string &pem) {
    return set(sypht_client_options_set_ca_pem, pem, "pem");
  }
  ClientOptions &ca_file(const std::string &path) {
    return set(sypht_client_options_set_ca_file, path, "path");
  }

  /* One of the SYPHT_AUTH_FLOW_* values. */
  ClientOptions &auth_flow(int32_t flow) {
    SyphtError *error = nullptr;
    detail::check(sypht_client_options_set_auth_flow(options_.get(), flow, &error), error);
    return *this;
  }

  ClientOptions &connect_timeout(std::chrono::milliseconds timeout) {
    return set(sypht_client_options_set_connect_timeout_ms, timeout, "connect timeout");
  }
  ClientOptions &request_timeout(std::chrono::milliseconds timeout) {
    return set(sypht_client_options_set_request_timeout_ms, timeout, "request timeout");
  }
  ClientOptions &read_timeout(std::chrono::milliseconds timeout) {
    return set(sypht_client_options_set_read_timeout_ms, timeout, "read timeout");
  }
  ClientOptions &call_deadline(std::chrono::milliseconds deadline) {
    return set(sypht_client_options_set_call_deadline_ms, deadline, "call deadline");
  }
  /* 0 means a single results request. */
  ClientOptions &results_deadline(std::chrono::milliseconds deadline) {
    return set(sypht_client_options_set_results_deadline_ms, deadline, "results deadline");
  }

  ClientOptions &retries(uint32_t max_retries, std::chrono::milliseconds initial_backoff,
                         std::chrono::milliseconds max_backoff) {
    SyphtError *error = nullptr;
    detail::check(sypht_client_options_set_retries(
                      options_.get(), max_retries,
                      detail::millis(initial_backoff, "initial backoff"),
                      detail::millis(max_backoff, "max backoff"), &error),
                  error);
    return *this;
  }

  ClientOptions &max_response_bytes(uint64_t max_bytes) {
    SyphtError *error = nullptr;
    detail::check(sypht_client_options_set_max_response_bytes(options_.get(), max_bytes, &error),
                  error);
    return *this;
  }

  ClientOptions &ignore_env(bool ignore) {
    SyphtError *error = nullptr;
    detail::check(sypht_client_options_set_ignore_env(options_.get(), ignore, &error), error);
    return *this;
  }

  const SyphtClientOptions *get() const noexcept { return options_.get(); }

 private:
  using StringSetter = int32_t (*)(SyphtClientOptions *, const char *, SyphtError **);
  using MillisSetter = int32_t (*)(SyphtClientOptions *, uint64_t, SyphtError **);

  ClientOptions &set(StringSetter setter, const std::string &value, const char *name) {
    SyphtError *error = nullptr;
    detail::check(setter(options_.get(), detail::c_string(value, name), &error), error);
    return *this;
  }

  ClientOptions &set(MillisSetter setter, std::chrono::milliseconds value, const char *name) {
    SyphtError *error = nullptr;
    detail::check(setter(options_.get(), detail::millis(value, name), &error), error);
    return *this;
  }

  std::unique_ptr<SyphtClientOptions, detail::OptionsDeleter> options_;
};

/* A Sypht API client. Movable, not copyable; frees the C client when
 * destroyed. */
class Client {
 public:
  /* A client with explicit credentials and default options. */
  Client(const std::string &client_id, const std::string &client_secret)
      : Client(client_id, client_secret, ClientOptions()) {}

  /* A client with explicit credentials. */
  Client(const std::string &client_id, const std::string &client_secret,
         const ClientOptions &options)
      : client_(create(options, detail::c_string(client_id, "client_id"),
                       detail::c_string(client_secret, "client_secret"))) {}

  /* A client whose credentials come from SYPHT_API_KEY
   * ("client_id:client_secret"). */
  static Client from_env(const ClientOptions &options = ClientOptions()) {
    return Client(create(options, nullptr, nullptr));
  }

  /* Fetches an access token now, to check credentials and endpoints. */
  void authenticate() {
    SyphtError *error = nullptr;
    detail::check(sypht_client_authenticate(client_.get(), &error), error);
  }

  /* Uploads the file at `path` for extraction by `products` and returns
   * its file id. */
  std::string upload(const std::string &path, const std::vector<std::string> &products) {
    std::vector<const char *> names = detail::c_strings(products, "products");
    SyphtError *error = nullptr;
    char *id = sypht_upload(client_.get(), detail::c_string(path, "path"), names.data(),
                            names.size(), &error);
    return detail::take_string(id, error);
  }

  /* Like upload, calling `progress` on this thread while the file is sent. */
  std::string upload(const std::string &path, const std::vector<std::string> &products,
                     const ProgressHandler &progress) {
    std::vector<const char *> names = detail::c_strings(products, "products");
    detail::ProgressCall call{&progress, nullptr};
    SyphtError *error = nullptr;
    char *id = sypht_upload_with_progress(client_.get(), detail::c_string(path, "path"),
                                          names.data(), names.size(),
                                          detail::sypht_cpp_progress_trampoline, &call, &error);
    return finish_progress(call, id, error);
  }

  /* Uploads `size` bytes at `data` as a document named `file_name` and
   * returns its file id. */
  std::string upload_bytes(const void *data, std::size_t size, const std::string &file_name,
                           const std::vector<std::string> &products) {
    std::vector<const char *> names = detail::c_strings(products, "products");
    SyphtError *error = nullptr;
    char *id = sypht_upload_bytes(client_.get(), static_cast<const uint8_t *>(data), size,
                                  detail::c_string(file_name, "file_name"), names.data(),
                                  names.size(), &error);
    return detail::take_string(id, error);
  }

  /* Like upload_bytes, calling `progress` on this thread while the bytes
   * are sent. */
  std::string upload_bytes(const void *data, std::size_t size, const std::string &file_name,
                           const std::vector<std::string> &products,
                           const ProgressHandler &progress) {
    std::vector<const char *> names = detail::c_strings(products, "products");
    detail::ProgressCall call{&progress, nullptr};
    SyphtError *error = nullptr;
    char *id = sypht_upload_bytes_with_progress(
        client_.get(), static_cast<const uint8_t *>(data), size,
        detail::c_string(file_name, "file_name"), names.data(), names.size(),
        detail::sypht_cpp_progress_trampoline, &call, &error);
    return finish_progress(call, id, error);
  }

  /* Waits for the results and returns them as a JSON object mapping each
   * field name to its value. */
  std::string results(const std::string &file_id) {
    SyphtError *error = nullptr;
    char *json = sypht_get_results(client_.get(), detail::c_string(file_id, "file_id"), &error);
    return detail::take_string(json, error);
  }

  /* Waits for the results and returns the whole verbose results object as
   * JSON. */
  std::string results_verbose(const std::string &file_id) {
    SyphtError *error = nullptr;
    char *json =
        sypht_get_results_verbose(client_.get(), detail::c_string(file_id, "file_id"), &error);
    return detail::take_string(json, error);
  }

  /* The C client, owned by this object; NULL after a move. */
  SyphtClient *get() const noexcept { return client_.get(); }

 private:
  using Handle = std::unique_ptr<SyphtClient, detail::ClientDeleter>;

  explicit Client(Handle client) : client_(std::move(client)) {}

  static Handle create(const ClientOptions &options, const char *client_id,
                       const char *client_secret) {
    SyphtError *error = nullptr;
    SyphtClient *client =
        sypht_client_new_with_options(options.get(), client_id, client_secret, &error);
    if (client == nullptr) {
      detail::throw_error(error);
    }
    return Handle(client);
  }

  static std::string finish_progress(detail::ProgressCall &call, char *id, SyphtError *error) {
    if (call.exception) {
      sypht_free_string(id);
      sypht_error_free(error);
      std::rethrow_exception(call.exception);
    }
    return detail::take_string(id, error);
  }

  Handle client_;
};

/* Installs `handler` as the process-wide receiver of libsypht log records,
 * or removes it when `handler` is empty. The library is silent until a
 * handler is installed. The handler may run on any thread, several at
 * once, and must not call set_log_handler. */
inline void set_log_handler(LogHandler handler) {
  detail::LogState &state = detail::log_state();
  std::lock_guard<std::mutex> lock(state.mutex);
  std::unique_ptr<LogHandler> installed;
  if (handler) {
    installed = std::make_unique<LogHandler>(std::move(handler));
    sypht_set_log_callback(detail::sypht_cpp_log_trampoline, installed.get());
  } else {
    sypht_set_log_callback(nullptr, nullptr);
  }
  /* No call of the previous handler is running once
   * sypht_set_log_callback has returned, so it can be destroyed. */
  state.handler = std::move(installed);
}

/* The version of the libsypht library in use. */
inline std::string version() { return sypht_version(); }

}  // namespace sypht

#endif /* SYPHT_HPP */
