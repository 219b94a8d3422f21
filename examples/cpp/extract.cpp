// extract: upload a document to Sypht and print the extracted fields,
// using the C++ wrapper in sypht.hpp.
//
//   extract [--product NAME]... [--verbose] FILE
//
// It takes the same arguments and environment variables as the C example
// in examples/c/extract.c, and prints the same output. The results go to
// stdout as one line of JSON. A failed libsypht call prints "error CODE
// (NAME): MESSAGE" on stderr and exits with 1. A usage error exits with 2.

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "sypht.hpp"

namespace {

constexpr int kExitUsage = 2;

struct Arguments {
  std::vector<std::string> products;
  bool verbose = false;
  std::string path;
  bool has_path = false;
};

void print_usage(std::ostream &out) {
  out << "usage: extract [--product NAME]... [--verbose] FILE\n"
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
         "  SYPHT_API_BASE_ENDPOINT  API base URL\n";
}

int usage_error(const std::string &message, const char *value = nullptr) {
  std::cerr << "extract: " << message;
  if (value != nullptr) {
    std::cerr << ": " << value;
  }
  std::cerr << "\nTry 'extract --help' for more information.\n";
  return kExitUsage;
}

// Parses the command line. Returns -1 to continue, or the exit status to
// stop with after --help or a usage error.
int parse_arguments(int argc, char **argv, Arguments &args) {
  bool options_done = false;
  for (int i = 1; i < argc; i++) {
    const std::string arg = argv[i];
    if (options_done || arg.empty() || arg[0] != '-' || arg == "-") {
      if (args.has_path) {
        return usage_error("more than one FILE given", argv[i]);
      }
      args.path = arg;
      args.has_path = true;
    } else if (arg == "--") {
      options_done = true;
    } else if (arg == "-h" || arg == "--help") {
      print_usage(std::cout);
      return EXIT_SUCCESS;
    } else if (arg == "--verbose") {
      args.verbose = true;
    } else if (arg == "--product") {
      if (i + 1 >= argc) {
        return usage_error("option --product requires a NAME");
      }
      i++;
      if (argv[i][0] == '\0') {
        return usage_error("option --product requires a non-empty NAME");
      }
      args.products.emplace_back(argv[i]);
    } else {
      return usage_error("unknown option", argv[i]);
    }
  }
  if (!args.has_path) {
    return usage_error("missing FILE");
  }
  if (args.products.empty()) {
    args.products.emplace_back("invoices");
  }
  return -1;
}

int extract(const Arguments &args) {
  try {
    sypht::Client client = sypht::Client::from_env();
    const std::string file_id = client.upload(args.path, args.products);
    const std::string results =
        args.verbose ? client.results_verbose(file_id) : client.results(file_id);
    std::cout << results << '\n' << std::flush;
    if (!std::cout) {
      std::perror("extract: writing the results to stdout failed");
      return EXIT_FAILURE;
    }
    return EXIT_SUCCESS;
  } catch (const sypht::Error &error) {
    std::cerr << "error " << error.code() << " (" << error.code_name()
              << "): " << error.what();
    if (error.http_status() != 0) {
      std::cerr << " (HTTP status " << error.http_status() << ")";
    }
    std::cerr << '\n';
    return EXIT_FAILURE;
  }
}

}  // namespace

int main(int argc, char **argv) {
  Arguments args;
  int status = parse_arguments(argc, argv, args);
  if (status == -1) {
    status = extract(args);
  }
  return status;
}
