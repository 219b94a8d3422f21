package sypht

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const (
	stressGoroutines = 16
	// stressDefaultSeconds is the run length when SYPHT_GO_STRESS_SECONDS
	// is unset.
	stressDefaultSeconds = 20
	// stressWatchdogGrace is the time after the run within which every
	// goroutine must have finished.
	stressWatchdogGrace = 40 * time.Second
	stressTokenLifetime = 2 * time.Second
	// stressFaultInterval is the pause between two injected faults.
	stressFaultInterval = 150 * time.Millisecond
	// stressMaxReportedErrors caps the unexpected errors listed on failure.
	stressMaxReportedErrors = 20
)

// faultRule is the JSON body of POST /_emulator/faults.
type faultRule struct {
	PathPrefix string `json:"path_prefix"`
	Count      int    `json:"count"`
	Action     string `json:"action"`
	Status     int    `json:"status,omitempty"`
	RetryAfter string `json:"retry_after,omitempty"`
	ChunkBytes int    `json:"chunk_bytes,omitempty"`
	DelayMS    int    `json:"delay_ms,omitempty"`
	StallMS    int    `json:"stall_ms,omitempty"`
}

// stressFaultPlan returns the faults injected in turn, the same plan as
// fault_plan in tests/stress.rs.
func stressFaultPlan() []faultRule {
	return []faultRule{
		{PathPrefix: "/result/final/", Count: 3, Action: "status", Status: 503, RetryAfter: "0"},
		{PathPrefix: "/result/final/", Count: 2, Action: "reset"},
		{PathPrefix: "/fileupload", Count: 1, Action: "status", Status: 502},
		{PathPrefix: "/result/final/", Count: 1, Action: "truncate"},
		{PathPrefix: "/oauth2/token", Count: 1, Action: "status", Status: 503, RetryAfter: "0"},
		{PathPrefix: "/result/final/", Count: 1, Action: "trickle", ChunkBytes: 64, DelayMS: 5},
		{PathPrefix: "/result/final/", Count: 2, Action: "status", Status: 429},
		{PathPrefix: "/fileupload", Count: 1, Action: "reset"},
		{PathPrefix: "/result/final/", Count: 1, Action: "stall_body", StallMS: 300},
		{PathPrefix: "/result/final/", Count: 4, Action: "pending"},
	}
}

// emulatorStats is the JSON body of GET /_emulator/stats.
type emulatorStats struct {
	TokenRequests  uint64 `json:"token_requests"`
	TokensIssued   uint64 `json:"tokens_issued"`
	Requests       uint64 `json:"requests"`
	Uploads        uint64 `json:"uploads"`
	ResultRequests uint64 `json:"result_requests"`
}

// emulatorControl sends requests to the emulator's /_emulator/ control
// endpoint, which shares the API's loopback port.
type emulatorControl struct {
	baseURL string
	http    *http.Client
}

func newEmulatorControl(baseURL string) *emulatorControl {
	// No proxy, so the requests go straight to the loopback port.
	transport := &http.Transport{Proxy: nil}
	return &emulatorControl{baseURL: baseURL, http: &http.Client{Transport: transport, Timeout: 10 * time.Second}}
}

// call sends one control request and decodes its JSON response into out.
func (c *emulatorControl) call(method, path string, body any, out any) error {
	var reader io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return err
		}
		reader = bytes.NewReader(data)
	}

	request, err := http.NewRequest(method, c.baseURL+path, reader)
	if err != nil {
		return err
	}
	if body != nil {
		request.Header.Set("Content-Type", "application/json")
	}

	response, err := c.http.Do(request)
	if err != nil {
		return fmt.Errorf("%s %s failed: %w", method, path, err)
	}
	defer response.Body.Close()

	text, err := io.ReadAll(response.Body)
	if err != nil {
		return fmt.Errorf("reading the response to %s %s failed: %w", method, path, err)
	}
	if response.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s returned HTTP %d: %s", method, path, response.StatusCode, text)
	}
	if err := json.Unmarshal(text, out); err != nil {
		return fmt.Errorf("%s %s returned invalid JSON %q: %w", method, path, text, err)
	}
	return nil
}

func (c *emulatorControl) injectFault(rule faultRule) error {
	var added map[string]any
	return c.call(http.MethodPost, "/_emulator/faults", rule, &added)
}

// pendingFaults returns the fault rules not yet used up.
func (c *emulatorControl) pendingFaults() ([]map[string]any, error) {
	var listing struct {
		Faults []map[string]any `json:"faults"`
	}
	err := c.call(http.MethodGet, "/_emulator/faults", nil, &listing)
	return listing.Faults, err
}

