package sypht

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	emulatorClientID     = "emulator-client-id"
	emulatorClientSecret = "emulator-client-secret"
)

// emulatorURL is the base URL of the emulator TestMain starts.
var emulatorURL string

// TestMain starts the sypht-emulator binary named by SYPHT_EMULATOR_BIN
// (or found in ../../target) on a free loopback port, and points the
// SYPHT_* variables at it so that no test can reach the real hosts.
func TestMain(m *testing.M) {
	stop, err := startEmulator()
	if err != nil {
		fmt.Fprintln(os.Stderr, "sypht tests:", err)
		os.Exit(1)
	}
	code := m.Run()
	stop()
	os.Exit(code)
}

func findEmulator() (string, error) {
	if path := os.Getenv("SYPHT_EMULATOR_BIN"); path != "" {
		return path, nil
	}
	for _, profile := range []string{"release", "debug"} {
		path := filepath.Join("..", "..", "target", profile, "sypht-emulator")
		if _, err := os.Stat(path); err == nil {
			return path, nil
		}
	}
	return "", errors.New("sypht-emulator not found: set SYPHT_EMULATOR_BIN or run `cargo build -p sypht-emulator`")
}

// startEmulator starts the emulator that the tests share and points
// emulatorURL and the SYPHT_* variables at it.
func startEmulator() (func(), error) {
	url, stop, err := launchEmulator()
	if err != nil {
		return nil, err
	}
	emulatorURL = url
	os.Setenv("SYPHT_API_BASE_ENDPOINT", emulatorURL)
	os.Setenv("SYPHT_AUTH_ENDPOINT", emulatorURL+"/oauth2/token")
	os.Setenv("SYPHT_API_KEY", emulatorClientID+":"+emulatorClientSecret)
	os.Unsetenv("SYPHT_AUDIENCE")
	return stop, nil
}

