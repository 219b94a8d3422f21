// Package sypht is a Go client for the Sypht document-extraction API,
// built on libsypht through cgo.
//
// Build with the directory of libsypht in CGO_LDFLAGS, for example
// CGO_LDFLAGS="-L/usr/local/lib" for the shared library, or
// CGO_LDFLAGS="$(pkg-config --static --libs sypht)" with a directory that
// contains only libsypht.a for a static link. The header is taken from
// ../../include; set CGO_CFLAGS to use an installed one instead.
//
// A Client may be shared by many goroutines. Each call blocks its
// goroutine, and the OS thread under it, until libsypht returns.
package sypht

/*
#cgo CFLAGS: -I${SRCDIR}/../../include
#cgo LDFLAGS: -lsypht
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "sypht.h"

// Turns a cgo.Handle into the user_data pointer of a callback in C, so
// that Go never converts an integer to unsafe.Pointer.
static inline void *sypht_go_handle_pointer(uintptr_t handle) {
	return (void *)handle;
}
*/
import "C"

import (
	"encoding/json"
	"runtime"
	"runtime/cgo"
	"strconv"
	"strings"
	"sync"
	"unsafe"
)

// Version returns the version of the libsypht library in use.
func Version() string {
	return C.GoString(C.sypht_version())
}

// headerVersion returns the version of the sypht.h this package was
// compiled with.
func headerVersion() string {
	return C.SYPHT_VERSION_STRING
}

// Client is a Sypht API client: credentials, endpoints, a connection pool
// and a cached access token. Create it with NewClient or
// NewClientFromEnv and release it with Close.
type Client struct {
	// mu is held for reading by every call into libsypht and for writing
	// by Close, so the C client is never freed during a call.
	mu  sync.RWMutex
	ptr *C.SyphtClient
}

// NewClient creates a client with the given credentials. Endpoints come
// from the options, then from SYPHT_API_BASE_ENDPOINT, SYPHT_AUTH_ENDPOINT
// and SYPHT_AUDIENCE, then from the defaults. No request is sent until
// the first call.
func NewClient(clientID, clientSecret string, opts ...Option) (*Client, error) {
	if err := checkString(clientID, "clientID"); err != nil {
		return nil, err
	}
	if err := checkString(clientSecret, "clientSecret"); err != nil {
		return nil, err
	}
	id := C.CString(clientID)
	defer C.free(unsafe.Pointer(id))
	secret := C.CString(clientSecret)
	defer func() {
		// Overwrite the C copy of the secret before releasing it.
		C.memset(unsafe.Pointer(secret), 0, C.size_t(len(clientSecret)))
		C.free(unsafe.Pointer(secret))
	}()
	return newClient(id, secret, opts)
}

// NewClientFromEnv creates a client whose credentials come from
// SYPHT_API_KEY ("client_id:client_secret"). Other settings work as for
// NewClient.
func NewClientFromEnv(opts ...Option) (*Client, error) {
	return newClient(nil, nil, opts)
}

func newClient(id, secret *C.char, opts []Option) (*Client, error) {
	options := C.sypht_client_options_new()
	if options == nil {
		return nil, &Error{Code: CodeInternal, Message: "sypht_client_options_new failed"}
	}
	defer C.sypht_client_options_free(options)
	for _, opt := range opts {
		if opt.apply == nil {
			continue
		}
		if err := opt.apply(options); err != nil {
			return nil, err
		}
	}

	var cerr *C.SyphtError
	ptr := C.sypht_client_new_with_options(options, id, secret, &cerr)
	if ptr == nil {
		return nil, takeError(cerr)
	}
	client := &Client{ptr: ptr}
	// Only a backstop for a client that was never closed: Close clears it.
	runtime.SetFinalizer(client, (*Client).Close)
	return client, nil
}

// Close frees the client and wipes its secret and token from memory. It
// waits for calls in progress to return. Calls after Close fail with
// ErrClosed. Close may be called more than once, from any goroutine, and
// always returns nil.
func (c *Client) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ptr == nil {
		return nil
	}
	C.sypht_client_free(c.ptr)
	c.ptr = nil
	runtime.SetFinalizer(c, nil)
	return nil
}

// acquire locks the client for one call and returns its C pointer; the
// caller must call c.mu.RUnlock when the call has returned.
func (c *Client) acquire() (*C.SyphtClient, error) {
	c.mu.RLock()
	if c.ptr == nil {
		c.mu.RUnlock()
		return nil, ErrClosed
	}
	return c.ptr, nil
}

// Authenticate fetches an access token now, to check the credentials and
// endpoints before the first upload.
func (c *Client) Authenticate() error {
	ptr, err := c.acquire()
	if err != nil {
		return err
	}
	defer c.mu.RUnlock()
	var cerr *C.SyphtError
	if C.sypht_client_authenticate(ptr, &cerr) != C.SYPHT_OK {
		return takeError(cerr)
	}
	return nil
}

// Upload sends the file at path for extraction by the given products
// (such as "invoices") and returns its file id.
func (c *Client) Upload(path string, products ...string) (string, error) {
	return c.UploadWithProgress(path, nil, products...)
}

// UploadWithProgress is Upload with a progress function, called on the
// calling goroutine with the request body bytes sent so far and their
// total. A nil progress is allowed. sent starts again from 0 if the
// upload is sent a second time after a 401 response. If progress panics,
// it is not called again, and the panic is raised again once the upload
// has finished.
func (c *Client) UploadWithProgress(path string, progress ProgressFunc, products ...string) (string, error) {
	if err := checkString(path, "path"); err != nil {
		return "", err
	}
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	cproducts, err := newCStringArray(products, "products")
	if err != nil {
		return "", err
	}
	defer cproducts.free()

	ptr, err := c.acquire()
	if err != nil {
		return "", err
	}
	defer c.mu.RUnlock()
	callback, userData, finish := progressArguments(progress)
	defer finish()
	var cerr *C.SyphtError
	id := C.sypht_upload_with_progress(ptr, cpath, cproducts.pointer(), cproducts.length(), callback, userData, &cerr)
	return takeString(id, cerr)
}

