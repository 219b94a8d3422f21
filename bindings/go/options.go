package sypht

/*
#include <stdlib.h>
#include "sypht.h"
*/
import "C"

import (
	"time"
	"unsafe"
)

// Option changes one client setting; pass options to NewClient or
// NewClientFromEnv. A setting left unset falls back to its SYPHT_*
// environment variable, then to the library default.
type Option struct {
	apply func(options *C.SyphtClientOptions) error
}

// AuthFlow selects how the client requests access tokens.
type AuthFlow int32

// Auth flows, equal to the SYPHT_AUTH_FLOW_* values in sypht.h.
const (
	// AuthFlowAuto picks the flow from the token endpoint URL.
	AuthFlowAuto AuthFlow = C.SYPHT_AUTH_FLOW_AUTO
	// AuthFlowCurrent sends HTTP Basic credentials and a form body.
	AuthFlowCurrent AuthFlow = C.SYPHT_AUTH_FLOW_CURRENT
	// AuthFlowLegacy sends the id, secret and audience in a JSON body.
	AuthFlowLegacy AuthFlow = C.SYPHT_AUTH_FLOW_LEGACY
)

// setString calls a libsypht setter that takes one string.
func setString(value, name string, setter func(*C.SyphtClientOptions, *C.char, **C.SyphtError) C.int32_t) Option {
	return Option{apply: func(options *C.SyphtClientOptions) error {
		if err := checkString(value, name); err != nil {
			return err
		}
		cvalue := C.CString(value)
		defer C.free(unsafe.Pointer(cvalue))
		var cerr *C.SyphtError
		if setter(options, cvalue, &cerr) != C.SYPHT_OK {
			return takeError(cerr)
		}
		return nil
	}}
}

// setMillis calls a libsypht setter that takes a duration in whole
// milliseconds. Negative durations are rejected here, because C takes an
// unsigned value.
func setMillis(value time.Duration, name string, setter func(*C.SyphtClientOptions, C.uint64_t, **C.SyphtError) C.int32_t) Option {
	return Option{apply: func(options *C.SyphtClientOptions) error {
		if value < 0 {
			return invalidArgument("%s must not be negative, got %s", name, value)
		}
		var cerr *C.SyphtError
		if setter(options, C.uint64_t(value.Milliseconds()), &cerr) != C.SYPHT_OK {
			return takeError(cerr)
		}
		return nil
	}}
}

// WithAPIBase sets the API base URL, such as "https://api.sypht.com".
func WithAPIBase(url string) Option {
	return setString(url, "url", func(o *C.SyphtClientOptions, v *C.char, e **C.SyphtError) C.int32_t {
		return C.sypht_client_options_set_api_base(o, v, e)
	})
}

// WithAuthEndpoint sets the URL of the OAuth2 token endpoint.
func WithAuthEndpoint(url string) Option {
	return setString(url, "url", func(o *C.SyphtClientOptions, v *C.char, e **C.SyphtError) C.int32_t {
		return C.sypht_client_options_set_auth_endpoint(o, v, e)
	})
}

// WithAudience sets the audience sent by the legacy auth flow.
func WithAudience(audience string) Option {
	return setString(audience, "audience", func(o *C.SyphtClientOptions, v *C.char, e **C.SyphtError) C.int32_t {
		return C.sypht_client_options_set_audience(o, v, e)
	})
}

// WithUserAgent replaces the User-Agent header.
func WithUserAgent(userAgent string) Option {
	return setString(userAgent, "userAgent", func(o *C.SyphtClientOptions, v *C.char, e **C.SyphtError) C.int32_t {
		return C.sypht_client_options_set_user_agent(o, v, e)
	})
}

// WithCAPEM makes the client trust only the CA certificates in the PEM
// text pem, instead of the public roots.
func WithCAPEM(pem string) Option {
	return setString(pem, "pem", func(o *C.SyphtClientOptions, v *C.char, e **C.SyphtError) C.int32_t {
		return C.sypht_client_options_set_ca_pem(o, v, e)
	})
}

// WithAuthFlow selects the auth flow.
func WithAuthFlow(flow AuthFlow) Option {
	return Option{apply: func(options *C.SyphtClientOptions) error {
		var cerr *C.SyphtError
		if C.sypht_client_options_set_auth_flow(options, C.int32_t(flow), &cerr) != C.SYPHT_OK {
			return takeError(cerr)
		}
		return nil
	}}
}

// WithConnectTimeout sets the TCP connect timeout (at least 1 ms).
func WithConnectTimeout(timeout time.Duration) Option {
	return setMillis(timeout, "connect timeout", func(o *C.SyphtClientOptions, v C.uint64_t, e **C.SyphtError) C.int32_t {
		return C.sypht_client_options_set_connect_timeout_ms(o, v, e)
	})
}

// WithRequestTimeout sets the overall timeout of one HTTP request (at
// least 1 ms).
func WithRequestTimeout(timeout time.Duration) Option {
	return setMillis(timeout, "request timeout", func(o *C.SyphtClientOptions, v C.uint64_t, e **C.SyphtError) C.int32_t {
		return C.sypht_client_options_set_request_timeout_ms(o, v, e)
	})
}

// WithReadTimeout sets the longest wait for the next bytes of a response
// (at least 1 ms).
func WithReadTimeout(timeout time.Duration) Option {
	return setMillis(timeout, "read timeout", func(o *C.SyphtClientOptions, v C.uint64_t, e **C.SyphtError) C.int32_t {
		return C.sypht_client_options_set_read_timeout_ms(o, v, e)
	})
}

// WithCallDeadline sets a deadline for one whole call, retries and
// backoff included (at least 1 ms).
func WithCallDeadline(deadline time.Duration) Option {
	return setMillis(deadline, "call deadline", func(o *C.SyphtClientOptions, v C.uint64_t, e **C.SyphtError) C.int32_t {
		return C.sypht_client_options_set_call_deadline_ms(o, v, e)
	})
}

// WithResultsDeadline sets how long Results waits for the results to be
// finalised; 0 means a single request.
func WithResultsDeadline(deadline time.Duration) Option {
	return setMillis(deadline, "results deadline", func(o *C.SyphtClientOptions, v C.uint64_t, e **C.SyphtError) C.int32_t {
		return C.sypht_client_options_set_results_deadline_ms(o, v, e)
	})
}

// WithRetries sets how GET and token requests are retried: maxRetries
// after the first attempt (0 disables retries), with a backoff that starts
// at initialBackoff and doubles up to maxBackoff.
func WithRetries(maxRetries uint32, initialBackoff, maxBackoff time.Duration) Option {
	return Option{apply: func(options *C.SyphtClientOptions) error {
		if initialBackoff < 0 || maxBackoff < 0 {
			return invalidArgument("retry backoffs must not be negative, got %s and %s", initialBackoff, maxBackoff)
		}
		var cerr *C.SyphtError
		rc := C.sypht_client_options_set_retries(options, C.uint32_t(maxRetries),
			C.uint64_t(initialBackoff.Milliseconds()), C.uint64_t(maxBackoff.Milliseconds()), &cerr)
		if rc != C.SYPHT_OK {
			return takeError(cerr)
		}
		return nil
	}}
}

// WithIgnoreEnv makes the client ignore the SYPHT_* environment variables
// for settings left unset.
func WithIgnoreEnv(ignore bool) Option {
	return Option{apply: func(options *C.SyphtClientOptions) error {
		var cerr *C.SyphtError
		if C.sypht_client_options_set_ignore_env(options, C.bool(ignore), &cerr) != C.SYPHT_OK {
			return takeError(cerr)
		}
		return nil
	}}
}
