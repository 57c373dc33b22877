// Package ciphemic holds the domain of the server: users and their roles, refresh-token
// records, revocations, the principal of a request, and the one error type every layer
// speaks. It depends on the standard library only, so every other package can import it.
package ciphemic

import (
	"errors"
	"fmt"
)

// Code classifies an error. The HTTP layer maps each code to one status; nothing else
// about an error decides what a client sees.
type Code string

// The codes are few and stable, so that a store or a handler never has to know HTTP.
const (
	CodeInvalid      Code = "invalid"
	CodeUnauthorized Code = "unauthorized"
	CodeForbidden    Code = "forbidden"
	CodeNotFound     Code = "not_found"
	CodeConflict     Code = "conflict"
	CodeThrottled    Code = "throttled"
	CodeUnavailable  Code = "unavailable"
	CodeInternal     Code = "internal"
)

// Error is an error that is safe to show to a client: Message is written for the caller,
// never containing internals. Wrap an Error with fmt.Errorf("...: %w", err) to add context
// for logs; ErrorCode and ErrorMessage still find it.
type Error struct {
	Code    Code
	Message string
}

// Error returns the message with its code, for logs.
func (e *Error) Error() string {
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// Errorf returns an Error with a formatted, client-safe message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first Error in err's chain, CodeInternal for any other
// non-nil error, and "" for nil.
func ErrorCode(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

// ErrorMessage returns the client-safe message of the first Error in err's chain, or a
// generic message for any other error so that internals never leak.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "A server error occurred."
}

// Sentinel errors for refresh-token state. They are pointers, so errors.Is matches them
// through any wrapping; stores return them and handlers turn them into the contract's bodies.
var (
	// ErrTokenBlacklisted: the refresh token was already rotated, logged out or revoked.
	ErrTokenBlacklisted = &Error{Code: CodeUnauthorized, Message: "Token is blacklisted"}
	// ErrTokenUnknown: a well-signed refresh token this store never issued (or already flushed).
	ErrTokenUnknown = &Error{Code: CodeUnauthorized, Message: "Token is invalid or expired"}
	// ErrUserInactive: the user exists but may not use the service.
	ErrUserInactive = &Error{Code: CodeUnauthorized, Message: "User is inactive"}
)