// UploadBytes sends data as a document named fileName for extraction by
// the given products and returns its file id.
func (c *Client) UploadBytes(data []byte, fileName string, products ...string) (string, error) {
	return c.UploadBytesWithProgress(data, fileName, nil, products...)
}

// UploadBytesWithProgress is UploadBytes with a progress function, as for
// UploadWithProgress.
func (c *Client) UploadBytesWithProgress(data []byte, fileName string, progress ProgressFunc, products ...string) (string, error) {
	if err := checkString(fileName, "fileName"); err != nil {
		return "", err
	}
	cname := C.CString(fileName)
	defer C.free(unsafe.Pointer(cname))
	cproducts, err := newCStringArray(products, "products")
	if err != nil {
		return "", err
	}
	defer cproducts.free()

	ptr, err := c.acquire()
	if err != nil {
		return "", err
	}
	defer c.mu.RUnlock()
	callback, userData, finish := progressArguments(progress)
	defer finish()
	// data holds no Go pointers, so cgo lets C read it during the call;
	// libsypht does not keep it afterwards.
	var cdata *C.uint8_t
	if len(data) > 0 {
		cdata = (*C.uint8_t)(unsafe.Pointer(&data[0]))
	}
	var cerr *C.SyphtError
	id := C.sypht_upload_bytes_with_progress(ptr, cdata, C.size_t(len(data)), cname,
		cproducts.pointer(), cproducts.length(), callback, userData, &cerr)
	return takeString(id, cerr)
}

// Results waits until the document's results are finalised (up to the
// results deadline) and returns them as a map from field name to value.
func (c *Client) Results(fileID string) (map[string]any, error) {
	return decodeObject(c.ResultsJSON(fileID))
}

// ResultsVerbose is Results in the verbose form: the whole results object,
// with its timestamp and every field with all its details.
func (c *Client) ResultsVerbose(fileID string) (map[string]any, error) {
	return decodeObject(c.ResultsVerboseJSON(fileID))
}

// ResultsJSON is Results returning the JSON text exactly as libsypht
// produced it.
func (c *Client) ResultsJSON(fileID string) ([]byte, error) {
	return c.results(fileID, false)
}

// ResultsVerboseJSON is ResultsVerbose returning the JSON text exactly as
// libsypht produced it.
func (c *Client) ResultsVerboseJSON(fileID string) ([]byte, error) {
	return c.results(fileID, true)
}

func (c *Client) results(fileID string, verbose bool) ([]byte, error) {
	if err := checkString(fileID, "fileID"); err != nil {
		return nil, err
	}
	cid := C.CString(fileID)
	defer C.free(unsafe.Pointer(cid))

	ptr, err := c.acquire()
	if err != nil {
		return nil, err
	}
	defer c.mu.RUnlock()
	var cerr *C.SyphtError
	var text *C.char
	if verbose {
		text = C.sypht_get_results_verbose(ptr, cid, &cerr)
	} else {
		text = C.sypht_get_results(ptr, cid, &cerr)
	}
	if text == nil {
		return nil, takeError(cerr)
	}
	defer C.sypht_free_string(text)
	return C.GoBytes(unsafe.Pointer(text), C.int(C.strlen(text))), nil
}

func decodeObject(text []byte, err error) (map[string]any, error) {
	if err != nil {
		return nil, err
	}
	var object map[string]any
	if err := json.Unmarshal(text, &object); err != nil {
		return nil, &Error{Code: CodeDecode, Message: "libsypht returned results that are not a JSON object: " + err.Error()}
	}
	return object, nil
}

// takeString copies a string returned by libsypht and frees it, or turns
// the error into a Go error when the string is NULL.
func takeString(text *C.char, cerr *C.SyphtError) (string, error) {
	if text == nil {
		return "", takeError(cerr)
	}
	defer C.sypht_free_string(text)
	return C.GoString(text), nil
}

// checkString rejects strings that C would cut short at a NUL byte.
func checkString(value, name string) error {
	if strings.IndexByte(value, 0) >= 0 {
		return invalidArgument("argument %s contains a NUL byte", name)
	}
	return nil
}

// cStringArray is an array of C strings allocated with malloc.
type cStringArray []*C.char

func newCStringArray(values []string, name string) (cStringArray, error) {
	for i, value := range values {
		if err := checkString(value, name+"["+strconv.Itoa(i)+"]"); err != nil {
			return nil, err
		}
	}
	array := make(cStringArray, len(values))
	for i, value := range values {
		array[i] = C.CString(value)
	}
	return array, nil
}

// pointer returns the address of the first element, or nil when empty.
// The slice holds only C pointers, so cgo allows passing it to C.
func (a cStringArray) pointer() **C.char {
	if len(a) == 0 {
		return nil
	}
	return &a[0]
}

func (a cStringArray) length() C.size_t {
	return C.size_t(len(a))
}

func (a cStringArray) free() {
	for _, s := range a {
		C.free(unsafe.Pointer(s))
	}
}

// handlePointer converts a cgo.Handle to a C user_data pointer.
func handlePointer(handle cgo.Handle) unsafe.Pointer {
	return C.sypht_go_handle_pointer(C.uintptr_t(handle))
}
