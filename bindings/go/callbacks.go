package sypht

/*
#include <stdint.h>
#include "sypht.h"

// Defined in Go below. This file exports Go functions, so its preamble may
// only declare C functions; the helpers live in sypht.go.
extern void syphtGoProgress(uint64_t sent, uint64_t total, void *user_data);
extern void syphtGoLog(int32_t level, char *message, void *user_data);
*/
import "C"

import (
	"runtime/cgo"
	"sync"
	"unsafe"
)

// ProgressFunc receives upload progress: the request body bytes sent so
// far and their total.
type ProgressFunc func(sent, total uint64)

// LogLevel is the severity of a log record.
type LogLevel int32

// Log levels, equal to the SYPHT_LOG_* values in sypht.h.
const (
	LogDebug LogLevel = C.SYPHT_LOG_DEBUG
	LogInfo  LogLevel = C.SYPHT_LOG_INFO
	LogWarn  LogLevel = C.SYPHT_LOG_WARN
	LogError LogLevel = C.SYPHT_LOG_ERROR
)

// LogFunc receives one log record of libsypht.
type LogFunc func(level LogLevel, message string)

// progressCall is the state of one upload's progress function.
type progressCall struct {
	progress ProgressFunc
	// panicValue is the value the progress function panicked with. A Go panic
	// cannot unwind through the C frames of the upload, so it is caught
	// here and raised again once the upload call has returned.
	panicValue any
	panicked   bool
}

func (p *progressCall) call(sent, total uint64) {
	if p.panicked {
		return
	}
	defer func() {
		if value := recover(); value != nil {
			p.panicValue = value
			p.panicked = true
		}
	}()
	p.progress(sent, total)
}

//export syphtGoProgress
func syphtGoProgress(sent, total C.uint64_t, userData unsafe.Pointer) {
	state := cgo.Handle(uintptr(userData)).Value().(*progressCall)
	state.call(uint64(sent), uint64(total))
}

//export syphtGoLog
func syphtGoLog(level C.int32_t, message *C.char, userData unsafe.Pointer) {
	handler := cgo.Handle(uintptr(userData)).Value().(LogFunc)
	// A panic cannot unwind through libsypht, and there is no caller to
	// return it to, so the record is dropped.
	defer func() { _ = recover() }()
	handler(LogLevel(level), C.GoString(message))
}

// progressArguments returns the callback and user_data to pass to an
// upload call, and a function to call after the upload returns: it
// releases the handle and raises any panic of the progress function. C
// holds only a cgo.Handle, never a Go pointer.
func progressArguments(progress ProgressFunc) (C.SyphtProgressCallback, unsafe.Pointer, func()) {
	if progress == nil {
		return nil, nil, func() {}
	}
	state := &progressCall{progress: progress}
	handle := cgo.NewHandle(state)
	finish := func() {
		handle.Delete()
		if state.panicked {
			panic(state.panicValue)
		}
	}
	return C.SyphtProgressCallback(C.syphtGoProgress), handlePointer(handle), finish
}

var logHandler struct {
	mu     sync.Mutex
	handle cgo.Handle
}

// SetLogHandler installs handler as the process-wide receiver of libsypht
// log records (token fetches, retries, failures), or removes it when
// handler is nil. libsypht is silent until a handler is installed. Records
// never contain secrets or tokens. The handler may run on any goroutine,
// several at once, and must not call SetLogHandler. A record whose
// handler panics is dropped.
func SetLogHandler(handler LogFunc) {
	logHandler.mu.Lock()
	defer logHandler.mu.Unlock()
	previous := logHandler.handle
	if handler == nil {
		C.sypht_set_log_callback(nil, nil)
		logHandler.handle = 0
	} else {
		handle := cgo.NewHandle(handler)
		C.sypht_set_log_callback(C.SyphtLogCallback(C.syphtGoLog), handlePointer(handle))
		logHandler.handle = handle
	}
	// sypht_set_log_callback returns only once no call of the previous
	// callback is running, so its handle can go.
	if previous != 0 {
		previous.Delete()
	}
}