func (c *emulatorControl) stats() (emulatorStats, error) {
	var stats emulatorStats
	err := c.call(http.MethodGet, "/_emulator/stats", nil, &stats)
	return stats, err
}

// makePDF builds a valid uncompressed PDF with the given number of pages,
// each showing text, like make_pdf in tests/common/mod.rs.
func makePDF(pages int, text string) []byte {
	objects := []string{"<< /Type /Catalog /Pages 2 0 R >>"}
	kids := make([]string, pages)
	for i := range kids {
		kids[i] = fmt.Sprintf("%d 0 R", 4+2*i)
	}
	objects = append(objects,
		fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", strings.Join(kids, " "), pages),
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
	for i := 0; i < pages; i++ {
		objects = append(objects, fmt.Sprintf(
			"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>",
			5+2*i))
		stream := fmt.Sprintf("BT /F1 12 Tf 72 760 Td (%s page %d) Tj ET", text, i+1)
		objects = append(objects, fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(stream), stream))
	}

	var out bytes.Buffer
	out.WriteString("%PDF-1.4\n")
	offsets := make([]int, len(objects))
	for i, object := range objects {
		offsets[i] = out.Len()
		fmt.Fprintf(&out, "%d 0 obj\n%s\nendobj\n", i+1, object)
	}
	xrefAt := out.Len()
	fmt.Fprintf(&out, "xref\n0 %d\n0000000000 65535 f \n", len(objects)+1)
	for _, offset := range offsets {
		fmt.Fprintf(&out, "%010d 00000 n \n", offset)
	}
	fmt.Fprintf(&out, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objects)+1, xrefAt)
	return out.Bytes()
}

// stressRunLength reads SYPHT_GO_STRESS_SECONDS, a whole number of
// seconds that shortens or lengthens the run.
func stressRunLength(t *testing.T) time.Duration {
	t.Helper()
	text := os.Getenv("SYPHT_GO_STRESS_SECONDS")
	if text == "" {
		return stressDefaultSeconds * time.Second
	}
	seconds, err := strconv.Atoi(text)
	if err != nil || seconds < 1 {
		t.Fatalf("invalid SYPHT_GO_STRESS_SECONDS %q: set it to a whole number of seconds (at least 1), or unset it for the default of %d s", text, stressDefaultSeconds)
	}
	return time.Duration(seconds) * time.Second
}

// toleratedFailure returns the tally key of an error that the injected
// faults can cause once retries are exhausted, or "" for any other error.
// An upload is a POST, which the client never retries, so the 502 and the
// reset on /fileupload end it with an HTTP status or a network error. A
// results GET gives up after three retries when faults queue up on it
// (such as three 503s followed by two resets). A trickled or stalled body
// can pass the 3 s read timeout on a loaded machine. Only the statuses
// that the plan injects are tolerated.
func toleratedFailure(err error) string {
	var serr *Error
	if !errors.As(err, &serr) {
		return ""
	}
	switch serr.Code {
	case CodeNetwork, CodeTimeout:
		return serr.Code.String()
	case CodeHTTPStatus:
		switch serr.HTTPStatus {
		case 429, 502, 503:
			return fmt.Sprintf("HTTP %d", serr.HTTPStatus)
		}
	}
	return ""
}

// stressTally collects what the worker goroutines saw. The workers never
// call t, so a worker that outlives a failed test cannot panic the run.
type stressTally struct {
	mu         sync.Mutex
	roundTrips int
	// tolerated counts the failed calls by toleratedFailure key.
	tolerated map[string]int
	// unexpected lists the failures that fail the test.
	unexpected []string
	// fileIDs maps each file id returned by an upload to its file name.
	fileIDs map[string]string
}

func (tally *stressTally) addUnexpected(format string, args ...any) {
	tally.mu.Lock()
	defer tally.mu.Unlock()
	tally.unexpected = append(tally.unexpected, fmt.Sprintf(format, args...))
}

// addFailure counts a tolerated error and returns true, or records an
// unexpected one and returns false.
func (tally *stressTally) addFailure(worker int, fileName string, err error) bool {
	key := toleratedFailure(err)
	if key == "" {
		tally.addUnexpected("goroutine %d: %s failed with an error the faults cannot cause: %v", worker, fileName, err)
		return false
	}
	tally.mu.Lock()
	defer tally.mu.Unlock()
	tally.tolerated[key]++
	return true
}

