#!/usr/bin/env python3
"""Upload a document to Sypht and print the extracted fields.

    extract.py [--product NAME]... [--verbose] FILE

Calls libsypht through ctypes. It takes the same arguments and environment
variables as the C example in examples/c/extract.c, and prints the same
output. The results go to stdout as one line of JSON. A failed libsypht
call prints "error CODE (NAME): MESSAGE" on stderr and exits with 1. A
usage error exits with 2.

The library is loaded from SYPHT_LIB, or from target/release/libsypht.so
in this repository.
"""

import ctypes
import os
import sys

EXIT_USAGE = 2
DEFAULT_PRODUCT = "invoices"

USAGE = """\
usage: extract [--product NAME]... [--verbose] FILE

Upload FILE to Sypht and print the extracted fields as JSON.

  --product NAME  extract with product NAME; repeat for more
                  (default: invoices)
  --verbose       print the whole results object: its timestamp
                  and every field with all its details
  -h, --help      show this help and exit

Environment:
  SYPHT_API_KEY            client_id:client_secret (required)
  SYPHT_AUTH_ENDPOINT      token endpoint URL
  SYPHT_API_BASE_ENDPOINT  API base URL
"""


class SyphtClient(ctypes.Structure):
    """Opaque SyphtClient."""


class SyphtError(ctypes.Structure):
    """Opaque SyphtError."""


def load_library():
    """Load libsypht and declare the signature of every function used."""
    default = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "target", "release", "libsypht.so")
    lib = ctypes.CDLL(os.environ.get("SYPHT_LIB") or default)
    client_p = ctypes.POINTER(SyphtClient)
    error_p = ctypes.POINTER(SyphtError)
    error_pp = ctypes.POINTER(error_p)
    # Returned strings are declared as c_void_p, not c_char_p: ctypes would
    # copy a c_char_p result and lose the pointer that must be freed.
    signatures = {
        "sypht_client_new": (client_p, [ctypes.c_char_p, ctypes.c_char_p, error_pp]),
        "sypht_client_free": (None, [client_p]),
        "sypht_upload": (
            ctypes.c_void_p,
            [client_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_char_p), ctypes.c_size_t, error_pp],
        ),
        "sypht_get_results": (ctypes.c_void_p, [client_p, ctypes.c_char_p, error_pp]),
        "sypht_get_results_verbose": (ctypes.c_void_p, [client_p, ctypes.c_char_p, error_pp]),
        "sypht_free_string": (None, [ctypes.c_void_p]),
        "sypht_error_code": (ctypes.c_int32, [error_p]),
        "sypht_error_code_name": (ctypes.c_char_p, [ctypes.c_int32]),
        "sypht_error_message": (ctypes.c_char_p, [error_p]),
        "sypht_error_http_status": (ctypes.c_uint16, [error_p]),
        "sypht_error_free": (None, [error_p]),
    }
    for name, (restype, argtypes) in signatures.items():
        function = getattr(lib, name)
        function.restype = restype
        function.argtypes = argtypes
    return lib


class LibsyphtError(Exception):
    """A failed libsypht call, copied out of its SyphtError."""

    def __init__(self, code, name, message, http_status):
        super().__init__(message)
        self.code = code
        self.name = name
        self.message = message
        self.http_status = http_status

    def __str__(self):
        text = f"error {self.code} ({self.name}): {self.message}"
        if self.http_status:
            text += f" (HTTP status {self.http_status})"
        return text


def take_error(lib, error):
    """Copy a SyphtError into a LibsyphtError and free it."""
    try:
        code = lib.sypht_error_code(error)
        return LibsyphtError(
            code,
            lib.sypht_error_code_name(code).decode("utf-8", "replace"),
            lib.sypht_error_message(error).decode("utf-8", "replace"),
            lib.sypht_error_http_status(error),
        )
    finally:
        lib.sypht_error_free(error)


def take_string(lib, pointer, error):
    """Copy a string returned by libsypht and free it, or raise its error."""
    if not pointer:
        raise take_error(lib, error)
    try:
        return ctypes.string_at(pointer).decode("utf-8")
    finally:
        lib.sypht_free_string(pointer)


def usage_error(message, value=None):
    if value is not None:
        print(f"extract: {message}: {value}", file=sys.stderr)
    else:
        print(f"extract: {message}", file=sys.stderr)
    print("Try 'extract --help' for more information.", file=sys.stderr)
    return EXIT_USAGE


def parse_arguments(argv):
    """Return (products, verbose, path), or an int exit status to stop with."""
    products = []
    verbose = False
    path = None
    options_done = False
    i = 0
    while i < len(argv):
        arg = argv[i]
        if options_done or not arg.startswith("-") or arg == "-":
            if path is not None:
                return usage_error("more than one FILE given", arg)
            path = arg
        elif arg == "--":
            options_done = True
        elif arg in ("-h", "--help"):
            sys.stdout.write(USAGE)
            return 0
        elif arg == "--verbose":
            verbose = True
        elif arg == "--product":
            if i + 1 >= len(argv):
                return usage_error("option --product requires a NAME")
            i += 1
            if argv[i] == "":
                return usage_error("option --product requires a non-empty NAME")
            products.append(argv[i])
        else:
            return usage_error("unknown option", arg)
        i += 1
    if path is None:
        return usage_error("missing FILE")
    return (products or [DEFAULT_PRODUCT], verbose, path)


def extract(lib, products, verbose, path):
    error = ctypes.POINTER(SyphtError)()
    client = lib.sypht_client_new(None, None, ctypes.byref(error))
    if not client:
        raise take_error(lib, error)
    try:
        names = (ctypes.c_char_p * len(products))(*(os.fsencode(p) for p in products))
        file_id = take_string(
            lib,
            lib.sypht_upload(client, os.fsencode(path), names, len(products), ctypes.byref(error)),
            error,
        )
        get = lib.sypht_get_results_verbose if verbose else lib.sypht_get_results
        return take_string(lib, get(client, file_id.encode("utf-8"), ctypes.byref(error)), error)
    finally:
        lib.sypht_client_free(client)


def main(argv):
    parsed = parse_arguments(argv)
    if isinstance(parsed, int):
        return parsed
    products, verbose, path = parsed
    try:
        lib = load_library()
    except OSError as err:
        print(f"extract: loading libsypht failed: {err}; set SYPHT_LIB to the path of libsypht.so", file=sys.stderr)
        return 1
    try:
        results = extract(lib, products, verbose, path)
    except LibsyphtError as err:
        print(err, file=sys.stderr)
        return 1
    try:
        sys.stdout.write(results + "\n")
        sys.stdout.flush()
    except OSError as err:
        print(f"extract: writing the results to stdout failed: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
