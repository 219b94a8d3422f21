package sypht

/*
#include <stdlib.h>
#include "sypht.h"
*/
import "C"

import (
	"errors"
	"fmt"
)

// Code is a libsypht error code, one of the Code* constants.
type Code int32

// Error codes, equal to the SYPHT_ERROR_* values in sypht.h.
const (
	CodeInvalidArgument Code = C.SYPHT_ERROR_INVALID_ARGUMENT
	CodeInvalidUTF8     Code = C.SYPHT_ERROR_INVALID_UTF8
	CodeConfig          Code = C.SYPHT_ERROR_CONFIG
	CodeIO              Code = C.SYPHT_ERROR_IO
	CodeNetwork         Code = C.SYPHT_ERROR_NETWORK
	CodeTimeout         Code = C.SYPHT_ERROR_TIMEOUT
	CodeAuth            Code = C.SYPHT_ERROR_AUTH
	CodeHTTPStatus      Code = C.SYPHT_ERROR_HTTP_STATUS
	CodeDecode          Code = C.SYPHT_ERROR_DECODE
	CodeNotFinalised    Code = C.SYPHT_ERROR_NOT_FINALISED
	CodeInternal        Code = C.SYPHT_ERROR_INTERNAL
	CodeTooLarge        Code = C.SYPHT_ERROR_TOO_LARGE
)

// String returns the library's short description of the code, such as
// "authentication failed".
func (c Code) String() string {
	return C.GoString(C.sypht_error_code_name(C.int32_t(c)))
}

// Error is the error every failed call returns. Use errors.As to read it.
type Error struct {
	// Code classifies the failure.
	Code Code
	// HTTPStatus is the status of the response behind the error, or 0
	// when no response was received.
	HTTPStatus int
	// Message describes the failure. It never contains secrets or tokens.
	Message string
	// ResultStatus is the last processing status the results endpoint
	// reported (such as "IN PROGRESS") when Code is CodeNotFinalised.
	ResultStatus string
}

func (e *Error) Error() string {
	if e.HTTPStatus != 0 {
		return fmt.Sprintf("sypht: %s: %s (HTTP status %d)", e.Code, e.Message, e.HTTPStatus)
	}
	return fmt.Sprintf("sypht: %s: %s", e.Code, e.Message)
}

// ErrClosed is returned by calls on a Client after Close.
var ErrClosed = errors.New("sypht: the client is closed")

// takeError copies a C error into a Go *Error and frees the C error.
func takeError(cerr *C.SyphtError) error {
	if cerr == nil {
		return &Error{Code: CodeInternal, Message: "a libsypht call failed without reporting an error"}
	}
	defer C.sypht_error_free(cerr)
	err := &Error{
		Code:       Code(C.sypht_error_code(cerr)),
		HTTPStatus: int(C.sypht_error_http_status(cerr)),
		Message:    C.GoString(C.sypht_error_message(cerr)),
	}
	if status := C.sypht_error_result_status(cerr); status != nil {
		err.ResultStatus = C.GoString(status)
	}
	return err
}

func invalidArgument(format string, args ...any) error {
	return &Error{Code: CodeInvalidArgument, Message: fmt.Sprintf(format, args...)}
}