// launchEmulator starts an emulator process on a free loopback port, with
// extraArgs appended to its command line, and returns its base URL and a
// function that stops it.
func launchEmulator(extraArgs ...string) (string, func(), error) {
	binary, err := findEmulator()
	if err != nil {
		return "", nil, err
	}
	dir, err := os.MkdirTemp("", "sypht-go-test")
	if err != nil {
		return "", nil, err
	}
	portFile := filepath.Join(dir, "port")
	args := []string{"--port", "0", "--port-file", portFile, "--quiet",
		"--client-id", emulatorClientID, "--client-secret", emulatorClientSecret}
	cmd := exec.Command(binary, append(args, extraArgs...)...)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return "", nil, fmt.Errorf("starting %s failed: %w", binary, err)
	}
	stop := func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		os.RemoveAll(dir)
	}

	deadline := time.Now().Add(15 * time.Second)
	for {
		text, err := os.ReadFile(portFile)
		if err == nil && strings.HasSuffix(string(text), "\n") {
			port, err := strconv.Atoi(strings.TrimSpace(string(text)))
			if err != nil {
				stop()
				return "", nil, fmt.Errorf("port file %s contains %q, not a port", portFile, text)
			}
			return "http://127.0.0.1:" + strconv.Itoa(port), stop, nil
		}
		if time.Now().After(deadline) {
			stop()
			return "", nil, fmt.Errorf("%s wrote no port to %s within 15 s", binary, portFile)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func samplePath(t *testing.T) string {
	t.Helper()
	path := filepath.Join("..", "..", "examples", "sample", "invoice.pdf")
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("sample invoice missing: %v", err)
	}
	return path
}

// newTestClient returns a client for the emulator that ignores the
// environment, closed when the test ends.
func newTestClient(t *testing.T, opts ...Option) *Client {
	t.Helper()
	base := []Option{
		WithIgnoreEnv(true),
		WithAPIBase(emulatorURL),
		WithAuthEndpoint(emulatorURL + "/oauth2/token"),
		WithResultsDeadline(20 * time.Second),
	}
	client, err := NewClient(emulatorClientID, emulatorClientSecret, append(base, opts...)...)
	if err != nil {
		t.Fatalf("NewClient failed: %v", err)
	}
	t.Cleanup(func() { client.Close() })
	return client
}

func asError(t *testing.T, err error) *Error {
	t.Helper()
	var serr *Error
	if !errors.As(err, &serr) {
		t.Fatalf("error %v (%T) is not a *sypht.Error", err, err)
	}
	return serr
}

func TestVersionMatchesHeader(t *testing.T) {
	if Version() != headerVersion() {
		t.Fatalf("library version %q differs from header version %q", Version(), headerVersion())
	}
}

func TestUploadAndResults(t *testing.T) {
	client := newTestClient(t)
	id, err := client.Upload(samplePath(t), "invoices")
	if err != nil {
		t.Fatalf("Upload failed: %v", err)
	}
	if id == "" {
		t.Fatal("Upload returned an empty file id")
	}
	fields, err := client.Results(id)
	if err != nil {
		t.Fatalf("Results failed: %v", err)
	}
	if _, ok := fields["invoice.total"]; !ok {
		t.Fatalf("results lack invoice.total: %v", fields)
	}
}

func TestResultsVerboseHasFields(t *testing.T) {
	client := newTestClient(t)
	id, err := client.Upload(samplePath(t), "invoices")
	if err != nil {
		t.Fatalf("Upload failed: %v", err)
	}
	results, err := client.ResultsVerbose(id)
	if err != nil {
		t.Fatalf("ResultsVerbose failed: %v", err)
	}
	fields, ok := results["fields"].([]any)
	if !ok {
		t.Fatalf("verbose results have no fields array: %v", results)
	}
	if len(fields) == 0 {
		t.Fatal("verbose results have an empty fields array")
	}
}

func TestResultsJSONIsObject(t *testing.T) {
	client := newTestClient(t)
	id, err := client.Upload(samplePath(t), "invoices")
	if err != nil {
		t.Fatalf("Upload failed: %v", err)
	}
	text, err := client.ResultsJSON(id)
	if err != nil {
		t.Fatalf("ResultsJSON failed: %v", err)
	}
	if len(text) < 2 || text[0] != '{' || text[len(text)-1] != '}' {
		t.Fatalf("ResultsJSON returned %q, not a JSON object", text)
	}
}

func TestUploadBytesWithProgress(t *testing.T) {
	data, err := os.ReadFile(samplePath(t))
	if err != nil {
		t.Fatal(err)
	}
	client := newTestClient(t)
	var calls int
	var lastSent, lastTotal uint64
	progress := func(sent, total uint64) {
		if sent < lastSent {
			t.Errorf("sent went back from %d to %d", lastSent, sent)
		}
		calls++
		lastSent, lastTotal = sent, total
	}
	id, err := client.UploadBytesWithProgress(data, "invoice.pdf", progress, "invoices")
	if err != nil {
		t.Fatalf("UploadBytesWithProgress failed: %v", err)
	}
	if id == "" {
		t.Fatal("UploadBytesWithProgress returned an empty file id")
	}
	if calls == 0 {
		t.Fatal("the progress function was never called")
	}
	if lastSent != lastTotal {
		t.Fatalf("the last progress call reported %d of %d bytes", lastSent, lastTotal)
	}
	// The multipart body is the document plus its headers and fields.
	if lastTotal <= uint64(len(data)) {
		t.Fatalf("total %d is not larger than the %d document bytes", lastTotal, len(data))
	}
}

func TestUploadProgressPanicIsRaisedAfterCall(t *testing.T) {
	client := newTestClient(t)
	calls := 0
	defer func() {
		value := recover()
		if value != "progress panics" {
			t.Fatalf("recovered %v, expected the progress function's panic", value)
		}
		if calls != 1 {
			t.Fatalf("the progress function ran %d times after panicking, expected 1 call", calls)
		}
		// The client must still work after the panic.
		if _, err := client.Upload(samplePath(t), "invoices"); err != nil {
			t.Fatalf("Upload after a progress panic failed: %v", err)
		}
	}()
	_, _ = client.UploadWithProgress(samplePath(t), func(sent, total uint64) {
		calls++
		panic("progress panics")
	}, "invoices")
	t.Fatal("UploadWithProgress returned instead of raising the progress panic")
}

func TestNewClientFromEnvUploads(t *testing.T) {
	client, err := NewClientFromEnv(WithResultsDeadline(20 * time.Second))
	if err != nil {
		t.Fatalf("NewClientFromEnv failed: %v", err)
	}
	defer client.Close()
	if err := client.Authenticate(); err != nil {
		t.Fatalf("Authenticate failed: %v", err)
	}
	if _, err := client.Upload(samplePath(t), "invoices"); err != nil {
		t.Fatalf("Upload failed: %v", err)
	}
}

func TestWrongSecretIsAuthError(t *testing.T) {
	client, err := NewClient(emulatorClientID, "wrong-secret", WithIgnoreEnv(true),
		WithAPIBase(emulatorURL), WithAuthEndpoint(emulatorURL+"/oauth2/token"))
	if err != nil {
		t.Fatalf("NewClient failed: %v", err)
	}
	defer client.Close()
	serr := asError(t, client.Authenticate())
	if serr.Code != CodeAuth {
		t.Fatalf("code %d (%s), expected CodeAuth: %v", serr.Code, serr.Code, serr)
	}
	// OAuth2 servers reject a wrong client secret with 400 or 401.
	if serr.HTTPStatus != 400 && serr.HTTPStatus != 401 {
		t.Fatalf("HTTP status %d, expected 400 or 401", serr.HTTPStatus)
	}
	if strings.Contains(serr.Error(), "wrong-secret") {
		t.Fatalf("the error shows the secret: %v", serr)
	}
}

func TestMissingFileIsIOError(t *testing.T) {
	client := newTestClient(t)
	_, err := client.Upload(filepath.Join(t.TempDir(), "absent.pdf"), "invoices")
	serr := asError(t, err)
	if serr.Code != CodeIO {
		t.Fatalf("code %d (%s), expected CodeIO: %v", serr.Code, serr.Code, serr)
	}
}

func TestUnknownFileIDIsHTTPError(t *testing.T) {
	client := newTestClient(t)
	_, err := client.Results("no-such-file")
	serr := asError(t, err)
	if serr.Code != CodeHTTPStatus {
		t.Fatalf("code %d (%s), expected CodeHTTPStatus: %v", serr.Code, serr.Code, serr)
	}
	if serr.HTTPStatus != 404 {
		t.Fatalf("HTTP status %d, expected 404", serr.HTTPStatus)
	}
}

func TestInvalidOptionsAreRejected(t *testing.T) {
	cases := []struct {
		name   string
		option Option
	}{
		{"zero connect timeout", WithConnectTimeout(0)},
		{"negative request timeout", WithRequestTimeout(-time.Second)},
		{"unknown auth flow", WithAuthFlow(AuthFlow(42))},
		{"backoffs out of order", WithRetries(2, time.Second, time.Millisecond)},
		{"NUL in API base", WithAPIBase("http://127.0.0.1\x00/x")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			client, err := NewClient(emulatorClientID, emulatorClientSecret, tc.option)
			if client != nil {
				client.Close()
				t.Fatal("NewClient accepted the option")
			}
			serr := asError(t, err)
			if serr.Code != CodeInvalidArgument {
				t.Fatalf("code %d (%s), expected CodeInvalidArgument: %v", serr.Code, serr.Code, serr)
			}
		})
	}
}