// addRoundTrip counts a checked round trip and returns true, or records a
// file id that an earlier upload already received and returns false.
func (tally *stressTally) addRoundTrip(worker int, fileName, fileID string) bool {
	tally.mu.Lock()
	defer tally.mu.Unlock()
	if earlier, ok := tally.fileIDs[fileID]; ok {
		tally.unexpected = append(tally.unexpected, fmt.Sprintf(
			"goroutine %d: upload of %s returned file id %s, already returned for %s", worker, fileName, fileID, earlier))
		return false
	}
	tally.fileIDs[fileID] = fileName
	tally.roundTrips++
	return true
}

// runStressWorker uploads distinct documents and checks their results
// until the run ends, stop is set or an unexpected error occurs.
func runStressWorker(client *Client, worker int, start time.Time, runFor time.Duration, stop *atomic.Bool, tally *stressTally) {
	for iteration := 1; time.Since(start) < runFor && !stop.Load(); iteration++ {
		pdf := makePDF(1+iteration%3, fmt.Sprintf("goroutine %d document %d", worker, iteration))
		fileName := fmt.Sprintf("g%d-%d.pdf", worker, iteration)
		fileID, err := client.UploadBytes(pdf, fileName, "invoices")
		if err != nil {
			if !tally.addFailure(worker, fileName, err) {
				return
			}
			continue
		}
		fields, err := client.Results(fileID)
		if err != nil {
			if !tally.addFailure(worker, fileName, err) {
				return
			}
			continue
		}

		digest := sha256.Sum256(pdf)
		expected := hex.EncodeToString(digest[:])
		if got := fields["document.sha256"]; got != expected {
			tally.addUnexpected("goroutine %d: results of %s (file %s) have document.sha256 %v, expected %s: the results belong to another document",
				worker, fileName, fileID, got, expected)
			return
		}
		if !tally.addRoundTrip(worker, fileName, fileID) {
			return
		}
	}
}

// injectionReport is what the fault injector goroutine did.
type injectionReport struct {
	injected int
	// tokenFaults is the number of token requests that injected faults
	// respond to in place of the emulator's token handler.
	tokenFaults uint64
	err         error
}

// injectFaults adds the rules of the plan one after another, every
// stressFaultInterval, until the run ends or stop is set.
func injectFaults(control *emulatorControl, start time.Time, runFor time.Duration, stop *atomic.Bool) injectionReport {
	var report injectionReport
	plan := stressFaultPlan()
	for time.Since(start) < runFor && !stop.Load() {
		rule := plan[report.injected%len(plan)]
		if err := control.injectFault(rule); err != nil {
			report.err = fmt.Errorf("injecting fault %+v failed: %w", rule, err)
			return report
		}
		if strings.HasPrefix(rule.PathPrefix, "/oauth2/") {
			report.tokenFaults += uint64(rule.Count)
		}
		report.injected++
		time.Sleep(stressFaultInterval)
	}
	return report
}

