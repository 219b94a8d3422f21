// Command extract uploads a document to Sypht and prints the extracted
// fields, using the Go binding of libsypht.
//
//	go run . [--product NAME]... [--verbose] FILE
//
// It takes the same arguments and environment variables as the C example
// in examples/c/extract.c, and prints the same output. The results go to
// stdout as one line of JSON. A failed libsypht call prints "error CODE
// (NAME): MESSAGE" on stderr and exits with 1. A usage error exits with 2.
package main

import (
	"errors"
	"fmt"
	"os"

	sypht "github.com/libsypht/sypht-go"
)

const exitUsage = 2

const usage = `usage: extract [--product NAME]... [--verbose] FILE

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
`

type arguments struct {
	products []string
	verbose  bool
	path     string
}

func usageError(message string, value ...string) int {
	if len(value) > 0 {
		fmt.Fprintf(os.Stderr, "extract: %s: %s\n", message, value[0])
	} else {
		fmt.Fprintf(os.Stderr, "extract: %s\n", message)
	}
	fmt.Fprintln(os.Stderr, "Try 'extract --help' for more information.")
	return exitUsage
}

// parseArguments returns the arguments, or an exit status to stop with
// (after --help or a usage error) and ok false.
func parseArguments(argv []string) (args arguments, status int, ok bool) {
	optionsDone := false
	hasPath := false
	for i := 0; i < len(argv); i++ {
		arg := argv[i]
		switch {
		case optionsDone || len(arg) == 0 || arg[0] != '-' || arg == "-":
			if hasPath {
				return args, usageError("more than one FILE given", arg), false
			}
			args.path = arg
			hasPath = true
		case arg == "--":
			optionsDone = true
		case arg == "-h" || arg == "--help":
			fmt.Print(usage)
			return args, 0, false
		case arg == "--verbose":
			args.verbose = true
		case arg == "--product":
			if i+1 >= len(argv) {
				return args, usageError("option --product requires a NAME"), false
			}
			i++
			if argv[i] == "" {
				return args, usageError("option --product requires a non-empty NAME"), false
			}
			args.products = append(args.products, argv[i])
		default:
			return args, usageError("unknown option", arg), false
		}
	}
	if !hasPath {
		return args, usageError("missing FILE"), false
	}
	if len(args.products) == 0 {
		args.products = []string{"invoices"}
	}
	return args, 0, true
}

func extract(args arguments) ([]byte, error) {
	client, err := sypht.NewClientFromEnv()
	if err != nil {
		return nil, err
	}
	defer client.Close()
	fileID, err := client.Upload(args.path, args.products...)
	if err != nil {
		return nil, err
	}
	if args.verbose {
		return client.ResultsVerboseJSON(fileID)
	}
	return client.ResultsJSON(fileID)
}

func run() int {
	args, status, ok := parseArguments(os.Args[1:])
	if !ok {
		return status
	}
	results, err := extract(args)
	if err != nil {
		var serr *sypht.Error
		if !errors.As(err, &serr) {
			fmt.Fprintln(os.Stderr, "extract:", err)
			return 1
		}
		fmt.Fprintf(os.Stderr, "error %d (%s): %s", serr.Code, serr.Code, serr.Message)
		if serr.HTTPStatus != 0 {
			fmt.Fprintf(os.Stderr, " (HTTP status %d)", serr.HTTPStatus)
		}
		fmt.Fprintln(os.Stderr)
		return 1
	}
	if _, err := os.Stdout.Write(append(results, '\n')); err != nil {
		fmt.Fprintln(os.Stderr, "extract: writing the results to stdout failed:", err)
		return 1
	}
	return 0
}

func main() {
	os.Exit(run())
}