func TestNULInProductIsRejected(t *testing.T) {
	client := newTestClient(t)
	_, err := client.Upload(samplePath(t), "invoices\x00other")
	serr := asError(t, err)
	if serr.Code != CodeInvalidArgument {
		t.Fatalf("code %d (%s), expected CodeInvalidArgument: %v", serr.Code, serr.Code, serr)
	}
}

func TestCloseTwiceConcurrently(t *testing.T) {
	client := newTestClient(t)
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := client.Close(); err != nil {
				t.Errorf("Close returned %v", err)
			}
		}()
	}
	wg.Wait()
	if err := client.Authenticate(); !errors.Is(err, ErrClosed) {
		t.Fatalf("Authenticate after Close returned %v, expected ErrClosed", err)
	}
	if _, err := client.Upload(samplePath(t), "invoices"); !errors.Is(err, ErrClosed) {
		t.Fatalf("Upload after Close returned %v, expected ErrClosed", err)
	}
}

func TestSharedClientManyGoroutines(t *testing.T) {
	client := newTestClient(t)
	path := samplePath(t)
	const goroutines = 16
	const rounds = 3
	var wg sync.WaitGroup
	errs := make(chan error, goroutines*rounds)
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := 0; r < rounds; r++ {
				id, err := client.UploadWithProgress(path, func(sent, total uint64) {}, "invoices")
				if err != nil {
					errs <- err
					continue
				}
				fields, err := client.Results(id)
				if err != nil {
					errs <- err
					continue
				}
				if _, ok := fields["invoice.total"]; !ok {
					errs <- fmt.Errorf("results of %s lack invoice.total", id)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestCloseWhileCallsRun(t *testing.T) {
	client, err := NewClient(emulatorClientID, emulatorClientSecret, WithIgnoreEnv(true),
		WithAPIBase(emulatorURL), WithAuthEndpoint(emulatorURL+"/oauth2/token"))
	if err != nil {
		t.Fatal(err)
	}
	path := samplePath(t)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := client.Upload(path, "invoices")
			if err != nil && !errors.Is(err, ErrClosed) {
				t.Errorf("Upload failed with %v, expected success or ErrClosed", err)
			}
		}()
	}
	client.Close()
	wg.Wait()
}

func TestLogHandlerReceivesTokenFetch(t *testing.T) {
	var mu sync.Mutex
	var records []string
	SetLogHandler(func(level LogLevel, message string) {
		mu.Lock()
		defer mu.Unlock()
		records = append(records, fmt.Sprintf("%d %s", level, message))
	})
	defer SetLogHandler(nil)

	client := newTestClient(t)
	if err := client.Authenticate(); err != nil {
		t.Fatalf("Authenticate failed: %v", err)
	}
	bad, err := NewClient(emulatorClientID, "wrong-secret", WithIgnoreEnv(true),
		WithAPIBase(emulatorURL), WithAuthEndpoint(emulatorURL+"/oauth2/token"))
	if err != nil {
		t.Fatal(err)
	}
	defer bad.Close()
	if bad.Authenticate() == nil {
		t.Fatal("Authenticate with a wrong secret succeeded")
	}
	SetLogHandler(nil)

	mu.Lock()
	defer mu.Unlock()
	var sawInfo, sawError bool
	for _, record := range records {
		if strings.Contains(record, emulatorClientSecret) || strings.Contains(record, "wrong-secret") {
			t.Errorf("a log record shows a secret: %q", record)
		}
		if strings.HasPrefix(record, strconv.Itoa(int(LogInfo))+" fetched an access token") {
			sawInfo = true
		}
		if strings.HasPrefix(record, strconv.Itoa(int(LogError))+" ") {
			sawError = true
		}
	}
	if !sawInfo {
		t.Errorf("no info record for the token fetch among %q", records)
	}
	if !sawError {
		t.Errorf("no error record for the rejected secret among %q", records)
	}
}

func TestCodeStringNamesCode(t *testing.T) {
	if got := CodeAuth.String(); got != "authentication failed" {
		t.Fatalf("CodeAuth.String() = %q", got)
	}
	if got := Code(9999).String(); got != "unknown error code" {
		t.Fatalf("Code(9999).String() = %q", got)
	}
}