// formatCounts prints a map of counts with its keys in order.
func formatCounts(counts map[string]int) string {
	keys := make([]string, 0, len(counts))
	for key := range counts {
		keys = append(keys, key)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, key := range keys {
		parts[i] = fmt.Sprintf("%s: %d", key, counts[key])
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// TestStressSharedClientUnderFaults shares one client between 16
// goroutines against an emulator of its own, with 2 s tokens and a stream
// of injected faults, like tests/stress.rs does for the Rust client.
func TestStressSharedClientUnderFaults(t *testing.T) {
	runFor := stressRunLength(t)
	lifetimeSeconds := strconv.Itoa(int(stressTokenLifetime / time.Second))
	baseURL, stopEmulator, err := launchEmulator("--token-lifetime", lifetimeSeconds)
	if err != nil {
		t.Fatalf("starting the stress emulator failed: %v", err)
	}
	t.Cleanup(stopEmulator)
	control := newEmulatorControl(baseURL)

	// The client is closed only once every worker has returned, because
	// Close waits for calls in progress and would hang after a deadlock.
	client, err := NewClient(emulatorClientID, emulatorClientSecret,
		WithIgnoreEnv(true),
		WithAPIBase(baseURL),
		WithAuthEndpoint(baseURL+"/oauth2/token"),
		WithRetries(3, 10*time.Millisecond, 100*time.Millisecond),
		WithReadTimeout(3*time.Second),
		WithRequestTimeout(10*time.Second),
		WithResultsDeadline(10*time.Second))
	if err != nil {
		t.Fatalf("NewClient failed: %v", err)
	}

	tally := &stressTally{tolerated: map[string]int{}, fileIDs: map[string]string{}}
	var stop atomic.Bool
	var finished atomic.Int32
	var workers sync.WaitGroup
	start := time.Now()
	for worker := 0; worker < stressGoroutines; worker++ {
		workers.Add(1)
		go func(worker int) {
			defer workers.Done()
			defer finished.Add(1)
			runStressWorker(client, worker, start, runFor, &stop, tally)
		}(worker)
	}
	injection := make(chan injectionReport, 1)
	go func() {
		injection <- injectFaults(control, start, runFor, &stop)
	}()

	// Watchdog: every worker must return within the grace period.
	workersDone := make(chan struct{})
	go func() {
		workers.Wait()
		close(workersDone)
	}()
	watchdog := time.NewTimer(runFor + stressWatchdogGrace - time.Since(start))
	defer watchdog.Stop()
	select {
	case <-workersDone:
	case <-watchdog.C:
		stop.Store(true)
		t.Fatalf("deadlock or hang: only %d of %d goroutines finished within %s. The client is left open because Close would wait for the stuck calls",
			finished.Load(), stressGoroutines, runFor+stressWatchdogGrace)
	}
	elapsed := time.Since(start)
	client.Close()
	report := <-injection

	stats, err := control.stats()
	if err != nil {
		t.Fatalf("reading the emulator stats failed: %v", err)
	}
	pending, err := control.pendingFaults()
	if err != nil {
		t.Fatalf("listing the emulator's fault rules failed: %v", err)
	}

	tally.mu.Lock()
	defer tally.mu.Unlock()
	// A token is reused for 90% of its lifetime (a 2 s token for 1.8 s), so
	// the run needs one token per 1.8 s window, plus the first one.
	reuse := stressTokenLifetime - stressTokenLifetime/10
	windows := uint64(math.Ceil(elapsed.Seconds()/reuse.Seconds())) + 1
	t.Logf("stress: %d round trips, tolerated errors %s, %d faults injected (%d rules left unused), %d token requests, %d tokens issued for %d windows, in %.1f s",
		tally.roundTrips, formatCounts(tally.tolerated), report.injected, len(pending),
		stats.TokenRequests, stats.TokensIssued, windows, elapsed.Seconds())

	for i, message := range tally.unexpected {
		if i == stressMaxReportedErrors {
			t.Errorf("... and %d more unexpected errors", len(tally.unexpected)-i)
			break
		}
		t.Error(message)
	}
	if report.err != nil {
		t.Errorf("the fault injector stopped early: %v", report.err)
	}
	if report.injected == 0 {
		t.Error("no fault was injected during the run")
	}
	if len(pending) >= report.injected {
		t.Errorf("%d of %d injected fault rules are still unused, so no request met a fault", len(pending), report.injected)
	}

	// About five round trips a second is the floor that tests/stress.rs
	// sets (100 in 20 s), so the test cannot pass by doing next to nothing.
	minRoundTrips := int(5 * runFor.Seconds())
	if tally.roundTrips < minRoundTrips {
		t.Errorf("only %d round trips in %.1f s, expected at least %d", tally.roundTrips, elapsed.Seconds(), minRoundTrips)
	}

	// A client that refreshes must fetch at least one token per two
	// lifetimes, which is the 5 tokens in 20 s that tests/stress.rs requires.
	minTokens := uint64(runFor / (2 * stressTokenLifetime))
	if minTokens < 1 {
		minTokens = 1
	}
	if stats.TokensIssued < minTokens {
		t.Errorf("only %d tokens issued in %.1f s with %s tokens, expected at least %d: tokens were not refreshed",
			stats.TokensIssued, elapsed.Seconds(), stressTokenLifetime, minTokens)
	}

	// A token is fetched again at most once per reuse window. A request
	// sent just before the refresh point can still reach the emulator after
	// the token expired on a loaded machine, get 401 and fetch one more
	// token, so two extra tokens are allowed. A thundering herd would fetch
	// about one token per goroutine per window.
	if stats.TokensIssued > windows+2 {
		t.Errorf("%d tokens issued for %d windows of %s, expected at most %d", stats.TokensIssued, windows, reuse, windows+2)
	}

	// The emulator counts a token request only when its token handler runs,
	// which an injected status skips, so each counted request should have
	// issued a token. The injected token faults are allowed on top, as
	// tests/stress.rs allows them.
	if stats.TokenRequests > stats.TokensIssued+report.tokenFaults {
		t.Errorf("%d token requests for %d tokens issued and %d injected token faults, expected at most %d",
			stats.TokenRequests, stats.TokensIssued, report.tokenFaults, stats.TokensIssued+report.tokenFaults)
	}
}
